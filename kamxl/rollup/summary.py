"""The portfolio summary workbook (XlsxWriter), written atomically.

It uses the account workbooks' style (the template's ``[style]``) so directors see one product.
Every value is a constant, except the tables' total rows: the summary is a picture of the
portfolio on the roll-up day, not a live model. Text from a workbook is always written as a
string cell, never as a formula or a link.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xlsxwriter

from .. import __version__
from ..docprops import KIND, SUMMARY_KIND
from ..fileio import atomic_path
from ..printing import legible_print, page_header, print_areas, set_width, sheet_width
from ..styles import Styles, row_height, text_lines
from ..vba import ROLLUP_MACRO
from ..workbook_macros import prepare_macros
from ..writer import add_macros
from .forecast_sheets import render_capacity, render_forecast, tiers_note
from .history import Trends
from .overview import render_overview
from .package import write_package
from .portfolio import Col, Portfolio, View
from .sheetrefs import HEADER_ROW, TIER_TONES
from .sheetrefs import quote_sheet as _quote
from .sheetxml import MAX_TEXT, Link, RowWriter, StreamedTable, Strings, file_link
from .trends_sheet import render_trends

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

ROLL_UP_BUTTON_CELL = (1, 10)  # K2, right of the Source_Folder cell it reads
KIND_WIDTHS = {
    "date": 12,
    "currency": 14,
    "percent": 10,
    "score": 10,
    "int": 10,
    "number": 11,
    "text": 18,
    "longtext": 30,
    "link": 28,
}
MAX_LINES = 5
INF = math.inf


def write_summary(portfolio: Portfolio, path: str | Path, *, trends: Trends | None = None) -> Path:
    """Write the summary workbook at ``path`` atomically (temporary file, then rename).

    A ``.xlsm`` path gives a macro-enabled workbook with the Roll up button on the Overview.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        SummaryWriter(portfolio, tmp, path, trends or Trends(), path.suffix.lower() == ".xlsm").write()
    return path


SHEETS = [  # key, text of its name, tab colour ("primary": the template's)
    ("overview", "sheet_overview", "primary"),
    ("accounts", "sheet_accounts", "#2E75B6"),
    ("by_kam", "sheet_by_kam", "#2E75B6"),
    ("by_sector", "sheet_by_sector", "#2E75B6"),
    ("pipeline", "sheet_pipeline", "#ED7D31"),
    ("actions", "sheet_actions", "#ED7D31"),
    ("risks", "sheet_risks", "#C00000"),
    ("alerts", "sheet_alerts", "#C00000"),
    ("stale", "sheet_stale", "#C00000"),
    ("competitors", "sheet_competitors", "#00B050"),
    ("trends", "sheet_trends", "#00B050"),
    ("forecast", "sheet_forecast", "#ED7D31"),
    ("capacity", "sheet_capacity", "#2E75B6"),
    ("quality", "sheet_quality", "#7F7F7F"),
]
CONTACTS_SHEET = ("contacts", "sheet_contacts", "#7030A0")
CHART_DATA_SHEET = ("chart_data", "sheet_chart_data", "#7F7F7F")


def sheet_names(include_contacts: bool) -> list[tuple[str, str, str]]:
    """The summary's sheets, in order."""
    return [*SHEETS, *([CONTACTS_SHEET] if include_contacts else []), CHART_DATA_SHEET]


def prepare(include_contacts: bool = False) -> None:
    """Build what every summary of this shape shares, ahead of its data: the VBA project."""
    prepare_macros(len(sheet_names(include_contacts)))


def safe_text(value: Any) -> str:
    """Text from a workbook, as it will show: never more than Excel's cell limit."""
    return str(value)[:MAX_TEXT]


class SummaryWriter:
    """Renders a Portfolio; one instance per file."""

    STREAM = True  # data sheets' rows as XML (:mod:`.sheetxml`); False: XlsxWriter's cells, as a check

    def __init__(self, portfolio: Portfolio, tmp: Path, final: Path, trends: Trends, macros: bool) -> None:
        self.p, self.trends, self.tmp, self.final, self.macros = portfolio, trends, tmp, final, macros
        self.t = portfolio.template
        self.st = self.t.style
        self.saved = io.BytesIO()  # XlsxWriter's package, before the data rows go in
        self.streamed: list[StreamedTable] = []
        self.strings = Strings()
        self.wb = xlsxwriter.Workbook(
            self.saved,
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "nan_inf_to_errors": True,
                "in_memory": True,  # no temporary files outside the target folder
            },
        )
        self.s = Styles(self.wb, self.t, portfolio.lang)
        self.sheets: dict[str, Worksheet] = {}
        self._tones: dict[str, Format] = {}
        self._folders: dict[str, str] = {}  # folder -> its path relative to the summary's
        self.symbol = _currency_symbol(self.t.formats.get("currency", ""))

    @cached_property
    def by_kam(self) -> View:
        """The KAM table, made once: its sheet and two parts of the Overview show it."""
        return self.p.by_kam_view()

    # -- formats -----------------------------------------------------------------------------
    def fmt(self, kind: str, **extra: Any) -> Format:
        known = ("currency", "percent", "date", "score", "int", "number")
        props: dict[str, Any] = self.s.num_format(kind) if kind in known else {}
        props |= {"bottom": 1, "bottom_color": self.st["border"]}
        if kind == "longtext":
            props["text_wrap"] = True
        if kind == "date":  # left, as its header, clear of the figure on its left
            props |= {"align": "left", "indent": 1}
        if kind == "link":
            props |= {"font_color": self.st.get("accent", "#2E75B6"), "underline": 1}
        return self.s.get(**(props | extra))

    def tone(self, tone: str) -> Format:
        """A conditional format in the template's good / warn / bad / neutral colours."""
        if tone not in self._tones:
            fill, ink = {
                "good": ("good", "good_text"),
                "warn": ("warn", "warn_text"),
                "bad": ("bad", "bad_text"),
            }.get(tone, ("neutral", "ink"))
            self._tones[tone] = self.wb.add_format({"bg_color": self.st[fill], "font_color": self.st[ink]})
        return self._tones[tone]

    def put(self, ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None) -> None:
        """Write a value by its Python type; strings are always string cells."""
        if value is None or value == "":
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                ws.write_blank(row, col, None, fmt)
            else:
                ws.write_number(row, col, value, fmt)
        elif isinstance(value, dt.datetime | dt.date):
            ws.write_datetime(row, col, _as_datetime(value), fmt)
        else:
            ws.write_string(row, col, safe_text(value), fmt)

    # -- workbook ----------------------------------------------------------------------------
    def write(self) -> None:
        p = self.p
        names = sheet_names(p.include_contacts)
        for key, text_key, color in names:
            ws = self.wb.add_worksheet(p.t(text_key))
            ws.set_tab_color(self.st["primary"] if color == "primary" else color)
            self.sheets[key] = ws
        self.sheets["chart_data"].hide()

        # Each view lives while its sheet is written only: a large portfolio's rows never all at once.
        self.accounts_formats(
            self.data_sheet(
                "accounts", p.accounts_view(), p.t("head_accounts"), p.t("note_accounts") + tiers_note(p)
            )
        )
        low, high = p.kam_band
        self.band_formats(
            self.data_sheet("by_kam", self.by_kam, p.t("head_by_kam"), p.t("note_by_kam", low=low, high=high))
        )
        self.data_sheet("by_sector", p.by_sector_view(), p.t("head_by_sector"), p.t("note_by_sector"))
        self.data_sheet("pipeline", p.pipeline_view(), p.t("head_pipeline"), p.t("note_pipeline"))
        until = p.as_of + dt.timedelta(days=30)
        self.actions_formats(
            self.data_sheet(
                "actions", p.actions_view(), p.t("head_actions"), p.t("note_actions", until=p.date(until))
            )
        )
        self.risk_formats(self.data_sheet("risks", p.risks_view(), p.t("head_risks"), p.t("note_risks")))
        self.alert_formats(self.data_sheet("alerts", p.alerts_view(), p.t("head_alerts"), p.t("note_alerts")))
        self.data_sheet("stale", p.stale_view(), p.t("head_stale"), p.t("note_stale", days=p.stale_after))
        self.data_sheet("competitors", p.competitors_view(), p.t("head_competitors"), p.t("note_competitors"))
        render_trends(self)
        render_forecast(self, self.sheets["forecast"])
        render_capacity(self, self.sheets["capacity"])
        self.data_sheet("quality", p.quality_view(), p.t("head_quality"), p.t("note_quality"))
        if p.include_contacts:
            self.data_sheet("contacts", p.contacts_view(), p.t("head_contacts"), p.t("note_contacts"))
        render_overview(self, self.sheets["overview"])

        self.wb.set_properties(
            {
                "title": p.t("title"),
                "subject": p.folder,
                "comments": f"kamxl {__version__}, rolled up on {p.as_of.isoformat()}",
            }
        )
        self.wb.set_custom_property(KIND, SUMMARY_KIND)
        self.wb.set_custom_property("kamxl_as_of", p.as_of.isoformat())
        if self.macros:
            add_macros(self.wb)
            row, col = ROLL_UP_BUTTON_CELL
            self.sheets["overview"].insert_button(
                row,
                col,
                {"macro": ROLLUP_MACRO, "caption": p.t("roll_up_button"), "width": 150, "height": 30},
            )
        self.sheets["overview"].activate()
        self.wb.close()
        write_package(self.saved.getvalue(), self.tmp, self.streamed, self.strings)

    # -- data sheets -------------------------------------------------------------------------
    def frame(self, ws: Worksheet, heading: str, note: str) -> None:
        ws.hide_gridlines(2)
        ws.set_row(0, 26)
        ws.write_string(0, 0, heading, self.s.heading)
        ws.write_string(1, 0, note, self.s.hint)
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        title = self.p.t("footer").replace("&", "&&")
        ws.set_footer(
            f"&L&8{title} {self.p.date(self.p.as_of)}&C&8&A&R&8{self.p.t('page')} &P {self.p.t('of')} &N"
        )

    def data_sheet(self, key: str, view: View, heading: str, note: str) -> View:
        ws = self.sheets[key]
        if not view.rows:
            note = f"{note} {self.p.t('nothing')}"
        self.frame(ws, heading, note)
        self.write_view(ws, view, HEADER_ROW, 0, stream=self.STREAM)
        ws.freeze_panes(HEADER_ROW + 1, 1)
        legible_print(ws, sheet_width(ws), title_rows=(HEADER_ROW, HEADER_ROW), key_col=0)
        # Heading and note print as the page header: a continuation page never opens on a cut one.
        totals = bool(view.rows) and any(c.total for c in view.columns)
        last = HEADER_ROW + len(view.rows) + (1 if totals else 0)  # the table's last written row
        print_areas(ws, [(HEADER_ROW, 0, last, len(view.columns) - 1)])
        page_header(ws, heading, note)
        return view

    def write_view(
        self, ws: Worksheet, view: View, top: int, left: int, *, stream: bool = False
    ) -> tuple[int, int]:
        """Write ``view`` as an Excel table; returns its first and last data rows (0-based).

        ``stream``: the rows go to the sheet as XML (:mod:`.sheetxml`), for a sheet whose table
        no chart reads (charts take their cached values from XlsxWriter's cells)."""
        cols, rows = view.columns, view.rows
        n = max(len(rows), 1)
        totals = bool(rows) and any(c.total for c in cols)
        last = top + n + (1 if totals else 0)
        spec = []
        for i, col in enumerate(cols):
            set_width(ws, left + i, left + i, col.width or KIND_WIDTHS.get(col.kind, 14))
            align = "left" if col.kind in ("text", "longtext", "link", "date") else "right"
            entry: dict[str, Any] = {
                "header": col.header,
                "format": self.fmt(col.kind),
                "header_format": self.header(align),
            }
            if totals and i == 0 and not col.total:
                entry["total_string"] = self.p.t("total")
            elif totals and col.total:
                entry |= self.total_spec(view, col)
            spec.append(entry)
        options = {
            "name": view.name,
            "columns": spec,
            "style": self.st.get("table_style", "Table Style Light 9"),
            "total_row": totals,
            "autofilter": True,
        }
        ws.set_row(top, 30)
        formats = [self.fmt(col.kind) for col in cols]  # once per column: tables run to thousands of rows
        if stream and rows:
            self.stream_table(ws, view, top, left, options, formats)
        else:
            ws.add_table(top, left, last, left + len(cols) - 1, options)
            for r, row in enumerate(rows, start=top + 1):
                for i, col in enumerate(cols):
                    self.write_cell(ws, r, left + i, col, row, formats[i])
                if (lines := _lines(_wrapped(cols), row)) > 1:
                    ws.set_row(r, row_height(lines))
        for i, col in enumerate(cols):
            if col.choices == "_tier" and rows:
                self.tier_formats(ws, top + 1, top + len(rows), left + i)
        return top + 1, top + n

    def stream_table(
        self, ws: Worksheet, view: View, top: int, left: int, options: dict[str, Any], formats: list[Format]
    ) -> None:
        """``view`` as a table whose data rows kamxl writes (:mod:`.sheetxml`): XlsxWriter is
        given the header, one blank marker cell per format the rows use, and the total row."""
        table = StreamedTable(ws.get_name(), view.name, top, left, len(view.columns), options["total_row"])
        writer = RowWriter(table, self.strings)
        table.add(self.rows_xml(writer, top + 1, view.columns, view.rows, formats), self.strings)
        if ws.add_table(top, left, table.short_last, table.right, options) != 0:
            raise ValueError(f"table {view.name!r} not added to sheet {ws.get_name()!r}")
        for r, c, fmt in table.markers():
            ws.write_blank(r, c, None, fmt)
        self.streamed.append(table)

    def header(self, align: str) -> Format:
        st = self.st
        return self.s.get(
            bold=True,
            text_wrap=True,
            valign="vcenter",
            align=align,
            font_color=st["header_text"],
            bg_color=st["primary"],
            border=1,
            border_color=st["primary"],
        )

    def rows_xml(
        self, w: RowWriter, first: int, cols: list[Col], rows: list[dict[str, Any]], formats: list[Format]
    ) -> Iterator[str]:
        """The rows as :meth:`write_cell` writes them, as XML (one string per row)."""
        empty, link, plain = (
            w.style(self.empty_format()),
            w.style(self.fmt("link")),
            w.style(self.fmt("text")),
        )
        label, value_xml, text_xml, index, letters = self.p.label, w.value, w.text, w.index, w.letters
        plan = [
            (i, c.key, c.kind, c.choices, c.empty, w.style(f), c.kind in ("text", "longtext"))
            for i, (c, f) in enumerate(zip(cols, formats, strict=True))
        ]
        wrapped = _wrapped(cols)
        for r, row in enumerate(rows, start=first):
            cells = []
            n = r + 1
            for i, key, kind, choices, when_empty, style, textual in plan:
                value = row.get(key)
                if choices is not None:
                    value = label(choices, value)
                # The usual cells first, written here: a text, a finite number in a number column.
                if type(value) is str and value and kind != "link" and kind != "celllink":
                    text = value if len(value) <= MAX_TEXT else value[:MAX_TEXT]
                    cells.append(f'<c r="{letters[i]}{n}"{style} t="s"><v>{index[text]}</v></c>')
                    continue
                if (type(value) is float or type(value) is int) and not textual and -INF < value < INF:
                    cells.append(f'<c r="{letters[i]}{n}"{style}><v>{value:.16G}</v></c>')
                    continue
                if kind == "link" or kind == "celllink":
                    target, shown = self.link_of(cols[i], row)
                    cell = w.link(r, i, target, link) if target is not None else None
                    if cell is None:
                        blank = not row.get(key)
                        cell = (
                            value_xml(r, i, None, link) if blank else text_xml(r, i, safe_text(shown), plain)
                        )
                    cells.append(cell)
                    continue
                if when_empty and (value is None or value == ""):
                    cells.append(text_xml(r, i, when_empty, empty))
                    continue
                if textual and value is not None and not isinstance(value, str):
                    value = _plain(value)
                cells.append(value_xml(r, i, value, style))
            lines = _lines(wrapped, row)
            yield w.row(r, cells, row_height(lines) if lines > 1 else None)

    def empty_format(self) -> Format:
        """A missing value shown as a word ("never"), in the bad tone."""
        return self.fmt("text", font_color=self.st["bad_text"], align="right")

    def link_of(self, col: Col, row: dict[str, Any]) -> tuple[Link | None, Any]:
        """The link of a ``link`` or ``celllink`` cell (None: shown as text) and the text shown."""
        value = row.get(col.key)
        if col.kind == "link":
            path, shown, where = value, row.get("file") or value, ""
        else:
            where = f"{_quote(str(row.get('sheet') or ''))}!{row.get('cell') or 'A1'}"
            path, shown = value, f"{row.get('file') or value} › {row.get('sheet')}!{row.get('cell')}"
        if not path:
            return None, shown
        target = self.link_target(str(path))
        if not target or "#" in target:
            return None, shown
        return file_link(target, where), shown

    def link_target(self, path: str) -> str | None:
        """:func:`_link_target`, with one relative path computed per folder (links run to thousands)."""
        folder, name = os.path.split(path)
        rel = self._folders.get(folder)
        if rel is None:
            try:
                rel = self._folders[folder] = os.path.relpath(folder or os.curdir, self.final.parent)
            except ValueError:
                return _link_target(Path(path), self.final.parent)
        return name if rel == os.curdir else os.path.join(rel, name)

    def write_cell(
        self, ws: Worksheet, r: int, c: int, col: Col, row: dict[str, Any], fmt: Format | None = None
    ) -> None:
        value = row.get(col.key)
        if col.kind in ("link", "celllink"):
            self.write_link(ws, r, c, col, row)
            return
        value = self.p.label(col.choices, value)
        if (value is None or value == "") and col.empty:
            ws.write_string(r, c, col.empty, self.empty_format())
            return
        if col.kind in ("text", "longtext") and value is not None and not isinstance(value, str):
            value = _plain(value)
        self.put(ws, r, c, value, fmt or self.fmt(col.kind))

    def write_link(self, ws: Worksheet, r: int, c: int, col: Col, row: dict[str, Any]) -> None:
        """A link that opens the source workbook (a ``celllink`` at its cell, such as 'Risks'!G6),
        relative to the summary when possible."""
        fmt = self.fmt("link")
        if not row.get(col.key):
            ws.write_blank(r, c, None, fmt)
            return
        link, shown = self.link_of(col, row)
        if link is None or ws.write_url(r, c, link.url, fmt) != 0:
            ws.write_string(r, c, safe_text(shown), self.fmt("text"))

    def total_spec(self, view: View, col: Col) -> dict[str, Any]:
        """Total-row function and its value (so readers that do not recalculate see it too): over
        the numbers the cells show (an infinity or NaN is a blank cell)."""
        values = [
            v
            for row in view.rows
            if isinstance(v := row.get(col.key), int | float) and not isinstance(v, bool) and math.isfinite(v)
        ]
        kind, _, arg = (col.total or "").partition(":")
        header = {c.key: _ref(c.header) for c in view.columns}
        # Always a formula naming the table: LibreOffice cannot parse Excel's short [Column] form
        # when the column name has a space.
        this = f"{view.name}[{header[col.key]}]"
        if kind == "sum":
            return {"total_function": f"=SUBTOTAL(109,{this})", "total_value": sum(values)}
        if kind == "average":
            return {
                "total_function": f"=IFERROR(SUBTOTAL(101,{this}),0)",
                "total_value": sum(values) / len(values) if values else 0,
            }
        if kind == "weighted":
            weights = [_finite(row.get(arg)) for row in view.rows]
            scores = [_finite(row.get(col.key)) for row in view.rows]
            total_w = sum(weights)
            value = sum(w * s for w, s in zip(weights, scores, strict=True)) / total_w if total_w else 0
            ref_w, ref_s = f"{view.name}[{header[arg]}]", f"{view.name}[{header[col.key]}]"
            return {
                "total_function": f"=IFERROR(SUMPRODUCT({ref_w},{ref_s})/SUM({ref_w}),0)",
                "total_value": value,
            }
        if kind == "ratio":
            num, den = arg.split("/")
            top = sum(_finite(row.get(num)) for row in view.rows)
            bottom = sum(_finite(row.get(den)) for row in view.rows)
            formula = (
                f"=IFERROR(SUBTOTAL(109,{view.name}[{header[num]}])/"
                f"SUBTOTAL(109,{view.name}[{header[den]}]),0)"
            )
            return {"total_function": formula, "total_value": top / bottom if bottom else 0}
        raise ValueError(f"unknown total {col.total!r}")

    # -- conditional formats -----------------------------------------------------------------
    @staticmethod
    def _col_range(key: str, view: View) -> tuple[int, int, int] | None:
        """First row, last row and column of ``key`` in a data sheet's table, if it has rows."""
        keys = [c.key for c in view.columns]
        if key not in keys or not view.rows:
            return None
        return HEADER_ROW + 1, HEADER_ROW + len(view.rows), keys.index(key)

    def on(self, ws: Worksheet, view: View, key: str, options: dict[str, Any]) -> None:
        if rng := self._col_range(key, view):
            ws.conditional_format(rng[0], rng[2], rng[1], rng[2], options)

    def when(self, ws: Worksheet, view: View, key: str, criteria: str, value: Any, tone: str) -> None:
        self.on(
            ws, view, key, {"type": "cell", "criteria": criteria, "value": value, "format": self.tone(tone)}
        )

    def accounts_formats(self, view: View) -> None:
        ws = self.sheets["accounts"]
        for key in ("priority", "overall"):
            self.on(
                ws,
                view,
                key,
                {
                    "type": "data_bar",
                    "bar_color": "#9DC3E6",
                    "bar_solid": True,
                    "min_type": "num",
                    "min_value": 0,
                    "max_type": "num",
                    "max_value": 100,
                },
            )
        self.when(ws, view, "days_since_review", ">", self.p.stale_after, "bad")
        self.when(ws, view, "overdue_actions", ">", 0, "warn")
        self.when(ws, view, "high_risks", ">", 0, "bad")
        self.when(ws, view, "errors", ">", 0, "bad")

    def tier_formats(self, ws: Worksheet, first: int, last: int, col: int) -> None:
        for code, tone in TIER_TONES.items():
            ws.conditional_format(
                first,
                col,
                last,
                col,
                {
                    "type": "cell",
                    "criteria": "==",
                    "value": _excel_text(self.p.tier_label(code)),
                    "format": self.tone(tone),
                },
            )

    def band_formats(self, view: View) -> None:
        ws, ok = self.sheets["by_kam"], _excel_text(self.p.t("band_ok"))
        self.when(ws, view, "band", "!=", ok, "bad")
        self.when(ws, view, "band", "==", ok, "good")

    def actions_formats(self, view: View) -> None:
        self.when(self.sheets["actions"], view, "when", "==", _excel_text(self.p.t("when_overdue")), "bad")

    def alert_formats(self, view: View) -> None:
        for severity, tone in (("high", "bad"), ("medium", "warn")):
            when = _excel_text(self.p.t(f"severity_{severity}"))
            self.when(self.sheets["alerts"], view, "severity", "==", when, tone)

    def risk_formats(self, view: View) -> None:
        ws = self.sheets["risks"]
        self.when(ws, view, "score", ">=", self.p.high_risk_score, "bad")
        self.when(ws, view, "score", ">=", 8, "warn")

    # -- charts ------------------------------------------------------------------------------
    def font(self, size: float, **extra: Any) -> dict[str, Any]:
        return {"name": self.st.get("font", "Calibri"), "size": size, "color": self.st["ink"]} | extra

    def style_chart(
        self, chart: Any, title: str, money_axis: bool = False, size: tuple[int, int] = (520, 340)
    ) -> None:
        chart.set_title({"name": title, "name_font": self.font(11, bold=True, color=self.st["primary"])})
        chart.set_legend({"position": "bottom", "font": self.font(8)})
        chart.set_size({"width": size[0], "height": size[1]})
        chart.set_chartarea({"border": {"color": self.st["border"]}})
        if money_axis:
            chart.set_y_axis(
                {
                    "num_format": self.compact_money_format(),
                    "num_font": self.font(8),
                    "major_gridlines": {"visible": True, "line": {"color": self.st["border"]}},
                }
            )

    def compact_money_format(self) -> str:
        sym = self.symbol.replace('"', "")
        return f'#,##0.0,," M{sym}";-#,##0.0,," M{sym}";"0"'


def _wrapped(cols: list[Col]) -> list[tuple[str, float, int]]:
    """Key, width and the characters a line surely holds, of each wrapped (long text) column."""
    out = []
    for col in cols:
        if col.kind == "longtext":
            width = col.width or KIND_WIDTHS["longtext"]
            out.append((col.key, width, max(4, int((width - 1.5) * 1.1))))  # as text_lines counts
    return out


def _lines(wrapped: list[tuple[str, float, int]], row: dict[str, Any]) -> int:
    """Lines the longest wrapped text of a row needs (row heights are not computed by every reader)."""
    lines = 1
    for key, width, one_line in wrapped:
        value = row.get(key)
        if isinstance(value, str) and (len(value) > one_line or "\n" in value or "\t" in value):
            lines = max(lines, text_lines(value, width))
    return min(lines, MAX_LINES)


def _finite(value: Any) -> float:
    """A number as its cell counts in a total: 0 for a blank, an infinity or NaN."""
    number = float(value or 0)
    return number if math.isfinite(number) else 0.0


def _excel_text(text: str) -> str:
    """A string constant in a conditional-format criterion."""
    return '"' + text.replace('"', '""') + '"'


def _as_datetime(value: dt.date) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)


def _plain(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _ref(header: str) -> str:
    """A column name inside a structured reference: escape the characters Excel reserves."""
    return re.sub(r"([\[\]#'])", r"'\1", header)


def _currency_symbol(fmt: str) -> str:
    m = re.search(r'"\s*([^"\d#,.;\s]+)\s*"', fmt)
    return m.group(1) if m else "€"


def _link_target(path: Path, start: Path) -> str | None:
    try:
        return os.path.relpath(path, start)
    except ValueError:  # another drive on Windows
        return str(path.resolve()) if path.is_absolute() else None
