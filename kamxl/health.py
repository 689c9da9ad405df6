"""The health check: what a KAM should act on in a plan, each pointed at its cell.

Severities, as a KAM would rank them:

* ``error``: act now: a high risk nobody mitigates, a plan not reviewed for too long.
* ``warning``: a gap that weakens the plan or its scores: an objective that is not SMART,
  stakeholders not qualified, no champion, no senior contact, actions without owner or due
  date or overdue, KPIs without target or values, open deals past their close date, a review
  date missing or past.
* ``info``: reserved for readings worth knowing that need no action (the reader uses it).

Pure functions: the plan, its template and a day in, findings out. docs/check.md lists every rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from .alerts import is_key_contact
from .dates import text_date
from .findings import Finding, Severity
from .layout import Locations
from .model import Plan, Row, is_blank
from .scoring import Scores, as_date, kpi_latest, num, risk_score, score_plan
from .template import Template
from .tier_checks import tier_findings

MESSAGES: dict[str, tuple[str, str]] = {
    "smart": (
        'Objective "{name}" is not SMART: no {missing}',
        "Objectif « {name} » pas SMART, à compléter : {missing}",
    ),
    "stakeholder": (
        'Stakeholder "{name}" has no {missing}',
        "Partie prenante « {name} », à renseigner : {missing}",
    ),
    "no_stakeholders": (
        "No stakeholders listed: map the people who decide, influence and use",
        "Aucune partie prenante : identifiez qui décide, influence et utilise",
    ),
    "no_champion": (
        "No champion among the stakeholders: nobody at the client backs us",
        "Aucun champion parmi les parties prenantes : personne ne nous soutient chez le client",
    ),
    "no_senior": (
        "No C-level or decision-maker contact",
        "Aucun contact de direction générale ni décideur",
    ),
    "action": (
        'Action "{name}" has no {missing}',
        "Action « {name} », à renseigner : {missing}",
    ),
    "overdue": (
        'Action "{name}" is overdue (due {due}, {days} ago)',
        "Action « {name} » en retard (échéance {due}, il y a {days})",
    ),
    "kpi_target": (
        'Active KPI "{name}" has no target',
        "KPI actif « {name} » sans cible",
    ),
    "kpi_value": (
        'Active KPI "{name}" has no value in any period',
        "KPI actif « {name} » sans valeur sur aucune période",
    ),
    "no_review": ("No last review date", "Date de dernière revue non renseignée"),
    "stale": (
        "Plan not reviewed for {days} (last review {date}; review at least every {limit})",
        "Plan non revu depuis {days} (dernière revue {date} ; à revoir tous les {limit} au plus)",
    ),
    "next_review": (
        "Next review date {date} is past",
        "La date de prochaine revue ({date}) est passée",
    ),
    "risk": (
        'High risk "{name}" (score {score:g}/25) has no mitigation',
        "Risque élevé « {name} » (score {score:g}/25) sans plan de mitigation",
    ),
    "no_last_contact": (
        'Key stakeholder "{name}" has no last contact date',
        "Partie prenante clé « {name} » sans date de dernier contact",
    ),
    "ritual_overdue": (
        'Ritual "{name}" is overdue (due {date}, {days} ago)',
        "Rituel « {name} » en retard (échéance {date}, il y a {days})",
    ),
    "kpi_count": (
        "{count} active KPIs: keep {low} to {high} active",
        "{count} KPI actifs : en garder de {low} à {high}",
    ),
    "close": (
        'Opportunity "{name}" is still open past its expected close ({date})',
        "Opportunité « {name} » toujours ouverte après sa signature prévue ({date})",
    ),
}
AND = {"en": " and ", "fr": " et "}
DAY = {"en": ("day", "days"), "fr": ("jour", "jours")}


def check_plan(
    plan: Plan,
    template: Template,
    scores: Scores | None = None,
    as_of: dt.date | None = None,
    *,
    locations: Locations | None = None,
) -> list[Finding]:
    """Every health finding of a plan, as of a day (today by default).

    ``locations`` (from :class:`~kamxl.reader.ReadResult`) points findings at the cells where
    the rows really are; without it, cells follow the layout ``write_plan`` uses. ``scores``
    (computed when not given) supply the review date and the figures the tier's findings use.
    """
    as_of = as_of or dt.date.today()
    locations = locations or Locations.from_layout(template, plan)
    check = _Check(plan, template, as_of, locations)
    scored = scores or score_plan(plan, template, as_of)
    return [
        *check.review(scores),
        *check.objectives(),
        *check.stakeholders(),
        *check.actions(),
        *check.kpis(),
        *check.risks(),
        *check.opportunities(),
        *check.rituals(),
        *tier_findings(plan, template, scored, locations),
    ]


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 50 else text[:47] + "..."


class _Check:
    def __init__(self, plan: Plan, template: Template, as_of: dt.date, locations: Locations) -> None:
        self.plan, self.t, self.as_of, self.loc = plan, template, as_of, locations
        self.lang = plan.lang if plan.lang in ("en", "fr") else "en"

    def msg(self, key: str, **values: Any) -> str:
        return MESSAGES[key][0 if self.lang == "en" else 1].format(**values)

    def days(self, n: int) -> str:
        one, many = DAY[self.lang]
        return f"{n} {one if abs(n) == 1 else many}"

    def listed(self, items: list[str]) -> str:
        """``a, b and c`` in the plan's language."""
        return ", ".join(items[:-1]) + AND[self.lang] + items[-1] if len(items) > 1 else items[0]

    def rows(self, table: str) -> Iterator[tuple[int, Row]]:
        """Rows that count (key column filled), with their index in the plan's table."""
        key = self.t.table(table).key_column
        for i, row in enumerate(self.plan.tables.get(table, [])):
            if not is_blank(row.get(key)):
                yield i, row

    def label(self, table: str, column: str) -> str:
        return self.t.table(table).column(column).label[self.lang].lower()

    def at_row(self, severity: Severity, table: str, i: int, column: str | None, message: str) -> Finding:
        sheet, cell = self.loc.at_row(self.t, table, i, column)
        return Finding(severity, sheet, cell, message)

    def at_table(self, severity: Severity, table: str, column: str | None, message: str) -> Finding:
        sheet, cell = self.loc.at_table(self.t, table, column)
        return Finding(severity, sheet, cell, message)

    def missing(self, table: str, row: Row, columns: tuple[str, ...]) -> list[str]:
        known = {col.key for col in self.t.table(table).columns}
        return [c for c in columns if c in known and is_blank(row.get(c))]

    def incomplete(self, table: str, key: str, columns: tuple[str, ...]) -> Iterator[Finding]:
        name_col = self.t.table(table).key_column
        for i, row in self.rows(table):
            gaps = self.missing(table, row, columns)
            if gaps:
                text = self.listed([self.label(table, c) for c in gaps])
                yield self.at_row(
                    "warning", table, i, gaps[0], self.msg(key, name=_short(row[name_col]), missing=text)
                )

    # ---- the rules
    def review(self, scores: Scores | None) -> Iterator[Finding]:
        last = scores.figures.last_review if scores else as_date(self.plan.fields.get("last_review"))
        limit = int(self.t.scoring["stale_after_days"])
        sheet, cell = self.loc.at_field(self.t, "last_review")
        if last is None:
            yield Finding("warning", sheet, cell, self.msg("no_review"))
        elif (days := (self.as_of - last).days) > limit:
            yield Finding(
                "error",
                sheet,
                cell,
                self.msg(
                    "stale", days=self.days(days), date=text_date(last, self.lang), limit=self.days(limit)
                ),
            )
        nxt = as_date(self.plan.fields.get("next_review"))
        if nxt is not None and nxt < self.as_of:
            sheet, cell = self.loc.at_field(self.t, "next_review")
            yield Finding("warning", sheet, cell, self.msg("next_review", date=text_date(nxt, self.lang)))

    def objectives(self) -> Iterator[Finding]:
        yield from self.incomplete("objectives", "smart", ("metric", "target", "deadline", "owner"))

    def stakeholders(self) -> Iterator[Finding]:
        rows = [row for _, row in self.rows("stakeholders")]
        if not rows:
            yield self.at_table("warning", "stakeholders", None, self.msg("no_stakeholders"))
            return
        yield from self.incomplete("stakeholders", "stakeholder", ("role", "stance", "strength"))
        if not any(r.get("stance") == "champion" for r in rows):
            yield self.at_table("warning", "stakeholders", "stance", self.msg("no_champion"))
        if not any(r.get("level") == "c_level" or r.get("role") == "decision_maker" for r in rows):
            yield self.at_table("warning", "stakeholders", "level", self.msg("no_senior"))
        for i, row in self.rows("stakeholders"):
            if is_key_contact(row, self.t) and as_date(row.get("last_contact")) is None:
                text = self.msg("no_last_contact", name=_short(row["name"]))
                yield self.at_row("warning", "stakeholders", i, "last_contact", text)

    def actions(self) -> Iterator[Finding]:
        yield from self.incomplete("actions", "action", ("owner", "due"))
        for i, row in self.rows("actions"):
            due = as_date(row.get("due"))
            if row.get("status") in ("done", "cancelled") or due is None or due >= self.as_of:
                continue
            days = (self.as_of - due).days
            text = self.msg(
                "overdue", name=_short(row["action"]), due=text_date(due, self.lang), days=self.days(days)
            )
            yield self.at_row("warning", "actions", i, "due", text)

    def kpis(self) -> Iterator[Finding]:
        periods = [c.key for c in self.t.table("kpis").columns if c.period]
        active = sum(1 for _, row in self.rows("kpis") if row.get("active") == "yes")
        low, high = int(self.t.scoring["kpis_active_min"]), int(self.t.scoring["kpis_active_max"])
        if not low <= active <= high:
            text = self.msg("kpi_count", count=active, low=low, high=high)
            yield self.at_table("warning", "kpis", "active", text)
        for i, row in self.rows("kpis"):
            if row.get("active") != "yes":
                continue
            name = _short(row["kpi"])
            if num(row.get("target")) is None:
                yield self.at_row("warning", "kpis", i, "target", self.msg("kpi_target", name=name))
            if kpi_latest(row, periods) is None:
                yield self.at_row("warning", "kpis", i, periods[0], self.msg("kpi_value", name=name))

    def risks(self) -> Iterator[Finding]:
        high = float(self.t.scoring["high_risk_score"])
        for i, row in self.rows("risks"):
            score = risk_score(row)
            if (
                row.get("status") == "closed"
                or score is None
                or score < high
                or not is_blank(row.get("mitigation"))
            ):
                continue
            yield self.at_row(
                "error", "risks", i, "mitigation", self.msg("risk", name=_short(row["risk"]), score=score)
            )

    def opportunities(self) -> Iterator[Finding]:
        for i, row in self.rows("opportunities"):
            close = as_date(row.get("expected_close"))
            if row.get("stage") in ("won", "lost") or close is None or close >= self.as_of:
                continue
            text = self.msg("close", name=_short(row["name"]), date=text_date(close, self.lang))
            yield self.at_row("warning", "opportunities", i, "expected_close", text)

    def rituals(self) -> Iterator[Finding]:
        for i, row in self.rows("rituals"):
            due = as_date(row.get("next_due"))
            if due is None or due >= self.as_of:
                continue
            name = (
                self.t.label("ritual", row["ritual"], self.lang)
                if row["ritual"] in self.t.choices["ritual"]
                else row["ritual"]
            )
            text = self.msg(
                "ritual_overdue",
                name=_short(name),
                date=text_date(due, self.lang),
                days=self.days((self.as_of - due).days),
            )
            yield self.at_row("warning", "rituals", i, "next_due", text)
