"""Every formula cell's cached value is what LibreOffice computes after a full recalculation.

Viewers that do not recalculate (file previews, Protected View, pandas, python-calamine, Power
Query) show the cached value, so it must be the true one in every generated workbook.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kamxl.demo import demo_plans
from kamxl.model import new_plan
from kamxl.rollup import rollup
from kamxl.row_formulas import ExcelError, evaluate
from kamxl.writer import write_plan


def _same(cached: Any, recalculated: Any) -> bool:
    if isinstance(recalculated, dict):  # an error value
        return cached == recalculated.get("text")
    if cached in (None, "") or recalculated == "":
        return cached in (None, "") and recalculated in ("", None)
    if isinstance(cached, bool):
        cached = float(cached)
    if isinstance(cached, dt.datetime):
        cached = (cached - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    if isinstance(cached, (int, float)) and isinstance(recalculated, (int, float)):
        return math.isclose(cached, recalculated, rel_tol=1e-9, abs_tol=1e-9)
    return cached == recalculated


def _differences(path: Path, cells: dict[str, dict[str, Any]]) -> list[str]:
    wb = openpyxl.load_workbook(path, data_only=True)
    out = []
    for sheet, values in cells.items():
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        for address, expected in values.items():
            cached = ws[address].value
            if not _same(cached, expected):
                out.append(f"{path.name} {sheet}!{address}: cached {cached!r}, LibreOffice {expected!r}")
    return out


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory, template) -> list[Path]:
    root = tmp_path_factory.mktemp("cached")
    plans_dir = root / "plans"
    files = [
        write_plan(new_plan(template, "en", client_name="Empty Ltd"), plans_dir / "Empty Ltd.xlsx"),
        write_plan(new_plan(template, "fr"), plans_dir / "Vide SA.xlsx"),
    ]
    plans = demo_plans(template, seed=7, count=6)
    for lang in ("en", "fr"):
        plan = next(p for p in plans if p.lang == lang)
        files.append(write_plan(plan, plans_dir / f"{plan.name}.xlsm"))
    for plan in plans:  # a fuller summary: every demo profile's look
        if plan.name not in {f.stem for f in files}:
            write_plan(plan, plans_dir / f"{plan.name}.xlsx")
    files.append(rollup(plans_dir, output=root / "summary.xlsx", jobs=1, history=False).output)
    return files


def test_every_cached_value_matches_libreoffice(workbooks, lo_recalc):
    results = lo_recalc(workbooks, cells=True)
    problems: list[str] = []
    counted = 0
    for path in workbooks:
        cells = results[str(path)]["cells"]
        counted += sum(len(v) for v in cells.values())
        problems += _differences(path, cells)
    assert counted > 500, "too few formula cells compared: the comparison itself is broken"
    assert not problems, f"{len(problems)} stale cached values:\n" + "\n".join(problems[:40])


def test_row_formula_evaluation_follows_excel():
    cells = {"P": 3.0, "I": 4.0, "Stage": "Won", "Blank": None, "Name": "x"}
    cell = cells.__getitem__
    f = "T[[#This Row],[{}]]".format
    assert evaluate(f'=IF(AND(ISNUMBER({f("P")}),ISNUMBER({f("I")})),{f("P")}*{f("I")},"")', cell) == 12
    assert evaluate(f'=IF(ISNUMBER({f("Blank")}),1,"")', cell) == ""
    assert evaluate(f'=IF(OR({f("Stage")}="won",{f("Stage")}="Lost"),0,N({f("Blank")})*2)', cell) == 0
    assert evaluate(f'=IF({f("Blank")}="","empty","full")', cell) == "empty"
    assert evaluate(f"=MAX(0,MIN(1,{f('P')}/{f('I')}))", cell) == 0.75
    assert isinstance(evaluate(f"={f('P')}/{f('Blank')}", cell), ExcelError)
    assert evaluate(f'={f("Name")}&"-"&{f("P")}', cell) == "x-3"
