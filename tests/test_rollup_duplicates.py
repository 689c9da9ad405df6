"""One account found under several file names counts once in every total; the other files are
listed as duplicates (the Data quality sheet, ``duplicates`` in ``--json``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from kamxl.cli import main
from kamxl.demo import demo_plans
from kamxl.model import new_plan
from kamxl.rollup import rollup
from kamxl.rollup.duplicates import split_duplicates
from kamxl.rollup.records import record_from_plan
from kamxl.template import Template
from kamxl.writer import write_plan

from .test_review import DAY


@pytest.fixture
def folders(tmp_path: Path, template: Template) -> tuple[Path, Path]:
    """The same three plans, alone and with copies of the first under other names."""
    alone, copied = tmp_path / "alone", tmp_path / "copied"
    alone.mkdir()
    for i, plan in enumerate(demo_plans(template, seed=5, count=3, today=DAY)):
        write_plan(plan, alone / f"{plan.name}.xlsx" if i == 0 else alone / f"plan{i}.xlsx")
    shutil.copytree(alone, copied)
    first = next(p for p in copied.iterdir() if not p.name.startswith("plan"))
    shutil.copy2(first, copied / f"{first.stem} (copy).xlsx")
    shutil.copy2(first, copied / f"{first.stem} - Copy.xlsx")
    return alone, copied


def _sheet_text(path: Path) -> str:
    book = CalamineWorkbook.from_path(str(path))
    return "\n".join(
        " | ".join(map(str, row))
        for name in book.sheet_names
        for row in book.get_sheet_by_name(name).to_python()
    )


def test_copies_of_a_plan_count_once(folders, tmp_path):
    alone, copied = folders
    reference = rollup(alone, output=tmp_path / "a", jobs=1, as_of=DAY, history=False, cache=False)
    proc = CliRunner().invoke(
        main, ["rollup", str(copied), "-o", str(tmp_path / "c"), "--json", "--as-of", DAY.isoformat()]
    )
    assert proc.exit_code == 1, proc.output  # the copies need attention
    result = json.loads(proc.stdout)
    assert result["totals"] == json.loads(json.dumps(reference.as_json()["totals"]))  # revenue not x3
    assert result["accounts"] == 3
    first = next(p.name for p in alone.iterdir() if not p.name.startswith("plan"))
    stem = Path(first).stem
    assert [(d["file"], d["duplicate_of"], d["same"]) for d in result["duplicates"]] == [
        (f"{stem} (copy).xlsx", first, "content"),
        (f"{stem} - Copy.xlsx", first, "content"),
    ]
    text = _sheet_text(Path(result["output"]))
    for d in result["duplicates"]:
        assert d["file"] in text and "left out of the totals" in text


def test_a_copy_edited_since_counts_once_by_account_id(folders, tmp_path, template):
    """A copy someone went on editing: not the same bytes, the same account id."""
    _, copied = folders
    from kamxl.reader import read_plan

    copy = copied / next(p.name for p in copied.iterdir() if p.name.endswith(" (copy).xlsx"))
    plan = read_plan(copy).plan
    plan.fields["annual_revenue"] = 123456789.0
    write_plan(plan, copy)
    (copied / copy.name.replace(" (copy)", " - Copy")).unlink()
    result = rollup(copied, output=tmp_path / "c", jobs=1, as_of=DAY, history=False, cache=False)
    assert len(result.accounts) == 3 and result.exit_code == 1
    assert [d["same"] for d in result.duplicates] == ["account_id"]
    assert result.totals["revenue"] == sum(a.figures.get("revenue") or 0 for a in result.accounts)
    assert len({a.account_id for a in result.accounts}) == 3


def test_the_copy_counted_is_the_one_reviewed_last_then_the_shorter_name(template):
    def record(name: str, review: str | None, file: str):
        plan = new_plan(template, "en", client_name=name)
        plan.account_id = "same"
        if review:
            plan.fields["last_review"] = __import__("datetime").date.fromisoformat(review)
        return record_from_plan(plan, template, file=file, as_of=DAY)

    older = record("Acme", "2026-06-01", "Acme.xlsx")
    newer = record("Acme", "2026-11-01", "Acme (copy).xlsx")
    other = record("Acme", "2026-06-01", "Acme - old.xlsx")
    counted, left = split_duplicates([older, newer, other], {})
    assert counted == [newer]
    assert [(d.file, d.duplicate_of) for d in left] == [
        ("Acme - old.xlsx", "Acme (copy).xlsx"),
        ("Acme.xlsx", "Acme (copy).xlsx"),
    ]
    counted, left = split_duplicates([other, older], {})
    assert counted == [older] and left[0].file == "Acme - old.xlsx"
