"""The generated account workbook: structure, dropdowns, names, protection, print set-up."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from kamxl.cli import main
from kamxl.dashboard import Formulas
from kamxl.model import new_plan
from kamxl.printing import MIN_SCALE
from kamxl.writer import META_SHEET, table_formula, write_plan

from .plan_factory import random_plan

REQUIRED_NAMES = (
    "Score_Potential",
    "Score_Relationship",
    "Score_Execution",
    "Score_Overall",
    "Account_Tier",
    "Weighted_Pipeline",
    "Overdue_Actions",
)


@pytest.fixture(scope="module", params=["en", "fr"])
def workbook(request, template, tmp_path_factory):
    lang = request.param
    plan = random_plan(template, 11, lang=lang, fullness=1.0)
    path = write_plan(plan, tmp_path_factory.mktemp(lang) / "plan.xlsx", template=template)
    return lang, plan, path, openpyxl.load_workbook(path)


def test_every_sheet_of_the_template_in_order(template, workbook):
    lang, _, _, wb = workbook
    titles = [s.title[lang] for s in template.sheets]
    assert wb.sheetnames[: len(titles)] == titles
    assert wb[META_SHEET].sheet_state == "veryHidden"
    meta = {r[0].value: r[1].value for r in wb[META_SHEET].iter_rows()}
    assert meta["template_id"] == template.id and meta["lang"] == lang
    assert len(meta["account_id"]) == 36


def test_every_grid_is_a_table_with_filters(template, workbook):
    lang, plan, _, wb = workbook
    for table in template.tables.values():
        ws = wb[template.table_sheet(table.key).title[lang]]
        assert table.name in ws.tables, f"{table.name} is not an Excel table"
        xl_table = ws.tables[table.name]
        assert xl_table.autoFilter is not None
        headers = [c.tableColumnName if False else c.name for c in xl_table.tableColumns]
        assert headers == [c.label[lang] for c in table.columns]
        first, last = xl_table.ref.split(":")
        rows = int("".join(ch for ch in last if ch.isdigit())) - int(
            "".join(ch for ch in first if ch.isdigit())
        )
        assert rows >= max(table.rows, len(plan.tables.get(table.key, [])))


def _validated_columns(ws) -> dict[str, str]:
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng.split(":")[0].rstrip("0123456789")] = (dv.type, dv.formula1, dv.promptTitle)
    return out


def test_every_choice_column_has_a_dropdown_with_help(template, workbook):
    lang, _, _, wb = workbook
    from kamxl import layout

    for table in template.tables.values():
        anchor = layout.table_anchor(template, table.key)
        ws = wb[anchor.titles[lang]]
        validated = _validated_columns(ws)
        for i, col in enumerate(table.columns):
            letter = layout.col_letter(anchor.first_col + i)
            if col.type == "choice":
                kind, source, title = validated[letter]
                assert kind == "list" and source == f"List_{col.choices}", (table.key, col.key)
                assert title, f"{table.key}.{col.key} has no input message"
    names = wb.defined_names
    for key in template.choices:
        assert f"List_{key}" in names


def test_defined_names_point_at_the_dashboard(template, workbook):
    lang, _, _, wb = workbook
    dash = template.sheet("dashboard").title[lang]
    for name in REQUIRED_NAMES:
        dn = wb.defined_names[name]
        assert dn.attr_text.startswith(f"'{dash}'!$"), dn.attr_text
    for metric in Formulas(template, lang, lambda k: "A1").metrics():
        assert metric.name in wb.defined_names


def test_formula_cells_locked_inputs_unlocked_sheets_protected(template, workbook):
    lang, _, _, wb = workbook
    from kamxl import layout

    for sheet in template.sheets:
        ws = wb[sheet.title[lang]]
        assert ws.protection.sheet, f"{ws.title} is not protected"
        assert not ws.protection.password
    for table in template.tables.values():
        anchor = layout.table_anchor(template, table.key)
        ws = wb[anchor.titles[lang]]
        for i, col in enumerate(table.columns):
            cell = ws.cell(anchor.first_data_row, anchor.first_col + i + 1)
            assert cell.protection.locked == (not col.is_input), (table.key, col.key)
            if not col.is_input:
                assert str(cell.value).startswith("="), (table.key, col.key, cell.value)


def test_print_setup_and_frozen_headers(template, workbook):
    """Every sheet prints landscape at a legible scale; a sheet of several blocks (a form above
    its tables, tables side by side) breaks between them rather than cutting a table at the page
    edge; table sheets keep their header frozen; a drawing (the org chart) has nothing to freeze."""
    from kamxl import layout

    lang, plan, _, wb = workbook
    for sheet in template.sheets:
        ws = wb[sheet.title[lang]]
        assert ws.page_setup.orientation == "landscape"
        col_breaks = [b.id for b in ws.col_breaks.brk]
        row_breaks = [b.id for b in ws.row_breaks.brk]
        if ws.sheet_properties.pageSetUpPr.fitToPage:  # one page wide only where text stays legible
            assert ws.page_setup.fitToWidth in (None, 1)  # 1 is the file format's default
            assert not col_breaks and not row_breaks  # Excel ignores breaks on a fitted sheet
            if sheet.tables or sheet.fields:  # drawings (org chart) fit their own page
                assert ws.page_setup.fitToHeight == 0  # as many pages tall as needed
        else:  # across pages at a legible scale
            assert int(ws.page_setup.scale or 100) >= MIN_SCALE, sheet.key  # 100 is not written
        if sheet.key == "dashboard":  # scores and figures on page 1, the charts on page 2
            assert len(row_breaks) == 1 and not col_breaks
            continue
        anchors = [layout.table_anchor(template, t.key) for t in sheet.tables]
        assert col_breaks == [a.first_col for a in anchors[1:]], sheet.key
        assert row_breaks == ([anchors[0].title_row - 1] if sheet.fields and anchors else []), sheet.key
        if len(anchors) == 1 and not sheet.fields and not ws.sheet_properties.pageSetUpPr.fitToPage:
            assert ws.print_title_cols == "$A:$A"  # one wide table: its key column on every page
        assert plan.name in ws.oddFooter.left.text
        if sheet.drawing:
            assert not ws.freeze_panes
        else:
            assert ws.freeze_panes
        if sheet.tables and not sheet.fields:
            assert ws.print_title_rows


def test_conditional_formatting_present(template, workbook):
    lang, _, _, wb = workbook
    for sheet_key in ("stakeholders", "actions", "kpis", "risks", "whitespace"):
        ws = wb[template.sheet(sheet_key).title[lang]]
        assert len(ws.conditional_formatting) > 0, sheet_key


def test_choice_cells_show_labels_in_the_workbook_language(template, workbook):
    lang, plan, _, wb = workbook
    from kamxl import layout

    anchor = layout.table_anchor(template, "stakeholders")
    ws = wb[anchor.titles[lang]]
    col_index = [c.key for c in template.table("stakeholders").columns].index("stance")
    row = plan.tables["stakeholders"][0]
    cell = ws.cell(anchor.first_data_row, anchor.first_col + col_index + 1).value
    expected = template.label("stance", row["stance"], lang) if row.get("stance") else None
    assert cell == expected


def test_text_that_looks_like_a_formula_stays_text(template, tmp_path):
    plan = new_plan(template, "en", client_name='=HYPERLINK("http://x")', kam="+cmd")
    path = write_plan(plan, tmp_path / "x.xlsx", template=template)
    ws = openpyxl.load_workbook(path)["Info"]
    assert ws["B4"].value == '=HYPERLINK("http://x")' and ws["B4"].data_type == "s"


def test_table_formula_uses_explicit_structured_references(template):
    table = template.table("opportunities")
    formula = table_formula(template, table, table.column("weighted").formula or "", "fr")
    assert "Opportunities[[#This Row],[Étape]]" in formula and '"Gagnée"' in formula
    assert "[@" not in formula


def test_write_is_atomic_and_leaves_no_temp_files(template, tmp_path):
    path = write_plan(new_plan(template, "en", client_name="A"), tmp_path / "a.xlsx", template=template)
    assert zipfile.is_zipfile(path)
    assert [p.name for p in tmp_path.iterdir()] == ["a.xlsx"]


def test_cli_new_writes_a_safe_name_and_never_overwrites(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        main, ["new", 'Acme: "Nord" / Sud?', "--kam", "Léa", "--lang", "fr", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip().splitlines()[-1])
    assert path.exists() and path.parent == tmp_path
    assert not set(path.name) & set('<>:"/\\|?*')
    wb = openpyxl.load_workbook(path)
    assert wb["Infos"]["B4"].value == 'Acme: "Nord" / Sud?'
    before = path.read_bytes()
    again = runner.invoke(main, ["new", 'Acme: "Nord" / Sud?', "-o", str(tmp_path)])
    assert again.exit_code == 2 and "already exists" in again.output
    assert path.read_bytes() == before
    forced = runner.invoke(main, ["new", 'Acme: "Nord" / Sud?', "-o", str(tmp_path), "--force"])
    assert forced.exit_code == 0
    assert len(list(tmp_path.glob("*.bak-*"))) == 1
    assert path.suffix == ".xlsm"
    plain = runner.invoke(main, ["new", 'Acme: "Nord" / Sud?', "-o", str(tmp_path), "--no-macros"])
    assert plain.exit_code == 0 and plain.output.strip().endswith(path.stem + ".xlsx")


def test_python_m_kamxl_works():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "kamxl", "--help"], capture_output=True, text=True, check=True
    )
    assert "new" in out.stdout


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda s: s.replace('version = "1.0"', "version = 1"), "version"),
        (lambda s: s.replace('type = "rating"', 'type = "stars"', 1), "type"),
        (lambda s: s.replace('choices = "stance"', 'choices = "posture"'), "choices"),
        (lambda s: s.replace("coverage = 0.30", 'coverage = "high"'), "scoring.relationship.coverage"),
        (
            lambda s: s.replace('key_column = "name"\nrows = 12', 'key_column = "nom"\nrows = 12'),
            "key_column",
        ),
        (lambda s: s.replace("[tiers]", "[tiers_]"), "tiers"),
        (lambda s: s + "\n[[[broken", "(syntax)"),
    ],
)
def test_invalid_template_names_file_and_key(template, tmp_path, edit, key):
    bad = tmp_path / "bad.toml"
    bad.write_text(edit(Path(template.path).read_text(encoding="utf-8")), encoding="utf-8")
    result = CliRunner().invoke(main, ["new", "X", "--template", str(bad), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert str(bad) in result.output and key in result.output, result.output
    assert not list(tmp_path.glob("*.xlsx"))
