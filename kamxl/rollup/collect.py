"""Read, score and check every workbook, in parallel processes.

Each worker reads one file with :func:`kamxl.reader.read_plan`, scores it from its raw inputs
(never from cached formula values), runs the health check and returns a small
:class:`~kamxl.rollup.records.AccountRecord`, or the reason the file was skipped. One bad file
never stops a roll-up: every exception is caught per file and reported with its message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..alerts import plan_alerts
from ..docprops import KIND, SUMMARY_KIND, custom_properties
from ..findings import NotAPlan, PlanReadError
from ..health import check_plan
from ..isolation import Failed, Guard, run_budget_mb, run_guarded, workers_within
from ..reader import read_plan
from ..report import plan_report, sorted_findings
from ..scoring import score_plan
from ..template import get_template
from .cache import ReadCache, Stamp, encode_record
from .discover import printable
from .portfolio import Problem
from .records import AccountRecord, record_from_plan
from .sharing import shared

Progress = Callable[[int, int, str], None]  # (files done, files in all, file just done)


@dataclass(frozen=True)
class Task:
    """What a worker needs: only picklable, small values."""

    path: str
    file: str
    template: str | None
    as_of: dt.date
    include_contacts: bool
    report: bool = True  # keep the file's `kamxl check --json` object (a roll-up does not need it)
    cached: bool = False  # also give the record as the read cache holds it (cache.encode_record)


@dataclass(frozen=True)
class Ignored:
    """A file recognised and left out on purpose (a portfolio summary)."""

    file: str
    reason: str


Outcome = AccountRecord | Problem | Ignored


def relative_name(path: Path, root: Path) -> str:
    """The path shown in reports: relative to the folder, printable whatever bytes its name holds."""
    try:
        return printable(path.relative_to(root).as_posix())
    except ValueError:
        return printable(path.as_posix())


def is_portfolio_summary(path: str | Path) -> bool:
    """Whether a workbook is a kamxl portfolio summary (its custom document property says so)."""
    return custom_properties(path).get(KIND) == SUMMARY_KIND


def read_one(task: Task) -> Outcome:
    """Read one workbook into a record; never raises."""
    return read_digested(task)[0]


def read_digested(task: Task) -> tuple[Outcome, str, str]:
    """:func:`read_one`, with the hash of the bytes the record was made from ("" if none) and,
    for a ``cached`` task, the record as the read cache holds it ("" otherwise)."""
    try:
        template = get_template(task.template) if task.template else None
        result = read_plan(task.path, template=template)
        scores = score_plan(result.plan, result.template, task.as_of)
        health = check_plan(result.plan, result.template, scores, task.as_of, locations=result.locations)
        findings = sorted_findings([*result.findings, *health])
        alerts = plan_alerts(result.plan, result.template, scores, task.as_of, locations=result.locations)
        record = record_from_plan(
            result.plan,
            result.template,
            file=task.file,
            path=printable(task.path),
            as_of=task.as_of,
            scores=scores,
            findings=findings,
            include_contacts=task.include_contacts,
            check=plan_report(result, scores, findings, alerts, task.as_of) if task.report else None,
            alerts=alerts,
        )
        return record, result.digest, encode_record(record) if task.cached else ""
    except NotAPlan as exc:
        if is_portfolio_summary(task.path):
            return Ignored(task.file, "a kamxl portfolio summary"), "", ""
        return Problem(task.file, exc.reason), "", ""
    except PlanReadError as exc:
        return Problem(task.file, exc.reason), "", ""
    except MemoryError:
        return Problem(task.file, "the reader ran out of memory on this file"), "", ""
    except Exception as exc:  # one unexpected failure must not stop the roll-up of the others
        return Problem(task.file, f"could not be read ({type(exc).__name__}: {exc})"), "", ""


def collect(
    tasks: Iterable[Task],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    guard: Guard | None = None,
    cache: ReadCache | None = None,
    meanwhile: Callable[[], None] | None = None,
    memory_mb: int | None = None,
) -> list[Outcome]:
    """Run :func:`read_one` on every task in ``jobs`` guarded worker processes; file order kept.

    A worker that crashes, runs out of memory or overruns its time costs its file only (the
    file is reported with what happened); ``jobs=1`` reads in one such worker too. With a
    ``cache``, an unchanged file's record is taken from it and every record read is stored in it.
    ``meanwhile()`` runs in this process while the workers read (not at all when none is needed).
    ``memory_mb``: the memory the workers share (:func:`~kamxl.isolation.run_budget_mb`): no more
    of them are started than it holds at the most each may use.
    """
    tasks = list(tasks)
    guard = guard or Guard.from_env()
    budget = run_budget_mb(memory_mb)
    worker = min(guard.budget_mb or budget, budget)
    guard = dataclasses.replace(guard, budget_mb=worker)
    jobs = workers_within(budget, max(1, jobs or default_jobs()), worker)
    outcomes: list[Outcome | None] = [None] * len(tasks)
    stamps: list[Stamp | None] = [None] * len(tasks)
    done = 0

    def tick(i: int) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(tasks), tasks[i].file)

    if cache is not None:
        for i, task in enumerate(tasks):
            stamps[i] = Stamp.of(task.path)
            if (hit := cache.lookup(task.path, stamps[i])) is not None:
                outcomes[i] = compact(hit)
                tick(i)
    todo = [i for i, o in enumerate(outcomes) if o is None]

    def arrived(k: int, result: tuple[Outcome, str, str] | Failed) -> None:
        """Each record is kept (and cached) as it arrives, while the workers read on."""
        i = todo[k]
        if isinstance(result, Failed):
            outcomes[i] = Problem(tasks[i].file, result.reason)
        else:
            outcome, digest, encoded = result
            outcomes[i] = compact(outcome) if isinstance(outcome, AccountRecord) else outcome
            if cache is not None and isinstance(outcome, AccountRecord):
                cache.store(tasks[i].path, stamps[i], digest, outcome, encoded)
        tick(i)

    if todo:
        items = [tasks[i] for i in todo]
        run_guarded(read_digested, items, jobs=jobs, guard=guard, on_result=arrived, meanwhile=meanwhile)
    return [o for o in outcomes if o is not None]


def compact(record: AccountRecord) -> AccountRecord:
    """The record with its short strings shared (:mod:`.sharing`): it costs this process a little
    while the workers read, and saves more when the summary is written (equal strings that are
    one object compare at once) and memory in a large portfolio."""
    for name, value in vars(record).items():
        setattr(record, name, shared(value))
    return record


def default_jobs() -> int:
    """One reading process per CPU this process may use."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1
