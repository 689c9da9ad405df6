"""Scores that reward good account work, as invariants on random plans (docs/scoring.md).

Each property edits one thing a good KAM does on a random plan and checks the scores never move
the wrong way; ``test_invariant_plans_recalculate_alike`` then writes plans built around these
edits and checks LibreOffice's live formulas agree with Python and keep the same invariants.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamxl.cell_values import cached_values
from kamxl.dashboard import defined_name
from kamxl.model import Plan, is_blank, new_plan
from kamxl.scoring import Scores, score_plan
from kamxl.writer import write_plan

from .plan_factory import random_plan, random_value

TODAY = dt.date.today()
RANK = {"unrated": -1, "deprioritise": 0, "maintain": 1, "invest": 2}
STATUS_RANK = {"at_risk": 0, "watch": 1, "incomplete": 2, "unrated": 2, "healthy": 3}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
plans = st.tuples(st.integers(0, 10_000), st.sampled_from([0.3, 0.7, 1.0]))


def _plan(template, seed_fullness: tuple[int, float]) -> Plan:
    seed, fullness = seed_fullness
    return random_plan(template, seed, fullness=fullness)


def _score(plan: Plan, template) -> Scores:
    return score_plan(plan, template, TODAY)


def _edited(plan: Plan, table: str, index: int, **values) -> Plan:
    out = copy.deepcopy(plan)
    out.tables[table][index] = {**out.tables[table][index], **values}
    return out


def _named(plan: Plan, template, table: str) -> list[int]:
    key = template.table(table).key_column
    return [i for i, r in enumerate(plan.tables.get(table, [])) if not is_blank(r.get(key))]


def _not_lower(after: Scores, before: Scores) -> None:
    assert after.priority >= before.priority - 1e-9
    if RANK[before.tier] >= 0 and RANK[after.tier] >= 0:
        assert RANK[after.tier] >= RANK[before.tier]


# -- winning -------------------------------------------------------------------------------------
@SETTINGS
@given(plans, st.integers(0, 50))
def test_winning_a_deal_never_lowers_the_priority(template, p, pick):
    plan = _plan(template, p)
    open_deals = [
        i
        for i in _named(plan, template, "opportunities")
        if plan.tables["opportunities"][i].get("stage") not in (None, "won", "lost")
    ]
    if not open_deals:
        return
    i = open_deals[pick % len(open_deals)]
    before = _score(plan, template)
    after = _score(_edited(plan, "opportunities", i, stage="won", expected_close=TODAY), template)
    _not_lower(after, before)
    assert after.figures.secured >= before.figures.secured


# -- people --------------------------------------------------------------------------------------
@SETTINGS
@given(plans, st.integers(0, 10_000))
def test_identifying_more_people_never_lowers_relationship_or_priority(template, p, seed):
    import random

    plan = _plan(template, p)
    rng = random.Random(seed)
    table = template.table("stakeholders")
    person = {c.key: random_value(rng, c, template, plan.lang) for c in table.input_columns}
    person["name"] = f"New person {seed}"
    more = copy.deepcopy(plan)
    more.tables["stakeholders"].append(person)
    before, after = _score(plan, template), _score(more, template)
    assert after.relationship >= before.relationship - 1e-9
    assert after.priority >= before.priority - 1e-9


@SETTINGS
@given(plans, st.integers(0, 50))
def test_hiding_people_never_raises_relationship_or_priority(template, p, pick):
    plan = _plan(template, p)
    named = _named(plan, template, "stakeholders")
    if not named:
        return
    i = named[pick % len(named)]
    fewer = copy.deepcopy(plan)
    del fewer.tables["stakeholders"][i]
    before, after = _score(plan, template), _score(fewer, template)
    assert after.relationship <= before.relationship + 1e-9
    assert after.priority <= before.priority + 1e-9


@SETTINGS
@given(plans, st.integers(0, 50))
def test_converting_a_detractor_into_a_champion_never_lowers_anything(template, p, pick):
    plan = _plan(template, p)
    named = _named(plan, template, "stakeholders")
    if not named:
        return
    i = named[pick % len(named)]
    detractor = _edited(plan, "stakeholders", i, stance="detractor")
    champion = _edited(plan, "stakeholders", i, stance="champion")
    d, c = _score(detractor, template), _score(champion, template)
    for score in ("potential", "relationship", "execution", "overall", "priority"):
        assert getattr(c, score) >= getattr(d, score) - 1e-9, score
    assert c.figures.probability >= d.figures.probability - 1e-12
    assert RANK[c.tier] >= RANK[d.tier]
    assert STATUS_RANK[c.status] >= STATUS_RANK[d.status]
    assert set(c.alerts) <= set(d.alerts)


@SETTINGS
@given(plans, st.integers(0, 50))
def test_a_strong_champion_is_worth_at_least_an_engaged_detractor(template, p, pick):
    plan = _plan(template, p)
    named = _named(plan, template, "stakeholders")
    if not named:
        return
    i = named[pick % len(named)]
    champion = _score(_edited(plan, "stakeholders", i, stance="champion", strength="strong"), template)
    detractor = _score(_edited(plan, "stakeholders", i, stance="detractor", engaged="yes"), template)
    assert champion.relationship >= detractor.relationship - 1e-9
    assert champion.priority >= detractor.priority - 1e-9


# -- money ---------------------------------------------------------------------------------------
@SETTINGS
@given(plans, st.integers(0, 50))
def test_moving_whitespace_into_the_pipeline_never_lowers_the_money_at_stake(template, p, pick):
    plan = _plan(template, p)
    rows = [
        i
        for i in _named(plan, template, "whitespace")
        if plan.tables["whitespace"][i].get("status") == "whitespace"
    ]
    if not rows:
        return
    i = rows[pick % len(rows)]
    before = _score(plan, template)
    after = _score(_edited(plan, "whitespace", i, status="pipeline"), template)
    assert after.figures.money_at_stake >= before.figures.money_at_stake


# -- blanks --------------------------------------------------------------------------------------
@SETTINGS
@given(plans, st.floats(-0.5, 1.0))
def test_a_blank_margin_never_scores_better_than_an_honest_one(template, p, margin):
    plan = _plan(template, p)
    blank, honest = copy.deepcopy(plan), copy.deepcopy(plan)
    blank.fields["gross_margin"] = None
    honest.fields["gross_margin"] = margin
    b, h = _score(blank, template), _score(honest, template)
    assert b.priority <= h.priority + 1e-9
    assert RANK[b.tier] <= RANK[h.tier]


@SETTINGS
@given(plans, st.integers(0, 50), st.sampled_from(["rating", "weight_kept"]))
def test_a_blank_criterion_never_scores_better_than_rating_one(template, p, pick, _):
    plan = _plan(template, p)
    named = _named(plan, template, "assessment")
    if not named:
        return
    i = named[pick % len(named)]
    blank = _score(_edited(plan, "assessment", i, rating=None), template)
    for rating in range(1, 6):
        honest = _score(_edited(plan, "assessment", i, rating=rating), template)
        assert blank.priority <= honest.priority + 1e-9
        assert blank.figures.attractiveness <= honest.figures.attractiveness + 1e-9


@SETTINGS
@given(plans, st.integers(0, 50))
def test_blank_stakeholder_ratings_never_score_better_than_the_lowest(template, p, pick):
    plan = _plan(template, p)
    named = _named(plan, template, "stakeholders")
    if not named:
        return
    i = named[pick % len(named)]
    for column in ("influence", "engagement"):
        blank = _score(_edited(plan, "stakeholders", i, **{column: None}), template)
        for rating in range(1, 6):
            honest = _score(_edited(plan, "stakeholders", i, **{column: rating}), template)
            assert blank.relationship <= honest.relationship + 1e-9, column
            assert blank.priority <= honest.priority + 1e-9, column


@SETTINGS
@given(plans, st.integers(0, 50), st.floats(0, 1))
def test_a_deal_without_stage_or_probability_never_beats_an_honest_one(template, p, pick, probability):
    plan = _plan(template, p)
    named = _named(plan, template, "opportunities")
    if not named:
        return
    i = named[pick % len(named)]
    no_stage = _score(_edited(plan, "opportunities", i, stage=None), template)
    for stage in template.choices["stage"]:
        honest = _score(_edited(plan, "opportunities", i, stage=stage), template)
        assert no_stage.priority <= honest.priority + 1e-9, stage
    no_probability = _score(_edited(plan, "opportunities", i, probability=None), template)
    honest = _score(_edited(plan, "opportunities", i, probability=probability), template)
    assert no_probability.priority <= honest.priority + 1e-9


@SETTINGS
@given(plans)
def test_a_plan_too_empty_to_judge_is_unrated_never_healthy(template, p):
    s = _score(_plan(template, p), template)
    if not s.figures.complete:
        assert s.tier == "unrated" and s.status != "healthy"
    else:
        assert s.status != "incomplete"


def test_one_champion_and_nothing_else_is_not_healthy(template):
    plan = new_plan(template, "en", client_name="Lonely")
    plan.tables["stakeholders"] = [
        {"name": "Ann", "stance": "champion", "strength": "strong", "engaged": "yes"}
    ]
    s = _score(plan, template)
    assert (s.tier, s.status) == ("unrated", "incomplete")


# -- large accounts at risk are defended -------------------------------------------------------------
def _case(template, *, revenue, whitespace, friendly, margin=0.31, lang="fr") -> Plan:
    """An industrial account rated 4 on attractiveness (5 when friendly), six people all hostile or
    all friendly, and one deal worth a quarter of the money at stake."""
    plan = new_plan(template, lang, client_name="Case", annual_revenue=revenue, gross_margin=margin)
    for row in plan.tables["assessment"]:
        row["rating"] = 5 if friendly else (4 if row["axis"] == "attractiveness" else 2)
    stance, engaged, strength = ("champion", "yes", "strong") if friendly else ("detractor", "no", "weak")
    plan.tables["stakeholders"] = [
        {
            "name": f"P{i}",
            "level": lv,
            "stance": stance,
            "engaged": engaged,
            "strength": strength,
            "influence": 5 if friendly else 4,
            "engagement": 5 if friendly else 1,
        }
        for i, lv in enumerate(["c_level", "director", "director", "manager", "manager", "user"])
    ]
    plan.tables["whitespace"] = [{"bu": "Usine", "status": "whitespace", "potential": whitespace}]
    deal = (revenue + whitespace) / 4
    plan.tables["opportunities"] = [
        {"name": "Deal", "amount": deal, "probability": 0.8, "stage": "negotiation"}
    ]
    return plan


def test_a_large_hostile_account_is_invest_to_defend(template):
    s = _score(_case(template, revenue=6_000_000, whitespace=3_000_000, friendly=False), template)
    assert s.figures.money_at_stake == 9_000_000
    assert s.figures.grow_priority < float(template.tiers["invest"]["min_priority"])
    assert (s.tier, s.tier_reason) == ("invest", "defend")


def test_a_small_friendly_account_is_not_invest(template):
    s = _score(_case(template, revenue=180_000, whitespace=0, friendly=True, margin=0.4), template)
    assert s.figures.grow_priority >= float(template.tiers["invest"]["min_priority"])  # friendly indeed
    assert s.tier == "maintain" and s.tier_reason == "grow"


def test_the_large_hostile_account_ranks_above_the_small_friendly_one(template):
    large = _score(_case(template, revenue=6_000_000, whitespace=3_000_000, friendly=False), template)
    small = _score(_case(template, revenue=180_000, whitespace=0, friendly=True, margin=0.4), template)
    assert RANK[large.tier] > RANK[small.tier]


# -- the same invariants in the live formulas ------------------------------------------------------
def _invariant_cases(template) -> list[tuple[str, Plan]]:
    base = random_plan(template, 7, lang="fr", fullness=1.0)
    base.fields |= {"annual_revenue": 900_000, "gross_margin": 0.25}
    deals = base.tables["opportunities"]
    deals[:2] = [
        {
            "name": "Renouvellement",
            "amount": 400_000,
            "probability": 0.6,
            "stage": "negotiation",
            "expected_close": TODAY,
        },
        {"name": "Extension", "amount": 150_000, "probability": 0.3, "stage": "proposal"},
    ]
    base.tables["whitespace"][:1] = [{"bu": "Usine Lyon", "status": "whitespace", "potential": 500_000}]
    people = base.tables["stakeholders"]
    people[:0] = [] if people else [{"name": "Premier contact", "title": "Directeur"}]  # any seed
    people[0] = {
        **people[0],
        "name": "Détracteur",
        "stance": "detractor",
        "engaged": "yes",
        "influence": None,
    }
    more = copy.deepcopy(base)
    more.tables["stakeholders"] += [{"name": f"Contact {i}", "engaged": "no"} for i in range(6)]
    blank_margin = copy.deepcopy(base)
    blank_margin.fields["gross_margin"] = None
    lonely = new_plan(template, "en", client_name="Lonely")
    lonely.tables["stakeholders"] = [
        {"name": "Ann", "stance": "champion", "strength": "strong", "engaged": "yes"}
    ]
    return [
        ("base", base),
        ("won", _edited(base, "opportunities", 0, stage="won")),
        ("more_people", more),
        ("champion", _edited(base, "stakeholders", 0, stance="champion", strength="strong")),
        ("whitespace_in_pipeline", _edited(base, "whitespace", 0, status="pipeline")),
        ("blank_margin", blank_margin),
        ("honest_low_margin", _edited_field(base, gross_margin=0.0)),
        ("large_hostile", _case(template, revenue=6_000_000, whitespace=3_000_000, friendly=False)),
        (
            "small_friendly",
            _case(template, revenue=180_000, whitespace=0, friendly=True, margin=0.4, lang="en"),
        ),
        ("lonely", lonely),
    ]


def _edited_field(plan: Plan, **fields) -> Plan:
    out = copy.deepcopy(plan)
    out.fields |= fields
    return out


def test_invariant_plans_recalculate_alike(template, lo_recalc, tmp_path):
    cases = _invariant_cases(template)
    paths = {name: write_plan(plan, tmp_path / f"{name}.xlsx", template=template) for name, plan in cases}
    results = lo_recalc(list(paths.values()))
    today = dt.date.today()
    live: dict[str, dict] = {}
    mismatches = []
    for name, plan in cases:
        names = results[str(Path(paths[name]))]["names"]
        live[name] = names
        for key, want in cached_values(score_plan(plan, template, today), template, plan.lang).items():
            got = names[defined_name(key)]
            if isinstance(want, str) or isinstance(got, str):
                same = str(got) == str(want)
            else:
                same = abs(float(got) - float(want)) <= 1e-6 * max(1.0, abs(float(want)))
            if not same:
                mismatches.append(f"{name} {defined_name(key)}: LibreOffice {got!r} != Python {want!r}")
    assert not mismatches, "\n".join(mismatches[:30])
    # The invariants, read from the recalculated workbooks.
    base = live["base"]
    assert live["won"]["Score_Priority"] >= base["Score_Priority"]
    assert live["won"]["Fig_Secured"] > base["Fig_Secured"]
    assert live["more_people"]["Score_Relationship"] >= base["Score_Relationship"]
    assert live["champion"]["Score_Relationship"] > base["Score_Relationship"]
    assert live["champion"]["Score_Priority"] >= base["Score_Priority"]
    assert live["whitespace_in_pipeline"]["Fig_Money_At_Stake"] >= base["Fig_Money_At_Stake"]
    assert live["blank_margin"]["Score_Priority"] <= live["honest_low_margin"]["Score_Priority"]
    fr, en = template.tiers, template.tiers
    assert live["large_hostile"]["Account_Tier"] == fr["invest"]["label"]["fr"]
    assert live["large_hostile"]["Tier_Reason"] == template.text("tier_reason_defend", "fr")
    assert live["small_friendly"]["Account_Tier"] == en["maintain"]["label"]["en"]
    assert live["lonely"]["Account_Tier"] == template.tier_label("unrated", "en")
    assert live["lonely"]["Account_Status"] == template.status["incomplete"]["label"]["en"]
