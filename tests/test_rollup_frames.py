"""RollupResult.frames(): a folder to pandas DataFrames in one call; the CSV exports come from them."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from kamxl.rollup import rollup
from kamxl.writer import write_plan

from .plan_factory import random_plan

AS_OF = dt.date(2026, 11, 5)


@pytest.fixture(scope="module")
def result(template, tmp_path_factory):
    root = tmp_path_factory.mktemp("frames")
    for seed, lang in ((1, "en"), (2, "fr"), (3, "en")):
        plan = random_plan(template, seed, lang=lang, fullness=1.0)
        plan.fields["client_name"] = f"Client {seed}"
        write_plan(plan, root / "plans" / f"plan-{seed}.xlsx", template=template)
    return rollup(root / "plans", output=root / "out" / "summary.xlsx", as_of=AS_OF, export=root / "csv")


def test_one_frame_per_table_with_a_row_per_item(result):
    frames = result.frames()
    assert sorted(frames) == ["accounts", "actions", "findings", "pipeline", "risks"]
    assert sorted(frames["accounts"]["account"]) == ["Client 1", "Client 2", "Client 3"]
    assert len(frames["pipeline"]) == sum(len(a.opportunities) for a in result.accounts) > 0
    assert len(frames["actions"]) == sum(len(a.actions) for a in result.accounts) > 0
    assert len(frames["risks"]) == sum(len(a.risks) for a in result.accounts) > 0
    assert len(frames["findings"]) == sum(len(a.findings) for a in result.accounts)
    assert frames["pipeline"]["weighted"].sum() == pytest.approx(result.totals["weighted_pipeline"])
    assert frames["accounts"]["overall"].dtype.kind == "f"
    assert "stakeholder" not in frames["actions"].columns  # personal data stays in the plans


def test_csv_exports_are_the_frames(result):
    frames = result.frames()
    by_name = {p.name: p for p in result.exports}
    for key, name in {
        "accounts": "accounts.csv",
        "pipeline": "opportunities.csv",
        "risks": "risks.csv",
    }.items():
        with by_name[name].open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert list(rows[0]) == list(frames[key].columns)
        assert len(rows) == len(frames[key])
        assert [r["account_id"] for r in rows] == list(frames[key]["account_id"])


def test_reading_never_imports_pandas(result):
    path = next(Path(a.path) for a in result.accounts)
    code = (
        "import sys, datetime as dt\n"
        "from kamxl.rollup.collect import Task, read_one\n"
        f"read_one(Task({str(path)!r}, 'p', None, dt.date(2026, 11, 5), False))\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
