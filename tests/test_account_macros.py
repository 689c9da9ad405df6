"""Generated account workbooks are .xlsm by default, with a working Recompute & check button."""

from __future__ import annotations

import re

import openpyxl
from oletools.olevba import VBA_Parser

from kamxl.vba import RECOMPUTE_MACRO, load_macro_sources, module_stream_text
from kamxl.workbooks import new_workbook

from .conftest import assert_button_runs, vba_probe


def test_default_is_xlsm_and_no_macros_gives_xlsx(template, tmp_path):
    xlsm = new_workbook("Alpha", tmp_path, template=template)
    xlsx = new_workbook("Alpha", tmp_path, template=template, macros=False)
    assert xlsm.suffix == ".xlsm" and xlsx.suffix == ".xlsx"
    assert VBA_Parser(str(xlsm)).detect_vba_macros()
    assert not VBA_Parser(str(xlsx)).detect_vba_macros()
    # The macro-free workbook still has every live score.
    assert "Score_Overall" in openpyxl.load_workbook(xlsx).defined_names


def test_embedded_modules_equal_their_sources(template, tmp_path):
    path = new_workbook("Beta", tmp_path, template=template, lang="fr")
    stored = {name.rsplit(".", 1)[0]: code for _, _, name, code in VBA_Parser(str(path)).extract_macros()}
    for name, source in load_macro_sources().items():
        assert stored[name] == module_stream_text(name, source)


def test_libreoffice_binds_the_dashboard_button(template, tmp_path):
    files = [
        new_workbook(name, tmp_path, template=template, lang=lang)
        for name, lang in (("G", "en"), ("H", "fr"))
    ]
    report = vba_probe(files)
    for path, dashboard in zip(files, ("Dashboard", "Tableau de bord"), strict=True):
        assert_button_runs(report[str(path)], dashboard, RECOMPUTE_MACRO)


def test_the_python_block_is_named_and_kept_out_of_print(template, tmp_path):
    from kamxl import addin

    xlsm = openpyxl.load_workbook(new_workbook("Gamma", tmp_path, template=template, lang="fr"))
    ((sheet, cell),) = xlsm.defined_names[addin.BLOCK_NAME].destinations
    assert sheet == "Tableau de bord"
    ws = xlsm[sheet]
    anchor = ws[cell.replace("$", "")]
    assert (anchor.row, anchor.column) == addin.BLOCK_ANCHOR
    assert anchor.value == addin.text("title", "fr")
    assert re.fullmatch(r"'Tableau de bord'!\$A\$1:\$N\$\d+", ws.print_area)  # the block is in column P
    xlsx = openpyxl.load_workbook(new_workbook("Gamma", tmp_path, template=template, macros=False))
    assert addin.BLOCK_NAME not in xlsx.defined_names
