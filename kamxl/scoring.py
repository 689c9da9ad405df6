"""Scores and figures of an account plan: pure functions, no I/O.

Every number here also exists as a Dashboard formula (see ``kamxl.dashboard``); tests
recalculate workbooks in LibreOffice and check both agree. docs/scoring.md explains them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from .model import Plan, Row, is_blank
from .template import Template


def num(value: Any) -> float | None:
    """A number, or None for anything else (Excel's N() treats text and blanks as 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def n0(value: Any) -> float:
    return num(value) or 0.0


def ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def weighted_mean(values: Mapping[str, float], weights: Mapping[str, Any]) -> float:
    total = sum(float(weights[k]) for k in values)
    return ratio(sum(float(weights[k]) * v for k, v in values.items()), total)


def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


@dataclass(frozen=True)
class Figures:
    """The figures behind the scores, each on the scale its docs give."""

    stakeholders: int
    engaged: int  # engaged contacts: champions, and people marked engaged who are not detractors
    coverage: float  # 0-1: engaged contacts against the key people a plan should map
    depth: float  # 0-1: share of hierarchy levels with an engaged contact
    sponsor: float  # best champion or sponsor: strength (1 strong, 0.5 other) x influence weight
    engagement: float  # 0-1: engagement points (rating - 1) / 4 against the key people
    avg_engagement: float | None
    propagation: int  # distinct BUs among the stakeholders
    actions: int  # not cancelled
    actions_done: int
    overdue_actions: int
    actions_due: int  # done, or not done and due by today: what completion counts
    completion: float
    timeliness: float
    kpi_attainment: float  # 0-1 weighted over active KPIs
    kpis_active: int
    weighted_pipeline: float
    open_pipeline: float
    money_at_stake: float  # our revenue + potential still to win (whitespace and in pipeline)
    money_score: float  # 0-1: the money-at-stake band
    secured: float  # won deals of the last won_window_days: secured revenue
    material_pipeline: float  # secured + weighted open pipeline, deals of at least the material share
    pipeline_score: float  # 0-1: material pipeline against its coverage target
    probability: float  # 0-1: relationship, position and pipeline together
    attractiveness: float  # 0-100
    position: float  # 0-100
    rated: int  # attractiveness criteria rated
    complete: int  # 1 when the plan holds enough to be judged (scoring.complete), else 0
    profitability: float  # 0-1
    grow_priority: float  # 0-100: potential x probability x profitability
    defend_priority: float  # 0-100: the floor the revenue to defend gives
    whitespace: float
    open_potential: float  # potential of whitespace rows still to win: whitespace or in pipeline
    current_revenue: float
    offer_coverage: float
    penetration: float
    risk_exposure: float
    high_risks: int
    revenue: float | None
    target: float | None
    nrr: float | None
    nps: float | None
    gross_margin: float | None
    last_review: dt.date | None
    next_review: dt.date | None
    days_since_review: int | None


@dataclass(frozen=True)
class Scores:
    potential: float
    relationship: float
    execution: float
    overall: float
    priority: float
    tier: str
    figures: Figures
    tier_reason: str = ""  # grow or defend (empty while unrated)
    status: str = "healthy"  # healthy, incomplete, watch, at_risk or unrated (kamxl.alerts)
    alerts: tuple[str, ...] = ()  # codes of the alert rules that fire, in the template's order

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _named(plan: Plan, template: Template, table: str) -> list[Row]:
    return plan.rows(table, template)


def is_engaged(row: Row) -> bool:
    """An engaged contact: a champion, or someone marked engaged who is not a detractor."""
    stance = row.get("stance")
    return stance == "champion" or (row.get("engaged") == "yes" and stance != "detractor")


def is_backer(row: Row) -> bool:
    """A champion, or someone in the sponsor role who is not a detractor."""
    stance = row.get("stance")
    return stance == "champion" or (row.get("role") == "sponsor" and stance != "detractor")


def influence_weight(value: Any, cfg: Mapping[str, Any]) -> float:
    """The template's weight for an influence rating 1-5 (whole numbers only); a blank or any
    other value weighs as the lowest rating, so leaving it blank never scores better."""
    rating = num(value)
    weights = [float(w) for w in cfg["influence_weights"]]
    if rating is not None and rating in (1, 2, 3, 4, 5):
        return weights[int(rating) - 1]
    return min(weights)


def sponsor_strength(row: Row, cfg: Mapping[str, Any]) -> float:
    return (1.0 if row.get("strength") == "strong" else 0.5) * influence_weight(row.get("influence"), cfg)


def relationship_figures(
    rows: Iterable[Row], levels: Iterable[str], cfg: Mapping[str, Any]
) -> dict[str, Any]:
    """Coverage and engagement count against the key people a plan should map (``key_people``),
    not against everyone listed: naming one more person never lowers them, hiding one never
    raises them."""
    rows = list(rows)
    engaged = [r for r in rows if is_engaged(r)]
    levels = list(levels)
    reached = {r.get("level") for r in engaged}
    sponsor = max((sponsor_strength(r, cfg) for r in rows if is_backer(r)), default=0.0)
    ratings = [v for r in rows if (v := num(r.get("engagement"))) is not None and 1 <= v <= 5]
    avg = sum(ratings) / len(ratings) if ratings else None
    bus = {str(r["bu"]).lower() for r in rows if not is_blank(r.get("bu"))}
    key_people = float(cfg["key_people"])
    return {
        "stakeholders": len(rows),
        "engaged": len(engaged),
        "coverage": min(1.0, ratio(len(engaged), key_people)),
        "depth": ratio(sum(1 for lv in levels if lv in reached), len(levels)),
        "sponsor": sponsor,
        "engagement": min(1.0, ratio(sum(ratings) - len(ratings), 4 * key_people)),
        "avg_engagement": avg,
        "propagation": len(bus),
    }


def action_figures(rows: Iterable[Row], as_of: dt.date) -> dict[str, Any]:
    rows = [r for r in rows if r.get("status") != "cancelled"]
    done = sum(1 for r in rows if r.get("status") == "done")
    open_due = [as_date(r.get("due")) for r in rows if r.get("status") != "done"]
    overdue = sum(1 for due in open_due if due is not None and due < as_of)
    due = done + sum(1 for d in open_due if d is not None and d <= as_of)
    return {
        "actions": len(rows),
        "actions_done": done,
        "overdue_actions": overdue,
        "actions_due": due,
        # Actions not due yet do not count against completion; nothing due yet is on track.
        "completion": (ratio(done, due) if due else 1.0) if rows else 0.0,
        "timeliness": 1 - ratio(overdue, len(rows)) if rows else 0.0,
    }


def kpi_latest(row: Row, period_keys: Iterable[str]) -> float | None:
    """The last numeric value across the period columns."""
    latest = None
    for key in period_keys:
        if (value := num(row.get(key))) is not None:
            latest = value
    return latest


def kpi_attainment(row: Row, latest: float | None) -> float | None:
    target = num(row.get("target"))
    if target is None or latest is None:
        return None
    if row.get("direction") == "lower":
        return 1.0 if latest <= 0 else target / latest
    return None if target == 0 else latest / target


def kpi_figures(rows: Iterable[Row], period_keys: list[str]) -> dict[str, Any]:
    total = weights = 0.0
    active = 0
    for row in rows:
        if row.get("active") != "yes":
            continue
        active += 1
        attainment = kpi_attainment(row, kpi_latest(row, period_keys))
        if attainment is None:
            continue
        weight = n0(row.get("weight"))
        total += weight * clamp(attainment)
        weights += weight
    return {"kpi_attainment": ratio(total, weights), "kpis_active": active}


def axis_score(rows: Iterable[Row], axis: str) -> tuple[float, int]:
    """Weighted 1-5 rating of one assessment axis, mapped to 0-100, and how many are rated.

    Every criterion of the axis weighs in; one not rated counts as rated 1 (0 points), so
    leaving a criterion blank never scores better than the lowest honest rating."""
    points = weights = 0.0
    rated = 0
    for row in rows:
        if row.get("axis") != axis:
            continue
        weight = n0(row.get("weight"))
        weights += weight
        rating = num(row.get("rating"))
        if rating is not None and 1 <= rating <= 5:
            rated += 1
            points += weight * (rating - 1)
    return (points / weights / 4 * 100 if weights else 0.0), rated


def pipeline_figures(rows: Iterable[Row]) -> dict[str, float]:
    weighted = open_ = 0.0
    for row in rows:
        if row.get("stage") in ("won", "lost"):
            continue
        weighted += n0(row.get("amount")) * n0(row.get("probability"))
        open_ += n0(row.get("amount"))
    return {"weighted_pipeline": weighted, "open_pipeline": open_}


def money_band(amount: float, bands: Iterable[Iterable[Any]]) -> float:
    """The score (0-1) of the highest band whose floor the amount reaches."""
    for floor, score in bands:
        if amount >= float(floor):
            return float(score)
    return 0.0


def is_secured(row: Row, as_of: dt.date, window_days: float) -> bool:
    """A won deal closed within the window (or without a close date): secured revenue."""
    close = as_date(row.get("expected_close"))
    return row.get("stage") == "won" and (close is None or close >= as_of - dt.timedelta(days=window_days))


def deal_weight(row: Row, as_of: dt.date, window_days: float) -> float:
    """What a deal counts for towards the priority: 1 when secured, its probability while open,
    0 when lost, older than the window or without a stage (a blank never beats "lost")."""
    stage = row.get("stage")
    if stage == "won":
        return 1.0 if is_secured(row, as_of, window_days) else 0.0
    return 0.0 if stage == "lost" or is_blank(stage) else n0(row.get("probability"))


def material_pipeline(
    rows: Iterable[Row], money_at_stake: float, share: float, as_of: dt.date, window_days: float
) -> float:
    """Secured plus weighted open deals worth at least ``share`` of the money at stake.

    Smaller deals are left out so that no single small deal can move the priority tier; a won
    deal counts in full, so winning never lowers the priority.
    """
    floor = share * money_at_stake
    return sum(
        n0(r.get("amount")) * deal_weight(r, as_of, window_days)
        for r in rows
        if num(r.get("amount")) is not None and n0(r.get("amount")) >= floor
    )


def probability_of(
    relationship: float, position: float, pipeline: float, weights: Mapping[str, Any]
) -> float:
    """The relationship and our position set the base; the pipeline's share of the weights is
    how much of that base depends on having material deals. A hostile relationship cannot be
    made likely by deals alone: the pipeline scales the base, it does not add to it."""
    base = weighted_mean({"relationship": relationship, "position": position}, weights)
    share = ratio(
        float(weights["pipeline"]), sum(float(weights[k]) for k in ("relationship", "position", "pipeline"))
    )
    return base * (1 - share + share * pipeline)


def weighted_product(factors: Mapping[str, float], weights: Mapping[str, Any]) -> float:
    """Weighted geometric mean of 0-1 factors: prod(f ** (w / sum w)); a zero weight drops its factor."""
    total = sum(float(weights[k]) for k in factors)
    out = 1.0
    for key, value in factors.items():
        if float(weights[key]) > 0:
            out *= value ** (float(weights[key]) / total)
    return out


def pipeline_by_stage(rows: Iterable[Row]) -> dict[str, tuple[float, float]]:
    """Amount and weighted amount per stage code (won and lost deals weigh nothing)."""
    out: dict[str, tuple[float, float]] = {}
    for row in rows:
        stage = row.get("stage")
        if not isinstance(stage, str):
            continue
        amount = n0(row.get("amount"))
        weighted = 0.0 if stage in ("won", "lost") else amount * n0(row.get("probability"))
        total, total_weighted = out.get(stage, (0.0, 0.0))
        out[stage] = (total + amount, total_weighted + weighted)
    return out


def whitespace_figures(rows: Iterable[Row]) -> dict[str, float]:
    rows = list(rows)
    whitespace = sum(n0(r.get("potential")) for r in rows if r.get("status") == "whitespace")
    in_pipeline = sum(n0(r.get("potential")) for r in rows if r.get("status") == "pipeline")
    current = sum(n0(r.get("current_revenue")) for r in rows)
    owned = sum(1 for r in rows if r.get("status") == "owned")
    # A row counts once its status is set: the catalogue's BU x offer grid is an example until then.
    applicable = sum(1 for r in rows if not is_blank(r.get("status")) and r.get("status") != "not_applicable")
    return {
        "whitespace": whitespace,
        "open_potential": whitespace + in_pipeline,
        "current_revenue": current,
        "offer_coverage": ratio(owned, applicable),
        "penetration": ratio(current, current + whitespace),
    }


def risk_score(row: Row) -> float | None:
    p, i = num(row.get("probability")), num(row.get("impact"))
    return p * i if p is not None and i is not None else None


def risk_figures(rows: Iterable[Row], high: float) -> dict[str, float]:
    scores = [s for r in rows if r.get("status") != "closed" and (s := risk_score(r)) is not None]
    return {"risk_exposure": sum(scores), "high_risks": sum(1 for s in scores if s >= high)}


def tier_for(
    priority: float, rated: bool, tiers: Mapping[str, Any], money_at_stake: float | None = None
) -> str:
    """The tier of a priority; Invest also needs the template's money at stake (when given)."""
    if not rated:
        return "unrated"
    invest = tiers["invest"]
    small = money_at_stake is not None and money_at_stake < float(invest.get("min_money_at_stake", 0))
    if priority >= float(invest["min_priority"]) and not small:
        return "invest"
    if priority >= float(tiers["maintain"]["min_priority"]):
        return "maintain"
    return "deprioritise"


def is_complete(stakeholders: int, rated: int, revenue: float | None, cfg: Mapping[str, Any]) -> bool:
    """Whether the plan holds enough to be judged: too empty a plan is unrated, never healthy."""
    need = cfg["complete"]
    enough = stakeholders >= float(need["stakeholders"]) and rated >= float(need["rated"])
    return enough and revenue is not None


def defend_priority(revenue: float, profitability: float, cfg: Mapping[str, Any]) -> float:
    """The priority floor of the revenue to defend: band of our revenue x profitability^c."""
    weights = cfg["priority"]
    share = ratio(float(weights["profitability"]), sum(float(weights[k]) for k in weights))
    band = money_band(revenue, cfg["defend"]["revenue_bands"])
    return 100 * band * (profitability**share if share > 0 else 1.0)


def rank(
    potential: float,
    relationship: float,
    position: float,
    pipeline_score: float,
    profitability: float,
    revenue: float,
    money_at_stake: float,
    complete: bool,
    template: Template,
) -> tuple[float, float, float, str]:
    """Probability, growth priority, priority and tier from the family scores (0-100) and the
    factors behind them: one formula for a plan and for a roll-up's record scored again."""
    cfg = template.scoring
    probability = probability_of(relationship / 100, position / 100, pipeline_score, cfg["probability"])
    grow = 100 * weighted_product(
        {"potential": potential / 100, "probability": probability, "profitability": profitability},
        cfg["priority"],
    )
    priority = max(grow, defend_priority(revenue, profitability, cfg))
    tier = tier_for(priority, complete, template.tiers, money_at_stake)
    return probability, grow, priority, tier


def score_plan(
    plan: Plan, template: Template, as_of: dt.date | None = None, *, status: bool = True
) -> Scores:
    """All scores and figures of a plan, as of a day (today by default); ``status=False`` skips
    the alert rules (the status stays "healthy") where only the tier matters."""
    as_of = as_of or dt.date.today()
    cfg = template.scoring
    f = plan.fields
    rel = relationship_figures(_named(plan, template, "stakeholders"), template.choices["level"], cfg)
    act = action_figures(_named(plan, template, "actions"), as_of)
    periods = [c.key for c in template.table("kpis").columns if c.period]
    kpi = kpi_figures(_named(plan, template, "kpis"), periods)
    assessment = _named(plan, template, "assessment")
    attractiveness, rated = axis_score(assessment, "attractiveness")
    position, _ = axis_score(assessment, "position")
    deals = _named(plan, template, "opportunities")
    pipe = pipeline_figures(deals)
    space = whitespace_figures(_named(plan, template, "whitespace"))
    money = n0(f.get("annual_revenue")) + space["open_potential"]
    window = float(cfg["won_window_days"])
    secured = sum(n0(d.get("amount")) for d in deals if is_secured(d, as_of, window))
    material = material_pipeline(deals, money, float(cfg["material_deal_share"]), as_of, window)
    coverage_target = float(cfg["pipeline_coverage"]) * money
    pipeline_score = clamp(material / coverage_target) if coverage_target > 0 else 0.0
    margin = num(f.get("gross_margin"))
    # A blank margin is the lowest honest answer (0 %): the priority assumes the worst.
    profitability = clamp(margin / float(cfg["target_margin"])) if margin is not None else 0.0
    last_review = as_date(f.get("last_review"))
    figures = Figures(
        **rel,
        **act,
        **kpi,
        **pipe,
        money_at_stake=money,
        money_score=money_band(money, cfg["money_bands"]),
        secured=secured,
        material_pipeline=material,
        pipeline_score=pipeline_score,
        probability=0.0,
        attractiveness=attractiveness,
        position=position,
        rated=rated,
        complete=int(is_complete(rel["stakeholders"], rated, num(f.get("annual_revenue")), cfg)),
        profitability=profitability,
        grow_priority=0.0,
        defend_priority=defend_priority(n0(f.get("annual_revenue")), profitability, cfg),
        **space,
        **risk_figures(_named(plan, template, "risks"), float(cfg["high_risk_score"])),
        revenue=num(f.get("annual_revenue")),
        target=num(f.get("revenue_target")),
        nrr=num(f.get("nrr")),
        nps=num(f.get("nps")),
        gross_margin=margin,
        last_review=last_review,
        next_review=as_date(f.get("next_review")),
        days_since_review=(as_of - last_review).days if last_review else None,
    )
    relationship = 100 * weighted_mean(
        {k: rel[k] for k in ("coverage", "depth", "sponsor", "engagement")}, cfg["relationship"]
    )
    execution = 100 * weighted_mean(
        {"completion": act["completion"], "timeliness": act["timeliness"], "kpi": kpi["kpi_attainment"]},
        cfg["execution"],
    )
    potential = 100 * weighted_mean(
        {"attractiveness": attractiveness / 100, "money": figures.money_score}, cfg["potential"]
    )
    overall = weighted_mean(
        {"potential": potential, "relationship": relationship, "execution": execution}, cfg["overall"]
    )
    probability, grow, priority, tier = rank(
        potential,
        relationship,
        position,
        pipeline_score,
        profitability,
        n0(figures.revenue),
        money,
        bool(figures.complete),
        template,
    )
    figures = replace(figures, probability=probability, grow_priority=grow)
    scores = Scores(
        potential=potential,
        relationship=relationship,
        execution=execution,
        overall=overall,
        priority=priority,
        tier=tier,
        figures=figures,
        tier_reason="" if tier == "unrated" else ("defend" if figures.defend_priority > grow else "grow"),
    )
    if not status:
        return scores
    from .alerts import fired_alerts, is_rated, status_for  # alerts build on these scores

    fired = fired_alerts(plan, template, scores, as_of)
    entered = is_rated(scores, template)
    code = status_for(fired, template, rated=entered, complete=bool(figures.complete))
    return replace(scores, status=code, alerts=tuple(fired))
