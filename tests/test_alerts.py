"""Alert rules and the account status: each rule fires on its data, points at its cell, and the
live Dashboard formulas give the same flags, status and reasons (LibreOffice)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import json
from pathlib import Path

import openpyxl
import pytest

from kamxl.alerts import plan_alerts, status_for
from kamxl.dashboard import defined_name
from kamxl.layout import a1, field_cell, table_anchor
from kamxl.model import Plan, new_plan
from kamxl.report import check_workbook
from kamxl.rollup import rollup
from kamxl.scoring import score_plan
from kamxl.template import Template
from kamxl.writer import cached_values, write_plan

TODAY = dt.date.today()
DAY = dt.timedelta(days=1)


def calm(template: Template, lang: str = "en") -> Plan:
    """A plan that fires no alert today."""
    plan = new_plan(template, lang, catalogue_targets=True, client_name="Calm", kam="Jo")
    plan.fields |= {"nrr": 1.1, "nps": 40, "last_review": TODAY - 10 * DAY, "annual_revenue": 900_000}
    plan.tables["stakeholders"] = [
        {
            "name": "Ann",
            "title": "CEO",
            "role": "decision_maker",
            "level": "c_level",
            "stance": "champion",
            "strength": "strong",
            "influence": 5,
            "last_contact": TODAY - 3 * DAY,
        },
        {"name": "Bob", "role": "user", "stance": "detractor", "last_contact": TODAY - 300 * DAY},
        {"name": "Cleo", "role": "user", "stance": "ally"},  # three people: complete enough to judge
    ]
    for row in plan.tables["assessment"]:
        row["rating"] = 4
    plan.tables["rituals"] = [{"ritual": "qbr", "frequency": "quarterly", "next_due": TODAY + 20 * DAY}]
    plan.tables["actions"] = [
        {"action": "Late", "owner": "Jo", "due": TODAY - 2 * DAY, "status": "in_progress"}
    ]
    plan.tables["risks"] = [
        {
            "risk": "Churn",
            "category": "churn_signal",
            "probability": 5,
            "impact": 4,
            "mitigation": "Exec visit",
        }
    ]
    for row in plan.tables["kpis"]:
        row["q1"] = row["target"]
    return plan


def cell(template: Template, table: str, row: int, column: str) -> str:
    anchor = table_anchor(template, table)
    keys = [c.key for c in template.table(table).columns]
    return a1(anchor.data_row(row), anchor.first_col + keys.index(column))


def alerts_of(plan: Plan, template: Template):
    return plan_alerts(plan, template, score_plan(plan, template, TODAY), TODAY)


def test_a_calm_plan_is_healthy(template):
    plan = calm(template)
    assert alerts_of(plan, template) == []
    assert score_plan(plan, template, TODAY).status == "healthy"


def _fire(plan: Plan, code: str) -> None:
    t = plan.tables
    if code == "churn_risk":
        t["risks"][0]["mitigation"] = None
    elif code == "nrr_low":
        plan.fields["nrr"] = 0.8
    elif code == "detractor_decider":
        t["stakeholders"][1] |= {"role": "budget_holder", "last_contact": TODAY - DAY}
    elif code == "nps_low":
        plan.fields["nps"] = -3
    elif code == "no_sponsor":
        t["stakeholders"][0]["stance"] = "ally"
    elif code == "no_contact":
        t["stakeholders"][0]["last_contact"] = TODAY - 46 * DAY
    elif code == "rituals_overdue":
        t["rituals"][0]["next_due"] = TODAY - DAY
    elif code == "plan_stale":
        plan.fields["last_review"] = TODAY - 91 * DAY
    elif code == "kpi_low":
        for row in t["kpis"]:
            row["q1"] = row["target"] * 0.5 if isinstance(row["target"], (int, float)) else None
    elif code == "overdue_actions":
        t["actions"].append({"action": "Later", "owner": "Jo", "due": TODAY - 9 * DAY, "status": "blocked"})


EXPECTED = {
    # code: (severity, table or field, row, column, English message)
    "churn_risk": (
        "high",
        "risks",
        0,
        "mitigation",
        'Churn signal "Churn" scores 20/25 and has no mitigation',
    ),
    "nrr_low": ("high", None, None, "nrr", "NRR is 80%, below 90%"),
    "detractor_decider": (
        "high",
        "stakeholders",
        1,
        "stance",
        "1 detractor(s) among decision makers and budget holders",
    ),
    "nps_low": ("medium", None, None, "nps", "NPS is -3, below 0"),
    "no_sponsor": ("medium", "stakeholders", None, "stance", "No champion or sponsor at the client"),
    "no_contact": (
        "medium",
        "stakeholders",
        0,
        "last_contact",
        "1 key stakeholder(s) without contact for over 45 days "
        f"(oldest contact {(TODAY - 46 * DAY).isoformat()})",
    ),
    "rituals_overdue": (
        "medium",
        "rituals",
        0,
        "next_due",
        f"1 governance ritual(s) overdue (first due {(TODAY - DAY).isoformat()})",
    ),
    "plan_stale": ("medium", None, None, "last_review", "Plan last reviewed 91 days ago (limit 90)"),
    "kpi_low": ("medium", "kpis", None, "attainment", "KPI attainment is 50%, below 60%"),
    "overdue_actions": (
        "medium",
        "actions",
        1,
        "due",
        f"2 actions overdue (oldest due {(TODAY - 9 * DAY).isoformat()})",
    ),
}


@pytest.mark.parametrize("code", list(EXPECTED))
def test_each_rule_fires_alone_and_points_at_its_cell(template, code):
    plan = calm(template)
    _fire(plan, code)
    (alert,) = alerts_of(plan, template)
    severity, table, row, column, message = EXPECTED[code]
    assert (alert.code, alert.severity, alert.message) == (code, severity, message)
    if table is None:
        titles, where = field_cell(template, column)
        assert (alert.sheet, alert.cell) == (titles["en"], where)
    elif row is None:
        anchor = table_anchor(template, table)
        keys = [c.key for c in template.table(table).columns]
        assert alert.cell == a1(anchor.header_row, anchor.first_col + keys.index(column))
    else:
        assert alert.cell == cell(template, table, row, column)
    assert score_plan(plan, template, TODAY).status == ("at_risk" if severity == "high" else "watch")


def test_thresholds_come_from_the_template(template):
    plan = calm(template)
    plan.fields["nrr"] = 0.85
    assert [a.code for a in alerts_of(plan, template)] == ["nrr_low"]
    lenient = dataclasses.replace(template, alerts={**template.alerts})
    lenient.alerts["nrr_low"] = {**template.alerts["nrr_low"], "below": 0.8}
    assert alerts_of(plan, lenient) == []


def empty(template: Template, lang: str = "en", **fields) -> Plan:
    """A new plan: no stakeholders, no actions, no rated criteria (fields as given)."""
    plan = new_plan(template, lang, client_name="New Co")
    plan.fields |= fields
    return plan


def test_an_empty_plan_is_unrated_until_something_is_entered(template):
    """No alert and status "unrated" while nothing is entered, even with a low NRR typed in; the
    first stakeholder, action, rating or open opportunity rates the plan (as the Dashboard's grey
    tiles)."""
    plan = empty(template, nrr=0.8)
    scores = score_plan(plan, template, TODAY)
    assert (scores.status, scores.alerts, alerts_of(plan, template)) == ("unrated", (), [])
    assert template.status["rated_once"] == ["stakeholders", "actions", "rated", "open_pipeline"]
    with_contact = empty(template)
    with_contact.tables["stakeholders"] = [{"name": "Bob", "role": "user", "stance": "neutral"}]
    assert score_plan(with_contact, template, TODAY).alerts == ("no_sponsor",)
    with_action = empty(template, nrr=0.8)
    with_action.tables["actions"] = [{"action": "Call", "owner": "Jo", "due": TODAY + DAY}]
    assert score_plan(with_action, template, TODAY).alerts == ("nrr_low", "no_sponsor")
    rated = empty(template)
    rated.tables["assessment"][0]["rating"] = 4
    assert score_plan(rated, template, TODAY).status != "unrated"
    deal = empty(template)
    deal.tables["opportunities"] = [{"name": "Renewal", "amount": 50_000, "probability": 0.5}]
    assert score_plan(deal, template, TODAY).alerts == ("no_sponsor",)
    won = empty(template)
    won.tables["opportunities"] = [{"name": "Renewal", "amount": 50_000, "stage": "won"}]
    assert score_plan(won, template, TODAY).status == "unrated"  # no open pipeline yet


def test_check_json_of_an_empty_plan(template, tmp_path):
    path = write_plan(empty(template), tmp_path / "new.xlsx", template=template)
    report = json.loads(json.dumps(check_workbook(path, as_of=TODAY)))
    assert (report["status"], report["alerts"]) == ("unrated", [])
    assert report["status_label"] == "Not rated yet"


def test_status_counts_medium_alerts(template):
    assert status_for([], template) == "healthy"
    assert status_for([], template, rated=False) == "unrated"
    assert status_for(["nps_low"], template) == "watch"
    assert status_for(["nps_low", "plan_stale"], template) == "watch"
    assert status_for(["nps_low", "plan_stale", "kpi_low"], template) == "at_risk"  # at_risk_medium = 3
    assert status_for(["nrr_low"], template) == "at_risk"


def test_french_alerts(template):
    plan = calm(template, "fr")
    _fire(plan, "nrr_low")
    (alert,) = alerts_of(plan, template)
    assert alert.message == "Le NRR est de 80\u202f%, sous 90\u202f%" and alert.sheet == "Infos"


def test_check_json_gives_status_and_alerts(template, tmp_path):
    plan = calm(template)
    for code in ("churn_risk", "nrr_low", "nps_low"):
        _fire(plan, code)
    path = write_plan(plan, tmp_path / "risky.xlsx", template=template)
    report = json.loads(json.dumps(check_workbook(path, as_of=TODAY)))
    assert report["status"] == "at_risk"
    assert [a["code"] for a in report["alerts"]] == ["churn_risk", "nrr_low", "nps_low"]
    first = report["alerts"][0]
    assert set(first) == {"code", "severity", "message", "sheet", "cell"}
    assert (first["sheet"], first["cell"]) == ("Risks", cell(template, "risks", 0, "mitigation"))


def test_dashboard_status_and_flags_match_libreoffice(template, lo_recalc, tmp_path):
    """Every rule firing, none firing, and mixes, in both languages: live formulas = Python."""
    cases: list[tuple[Plan, Path]] = []
    for i, codes in enumerate(
        [(), tuple(EXPECTED), ("nps_low", "plan_stale"), ("no_contact", "kpi_low", "no_sponsor")]
    ):
        for lang in ("en", "fr"):
            plan = calm(template, lang)
            for code in codes:
                _fire(plan, code)
            cases.append((plan, write_plan(plan, tmp_path / f"case{i}{lang}.xlsx", template=template)))
    for lang in ("en", "fr"):  # unrated: nothing entered, a low NRR typed in does not fire yet
        plan = empty(template, lang, nrr=0.8)
        cases.append((plan, write_plan(plan, tmp_path / f"empty{lang}.xlsx", template=template)))
        deal = empty(template, lang)  # one open opportunity: rated, and no sponsor yet
        deal.tables["opportunities"] = [{"name": "Renewal", "amount": 50_000, "probability": 0.5}]
        cases.append((deal, write_plan(deal, tmp_path / f"deal{lang}.xlsx", template=template)))
    results = lo_recalc([p for _, p in cases])
    statuses = set()
    for plan, path in cases:
        names = results[str(path)]["names"]
        scores = score_plan(plan, template, TODAY)
        statuses.add(scores.status)
        expected = cached_values(scores, template, plan.lang)
        for key in [k for k in expected if k.startswith("alert_")] + ["status", "status_reasons"]:
            assert names[defined_name(key)] == expected[key], (path.name, key)
    assert statuses == {"healthy", "watch", "at_risk", "unrated"}


def test_a_new_plan_in_the_portfolio_is_counted_as_not_rated(template, tmp_path):
    """The summary's Overview shows a grey "Not rated yet" tile and the director's draft a count
    line only when some plan is empty."""
    folder = tmp_path / "plans"
    folder.mkdir()
    write_plan(calm(template), folder / "calm.xlsx", template=template)
    write_plan(empty(template, kam="Jo"), folder / "new.xlsx", template=template)
    result = rollup(folder, output=tmp_path / "s.xlsx", history=False, digest=tmp_path / "d", as_of=TODAY)
    assert sorted(r.status for r in result.accounts) == ["healthy", "unrated"]
    ws = openpyxl.load_workbook(result.output)["Overview"]
    (tile,) = [c for row in ws.iter_rows() for c in row if c.value == "Not rated yet"]
    assert ws.cell(tile.row + 1, tile.column).value == 1
    drafts = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in (tmp_path / "d").glob("*.eml")
    ]
    bodies = [m.get_body(("plain",)).get_content() for m in drafts]
    assert any("Not rated yet: 1" in b and "Healthy: 1" in b for b in bodies)
