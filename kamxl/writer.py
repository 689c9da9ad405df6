"""Render a plan as the account workbook (XlsxWriter).

Every other feature (new, demo, CRM import, upgrade) goes through ``write_plan`` so that all
workbooks share one layout, which the reader and the roll-up rely on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from . import __version__
from .carried import write_carried_over
from .cell_values import cached_values
from .dashboard import Formulas, Metric
from .dashboard_layout import render_dashboard
from .fileio import atomic_path
from .form_sheets import write_orgchart, write_sheet
from .hidden_sheets import LISTS_SHEET, META_SHEET, write_lists, write_meta
from .layout import field_ref
from .memo import per_template
from .model import Plan
from .plan_tables import define_name_lists, table_formula
from .scoring import score_plan
from .template import Template, get_template
from .whatif_sheet import write_whatif
from .workbook_macros import add_buttons, add_macros
from .write_context import WriteContext
from .xmltext import xml_safe

__all__ = [
    "LISTS_SHEET",
    "META_SHEET",
    "add_macros",
    "cached_values",
    "table_formula",
    "write_plan",
]


def write_plan(
    plan: Plan,
    path: str | Path,
    *,
    lang: str | None = None,
    template: Template | None = None,
) -> Path:
    """Write ``plan`` as a workbook at ``path`` atomically (never a half-written file).

    A ``.xlsm`` path gives a macro-enabled workbook with the Recompute & check button.
    """
    template = template or get_template()
    plan = xml_safe(plan)  # a control character from a CRM export would make every sheet invalid XML
    path = Path(path)
    with atomic_path(path) as tmp:
        _PlanWriter(plan, template, lang or plan.lang, tmp, path.suffix.lower() == ".xlsm").write()
    return path


@per_template
def dashboard_metrics(template: Template, lang: str) -> list[Metric]:
    """The Dashboard's metric formulas (the same for every plan of a template and language)."""
    return Formulas(template, lang, lambda key: field_ref(template, key, lang)).metrics()


class _PlanWriter(WriteContext):
    """Puts the sheets together in the template's order; each kind of sheet has its module."""

    def write(self) -> None:
        sheets: dict[str, Worksheet] = {}
        for sheet in self.t.sheets:
            ws = self.wb.add_worksheet(sheet.title[self.lang])
            ws.set_tab_color(sheet.tab_color)
            sheets[sheet.key] = ws
        write_lists(self)
        write_meta(self)
        define_name_lists(self)
        for sheet in self.t.sheets[1:]:
            if sheet.drawing == "orgchart":
                write_orgchart(self, sheet, sheets[sheet.key])
            elif sheet.drawing == "whatif":
                continue  # after the Dashboard, whose Python scores it shows before any change
            else:
                write_sheet(self, sheet, sheets[sheet.key])
        self.write_dashboard(sheets["dashboard"])
        for sheet in self.t.sheets:
            if sheet.drawing == "whatif":
                write_whatif(self, sheet, sheets[sheet.key])
        write_carried_over(self.wb, self.t, self.lang, self.plan.carried_over, self.s)
        self.wb.set_properties(
            {
                "title": f"{self.t.name[self.lang]}: {self.plan.name}".strip(": "),
                "author": self.plan.kam,
                "comments": f"kamxl {__version__}, template {self.t.id} {self.t.version}",
            }
        )
        if self.macros:
            add_macros(self.wb)
            add_buttons(sheets["dashboard"], self.lang)
        sheets["dashboard"].activate()
        self.wb.close()

    # -- dashboard -----------------------------------------------------------------------
    def write_dashboard(self, ws: Worksheet) -> None:
        metrics = dashboard_metrics(self.t, self.lang)
        self.cached = cached_values(score_plan(self.plan, self.t), self.t, self.lang)
        render_dashboard(self, ws, metrics)

    def metric_cell(self, ws: Worksheet, row: int, col: int, metric: Metric, fmt: Any) -> None:
        """A live formula whose cached result is the Python score, for viewers that do not recalculate."""
        ws.write_formula(row, col, "=" + metric.formula, fmt, self.cached.get(metric.key, ""))
        self.wb.define_name(
            metric.name, f"='{self.title('dashboard')}'!{xl_rowcol_to_cell(row, col, True, True)}"
        )
