"""The plan's tables as Excel tables: formulas, pre-sized rows, widths, dropdown name lists."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from . import layout
from .cell_rules import conditional, name_list, validation
from .cell_values import cell_value, display, write_value
from .dashboard import number
from .memo import per_template
from .model import Row
from .printing import set_width
from .row_formulas import ExcelError, FormulaError, Value, evaluate
from .row_lines import RowLines
from .styles import DEFAULT_WIDTHS, LINE_HEIGHT, ROW_PADDING, WRAPPED, text_lines
from .template import Column, Table, Template
from .write_context import WriteContext

EXTRA_VALIDATED_ROWS = 200  # rows typed just below a table keep their dropdowns
_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\.([a-z0-9_]+))?\}")


@per_template
def table_formula(template: Template, table: Table, formula: str, lang: str) -> str:
    """Turn a template column formula into Excel syntax for one language."""
    periods = [c for c in table.columns if c.period]

    def this_row(key: str) -> str:
        return f"{table.name}[[#This Row],[{table.column(key).label[lang]}]]"

    def placeholder(m: re.Match[str]) -> str:
        section, item = m.group(1), m.group(2)
        if section == "latest_period":
            expr = '""'
            for col in periods:
                ref = this_row(col.key)
                expr = f"IF(ISNUMBER({ref}),{ref},{expr})"
            return expr
        if section == "text":
            return template.text(item, lang).replace('"', '""')
        if section == "scoring":
            return number(template.scoring[item])
        return template.label(section, item, lang).replace('"', '""')

    out = _PLACEHOLDER.sub(placeholder, formula)
    return "=" + re.sub(r"\[@([a-z0-9_]+)\]", lambda m: this_row(m.group(1)), out)


def row_values(
    template: Template, table: Table, row: Row, lang: str, formulas: dict[str, str]
) -> dict[str, Any]:
    """Every column of one table row as Excel shows it, formula columns computed in Python."""
    values = _RowValues(template, table, row, lang, formulas)
    for col in table.columns:
        values.cell(col.label[lang])
    return {k: "" if v is None else v for k, v in values.done.items()}


class _RowValues:
    """One row's cells, each worked out when a formula first reads it (an object rather than
    a closure that calls itself: that would be a reference cycle per row)."""

    def __init__(
        self, template: Template, table: Table, row: Row, lang: str, formulas: dict[str, str]
    ) -> None:
        self.template, self.table, self.row, self.lang, self.formulas = template, table, row, lang, formulas
        self.by_label = {c.label[lang]: c for c in table.columns}
        self.done: dict[str, Any] = {}

    def cell(self, label: str) -> Value:
        col = self.by_label.get(label)
        if col is None:
            raise FormulaError(f"no column {label!r} in table {self.table.name}")
        if col.key not in self.done:
            if col.formula:
                result = evaluate(self.formulas[col.key], self.cell)
                self.done[col.key] = result.code if isinstance(result, ExcelError) else result
            else:
                self.done[col.key] = cell_value(col, self.row.get(col.key), self.template, self.lang)
        return self.done[col.key]


@per_template
def empty_row_values(template: Template, table: Table, lang: str, today: str) -> dict[str, Any]:
    """What an empty row's formula columns show (``today``: their results may depend on it)."""
    formulas = {c.key: table_formula(template, table, c.formula, lang) for c in table.columns if c.formula}
    return row_values(template, table, {}, lang, formulas)


def content_width(col: Column, values: list[Any], base: float, lang: str) -> float:
    """Column width that shows the header's longest word and one-line values whole (up to a cap)."""
    longest_word = max((len(w) for w in col.label[lang].split()), default=0)
    width = max(base, longest_word * 1.1 + 3)
    if col.type in ("longtext",):
        return width
    texts = [str(v) for v in values if isinstance(v, str)]
    if texts:  # text wraps past its cap (rows grow); an address or link must stay on one line
        cap = 36.0 if col.type in WRAPPED else 48.0
        width = max(width, min(cap, max(len(t) for t in texts) * 1.05 + 3))
    return round(width, 1)


def define_name_lists(ctx: WriteContext) -> None:
    """A defined name over each table column that feeds a dropdown of names (``list_from``)."""
    t = ctx.t
    sources = {c.list_from for tb in t.tables.values() for c in tb.columns if c.list_from}
    for source in sorted(sources):
        table_key, _, col_key = source.partition(".")
        table, anchor = t.table(table_key), layout.table_anchor(t, table_key)
        col = anchor.first_col + [c.key for c in table.columns].index(col_key)
        size = max(table.rows, len(ctx.plan.tables.get(table_key, [])) + 3)
        first, last = anchor.first_data_row, anchor.header_row + size + EXTRA_VALIDATED_ROWS
        letter = xl_col_to_name(col)
        sheet = ctx.title(t.table_sheet(table_key).key).replace("'", "''")
        ctx.wb.define_name(name_list(source), f"='{sheet}'!${letter}${first}:${letter}${last}")


def unit_format(ctx: WriteContext, table: Table, col: Column, row: Row) -> str | None:
    """A KPI's values take the format of its unit (35 % for "%", 1,200 € for "€")."""
    if not formatted_by_unit(table, col):
        return None
    return ctx.s.unit_format(row.get("unit"))


@per_template
def formatted_by_unit(table: Table, col: Column) -> bool:
    """Whether a column's number format follows each row's unit (asked for every cell)."""
    return col.format_key == "number" and "unit" in {c.key for c in table.columns}


def write_table(
    ctx: WriteContext,
    ws: Worksheet,
    table: Table,
    row_lines: RowLines,
    min_widths: dict[int, float],
) -> tuple[int, int]:
    """One table, pre-sized with empty rows to type in, each input column validated and coloured.

    Returns the table's last row and column (0-based)."""
    s, t, lang = ctx.s, ctx.t, ctx.lang
    anchor = layout.table_anchor(t, table.key)
    header_row, first_col = anchor.header_row - 1, anchor.first_col
    rows: list[Row] = ctx.plan.tables.get(table.key, [])
    size = max(table.rows, len(rows) + 3)
    last_row = header_row + size
    if table.title:
        ws.write_string(header_row - 1, first_col, table.title[lang], s.subheading)
    columns = []
    for col in table.columns:
        spec: dict[str, Any] = {
            "header": col.label[lang],
            "header_format": s.header,
            "format": s.cell(col),
        }
        if col.formula:
            spec["formula"] = table_formula(t, table, col.formula, lang)
        columns.append(spec)
    ws.add_table(
        header_row,
        first_col,
        last_row,
        first_col + len(table.columns) - 1,
        {
            "name": table.name,
            "columns": columns,
            "style": t.style.get("table_style"),
            "autofilter": True,
        },
    )
    widths = [
        max(col.width or DEFAULT_WIDTHS.get(col.type, 14), min_widths.get(first_col + i, 0))
        for i, col in enumerate(table.columns)
    ]
    widths = [
        content_width(col, [display(col, r.get(col.key), t, lang) for r in rows], w, lang)
        for col, w in zip(table.columns, widths, strict=True)
    ]
    header_lines = max(text_lines(col.label[lang], w) for col, w in zip(table.columns, widths, strict=True))
    row_lines.at_least(header_row, header_lines)
    for i, col in enumerate(table.columns):
        c = first_col + i
        width = widths[i]
        set_width(ws, c, c, width, s.cell(col, tinted=False) if col.is_input else None)
        if col.is_input:
            by_unit = formatted_by_unit(table, col)
            fmt = s.cell(col)
            for r, row in enumerate(rows):
                value = row.get(col.key)
                if by_unit:
                    fmt = s.cell(col, fmt_key=s.unit_format(row.get("unit")))
                write_value(ws, header_row + 1 + r, c, col, value, fmt, t, lang)
                row_lines.note(header_row + 1 + r, col, value, width)
            # the rows left to type in: blank, tinted, one line high
            empty = s.cell(col, fmt_key=unit_format(ctx, table, col, {}))
            ws.write_column(
                header_row + 1 + len(rows), c, [None] * (last_row - header_row - len(rows)), empty
            )
            ws.data_validation(header_row + 1, c, last_row + EXTRA_VALIDATED_ROWS, c, validation(col, lang))
        conditional(ctx.tone, ws, t, lang, table, col, header_row + 1, last_row + EXTRA_VALIDATED_ROWS, c)
    write_row_formulas(ctx, ws, table, header_row, first_col, rows, size)
    if table.row_height:  # a grid to write in (SWOT): roomy rows even when empty
        for r in range(header_row + 1, last_row + 1):
            lines = max(row_lines.get(r), round((table.row_height - ROW_PADDING) / LINE_HEIGHT))
            row_lines.lines[r] = lines
    return last_row, first_col + len(table.columns) - 1


def write_row_formulas(
    ctx: WriteContext,
    ws: Worksheet,
    table: Table,
    header_row: int,
    first_col: int,
    rows: list[Row],
    size: int,
) -> None:
    """Formula columns, each cell cached with the value Excel shows (see ``row_formulas``)."""
    formulas = {
        col.key: table_formula(ctx.t, table, col.formula, ctx.lang) for col in table.columns if col.formula
    }
    # (column index, column, its format unless it follows each row's unit)
    columns = [
        (i, col, None if formatted_by_unit(table, col) else ctx.s.cell(col))
        for i, col in enumerate(table.columns)
        if col.formula
    ]
    for r, row in enumerate(rows):
        values = row_values(ctx.t, table, row, ctx.lang, formulas)
        for i, col, fmt in columns:
            ws.write_formula(
                header_row + 1 + r,
                first_col + i,
                formulas[col.key],
                fmt or ctx.s.cell(col, fmt_key=ctx.s.unit_format(row.get("unit"))),
                values[col.key],
            )
    if size > len(rows):  # every empty row shows the same results
        values = empty_row_values(ctx.t, table, ctx.lang, dt.date.today().isoformat())
        for i, col in enumerate(table.columns):
            if col.formula:
                fmt = ctx.s.cell(col, fmt_key=unit_format(ctx, table, col, {}))
                for r in range(header_row + 1 + len(rows), header_row + size + 1):
                    ws.write_formula(r, first_col + i, formulas[col.key], fmt, values[col.key])
