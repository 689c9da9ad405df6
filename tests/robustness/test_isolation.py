"""Guarded workers: a crash, a hang or a memory hog costs its own item, never the others."""

from __future__ import annotations

import os
import signal
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
