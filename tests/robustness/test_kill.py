"""A roll-up killed at any moment: no process left behind, previous outputs intact, temporaries gone."""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kamxl.demo import demo_plans
from kamxl.docprops import KIND, SUMMARY_KIND, custom_properties
from kamxl.template import load_template
from kamxl.writer import write_plan

COPIES = 36


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory) -> Path:
    """Distinct plans (copies of one plan would be the same account, counted once)."""
    template = load_template()
    folder = tmp_path_factory.mktemp("drive") / "plans"
    folder.mkdir()
    for i, plan in enumerate(demo_plans(template, count=COPIES)):
        write_plan(plan, folder / f"plan-{i:03d}.xlsx", template=template)
    return folder


def _start(folder: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kamxl",
            "rollup",
            str(folder),
            "-o",
            str(out),
            "--export",
            str(out.parent / "csv"),
            "-q",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode("utf-8", "replace")
            state = Path(f"/proc/{entry}/stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry))
    return found


def _assert_outputs_intact(out: Path) -> None:
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None
    assert custom_properties(out).get(KIND) == SUMMARY_KIND
    with sqlite3.connect(out.parent / "portfolio-history.sqlite") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] >= 1
    for path in (out.parent / "csv").glob("[!.]*.csv"):  # the exports, not a killed run's temporaries
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows and len({len(r) for r in rows}) == 1, path


def _temporaries(folder: Path) -> list[str]:
    """Temporary and staged files, and a stopped roll-up's journal (the lock file stays)."""
    return [p.name for p in folder.rglob(".*kamxl*") if not p.name.endswith("kamxl-lock")]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_rollup_leaves_no_process_and_intact_outputs(tmp_path, big_folder, sig):
    out = tmp_path / "portfolio" / "portfolio-summary.xlsm"
    first = _start(big_folder, out, "--jobs", "2")
    assert first.wait(180) == 0, first.stderr.read()
    reference = out.read_bytes()
    rng = random.Random(sig)
    for delay in sorted(rng.uniform(0.3, 4.0) for _ in range(4)):
        proc = _start(big_folder, out, "--jobs", "2")
        time.sleep(delay)
        proc.send_signal(sig)
        proc.wait(60)
        deadline = time.monotonic() + 5
        while _processes_mentioning(str(big_folder)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _processes_mentioning(str(big_folder)) == [], f"workers left after {sig.name} at {delay:.1f} s"
        _assert_outputs_intact(out)
        if sig == signal.SIGTERM:
            assert _temporaries(tmp_path) == [], f"temporary files left after SIGTERM at {delay:.1f} s"
    assert out.read_bytes()[:2] == reference[:2]
    last = _start(big_folder, out, "--jobs", "2")
    assert last.wait(180) == 0
    assert _temporaries(tmp_path) == []  # what a SIGKILL left is removed by the next run
    _assert_outputs_intact(out)
