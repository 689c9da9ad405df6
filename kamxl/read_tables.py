"""Tables: found as Excel tables or at their usual place, headers matched by label, rows read."""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

from .coerce import is_blank, loose
from .layout import a1, table_anchor
from .model import Row
from .read_context import ReadContext, quoted
from .read_values import MEMO_TYPES
from .template import Column, Table
from .workbook_source import TableSpot


def find_table(ctx: ReadContext, table: Table) -> TableSpot | None:
    """The Excel table by name, else the template's place if headers are still there."""
    found = ctx.src.table(table.name)
    if found is not None:
        return found
    sheet_key = ctx.t.table_sheet(table.key).key
    name = ctx.sheet_name(sheet_key)
    label = table.title[ctx.lang] if table.title else table.name
    if name is None:
        if sheet_key not in ctx.added.sheets:
            ctx.add(
                "warning",
                ctx.t.sheet(sheet_key).title[ctx.lang],
                "A1",
                f"sheet missing: table {quoted(label)} was not read",
            )
        return None
    anchor = table_anchor(ctx.t, table.key)
    grid = ctx.grid(name)
    header = anchor.header_row - 1
    cells = [ctx.at(grid, header, anchor.first_col + i) for i in range(anchor.width)]
    headers = ["" if h is None else str(h) for h in cells]
    where = a1(anchor.header_row, anchor.first_col)
    if not any(loose(h) in ctx.labels.headers[table.key] for h in headers):
        ctx.add("warning", name, where, f"table {quoted(label)} not found: left empty")
        return None
    ctx.add(
        "info", name, where, f"table {quoted(label)} is no longer an Excel table: read from its usual place"
    )
    return TableSpot(table.name, name, header, anchor.first_col, None, headers)


def _map_headers(ctx: ReadContext, table: Table, block: TableSpot) -> dict[str, int]:
    """Column key -> sheet column, by header label in either language, then by position.

    A portfolio's plans share their headers: each layout is matched once, its findings replayed."""
    key = (
        table.key,
        tuple(block.headers),
        block.sheet,
        block.header_row,
        block.first_col,
        ctx.added.columns.get(table.key, ()),
    )
    memo = ctx.labels.layouts
    if (known := memo.get(key)) is None:
        found = len(ctx.findings)
        mapped = _match_headers(ctx, table, block)
        if len(memo) > _LAYOUTS:
            memo.clear()
        known = memo[key] = (mapped, ctx.findings[found:])
    else:
        ctx.findings.extend(known[1])
    return dict(known[0])


_LAYOUTS = 4096  # table layouts remembered per template and language


def _match_headers(ctx: ReadContext, table: Table, block: TableSpot) -> dict[str, int]:
    index = ctx.labels.headers[table.key]
    mapped: dict[str, int] = {}
    unmatched: dict[int, str] = {}
    for i, header in enumerate(block.headers):
        key = index.get(loose(header))
        if key is None:
            unmatched[i] = header
        elif key not in mapped:
            mapped[key] = block.first_col + i
    # A renamed header is read by its position only when the other columns are where the
    # template puts them; once columns are reordered, position means nothing.
    position = {col.key: block.first_col + i for i, col in enumerate(table.columns)}
    aligned = all(position[key] == c for key, c in mapped.items())
    missing = []
    for i, col in enumerate(table.columns):
        if col.key in mapped or not col.is_input:
            continue
        if aligned and unmatched.get(i, "").strip():
            mapped[col.key] = block.first_col + i
            ctx.add(
                "info",
                block.sheet,
                a1(block.header_row + 1, block.first_col + i),
                f"column {quoted(unmatched[i])} not recognised: read as {quoted(col.label[ctx.lang])} "
                "from its position",
            )
        elif col.key not in ctx.added.columns.get(table.key, ()):
            missing.append(quoted(col.label[ctx.lang]))
    if missing:
        several = len(missing) > 1
        ctx.add(
            "warning",
            block.sheet,
            a1(block.header_row + 1, block.first_col),
            f"column{'s' if several else ''} {', '.join(missing)} {'are' if several else 'is'} missing "
            f"from table {table.name}: left blank",
        )
    return mapped


def read_table(ctx: ReadContext, table: Table, block: TableSpot) -> list[Row]:
    """Rows with any input value, rows typed below the table included; blank rows skipped."""
    columns = _map_headers(ctx, table, block)
    ctx.locations.columns[table.key] = dict(columns)
    ctx.locations.header_rows[table.key] = block.header_row + 1
    input_columns = table.input_columns
    keys = [col.key for col in input_columns]
    inputs = [(col, columns[col.key]) for col in input_columns if col.key in columns]
    grid = ctx.grid(block.sheet)
    flags = ctx.flags(block.sheet)
    input_cols = {c for _, c in inputs}
    flagged_rows = {r for r, c in flags if c in input_cols}
    rows: list[Row] = []
    where: list[int] = []
    below: list[int] = []
    totals = (
        () if block.last_row is None else range(block.last_row + 1, block.last_row + 1 + block.total_rows)
    )
    inputs_of, blank = _inputs_getter(inputs)
    specs = [(col, c, col.key, id(col)) for col, c in inputs]
    memo, memo_types, value = ctx.values.labels.coerced, MEMO_TYPES, ctx.values.value
    for r in range(block.header_row + 1, len(grid)):
        if r in totals:
            continue
        line = grid[r]
        row: Row | None = None
        if r not in flagged_rows:
            try:
                cells = inputs_of(line)
            except IndexError:  # a short row (a source other than calamine): read cell by cell
                cells = None
            if cells == blank:  # most rows of a pre-sized table: skipped in one step
                continue
            if cells is not None:
                for (col, c, key, ident), raw in zip(specs, cells, strict=True):
                    kind = type(raw)
                    if raw is None or raw == "" or (kind is str and not raw.strip()):
                        continue
                    if row is None:
                        row = dict.fromkeys(keys)
                    # A value read before in this portfolio, without a problem: taken as coerced then.
                    known = memo.get((ident, kind, raw)) if kind in memo_types else None
                    if known is not None and known.problem is None:
                        row[key] = known.value
                    else:
                        row[key] = value(block.sheet, r, c, col, raw, flags)
                if row is None:
                    continue
        if row is None:
            row = _flagged_row(ctx, block.sheet, inputs, keys, line, r, flags)
            if row is None:
                continue
        rows.append(row)
        where.append(r + 1)
        if block.last_row is not None and r > block.last_row:
            below.append(r + 1)
        _check_key(ctx, table, block, columns, row, r)
    if below:
        span = f"row {below[0]}" if len(below) == 1 else f"rows {below[0]}-{below[-1]}"
        ctx.add(
            "info",
            block.sheet,
            a1(below[0], block.first_col),
            f"{span} typed below table {table.name} read as part of it; "
            "extend the table over them so its formulas apply",
        )
    ctx.locations.rows[table.key] = where
    return rows


def _flagged_row(
    ctx: ReadContext,
    sheet: str,
    inputs: list[tuple[Column, int]],
    keys: list[str],
    line: list[Any],
    r: int,
    flags: dict[tuple[int, int], tuple[str, str]],
) -> Row | None:
    """A row holding formulas or error values in its input cells (or shorter than the table)."""
    width = len(line)
    raws = [(col, c, line[c]) for col, c in inputs if c < width and line[c] is not None and line[c] != ""]
    raws += [(col, c, None) for col, c in inputs if (r, c) in flags and (c >= width or line[c] == "")]
    filled = [
        (col, c, raw)
        for col, c, raw in raws
        if type(raw) is not str or raw.strip() or raw is None or (r, c) in flags
    ]
    if not filled:
        return None
    row: Row = dict.fromkeys(keys)
    for col, c, raw in filled:
        row[col.key] = ctx.values.value(sheet, r, c, col, raw, flags)
    return row


def _inputs_getter(inputs: list[tuple[Column, int]]) -> tuple[Callable[[list[Any]], tuple[Any, ...]], tuple]:
    """A function giving a grid row's input cells as a tuple, and that tuple for a blank row."""
    cols = [c for _, c in inputs]
    if not cols:
        return (lambda line: ()), ()
    getter = itemgetter(*cols)
    if len(cols) == 1:
        return (lambda line: (getter(line),)), ("",)
    return getter, ("",) * len(cols)


def _check_key(
    ctx: ReadContext, table: Table, block: TableSpot, columns: dict[str, int], row: Row, r: int
) -> None:
    if not is_blank(row.get(table.key_column)):
        return
    key_col = table.column(table.key_column)
    c = columns.get(table.key_column, block.first_col)
    ctx.add(
        "warning",
        block.sheet,
        a1(r + 1, c),
        f"row has values but no {quoted(key_col.label[ctx.lang])}: it is not counted",
    )
