"""Generated workbooks open in LibreOffice and recalculate without a single error value."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from kamxl.demo import demo_plans
from kamxl.model import new_plan
from kamxl.writer import write_plan


def test_harness_reports_error_values(tmp_path, lo_recalc):
    path = tmp_path / "broken.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("S")
    ws.write_formula("B2", "=1/0")
    wb.define_name("Broken", "=S!$B$2")
    wb.close()
    result = lo_recalc([path])[str(path)]
    assert result["errors"] and result["errors"][0]["row"] == 2
    assert result["names"]["Broken"]["text"] == "#DIV/0!"


def test_empty_and_demo_workbooks_recalculate_cleanly(template, tmp_path, lo_recalc):
    files: list[Path] = []
    for lang in ("en", "fr"):
        files.append(
            write_plan(
                new_plan(template, lang, client_name="Empty"),
                tmp_path / f"empty-{lang}.xlsx",
                template=template,
            )
        )
    plans = demo_plans(template, seed=3, count=8)
    assert {p.lang for p in plans} == {"en", "fr"}
    for i, plan in enumerate(plans):
        files.append(write_plan(plan, tmp_path / f"demo-{i}.xlsx", template=template))
    results = lo_recalc(files)
    for path in files:
        result = results[str(path)]
        assert "load_error" not in result, path
        assert result["errors"] == [], f"{path.name}: {result['errors'][:5]}"
        assert isinstance(result["names"]["Score_Overall"], float)
        assert isinstance(result["names"]["Account_Tier"], str) and result["names"]["Account_Tier"]
