"""Alert rules and the account status (healthy, watch, at risk; unrated while empty) beside the tier.

The rules and every threshold are declared in the template's ``[alerts]`` and ``[status]``
sections; this module implements what each rule code looks at. Each alert points at the cell
that shows why it fired. The Dashboard computes the same flags with live formulas
(``kamxl.dashboard``), and the parity tests check both agree. docs/scoring.md lists the rules.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .dates import text_date
from .layout import Locations
from .model import Plan, Row, is_blank
from .scoring import Scores, as_date, is_backer, kpi_attainment, kpi_latest, n0, num, risk_score
from .template import Template

SEVERITY_ORDER = ("high", "medium")
# Between the status reasons the Dashboard lists: French puts a no-break space before ";".
REASONS_SEPARATOR = {"en": "; ", "fr": "\u00a0; "}


@dataclass(frozen=True)
class Alert:
    """One alert rule that fired on a plan, located as Excel shows it (sheet title, ``B7``)."""

    code: str
    severity: str  # high or medium
    message: str
    sheet: str
    cell: str
    label: str  # the rule's short name, as the Dashboard lists it

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "sheet": self.sheet,
            "cell": self.cell,
        }


@dataclass(frozen=True)
class Hit:
    """Where a rule fired (a field, a table row or a table column) and the values its message uses."""

    table: str | None
    index: int | None  # row index in the plan's table; None for the table as a whole
    column: str | None  # field key when ``table`` is None
    values: dict[str, Any]


def ordered_rules(template: Template) -> list[tuple[str, dict[str, Any]]]:
    """The template's rules, high severity first, template order kept within a severity."""
    rules = list(template.alerts.items())
    return sorted(rules, key=lambda item: SEVERITY_ORDER.index(item[1]["severity"]))


def rule_params(template: Template, code: str) -> dict[str, Any]:
    """The numbers a rule's label and message may show."""
    rule = template.alerts[code]
    params = {k: v for k, v in rule.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return params | {"limit": int(template.scoring["stale_after_days"])}


def _typeset(text: str, lang: str) -> str:
    """French puts a narrow no-break space between a number and its % (90 %)."""
    return re.sub(r"(\d)%", "\\1\u202f%", text) if lang == "fr" else text


def rule_label(template: Template, code: str, lang: str) -> str:
    return _typeset(str(template.alerts[code]["label"][lang]).format(**rule_params(template, code)), lang)


def _rows(plan: Plan, template: Template, table: str) -> Iterator[tuple[int, Row]]:
    key = template.table(table).key_column
    for i, row in enumerate(plan.tables.get(table, [])):
        if not is_blank(row.get(key)):
            yield i, row


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 50 else text[:47] + "..."


def _below(code: str, field: str) -> Callable[[Plan, Template, Scores, dt.date], Hit | None]:
    def rule(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> Hit | None:
        value, below = num(plan.fields.get(field)), float(template.alerts[code]["below"])
        return (
            Hit(None, None, field, {"value": value, "below": below})
            if value is not None and value < below
            else None
        )

    return rule


def _churn_risk(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> Hit | None:
    high = float(template.scoring["high_risk_score"])
    for i, row in _rows(plan, template, "risks"):
        score = risk_score(row)
        if (
            row.get("category") == "churn_signal"
            and row.get("status") != "closed"
            and score is not None
            and score >= high
            and is_blank(row.get("mitigation"))
        ):
            return Hit("risks", i, "mitigation", {"name": _short(row["risk"]), "score": score})
    return None


def decider_roles(template: Template) -> list[str]:
    """The roles whose detractors fire ``detractor_decider``: decision makers and budget holders."""
    rule = template.alerts.get("detractor_decider", {})
    return list(rule.get("roles", ["decision_maker", "budget_holder"]))


def _detractor_decider(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> Hit | None:
    roles = decider_roles(template)
    found = [
        i
        for i, row in _rows(plan, template, "stakeholders")
        if row.get("stance") == "detractor" and row.get("role") in roles
    ]
    return Hit("stakeholders", found[0], "stance", {"count": len(found)}) if found else None


def _no_sponsor(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> Hit | None:
    if any(is_backer(row) for _, row in _rows(plan, template, "stakeholders")):
        return None
    return Hit("stakeholders", None, "stance", {})


def is_key_contact(row: Row, template: Template) -> bool:
    """A key stakeholder: a key role (decision maker, budget holder, sponsor) or a high influence."""
    influence = num(row.get("influence"))
    return row.get("role") in template.scoring["key_contact_roles"] or (
        influence is not None and influence >= float(template.scoring["key_contact_influence"])
    )


def _no_contact(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> Hit | None:
    days = int(template.alerts["no_contact"]["days"])
    limit = as_of - dt.timedelta(days=days)
    late = [
        (last, i)
        for i, row in _rows(plan, template, "stakeholders")
        if is_key_contact(row, template)
        and (last := as_date(row.get("last_contact"))) is not None
        and last < limit
    ]
    if not late:
        return None
    oldest, i = min(late)
    return Hit("stakeholders", i, "last_contact", {"count": len(late), "days": days, "date": oldest})


def _rituals_overdue(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> Hit | None:
    late = [
        (due, i)
        for i, row in _rows(plan, template, "rituals")
        if (due := as_date(row.get("next_due"))) is not None and due < as_of
    ]
    if not late:
        return None
    first, i = min(late)
    return Hit("rituals", i, "next_due", {"count": len(late), "date": first})


def _plan_stale(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> Hit | None:
    days, limit = scores.figures.days_since_review, int(template.scoring["stale_after_days"])
    return (
        Hit(None, None, "last_review", {"days": days, "limit": limit})
        if days is not None and days > limit
        else None
    )


def _kpi_low(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> Hit | None:
    periods = [c.key for c in template.table("kpis").columns if c.period]
    weights = sum(
        n0(row.get("weight"))
        for _, row in _rows(plan, template, "kpis")
        if row.get("active") == "yes" and kpi_attainment(row, kpi_latest(row, periods)) is not None
    )
    value, below = scores.figures.kpi_attainment, float(template.alerts["kpi_low"]["below"])
    return (
        Hit("kpis", None, "attainment", {"value": value, "below": below})
        if weights > 0 and value < below
        else None
    )


def _overdue_actions(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> Hit | None:
    late = [
        (due, i)
        for i, row in _rows(plan, template, "actions")
        if row.get("status") not in ("done", "cancelled")
        and (due := as_date(row.get("due"))) is not None
        and due < as_of
    ]
    if len(late) < int(template.alerts["overdue_actions"]["at_least"]) or not late:
        return None
    oldest, i = min(late)
    return Hit("actions", i, "due", {"count": len(late), "date": oldest})


RULES: dict[str, Callable[[Plan, Template, Scores, dt.date], Hit | None]] = {
    "churn_risk": _churn_risk,
    "nrr_low": _below("nrr_low", "nrr"),
    "detractor_decider": _detractor_decider,
    "nps_low": _below("nps_low", "nps"),
    "no_sponsor": _no_sponsor,
    "no_contact": _no_contact,
    "rituals_overdue": _rituals_overdue,
    "plan_stale": _plan_stale,
    "kpi_low": _kpi_low,
    "overdue_actions": _overdue_actions,
}


def _hits(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> Iterator[tuple[str, Hit]]:
    for code, _ in ordered_rules(template):
        hit = RULES[code](plan, template, scores, as_of)
        if hit is not None:
            yield code, hit


def is_rated(scores: Scores, template: Template) -> bool:
    """Whether the plan holds any of the template's ``status.rated_once`` figures (else: unrated)."""
    return any(getattr(scores.figures, key) for key in template.status["rated_once"])


def fired_alerts(plan: Plan, template: Template, scores: Scores, as_of: dt.date) -> list[str]:
    """Codes of the rules that fire, high severity first; none while the plan is unrated."""
    if not is_rated(scores, template):
        return []
    return [code for code, _ in _hits(plan, template, scores, as_of)]


def status_for(
    codes: list[str] | tuple[str, ...], template: Template, *, rated: bool = True, complete: bool = True
) -> str:
    """unrated: nothing entered yet; at_risk: any high alert, or enough medium ones together;
    watch: any medium; incomplete: too empty to judge (never healthy); else healthy."""
    if not rated:
        return "unrated"
    severities = [template.alerts[c]["severity"] for c in codes]
    if "high" in severities or severities.count("medium") >= float(template.status["at_risk_medium"]):
        return "at_risk"
    if severities:
        return "watch"
    return "healthy" if complete else "incomplete"


def status_label(template: Template, status: str, lang: str) -> str:
    return str(template.status[status]["label"][lang])


def plan_alerts(
    plan: Plan,
    template: Template,
    scores: Scores,
    as_of: dt.date | None = None,
    *,
    locations: Locations | None = None,
) -> list[Alert]:
    """Every alert of a plan with its message in the plan's language and the cell to look at."""
    as_of = as_of or dt.date.today()
    loc = locations or Locations.from_layout(template, plan)
    lang = plan.lang if plan.lang in ("en", "fr") else "en"
    out: list[Alert] = []
    if not is_rated(scores, template):
        return out
    for code, hit in _hits(plan, template, scores, as_of):
        if hit.table is None:
            sheet, cell = loc.at_field(template, hit.column or "")
        elif hit.index is None:
            sheet, cell = loc.at_table(template, hit.table, hit.column)
        else:
            sheet, cell = loc.at_row(template, hit.table, hit.index, hit.column)
        rule = template.alerts[code]
        values = {k: text_date(v, lang) if isinstance(v, dt.date) else v for k, v in hit.values.items()}
        message = _typeset(str(rule["message"][lang]).format(**(rule_params(template, code) | values)), lang)
        out.append(Alert(code, rule["severity"], message, sheet, cell, rule_label(template, code, lang)))
    return out


def alert_values(scores: Scores, template: Template, lang: str) -> dict[str, Any]:
    """The Dashboard's alert flags, status and reasons as its formulas show them."""
    rules = ordered_rules(template)
    values: dict[str, Any] = {f"alert_{code}": int(code in scores.alerts) for code, _ in rules}
    values["status"] = status_label(template, scores.status, lang)
    values["status_reasons"] = REASONS_SEPARATOR.get(lang, "; ").join(
        rule_label(template, c, lang) for c, _ in rules if c in scores.alerts
    )
    return values
