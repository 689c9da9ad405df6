"""The account plan as data: what a workbook holds, independent of Excel.

Values are plain Python: ``str``, ``float``/``int``, ``datetime.date``, or ``None`` for blank.
Choice fields hold the choice *code* from the template (``"champion"``), never a label, so a
plan reads the same whatever language its workbook was written in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from .template import Template

Row = dict[str, Any]


@dataclass
class Plan:
    """Form fields by key, table rows by table key, and the workbook's identity."""

    fields: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[Row]] = field(default_factory=dict)
    lang: str = "en"
    account_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    template_id: str = ""
    template_version: str = ""
    generated_at: dt.datetime | None = None
    # Values of an older workbook with no place in this template (see kamxl.carried): never dropped.
    carried_over: list[Row] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.fields.get("client_name") or "")

    @property
    def kam(self) -> str:
        return str(self.fields.get("kam") or "")

    def rows(self, table: str, template: Template) -> list[Row]:
        """Rows of a table that count: those whose key column is filled in."""
        key = template.table(table).key_column
        return [r for r in self.tables.get(table, []) if not is_blank(r.get(key))]


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def new_plan(
    template: Template,
    lang: str = "en",
    *,
    catalogue_targets: bool = False,
    preset: str | None = None,
    **fields: Any,
) -> Plan:
    """An empty plan pre-filled from the template's catalogues (KPIs, criteria, SWOT, rituals).

    KPI targets stay blank (a target is the KAM's to set, never invented); ``catalogue_targets``
    copies the catalogue's example targets, for sample plans. ``preset`` (kamxl.presets) swaps in
    a sector's offers, business units and SWOT rows and adds its KPIs.
    """
    cat = template.catalogue
    yes, no = "yes", "no"
    tables: dict[str, list[Row]] = {t: [] for t in template.tables}
    share = (template.raw.get("sharing") or {}).get("row_column")  # "Share with client"
    share = share if share in {c.key for c in template.table("kpis").columns} else None
    tables["kpis"] = [
        {
            "kpi": k["name"][lang],
            "family": k["family"],
            "unit": k["unit"][lang] if isinstance(k.get("unit"), dict) else k.get("unit"),
            "direction": k["direction"],
            "target": k["target"] if catalogue_targets else None,
            "weight": k["weight"],
            "active": yes if k.get("active") else no,
            **({share: no if k.get("internal") else yes} if share else {}),
        }
        for k in cat["kpis"]
    ]
    tables["assessment"] = [
        {"criterion": c["name"][lang], "axis": c["axis"], "weight": c["weight"]} for c in cat["assessment"]
    ]
    tables["swot"] = [{"dimension": d[lang]} for d in cat["swot_dimensions"]]
    if "rituals" in tables:
        tables["rituals"] = [
            {"ritual": r["ritual"], "frequency": r["frequency"]} for r in cat.get("rituals", [])
        ]
    tables["whitespace"] = [
        {"bu": bu[lang], "offer": offer}
        for bu in cat["business_units"]
        for offer in template.choices["offer"]
    ]
    if preset:
        from .presets import apply_preset  # presets are data beside the template

        apply_preset(tables, preset, lang)
    return Plan(
        fields={k: None for k in template.fields} | fields,
        tables=tables,
        lang=lang,
        template_id=template.id,
        template_version=template.version,
    )
