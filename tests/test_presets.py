"""Sector presets: a new plan for a manufacturer, a software house or a services firm starts
with that sector's offers, business units, SWOT rows and KPIs; example rows count in no figure."""

from __future__ import annotations

import datetime as dt

from kamxl.crm import generate_from_export
from kamxl.model import new_plan
from kamxl.presets import preset_for, presets, sector_of
from kamxl.reader import read_plan
from kamxl.scoring import score_plan
from kamxl.workbooks import new_workbook

from .test_crm import write_export

TODAY = dt.date(2026, 6, 1)


def offers(template, plan) -> set[str]:
    """The offers of a plan's whitespace grid as the KAM reads them (an offer that is also one of
    the template's choices comes back as its code)."""
    choices = template.choices["offer"]
    return {
        template.label("offer", o, plan.lang) if o in choices else o
        for o in (r["offer"] for r in plan.tables["whitespace"])
    }


def test_each_preset_maps_real_sectors(template):
    assert {"manufacturing", "software", "services"} <= set(presets())
    for key, preset in presets().items():
        assert preset["sectors"] and all(s in template.choices["sector"] for s in preset["sectors"]), key
        assert all(preset_for(s) == key for s in preset["sectors"])
    assert preset_for("public") is None and preset_for(None) is None


def test_kamxl_new_with_a_sector_uses_its_preset(template, tmp_path):
    path = new_workbook("Forges de l'Est", tmp_path, sector="Industrie", lang="fr", macros=False)
    plan = read_plan(path, template=template).plan
    manufacturing = presets()["manufacturing"]
    assert plan.fields["sector"] == "industry"
    assert offers(template, plan) == {o["fr"] for o in manufacturing["offers"]}
    assert {r["bu"] for r in plan.tables["whitespace"]} == {b["fr"] for b in manufacturing["business_units"]}
    assert [r["dimension"] for r in plan.tables["swot"]] == [
        d["fr"] for d in manufacturing["swot_dimensions"]
    ]
    kpis = {r["kpi"]: r for r in plan.tables["kpis"]}
    for kpi in manufacturing["kpis"]:
        assert kpis[kpi["name"]["fr"]]["active"] == "no"  # an example until the KAM activates it
    software = read_plan(
        new_workbook("Bitwise", tmp_path, sector="software", macros=False), template=template
    )
    assert software.plan.fields["sector"] == "tech"
    assert offers(template, software.plan) == {o["en"] for o in presets()["software"]["offers"]}


def test_a_sector_without_preset_keeps_the_catalogue(template):
    plan = new_plan(template, "en", preset=preset_for("public"), client_name="City", sector="public")
    assert {r["offer"] for r in plan.tables["whitespace"]} == set(template.choices["offer"])


def test_example_rows_count_in_no_figure(template):
    plan = new_plan(template, "en", preset="services", client_name="Audit & Co", sector="services")
    f = score_plan(plan, template, TODAY).figures
    assert plan.tables["whitespace"] and f.offer_coverage == 0 and f.open_potential == 0
    plan.tables["whitespace"][0] |= {"status": "owned", "current_revenue": 100_000}
    plan.tables["whitespace"][1] |= {"status": "whitespace", "potential": 50_000}
    f = score_plan(plan, template, TODAY).figures
    assert f.offer_coverage == 0.5 and f.open_potential == 50_000  # only the two rows filled in


def test_the_crm_industry_column_picks_the_preset(template, tmp_path):
    export = write_export(
        tmp_path / "accounts.csv",
        "bom",
        ["Account Name", "Account ID", "Account Owner", "Industry"],
        [
            ["Aciéries Morel", "001A", "Jeanne Martin", "Machinery"],
            ["Banque Lune", "001B", "Paul Roy", "Banking"],
        ],
    )
    result = generate_from_export(
        export, tmp_path / "out", mapping="salesforce", lang="fr", template=template
    )
    plans = {p.plan.name: p.plan for p in (read_plan(path, template=template) for path in result.generated)}
    steel, bank = plans["Aciéries Morel"], plans["Banque Lune"]
    assert steel.fields["sector"] == "industry" and bank.fields["sector"] == "finance"
    assert offers(template, steel) == {o["fr"] for o in presets()["manufacturing"]["offers"]}
    assert offers(template, bank) == {o["fr"] for o in presets()["services"]["offers"]}


def test_a_preset_name_typed_as_sector(template):
    assert sector_of("Logiciel", template) == "tech" and sector_of("services", template) == "services"
    assert sector_of("Aerospace", template) is None
