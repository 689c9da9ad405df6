"""The scoring engine on the worked example of docs/scoring.md, and its edge cases."""

from __future__ import annotations

import datetime as dt

import pytest

from kamxl.model import new_plan
from kamxl.scoring import kpi_attainment, score_plan, tier_for

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def example(template):
    plan = new_plan(template, "en", client_name="Example", gross_margin=0.28, last_review=dt.date(2026, 5, 1))
    levels = ["c_level", "director", "director", "manager", "user", "user"]
    engaged = ["yes", "yes", "yes", "yes", "no", "no"]
    ratings = [5, 4, 3, 3, 3, 3]
    plan.tables["stakeholders"] = [
        {
            "name": f"P{i}",
            "level": lv,
            "engaged": e,
            "engagement": r,
            "bu": "Ops" if i % 2 else "IT",
            "stance": "champion" if i == 0 else "neutral",
            "strength": "strong" if i == 0 else "good",
        }
        for i, (lv, e, r) in enumerate(zip(levels, engaged, ratings, strict=True))
    ]
    statuses = ["done"] * 5 + ["cancelled"] + ["in_progress"] * 4
    dues = (
        [TODAY - dt.timedelta(days=5)] * 6
        + [TODAY - dt.timedelta(days=1)] * 2
        + [TODAY + dt.timedelta(days=9)] * 2
    )
    plan.tables["actions"] = [
        {"action": f"A{i}", "status": s, "due": d}
        for i, (s, d) in enumerate(zip(statuses, dues, strict=True))
    ]
    for row in plan.tables["kpis"]:
        row["active"] = "no"
    plan.tables["kpis"][:3] = [
        {"kpi": "K1", "active": "yes", "weight": 3, "target": 100, "direction": "higher", "q1": 50, "q2": 90},
        {"kpi": "K2", "active": "yes", "weight": 2, "target": 100, "direction": "higher", "q1": 110},
        {"kpi": "K3", "active": "yes", "weight": 1, "target": 10, "direction": "lower", "q3": 20},
    ]
    for row, rating in zip(
        [r for r in plan.tables["assessment"] if r["axis"] == "attractiveness"],
        [5, 3, 4, 4, 2, 3],
        strict=True,
    ):
        row["rating"] = rating
    plan.tables["opportunities"] = [
        {"name": "O1", "amount": 300_000, "probability": 0.5, "stage": "proposal"},
        {"name": "O2", "amount": 100_000, "probability": 0.3, "stage": "qualification"},
        {"name": "O3", "amount": 999_000, "probability": 1.0, "stage": "won"},
    ]
    return plan


def test_worked_example(template, example):
    s = score_plan(example, template, TODAY)
    f = s.figures
    assert (f.stakeholders, f.engaged, f.propagation) == (6, 4, 2)
    assert f.coverage == pytest.approx(4 / 6) and f.depth == 0.75 and f.sponsor == 1
    assert f.engagement == pytest.approx(0.625)
    assert s.relationship == pytest.approx(76.25, abs=0.05)
    assert (f.actions, f.actions_done, f.overdue_actions) == (9, 5, 2)
    assert f.kpi_attainment == pytest.approx((3 * 0.9 + 2 * 1 + 1 * 0.5) / 6)
    assert s.execution == pytest.approx(73.6, abs=0.05)
    assert s.potential == pytest.approx(70.0)
    assert s.overall == pytest.approx(0.35 * 70 + 0.30 * s.relationship + 0.35 * s.execution)
    assert f.weighted_pipeline == 180_000 and f.open_pipeline == 400_000
    assert f.win_probability == pytest.approx(0.45) and f.profitability == pytest.approx(0.8)
    assert s.priority == pytest.approx(100 * (0.7 * 0.45 * 0.8) ** (1 / 3))
    assert s.tier == "invest"
    assert f.days_since_review == 31


def test_empty_plan_is_unrated_with_zero_scores(template):
    s = score_plan(new_plan(template, "fr", client_name="Vide"), template, TODAY)
    assert (s.potential, s.relationship, s.execution, s.overall, s.priority) == (0, 0, 0, 0, 0)
    assert s.tier == "unrated" and s.figures.profitability == 0.5


@pytest.mark.parametrize(
    ("row", "latest", "expected"),
    [
        ({"target": 100, "direction": "higher"}, 80, 0.8),
        ({"target": 10, "direction": "lower"}, 20, 0.5),
        ({"target": 10, "direction": "lower"}, 0, 1.0),
        ({"target": 0, "direction": "higher"}, 5, None),
        ({"target": None, "direction": "higher"}, 5, None),
        ({"target": 5, "direction": "higher"}, None, None),
    ],
)
def test_kpi_attainment(row, latest, expected):
    assert kpi_attainment(row, latest) == expected


def test_tiers_follow_thresholds(template):
    assert tier_for(55, True, template.tiers) == "invest"
    assert tier_for(54.9, True, template.tiers) == "maintain"
    assert tier_for(34.9, True, template.tiers) == "deprioritise"
    assert tier_for(99, False, template.tiers) == "unrated"
