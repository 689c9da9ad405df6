"""The portfolio summary is a .xlsm with a Roll up button reading Source_Folder; --no-macros gives .xlsx."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from oletools.olevba import VBA_Parser

from kamxl.commands.rollup import command as rollup_command
from kamxl.rollup import rollup
from kamxl.rollup.texts import text
from kamxl.vba import ROLLUP_MACRO, load_macro_sources, module_stream_text
from kamxl.writer import write_plan

from .conftest import assert_button_runs, vba_probe
from .plan_factory import random_plan

AS_OF = dt.date(2026, 11, 5)


@pytest.fixture(scope="module")
def plans(template, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("share") / "plans"
    folder.mkdir()
    for seed in (1, 2, 3):
        write_plan(random_plan(template, seed, fullness=1.0), folder / f"P{seed}.xlsx", template=template)
    return folder


def _source_folder(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    ((sheet, cell),) = book.defined_names["Source_Folder"].destinations
    return book[sheet][cell.replace("$", "")].value


def test_default_summary_is_xlsm_with_the_project_and_the_source_folder(plans, tmp_path):
    result = rollup(plans, history=False, as_of=AS_OF, jobs=1)
    assert result.output == plans.parent / "portfolio" / "portfolio-summary.xlsm"
    stored = {n.rsplit(".", 1)[0]: code for _, _, n, code in VBA_Parser(str(result.output)).extract_macros()}
    for name, source in load_macro_sources().items():
        assert stored[name] == module_stream_text(name, source)
    assert _source_folder(result.output) == str(plans)


def test_no_macros_gives_a_plain_xlsx_with_the_source_folder(plans, tmp_path):
    out = CliRunner().invoke(
        rollup_command, [str(plans), "-o", str(tmp_path), "--no-macros", "--no-history", "-q"]
    )
    assert out.exit_code == 0, out.output
    path = tmp_path / "portfolio-summary.xlsx"
    assert out.output.strip().endswith(str(path))
    assert not VBA_Parser(str(path)).detect_vba_macros()
    assert _source_folder(path) == str(plans)


def test_output_suffix_and_macros_must_agree(plans, tmp_path):
    out = CliRunner().invoke(
        rollup_command, [str(plans), "-o", str(tmp_path / "s.xlsm"), "--no-macros", "--no-history"]
    )
    assert out.exit_code == 2
    assert "s.xlsm" in out.output and "give a path ending in .xlsx" in out.output
    assert not (tmp_path / "s.xlsm").exists()
    # An explicit .xlsx path without the flag is a plain summary.
    assert not VBA_Parser(
        str(rollup(plans, output=tmp_path / "s.xlsx", history=False).output)
    ).detect_vba_macros()


def test_libreoffice_binds_the_roll_up_button(plans, tmp_path):
    files = [
        rollup(plans, output=tmp_path / f"{lang}.xlsm", history=False, lang=lang, jobs=1).output
        for lang in ("en", "fr")
    ]
    report = vba_probe(files)
    for path, lang in zip(files, ("en", "fr"), strict=True):
        assert_button_runs(report[str(path)], text("sheet_overview", lang), ROLLUP_MACRO)
