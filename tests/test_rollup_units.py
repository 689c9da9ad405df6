"""Roll-up parts on their own: discovery, records, portfolio views, history, exports, languages."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from kamxl.findings import Finding
from kamxl.model import new_plan
from kamxl.rollup import default_output
from kamxl.rollup.discover import discover
from kamxl.rollup.export import csv_value, export_csv
from kamxl.rollup.history import load_snapshots, store_snapshot, tier_movements
from kamxl.rollup.portfolio import Portfolio, Problem
from kamxl.rollup.records import AccountRecord, record_from_plan
from kamxl.rollup.summary import Trends, write_summary

AS_OF = dt.date(2026, 11, 5)


def record(template, name: str, kam: str, *, seed_tier: str = "invest", **fields) -> AccountRecord:
    """A scored record of a small hand-made plan."""
    plan = new_plan(template, "en", client_name=name, kam=kam, **fields)
    rating = {"invest": 5, "maintain": 3, "deprioritise": 1}[seed_tier]
    for row in plan.tables["assessment"]:
        row["rating"] = rating
    plan.tables["opportunities"] = [
        {
            "name": f"{name} renewal",
            "type": "renewal",
            "amount": 100_000.0,
            "probability": 0.5,
            "stage": "proposal",
        },
        {"name": f"{name} won", "type": "upsell", "amount": 50_000.0, "probability": 1.0, "stage": "won"},
    ]
    plan.tables["actions"] = [
        {
            "action": "Late",
            "due": AS_OF - dt.timedelta(days=3),
            "status": "in_progress",
            "stakeholder": "Jo Bloggs",
        },
        {"action": "Soon", "due": AS_OF + dt.timedelta(days=10), "status": "not_started"},
        {"action": "Later", "due": AS_OF + dt.timedelta(days=60), "status": "not_started"},
        {"action": "Done", "due": AS_OF - dt.timedelta(days=30), "status": "done"},
    ]
    plan.tables["risks"] = [
        {"risk": "Churn", "probability": 4, "impact": 5, "status": "open"},
        {"risk": "Closed one", "probability": 5, "impact": 5, "status": "closed"},
    ]
    plan.tables["stakeholders"] = [
        {
            "name": "Jo Bloggs",
            "email": "jo@example.com",
            "level": "c_level",
            "stance": "champion",
            "engaged": "yes",
        }
    ]
    findings = [Finding("error", "Info", "B21", "Revenue is not a number")] if kam == "Bruno" else []
    if seed_tier == "invest":  # priority needs a relationship and a margin as well as attractiveness
        plan.fields["gross_margin"] = 0.35
        plan.tables["stakeholders"] += [
            {
                "name": f"{name} {lv}",
                "level": lv,
                "stance": "champion",
                "strength": "strong",
                "engaged": "yes",
                "engagement": 5,
                "influence": 5,
            }
            for lv in template.choices["level"]
        ]
    return record_from_plan(
        plan, template, file=f"{name}.xlsx", path=f"/share/plans/{name}.xlsx", as_of=AS_OF, findings=findings
    )


@pytest.fixture
def portfolio(template) -> Portfolio:
    accounts = [
        record(
            template,
            "Acme",
            "Alice",
            annual_revenue=1_000_000.0,
            revenue_target=1_200_000.0,
            last_review=AS_OF - dt.timedelta(days=10),
        ),
        record(
            template,
            "Beta",
            "Alice",
            seed_tier="maintain",
            annual_revenue=400_000.0,
            last_review=AS_OF - dt.timedelta(days=200),
        ),
        record(template, "Gamma", "Bruno", seed_tier="deprioritise"),
    ]
    return Portfolio(
        accounts, template, AS_OF, folder="/share/plans", skipped=[Problem("bad.xlsx", "the file is damaged")]
    )


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_discover_skips_locks_temporary_hidden_and_the_output(tmp_path):
    for name in (
        "a.xlsx",
        "b.XLSM",
        "~$a.xlsx",
        ".~lock.a.xlsx#",
        ".hidden.xlsx",
        "~tmp1.xlsx",
        ".kamxl-x.xlsx",
        "c.xls",
        "readme.txt",
        "summary.xlsx",
        "sub/d.xlsx",
        ".git/e.xlsx",
    ):
        touch(tmp_path / name)
    flat = discover(tmp_path, exclude=[tmp_path / "summary.xlsx"])
    assert [p.name for p in flat.files] == ["a.xlsx", "b.XLSM"]
    ignored = {p.name: reason for p, reason in flat.ignored}
    assert set(ignored) == {"~$a.xlsx", ".~lock.a.xlsx#", ".hidden.xlsx", "~tmp1.xlsx", ".kamxl-x.xlsx"}
    assert "lock" in ignored["~$a.xlsx"] and "lock" in ignored[".~lock.a.xlsx#"]
    assert [(p.name, "xls" in r) for p, r in flat.unsupported] == [("c.xls", True)]
    deep = discover(tmp_path, recursive=True, exclude=[tmp_path / "summary.xlsx"])
    assert [p.relative_to(tmp_path).as_posix() for p in deep.files] == ["a.xlsx", "b.XLSM", "sub/d.xlsx"]
    with pytest.raises(NotADirectoryError):
        discover(tmp_path / "missing")


def test_default_output_sits_beside_the_folder(tmp_path):
    assert default_output(tmp_path / "plans") == (tmp_path / "portfolio" / "portfolio-summary.xlsm").resolve()
    plain = default_output(tmp_path / "plans", macros=False)
    assert plain == (tmp_path / "portfolio" / "portfolio-summary.xlsx").resolve()


def test_records_keep_no_personal_data_unless_asked(template):
    rec = record(template, "Acme", "Alice")
    assert all("stakeholder" not in a for a in rec.actions)
    assert rec.contacts == []
    assert rec.figures["stakeholders"] == 1 + len(template.choices["level"]) and rec.figures["engaged"] >= 1
    assert "Jo Bloggs" not in repr(rec.as_dict())
    plan = new_plan(
        template, "en", client_name="X", main_contact="Ann Lee", main_contact_email="ann@x.example"
    )
    plan.tables["stakeholders"] = [{"name": "Jo Bloggs", "email": "jo@example.com"}]
    full = record_from_plan(plan, template, file="x.xlsx", as_of=AS_OF, include_contacts=True)
    assert {c["name"] for c in full.contacts} == {"Ann Lee", "Jo Bloggs"}


def test_portfolio_views(portfolio):
    totals = portfolio.totals()
    assert totals["accounts"] == 3 and totals["kams"] == 2
    assert totals["revenue"] == 1_400_000 and totals["weighted_pipeline"] == pytest.approx(150_000)
    assert totals["overdue_actions"] == 3 and totals["actions_due_30_days"] == 3
    assert totals["accounts_per_tier"]["invest"] == 1
    assert totals["stale_plans"] == 2  # one reviewed 200 days ago, one never
    actions = portfolio.actions_view().rows
    assert [a["action"] for a in actions] == ["Late"] * 3 + ["Soon"] * 3
    assert actions[0]["days"] == 3 and actions[-1]["days"] == -10
    risks = portfolio.risks_view().rows
    assert [r["risk"] for r in risks] == ["Churn"] * 3  # closed risks left out
    assert [a["account"] for a in portfolio.stale_view().rows] == ["Gamma", "Beta"]  # never reviewed first
    by_kam = {r["kam"]: r for r in portfolio.by_kam_view().rows}
    assert by_kam["Alice"]["accounts"] == 2 and by_kam["Alice"]["band"] == "Below 3"
    quality = portfolio.quality_view().rows
    assert [(q["file"], q["cell"]) for q in quality] == [("bad.xlsx", ""), ("Gamma.xlsx", "B21")]
    pipeline = portfolio.pipeline_view().rows
    assert pipeline[0]["weighted"] == 50_000 and pipeline[-1]["weighted"] == 0


def test_history_replaces_the_same_day(tmp_path, portfolio):
    db = tmp_path / "h.sqlite"
    totals = portfolio.totals()
    store_snapshot(db, dt.date(2026, 9, 1), totals, portfolio.accounts[:2])
    store_snapshot(db, AS_OF, totals | {"revenue": 1.0}, portfolio.accounts)
    store_snapshot(db, AS_OF, totals, portfolio.accounts)
    snaps = load_snapshots(db)
    assert [s.day for s in snaps] == [dt.date(2026, 9, 1), AS_OF]
    assert snaps[-1].totals["revenue"] == totals["revenue"]
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM account_snapshots").fetchone()[0] == 5
    previous, moves = tier_movements(db, AS_OF)
    assert previous == dt.date(2026, 9, 1)
    assert [(m.account, m.kind) for m in moves] == [("Gamma", "new")]
    assert tier_movements(db, dt.date(2026, 9, 1)) == (None, [])


def test_csv_values_are_iso_and_never_formulas():
    assert csv_value(dt.date(2026, 1, 2)) == "2026-01-02"
    assert csv_value("=SUM(A1)") == "'=SUM(A1)"
    assert csv_value("-5% discount") == "'-5% discount"
    assert csv_value(None) == "" and csv_value(2.0) == 2 and csv_value("ok") == "ok"


def test_export_writes_four_files(tmp_path, portfolio):
    paths = export_csv(portfolio, tmp_path / "bi")
    assert [p.name for p in paths] == ["accounts.csv", "opportunities.csv", "actions.csv", "risks.csv"]
    text = (tmp_path / "bi" / "actions.csv").read_text(encoding="utf-8")
    assert "Jo Bloggs" not in text and text.count("\n") == 1 + 12
    assert not list((tmp_path / "bi").glob(".kamxl-*"))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_summary_in_each_language(tmp_path, portfolio, lang):
    portfolio.lang = lang
    path = write_summary(portfolio, tmp_path / "s.xlsx", trends=Trends())
    wb = openpyxl.load_workbook(path)
    overview = "Overview" if lang == "en" else "Synthèse"
    assert wb.sheetnames[0] == overview
    assert wb["Chart data" if lang == "en" else "Données graphiques"].sheet_state == "hidden"
    tier = "Invest" if lang == "en" else "Investir"
    accounts = wb["Accounts" if lang == "en" else "Comptes"]
    assert tier in [c.value for c in accounts["D"]]
    assert not list(tmp_path.glob(".kamxl-*"))


def test_an_empty_folder_still_gives_a_summary(tmp_path, template):
    empty = Portfolio([], template, AS_OF, folder=str(tmp_path))
    path = write_summary(empty, tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    assert "Nothing to show." in wb["Accounts"]["A2"].value


def test_a_copied_plan_is_flagged(portfolio):
    template = portfolio.template
    copy = record_from_plan(
        new_plan(template, "en", client_name="Acme"), template, file="Acme (copy).xlsx", as_of=AS_OF
    )
    copy.account_id = portfolio.accounts[0].account_id
    portfolio.accounts.append(copy)
    rows = [r for r in portfolio.quality_view().rows if r["problem"] == "Duplicate plan"]
    assert len(rows) == 1
    files = {rows[0]["file"], rows[0]["message"].split(":")[0].removeprefix("Same account ID as ")}
    assert files == {"Acme.xlsx", "Acme (copy).xlsx"}


def test_a_figure_that_is_not_a_number_does_not_stop_the_summary(tmp_path, portfolio):
    """A NaN or infinite figure (from a source other than a file) plots as 0 and the summary is written."""
    portfolio.accounts[0].figures["revenue"] = float("nan")
    portfolio.accounts[-1].figures["probability"] = float("inf")
    points = [pt for pts in portfolio.matrix_points().values() for pt in pts]
    assert points and all(math.isfinite(pt[k]) for pt in points for k in ("x", "y", "size"))
    assert write_summary(portfolio, tmp_path / "s.xlsx").exists()


def test_accounts_sheet_says_why_each_tier(portfolio):
    view = portfolio.accounts_view()
    keys = [c.key for c in view.columns]
    assert (
        keys.index("tier_drivers") == keys.index("tier") + 1
        and keys.index("status") == keys.index("tier") + 2
    )
    assert {"gross_margin", "probability", "profitability"} <= set(keys)
    by_name = {r["account"]: r for r in view.rows}
    acme, gamma = by_name["Acme"], by_name["Gamma"]
    assert acme["tier"] == "invest" and acme["tier_drivers"].startswith("grow; weakest: ")
    assert acme["gross_margin"] == 0.35 and acme["profitability"] == 1.0
    assert acme["status"] == portfolio.status_label(portfolio.accounts[0].status)
    assert 0 < acme["probability"] <= 1
    assert gamma["tier"] == "unrated" and gamma["tier_drivers"].startswith("–; weakest: ")
