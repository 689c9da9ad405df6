"""Python values of the table columns' row formulas, as Excel shows them.

XlsxWriter cannot calculate, so every formula cell is saved with a cached result; a viewer that
does not recalculate (file previews, Protected View, pandas, Power Query) shows that result. The
writer saves the value computed here, evaluating the very formula text written in the cell, so
the cache is what Excel and LibreOffice display after a recalculation.

Only what the template's row formulas use is understood: this-row references, text and number
literals, ``= <> < <= > >= + - * / &``, and ``IF AND OR NOT ISNUMBER ISTEXT N MAX MIN TODAY``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache

Value = float | str | bool | None  # None is a blank cell

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ref>[A-Za-z_][\w.]*\[\[\#This\ Row\],\[(?P<label>(?:[^\]']|'.)*)\]\])
    | (?P<str>"(?:[^"]|"")*")
    | (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
    | (?P<func>[A-Z][A-Z0-9.]*)\(
    | (?P<bool>TRUE|FALSE)\b
    | (?P<op><>|<=|>=|[=<>+\-*/&(),])
    )""",
    re.VERBOSE,
)


class FormulaError(ValueError):
    """A formula outside the subset this module evaluates."""


class ExcelError(Exception):
    """An Excel error value (#VALUE!, #DIV/0!) raised while evaluating."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _tokens(formula: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, formula.lstrip("=")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FormulaError(f"cannot read formula {formula!r} at {text[pos:]!r}")
        kind = m.lastgroup if m.lastgroup != "label" else "ref"
        if m.group("ref"):
            out.append(("ref", re.sub(r"'(.)", r"\1", m.group("label"))))
        else:
            assert kind is not None
            out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _number(v: Value) -> float:
    """A value used in arithmetic: blank is 0, TRUE is 1, text is #VALUE!."""
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    raise ExcelError("#VALUE!")


def _text(v: Value) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _compare(a: Value, b: Value) -> int:
    """Excel's ordering: numbers < text < booleans; blank is 0 or "" as the other side needs."""
    if a is None:
        a = "" if isinstance(b, str) else False if isinstance(b, bool) else 0.0
    if b is None:
        b = "" if isinstance(a, str) else False if isinstance(a, bool) else 0.0

    def rank(v: Value) -> int:
        return 2 if isinstance(v, bool) else 1 if isinstance(v, str) else 0

    ra, rb = rank(a), rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if isinstance(a, str):
        x, y = a.casefold(), str(b).casefold()
    else:
        x, y = float(a), float(b)  # type: ignore[arg-type]
    return (x > y) - (x < y)


def _truth(v: Value) -> bool:
    if isinstance(v, str):
        if v.upper() in ("TRUE", "FALSE"):
            return v.upper() == "TRUE"
        raise ExcelError("#VALUE!")
    return bool(_number(v))


class _Parser:
    def __init__(self, formula: str, cell: Callable[[str], Value], today: dt.date) -> None:
        self.toks, self.i, self.cell, self.today = _tokens(formula), 0, cell, today
        self.formula = formula

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, op: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (op is not None and tok != ("op", op)):
            raise FormulaError(f"unexpected end or token in {self.formula!r}")
        self.i += 1
        return tok

    # Each level returns a thunk so IF and the logical functions evaluate lazily, as Excel does.
    def comparison(self) -> Callable[[], Value]:
        left = self.concat()
        ops = {"=", "<>", "<", "<=", ">", ">="}
        while (tok := self.peek()) and tok[0] == "op" and tok[1] in ops:
            self.take()
            op, right, prev = tok[1], self.concat(), left

            def cmp(op: str = op, a: Callable = prev, b: Callable = right) -> Value:
                c = _compare(a(), b())
                return {"=": c == 0, "<>": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]

            left = cmp
        return left

    def concat(self) -> Callable[[], Value]:
        left = self.additive()
        while self.peek() == ("op", "&"):
            self.take()
            right, prev = self.additive(), left
            left = lambda a=prev, b=right: _text(a()) + _text(b())  # noqa: E731
        return left

    def additive(self) -> Callable[[], Value]:
        left = self.multiplicative()
        while (tok := self.peek()) and tok in (("op", "+"), ("op", "-")):
            self.take()
            right, prev, sign = self.multiplicative(), left, 1 if tok[1] == "+" else -1
            left = lambda a=prev, b=right, s=sign: _number(a()) + s * _number(b())  # noqa: E731
        return left

    def multiplicative(self) -> Callable[[], Value]:
        left = self.unary()
        while (tok := self.peek()) and tok in (("op", "*"), ("op", "/")):
            self.take()
            right, prev = self.unary(), left
            if tok[1] == "*":
                left = lambda a=prev, b=right: _number(a()) * _number(b())  # noqa: E731
            else:
                left = lambda a=prev, b=right: _divide(_number(a()), _number(b()))  # noqa: E731
        return left

    def unary(self) -> Callable[[], Value]:
        if self.peek() == ("op", "-"):
            self.take()
            inner = self.unary()
            return lambda: -_number(inner())
        return self.primary()

    def primary(self) -> Callable[[], Value]:
        kind, text = self.take()
        if kind == "num":
            return lambda v=float(text): v
        if kind == "str":
            literal = text[1:-1].replace('""', '"')
            return lambda: literal
        if kind == "bool":
            return lambda v=text == "TRUE": v
        if kind == "ref":
            return lambda label=text: self.cell(label)
        if kind == "op" and text == "(":
            inner = self.comparison()
            self.take(")")
            return inner
        if kind == "func":
            args: list[Callable[[], Value]] = []
            if self.peek() != ("op", ")"):
                args.append(self.comparison())
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.comparison())
            self.take(")")
            return self.function(text, args)
        raise FormulaError(f"unexpected {text!r} in {self.formula!r}")

    def function(self, name: str, args: list[Callable[[], Value]]) -> Callable[[], Value]:
        if name == "IF":
            then = args[1] if len(args) > 1 else (lambda: True)
            other = args[2] if len(args) > 2 else (lambda: False)
            return lambda: then() if _truth(args[0]()) else other()
        if name == "AND":
            return lambda: all(_truth(a()) for a in args)
        if name == "OR":
            return lambda: any(_truth(a()) for a in args)
        if name == "NOT":
            return lambda: not _truth(args[0]())
        if name == "ISNUMBER":
            return lambda: isinstance(v := args[0](), (int, float)) and not isinstance(v, bool)
        if name == "ISTEXT":
            return lambda: isinstance(args[0](), str)
        if name == "N":
            return lambda: (
                float(v) if isinstance(v := args[0](), (int, float)) and not isinstance(v, bool) else 0.0
            )
        if name in ("MAX", "MIN"):
            pick = max if name == "MAX" else min
            return lambda: pick(_number(a()) for a in args)
        if name == "TODAY":
            serial = float((self.today - dt.date(1899, 12, 30)).days)
            return lambda: serial
        raise FormulaError(f"function {name} is not evaluated by kamxl ({self.formula!r})")


def _divide(a: float, b: float) -> float:
    if b == 0:
        raise ExcelError("#DIV/0!")
    return a / b


def evaluate(formula: str, cell: Callable[[str], Value], today: dt.date | None = None) -> Value | ExcelError:
    """The result of a row formula; ``cell(label)`` gives this row's value of a column by its header.

    Dates are Excel serial numbers; a blank cell is ``None``. An Excel error comes back as an
    :class:`ExcelError` (not raised), as the cell would show it.
    """
    parser, thunk = _compiled(formula, today or dt.date.today())
    previous, parser.cell = parser.cell, cell  # the thunks read the row through parser.cell
    try:
        return thunk()
    except ExcelError as err:
        return err
    finally:
        parser.cell = previous


@lru_cache(maxsize=4096)
def _compiled(formula: str, today: dt.date) -> tuple[_Parser, Callable[[], Value]]:
    """A formula parsed once (a plan evaluates the same few formulas on every table row)."""
    parser = _Parser(formula, _no_row, today)
    thunk = parser.comparison()
    if parser.peek() is not None:
        raise FormulaError(f"unexpected {parser.peek()!r} in {formula!r}")
    return parser, thunk


def _no_row(label: str) -> Value:
    raise FormulaError(f"no row to read {label!r} from")
