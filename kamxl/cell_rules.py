"""Rules on input cells: data validation (dropdowns, ranges) and conditional colours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from . import layout
from .memo import per_template
from .template import Column, Table, Template


def name_list(source: str) -> str:
    """Defined name of the names typed in a table column (``"team.name"`` -> ``Names_team_name``)."""
    return "Names_" + source.replace(".", "_")


def message(lang: str, en: str, fr: str) -> str:
    return en if lang == "en" else fr


@per_template
def validation(col: Column, lang: str) -> dict[str, Any]:
    """Data validation with an input message: dropdowns for choices, ranges for numbers.

    Shared by every plan (XlsxWriter copies it): callers must not change it."""
    help_text = col.help[lang][:255]
    base: dict[str, Any] = {"input_title": col.label[lang][:32], "input_message": help_text}
    if col.type == "choice":
        return base | {
            "validate": "list",
            "source": f"=List_{col.choices}",
            "error_type": "stop" if col.strict else "information",
            "error_title": col.label[lang][:32],
            "error_message": message(
                lang, "Pick a value from the list.", "Choisissez une valeur dans la liste."
            ),
        }
    if col.list_from:
        return base | {
            "validate": "list",
            "source": f"={name_list(col.list_from)}",
            "error_type": "information",
            "error_title": col.label[lang][:32],
            "error_message": message(
                lang, "Not in the list: kept as typed.", "Absent de la liste : gardé tel quel."
            ),
        }
    if col.type == "rating":
        return base | {
            "validate": "integer",
            "criteria": "between",
            "minimum": 1,
            "maximum": 5,
            "error_message": message(lang, "A whole number from 1 to 5.", "Un nombre entier de 1 à 5."),
        }
    if col.type == "date":
        return base | {
            "validate": "date",
            "criteria": "between",
            "minimum": dt.date(1990, 1, 1),
            "maximum": dt.date(2100, 12, 31),
            "error_type": "warning",
            "error_message": message(lang, "A date, e.g. 2026-03-15.", "Une date, par ex. 2026-03-15."),
        }
    if col.is_numeric:
        kind = "integer" if col.type == "int" else "decimal"
        return base | {
            "validate": kind,
            "criteria": "between",
            "minimum": col.min if col.min is not None else -1e15,
            "maximum": col.max if col.max is not None else 1e15,
            "error_type": "warning",
            "error_message": message(lang, "A number is expected here.", "Un nombre est attendu ici."),
        }
    return base | {"validate": "any"}


def tone_format(wb: Workbook, template: Template, tone: str) -> Any:
    """A new cell format in the template's colours for a tone (good, warn, bad, neutral, info),
    or the pale fill of a flagged table row (flag)."""
    if tone == "flag":
        return wb.add_format({"bg_color": "#FDECEC"})
    st = template.style
    fills = {
        "good": (st["good"], st["good_text"]),
        "warn": (st["warn"], st["warn_text"]),
        "bad": (st["bad"], st["bad_text"]),
        "neutral": (st["neutral"], st["muted"]),
        "info": ("#DDEBF7", "#1F4E79"),
    }
    bg, fg = fills[tone]
    return wb.add_format({"bg_color": bg, "font_color": fg})


def conditional(
    tone: Callable[[str], Any],
    ws: Worksheet,
    template: Template,
    lang: str,
    table: Table,
    col: Column,
    first: int,
    last: int,
    c: int,
) -> None:
    """Colours of a table column: by value (``colors``), by number band, and a flagged row;
    ``tone`` gives the workbook's format of a tone (see :func:`tone_format`)."""
    rng = (first, c, last, c)
    for code, color in col.colors.items():
        if col.type == "choice":
            text = template.label(col.choices or "", code, lang)
        else:
            text = template.text(code, lang)
        ws.conditional_format(
            *rng,
            {
                "type": "cell",
                "criteria": "==",
                "value": f'"{text}"',
                "format": tone(color),
            },
        )
    cell = xl_rowcol_to_cell(first, c, row_abs=False, col_abs=True)
    for minimum, color in col.bands:
        ws.conditional_format(
            *rng,
            {
                "type": "formula",
                "criteria": f"=AND(ISNUMBER({cell}),{cell}>={minimum!r})",
                "format": tone(color),
                "stop_if_true": True,
            },
        )
    if col.row_flag:
        anchor = layout.table_anchor(template, table.key)
        first_c, last_c = anchor.first_col, anchor.last_col
        ws.conditional_format(
            first,
            first_c,
            last,
            last_c,
            {
                "type": "formula",
                "criteria": f'=AND(ISTEXT({cell}),{cell}<>"")',
                "format": tone("flag"),
            },
        )
