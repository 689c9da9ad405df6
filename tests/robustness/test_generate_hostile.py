"""`kamxl generate` on hostile CRM exports: control characters, hostile account names, stray cells,
and the exit code that tells a script what happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner

from kamxl.commands.generate import command
from kamxl.crm import generate_from_export
from kamxl.reader import read_plan
from kamxl.rollup.discover import discover
from tests.conftest import recalc

HEADER = "Account Name,Account ID,Account Owner,Industry,Website,Billing Country\r\n"
CONTROLS = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r")  # NUL: not a CSV


def _export(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\r\n" for r in rows), encoding="utf-8", newline="")
    return path


def _assert_valid_xml(workbook: Path) -> None:
    with zipfile.ZipFile(workbook) as archive:
        for name in archive.namelist():
            if name.endswith((".xml", ".rels", ".vml")):
                ET.fromstring(archive.read(name))  # raises on a control character


def test_control_characters_never_reach_the_workbook(tmp_path: Path) -> None:
    export = _export(
        tmp_path / "crm.csv",
        [
            'Acme\x01Corp,ACC-1\x02,"Jo\x1bDoe","Bank\x7fing",https://acme.example/\x0c,Fr\x08ance',
            f'"Every{CONTROLS}control",ACC-2,Ann Lee,Energy,,Spain',
        ],
    )
    out = tmp_path / "out"
    result = generate_from_export(export, out, mapping="salesforce")
    assert result.skipped == [] and len(result.generated) == 2
    assert sorted(p.name for p in out.iterdir()) == ["Acme Corp.xlsm", "Every control.xlsm"]
    for path in result.generated:
        _assert_valid_xml(path)
        wb = openpyxl.load_workbook(path)  # refused the file before the text was cleaned
        texts = [c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert not [t for t in texts if any(ch in t for ch in CONTROLS)]
        assert wb.properties.title and not any(ch in wb.properties.title for ch in CONTROLS)
    plan, _ = read_plan(out / "Acme Corp.xlsm")
    assert plan.fields["client_name"] == "Acme Corp"
    assert plan.fields["kam"] == "Jo Doe"


def test_libreoffice_opens_a_workbook_from_an_export_with_control_characters(tmp_path: Path) -> None:
    export = _export(tmp_path / "crm.csv", ["Acme\x01Corp,ACC-1,Jo\x1bDoe,Banking,,France"])
    out = tmp_path / "out"
    (path,) = generate_from_export(export, out, mapping="salesforce", macros=False).generated
    saved = tmp_path / "saved"
    saved.mkdir()
    info = recalc([path], save_as_xlsx=saved)[str(path)]
    assert "load_error" not in info and info["errors"] == []
    assert info["names"]  # the workbook's defined names were read: LibreOffice parsed the sheets
    plan, _ = read_plan(saved / path.name)
    assert plan.fields["client_name"] == "Acme Corp"


def test_hostile_account_names_give_files_the_roll_up_reads(tmp_path: Path) -> None:
    export = _export(
        tmp_path / "crm.csv",
        [
            "~$lock,ACC-1,Ann,Energy,,France",
            "evil.bak-20260101-000000,ACC-2,Ann,Energy,,France",
            "\"=cmd|' /C calc'!A0\",ACC-3,Ann,Energy,,France",
            "CON,ACC-4,Ann,Energy,,France",
            "Acme [EMEA],ACC-5,Ann,Energy,,France",
        ],
    )
    out = tmp_path / "out"
    result = generate_from_export(export, out, mapping="salesforce")
    assert result.skipped == []
    names = sorted(p.name for p in result.generated)
    assert names == sorted(
        [
            "$lock.xlsm",
            "evil bak-20260101-000000.xlsm",
            "cmd ' C calc'!A0.xlsm",
            "_CON.xlsm",
            "Acme (EMEA).xlsm",
        ]
    )
    found = discover(out)
    assert sorted(p.name for p in found.files) == names and found.ignored == []
    plan, _ = read_plan(out / "cmd ' C calc'!A0.xlsm")
    assert plan.fields["client_name"] == "=cmd|' /C calc'!A0"  # the name itself is kept, as text


# -- exit codes: 0 done, 1 done but rows were skipped, 2 nothing could be done --------------------
def _run(export: Path, out: Path, *extra: str):
    return CliRunner().invoke(command, [str(export), "-o", str(out), "--mapping", "salesforce", *extra])


def test_exit_0_when_every_row_is_written(tmp_path: Path) -> None:
    result = _run(_export(tmp_path / "ok.csv", ["Acme,1,Ann,,,", "Beta,2,Ann,,,"]), tmp_path / "out")
    assert result.exit_code == 0, result.output


def test_exit_1_when_some_rows_are_skipped(tmp_path: Path) -> None:
    export = _export(tmp_path / "some.csv", ["Acme,1,Ann,,,", ",2,Ann,,,", "Acme,3,Ann,,,"])
    result = _run(export, tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert "Generated 1 workbook(s), skipped 2 row(s)" in result.stdout
    assert "line 3: no account name" in result.stderr


def test_exit_2_when_every_row_is_skipped(tmp_path: Path) -> None:
    export = _export(tmp_path / "none.csv", [",1,Ann,,,", ",2,Bob,,,"])
    out = tmp_path / "out"
    result = _run(export, out, "--json")
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)  # the JSON still says which rows and why
    assert [s["line"] for s in data["skipped"]] == [2, 3] and data["generated"] == []
    assert "no workbook written" in result.stderr
    again = _run(_export(tmp_path / "ok.csv", ["Acme,1,Ann,,,"]), out)
    assert again.exit_code == 0
    assert _run(tmp_path / "ok.csv", out).exit_code == 2  # the only workbook exists already


def test_exit_2_for_an_export_with_a_header_and_no_rows(tmp_path: Path) -> None:
    export = _export(tmp_path / "empty.csv", [])
    result = _run(export, tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert "no account rows" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_stray_corner_cell_in_an_xlsx_export_does_not_crash(tmp_path: Path) -> None:
    """A cell at XFD1048576 makes python-calamine size a 17-billion-cell grid and abort the process."""
    export = tmp_path / "crm.xlsx"
    wb = xlsxwriter.Workbook(str(export))
    ws = wb.add_worksheet("Export")
    ws.write_row(0, 0, ["Account Name", "Account ID"])
    ws.write_row(1, 0, ["Acme", "ACC-1"])
    ws.write(1048575, 16383, "x")
    wb.close()
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "kamxl", "generate", str(export), "-o", str(out), "--mapping", "salesforce"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONFAULTHANDLER": ""},
    )
    assert proc.returncode in (0, 2), proc.stderr  # 134 is the abort
    assert "Traceback" not in proc.stderr
    if proc.returncode == 2:
        assert "crm.xlsx" in proc.stderr and "XFD1048576" in proc.stderr.replace("$", ""), proc.stderr
    else:
        assert (out / "Acme.xlsm").is_file()


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_new_refuses_an_empty_name(tmp_path: Path, name: str) -> None:
    from kamxl.cli import main

    result = CliRunner().invoke(main, ["new", name, "-o", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "empty" in result.stderr
    assert list(tmp_path.iterdir()) == []
