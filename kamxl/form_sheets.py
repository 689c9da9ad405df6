"""Plan sheets with their form fields and tables, and the org chart sheet."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from . import layout
from .cell_rules import validation
from .cell_values import write_value
from .orgchart import layout_orgchart
from .orgchart_paint import paint_xlsx
from .plan_tables import write_table
from .printing import set_width
from .row_lines import RowLines
from .sheet_frame import print_setup, sheet_frame
from .template import Sheet
from .write_context import WriteContext


def write_sheet(ctx: WriteContext, sheet: Sheet, ws: Worksheet) -> None:
    """A sheet's form (label, value, help per field) above or beside its tables."""
    s, t, lang = ctx.s, ctx.t, ctx.lang
    sheet_frame(ctx, sheet, ws)
    row_lines = RowLines()
    # Form columns also hold the first table below the form: keep them wide enough for both.
    min_widths = {0: 38.0, 1: 46.0} if sheet.fields else {}
    last_row, last_col = 2, 0  # the heading, client and hint rows
    if sheet.fields:
        set_width(ws, 0, 0, min_widths[0])
        set_width(ws, 1, 1, min_widths[1])
        last_col = layout.FIELD_VALUE_COL + 1  # the help texts
        for f in sheet.fields:
            row, col = layout.field_row(t, f.key) - 1, layout.FIELD_VALUE_COL
            ws.write_string(row, col - 1, f.label[lang], s.label)
            write_value(ws, row, col, f, ctx.plan.fields.get(f.key), s.cell(f, form=True), t, lang)
            ws.write_string(row, col + 1, f.help[lang], s.hint)
            ws.data_validation(row, col, row, col, validation(f, lang))
            row_lines.note(row, f, ctx.plan.fields.get(f.key), 46, minimum=2 if f.type == "longtext" else 1)
            last_row = max(last_row, row)
    for table in sheet.tables:
        table_row, table_col = write_table(ctx, ws, table, row_lines, min_widths)
        last_row, last_col = max(last_row, table_row), max(last_col, table_col)
    row_lines.apply(ws)
    print_setup(ctx, sheet, ws, last_row, last_col)


def write_orgchart(ctx: WriteContext, sheet: Sheet, ws: Worksheet) -> None:
    """The org chart sheet, drawn from the stakeholders (see kamxl.orgchart for why cells)."""
    sheet_frame(ctx, sheet, ws)
    ws.write_string(2, 0, ctx.t.text("orgchart_hint", ctx.lang), ctx.s.hint)
    rows = ctx.plan.tables.get("stakeholders", [])
    paint_xlsx(ctx.wb, ws, layout_orgchart(rows, ctx.t, ctx.lang))
