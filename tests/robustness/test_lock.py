"""The summary's lock file: hidden, gone once free, and never two holders at once even though
each holder removes the file while waiters are queued on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kamxl.fileio import exclusive_lock, lock_path

WORKER = """
import os, sys, time
from kamxl import fileio
target, marker, rounds, checked = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
if not checked:  # the naive scheme: whatever file was locked counts, removed or not
    fileio._is_at = lambda fd, path: True
clashes = 0
for _ in range(rounds):
    with fileio.exclusive_lock(target):
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            clashes += 1  # another process is inside the lock too
            continue
        os.close(fd)
        time.sleep(0.002)
        os.unlink(marker)
print(clashes, flush=True)
"""


def _contend(tmp_path: Path, checked: bool, processes: int = 4, rounds: int = 40) -> int:
    target = tmp_path / "summary.xlsx"
    marker = tmp_path / "inside"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(target), str(marker), str(rounds), "1" if checked else "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    clashes = 0
    for worker in workers:
        out, _ = worker.communicate(timeout=120)  # bounded: a deadlock fails the test
        assert worker.returncode == 0
        clashes += int(out)
    return clashes


def test_the_lock_file_is_hidden_and_gone_once_free(tmp_path):
    target = tmp_path / "portfolio-summary.xlsm"
    path = lock_path(target)
    assert path.name.startswith(".")
    with exclusive_lock(target):
        assert path.exists()
        with exclusive_lock(tmp_path / "other.xlsx"):  # a lock per target
            assert lock_path(tmp_path / "other.xlsx").exists()
    assert not path.exists() and not lock_path(tmp_path / "other.xlsx").exists()
    assert not [p for p in tmp_path.iterdir()]


def test_a_lock_file_left_by_a_killed_holder_is_removed_by_the_next(tmp_path):
    target = tmp_path / "summary.xlsx"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from kamxl.fileio import exclusive_lock\n"
            f"with exclusive_lock({str(target)!r}):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(10)
    assert lock_path(target).exists()
    with exclusive_lock(target):
        pass
    assert not lock_path(target).exists()


@pytest.mark.skipif(os.name == "nt", reason="flock semantics")
def test_never_two_holders_at_once(tmp_path):
    assert _contend(tmp_path, checked=True) == 0
    assert not lock_path(tmp_path / "summary.xlsx").exists()


@pytest.mark.skipif(os.name == "nt", reason="flock semantics")
def test_the_harness_sees_clashes_without_the_identity_check(tmp_path):
    """Removing a lock file that waiters are queued on breaks mutual exclusion unless each waiter
    checks that the file it locked is still the one at the path: the harness above catches it."""
    assert _contend(tmp_path, checked=False) > 0
