"""The demo's year: deals won and lost over the last twelve months, and quarterly snapshots.

Each KAM declares probabilities with a habit of their own (``[habits]`` of the demo's
pipeline.toml: an optimist declares more than their deals' real odds, a cautious KAM less).
Every deal of a plan gets a story (when it opened, what its KAM declared while it was open,
when it closed), drawn from a generator of its own, so the account's other draws, and so the
rest of the demo, stay as they were. :func:`plan_on` shows a plan as it stood on an earlier
day; :func:`store_demo_history` rolls those plans up into four quarterly snapshots, so the
summary's Forecast sheet finds each KAM's habit back and its Trends sheet draws a year.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..model import Plan, Row
from ..template import Template
from .account import Account, add_months
from .content import content
from .pipeline import stage_of

QUARTERS = (12, 9, 6, 3)  # months before today of the history's snapshots
CLOSED = ("won", "lost")


def habit(kam: str) -> float:
    """Points a KAM adds to their deals' real odds when declaring them (negative: cautious)."""
    return float(content("pipeline").get("habits", {}).get(kam, 0.0))


def _rng(account_id: str, what: str) -> random.Random:
    return random.Random(f"kamxl-demo-year/{account_id}/{what}")


def _declared(real: float, kam: str) -> float:
    """What the KAM writes down for a deal whose real odds are ``real``: 0.05 to 0.95, in 5s."""
    value = min(max(real + habit(kam), 0.05), 0.95)
    return round(round(value / 0.05) * 0.05, 2)


def add_closed_deals(acc: Account) -> None:
    """Deals won and lost over the past year, each won with its real odds (the KAM's habit only
    changes what they declared); drawn from the account's own year generator."""
    rng = _rng(acc.plan.account_id, "closed")
    low, high = content("pipeline").get("closed_deals", {}).get(acc.key, [0, 0])
    odds = content("pipeline").get("closed_odds", {}).get(acc.key, [0.2, 0.9])
    names = content("pipeline")["opportunity_names"]
    offers = acc.owned_offers or acc.offers
    rows = acc.plan.tables.setdefault("opportunities", [])
    for _ in range(rng.randint(low, high)):
        kind = rng.choice(("upsell", "cross_sell", "new_business", "expansion", "renewal"))
        offer, bu = rng.choice(offers), rng.choice(acc.bus)
        close = acc.today - dt.timedelta(days=rng.randint(20, 330))
        won = rng.random() < rng.uniform(*odds)
        amount = int(round(rng.uniform(25_000, 60_000 + 0.15 * acc.revenue) / 5000) * 5000)
        name = acc.t(
            names[kind],
            offer=acc.offer_label(offer),
            offer_cap=acc.offer_label(offer, capital=True),
            bu=bu,
            year=close.year,
        )
        stage = "won" if won else "lost"
        rows.append(
            {
                "name": name,
                "type": kind,
                "offer": offer,
                "bu": bu,
                "amount": amount,
                "probability": 1.0 if won else 0.0,
                "stage": stage,
                "expected_close": close,
                "next_step": acc.t(content("pipeline")["opportunity_steps"][stage][0]),
                "owner": acc.kam,
            }
        )
    _unique_names(rows)


def _unique_names(rows: list[Row]) -> None:
    """Deals are known across snapshots by their account and name: no two share one."""
    seen: set[str] = set()
    for row in rows:
        name, n = str(row.get("name") or ""), 1
        while name.casefold() in seen:
            n += 1
            name = f"{row['name']} ({n})"
        row["name"] = name
        seen.add(name.casefold())


@dataclass(frozen=True)
class Story:
    """When a deal opened and closed, and the probability its KAM declared while it was open."""

    opened: dt.date
    closes: dt.date
    declared: float


def story(plan: Plan, row: Row, today: dt.date) -> Story:
    """A deal's story, the same for the same plan and deal whatever else the demo holds."""
    rng = _rng(plan.account_id, str(row.get("name")))
    close = row.get("expected_close") if isinstance(row.get("expected_close"), dt.date) else today
    if row.get("stage") in CLOSED:
        won = row["stage"] == "won"
        while True:  # real odds given the outcome: drawn, kept in proportion to their chance of it
            real = rng.uniform(0.2, 0.9)
            if rng.random() < (real if won else 1 - real):
                break
        declared = _declared(real, plan.kam)
    else:
        declared = float(row.get("probability") or 0.0)
    opened = min(close - dt.timedelta(days=rng.randint(90, 240)), today - dt.timedelta(days=30))
    return Story(opened, close, declared)


def plan_on(plan: Plan, day: dt.date, today: dt.date) -> Plan:
    """The plan as it stood on ``day``: deals not yet opened left out, deals closed since then
    still open at the probability declared, and revenue without the new business won since."""
    past = copy.deepcopy(plan)
    rows, won_since = [], 0.0
    for row in plan.tables.get("opportunities", []):
        s = story(plan, row, today)
        closed_by_then = row.get("stage") in CLOSED and s.closes <= day
        if row.get("stage") == "won" and not closed_by_then and row.get("type") != "renewal":
            won_since += float(row.get("amount") or 0)
        if s.opened > day:
            continue
        if closed_by_then:
            rows.append(dict(row))
            continue
        stage = stage_of(s.declared)
        if row.get("type") == "renewal" and stage in ("prospecting", "qualification"):
            stage = "proposal"
        rows.append(dict(row) | {"probability": s.declared, "stage": stage})
    past.tables["opportunities"] = rows
    revenue = past.fields.get("annual_revenue")
    if isinstance(revenue, int | float):
        past.fields["annual_revenue"] = max(float(revenue) - won_since, 0.0)
    return past


def history_days(today: dt.date) -> list[dt.date]:
    return [add_months(today, -months) for months in QUARTERS]


def store_demo_history(
    db: Path, plans: Iterable[tuple[Plan, str]], template: Template, today: dt.date, folder: str = ""
) -> None:
    """Four quarterly snapshots of the demo's plans in the history ``db`` (``plans``: each plan
    with its file name, as the roll-up names it)."""
    from ..rollup.history import store_snapshot
    from ..rollup.portfolio import Portfolio
    from ..rollup.records import record_from_plan

    plans = list(plans)
    for day in history_days(today):
        records = [
            record_from_plan(plan_on(plan, day, today), template, file=name, as_of=day)
            for plan, name in plans
        ]
        totals = Portfolio(records, template, day, folder=folder).totals()
        store_snapshot(db, day, totals, records, folder=folder)
