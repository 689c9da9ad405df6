"""Text a workbook's XML can hold.

XML 1.0 has no place for most control characters (``\\x01``, ``\\x1b``...), ``U+FFFE``/``U+FFFF``
or lone surrogates (what Python makes of a file name with invalid UTF-8). CRM exports and
copy-pastes bring them in; written into a header, a footer or a document property they make
every sheet unreadable (Excel offers to "repair" the file, openpyxl refuses it). So text from
user data is cleaned once, before it is written: a control character becomes a space (a vertical
tab or form feed, the line break of some exports, a line break) and an unencodable surrogate
the replacement character.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_LINE_BREAKS = {"\x0b", "\x0c"}

T = TypeVar("T")


def _replacement(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _LINE_BREAKS:
        return "\n"
    return "\ufffd" if "\ud800" <= ch <= "\udfff" else " "


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 refuses replaced (tab and line breaks are kept)."""
    return _ILLEGAL.sub(_replacement, text) if _ILLEGAL.search(text) else text


def xml_safe(value: T) -> T:
    """A copy of ``value`` (str, list, dict or dataclass, nested) with :func:`xml_text` applied to
    every string in it; the value itself when nothing needed a change."""
    return _clean(value)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return xml_text(value)
    if isinstance(value, list):
        items = [_clean(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return value if all(cleaned[k] is v for k, v in value.items()) else cleaned
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            before = getattr(value, f.name)
            after = _clean(before)
            if after is not before:
                changes[f.name] = after
        return dataclasses.replace(value, **changes) if changes else value
    return value


_RUNS = re.compile(r"[\s\x00-\x1f\x7f\u0085\u2028\u2029]+")


def one_line(text: Any) -> str:
    """``text`` on one line: line breaks, tabs and control characters become one space. For the
    places a line break is not allowed (an e-mail header, a calendar's name, a file name)."""
    return _RUNS.sub(" ", str(text or "")).strip()
