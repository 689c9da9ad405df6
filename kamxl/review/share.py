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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import xlsxwriter

from ..coerce import ChoiceIndex, coerce
from ..fileio import atomic_path
from ..findings import PlanReadError
from ..model import Plan, Row, is_blank
from ..paths import keep_backup, safe_filename
from ..reader import ReadResult, read_plan
from ..styles import DEFAULT_WIDTHS
from ..template import Column, Sheet, Table, Template
from .cellpatch import can_grow, patch_workbook, table_rows
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


class ShareError(ValueError):
    """A client copy that cannot be merged (not a kamxl client copy, another account)."""


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


# -- reading it back --------------------------------------------------------------------------
@dataclass
class MergeChange:
    """One value the client changed: where, what it was, what it becomes, and what happened."""

    sheet: str
    cell: str
    what: str  # "Action plan: Send the proposal: Status"
    before: Any
    after: Any
    outcome: str  # applied, added, conflict, skipped

    def line(self) -> str:
        def shown(v: Any) -> str:
            return "(blank)" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v)

        where = f"{self.sheet}!{self.cell}"
        return f"{self.outcome:<8} {where}  {self.what}: {shown(self.before)} -> {shown(self.after)}"


@dataclass
class MergeReport:
    plan: Path
    copy: Path
    backup: Path | None = None
    changes: list[MergeChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def applied(self) -> list[MergeChange]:
        return [c for c in self.changes if c.outcome in ("applied", "added")]

    @property
    def problems(self) -> list[MergeChange]:
        return [c for c in self.changes if c.outcome in ("conflict", "skipped")]


def _read_record(book: Any, copy: Path) -> dict[str, Any]:
    if META_SHEET not in book.sheetnames:
        raise ShareError(f"{copy}: not a client copy written by kamxl share (no {META_SHEET} sheet)")
    ws = book[META_SHEET]
    text = "".join(str(row[0]) for row in ws.iter_rows(min_col=1, max_col=1, values_only=True) if row[0])
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ShareError(f"{copy}: {META_SHEET} sheet is damaged: {exc}") from None
    if record.get("kind") != "kamxl client copy":
        raise ShareError(f"{copy}: not a client copy written by kamxl share")
    return record


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return abs(a - b) < 1e-9
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()) == " ".join(b.split())
    return (None if is_blank(a) else a) == (None if is_blank(b) else b)


def _coerced(raw: Any, column: Column, template: Template, lang: str) -> Any:
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    choices = ChoiceIndex(template.choices[column.choices], lang) if column.type == "choice" else None
    result = coerce(raw, column, choices=choices, lang=lang)
    return result.value if result.value is not None else raw


def _client_fields(
    book: Any, template: Template, lang: str, keys: set[str]
) -> dict[str, tuple[str, str, Any]]:
    """Field key -> (sheet, cell, raw value), found by label in column A of every sheet."""
    wanted = {template.fields[k].label[lang].strip().casefold(): k for k in keys}
    found = {}
    for ws in book.worksheets:
        if ws.title == META_SHEET:
            continue
        for row in ws.iter_rows(min_col=2, max_col=3):
            text = row[0].value
            if isinstance(text, str) and (key := wanted.get(text.strip().casefold())):
                found.setdefault(key, (ws.title, row[1].coordinate, row[1].value))
    return found


def _client_tables(book: Any, template: Template, lang: str) -> dict[str, list[dict[str, Any]]]:
    """Table key -> rows as {column key: raw value, "_ref": plan index or None, "_cell": row}."""
    by_name = {t.name.casefold(): t for t in template.tables.values()}
    out: dict[str, list[dict[str, Any]]] = {}
    for ws in book.worksheets:
        for name, ref in ws.tables.items():
            table = by_name.get(name.casefold())
            if table is None:
                continue
            labels = {c.label[lang].casefold(): c.key for c in table.columns} | {REF_HEADER: "_ref"}
            grid = list(ws[ref])
            # rows typed just below the table (LibreOffice does not grow a table as Excel does)
            first, last = grid[0][0].column, grid[0][-1].column
            below = grid[-1][0].row + 1
            while any(v is not None for v in next(ws.iter_rows(below, below, first, last, values_only=True))):
                grid.append(next(ws.iter_rows(below, below, first, last)))
                below += 1
            keys = [labels.get(str(c.value or "").strip().casefold()) for c in grid[0]]
            rows = []
            for cells in grid[1:]:
                row = {k: c.value for k, c in zip(keys, cells, strict=True) if k}
                row["_cell"] = cells[0].row
                rows.append(row)
            out[table.key] = rows
    return out


def merge_back(
    plan_path: str | Path, copy_path: str | Path, *, template: Template | None = None, dry_run: bool = False
) -> MergeReport:
    """Bring the client's validation, comments and updates back into the plan workbook.

    Backs the plan up first and writes it atomically; only shared, non-internal cells are
    written, and only where the client changed the value. A value the KAM also changed since
    sharing is left as the KAM set it and reported as a conflict.
    """
    plan_path, copy_path = Path(plan_path), Path(copy_path)
    result: ReadResult = read_plan(plan_path, template=template)
    plan, tpl = result.plan, result.template
    lang = plan.lang if plan.lang in ("en", "fr") else "en"
    try:
        book = openpyxl.load_workbook(copy_path, data_only=True)
    except FileNotFoundError:
        raise PlanReadError(copy_path, "no such file") from None
    except Exception as exc:  # openpyxl raises several unrelated types for a damaged file
        raise PlanReadError(copy_path, f"cannot be read as a workbook: {exc}") from None
    record = _read_record(book, copy_path)
    if record.get("account_id") != plan.account_id:
        raise ShareError(
            f"{copy_path}: a copy of {record.get('account')!r} (account id {record.get('account_id')}), "
            f"not of {plan.name!r} ({plan_path})"
        )
    lang = record.get("lang", lang)
    writable = writable_cells(tpl)
    report = MergeReport(plan_path, copy_path)
    edits: dict[str, dict[str, Any]] = {}
    grow: dict[str, int] = {}  # table name -> its new last row, for rows past the table's blank rows
    locs = result.locations

    def put(kind: str, key: str, sheet: str, cell: str, value: Any) -> None:
        if (kind, key) not in writable:  # the guarantee: internal cells are never written
            raise AssertionError(f"refusing to write internal {kind}.{key}")
        col = tpl.fields[key] if kind == "fields" else tpl.table(kind).column(key)
        if col.type == "choice" and isinstance(value, str) and value in tpl.choices[col.choices]:
            value = tpl.label(col.choices, value, plan.lang)
        edits.setdefault(sheet, {})[cell] = value

    # form fields (the Validation sheet and shared fields)
    base_fields = {k: _from_json(v) for k, v in record.get("fields", {}).items()}
    for key, (_sheet, _cell, raw) in _client_fields(book, tpl, lang, set(base_fields)).items():
        col = tpl.fields[key]
        new, base, now = _coerced(raw, col, tpl, lang), base_fields.get(key), plan.fields.get(key)
        if _same(new, base) or _same(new, plan.fields.get(key)):  # unchanged, or merged already
            continue
        target_sheet, target_cell = locs.at_field(tpl, key)
        what = f"{col.label[plan.lang]}"
        if key not in locs.fields:  # a field a later template version added: no cell to write to
            report.changes.append(MergeChange(target_sheet, "-", what, now, new, "skipped"))
            report.notes.append(_not_in_plan(what, plan, plan_path))
            continue
        if not _same(now, base) and not _same(now, new):
            report.changes.append(MergeChange(target_sheet, target_cell, what, now, new, "conflict"))
            continue
        put("fields", key, target_sheet, target_cell, new)
        report.changes.append(MergeChange(target_sheet, target_cell, what, now, new, "applied"))

    # tables
    client = _client_tables(book, tpl, lang)
    for table_key, base_rows in record.get("tables", {}).items():
        table = tpl.table(table_key)
        cols = [c for c in shared_columns(table) if (table_key, c.key) in writable]
        absent = [c for c in cols if c.key not in locs.columns.get(table_key, {})]
        for c in absent:  # columns a later template version added: their cells are not in the plan
            report.notes.append(
                _not_in_plan(f"{_where(tpl, table, plan.lang)}: {c.label[plan.lang]}", plan, plan_path)
            )
        cols = [c for c in cols if c not in absent]
        plan_rows = plan.tables.get(table_key, [])
        seen: set[int] = set()
        base_by_ref = {int(b["ref"]): {k: _from_json(v) for k, v in b["values"].items()} for b in base_rows}
        span = table_rows(plan_path, table.name)
        free = _free_rows(span, locs.rows.get(table_key, []))
        for crow in client.get(table_key, []):
            values = {c.key: _coerced(crow.get(c.key), c, tpl, lang) for c in cols}
            if all(v is None for v in values.values()):
                continue
            ref = crow.get("_ref")
            ref = int(ref) if isinstance(ref, int | float) and int(ref) in base_by_ref else None
            name = _short(values.get(table.key_column))
            if ref is None:  # a row the client added (once: merging the same copy again adds nothing)
                if any(_same(r.get(table.key_column), values.get(table.key_column)) for r in plan_rows):
                    continue
                why = None
                if not free and span:  # no blank row left: the table grows by one, as in Excel
                    row_below = grow.get(table.name, span[1]) + 1
                    if (why := can_grow(plan_path, table.name, row_below)) is None:
                        grow[table.name] = row_below
                        free.append(row_below)
                if not free:
                    report.changes.append(
                        MergeChange(
                            locs.at_table(tpl, table_key)[0], "-", f"{name}", None, "new row", "skipped"
                        )
                    )
                    report.notes.append(
                        f"table {table.name} has no blank row left and cannot grow"
                        f"{f' ({why})' if span else ''}: add rows to the table in the plan first, "
                        "then merge again"
                    )
                    continue
                excel_row = free.pop(0)
                for c in cols:
                    if values[c.key] is not None:
                        sheet, header = locs.at_table(tpl, table_key, c.key)
                        put(
                            table_key,
                            c.key,
                            sheet,
                            header.rstrip("0123456789") + str(excel_row),
                            values[c.key],
                        )
                sheet, header = locs.at_table(tpl, table_key)
                where = header.rstrip("0123456789") + str(excel_row)
                report.changes.append(
                    MergeChange(sheet, where, _where(tpl, table, plan.lang), None, name, "added")
                )
                continue
            seen.add(ref)
            base = base_by_ref[ref]
            index = _find_row(plan_rows, table, ref, base)
            for c in cols:
                new, old = values[c.key], base.get(c.key)
                if _same(new, old):
                    continue
                row_name = _short(base.get(table.key_column))
                what = f"{_where(tpl, table, plan.lang)}: {row_name}: {c.label[plan.lang]}"
                if index is None:
                    report.changes.append(MergeChange(table.name, "-", what, old, new, "skipped"))
                    report.notes.append(f"{what}: the row is no longer in the plan")
                    continue
                now = plan_rows[index].get(c.key)
                if _same(now, new):
                    continue
                sheet, cell = locs.at_row(tpl, table_key, index, c.key)
                if not _same(now, old) and not _same(now, new):
                    report.changes.append(MergeChange(sheet, cell, what, now, new, "conflict"))
                    continue
                put(table_key, c.key, sheet, cell, new)
                report.changes.append(MergeChange(sheet, cell, what, now, new, "applied"))
        for ref, base in base_by_ref.items():
            if ref not in seen:
                report.notes.append(
                    f"{_where(tpl, table, plan.lang)}: {_short(base.get(table.key_column))!r} was removed "
                    "from the client copy; it stays in the plan"
                )
    for name, last in grow.items():
        report.notes.append(
            f"table {name} extended down to row {last}, with the styles and formulas of its rows"
        )
    if edits and not dry_run:
        report.backup = keep_backup(plan_path)
        patch_workbook(plan_path, edits, grow)
    return report


def _not_in_plan(what: str, plan: Plan, path: Path) -> str:
    return (
        f"{what}: not in this plan (made with template version {plan.template_version or '?'}); "
        f"run kamxl upgrade {path.name}, then merge again"
    )


def _free_rows(span: tuple[int, int] | None, used: list[int]) -> list[int]:
    """Blank rows left inside an Excel table of the plan (its ``span`` of data rows), where a
    client's new row can go."""
    if span is None:
        return []
    last_used = max(used, default=span[0] - 1)
    return [r for r in range(span[0], span[1] + 1) if r > last_used and r not in used]


def _where(template: Template, table: Table, lang: str) -> str:
    return (table.title or template.table_sheet(table.key).title)[lang]


def _short(value: Any, limit: int = 50) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _find_row(rows: list[Row], table: Table, ref: int, base: dict[str, Any]) -> int | None:
    """The plan row a shared row came from: same place and key, else the same key elsewhere."""
    key = table.key_column
    if ref < len(rows) and _same(rows[ref].get(key), base.get(key)):
        return ref
    matches = [i for i, r in enumerate(rows) if _same(r.get(key), base.get(key))]
    return matches[0] if len(matches) == 1 else None


def client_copy_cells(path: str | Path) -> list[tuple[str, str, Any]]:
    """Every non-empty cell of a workbook, hidden sheets included: (sheet, cell, value)."""
    book = openpyxl.load_workbook(path, data_only=True)
    return [
        (ws.title, c.coordinate, c.value)
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    ]
