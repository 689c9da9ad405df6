"""Portfolio roll-up: every account workbook of a folder into one summary workbook for directors.

``rollup(folder)`` finds the workbooks, reads them in parallel processes, scores them from
their raw inputs, stores a dated snapshot in a SQLite history, writes the summary workbook
atomically and, on request, CSV exports. docs/rollup.md describes the result and the sheets.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import types
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..docprops import KIND, SUMMARY_KIND, custom_properties
from ..fileio import content_digest, exclusive_lock, lock_path, remove_stale_temporaries
from ..template import Template, get_template
from .cache import CACHE_NAME, ReadCache
from .capacity import capacity_settings
from .collect import Ignored, Progress, Task, relative_name
from .collect import collect as read_workbooks
from .commit import CSV_NAMES, RunOutputs, recover, remove_orphans_in
from .discover import Discovery, discover, printable
from .duplicates import same_size_digests, split_duplicates
from .export import ExportTarget, default_dialect, export_csv, portfolio_frames
from .forecast import ForecastState, forecast_settings, prepare_forecast
from .history import (
    DealSnapshot,
    HistoryError,
    PendingSnapshot,
    Trends,
    check_history,
    last_run,
    load_deals,
    review_baselines,
)
from .portfolio import Portfolio, Problem
from .records import AccountRecord, record_from_plan

if TYPE_CHECKING:
    import pandas as pd

SUMMARY_STEM = "portfolio-summary"
SUMMARY_NAME = SUMMARY_STEM + ".xlsm"  # macro-enabled: the Overview's Roll up button
SUMMARY_SUFFIXES = (".xlsm", ".xlsx")
HISTORY_NAME = "portfolio-history.sqlite"
JSON_SCHEMA_VERSION = 1  # of the --json object: raised when a key changes meaning or goes away

__all__ = [
    "AccountRecord",
    "HistoryError",
    "NoPlanRead",
    "NothingToRollUp",
    "Portfolio",
    "RollupResult",
    "default_output",
    "record_from_plan",
    "rollup",
]


@dataclass
class RollupResult:
    """What a roll-up did: the summary's path, the accounts read, the files skipped, the totals."""

    output: Path
    accounts: list[AccountRecord]
    skipped: list[dict[str, str]]
    ignored: list[dict[str, str]]
    totals: dict[str, Any]
    duplicates: list[dict[str, str]]  # files of an account counted under another name
    as_of: dt.date
    history: Path | None = None
    exports: list[Path] = field(default_factory=list)
    digests: list[Path] = field(default_factory=list)  # e-mail drafts, one per KAM and the director's
    errors: list[dict[str, str]] = field(default_factory=list)  # outputs not written, and why
    written: list[Path] = field(default_factory=list)  # every file this roll-up wrote
    from_cache: int = 0  # accounts whose unchanged workbook was not read again
    up_to_date: bool = False  # nothing changed: the summary and history were left as they were
    portfolio: Portfolio | None = field(default=None, repr=False, compare=False)

    def frames(self) -> dict[str, pd.DataFrame]:
        """pandas DataFrames of the roll-up: ``accounts``, ``pipeline``, ``actions``, ``risks`` and
        ``findings`` (one row per account, opportunity, action, risk or finding; the CSV exports'
        columns, personal data left out unless contacts were included)."""
        if self._frames is None:
            if self.portfolio is None:
                raise ValueError("this result holds no portfolio to make DataFrames from")
            self._frames = portfolio_frames(self.portfolio)
        return self._frames

    _frames: dict[str, pd.DataFrame] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def exit_code(self) -> int:
        """0 all read and written; 1 done, but files were skipped or duplicated, or an output was
        not written."""
        return 1 if self.skipped or self.errors or self.duplicates else 0

    def as_json(self) -> dict[str, Any]:
        """The object ``kamxl rollup --json`` prints (docs/rollup.md)."""
        return {
            "schema_version": JSON_SCHEMA_VERSION,
            "error": None,
            "output": str(self.output),
            "written": [str(p) for p in self.written],
            "errors": self.errors,
            "accounts": len(self.accounts),
            "skipped": self.skipped,
            "ignored": self.ignored,
            "duplicates": self.duplicates,
            "totals": _rounded(self.totals),
            "as_of": self.as_of.isoformat(),
            "history": str(self.history) if self.history else None,
            "exports": [str(p) for p in self.exports],
            "digests": [str(p) for p in self.digests],
            **_forecast_json(self.portfolio),
            "from_cache": self.from_cache,
            "up_to_date": self.up_to_date,
        }


def nothing_done_json(
    error: str,
    output: Path | None = None,
    as_of: dt.date | None = None,
    nothing: NothingToRollUp | None = None,
) -> dict[str, Any]:
    """The ``--json`` object of a roll-up that wrote nothing (exit code 2): the same keys, ``error``
    set, and the files passed over when the folder held no workbook."""
    skipped = [p.as_dict() for p in nothing.skipped] if nothing else []
    ignored = [p.as_dict() for p in nothing.ignored] if nothing else []
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "error": error,
        "output": str(output) if output else None,
        "written": [],
        "errors": [],
        "accounts": 0,
        "skipped": skipped,
        "ignored": ignored,
        "duplicates": [],
        "totals": None,
        "as_of": as_of.isoformat() if as_of else None,
        "history": None,
        "exports": [],
        "digests": [],
        "calibrated_tiers": False,
        "calibration": {},
        "from_cache": 0,
        "up_to_date": False,
    }


def default_output(folder: str | Path, *, macros: bool = True) -> Path:
    """``portfolio/portfolio-summary.xlsm`` beside the folder rolled up (inside it for a drive root);
    ``.xlsx`` without macros."""
    folder = Path(os.path.abspath(folder))
    parent = folder.parent if folder.parent != folder else folder
    return parent / "portfolio" / summary_name(macros)


def summary_name(macros: bool = True) -> str:
    return SUMMARY_STEM + (".xlsm" if macros else ".xlsx")


def rollup(
    folder: str | Path,
    *,
    output: str | Path | None = None,
    recursive: bool = False,
    jobs: int | None = None,
    history: str | Path | bool | None = None,
    export: str | Path | None = None,
    digest: str | Path | None = None,
    include_contacts: bool = False,
    template: Template | str | Path | None = None,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
    lang: str = "en",
    macros: bool | None = None,
    waiting: Callable[[str], None] | None = None,
    cache: str | Path | bool | None = None,
    calibrated_tiers: bool = False,
    memory_mb: int | None = None,
    export_format: str = "csv",
    csv_dialect: str | None = None,
) -> RollupResult:
    """Roll every account workbook of ``folder`` up into one summary workbook.

    ``output``: the summary's path (a folder gets ``portfolio-summary.xlsx`` inside); default
    :func:`default_output`. ``history``: the SQLite file of snapshots (default beside the output;
    ``False`` keeps no history). ``export``: a folder for the exports, ``export_format`` ``csv``
    (in ``csv_dialect``: ``excel``, ``excel-fr`` or ``rfc4180``; default from ``lang``) or ``xlsx``.
    ``digest``: a folder for the e-mail drafts (:mod:`kamxl.rollup.digest`: one per KAM, one for
    the director; nothing is sent). ``jobs``: reading
    processes (default: one per CPU; 1 reads in this process). ``as_of``: the day scores, overdue
    actions and the snapshot refer to (default today). ``progress(done, total, file)`` is called
    after each file. ``macros``: a macro-enabled ``.xlsm`` with the Roll up button (the default)
    or a plain ``.xlsx``; an ``output`` ending in ``.xlsm`` or ``.xlsx`` decides it when not given.
    ``waiting(message)`` is told when another roll-up holds the output and this one waits for it.
    ``cache``: the file of what this roll-up read (default ``portfolio-cache.json.gz`` beside the
    history, or the output without a history; ``False`` reads every file); an unchanged
    workbook's record comes from it instead of being read again (:mod:`kamxl.rollup.cache`).
    ``calibrated_tiers``: priorities and tiers use each deal's calibrated probability
    (:mod:`kamxl.rollup.forecast`) instead of the declared one; the summary says so.
    ``memory_mb``: the memory the reading processes share (default ``KAMXL_MEMORY_MB`` or 1536).

    Raises :class:`NothingToRollUp` when the folder holds no workbook, ``ValueError`` when the
    output is a file kamxl did not write, :class:`HistoryError` for a file that is not a kamxl
    history: in each case before anything is written. Outputs that could not be written after
    the summary are listed in ``RollupResult.errors``.
    """
    folder = Path(os.path.abspath(folder))
    as_of = as_of or dt.date.today()
    tpl = template if isinstance(template, Template) else get_template(template)
    forecast_settings(tpl)  # a bad [forecast] or [capacity] setting: refused before anything is read
    capacity_settings(tpl)
    out = _output_path(folder, output, macros)
    refuse_overwrite(out)
    exports = (
        ExportTarget(Path(export), export_format, csv_dialect or default_dialect(lang)) if export else None
    )
    db = (
        None
        if history is False
        else Path(history)
        if history not in (None, True)
        else out.parent / HISTORY_NAME
    )
    if db:
        check_history(db)
    cache_path = (
        None
        if cache is False
        else Path(cache)
        if cache not in (None, True)
        else (db or out).parent / CACHE_NAME
    )
    found = discover(folder, recursive=recursive, exclude=[out])
    if not found.files:
        raise NothingToRollUp(folder, found)
    made = not out.parent.exists()
    try:
        return _locked(
            out,
            folder,
            found,
            db,
            tpl,
            template is not None,
            as_of,
            exports,
            digest,
            cache_path=cache_path,
            waiting=waiting,
            include_contacts=include_contacts,
            jobs=jobs,
            progress=progress,
            lang=lang,
            memory_mb=memory_mb,
            calibrated_tiers=calibrated_tiers,
        )
    except NoPlanRead:
        if made:  # the folder this run made for its lock only: nothing is left behind
            lock_path(out).unlink(missing_ok=True)
            with suppress(OSError):
                out.parent.rmdir()
        raise


def _locked(
    out: Path,
    folder: Path,
    found: Discovery,
    db: Path | None,
    tpl: Template,
    custom_template: bool,
    as_of: dt.date,
    export: ExportTarget | None,
    digest: str | Path | None,
    *,
    cache_path: Path | None,
    waiting: Callable[[str], None] | None,
    **options: Any,
) -> RollupResult:
    """The roll-up, with the summary's lock held: first what a stopped run left is dealt with."""
    with exclusive_lock(out, on_wait=waiting):
        recover(out, log=waiting)  # what a stopped run left: completed or undone, before anything else
        remove_stale_temporaries(out.parent)
        if cache_path:
            remove_orphans_in(cache_path.parent, [cache_path.name])
        if export:
            remove_orphans_in(export.folder, CSV_NAMES)
        for extra in (export.folder if export else None, digest):
            if extra:
                remove_stale_temporaries(extra)
        return _rollup_locked(
            folder,
            found,
            out,
            db,
            tpl,
            custom_template,
            as_of,
            export,
            digest,
            cache_path=cache_path,
            **options,
        )


class NothingToRollUp(ValueError):
    """The folder holds no workbook to read: nothing is written."""

    def __init__(self, folder: Path, found: Discovery) -> None:
        self.folder, self.found = folder, found
        self.skipped = _problems(found.unsupported, [], folder)
        self.ignored = _problems(found.ignored, [], folder)
        passed = len(found.ignored) + len(found.unsupported)
        detail = f" ({passed} other file{'s' if passed != 1 else ''} passed over)" if passed else ""
        super().__init__(
            f"{printable(folder)}: no .xlsx or .xlsm workbook to roll up{detail}; nothing written"
        )


class NoPlanRead(NothingToRollUp):
    """Not one workbook of the folder could be read (as ``kamxl check`` ends with exit code 2): the
    previous summary and history are kept rather than replaced by a portfolio of no account."""

    def __init__(
        self, folder: Path, found: Discovery, skipped: list[Problem], ignored: list[Problem]
    ) -> None:
        ValueError.__init__(
            self,
            f"{printable(folder)}: not one of the {len(skipped)} workbook-like file(s) could be read "
            "(each listed with its reason); nothing written",
        )
        self.folder, self.found, self.skipped, self.ignored = folder, found, skipped, ignored


def refuse_overwrite(out: Path) -> None:
    """kamxl replaces only a summary it wrote: never a plan or any other workbook."""
    if not out.exists():
        return
    if not out.is_file():
        raise ValueError(f"{printable(out)}: not a file; give the summary's path or a folder")
    if custom_properties(out).get(KIND) != SUMMARY_KIND:
        raise ValueError(
            f"{printable(out)}: exists and is not a kamxl portfolio summary; it is left as it is. "
            "Give another -o path"
        )


def _rollup_locked(
    folder: Path,
    found: Discovery,
    out: Path,
    db: Path | None,
    tpl: Template,
    custom_template: bool,
    as_of: dt.date,
    export: ExportTarget | None,
    digest: str | Path | None,
    *,
    include_contacts: bool,
    jobs: int | None,
    progress: Progress | None,
    lang: str,
    cache_path: Path | None = None,
    calibrated_tiers: bool = False,
    memory_mb: int | None = None,
) -> RollupResult:
    cache = (
        ReadCache.for_rollup(cache_path, tpl, as_of=as_of, folder=folder, include_contacts=include_contacts)
        if cache_path
        else None
    )
    tasks = [
        Task(
            str(p),
            relative_name(p, folder),
            str(tpl.path) if custom_template else None,
            as_of,
            include_contacts,
            report=False,  # thousands of accounts: the per-file check object is not kept
            cached=cache is not None,
        )
        for p in found.files
    ]
    outcomes = read_workbooks(
        tasks,
        jobs=jobs,
        progress=progress,
        cache=cache,
        meanwhile=lambda: _load_writer(include_contacts),
        memory_mb=memory_mb,
    )
    read = [o for o in outcomes if isinstance(o, AccountRecord)]
    digests = same_size_digests({a.file: folder / a.file for a in read}, lambda p: _file_digest(p, cache))
    accounts, duplicates = split_duplicates(read, digests)
    skipped = _problems(found.unsupported, [o for o in outcomes if isinstance(o, Problem)], folder)
    ignored = _problems(
        found.ignored, [Problem(o.file, o.reason) for o in outcomes if isinstance(o, Ignored)], folder
    )
    if not read:
        raise NoPlanRead(folder, found, skipped, ignored)
    accounts, forecast = _forecast(db, as_of, accounts, tpl, calibrated_tiers)
    portfolio = Portfolio(
        accounts,
        tpl,
        as_of,
        lang=lang,
        folder=printable(folder),
        skipped=skipped,
        ignored=ignored,
        include_contacts=include_contacts,
        forecast=forecast,
        duplicates=duplicates,
    )
    totals = portfolio.totals()
    result = RollupResult(
        output=out,
        accounts=accounts,
        skipped=[p.as_dict() for p in skipped],
        ignored=[p.as_dict() for p in ignored],
        duplicates=[d.as_dict() for d in duplicates],
        totals=totals,
        as_of=as_of,
        history=db,
        from_cache=cache.hits if cache else 0,
        portfolio=portfolio,
    )
    outputs = [out]
    key = (
        cache.outputs_key(result.skipped, result.ignored, lang, [str(out), str(db or "")], calibrated_tiers)
        if cache is not None
        else ""
    )
    # Nothing changed since the last roll-up wrote the summary and history: they are left as they are.
    result.up_to_date = (
        cache is not None
        and cache.hits == len(accounts)
        and cache.outputs_current(key, outputs, last_run(db) if db else None)
    )
    unit = RunOutputs(out, None if result.up_to_date else db)
    _stage_outputs(result, portfolio, unit, cache, key, export)
    try:
        unit.commit(unit.pending)
    except OSError as exc:
        if not unit.committed:
            raise
        # committed, but a file could not be renamed yet (open in Excel?): the next run finishes
        where = str(exc.filename2 or exc.filename or out)
        result.errors.append({"output": where, "reason": f"not replaced yet: {exc.strerror}"})
    result.written += [target for _, target in unit.moves] + ([db] if unit.pending is not None else [])
    if digest:
        try:
            from .digest import write_digests  # e-mail and calendar modules, only for digests

            result.digests = write_digests(portfolio, digest, summary=out)
            result.written += result.digests
        except OSError as exc:
            result.errors.append(
                {"output": printable(digest), "reason": f"digests not written: {exc.strerror or exc}"}
            )
    return result


def _forecast(
    db: Path | None, as_of: dt.date, accounts: list[AccountRecord], tpl: Template, calibrated_tiers: bool
) -> tuple[list[AccountRecord], ForecastState]:
    """The calibration from the history's deals and this roll-up's (this one's alone when the
    history cannot be read: storing the snapshot then reports why)."""
    history: list[DealSnapshot] = []
    if db:
        with suppress(HistoryError):
            history = load_deals(db, before=as_of, decisive=True)
    return prepare_forecast(history, as_of, accounts, tpl, calibrated_tiers=calibrated_tiers)


def _forecast_json(portfolio: Portfolio | None) -> dict[str, Any]:
    state = portfolio.forecast if portfolio is not None else None
    if portfolio is None or state is None:
        return {"calibrated_tiers": False, "calibration": {}}
    return {"calibrated_tiers": state.calibrated_tiers, "calibration": state.as_json(portfolio.accounts)}


def _stage_outputs(
    result: RollupResult,
    portfolio: Portfolio,
    unit: RunOutputs,
    cache: ReadCache | None,
    key: str,
    export: str | Path | None,
) -> None:
    """Write every output of the run to its staged file, today's snapshot in an open transaction;
    on any failure nothing is left: the previous outputs stay the current ones."""
    try:
        trends = Trends()
        if unit.history is not None:
            unit.pending = PendingSnapshot(
                unit.history, portfolio.as_of, result.totals, portfolio.accounts, portfolio.folder
            )
            trends = unit.pending.trends()
        _load_baselines(portfolio, result.history, unit.pending)
        if not result.up_to_date:
            from .summary import write_summary  # the writer's modules, only once there is a summary to write

            write_summary(portfolio, unit.stage(result.output), trends=trends)
        _write_exports(result, portfolio, export, unit)
        if cache is not None and not result.up_to_date:
            if not result.errors:
                staged = unit.staged(result.output)
                cache.outputs_written(
                    key, {result.output: staged} if staged else {}, unit.run_id if unit.history else None
                )
            cache.save(unit.stage(cache.path))
    except BaseException as exc:
        if unit.pending is not None:
            unit.pending.rollback()
        unit.discard()
        if isinstance(exc, OSError) and unit.named(exc) is not exc:
            raise unit.named(exc) from exc
        raise


def _file_digest(path: Path, cache: ReadCache | None) -> str:
    """The hash of a workbook's bytes: the cache's when it has it, else the file read again."""
    entry = cache.new.get(str(path)) if cache is not None else None
    if entry:
        return entry[1]
    try:
        return content_digest(path.read_bytes())
    except OSError:
        return f"unreadable:{path}"  # never the same as another file's


def _load_writer(include_contacts: bool) -> None:
    """Load the summary writer and build its VBA project while the workers read: this process is
    idle then."""
    from .summary import prepare

    prepare(include_contacts)


def _load_baselines(portfolio: Portfolio, db: Path | None, pending: PendingSnapshot | None) -> None:
    """Scores and tiers at each account's last review, for the "Changes since last review" column
    (counts only when the history cannot be read)."""
    if db:
        with suppress(HistoryError):
            portfolio.baselines = (
                pending.baselines(portfolio.accounts) if pending else review_baselines(db, portfolio.accounts)
            )


def _write_exports(
    result: RollupResult, portfolio: Portfolio, export: ExportTarget | None, unit: RunOutputs
) -> None:
    """Stage the exports. A folder that cannot be made leaves them out (reported, exit code 1);
    a file that cannot be written stops the whole run (nothing committed)."""
    if not export:
        return
    try:
        export.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        result.errors.append(
            {"output": printable(export.folder), "reason": f"exports not written: {exc.strerror or exc}"}
        )
        return
    result.exports = export_csv(portfolio, export, result.frames(), stage=unit.stage)


def _problems(found: list[tuple[Path, str]], outcomes: list[Problem], folder: Path) -> list[Problem]:
    problems = [Problem(relative_name(path, folder), reason) for path, reason in found] + outcomes
    return sorted(problems, key=lambda p: p.file.casefold())


def _output_path(folder: Path, output: str | Path | None, macros: bool | None) -> Path:
    if output is None:
        return default_output(folder, macros=macros is not False)
    out = Path(output)
    if out.is_dir() or (not out.suffix and not out.exists()):
        out = out / summary_name(macros is not False)
    suffix = out.suffix.lower()
    if suffix not in SUMMARY_SUFFIXES:
        raise ValueError(f"{out}: the summary is an Excel workbook; give a path ending in .xlsm or .xlsx")
    if macros is not None and macros != (suffix == ".xlsm"):
        wanted = ".xlsm" if macros else ".xlsx"
        raise ValueError(
            f"{out}: a summary {'with' if macros else 'without'} macros is a {wanted} file; "
            f"give a path ending in {wanted}"
        )
    return Path(os.path.abspath(out))


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 2)
    return value


class _CallablePackage(types.ModuleType):
    """``kamxl.rollup(folder, ...)`` calls :func:`rollup`; ``kamxl.rollup.summary`` stays a module."""

    def __call__(self, *args: Any, **kwargs: Any) -> RollupResult:
        return rollup(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
