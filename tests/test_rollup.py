"""The portfolio roll-up end to end: real workbooks in, a summary workbook, history and CSVs out."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from kamxl.commands.check import command as check_command
from kamxl.commands.rollup import command as rollup_command
from kamxl.rollup import rollup
from kamxl.writer import write_plan

from .plan_factory import random_plan

AS_OF = dt.date(2026, 11, 5)
SECRET_NAMES = ("Zebulon Quargmire", "Ottilie Fennimore", "Casimir Wrexham")
SECRET_EMAILS = ("zq@secret.example", "of@secret.example", "main@secret.example")
BAD_FILES = {
    "notes.xlsx": "text",  # a text file named .xlsx
    "truncated.xlsx": "truncated",  # half of a real workbook
    "budget.xlsx": "other",  # a workbook not made by kamxl
    "old.xls": "text",  # an old format
}
IGNORED_FILES = ("~$Acme.xlsx", ".~lock.Acme.xlsx#", ".hidden.xlsx")


def _plan(template: Any, seed: int, name: str, kam: str, lang: str) -> Any:
    plan = random_plan(template, seed, lang=lang, fullness=1.0)
    plan.fields |= {
        "client_name": name,
        "kam": kam,
        "main_contact": SECRET_NAMES[2],
        "main_contact_email": SECRET_EMAILS[2],
        "last_review": AS_OF - dt.timedelta(days=20 * seed),
    }
    people = plan.rows("stakeholders", template)
    for i, row in enumerate(people[:2]):
        row |= {"name": SECRET_NAMES[i], "email": SECRET_EMAILS[i]}
    for row in plan.rows("actions", template):
        row["stakeholder"] = SECRET_NAMES[0]
    opportunities = plan.rows("opportunities", template)
    if opportunities:
        opportunities[0]["name"] = '=HYPERLINK("http://evil.example","x")'
    return plan


@pytest.fixture(scope="module")
def folder(template, tmp_path_factory) -> Path:
    """Four good plans (English and French), one in a sub-folder, and every kind of debris."""
    root = tmp_path_factory.mktemp("share")
    plans = root / "plans"
    (plans / "archive").mkdir(parents=True)
    specs = [
        (1, "Acme Industries", "Alice Martin", "en"),
        (2, "Béton Durand", "Bruno Petit", "fr"),
        (3, "=Cargo Lines", "Alice Martin", "en"),
        (4, "Delta Foods", "Chloé Dubois", "fr"),
    ]
    for seed, name, kam, lang in specs:
        write_plan(_plan(template, seed, name, kam, lang), plans / f"plan-{seed}.xlsx", template=template)
    write_plan(
        _plan(template, 5, "Echo Archive", "Bruno Petit", "en"),
        plans / "archive" / "plan-5.xlsx",
        template=template,
    )
    good = (plans / "plan-1.xlsx").read_bytes()
    (plans / "notes.xlsx").write_text("not a workbook", encoding="utf-8")
    (plans / "old.xls").write_text("not a workbook either", encoding="utf-8")
    (plans / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    book = xlsxwriter.Workbook(str(plans / "budget.xlsx"))
    book.add_worksheet("Budget").write_string(0, 0, "2026 budget")
    book.close()
    for name in IGNORED_FILES:
        (plans / name).write_bytes(b"lock")
    return plans


@pytest.fixture(scope="module")
def rolled(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = rollup(folder, output=out / "summary.xlsx", jobs=2, as_of=AS_OF, export=out / "csv")
    return result, openpyxl.load_workbook(result.output)


def table_rows(ws: Any, name: str) -> list[dict[str, Any]]:
    """Rows of an Excel table as dicts by header, without its total row."""
    table = ws.tables[name]
    cells = ws[table.ref]
    headers = [c.value for c in cells[0]]
    body = cells[1 : len(cells) - (table.totalsRowCount or 0)]
    rows = [dict(zip(headers, (c.value for c in row), strict=True)) for row in body]
    return [r for r in rows if any(v not in (None, "") for v in r.values())]


def check_json(paths: list[Path]) -> list[dict[str, Any]]:
    result = CliRunner().invoke(check_command, ["--json", "--as-of", AS_OF.isoformat(), *map(str, paths)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["results"]


def test_totals_equal_the_sums_of_check_json(rolled, folder):
    result, wb = rolled
    reports = check_json(sorted(folder.glob("plan-*.xlsx")))
    assert len(reports) == 4

    def total(key: str) -> float:
        return sum(r["figures"][key] or 0 for r in reports)

    totals = result.as_json()["totals"]
    for key in (
        "weighted_pipeline",
        "revenue",
        "target",
        "whitespace",
        "open_pipeline",
        "overdue_actions",
        "high_risks",
    ):
        assert totals[key] == pytest.approx(total(key), abs=0.01), key
    tiers = {code: sum(1 for r in reports if r["tier"] == code) for code in totals["accounts_per_tier"]}
    assert totals["accounts_per_tier"] == tiers
    # The workbook's Accounts table says the same, row by row and in its total row.
    accounts = wb["Accounts"]
    rows = table_rows(accounts, "Accounts")
    by_name = {r["account"]: r for r in reports}
    for row in rows:
        report = by_name[row["Account"]]
        assert row["Weighted pipeline"] == pytest.approx(report["figures"]["weighted_pipeline"])
        assert row["Overall"] == pytest.approx(report["scores"]["overall"])
        assert (
            row["Tier"]
            == {
                "invest": "Invest",
                "maintain": "Maintain",
                "deprioritise": "De-prioritise",
                "unrated": "Not rated",
            }[report["tier"]]
        )
    # The total row is a formula with its value stored, for readers that do not recalculate.
    table = accounts.tables["Accounts"]
    last_row = accounts[table.ref][-1]
    formulas = {accounts.cell(4, c.column).value: c.value for c in last_row}
    assert formulas["Weighted pipeline"] == "=SUBTOTAL(109,Accounts[Weighted pipeline])"
    cached = CalamineWorkbook.from_path(str(result.output)).get_sheet_by_name("Accounts").to_python()
    header, total_row = cached[3], cached[last_row[0].row - 1]
    stored = dict(zip(header, total_row, strict=True))
    assert stored["Weighted pipeline"] == pytest.approx(total("weighted_pipeline"), abs=0.01)
    assert stored["Revenue"] == pytest.approx(total("revenue"), abs=0.01)
    assert stored["Overdue actions"] == total("overdue_actions")


def test_accounts_table_has_one_row_per_readable_plan(rolled):
    result, wb = rolled
    rows = table_rows(wb["Accounts"], "Accounts")
    assert len(rows) == len(result.accounts) == 4
    assert {r["Account"] for r in rows} == {"Acme Industries", "Béton Durand", "=Cargo Lines", "Delta Foods"}
    assert result.as_json()["accounts"] == 4


def test_every_other_file_has_a_data_quality_row(rolled):
    result, wb = rolled
    rows = table_rows(wb["Data quality"], "DataQuality")
    by_file: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_file.setdefault(row["File"], []).append(row)
    for name in (*BAD_FILES, *IGNORED_FILES):
        assert name in by_file, f"{name} has no Data quality row"
    assert {f["file"] for f in result.skipped} == set(BAD_FILES)
    assert {f["file"] for f in result.ignored} == set(IGNORED_FILES)
    assert by_file["~$Acme.xlsx"][0]["Problem"] == "Ignored"
    assert "zip" in by_file["truncated.xlsx"][0]["Message"]
    assert "kamxl" in by_file["budget.xlsx"][0]["Message"]
    # Error findings of readable plans are listed with their sheet and cell.
    for account in result.accounts:
        for finding in account.errors:
            assert any(
                r["Sheet"] == finding["sheet"] and r["Cell"] == finding["cell"] for r in by_file[account.file]
            )


def test_recursive_reads_sub_folders(folder, tmp_path):
    flat = rollup(folder, output=tmp_path / "a.xlsx", jobs=1, as_of=AS_OF, history=False)
    deep = rollup(folder, output=tmp_path / "b.xlsx", jobs=2, as_of=AS_OF, history=False, recursive=True)
    assert "archive/plan-5.xlsx" not in {a.file for a in flat.accounts}
    assert "archive/plan-5.xlsx" in {a.file for a in deep.accounts}


def test_contacts_reach_the_summary_only_on_request(folder, tmp_path):
    def texts(path: Path) -> str:
        wb = openpyxl.load_workbook(path)
        return "\n".join(
            str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
        )

    def csv_texts(folder: Path) -> str:
        return "\n".join(p.read_text(encoding="utf-8") for p in folder.glob("*.csv"))

    private = rollup(
        folder,
        output=tmp_path / "private.xlsx",
        jobs=2,
        as_of=AS_OF,
        history=False,
        export=tmp_path / "private",
    )
    shared = texts(private.output) + csv_texts(tmp_path / "private")
    for secret in (*SECRET_NAMES, *SECRET_EMAILS):
        assert secret not in shared
    assert "Contacts" not in openpyxl.load_workbook(private.output).sheetnames

    full = rollup(
        folder, output=tmp_path / "full.xlsx", jobs=2, as_of=AS_OF, history=False, include_contacts=True
    )
    everything = texts(full.output)
    for secret in (*SECRET_NAMES, *SECRET_EMAILS):
        assert secret in everything
    rows = table_rows(openpyxl.load_workbook(full.output)["Contacts"], "Contacts")
    assert {r["Name"] for r in rows} >= set(SECRET_NAMES)


def test_workbook_text_is_never_a_formula(rolled):
    _, wb = rolled
    accounts = wb["Accounts"]
    cells = [c for row in accounts.iter_rows(min_row=5) for c in row if c.value == "=Cargo Lines"]
    assert cells and all(c.data_type == "s" for c in cells)
    pipeline = wb["Pipeline"]
    evil = [c for row in pipeline.iter_rows(min_row=5) for c in row if str(c.value).startswith("=HYPERLINK")]
    assert evil and all(c.data_type == "s" for c in evil)


def test_overview_names_the_source_folder_and_links_open_the_plans(rolled, folder):
    result, wb = rolled
    name = wb.defined_names["Source_Folder"]
    sheet, ref = next(iter(name.destinations))
    assert sheet == "Overview"
    assert wb[sheet][ref.replace("$", "")].value == str(folder.resolve())
    accounts = wb["Accounts"]
    links = [c.hyperlink.target for row in accounts.iter_rows(min_row=5) for c in row if c.hyperlink]
    assert len(links) == 4
    for target in links:
        assert (result.output.parent / target.replace("\\", "/")).resolve().is_file()
    with zipfile.ZipFile(result.output) as archive:
        assert b"portfolio-summary" in archive.read("docProps/custom.xml")


def test_history_keeps_one_snapshot_per_day(folder, tmp_path):
    out, db = tmp_path / "summary.xlsx", tmp_path / "history.sqlite"
    days = (dt.date(2026, 8, 1), AS_OF, AS_OF)
    for day in days:
        result = rollup(folder, output=out, jobs=1, as_of=day, history=db)
    assert result.history == db
    with sqlite3.connect(db) as con:
        assert [d for (d,) in con.execute("SELECT day FROM snapshots ORDER BY day")] == [
            "2026-08-01",
            "2026-11-05",
        ]
        assert (
            con.execute("SELECT COUNT(*) FROM account_snapshots WHERE day = '2026-11-05'").fetchone()[0] == 4
        )
    wb = openpyxl.load_workbook(out)
    trends = table_rows(wb["Trends"], "Snapshots")
    assert [r["Snapshot"].date() for r in trends] == [dt.date(2026, 8, 1), AS_OF]
    assert all(r["Accounts"] == 4 for r in trends)
    texts = [c.value for row in wb["Trends"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "Tier movements since 2026-08-01" in texts


def test_tier_movements_since_the_previous_snapshot(folder, tmp_path, template):
    work = tmp_path / "plans"
    shutil.copytree(folder, work, ignore=shutil.ignore_patterns("archive"))
    db = tmp_path / "h.sqlite"
    rollup(work, output=tmp_path / "s.xlsx", jobs=1, as_of=dt.date(2026, 10, 1), history=db)
    (work / "plan-4.xlsx").unlink()
    plan = _plan(template, 6, "Foxtrot Energy", "Chloé Dubois", "en")
    write_plan(plan, work / "plan-6.xlsx", template=template)
    rollup(work, output=tmp_path / "s.xlsx", jobs=1, as_of=AS_OF, history=db)
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    moves = {r["Account"]: r["Movement"] for r in table_rows(wb["Trends"], "TierMovements")}
    assert moves["Foxtrot Energy"] == "New"
    assert moves["Delta Foods"] == "No longer rolled up"


def test_exports_are_utf8_csv_with_iso_dates(rolled):
    result, _ = rolled
    folder = result.exports[0].parent
    assert sorted(p.name for p in result.exports) == [
        "accounts.csv",
        "actions.csv",
        "opportunities.csv",
        "risks.csv",
    ]
    with (folder / "accounts.csv").open(encoding="utf-8-sig", newline="") as fh:
        accounts = list(csv.DictReader(fh))
    assert {a["account"] for a in accounts} >= {"Béton Durand", "'=Cargo Lines"}
    assert all(dt.date.fromisoformat(a["last_review"]) for a in accounts if a["last_review"])
    with (folder / "opportunities.csv").open(encoding="utf-8-sig", newline="") as fh:
        opportunities = list(csv.DictReader(fh))
    assert len(opportunities) == sum(len(a.opportunities) for a in result.accounts)
    assert sum(float(o["weighted"] or 0) for o in opportunities) == pytest.approx(
        result.totals["weighted_pipeline"]
    )
    header = (folder / "actions.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert "stakeholder" not in header and "due" in header


def test_one_unexpected_failure_does_not_stop_the_run(folder, tmp_path, monkeypatch):
    from kamxl.rollup import collect

    real = collect.read_plan

    def flaky(path: Any, **kwargs: Any) -> Any:
        if Path(path).name == "plan-2.xlsx":
            raise RuntimeError("disk hiccup")
        return real(path, **kwargs)

    monkeypatch.setattr(collect, "read_plan", flaky)
    result = rollup(folder, output=tmp_path / "s.xlsx", jobs=1, as_of=AS_OF, history=False)
    assert len(result.accounts) == 3
    reason = next(s["reason"] for s in result.skipped if s["file"] == "plan-2.xlsx")
    assert "RuntimeError: disk hiccup" in reason


def test_cli_closing_line_and_json(folder, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli.xlsx"
    plain = runner.invoke(
        rollup_command, [str(folder), "-o", str(out), "--jobs", "2", "--as-of", "2026-11-05"]
    )
    assert plain.exit_code == 1, plain.output  # done, but files were skipped
    assert plain.stdout.strip().splitlines()[-1] == f"4 accounts read, 4 files skipped: {out.resolve()}"
    assert "Reading workbooks" not in plain.output  # not a terminal: no progress bar
    quiet = runner.invoke(rollup_command, [str(folder), "-o", str(out), "--quiet", "--no-history"])
    assert quiet.exit_code == 1 and quiet.stderr == ""
    as_json = runner.invoke(rollup_command, [str(folder), "-o", str(out), "--json", "--jobs", "1"])
    assert as_json.exit_code == 1, as_json.output
    data = json.loads(as_json.stdout)
    assert data["output"] == str(out.resolve()) and data["accounts"] == 4
    assert {s["file"] for s in data["skipped"]} == set(BAD_FILES)
    for key in ("weighted_pipeline", "revenue", "target", "overdue_actions", "accounts_per_tier"):
        assert key in data["totals"]
    assert set(data["totals"]["accounts_per_tier"]) == {"invest", "maintain", "deprioritise", "unrated"}
    bad = runner.invoke(rollup_command, [str(folder), "-o", str(tmp_path / "x.csv")])
    assert bad.exit_code != 0 and "x.csv" in bad.output


@pytest.mark.libreoffice
def test_libreoffice_opens_the_summary_without_formula_errors(rolled, folder, lo_recalc):
    result, _ = rolled
    report = lo_recalc([result.output])[str(result.output)]
    assert not report.get("errors"), report.get("errors")
    assert report["names"]["Source_Folder"] == str(folder.resolve())


def test_demo_names_never_leak_through_free_text(template, tmp_path):
    """KAMs write names into next steps and comments: those are redacted unless contacts are asked for."""
    import kamxl
    import kamxl.rollup
    from kamxl.demo import demo_plans
    from kamxl.rollup.records import contact_names

    plans = demo_plans(template, seed=7, count=4, today=AS_OF)
    folder = tmp_path / "plans"
    folder.mkdir()
    for i, plan in enumerate(plans):
        write_plan(plan, folder / f"demo-{i}.xlsx", template=template)
    names = set().union(*(contact_names(p, template) for p in plans))
    assert len(names) > 10
    result = kamxl.rollup(
        folder, output=tmp_path / "s.xlsx", jobs=2, as_of=AS_OF, history=False, export=tmp_path / "csv"
    )
    wb = openpyxl.load_workbook(result.output)
    text = "\n".join(
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    )
    text += "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "csv").glob("*.csv"))
    assert [n for n in names if n.casefold() in text.casefold()] == []


def test_an_earlier_summary_in_the_folder_is_ignored(folder, tmp_path):
    work = tmp_path / "plans"
    shutil.copytree(folder, work, ignore=shutil.ignore_patterns("archive"))
    rollup(work, output=work / "old-summary.xlsx", jobs=1, as_of=AS_OF, history=False)
    result = rollup(work, output=tmp_path / "new.xlsx", jobs=1, as_of=AS_OF, history=False)
    assert {"file": "old-summary.xlsx", "reason": "a kamxl portfolio summary"} in result.ignored
    assert "old-summary.xlsx" not in {s["file"] for s in result.skipped}
