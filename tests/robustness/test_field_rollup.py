"""A shared drive as it really is: good plans among damaged, foreign and hostile files.

Every good plan is read, every bad file is reported with a specific reason, nothing in the
folder changes, outputs are readable by colleagues, and a crash in the parser costs one file.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kamxl.demo import demo_plans
from kamxl.preflight import Limits
from kamxl.rollup import NothingToRollUp, rollup
from kamxl.template import load_template
from kamxl.writer import write_plan

from .hostile import (
    big_shared_strings,
    digest_tree,
    foreign_database,
    many_rows,
    stray_corner_cell,
    with_doctype,
)

GOOD = 6
NO_PREFLIGHT = {"KAMXL_LIMIT_ROWS": "99999999", "KAMXL_LIMIT_COLUMNS": "99999", "KAMXL_LIMIT_CELLS": "1e15"}


@pytest.fixture(scope="module")
def good_plans(tmp_path_factory) -> list[Path]:
    """Filled plans in both languages, written once for the module."""
    template = load_template()
    folder = tmp_path_factory.mktemp("good")
    return [
        write_plan(plan, folder / f"plan-{i:02d}.xlsx", template=template)
        for i, plan in enumerate(demo_plans(template, count=GOOD))
    ]


def _folder(tmp_path: Path, good_plans: list[Path]) -> Path:
    plans = tmp_path / "plans"
    plans.mkdir()
    for path in good_plans:
        shutil.copy2(path, plans / path.name)
    return plans


def _kamxl(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kamxl", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


MEASURED = """
import resource, subprocess, sys
peak_file = sys.argv.pop(1)
proc = subprocess.run([sys.executable, "-m", "kamxl", *sys.argv[1:]])
open(peak_file, "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(proc.returncode)
"""


def _kamxl_measured(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, int]:
    """Run kamxl; also the peak resident memory (kB) of it or of any reading process it ran.

    kamxl runs as a grandchild: a process forked from this large test process would report its
    parent's peak (Linux keeps ``ru_maxrss`` across exec)."""
    peak = tmp_path / "peak.txt"
    proc = subprocess.run(
        [sys.executable, "-c", MEASURED, str(peak), *args], capture_output=True, text=True, timeout=120
    )
    return proc, int(peak.read_text())


def _skipped(result: dict) -> dict[str, str]:
    return {item["file"]: item["reason"] for item in result["skipped"]}


def test_hostile_folder_rolls_up_every_good_plan(tmp_path, good_plans):
    plans = _folder(tmp_path, good_plans)
    base = good_plans[0]
    stray_corner_cell(base, plans / "stray corner.xlsx")
    many_rows(base, plans / "endless rows.xlsx", rows=120_000)
    big_shared_strings(base, plans / "strings bomb.xlsx", megabytes=140)
    with_doctype(base, plans / "entities.xlsx")
    (plans / "fifo.xlsx").parent.mkdir(exist_ok=True)
    os.mkfifo(plans / "fifo.xlsx")
    os.symlink("/dev/zero", plans / "zero.xlsx")
    (plans / "not a zip.xlsx").write_text("hello")
    (plans / os.fsdecode(b"caf\xe9 latin-1.xlsx")).write_bytes(base.read_bytes())
    (plans / "~$lock.xlsx").write_bytes(b"lock")
    (plans / "plan-00.bak-20260101-000000.xlsx").write_bytes(base.read_bytes())
    sub = plans / "sub"
    sub.mkdir()
    os.symlink("..", sub / "loop")
    os.symlink(tmp_path, plans / "outside")
    before = digest_tree(plans)

    started = time.monotonic()
    proc, peak_kb = _kamxl_measured(
        tmp_path, "rollup", str(plans), "-o", str(tmp_path / "out"), "--recursive", "--json", "--no-macros"
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    result = json.loads(proc.stdout)
    # every good plan, once: links and loops add nothing; the byte copy under a non-UTF-8 name is
    # the same account, counted once and listed as a duplicate
    assert result["accounts"] == GOOD
    assert [d["file"] for d in result["duplicates"]] == ["caf\\xe9 latin-1.xlsx"]
    skipped = _skipped(result)
    assert "1,048,576 rows × 16,384 columns" in skipped["stray corner.xlsx"]
    assert "XFD1048576" in skipped["stray corner.xlsx"]
    assert "rows" in skipped["endless rows.xlsx"] and "100,000" in skipped["endless rows.xlsx"]
    assert "sharedStrings.xml" in skipped["strings bomb.xlsx"] and "MB" in skipped["strings bomb.xlsx"]
    assert "DOCTYPE" in skipped["entities.xlsx"]
    assert "named pipe" in skipped["fifo.xlsx"]
    assert "character device" in skipped["zero.xlsx"]
    assert "not an Excel workbook" in skipped["not a zip.xlsx"]
    assert "outside the folder" in skipped["outside"]
    ignored = {item["file"]: item["reason"] for item in result["ignored"]}
    assert "lock" in ignored["~$lock.xlsx"] and "backup" in ignored["plan-00.bak-20260101-000000.xlsx"]
    assert digest_tree(plans) == before
    print(f"hostile folder: {elapsed:.1f} s, peak {peak_kb / 1024:.0f} MB")
    assert elapsed < 60
    assert peak_kb < 1024 * 1024, f"a process peaked at {peak_kb / 1024:.0f} MB"


def _files(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()] if folder.is_dir() else []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_parser_crash_costs_one_file(tmp_path, good_plans, jobs):
    """With the pre-flight lifted, python-calamine aborts on the stray cell: only that file is lost."""
    plans = _folder(tmp_path, good_plans)
    stray_corner_cell(good_plans[1], plans / "crash.xlsx")
    proc = _kamxl(
        "rollup", str(plans), "-o", str(tmp_path / "out"), "--jobs", jobs, "--json", env=NO_PREFLIGHT
    )
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["accounts"] == GOOD
    reason = _skipped(result)["crash.xlsx"]
    assert "crashed" in reason or "out of memory" in reason or "ended unexpectedly" in reason, reason


def test_check_survives_a_parser_crash(tmp_path, good_plans):
    plans = _folder(tmp_path, good_plans)
    stray_corner_cell(good_plans[1], plans / "crash.xlsx")
    proc = _kamxl("check", str(plans), "--json", env=NO_PREFLIGHT)
    assert proc.returncode == 1, proc.stderr
    assert len(json.loads(proc.stdout)["results"]) == GOOD
    assert "crash.xlsx" in proc.stderr and "Traceback" not in proc.stderr
    alone = _kamxl("check", str(plans / "crash.xlsx"), env=NO_PREFLIGHT)
    assert alone.returncode == 2 and "crash.xlsx" in alone.stderr


def test_check_and_rollup_read_the_same_files(tmp_path, good_plans):
    plans = _folder(tmp_path, good_plans)
    shutil.copy2(good_plans[0], plans / "plan-00.bak-20260101-000000.xlsx")
    shutil.copy2(good_plans[0], plans / ".hidden.xlsx")
    os.symlink(plans / "plan-01.xlsx", plans / "link to plan-01.xlsx")
    checked = json.loads(_kamxl("check", str(plans), "--json").stdout)["results"]
    rolled = json.loads(_kamxl("rollup", str(plans), "-o", str(tmp_path / "o"), "--json").stdout)
    assert len(checked) == rolled["accounts"] == GOOD


def test_output_that_is_a_plan_is_refused(tmp_path, good_plans):
    plans = _folder(tmp_path, good_plans)
    victim = plans / "plan-02.xlsx"
    before = victim.read_bytes()
    proc = _kamxl("rollup", str(plans), "-o", str(victim))
    assert proc.returncode == 2
    assert "not a kamxl portfolio summary" in proc.stderr
    assert victim.read_bytes() == before
    foreign = tmp_path / "budget.xlsx"
    shutil.copy2(good_plans[0], foreign)
    assert _kamxl("rollup", str(plans), "-o", str(foreign)).returncode == 2


def test_a_summary_is_replaced_and_readable_by_colleagues(tmp_path, good_plans):
    plans = _folder(tmp_path, good_plans)
    out = tmp_path / "portfolio" / "summary.xlsm"
    old = os.umask(0o022)
    try:
        first = rollup(plans, output=out, export=tmp_path / "csv", jobs=1)
        second = rollup(plans, output=out, export=tmp_path / "csv", jobs=1)
    finally:
        os.umask(old)
    assert first.exit_code == second.exit_code == 0
    for path in [out, *second.exports, second.history]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044, path  # group and others can read
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".kamxl-") and "lock" not in p.name]


def test_foreign_history_is_refused_before_anything_is_written(tmp_path, good_plans):
    plans = _folder(tmp_path, good_plans)
    db = foreign_database(tmp_path / "crm.sqlite")
    before = db.read_bytes()
    proc = _kamxl("rollup", str(plans), "-o", str(tmp_path / "out"), "--history", str(db))
    assert proc.returncode == 2 and "not a kamxl history" in proc.stderr
    assert db.read_bytes() == before
    assert not (tmp_path / "out").exists()
    with sqlite3.connect(db) as con:
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["customers"]
    text = tmp_path / "notes.sqlite"
    text.write_text("hello")
    assert "not a SQLite database" in _kamxl("rollup", str(plans), "--history", str(text)).stderr


def test_exports_that_cannot_be_written_are_reported(tmp_path, good_plans):
    plans = _folder(tmp_path, good_plans)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = _kamxl(
        "rollup", str(plans), "-o", str(tmp_path / "out"), "--export", str(blocker / "csv"), "--json"
    )
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["errors"] and "exports not written" in result["errors"][0]["reason"]
    assert str(tmp_path / "out" / "portfolio-summary.xlsm") in result["written"]
    assert (tmp_path / "out" / "portfolio-summary.xlsm").is_file()
    assert result["exports"] == []


def test_empty_folder_writes_nothing(tmp_path):
    empty = tmp_path / "plans"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    proc = _kamxl("rollup", str(empty))
    assert proc.returncode == 2 and "no .xlsx or .xlsm workbook" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plans"]
    with pytest.raises(NothingToRollUp):
        rollup(empty)


def test_second_rollup_waits_and_says_for_what(tmp_path, good_plans):
    """The second roll-up waits for the lock, says for whom, and runs once it is released."""
    from kamxl.fileio import exclusive_lock

    plans = _folder(tmp_path, good_plans)
    out = tmp_path / "out" / "portfolio-summary.xlsx"
    release = tmp_path / "release"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, time; from kamxl.fileio import exclusive_lock\n"
            f"with exclusive_lock({str(out)!r}):\n"
            "    print('held', flush=True)\n"
            f"    while not os.path.exists({str(release)!r}): time.sleep(0.1)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    second = subprocess.Popen(
        [sys.executable, "-m", "kamxl", "rollup", str(plans), "-o", str(out), "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    waiting = second.stderr.readline()  # blocks until the second run reports that it waits
    assert "waiting for kamxl process" in waiting and str(holder.pid) in waiting
    assert second.poll() is None and not out.exists()
    release.touch()
    assert second.wait(120) == 0, second.stderr.read()
    assert out.is_file()
    holder.wait(10)
    with exclusive_lock(out):  # released by both runs
        pass


def test_a_killed_holder_releases_the_lock(tmp_path):
    from kamxl.fileio import exclusive_lock

    out = tmp_path / "summary.xlsx"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from kamxl.fileio import exclusive_lock\n"
            f"with exclusive_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(10)
    messages = []
    with exclusive_lock(out, on_wait=messages.append):
        pass
    assert messages == []


def test_limits_are_configurable(monkeypatch):
    monkeypatch.setenv("KAMXL_LIMIT_ROWS", "250000")
    monkeypatch.setenv("KAMXL_LIMIT_PART_MB", "16")
    limits = Limits.from_env()
    assert limits.rows == 250_000 and limits.part_mb == 16 and limits.columns == Limits().columns
    monkeypatch.setenv("KAMXL_LIMIT_ROWS", "many")
    with pytest.raises(ValueError, match="KAMXL_LIMIT_ROWS"):
        Limits.from_env()


def test_a_plan_with_thousands_of_rows_passes(tmp_path, template):
    """The limits leave room for a real plan: 3,000 actions and 1,000 opportunities."""
    from kamxl.model import new_plan
    from kamxl.reader import read_plan

    plan = new_plan(template, "en", client_name="Large")
    action = template.tables["actions"].columns[0].key
    plan.tables["actions"] = [{action: f"Action {i}"} for i in range(3000)]
    path = write_plan(plan, tmp_path / "large.xlsx", template=template)
    read = read_plan(path)
    assert len([r for r in read.plan.tables["actions"] if r.get(action)]) == 3000


def test_unlistable_names_are_reported_by_name(tmp_path, good_plans):
    plans = _folder(tmp_path, good_plans)
    bad = plans / os.fsdecode(b"r\xe9sum\xe9.xlsx")
    bad.write_text("not a workbook")
    proc = _kamxl("rollup", str(plans), "-o", str(tmp_path / "out"), "--json")
    assert proc.returncode == 1, proc.stderr
    assert "r\\xe9sum\\xe9.xlsx" in _skipped(json.loads(proc.stdout))
    assert not [p for p in Path("/tmp").glob("tmp*xlsxwriter*")]


def test_host_name_in_lock_message_is_this_machine(tmp_path):
    from kamxl.fileio import exclusive_lock

    out = tmp_path / "summary.xlsx"
    with exclusive_lock(out):
        text = (tmp_path / ".summary.xlsx.kamxl-lock").read_text()
    assert str(os.getpid()) in text and socket.gethostname() in text
