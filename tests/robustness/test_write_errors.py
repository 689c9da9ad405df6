"""Every command that writes ends cleanly when the system refuses a write: a full disk, a
read-only share, a permission refused, a name too long, a failing drive. Each error is injected
into the one atomic-write helper (:mod:`kamxl.fileio`); the command must end with one line naming
the file and the README's exit code, never a traceback, and leave no temporary file behind."""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamxl import fileio
from kamxl.cli import main
from kamxl.demo import demo_plans
from kamxl.template import Template
from kamxl.writer import write_plan

from ..test_review import DAY, _edit_copy

ERRORS = ["ENOSPC", "EACCES", "EROFS", "ENAMETOOLONG", "EIO"]
V1 = Path(__file__).resolve().parents[1] / "fixtures" / "v1" / "Moulins Sérélan.xlsx"
CRM = Path(__file__).resolve().parents[1] / "fixtures" / "crm" / "salesforce_report.csv"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, template: Template) -> dict[str, Path]:
    """A plan, a folder of plans, and the client copy of the plan with the client's edits."""
    folder = tmp_path_factory.mktemp("inputs")
    plans = folder / "plans"
    plans.mkdir()
    demo = demo_plans(template, seed=7, count=3, today=DAY)
    written = [write_plan(p, plans / f"plan{i}.xlsx") for i, p in enumerate(demo)]
    client = folder / "client.xlsx"
    result = CliRunner().invoke(main, ["share", str(written[0]), "--client", "-o", str(client)])
    assert result.exit_code == 0, result.output
    _edit_copy(client, read_lang(written[0]), template)
    return {"plan": written[0], "plans": plans, "client": client}


def read_lang(path: Path) -> str:
    from kamxl.reader import read_plan

    return read_plan(path).plan.lang


def _commands(inputs: dict[str, Path], work: Path) -> dict[str, tuple[list[str], int, list[Path]]]:
    """command: its arguments, the exit code README gives for a refused write, the input files it
    must leave as they were."""
    plan = work / "plan.xlsx"
    shutil.copy2(inputs["plan"], plan)
    old = work / V1.name
    shutil.copy2(V1, old)
    out = work / "out"
    return {
        "new": (["new", "Acme", "-o", str(out)], 2, []),
        "generate": (["generate", str(CRM), "-o", str(out)], 2, [CRM]),
        "demo": (["demo", "-o", str(out), "--count", "2"], 2, []),
        "share": (["share", str(plan), "--client", "-o", str(out / "c.xlsx")], 2, [plan]),
        "merge-back": (["merge-back", str(plan), str(inputs["client"])], 2, [plan, inputs["client"]]),
        "rollup": (["rollup", str(inputs["plans"]), "-o", str(out)], 2, []),
        "upgrade": (["upgrade", str(old)], 1, [old]),
        "qbr": (["qbr", str(plan), "-o", str(out), "--no-pdf", "--as-of", DAY.isoformat()], 2, [plan]),
        "calendar": (["calendar", str(plan), "-o", str(out / "r.ics")], 2, [plan]),
        "template-doc": (["template-doc", "-o", str(out / "t.md")], 2, []),
    }


def _failing(code: int) -> Callable[[Path], None]:
    def fail(path: Path) -> None:
        raise OSError(code, f"injected {errno.errorcode[code]}", str(path))

    return fail


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


WRITERS = ["new", "generate", "demo", "share", "merge-back", "rollup", "upgrade", "qbr", "calendar"]


@pytest.mark.parametrize("name", ERRORS)
@pytest.mark.parametrize("command", [*WRITERS, "template-doc"])
def test_a_refused_write_ends_with_one_line(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, name: str
) -> None:
    args, code, untouched = _commands(inputs, tmp_path)[command]
    before = {p: _digest(p) for p in untouched}
    monkeypatch.setattr(fileio, "_fsync", _failing(getattr(errno, name)))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert f"[{name}]" in result.output or f"injected {name}" in result.output, result.output
    assert str(tmp_path) in result.output, result.output  # the file that could not be written
    assert {p: _digest(p) for p in untouched} == before
    leftovers = [p for p in tmp_path.rglob(".kamxl-*") if "lock" not in p.name]
    assert not leftovers


def test_generate_reports_what_was_and_was_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drive fills up after the first workbook: the run stops trying, and lists every row."""
    real, calls = fileio._fsync, []

    def fill_up(path: Path) -> None:
        calls.append(path)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path)

    monkeypatch.setattr(fileio, "_fsync", fill_up)
    result = CliRunner().invoke(main, ["generate", str(CRM), "-o", str(tmp_path), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    rows = sum(1 for _ in report["skipped"]) + len(report["generated"])
    assert len(report["generated"]) == 1 and Path(report["generated"][0]).is_file()
    assert rows > 2 and len(calls) == 2  # the rows after the full disk were not tried
    assert "No space left" in report["skipped"][0]["reason"]
    assert all("writing stopped" in s["reason"] for s in report["skipped"][1:])
    text = CliRunner().invoke(main, ["generate", str(CRM), "-o", str(tmp_path / "b")])
    assert text.exit_code == 2 and "Generated 0 workbook(s)" in text.output, text.output
    assert "no workbook written" in text.output
