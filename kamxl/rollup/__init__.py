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
from ..fileio import exclusive_lock, remove_stale_temporaries
from ..template import Template, get_template
from .cache import CACHE_NAME, ReadCache
from .capacity import capacity_settings
from .collect import Ignored, Progress, Task, relative_name
from .collect import collect as read_workbooks
from .discover import Discovery, discover, printable
from .export import ExportTarget, default_dialect, export_csv, portfolio_frames
from .forecast import ForecastState, forecast_settings, prepare_forecast
from .history import (
    DealSnapshot,
    HistoryError,
    Trends,
    check_history,
    load_deals,
    load_snapshots,
    review_baselines,
    store_snapshot,
    tier_movements,
)
from .portfolio import Portfolio, Problem
from .records import AccountRecord, record_from_plan

if TYPE_CHECKING:
    import pandas as pd

SUMMARY_STEM = "portfolio-summary"
SUMMARY_NAME = SUMMARY_STEM + ".xlsm"  # macro-enabled: the Overview's Roll up button
SUMMARY_SUFFIXES = (".xlsm", ".xlsx")
HISTORY_NAME = "portfolio-history.sqlite"

__all__ = [
    "AccountRecord",
    "HistoryError",
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
        """0 all read and written; 1 done, but files were skipped or an output was not written."""
        return 1 if self.skipped or self.errors else 0

    def as_json(self) -> dict[str, Any]:
        """The object ``kamxl rollup --json`` prints (docs/rollup.md)."""
        return {
            "output": str(self.output),
            "written": [str(p) for p in self.written],
            "errors": self.errors,
            "accounts": len(self.accounts),
            "skipped": self.skipped,
            "ignored": self.ignored,
            "totals": _rounded(self.totals),
            "as_of": self.as_of.isoformat(),
            "history": str(self.history) if self.history else None,
            "exports": [str(p) for p in self.exports],
            "digests": [str(p) for p in self.digests],
            **_forecast_json(self.portfolio),
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
    with exclusive_lock(out, on_wait=waiting):
        remove_stale_temporaries(out.parent)
        for extra in (export, digest):
            if extra:
                remove_stale_temporaries(extra)
        return _rollup_locked(
            folder,
            found,
            out,
            db,
            tpl,
            template is not None,
            as_of,
            exports,
            digest,
            include_contacts=include_contacts,
            jobs=jobs,
            progress=progress,
            lang=lang,
            cache_path=cache_path,
            calibrated_tiers=calibrated_tiers,
        )


class NothingToRollUp(ValueError):
    """The folder holds no workbook to read: nothing is written."""

    def __init__(self, folder: Path, found: Discovery) -> None:
        self.folder, self.found = folder, found
        passed = len(found.ignored) + len(found.unsupported)
        detail = f" ({passed} other file{'s' if passed != 1 else ''} passed over)" if passed else ""
        super().__init__(
            f"{printable(folder)}: no .xlsx or .xlsm workbook to roll up{detail}; nothing written"
        )


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
        tasks, jobs=jobs, progress=progress, cache=cache, meanwhile=lambda: _load_writer(include_contacts)
    )
    accounts = [o for o in outcomes if isinstance(o, AccountRecord)]
    skipped = _problems(found.unsupported, [o for o in outcomes if isinstance(o, Problem)], folder)
    ignored = _problems(
        found.ignored, [Problem(o.file, o.reason) for o in outcomes if isinstance(o, Ignored)], folder
    )
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
    )
    totals = portfolio.totals()
    result = RollupResult(
        output=out,
        accounts=accounts,
        skipped=[p.as_dict() for p in skipped],
        ignored=[p.as_dict() for p in ignored],
        totals=totals,
        as_of=as_of,
        history=db,
        from_cache=cache.hits if cache else 0,
        portfolio=portfolio,
    )
    outputs = [out, *([db] if db else [])]
    key = (
        cache.outputs_key(result.skipped, result.ignored, lang, [str(p) for p in outputs], calibrated_tiers)
        if cache is not None
        else ""
    )
    # Nothing changed since the last roll-up wrote the summary and history: they are left as they are.
    result.up_to_date = (
        cache is not None and cache.hits == len(accounts) and cache.outputs_current(key, outputs)
    )
    if not result.up_to_date:
        trends = Trends()
        if db:
            try:
                trends = _record_history(db, portfolio, totals)
                result.written.append(db)
            except HistoryError as exc:
                result.errors.append({"output": str(db), "reason": f"history not updated: {exc.reason}"})
    _load_baselines(portfolio, db)
    if not result.up_to_date:
        from .summary import write_summary  # the writer's modules, only once there is a summary to write

        write_summary(portfolio, out, trends=trends)
        result.written.append(out)
    _write_exports(result, portfolio, export)
    if cache is not None and not result.up_to_date:
        if not result.errors:
            cache.outputs_written(key, outputs)
        try:
            result.written.append(cache.save())
        except OSError as exc:
            result.errors.append(
                {"output": printable(cache.path), "reason": f"cache not written: {exc.strerror or exc}"}
            )
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
    if state is None:
        return {}
    return {"calibrated_tiers": state.calibrated_tiers, "calibration": state.as_json(portfolio.accounts)}


def _load_writer(include_contacts: bool) -> None:
    """Load the summary writer and build its VBA project while the workers read: this process is
    idle then."""
    from .summary import prepare

    prepare(include_contacts)


def _load_baselines(portfolio: Portfolio, db: Path | None) -> None:
    """Scores and tiers at each account's last review, for the "Changes since last review" column
    (counts only when the history cannot be read)."""
    if db:
        with suppress(HistoryError):
            portfolio.baselines = review_baselines(db, portfolio.accounts)


def _write_exports(result: RollupResult, portfolio: Portfolio, export: ExportTarget | None) -> None:
    if export:
        try:
            result.exports = export_csv(portfolio, export, result.frames())
            result.written += result.exports
        except OSError as exc:
            result.errors.append(
                {"output": printable(export.folder), "reason": f"exports not written: {exc.strerror or exc}"}
            )


def _problems(found: list[tuple[Path, str]], outcomes: list[Problem], folder: Path) -> list[Problem]:
    problems = [Problem(relative_name(path, folder), reason) for path, reason in found] + outcomes
    return sorted(problems, key=lambda p: p.file.casefold())


def _record_history(db: Path, portfolio: Portfolio, totals: dict[str, Any]) -> Trends:
    """Store today's snapshot, then read back what the Trends sheet shows."""
    store_snapshot(db, portfolio.as_of, totals, portfolio.accounts, folder=portfolio.folder)
    previous, moves = tier_movements(db, portfolio.as_of)
    return Trends(db, load_snapshots(db), previous, moves)


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
