"""What a reader sees: an empty plan's Dashboard neutral, row heights from the words they hold,
charts a director can read (numbered matrix with its key, one axis label per snapshot)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kamxl import layout
from kamxl.dashboard import unrated_test
from kamxl.dashboard_layout import AXIS_AMOUNT
from kamxl.model import new_plan
from kamxl.printing import MIN_SCALE
from kamxl.rollup import rollup
from kamxl.styles import row_height, text_lines
from kamxl.writer import write_plan

from .plan_factory import random_plan


def _xml(path: Path, prefix: str) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [z.read(n).decode() for n in sorted(z.namelist()) if n.startswith(prefix)]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_empty_dashboard_is_neutral(template, tmp_path, lang):
    """Figures and details grey until something is entered; profitability grey while it is the
    worst-case assumption of a blank margin; the empty pipeline chart's axis starts at 0 and
    shows no 0, 1, 1."""
    path = write_plan(new_plan(template, lang, client_name="New Co"), tmp_path / "p.xlsx", template=template)
    ws = openpyxl.load_workbook(path)[template.sheet("dashboard").title[lang]]
    rules = [(str(cf.sqref), r) for cf in ws.conditional_formatting for r in cf.rules]
    neutral = [(ref, r) for ref, r in rules if r.formula and r.formula[0] == unrated_test(template)]
    assert {"F10:F22"} <= {ref for ref, _ in neutral}  # the key figures
    assert any(ref.startswith("M10:N") for ref, _ in neutral)  # score details
    margin = layout.field_ref(template, "gross_margin", lang)
    prof = [ref for ref, r in rules if r.formula and r.formula[0] == f"NOT(ISNUMBER({margin}))"]
    assert len(prof) == 1
    label_row = next(
        c.row
        for row in ws.iter_rows(min_col=8, max_col=8)
        for c in row
        if isinstance(c.value, str) and c.value.startswith(("Rentabilité (", "Profitability ("))
    )
    assert prof[0].startswith(f"M{label_row}:")
    pipeline = [
        x for x in _xml(path, "xl/charts/") if "<c:barChart>" in x and "c:legend" in x and "Pipeline" in x
    ]
    assert len(pipeline) == 1
    value_axis = pipeline[0].split("<c:valAx>")[1]
    assert '<c:min val="0"/>' in value_axis
    assert AXIS_AMOUNT.replace("<", "&lt;").replace('"', "&quot;") in value_axis


def test_row_heights_follow_the_words(template, tmp_path):
    """A long wrapped text gets the lines its words take; a short one leaves the row alone."""
    plan = random_plan(template, 3, lang="en", fullness=1.0)
    long_text = "Renewal at risk unless the service levels are met for two quarters in a row. " * 3
    plan.tables["risks"][0]["mitigation"] = long_text
    plan.tables["risks"][1]["mitigation"] = "Call them."
    for row in plan.tables["risks"][1:2]:
        for key, value in list(row.items()):
            if isinstance(value, str) and key != "mitigation":
                row[key] = value[:8]
    path = write_plan(plan, tmp_path / "p.xlsx", template=template)
    anchor = layout.table_anchor(template, "risks")
    ws = openpyxl.load_workbook(path)[anchor.titles["en"]]
    col = [c.key for c in template.table("risks").columns].index("mitigation")
    letter = layout.col_letter(anchor.first_col + col)
    width = ws.column_dimensions[letter].width - 0.71  # openpyxl reads the stored width
    first = ws.row_dimensions[anchor.data_row(0)].height
    assert text_lines(long_text, width) >= 3
    assert first >= row_height(text_lines(long_text, width))
    second = ws.row_dimensions[anchor.data_row(1)].height
    assert second is None or second <= row_height(1)


@pytest.fixture(scope="module")
def summary(template, tmp_path_factory):
    plans = tmp_path_factory.mktemp("plans")
    for seed in range(1, 15):
        plan = random_plan(template, seed, lang="en", fullness=1.0)
        plan.fields |= {"client_name": f"Account number {seed:02d} with a long name", "kam": "Jo Doe"}
        write_plan(plan, plans / f"p{seed}.xlsx", template=template)
    out = tmp_path_factory.mktemp("out")
    history = out / "h.sqlite"
    rollup(plans, output=out / "a.xlsx", history=history, as_of=dt.date(2026, 9, 1), jobs=1, lang="fr")
    result = rollup(
        plans, output=out / "b.xlsx", history=history, as_of=dt.date(2026, 12, 1), jobs=1, lang="fr"
    )
    return result


def test_trend_axis_labels_each_snapshot_day(summary):
    """Text categories in the summary's date format: a date axis labels by its base unit."""
    charts = [x for x in _xml(summary.output, "xl/charts/") if "<c:lineChart>" in x]
    assert len(charts) == 2
    for xml in charts:
        assert "<c:dateAx>" not in xml
        assert 'formatCode="dd/mm/yyyy"' in xml.split("<c:catAx>")[1]


def test_matrix_numbers_the_highest_priorities_with_a_key(summary):
    wb = openpyxl.load_workbook(summary.output)
    overview = wb.worksheets[0]
    key = next(
        c.value
        for row in overview.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("1 Account")
    )
    names = re.findall(r"(\d+) (Account number \d\d with a long name)", key)
    assert [int(n) for n, _ in names] == list(range(1, len(names) + 1))
    assert 1 < len(names) <= 10
    scatter = next(x for x in _xml(summary.output, "xl/charts/") if "<c:scatterChart>" in x)
    labels = re.findall(r"<a:t>([^<]*)</a:t>", scatter.split("<c:plotArea>")[1])
    numbers = sorted(int(t) for t in labels if t.isdigit())
    assert numbers == list(range(1, len(names) + 1))
    assert not [t for t in labels if "Account number" in t]  # names are in the key, not on the chart
    rated = sorted(
        (a for a in summary.accounts if a.tier not in (None, "unrated")), key=lambda a: -a.priority
    )
    priority = {a.account: a.priority for a in rated}
    assert [priority[name] for _, name in names] == [a.priority for a in rated[: len(names)]]


def test_french_summary_writes_dates_in_text_the_french_way(summary):
    """Titles, notes and footers of a French summary say 01/12/2026, never 2026-12-01."""
    wb = openpyxl.load_workbook(summary.output)
    heads = [
        c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
        and ("/2026" in c.value or re.search(r"\d{4}-\d\d-\d\d", c.value))
        # the plans' own alert and check messages are in their language (English here)
        and ws.title not in ("Alertes", "Qualité des données")
    ]
    assert heads, "no date in any title or note"
    assert not [h for h in heads if re.search(r"\d{4}-\d\d-\d\d", h)], heads
    assert any("consolidés le 01/12/2026" in h for h in heads)
    assert any("01/09/2026" in h for h in heads)  # the movements since the previous snapshot
    assert any("31/12/2026" in h for h in heads)  # actions due within 30 days
    footers = {ws.oddFooter.left.text for ws in wb.worksheets if ws.oddFooter.left.text}
    assert footers and all("01/12/2026" in f for f in footers), footers


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_printed_page_says_its_sheet_and_starts_clean(template, tmp_path, lang):
    """The sheet's heading is the page header of every page; the heading, client and hint rows
    stay out of the print area (a page of a table beside another, or the continuation of a wide
    table, never starts with a cut heading or a fragment of the hint); tables beside the first
    under a form print on their own, without the form's empty rows."""
    plan = random_plan(template, 5, lang=lang, fullness=1.0)
    path = write_plan(plan, tmp_path / "p.xlsx", template=template)
    wb = openpyxl.load_workbook(path)
    for sheet in template.sheets:
        if not (sheet.fields or sheet.tables):
            continue
        ws = wb[sheet.title[lang]]
        assert ws.oddHeader.left.text == sheet.heading[lang], sheet.key
        areas = [a.split("!")[1].replace("$", "") for a in ws.print_area.split(",")]
        assert all(int(re.sub(r"[A-Z]+", "", a.split(":")[0])) >= 4 for a in areas), (sheet.key, areas)
        anchors = [layout.table_anchor(template, t.key) for t in sheet.tables]
        if sheet.fields and len(anchors) > 1:
            assert areas[1:] == [
                f"{layout.col_letter(a.first_col)}{a.title_row}:{layout.col_letter(a.last_col)}{ws.max_row}"
                for a in anchors[1:]
            ]
        else:
            assert len(areas) == 1
        if ws.print_title_rows:
            assert ws.print_title_rows.startswith(f"${anchors[0].title_row}:")


def test_summary_overview_prints_legibly(summary):
    """Tiles, then the matrix and pipeline, then the KAM chart, each on a page of its own at a
    scale that keeps 10 pt text at 8 pt or more (fitted to one page it printed at about 5 pt)."""
    ws = openpyxl.load_workbook(summary.output).worksheets[0]
    assert not ws.sheet_properties.pageSetUpPr.fitToPage
    assert int(ws.page_setup.scale or 100) >= MIN_SCALE
    assert ws.page_setup.orientation == "landscape"
    breaks = [b.id for b in ws.row_breaks.brk]
    assert len(breaks) == 2
    anchors = sorted(c.anchor._from.row for c in ws._charts)
    assert anchors[0] >= breaks[0] and anchors[-1] >= breaks[1] > anchors[0]


def test_summary_data_sheets_print_their_heading_on_every_page(summary):
    """Each data sheet's heading and note are its page header; the print area starts at the
    table's header row, so a continuation page never opens on a cut heading."""
    wb = openpyxl.load_workbook(summary.output)
    checked = 0
    for ws in wb.worksheets[1:]:
        if ws.sheet_state != "visible" or not ws.tables:
            continue
        heading = ws["A1"].value
        if not ws.oddHeader.left.text:
            continue
        checked += 1
        assert ws.oddHeader.left.text.startswith(heading), ws.title
        assert ws.print_area.split("!")[1].startswith("$A$4:"), ws.title
    assert checked >= 6
