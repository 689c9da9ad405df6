"""Per-process caches of what the writer works out from the template alone.

Every plan written from one template repeats the same formulas, dashboard metrics, dropdown
rules and empty-row results: each is worked out once per template and language, not per plan.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

R = TypeVar("R")
MAX_ENTRIES = 4096
_PLAIN = frozenset((str, int, type(None)))  # keys as they are; anything else by identity


def per_template(fn: Callable[..., R]) -> Callable[..., R]:
    """Cache ``fn(template, *args)`` for arguments that are the template's own objects (tables,
    columns; flags: compared by identity, kept alive by the cache) or plain values (language, text).

    The result is shared: callers must not change it."""
    cache: dict[tuple, tuple[tuple, R]] = {}

    @wraps(fn)
    def cached(*args: Any) -> R:
        key = tuple([a if a.__class__ in _PLAIN else (id(a),) for a in args])
        found = cache.get(key)
        if found is not None:
            for held, given in zip(found[0], args, strict=True):
                if held is not given and given.__class__ not in _PLAIN:
                    break  # another object that had the same id: worked out again
            else:
                return found[1]
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        found = cache[key] = (args, fn(*args))
        return found[1]

    cached.cache_clear = cache.clear  # type: ignore[attr-defined]
    return cached
