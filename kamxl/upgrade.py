"""Move workbooks made with an older template version to the current one (`kamxl upgrade`).

A KAM's workbook is never damaged and no value is ever dropped: the plan is read, written as a
new workbook beside the original, read back and compared value by value; only then is the
original copied aside as a backup and replaced atomically. Whatever has no place in the current
template (a sheet or table column the KAM added, text typed where a number was expected) goes
to the "Carried over" sheet with the sheet and cell it came from.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine as pc

from .carried import sheet_title
from .coerce import fold
from .fileio import atomic_path, remove_stale_temporaries
from .layout import a1
from .locks import keep_mode_and_group, refuse_if_open, unique_backup
from .model import Plan, Row, is_blank
from .reader import META_SHEET, ReadResult, read_plan
from .template import LANGS, Template, get_template, version_key
from .writer import LISTS_SHEET, write_plan


class UpgradeError(Exception):
    """The upgraded workbook would have lost or changed a value: the original was left as it was."""


@dataclass
class UpgradeResult:
    path: Path
    from_version: str
    to_version: str
    status: str  # "upgraded", "current" (nothing to do) or "newer" (made by a later template)
    backup: Path | None = None
    carried_over: int = 0  # values put on the "Carried over" sheet by this upgrade

    @property
    def message(self) -> str:
        if self.status == "upgraded":
            extra = f", {self.carried_over} value(s) on the Carried over sheet" if self.carried_over else ""
            return (
                f"{self.path}: upgraded from template {self.from_version} to {self.to_version}"
                f" (original kept as {self.backup.name if self.backup else '-'}{extra})"
            )
        if self.status == "current":
            return f"{self.path}: already at template {self.to_version}"
        newer = f"made with template {self.from_version}, newer than {self.to_version}"
        return f"{self.path}: {newer}: left as is"


def upgrade_workbook(path: str | Path, *, template: Template | None = None) -> UpgradeResult:
    """Upgrade one workbook in place, keeping the original as a backup; see the module docstring."""
    template = template or get_template()
    path = Path(path)
    refuse_if_open(path)  # Excel or LibreOffice would later save their copy over the upgrade
    remove_stale_temporaries(path.parent)  # what an upgrade killed here (SIGKILL) left behind
    result = read_plan(path, template=template)
    plan = result.plan
    old = plan.template_version
    if old == template.version and plan.template_id == template.id:
        return UpgradeResult(path, old, template.version, "current")
    if version_key(old) > version_key(template.version):
        return UpgradeResult(path, old, template.version, "newer")
    carried = unplaced_values(path, result, template)
    plan.carried_over = [*plan.carried_over, *carried]
    plan.template_id, plan.template_version = template.id, template.version
    original = os.stat(path)
    with atomic_path(path, mode=stat.S_IMODE(original.st_mode)) as tmp:
        write_plan(plan, tmp, template=template)
        lost = differences(plan, read_plan(tmp, template=template).plan)
        if lost:
            raise UpgradeError(
                f"{path}: upgrade stopped, the original is unchanged; the new workbook would differ: "
                + "; ".join(lost[:10])
            )
        backup = unique_backup(path)
    keep_mode_and_group(path, original)
    return UpgradeResult(path, old, template.version, "upgraded", backup, len(carried))


def upgrade_paths(paths: list[Path], *, template: Template | None = None) -> list[UpgradeResult]:
    """Upgrade each workbook given; folders are searched for .xlsx and .xlsm files."""
    template = template or get_template()
    return [upgrade_workbook(p, template=template) for p in workbook_files(paths)]


def workbook_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() in (".xlsx", ".xlsm")
                and not p.name.startswith((".", "~$"))
                and ".bak-" not in p.name
            )
        else:
            files.append(path)
    return files


# -- values without a place ----------------------------------------------------------------------
def unplaced_values(path: Path, result: ReadResult, template: Template) -> list[Row]:
    """Every non-blank cell the reader did not put into the plan: sheets unknown to the template,
    table columns it does not have, and typed values it could not read (left blank in the plan)."""
    book = pc.CalamineWorkbook.from_path(str(path), load_tables=True)
    try:
        return [*_foreign_sheets(book, template), *_foreign_columns(book, result), *_unread(book, result)]
    finally:
        book.close()


def _grid(book: Any, sheet: str) -> list[list[Any]]:
    return book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def _row(sheet: str, r: int, c: int, label: Any, value: Any) -> Row:
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    label = "" if label is None else str(label)
    return {"sheet": sheet, "cell": a1(r + 1, c), "label": label, "value": value}


def _foreign_sheets(book: Any, template: Template) -> list[Row]:
    known = {fold(s.title[lang]) for s in template.sheets for lang in LANGS}
    known |= {fold(sheet_title(template, lang)) for lang in LANGS} | {fold(LISTS_SHEET), fold(META_SHEET)}
    for table in template.tables.values():  # a sheet renamed since, found by the table it holds
        try:
            known.add(fold(book.get_table_by_name(table.name).sheet))
        except Exception:  # not an Excel table in this workbook
            continue
    rows = []
    for name in book.sheet_names:
        if fold(name) in known:
            continue
        for r, line in enumerate(_grid(book, name)):
            rows += [_row(name, r, c, "", v) for c, v in enumerate(line) if not is_blank(v)]
    return rows


def _foreign_columns(book: Any, result: ReadResult) -> list[Row]:
    rows = []
    for key, table in result.template.tables.items():
        try:
            found = book.get_table_by_name(table.name)
        except Exception:  # no such Excel table: the reader read it from its place, or not at all
            continue
        (first_row, first_col), (last_row, last_col) = found.start, found.end
        placed = set((result.locations.columns.get(key) or {}).values())
        formulas = {first_col + i for i, col in enumerate(table.columns) if not col.is_input}
        grid = _grid(book, found.sheet)
        for c in range(first_col, last_col + 1):
            if c in placed or c in formulas:
                continue
            header = found.columns[c - first_col] if c - first_col < len(found.columns) else ""
            for r in range(first_row, min(last_row + 1, len(grid))):  # start: first data row
                value = grid[r][c] if c < len(grid[r]) else None
                if not is_blank(value):
                    rows.append(_row(found.sheet, r, c, header, value))
    return rows


def _unread(book: Any, result: ReadResult) -> list[Row]:
    """Input cells holding something the plan has as blank (text in a number column, an error)."""
    plan, locs, t = result.plan, result.locations, result.template
    rows = []
    grids: dict[str, list[list[Any]]] = {}

    def raw(sheet: str, r: int, c: int) -> Any:
        if sheet not in grids:
            grids[sheet] = _grid(book, sheet) if sheet in book.sheet_names else []
        grid = grids[sheet]
        return grid[r][c] if 0 <= r < len(grid) and 0 <= c < len(grid[r]) else None

    for key, cell in locs.fields.items():
        sheet = locs.sheets.get(t.field_sheets[key].key, "")
        r, c = _index(cell)
        value = raw(sheet, r, c)
        if plan.fields.get(key) is None and not is_blank(value):
            rows.append(_row(sheet, r, c, t.fields[key].label[plan.lang], value))
    for key, table in t.tables.items():
        sheet = locs.sheets.get(t.table_sheet(key).key, "")
        columns = locs.columns.get(key) or {}
        for index, excel_row in enumerate(locs.rows.get(key, [])):
            plan_row = plan.tables[key][index]
            for col in table.input_columns:
                c = columns.get(col.key)
                if c is None or plan_row.get(col.key) is not None:
                    continue
                value = raw(sheet, excel_row - 1, c)
                if not is_blank(value):
                    rows.append(_row(sheet, excel_row - 1, c, col.label[plan.lang], value))
    return rows


def _index(cell: str) -> tuple[int, int]:
    letters = "".join(ch for ch in cell if ch.isalpha())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch.upper()) - 64
    return int(cell[len(letters) :]) - 1, col - 1


# -- the check before replacing ------------------------------------------------------------------
def differences(before: Plan, after: Plan) -> list[str]:
    """What the re-read plan lost or changed: fields, every table row and the carried-over values."""
    out = []
    for key, value in before.fields.items():
        if not _same(value, after.fields.get(key)):
            out.append(f"field {key}: {value!r} became {after.fields.get(key)!r}")
    for key, rows in before.tables.items():
        new = after.tables.get(key, [])
        kept = [r for r in rows if any(not is_blank(v) for v in r.values())]
        if len(new) != len(kept):
            out.append(f"table {key}: {len(kept)} rows became {len(new)}")
            continue
        for i, (a, b) in enumerate(zip(kept, new, strict=True)):
            for col, value in a.items():
                if not _same(value, b.get(col)):
                    out.append(f"table {key} row {i + 1} {col}: {value!r} became {b.get(col)!r}")
    pairs = zip(before.carried_over, after.carried_over, strict=False)
    if len(after.carried_over) != len(before.carried_over) or any(
        not _same(x.get(k), y.get(k)) for x, y in pairs for k in x
    ):
        out.append("the Carried over sheet does not hold every value")
    if after.account_id != before.account_id:
        out.append("the account id changed")
    return out


def _same(a: Any, b: Any) -> bool:
    if is_blank(a) and is_blank(b):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return _day(a) == _day(b)
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return bool(a == b)


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
