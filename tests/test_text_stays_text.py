"""Text that looks like a formula stays text in every file kamxl writes.

A client types ``=WEBSERVICE(...)`` into a comment of the shared copy; it is merged back, then
goes out again in the next client copy, the review deck's chart data, an upgraded workbook and
the portfolio summary. Every written part is opened as a zip and its XML searched: no ``<f>``
element may hold any of that text, and the text itself must be there, as text.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kamxl.demo import demo_plans
from kamxl.reader import read_plan
from kamxl.review.cellpatch import patch_workbook
from kamxl.review.merge import merge_back
from kamxl.review.qbr import write_qbr
from kamxl.review.share import share_plan
from kamxl.rollup import rollup
from kamxl.template import Template
from kamxl.upgrade import upgrade_workbook
from kamxl.writer import write_plan

DAY = dt.date(2026, 12, 1)
FORMULA_LIKE = [
    "=cmd|' /C calc'!A0",
    '=WEBSERVICE("http://kmx.test/a")',
    '=HYPERLINK("http://kmx.test/b","open")',
    "+1",
    "-1",
    "@SUM(A1:A2)",
]
V1 = Path(__file__).parent / "fixtures" / "v1" / "Moulins Sérélan.xlsx"
_FORMULA = re.compile(rb"<f(?:\s[^>]*)?>(.*?)</f>", re.S)
_TEXT = re.compile(rb"<t(?:\s[^>]*)?>(.*?)</t>", re.S)


def _parts(path: Path) -> dict[str, bytes]:
    """Every XML part of an Office file, embedded workbooks (chart data) opened too."""
    out = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            if name.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(data)) as inner:
                    out |= {f"{name}!{n}": inner.read(n) for n in inner.namelist() if n.endswith(".xml")}
            elif name.endswith((".xml", ".rels")):
                out[name] = data
    return out


def assert_text_not_formula(path: Path, expected: list[str]) -> None:
    """No formula of ``path`` holds formula-like text; each of ``expected`` is there as text."""
    formulas, texts = set(), set()
    for data in _parts(path).values():
        formulas |= {html.unescape(f.decode()) for f in _FORMULA.findall(data)}
        texts |= {html.unescape(t.decode()) for t in _TEXT.findall(data)}
    bodies = {x.lstrip("=") for x in FORMULA_LIKE} | set(FORMULA_LIKE)
    for formula in formulas:
        assert formula not in bodies and "kmx.test" not in formula and "cmd|" not in formula, (path, formula)
    missing = [x for x in expected if not any(x in t for t in texts)]
    assert not missing, (path.name, missing)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, template: Template) -> Path:
    """A French plan whose text fields and rows hold formula-like text."""
    folder = tmp_path_factory.mktemp("hostile")
    plan = next(p for p in demo_plans(template, seed=7, count=6, today=DAY) if p.lang == "fr")
    actions = plan.rows("actions", template)
    for row, text in zip(actions, FORMULA_LIKE, strict=False):
        row["comment"] = text
    actions[0]["action"] = FORMULA_LIKE[1]
    plan.rows("objectives", template)[0]["objective"] = FORMULA_LIKE[2]
    plan.rows("whitespace", template)[0]["bu"] = FORMULA_LIKE[0]
    plan.fields["client_comment"] = FORMULA_LIKE[1]
    plan.fields["kam"] = FORMULA_LIKE[3]
    return write_plan(plan, folder / "plans" / "Hostile.xlsx")


def test_generated_plan_keeps_text(hostile: Path) -> None:
    assert_text_not_formula(hostile, FORMULA_LIKE)
    actions = read_plan(hostile).plan.tables["actions"]
    assert [r["comment"] for r in actions[: len(FORMULA_LIKE)]] == FORMULA_LIKE


def test_client_copy_and_merge_back_keep_text(hostile: Path, tmp_path: Path, template: Template) -> None:
    plan_path = tmp_path / hostile.name
    shutil.copy2(hostile, plan_path)
    first = share_plan(read_plan(plan_path).plan, template, tmp_path / "copy.xlsx", as_of=DAY)
    assert_text_not_formula(first, FORMULA_LIKE)
    # the client types formula-like text as text (a leading apostrophe in Excel)
    book = openpyxl.load_workbook(first)
    ws = next(w for w in book.worksheets if "Actions" in w.tables)
    grid = list(ws[ws.tables["Actions"].ref])
    header = [c.value for c in grid[0]]
    comment = header.index(template.table("actions").column("comment").label["fr"])
    typed = '=WEBSERVICE("http://kmx.test/client")'
    grid[-1][comment].value = None
    cell = grid[1 + len(FORMULA_LIKE)][comment]
    cell.value, cell.data_type = typed, "s"
    book.save(first)
    report = merge_back(plan_path, first)
    assert any(c.after == typed and c.outcome == "applied" for c in report.changes), report.changes
    assert_text_not_formula(plan_path, [*FORMULA_LIKE, typed])
    assert typed in [r.get("comment") for r in read_plan(plan_path).plan.tables["actions"]]
    again = share_plan(read_plan(plan_path).plan, template, tmp_path / "again.xlsx", as_of=DAY)
    assert_text_not_formula(again, [*FORMULA_LIKE, typed])


def test_deck_keeps_text(hostile: Path, tmp_path: Path, template: Template) -> None:
    deck, _ = write_qbr(read_plan(hostile).plan, template, tmp_path, as_of=DAY, pdf=False)
    assert any("embeddings" in name for name in _parts(deck))
    assert_text_not_formula(deck, [FORMULA_LIKE[0], FORMULA_LIKE[2]])


def test_upgrade_keeps_text(tmp_path: Path) -> None:
    path = tmp_path / V1.name
    shutil.copy2(V1, path)
    result = read_plan(path)
    sheet, _ = result.locations.at_table(result.template, "actions")
    edits = {
        sheet: {
            result.locations.at_row(result.template, "actions", i, "comment")[1]: text
            for i, text in enumerate(FORMULA_LIKE)
        }
    }
    patch_workbook(path, edits, {})
    assert upgrade_workbook(path).status == "upgraded"
    assert_text_not_formula(path, FORMULA_LIKE)


def test_rollup_keeps_text(tmp_path: Path, template: Template) -> None:
    """Account name, KAM and the names of deals, risks, actions, competitors and people reach the
    portfolio summary (its cells are written by XlsxWriter and by the streamed sheets)."""
    plan = next(p for p in demo_plans(template, seed=7, count=6, today=DAY) if p.lang == "en")
    plan.fields["client_name"], plan.fields["kam"] = FORMULA_LIKE[2], FORMULA_LIKE[1]
    for table in ("opportunities", "risks", "actions", "competitors", "stakeholders"):
        for row, text in zip(plan.tables[table], FORMULA_LIKE, strict=False):
            row[template.table(table).key_column] = text
    write_plan(plan, tmp_path / "plans" / "plan.xlsx")
    summary = tmp_path / "summary.xlsx"
    rollup(tmp_path / "plans", output=summary, history=False, jobs=1, as_of=DAY)
    assert_text_not_formula(summary, FORMULA_LIKE[:5])
