"""Short strings shared between the records of a roll-up (keys, codes, stages, owners, dates as
text): records arrive one by one, from the workers or the read cache, each with its own copies,
and a roll-up of thousands of accounts keeps them all until the summary is written."""

from __future__ import annotations

import sys
from typing import Any

SHARED_LENGTH = 40  # longer texts are free text, seldom repeated
_intern = sys.intern
_CONTAINERS = (str, dict, list)


def shared(value: Any) -> Any:
    """``value`` with its short strings shared, lists and already-shared dicts changed in place."""
    kind = type(value)
    if kind is str:
        return _intern(value) if len(value) <= SHARED_LENGTH else value
    if kind is dict:
        return shared_dict(value)
    if kind is list:
        for i, item in enumerate(value):
            if type(item) in _CONTAINERS:
                value[i] = shared(item)
    return value


def shared_dict(value: dict[Any, Any]) -> dict[Any, Any]:
    """A table row or a figure dict: changed in place when its keys are shared already (a record
    from the read cache), else a new dict with shared keys."""
    out = value if all(type(k) is not str or _intern(k) is k for k in value) else {}
    for k, v in value.items():
        kind = type(v)
        if kind is str:
            if len(v) <= SHARED_LENGTH:
                v = _intern(v)
        elif kind is dict or kind is list:
            v = shared(v)
        out[_intern(k) if type(k) is str else k] = v  # in place: the same key, no resize
    return out


def shared_json_object(value: dict[str, Any]) -> dict[str, Any]:
    """A JSON object as it is decoded (its inner objects were done before it): keys and short
    string values shared."""
    return {
        _intern(k): _intern(v) if type(v) is str and len(v) <= SHARED_LENGTH else v for k, v in value.items()
    }
