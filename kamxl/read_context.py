"""What one reading shares: the source, its sheets read once, the findings, and the workbook's identity.

The identity (template, version, language) comes from the hidden metadata sheet, with the
sheet titles as a fallback for the language.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .coerce import fold
from .findings import Finding, NotAPlan, NotAWorkbook, Severity
from .layout import Locations
from .preflight import RefusedFile
from .read_values import CellValues, Flags, labels_for
from .template import LANGS, Template, get_template, load_template
from .workbook_source import META_SHEET, Grid, WorkbookSource

TemplateArg = Template | str | Path | None


def quoted(text: object) -> str:
    return f'"{text}"'


class ReadContext:
    """One workbook being read: cached sheets, findings so far, template and language."""

    def __init__(self, path: Path, source: WorkbookSource, template: TemplateArg) -> None:
        self.path, self.src = path, source
        self.findings: list[Finding] = []
        self.grids: dict[str, Grid] = {}
        self.flag_cache: dict[str, Flags] = {}
        self.locations = Locations()
        self.meta = self._meta()
        self.t = self._template(template)
        self.lang = self._lang()
        self.titles = {fold(name): name for name in source.sheet_names}
        self.labels = labels_for(self.t, self.lang)
        # What later template versions added is absent by design from an older workbook: not a finding.
        self.added = self.t.added_since(self.meta.get("template_version", ""))
        self.values = CellValues(self.labels, self.lang, self.add, self.flags)

    def release(self) -> None:
        """Let go of the sheets read and of the cell reader, which points back at this context:
        a workbook's grids are then freed as soon as the reading ends, not by the garbage
        collector, which would otherwise walk every one of them."""
        self.grids.clear()
        self.flag_cache.clear()
        self.values = None  # type: ignore[assignment]

    # ---- helpers
    def add(self, severity: Severity, sheet: str, cell: str, message: str) -> None:
        self.findings.append(Finding(severity, sheet, cell, message))

    def grid(self, name: str) -> Grid:
        if name not in self.grids:
            try:
                self.grids[name] = self.src.grid(name)
            except (RefusedFile, NotAWorkbook):
                raise  # a sheet no parser may see, or a file no parser can open: said as such
            except Exception:  # never raise on content: report the sheet and go on
                self.add("error", name, "A1", "this sheet could not be read")
                self.grids[name] = []
        return self.grids[name]

    def flags(self, name: str) -> Flags:
        if name not in self.flag_cache:
            try:
                self.flag_cache[name] = self.src.flags(name)
            except RefusedFile:
                raise
            except Exception:  # formulas and error values unknown: values are still read
                self.flag_cache[name] = {}
        return self.flag_cache[name]

    @staticmethod
    def at(grid: Grid, row: int, col: int) -> Any:
        if 0 <= row < len(grid) and 0 <= col < len(grid[row]):
            return grid[row][col]
        return None

    def sheet_name(self, sheet_key: str) -> str | None:
        titles = self.t.sheet(sheet_key).title
        for lang in (self.lang, *LANGS):
            if (name := self.titles.get(fold(titles[lang]))) is not None:
                return name
        return None

    # ---- identity
    def _meta(self) -> dict[str, str]:
        if META_SHEET not in self.src.sheet_names:
            raise NotAPlan(self.path, f"no {META_SHEET} sheet: this workbook was not made by kamxl")
        meta = {}
        for row in self.grid(META_SHEET):
            if len(row) >= 2 and isinstance(row[0], str) and row[0].strip():
                value = row[1]
                text = "" if value is None else repr(value) if isinstance(value, float) else str(value)
                meta[row[0].strip()] = text.strip()
        return meta

    def _template(self, given: TemplateArg) -> Template:
        if isinstance(given, Template):
            template = given
        elif given is not None:
            template = load_template(given)
        else:
            template = get_template()
        tid, version = self.meta.get("template_id", ""), self.meta.get("template_version", "")
        if tid and tid != template.id:
            self.add(
                "warning",
                META_SHEET,
                "B1",
                f"made from template {quoted(tid)}, read with {quoted(template.id)}: "
                "columns matched by their labels",
            )
        elif version and version != template.version:
            self.add(
                "info",
                META_SHEET,
                "B2",
                f"made from template version {version}, read with version {template.version}: "
                "columns matched by their labels; `kamxl upgrade` moves it to the current version",
            )
        return template

    def _lang(self) -> str:
        lang = self.meta.get("lang", "")
        if lang in LANGS:
            return lang
        names = {fold(n) for n in self.src.sheet_names}
        votes = {lg: sum(fold(s.title[lg]) in names for s in self.t.sheets) for lg in LANGS}
        return max(LANGS, key=lambda lg: votes[lg])

    def generated_at(self) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(self.meta.get("generated_at", ""))
        except ValueError:
            return None
