"""Template versions: plans written by template 1.0 (tests/fixtures/v1) upgrade with no value lost
and are read, checked and rolled up together with plans of the current version."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from kamxl import upgrade as upgrade_module
from kamxl.checking import check_paths
from kamxl.reader import read_plan
from kamxl.rollup import rollup
from kamxl.template import get_template, load_template
from kamxl.upgrade import UpgradeError, upgrade_workbook
from kamxl.writer import write_plan

from .plan_factory import random_plan

FIXTURES = Path(__file__).parent / "fixtures" / "v1"
V1 = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".xlsx", ".xlsm"))


def _decode(value):
    if isinstance(value, dict) and set(value) == {"date"}:
        text = value["date"]
        return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
    return value


def snapshot(path: Path) -> dict:
    """What the 1.0 reader read from a fixture, recorded when the fixture was written."""
    data = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
    data["fields"] = {k: _decode(v) for k, v in data["fields"].items()}
    data["tables"] = {
        k: [{c: _decode(v) for c, v in row.items()} for row in rows] for k, rows in data["tables"].items()
    }
    return data


def test_fixtures_are_plans_of_the_previous_version():
    assert len(V1) == 4 and {p.suffix for p in V1} == {".xlsx", ".xlsm"}
    for path in V1:
        plan = read_plan(path).plan
        assert plan.template_version == "1.0" != get_template().version


@pytest.mark.parametrize("fixture", V1, ids=lambda p: p.name)
def test_upgrade_keeps_every_value(fixture, tmp_path):
    path = tmp_path / fixture.name
    shutil.copy2(fixture, path)
    before = snapshot(fixture)
    result = upgrade_workbook(path)
    assert result.status == "upgraded" and result.carried_over == 0
    assert result.backup is not None and result.backup.read_bytes() == fixture.read_bytes()
    read = read_plan(path)
    after = read.plan
    assert after.template_version == get_template().version
    assert after.account_id == before["account_id"] and after.lang == before["lang"]
    compared = 0
    for key, value in before["fields"].items():
        assert after.fields[key] == value, key
        compared += 1
    for table, rows in before["tables"].items():
        assert len(after.tables[table]) == len(rows), table
        for old, new in zip(rows, after.tables[table], strict=True):
            for col, value in old.items():
                assert new[col] == value, (table, col)
                compared += 1
    assert compared > 500
    assert not [f for f in read.findings if f.severity != "info"], read.findings
    book = openpyxl.load_workbook(path, read_only=True, keep_vba=True)
    titles = get_template().sheet("orgchart").title
    assert titles[after.lang] in book.sheetnames
    assert (path.suffix == ".xlsm") == ("xl/vbaProject.bin" in __import__("zipfile").ZipFile(path).namelist())
    assert upgrade_workbook(path).status == "current"


def test_values_without_a_place_are_carried_over(tmp_path):
    fixture = next(p for p in V1 if p.suffix == ".xlsx" and "Stenmark" in p.name)
    path = tmp_path / fixture.name
    shutil.copy2(fixture, path)
    book = openpyxl.load_workbook(path)
    book.create_sheet("My notes")["B3"] = "Call Samuel after the board meeting"
    stakeholders = book["Stakeholders"]
    header = [c.value for c in stakeholders[5]]
    stakeholders.cell(6, header.index("Influence 1-5") + 1).value = "very high"
    book.save(path)
    result = upgrade_workbook(path)
    assert result.carried_over == 2
    carried = read_plan(path).plan.carried_over
    assert {
        "sheet": "My notes",
        "cell": "B3",
        "label": "",
        "value": "Call Samuel after the board meeting",
    } in carried
    assert any(r["value"] == "very high" and r["sheet"] == "Stakeholders" for r in carried)


def test_a_failed_verification_leaves_the_original_untouched(tmp_path, monkeypatch):
    fixture = V1[0]
    path = tmp_path / fixture.name
    shutil.copy2(fixture, path)
    real = upgrade_module.write_plan

    def lossy(plan, target, **kwargs):
        plan = __import__("copy").deepcopy(plan)
        plan.tables["opportunities"] = plan.tables["opportunities"][1:]
        return real(plan, target, **kwargs)

    monkeypatch.setattr(upgrade_module, "write_plan", lossy)
    with pytest.raises(UpgradeError, match="opportunities"):
        upgrade_workbook(path)
    assert path.read_bytes() == fixture.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [fixture.name]


def test_mixed_versions_are_checked_and_rolled_up_together(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    for fixture in V1:
        shutil.copy2(fixture, plans / fixture.name)
    upgrade_workbook(plans / V1[0].name)
    for backup in plans.glob("*.bak-*"):
        backup.unlink()
    template = get_template()
    write_plan(random_plan(template, seed=3), plans / "Current.xlsx", template=template)
    run = check_paths([plans], jobs=1)
    assert not run.problems and len(run.reports) == 5
    versions = sorted(r["template"]["version"] for r in run.reports)
    current = get_template().version
    assert versions == ["1.0", "1.0", "1.0", current, current]
    for report in run.reports:
        structural = [f for f in report["findings"] if "missing" in f["message"] and f["severity"] != "info"]
        assert not structural, (report["file"], structural)
    result = rollup(plans, output=tmp_path / "summary.xlsx", history=False, jobs=1)
    assert len(result.accounts) == 5 and not result.skipped


def _previous_template(tmp_path):
    """Template 2.0 as far as sharing goes: the current one without what 2.1 added (the Share with
    client columns and their [[versions]] entry), nor the later versions' entries."""
    current = get_template()
    text = current.path.read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    kept = [
        b
        for b in blocks
        if 'key = "share"' not in b
        and not b.startswith(('[[versions]]\nversion = "2.1"', '[[versions]]\nversion = "2.2"'))
    ]
    text = "\n\n".join(kept).replace(
        f'version = "{current.version}"\nlanguages', 'version = "2.0"\nlanguages', 1
    )
    path = tmp_path / "account_plan_2_0.toml"
    path.write_text(text, encoding="utf-8")
    return load_template(path)


def test_a_plan_of_the_previous_version_upgrades_and_keeps_its_kpis_of_ours_internal(tmp_path):
    from kamxl.review.client import client_plan

    old_template = _previous_template(tmp_path)
    current = get_template()
    assert old_template.version == "2.0" and all(
        "share" not in {c.key for c in old_template.table(t).columns}
        for t in ("actions", "objectives", "kpis")
    )
    plan = random_plan(old_template, seed=11)
    for row in plan.tables["kpis"]:
        row["active"] = "yes"
    path = write_plan(plan, tmp_path / "Previous.xlsx", template=old_template)
    assert read_plan(path, template=old_template).plan.template_version == "2.0"
    result = upgrade_workbook(path, template=current)
    assert result.status == "upgraded" and result.carried_over == 0, result.message
    after = read_plan(path, template=current)
    assert after.plan.template_version == current.version
    assert not [f for f in after.findings if f.severity == "error"]
    header = [
        c.value
        for c in openpyxl.load_workbook(path)[after.locations.sheets["kpis"]][
            after.locations.header_rows["kpis"]
        ]
    ]
    assert current.table("kpis").column("share").label[after.plan.lang] in header
    names = {str(r["kpi"]) for r in client_plan(after.plan, current).tables["kpis"]}
    ours = {k["name"][after.plan.lang] for k in current.catalogue["kpis"] if k.get("internal")}
    theirs = {k["name"][after.plan.lang] for k in current.catalogue["kpis"] if not k.get("internal")}
    kpis = {str(r["kpi"]) for r in after.plan.tables["kpis"]}
    assert not names & ours and (kpis & theirs) <= names
