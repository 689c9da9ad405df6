"""Form fields: found by their label in column A (either language), else at their template row."""

from __future__ import annotations

from .coerce import is_blank, loose
from .layout import FIELD_LABEL_COL, FIELD_VALUE_COL, FIRST_FIELD_ROW, a1, field_row
from .model import Plan
from .read_context import ReadContext, quoted
from .template import Column
from .workbook_source import Grid, TableSpot


def read_fields(ctx: ReadContext, plan: Plan, blocks: dict[str, TableSpot | None]) -> None:
    """Fields of each form sheet, read from the rows above its tables into ``plan.fields``."""
    for sheet in ctx.t.sheets:
        if not sheet.fields:
            continue
        name = ctx.sheet_name(sheet.key)
        if name is None:
            ctx.add("warning", sheet.title[ctx.lang], "A1", "sheet missing: its fields were not read")
            continue
        grid = ctx.grid(name)
        tops = [b.header_row - 1 for t in sheet.tables if (b := blocks.get(t.key)) and b.sheet == name]
        stop = min(tops, default=len(grid))
        found = _field_rows(ctx, ctx.labels.fields[sheet.key], grid, stop)
        for f in sheet.fields:
            row = found.get(f.key)
            if row is None:
                row = _field_fallback(ctx, f, grid, found, name, stop)
            if row is None:
                continue
            cell = a1(row + 1, FIELD_VALUE_COL)
            ctx.locations.fields[f.key] = cell
            plan.fields[f.key] = ctx.values.value(
                name, row, FIELD_VALUE_COL, f, ctx.at(grid, row, FIELD_VALUE_COL)
            )


def _field_rows(ctx: ReadContext, labels: dict[str, str], grid: Grid, stop: int) -> dict[str, int]:
    found: dict[str, int] = {}
    # The title rows above the form hold the client's name, which may read like a label ("KAM").
    for r in range(FIRST_FIELD_ROW - 1, min(stop, len(grid))):
        label = ctx.at(grid, r, FIELD_LABEL_COL)
        if isinstance(label, str) and (key := labels.get(loose(label))) and key not in found:
            found[key] = r
    return found


def _field_fallback(
    ctx: ReadContext, f: Column, grid: Grid, found: dict[str, int], sheet: str, stop: int
) -> int | None:
    """A field whose label was edited: read it from its template position if that row is
    free and still above the sheet's tables."""
    row = field_row(ctx.t, f.key) - 1
    if f.key in ctx.added.fields:
        return None  # added by a later template version: absent by design
    if row in found.values() or row >= stop:
        ctx.add(
            "warning",
            sheet,
            a1(row + 1, FIELD_LABEL_COL),
            f"field {quoted(f.label[ctx.lang])} not found (no row labelled so): left blank",
        )
        return None
    label = ctx.at(grid, row, FIELD_LABEL_COL)
    if not is_blank(label):
        ctx.add(
            "info",
            sheet,
            a1(row + 1, FIELD_LABEL_COL),
            f"label {quoted(str(label))} not recognised: "
            f"read as {quoted(f.label[ctx.lang])} from its position",
        )
    return row
