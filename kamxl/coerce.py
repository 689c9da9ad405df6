"""Turn what a KAM typed into plan values: pure parsing, no I/O.

KAMs type numbers as text (``1 200 000 €``, ``1,2 M€``, ``$1.2M``), dates as text in several
conventions, choice labels in the other language or case, and sometimes error values or
formulas. Every parser returns ``(value, problem)``: ``problem`` is None when the cell was
read cleanly, else a :class:`Problem` saying what was done, so the reader can report the cell
and carry on with the rest of the plan.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple

from .findings import Severity
from .template import Column, Labels

_ERRORS = "#N/A #REF! #VALUE! #DIV/0! #NAME? #NUM! #NULL! #GETTING_DATA #SPILL! #CALC!"
ERROR_VALUES = tuple(_ERRORS.split())
EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 0 in the 1900 date system (after its fictitious 1900-02-29)
MAX_SERIAL = 2958465  # 9999-12-31
FIRST_DATE = dt.date(1900, 1, 1)  # the earliest date Excel holds
MAX_NUMBER = Decimal("9.99999999999999e307")  # the largest number Excel holds
TEXT_TYPES = {"text", "longtext", "email", "url"}


class Problem(NamedTuple):
    """Why a cell's value is missing or was interpreted: ``error`` drops the value."""

    message: str
    severity: Severity = "error"


class Coerced(NamedTuple):
    value: Any
    problem: Problem | None = None


def ok(value: Any) -> Coerced:
    return Coerced(value, None)


def fail(message: str, severity: Severity = "error", value: Any = None) -> Coerced:
    return Coerced(value, Problem(message, severity))


# -- text normalisation -----------------------------------------------------------------------
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009\u200b]+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "–": "-", "—": "-", "−": "-"})


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a label, for matching what was typed."""
    if text.isascii():
        return _SPACES.sub(" ", text.replace("`", "'")).strip().casefold()
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text).strip().casefold()


@lru_cache(maxsize=8192)
def loose(text: str) -> str:
    """:func:`fold` that also ignores punctuation between words (``cross_sell`` = ``Cross-sell``)."""
    return re.sub(r"[\s\-_/.:;,()'&+]+", " ", fold(text)).strip()


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def error_value(raw: Any) -> str | None:
    """The Excel error code a cell holds (as read, or typed as text), if any."""
    if isinstance(raw, str):
        text = raw.strip().upper()
        if text in ERROR_VALUES:
            return text
    return None


def looks_like_formula(raw: Any) -> bool:
    return isinstance(raw, str) and raw.strip().startswith("=") and len(raw.strip()) > 1


def error_cell(code: str) -> Coerced:
    """What an input cell holding an Excel error value reads as."""
    return fail(f"error value {code}")


def formula_cell(formula: str = "") -> Coerced:
    """What an input cell holding a formula reads as; ``formula`` is its text when known."""
    shown = f" ({formula.strip()})" if formula.strip() else ""
    return fail(f"a formula{shown} where a value is expected")


def _shown(raw: Any) -> str:
    """A typed value quoted for a message (numbers, dates and booleans as Excel would show them)."""
    if isinstance(raw, bool):
        raw = "TRUE" if raw else "FALSE"
    elif isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = " ".join(str(raw).split())
    return f'"{text if len(text) <= 40 else text[:37] + "..."}"'


# -- numbers --------------------------------------------------------------------------------
_CURRENCY = re.compile(r"(?i)(€|\$|£|¥|\beur\b|\busd\b|\bgbp\b|\bchf\b|\beuros?\b)")
_MULTIPLIERS = {"k": 10**3} | dict.fromkeys(("m", "mm", "mio", "mn"), 10**6)
_MULTIPLIERS |= dict.fromkeys(("md", "mds", "mrd", "bn", "b", "g"), 10**9)
_SUFFIX = re.compile(r"(?i)\s*(k|mm|mio|mn|mds|mrd|md|m|bn|b|g)\.?$")
_DIGITS = re.compile(r"^\d[\d.,]*$|^[.,]\d+$")
_SPACED = re.compile(r"^\d{1,3}(?:[ '_]\d{3})+(?:[.,]\d*)?$")  # 1 200 000,50  1'200.5


class _Num(NamedTuple):
    value: Decimal
    percent: bool


def _strip_number_text(text: str) -> tuple[str, bool, bool, int] | None:
    """Sign, percent sign and multiplier taken off a typed number; None if it has none of its shape."""
    s = _SPACES.sub(" ", text.translate(_APOSTROPHES)).strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    percent = s.endswith("%") or s.startswith("%")
    s = s.strip("%").strip()
    s = _CURRENCY.sub(" ", s).strip()
    if s.startswith(("-", "+")):
        negative, s = negative or s[0] == "-", s[1:].strip()
    s = _CURRENCY.sub(" ", s).strip()
    multiplier = 1
    if (m := _SUFFIX.search(s)) and m.start() > 0:
        multiplier, s = _MULTIPLIERS[m.group(1).lower()], s[: m.start()].strip()
    if re.search(r"[ '_]", s) and not _SPACED.match(s):
        return None
    s = s.replace(" ", "").replace("'", "").replace("_", "")
    if not s or not _DIGITS.match(s):
        return None
    return s, negative, percent, multiplier


def _groups_ok(int_part: str, sep: str) -> bool:
    groups = int_part.split(sep)
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _digits_to_decimal(s: str, lang: str) -> Decimal | None:
    """Digits with separators: the last of ``.``/``,`` when both appear is the decimal mark."""
    if "," in s and "." in s:
        dec = "," if s.rfind(",") > s.rfind(".") else "."
        thou = "." if dec == "," else ","
        int_part, frac = s.rsplit(dec, 1)
        if dec in int_part or not _groups_ok(int_part, thou):
            return None
        return Decimal(int_part.replace(thou, "") + "." + frac)
    for sep in (",", "."):
        if sep not in s:
            continue
        parts = s.split(sep)
        if len(parts) > 2:
            return Decimal("".join(parts)) if _groups_ok(s, sep) else None
        english_thousands = sep == "," and lang != "fr" and parts[0] not in ("", "0") and _groups_ok(s, sep)
        return Decimal("".join(parts)) if english_thousands else Decimal(parts[0] + "." + parts[1])
    return Decimal(s)


def _parse_number_text(text: str, lang: str) -> _Num | None:
    stripped = _strip_number_text(text)
    if stripped is None:
        return None
    s, negative, percent, multiplier = stripped
    try:
        value = _digits_to_decimal(s, lang)
    except InvalidOperation:
        return None
    if value is None or abs(value * multiplier) > MAX_NUMBER:
        return None
    value *= multiplier
    if percent:
        value /= 100
    return _Num(-value if negative else value, percent)


def _as_number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)


def parse_number(raw: Any, *, lang: str = "en") -> Coerced:
    """A number from a cell: numbers pass, text like ``1 200 000 €`` or ``(45k)`` is parsed."""
    if is_blank(raw):
        return ok(None)
    if isinstance(raw, bool):
        return fail(f"{_shown(raw)} is not a number")
    if isinstance(raw, (int, float)):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return fail(f"{_shown(raw)} is not a number")
        return ok(raw)
    if isinstance(raw, (dt.date, dt.time, dt.timedelta)):
        return fail(f"a date or time ({_shown(raw)}) where a number is expected")
    if not isinstance(raw, str):
        return fail(f"{_shown(raw)} is not a number")
    parsed = _parse_number_text(raw, lang)
    if parsed is None:
        return fail(f"{_shown(raw)} is not a number")
    return ok(_as_number(parsed.value))


def parse_percent(raw: Any, *, low: float = -1.0, high: float = 1.0, lang: str = "en") -> Coerced:
    """A fraction (0.35 for 35%). A bare number outside ``low..high`` whose hundredth fits is
    taken as percentage points (``35`` -> 0.35) with a warning: the workbook's formulas see 35."""
    value, problem = parse_number(raw, lang=lang)
    if problem or value is None:
        return Coerced(value, problem)
    explicit = isinstance(raw, str) and "%" in raw
    if explicit or low <= value <= high:
        return ok(value)
    scaled = float(Decimal(str(value)) / 100)
    if low <= scaled <= high:
        pct = _fmt_pct(scaled)
        note = f"{_shown(raw)} read as {pct}; type it as {pct} so the workbook's formulas use the same value"
        return fail(note, "warning", _as_number(Decimal(str(scaled))))
    return ok(value)


def _fmt_pct(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def parse_int(raw: Any, *, lang: str = "en") -> Coerced:
    value, problem = parse_number(raw, lang=lang)
    if problem or value is None:
        return Coerced(value, problem)
    return ok(int(value) if float(value).is_integer() else value)


_RATING = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:/\s*5)?\s*$")


def parse_rating(raw: Any, *, lang: str = "en") -> Coerced:
    """A 1-5 rating; ``4/5`` is accepted. Anything outside 1-5 is dropped."""
    typed = raw
    if isinstance(raw, str) and (m := _RATING.match(raw)):
        typed = m.group(1).replace(",", ".")
    value, problem = parse_number(typed, lang=lang)
    if problem or value is None:
        return Coerced(value, problem)
    if not 1 <= value <= 5:
        return fail(f"{_shown(raw)} is not a rating from 1 to 5")
    return ok(int(value) if float(value).is_integer() else value)


# -- dates ----------------------------------------------------------------------------------
_MONTH_NAMES = (
    "january february march april may june july august september october november december",
    "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
    "jan feb mar apr may jun jul aug sep oct nov dec",
)
_MONTHS = {name: i for line in _MONTH_NAMES[:3] for i, name in enumerate(line.split(), start=1)}
_MONTHS |= {"janv": 1, "fev": 2, "fevr": 2, "avr": 4, "juil": 7, "sept": 9}
_SKIP = (
    "monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri sat sun "
    "lundi mardi mercredi jeudi vendredi samedi dimanche le the of er st nd rd th"
)
_SKIP_WORDS = set(_SKIP.split())
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME + "$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_BASIC = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def from_serial(serial: float) -> dt.date | None:
    """Excel 1900-system serial to a date (its fictitious 1900-02-29, serial 60, has none)."""
    if not 1 <= serial < MAX_SERIAL + 1 or 60 <= serial < 61:
        return None
    whole = int(serial)
    return EXCEL_EPOCH + dt.timedelta(days=whole if whole > 60 else whole + 1)


def to_serial(day: dt.date) -> int:
    return (day - EXCEL_EPOCH).days


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _make_date(year: int, month: int, day: int, raw: Any) -> Coerced:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return fail(f"{_shown(raw)} is not a valid date")
    if date < FIRST_DATE:
        return fail(f"{_shown(raw)} is before 1900: not a date Excel can hold")
    return ok(date)


def _numeric_date(text: str, raw: Any) -> Coerced | None:
    if m := _ISO.match(text) or _BASIC.match(text):
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), raw)
    if m := _DMY.match(text):
        day, month, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        if month > 12 and day <= 12:
            value, problem = _make_date(year, day, month, raw)
            if problem:
                return Coerced(value, problem)
            return fail(f"{_shown(raw)} read as {value.isoformat()} (month/day/year)", "info", value)
        return _make_date(year, month, day, raw)
    return None


def _worded_date(text: str, raw: Any) -> Coerced | None:
    """``15 mars 2026``, ``March 15, 2026``, ``15-Mar-26``, ``1er avril 2026``."""
    tokens = [t for t in re.split(r"[\s,./\-]+|(?<=\d)(?=[a-z])", fold(text)) if t]
    month = None
    numbers: list[str] = []
    for token in tokens:
        if token.isdigit():
            numbers.append(token)
        elif token in _MONTHS and month is None:
            month = _MONTHS[token]
        elif token not in _SKIP_WORDS:
            return None
    if month is None or len(numbers) != 2:
        return None
    first, second = numbers
    if len(first) == 4:
        first, second = second, first
    if len(first) > 2 or len(second) not in (2, 4):
        return None
    return _make_date(_year(second), month, int(first), raw)


def parse_date(raw: Any) -> Coerced:
    """A date from a real date, an Excel serial, or text (day first: ``15/03/2026``)."""
    if is_blank(raw):
        return ok(None)
    if isinstance(raw, dt.datetime):
        return ok(raw.date())
    if isinstance(raw, dt.date):
        return ok(raw)
    if isinstance(raw, (bool, dt.time, dt.timedelta)):
        return fail(f"{_shown(raw)} is not a date")
    if isinstance(raw, (int, float)):
        return _serial_date(raw)
    if not isinstance(raw, str):
        return fail(f"{_shown(raw)} is not a date")
    text = raw.strip()
    found = _numeric_date(text, raw) or _worded_date(text, raw)
    if found is None:
        return fail(f"{_shown(raw)} is not a date (type it as 2026-03-15)")
    return found


def _serial_date(raw: float) -> Coerced:
    if float(raw).is_integer() and 1900 <= raw <= 2100:
        return fail(f"{raw:g} looks like a year, not a date")
    day = from_serial(raw)
    if day is None:
        return fail(f"{_shown(raw)} is not a date")
    return ok(day)


# -- choices --------------------------------------------------------------------------------
class ChoiceIndex:
    """Lookup of one choice list by code or label in any language, workbook language first."""

    def __init__(
        self, items: dict[str, Labels], lang: str = "en", former: dict[str, list[str]] | None = None
    ) -> None:
        self.items, self.lang = items, lang
        self._exact: dict[str, str] = {}
        self._loose: dict[str, str] = {}
        langs = [lang] + [other for other in ("en", "fr") if other != lang]
        for source in [*(("label", lg) for lg in langs), ("code", "")]:
            for code, labels in items.items():
                text = code if source[0] == "code" else labels.get(source[1], "")
                self._exact.setdefault(fold(text), code)
                self._loose.setdefault(loose(text), code)
        for code, texts in (former or {}).items():  # labels of earlier template versions
            for text in texts:
                self._exact.setdefault(fold(text), code)
                self._loose.setdefault(loose(text), code)

    def match(self, text: str) -> str | None:
        return self._exact.get(fold(text)) or self._loose.get(loose(text))

    def labels(self) -> list[str]:
        return [labels.get(self.lang, code) for code, labels in self.items.items()]

    def label(self, code: str) -> str:
        return self.items[code].get(self.lang, code)

    def as_listed(self, text: str, code: str) -> bool:
        """Whether Excel itself would match the typed text to the label (it ignores case only)."""
        return text.casefold() == self.label(code).casefold()


def parse_choice(raw: Any, index: ChoiceIndex, *, strict: bool = True) -> Coerced:
    """The choice code for a label or code typed in either language; free text only when not strict."""
    if is_blank(raw):
        return ok(None)
    text = parse_text(raw).value
    code = index.match(text)
    if code is not None and not index.as_listed(text, code):
        label = _shown(index.label(code))
        note = f"{_shown(raw)} read as {label}; pick it from the list so the workbook's formulas count it"
        return fail(note, "warning", code)
    if code is not None:
        return ok(code)
    if not strict:
        return ok(text.strip())
    allowed = ", ".join(index.labels())
    return fail(f"{_shown(raw)} is not in the list ({allowed})")


# -- text -----------------------------------------------------------------------------------
def _number_text(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


def parse_text(raw: Any) -> Coerced:
    """Text as typed; numbers and dates Excel recognised become their usual text."""
    if is_blank(raw):
        return ok(None)
    if isinstance(raw, bool):
        return ok("TRUE" if raw else "FALSE")
    if isinstance(raw, (int, float)):
        return ok(_number_text(raw))
    if isinstance(raw, dt.datetime):
        return ok(raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat(sep=" "))
    if isinstance(raw, (dt.date, dt.time)):
        return ok(raw.isoformat())
    return ok(str(raw))


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_email(raw: Any) -> Coerced:
    value, problem = parse_text(raw)
    if value is not None and not _EMAIL.match(value.strip()):
        return fail(f"{_shown(raw)} does not look like an e-mail address", "warning", value)
    return Coerced(value, problem)


# -- by column ------------------------------------------------------------------------------
def coerce(raw: Any, column: Column, *, choices: ChoiceIndex | None = None, lang: str = "en") -> Coerced:
    """The plan value of one input cell, by the column's type in the template."""
    kind = column.type
    # the common case, kept cheap (a plan has a thousand cells); raw - raw is 0 for finite numbers only
    simple = kind in ("number", "currency") and column.min is None and column.max is None
    if type(raw) is float and simple and raw - raw == 0:
        return Coerced(raw, None)
    if kind in TEXT_TYPES:
        if type(raw) is str and kind != "email":
            return Coerced(raw if raw.strip() else None, None)
        return parse_email(raw) if kind == "email" else parse_text(raw)
    if (code := error_value(raw)) is not None:
        return error_cell(code)
    if looks_like_formula(raw) and not (kind == "choice" and not column.strict):
        return formula_cell(raw)  # a column that takes free text takes "=..." typed as text too
    result = _typed(raw, column, choices, lang)
    problem = result.problem
    if isinstance(raw, str) and kind != "choice" and result.value is not None:
        retype = (
            f"retype it as a {'date' if kind == 'date' else 'number'} so the workbook's formulas count it"
        )
        if problem is None:
            note = f"{_shown(raw)} is text, read as {_display(result.value, kind)}; {retype}"
            return fail(note, "warning", result.value)
        if problem.severity == "info":
            return fail(f"{problem.message}, but it is text: {retype}", "warning", result.value)
    return result


def _display(value: Any, kind: str) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if kind == "percent":
        return _fmt_pct(value)
    return f"{value:,}".replace(",", " ") if isinstance(value, int) else f"{value:.12g}"


def _typed(raw: Any, column: Column, choices: ChoiceIndex | None, lang: str) -> Coerced:
    kind = column.type
    if kind == "choice":
        if choices is None:
            raise ValueError(f"column {column.key} needs its choice list")
        return parse_choice(raw, choices, strict=column.strict)
    if kind == "date":
        return parse_date(raw)
    if kind == "percent":
        low = column.min if column.min is not None else -1.0
        high = column.max if column.max is not None else 1.0
        return _bounded(parse_percent(raw, low=low, high=high, lang=lang), raw, column, percent=True)
    if kind == "rating":
        return parse_rating(raw, lang=lang)
    if kind == "int":
        return _bounded(parse_int(raw, lang=lang), raw, column)
    if kind in ("number", "currency"):
        return _bounded(parse_number(raw, lang=lang), raw, column)
    return parse_text(raw)


def _bounded(result: Coerced, raw: Any, column: Column, percent: bool = False) -> Coerced:
    """Keep a number outside the column's range, but say so: it is probably a typo."""
    value = result.value
    if (result.problem and result.problem.severity == "error") or not isinstance(value, (int, float)):
        return result
    low, high = column.min, column.max
    if (low is not None and value < low) or (high is not None and value > high):
        show = _fmt_pct if percent else (lambda v: f"{v:g}")
        span = f"{show(low) if low is not None else '…'} to {show(high) if high is not None else '…'}"
        return fail(f"{_shown(raw)} is outside the expected range ({span})", "warning", value)
    return result
