"""``--since DATE|FILE``: the baseline "what changed" compares the plan with."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..model import Plan
from ..scoring import as_date
from ..template import Template
from .changes import Changes, changes_since_date, compare_plans, history_baseline

HISTORY_NAME = "portfolio-history.sqlite"


def find_history(plan_path: Path) -> Path | None:
    """The roll-up history beside the plan, or in the ``portfolio`` folder beside its folder."""
    for candidate in (plan_path.parent / HISTORY_NAME, plan_path.parent.parent / "portfolio" / HISTORY_NAME):
        if candidate.is_file():
            return candidate
    return None


def parse_since(value: str) -> dt.date | Path:
    """A date (2026-09-30) or the path of a previous copy of the plan."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return Path(value)


def changes_for(
    plan: Plan,
    template: Template,
    plan_path: Path,
    since: dt.date | Path | None = None,
    *,
    history: Path | None = None,
    as_of: dt.date | None = None,
) -> Changes | None:
    """What changed since a date, a previous copy, or (by default) the plan's last review.

    Raises :class:`~kamxl.findings.PlanReadError` when the previous copy cannot be read.
    """
    if isinstance(since, Path):
        from ..reader import read_plan

        before = read_plan(since, template=template).plan
        mtime = dt.date.fromtimestamp(since.stat().st_mtime)
        return compare_plans(before, plan, template, since=mtime, as_of=as_of)
    day = since or as_date(plan.fields.get("last_review"))
    if day is None:
        return None
    db = history or find_history(plan_path)
    baseline = history_baseline(db, plan.account_id, day) if db else None
    return changes_since_date(plan, template, day, baseline=baseline, as_of=as_of)
