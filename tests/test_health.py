"""The health check: each rule, its severity, and the cell it points at."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from kamxl.health import check_plan
from kamxl.layout import a1, field_cell, table_anchor
from kamxl.model import Plan, new_plan
from kamxl.reader import read_plan
from kamxl.scoring import score_plan
from kamxl.template import Template
from kamxl.writer import write_plan

TODAY = dt.date(2026, 11, 25)


def healthy(template: Template, lang: str = "en") -> Plan:
    """A plan with nothing to report as of TODAY."""
    plan = new_plan(template, lang, catalogue_targets=True, client_name="Acme", kam="Jo")
    plan.fields |= {
        "last_review": TODAY - dt.timedelta(days=10),
        "next_review": TODAY + dt.timedelta(days=60),
        "annual_revenue": 800_000,
        "gross_margin": 0.3,
    }
    for row in plan.tables["assessment"]:
        row["rating"] = 4
    plan.tables["objectives"] = [
        {"objective": "Grow", "metric": "Revenue", "target": 1e6, "deadline": TODAY, "owner": "Jo"}
    ]
    plan.tables["stakeholders"] = [
        {
            "name": "Ann",
            "role": "decision_maker",
            "level": "c_level",
            "stance": "champion",
            "strength": "strong",
            "influence": 5,
            "last_contact": TODAY - dt.timedelta(days=5),
        },
        {"name": "Bob", "role": "user", "level": "manager", "stance": "neutral", "strength": "weak"},
        {"name": "Cleo", "role": "user", "level": "user", "stance": "neutral", "strength": "good"},
    ]
    plan.tables["actions"] = [
        {
            "action": "Call",
            "objective": "Grow",
            "owner": "Jo",
            "due": TODAY + dt.timedelta(days=3),
            "status": "in_progress",
        },
        {"action": "Old", "owner": "Jo", "due": TODAY - dt.timedelta(days=30), "status": "done"},
    ]
    for i, row in enumerate(plan.tables["kpis"]):
        row["q1"] = 10 + i
    plan.tables["risks"] = [
        {"risk": "Churn", "probability": 5, "impact": 4, "mitigation": "QBR", "status": "open"}
    ]
    plan.tables["opportunities"] = [
        {"name": "Deal", "stage": "proposal", "expected_close": TODAY + dt.timedelta(days=30)},
        {"name": "Old deal", "stage": "won", "expected_close": TODAY - dt.timedelta(days=30)},
    ]
    return plan


def cell(template: Template, table: str, row: int, column: str) -> str:
    anchor = table_anchor(template, table)
    keys = [c.key for c in template.table(table).columns]
    return a1(anchor.data_row(row), anchor.first_col + keys.index(column))


def only(findings, **match):
    found = [f for f in findings if all(getattr(f, k) == v for k, v in match.items())]
    assert len(found) == 1, (match, findings)
    return found[0]


def test_a_healthy_plan_has_no_findings(template) -> None:
    assert check_plan(healthy(template), template, as_of=TODAY) == []


def test_objective_missing_smart_parts(template) -> None:
    plan = healthy(template)
    plan.tables["objectives"].append({"objective": "Expand", "metric": "BUs", "owner": "Jo"})
    plan.tables["actions"].append({"action": "Map BUs", "objective": "Expand", "owner": "Jo", "due": TODAY})
    f = only(check_plan(plan, template, as_of=TODAY), sheet="Objectives")
    assert f.severity == "warning"
    assert f.cell == cell(template, "objectives", 1, "target")
    assert f.message == 'Objective "Expand" is not SMART: no target and deadline'


def test_stakeholder_without_role_stance_or_strength(template) -> None:
    plan = healthy(template)
    plan.tables["stakeholders"].append({"name": "Cy", "role": "buyer"})
    f = only(check_plan(plan, template, as_of=TODAY), sheet="Stakeholders")
    assert (f.severity, f.cell) == ("warning", cell(template, "stakeholders", 3, "stance"))
    assert f.message == 'Stakeholder "Cy" has no stance and relationship'


def test_no_champion_and_no_senior_contact(template) -> None:
    plan = healthy(template)
    plan.tables["stakeholders"] = [plan.tables["stakeholders"][1]]
    findings = check_plan(plan, template, as_of=TODAY)
    anchor = table_anchor(template, "stakeholders")
    keys = [c.key for c in template.table("stakeholders").columns]
    champion = only(findings, message="No champion among the stakeholders: nobody at the client backs us")
    senior = only(findings, message="No C-level or decision-maker contact")
    assert champion.cell == a1(anchor.header_row, anchor.first_col + keys.index("stance"))
    assert senior.cell == a1(anchor.header_row, anchor.first_col + keys.index("level"))
    assert {champion.severity, senior.severity} == {"warning"}


def test_no_stakeholders_at_all(template) -> None:
    plan = healthy(template)
    plan.tables["stakeholders"] = []
    findings = check_plan(plan, template, as_of=TODAY)
    (f,) = [f for f in findings if f.sheet == "Stakeholders"]
    assert (f.severity, f.sheet) == ("warning", "Stakeholders") and "No stakeholders" in f.message
    # Without people the plan is too empty to judge: the tier is not rated, and the check says why.
    (empty,) = [f for f in findings if f.sheet != "Stakeholders"]
    assert "list at least 3 stakeholders" in empty.message


def test_actions_without_owner_due_date_and_overdue(template) -> None:
    plan = healthy(template)
    plan.tables["actions"] += [
        {"action": "Nobody", "status": "not_started"},
        {"action": "Late", "owner": "Jo", "due": TODAY - dt.timedelta(days=5), "status": "blocked"},
        {"action": "Dropped", "owner": "Jo", "due": TODAY - dt.timedelta(days=5), "status": "cancelled"},
    ]
    findings = check_plan(plan, template, as_of=TODAY)
    missing = only(findings, cell=cell(template, "actions", 2, "owner"))
    assert missing.message == 'Action "Nobody" has no owner and due'
    late = only(findings, cell=cell(template, "actions", 3, "due"))
    assert (late.severity, late.message) == (
        "warning",
        f'Action "Late" is overdue (due {TODAY - dt.timedelta(days=5)}, 5 days ago)',
    )
    assert len(findings) == 2


def test_kpis_without_target_or_value(template) -> None:
    plan = healthy(template)
    active = [i for i, r in enumerate(plan.tables["kpis"]) if r["active"] == "yes"]
    plan.tables["kpis"][active[0]]["target"] = None
    plan.tables["kpis"][active[1]]["q1"] = None
    plan.tables["kpis"][0]["q1"] = None  # inactive: not checked
    findings = check_plan(plan, template, as_of=TODAY)
    assert len(findings) == 2
    target = only(findings, cell=cell(template, "kpis", active[0], "target"))
    assert "has no target" in target.message
    value = only(findings, cell=cell(template, "kpis", active[1], "q1"))
    assert "no value in any period" in value.message


@pytest.mark.parametrize(
    ("last", "next_", "expected"),
    [
        (None, None, [("warning", "last_review", "No last review date")]),
        (TODAY - dt.timedelta(days=91), None, [("error", "last_review", "Plan not reviewed for 91 days")]),
        (
            TODAY - dt.timedelta(days=90),
            TODAY - dt.timedelta(days=1),
            [("warning", "next_review", "is past")],
        ),
    ],
)
def test_review_dates(template, last, next_, expected) -> None:
    plan = healthy(template)
    plan.fields |= {"last_review": last, "next_review": next_}
    findings = check_plan(plan, template, as_of=TODAY)
    assert [(f.severity, f.cell) for f in findings] == [
        (s, field_cell(template, k)[1]) for s, k, _ in expected
    ]
    assert all(text in f.message for f, (_, _, text) in zip(findings, expected, strict=True))
    assert all(f.sheet == "Info" for f in findings)


def test_high_risk_without_mitigation(template) -> None:
    plan = healthy(template)
    plan.tables["risks"] += [
        {"risk": "Price war", "probability": 3, "impact": 5, "status": "open"},
        {"risk": "Small", "probability": 2, "impact": 5, "status": "open"},
        {"risk": "Gone", "probability": 5, "impact": 5, "status": "closed"},
    ]
    (f,) = check_plan(plan, template, as_of=TODAY)
    assert (f.severity, f.sheet, f.cell) == ("error", "Risks", cell(template, "risks", 1, "mitigation"))
    assert f.message == 'High risk "Price war" (score 15/25) has no mitigation'


def test_opportunity_past_close_while_open(template) -> None:
    plan = healthy(template)
    plan.tables["opportunities"].append(
        {"name": "Stuck", "stage": "negotiation", "expected_close": TODAY - dt.timedelta(days=1)}
    )
    (f,) = check_plan(plan, template, as_of=TODAY)
    assert (f.severity, f.cell) == ("warning", cell(template, "opportunities", 2, "expected_close"))
    assert "Stuck" in f.message and "still open" in f.message


def test_french_messages_and_sheet_titles(template) -> None:
    plan = healthy(template, "fr")
    plan.fields["last_review"] = None
    plan.tables["risks"][0]["mitigation"] = None
    findings = check_plan(plan, template, as_of=TODAY)
    assert [f.sheet for f in findings] == ["Infos", "Risques"]
    assert findings[0].message == "Date de dernière revue non renseignée"
    assert findings[1].message == "Risque élevé « Churn » (score 20/25) sans plan de mitigation"


def test_rows_without_key_are_not_checked(template) -> None:
    plan = healthy(template)
    plan.tables["actions"].insert(0, {"owner": None, "due": TODAY - dt.timedelta(days=9)})
    findings = check_plan(plan, template, as_of=TODAY)
    assert findings == []


def test_findings_point_at_rows_where_the_reader_found_them(template, tmp_path) -> None:
    """A KAM blanked a row in the middle: the late action is one row further down than its index."""
    plan = healthy(template)
    plan.tables["actions"] = [
        {
            "action": "First",
            "objective": "Grow",
            "owner": "Jo",
            "due": TODAY + dt.timedelta(days=3),
            "status": "in_progress",
        },
        {"action": "Blank me", "owner": "Jo", "due": TODAY + dt.timedelta(days=3)},
        {"action": "Late", "owner": "Jo", "due": TODAY - dt.timedelta(days=2), "status": "in_progress"},
    ]
    path = write_plan(plan, tmp_path / "p.xlsx", template=template)
    book = openpyxl.load_workbook(path)
    anchor = table_anchor(template, "actions")
    for c in range(1, 9):
        book["Action plan"].cell(anchor.data_row(1), c).value = None
    book.save(path)
    result = read_plan(path, template=template)
    scores = score_plan(result.plan, template, TODAY)
    (late,) = check_plan(result.plan, template, scores, TODAY, locations=result.locations)
    assert late.cell == cell(template, "actions", 2, "due")
    assert "Late" in late.message


def test_gaps_are_listed_as_a_sentence(template) -> None:
    plan = healthy(template, "fr")
    plan.tables["objectives"] = [{"objective": "Grow"}]
    plan.tables["stakeholders"][0] |= {"role": None, "stance": None, "strength": None}
    findings = check_plan(plan, template, as_of=TODAY)
    smart = only(findings, sheet="Objectifs")
    assert (
        smart.message
        == "Objectif « Grow » pas SMART, à compléter : indicateur, cible, échéance et responsable"
    )
    plan.lang = "en"
    messages = {f.message for f in check_plan(plan, template, as_of=TODAY)}
    assert 'Objective "Grow" is not SMART: no metric, target, deadline and owner' in messages
    assert 'Stakeholder "Ann" has no buying role, stance and relationship' in messages


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", f'Action "Late" is overdue (due {TODAY - dt.timedelta(days=1)}, 1 day ago)'),
        (
            "fr",
            f"Action « Late » en retard (échéance {TODAY - dt.timedelta(days=1):%d/%m/%Y}, il y a 1 jour)",
        ),
    ],
)
def test_overdue_by_one_day(template, lang, expected) -> None:
    plan = healthy(template, lang)
    plan.tables["actions"] = [
        {"action": "Late", "objective": "Grow", "owner": "Jo", "due": TODAY - dt.timedelta(days=1)}
    ]
    (f,) = check_plan(plan, template, as_of=TODAY)
    assert f.message == expected
