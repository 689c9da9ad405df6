"""Render a plan as the account workbook (XlsxWriter).

Every other feature (new, demo, CRM import, upgrade) goes through ``write_plan`` so that all
workbooks share one layout, which the reader and the roll-up rely on.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from functools import cache
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from . import __version__, layout
from .alerts import alert_values
from .carried import write_carried_over
from .dashboard import Formulas, Metric, number
from .dashboard_layout import render_dashboard
from .docprops import XLWINGS_VERSION
from .fileio import atomic_path
from .model import Plan, Row, is_blank
from .orgchart import layout_orgchart
from .orgchart_paint import paint_xlsx
from .printing import legible_print, page_header, print_areas, sheet_width
from .row_formulas import ExcelError, FormulaError, Value, evaluate
from .scoring import Scores, score_plan
from .styles import (
    DEFAULT_WIDTHS,
    LINE_HEIGHT,
    MAX_LINES,
    ROW_PADDING,
    WRAPPED,
    Styles,
    row_height,
    text_lines,
)
from .template import Column, Sheet, Table, Template, get_template
from .vba import QBR_MACRO, RECOMPUTE_MACRO, kamxl_vba_project, xlwings_vba_version
from .xmltext import xml_safe

META_SHEET = "_kamxl"
LISTS_SHEET = "Lists"
EXTRA_VALIDATED_ROWS = 200  # rows typed just below a table keep their dropdowns
_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\.([a-z0-9_]+))?\}")


def write_plan(
    plan: Plan,
    path: str | Path,
    *,
    lang: str | None = None,
    template: Template | None = None,
) -> Path:
    """Write ``plan`` as a workbook at ``path`` atomically (never a half-written file).

    A ``.xlsm`` path gives a macro-enabled workbook with the Recompute & check button.
    """
    template = template or get_template()
    plan = xml_safe(plan)  # a control character from a CRM export would make every sheet invalid XML
    path = Path(path)
    with atomic_path(path) as tmp:
        _PlanWriter(plan, template, lang or plan.lang, tmp, path.suffix.lower() == ".xlsm").write()
    return path


def table_formula(template: Template, table: Table, formula: str, lang: str) -> str:
    """Turn a template column formula into Excel syntax for one language."""
    periods = [c for c in table.columns if c.period]

    def this_row(key: str) -> str:
        return f"{table.name}[[#This Row],[{table.column(key).label[lang]}]]"

    def placeholder(m: re.Match[str]) -> str:
        section, item = m.group(1), m.group(2)
        if section == "latest_period":
            expr = '""'
            for col in periods:
                ref = this_row(col.key)
                expr = f"IF(ISNUMBER({ref}),{ref},{expr})"
            return expr
        if section == "text":
            return template.text(item, lang).replace('"', '""')
        if section == "scoring":
            return number(template.scoring[item])
        return template.label(section, item, lang).replace('"', '""')

    out = _PLACEHOLDER.sub(placeholder, formula)
    return "=" + re.sub(r"\[@([a-z0-9_]+)\]", lambda m: this_row(m.group(1)), out)


@cache
def _vba_project(code_names: tuple[str, ...]) -> bytes:
    return kamxl_vba_project(list(code_names))


def add_macros(workbook: Workbook) -> None:
    """Embed the kamxl VBA project; every sheet gets the code name the project declares."""
    workbook.set_vba_name("ThisWorkbook")
    names = []
    for i, ws in enumerate(workbook.worksheets(), start=1):
        ws.set_vba_name(f"Sheet{i}")
        names.append(f"Sheet{i}")
    workbook.add_vba_project(io.BytesIO(_vba_project(tuple(names))), is_stream=True)
    workbook.set_custom_property(XLWINGS_VERSION, xlwings_vba_version())


def name_list(source: str) -> str:
    """Defined name of the names typed in a table column (``"team.name"`` -> ``Names_team_name``)."""
    return "Names_" + source.replace(".", "_")


def excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def cached_values(scores: Scores, template: Template, lang: str) -> dict[str, Any]:
    """Scores and figures as Excel would show them, keyed like the dashboard metrics."""
    values: dict[str, Any] = dict(vars(scores.figures))
    values |= {
        k: getattr(scores, k) for k in ("potential", "relationship", "execution", "overall", "priority")
    }
    values["tier"] = template.tier_label(scores.tier, lang)
    values |= alert_values(scores, template, lang)
    for key, value in values.items():
        if isinstance(value, bool):
            values[key] = int(value)
        elif isinstance(value, dt.date):
            values[key] = excel_serial(value)
        elif value is None:
            values[key] = ""
    return values


def cell_value(col: Column, value: Any, template: Template, lang: str) -> Value:
    """A plan value as the cell holds it, for formulas: labels, Excel serial dates, floats."""
    if is_blank(value):
        return None
    if col.type == "choice" and isinstance(value, str) and value in template.choices[col.choices or ""]:
        return template.label(col.choices or "", value, lang)
    if isinstance(value, dt.datetime):
        return (
            excel_serial(value.date())
            + (value - dt.datetime.combine(value.date(), dt.time())).seconds / 86400
        )
    if isinstance(value, dt.date):
        return float(excel_serial(value))
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def row_values(
    template: Template, table: Table, row: Row, lang: str, formulas: dict[str, str]
) -> dict[str, Any]:
    """Every column of one table row as Excel shows it, formula columns computed in Python."""
    by_label = {c.label[lang]: c for c in table.columns}
    done: dict[str, Any] = {}

    def cell(label: str) -> Value:
        col = by_label.get(label)
        if col is None:
            raise FormulaError(f"no column {label!r} in table {table.name}")
        if col.key not in done:
            if col.formula:
                result = evaluate(formulas[col.key], cell)
                done[col.key] = result.code if isinstance(result, ExcelError) else result
            else:
                done[col.key] = cell_value(col, row.get(col.key), template, lang)
        return done[col.key]

    for col in table.columns:
        cell(col.label[lang])
    return {k: "" if v is None else v for k, v in done.items()}


def content_width(col: Column, values: list[Any], base: float, lang: str) -> float:
    """Column width that shows the header's longest word and one-line values whole (up to a cap)."""
    longest_word = max((len(w) for w in col.label[lang].split()), default=0)
    width = max(base, longest_word * 1.1 + 3)
    if col.type in ("longtext",):
        return width
    texts = [str(v) for v in values if isinstance(v, str)]
    if texts:  # text wraps past its cap (rows grow); an address or link must stay on one line
        cap = 36.0 if col.type in WRAPPED else 48.0
        width = max(width, min(cap, max(len(t) for t in texts) * 1.05 + 3))
    return round(width, 1)


FIRST_PRINTED_ROW = 3  # 0-based: the heading, client and hint rows above print as the page header


def _footer_text(text: str) -> str:
    return text.replace("&", "&&")


_PREPARED: dict[tuple[str, bool, bool], str] = {}


class _Worksheet(Worksheet):
    """XlsxWriter's worksheet with each formula prepared once per process: a plan repeats the
    same formulas on every pre-sized table row, and XlsxWriter runs some thirty regular
    expressions over each formula it writes (a pure function of the text and two flags)."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, expand_future_functions, bool(self.use_future_functions))
        prepared = _PREPARED.get(key)
        if prepared is None:
            if len(_PREPARED) > 50_000:
                _PREPARED.clear()
            prepared = _PREPARED[key] = super()._prepare_formula(formula, expand_future_functions)
        return prepared


class _PlanWriter:
    def __init__(self, plan: Plan, template: Template, lang: str, path: Path, macros: bool) -> None:
        if lang not in ("en", "fr"):
            raise ValueError(f"unknown language {lang!r}: use 'en' or 'fr'")
        self.plan, self.t, self.lang = plan, template, lang
        self.wb = Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "in_memory": True,  # no temporary files outside the target folder
            },
        )
        self.macros = macros
        self.s = Styles(self.wb, template, lang)
        self.sheets: dict[str, Worksheet] = {}

    # -- helpers -------------------------------------------------------------------------
    def title(self, sheet_key: str) -> str:
        return self.t.sheet(sheet_key).title[self.lang]

    def field_ref(self, key: str) -> str:
        return layout.field_ref(self.t, key, self.lang)

    def display(self, col: Column, value: Any) -> Any:
        """The value as a KAM sees it: choice codes become labels in the workbook language."""
        if col.type == "choice" and isinstance(value, str) and value in self.t.choices[col.choices or ""]:
            return self.t.label(col.choices or "", value, self.lang)
        return value

    def write_value(self, ws: Worksheet, row: int, col_idx: int, col: Column, value: Any, fmt: Any) -> None:
        value = self.display(col, value)
        if is_blank(value):
            ws.write_blank(row, col_idx, None, fmt)
        elif isinstance(value, dt.datetime):
            ws.write_datetime(row, col_idx, value, fmt)
        elif isinstance(value, dt.date):
            ws.write_datetime(row, col_idx, dt.datetime.combine(value, dt.time()), fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col_idx, value, fmt)
        elif isinstance(value, (int, float)):
            ws.write_number(row, col_idx, value, fmt)
        elif col.type == "url" and re.match(r"https?://", str(value)):
            ws.write_url(row, col_idx, str(value), fmt, string=str(value))
        else:
            ws.write_string(row, col_idx, str(value), fmt)

    def validation(self, col: Column) -> dict[str, Any]:
        """Data validation with an input message: dropdowns for choices, ranges for numbers."""
        help_text = col.help[self.lang][:255]
        base: dict[str, Any] = {"input_title": col.label[self.lang][:32], "input_message": help_text}
        if col.type == "choice":
            return base | {
                "validate": "list",
                "source": f"=List_{col.choices}",
                "error_type": "stop" if col.strict else "information",
                "error_title": col.label[self.lang][:32],
                "error_message": self._msg(
                    "Pick a value from the list.", "Choisissez une valeur dans la liste."
                ),
            }
        if col.list_from:
            return base | {
                "validate": "list",
                "source": f"={name_list(col.list_from)}",
                "error_type": "information",
                "error_title": col.label[self.lang][:32],
                "error_message": self._msg(
                    "Not in the list: kept as typed.", "Absent de la liste : gardé tel quel."
                ),
            }
        if col.type == "rating":
            return base | {
                "validate": "integer",
                "criteria": "between",
                "minimum": 1,
                "maximum": 5,
                "error_message": self._msg("A whole number from 1 to 5.", "Un nombre entier de 1 à 5."),
            }
        if col.type == "date":
            return base | {
                "validate": "date",
                "criteria": "between",
                "minimum": dt.date(1990, 1, 1),
                "maximum": dt.date(2100, 12, 31),
                "error_type": "warning",
                "error_message": self._msg("A date, e.g. 2026-03-15.", "Une date, par ex. 2026-03-15."),
            }
        if col.is_numeric:
            kind = "integer" if col.type == "int" else "decimal"
            return base | {
                "validate": kind,
                "criteria": "between",
                "minimum": col.min if col.min is not None else -1e15,
                "maximum": col.max if col.max is not None else 1e15,
                "error_type": "warning",
                "error_message": self._msg("A number is expected here.", "Un nombre est attendu ici."),
            }
        return base | {"validate": "any"}

    def _msg(self, en: str, fr: str) -> str:
        return en if self.lang == "en" else fr

    def tone(self, tone: str) -> Any:
        st = self.t.style
        fills = {
            "good": (st["good"], st["good_text"]),
            "warn": (st["warn"], st["warn_text"]),
            "bad": (st["bad"], st["bad_text"]),
            "neutral": (st["neutral"], st["muted"]),
            "info": ("#DDEBF7", "#1F4E79"),
        }
        bg, fg = fills[tone]
        return self.wb.add_format({"bg_color": bg, "font_color": fg})

    def conditional(self, ws: Worksheet, table: Table, col: Column, first: int, last: int, c: int) -> None:
        rng = (first, c, last, c)
        for code, tone in col.colors.items():
            if col.type == "choice":
                text = self.t.label(col.choices or "", code, self.lang)
            else:
                text = self.t.text(code, self.lang)
            ws.conditional_format(
                *rng, {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": self.tone(tone)}
            )
        cell = xl_rowcol_to_cell(first, c, row_abs=False, col_abs=True)
        for minimum, tone in col.bands:
            ws.conditional_format(
                *rng,
                {
                    "type": "formula",
                    "criteria": f"=AND(ISNUMBER({cell}),{cell}>={minimum!r})",
                    "format": self.tone(tone),
                    "stop_if_true": True,
                },
            )
        if col.row_flag:
            anchor = layout.table_anchor(self.t, table.key)
            first_c, last_c = anchor.first_col, anchor.last_col
            ws.conditional_format(
                first,
                first_c,
                last,
                last_c,
                {
                    "type": "formula",
                    "criteria": f'=AND(ISTEXT({cell}),{cell}<>"")',
                    "format": self.wb.add_format({"bg_color": "#FDECEC"}),
                },
            )

    # -- sheets --------------------------------------------------------------------------
    def write(self) -> None:
        for sheet in self.t.sheets:
            ws = self.wb.add_worksheet(sheet.title[self.lang], worksheet_class=_Worksheet)
            ws.set_tab_color(sheet.tab_color)
            self.sheets[sheet.key] = ws
        self.write_lists()
        self.write_meta()
        self.define_name_lists()
        for sheet in self.t.sheets[1:]:
            if sheet.drawing == "orgchart":
                self.write_orgchart(sheet, self.sheets[sheet.key])
            else:
                self.write_sheet(sheet, self.sheets[sheet.key])
        self.write_dashboard(self.sheets["dashboard"])
        write_carried_over(self.wb, self.t, self.lang, self.plan.carried_over, self.s)
        self.wb.set_properties(
            {
                "title": f"{self.t.name[self.lang]}: {self.plan.name}".strip(": "),
                "author": self.plan.kam,
                "comments": f"kamxl {__version__}, template {self.t.id} {self.t.version}",
            }
        )
        if self.macros:
            add_macros(self.wb)
            self.sheets["dashboard"].insert_button(
                1,
                10,
                {
                    "macro": RECOMPUTE_MACRO,
                    "caption": self._msg("Recompute & check", "Recalculer et vérifier"),
                    "width": 170,
                    "height": 32,
                },
            )
            self.sheets["dashboard"].insert_button(  # left of Recompute, clear of the score tiles
                1,
                7,
                {
                    "macro": QBR_MACRO,
                    "caption": self._msg("Quarterly review deck", "Deck de revue trimestrielle"),
                    "width": 170,
                    "height": 32,
                },
            )
        self.sheets["dashboard"].activate()
        self.wb.close()

    def define_name_lists(self) -> None:
        """A defined name over each table column that feeds a dropdown of names (``list_from``)."""
        sources = {c.list_from for t in self.t.tables.values() for c in t.columns if c.list_from}
        for source in sorted(sources):
            table_key, _, col_key = source.partition(".")
            table, anchor = self.t.table(table_key), layout.table_anchor(self.t, table_key)
            col = anchor.first_col + [c.key for c in table.columns].index(col_key)
            size = max(table.rows, len(self.plan.tables.get(table_key, [])) + 3)
            first, last = anchor.first_data_row, anchor.header_row + size + EXTRA_VALIDATED_ROWS
            letter = xl_col_to_name(col)
            sheet = self.title(self.t.table_sheet(table_key).key).replace("'", "''")
            self.wb.define_name(name_list(source), f"='{sheet}'!${letter}${first}:${letter}${last}")

    def write_orgchart(self, sheet: Sheet, ws: Worksheet) -> None:
        """The org chart sheet, drawn from the stakeholders (see kamxl.orgchart for why cells)."""
        self.sheet_frame(sheet, ws)
        ws.write_string(2, 0, self.t.text("orgchart_hint", self.lang), self.s.hint)
        rows = self.plan.tables.get("stakeholders", [])
        paint_xlsx(self.wb, ws, layout_orgchart(rows, self.t, self.lang))

    def write_lists(self) -> None:
        ws = self.wb.add_worksheet(LISTS_SHEET, worksheet_class=_Worksheet)
        ws.hide()
        for c, (key, items) in enumerate(self.t.choices.items()):
            ws.write_string(0, c, key, self.s.label)
            for r, labels in enumerate(items.values(), start=1):
                ws.write_string(r, c, labels[self.lang])
            name = xl_col_to_name(c)
            self.wb.define_name(f"List_{key}", f"={LISTS_SHEET}!${name}$2:${name}${len(items) + 1}")
            ws.set_column(c, c, 24)
        ws.protect("")

    def write_meta(self) -> None:
        ws = self.wb.add_worksheet(META_SHEET, worksheet_class=_Worksheet)
        ws.very_hidden()
        meta = {
            "template_id": self.t.id,
            "template_version": self.t.version,
            "kamxl_version": __version__,
            "account_id": self.plan.account_id,
            "lang": self.lang,
            "generated_at": (
                self.plan.generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
            ).isoformat(),
        }
        for r, (k, v) in enumerate(meta.items()):
            ws.write_string(r, 0, k)
            ws.write_string(r, 1, str(v))
        ws.protect("")

    def sheet_frame(self, sheet: Sheet, ws: Worksheet) -> None:
        s = self.s
        ws.hide_gridlines(2)
        ws.set_row(0, 26)
        self.frame_heading(sheet, ws, 0)
        ws.write_string(2, 0, self.frame_hint(sheet), s.hint)
        account = _footer_text(self.plan.name or self.t.name[self.lang])
        page, of = self.t.text("page", self.lang), self.t.text("of", self.lang)
        ws.set_footer(f"&L&8{account}&C&8&A&R&8{page} &P {of} &N")
        ws.protect(
            "",
            {
                "insert_rows": True,
                "delete_rows": True,
                "format_cells": True,
                "format_columns": True,
                "format_rows": True,
                "sort": True,
                "autofilter": True,
                "insert_hyperlinks": True,
            },
        )

    def frame_heading(self, sheet: Sheet, ws: Worksheet, col: int) -> None:
        """The sheet's heading and the client's name, at the top of ``col``."""
        ws.write_string(0, col, sheet.heading[self.lang], self.s.heading)
        name_ref = self.field_ref("client_name")
        ws.write_formula(1, col, f'=IF({name_ref}="","",{name_ref})', self.s.subheading, self.plan.name)

    def frame_hint(self, sheet: Sheet) -> str:
        hint = self.t.text("input_hint", self.lang)
        return hint + " " + self.t.text("grow_hint", self.lang) if sheet.tables else hint

    def write_sheet(self, sheet: Sheet, ws: Worksheet) -> None:
        s = self.s
        self.sheet_frame(sheet, ws)
        self.row_lines: dict[int, int] = {}
        # Form columns also hold the first table below the form: keep them wide enough for both.
        self.min_widths = {0: 38.0, 1: 46.0} if sheet.fields else {}
        if sheet.fields:
            ws.set_column(0, 0, self.min_widths[0])
            ws.set_column(1, 1, self.min_widths[1])
            for f in sheet.fields:
                row, col = layout.field_row(self.t, f.key) - 1, layout.FIELD_VALUE_COL
                ws.write_string(row, col - 1, f.label[self.lang], s.label)
                self.write_value(ws, row, col, f, self.plan.fields.get(f.key), s.cell(f, form=True))
                ws.write_string(row, col + 1, f.help[self.lang], s.hint)
                ws.data_validation(row, col, row, col, self.validation(f))
                self.note_lines(
                    row, f, self.plan.fields.get(f.key), 46, minimum=2 if f.type == "longtext" else 1
                )
        for table in sheet.tables:
            self.write_table(sheet, ws, table)
        for row, lines in self.row_lines.items():
            if lines > 1:
                ws.set_row(row, row_height(lines))
        self.print_setup(sheet, ws)

    def print_setup(self, sheet: Sheet, ws: Worksheet) -> None:
        """Frozen titles, and pages per block: the form, then each table (see ``printing``).

        The sheet's heading prints in the page header of every page, so the rows above the form
        and tables (heading, client, on-screen hint) stay out of the print area: no page starts
        with a cut heading or a fragment of the hint."""
        anchors = [layout.table_anchor(self.t, table.key) for table in sheet.tables]
        starts = [a.first_col for a in anchors[1:]]
        blocks = [sheet_width(ws, a.last_col, a.first_col) for a in anchors]
        if sheet.fields:
            blocks.append(sheet_width(ws, layout.FIELD_VALUE_COL + 1))  # labels, values, help
        row_breaks = [anchors[0].title_row - 1] if sheet.fields and anchors else []
        last_row, last_col = max(ws.dim_rowmax or 0, FIRST_PRINTED_ROW), ws.dim_colmax or 0
        areas = [(FIRST_PRINTED_ROW, 0, last_row, last_col)]
        if row_breaks and starts:  # tables beside the first under a form: printed without its rows
            areas = [(FIRST_PRINTED_ROW, 0, last_row, max(anchors[0].last_col, layout.FIELD_VALUE_COL + 1))]
            areas += [(row_breaks[0], a.first_col, last_row, a.last_col) for a in anchors[1:]]
        print_areas(ws, areas)
        if sheet.tables and not sheet.fields:
            header_row = anchors[0].header_row - 1
            ws.freeze_panes(header_row + 1, 1)
            title_rows: tuple[int, int] | None = (anchors[0].title_row - 1, header_row)
        else:
            ws.freeze_panes(3, 0)
            title_rows = None
        legible_print(
            ws,
            sheet_width(ws),
            title_rows=title_rows,
            key_col=0,
            blocks=blocks,
            col_breaks=starts,
            row_breaks=row_breaks,
        )
        page_header(ws, sheet.heading[self.lang])

    def write_table(self, sheet: Sheet, ws: Worksheet, table: Table) -> None:
        s = self.s
        anchor = layout.table_anchor(self.t, table.key)
        header_row, first_col = anchor.header_row - 1, anchor.first_col
        rows: list[Row] = self.plan.tables.get(table.key, [])
        size = max(table.rows, len(rows) + 3)
        last_row = header_row + size
        if table.title:
            ws.write_string(header_row - 1, first_col, table.title[self.lang], s.subheading)
        columns = []
        for col in table.columns:
            spec: dict[str, Any] = {
                "header": col.label[self.lang],
                "header_format": s.header,
                "format": s.cell(col),
            }
            if col.formula:
                spec["formula"] = table_formula(self.t, table, col.formula, self.lang)
            columns.append(spec)
        ws.add_table(
            header_row,
            first_col,
            last_row,
            first_col + len(table.columns) - 1,
            {
                "name": table.name,
                "columns": columns,
                "style": self.t.style.get("table_style"),
                "autofilter": True,
            },
        )
        widths = [
            max(col.width or DEFAULT_WIDTHS.get(col.type, 14), self.min_widths.get(first_col + i, 0))
            for i, col in enumerate(table.columns)
        ]
        widths = [
            content_width(col, [self.display(col, r.get(col.key)) for r in rows], w, self.lang)
            for col, w in zip(table.columns, widths, strict=True)
        ]
        header_lines = max(
            text_lines(col.label[self.lang], w) for col, w in zip(table.columns, widths, strict=True)
        )
        self.row_lines[header_row] = max(self.row_lines.get(header_row, 1), header_lines)
        for i, col in enumerate(table.columns):
            c = first_col + i
            width = widths[i]
            ws.set_column(c, c, width, s.cell(col, tinted=False) if col.is_input else None)
            if col.is_input:
                for r in range(size):
                    value = rows[r].get(col.key) if r < len(rows) else None
                    fmt = s.cell(col, fmt_key=self.unit_format(table, col, rows[r] if r < len(rows) else {}))
                    self.write_value(ws, header_row + 1 + r, c, col, value, fmt)
                    self.note_lines(header_row + 1 + r, col, value, width)
                ws.data_validation(
                    header_row + 1, c, last_row + EXTRA_VALIDATED_ROWS, c, self.validation(col)
                )
            self.conditional(ws, table, col, header_row + 1, last_row + EXTRA_VALIDATED_ROWS, c)
        self.write_row_formulas(ws, table, header_row, first_col, rows, size)
        if table.row_height:  # a grid to write in (SWOT): roomy rows even when empty
            for r in range(header_row + 1, last_row + 1):
                lines = max(self.row_lines.get(r, 1), round((table.row_height - ROW_PADDING) / LINE_HEIGHT))
                self.row_lines[r] = lines

    def write_row_formulas(
        self, ws: Worksheet, table: Table, header_row: int, first_col: int, rows: list[Row], size: int
    ) -> None:
        """Formula columns, each cell cached with the value Excel shows (see ``row_formulas``)."""
        formulas = {
            col.key: table_formula(self.t, table, col.formula, self.lang)
            for col in table.columns
            if col.formula
        }
        for r in range(size):
            row = rows[r] if r < len(rows) else {}
            values = row_values(self.t, table, row, self.lang, formulas)
            for i, col in enumerate(table.columns):
                if col.formula:
                    ws.write_formula(
                        header_row + 1 + r,
                        first_col + i,
                        formulas[col.key],
                        self.s.cell(col, fmt_key=self.unit_format(table, col, row)),
                        values[col.key],
                    )

    def unit_format(self, table: Table, col: Column, row: Row) -> str | None:
        """A KPI's values take the format of its unit (35 % for "%", 1,200 € for "€")."""
        if col.format_key != "number" or "unit" not in {c.key for c in table.columns}:
            return None
        return self.s.unit_format(row.get("unit"))

    def note_lines(self, row: int, col: Column, value: Any, width: float, minimum: int = 1) -> None:
        """Rows holding wrapped text get the height their words take (XlsxWriter cannot autofit);
        ``minimum`` lines are left for a long text still to be typed."""
        if col.type not in WRAPPED:
            return
        filled = isinstance(value, str) and value.strip()
        lines = min(text_lines(value, width), MAX_LINES) if filled else minimum
        self.row_lines[row] = max(self.row_lines.get(row, 1), lines)

    # -- dashboard -----------------------------------------------------------------------
    def write_dashboard(self, ws: Worksheet) -> None:
        metrics = Formulas(self.t, self.lang, self.field_ref).metrics()
        self.cached = cached_values(score_plan(self.plan, self.t), self.t, self.lang)
        render_dashboard(self, ws, metrics)

    def metric_cell(self, ws: Worksheet, row: int, col: int, metric: Metric, fmt: Any) -> None:
        """A live formula whose cached result is the Python score, for viewers that do not recalculate."""
        ws.write_formula(row, col, "=" + metric.formula, fmt, self.cached.get(metric.key, ""))
        self.wb.define_name(
            metric.name, f"='{self.title('dashboard')}'!{xl_rowcol_to_cell(row, col, True, True)}"
        )
