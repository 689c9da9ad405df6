"""Put an org chart :class:`~kamxl.orgchart.Drawing` on a sheet: at write time (XlsxWriter) or
in the workbook open in Excel (xlwings, from the Recompute button). Both paint the same cells."""

from __future__ import annotations

import contextlib
from typing import Any

from .orgchart import FIRST_COL, UNIT_WIDTH, Drawing, Paint, Style

LEGEND_ROW = 4  # first row the drawing owns; rows above hold the sheet's title and hint
# Excel's XlBordersIndex and XlLineStyle/XlBorderWeight for XlsxWriter border numbers.
_EDGES = {"top": 8, "bottom": 9, "left": 7, "right": 10}
_WIN_LINES = {1: (1, 2), 2: (1, -4138), 5: (1, 4), 8: (-4115, -4138), 3: (-4115, 2)}


def xlsx_format(workbook: Any, style: Style, cache: dict[tuple[Any, ...], Any]) -> Any:
    """An XlsxWriter format for a style, made once per distinct style."""
    key = style.key()
    if key not in cache:
        props: dict[str, Any] = {
            "font_size": style.size,
            "font_color": style.font_color,
            "bold": style.bold,
            "italic": style.italic,
            "align": style.align,
            "valign": "vcenter",
            "locked": True,
        }
        if style.fill:
            props |= {"bg_color": style.fill, "pattern": 1}
        for side in ("top", "bottom", "left", "right"):
            edge = getattr(style, side)
            if edge:
                props[side], props[f"{side}_color"] = edge
        cache[key] = workbook.add_format(props)
    return cache[key]


def paint_xlsx(workbook: Any, ws: Any, drawing: Drawing) -> None:
    """Paint the drawing on a new XlsxWriter sheet and fit it on one landscape page."""
    cache: dict[tuple[Any, ...], Any] = {}
    ws.set_column(0, 0, 2)
    ws.set_column(FIRST_COL, max(FIRST_COL, drawing.cols), UNIT_WIDTH)
    for row, height in drawing.row_heights().items():
        ws.set_row(row, height)
    for cell in drawing.cells:
        fmt = xlsx_format(workbook, cell.style, cache)
        if cell.last_col > cell.col:
            ws.merge_range(cell.row, cell.col, cell.row, cell.last_col, cell.value, fmt)
        elif cell.value:
            ws.write_string(cell.row, cell.col, cell.value, fmt)
        else:
            ws.write_blank(cell.row, cell.col, None, fmt)
    ws.set_landscape()
    ws.fit_to_pages(1, 1)
    ws.print_area(0, 0, max(drawing.rows, LEGEND_ROW + 2), max(drawing.cols, 12))


def paint_excel(sheet: Any, drawing: Drawing, *, mac: bool = False) -> None:
    """Repaint the drawing on an xlwings sheet: clear what an earlier drawing left, then paint."""
    used = sheet.used_range
    last_row = max(used.last_cell.row, drawing.rows + 1)
    last_col = max(used.last_cell.column, drawing.cols + 1)
    old = sheet.range((LEGEND_ROW + 1, 1), (last_row, last_col))
    old.unmerge()
    old.clear()
    sheet.range((1, FIRST_COL + 1), (1, drawing.cols + 1)).column_width = UNIT_WIDTH
    for row, height in drawing.row_heights().items():
        sheet.range((row + 1, 1)).row_height = height
    for cell in drawing.cells:
        paint_cell(sheet, cell, mac=mac)


def paint_cell(sheet: Any, cell: Paint, *, mac: bool = False) -> None:
    rng = sheet.range((cell.row + 1, cell.col + 1), (cell.row + 1, cell.last_col + 1))
    if cell.last_col > cell.col:
        rng.merge()
    style = cell.style
    if cell.value:
        rng[0, 0].value = cell.value
    if style.fill:
        rng.color = style.fill
    font = rng.font
    font.size, font.bold, font.italic, font.color = style.size, style.bold, style.italic, style.font_color
    for side, edge_id in _EDGES.items():
        edge = getattr(style, side)
        if edge:
            _border(rng, edge_id, edge, mac)
    with contextlib.suppress(Exception):  # alignment is cosmetic: never fail a recompute on it
        align = {"center": -4108, "left": -4131}[style.align]
        if mac:
            rng.api.horizontal_alignment.set(align)
        else:
            rng.api.HorizontalAlignment = align


def _border(rng: Any, edge_id: int, edge: tuple[int, str], mac: bool) -> None:
    """One border through Excel's object model (xlwings has no border API of its own)."""
    style, color = edge
    line, weight = _WIN_LINES.get(style, (1, 2))
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    with contextlib.suppress(Exception):
        if mac:
            border = rng.api.get_border(which_border=edge_id)
            border.line_style.set(line)
            border.weight.set(weight)
            border.color.set((red, green, blue))
        else:
            border = rng.api.Borders(edge_id)
            border.LineStyle = line
            border.Weight = weight
            border.Color = red + green * 256 + blue * 65536
