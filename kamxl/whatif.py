"""What if: the scores of a plan after a few changes a KAM might make (win or lose a deal, convert
or engage a stakeholder, close a risk, set the margin, add revenue), beside today's.

Pure functions on a copy of the plan: the workbook is never touched. The tier's drivers
(``kamxl.drivers``) and ``kamxl whatif`` use this engine; docs/scoring.md lists the changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from .model import Plan, Row, is_blank
from .scoring import Scores, is_backer, n0, num, risk_score, score_plan
from .template import Template

OPEN = ("prospecting", "qualification", "proposal", "negotiation")


class WhatIfError(ValueError):
    """A change that cannot apply to this plan (no such deal, no detractor to convert...)."""


@dataclass(frozen=True)
class Change:
    """One change: its code and, depending on it, a row's name or a number (None: kamxl picks)."""

    code: str
    value: Any = None


def _rows(plan: Plan, template: Template, table: str) -> list[tuple[int, Row]]:
    key = template.table(table).key_column
    return [(i, r) for i, r in enumerate(plan.tables.get(table, [])) if not is_blank(r.get(key))]


def _pick(
    plan: Plan,
    template: Template,
    table: str,
    name: Any,
    eligible: Callable[[Row], bool],
    rank: Callable[[Row], float],
) -> int:
    """The named row, or the eligible row ranking highest; WhatIfError when there is none."""
    key = template.table(table).key_column
    rows = [(i, r) for i, r in _rows(plan, template, table) if eligible(r)]
    if name is not None:
        rows = [(i, r) for i, r in rows if str(r[key]).strip().casefold() == str(name).strip().casefold()]
    if not rows:
        what = f'"{name}"' if name is not None else "a row"
        raise WhatIfError(f"{table}: {what} this change applies to was not found")
    return max(rows, key=lambda ir: (rank(ir[1]), -ir[0]))[0]


def _influence(row: Row) -> float:
    return n0(row.get("influence"))


def _number(change: Change) -> float:
    value = num(change.value)
    if value is None:
        raise WhatIfError(f"{change.code} needs a number")
    return value


def apply_change(plan: Plan, template: Template, change: Change, as_of: dt.date) -> Plan:
    """A copy of the plan with one change made (rows are replaced, never edited in place)."""
    out = replace(plan, fields=dict(plan.fields), tables={k: list(v) for k, v in plan.tables.items()})
    code, value = change.code, change.value
    deals, people = out.tables.setdefault("opportunities", []), out.tables.setdefault("stakeholders", [])
    if code in ("win_deal", "lose_deal"):
        i = _pick(
            out,
            template,
            "opportunities",
            value,
            lambda r: r.get("stage") in OPEN,
            lambda r: n0(r.get("amount")),
        )
        deals[i] = deals[i] | (
            {"stage": "won", "expected_close": as_of} if code == "win_deal" else {"stage": "lost"}
        )
    elif code == "convert_stakeholder":
        i = _pick(
            out,
            template,
            "stakeholders",
            value,
            lambda r: r.get("stance") != "champion",
            lambda r: (r.get("stance") == "detractor") * 10 + _influence(r),
        )
        people[i] = people[i] | {"stance": "champion", "strength": "strong", "engaged": "yes"}
    elif code == "engage_contact":
        i = _pick(
            out,
            template,
            "stakeholders",
            value,
            lambda r: r.get("engaged") != "yes" and r.get("stance") not in ("detractor", "champion"),
            _influence,
        )
        people[i] = people[i] | {"engaged": "yes"}
    elif code == "lose_champion":
        i = _pick(out, template, "stakeholders", value, is_backer, _influence)
        people[i] = people[i] | {"stance": "detractor", "engaged": "no"}
    elif code == "add_decision_maker":
        name = str(value) if value is not None else "New decision maker"
        people.append(
            {
                "name": name,
                "role": "decision_maker",
                "level": "c_level",
                "stance": "ally",
                "engaged": "yes",
                "engagement": 4,
                "influence": 4,
                "strength": "good",
            }
        )
    elif code == "close_risk":
        risks = out.tables.setdefault("risks", [])
        i = _pick(
            out, template, "risks", value, lambda r: r.get("status") != "closed", lambda r: risk_score(r) or 0
        )
        risks[i] = risks[i] | {"status": "closed"}
    elif code == "set_margin":
        out.fields["gross_margin"] = _number(change)
    elif code == "add_revenue":
        out.fields["annual_revenue"] = n0(out.fields.get("annual_revenue")) + _number(change)
    else:
        raise WhatIfError(f"unknown change {code!r} (known: {', '.join(CHANGES)})")
    return out


CHANGES = (
    "win_deal",
    "lose_deal",
    "convert_stakeholder",
    "engage_contact",
    "add_decision_maker",
    "lose_champion",
    "close_risk",
    "set_margin",
    "add_revenue",
)


@dataclass(frozen=True)
class WhatIf:
    today: Scores
    after: Scores
    plan: Plan  # the changed copy

    def as_dict(self) -> dict[str, Any]:
        def brief(s: Scores) -> dict[str, Any]:
            return {"priority": s.priority, "tier": s.tier, "tier_reason": s.tier_reason, "status": s.status}

        return {"today": brief(self.today), "after": brief(self.after)}


def what_if(
    plan: Plan, template: Template, changes: Iterable[Change], as_of: dt.date | None = None
) -> WhatIf:
    """Today's scores and the scores after every change, made in order."""
    as_of = as_of or dt.date.today()
    changed = plan
    for change in changes:
        changed = apply_change(changed, template, change, as_of)
    return WhatIf(score_plan(plan, template, as_of), score_plan(changed, template, as_of), changed)


# The What-if sheet's inputs, in the order their changes are made: (input key, change code).
SHEET_INPUTS = (
    ("win", "win_deal"),
    ("lose", "lose_deal"),
    ("convert", "convert_stakeholder"),
    ("close", "close_risk"),
    ("margin", "set_margin"),
    ("revenue", "add_revenue"),
)


def sheet_what_if(
    plan: Plan, template: Template, inputs: dict[str, Any], as_of: dt.date | None = None
) -> WhatIf:
    """What the What-if sheet shows for these inputs: a blank input changes nothing, a change
    that does not apply (no open deal of that name...) is left out, as the sheet's formulas do."""
    as_of = as_of or dt.date.today()
    changed = plan
    for key, code in SHEET_INPUTS:
        value = inputs.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if code in ("set_margin", "add_revenue") and num(value) is None:
            continue
        try:
            changed = apply_change(changed, template, Change(code, value), as_of)
        except WhatIfError:
            continue
    return WhatIf(score_plan(plan, template, as_of), score_plan(changed, template, as_of), changed)
