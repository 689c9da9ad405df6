"""The plan shared with the client, and bringing their validation and updates back.

``share_plan`` writes a client-facing workbook holding only what the template does not mark
``internal``: the objectives, the mutual action plan, the KPIs, governance, with a Validation
sheet ("validated by / on", comments). A hidden sheet keeps what was shared, so that
``merge_back`` applies only what the client changed (a three-way merge: shared copy, client's
copy, plan now), reports every change, and never writes an internal field or column: the set
of cells it may write is computed from the template before the client copy is even opened.
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
from ..styles import DEFAULT_WIDTHS
from ..template import Column, Sheet, Table, Template
from .client import REF, client_columns, client_field, client_plan, client_table
from .texts import Texts

META_SHEET = "_kamxl_share"
VALIDATION_FIELDS = ("client_validated_by", "client_validated_on", "client_comment")
REF_HEADER = "kamxl ref"
CHUNK = 30000  # characters per cell of the hidden record (Excel holds 32,767)
LINE_HEIGHT = 13.5  # points per line of wrapped text
FIELD_WIDTH = 48


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
        st = template.style
        base = {"font_name": st.get("font", "Calibri"), "font_size": st.get("font_size", 10), "valign": "top"}
        fmt_cache: dict[tuple, Any] = {}

        def fmt(**props: Any) -> Any:
            key = tuple(sorted(props.items()))
            if key not in fmt_cache:
                fmt_cache[key] = wb.add_format(base | props)
            return fmt_cache[key]

        title = fmt(bold=True, font_size=16, font_color=st.get("primary", "#1F3864"))
        label = fmt(bold=True, font_color=st.get("ink", "#1F2937"))
        muted = fmt(italic=True, font_color=st.get("muted", "#6B7280"), text_wrap=True)
        header = fmt(
            bold=True, font_color=st.get("header_text", "#FFFFFF"), bg_color=st.get("primary"), text_wrap=True
        )
        border = {"border": 1, "border_color": st.get("border", "#D1D5DB")}

        def cell_fmt(col: Column, editable: bool) -> Any:
            props: dict[str, Any] = dict(border)
            if (key := col.format_key) and key != "text":
                props["num_format"] = template.formats[key]
            if col.type == "longtext":
                props["text_wrap"] = True
            props["bg_color"] = st.get("input_fill") if editable else st.get("calc_fill")
            props["locked"] = not editable
            return fmt(**props)

        def write(ws: Any, row: int, col: int, column: Column, value: Any, editable: bool = True) -> None:
            shown = value
            if (
                column.type == "choice"
                and isinstance(value, str)
                and value in template.choices[column.choices]
            ):
                shown = template.label(column.choices, value, lang)
            if isinstance(shown, dt.date):
                ws.write_datetime(row, col, dt.datetime.combine(shown, dt.time()), cell_fmt(column, editable))
            elif shown is None:
                ws.write_blank(row, col, None, cell_fmt(column, editable))
            elif isinstance(shown, bool):
                ws.write_boolean(row, col, shown, cell_fmt(column, editable))
            elif isinstance(shown, int | float):
                ws.write_number(row, col, shown, cell_fmt(column, editable))
            else:  # text stays text: write() would turn "=..." into a live formula
                ws.write_string(row, col, str(shown), cell_fmt(column, editable))

        # Column A of every sheet is hidden: it holds each table row's reference to the plan.
        # Validation (cover) sheet
        cover = wb.add_worksheet(t("share.cover"))
        cover.hide_gridlines(2)
        cover.set_column(0, 0, None, None, {"hidden": True})
        cover.set_column(1, 1, 26)
        cover.set_column(2, 2, 60)
        cover.write_string(0, 1, t("share.title", client=plan.name), title)
        cover.merge_range(2, 1, 2, 2, t("share.intro"), muted)
        cover.set_row(2, 45)
        cover.write_string(4, 1, t("share.shared_on"), label)
        cover.write_datetime(
            4, 2, dt.datetime.combine(day, dt.time()), fmt(num_format=template.formats["date"], align="left")
        )
        for i, key in enumerate(VALIDATION_FIELDS):
            col = template.fields[key]
            cover.write_string(6 + i, 1, col.label[lang], label)
            write(cover, 6 + i, 2, col, plan.fields.get(key))
            record["fields"][key] = _jsonable(plan.fields.get(key))
        cover.set_row(8, 60)

        for sheet in shared_sheets(template):
            fields, tables = shared_fields(template, sheet), shared_tables(template, sheet)
            if not fields and not tables:
                continue
            ws = wb.add_worksheet(sheet.title[lang])
            ws.hide_gridlines(2)
            ws.write_string(0, 1, sheet.heading[lang], title)
            row = 2
            widths: dict[int, float] = {1: 26, 2: FIELD_WIDTH} if fields else {}
            for f in fields:
                ws.write_string(row, 1, f.label[lang], label)
                write(ws, row, 2, f, plan.fields.get(f.key))
                ws.set_row(row, LINE_HEIGHT * _lines(plan.fields.get(f.key), FIELD_WIDTH))
                record["fields"][f.key] = _jsonable(plan.fields.get(f.key))
                row += 1
            for table in tables:
                row += 1 if fields or row > 2 else 0
                cols = shared_columns(table)
                rows = [(row[REF], row) for row in plan.tables.get(table.key, [])]
                if table.title:
                    ws.write_string(row, 1, table.title[lang], label)
                    row += 1
                head = row
                blank = max(3, table.rows - len(rows)) if not table.share_when else 0
                last = head + max(1, len(rows) + blank)
                ws.add_table(
                    head,
                    0,
                    last,
                    len(cols),
                    {
                        "name": table.name,
                        "style": template.style.get("table_style", "Table Style Light 9"),
                        "columns": [{"header": REF_HEADER, "header_format": header}]
                        + [{"header": c.label[lang], "header_format": header} for c in cols],
                    },
                )
                for r, (index, data) in enumerate(rows, start=head + 1):
                    ws.write_number(r, 0, index)
                    for c, column in enumerate(cols, start=1):
                        write(ws, r, c, column, data.get(column.key))
                    ws.set_row(r, LINE_HEIGHT * max(_lines(data.get(c.key), _width(c)) for c in cols))
                for r in range(head + 1 + len(rows), last + 1):
                    for c, column in enumerate(cols, start=1):
                        write(ws, r, c, column, None)
                for c, column in enumerate(cols, start=1):
                    widths[c] = max(widths.get(c, 0), _width(column))
                    if column.type == "choice":
                        labels = [lab[lang] for lab in template.choices[column.choices].values()]
                        if sum(len(x) + 1 for x in labels) < 250:
                            ws.data_validation(
                                head + 1,
                                c,
                                last,
                                c,
                                {
                                    "validate": "list",
                                    "source": labels,
                                    "error_type": "warning" if not column.strict else "stop",
                                },
                            )
                record["tables"][table.key] = [
                    {"ref": index, "values": {c.key: _jsonable(data.get(c.key)) for c in cols}}
                    for index, data in rows
                ]
                row = last + 2
            ws.set_column(0, 0, None, None, {"hidden": True})
            for c, width in widths.items():
                ws.set_column(c, c, width)
            ws.freeze_panes(1, 0)
            ws.set_landscape()
            ws.fit_to_pages(1, 0)
            ws.repeat_rows(0)
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
