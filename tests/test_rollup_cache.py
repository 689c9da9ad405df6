"""The roll-up cache: an unchanged workbook is not read again, a changed one always is."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kamxl.rollup import cache as cache_module
from kamxl.rollup import rollup
from kamxl.rollup.cache import CACHE_NAME
from kamxl.writer import write_plan

from .plan_factory import random_plan

AS_OF = dt.date(2026, 11, 5)
NAMES = ("Acme Industries", "Brightwater Foods", "Copperline Energy")


def _stored(path: Path) -> None:
    """Rewrite a workbook with every part stored uncompressed: a same-length edit keeps its size."""
    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info)) for info in src.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as dst:
        for info, data in parts:
            info.compress_type = zipfile.ZIP_STORED
            dst.writestr(info, data)
    path.write_bytes(buffer.getvalue())


def _replace_in_zip(path: Path, old: bytes, new: bytes) -> None:
    """Replace text inside the (stored) parts of a workbook, keeping every part's length."""
    assert len(old) == len(new)
    with zipfile.ZipFile(path) as src:
        parts = [(info, src.read(info)) for info in src.infolist()]
    assert any(old in data for _, data in parts), old
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as dst:
        for info, data in parts:
            dst.writestr(info, data.replace(old, new))
    path.write_bytes(buffer.getvalue())


@pytest.fixture
def plans(template, tmp_path) -> Path:
    folder = tmp_path / "plans"
    folder.mkdir()
    for seed, name in enumerate(NAMES, start=1):
        plan = random_plan(template, seed, lang="en", fullness=1.0)
        plan.fields["client_name"] = name
        path = write_plan(plan, folder / f"plan-{seed}.xlsx", template=template)
        _stored(path)
    return folder


def _roll(folder: Path, out: Path, **kw: Any):
    return rollup(folder, output=out / "summary.xlsx", as_of=AS_OF, jobs=1, **kw)


def _by_file(result) -> dict[str, dict[str, Any]]:
    return {a.file: a.as_dict() for a in result.accounts}


def test_unchanged_files_come_from_the_cache_with_the_same_records(plans, tmp_path):
    first = _roll(plans, tmp_path / "out")
    assert first.from_cache == 0
    assert (tmp_path / "out" / CACHE_NAME).is_file()
    again = _roll(plans, tmp_path / "out")
    assert again.from_cache == len(NAMES)
    fresh = _roll(plans, tmp_path / "fresh", cache=False)
    assert fresh.from_cache == 0
    assert _by_file(again) == _by_file(fresh)
    assert [a.account for a in again.accounts] == [a.account for a in fresh.accounts]
    assert again.as_json()["totals"] == fresh.as_json()["totals"]


def test_a_changed_file_is_read_again_even_with_its_size_and_time_restored(plans, tmp_path):
    _roll(plans, tmp_path / "out")
    path = plans / "plan-1.xlsx"
    before = os.stat(path)
    _replace_in_zip(path, b"Acme Industries", b"Acme Industriez")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    result = _roll(plans, tmp_path / "out")
    assert result.from_cache == len(NAMES) - 1
    assert "Acme Industriez" in [a.account for a in result.accounts]
    assert "Acme Industries" not in [a.account for a in result.accounts]


def test_new_files_are_read_and_deleted_ones_drop_out(plans, tmp_path, template):
    _roll(plans, tmp_path / "out")
    (plans / "plan-2.xlsx").unlink()
    plan = random_plan(template, 9, lang="fr", fullness=1.0)
    plan.fields["client_name"] = "Delta Logistique"
    write_plan(plan, plans / "plan-9.xlsx", template=template)
    result = _roll(plans, tmp_path / "out")
    assert result.from_cache == 2
    assert sorted(a.account for a in result.accounts) == [
        "Acme Industries",
        "Copperline Energy",
        "Delta Logistique",
    ]
    with gzip.open(tmp_path / "out" / CACHE_NAME, "rt", encoding="utf-8") as fh:
        text = fh.read()
    assert "plan-2.xlsx" not in text and "plan-9.xlsx" in text


def test_a_new_kamxl_version_or_another_day_voids_the_cache(plans, tmp_path, monkeypatch):
    _roll(plans, tmp_path / "out")
    monkeypatch.setattr(cache_module, "__version__", "99.0")
    assert _roll(plans, tmp_path / "out").from_cache == 0
    assert _roll(plans, tmp_path / "out").from_cache == len(NAMES)
    later = rollup(
        plans, output=tmp_path / "out" / "summary.xlsx", as_of=AS_OF + dt.timedelta(days=1), jobs=1
    )
    assert later.from_cache == 0


def test_a_changed_template_voids_the_cache(plans, tmp_path, template):
    custom = tmp_path / "tpl" / "account_plan.toml"
    custom.parent.mkdir()
    custom.write_bytes(Path(template.path).read_bytes())
    _roll(plans, tmp_path / "out", template=custom)
    assert _roll(plans, tmp_path / "out", template=custom).from_cache == len(NAMES)
    custom.write_bytes(custom.read_bytes() + b"\n# edited\n")
    assert _roll(plans, tmp_path / "out", template=custom).from_cache == 0


@pytest.mark.parametrize("content", [b"", b"not gzip at all", gzip.compress(b'{"context": 1')])
def test_a_damaged_cache_is_ignored_and_replaced(plans, tmp_path, content):
    _roll(plans, tmp_path / "out")
    (tmp_path / "out" / CACHE_NAME).write_bytes(content)
    result = _roll(plans, tmp_path / "out")
    assert result.from_cache == 0 and len(result.accounts) == len(NAMES)
    assert _roll(plans, tmp_path / "out").from_cache == len(NAMES)


def test_the_result_is_the_same_whatever_the_number_of_jobs(plans, tmp_path):
    one = rollup(plans, output=tmp_path / "a" / "summary.xlsx", as_of=AS_OF, jobs=1, cache=False)
    two = rollup(plans, output=tmp_path / "b" / "summary.xlsx", as_of=AS_OF, jobs=2, cache=False)
    assert [a.as_dict() for a in one.accounts] == [a.as_dict() for a in two.accounts]
    assert one.as_json()["totals"] == two.as_json()["totals"]
    for frame in ("accounts", "pipeline", "actions", "risks", "findings"):
        assert one.frames()[frame].equals(two.frames()[frame]), frame


def test_nothing_changed_leaves_the_summary_and_history_as_they_are(plans, tmp_path):
    first = _roll(plans, tmp_path / "out")
    summary, history = first.output, first.history
    stamps = {p: os.stat(p).st_mtime_ns for p in (summary, history)}
    again = _roll(plans, tmp_path / "out")
    assert again.up_to_date and again.exit_code == 0
    assert {p: os.stat(p).st_mtime_ns for p in (summary, history)} == stamps
    assert again.as_json()["totals"] == first.as_json()["totals"]
    summary.write_bytes(summary.read_bytes())  # saved by someone since: written again
    assert not _roll(plans, tmp_path / "out").up_to_date
    assert _roll(plans, tmp_path / "out").up_to_date
    history.unlink()
    rebuilt = _roll(plans, tmp_path / "out")
    assert not rebuilt.up_to_date and history.is_file()


def test_one_changed_file_rewrites_the_summary(plans, tmp_path):
    _roll(plans, tmp_path / "out")
    path = plans / "plan-3.xlsx"
    _replace_in_zip(path, b"Copperline Energy", b"Copperline Energx")
    result = _roll(plans, tmp_path / "out")
    assert not result.up_to_date and result.from_cache == len(NAMES) - 1
    assert result.output in result.written
