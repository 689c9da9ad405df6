"""The template is the one place a field is defined: docs, writer and checks follow it."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from kamxl import layout
from kamxl.model import new_plan
from kamxl.template import TemplateError, load_template
from kamxl.template_docs import template_markdown
from kamxl.writer import write_plan

ROOT = Path(__file__).resolve().parent.parent


def test_docs_reference_is_up_to_date(template):
    committed = (ROOT / "docs" / "template.md").read_text(encoding="utf-8")
    assert committed == template_markdown(template), "run: kamxl template-doc -o docs/template.md"


def test_adding_a_field_is_one_change(template, tmp_path):
    text = Path(template.path).read_text(encoding="utf-8")
    extra = """
[[sheets.fields]]
key = "parent_company"
type = "text"
label = { en = "Parent company", fr = "Société mère" }
help = { en = "Group the client belongs to.", fr = "Groupe auquel appartient le client." }
"""
    marker = '[[sheets.tables]]\nkey = "contracts"'
    custom = tmp_path / "custom.toml"
    custom.write_text(text.replace(marker, extra + "\n" + marker), encoding="utf-8")
    tpl = load_template(custom)
    assert "parent_company" in tpl.fields
    plan = new_plan(tpl, "fr", client_name="Filiale", parent_company="Groupe Mère")
    path = write_plan(plan, tmp_path / "f.xlsx", template=tpl)
    ws = openpyxl.load_workbook(path)["Infos"]
    row = layout.field_row(tpl, "parent_company")
    assert (ws.cell(row, 1).value, ws.cell(row, 2).value) == ("Société mère", "Groupe Mère")
    assert "`parent_company` | Parent company" in template_markdown(tpl)


def test_colours_must_name_real_codes(template, tmp_path):
    text = Path(template.path).read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('colors = { strong = "good"', 'colors = { solid = "good"'), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"columns\[strength\]\.colors\.solid"):
        load_template(bad)
    bad.write_text(
        text.replace('colors = { strong = "good"', 'colors = { strong = "green"'), encoding="utf-8"
    )
    with pytest.raises(TemplateError, match="tone must be one of"):
        load_template(bad)


def test_required_keys_cannot_be_dropped(template, tmp_path):
    text = Path(template.path).read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('key = "gross_margin"', 'key = "marge"'), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"gross_margin.*is missing"):
        load_template(bad)
