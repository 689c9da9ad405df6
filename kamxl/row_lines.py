"""Row heights of a sheet from the lines its wrapped texts take (XlsxWriter cannot autofit)."""

from __future__ import annotations

from typing import Any

from xlsxwriter.worksheet import Worksheet

from .styles import MAX_LINES, WRAPPED, row_height, text_lines
from .template import Column


class RowLines:
    """Lines each row needs, gathered while a sheet's form and tables are written."""

    def __init__(self) -> None:
        self.lines: dict[int, int] = {}

    def at_least(self, row: int, lines: int) -> None:
        self.lines[row] = max(self.lines.get(row, 1), lines)

    def get(self, row: int) -> int:
        return self.lines.get(row, 1)

    def note(self, row: int, col: Column, value: Any, width: float, minimum: int = 1) -> None:
        """Rows holding wrapped text get the height their words take;
        ``minimum`` lines are left for a long text still to be typed."""
        if col.type not in WRAPPED:
            return
        filled = isinstance(value, str) and value.strip()
        lines = min(text_lines(value, width), MAX_LINES) if filled else minimum
        self.at_least(row, lines)

    def apply(self, ws: Worksheet) -> None:
        for row, lines in self.lines.items():
            if lines > 1:
                ws.set_row(row, row_height(lines))
