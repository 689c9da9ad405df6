"""``--since DATE|FILE``: the baseline "what changed" compares the plan with."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..model import Plan
from ..rollup.history import HistoryError
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

    Raises :class:`~kamxl.findings.PlanReadError` when the previous copy cannot be read or is a
    copy of another account, :class:`~kamxl.rollup.history.HistoryError` when the ``history``
    given cannot be read.
    """
    if isinstance(since, Path):
        from ..findings import PlanReadError
        from ..reader import read_plan

        before = read_plan(since, template=template).plan
        if before.account_id != plan.account_id:
            raise PlanReadError(since, f"a copy of {before.name!r}, not of {plan.name!r}: nothing to compare")
        mtime = dt.date.fromtimestamp(since.stat().st_mtime)
        return compare_plans(before, plan, template, since=mtime, as_of=as_of)
    day = since or as_date(plan.fields.get("last_review"))
    if day is None:
        return None
    db = history or find_history(plan_path)
    try:
        baseline = history_baseline(db, plan.account_id, day) if db else None
    except HistoryError:
        if history:
            raise
        baseline = None  # a file found beside the plan that is no kamxl history: the plan's dates only
    return changes_since_date(plan, template, day, baseline=baseline, as_of=as_of)


def add_changes(
    reports: list[dict],
    since: dt.date | Path,
    *,
    history: Path | None = None,
    template: Template | Path | None = None,
    as_of: dt.date | None = None,
) -> list[str]:
    """Put ``changes`` (what changed since DATE or FILE) into each check report; return problems.

    A previous copy given as FILE is compared with the reports of the same account only.
    """
    from ..findings import PlanReadError
    from ..reader import read_plan

    problems = []
    before = None
    if isinstance(since, Path):
        try:
            before = read_plan(since, template=template)
        except PlanReadError as exc:
            return [f"{exc.path}: {exc.reason}"]
    for report in reports:
        path = Path(report["file"])
        try:
            result = read_plan(path, template=template)
        except PlanReadError as exc:
            problems.append(f"{exc.path}: {exc.reason}")
            continue
        lang = result.plan.lang
        if before is not None:
            if before.plan.account_id != result.plan.account_id:
                problems.append(f"{path}: --since {since} is a copy of another account; no changes shown")
                continue
            day = dt.date.fromtimestamp(Path(since).stat().st_mtime)
            changes = compare_plans(before.plan, result.plan, result.template, since=day, as_of=as_of)
        else:
            try:
                changes = changes_for(result.plan, result.template, path, since, history=history, as_of=as_of)
            except HistoryError as exc:
                problems.append(str(exc))
                continue
        if changes is not None:
            report["changes"] = changes.as_dict(lang)
    return problems
