"""`kamxl check`: terminal and JSON output, exit codes, folders, and never writing."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamxl.checking import check_paths
from kamxl.commands.check import command
from kamxl.model import new_plan
from kamxl.reader import read_plan
from kamxl.report import check_workbook
from kamxl.scoring import score_plan
from kamxl.template import Template
from kamxl.writer import write_plan

AS_OF = dt.date(2026, 11, 25)


def plan_for(template: Template, lang: str, name: str):
    plan = new_plan(template, lang, client_name=name, kam="Jane Doe")
    plan.fields |= {"last_review": dt.date(2026, 6, 1), "annual_revenue": 1_500_000, "nrr": 1.05}
    plan.tables["opportunities"] = [
        {"name": "Renewal", "amount": 200_000, "probability": 0.5, "stage": "proposal",
         "expected_close": dt.date(2026, 12, 15)},
    ]  # fmt: skip
    plan.tables["actions"] = [{"action": "Call CFO", "owner": "Jane", "due": dt.date(2026, 10, 1)}]
    for row in plan.tables["assessment"]:
        row["rating"] = 4
    return plan


@pytest.fixture
def workbooks(tmp_path: Path, template: Template) -> dict[str, Path]:
    return {
        lang: write_plan(
            plan_for(template, lang, f"Acme {lang}"), tmp_path / f"acme-{lang}.xlsx", template=template
        )
        for lang in ("en", "fr")
    }


def run(*args: str):
    return CliRunner().invoke(command, [*args, "--as-of", AS_OF.isoformat()])


def test_text_report(workbooks) -> None:
    result = run(str(workbooks["en"]))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Acme en" in out and "KAM: Jane Doe" in out
    assert "Tier: " in out and "Overall" in out and "Weighted pipeline 100,000" in out
    assert "error    Info!B19" in out  # stale plan: last review in June
    assert "warning  Action plan!F6" in out  # overdue action


def test_json_report_is_the_documented_shape(workbooks, template) -> None:
    result = run(str(workbooks["en"]), str(workbooks["fr"]), "--json")
    assert result.exit_code == 0, result.output
    reports = json.loads(result.output)["results"]
    assert [r["file"] for r in reports] == [str(workbooks["en"]), str(workbooks["fr"])]
    en, fr = reports
    for key in ("file", "account", "kam", "scores", "priority", "tier", "tier_label", "figures", "findings"):
        assert key in en
    assert set(en["scores"]) == {"potential", "relationship", "execution", "overall"}
    plan = read_plan(workbooks["en"], template=template).plan
    scores = score_plan(plan, template, AS_OF)
    assert en["scores"]["overall"] == pytest.approx(scores.overall, abs=1e-9)
    assert en["priority"] == pytest.approx(scores.priority, abs=1e-9)
    assert en["tier"] == scores.tier
    assert en["tier_label"] == template.tier_label(scores.tier, "en")
    assert fr["tier_label"] == template.tier_label(scores.tier, "fr")
    assert en["figures"]["weighted_pipeline"] == pytest.approx(100_000)
    assert en["figures"]["overdue_actions"] == 1
    assert en["figures"]["last_review"] == "2026-06-01"
    assert (en["account"], en["kam"]) == ("Acme en", "Jane Doe")
    assert set(en["findings"][0]) == {"severity", "sheet", "cell", "message"}
    assert en["findings"][0] == {
        "severity": "error", "sheet": "Info", "cell": "B19",
        "message": "Plan not reviewed for 177 days (last review 2026-06-01; review at least every 90 days)",
    }  # fmt: skip
    assert any(f["sheet"] == "Plan d'action" for f in fr["findings"])


def test_check_never_writes(workbooks) -> None:
    path = workbooks["en"]
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    assert run(str(path), "--json").exit_code == 0
    assert run(str(path)).exit_code == 0
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["acme-en.xlsx", "acme-fr.xlsx"]


def test_unreadable_file_exits_1_and_others_are_reported(workbooks, tmp_path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a workbook")
    result = CliRunner().invoke(command, [str(broken), str(workbooks["en"]), "--json"])
    assert result.exit_code == 1
    assert f"{broken}: not an Excel workbook" in result.stderr
    document = json.loads(result.stdout)
    assert [r["account"] for r in document["results"]] == ["Acme en"]
    unreadable = [(u["file"], u["reason"] in result.stderr) for u in document["unreadable"]]
    assert unreadable == [(str(broken), True)]


def test_missing_file_exits_2(tmp_path) -> None:
    result = run(str(tmp_path / "nope.xlsx"))
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_findings_are_not_failures(tmp_path, template) -> None:
    path = write_plan(new_plan(template, "en"), tmp_path / "empty.xlsx", template=template)
    result = run(str(path), "--json")
    assert result.exit_code == 0
    assert json.loads(result.output)["results"][0]["findings"]


def test_folders_expand_to_workbooks(workbooks, tmp_path) -> None:
    (tmp_path / "~$acme-en.xlsx").write_bytes(b"lock")
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "sub").mkdir()
    assert [r["file"] for r in check_paths([tmp_path]).reports] == [
        str(workbooks["en"]),
        str(workbooks["fr"]),
    ]
    result = run(str(tmp_path), "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.output)["results"]) == 2


def test_empty_folder_exits_2(tmp_path) -> None:
    result = run(str(tmp_path))
    assert result.exit_code == 2 and "no .xlsx or .xlsm" in result.stderr


def test_bad_as_of_is_a_usage_error(workbooks) -> None:
    result = CliRunner().invoke(command, [str(workbooks["en"]), "--as-of", "yesterday"])
    assert result.exit_code == 2 and "not a date" in result.output


def test_check_workbook_library_call(workbooks) -> None:
    report = check_workbook(workbooks["fr"], as_of=AS_OF)
    assert report["account"] == "Acme fr" and report["lang"] == "fr"
    assert json.loads(json.dumps(report)) == report


def test_unreadable_folder_exits_1_and_others_are_reported(workbooks, tmp_path, monkeypatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.scandir

    def scandir(path):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = CliRunner().invoke(command, [str(locked), str(workbooks["en"]), "--json"])
    assert result.exit_code == 1
    assert f"kamxl check: {locked}: folder cannot be listed: Permission denied" in result.stderr
    assert [r["account"] for r in json.loads(result.stdout)["results"]] == ["Acme en"]
    alone = CliRunner().invoke(command, [str(locked)])
    assert alone.exit_code == 2
