"""A worksheet's values, formulas and error values in one pass over its XML.

python-calamine parses every sheet in full and the reader then scans the same XML again for
formulas and error values. The workbooks kamxl reads are nearly always in the dialect Excel,
LibreOffice and XlsxWriter write: cells as ``<c r="B7" s="3" t="s"><f>..</f><v>..</v></c>``
(Excel adds ``cm``/``vm`` after ``t``, and a CR LF after each part's XML declaration), shared
strings as ``<si><t>..</t></si>`` or rich-text runs. For that dialect one regular-expression
pass gives the same grid as calamine's ``to_python(skip_empty_area=False)`` in half the time,
with the flags on the way (and Excel 365's #SPILL! or #CALC!, which calamine refuses). Anything
else (another attribute order, inline strings, dates before March 1900 or with a time, the 1904
date system, text calamine versions trim differently, ...) is answered with None and the caller
asks calamine: the fast path only ever reads what it fully understands.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from functools import lru_cache
from operator import itemgetter
from typing import Any

from .preflight import xml_attrs

Grid = list[list[Any]]
Flags = dict[tuple[int, int], tuple[str, str]]

# Every cell with content; blank styled cells (``<c r="B7" s="3"/>``) hold no value and are skipped.
# Possessive quantifiers: a blank cell fails at once instead of backtracking through its reference.
_CELL = re.compile(
    rb'<c r="([A-Z]{1,3}+[0-9]{1,7}+)"(?: s="([0-9]{1,5}+)")?+(?: t="([a-zA-Z]{1,9}+)")?+'
    rb'(?: cm="[0-9]{1,5}+")?+(?: vm="[0-9]{1,5}+")?+>'  # Excel's cell and value metadata: no value
    rb"(<f\b[^>]*?(?:/>|>([^<]*+)</f>))?(?:<v>([^<]*+)</v>)?</c>"
)
# A formula string with no <v> at all: calamine leaves it out, where an empty <v></v> is "".
_NO_VALUE = re.compile(rb'<c r="[A-Z0-9]++"[^>]*? t="str"[^>]*+>(?:<f\b[^>]*?(?:/>|>[^<]*+</f>))?</c>')
_PREFIXED_CELL = re.compile(rb":c[\s>/]")  # <x:c ...> or </x:c>: a regular expression finds it fastest
_NUMBER = re.compile(rb"-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]{1,3})?")
_SI = re.compile(r'<si><t(?: xml:space="preserve")?>([^<]*)</t></si>')
_SI_ANY = re.compile(r"<si>(.*?)</si>", re.S)  # <si/>: not read here
# What a rich string holds besides its text: runs, their fonts, phonetic readings (not shown).
_RUN_MARKUP = re.compile(r"<rPr>.*?</rPr>|<rPr/>|<rPh\b.*?</rPh>|<phoneticPr\b[^>]*/>|</?r>", re.S)
_RUN_TEXTS = re.compile(r'(?:<t(?: xml:space="preserve")?>[^<]*</t>|<t/>)*')
_RUN_TEXT = re.compile(r'<t( xml:space="preserve")?>([^<]*)</t>')
_XML_SPACE = " \t\r\n"
_ESCAPE = re.compile(r"_x00([0-9A-Fa-f]{2})_")
_OTHER_ESCAPE = re.compile(r"_x(?!00[0-9A-Fa-f]{2}_)(?:[0-9A-Fa-f]{4}_|00\+)")
# A run without xml:space="preserve" starting or ending with a space or maybe a character reference
# (possessive: each run is scanned once, without backtracking).
_SPACED = re.compile(r"<t>(?:[ \t\n]|&#|[^<]*+(?<=[ \t\n;])</t>)")
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_EPOCH = dt.date(1899, 12, 30)
_FIRST_SERIAL, _LAST_SERIAL = 61, 2958465  # 1 March 1900 (after Excel's 29 February) to 31 Dec 9999
_MAX_CELLS = 4_000_000  # a grid larger than this is left to calamine


class Dialect:
    """What the fast path needs from a workbook: its shared strings and which styles show dates."""

    __slots__ = ("dates", "durations", "strings")

    def __init__(self, strings: list[str], dates: frozenset[bytes], durations: frozenset[bytes]) -> None:
        self.strings, self.dates, self.durations = strings, dates, durations


def dialect(workbook_xml: bytes, styles_xml: bytes, strings_xml: bytes | None) -> Dialect | None:
    """The workbook's :class:`Dialect`, or None when a part is outside what the fast path reads."""
    if b"date1904" in workbook_xml and re.search(rb'date1904="(?:1|true)"', workbook_xml):
        return None
    styles = date_styles(styles_xml)
    strings = shared_strings(strings_xml) if strings_xml is not None else []
    if styles is None or strings is None:
        return None
    return Dialect(strings, *styles)


def shared_strings(xml: bytes) -> list[str] | None:
    """Each shared string, or None for a table holding stray carriage returns, markup other
    than runs, or text some calamine versions read differently (trimmed spaces, escapes)."""
    if not declaration_crlf_only(xml):
        return None
    try:
        text = xml.decode("utf-8")
    except UnicodeDecodeError:
        return None
    found = _SI.findall(text)
    if len(found) != text.count("<si"):
        found = _rich_strings(text)
        if found is None:
            return None
    elif _SPACED.search(text):
        found = _rich_strings(text)  # spaces at an end of a run calamine may trim: looked at closely
        if found is None:
            return None
    if "&" in text:
        out = []
        for s in found:
            if "&" in s and (s := _unescape(s)) is None:  # type: ignore[assignment]
                return None
            out.append(s)
        found = out
    return _excel_unescaped(found) if "_x" in text else found


def _excel_unescaped(strings: list[str]) -> list[str] | None:
    """Excel's ``_x000D_`` escapes undone as calamine undoes them (``_x00HH_`` only, left to
    right); None for any other ``_xHHHH_``, which calamine versions read differently."""
    out = []
    for s in strings:
        if "_x" in s:
            if _OTHER_ESCAPE.search(s):
                return None
            s = _ESCAPE.sub(_escaped, s)
        out.append(s)
    return out


def _escaped(m: re.Match[str]) -> str:
    return chr(int(m.group(1), 16))


def _rich_strings(text: str) -> list[str] | None:
    """Each shared string of a table with rich text or phonetic readings: its runs' text
    joined, as calamine joins it; None for any other markup, or for a run without
    ``xml:space="preserve"`` whose text starts or ends with a space (calamine versions differ)."""
    out = []
    for m in _SI_ANY.finditer(text):
        body = m.group(1) or ""
        bare = _RUN_MARKUP.sub("", body) if "<" in body else body
        if _RUN_TEXTS.fullmatch(bare) is None:
            return None
        parts = []
        for preserve, run in _RUN_TEXT.findall(bare):
            if not preserve and run and (run[0] in _XML_SPACE or run[-1] in _XML_SPACE):
                return None
            if not preserve and "&" in run:  # an entity may stand for a space at an end
                plain = _unescape(run)
                if plain is None or plain != plain.strip(_XML_SPACE):
                    return None
            parts.append(run)
        out.append("".join(parts))
    return out if len(out) == text.count("<si") else None


def declaration_crlf_only(xml: bytes) -> bool:
    """Whether a part holds no carriage return but the CR LF Excel writes after its XML
    declaration (and, in some files, after the root element's end): a CR anywhere else is
    read differently by XML parsers, so not read here."""
    at = xml.find(b"\r")
    if at == -1:
        return True
    if xml.startswith(b"<?xml") and at == xml.find(b"?>") + 2 and xml[at + 1 : at + 2] == b"\n":
        at = xml.find(b"\r", at + 1)
    return at == -1 or (at == len(xml) - 2 and xml.endswith(b">\r\n"))


def _unescape(text: str) -> str | None:
    """XML's entities undone; None for an ``&`` that is none of them."""
    if text.count("&") != len(_ENTITY.findall(text)):
        return None
    try:
        return _ENTITY.sub(_entity, text)
    except (ValueError, OverflowError):
        return None


def _entity(m: re.Match[str]) -> str:
    name, dec, hexa = m.groups()
    return _NAMED[name] if name else chr(int(dec) if dec else int(hexa, 16))


@lru_cache(maxsize=64)
def date_styles(xml: bytes) -> tuple[frozenset[bytes], frozenset[bytes]] | None:
    """Indexes of the cell styles calamine reads as dates and as durations (from their number
    formats), or None for a styles part outside the usual layout."""
    custom: dict[str, str] = {}
    for tag in re.findall(rb"<numFmt\b[^>]*>", xml):
        a = xml_attrs(tag)
        custom[a.get("numFmtId", "")] = a.get("formatCode", "")
    start, end = xml.find(b"<cellXfs"), xml.find(b"</cellXfs>")
    if start < 0 or end < start or b":cellXfs" in xml:
        return None
    dates: set[int] = set()
    durations: set[int] = set()
    for i, tag in enumerate(re.findall(rb"<xf\b[^>]*>", xml[start:end])):
        fmt = xml_attrs(tag).get("numFmtId", "0")
        kind = _custom_kind(custom[fmt]) if fmt in custom else _BUILTIN.get(fmt, "")
        if kind == "date":
            dates.add(i)
        elif kind == "duration":
            durations.add(i)
    return _style_keys(dates), _style_keys(durations)


def _style_keys(indexes: set[int]) -> frozenset[bytes]:
    """Style indexes as the cells' ``s`` attributes spell them (none at all means style 0)."""
    return frozenset({str(i).encode() for i in indexes} | ({b""} if 0 in indexes else set()))


_BUILTIN = {str(i): "date" for i in (*range(14, 23), 45, 47)} | {"46": "duration"}


def _custom_kind(code: str) -> str:
    """calamine's reading of a number format: "date", "duration" or "" (a plain number)."""
    escaped = quoted = ap = hms = False
    brackets = 0
    prev = " "
    for ch in code:
        if escaped:
            escaped = False
        elif ch in "_\\*":
            escaped = True
        elif quoted:
            if ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == ";":
            return ""
        elif ch == "[":
            brackets += 1
        elif ch == "]" and brackets == 1 and hms:
            return "duration"
        elif ch == "]":
            brackets = max(brackets - 1, 0)
        elif ch in "aA" and not ap and brackets == 0:
            ap = True
        elif (ch in "pm/PM" and ap and brackets == 0) or (ch in "dmhysDMHYS" and not ap and brackets == 0):
            return "date"
        elif not (hms and ch.lower() == prev.lower()):
            hms = prev == "[" and ch in "mhsMHS"
        prev = ch
    return ""


@lru_cache(maxsize=16384)
def formula_flag(text: bytes) -> tuple[str, str]:
    """A formula cell's flag from the text of its ``<f>`` (``""`` for a shared formula's cells)."""
    formula = html.unescape(text.decode("utf-8", "replace"))
    return ("formula", "=" + formula if formula else "")


# Plans made from one template hold the same formulas in the same cells: both are worked out once.
@lru_cache(maxsize=65536)
def ref_index(ref: bytes) -> tuple[int, int]:
    """``b"F12"`` -> (11, 5): 0-based row and column of a well-formed reference."""
    split = 1 if ref[1] < 65 else 2 if ref[2] < 65 else 3
    col = 0
    for ch in ref[:split]:
        col = col * 26 + ch - 64
    return int(ref[split:]) - 1, col - 1


@lru_cache(maxsize=65536)
def _index(v: bytes) -> int:
    """A shared-string index as a cell spells it (int() of bytes costs more than the look-up)."""
    if not v.isdigit():
        raise ValueError(v)
    return int(v)


def sheet_cells(xml: bytes, d: Dialect) -> tuple[Grid, Flags] | None:
    """The sheet's grid from A1 (blanks as ``""``) and its flags, as calamine and
    :func:`kamxl.workbook_source._scan` give them; None when the sheet holds anything the
    fast path does not read."""
    if b"<sheetData" not in xml and xml.find(b"<chartsheet ", 0, 1024) != -1 and b"<c " not in xml:
        return [], {}  # a chart sheet (Insert > Chart > Move Chart > New sheet) holds no cells
    if not declaration_crlf_only(xml) or b"<sheetData" not in xml or _PREFIXED_CELL.search(xml):
        return None  # carriage returns, or elements with a prefix: not read here
    cells = _CELL.findall(xml)
    if len(cells) != xml.count(b"</c>"):
        return None  # a cell written another way (attributes, children, spacing): not read here
    strings, dates, durations = d.strings, d.dates, d.durations
    placed: list[tuple[int, int, Any]] = []
    add = placed.append
    flags: Flags = {}
    empty, empty_text = 0, False  # cells with an empty or no <v>; any of them a formula string
    try:
        for ref, style, kind, f, formula, v in cells:
            where = ref_index(ref)
            if f:
                flags[where] = formula_flag(formula)
            if kind == b"s":
                value: Any = strings[_index(v)]
            elif not kind or kind == b"n":
                if not v:
                    empty += 1
                    continue
                if not v.isdigit() and _NUMBER.fullmatch(v) is None:
                    return None
                if style in dates:
                    value = _date(v)
                    if value is None:
                        return None
                elif style in durations:
                    return None
                else:
                    value = float(v)
            elif kind == b"str":
                if not v:
                    empty, empty_text = empty + 1, True
                if b"_x" in v:
                    return None  # Excel's _xHHHH_ escapes: calamine versions differ
                value = v.decode("utf-8")
                if "&" in value and (value := _unescape(value)) is None:
                    return None
            elif kind == b"e":
                # Excel 365's #SPILL!, #CALC!, ... too, for which calamine refuses the whole sheet
                flags[where] = ("error", v.decode("utf-8", "replace") or "#N/A")
                if not v:
                    empty += 1
                    continue  # calamine reads an empty <v> as no value: not in the grid
                value = ""
            elif kind == b"b" and (v == b"0" or v == b"1"):
                value = v == b"1"
            else:
                return None
            add((*where, value))
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    # calamine leaves out a formula string without <v>, where <v></v> is "": when every empty
    # cell has its <v></v>, none is without (a count costs far less than a search).
    if empty_text and xml.count(b"<v></v>") != empty and _NO_VALUE.search(xml):
        return None
    grid = _grid(placed)
    return None if grid is None else (grid, flags)


def _grid(placed: list[tuple[int, int, Any]]) -> Grid | None:
    """The values placed in a grid from A1, blanks as ``""``; None for one too large."""
    if not placed:
        return []
    rows = max(placed)[0] + 1  # C-level passes: tuples order by their row first
    cols = max(map(_COLUMN, placed)) + 1
    if rows * cols > _MAX_CELLS:
        return None
    grid = [[""] * cols for _ in range(rows)]
    for r, c, value in placed:
        grid[r][c] = value
    return grid


_COLUMN = itemgetter(1)


@lru_cache(maxsize=65536)
def _date(v: bytes) -> dt.date | None:
    """A whole serial as calamine gives it; None for any other value in a date style."""
    if v.isdigit() and _FIRST_SERIAL <= int(v) <= _LAST_SERIAL:
        return _EPOCH + dt.timedelta(days=int(v))
    return None
