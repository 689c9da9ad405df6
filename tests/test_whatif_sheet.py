"""The What-if sheet's live formulas give what ``kamxl.whatif.sheet_what_if`` gives in Python.

Plans are written, the KAM's inputs typed into the sheet (openpyxl), LibreOffice recalculates,
and WhatIf_Priority, WhatIf_Tier, WhatIf_Status and the chain behind them must equal Python.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from kamxl.model import Plan
from kamxl.scoring import Scores
from kamxl.whatif import sheet_what_if
from kamxl.whatif_sheet import input_name
from kamxl.writer import write_plan

from .plan_factory import random_plan
from .test_drivers import _maintain
from .test_invariants import _case


def _named_cell(wb: openpyxl.Workbook, name: str):
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    return wb[sheet][ref.replace("$", "")]


def _type_inputs(path: Path, inputs: dict[str, object]) -> None:
    wb = openpyxl.load_workbook(path)
    for key, value in inputs.items():
        _named_cell(wb, input_name(key)).value = value
    wb.save(path)


def _first(plan: Plan, table: str, column: str, test) -> object:
    return next((r[column] for r in plan.tables.get(table, []) if r.get(column) and test(r)), None)


def _cases(template) -> list[tuple[str, Plan, dict[str, object]]]:
    maintain = _maintain(template)
    rich = random_plan(template, 11, lang="fr", fullness=1.0)
    rich.fields |= {"annual_revenue": 700_000, "gross_margin": 0.22}
    open_stages = ("prospecting", "qualification", "proposal", "negotiation")
    deals = [r for r in rich.tables["opportunities"] if r.get("stage") in open_stages and r.get("name")]
    for i, deal in enumerate(deals):
        deal["name"] = f"Affaire {i}"
    for i, person in enumerate(rich.tables["stakeholders"]):
        if person.get("name"):
            person["name"] = f"Personne {i}"
    for i, risk in enumerate(rich.tables["risks"]):
        if risk.get("risk"):
            risk["risk"] = f"Risque {i}"
    detractor = _first(rich, "stakeholders", "name", lambda r: r.get("stance") == "detractor")
    risky = _maintain(template)
    risky.tables["risks"] = [
        {"risk": "Budget cut", "category": "churn_signal", "probability": 5, "impact": 4, "status": "open"}
    ]
    risky.tables["stakeholders"].append(
        {"name": "Vic", "role": "decision_maker", "level": "director", "stance": "detractor", "influence": 5}
    )
    risky.tables["opportunities"].append(
        {"name": "Small", "amount": 20_000, "probability": 0.5, "stage": "proposal"}
    )
    return [
        ("win_material", maintain, {"win": "deal"}),
        ("lose_material", maintain, {"lose": "Deal"}),
        ("close_churn", risky, {"close": "Budget cut"}),
        ("convert_decider", risky, {"convert": "Vic", "close": "Budget cut"}),
        ("win_then_lose_same", risky, {"win": "Deal", "lose": "Deal"}),
        ("none", maintain, {}),
        ("convert", maintain, {"convert": "p3"}),
        ("margin_revenue", maintain, {"margin": 0.05, "revenue": 2_500_000}),
        ("win", rich, {"win": deals[0]["name"] if deals else None}),
        ("lose_and_close", rich, {"lose": deals[-1]["name"] if deals else None, "close": "Risque 0"}),
        ("convert_detractor", rich, {"convert": detractor, "margin": 0.4}),
        ("not_applicable", rich, {"win": "No such deal", "convert": "Nobody"}),
        ("hostile", _case(template, revenue=1_600_000, whitespace=0, friendly=False), {"margin": 0.0}),
    ]


def _expected(scores: Scores, template, lang: str) -> dict[str, object]:
    f = scores.figures
    return {
        "WhatIf_Priority": scores.priority,
        "WhatIf_Tier": template.tier_label(scores.tier, lang),
        "WhatIf_Status": template.status[scores.status]["label"][lang],
        "WhatIf_Reason": template.text(f"tier_reason_{scores.tier_reason}", lang)
        if scores.tier_reason
        else "",
        "WhatIf_Potential": scores.potential,
        "WhatIf_Relationship": scores.relationship,
        "WhatIf_Probability": f.probability,
        "WhatIf_Profitability": f.profitability,
        "WhatIf_Money": f.money_at_stake,
        "WhatIf_Material": f.material_pipeline,
        "WhatIf_Complete": f.complete,
    }


def test_whatif_sheet_recalculates_as_python(template, lo_recalc, tmp_path):
    cases = _cases(template)
    paths = {}
    for name, plan, inputs in cases:
        path = write_plan(plan, tmp_path / f"{name}.xlsx", template=template)
        _type_inputs(path, {k: v for k, v in inputs.items() if v is not None})
        paths[name] = path
    results = lo_recalc(list(paths.values()))
    today = dt.date.today()
    mismatches, moved = [], 0
    for name, plan, inputs in cases:
        result = results[str(Path(paths[name]))]
        assert not result.get("errors"), f"{name}: formula errors {result['errors'][:5]}"
        names = result["names"]
        outcome = sheet_what_if(plan, template, inputs, today)
        moved += (outcome.after.priority, outcome.after.status) != (
            outcome.today.priority,
            outcome.today.status,
        )
        assert names["Score_Priority"] == __import__("pytest").approx(outcome.today.priority)
        for key, want in _expected(outcome.after, template, plan.lang).items():
            got = names[key]
            same = (
                str(got) == str(want)
                if isinstance(want, str) or isinstance(got, str)
                else abs(float(got) - float(want)) <= 1e-6 * max(1.0, abs(float(want)))
            )
            if not same:
                mismatches.append(f"{name} {key}: LibreOffice {got!r} != Python {want!r}")
    assert not mismatches, "\n".join(mismatches)
    assert moved >= 6  # the cases really change something


def test_no_input_leaves_today_unchanged(template, tmp_path):
    plan = _maintain(template)
    outcome = sheet_what_if(plan, template, {"win": "  ", "margin": "high"})
    assert outcome.after.priority == outcome.today.priority and outcome.after.tier == outcome.today.tier
    wb = openpyxl.load_workbook(write_plan(plan, tmp_path / "p.xlsx", template=template))
    for key in ("win", "lose", "convert", "close", "margin", "revenue"):
        cell = _named_cell(wb, input_name(key))
        assert cell.value is None and cell.protection.locked is False
    assert {"WhatIf_Priority", "WhatIf_Tier", "WhatIf_Status"} <= set(wb.defined_names)


def test_dashboard_says_why_and_links_to_the_whatif_sheet(template, tmp_path):
    plan = _maintain(template)
    path = write_plan(plan, tmp_path / "p.xlsx", template=template)
    formulas = openpyxl.load_workbook(path)["Dashboard"]["B8"].value
    cached = openpyxl.load_workbook(path, data_only=True)["Dashboard"]["B8"].value
    assert formulas.startswith("=HYPERLINK(\"#'What if'!A1\"") and "Tier_Reason" in formulas
    assert cached == "Reason: grow · weakest factor: probability · what moves the tier: What if sheet ›"
