"""Findings about the tier: blanks that feed it, a plan too empty to judge, inconsistent figures."""

from __future__ import annotations

import datetime as dt

from kamxl.health import check_plan
from kamxl.layout import field_cell

from .test_health import TODAY, cell, healthy


def messages(plan, template) -> list[str]:
    return [f.message for f in check_plan(plan, template, as_of=TODAY)]


def test_a_blank_margin_is_a_finding_at_its_cell(template):
    plan = healthy(template)
    plan.fields["gross_margin"] = None
    (f,) = check_plan(plan, template, as_of=TODAY)
    assert f.message == "Gross margin missing: the priority assumes the worst (0 %)"
    assert (f.sheet, f.cell) == ("Info", field_cell(template, "gross_margin")[1])


def test_blank_ratings_and_stages_are_findings(template):
    plan = healthy(template, "fr")
    plan.tables["assessment"][0]["rating"] = None
    plan.tables["stakeholders"][0]["influence"] = None  # Ann is a champion
    plan.tables["opportunities"][0]["stage"] = None
    found = check_plan(plan, template, as_of=TODAY)
    name = plan.tables["assessment"][0]["criterion"]
    by_cell = {f.cell: f.message for f in found}
    assert by_cell[cell(template, "assessment", 0, "rating")] == (
        f"Critère « {name} » non évalué : la priorité le compte à 1/5"
    )
    assert "sans note d'influence" in by_cell[cell(template, "stakeholders", 0, "influence")]
    assert "sans étape" in by_cell[cell(template, "opportunities", 0, "stage")]
    assert len(found) == 3


def test_a_plan_too_empty_to_judge_says_what_is_missing(template):
    plan = healthy(template)
    plan.tables["stakeholders"] = plan.tables["stakeholders"][:1]
    plan.fields["annual_revenue"] = None
    (f,) = [f for f in check_plan(plan, template, as_of=TODAY) if "too empty" in f.message]
    assert f.message == (
        "Plan too empty to judge (tier not rated): list at least 3 stakeholders; "
        "state the revenue of the last 12 months"
    )


def test_a_deal_far_larger_than_the_money_at_stake_is_questioned(template):
    plan = healthy(template)
    plan.fields["annual_revenue"] = 300_000
    plan.tables["opportunities"][0] |= {"amount": 5_000_000, "probability": 0.5}
    (f,) = check_plan(plan, template, as_of=TODAY)
    assert f.cell == cell(template, "opportunities", 0, "amount")
    assert f.message == (
        'Opportunity "Deal" (€5,000,000) is over 3 times the money at stake (€300,000): '
        "check the amount or the revenue"
    )
    plan.tables["opportunities"][0]["amount"] = 800_000  # under 3 x 300 k€: no question
    assert check_plan(plan, template, as_of=TODAY) == []


def test_a_stage_that_contradicts_its_probability(template):
    plan = healthy(template)
    plan.tables["opportunities"][0] |= {"stage": "prospecting", "probability": 0.9}
    (f,) = check_plan(plan, template, as_of=TODAY)
    assert f.cell == cell(template, "opportunities", 0, "probability")
    assert f.message == 'Opportunity "Deal": stage Prospecting with a 90% probability (expected 0% to 30%)'
    plan.tables["opportunities"][0]["probability"] = 0.2
    assert check_plan(plan, template, as_of=TODAY) == []


def test_engaged_but_rated_one(template):
    plan = healthy(template)
    plan.tables["stakeholders"][1] |= {"engaged": "yes", "engagement": 1}
    (f,) = check_plan(plan, template, as_of=TODAY)
    assert (f.cell, f.message) == (
        cell(template, "stakeholders", 1, "engagement"),
        '"Bob" is marked engaged but rated 1/5 for engagement',
    )


def test_an_objective_without_actions(template):
    plan = healthy(template)
    plan.tables["actions"][0]["objective"] = "Something else"
    (f,) = check_plan(plan, template, as_of=TODAY)
    assert (f.cell, f.message) == (
        cell(template, "objectives", 0, "objective"),
        'Objective "Grow" has no action linked to it',
    )
    plan.tables["actions"][0] |= {"objective": " grow ", "due": TODAY + dt.timedelta(days=1)}
    assert check_plan(plan, template, as_of=TODAY) == []
