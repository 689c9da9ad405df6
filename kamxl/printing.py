"""Page set-up that keeps printed text legible: fit a sheet to the page width only when the text
stays at about 8 pt or more; otherwise print it across pages at a legible scale with the title
rows and the key column repeated on every page."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

A4_LANDSCAPE_WIDTH_PT = (297 / 25.4 - 0.8) * 72  # A4 landscape less the 0.4" side margins
POINTS_PER_WIDTH_UNIT = 5.6  # an Excel column width unit (one "0" of Calibri 11 plus padding)
MIN_SCALE = 80  # 10 pt body text prints at 8 pt


def fit_scale(total_width: float) -> int:
    """Print scale (%) that fits ``total_width`` (Excel width units) on one landscape A4 width."""
    if total_width <= 0:
        return 100
    return min(100, int(A4_LANDSCAPE_WIDTH_PT / (total_width * POINTS_PER_WIDTH_UNIT) * 100))


def legible_print(
    ws: Worksheet, total_width: float, *, title_rows: tuple[int, int] | None = None, key_col: int | None = 0
) -> int:
    """Landscape A4; one page wide when that keeps :data:`MIN_SCALE`, else across pages.

    Returns the scale the sheet prints at (for tests and the docs).
    """
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    if title_rows is not None:
        ws.repeat_rows(*title_rows)
    scale = fit_scale(total_width)
    if scale >= MIN_SCALE:
        ws.fit_to_pages(1, 0)
        return scale
    ws.fit_page = False  # an earlier fit_to_pages would win over the scale
    ws.set_print_scale(MIN_SCALE)
    if key_col is not None:
        ws.repeat_columns(key_col)
    return MIN_SCALE


def sheet_width(ws: Worksheet, last_col: int | None = None) -> float:
    """Width of a sheet's used columns in Excel width units (columns set with ``set_column``)."""
    info = ws.col_info
    last = max(info, default=-1) if last_col is None else last_col
    pixels = sum(info[c].width if c in info else 64 for c in range(last + 1))
    return pixels / 7
