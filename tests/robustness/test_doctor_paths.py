"""`kamxl doctor PATH` names what PATH is when it is no workbook; its verdict follows its lines."""

from __future__ import annotations

import os
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamxl import excel_setup as es
from kamxl.cli import main
from kamxl.workbooks import new_workbook


def _doctor(*args: str):
    return CliRunner().invoke(main, ["doctor", *args])


def _not_workbooks(folder: Path) -> dict[str, tuple[Path, str]]:
    notes = folder / "notes.txt"
    notes.write_text("Call Acme on Monday\n", encoding="utf-8")
    empty = folder / "empty.xlsm"
    empty.write_bytes(b"")
    archive = folder / "photos.xlsx"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("photo.jpg", b"\xff\xd8\xff")
    legacy = folder / "old.xls"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    sub = folder / "plans"
    sub.mkdir()
    return {
        "text file": (notes, "notes.txt: not an Excel workbook"),
        "empty file": (empty, "empty.xlsm: not an Excel workbook"),
        "zip": (archive, "photos.xlsx: a zip file but not an Excel workbook"),
        "old format": (legacy, "old.xls: an old-format (.xls)"),
        "folder": (sub, "plans: not a regular file (a folder)"),
        "missing": (folder / "missing.xlsm", "missing.xlsm: no such file"),
    }


@pytest.mark.parametrize("case", ["text file", "empty file", "zip", "old format", "folder", "missing"])
def test_a_path_that_is_no_workbook_is_named_for_what_it_is(tmp_path: Path, case: str) -> None:
    path, expected = _not_workbooks(tmp_path)[case]
    result = _doctor(str(path))
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "macros" not in result.output and "All set" not in result.output


def test_a_named_pipe_is_refused_without_being_read(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.xlsm"
    os.mkfifo(fifo)
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(_doctor(str(fifo))), daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():  # unblock the reader so the test run can end
        with open(fifo, "wb"):
            pass
        pytest.fail("doctor hung reading a FIFO")
    assert outcome[0].exit_code == 2 and "named pipe" in outcome[0].stderr


def test_library_doctor_reports_the_same_diagnosis(tmp_path: Path) -> None:
    path, expected = _not_workbooks(tmp_path)["text file"]
    checks = es.doctor(path, es.Machine("other", tmp_path, sys.executable), run=lambda cmd: (0, "0.1\n", ""))
    (workbook,) = [c for c in checks if c.name == "workbook"]
    assert workbook.status == "fail" and expected in workbook.message
    assert es.verdict(checks)[0] == 2


def test_verdict_never_all_set_after_a_warning_that_buttons_cannot_run(tmp_path: Path) -> None:
    book = new_workbook("Doctor Verdict", tmp_path)
    result = _doctor(str(book))
    if sys.platform.startswith("linux"):
        assert "[warn] system" in result.output
        assert result.exit_code == 1, result.output
        assert "All set" not in result.output
        assert result.output.strip().splitlines()[-1].startswith("The buttons cannot run on this computer")
    else:  # on a KAM's computer the closing line follows the checks: 0 only when every check is ok
        assert ("All set" in result.output) == (result.exit_code == 0)


@pytest.mark.parametrize(
    ("statuses", "code", "closing"),
    [
        ({"system": "ok", "packages": "ok"}, 0, "All set"),
        ({"system": "ok", "workbook macros": "warn"}, 1, "with the warnings above"),
        ({"system": "warn", "packages": "ok"}, 1, "cannot run on this computer"),
        ({"system": "warn", "packages": "fail"}, 1, "Some checks failed"),
        ({"system": "ok", "workbook": "fail"}, 2, "Nothing was checked"),
    ],
)
def test_verdict_follows_the_checks(statuses: dict[str, str], code: int, closing: str) -> None:
    checks = [es.Check(name, status, "") for name, status in statuses.items()]  # type: ignore[arg-type]
    got_code, got_closing = es.verdict(checks)
    assert got_code == code and closing in got_closing


def test_excel_setup_where_there_is_no_excel_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    machine = es.Machine("other", tmp_path, sys.executable)
    monkeypatch.setattr(es.Machine, "current", classmethod(lambda cls: machine))
    result = CliRunner().invoke(main, ["excel-setup"])
    assert result.exit_code == 2 and "nothing to configure" in result.stderr
    assert list(tmp_path.iterdir()) == []
