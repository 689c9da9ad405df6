"""CSV exports for BI tools: accounts, opportunities, actions and risks.

UTF-8 with a header row, ISO dates, ``.`` as decimal separator; choice columns hold the
template's codes (stable whatever the workbook language). Each file is written atomically.
Text that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``)
is prefixed with ``'`` so opening a CSV in Excel cannot run what a workbook cell contained.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fileio import atomic_write_text
from ..model import Row
from .portfolio import Portfolio
from .records import kept_columns

if TYPE_CHECKING:  # pandas is imported by the functions that use it: never on the reading path
    import pandas as pd

ACCOUNT_COLUMNS = (
    "account_id",
    "account",
    "kam",
    "sector",
    "tier",
    "tier_label",
    "priority",
    "overall",
    "potential",
    "relationship",
    "execution",
    "revenue",
    "target",
    "weighted_pipeline",
    "open_pipeline",
    "whitespace",
    "nrr",
    "nps",
    "attractiveness",
    "position",
    "stakeholders",
    "engaged",
    "coverage",
    "depth",
    "sponsor",
    "last_review",
    "next_review",
    "days_since_review",
    "stale",
    "overdue_actions",
    "high_risks",
    "errors",
    "warnings",
    "file",
)
LEAD_COLUMNS = ("account_id", "account", "kam")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: Any) -> Any:
    """A cell as CSV text: ISO dates, guarded formulas, blanks for None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return int(value) if value.is_integer() else round(value, 6)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(path: Path, columns: Iterable[str], rows: Iterable[Row]) -> Path:
    """Write rows as CSV at ``path`` atomically."""
    columns = list(columns)
    return _write_lines(path, columns, ([row.get(c) for c in columns] for row in rows))


def write_frame_csv(path: Path, frame: pd.DataFrame) -> Path:
    """Write a DataFrame as CSV at ``path`` atomically, cells as :func:`csv_value` gives them."""
    plain = frame.astype(object).where(frame.notna(), None)
    return _write_lines(path, list(frame.columns), plain.itertuples(index=False, name=None))


def _write_lines(path: Path, columns: list[str], lines: Iterable[Iterable[Any]]) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for line in lines:
        writer.writerow([csv_value(v) for v in line])
    return atomic_write_text(path, buffer.getvalue())


FINDING_COLUMNS = ("severity", "sheet", "cell", "message")


def portfolio_tables(portfolio: Portfolio) -> dict[str, tuple[list[str], list[Row]]]:
    """Columns and rows of each table an analyst gets: accounts, pipeline, actions, risks, findings."""
    p, t = portfolio, portfolio.template
    accounts = p.sorted_accounts()
    account_rows = []
    for a in accounts:
        row = p.account_row(a)
        row |= {"tier_label": p.tier_label(a.tier), "stale": p.is_stale(a)}
        account_rows.append(row)

    def rows_of(attr: str) -> list[Row]:
        return [
            {"account_id": a.account_id, "account": a.account, "kam": a.kam} | r
            for a in accounts
            for r in getattr(a, attr)
        ]

    def columns(table: str, extra: str | None = None) -> list[str]:
        keys = kept_columns(t, table, p.include_contacts)
        return [*LEAD_COLUMNS, *keys, *([extra] if extra and extra not in keys else [])]

    return {
        "accounts": (list(ACCOUNT_COLUMNS), account_rows),
        "pipeline": (columns("opportunities", "weighted"), rows_of("opportunities")),
        "actions": (columns("actions"), rows_of("actions")),
        "risks": (columns("risks", "score"), rows_of("risks")),
        "findings": ([*LEAD_COLUMNS, "file", *FINDING_COLUMNS], _finding_rows(accounts)),
    }


def _finding_rows(accounts: Iterable[Any]) -> list[Row]:
    lead = {"file": ""} | dict.fromkeys(LEAD_COLUMNS)
    return [
        lead | {"account_id": a.account_id, "account": a.account, "kam": a.kam, "file": a.file} | f
        for a in accounts
        for f in a.findings
    ]


def portfolio_frames(portfolio: Portfolio) -> dict[str, pd.DataFrame]:
    """One DataFrame per table of :func:`portfolio_tables` (dates stay ``datetime.date``)."""
    import pandas as pd

    return {
        name: pd.DataFrame.from_records(
            [[r.get(c) for c in cols] for r in rows], columns=cols
        ).infer_objects()
        for name, (cols, rows) in portfolio_tables(portfolio).items()
    }


CSV_FILES = {
    "accounts": "accounts.csv",
    "pipeline": "opportunities.csv",
    "actions": "actions.csv",
    "risks": "risks.csv",
}


def export_csv(
    portfolio: Portfolio,
    folder: str | Path,
    frames: dict[str, pd.DataFrame] | None = None,
    stage: Callable[[Path], Path] | None = None,
) -> list[Path]:
    """Write accounts.csv, opportunities.csv, actions.csv and risks.csv into ``folder``, from the
    portfolio's DataFrames (``frames``, made when not given). ``stage(target)``: where to write
    each file instead, for a roll-up that commits its outputs together; the targets are returned."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = frames if frames is not None else portfolio_frames(portfolio)
    out = []
    for key, name in CSV_FILES.items():
        write_frame_csv(stage(folder / name) if stage else folder / name, frames[key])
        out.append(folder / name)
    return out
