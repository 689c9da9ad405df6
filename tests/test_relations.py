"""The relationship map: org chart layout and sheet, account team, competitors in the roll-up."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from kamxl.demo import demo_portfolio
from kamxl.orgchart import BOX_UNITS, FIRST_COL, FRAMES, build_forest, center_col, layout_orgchart
from kamxl.rollup import rollup
from kamxl.template import get_template
from kamxl.writer import write_plan

TODAY = dt.date(2026, 11, 2)


@pytest.fixture(scope="module")
def demo():
    return demo_portfolio(get_template(), seed=7, count=6, today=TODAY)


def people(*rows):
    return [dict(zip(("name", "reports_to", "stance", "strength", "role"), r, strict=False)) for r in rows]


def test_managers_are_centred_over_their_reports_and_lines_join_them():
    rows = people(("Ceo", None), ("Cfo", "Ceo"), ("Cio", "ceo "), ("Dev", "Cio"), ("Ops", "Cio"))
    drawing = layout_orgchart(rows, get_template(), "en")
    boxes = {c.value: c for c in drawing.cells if c.style.bold and c.row >= 7}
    centre = {name: (c.col + c.last_col + 1) / 2 for name, c in boxes.items()}
    assert centre["Cio"] == (centre["Dev"] + centre["Ops"]) / 2
    assert boxes["Ceo"].row < boxes["Cfo"].row == boxes["Cio"].row < boxes["Dev"].row
    assert all(c.last_col - c.col + 1 == BOX_UNITS for c in boxes.values())
    below_ceo = [c for c in drawing.cells if c.row == boxes["Ceo"].row + 3 and c.style.right]
    assert [c.col for c in below_ceo] == [int(centre["Ceo"]) - 1]
    assert not drawing.notes


def test_unknown_managers_and_loops_become_tops_with_a_note():
    roots, notes = build_forest(people(("A", "B"), ("B", "A"), ("C", "Nobody"), ("D", "D")))
    assert {r.row["name"] for r in roots} >= {"C", "D"} and len(notes) == 3


def test_boxes_are_filled_by_stance_framed_by_strength_and_marked():
    t = get_template()
    rows = people(
        ("Ann", None, "champion", "strong", "decision_maker"), ("Bob", "Ann", "detractor", "weak", "user")
    )
    drawing = layout_orgchart(rows, t, "en")
    ann = next(c for c in drawing.cells if c.value == "Ann")
    bob = next(c for c in drawing.cells if c.value == "Bob")
    assert ann.style.fill == t.style["good"] and bob.style.fill == t.style["bad"]
    assert ann.style.top == FRAMES["strong"] and bob.style.top == FRAMES["weak"]
    marks = next(c for c in drawing.cells if c.row == ann.row + 2 and c.col == ann.col)
    assert marks.value.startswith("◆ Decision maker")


def test_demo_workbook_has_a_one_page_org_chart_and_an_account_team(demo, tmp_path):
    t = get_template()
    plan = next(pl for p, pl in demo if p == "healthy")
    path = write_plan(plan, tmp_path / "plan.xlsx", template=t)
    book = openpyxl.load_workbook(path)
    ws = book[t.sheet("orgchart").title[plan.lang]]
    setup = ws.page_setup  # 1 is the default: XlsxWriter leaves it out (None), 0 means "any number"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.orientation == "landscape"
    assert setup.fitToWidth in (None, 1) and setup.fitToHeight in (None, 1)
    names = {r["name"] for r in plan.tables["stakeholders"]}
    drawn = {c.value for row in ws.iter_rows() for c in row if c.value in names}
    assert drawn == names
    tops = [r for r in plan.tables["stakeholders"] if not r.get("reports_to")]
    assert len(tops) == 1  # the demo's reporting lines make one tree
    team = plan.tables["team"]
    assert {r["role"] for r in team} >= {"account_lead", "exec_sponsor"}
    owners = {r["owner"] for r in plan.tables["stakeholders"]}
    assert owners <= {r["name"] for r in team}
    assert plan.tables["raci"] and plan.tables["competitors"]
    first = FIRST_COL + BOX_UNITS // 2
    assert center_col(0) == first


def test_rollup_shows_competitor_presence_across_the_portfolio(demo, tmp_path):
    t = get_template()
    for _, plan in demo:
        write_plan(plan, tmp_path / "plans" / f"{plan.name}.xlsx", template=t)
    result = rollup(tmp_path / "plans", output=tmp_path / "summary.xlsx", history=False, jobs=1)
    expected: dict[str, int] = {}
    for _, plan in demo:
        names = {r["name"] for r in plan.tables["competitors"]}
        names |= {c["incumbent"] for c in plan.tables["whitespace"] if c.get("incumbent")}
        for name in names:
            expected[name] = expected.get(name, 0) + 1
    ws = openpyxl.load_workbook(result.output)["Competitors"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "Competitor or partner")
    found = {r[0]: r[2] for r in rows[header + 1 :] if r[0] and not str(r[0]).startswith("Total")}
    assert found == expected


def test_org_chart_legend_and_notes_speak_the_workbook_language():
    t = get_template()
    rows = people(("A", "B"), ("B", "A"), ("C", "Nobody"), ("D", "D"))
    fr = layout_orgchart(rows, t, "fr")
    assert "C\u00a0: rattaché à «\u00a0Nobody\u00a0», absent de la liste" in fr.notes
    assert "D\u00a0: rattaché à lui-même" in fr.notes and len(fr.notes) == 3
    legend = {c.value for c in fr.cells if c.row in (4, 5)}
    assert {"Fond\u00a0: attitude envers nous", "Cadre\u00a0: qualité de la relation"} <= legend
    assert any(str(v).startswith("Repères\u00a0: ") for v in legend)
    en = layout_orgchart(rows, t, "en")
    assert 'C: reports to "Nobody", who is not on the list' in en.notes
