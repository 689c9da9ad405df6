"""What every plan sheet has around its content: heading, client, hint, footer, protection,
frozen titles and print setup."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from . import layout
from .printing import legible_print, page_header, print_areas, sheet_width
from .template import Sheet
from .write_context import WriteContext

FIRST_PRINTED_ROW = 3  # 0-based: the heading, client and hint rows above print as the page header


def _footer_text(text: str) -> str:
    return text.replace("&", "&&")


def sheet_frame(ctx: WriteContext, sheet: Sheet, ws: Worksheet) -> None:
    ws.hide_gridlines(2)
    ws.set_row(0, 26)
    frame_heading(ctx, sheet, ws, 0)
    ws.write_string(2, 0, frame_hint(ctx, sheet), ctx.s.hint)
    account = _footer_text(ctx.plan.name or ctx.t.name[ctx.lang])
    page, of = ctx.t.text("page", ctx.lang), ctx.t.text("of", ctx.lang)
    ws.set_footer(f"&L&8{account}&C&8&A&R&8{page} &P {of} &N")
    ws.protect(
        "",
        {
            "insert_rows": True,
            "delete_rows": True,
            "format_cells": True,
            "format_columns": True,
            "format_rows": True,
            "sort": True,
            "autofilter": True,
            "insert_hyperlinks": True,
        },
    )


def frame_heading(ctx: WriteContext, sheet: Sheet, ws: Worksheet, col: int) -> None:
    """The sheet's heading and the client's name, at the top of ``col``."""
    ws.write_string(0, col, sheet.heading[ctx.lang], ctx.s.heading)
    name_ref = ctx.field_ref("client_name")
    ws.write_formula(1, col, f'=IF({name_ref}="","",{name_ref})', ctx.s.subheading, ctx.plan.name)


def frame_hint(ctx: WriteContext, sheet: Sheet) -> str:
    hint = ctx.t.text("input_hint", ctx.lang)
    return hint + " " + ctx.t.text("grow_hint", ctx.lang) if sheet.tables else hint


def print_setup(ctx: WriteContext, sheet: Sheet, ws: Worksheet, last_row: int, last_col: int) -> None:
    """Frozen titles, and pages per block: the form, then each table (see ``printing``), the
    sheet's content ending at ``last_row`` and ``last_col`` (0-based).

    The sheet's heading prints in the page header of every page, so the rows above the form
    and tables (heading, client, on-screen hint) stay out of the print area: no page starts
    with a cut heading or a fragment of the hint."""
    anchors = [layout.table_anchor(ctx.t, table.key) for table in sheet.tables]
    starts = [a.first_col for a in anchors[1:]]
    blocks = [sheet_width(ws, a.last_col, a.first_col) for a in anchors]
    if sheet.fields:
        blocks.append(sheet_width(ws, layout.FIELD_VALUE_COL + 1))  # labels, values, help
    row_breaks = [anchors[0].title_row - 1] if sheet.fields and anchors else []
    last_row = max(last_row, FIRST_PRINTED_ROW)
    areas = [(FIRST_PRINTED_ROW, 0, last_row, last_col)]
    if row_breaks and starts:  # tables beside the first under a form: printed without its rows
        areas = [(FIRST_PRINTED_ROW, 0, last_row, max(anchors[0].last_col, layout.FIELD_VALUE_COL + 1))]
        areas += [(row_breaks[0], a.first_col, last_row, a.last_col) for a in anchors[1:]]
    print_areas(ws, areas, ctx.wb)
    if sheet.tables and not sheet.fields:
        header_row = anchors[0].header_row - 1
        ws.freeze_panes(header_row + 1, 1)
        title_rows: tuple[int, int] | None = (anchors[0].title_row - 1, header_row)
    else:
        ws.freeze_panes(3, 0)
        title_rows = None
    legible_print(
        ws,
        sheet_width(ws),
        title_rows=title_rows,
        key_col=0,
        blocks=blocks,
        col_breaks=starts,
        row_breaks=row_breaks,
    )
    page_header(ws, sheet.heading[ctx.lang])
