"""No label of one language shows in a workbook of the other (cells, sheet names, table headers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kamxl.dashboard import Formulas
from kamxl.dashboard_layout import TEXT
from kamxl.demo import demo_plans
from kamxl.model import new_plan
from kamxl.template import Template
from kamxl.writer import write_plan


def _pairs(template: Template) -> list[tuple[str, str]]:
    """Every (English, French) label pair the workbook writer uses."""
    pairs: list[tuple[str, str]] = [(template.name["en"], template.name["fr"])]
    pairs += [(v["en"], v["fr"]) for v in template.texts.values()]
    for items in template.choices.values():
        pairs += [(v["en"], v["fr"]) for v in items.values()]
    for sheet in template.sheets:
        pairs += [(sheet.title["en"], sheet.title["fr"]), (sheet.heading["en"], sheet.heading["fr"])]
        for f in sheet.fields:
            pairs.append((f.label["en"], f.label["fr"]))
        for table in sheet.tables:
            if table.title:
                pairs.append((table.title["en"], table.title["fr"]))
            pairs += [(c.label["en"], c.label["fr"]) for c in table.columns]
    pairs += list(TEXT.values())
    metrics = Formulas(template, "en", lambda key: "A1").metrics()
    pairs += [(m.label["en"], m.label["fr"]) for m in metrics]
    return pairs


def _strings(path: Path) -> set[str]:
    wb = openpyxl.load_workbook(path)
    out = set(wb.sheetnames)
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and not cell.value.startswith("="):
                    out.add(cell.value.strip())
    return out


@pytest.fixture(scope="module")
def books(tmp_path_factory, template) -> dict[str, list[Path]]:
    root = tmp_path_factory.mktemp("langs")
    out: dict[str, list[Path]] = {"en": [], "fr": []}
    for lang in ("en", "fr"):
        out[lang].append(write_plan(new_plan(template, lang), root / f"new-{lang}.xlsx"))
    for plan in demo_plans(template, seed=7, count=8):
        if len(out[plan.lang]) < 3:
            out[plan.lang].append(write_plan(plan, root / f"{plan.name}.xlsx"))
    return out


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_no_label_of_the_other_language(books: dict[str, Any], template, lang):
    other = 1 if lang == "en" else 0
    mine = 0 if lang == "en" else 1
    pairs = _pairs(template)
    own = {p[mine].strip() for p in pairs}
    foreign = {p[other].strip() for p in pairs if p[other].strip() not in own} - {""}
    assert len(foreign) > 200, "too few labels collected: the check itself is broken"
    leaks = []
    for path in books[lang]:
        leaks += [f"{path.name}: {text!r}" for text in sorted(_strings(path) & foreign)]
    assert not leaks, "\n".join(leaks)


def _french_texts(template: Template) -> list[str]:
    """Every French text kamxl shows: the template's (labels, help, lists, headings) and Python's."""
    import tomllib

    from kamxl.review.texts import review_texts_path
    from kamxl.rollup.forecast_sheets import forecast_texts_path
    from kamxl.rollup.texts import _TEXTS as TEXTS

    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("fr"), str):
                found.append(node["fr"])  # ``was`` (former labels, still read) is left as it was
            for key, value in node.items():
                if key != "was":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(template.raw)
    walk(tomllib.loads(review_texts_path().read_text(encoding="utf-8")))  # the review pack's words
    walk(tomllib.loads(forecast_texts_path().read_text(encoding="utf-8")))  # Forecast and Capacity
    found += [fr for _, fr in TEXT.values()] + [fr for _, fr in TEXTS.values()]
    return found


def test_french_typography(template):
    """A no-break space before : ; ? ! (never a line break between a word and its colon) and one
    apostrophe style throughout; English keeps no space before its colons."""
    texts = _french_texts(template)
    assert len(texts) > 500
    import re

    loose = [t for t in texts if re.search(r" [:;?!](\s|$)", t)]
    assert not loose, loose[:5]
    glued = [t for t in texts if re.search(r"[^\s\d/(\u00a0][:;?!](\s|$)", t)]
    assert not glued, glued[:5]
    assert not [t for t in texts if "\u2019" in t]  # the straight apostrophe, as Excel users type it
    english = [en for en, _ in TEXT.values()]
    assert not [t for t in english if re.search(r"\s:", t)]


def test_a_workbook_with_former_labels_reads_the_same(template, tmp_path):
    """Table headers and choice items renamed since (``was = [...]``) still read: a French plan
    written with every former label reads the same inputs as with the current ones."""
    from kamxl import layout
    from kamxl.reader import read_plan

    from .plan_factory import random_plan

    plan = random_plan(template, 11, lang="fr", fullness=1.0)
    path = write_plan(plan, tmp_path / "now.xlsx", template=template)
    before = read_plan(path, template=template).plan
    wb = openpyxl.load_workbook(path)
    headers = 0
    for sheet in template.sheets:
        for table in sheet.tables:
            anchor = layout.table_anchor(template, table.key)
            ws = wb[anchor.titles["fr"]]
            for i, col in enumerate(table.columns):
                if not col.former_labels:
                    continue
                cell = ws.cell(anchor.header_row, anchor.first_col + i + 1)
                assert cell.value == col.label["fr"]
                cell.value = col.former_labels[0]
                for excel_table in ws.tables.values():
                    for tc in excel_table.tableColumns:
                        if tc.name == col.label["fr"]:
                            tc.name = col.former_labels[0]
                headers += 1
    items = 0
    for table in template.tables.values():
        anchor = layout.table_anchor(template, table.key)
        ws = wb[anchor.titles["fr"]]
        for i, col in enumerate(table.columns):
            was = template.former_labels(col.choices) if col.choices else {}
            former = {template.label(col.choices, code, "fr"): w[0] for code, w in was.items() if w}
            for r in range(anchor.header_row + 1, ws.max_row + 1):
                cell = ws.cell(r, anchor.first_col + i + 1)
                if cell.value in former:
                    cell.value = former[cell.value]
                    items += 1
    assert headers >= 8 and items > 0
    wb.save(tmp_path / "then.xlsx")
    after = read_plan(tmp_path / "then.xlsx", template=template).plan
    assert after.fields == before.fields
    for table in template.tables.values():
        inputs = [c.key for c in table.columns if c.is_input]
        rows = [{k: r.get(k) for k in inputs} for r in before.tables.get(table.key, [])]
        assert [{k: r.get(k) for k in inputs} for r in after.tables.get(table.key, [])] == rows, table.key
