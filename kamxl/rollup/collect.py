"""Read, score and check every workbook, in parallel processes.

Each worker reads one file with :func:`kamxl.reader.read_plan`, scores it from its raw inputs
(never from cached formula values), runs the health check and returns a small
:class:`~kamxl.rollup.records.AccountRecord`, or the reason the file was skipped. One bad file
never stops a roll-up: every exception is caught per file and reported with its message.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ..docprops import KIND, SUMMARY_KIND, custom_properties
from ..findings import NotAPlan, PlanReadError
from ..health import check_plan
from ..reader import read_plan
from ..report import plan_report, sorted_findings
from ..scoring import score_plan
from ..template import get_template
from .portfolio import Problem
from .records import AccountRecord, record_from_plan

Progress = Callable[[int, int, str], None]  # (files done, files in all, file just done)


@dataclass(frozen=True)
class Task:
    """What a worker needs: only picklable, small values."""

    path: str
    file: str
    template: str | None
    as_of: dt.date
    include_contacts: bool


@dataclass(frozen=True)
class Ignored:
    """A file recognised and left out on purpose (a portfolio summary)."""

    file: str
    reason: str


Outcome = AccountRecord | Problem | Ignored


def relative_name(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def is_portfolio_summary(path: str | Path) -> bool:
    """Whether a workbook is a kamxl portfolio summary (its custom document property says so)."""
    return custom_properties(path).get(KIND) == SUMMARY_KIND


def read_one(task: Task) -> Outcome:
    """Read one workbook into a record; never raises."""
    try:
        template = get_template(task.template) if task.template else None
        result = read_plan(task.path, template=template)
        scores = score_plan(result.plan, result.template, task.as_of)
        health = check_plan(result.plan, result.template, scores, task.as_of, locations=result.locations)
        findings = sorted_findings([*result.findings, *health])
        return record_from_plan(
            result.plan,
            result.template,
            file=task.file,
            path=task.path,
            as_of=task.as_of,
            scores=scores,
            findings=findings,
            include_contacts=task.include_contacts,
            check=plan_report(result, scores, findings),
        )
    except NotAPlan as exc:
        if is_portfolio_summary(task.path):
            return Ignored(task.file, "a kamxl portfolio summary")
        return Problem(task.file, exc.reason)
    except PlanReadError as exc:
        return Problem(task.file, exc.reason)
    except Exception as exc:  # one unexpected failure must not stop the roll-up of the others
        return Problem(task.file, f"could not be read ({type(exc).__name__}: {exc})")


def collect(
    tasks: Iterable[Task], *, jobs: int | None = None, progress: Progress | None = None
) -> list[Outcome]:
    """Run :func:`read_one` on every task, in ``jobs`` processes (1: in this process); file order kept."""
    tasks = list(tasks)
    jobs = max(1, jobs or os.cpu_count() or 1)
    outcomes: dict[int, Outcome] = {}

    def done(i: int, outcome: Outcome) -> None:
        outcomes[i] = outcome
        if progress:
            progress(len(outcomes), len(tasks), tasks[i].file)

    if jobs == 1 or len(tasks) <= 1:
        for i, task in enumerate(tasks):
            done(i, read_one(task))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            futures = {pool.submit(read_one, task): i for i, task in enumerate(tasks)}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # a worker process died (out of memory, killed)
                    outcome = Problem(
                        tasks[i].file, f"the reading process failed ({type(exc).__name__}: {exc})"
                    )
                done(i, outcome)
    return [outcomes[i] for i in range(len(tasks))]
