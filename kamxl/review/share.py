"""The plan shared with the client (``kamxl share PLAN --client``).

``share_plan`` writes a client-facing workbook drawn from the one filter of what may leave the
company (:func:`~kamxl.review.client.client_plan`): the objectives, the mutual action plan, the
shared KPIs, governance, with a Validation sheet ("validated by / on", comments), formatted in
the copy's language and set up to print. A hidden sheet keeps what was shared, so that
:func:`~kamxl.review.merge.merge_back` applies only what the client changed; the cells it may
write (:func:`writable_cells`) follow from the same notion of what is shared.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import xlsxwriter

from ..fileio import atomic_path
from ..model import Plan
from ..paths import safe_filename
from ..styles import DEFAULT_WIDTHS, num_format
from ..template import Column, Sheet, Table, Template
from .client import REF, client_columns, client_field, client_plan, client_table
from .texts import Texts

META_SHEET = "_kamxl_share"
VALIDATION_FIELDS = ("client_validated_by", "client_validated_on", "client_comment")
REF_HEADER = "kamxl ref"
CHUNK = 30000  # characters per cell of the hidden record (Excel holds 32,767)
LINE_HEIGHT = 13.5  # points per line of wrapped text
FIELD_WIDTH = 48
MAX_WIDTH = 40  # characters: a wider text wraps
PAGE_WIDTH = 150  # characters of column width a landscape A4 page shows at a readable size
WRAPPED_TYPES = ("text", "longtext", "choice", "email")


def _width(column: Column) -> float:
    return max(column.width or DEFAULT_WIDTHS.get(column.type, 14), 12)


def _lines(value: Any, width: float) -> int:
    """Lines a text takes in a wrapped cell ``width`` characters wide (1 for anything else)."""
    if not isinstance(value, str):
        return 1
    return max(1, sum(-(-len(part) // max(int(width * 1.1), 1)) or 1 for part in value.split("\n")))


# -- what is shared --------------------------------------------------------------------------
def shared_sheets(template: Template) -> list[Sheet]:
    return [s for s in template.sheets if not s.internal and s.key != "dashboard"]


def shared_fields(template: Template, sheet: Sheet) -> list[Column]:
    return [f for f in sheet.fields if client_field(template, f.key) and f.key not in VALIDATION_FIELDS]


def shared_tables(template: Template, sheet: Sheet) -> list[Table]:
    return [t for t in sheet.tables if client_table(template, t.key)]


def shared_columns(table: Table) -> list[Column]:
    """Input columns of a shared table the client sees (formula columns stay in the plan)."""
    return [c for c in client_columns(table) if c.is_input]


def writable_cells(template: Template) -> set[tuple[str, str]]:
    """Every (table or "fields", key) merge-back may write: shared input columns and fields."""
    out = {("fields", k) for k in VALIDATION_FIELDS if k in template.fields}
    for sheet in shared_sheets(template):
        out |= {("fields", f.key) for f in shared_fields(template, sheet)}
        for table in shared_tables(template, sheet):
            out |= {(table.key, c.key) for c in shared_columns(table)}
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        value = value.date()
    return {"date": value.isoformat()} if isinstance(value, dt.date) else value


def _from_json(value: Any) -> Any:
    return dt.date.fromisoformat(value["date"]) if isinstance(value, dict) and "date" in value else value


# -- writing the client copy -------------------------------------------------------------------
def share_path(plan: Plan, out_dir: Path, lang: str) -> Path:
    t = Texts(lang)
    return out_dir / safe_filename(f"{plan.name or 'account'} - {t('share.cover')}", ".xlsx")


def _text_width(values: list[Any], header: str, column: Column) -> float:
    """A column as wide as its content needs, between the template's width and MAX_WIDTH: the
    longest word of its header fits, and a text no longer than MAX_WIDTH stays on one line."""
    widest = max((len(line) for v in values if isinstance(v, str) for line in v.split("\n")), default=0)
    word = max((len(w) for w in header.split()), default=0) + 2
    if column.type in WRAPPED_TYPES:
        return max(_width(column), min(MAX_WIDTH, widest * 1.05 + 2), word)
    return max(_width(column), word)


class _ClientCopy:
    """The client copy's cells: formats in the copy's language, text always written as text."""

    def __init__(self, wb: Any, template: Template, lang: str) -> None:
        self.wb, self.t, self.lang = wb, template, lang
        st = template.style
        self.base = {
            "font_name": st.get("font", "Calibri"),
            "font_size": st.get("font_size", 10),
            "valign": "top",
        }
        self.cache: dict[tuple, Any] = {}
        self.title = self.fmt(bold=True, font_size=16, font_color=st.get("primary", "#1F3864"))
        self.label = self.fmt(bold=True, font_color=st.get("ink", "#1F2937"), text_wrap=True)
        self.muted = self.fmt(italic=True, font_color=st.get("muted", "#6B7280"), text_wrap=True)
        self.header = self.fmt(
            bold=True, font_color=st.get("header_text", "#FFFFFF"), bg_color=st.get("primary"), text_wrap=True
        )
        self.border = {"border": 1, "border_color": st.get("border", "#D1D5DB")}

    def fmt(self, **props: Any) -> Any:
        key = tuple(sorted(props.items()))
        if key not in self.cache:
            self.cache[key] = self.wb.add_format(self.base | props)
        return self.cache[key]

    def number_key(self, column: Column, value: Any, unit: Any = None) -> str | None:
        """The [formats] key of a cell: a KPI value by its unit, a whole number without decimals."""
        key = column.format_key
        if unit is not None and column.type == "number":
            key = str((self.t.raw.get("unit_formats") or {}).get(str(unit).strip(), "number"))
        if key == "number" and isinstance(value, int | float) and float(value).is_integer():
            key = "count"
        return key

    def cell_fmt(self, column: Column, editable: bool, key: str | None) -> Any:
        st = self.t.style
        props: dict[str, Any] = dict(self.border) | num_format(self.t, self.lang, key)
        if column.type in WRAPPED_TYPES:
            props["text_wrap"] = True
        if column.type in ("date", "int", "number", "currency", "percent", "rating"):
            props["align"] = "right" if column.type != "date" else "center"
        props["bg_color"] = st.get("input_fill") if editable else st.get("calc_fill")
        props["locked"] = not editable
        return self.fmt(**props)

    def write(self, ws: Any, row: int, col: int, column: Column, value: Any, unit: Any = None) -> None:
        shown = value
        if column.type == "choice" and isinstance(value, str) and value in self.t.choices[column.choices]:
            shown = self.t.label(column.choices, value, self.lang)
        cell = self.cell_fmt(column, True, self.number_key(column, shown, unit))
        if isinstance(shown, dt.date):
            ws.write_datetime(row, col, dt.datetime.combine(shown, dt.time()), cell)
        elif shown is None:
            ws.write_blank(row, col, None, cell)
        elif isinstance(shown, bool):
            ws.write_boolean(row, col, shown, cell)
        elif isinstance(shown, int | float):
            ws.write_number(row, col, shown, cell)
        else:  # text stays text: write() would turn "=..." into a live formula
            ws.write_string(row, col, str(shown), cell)

    def print_setup(self, ws: Any, client: str, t: Texts, *, landscape: bool = True) -> None:
        """A4, one page wide, the client and page numbers in the footer, the title repeated."""
        ws.set_paper(9)
        ws.set_landscape() if landscape else ws.set_portrait()
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        name = client.replace("&", "&&")
        ws.set_footer(f"&L&8{name}&R&8{t('share.page')}", {"margin": 0.3})


def share_plan(
    plan: Plan, template: Template, out: str | Path, *, as_of: dt.date | None = None, source: str = ""
) -> Path:
    """Write the client's copy of the plan (a macro-free .xlsx) at ``out`` (file or folder)."""
    day = as_of or dt.date.today()
    lang = plan.lang if plan.lang in ("en", "fr") else "en"
    t = Texts(lang)
    plan = client_plan(plan, template)  # the one filter: nothing below sees an internal value
    out = Path(out)
    path = share_path(plan, out, lang) if out.suffix.lower() != ".xlsx" else out
    record: dict[str, Any] = {
        "kind": "kamxl client copy",
        "account_id": plan.account_id,
        "account": plan.name,
        "source": source,
        "shared_on": day.isoformat(),
        "lang": lang,
        "template": {"id": template.id, "version": template.version},
        "fields": {},
        "tables": {},
    }
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"remove_timezone": True})
        c = _ClientCopy(wb, template, lang)
        _cover(c, plan, t, day, record)
        for sheet in shared_sheets(template):
            if shared_fields(template, sheet) or shared_tables(template, sheet):
                _sheet(c, plan, sheet, t, record)
        meta = wb.add_worksheet(META_SHEET)
        text = json.dumps(record, ensure_ascii=False)
        for i in range(0, max(1, len(text)), CHUNK):
            meta.write_string(i // CHUNK, 0, text[i : i + CHUNK])
        meta.hide()
        wb.set_properties(
            {"title": t("share.title", client=plan.name), "company": "", "comments": "kamxl client copy"}
        )
        wb.close()
    return path


def _cover(c: _ClientCopy, plan: Plan, t: Texts, day: dt.date, record: dict[str, Any]) -> None:
    """The Validation sheet: what the copy is, when it was shared, and the client's validation."""
    template = c.t
    cover = c.wb.add_worksheet(t("share.cover"))
    cover.hide_gridlines(2)
    cover.set_column(0, 0, None, None, {"hidden": True})  # column A of every sheet: row references
    cover.set_column(1, 1, 26)
    cover.set_column(2, 2, 60)
    cover.write_string(0, 1, t("share.title", client=plan.name), c.title)
    cover.merge_range(2, 1, 2, 2, t("share.intro"), c.muted)
    cover.set_row(2, 45)
    cover.write_string(4, 1, t("share.shared_on"), c.label)
    date_format = num_format(template, c.lang, "date") | {"align": "left"}
    cover.write_datetime(4, 2, dt.datetime.combine(day, dt.time()), c.fmt(**date_format))
    for i, key in enumerate(VALIDATION_FIELDS):
        col = template.fields[key]
        cover.write_string(6 + i, 1, col.label[c.lang], c.label)
        c.write(cover, 6 + i, 2, col, plan.fields.get(key))
        record["fields"][key] = _jsonable(plan.fields.get(key))
    cover.set_row(8, 60)
    c.print_setup(cover, plan.name, t, landscape=False)


def _sheet(c: _ClientCopy, plan: Plan, sheet: Sheet, t: Texts, record: dict[str, Any]) -> None:
    template, lang = c.t, c.lang
    fields, tables = shared_fields(template, sheet), shared_tables(template, sheet)
    ws = c.wb.add_worksheet(sheet.title[lang])
    ws.hide_gridlines(2)
    headings = t.data["share"].get("headings", {})
    ws.write_string(
        0, 1, headings[sheet.key][lang] if sheet.key in headings else sheet.heading[lang], c.title
    )
    row = 2
    widths: dict[int, float] = {1: 26, 2: FIELD_WIDTH} if fields else {}
    for f in fields:
        ws.write_string(row, 1, f.label[lang], c.label)
        c.write(ws, row, 2, f, plan.fields.get(f.key))
        ws.set_row(row, LINE_HEIGHT * _lines(plan.fields.get(f.key), FIELD_WIDTH))
        record["fields"][f.key] = _jsonable(plan.fields.get(f.key))
        row += 1
    for table in tables:
        row += 1 if fields or row > 2 else 0
        row = _table(c, ws, plan, table, row, widths, record) + 2
    ws.set_column(0, 0, None, None, {"hidden": True})
    for col, width in widths.items():
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 0)
    c.print_setup(ws, plan.name, t)


def _table(
    c: _ClientCopy,
    ws: Any,
    plan: Plan,
    table: Table,
    row: int,
    widths: dict[int, float],
    record: dict[str, Any],
) -> int:
    """One shared table at ``row``, its blank rows for the client, its dropdowns; returns its last row."""
    template, lang = c.t, c.lang
    cols = shared_columns(table)
    rows = [(r[REF], r) for r in plan.tables.get(table.key, [])]
    if table.title:
        ws.write_string(row, 1, table.title[lang], c.label)
        row += 1
    head = row
    blank = max(3, table.rows - len(rows)) if not table.share_when else 0
    last = head + max(1, len(rows) + blank)
    headers = [col.label[lang] for col in cols]
    ws.add_table(
        head,
        0,
        last,
        len(cols),
        {
            "name": table.name,
            "style": template.style.get("table_style", "Table Style Light 9"),
            "columns": [{"header": REF_HEADER, "header_format": c.header}]
            + [{"header": h, "header_format": c.header} for h in headers],
        },
    )
    wanted = {
        i: _text_width([data.get(column.key) for _, data in rows], headers[i - 1], column)
        for i, column in enumerate(cols, start=1)
    }
    spare = {
        i: wanted[i] - _width(column) for i, column in enumerate(cols, start=1) if wanted[i] > _width(column)
    }
    over = sum(wanted.values()) - PAGE_WIDTH  # past a landscape page, text columns give back their extra
    if over > 0 and spare:
        share = min(1.0, over / sum(spare.values()))
        wanted |= {i: wanted[i] - extra * share for i, extra in spare.items()}
    for i, width in wanted.items():
        widths[i] = max(widths.get(i, 0), width)
    ws.set_row(head, LINE_HEIGHT * max(_lines(h, widths[i] * 0.9) for i, h in enumerate(headers, start=1)))
    unit = "unit" if table.key == "kpis" else None  # KPI values are shown in their unit
    for r, (index, data) in enumerate(rows, start=head + 1):
        ws.write_number(r, 0, index)
        for i, column in enumerate(cols, start=1):
            c.write(
                ws,
                r,
                i,
                column,
                data.get(column.key),
                data.get(unit) if unit and column.type == "number" else None,
            )
        ws.set_row(
            r, LINE_HEIGHT * max(_lines(data.get(col.key), widths[i]) for i, col in enumerate(cols, start=1))
        )
    for r in range(head + 1 + len(rows), last + 1):
        for i, column in enumerate(cols, start=1):
            c.write(ws, r, i, column, None)
    for i, column in enumerate(cols, start=1):
        if column.type == "choice":
            labels = [lab[lang] for lab in template.choices[column.choices].values()]
            if sum(len(x) + 1 for x in labels) < 250:
                ws.data_validation(
                    head + 1,
                    i,
                    last,
                    i,
                    {
                        "validate": "list",
                        "source": labels,
                        "error_type": "warning" if not column.strict else "stop",
                    },
                )
    record["tables"][table.key] = [
        {"ref": index, "values": {col.key: _jsonable(data.get(col.key)) for col in cols}}
        for index, data in rows
    ]
    return last
