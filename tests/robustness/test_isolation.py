"""Guarded workers: a crash, a hang or a memory hog costs its own item, never the others."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from kamxl.isolation import Failed, Guard, call_guarded, run_guarded


def behave(item: str) -> str:
    if item == "abort":
        os.kill(os.getpid(), signal.SIGABRT)
    if item == "hang":
        time.sleep(60)
    if item == "hog":
        blocks = []
        while True:
            blocks.append(bytearray(64 * 1024 * 1024))
    if item == "raise":
        raise RuntimeError("bad cell")
    if item == "exit":
        os._exit(3)
    return item.upper()


ITEMS = ["a", "abort", "b", "hang", "c", "hog", "d", "raise", "e", "exit", "f"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_each_failure_costs_its_item_only(jobs):
    started = time.monotonic()
    results = run_guarded(behave, ITEMS, jobs=jobs, guard=Guard(memory_mb=512, seconds=2))
    assert time.monotonic() - started < 30
    good = {i: r for i, r in zip(ITEMS, results, strict=True) if not isinstance(r, Failed)}
    assert good == {k: k.upper() for k in "abcdef"}
    why = {i: r.reason for i, r in zip(ITEMS, results, strict=True) if isinstance(r, Failed)}
    assert "crashed" in why["abort"] and "SIGABRT" in why["abort"]
    assert "more than 2 s" in why["hang"]
    assert "out of memory" in why["hog"]
    assert "RuntimeError: bad cell" in why["raise"]
    assert "exit code 3" in why["exit"]


def test_progress_is_reported_for_every_item():
    seen = []
    run_guarded(behave, ["a", "abort", "b"], jobs=2, on_result=lambda i, r: seen.append(i))
    assert sorted(seen) == [0, 1, 2]


def test_call_guarded_raises_failed():
    assert call_guarded(behave, "x") == "X"
    with pytest.raises(Failed, match="SIGABRT"):
        call_guarded(behave, "abort")


def test_guard_from_environment(monkeypatch):
    monkeypatch.setenv("KAMXL_LIMIT_MEMORY_MB", "700")
    monkeypatch.setenv("KAMXL_LIMIT_SECONDS", "9.5")
    assert Guard.from_env() == Guard(memory_mb=700, seconds=9.5)


def test_meanwhile_runs_once_beside_the_workers_and_its_error_is_raised():
    threads: list[str] = []
    results = run_guarded(
        behave, list("abcd"), jobs=2, meanwhile=lambda: threads.append(threading.current_thread().name)
    )
    assert results == list("ABCD")
    assert threads == ["kamxl-meanwhile"]  # not the loop that answers the workers

    def broken() -> None:
        raise ValueError("could not prepare")

    with pytest.raises(ValueError, match="could not prepare"):
        run_guarded(behave, ["a"], jobs=1, meanwhile=broken)


def test_items_queued_behind_a_crash_are_read_by_the_next_worker():
    """A worker holds its next item while it reads one: when it dies, that item is read again."""
    results = run_guarded(behave, ["abort", "a", "abort", "b", "c"], jobs=1, guard=Guard(seconds=10))
    assert [r if not isinstance(r, Failed) else "failed" for r in results] == [
        "failed",
        "A",
        "failed",
        "B",
        "C",
    ]
