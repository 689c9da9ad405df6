"""Exports for BI tools and Excel: accounts, opportunities, actions and risks.

CSV in one of three dialects (:data:`CSV_DIALECTS`: UTF-8 with a BOM and ``,`` for English
Excel, a BOM, ``;`` and decimal commas for French Excel, plain RFC 4180 UTF-8 for scripts), or
one ``.xlsx`` workbook with a sheet per export. Headers are column codes and choice columns hold
the template's codes: both stable whatever the workbooks' or the summary's language. ISO dates;
each file is written atomically.
Text that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``)
is prefixed with ``'`` so opening a CSV in Excel cannot run what a workbook cell contained.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fileio import atomic_path, atomic_write_text
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
    "status",
    "status_label",
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


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is laid out for the program that opens it."""

    delimiter: str
    decimal: str
    bom: bool


# excel: English Excel's own CSV; excel-fr: French Excel's (list separator ';', decimal comma);
# rfc4180: plain UTF-8 without BOM, for scripts and tools that do not expect one.
CSV_DIALECTS = {
    "excel": CsvDialect(",", ".", True),
    "excel-fr": CsvDialect(";", ",", True),
    "rfc4180": CsvDialect(",", ".", False),
}
EXPORT_FORMATS = ("csv", "xlsx")
XLSX_NAME = "exports.xlsx"


def default_dialect(lang: str) -> str:
    """The dialect Excel opens right in ``lang``'s locale: French Excel splits on ``;``."""
    return "excel-fr" if lang == "fr" else "excel"


@dataclass(frozen=True)
class ExportTarget:
    """Where and how to write the exports: a folder, ``csv`` or ``xlsx``, a CSV dialect."""

    folder: Path
    format: str = "csv"
    dialect: str = "excel"

    def __post_init__(self) -> None:
        if self.format not in EXPORT_FORMATS:
            raise ValueError(f"export format {self.format!r}: use one of {', '.join(EXPORT_FORMATS)}")
        if self.dialect not in CSV_DIALECTS:
            raise ValueError(f"CSV dialect {self.dialect!r}: use one of {', '.join(CSV_DIALECTS)}")


def csv_value(value: Any, decimal: str = ".") -> Any:
    """A cell as CSV text: ISO dates, guarded formulas, blanks for None, ``decimal`` in numbers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):  # a date column of a DataFrame
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        number = int(value) if value.is_integer() else round(value, 6)
        return str(number).replace(".", decimal) if decimal != "." else number
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(path: Path, columns: Iterable[str], rows: Iterable[Row], dialect: str = "rfc4180") -> Path:
    """Write rows as CSV at ``path`` atomically."""
    columns = list(columns)
    return _write_lines(path, columns, ([row.get(c) for c in columns] for row in rows), dialect)


def write_frame_csv(path: Path, frame: pd.DataFrame, dialect: str = "rfc4180") -> Path:
    """Write a DataFrame as CSV at ``path`` atomically, cells as :func:`csv_value` gives them."""
    return _write_lines(path, list(frame.columns), _plain_rows(frame), dialect)


def _plain_rows(frame: pd.DataFrame) -> Iterable[tuple[Any, ...]]:
    """The frame's cells as Python values, ``None`` for missing ones."""
    plain = frame.astype(object)
    return plain.where(frame.notna(), None).itertuples(index=False, name=None)


def _write_lines(path: Path, columns: list[str], lines: Iterable[Iterable[Any]], dialect: str) -> Path:
    style = CSV_DIALECTS[dialect]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for line in lines:
        writer.writerow([csv_value(v, style.decimal) for v in line])
    return atomic_write_text(path, buffer.getvalue(), encoding="utf-8-sig" if style.bom else "utf-8")


FINDING_COLUMNS = ("severity", "sheet", "cell", "message")


def portfolio_tables(portfolio: Portfolio) -> dict[str, tuple[list[str], list[Row]]]:
    """Columns and rows of each table an analyst gets: accounts, pipeline, actions, risks, findings."""
    p, t = portfolio, portfolio.template
    accounts = p.sorted_accounts()
    account_rows = []
    for a in accounts:
        row = p.account_row(a)
        row |= {"tier_label": p.tier_label(a.tier), "stale": p.is_stale(a)}
        row |= {"status": a.status, "status_label": p.status_label(a.status)}  # code, then label
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


MONEY_COLUMNS = (
    "revenue",
    "target",
    "weighted_pipeline",
    "open_pipeline",
    "whitespace",
    "amount",
    "weighted",
)
CATEGORY_COLUMNS = ("tier", "status", "severity")


def portfolio_frames(portfolio: Portfolio) -> dict[str, pd.DataFrame]:
    """One DataFrame per table of :func:`portfolio_tables`, typed for analysis: dates as
    ``datetime64``, tier, status and severity as categories, amounts as floats."""
    import pandas as pd

    frames = {}
    for name, (cols, rows) in portfolio_tables(portfolio).items():
        frame = pd.DataFrame.from_records([[r.get(c) for c in cols] for r in rows], columns=cols)
        frames[name] = _typed(frame.infer_objects())
    return frames


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Give date, money and code columns the dtype pandas computes and groups them best in."""
    import pandas as pd

    for column in frame.columns:
        values = frame[column].dropna()
        if column in MONEY_COLUMNS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        elif column in CATEGORY_COLUMNS:
            frame[column] = frame[column].astype("category")
        elif len(values) and all(isinstance(v, dt.date) for v in values):
            frame[column] = pd.to_datetime(frame[column], errors="coerce")
    return frame


CSV_FILES = {
    "accounts": "accounts.csv",
    "pipeline": "opportunities.csv",
    "actions": "actions.csv",
    "risks": "risks.csv",
}


def export_csv(
    portfolio: Portfolio,
    folder: str | Path | ExportTarget,
    frames: dict[str, pd.DataFrame] | None = None,
    stage: Callable[[Path], Path] | None = None,
) -> list[Path]:
    """Write accounts.csv, opportunities.csv, actions.csv and risks.csv into ``folder`` (or the
    one ``exports.xlsx`` of an ``xlsx`` :class:`ExportTarget`), from the portfolio's DataFrames
    (``frames``, made when not given). A plain folder gets RFC 4180 CSV. ``stage(target)``: where
    to write each file instead, for a roll-up that commits its outputs together; the targets are
    returned."""
    target = folder if isinstance(folder, ExportTarget) else ExportTarget(Path(folder), dialect="rfc4180")
    target.folder.mkdir(parents=True, exist_ok=True)
    frames = frames if frames is not None else portfolio_frames(portfolio)
    place = stage or (lambda path: path)
    if target.format == "xlsx":
        path = target.folder / XLSX_NAME
        write_xlsx(place(path), {Path(n).stem: frames[k] for k, n in CSV_FILES.items()})
        return [path]
    out = []
    for key, name in CSV_FILES.items():
        write_frame_csv(place(target.folder / name), frames[key], target.dialect)
        out.append(target.folder / name)
    return out


def write_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """One workbook, a sheet per frame: numbers as numbers, dates as dates, text as text (never a
    formula), a frozen header row of column codes and an autofilter."""
    import xlsxwriter

    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(
            str(tmp), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        )
        bold = book.add_format({"bold": True})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        for name, frame in sheets.items():
            sheet = book.add_worksheet(name)
            sheet.write_row(0, 0, list(frame.columns), bold)
            for r, line in enumerate(_plain_rows(frame), start=1):
                for c, value in enumerate(line):
                    _write_cell(sheet, r, c, value, day)
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
        book.close()
    return path


def _write_cell(sheet: Any, row: int, col: int, value: Any, day: Any) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return
    if isinstance(value, dt.datetime):
        sheet.write_datetime(
            row, col, value.to_pydatetime() if hasattr(value, "to_pydatetime") else value, day
        )
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), day)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, str(value))
