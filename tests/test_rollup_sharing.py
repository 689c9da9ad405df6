"""Records keep one copy of each short string (keys, codes), whether read or taken from the cache."""

from __future__ import annotations

import datetime as dt
import json
import pickle

from kamxl.rollup.cache import _decode
from kamxl.rollup.collect import compact
from kamxl.rollup.sharing import shared

from .test_rollup_units import record


def _copy(value):
    """As a record arrives from a worker: unpickled, with strings of its own."""
    return pickle.loads(pickle.dumps(value))


def test_compact_shares_short_strings_between_records_and_keeps_values(template):
    one, two = _copy(record(template, "Acme", "Alice")), _copy(record(template, "Beta", "Alice"))
    before = [dict(vars(one)), dict(vars(two))]
    compact(one), compact(two)
    assert [vars(one), vars(two)] == before
    key_one = next(k for k in one.actions[0] if k == "status")
    key_two = next(k for k in two.actions[0] if k == "status")
    assert key_one is key_two
    assert one.actions[0]["status"] is two.actions[0]["status"]
    assert one.kam is two.kam


def test_long_texts_are_left_as_they_are():
    text = "x" * 200
    row = shared({"note": text, "code": "won"})
    assert row["note"] is text and row == {"note": text, "code": "won"}


def test_cached_objects_are_decoded_shared_and_compact_keeps_them():
    line = json.dumps([{"stage": "won", "due": {"$date": "2026-03-01"}}, {"stage": "won"}])
    rows = json.loads(line, object_hook=_decode)
    assert rows[0]["due"] == dt.date(2026, 3, 1)
    assert next(iter(rows[0])) is next(iter(rows[1])) and rows[0]["stage"] is rows[1]["stage"]
    same = shared(rows)
    assert same is rows and same[0] is rows[0]  # already shared: changed in place, no copy
