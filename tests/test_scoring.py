"""The scoring engine on the worked example of docs/scoring.md, and its edge cases."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamxl.model import new_plan
from kamxl.scoring import kpi_attainment, n0, score_plan, tier_for, weighted_product

from .plan_factory import random_plan

TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def example(template):
    plan = new_plan(
        template,
        "en",
        client_name="Example",
        gross_margin=0.28,
        annual_revenue=800_000,
        last_review=dt.date(2026, 5, 1),
    )
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
            "influence": 5 if i == 0 else 3,
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
        [5, 4, 4, 2, 3],
        strict=True,
    ):
        row["rating"] = rating
    plan.tables["opportunities"] = [
        {"name": "O1", "amount": 300_000, "probability": 0.5, "stage": "proposal"},
        {"name": "O2", "amount": 100_000, "probability": 0.3, "stage": "qualification"},
        {"name": "O3", "amount": 999_000, "probability": 1.0, "stage": "lost"},
    ]
    return plan


def test_worked_example(template, example):
    s = score_plan(example, template, TODAY)
    f = s.figures
    assert (f.stakeholders, f.engaged, f.propagation) == (6, 4, 2)
    assert f.coverage == pytest.approx(4 / 6) and f.depth == 0.75 and f.sponsor == 1
    assert f.engagement == pytest.approx(0.625)
    assert s.relationship == pytest.approx(76.25, abs=0.05)
    assert (f.actions, f.actions_done, f.overdue_actions, f.actions_due) == (9, 5, 2, 7)
    assert f.completion == pytest.approx(5 / 7)  # the two actions due next week do not count yet
    assert f.kpi_attainment == pytest.approx((3 * 0.9 + 2 * 1 + 1 * 0.5) / 6)
    assert s.execution == pytest.approx(79.11, abs=0.005)
    assert f.attractiveness == pytest.approx(75.0)
    assert f.money_at_stake == 800_000 and f.money_score == 0.6
    assert s.potential == pytest.approx(0.6 * 75 + 0.4 * 60)
    assert s.overall == pytest.approx(0.35 * s.potential + 0.30 * s.relationship + 0.35 * s.execution)
    assert f.weighted_pipeline == 180_000 and f.open_pipeline == 400_000
    assert f.material_pipeline == 180_000 and f.pipeline_score == pytest.approx(0.9)
    base = (0.5 * 0.7625 + 0.2 * 0) / 0.7
    assert f.probability == pytest.approx(base * (0.7 + 0.3 * 0.9))
    assert f.profitability == pytest.approx(0.8)
    assert s.priority == pytest.approx(100 * 0.69**0.4 * f.probability**0.35 * 0.8**0.25)
    assert s.priority == pytest.approx(65.21, abs=0.005)
    assert s.tier == "invest"
    assert f.days_since_review == 31


def test_empty_plan_is_unrated_with_zero_scores(template):
    s = score_plan(new_plan(template, "fr", client_name="Vide"), template, TODAY)
    assert (s.potential, s.relationship, s.execution, s.overall, s.priority) == (0, 0, 0, 0, 0)
    assert s.tier == "unrated" and s.figures.profitability == 0  # a blank margin assumes the worst
    assert s.figures.completion == 0 and s.figures.sponsor == 0


def test_sponsor_score_weighs_strength_and_influence(template):
    plan = new_plan(template, "en", client_name="S")
    row = {"name": "A", "stance": "ally", "role": "sponsor", "strength": "good", "influence": 4}
    plan.tables["stakeholders"] = [row]
    assert score_plan(plan, template, TODAY).figures.sponsor == pytest.approx(0.5 * 0.8)
    row |= {"strength": "strong", "influence": None}  # a blank influence weighs as influence 1
    assert score_plan(plan, template, TODAY).figures.sponsor == pytest.approx(0.2)
    row |= {"stance": "detractor"}  # a sponsor who works against us backs nobody
    assert score_plan(plan, template, TODAY).figures.sponsor == 0


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
    invest, maintain = (float(template.tiers[k]["min_priority"]) for k in ("invest", "maintain"))
    assert tier_for(invest, True, template.tiers) == "invest"
    assert tier_for(invest - 0.1, True, template.tiers) == "maintain"
    assert tier_for(maintain - 0.1, True, template.tiers) == "deprioritise"
    assert tier_for(99, False, template.tiers) == "unrated"


# -- the cases the weighted priority was built for ----------------------------------------------
def _account(template, *, rating, relationship, deals=(), revenue=600_000, margin=0.35):
    """Attractiveness all at ``rating``, stakeholders hostile or friendly, some open deals."""
    plan = new_plan(template, "en", client_name="Case", annual_revenue=revenue, gross_margin=margin)
    for row in plan.tables["assessment"]:
        row["rating"] = rating if row["axis"] == "attractiveness" else 3
    stance, engaged, strength = (
        ("detractor", "no", "weak") if relationship == "hostile" else ("champion", "yes", "strong")
    )
    plan.tables["stakeholders"] = [
        {
            "name": f"P{i}",
            "level": lv,
            "stance": stance,
            "engaged": engaged,
            "strength": strength,
            "engagement": 2,
        }
        for i, lv in enumerate(["c_level", "director", "manager"])
    ]
    plan.tables["opportunities"] = [
        {"name": f"D{i}", "amount": amount, "probability": p, "stage": "proposal"}
        for i, (amount, p) in enumerate(deals)
    ]
    return score_plan(plan, template, TODAY)


def test_one_deal_does_not_override_a_hostile_relationship(template):
    bare = _account(template, rating=5, relationship="hostile")
    with_deal = _account(template, rating=5, relationship="hostile", deals=[(100_000, 0.6)])
    assert bare.priority > 0  # attractiveness and our position still count
    assert with_deal.priority - bare.priority < 10
    assert bare.tier == with_deal.tier != "invest"


def test_low_attractiveness_is_not_invest_on_one_likely_deal(template):
    s = _account(template, rating=2, relationship="friendly", deals=[(50_000, 0.9)])
    assert s.tier != "invest"


def test_attractive_friendly_account_with_pipeline_is_invest(template):
    s = _account(template, rating=5, relationship="friendly", deals=[(200_000, 0.6), (150_000, 0.5)])
    assert s.tier == "invest"


def test_profitability_is_counted_once(template):
    """No attractiveness criterion rates profitability: margin alone carries it."""
    names = [c["name"]["en"].lower() for c in template.catalogue["assessment"]]
    assert not any("profitab" in n or "margin" in n for n in names)
    rich = _account(template, rating=4, relationship="friendly", margin=0.35)
    poor = _account(template, rating=4, relationship="friendly", margin=0.07)
    assert rich.potential == poor.potential and rich.figures.probability == poor.figures.probability
    assert poor.priority == pytest.approx(rich.priority * 0.2**0.25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    fraction=st.floats(0, 0.999),
    probability=st.floats(0, 1),
    remove=st.booleans(),
)
def test_one_small_deal_never_moves_the_tier(template, seed, fraction, probability, remove):
    """Adding or removing one deal below the material share of the money at stake keeps the tier."""
    plan = random_plan(template, seed, fullness=0.7)
    before = score_plan(plan, template, TODAY)
    floor = float(template.scoring["material_deal_share"]) * before.figures.money_at_stake
    deals = plan.tables["opportunities"]
    small = [i for i, d in enumerate(deals) if 0 <= (n0(d.get("amount"))) < floor]
    if remove and small:
        changed = deals[: small[0]] + deals[small[0] + 1 :]
    else:
        changed = [*deals, {"name": "Small deal", "amount": fraction * floor, "probability": probability}]
    plan.tables["opportunities"] = changed
    after = score_plan(plan, template, TODAY)
    assert after.tier == before.tier
    assert after.priority == pytest.approx(before.priority)


@settings(max_examples=100, deadline=None)
@given(
    a=st.tuples(st.floats(0, 100), st.floats(0, 1)),
    b=st.tuples(st.floats(0, 100), st.floats(0, 1)),
    profitability=st.floats(0, 1),
)
def test_portfolio_matrix_place_is_consistent_with_tier(template, a, b, profitability):
    """The matrix plots potential against probability: an account up and right of another
    (same profitability) never has a lower priority tier."""
    weights = template.scoring["priority"]
    rank = {"deprioritise": 0, "maintain": 1, "invest": 2}

    def tier(potential: float, probability: float) -> str:
        priority = 100 * weighted_product(
            {"potential": potential / 100, "probability": probability, "profitability": profitability},
            weights,
        )
        return tier_for(priority, True, template.tiers)

    (pa, qa), (pb, qb) = a, b
    if pa >= pb and qa >= qb:
        assert rank[tier(pa, qa)] >= rank[tier(pb, qb)]
