"""Sector presets: offers, business units, SWOT rows and extra KPIs for a new plan.

The presets are data (workbook_templates/presets.toml). ``kamxl new --sector`` and the CRM
import pick one from the plan's sector; a sector without a preset keeps the template's
catalogue. Preset rows are examples: they count in no figure until the KAM fills them in.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from .template import Template, TemplateError, default_template_path


def presets_path() -> Path:
    return default_template_path().with_name("presets.toml")


@cache
def presets() -> dict[str, dict[str, Any]]:
    path = presets_path()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for key, preset in data.items():
        for part in ("name", "sectors", "offers", "business_units", "swot_dimensions"):
            if part not in preset:
                raise TemplateError(path, f"{key}.{part}", "missing")
    return data


def preset_for(sector: Any) -> str | None:
    """The preset of a sector code (``industry`` -> ``manufacturing``), or None."""
    return next((key for key, p in presets().items() if sector in p["sectors"]), None)


def sector_of(text: str | None, template: Template) -> str | None:
    """A preset's name typed as the sector (``software``, ``Logiciel``) -> its first sector code."""
    if not text:
        return None
    wanted = text.strip().casefold()
    for key, preset in presets().items():
        if wanted == key or wanted in (str(v).casefold() for v in preset["name"].values()):
            return str(preset["sectors"][0]) if preset["sectors"][0] in template.choices["sector"] else None
    return None


def apply_preset(tables: dict[str, list[dict[str, Any]]], key: str, lang: str) -> None:
    """Replace the catalogue's whitespace grid and SWOT rows, add the preset's KPIs (inactive)."""
    preset = presets()[key]
    tables["whitespace"] = [
        {"bu": bu[lang], "offer": offer[lang]}
        for bu in preset["business_units"]
        for offer in preset["offers"]
    ]
    tables["swot"] = [{"dimension": d[lang]} for d in preset["swot_dimensions"]]
    tables["kpis"] = tables.get("kpis", []) + [
        {
            "kpi": k["name"][lang],
            "family": k["family"],
            "unit": k["unit"][lang] if isinstance(k.get("unit"), dict) else k.get("unit"),
            "direction": k["direction"],
            "target": None,
            "weight": k["weight"],
            "active": "no",
        }
        for k in preset.get("kpis", [])
    ]
