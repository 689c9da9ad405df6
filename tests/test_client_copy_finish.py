"""The client copy looks finished: KPI values in their unit, dates in the copy's language, text
wrapped in columns wide enough, set up to print. Checked in the file (openpyxl) and as LibreOffice
prints it (PDF, then pdftotext)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from kamxl.demo import demo_plans
from kamxl.model import Plan
from kamxl.review.share import share_plan
from kamxl.template import Template

from .conftest import recalc

DAY = dt.date(2026, 12, 1)
LONG = "Prepare the joint roadmap workshop with the operations and procurement teams of every site"


def _plan(template: Template, lang: str) -> Plan:
    """A demo plan whose KAM chose to share a percentage KPI and a money KPI."""
    plan = next(p for p in demo_plans(template, seed=7, count=6, today=DAY) if p.lang == lang)
    names = {k["name"]["en"]: k["name"][lang] for k in template.catalogue["kpis"]}
    for row in plan.tables["kpis"]:
        if row["kpi"] == names["Share of wallet"]:
            row |= {"active": "yes", "share": "yes", "target": 0.4, "q1": 0.35}
        if row["kpi"] == names["Revenue generated"]:
            row |= {"active": "yes", "share": "yes", "target": 500000.0, "q1": 430000.0}
    plan.tables["actions"][0]["action"] = LONG
    return plan


def _kpi_sheet(book: openpyxl.Workbook) -> openpyxl.worksheet.worksheet.Worksheet:
    return next(ws for ws in book.worksheets if "KPIs" in ws.tables)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_kpi_values_dates_widths_and_print_setup(tmp_path: Path, template: Template, lang: str) -> None:
    path = share_plan(_plan(template, lang), template, tmp_path / "copy.xlsx", as_of=DAY)
    book = openpyxl.load_workbook(path)
    ws = _kpi_sheet(book)
    grid = list(ws[ws.tables["KPIs"].ref])
    header = [c.value for c in grid[0]]
    q1, target = (
        header.index(template.table("kpis").column("q1").label[lang]),
        header.index(template.table("kpis").column("target").label[lang]),
    )
    by_value = {r[q1].value: r for r in grid[1:] if r[q1].value is not None}
    percent = template.formats.get(f"percent_{lang}", template.formats["percent"])
    assert by_value[0.35][q1].number_format == percent and by_value[0.35][target].number_format == percent
    assert by_value[430000][q1].number_format == template.formats["currency"]
    date_format = template.formats.get(f"date_{lang}", template.formats["date"])
    dates = [
        c for w in book.worksheets for row in w.iter_rows() for c in row if isinstance(c.value, dt.datetime)
    ]
    assert dates and all(c.number_format == date_format for c in dates)
    actions = next(w for w in book.worksheets if "Actions" in w.tables)
    cell = next(c for row in actions.iter_rows() for c in row if c.value == LONG)
    assert cell.alignment.wrap_text and actions.row_dimensions[cell.row].height >= 27  # two lines or more
    for w in book.worksheets[:-1]:  # the hidden record is not printed
        fit = w.sheet_properties.pageSetUpPr.fitToPage  # one page wide (1 is the default width)
        assert int(w.page_setup.paperSize) == 9 and fit and int(w.page_setup.fitToHeight) == 0
        assert "&P" in w.oddFooter.right.text and w.print_title_rows
    assert book.worksheets[1].page_setup.orientation == "landscape"


@pytest.mark.libreoffice
def test_the_french_copy_prints_finished(tmp_path: Path, template: Template) -> None:
    if not shutil.which("pdftotext"):  # CI installs poppler-utils beside LibreOffice
        missing = "pdftotext is not installed (apt-get install poppler-utils)"
        if os.environ.get("KAMXL_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"pdftotext is required here: {missing}")
        pytest.skip(missing)
    path = share_plan(_plan(template, "fr"), template, tmp_path / "copie.xlsx", as_of=DAY)
    recalc([path], pdf=tmp_path)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "copie.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "Banque" in text or len(text) > 500
    assert not re.findall(r"\b20\d\d-\d\d-\d\d\b", text)  # no ISO date in a French copy
    assert re.search(r"\b01/12/2026\b", text)  # the day it was shared
    assert re.search(r"35\s?%", text) and re.search(r"40\s?%", text)  # 0.35 shows as 35 %
    assert re.search(r"430[\s,.\u202f\u00a0]?000\s?€", text)
    assert "0,35" not in text and "0.35" not in text and "###" not in text
    words = " ".join(text.split())
    assert all(word in words for word in LONG.split())  # the long action is printed whole
