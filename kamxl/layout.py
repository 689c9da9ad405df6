"""Where things sit in an account workbook: the one place the layout contract is computed.

The writer places fields and tables with these functions and the reader and health check use
them to point at cells, so a layout change made here moves every side at once.

Conventions: rows are Excel row numbers (1-based, as a KAM sees them); columns are 0-based
indexes (as XlsxWriter counts them) with :func:`col_letter` to show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from .template import Labels, Template

if TYPE_CHECKING:
    from .model import Plan

FIRST_FIELD_ROW = 4  # form fields: label in column A, value in column B, from this row
FIELD_LABEL_COL = 0
FIELD_VALUE_COL = 1
HEADER_ROW_NO_FIELDS = 5  # header row of tables on a sheet without form fields
GAP_AFTER_FIELDS = 3  # rows between the last field row and the table header row
GAP_BETWEEN_TABLES = 1  # blank columns between side-by-side tables


class TableAnchor(NamedTuple):
    """Position of a table: its sheet titles, header row (Excel number) and first column (0-based)."""

    titles: Labels
    header_row: int
    first_col: int
    width: int

    @property
    def title_row(self) -> int:
        return self.header_row - 1

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    @property
    def last_col(self) -> int:
        return self.first_col + self.width - 1

    def data_row(self, index: int) -> int:
        """Excel row of the ``index``-th (0-based) data row as written."""
        return self.first_data_row + index

    def cell(self, index: int, column: int) -> str:
        """A1 address of data row ``index`` and table column ``column`` (both 0-based)."""
        return f"{col_letter(self.first_col + column)}{self.data_row(index)}"


def col_letter(col: int) -> str:
    """0-based column index to Excel letters (0 -> A, 27 -> AB)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """Address of an Excel row number and a 0-based column index."""
    return f"{col_letter(col)}{row}"


def header_row(template: Template, sheet_key: str) -> int:
    """Header row of every table on a sheet (tables on one sheet sit side by side)."""
    sheet = template.sheet(sheet_key)
    if not sheet.fields:
        return HEADER_ROW_NO_FIELDS
    return FIRST_FIELD_ROW + len(sheet.fields) + GAP_AFTER_FIELDS


def table_anchor(template: Template, table_key: str) -> TableAnchor:
    """Where a table sits: first table at column A, each next one after one blank column."""
    sheet = template.table_sheet(table_key)
    col = 0
    for table in sheet.tables:
        if table.key == table_key:
            return TableAnchor(sheet.title, header_row(template, sheet.key), col, len(table.columns))
        col += len(table.columns) + GAP_BETWEEN_TABLES
    raise KeyError(table_key)  # pragma: no cover - table_sheet already found it


def field_row(template: Template, field_key: str) -> int:
    """Excel row of a form field: one per row from row 4, in template order."""
    sheet = template.field_sheets[field_key]
    keys = [f.key for f in sheet.fields]
    return FIRST_FIELD_ROW + keys.index(field_key)


def field_cell(template: Template, field_key: str) -> tuple[Labels, str]:
    """Sheet titles and value cell (``"B7"``) of a form field."""
    return template.field_sheets[field_key].title, a1(field_row(template, field_key), FIELD_VALUE_COL)


def field_ref(template: Template, field_key: str, lang: str) -> str:
    """Absolute reference of a form field's value cell, as the Dashboard formulas spell it."""
    titles, _ = field_cell(template, field_key)
    row = field_row(template, field_key)
    return f"'{titles[lang]}'!${col_letter(FIELD_VALUE_COL)}${row}"


@dataclass
class Locations:
    """Where each part of a plan sits in its workbook, for pointing findings at cells.

    The reader fills it from what it found (rows move when a KAM inserts or deletes some);
    :meth:`from_layout` gives the positions ``write_plan`` uses, for plans built in memory.
    """

    sheets: dict[str, str] = field(default_factory=dict)  # sheet key -> title in the workbook
    fields: dict[str, str] = field(default_factory=dict)  # field key -> value cell ("B7")
    rows: dict[str, list[int]] = field(default_factory=dict)  # table key -> Excel row of each plan row
    columns: dict[str, dict[str, int]] = field(default_factory=dict)  # table key -> column key -> index
    header_rows: dict[str, int] = field(default_factory=dict)  # table key -> Excel row of its header

    @classmethod
    def from_layout(cls, template: Template, plan: Plan) -> Locations:
        lang = plan.lang if plan.lang in ("en", "fr") else "en"
        locs = cls(sheets={s.key: s.title[lang] for s in template.sheets})
        locs.fields = {key: field_cell(template, key)[1] for key in template.fields}
        for key, table in template.tables.items():
            anchor = table_anchor(template, key)
            locs.rows[key] = [anchor.data_row(i) for i in range(len(plan.tables.get(key, [])))]
            locs.columns[key] = {c.key: anchor.first_col + i for i, c in enumerate(table.columns)}
            locs.header_rows[key] = anchor.header_row
        return locs

    def sheet_title(self, template: Template, sheet_key: str) -> str:
        return self.sheets.get(sheet_key) or template.sheet(sheet_key).title["en"]

    def at_field(self, template: Template, key: str) -> tuple[str, str]:
        """Sheet title and cell of a form field."""
        sheet = template.field_sheets[key]
        cell = self.fields.get(key) or field_cell(template, key)[1]
        return self.sheet_title(template, sheet.key), cell

    def _column(self, template: Template, table: str, column: str | None) -> int:
        col_key = column or template.table(table).key_column
        found = (self.columns.get(table) or {}).get(col_key)
        if found is not None:
            return found
        anchor = table_anchor(template, table)
        keys = [c.key for c in template.table(table).columns]
        return anchor.first_col + keys.index(col_key) if col_key in keys else anchor.first_col

    def at_table(self, template: Template, table: str, column: str | None = None) -> tuple[str, str]:
        """Sheet title and header cell of a table (its key column unless ``column`` is given)."""
        title = self.sheet_title(template, template.table_sheet(table).key)
        header = self.header_rows.get(table) or table_anchor(template, table).header_row
        return title, a1(header, self._column(template, table, column))

    def at_row(
        self, template: Template, table: str, index: int, column: str | None = None
    ) -> tuple[str, str]:
        """Sheet title and cell of a table row: the given column, else the table's key column."""
        title = self.sheet_title(template, template.table_sheet(table).key)
        rows = self.rows.get(table, [])
        excel_row = rows[index] if index < len(rows) else table_anchor(template, table).data_row(index)
        return title, a1(excel_row, self._column(template, table, column))
