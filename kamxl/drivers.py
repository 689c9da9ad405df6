"""Why an account has its tier: the three factors of the priority, the weakest one, and the
smallest single change that moves the account a tier up or down ("+1 engaged decision maker →
Invest"). ``kamxl check --json`` gives it as ``tier_drivers``; the Dashboard and the summary
show its sentence. Texts and the order changes are tried in: workbook_templates/tier.toml.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .model import Plan
from .review.texts import Texts
from .scoring import Scores, score_plan
from .template import Template
from .tier_checks import tier_texts
from .whatif import Change, WhatIfError, apply_change

RANK = {"unrated": -1, "deprioritise": 0, "maintain": 1, "invest": 2}
FACTORS = ("potential", "probability", "profitability")


@dataclass(frozen=True)
class Move:
    change: str  # the change's code (kamxl.whatif, or margin_to_target / margin_down)
    text: str  # in the plan's language, e.g. "+1 engaged decision maker"
    tier: str  # the tier it gives

    def as_dict(self) -> dict[str, str]:
        return {"change": self.change, "text": self.text, "tier": self.tier}


@dataclass(frozen=True)
class TierDrivers:
    tier: str
    reason: str  # grow, defend, or "" while unrated
    factors: dict[str, float]  # each 0-1
    weakest: str
    up: Move | None
    down: Move | None
    text: str  # one sentence for the Dashboard and the summary

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "reason": self.reason,
            "factors": self.factors,
            "weakest": self.weakest,
            "up": self.up.as_dict() if self.up else None,
            "down": self.down.as_dict() if self.down else None,
            "text": self.text,
        }


def _candidate(
    plan: Plan, template: Template, scores: Scores, code: str, as_of: dt.date
) -> tuple[Change, dict[str, Any]] | None:
    """The change a driver code stands for on this plan, and the values its text shows."""
    cfg, lang = tier_texts()["drivers"], plan.lang if plan.lang in ("en", "fr") else "en"
    margin = scores.figures.gross_margin
    if code == "margin_to_target":
        target = float(template.scoring["target_margin"])
        if margin is not None and margin >= target:
            return None
        return Change("set_margin", target), {"value": Texts(lang).percent(target)}
    if code == "margin_down":
        if margin is None:
            return None
        lower = margin - float(cfg["margin_step"])
        return Change("set_margin", lower), {"value": Texts(lang).percent(lower)}
    return Change(code), {}


def _move(
    plan: Plan, template: Template, scores: Scores, codes: list[str], up: bool, as_of: dt.date
) -> Move | None:
    lang = plan.lang if plan.lang in ("en", "fr") else "en"
    texts = tier_texts()["drivers"]["changes"]
    for code in codes:
        found = _candidate(plan, template, scores, code, as_of)
        if found is None:
            continue
        change, values = found
        try:
            changed = apply_change(plan, template, change, as_of)
        except WhatIfError:
            continue
        tier = score_plan(changed, template, as_of, status=False).tier
        if (RANK[tier] > RANK[scores.tier]) if up else (RANK[tier] < RANK[scores.tier]):
            if "name" not in values:
                values["name"] = _changed_name(plan, changed, template)
            return Move(code, str(texts[code][lang]).format(**values), tier)
    return None


def _changed_name(before: Plan, after: Plan, template: Template) -> str:
    """The name of the deal or person a change touched (the first row that differs)."""
    for table in ("opportunities", "stakeholders", "risks"):
        key = template.table(table).key_column
        old, new = before.tables.get(table, []), after.tables.get(table, [])
        for a, b in zip(old, new, strict=False):
            if a != b:
                return str(b.get(key))
    return ""


def _summary(template: Template, reason: str, weakest: str, lang: str) -> str:
    data = tier_texts()["drivers"]
    return str(data["texts"]["summary"][lang]).format(
        reason=template.text(f"tier_reason_{reason}", lang) if reason else "–",
        weakest=data["factors"][weakest][lang],
    )


def drivers_brief(template: Template, tier: str, figures: dict[str, Any], potential: float, lang: str) -> str:
    """The reason and the weakest factor from a record's figures, without trying any change."""
    lang = lang if lang in ("en", "fr") else "en"
    factors = {
        "potential": potential / 100,
        "probability": float(figures.get("probability") or 0),
        "profitability": float(figures.get("profitability") or 0),
    }
    grow, defend = float(figures.get("grow_priority") or 0), float(figures.get("defend_priority") or 0)
    reason = "" if tier == "unrated" else ("defend" if defend > grow else "grow")
    return _summary(template, reason, min(FACTORS, key=lambda k: factors[k]), lang)


def tier_drivers(
    plan: Plan, template: Template, scores: Scores | None = None, as_of: dt.date | None = None
) -> TierDrivers:
    """The factors, the weakest one and the smallest single changes up and down a tier."""
    as_of = as_of or dt.date.today()
    scores = scores or score_plan(plan, template, as_of)
    f, data = scores.figures, tier_texts()["drivers"]
    lang = plan.lang if plan.lang in ("en", "fr") else "en"
    factors = {
        "potential": scores.potential / 100,
        "probability": f.probability,
        "profitability": f.profitability,
    }
    weakest = min(FACTORS, key=lambda k: factors[k])
    rated = scores.tier != "unrated"
    top, bottom = scores.tier == "invest", scores.tier == "deprioritise"
    up = _move(plan, template, scores, list(data["up"]), True, as_of) if rated and not top else None
    down = _move(plan, template, scores, list(data["down"]), False, as_of) if rated and not bottom else None
    t = data["texts"]
    parts = [_summary(template, scores.tier_reason, weakest, lang)]
    for key, move in (("up", up), ("down", down)):
        if move:
            parts.append(
                str(t[key][lang]).format(change=move.text, tier=template.tier_label(move.tier, lang))
            )
    if rated and not up and not down:
        parts.append(str(t["none"][lang]))
    separator = "\u00a0; " if lang == "fr" else "; "
    return TierDrivers(scores.tier, scores.tier_reason, factors, weakest, up, down, separator.join(parts))
