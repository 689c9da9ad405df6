"""Bringing the client's copy back into the plan (``kamxl merge-back``).

A three-way merge: the values shared (the copy's hidden record), the client's copy, the plan
now. Only what the client changed is applied; a value the KAM also changed is a conflict; only
cells :func:`~kamxl.review.share.writable_cells` lists are ever written, a set computed from
the template before the copy is opened. The copy is held to the same pre-flight and limits as
any workbook the roll-up reads; the plan is refused while Excel or LibreOffice has it open, is
backed up under a name no other backup has, and keeps its mode and group.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from ..coerce import ChoiceIndex, coerce
from ..findings import PlanReadError
from ..locks import keep_mode_and_group, refuse_if_open, unique_backup
from ..model import Plan, Row, is_blank
from ..preflight import check_workbook_file
from ..reader import ReadResult, read_plan
from ..template import Column, Table, Template
from .cellpatch import can_grow, patch_workbook, sheet_part_names, table_rows
from .share import META_SHEET, REF_HEADER, _from_json, shared_columns, writable_cells


class ShareError(ValueError):
    """A client copy that cannot be merged (not a kamxl client copy, another account)."""


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


def _read_record(book: Any, copy: Path, template: Template) -> dict[str, Any]:
    """The hidden record of what was shared, checked field by field: a copy whose record was
    edited or cut is refused with what is wrong, never half merged."""
    if META_SHEET not in book.sheetnames:
        raise ShareError(f"{copy}: not a client copy written by kamxl share (no {META_SHEET} sheet)")
    ws = book[META_SHEET]
    text = "".join(str(row[0]) for row in ws.iter_rows(min_col=1, max_col=1, values_only=True) if row[0])
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ShareError(f"{copy}: the hidden {META_SHEET} sheet is damaged ({exc})") from None
    if not isinstance(record, dict) or record.get("kind") != "kamxl client copy":
        raise ShareError(f"{copy}: not a client copy written by kamxl share ({META_SHEET} says otherwise)")
    problem = _record_problem(record, template)
    if problem:
        raise ShareError(f"{copy}: the hidden {META_SHEET} sheet was changed: {problem}")
    return record


def _record_problem(record: dict[str, Any], template: Template) -> str | None:
    """What is wrong with a record's shape (None when it is as ``share`` writes it)."""
    if not isinstance(record.get("account_id"), str):
        return "no account id"
    if record.get("lang", "en") not in ("en", "fr"):
        return f"unknown language {record.get('lang')!r}"
    fields, tables = record.get("fields"), record.get("tables")
    if not isinstance(fields, dict) or not isinstance(tables, dict):
        return "no fields or tables"
    writable = writable_cells(template)  # a record naming an internal cell is no record of ours
    if unknown := [k for k in fields if ("fields", k) not in writable]:
        return f"field {unknown[0]!r} is not one the client copy shares"
    values = list(fields.values())
    for key, rows in tables.items():
        if key not in template.tables or not isinstance(rows, list):
            return f"unknown table {key!r}"
        for row in rows:
            ref = row.get("ref") if isinstance(row, dict) else None
            if (
                not isinstance(ref, int)
                or isinstance(ref, bool)
                or ref < 0
                or not isinstance(row.get("values"), dict)
            ):
                return f"a row of table {key!r} has no valid reference"
            if unknown := [c for c in row["values"] if (key, c) not in writable]:
                return f"column {unknown[0]!r} of table {key!r} is not one the client copy shares"
            values += row["values"].values()
    for value in values:
        if isinstance(value, dict | list) and not _is_date(value):
            return f"a value is neither text, number nor date: {str(value)[:40]}"
    return None


def _is_date(value: Any) -> bool:
    try:
        return isinstance(_from_json(value), dt.date)
    except (TypeError, ValueError):
        return False


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


UNCACHED = object()  # a formula cell the copy holds without a computed value: unknown, not blank
_CELL_WITH_FORMULA = re.compile(
    r'<c\b[^>]*\br="([A-Z]+[0-9]+)"[^>]*>((?:(?!</c>).)*?<f[\s>/](?:(?!</c>).)*?)</c>', re.S
)
_VALUE = re.compile(r"<v>[^<]")


def _uncached_cells(copy: Path) -> set[tuple[str, str]]:
    """(sheet, cell) of every formula cell saved without its value, by a program that does not
    calculate: openpyxl reads them as blank, which must not erase what the plan holds."""
    out = set()
    with zipfile.ZipFile(copy) as archive:
        for title, part in sheet_part_names(archive).items():
            xml = archive.read(part).decode("utf-8", "replace")
            if "<f" in xml:
                out |= {
                    (title, m.group(1))
                    for m in _CELL_WITH_FORMULA.finditer(xml)
                    if not _VALUE.search(m.group(2))
                }
    return out


def _open_copy(copy: Path) -> tuple[Any, set[tuple[str, str]]]:
    """The client's copy, after the pre-flight every workbook kamxl reads goes through."""
    check_workbook_file(copy)  # a FIFO, a zip bomb, a sheet claiming a million rows: refused
    try:
        uncached = _uncached_cells(copy)
        book = openpyxl.load_workbook(copy, data_only=True)
    except FileNotFoundError:
        raise PlanReadError(copy, "no such file") from None
    except Exception as exc:  # zipfile and openpyxl raise several unrelated types for a damaged file
        raise PlanReadError(copy, f"cannot be read as a workbook: {exc}") from None
    return book, uncached


def _client_fields(
    book: Any, template: Template, lang: str, keys: set[str], uncached: set[tuple[str, str]]
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
                cell = row[1]
                raw = UNCACHED if (ws.title, cell.coordinate) in uncached else cell.value
                found.setdefault(key, (ws.title, cell.coordinate, raw))
    return found


def _client_tables(
    book: Any, template: Template, lang: str, uncached: set[tuple[str, str]]
) -> dict[str, list[dict[str, Any]]]:
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
            for cells in ws.iter_rows(grid[-1][0].row + 1, ws.max_row, first, last):
                if all(c.value is None for c in cells):
                    break
                grid.append(cells)
            keys = [labels.get(str(c.value or "").strip().casefold()) for c in grid[0]]
            rows = []
            for cells in grid[1:]:
                row = {
                    k: UNCACHED if (ws.title, c.coordinate) in uncached else c.value
                    for k, c in zip(keys, cells, strict=True)
                    if k
                }
                row["_cell"] = cells[0].row
                rows.append(row)
            out[table.key] = rows
    return out


def _ref(value: Any, known: dict[int, Any]) -> int | None:
    """The plan row a client row says it came from (hidden column A), if it is one shared."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return int(value) if int(value) in known else None
    return None


class _Merge:
    """One merge: the plan as read, the cells it may write, and what it writes and reports."""

    def __init__(self, plan_path: Path, result: ReadResult, lang: str, report: MergeReport) -> None:
        self.path, self.result, self.lang, self.report = plan_path, result, lang, report
        self.plan, self.tpl, self.locs = result.plan, result.template, result.locations
        self.writable = writable_cells(self.tpl)
        self.edits: dict[str, dict[str, Any]] = {}
        self.grow: dict[str, int] = {}  # table name -> its new last row, for rows past its blank rows
        self.unknown: set[str] = set()

    def put(self, kind: str, key: str, sheet: str, cell: str, value: Any) -> None:
        if (kind, key) not in self.writable:  # the guarantee: internal cells are never written
            raise AssertionError(f"refusing to write internal {kind}.{key}")
        tpl = self.tpl
        col = tpl.fields[key] if kind == "fields" else tpl.table(kind).column(key)
        if col.type == "choice" and isinstance(value, str) and value in tpl.choices[col.choices]:
            value = tpl.label(col.choices, value, self.plan.lang)
        self.edits.setdefault(sheet, {})[cell] = value

    def change(self, sheet: str, cell: str, what: str, before: Any, after: Any, outcome: str) -> None:
        self.report.changes.append(MergeChange(sheet, cell, what, before, after, outcome))

    def uncached(self, where: str) -> None:
        if where not in self.unknown:
            self.unknown.add(where)
            self.report.notes.append(
                f"{where}: a formula the copy holds without its value (saved by a program that does "
                "not calculate): left as the plan has it"
            )

    def fields(self, book: Any, record: dict[str, Any], uncached: set[tuple[str, str]]) -> None:
        """The Validation sheet and the shared fields."""
        plan, tpl, locs = self.plan, self.tpl, self.locs
        base_fields = {k: _from_json(v) for k, v in record.get("fields", {}).items()}
        found = _client_fields(book, tpl, self.lang, set(base_fields), uncached)
        for key, (sheet, cell, raw) in found.items():
            if raw is UNCACHED:
                self.uncached(f"{sheet}!{cell}")
                continue
            col = tpl.fields[key]
            new, base, now = _coerced(raw, col, tpl, self.lang), base_fields.get(key), plan.fields.get(key)
            if _same(new, base) or _same(new, now):  # unchanged, or merged already
                continue
            target_sheet, target_cell = locs.at_field(tpl, key)
            what = f"{col.label[plan.lang]}"
            if key not in locs.fields:  # a field a later template version added: no cell to write to
                self.change(target_sheet, "-", what, now, new, "skipped")
                self.report.notes.append(_not_in_plan(what, plan, self.path))
            elif not _same(now, base):
                self.change(target_sheet, target_cell, what, now, new, "conflict")
            else:
                self.put("fields", key, target_sheet, target_cell, new)
                self.change(target_sheet, target_cell, what, now, new, "applied")

    def table(
        self, table_key: str, base_rows: list[dict[str, Any]], client_rows: list[dict[str, Any]]
    ) -> None:
        plan, tpl, locs = self.plan, self.tpl, self.locs
        table = tpl.table(table_key)
        cols = [c for c in shared_columns(table) if (table_key, c.key) in self.writable]
        absent = [c for c in cols if c.key not in locs.columns.get(table_key, {})]
        for c in absent:  # columns a later template version added: their cells are not in the plan
            self.report.notes.append(
                _not_in_plan(f"{_where(tpl, table, plan.lang)}: {c.label[plan.lang]}", plan, self.path)
            )
        cols = [c for c in cols if c not in absent]
        base_by_ref = {int(b["ref"]): {k: _from_json(v) for k, v in b["values"].items()} for b in base_rows}
        seen: set[int] = set()
        added = []
        known = {_fold(r.get(table.key_column)) for r in plan.tables.get(table_key, [])}
        for crow in client_rows:
            values = {c.key: crow.get(c.key) for c in cols}
            for key, value in values.items():
                if value is UNCACHED:
                    self.uncached(f"{_where(tpl, table, plan.lang)}, row {crow['_cell']}")
                    values[key] = None
            values = {
                k: _coerced(v, tpl.table(table_key).column(k), tpl, self.lang) for k, v in values.items()
            }
            ref = _ref(crow.get("_ref"), base_by_ref)
            if all(v is None for v in values.values()):
                continue
            if crow.get("_ref") is UNCACHED:  # which plan row it is cannot be told: left alone
                self.uncached(f"{_where(tpl, table, plan.lang)}, row {crow['_cell']}")
                continue
            if ref is None:  # a row the client added (once: merging the same copy again adds nothing)
                if _fold(values.get(table.key_column)) not in known:
                    added.append(values)
                continue
            seen.add(ref)
            self.shared_row(table, cols, base_by_ref[ref], values, ref, crow)
        self.add_rows(table, cols, added)
        for ref, base in base_by_ref.items():
            if ref not in seen:
                self.report.notes.append(
                    f"{_where(tpl, table, plan.lang)}: {_short(base.get(table.key_column))!r} was removed "
                    "from the client copy; it stays in the plan"
                )

    def shared_row(
        self,
        table: Table,
        cols: list[Column],
        base: dict[str, Any],
        values: dict[str, Any],
        ref: int,
        crow: dict[str, Any],
    ) -> None:
        """A row that was shared: each value the client changed, applied or reported."""
        plan, tpl = self.plan, self.tpl
        plan_rows = plan.tables.get(table.key, [])
        index = _find_row(plan_rows, table, ref, base)
        for c in cols:
            new, old = values[c.key], base.get(c.key)
            if crow.get(c.key) is UNCACHED or _same(new, old):
                continue
            what = (
                f"{_where(tpl, table, plan.lang)}: {_short(base.get(table.key_column))}: {c.label[plan.lang]}"
            )
            if index is None:
                self.change(table.name, "-", what, old, new, "skipped")
                self.report.notes.append(f"{what}: the row is no longer in the plan")
                continue
            now = plan_rows[index].get(c.key)
            if _same(now, new):
                continue
            sheet, cell = self.locs.at_row(tpl, table.key, index, c.key)
            if not _same(now, old):
                self.change(sheet, cell, what, now, new, "conflict")
                continue
            self.put(table.key, c.key, sheet, cell, new)
            self.change(sheet, cell, what, now, new, "applied")

    def add_rows(self, table: Table, cols: list[Column], added: list[dict[str, Any]]) -> None:
        """Rows the client added go into the table's blank rows; past them the table grows, as
        in Excel, as far as the cells below it are empty (checked once, not once per row)."""
        if not added:
            return
        plan, tpl, locs = self.plan, self.tpl, self.locs
        span = table_rows(self.path, table.name)
        free = _free_rows(span, locs.rows.get(table.key, []))
        why = None
        if span and len(added) > len(free):
            last, why = _growable(self.path, table.name, span[1], span[1] + len(added) - len(free))
            if last > span[1]:
                self.grow[table.name] = last
                free += range(span[1] + 1, last + 1)
        sheet, header = locs.at_table(tpl, table.key)
        for values, excel_row in zip(added, free, strict=False):
            for c in cols:
                if values[c.key] is not None:
                    col_sheet, col_header = locs.at_table(tpl, table.key, c.key)
                    self.put(
                        table.key,
                        c.key,
                        col_sheet,
                        col_header.rstrip("0123456789") + str(excel_row),
                        values[c.key],
                    )
            where = header.rstrip("0123456789") + str(excel_row)
            self.change(
                sheet,
                where,
                _where(tpl, table, plan.lang),
                None,
                _short(values.get(table.key_column)),
                "added",
            )
        for values in added[len(free) :]:
            self.change(sheet, "-", _short(values.get(table.key_column)), None, "new row", "skipped")
        if len(added) > len(free):
            self.report.notes.append(
                f"table {table.name} has no blank row left and cannot grow"
                f"{f' ({why})' if span else ''}: add rows to the table in the plan first, then merge again"
            )


def _growable(path: Path, table_name: str, last: int, wanted: int) -> tuple[int, str | None]:
    """How far down (up to ``wanted``) the table can grow, and why not further: one check of the
    whole growth, then a halving search when something is in the way."""
    why = can_grow(path, table_name, wanted)
    if why is None:
        return wanted, None
    good, bad = last, wanted
    while bad - good > 1:
        mid = (good + bad) // 2
        if can_grow(path, table_name, mid) is None:
            good = mid
        else:
            bad = mid
    return good, can_grow(path, table_name, bad)


def _fold(value: Any) -> str:
    return " ".join(str(value or "").split())


def merge_back(
    plan_path: str | Path, copy_path: str | Path, *, template: Template | None = None, dry_run: bool = False
) -> MergeReport:
    """Bring the client's validation, comments and updates back into the plan workbook.

    Refuses a plan open in Excel or LibreOffice; backs it up first (a name no other backup has)
    and writes it atomically, keeping its mode and group; only shared, non-internal cells are
    written, and only where the client changed the value. A value the KAM also changed since
    sharing is left as the KAM set it and reported as a conflict.
    """
    plan_path, copy_path = Path(plan_path), Path(copy_path)
    if not dry_run:
        refuse_if_open(plan_path)
    result: ReadResult = read_plan(plan_path, template=template)
    plan, tpl = result.plan, result.template
    book, uncached = _open_copy(copy_path)
    record = _read_record(book, copy_path, tpl)
    if record.get("account_id") != plan.account_id:
        raise ShareError(
            f"{copy_path}: a copy of {record.get('account')!r} (account id {record.get('account_id')}), "
            f"not of {plan.name!r} ({plan_path})"
        )
    report = MergeReport(plan_path, copy_path)
    merge = _Merge(
        plan_path, result, record.get("lang", plan.lang if plan.lang in ("en", "fr") else "en"), report
    )
    merge.fields(book, record, uncached)
    client = _client_tables(book, tpl, merge.lang, uncached)
    for table_key, base_rows in record.get("tables", {}).items():
        merge.table(table_key, base_rows, client.get(table_key, []))
    for name, last in merge.grow.items():
        report.notes.append(
            f"table {name} extended down to row {last}, with the styles and formulas of its rows"
        )
    if merge.edits and not dry_run:
        original = os.stat(plan_path)
        report.backup = unique_backup(plan_path)
        patch_workbook(plan_path, merge.edits, merge.grow, mode=stat.S_IMODE(original.st_mode))
        keep_mode_and_group(plan_path, original)
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
    return list(range(max(span[0], last_used + 1), span[1] + 1))


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
