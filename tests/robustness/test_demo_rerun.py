"""`kamxl demo` run twice replaces its own output, and never touches a folder holding anything else."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import xlsxwriter
from click.testing import CliRunner

from kamxl.cli import main
from kamxl.reader import read_plan


def _demo(out: Path, *args: str):
    return CliRunner().invoke(main, ["demo", "-o", str(out), *args])


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_demo_replaces_its_own_output(tmp_path: Path) -> None:
    out = tmp_path / "kamxl-demo"
    first = _demo(out, "--count", "3")
    assert first.exit_code == 0, first.output
    again = _demo(out, "--count", "3")
    assert again.exit_code == 0, again.output
    assert len(list((out / "plans").iterdir())) == 3  # no backups piled up
    fewer = _demo(out, "--count", "2", "--seed", "11", "--no-macros")
    assert fewer.exit_code == 0, fewer.output
    plans = sorted((out / "plans").iterdir())
    assert [p.suffix for p in plans] == [".xlsx", ".xlsx"]  # the three earlier plans are gone
    assert all(read_plan(p).plan.name for p in plans)
    portfolio = sorted(p.name for p in (out / "portfolio").iterdir() if not p.name.startswith("."))
    assert portfolio == ["portfolio-history.sqlite", "portfolio-summary.xlsx"]
    overview = openpyxl.load_workbook(out / "portfolio" / "portfolio-summary.xlsx", read_only=True)
    assert overview.sheetnames  # a summary of the new demo, readable


def test_a_folder_with_files_the_demo_did_not_write_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "kamxl-demo"
    assert _demo(out, "--count", "2").exit_code == 0
    notes = out / "plans" / "notes.txt"
    notes.write_text("mine", encoding="utf-8")
    before = _snapshot(out)
    result = _demo(out, "--count", "2")
    assert result.exit_code == 2, result.output
    assert "plans/notes.txt" in result.stderr and "left as they are" in result.stderr
    assert _snapshot(out) == before


def test_a_workbook_kamxl_did_not_write_is_foreign(tmp_path: Path) -> None:
    out = tmp_path / "kamxl-demo"
    assert _demo(out, "--count", "2").exit_code == 0
    book = xlsxwriter.Workbook(str(out / "plans" / "Budget.xlsx"))
    book.add_worksheet().write(0, 0, "not a plan")
    book.close()
    before = _snapshot(out)
    result = _demo(out, "--count", "2")
    assert result.exit_code == 2 and "Budget.xlsx" in result.stderr
    assert _snapshot(out) == before


def test_an_existing_folder_of_other_things_is_refused(tmp_path: Path) -> None:
    (tmp_path / "report.docx").write_bytes(b"x")
    result = _demo(tmp_path, "--count", "1")
    assert result.exit_code == 2 and "report.docx" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.docx"]
