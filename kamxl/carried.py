"""The "Carried over" sheet: values of an older workbook that have no place in the current template.

An upgrade never drops a value. Whatever the reader could not place (a column a KAM added to a
table, a sheet of their own, a column a later template removed) is listed here with where it
came from, one value per row, and read back on every later read so a second upgrade keeps it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .model import Row, is_blank
from .template import Template

COLUMNS = ("sheet", "cell", "label", "value")
HEADERS = {
    "en": ("Sheet", "Cell", "Column or label", "Value"),
    "fr": ("Feuille", "Cellule", "Colonne ou libellé", "Valeur"),
}
HEADER_ROW = 3  # 0-based: title, hint, blank, then the header


def sheet_title(template: Template, lang: str) -> str:
    return template.text("carried_over", lang)


def write_carried_over(workbook: Any, template: Template, lang: str, rows: list[Row], styles: Any) -> None:
    """Add the sheet (only when something was carried over) as a plain, filterable table."""
    if not rows:
        return
    ws = workbook.add_worksheet(sheet_title(template, lang))
    ws.set_tab_color("#7F7F7F")
    ws.write_string(0, 0, sheet_title(template, lang), styles.heading)
    ws.write_string(1, 0, template.text("carried_over_hint", lang), styles.hint)
    date_fmt = workbook.add_format({"num_format": template.formats["date"]})
    for r, row in enumerate(rows, start=HEADER_ROW + 1):
        for c, key in enumerate(COLUMNS):
            value = row.get(key)
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_fmt)
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                ws.write_string(r, c, "" if value is None else str(value))
            else:
                ws.write_number(r, c, value)
    ws.add_table(
        HEADER_ROW,
        0,
        HEADER_ROW + len(rows),
        len(COLUMNS) - 1,
        {"name": "CarriedOver", "columns": [{"header": h} for h in HEADERS[lang]], "autofilter": True},
    )
    ws.set_column(0, 1, 16)
    ws.set_column(2, 2, 26)
    ws.set_column(3, 3, 60)


def read_carried_over(grid: list[list[Any]]) -> list[Row]:
    """Rows of a "Carried over" sheet's grid (values from A1); blank rows skipped."""
    rows = []
    for line in grid[HEADER_ROW + 1 :]:
        cells = [*line, *[None] * len(COLUMNS)][: len(COLUMNS)]
        if all(is_blank(v) for v in cells):
            continue
        rows.append(dict(zip(COLUMNS, cells, strict=True)))
    return rows
