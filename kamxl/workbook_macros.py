"""The macro-enabled workbook: the kamxl VBA project and the Dashboard's buttons."""

from __future__ import annotations

import io
from functools import cache

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .cell_rules import message
from .docprops import XLWINGS_VERSION
from .vba import QBR_MACRO, RECOMPUTE_MACRO, kamxl_vba_project, xlwings_vba_version


@cache
def _vba_project(code_names: tuple[str, ...]) -> bytes:
    return kamxl_vba_project(list(code_names))


def prepare_macros(sheets: int) -> None:
    """Build (and keep) the VBA project of a workbook of ``sheets`` sheets ahead of its data."""
    _vba_project(tuple(f"Sheet{i}" for i in range(1, sheets + 1)))


def add_macros(workbook: Workbook) -> None:
    """Embed the kamxl VBA project; every sheet gets the code name the project declares."""
    workbook.set_vba_name("ThisWorkbook")
    names = []
    for i, ws in enumerate(workbook.worksheets(), start=1):
        ws.set_vba_name(f"Sheet{i}")
        names.append(f"Sheet{i}")
    workbook.add_vba_project(io.BytesIO(_vba_project(tuple(names))), is_stream=True)
    workbook.set_custom_property(XLWINGS_VERSION, xlwings_vba_version())


def add_buttons(dashboard: Worksheet, lang: str) -> None:
    """Recompute & check, and the quarterly review deck, on the Dashboard."""
    dashboard.insert_button(
        1,
        10,
        {
            "macro": RECOMPUTE_MACRO,
            "caption": message(lang, "Recompute & check", "Recalculer et vérifier"),
            "width": 170,
            "height": 32,
        },
    )
    dashboard.insert_button(  # left of Recompute, clear of the score tiles
        1,
        7,
        {
            "macro": QBR_MACRO,
            "caption": message(lang, "Quarterly review deck", "Deck de revue trimestrielle"),
            "width": 170,
            "height": 32,
        },
    )
