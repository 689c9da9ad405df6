"""Files that are not account plans are named for what they are, the same in `check` and `rollup`;
control characters and line breaks in any text field never stop a command; a folder whose only
file cannot be read ends both `check` and `rollup` with exit code 2, nothing written."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from msoffcrypto.format.ooxml import OOXMLFile

from kamxl.cli import main
from kamxl.demo import demo_plans
from kamxl.template import Template
from kamxl.writer import write_plan

from ..conftest import require_libreoffice
from ..test_review import DAY

CRM = Path(__file__).resolve().parents[1] / "fixtures" / "crm" / "salesforce_report.csv"


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory, template: Template) -> Path:
    folder = tmp_path_factory.mktemp("plan")
    return write_plan(demo_plans(template, seed=2, count=1, today=DAY)[0], folder / "good.xlsx")


def _encrypted(plan: Path, target: Path) -> Path:
    """A real password-protected workbook, as Excel writes one (msoffcrypto-tool, agile encryption)."""
    out = io.BytesIO()
    with open(plan, "rb") as fh:
        OOXMLFile(fh).encrypt("secret", out)
    target.write_bytes(out.getvalue())
    return target


def _legacy(plan: Path, target: Path) -> Path:
    """A real Excel 97-2003 workbook (LibreOffice's conversion of the plan), under an .xlsx name."""
    require_libreoffice()
    work = target.parent / "lo"
    work.mkdir(exist_ok=True)
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "xls", "--outdir", str(work), str(plan)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    shutil.move(work / "good.xls", target)
    shutil.rmtree(work)
    return target


KINDS = {  # file: (how it is made, what its reason must say)
    "empty.xlsx": (lambda p, t: t.write_bytes(b"") or t, "empty file"),
    "export.xlsx": (lambda p, t: t.write_text("Account,Revenue\nAcme,100\n") or t, "CSV file"),
    "download.xlsx": (
        lambda p, t: t.write_text("<!DOCTYPE html>\n<html><body>Sign in</body></html>") or t,
        "HTML page",
    ),
    "scan.xlsx": (lambda p, t: t.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n") or t, "PDF document"),
    "old.xlsx": (_legacy, "Excel 97-2003 workbook"),
    "secret.xlsx": (_encrypted, "password-protected"),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, plan: Path) -> Path:
    folder = tmp_path_factory.mktemp("mixed")
    shutil.copy2(plan, folder / "good.xlsx")
    for name, (make, _) in KINDS.items():
        make(plan, folder / name)
    return folder


def test_each_kind_of_file_is_named_for_what_it_is(folder, tmp_path):
    check = CliRunner().invoke(main, ["check", str(folder), "--json"])
    assert check.exit_code == 1, check.output
    unreadable = {Path(u["file"]).name: u["reason"] for u in json.loads(check.stdout)["unreadable"]}
    roll = CliRunner().invoke(main, ["rollup", str(folder), "-o", str(tmp_path / "out"), "--json", "-q"])
    assert roll.exit_code == 1, roll.output
    skipped = {s["file"]: s["reason"] for s in json.loads(roll.stdout)["skipped"]}
    assert set(unreadable) == set(skipped) == set(KINDS)
    for name, (_, expected) in KINDS.items():
        assert expected in unreadable[name], (name, unreadable[name])
        assert unreadable[name] == skipped[name]  # one reason, whichever command reads the file
    assert len(set(unreadable.values())) == len(KINDS)


def test_a_folder_whose_only_file_is_bad_ends_both_commands_alike(tmp_path, plan):
    plans = tmp_path / "plans"
    plans.mkdir()
    KINDS["export.xlsx"][0](plan, plans / "export.xlsx")
    check = CliRunner().invoke(main, ["check", str(plans), "--json"])
    roll = CliRunner().invoke(main, ["rollup", str(plans), "--json"])
    assert check.exit_code == roll.exit_code == 2, (check.output, roll.output)
    reason = json.loads(check.stdout)["unreadable"][0]["reason"]
    assert "CSV file" in reason and json.loads(roll.stdout)["skipped"][0]["reason"] == reason
    assert json.loads(roll.stdout)["error"] and json.loads(roll.stdout)["accounts"] == 0
    text = CliRunner().invoke(main, ["rollup", str(plans)])
    assert text.exit_code == 2 and f"skipped export.xlsx: {reason}" in text.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plans"]  # no summary, no history, no lock


TEXTS = "Acme\nIndustries\r\nLtd\x07 \x1b[31m\u2028Group\x0b\ttab\x00"


@pytest.fixture(scope="module")
def odd_plan(tmp_path_factory: pytest.TempPathFactory, template: Template) -> Path:
    """Line breaks and control characters in the client's name, the KAM, and every text of a row."""
    plan = demo_plans(template, seed=4, count=1, today=DAY)[0]
    plan.fields["client_name"] = TEXTS
    plan.fields["kam"] = "Jane\nDoe\x0c"
    for table in ("actions", "rituals", "stakeholders"):
        for row in plan.rows(table, template):
            for key, value in list(row.items()):
                if isinstance(value, str) and value and key not in ("status", "ritual", "frequency"):
                    row[key] = value + "\n" + TEXTS
    folder = tmp_path_factory.mktemp("odd")
    return write_plan(plan, folder / "odd.xlsx")


@pytest.mark.parametrize("command", ["check", "rollup", "calendar", "qbr", "share", "new", "generate"])
def test_control_characters_never_stop_a_command(odd_plan, tmp_path, command):
    args = {
        "check": ["check", str(odd_plan)],
        "rollup": [
            "rollup", str(odd_plan.parent), "-o", str(tmp_path / "o"), "--digest", str(tmp_path / "d"),
            "--export", str(tmp_path / "csv"), "-q",
        ],
        "calendar": ["calendar", str(odd_plan), "-o", str(tmp_path / "r.ics"), "--mail"],
        "qbr": ["qbr", str(odd_plan), "-o", str(tmp_path), "--no-pdf"],
        "share": ["share", str(odd_plan), "--client", "-o", str(tmp_path / "c.xlsx")],
        "new": ["new", TEXTS.replace("\x00", ""), "--kam", "Jane\nDoe", "-o", str(tmp_path)],
        "generate": ["generate", str(_odd_export(tmp_path)), "-o", str(tmp_path / "g")],
    }[command]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert written or command == "check"
    if command == "calendar":
        ics = (tmp_path / "r.ics").read_bytes()
        assert all(line.startswith((b" ", b"\t")) or b":" in line for line in ics.split(b"\r\n") if line)


def _odd_export(tmp_path: Path) -> Path:
    path = tmp_path / "odd.csv"
    path.write_text(
        'Account Name,Account ID,Account Owner\n"Acme\nIndustries\x07",001X,"Jane\r\nDoe\x1b"\n',
        encoding="utf-8",
    )
    return path
