"""merge-back and upgrade against what the field brings: hostile client copies, a thousand rows
typed below a table, formulas saved without values, plans open in Excel or LibreOffice, two
runs in the same second, group-writable plans on a shared drive."""

from __future__ import annotations

import datetime as dt
import grp
import json
import os
import re
import shutil
import stat
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kamxl.cli import main
from kamxl.demo import demo_plans
from kamxl.locks import open_by, unique_backup
from kamxl.paths import BACKUP_NAME
from kamxl.reader import read_plan
from kamxl.review.cellpatch import table_rows
from kamxl.review.share import META_SHEET, share_plan
from kamxl.template import Template
from kamxl.writer import write_plan

DAY = dt.date(2026, 12, 1)
V1 = Path(__file__).parent / "fixtures" / "v1" / "Moulins Sérélan.xlsx"


def run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, template: Template) -> tuple[Path, Path]:
    """An English plan and its client copy, as shared."""
    folder = tmp_path_factory.mktemp("source")
    plan = next(p for p in demo_plans(template, seed=7, count=6, today=DAY) if p.lang == "en")
    path = write_plan(plan, folder / "plan.xlsx")
    return path, share_plan(read_plan(path).plan, template, folder / "copy.xlsx", as_of=DAY)


@pytest.fixture
def pair(source: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    plan, copy = (shutil.copy2(p, tmp_path / p.name) for p in source)
    return Path(plan), Path(copy)


def _actions(book: openpyxl.Workbook, template: Template) -> tuple[object, list, list[str]]:
    ws = next(w for w in book.worksheets if "Actions" in w.tables)
    grid = list(ws[ws.tables["Actions"].ref])
    return ws, grid, [c.value for c in grid[0]]


def _column(header: list[str], template: Template, key: str) -> int:
    return header.index(template.table("actions").column(key).label["en"])


# -- size and time --------------------------------------------------------------------------------
def test_a_thousand_rows_typed_below_the_table_merge_in_seconds(
    pair: tuple[Path, Path], template: Template
) -> None:
    plan_path, copy_path = pair
    before = len(read_plan(plan_path).plan.rows("actions", template))
    book = openpyxl.load_workbook(copy_path)
    ws, grid, header = _actions(book, template)
    action, due = _column(header, template, "action"), _column(header, template, "due")
    last, first = grid[-1][0].row, grid[0][0].column
    for k in range(1, 1001):
        ws.cell(last + k, first + action).value = f"Client action {k}"
        ws.cell(last + k, first + due).value = dt.datetime(2027, 1, 1) + dt.timedelta(days=k % 300)
    book.save(copy_path)
    start = time.perf_counter()
    code, output = run("merge-back", plan_path, copy_path)
    elapsed = time.perf_counter() - start
    assert code == 0, output[-2000:]
    assert output.count("added") == 1000 and elapsed < 30, elapsed
    rows = read_plan(plan_path).plan.rows("actions", template)
    assert len(rows) == before + 1000 and rows[-1]["action"] == "Client action 1000"
    first_row, last_row = table_rows(plan_path, "Actions")
    assert last_row - first_row + 1 >= before + 1000


def test_an_oversized_copy_is_refused_before_it_is_parsed(pair: tuple[Path, Path]) -> None:
    plan_path, copy_path = pair
    original = plan_path.read_bytes()
    with zipfile.ZipFile(copy_path) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    parts[sheet] = parts[sheet].replace(
        b"</sheetData>",
        b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
    )
    with zipfile.ZipFile(copy_path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    code, output = run("merge-back", plan_path, copy_path)
    assert code == 2 and "1,048,576 rows" in output and "XFD1048576" in output, output
    assert plan_path.read_bytes() == original


# -- the hidden record -----------------------------------------------------------------------------
def _with_record(copy_path: Path, change) -> None:
    book = openpyxl.load_workbook(copy_path)
    ws = book[META_SHEET]
    text = "".join(str(r[0]) for r in ws.iter_rows(min_col=1, max_col=1, values_only=True) if r[0])
    for row in ws.iter_rows():
        for cell in row:
            cell.value = None
    new = change(json.loads(text))
    if new is not None:
        cell = ws.cell(1, 1)
        cell.value, cell.data_type = new if isinstance(new, str) else json.dumps(new), "s"
    book.save(copy_path)


def _drop_sheet(copy_path: Path) -> None:
    book = openpyxl.load_workbook(copy_path)
    del book[META_SHEET]
    book.save(copy_path)


def _set(record: dict, path: tuple, value: object) -> dict:
    node = record
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return record


TAMPERED = {
    "no record sheet": (None, "no _kamxl_share sheet"),
    "empty record": (lambda r: None, "damaged"),
    "cut record": (lambda r: json.dumps(r)[:200], "damaged"),
    "not a copy": (lambda r: _set(r, ("kind",), "other"), "not a client copy"),
    "tables not a mapping": (lambda r: _set(r, ("tables",), [1, 2]), "no fields or tables"),
    "unknown table": (lambda r: _set(r, ("tables", "payroll"), []), "unknown table 'payroll'"),
    "bad reference": (lambda r: _set(r, ("tables", "actions", 0, "ref"), "x"), "no valid reference"),
    "bad date": (lambda r: _set(r, ("fields", "client_validated_on"), {"date": "31/02"}), "neither text"),
    "no account": (lambda r: _set(r, ("account_id",), None), "no account id"),
    "internal field": (lambda r: _set(r, ("fields", "gross_margin"), 0.5), "'gross_margin' is not one"),
    "internal column": (lambda r: _set(r, ("tables", "kpis", 0, "values", "weight"), 9), "'weight' of table"),
}


@pytest.mark.parametrize("case", TAMPERED, ids=list(TAMPERED))
def test_a_tampered_or_missing_record_is_refused_cleanly(pair: tuple[Path, Path], case: str) -> None:
    plan_path, copy_path = pair
    change, expected = TAMPERED[case]
    _drop_sheet(copy_path) if change is None else _with_record(copy_path, change)
    original = plan_path.read_bytes()
    code, output = run("merge-back", plan_path, copy_path)
    assert code == 2 and expected in output and "Traceback" not in output, output
    assert f"{plan_path} is left as it was" in output or str(copy_path) in output
    assert plan_path.read_bytes() == original
    assert not list(plan_path.parent.glob("*.bak-*"))


# -- formulas without values -----------------------------------------------------------------------
def test_a_formula_without_a_cached_value_never_erases_a_plan_value(
    pair: tuple[Path, Path], template: Template
) -> None:
    plan_path, copy_path = pair
    plan = read_plan(plan_path).plan
    book = openpyxl.load_workbook(copy_path)
    _ws, grid, header = _actions(book, template)
    comment, status = _column(header, template, "comment"), _column(header, template, "status")
    row = next(r for r in grid[1:] if r[comment].value)
    kept = row[comment].value
    row[comment].value = '=IF(TRUE,"","")'  # openpyxl saves it without a value, as some tools do
    row[status].value = "=B2"
    book.save(copy_path)
    code, output = run("merge-back", plan_path, copy_path)
    assert code == 0 and "without its value" in output, output
    after = read_plan(plan_path).plan
    assert after.tables["actions"] == plan.tables["actions"]
    assert kept in [r.get("comment") for r in after.tables["actions"]]


# -- backups, locks, modes -------------------------------------------------------------------------
def test_backups_in_the_same_second_never_overwrite_each_other(tmp_path: Path) -> None:
    plan = tmp_path / "Acme.xlsx"
    plan.write_bytes(b"first")
    now = dt.datetime(2026, 12, 8, 10, 0, 0)
    one = unique_backup(plan, now)
    plan.write_bytes(b"second")
    two = unique_backup(plan, now)
    assert one != two and one.read_bytes() == b"first" and two.read_bytes() == b"second"
    assert BACKUP_NAME.search(one.name) and BACKUP_NAME.search(two.name)


def _excel_owner_file(user: str) -> bytes:
    """The owner file Excel writes: the name's length, the name padded, then the name in UTF-16."""
    ansi = user.encode("cp1252")
    head = bytes([len(ansi)]) + ansi
    head += b" " * (54 - len(head))
    return head + bytes([len(user), 0]) + user.encode("utf-16-le") + b"\x00" * 20


LOCKS = {
    "excel": (
        lambda p: p.with_name("~$" + p.name),
        _excel_owner_file("Émilie Martin"),
        "Excel, by Émilie Martin",
    ),
    "libreoffice": (
        lambda p: p.with_name(f".~lock.{p.name}#"),
        b"Jean Dupont,pc-sales-17,jdupont,08.12.2026 10:15,file:///home/jdupont/.config/libreoffice/4;",
        "LibreOffice, by Jean Dupont on pc-sales-17 since 08.12.2026 10:15",
    ),
}


@pytest.mark.parametrize("program", LOCKS)
def test_an_open_plan_is_refused_saying_who_holds_it(
    pair: tuple[Path, Path], tmp_path: Path, template: Template, program: str
) -> None:
    plan_path, copy_path = pair
    book = openpyxl.load_workbook(copy_path)
    _ws, grid, header = _actions(book, template)
    grid[1][_column(header, template, "comment")].value = "Client: fine"
    book.save(copy_path)
    lock_of, content, who = LOCKS[program]
    lock_of(plan_path).write_bytes(content)
    assert open_by(plan_path) == (lock_of(plan_path), who)
    original = plan_path.read_bytes()
    code, output = run("merge-back", plan_path, copy_path)
    assert code == 2 and who in output and lock_of(plan_path).name in output, output
    assert plan_path.read_bytes() == original
    old = tmp_path / V1.name
    shutil.copy2(V1, old)
    lock_of(old).write_bytes(content)
    code, output = run("upgrade", old)
    assert code == 1 and who in output, output
    assert old.read_bytes() == V1.read_bytes()
    lock_of(plan_path).unlink()
    assert run("merge-back", plan_path, copy_path)[0] == 0  # closed: merged


def _other_group() -> int | None:
    """A group the plan can be given that is not the one a new file gets (any group for root)."""
    groups = [g.gr_gid for g in grp.getgrall()] if os.geteuid() == 0 else os.getgroups()
    return next((g for g in groups if g != os.getegid()), None)


def test_merge_back_and_upgrade_keep_mode_and_group(
    pair: tuple[Path, Path], tmp_path: Path, template: Template
) -> None:
    plan_path, copy_path = pair
    old = tmp_path / V1.name
    shutil.copy2(V1, old)
    group = _other_group()
    for path in (plan_path, old):
        os.chmod(path, 0o660)
        if group is not None:
            os.chown(path, -1, group)
    expected = os.stat(plan_path).st_gid
    book = openpyxl.load_workbook(copy_path)
    _ws, grid, header = _actions(book, template)
    grid[1][_column(header, template, "comment")].value = "Client: fine"
    book.save(copy_path)
    previous = os.umask(0o022)
    try:
        assert run("merge-back", plan_path, copy_path)[0] == 0
        assert run("upgrade", old)[0] == 0
    finally:
        os.umask(previous)
    backups = [p for p in tmp_path.iterdir() if re.search(r"\.bak-", p.name)]
    assert len(backups) == 2
    for path in (plan_path, old, *backups):
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o660, path
        assert st.st_gid == expected, path
