"""Findings about the tier: blanks that feed it, and figures that contradict each other.

A blank that feeds the tier scores as the lowest honest answer (docs/scoring.md); each such
blank is a finding, so the KAM knows the priority assumes the worst. The consistency rules
question a deal far larger than the account, a stage that contradicts its probability, an
"engaged" contact rated 1/5 and an objective no action serves. Texts and thresholds:
workbook_templates/tier.toml.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from .findings import Finding, Severity
from .layout import Locations
from .model import Plan, Row, is_blank
from .review.texts import Texts
from .scoring import Scores, is_backer, n0, num
from .template import Template, default_template_path


def tier_texts_path() -> Path:
    return default_template_path().with_name("tier.toml")


@cache
def tier_texts() -> dict[str, Any]:
    """The tier's texts and consistency thresholds (workbook_templates/tier.toml)."""
    return tomllib.loads(tier_texts_path().read_text(encoding="utf-8"))


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 50 else text[:47] + "..."


class _Tier:
    def __init__(self, plan: Plan, template: Template, scores: Scores, locations: Locations) -> None:
        self.plan, self.t, self.s, self.loc = plan, template, scores, locations
        self.lang = plan.lang if plan.lang in ("en", "fr") else "en"
        self.fmt = Texts(self.lang)
        self.data = tier_texts()

    def msg(self, key: str, **values: Any) -> str:
        return str(self.data["findings"][key][self.lang]).format(**values)

    def rows(self, table: str) -> Iterator[tuple[int, Row]]:
        key = self.t.table(table).key_column
        for i, row in enumerate(self.plan.tables.get(table, [])):
            if not is_blank(row.get(key)):
                yield i, row

    def at_row(self, severity: Severity, table: str, i: int, column: str, message: str) -> Finding:
        return Finding(severity, *self.loc.at_row(self.t, table, i, column), message)

    def at_field(self, key: str, message: str) -> Finding:
        return Finding("warning", *self.loc.at_field(self.t, key), message)

    # -- blanks that feed the tier
    def blanks(self) -> Iterator[Finding]:
        if num(self.plan.fields.get("gross_margin")) is None:
            yield self.at_field("gross_margin", self.msg("margin_missing"))
        for i, row in self.rows("assessment"):
            rating = num(row.get("rating"))
            if rating is None or not 1 <= rating <= 5:
                text = self.msg("criterion_unrated", name=_short(row["criterion"]))
                yield self.at_row("warning", "assessment", i, "rating", text)
        for i, row in self.rows("stakeholders"):
            if is_backer(row) and num(row.get("influence")) not in (1, 2, 3, 4, 5):
                text = self.msg("backer_no_influence", name=_short(row["name"]))
                yield self.at_row("warning", "stakeholders", i, "influence", text)
        for i, row in self.rows("opportunities"):
            if is_blank(row.get("stage")):
                text = self.msg("deal_no_stage", name=_short(row["name"]))
                yield self.at_row("warning", "opportunities", i, "stage", text)

    def incomplete(self) -> Iterator[Finding]:
        f, need = self.s.figures, self.t.scoring["complete"]
        if f.complete:
            return
        missing = []
        if f.stakeholders < float(need["stakeholders"]):
            missing.append(self.msg("need_stakeholders", count=need["stakeholders"]))
        if f.rated < float(need["rated"]):
            missing.append(self.msg("need_rated", count=need["rated"]))
        if f.revenue is None:
            missing.append(self.msg("need_revenue"))
        yield self.at_field("annual_revenue", self.msg("incomplete", missing="; ".join(missing)))

    # -- consistency
    def consistency(self) -> Iterator[Finding]:
        rules = self.data["consistency"]
        stake, times = self.s.figures.money_at_stake, float(rules["deal_vs_money_at_stake"])
        ranges = rules["stage_probability"]
        for i, row in self.rows("opportunities"):
            name, amount, stage = _short(row["name"]), num(row.get("amount")), row.get("stage")
            if amount is not None and stake > 0 and amount > times * stake and stage != "lost":
                text = self.msg(
                    "deal_too_large",
                    name=name,
                    amount=self.fmt.money(amount),
                    times=f"{times:g}",
                    stake=self.fmt.money(stake),
                )
                yield self.at_row("warning", "opportunities", i, "amount", text)
            probability = num(row.get("probability"))
            if isinstance(stage, str) and stage in ranges and probability is not None:
                low, high = (float(x) for x in ranges[stage])
                if not low <= probability <= high:
                    text = self.msg(
                        "stage_probability",
                        name=name,
                        stage=self.t.label("stage", stage, self.lang),
                        probability=self.fmt.percent(probability),
                        low=self.fmt.percent(low),
                        high=self.fmt.percent(high),
                    )
                    yield self.at_row("warning", "opportunities", i, "probability", text)
        for i, row in self.rows("stakeholders"):
            if row.get("engaged") == "yes" and num(row.get("engagement")) == 1:
                text = self.msg("engaged_rated_one", name=_short(row["name"]))
                yield self.at_row("warning", "stakeholders", i, "engagement", text)
        served = {
            " ".join(str(r.get("objective")).split()).casefold()
            for _, r in self.rows("actions")
            if not is_blank(r.get("objective")) and r.get("status") != "cancelled"
        }
        for i, row in self.rows("objectives"):
            if " ".join(str(row["objective"]).split()).casefold() not in served:
                text = self.msg("objective_no_action", name=_short(row["objective"]))
                yield self.at_row("warning", "objectives", i, "objective", text)


def tier_findings(
    plan: Plan, template: Template, scores: Scores, locations: Locations | None = None
) -> list[Finding]:
    """The blanks that feed the tier, a plan too empty to judge, and inconsistent figures."""
    if not any(n0(getattr(scores.figures, k)) for k in template.status["rated_once"]):
        return []  # a new plan: nothing to question yet
    check = _Tier(plan, template, scores, locations or Locations.from_layout(template, plan))
    return [*check.incomplete(), *check.blanks(), *check.consistency()]
