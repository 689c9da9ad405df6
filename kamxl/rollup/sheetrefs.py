"""What the summary's sheets share without importing one another: references and tier tones."""

from __future__ import annotations

from xlsxwriter.utility import xl_rowcol_to_cell

HEADER_ROW = 3  # 0-based row of the tables' header on data sheets (and on Trends)
TIER_TONES = {"invest": "good", "maintain": "warn", "deprioritise": "bad", "unrated": "neutral"}


def quote_sheet(sheet: str) -> str:
    """A sheet name as a formula writes it: ``'Q1 ''25'``."""
    return "'" + sheet.replace("'", "''") + "'"


def cell_ref(sheet: str, row: int, col: int) -> str:
    """An absolute reference to a cell of ``sheet`` (for defined names and chart ranges)."""
    return f"={quote_sheet(sheet)}!{xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)}"
