"""Team capacity: are our people's days where the value is?

Each plan's Account team sheet gives the days per month each of our colleagues commits to the
account. Summed per account, per person and per KAM, set against the days a person has in a
month (the template's ``[capacity] days_per_month``), and against what the account is worth:
the money at stake (revenue plus whitespace potential) the scores use.

An account's *expected* days are the portfolio's days per euro at stake times its own money at
stake. An Invest account getting less than ``under_served`` of its expected days is
under-served; a De-prioritise account getting more than ``over_served`` times them is
over-served; the mismatch is the days between the two. With a day rate set, the cost to serve
(days x 12 x rate, a year as revenue is) comes off the gross margin, and the profitability factor
and priority are recomputed with it. docs/forecast.md works an example through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..scoring import clamp, n0, num
from ..template import Template, TemplateError
from .forecast import kam_name, rescored
from .records import AccountRecord

DAYS_PER_MONTH = 18.0
UNDER_SERVED = 0.5
OVER_SERVED = 1.5
MILLION = 1_000_000.0


@dataclass(frozen=True)
class CapacitySettings:
    """The template's ``[capacity]`` section."""

    days_per_month: float = DAYS_PER_MONTH
    day_rate: float | None = None  # None: no cost to serve
    under_served: float = UNDER_SERVED
    over_served: float = OVER_SERVED


def capacity_settings(template: Template) -> CapacitySettings:
    """``[capacity]`` of the template, checked: a bad value names the file and the key."""
    cfg = template.raw.get("capacity") or {}

    def number(key: str, default: float, strict: bool = False) -> float:
        value = cfg.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or value < 0
            or (strict and not value)
        ):
            wanted = "above 0" if strict else "at least 0"
            raise TemplateError(template.path, f"capacity.{key}", f"must be a number {wanted}")
        return float(value)

    rate = number("day_rate", 0.0)
    under, over = number("under_served", UNDER_SERVED), number("over_served", OVER_SERVED)
    if under > over:
        raise TemplateError(template.path, "capacity.under_served", "must not exceed over_served")
    return CapacitySettings(number("days_per_month", DAYS_PER_MONTH, strict=True), rate or None, under, over)


def _name(value: Any) -> str:
    return " ".join(str(value or "").split())


def days_of(rows: Iterable[dict[str, Any]]) -> float:
    return sum(max(n0(r.get("commitment")), 0.0) for r in rows)


def kam_rows(acc: AccountRecord) -> list[dict[str, Any]]:
    """The KAM's own rows of the team sheet: their name, else the account lead's role."""
    kam = _name(acc.kam).casefold()
    mine = [r for r in acc.team if _name(r.get("name")).casefold() == kam]
    return mine or [r for r in acc.team if r.get("role") == "account_lead"]


@dataclass
class AccountLoad:
    """One account's days against what it is worth and its tier."""

    account: AccountRecord
    days: float  # per month, the whole team
    money: float  # money at stake: revenue + whitespace
    expected: float = 0.0  # days per month at the portfolio's days per euro at stake
    verdict: str = ""  # under (an Invest account under-served), over (a De-prioritise one over-served)
    cost: float | None = None  # a year's cost to serve, with a day rate
    margin_after: float | None = None  # gross margin after the cost to serve (share of revenue)
    profitability_after: float | None = None  # the 0-1 scoring factor with that margin
    priority_after: float | None = None
    tier_after: str | None = None

    @property
    def revenue(self) -> float:
        return n0(self.account.figures.get("revenue"))

    @property
    def potential(self) -> float:
        return n0(self.account.figures.get("whitespace"))

    @property
    def ratio(self) -> float | None:
        """Days against expected days: 1 as the portfolio, 0.5 half."""
        return self.days / self.expected if self.expected else None

    @property
    def mismatch(self) -> float:
        """Days per month between the account's days and its expected days, when flagged."""
        return abs(self.expected - self.days) if self.verdict else 0.0

    def per_million(self, amount: float) -> float | None:
        """Days a year per million of ``amount``."""
        return 12 * self.days / (amount / MILLION) if amount > 0 else None


@dataclass
class PersonLoad:
    """One colleague's days across the portfolio against the days they have."""

    name: str
    days: float = 0.0
    accounts: list[str] = field(default_factory=list)
    capacity: float = DAYS_PER_MONTH
    kam: bool = False

    @property
    def load(self) -> float:
        return self.days / self.capacity if self.capacity else 0.0


@dataclass
class KamLoad:
    """A KAM's accounts: their own days, the team's days, and what the accounts are worth."""

    kam: str
    accounts: int = 0
    own_days: float = 0.0
    team_days: float = 0.0
    revenue: float = 0.0
    money: float = 0.0
    capacity: float = DAYS_PER_MONTH
    under: int = 0
    over: int = 0

    @property
    def load(self) -> float:
        return self.own_days / self.capacity if self.capacity else 0.0

    @property
    def days_per_million(self) -> float | None:
        return 12 * self.team_days / (self.revenue / MILLION) if self.revenue > 0 else None


@dataclass
class Capacity:
    settings: CapacitySettings
    accounts: list[AccountLoad]
    people: list[PersonLoad]
    kams: list[KamLoad]
    days_per_million: float | None  # the portfolio's days a year per million at stake

    def mismatches(self, limit: int | None = None) -> list[AccountLoad]:
        """Flagged accounts, the most days away from their expected days first."""
        flagged = sorted(
            (a for a in self.accounts if a.verdict),
            key=lambda a: (-a.mismatch, a.account.account.casefold()),
        )
        return flagged[:limit] if limit is not None else flagged


def capacity(
    accounts: list[AccountRecord],
    template: Template,
    as_of: dt.date,
    settings: CapacitySettings | None = None,
) -> Capacity:
    """Loads per account, person and KAM (accounts without team days count none)."""
    s = settings or capacity_settings(template)
    loads = [AccountLoad(a, days_of(a.team), n0(a.figures.get("money_at_stake"))) for a in accounts]
    total_money = sum(x.money for x in loads if x.money > 0)
    total_days = sum(x.days for x in loads if x.money > 0)
    per_euro = total_days / total_money if total_money else 0.0
    for x in loads:
        x.expected = per_euro * max(x.money, 0.0)
        ratio = x.ratio
        if ratio is not None and x.account.tier == "invest" and ratio < s.under_served:
            x.verdict = "under"
        elif ratio is not None and x.account.tier == "deprioritise" and ratio > s.over_served:
            x.verdict = "over"
        if s.day_rate:
            _cost_to_serve(x, s.day_rate, template, as_of)
    return Capacity(
        s,
        loads,
        _people(accounts, s),
        _kams(loads, s),
        12 * per_euro * MILLION if total_money else None,
    )


def _cost_to_serve(x: AccountLoad, rate: float, template: Template, as_of: dt.date) -> None:
    """The year's cost to serve, taken off the gross margin; profitability and priority with it."""
    x.cost = 12 * x.days * rate
    margin, revenue = num(x.account.figures.get("gross_margin")), x.revenue
    if margin is None or revenue <= 0:
        return
    x.margin_after = margin - x.cost / revenue
    target = float(template.scoring.get("target_margin", 0.35))
    x.profitability_after = clamp(x.margin_after / target) if target > 0 else 0.0
    x.priority_after, x.tier_after = rescored(x.account, template, as_of, profitability=x.profitability_after)


def _people(accounts: list[AccountRecord], s: CapacitySettings) -> list[PersonLoad]:
    people: dict[str, PersonLoad] = {}
    kams = {_name(a.kam).casefold() for a in accounts}
    for acc in accounts:
        for row in acc.team:
            name = _name(row.get("name"))
            if not name:
                continue
            person = people.setdefault(
                name.casefold(), PersonLoad(name, capacity=s.days_per_month, kam=name.casefold() in kams)
            )
            person.days += max(n0(row.get("commitment")), 0.0)
            if acc.account not in person.accounts:
                person.accounts.append(acc.account)
    return sorted(people.values(), key=lambda p: (-p.load, p.name.casefold()))


def _kams(loads: list[AccountLoad], s: CapacitySettings) -> list[KamLoad]:
    kams: dict[str, KamLoad] = {}
    for x in loads:
        name = kam_name(x.account.kam)
        k = kams.setdefault(name, KamLoad(name, capacity=s.days_per_month))
        k.accounts += 1
        k.own_days += days_of(kam_rows(x.account))
        k.team_days += x.days
        k.revenue += x.revenue
        k.money += x.money
        k.under += x.verdict == "under"
        k.over += x.verdict == "over"
    return [kams[k] for k in sorted(kams, key=str.casefold)]
