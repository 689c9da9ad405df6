"""Read a filled account workbook back into a :class:`~kamxl.model.Plan`, with findings.

KAMs edit workbooks by hand: they add rows below tables, leave blank rows, type numbers as
text, paste labels in the other language, type formulas or error values. The reader takes
all of that in its stride: every cell it cannot read cleanly becomes a finding (sheet, cell,
message) and the rest of the plan is still read. Only a file that is not a kamxl workbook at
all raises, with one :class:`~kamxl.findings.PlanReadError` subclass per reason.

A file's cells come from :class:`~kamxl.workbook_source.FileSource`: one pass over each
sheet's XML in the usual dialect, python-calamine otherwise. The same reading runs on any
:class:`WorkbookSource`, such as a workbook open in Excel.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .carried import read_carried_over, sheet_title
from .coerce import fold
from .fileio import content_digest
from .findings import Finding, PlanReadError
from .layout import Locations
from .model import Plan
from .preflight import Limits, check_archive, sheet_parts
from .read_context import ReadContext, TemplateArg
from .read_fields import read_fields
from .read_tables import find_table, read_table
from .template import LANGS, Template
from .workbook_source import (
    META_SHEET,
    FileSource,
    Grid,
    PlanNotFound,
    TableSpot,
    WorkbookSource,
    cell_index,
    open_workbook,
)

__all__ = [
    "META_SHEET",
    "Grid",
    "PlanNotFound",
    "ReadResult",
    "TableSpot",
    "TemplateArg",
    "WorkbookSource",
    "cell_index",
    "open_workbook",
    "read_plan",
    "read_plan_from_source",
]

_FileSource = FileSource  # the name the tests build file sources with


@dataclass
class ReadResult:
    """A plan read from a workbook, what was found wrong in it, and where everything sits.

    Unpacks as ``plan, findings = read_plan(path)``.
    """

    plan: Plan
    findings: list[Finding]
    template: Template
    path: Path
    locations: Locations = field(default_factory=Locations)
    digest: str = ""  # kamxl.fileio.content_digest of the bytes read ("" when not read from a file)

    def __iter__(self) -> Iterator[Any]:
        yield self.plan
        yield self.findings


def read_plan(path: str | Path, *, template: TemplateArg = None, limits: Limits | None = None) -> ReadResult:
    """Read a kamxl workbook; raise :class:`PlanReadError` only when it cannot be read at all.

    The file passes :mod:`kamxl.preflight` first (``limits``, default from the environment).
    """
    path = Path(path)
    limits = limits or Limits.from_env()
    data, archive = open_workbook(path, limits)
    try:
        sheets = sheet_parts(archive)
        # Each sheet is checked when it is first read: sheets the reader never parses cost nothing.
        parts = check_archive(archive, path, limits, sheets, check_sheets=False)
        source = FileSource(None, archive, parts, sheets, checks=(path, limits), data=data)
    except PlanReadError:
        archive.close()
        raise
    try:
        result = read_plan_from_source(source, path, template=template)
        result.digest = content_digest(data)
        return result
    finally:
        archive.close()
        source.close()


def read_plan_from_source(
    source: WorkbookSource, path: str | Path, *, template: TemplateArg = None
) -> ReadResult:
    """Read a plan from any :class:`WorkbookSource`; ``path`` names it in findings and errors."""
    ctx = ReadContext(Path(path), source, template)
    try:
        return _read(ctx)
    finally:
        ctx.release()


def _read(ctx: ReadContext) -> ReadResult:
    """The whole plan: identity, form fields, tables, then values carried over from an upgrade."""
    plan = Plan(
        fields={k: None for k in ctx.t.fields},
        tables={k: [] for k in ctx.t.tables},
        lang=ctx.lang,
        template_id=ctx.meta.get("template_id") or ctx.t.id,
        template_version=ctx.meta.get("template_version") or ctx.t.version,
        generated_at=ctx.generated_at(),
    )
    if ctx.meta.get("account_id"):
        plan.account_id = ctx.meta["account_id"]
    ctx.locations.sheets = {s.key: ctx.sheet_name(s.key) or s.title[ctx.lang] for s in ctx.t.sheets}
    blocks = {key: find_table(ctx, table) for key, table in ctx.t.tables.items()}
    read_fields(ctx, plan, blocks)
    for key, table in ctx.t.tables.items():
        block = blocks[key]
        if block is not None:
            plan.tables[key] = read_table(ctx, table, block)
    titles = {fold(sheet_title(ctx.t, lang)) for lang in LANGS}
    carried = next((n for n in ctx.src.sheet_names if fold(n) in titles), None)
    if carried is not None:
        plan.carried_over = read_carried_over(ctx.grid(carried))
    return ReadResult(plan, ctx.findings, ctx.t, ctx.path, ctx.locations)
