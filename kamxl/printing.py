"""Page set-up that keeps printed text legible: fit a sheet to the page width only when the text
stays at about 8 pt or more; otherwise print it across pages at a legible scale.

A sheet holding several blocks (a form above its tables, tables side by side) prints each block
on pages of its own, through manual page breaks, instead of cutting a table at the page edge and
repeating the form's label column in front of the next table. A single wide table prints across
pages with its key column repeated. The sheet's heading prints as the page header of every
page, so the rows above the blocks (heading, client, on-screen hint) are left out of the print
area (see :func:`print_areas`): a continuation page never opens on a cut heading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from weakref import WeakKeyDictionary

from xlsxwriter.utility import xl_range_abs
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

A4_LANDSCAPE_WIDTH_PT = (297 / 25.4 - 0.8) * 72  # A4 landscape less the 0.4" side margins
A4_LANDSCAPE_HEIGHT_PT = (210 / 25.4 - 1.1) * 72  # less the 0.5" top and 0.6" bottom margins
POINTS_PER_WIDTH_UNIT = 5.6  # an Excel column width unit (one "0" of Calibri 11 plus padding)
MIN_SCALE = 80  # 10 pt body text prints at 8 pt
DEFAULT_COLUMN_PIXELS = 64  # a column left at Excel's default width (8.43)
MAX_DIGIT_PIXELS, CELL_PADDING_PIXELS = 7, 5  # Calibri 11's "0", and a cell's padding

# Pixel widths of the columns each sheet set through set_width (XlsxWriter's API has no getter).
_WIDTHS: WeakKeyDictionary[Worksheet, dict[int, int]] = WeakKeyDictionary()


def fit_scale(total_width: float) -> int:
    """Print scale (%) that fits ``total_width`` (Excel width units) on one landscape A4 width."""
    if total_width <= 0:
        return 100
    return min(100, int(A4_LANDSCAPE_WIDTH_PT / (total_width * POINTS_PER_WIDTH_UNIT) * 100))


def fit_height_scale(height: float) -> int:
    """Print scale (%) that fits ``height`` points of rows on one landscape A4 page, 3 % spare."""
    return 100 if height <= 0 else min(100, int(A4_LANDSCAPE_HEIGHT_PT / height * 97))


def legible_print(
    ws: Worksheet,
    total_width: float,
    *,
    title_rows: tuple[int, int] | None = None,
    key_col: int | None = 0,
    blocks: Sequence[float] = (),
    col_breaks: Sequence[int] = (),
    row_breaks: Sequence[int] = (),
    first_page_height: float = 0,
) -> int:
    """Landscape A4; one page wide when that keeps :data:`MIN_SCALE`, else across pages.

    ``blocks`` are the widths of the parts that ``col_breaks`` (0-based columns) put on pages of
    their own; ``row_breaks`` (0-based rows) start a new page above a part. With breaks, the
    scale is the largest that fits the widest block, and the ``first_page_height`` points above
    the first row break if given (never below :data:`MIN_SCALE`): Excel ignores manual breaks on
    a sheet fitted to pages. Returns the scale the sheet prints at.
    """
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    if title_rows is not None:
        ws.repeat_rows(*title_rows)
    if col_breaks or row_breaks:
        fits = [fit_scale(w) for w in blocks or (total_width,)] + [fit_height_scale(first_page_height)]
        scale = max(MIN_SCALE, min(fits))
        ws.set_print_scale(scale)  # which also turns an earlier fit_to_pages off
        if col_breaks:
            ws.set_v_pagebreaks(sorted(col_breaks))
        if row_breaks:
            ws.set_h_pagebreaks(sorted(row_breaks))
        return scale
    scale = fit_scale(total_width)
    if scale >= MIN_SCALE:
        ws.fit_to_pages(1, 0)
        return scale
    ws.set_print_scale(MIN_SCALE)  # which also turns an earlier fit_to_pages off
    if key_col is not None:
        ws.repeat_columns(key_col)
    return MIN_SCALE


def column_pixels(width: float) -> int:
    """A column width in Excel width units as pixels, the way Excel and XlsxWriter round it."""
    if width <= 0:
        return 0
    if width < 1:
        return int(width * (MAX_DIGIT_PIXELS + CELL_PADDING_PIXELS) + 0.5)
    return int(width * MAX_DIGIT_PIXELS + 0.5) + CELL_PADDING_PIXELS


def set_width(
    ws: Worksheet,
    first_col: int,
    last_col: int,
    width: float,
    cell_format: Any = None,
    options: dict[str, Any] | None = None,
) -> None:
    """``ws.set_column``, the width kept for :func:`sheet_width` (a sheet's page scale)."""
    ws.set_column(first_col, last_col, width, cell_format, options)
    widths = _WIDTHS.setdefault(ws, {})
    pixels = column_pixels(width)
    for col in range(first_col, last_col + 1):
        widths[col] = pixels


def sheet_width(ws: Worksheet, last_col: int | None = None, first_col: int = 0) -> float:
    """Width of a sheet's columns in Excel width units (columns set with :func:`set_width`)."""
    widths = _WIDTHS.get(ws)
    if widths is None:
        raise ValueError(
            f"sheet {ws.get_name()!r}: no column width was set with kamxl.printing.set_width, "
            "so its printed width is unknown"
        )
    last = max(widths, default=-1) if last_col is None else last_col
    pixels = sum(widths.get(c, DEFAULT_COLUMN_PIXELS) for c in range(first_col, last + 1))
    return pixels / 7


def quote_sheet(sheet: str) -> str:
    """A sheet name as a formula or defined name writes it: ``'Q1 ''25'``."""
    return "'" + sheet.replace("'", "''") + "'"


def print_areas(
    ws: Worksheet, areas: Sequence[tuple[int, int, int, int]], workbook: Workbook | None = None
) -> None:
    """Print areas (first row, first column, last row, last column; 0-based), each on pages of
    its own, with the sheet's print titles above each. XlsxWriter's ``print_area`` sets one;
    several are Excel's own comma-separated ``_xlnm.Print_Area`` name, defined on ``workbook``."""
    if len(areas) == 1:
        ws.print_area(*areas[0])
        return
    if workbook is None:
        raise ValueError(f"sheet {ws.get_name()!r}: several print areas need the workbook")
    name = ws.get_name()
    ranges = ",".join(f"{quote_sheet(name)}!{xl_range_abs(*area)}" for area in areas)
    if workbook.define_name(f"'{name}'!_xlnm.Print_Area", "=" + ranges) == -1:
        raise ValueError(f"sheet {name!r}: its print areas cannot be named ({ranges})")


HEADER_LIMIT = 255  # characters Excel keeps of a page header


def page_header(ws: Worksheet, heading: str, note: str = "") -> None:
    """The sheet's heading (and a note under it when both fit Excel's limit) as the page header
    of every page, for sheets whose heading rows stay out of the print area."""
    text = '&L&"-,Bold"&11' + heading.replace("&", "&&")
    more = '\n&"-,Italic"&8' + note.replace("&", "&&") if note else ""
    ws.set_header(text + more if len(text + more) <= HEADER_LIMIT else text, {"margin": 0.25})
    if more and len(text + more) <= HEADER_LIMIT:
        ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)  # room for the second line
