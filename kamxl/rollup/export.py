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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_text
from ..model import Row
from .portfolio import Portfolio
from .records import kept_columns

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
    if value is None:
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
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_value(row.get(c)) for c in columns])
    return atomic_write_text(path, buffer.getvalue())


def export_csv(portfolio: Portfolio, folder: str | Path) -> list[Path]:
    """Write accounts.csv, opportunities.csv, actions.csv and risks.csv into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    p, t = portfolio, portfolio.template
    accounts = []
    for a in p.sorted_accounts():
        row = p.account_row(a)
        row |= {"tier_label": p.tier_label(a.tier), "stale": p.is_stale(a)}
        accounts.append(row)

    def rows_of(attr: str) -> list[Row]:
        return [
            {"account_id": a.account_id, "account": a.account, "kam": a.kam} | r
            for a in p.sorted_accounts()
            for r in getattr(a, attr)
        ]

    def columns(table: str, extra: str | None = None) -> list[str]:
        keys = kept_columns(t, table, p.include_contacts)
        return [*LEAD_COLUMNS, *keys, *([extra] if extra and extra not in keys else [])]

    return [
        write_csv(folder / "accounts.csv", ACCOUNT_COLUMNS, accounts),
        write_csv(
            folder / "opportunities.csv", columns("opportunities", "weighted"), rows_of("opportunities")
        ),
        write_csv(folder / "actions.csv", columns("actions"), rows_of("actions")),
        write_csv(folder / "risks.csv", columns("risks", "score"), rows_of("risks")),
    ]
