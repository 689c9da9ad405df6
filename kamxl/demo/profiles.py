"""The kinds of account the demo tells stories about, and the ranges that shape each one.

- ``healthy``: attractive, strong champion, good margin, little overdue: comes out "invest"
  and healthy;
- ``steady``: average attractiveness and margin, well run (key stakeholders met, actions on
  time): mostly "maintain", healthy or watch for a late ritual;
- ``at_risk``: attractive but weak position, detractors, high risks and churn signals,
  overdue actions, falling NRR and NPS: "maintain" or "de-prioritise", at risk;
- ``stale``: not reviewed for months, next review past, rituals and actions overdue: at risk;
- ``new``: just signed, sparse plan, few stakeholders, nothing rated yet: "unrated";
- ``tail``: small, low-margin, low attractiveness, fewer rituals, a champion who buys from
  us: "de-prioritise", healthy or watch (its NPS, its KPIs).

The names live here because the demo's code tells each story; the numbers live in
``workbook_templates/demo/profiles.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache

from ..template import TemplateError
from .content import content, content_folder

PROFILES = ("healthy", "steady", "at_risk", "stale", "new", "tail")

Range = tuple[int, int]
Share = tuple[float, float]


@dataclass(frozen=True)
class Profile:
    """Ranges that shape one kind of account; ratings are 1-5, money in euros."""

    attractiveness: Range | None
    position: Range | None
    margin: Share
    probability: Share
    revenue: Range
    growth: Share  # revenue target over last 12 months' revenue, minus 1
    nps: Range
    nrr: Share
    stakeholders: Range
    review_age: Range  # days since the last review
    contact_age: Range  # days since the last contact with a stakeholder
    key_contact_age: Range  # the same for a key stakeholder (role or influence)
    stances: tuple[float, float, float, float, float]  # champion, ally, neutral, detractor, unknown
    detractor_deciders: bool  # whether a decision maker or budget holder may work against us
    actions: Range
    overdue: Range
    action_mix: tuple[float, float, float, float, float]  # done, open, planned, blocked, cancelled
    risks: Range
    high_risks: Range
    kpi_attainment: Share
    opportunities: Range
    objectives: Range
    objective_statuses: tuple[str, ...]
    smart_gaps: float
    whitespace_mix: tuple[float, float, float]  # owned, whitespace, not applicable
    client_years: Range
    kpi_trend: Share  # how much a KPI improves per quarter
    weakened_ties: float  # chance a good or strong relationship is one notch weaker
    late_rituals: float  # chance a ritual was last held well past its period
    rituals: tuple[str, ...]  # the rituals the account holds; empty: all of them


_OPTIONAL = ("attractiveness", "position")


@cache
def profile(key: str) -> Profile:
    data = content("profiles")
    path = content_folder() / "profiles.toml"
    if key not in data:
        raise TemplateError(path, key, "profile missing")
    raw = data[key]
    values = {}
    for spec in fields(Profile):
        value = raw.get(spec.name)
        if value is None and spec.name not in _OPTIONAL:
            raise TemplateError(path, f"{key}.{spec.name}", "missing")
        values[spec.name] = tuple(value) if isinstance(value, list) else value
    return Profile(**values)


def cycle() -> list[str]:
    """One portfolio's mix of profiles, repeated for larger demos."""
    return list(content("profiles")["cycle"])
