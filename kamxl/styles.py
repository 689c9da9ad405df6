"""Cell formats of the account workbook, built once per workbook from the template's style."""

from __future__ import annotations

import textwrap
from functools import cached_property, lru_cache
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from .memo import per_template
from .template import Column, Template

DEFAULT_WIDTHS = {
    "date": 12,
    "currency": 14,
    "percent": 11,
    "rating": 11,
    "int": 9,
    "number": 11,
    "choice": 16,
    "text": 18,
    "longtext": 30,
    "email": 24,
    "url": 24,
    "formula": 12,
}
LINE_HEIGHT = 13.0  # points per line of 10 pt text, as Excel and LibreOffice space it
ROW_PADDING = 3.0
MAX_LINES = 12  # a longer text scrolls in its cell rather than making a page-tall row


@lru_cache(maxsize=65536)  # a portfolio repeats its texts (statuses, categories, copied plans)
def text_lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` (Excel width units) wide, word by word.

    A width unit holds about 1.1 characters of 10 pt Calibri; the cell's indent takes one.
    """
    per_line = max(4, int((width - 1.5) * 1.1))
    return sum(
        len(textwrap.wrap(part, per_line, break_long_words=True, break_on_hyphens=False)) or 1
        for part in str(text).split("\n")
    )


def row_height(lines: int) -> float:
    return LINE_HEIGHT * lines + ROW_PADDING


WRAPPED = ("text", "longtext")  # text past its column's width wraps; the writer sizes the rows


def num_format(template: Template, lang: str, fmt_key: str | None) -> dict[str, Any]:
    """The template's number format for a key in a language (``date_fr``), as format properties."""
    if not fmt_key or fmt_key == "text":
        return {}
    formats = template.formats
    return {"num_format": formats.get(f"{fmt_key}_{lang}", formats[fmt_key])}


@per_template
def cell_props(
    template: Template, lang: str, col: Column, form: bool, fmt_key: str | None, tinted: bool
) -> dict[str, Any]:
    """Format properties of a column's cells (see ``Styles.cell``), the same in every plan."""
    st = template.style
    props: dict[str, Any] = num_format(template, lang, fmt_key or col.format_key)
    if col.type in WRAPPED:
        props["text_wrap"] = True
    if col.type in ("rating",):
        props["align"] = "center"
    elif col.is_numeric or col.type == "date" or (fmt_key or col.format_key) not in (None, "text"):
        props |= {"align": "right", "indent": 1}
    else:  # indent only shows with an explicit alignment (LibreOffice, Excel)
        props |= {"align": "left", "indent": 1}
    if col.is_input and not tinted:  # a column's default: unlocked, no fill outside the table
        props["locked"] = False
    elif col.is_input:
        props |= {"locked": False, "bg_color": st["input_fill"]}
        props |= {
            "border": 1,
            "border_color": st["border"] if form else st.get("input_border", "#EDE3B8"),
        }
    else:
        props |= {"bg_color": st["calc_fill"], "locked": True}
    if col.type == "url":
        props |= {"font_color": st.get("accent", "#2E75B6"), "underline": 1}
    return props


class Styles:
    """Caches XlsxWriter formats: every distinct format object costs a style record."""

    def __init__(self, workbook: Workbook, template: Template, lang: str = "en") -> None:
        self.wb, self.t, self.lang = workbook, template, lang
        st = template.style
        self.base = {
            "font_name": st.get("font", "Calibri"),
            "font_size": st.get("font_size", 10),
            "font_color": st.get("ink", "#1F2937"),
            "valign": "top",
        }
        self._cache: dict[tuple, Format] = {}
        # a column's format, by the column's identity: the column is kept so its id stays its own
        self._cells: dict[tuple, tuple[Column, Format]] = {}

    def get(self, **props: Any) -> Format:
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format(self.base | props)
        return self._cache[key]

    def num_format(self, fmt_key: str | None) -> dict[str, Any]:
        """The template's number format for a key, in this workbook's language (``date_fr``)."""
        return num_format(self.t, self.lang, fmt_key)

    def unit_format(self, unit: Any) -> str:
        """Format key for a KPI value in ``unit`` (``%`` -> percent), from ``[unit_formats]``."""
        return str((self.t.raw.get("unit_formats") or {}).get(str(unit or "").strip(), "number"))

    def cell(
        self, col: Column, *, form: bool = False, fmt_key: str | None = None, tinted: bool = True
    ) -> Format:
        """Input cells are unlocked and tinted (LibreOffice does not draw table styles); formula
        cells are locked and grey. Text and numbers keep an indent so neighbours never touch.

        Asked for every cell of every pre-sized table row: worked out once per column."""
        key = (id(col), form, fmt_key, tinted)
        found = self._cells.get(key)
        if found is None:
            props = cell_props(self.t, self.lang, col, form, fmt_key, tinted)
            found = self._cells[key] = (col, self.get(**props))
        return found[1]

    # Named styles used across sheets (asked for on every field and table column: made once).
    @cached_property
    def heading(self) -> Format:
        return self.get(bold=True, font_size=16, font_color=self.t.style["primary"], valign="vcenter")

    @cached_property
    def subheading(self) -> Format:
        return self.get(bold=True, font_size=12, font_color=self.t.style["primary"], valign="bottom")

    @cached_property
    def hint(self) -> Format:
        return self.get(italic=True, font_color=self.t.style["muted"], font_size=9, valign="vcenter")

    @cached_property
    def label(self) -> Format:
        return self.get(bold=True, font_color=self.t.style["primary"])

    @cached_property
    def header(self) -> Format:
        st = self.t.style
        return self.get(
            bold=True,
            text_wrap=True,
            valign="vcenter",
            font_color=st["header_text"],
            bg_color=st["primary"],
            border=1,
            border_color=st["primary"],
        )
