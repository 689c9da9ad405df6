"""A roll-up's outputs (summary, history snapshot, CSV exports, read cache) are one unit: a write
that fails, or a process killed, at any step leaves the previous set; the next run completes or
undoes what a killed run left. Each output tells which run made it by an account renamed between
the two runs, so "consistent" means: all four say the same run."""

from __future__ import annotations

import errno
import gzip
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from kamxl import fileio
from kamxl.demo import demo_plans
from kamxl.rollup import rollup
from kamxl.rollup.commit import journal_path, recover
from kamxl.rollup.history import PendingSnapshot
from kamxl.template import Template
from kamxl.writer import write_plan

from ..test_review import DAY

NEW_NAME = "Renamed Between Runs"


@pytest.fixture
def setup(tmp_path: Path, template: Template) -> dict[str, Path]:
    """Plans rolled up once (the previous set), then one plan renamed for the next run."""
    plans = tmp_path / "plans"
    plans.mkdir()
    demo = demo_plans(template, seed=3, count=3, today=DAY)
    for i, plan in enumerate(demo):
        write_plan(plan, plans / f"plan{i}.xlsx")
    out = tmp_path / "portfolio" / "portfolio-summary.xlsx"
    rollup(plans, output=out, export=tmp_path / "csv", jobs=1, as_of=DAY)
    demo[0].fields["client_name"] = NEW_NAME
    write_plan(demo[0], plans / "plan0.xlsx")
    return {"plans": plans, "out": out, "csv": tmp_path / "csv", "root": tmp_path}


def _run(s: dict[str, Path]) -> None:
    rollup(s["plans"], output=s["out"], export=s["csv"], jobs=1, as_of=DAY)


def _states(s: dict[str, Path]) -> dict[str, bool]:
    """For each output: whether it is the new run's (holds the renamed account)."""
    out = s["out"]
    book = CalamineWorkbook.from_path(str(out))
    summary = any(
        NEW_NAME in map(str, row)
        for name in book.sheet_names
        for row in book.get_sheet_by_name(name).to_python()
    )
    with sqlite3.connect(out.parent / "portfolio-history.sqlite") as con:
        history = bool(
            con.execute("SELECT 1 FROM account_snapshots WHERE account = ?", (NEW_NAME,)).fetchone()
        )
        run = con.execute("SELECT summary_digest FROM runs ORDER BY rowid DESC LIMIT 1").fetchone()
    assert run is not None and run[0] == fileio.content_digest(out.read_bytes())  # the summary it names
    exports = NEW_NAME in (s["csv"] / "accounts.csv").read_text(encoding="utf-8")
    with gzip.open(out.parent / "portfolio-cache.json.gz", "rt", encoding="utf-8") as fh:
        cache = NEW_NAME in fh.read()
    return {"summary": summary, "history": history, "exports": exports, "cache": cache}


def _leftovers(root: Path) -> list[str]:
    return [p.name for p in root.rglob(".*kamxl*") if not p.name.endswith("kamxl-lock")]


def _writes(s: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> int:
    """How many files a run writes through the atomic-write helper (counted on a copy of the set)."""
    calls = []
    real = fileio._fsync
    monkeypatch.setattr(fileio, "_fsync", lambda p: (calls.append(p), real(p)))
    copy = s["root"].parent / (s["root"].name + "-count")
    shutil.copytree(s["root"], copy)
    rollup(copy / "plans", output=copy / "portfolio" / s["out"].name, export=copy / "csv", jobs=1, as_of=DAY)
    monkeypatch.undo()
    return len(calls)


def test_a_write_failing_at_any_step_leaves_the_previous_set(setup, monkeypatch):
    steps = _writes(setup, monkeypatch)
    assert steps >= 7  # summary, four CSV files, cache, journal
    for failing in range(1, steps + 1):
        calls: list[Path] = []

        def fsync(path: Path, failing: int = failing, calls: list[Path] = calls) -> None:
            calls.append(path)
            if len(calls) == failing:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))

        monkeypatch.setattr(fileio, "_fsync", fsync)
        with pytest.raises(OSError) as caught:
            _run(setup)
        monkeypatch.undo()
        assert caught.value.errno == errno.ENOSPC
        assert ".kamxl" not in str(caught.value.filename), (
            caught.value.filename
        )  # the output, not a temporary
        assert _states(setup) == dict.fromkeys(("summary", "history", "exports", "cache"), False), failing
        assert _leftovers(setup["root"]) == [], failing
    _run(setup)
    assert all(_states(setup).values())


def test_a_history_that_cannot_commit_leaves_the_previous_set(setup, monkeypatch):
    def full(self, *args):
        self.con.close()
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(PendingSnapshot, "commit", full)
    with pytest.raises(Exception, match="database or disk is full"):
        _run(setup)
    monkeypatch.undo()
    assert not any(_states(setup).values())
    assert _leftovers(setup["root"]) == []


KILLER = textwrap.dedent(
    """
    import os, sys, datetime as dt
    from pathlib import Path
    from kamxl import fileio
    from kamxl.rollup import commit, rollup
    step, where = int(sys.argv[1]), sys.argv[2]
    calls, renames = [], []
    real_fsync, real_replace = fileio._fsync, os.replace

    def fsync(path):
        real_fsync(path)
        calls.append(path)
        if where == "write" and len(calls) == step:
            os._exit(9)  # as SIGKILL: no clean-up of any kind

    def replace(src, dst):
        if where == "rename" and Path(src).name.startswith(commit.STAGE_PREFIX):
            renames.append(src)
            if len(renames) == step:
                os._exit(9)
        real_replace(src, dst)

    fileio._fsync = fsync
    os.replace = replace
    root = Path(sys.argv[3])
    rollup(root / "plans", output=root / "portfolio" / sys.argv[4], export=root / "csv", jobs=1,
           as_of=dt.date.fromisoformat(sys.argv[5]))
    """
)


@pytest.mark.parametrize(
    ("where", "step"), [("write", n) for n in range(1, 8)] + [("rename", n) for n in range(1, 7)]
)
def test_a_kill_at_any_step_is_completed_or_undone_by_the_next_run(setup, where, step):
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLER,
            str(step),
            where,
            str(setup["root"]),
            setup["out"].name,
            DAY.isoformat(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 9, proc.stderr
    killed_after_commit = journal_path(setup["out"]).exists() and where == "rename"
    recover(setup["out"])
    states = _states(setup)
    assert len(set(states.values())) == 1, states  # all of the previous run, or all of the killed one
    assert all(states.values()) == killed_after_commit
    _run(setup)
    assert all(_states(setup).values())
    assert _leftovers(setup["root"]) == []


def test_what_a_killed_upgrade_left_is_removed_by_the_next_upgrade(tmp_path):
    old = tmp_path / "Moulins Sérélan.xlsx"
    shutil.copy2(Path(__file__).resolve().parents[1] / "fixtures" / "v1" / old.name, old)
    killed = subprocess.run(
        [sys.executable, "-c", UPGRADE_KILLER, str(old)], capture_output=True, text=True, timeout=300
    )
    assert killed.returncode == 9, killed.stderr
    left = _leftovers(tmp_path)
    assert left  # the killed upgrade left its temporary workbook
    done = subprocess.run(
        [sys.executable, "-m", "kamxl", "upgrade", str(old)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert _leftovers(tmp_path) == []


UPGRADE_KILLER = textwrap.dedent(
    """
    import os, sys
    from kamxl import fileio
    from kamxl.upgrade import upgrade_workbook

    def fsync(path):
        os._exit(9)  # as SIGKILL, once the new workbook is written to its temporary file

    fileio._fsync = fsync
    upgrade_workbook(sys.argv[1])
    """
)
