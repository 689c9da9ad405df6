"""The hidden sheets: the dropdown lists and the metadata the reader identifies a plan by."""

from __future__ import annotations

import datetime as dt

from xlsxwriter.utility import xl_col_to_name

from . import __version__
from .write_context import WriteContext

META_SHEET = "_kamxl"
LISTS_SHEET = "Lists"


def write_lists(ctx: WriteContext) -> None:
    """One column per choice list in the workbook language, each behind a ``List_<key>`` name."""
    ws = ctx.wb.add_worksheet(LISTS_SHEET)
    ws.hide()
    for c, (key, items) in enumerate(ctx.t.choices.items()):
        ws.write_string(0, c, key, ctx.s.label)
        for r, labels in enumerate(items.values(), start=1):
            ws.write_string(r, c, labels[ctx.lang])
        name = xl_col_to_name(c)
        ctx.wb.define_name(f"List_{key}", f"={LISTS_SHEET}!${name}$2:${name}${len(items) + 1}")
        ws.set_column(c, c, 24)
    ws.protect("")


def write_meta(ctx: WriteContext) -> None:
    """Template, version, account id, language and date, on a very hidden sheet."""
    ws = ctx.wb.add_worksheet(META_SHEET)
    ws.very_hidden()
    meta = {
        "template_id": ctx.t.id,
        "template_version": ctx.t.version,
        "kamxl_version": __version__,
        "account_id": ctx.plan.account_id,
        "lang": ctx.lang,
        "generated_at": (ctx.plan.generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)).isoformat(),
    }
    for r, (k, v) in enumerate(meta.items()):
        ws.write_string(r, 0, k)
        ws.write_string(r, 1, str(v))
    ws.protect("")
