"""What changed in an account since the last review.

Two baselines: a previous copy of the plan (the full comparison: scores and tier, opportunities
won, lost or new, stakeholders added or changing stance, actions done or overdue, KPIs moved),
or a date with the roll-up history (scores and tier as the history recorded them on or before
that day; opportunities, actions and KPIs from the dates the plan itself carries).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..alerts import REASONS_SEPARATOR
from ..model import Plan, Row, is_blank
from ..scoring import Scores, as_date, kpi_latest, score_plan
from ..template import Template
from .texts import LANGS, Texts, choice_labels

SCORE_KEYS = ("overall", "potential", "relationship", "execution")
MIN_SCORE_MOVE = 0.5  # points on 0-100: smaller moves are noise, not news
KINDS = (
    "tier", "score", "opportunity_won", "opportunity_lost", "opportunity_new", "stakeholder_new",
    "stance", "action_done", "action_overdue", "kpi",
)  # fmt: skip
CLIENT_KINDS = ("opportunity_won", "action_done", "action_overdue", "kpi")  # safe to tell the client


@dataclass(frozen=True)
class Change:
    """One change: its kind (one of KINDS) and the values its sentence needs."""

    kind: str
    values: dict[str, Any]

    def text(self, t: Texts) -> str:
        return t(f"changes.{self.kind}", **self.values)


@dataclass(frozen=True)
class Baseline:
    """Scores and tier of an account as the roll-up history recorded them on ``day``."""

    day: dt.date
    tier: str | None
    scores: dict[str, float | None]


@dataclass
class Changes:
    since: dt.date | None
    basis: str  # "plan" (a previous copy), "history" or "dates" (the plan's own dates only)
    items: list[Change] = field(default_factory=list)

    def of(self, *kinds: str) -> list[Change]:
        return [c for c in self.items if c.kind in kinds]

    def lines(self, lang: str) -> list[str]:
        t = Texts(lang)
        return [c.text(t) for c in self.items]

    def counts(self) -> dict[str, int]:
        """How many changes of each kind: all a portfolio summary keeps (no names leave the plan)."""
        return {kind: n for kind in KINDS if (n := len(self.of(kind)))}

    def short(self, lang: str) -> str:
        """One line for a summary cell: ``Tier Maintain → Invest; overall +4; 1 deal won``."""
        return short_text(self.of("tier", "score"), self.counts(), lang)

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        t = Texts(lang)
        return {
            "since": self.since.isoformat() if self.since else None,
            "basis": self.basis,
            "changes": [
                {"kind": c.kind, "text": c.text(t), **{k: _json(v, t.lang) for k, v in c.values.items()}}
                for c in self.items
            ],
        }


def short_text(moves: list[Change], counts: dict[str, int], lang: str) -> str:
    """``Tier Maintain → Invest; overall +4; 1 deal won; 2 overdue``: the tier and overall score
    moves among ``moves``, then counts per kind (``No change`` when there is nothing to say)."""
    t = Texts(lang)
    parts = [t("changes.short.tier", **c.values) for c in moves if c.kind == "tier"][:1]
    for c in moves:
        if c.kind == "score" and c.values["key"] == "overall":
            delta = round(c.values["after"] - c.values["before"])  # summary scores are whole numbers
            if delta:
                parts.append(t("changes.short.score", delta=f"{delta:+d}"))
    parts += [
        t(f"changes.short.{kind}", n=counts[kind])
        for kind in KINDS
        if counts.get(kind) and kind not in ("tier", "score")
    ]
    text = REASONS_SEPARATOR[t.lang].join(parts) or t("changes.summary_none")
    return text[:1].upper() + text[1:]


def _json(value: Any, lang: str) -> Any:
    if isinstance(value, dict):
        return value.get(lang)
    return value.isoformat() if isinstance(value, dt.date) else value


def _key(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def _by_key(plan: Plan, template: Template, table: str) -> dict[str, Row]:
    column = template.table(table).key_column
    return {_key(r[column]): r for r in plan.rows(table, template)}


def _signed(value: float) -> str:
    return f"{value:+.1f}"


def score_changes(
    before: dict[str, float | None],
    before_tier: str | None,
    after: dict[str, float],
    after_tier: str,
    template: Template,
) -> list[Change]:
    """The tier move and the score moves worth telling (``MIN_SCORE_MOVE`` or more)."""
    out = []
    if before_tier and before_tier != after_tier:
        out.append(
            Change(
                "tier",
                {
                    "before": _tier_label(template, before_tier),
                    "after": _tier_label(template, after_tier),
                    "before_code": before_tier,
                    "after_code": after_tier,
                },
            )
        )
    for key in SCORE_KEYS:
        old, new = before.get(key), after.get(key)
        if old is None or new is None or abs(new - old) < MIN_SCORE_MOVE:
            continue
        label = {lang: Texts(lang)(f"deck.{key}_score") for lang in LANGS}
        out.append(
            Change(
                "score",
                {"key": key, "score": label, "before": old, "after": new, "delta": _signed(new - old)},
            )
        )
    return out


def _tier_label(template: Template, code: str) -> dict[str, str]:
    """A tier's label in every language (a code the template does not know, as stored)."""
    return template.tiers.get(code, {}).get("label") or dict.fromkeys(LANGS, code)


def score_dict(scores: Scores) -> dict[str, float]:
    return {key: getattr(scores, key) for key in SCORE_KEYS}


def _local(method: str, *args: Any) -> dict[str, str]:
    """A figure written in every language (``_local("money", 1200)``), chosen when shown."""
    return {lang: getattr(Texts(lang), method)(*args) for lang in LANGS}


def _opportunity(kind: str, row: Row) -> Change:
    return Change(kind, {"name": row.get("name"), "amount": _local("money", row.get("amount"))})


def _action_changes(plan: Plan, template: Template, done_since: Any, as_of: dt.date) -> list[Change]:
    """Actions done (``done_since(row)`` says which count as new) and open actions past due."""
    out = []
    for row in plan.rows("actions", template):
        if row.get("status") == "done" and done_since(row):
            out.append(Change("action_done", {"name": row.get("action")}))
    for row in plan.rows("actions", template):
        due = as_date(row.get("due"))
        if due and due < as_of and row.get("status") not in ("done", "cancelled"):
            out.append(Change("action_overdue", {"name": row.get("action"), "due": _local("date", due)}))
    return out


def compare_plans(
    before: Plan,
    after: Plan,
    template: Template,
    *,
    since: dt.date | None = None,
    as_of: dt.date | None = None,
) -> Changes:
    """Everything that changed between a previous copy of a plan and the plan now."""
    as_of = as_of or dt.date.today()
    old_scores = score_plan(before, template, since or as_of)
    new_scores = score_plan(after, template, as_of)
    items = score_changes(
        score_dict(old_scores), old_scores.tier, score_dict(new_scores), new_scores.tier, template
    )
    old_opps, new_opps = _by_key(before, template, "opportunities"), _by_key(after, template, "opportunities")
    for key, row in new_opps.items():
        was = old_opps.get(key, {}).get("stage")
        stage = row.get("stage")
        if stage in ("won", "lost") and was != stage:
            items.append(_opportunity(f"opportunity_{stage}", row))
        elif key not in old_opps:
            items.append(_opportunity("opportunity_new", row))
    old_people, new_people = (
        _by_key(before, template, "stakeholders"),
        _by_key(after, template, "stakeholders"),
    )
    for key, row in new_people.items():
        if key not in old_people:
            items.append(
                Change("stakeholder_new", {"name": row.get("name"), "title": row.get("title") or "–"})
            )
        elif (was := old_people[key].get("stance")) != (now := row.get("stance")) and not is_blank(now):
            items.append(
                Change(
                    "stance",
                    {
                        "name": row.get("name"),
                        "before": choice_labels(template, "stance", was),
                        "after": choice_labels(template, "stance", now),
                    },
                )
            )
    old_actions = _by_key(before, template, "actions")
    items += _action_changes(
        after,
        template,
        lambda row: old_actions.get(_key(row.get("action")), {}).get("status") != "done",
        as_of,
    )
    periods = [c.key for c in template.table("kpis").columns if c.period]
    old_kpis = _by_key(before, template, "kpis")
    for key, row in _by_key(after, template, "kpis").items():
        now_value = kpi_latest(row, periods)
        was_value = kpi_latest(old_kpis[key], periods) if key in old_kpis else None
        if now_value is not None and now_value != was_value:
            unit = row.get("unit")
            items.append(
                Change(
                    "kpi",
                    {
                        "name": row.get("kpi"),
                        "before": _local("number", was_value, unit),
                        "after": _local("number", now_value, unit),
                    },
                )
            )
    return Changes(since, "plan", _ordered(items))


def changes_since_date(
    plan: Plan,
    template: Template,
    since: dt.date,
    *,
    baseline: Baseline | None = None,
    as_of: dt.date | None = None,
) -> Changes:
    """Changes since a day, from the plan's own dates and, when given, the history's scores.

    Without a previous copy, opportunities count as won or lost when their expected close falls
    after ``since``; stakeholders added and stance changes need a previous copy.
    """
    as_of = as_of or dt.date.today()
    items: list[Change] = []
    if baseline:
        now = score_plan(plan, template, as_of)
        items += score_changes(baseline.scores, baseline.tier, score_dict(now), now.tier, template)
    for row in plan.rows("opportunities", template):
        close = as_date(row.get("expected_close"))
        if row.get("stage") in ("won", "lost") and close and close >= since:
            items.append(_opportunity(f"opportunity_{row['stage']}", row))
    items += _action_changes(
        plan, template, lambda row: (d := as_date(row.get("done_date"))) is not None and d >= since, as_of
    )
    return Changes(since, "history" if baseline else "dates", _ordered(items))


def _ordered(items: list[Change]) -> list[Change]:
    return sorted(items, key=lambda c: KINDS.index(c.kind))


def history_baseline(db: Any, account_id: str, since: dt.date) -> Baseline | None:
    """The roll-up history's record of an account on or before ``since``."""
    from ..rollup.history import account_baseline

    found = account_baseline(db, account_id, since)
    return Baseline(found["day"], found["tier"], found["scores"]) if found else None
