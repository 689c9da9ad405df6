"""What the workbook buttons run, through xlwings' ``RunPython``.

* ``recompute()``: the **Recompute & check** button of an account workbook. Reads the open
  workbook through xlwings (it may hold unsaved edits), scores it and runs the health check
  with the same library code as ``kamxl check``, puts back any table formula a KAM typed over,
  and writes the Python scores beside the live ones, the findings and a time stamp in the
  Dashboard's Python block. Input cells are never written.
* ``rollup()``: the **Roll up** button of the portfolio summary. Rolls up the folder named by
  ``Source_Folder`` with the same code as ``kamxl rollup`` and writes the fresh tables and
  figures into the open summary.

Errors reach the user as one message box with a sentence, never a traceback. xlwings is
imported only when a button runs, and only its public API is used, so the same code runs in
desktop Excel (Windows, macOS) and in xlwings' remote engine, which the tests drive.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dashboard_layout import PYTHON_BLOCK, PYTHON_BLOCK_NAME, PYTHON_BLOCK_WIDTHS
from .dashboard_layout import TEXT as DASHBOARD_TEXT
from .fileio import lock_path, temp_prefix
from .findings import Finding, PlanReadError
from .layout import a1, col_letter
from .model import is_blank
from .reader import TableSpot
from .template import LANGS, Table, Template

if TYPE_CHECKING:
    from .alerts import Alert

Grid = list[list[Any]]
MAX_ROWS, MAX_COLS = 20000, 200  # a sheet formatted down to row 1,048,576 must not be read whole
ERRORS = (
    "#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!", "#GETTING_DATA",
)  # fmt: skip
# Error values that desktop Excel on Windows hands over as numbers (0x800A0000 + the xlErr code)
# and xlwings, which knows the seven older ones, leaves as they are.
COM_ERRORS = {-2146826245: "#GETTING_DATA", -2146826243: "#SPILL!", -2146826238: "#CALC!"}  # 2043, 2045, 2050
BLOCK_NAME = PYTHON_BLOCK_NAME  # defined name of the Python block's top-left cell (the writer sets it)
BLOCK_ANCHOR = (PYTHON_BLOCK[0] + 1, PYTHON_BLOCK[1] + 1)  # 1-based, for workbooks without the name
BLOCK_WIDTH = len(PYTHON_BLOCK_WIDTHS)
MAX_FINDINGS = 300
BLOCK_METRICS = (
    "overall", "potential", "relationship", "execution", "priority", "tier",
    "weighted_pipeline", "overdue_actions", "status",
)  # fmt: skip
TEXT = {
    "title": DASHBOARD_TEXT["python_title"],
    "stamp": ("Last recomputed", "Dernier recalcul"),
    "score": ("Score", "Score"),
    "live": ("Live (Excel)", "En direct (Excel)"),
    "python": ("Python", "Python"),
    "check": ("Check", "Contrôle"),
    "same": ("same", "identique"),
    "differs": ("differs", "différent"),
    "alerts": ("Alerts: {n} (status: {status})", "Alertes\u00a0: {n} (statut\u00a0: {status})"),
    "no_alerts": ("No alert: every rule is met.", "Aucune alerte\u00a0: toutes les règles sont respectées."),
    "colon": (": ", "\u00a0: "),
    "high": ("high", "haute"),
    "medium": ("medium", "moyenne"),
    "findings": ("Findings: {n}", "Constats : {n}"),
    "severity": ("Severity", "Gravité"),
    "sheet": ("Sheet", "Feuille"),
    "cell": ("Cell", "Cellule"),
    "message": ("Message", "Message"),
    "none": (
        "Nothing to fix: the plan passes every check.",
        "Rien à corriger : le plan passe tous les contrôles.",
    ),
    "more": ("… and {n} more (kamxl check lists them all)", "… et {n} autres (kamxl check les liste tous)"),
    "restored": (
        "{label}: {typed} had been typed over the formula; the formula is back",
        "{label} : {typed} avait été saisi à la place de la formule ; la formule est rétablie",
    ),
    "not_restored": (
        "{label}: a value is typed over the formula and could not be replaced ({reason})",
        "{label} : une valeur remplace la formule et n'a pas pu être corrigée ({reason})",
    ),
    "blank": ("a blank", "un blanc"),
    "error": ("error", "erreur"),
    "warning": ("warning", "avertissement"),
    "info": ("info", "info"),
}


class UserError(Exception):
    """Something the user can fix; the message is shown as is."""


# -- the entry points ----------------------------------------------------------------------------
def recompute(book: Any = None, *, as_of: dt.date | None = None, now: dt.datetime | None = None) -> None:
    """The Recompute & check button: see the module docstring."""
    book = book if book is not None else _caller()
    with reported(book, "recompute this workbook"):
        report = run_recompute(book, as_of=as_of, now=now)
        status(book, report.status_text())


def rollup(
    book: Any = None,
    *,
    as_of: dt.date | None = None,
    jobs: int | None = None,
    history: str | Path | bool | None = None,
) -> None:
    """The Roll up button: see the module docstring."""
    book = book if book is not None else _caller()
    with reported(book, "roll up the portfolio"):
        try:
            done = run_rollup(
                book, as_of=as_of, jobs=jobs, history=history, progress=lambda t: status(book, t)
            )
        except BaseException:
            status(book, None)
            raise
        status(book, done)


def qbr(book: Any = None, *, as_of: dt.date | None = None) -> Path | None:
    """The Quarterly review deck button: the QBR deck beside the workbook, from its values now."""
    book = book if book is not None else _caller()
    with reported(book, "write the quarterly review deck"):
        deck = run_qbr(book, as_of=as_of)
        status(book, str(deck))
        with suppress(Exception):
            book.app.alert(str(deck), title="kamxl", mode="info")
        return deck
    return None


def run_qbr(book: Any, *, as_of: dt.date | None = None, out_dir: Path | None = None) -> Path:
    """Read the open workbook (unsaved values included) and write its review deck."""
    from .reader import read_plan_from_source
    from .review.qbr import write_qbr
    from .review.since import changes_for

    path = Path(_book_path(book))
    result = read_plan_from_source(XlwingsSource(book), path)
    folder = out_dir or (path.parent if path.parent.is_dir() else Path.home())
    changes = changes_for(result.plan, result.template, path, as_of=as_of)
    deck, _ = write_qbr(result.plan, result.template, folder, changes=changes, as_of=as_of, source=path.name)
    return deck


def _caller() -> Any:
    import xlwings as xw

    try:
        return xw.Book.caller()
    except Exception as exc:  # not started from Excel: there is no workbook to talk to
        raise SystemExit(f"kamxl: run this from the workbook's button in Excel ({exc})") from None


# -- talking to the user ---------------------------------------------------------------------------
def alert(book: Any, message: str) -> None:
    """A message box; when even that fails, the message goes to stderr, which RunPython shows."""
    try:
        book.app.alert(message, title="kamxl", mode="critical")
    except Exception:  # the message must reach the user somehow
        raise SystemExit(f"kamxl: {message}") from None


def status(book: Any, text: str | None) -> None:
    """Excel's status bar where the engine has one (desktop Excel); silently nothing elsewhere."""
    with suppress(Exception):
        book.app.status_bar = text if text else False


def log_file() -> Path:
    return Path(tempfile.gettempdir()) / "kamxl-addin.log"


@contextmanager
def reported(book: Any, action: str) -> Iterator[None]:
    """Turns any failure into one clear message box; the traceback goes to a log file."""
    try:
        yield
    except UserError as exc:
        alert(book, str(exc))
    except PlanReadError as exc:
        alert(book, f"kamxl could not {action}: {exc.reason}.")
    except SystemExit:
        raise
    except Exception as exc:
        log = log_file()
        with suppress(OSError), open(log, "a", encoding="utf-8") as f:
            f.write(f"--- {dt.datetime.now().isoformat(timespec='seconds')} {action}\n")
            f.write(traceback.format_exc())
        alert(
            book,
            f"kamxl could not {action}: {type(exc).__name__}: {exc}. "
            f"Details are in {log}; kamxl doctor checks the set-up.",
        )


# -- reading the open workbook -------------------------------------------------------------------
_ADDRESS = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?")


def parse_address(address: str) -> tuple[int, int, int, int]:
    """``"$A$5:$N$20"`` -> (4, 0, 19, 13): 0-based first row, first column, last row, last column."""
    m = _ADDRESS.fullmatch(address.split("!")[-1].replace("'", ""))
    if not m:
        raise ValueError(f"not a cell address: {address!r}")

    def col(letters: str) -> int:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        return n - 1

    r1, c1 = int(m.group(2)) - 1, col(m.group(1))
    if m.group(3):
        return r1, c1, int(m.group(4)) - 1, col(m.group(3))
    return r1, c1, r1, c1


def is_formula(formula: Any, value: Any) -> bool:
    """A cell holds a formula (not text that starts with "=") when its result differs from its text."""
    return (
        isinstance(formula, str)
        and formula.startswith("=")
        and not (isinstance(value, str) and value == formula)
    )


def desktop_platform(book: Any, platform: str | None = None) -> str | None:
    """``sys.platform`` when the book is open in desktop Excel; None on xlwings' other engines."""
    engine = getattr(getattr(book.app, "engine", None), "name", "")
    return (platform or sys.platform) if engine == "excel" else None


def _rows(raw: Any) -> Grid:
    """A raw read as rows: desktop Excel gives a single cell as a scalar and, on macOS, a
    single row as a flat list."""
    if not isinstance(raw, (list, tuple)):
        return [[raw]]
    if raw and not isinstance(raw[0], (list, tuple)):
        return [list(raw)]
    return [list(row) for row in raw]


def _values(rng: Any, mac: bool = False) -> Grid:
    """A range's values as a 2-D list, error values as their text.

    xlwings' remote engine turns any text that looks like an ISO date into a datetime and
    fails on some (an offset such as ``+00:00``); then the raw values are taken as they are.
    On macOS xlwings' ``err_to_str`` fails on a range of several rows, so the error values
    are taken from the cells' shown text instead.
    """
    if mac:
        return _mac_values(rng)
    try:
        return rng.options(ndim=2, err_to_str=True).value or []
    except ValueError:
        raw = rng.raw_value
    return [[None if v == "" else v for v in row] for row in _rows(raw)]


def _mac_values(rng: Any) -> Grid:
    grid = rng.options(ndim=2).value or []
    with suppress(Exception):  # without the shown text, error values read as blanks
        for r, row in enumerate(_rows(rng.api.string_value.get())):
            for c, shown in enumerate(row):
                if shown in ERRORS and r < len(grid) and c < len(grid[r]):
                    grid[r][c] = shown
    return grid


class XlwingsSource:
    """The open workbook as the reader needs it: sheet names, value grids, tables, and the
    cells holding formulas or error values. Each sheet is read in two calls (values and
    formulas); engines that cannot read formulas synchronously (the remote one) give none."""

    def __init__(self, book: Any, platform: str | None = None) -> None:
        self.book = book
        self.mac = desktop_platform(book, platform) == "darwin"
        self._sheets = {s.name: s for s in book.sheets}
        self.sheet_names: list[str] = list(self._sheets)
        self._grids: dict[str, Grid] = {}
        self._formulas: dict[str, Grid | None] = {}
        self._errors: dict[str, dict[tuple[int, int], str]] = {}
        self._flags: dict[str, dict[tuple[int, int], tuple[str, str]]] = {}
        self._tables: dict[str, TableSpot] | None = None

    def sheet(self, name: str) -> Any:
        return self._sheets[name]

    def _extent(self, name: str) -> tuple[int, int]:
        last = self.sheet(name).used_range.last_cell
        return min(last.row, MAX_ROWS), min(last.column, MAX_COLS)

    def grid(self, name: str) -> Grid:
        """Values from A1 to the last used cell; error values become blanks (see ``flags``)."""
        if name not in self._grids:
            rows, cols = self._extent(name)
            raw = _values(self.sheet(name).range((1, 1), (rows, cols)), mac=self.mac)
            errors: dict[tuple[int, int], str] = {}
            grid: Grid = []
            for r, row in enumerate(raw):
                out = []
                for c, v in enumerate(row):
                    if isinstance(v, int) and not isinstance(v, bool):
                        v = COM_ERRORS.get(v, v)
                    if isinstance(v, str) and v in ERRORS:
                        errors[(r, c)] = v
                        v = None
                    out.append(v)
                grid.append(out)
            self._grids[name], self._errors[name] = grid, errors
        return self._grids[name]

    def formulas(self, name: str) -> Grid | None:
        """Formula text of every cell (constants as their text), or None where unavailable."""
        if name not in self._formulas:
            grid = self.grid(name)
            result: Grid | None
            try:
                rows, cols = len(grid), max((len(r) for r in grid), default=0)
                raw = self.sheet(name).range((1, 1), (max(rows, 1), max(cols, 1))).formula
            except NotImplementedError:
                result = None
            else:
                result = _rows(raw)
            self._formulas[name] = result
        return self._formulas[name]

    def flags(self, name: str) -> dict[tuple[int, int], tuple[str, str]]:
        """Cells holding an error value or a formula, as the file reader reports them."""
        if name not in self._flags:
            grid = self.grid(name)
            found = {k: ("error", v) for k, v in self._errors[name].items()}
            for r, row in enumerate(self.formulas(name) or []):
                for c, f in enumerate(row):
                    if (r, c) not in found and is_formula(f, _at(grid, r, c)):
                        found[(r, c)] = ("formula", f)
            self._flags[name] = found
        return self._flags[name]

    def _load_tables(self) -> dict[str, TableSpot]:
        spots: dict[str, TableSpot] = {}
        for name, sheet in self._sheets.items():
            for table in sheet.tables:
                spots[table.name] = self._spot(name, table)
        return spots

    def _spot(self, sheet: str, table: Any) -> TableSpot:
        r1, c1, _, c2 = parse_address(table.range.address)
        header = table.header_row_range
        body = table.data_body_range
        header_row = parse_address(header.address)[0] if header is not None else r1 - 1
        last = parse_address(body.address)[2] if body is not None else None
        grid = self.grid(sheet)
        row = grid[header_row] if 0 <= header_row < len(grid) else []
        headers = ["" if v is None else str(v) for v in row[c1 : c2 + 1]]
        totals = 1 if last is not None and table.show_totals else 0
        return TableSpot(table.name, sheet, header_row, c1, last, headers, totals)

    def table(self, name: str) -> TableSpot | None:
        if self._tables is None:
            self._tables = self._load_tables()
        return self._tables.get(name)


# -- sheet protection ------------------------------------------------------------------------------
_ALLOW = (
    "AllowFormattingCells", "AllowFormattingColumns", "AllowFormattingRows", "AllowInsertingColumns",
    "AllowInsertingRows", "AllowInsertingHyperlinks", "AllowDeletingColumns", "AllowDeletingRows",
    "AllowSorting", "AllowFiltering", "AllowUsingPivotTables",
)  # fmt: skip


def _mac_term(name: str) -> str:
    """The Excel AppleScript name of a Protection property: ``AllowSorting`` -> ``allow_sorting``."""
    if name == "AllowUsingPivotTables":
        return "allow_using_pivot_table"  # singular in Excel's AppleScript dictionary
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@contextmanager
def unprotected(sheet: Any, platform: str | None = None) -> Iterator[None]:
    """Lift a sheet's password-less protection for a write, then protect it again as it was.

    Desktop Excel refuses writes to locked cells of a protected sheet. The remote engine has
    no protection API (its client applies the actions), so there it does nothing.
    """
    platform = desktop_platform(sheet.book, platform)
    if platform is None:
        yield
        return
    if platform == "win32":
        with _unprotected_windows(sheet.api):
            yield
    else:
        with _unprotected_mac(sheet.api):
            yield


@contextmanager
def _unprotected_windows(api: Any) -> Iterator[None]:
    if not api.ProtectContents:
        yield
        return
    p = api.Protection
    allow = [bool(getattr(p, name)) for name in _ALLOW]
    drawing, scenarios = bool(api.ProtectDrawingObjects), bool(api.ProtectScenarios)
    try:
        api.Unprotect("")
    except Exception:
        raise UserError(
            f"The sheet {api.Name!r} is protected with a password: unprotect it and try again."
        ) from None
    try:
        yield
    finally:
        api.Protect("", drawing, True, scenarios, False, *allow)


@contextmanager
def _unprotected_mac(api: Any) -> Iterator[None]:
    if not api.protect_contents.get():
        yield
        return
    p = api.protection_object
    allow = {_mac_term(name): bool(getattr(p, _mac_term(name)).get()) for name in _ALLOW}
    drawing, scenarios = bool(api.protect_drawing_objects.get()), bool(api.protect_scenarios.get())
    try:
        api.unprotect(password="")
    except Exception:
        raise UserError("A sheet is protected with a password: unprotect it and try again.") from None
    try:
        yield
    finally:
        api.protect_worksheet(
            password="", drawing_objects=drawing, worksheet_contents=True, scenarios=scenarios, **allow
        )


# -- formulas a KAM typed over ----------------------------------------------------------------------
_STRING = re.compile(r'"(?:[^"]|"")*"')
_THIS_ROW = re.compile(
    r"\[\s*\[#THIS\s*ROW\]\s*,\s*\[([^\]]*)\]\s*\]|\[#THIS\s*ROW\]\s*,\s*\[([^\]]*)\]", re.IGNORECASE
)
_AT_BRACKET = re.compile(r"\[@\[([^\]]*)\]\]")
_NUMBER = re.compile(r"(?<![\w.\]])(\d*\.\d+|\d+\.?)(?![\w\[])")


def canonical_formula(formula: str, table: str) -> str:
    """A table formula in one spelling, so that Excel's ``[@Col]`` and the file's
    ``Table[[#This Row],[Col]]`` compare equal (as do ``1.0`` and ``1``, case and spaces)."""
    text = formula.strip().removeprefix("=")
    parts, last = [], 0
    for m in _STRING.finditer(text):
        parts.append(_canonical_code(text[last : m.start()], table))
        parts.append(m.group(0))
        last = m.end()
    parts.append(_canonical_code(text[last:], table))
    return "".join(parts)


def _canonical_code(code: str, table: str) -> str:
    code = _THIS_ROW.sub(lambda m: f"[@{m.group(1) or m.group(2)}]", code)
    code = _AT_BRACKET.sub(lambda m: f"[@{m.group(1)}]", code)
    code = re.sub(r"\s+", "", code)
    code = re.sub(re.escape(table) + r"(?=\[@)", "", code, flags=re.IGNORECASE)
    code = _NUMBER.sub(lambda m: repr(float(m.group(1))).removesuffix(".0"), code)
    return code.upper()


@dataclass
class FormulaCell:
    sheet: str
    row: int  # 0-based
    col: int
    expected: str
    typed: Any
    label: str


def overwritten_formulas(
    source: XlwingsSource, template: Template, lang: str, *, same_template: bool = True
) -> list[FormulaCell] | None:
    """Formula-column cells of the tables where a value was typed over (or the formula
    changed); None when the engine cannot read formulas.

    Only tables whose headers are still the template's are checked: the formula names its
    columns by header, and Excel renames references when a header is edited. A workbook made
    from another template version may hold other formulas: there only typed values count.
    """
    from .writer import table_formula

    found: list[FormulaCell] = []
    for table in template.tables.values():
        columns = [c for c in table.columns if c.formula]
        spot = source.table(table.name) if columns else None
        if spot is None or spot.last_row is None or not _headers_intact(spot, table, lang):
            continue
        formulas = source.formulas(spot.sheet)
        if formulas is None:
            return None
        grid = source.grid(spot.sheet)
        for col in columns:
            c = spot.first_col + table.columns.index(col)
            expected = table_formula(template, table, col.formula or "", lang)
            want = canonical_formula(expected, table.name)
            for r in range(spot.header_row + 1, spot.last_row + 1):
                f, value = _at(formulas, r, c), _at(grid, r, c)
                if is_formula(f, value) and (not same_template or canonical_formula(f, table.name) == want):
                    continue
                typed = f if is_formula(f, value) else value
                found.append(FormulaCell(spot.sheet, r, c, expected, typed, col.label[lang]))
    return found


def overwritten_metrics(source: XlwingsSource, template: Template, lang: str) -> list[FormulaCell] | None:
    """Dashboard score and figure cells where a value was typed over the formula (the sheet is
    protected, but protection can be lifted); None when the engine cannot read formulas.

    Any formula counts as intact: Excel rewrites references when sheets are renamed.
    """
    from .dashboard import Formulas
    from .layout import field_ref

    found: list[FormulaCell] = []
    for metric in Formulas(template, lang, lambda key: field_ref(template, key, lang)).metrics():
        try:
            rng = source.book.names[metric.name].refers_to_range
            sheet, r, c = rng.sheet.name, rng.row - 1, rng.column - 1
        except Exception:  # the name was deleted or points nowhere: nothing to restore to
            continue
        if sheet not in source.sheet_names:
            continue
        formulas = source.formulas(sheet)
        if formulas is None:
            return None
        f, value = _at(formulas, r, c), _at(source.grid(sheet), r, c)
        if not is_formula(f, value):
            found.append(FormulaCell(sheet, r, c, "=" + metric.formula, value, metric.label[lang]))
    return found


def _headers_intact(spot: TableSpot, table: Table, lang: str) -> bool:
    return [h.strip() for h in spot.headers] == [c.label[lang] for c in table.columns]


def _at(grid: Grid, r: int, c: int) -> Any:
    return grid[r][c] if 0 <= r < len(grid) and 0 <= c < len(grid[r]) else None


def restore_formulas(source: XlwingsSource, cells: list[FormulaCell], lang: str) -> list[Finding]:
    """Write the expected formulas back, sheet by sheet; one finding per cell."""
    findings: list[Finding] = []
    by_sheet: dict[str, list[FormulaCell]] = {}
    for cell in cells:
        by_sheet.setdefault(cell.sheet, []).append(cell)
    for name, group in by_sheet.items():
        sheet = source.sheet(name)
        try:
            with unprotected(sheet):
                for cell in group:
                    sheet.range((cell.row + 1, cell.col + 1)).formula = cell.expected
        except UserError as exc:
            findings += [_restore_finding(c, lang, reason=str(exc)) for c in group]
            continue
        findings += [_restore_finding(c, lang) for c in group]
    return findings


def _restore_finding(cell: FormulaCell, lang: str, reason: str | None = None) -> Finding:
    typed = text("blank", lang) if is_blank(cell.typed) else _typed(cell.typed)
    if reason is None:
        message = text("restored", lang, label=cell.label, typed=typed)
    else:
        message = text("not_restored", lang, label=cell.label, reason=reason)
    return Finding("warning", cell.sheet, a1(cell.row + 1, cell.col), message)


def _typed(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return f'"{value}"'


# -- recompute -----------------------------------------------------------------------------------
@dataclass
class RecomputeReport:
    findings: list[Finding]
    restored: int
    stamp: dt.datetime
    formulas_checked: bool

    def status_text(self) -> str:
        return f"kamxl: recomputed at {self.stamp:%H:%M}: {len(self.findings)} findings" + (
            f", {self.restored} formulas restored" if self.restored else ""
        )


def run_recompute(
    book: Any, *, as_of: dt.date | None = None, now: dt.datetime | None = None
) -> RecomputeReport:
    """Read, restore formulas, score, check and write the Dashboard block; returns what was done."""
    from .alerts import plan_alerts
    from .health import check_plan
    from .reader import read_plan_from_source
    from .report import sorted_findings
    from .scoring import score_plan

    source = XlwingsSource(book)
    result = read_plan_from_source(source, Path(_book_path(book)))
    template, plan = result.template, result.plan
    lang = plan.lang if plan.lang in LANGS else "en"
    same = (plan.template_id, plan.template_version) == (template.id, template.version)
    cells = overwritten_formulas(source, template, lang, same_template=same)
    if cells is not None and same:  # another template version has other dashboard formulas
        cells += overwritten_metrics(source, template, lang) or []
    restored = restore_formulas(source, cells, lang) if cells else []
    scores = score_plan(plan, template, as_of)
    health = check_plan(plan, template, scores, as_of, locations=result.locations)
    findings = sorted_findings([*restored, *result.findings, *health])
    stamp = now or dt.datetime.now()
    dashboard = result.locations.sheets.get("dashboard") or template.sheet("dashboard").title[lang]
    if dashboard not in source.sheet_names:
        raise UserError(f"This workbook has no {dashboard!r} sheet: kamxl cannot write its results there.")
    alerts = plan_alerts(plan, template, scores, as_of, locations=result.locations)
    block = PythonBlock(template, lang, scores, findings, stamp, alerts)
    write_block(source, dashboard, block)
    redraw_orgchart(source, template, plan.tables.get("stakeholders", []), lang)
    return RecomputeReport(findings, len(restored), stamp, cells is not None)


def redraw_orgchart(source: XlwingsSource, template: Template, rows: list[Any], lang: str) -> bool:
    """Repaint the Org chart sheet from the stakeholders just read (the layout ``write_plan`` uses)."""
    from .orgchart import layout_orgchart
    from .orgchart_paint import paint_excel

    sheet_def = next((s for s in template.sheets if s.drawing == "orgchart"), None)
    if sheet_def is None or sheet_def.title[lang] not in source.sheet_names:
        return False  # a workbook of an earlier template version: `kamxl upgrade` adds the sheet
    sheet = source.sheet(sheet_def.title[lang])
    with unprotected(sheet):
        paint_excel(sheet, layout_orgchart(rows, template, lang), mac=source.mac)
    return True


def _book_path(book: Any) -> str:
    with suppress(Exception):
        return str(book.fullname)
    return str(book.name)


def text(key: str, lang: str, **values: Any) -> str:
    return TEXT[key][0 if lang != "fr" else 1].format(**values)


class PythonBlock:
    """The Dashboard's Python block as a grid of values (formulas for the live side and links)."""

    def __init__(
        self,
        template: Template,
        lang: str,
        scores: Any,
        findings: list[Finding],
        stamp: dt.datetime,
        alerts: list[Alert] | None = None,
    ):
        self.t, self.lang, self.scores, self.findings, self.stamp = template, lang, scores, findings, stamp
        self.alerts = alerts or []

    def rows(self, top: int, left: int) -> tuple[Grid, dict[int, str], list[int]]:
        """The grid placed at (top, left) (1-based), number formats by grid row, bold grid rows."""
        from .dashboard import Formulas
        from .writer import cached_values

        lang, t = self.lang, self.t
        metrics = {m.key: m for m in Formulas(t, lang, lambda key: "A1").metrics()}
        values = cached_values(self.scores, t, lang)
        counts = {sev: sum(f.severity == sev for f in self.findings) for sev in ("error", "warning", "info")}
        summary = ", ".join(_count(n, text(sev, lang), lang) for sev, n in counts.items())
        grid: Grid = [
            [_txt(text("title", lang)), None, None, None],
            [_txt(text("stamp", lang)), _txt(f"{self.stamp:%Y-%m-%d %H:%M}"), _txt(summary), None],
            [
                _txt(text("score", lang)),
                _txt(text("live", lang)),
                _txt(text("python", lang)),
                _txt(text("check", lang)),
            ],
        ]
        formats: dict[int, str] = {}
        bold = [0, 2]
        q, r = col_letter(left), col_letter(left + 1)
        for key in BLOCK_METRICS:
            m = metrics[key]
            row = top + len(grid)
            live, py = f"{q}{row}", f"{r}{row}"
            same, differs = _q(text("same", lang)), _q(text("differs", lang))
            check = (
                f"=IF(AND(ISNUMBER({live}),ISNUMBER({py})),IF(ABS({live}-{py})<=0.000001*MAX(1,ABS({py})),"
                f'{same},{differs}),IF({live}&""={py}&"",{same},{differs}))'
            )
            value = values.get(key)
            grid.append(
                [_txt(m.label[lang]), f"={m.name}", _txt(value) if isinstance(value, str) else value, check]
            )
            if m.fmt in t.formats:
                formats[len(grid) - 1] = t.formats[m.fmt]
        grid.append([None] * BLOCK_WIDTH)
        bold.append(len(grid))
        status = values.get("status") or ""
        grid.append([_txt(text("alerts", lang, n=len(self.alerts), status=status)), None, None, None])
        bold.append(len(grid))
        grid.append([_txt(text(k, lang)) for k in ("severity", "sheet", "cell", "message")])
        if not self.alerts:
            grid.append([_txt(text("no_alerts", lang)), None, None, None])
        for al in self.alerts:
            grid.append(
                [
                    _txt(text(al.severity, lang)),
                    _txt(al.sheet),
                    _link(al.sheet, al.cell),
                    _txt(f"{al.label}{text('colon', lang)}{al.message}"),
                ]
            )
        grid.append([None] * BLOCK_WIDTH)
        bold.append(len(grid))
        grid.append([_txt(text("findings", lang, n=len(self.findings))), None, None, None])
        bold.append(len(grid))
        grid.append([_txt(text(k, lang)) for k in ("severity", "sheet", "cell", "message")])
        if not self.findings:
            grid.append([_txt(text("none", lang)), None, None, None])
        for f in self.findings[:MAX_FINDINGS]:
            grid.append(
                [_txt(text(f.severity, lang)), _txt(f.sheet), _link(f.sheet, f.cell), _txt(f.message)]
            )
        if len(self.findings) > MAX_FINDINGS:
            grid.append([_txt(text("more", lang, n=len(self.findings) - MAX_FINDINGS)), None, None, None])
        return grid, formats, bold


def _count(n: int, word: str, lang: str) -> str:
    plural = n > 1 if lang == "fr" else n != 1
    return f"{n} {word}{'s' if plural else ''}"


def _q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _txt(value: Any) -> Any:
    """Text always lands as text: a leading apostrophe stops Excel reading it as a number,
    a date or a formula (it is not shown)."""
    if isinstance(value, str) and value:
        return "'" + value
    return value


def _link(sheet: str, cell: str) -> str:
    """A link to a finding's cell that works on a protected sheet (a formula, not a Hyperlink)."""
    target = "#'" + sheet.replace("'", "''") + "'!" + cell
    return f"=HYPERLINK({_q(target)},{_q(cell)})"


def block_anchor(book: Any, dashboard: str) -> tuple[int, int]:
    """Top-left cell of the Python block (1-based row and column)."""
    with suppress(Exception):
        rng = book.names[BLOCK_NAME].refers_to_range
        if rng.sheet.name == dashboard:
            return rng.row, rng.column
    return BLOCK_ANCHOR


def write_block(source: XlwingsSource, dashboard: str, block: PythonBlock) -> None:
    """One write of the whole block, padded with blanks over what the last run left."""
    sheet = source.sheet(dashboard)
    top, left = block_anchor(source.book, dashboard)
    grid, formats, bold = block.rows(top, left)
    old = source.grid(dashboard)
    used = 0
    for r in range(top - 1, len(old)):
        if any(not is_blank(_at(old, r, c)) for c in range(left - 1, left - 1 + BLOCK_WIDTH)):
            used = r - (top - 1) + 1
    grid += [[None] * BLOCK_WIDTH for _ in range(max(0, used - len(grid)))]
    with unprotected(sheet):
        sheet.range((top, left), (top + len(grid) - 1, left + BLOCK_WIDTH - 1)).value = grid
        for i, fmt in formats.items():
            sheet.range((top + i, left + 1), (top + i, left + 2)).number_format = fmt
        for i in bold:
            sheet.range((top + i, left), (top + i, left + BLOCK_WIDTH - 1)).font.bold = True


# -- roll-up -------------------------------------------------------------------------------------
SOURCE_FOLDER = "Source_Folder"


def source_folder(book: Any) -> Path:
    """The folder typed in the summary's Source_Folder cell; relative to the workbook's folder."""
    try:
        rng = book.names[SOURCE_FOLDER].refers_to_range
    except Exception:
        raise UserError(
            "This workbook has no Source_Folder cell: the Roll up button works in a portfolio summary "
            "written by kamxl rollup."
        ) from None
    value = rng.value
    where = f"{rng.sheet.name}!{rng.get_address(False, False)}"
    if is_blank(value):
        raise UserError(f"Type the folder of the account workbooks in {where}, then press Roll up again.")
    folder = Path(os.path.expandvars(os.path.expanduser(str(value).strip().strip('"'))))
    if not folder.is_absolute() and Path(_book_path(book)).is_absolute():
        folder = Path(_book_path(book)).parent / folder
    if not folder.is_dir():
        raise UserError(f"The folder in {where} does not exist or cannot be reached: {folder}")
    return folder


def summary_lang(book: Any) -> str:
    """The summary's language, from its sheet names (the roll-up writes them in that language)."""
    from .rollup.texts import text as rollup_text

    names = {s.name.casefold() for s in book.sheets}
    for lang in LANGS:
        if rollup_text("sheet_overview", lang).casefold() in names:
            return lang
    return "en"


def run_rollup(
    book: Any,
    *,
    as_of: dt.date | None = None,
    jobs: int | None = None,
    history: str | Path | bool | None = None,
    progress: Callable[[str], None] | None = None,
) -> str:
    """Roll up Source_Folder with the library and copy the result into the open summary."""
    from .rollup import HISTORY_NAME
    from .rollup import rollup as library_rollup

    say = progress or (lambda _text: None)
    folder = source_folder(book)
    here = Path(_book_path(book))
    home = here.parent if here.is_absolute() and here.parent.is_dir() else None
    if history is None:
        history = home / HISTORY_NAME if home else False
    # The fresh summary goes beside the open one, so its links to account files stay right.
    folder_for_tmp = Path(_writable(home) or tempfile.gettempdir())
    tmp = folder_for_tmp / f"{temp_prefix()}rollup-{os.urandom(4).hex()}.xlsx"
    try:
        say(f"kamxl: rolling up {folder}")
        result = library_rollup(
            folder,
            output=tmp,
            history=history,
            lang=summary_lang(book),
            as_of=as_of,
            jobs=jobs,
            progress=lambda done, total, file: say(f"kamxl: read {done} of {total}: {file}"),
        )
        say("kamxl: writing the summary")
        stale = copy_summary(book, tmp)
    finally:
        tmp.unlink(missing_ok=True)
        lock_path(tmp).unlink(missing_ok=True)
    done = f"kamxl: {len(result.accounts)} accounts rolled up, {len(result.skipped)} files skipped"
    if stale:
        done += f" ({', '.join(stale)}: run kamxl rollup to rebuild them)"
    return done


def _writable(folder: Path | None) -> str | None:
    if folder is not None and os.access(folder, os.W_OK):
        return str(folder)
    return None


@dataclass
class _NewTable:
    name: str
    ref: tuple[int, int, int, int]  # 0-based, header to total row
    totals: bool


def _new_cells(ws: Any) -> tuple[Grid, dict[tuple[int, int], str], dict[tuple[int, int], str]]:
    """Cells of an openpyxl sheet: constants (text protected), formulas; number formats; links."""
    grid: Grid = []
    formats: dict[tuple[int, int], str] = {}
    links: dict[tuple[int, int], str] = {}
    for r, row in enumerate(ws.iter_rows()):
        out = []
        for c, cell in enumerate(row):
            value = cell.value
            if cell.data_type == "s" and isinstance(value, str):
                value = _txt(value)
            out.append(value)
            if cell.number_format and cell.number_format != "General":
                formats[(r, c)] = cell.number_format
            if cell.hyperlink is not None and cell.hyperlink.target:
                links[(r, c)] = cell.hyperlink.target
        grid.append(out)
    return grid, formats, links


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, str) and new.startswith("'"):
        new = new[1:]
    if is_blank(old) and is_blank(new):
        return True
    if isinstance(old, dt.date) and isinstance(new, dt.date):
        as_dt = lambda d: d if isinstance(d, dt.datetime) else dt.datetime.combine(d, dt.time())  # noqa: E731
        return as_dt(old) == as_dt(new)
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return abs(float(old) - float(new)) <= 1e-9 * max(1.0, abs(float(new)))
    return old == new


def copy_summary(book: Any, path: Path) -> list[str]:
    """Make the open summary show what the summary file at ``path`` shows, sheet by sheet.

    Tables are resized and rewritten whole; other cells are written where they changed (the
    Source_Folder cell is the user's and is kept). Returns the tables that could not be
    refreshed in place because they moved.
    """
    import openpyxl

    source = XlwingsSource(book)
    keep = _source_folder_cell(book)
    with warnings.catch_warnings():  # openpyxl skips conditional formats it cannot read: not needed here
        warnings.simplefilter("ignore", UserWarning)
        new_book = openpyxl.load_workbook(path)
    stale: list[str] = []
    for ws in new_book.worksheets:
        if ws.title not in source.sheet_names:
            stale.append(ws.title)
            continue
        stale += _copy_sheet(source, ws, keep)
    return stale


def _source_folder_cell(book: Any) -> tuple[str, int, int] | None:
    with suppress(Exception):
        rng = book.names[SOURCE_FOLDER].refers_to_range
        return rng.sheet.name, rng.row - 1, rng.column - 1
    return None


def _copy_sheet(source: XlwingsSource, ws: Any, keep: tuple[str, int, int] | None) -> list[str]:
    name = ws.title
    sheet = source.sheet(name)
    new, formats, links = _new_cells(ws)
    old = source.grid(name)
    tables = [_NewTable(t.name, parse_address(t.ref), bool(t.totalsRowCount)) for t in ws.tables.values()]
    existing = {t.name: t for t in sheet.tables}
    covered: set[tuple[int, int]] = set()
    stale: list[str] = []
    with unprotected(sheet):
        for table in tables:
            current = existing.get(table.name)
            if current is None or parse_address(current.range.address)[:2] != table.ref[:2]:
                stale.append(f"{name}: {table.name}")
                continue
            covered |= _update_table(sheet, current, table, new, formats, links)
        _write_changes(sheet, old, new, covered | ({keep[1:]} if keep and keep[0] == name else set()))
    return stale


def _update_table(
    sheet: Any,
    current: Any,
    table: _NewTable,
    new: Grid,
    formats: dict[tuple[int, int], str],
    links: dict[tuple[int, int], str],
) -> set[tuple[int, int]]:
    """Resize an existing Excel table to the new one's size and write all its cells."""
    r1, c1, r2, c2 = table.ref
    last_data = r2 - 1 if table.totals else r2
    o1, oc1, o2, oc2 = parse_address(current.range.address)
    if current.show_totals:
        current.show_totals = False
    current.resize(sheet.range((r1 + 1, c1 + 1), (last_data + 1, c2 + 1)))
    if o2 > last_data:  # rows the table held before (the total row's included), now free
        sheet.range((last_data + 2, oc1 + 1), (o2 + 1, max(oc2, c2) + 1)).clear()
    if oc2 > c2:
        sheet.range((o1 + 1, c2 + 2), (max(o2, r2) + 1, oc2 + 1)).clear()
    if table.totals:
        current.show_totals = True
    block = [[_at(new, r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
    sheet.range((r1 + 1, c1 + 1), (r2 + 1, c2 + 1)).value = block
    for c in range(c1, c2 + 1):
        fmt = formats.get((r1 + 1, c))
        if fmt and last_data > r1:
            sheet.range((r1 + 2, c + 1), (last_data + 1, c + 1)).number_format = fmt
    for (r, c), target in sorted(links.items()):
        if r1 < r <= r2 and c1 <= c <= c2:
            shown = _at(new, r, c)
            shown = shown[1:] if isinstance(shown, str) and shown.startswith("'") else shown
            sheet.range((r + 1, c + 1)).add_hyperlink(target, str(shown or target))
    rows = range(min(r1, o1), max(r2, o2) + 1)
    return {(r, c) for r in rows for c in range(min(c1, oc1), max(c2, oc2) + 1)}


def _write_changes(sheet: Any, old: Grid, new: Grid, skip: set[tuple[int, int]]) -> None:
    """Write cells whose value changed, one write per run of neighbouring cells in a row."""
    rows = max(len(old), len(new))
    for r in range(rows):
        cols = max(len(old[r]) if r < len(old) else 0, len(new[r]) if r < len(new) else 0)
        run: list[Any] = []
        start = 0
        for c in range(cols + 1):
            changed = c < cols and (r, c) not in skip and not _same(_at(old, r, c), _at(new, r, c))
            if changed:
                if not run:
                    start = c
                run.append(_at(new, r, c))
            elif run:
                sheet.range((r + 1, start + 1), (r + 1, start + len(run))).value = [run]
                run = []
