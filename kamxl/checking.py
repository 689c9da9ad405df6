"""`kamxl check` as a library call: the same files, the same guarded reading as a roll-up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import printable
from .rollup.collect import Ignored, Task, collect
from .rollup.discover import discover
from .rollup.portfolio import Problem
from .rollup.records import AccountRecord


@dataclass
class CheckRun:
    """The check objects of the files read (docs/check.md) and the files that could not be."""

    reports: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def check_paths(
    paths: Iterable[str | Path],
    *,
    template: str | Path | None = None,
    as_of: dt.date | None = None,
    recursive: bool = False,
    jobs: int | None = None,
    memory_mb: int | None = None,
) -> CheckRun:
    """Check workbooks and folders of workbooks; never writes, never raises for a bad file.

    A folder gives the workbooks a roll-up of it would read (:func:`kamxl.rollup.discover`);
    a file named on its own is read whatever its name. Reading runs in guarded processes, so
    a file that crashes the parser costs that file only; ``memory_mb``: the memory they share.
    """
    as_of = as_of or dt.date.today()
    run = CheckRun()
    files: list[Path] = []
    for given in map(Path, paths):
        if given.is_dir():
            try:
                found = discover(given, recursive=recursive)
            except OSError as exc:
                run.problems.append(Problem(printable(given), f"cannot be opened: {exc.strerror or exc}"))
                continue
            files += found.files
            run.problems += [Problem(printable(p), reason) for p, reason in found.unsupported]
        elif not given.exists() and not given.is_symlink():
            run.problems.append(Problem(printable(given), "no such file"))
        else:
            files.append(given)
    tasks = [Task(str(p), printable(p), str(template) if template else None, as_of, False) for p in files]
    for outcome in collect(tasks, jobs=jobs, memory_mb=memory_mb):
        if isinstance(outcome, AccountRecord) and outcome.check is not None:
            run.reports.append(outcome.check)
        elif isinstance(outcome, Ignored):
            run.problems.append(Problem(outcome.file, f"{outcome.reason}, not an account plan"))
        elif isinstance(outcome, Problem):
            run.problems.append(outcome)
    return run
