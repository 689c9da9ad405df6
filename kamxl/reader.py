"""Read a filled account workbook back into a :class:`~kamxl.model.Plan`, with findings.

KAMs edit workbooks by hand: they add rows below tables, leave blank rows, type numbers as
text, paste labels in the other language, type formulas or error values. The reader takes
all of that in its stride: every cell it cannot read cleanly becomes a finding (sheet, cell,
message) and the rest of the plan is still read. Only a file that is not a kamxl workbook at
all raises, with one :class:`~kamxl.findings.PlanReadError` subclass per reason.

Values come from python-calamine (fast); error values and formulas in input cells are found
in the sheet XML, since calamine shows errors as blanks and formulas as their cached result.
The same reading runs on any :class:`WorkbookSource`, such as a workbook open in Excel.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import python_calamine as pc

from .carried import read_carried_over, sheet_title
from .coerce import ChoiceIndex, Coerced, Problem, coerce, error_cell, fold, formula_cell, is_blank, loose
from .fileio import content_digest
from .findings import EncryptedWorkbook, Finding, NotAPlan, NotAWorkbook, PlanReadError, Severity
from .layout import FIELD_LABEL_COL, FIELD_VALUE_COL, FIRST_FIELD_ROW, Locations, a1, field_row, table_anchor
from .model import Plan, Row
from .preflight import Limits, check_archive, check_file, sheet_parts, xml_attrs
from .template import LANGS, Column, Table, Template, get_template, load_template

META_SHEET = "_kamxl"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
Grid = list[list[Any]]


class PlanNotFound(PlanReadError):
    """No file at that path."""


@dataclass
class ReadResult:
    """A plan read from a workbook, what was found wrong in it, and where everything sits.

    Unpacks as ``plan, findings = read_plan(path)``.
    """

    plan: Plan
    findings: list[Finding]
    template: Template
    path: Path
    locations: Locations = field(default_factory=Locations)
    digest: str = ""  # kamxl.fileio.content_digest of the bytes read ("" when not read from a file)

    def __iter__(self) -> Iterator[Any]:
        yield self.plan
        yield self.findings


@dataclass(frozen=True)
class TableSpot:
    """Where an Excel table sits: sheet, header row and first column (0-based), last data row,
    and how many total rows (Table Design > Total Row) follow that last data row."""

    name: str
    sheet: str
    header_row: int
    first_col: int
    last_row: int | None
    headers: list[str]
    total_rows: int = 0


class WorkbookSource(Protocol):
    """What the reader needs from a workbook, wherever it comes from (file, open Excel book).

    ``grid`` gives values from A1 (blanks as None or ""), ``flags`` the cells holding an error
    value or a formula, keyed by 0-based (row, column), as ``("error", "#N/A")`` or
    ``("formula", "=1+1")`` (``""`` when the formula's text is unknown, as in a shared
    formula's cells); ``table`` finds an Excel table by name.
    """

    sheet_names: list[str]

    def grid(self, name: str) -> Grid: ...

    def flags(self, name: str) -> dict[tuple[int, int], tuple[str, str]]: ...

    def table(self, name: str) -> TableSpot | None: ...


TemplateArg = Template | str | Path | None


def read_plan(path: str | Path, *, template: TemplateArg = None, limits: Limits | None = None) -> ReadResult:
    """Read a kamxl workbook; raise :class:`PlanReadError` only when it cannot be read at all.

    The file passes :mod:`kamxl.preflight` first (``limits``, default from the environment).
    """
    path = Path(path)
    limits = limits or Limits.from_env()
    data, archive = open_workbook(path, limits)
    try:
        sheets = sheet_parts(archive)
        parts = check_archive(archive, path, limits, sheets)
        book = _open_calamine(data, path)
    except PlanReadError:
        archive.close()
        raise
    try:
        result = read_plan_from_source(_FileSource(book, archive, parts, sheets), path, template=template)
        result.digest = content_digest(data)
        return result
    finally:
        archive.close()
        book.close()


def read_plan_from_source(
    source: WorkbookSource, path: str | Path, *, template: TemplateArg = None
) -> ReadResult:
    """Read a plan from any :class:`WorkbookSource`; ``path`` names it in findings and errors."""
    return _Reader(Path(path), source, template).read()


def _q(text: object) -> str:
    return f'"{text}"'


# -- opening ----------------------------------------------------------------------------------
def open_workbook(path: Path, limits: Limits | None = None) -> tuple[bytes, zipfile.ZipFile]:
    """The file's bytes and its zip, or a :class:`PlanReadError` that says what the file is."""
    data = _load_bytes(path, limits or Limits.from_env())
    return data, _open_zip(data, path)


def _load_bytes(path: Path, limits: Limits) -> bytes:
    try:
        check_file(path, limits)
        return path.read_bytes()
    except FileNotFoundError:
        raise PlanNotFound(path, "no such file") from None
    except IsADirectoryError:
        raise PlanReadError(path, "is a folder, not a workbook") from None
    except OSError as exc:
        raise PlanReadError(path, f"cannot be opened: {exc.strerror or exc}") from None


def _open_zip(data: bytes, path: Path) -> zipfile.ZipFile:
    if data.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise EncryptedWorkbook(
                path, "the workbook is password-protected; remove the password in Excel and save it again"
            )
        raise NotAWorkbook(path, "an old-format (.xls) or other binary file; save it as .xlsx")
    if not data.startswith(b"PK"):
        raise NotAWorkbook(path, "not an Excel workbook (.xlsx or .xlsm)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise NotAWorkbook(path, f"the file is damaged (not a valid zip: {exc})") from None
    if "xl/workbook.xml" not in archive.namelist():
        archive.close()
        raise NotAWorkbook(path, "a zip file but not an Excel workbook (.xlsx or .xlsm)")
    return archive


def _open_calamine(data: bytes, path: Path) -> pc.CalamineWorkbook:
    try:
        return pc.CalamineWorkbook.from_filelike(io.BytesIO(data), load_tables=True)
    except pc.PasswordError:
        raise EncryptedWorkbook(path, "the workbook is password-protected") from None
    except Exception:  # a damaged table part must not make the whole workbook unreadable
        pass
    try:
        return pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises several unrelated exception types
        raise NotAWorkbook(path, f"the file is damaged: {exc}") from None


# -- error values and formulas, from the sheet XML ---------------------------------------------
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
_TABLE_ENTRY = re.compile(rb"<(?:\w+:)?table\b[^>]*>")
# Excel, LibreOffice, openpyxl and XlsxWriter all write the r attribute first: matching on it
# lets the regex engine jump from cell to cell, which keeps the scan well under a millisecond.
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"[^>]*>\s*<f\b[^>]*?(?:/>|>([^<]*)</f>)')
_ERROR_CELL = re.compile(
    rb'<c r="([A-Z]{1,3}[0-9]+)"[^>]*?\st="e"[^>]*>(?:\s*<f\b[^>]*?(?:/>|>[^<]*</f>))?\s*(?:<v>([^<]*)</v>)?'
)


def cell_index(ref: str) -> tuple[int, int] | None:
    """``"F12"`` -> (11, 5): 0-based row and column."""
    m = _CELL_REF.fullmatch(ref)
    if not m:
        return None
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


class _SheetXml:
    """Formulas and error values of each sheet, keyed by (row, col); parsed only when asked for."""

    def __init__(
        self,
        archive: zipfile.ZipFile,
        parts: dict[str, bytes] | None = None,
        sheets: dict[str, str] | None = None,
    ) -> None:
        self.archive = archive
        self.parts = parts or {}
        self._paths = {sheet: part for part, sheet in sheets.items()} if sheets is not None else None
        self._cache: dict[str, dict[tuple[int, int], tuple[str, str]]] = {}
        self._totals: dict[str, int] | None = None

    def _sheet_paths(self) -> dict[str, str]:
        return {sheet: part for part, sheet in sheet_parts(self.archive).items()}

    def _read(self, name: str) -> bytes:
        if name in self.parts:
            return self.parts[name]
        try:
            return self.archive.read(name)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError):
            return b""

    def total_rows(self, table_name: str) -> int:
        """Rows of the table's total row (0 or 1), from its table part."""
        if self._totals is None:
            self._totals = {}
            parts = [n for n in self.archive.namelist() if n.startswith("xl/tables/") and n.endswith(".xml")]
            for name in parts:
                if m := _TABLE_ENTRY.search(self._read(name)):
                    a = xml_attrs(m.group(0))
                    count = a.get("totalsRowCount", "0")
                    self._totals[a.get("name", "")] = int(count) if count.isdigit() else 0
        return self._totals.get(table_name, 0)

    def flags(self, sheet_name: str) -> dict[tuple[int, int], tuple[str, str]]:
        if sheet_name not in self._cache:
            if self._paths is None:
                self._paths = self._sheet_paths()
            xml = self._read(self._paths.get(sheet_name, ""))
            self._cache[sheet_name] = _scan(xml)
        return self._cache[sheet_name]


def _scan(xml: bytes) -> dict[tuple[int, int], tuple[str, str]]:
    """Cells holding an error value or a formula, keyed by 0-based (row, column)."""
    found: dict[tuple[int, int], tuple[str, str]] = {}
    for ref, text in _FORMULA_CELL.findall(xml):
        if (where := _ref_index(ref)) is not None:
            found[where] = _formula_flag(text)
    if b't="e"' in xml:
        for ref, code in _ERROR_CELL.findall(xml):
            if (where := _ref_index(ref)) is not None:
                found[where] = ("error", code.decode("utf-8", "replace") or "#N/A")
    return found


# Plans made from one template hold the same formulas in the same cells: both are worked out once.
@lru_cache(maxsize=65536)
def _ref_index(ref: bytes) -> tuple[int, int] | None:
    return cell_index(ref.decode())


@lru_cache(maxsize=16384)
def _formula_flag(text: bytes) -> tuple[str, str]:
    formula = html.unescape(text.decode("utf-8", "replace"))
    return ("formula", "=" + formula if formula else "")


class _FileSource:
    """A workbook file: values through calamine, error values and formulas from the XML."""

    def __init__(
        self,
        book: pc.CalamineWorkbook,
        archive: zipfile.ZipFile,
        parts: dict[str, bytes] | None = None,
        sheets: dict[str, str] | None = None,
    ) -> None:
        self.book = book
        self.sheet_names: list[str] = list(book.sheet_names)
        self.xml = _SheetXml(archive, parts, sheets)

    def grid(self, name: str) -> Grid:
        return self.book.get_sheet_by_name(name).to_python(skip_empty_area=False)

    def flags(self, name: str) -> dict[tuple[int, int], tuple[str, str]]:
        return self.xml.flags(name)

    def table(self, name: str) -> TableSpot | None:
        try:
            found = self.book.get_table_by_name(name)
        except Exception:  # no such table (deleted, or a file saved by another program)
            return None
        (first_row, first_col), (last_row, _) = found.start, found.end
        headers = [str(h) for h in found.columns]
        totals = self.xml.total_rows(found.name)
        return TableSpot(name, found.sheet, first_row - 1, first_col, last_row, headers, totals)


# -- labels to keys, built once per template and language --------------------------------------
@dataclass(frozen=True)
class _Labels:
    choices: dict[str, ChoiceIndex]
    headers: dict[str, dict[str, str]]  # table key -> loose label -> column key
    fields: dict[str, dict[str, str]]  # sheet key -> loose label -> field key
    # (id(column), type, raw) -> coerced: a portfolio repeats the same choices, dates and numbers
    coerced: dict[tuple[int, type, Any], Coerced] = field(default_factory=dict)


_LABELS: dict[tuple[int, str], tuple[Template, _Labels]] = {}
_MEMO_SIZE = 200_000  # coerced cells remembered per template and language
_MEMO_TYPES = frozenset({str, float, int, bool, dt.date, dt.datetime})


def _label_index(columns: tuple[Column, ...], lang: str) -> dict[str, str]:
    """Labels in the workbook language first, then the other, then keys (so either matches)."""
    index: dict[str, str] = {}
    for col in columns:
        for text in (*(col.label[lg] for lg in (lang, *LANGS)), *col.former_labels, col.key):
            index.setdefault(loose(text), col.key)
    return index


def _labels(template: Template, lang: str) -> _Labels:
    hit = _LABELS.get((id(template), lang))
    if hit is not None and hit[0] is template:
        return hit[1]
    labels = _Labels(
        choices={
            key: ChoiceIndex(items, lang, template.former_labels(key))
            for key, items in template.choices.items()
        },
        headers={key: _label_index(t.columns, lang) for key, t in template.tables.items()},
        fields={s.key: _label_index(s.fields, lang) for s in template.sheets if s.fields},
    )
    if len(_LABELS) > 16:
        _LABELS.clear()
    _LABELS[(id(template), lang)] = (template, labels)
    return labels


# -- the reader ---------------------------------------------------------------------------------
class _Reader:
    def __init__(self, path: Path, source: WorkbookSource, template: TemplateArg) -> None:
        self.path, self.src = path, source
        self.findings: list[Finding] = []
        self.grids: dict[str, Grid] = {}
        self.flag_cache: dict[str, dict[tuple[int, int], tuple[str, str]]] = {}
        self.locations = Locations()
        self.meta = self._meta()
        self.t = self._template(template)
        self.lang = self._lang()
        self.titles = {fold(name): name for name in source.sheet_names}
        self.labels = _labels(self.t, self.lang)
        # What later template versions added is absent by design from an older workbook: not a finding.
        self.added = self.t.added_since(self.meta.get("template_version", ""))

    # ---- helpers
    def add(self, severity: Severity, sheet: str, cell: str, message: str) -> None:
        self.findings.append(Finding(severity, sheet, cell, message))

    def grid(self, name: str) -> Grid:
        if name not in self.grids:
            try:
                self.grids[name] = self.src.grid(name)
            except Exception:  # never raise on content: report the sheet and go on
                self.add("error", name, "A1", "this sheet could not be read")
                self.grids[name] = []
        return self.grids[name]

    def flags(self, name: str) -> dict[tuple[int, int], tuple[str, str]]:
        if name not in self.flag_cache:
            try:
                self.flag_cache[name] = self.src.flags(name)
            except Exception:  # formulas and error values unknown: values are still read
                self.flag_cache[name] = {}
        return self.flag_cache[name]

    @staticmethod
    def at(grid: Grid, row: int, col: int) -> Any:
        if 0 <= row < len(grid) and 0 <= col < len(grid[row]):
            return grid[row][col]
        return None

    def sheet_name(self, sheet_key: str) -> str | None:
        titles = self.t.sheet(sheet_key).title
        for lang in (self.lang, *LANGS):
            if (name := self.titles.get(fold(titles[lang]))) is not None:
                return name
        return None

    # ---- identity
    def _meta(self) -> dict[str, str]:
        if META_SHEET not in self.src.sheet_names:
            raise NotAPlan(self.path, f"no {META_SHEET} sheet: this workbook was not made by kamxl")
        meta = {}
        for row in self.grid(META_SHEET):
            if len(row) >= 2 and isinstance(row[0], str) and row[0].strip():
                value = row[1]
                text = "" if value is None else repr(value) if isinstance(value, float) else str(value)
                meta[row[0].strip()] = text.strip()
        return meta

    def _template(self, given: TemplateArg) -> Template:
        if isinstance(given, Template):
            template = given
        elif given is not None:
            template = load_template(given)
        else:
            template = get_template()
        tid, version = self.meta.get("template_id", ""), self.meta.get("template_version", "")
        if tid and tid != template.id:
            self.add(
                "warning",
                META_SHEET,
                "B1",
                f"made from template {_q(tid)}, read with {_q(template.id)}: columns matched by their labels",
            )
        elif version and version != template.version:
            self.add(
                "info",
                META_SHEET,
                "B2",
                f"made from template version {version}, read with version {template.version}: "
                "columns matched by their labels; `kamxl upgrade` moves it to the current version",
            )
        return template

    def _lang(self) -> str:
        lang = self.meta.get("lang", "")
        if lang in LANGS:
            return lang
        names = {fold(n) for n in self.src.sheet_names}
        votes = {lg: sum(fold(s.title[lg]) in names for s in self.t.sheets) for lg in LANGS}
        return max(LANGS, key=lambda lg: votes[lg])

    def _generated_at(self) -> dt.datetime | None:
        try:
            return dt.datetime.fromisoformat(self.meta.get("generated_at", ""))
        except ValueError:
            return None

    # ---- whole plan
    def read(self) -> ReadResult:
        plan = Plan(
            fields={k: None for k in self.t.fields},
            tables={k: [] for k in self.t.tables},
            lang=self.lang,
            template_id=self.meta.get("template_id") or self.t.id,
            template_version=self.meta.get("template_version") or self.t.version,
            generated_at=self._generated_at(),
        )
        if self.meta.get("account_id"):
            plan.account_id = self.meta["account_id"]
        self.locations.sheets = {s.key: self.sheet_name(s.key) or s.title[self.lang] for s in self.t.sheets}
        blocks = {key: self._block(table) for key, table in self.t.tables.items()}
        self._read_fields(plan, blocks)
        for key, table in self.t.tables.items():
            block = blocks[key]
            if block is not None:
                plan.tables[key] = self._read_table(table, block)
        titles = {fold(sheet_title(self.t, lang)) for lang in LANGS}
        carried = next((n for n in self.src.sheet_names if fold(n) in titles), None)
        if carried is not None:
            plan.carried_over = read_carried_over(self.grid(carried))
        return ReadResult(plan, self.findings, self.t, self.path, self.locations)

    # ---- form fields
    def _read_fields(self, plan: Plan, blocks: dict[str, TableSpot | None]) -> None:
        for sheet in self.t.sheets:
            if not sheet.fields:
                continue
            name = self.sheet_name(sheet.key)
            if name is None:
                self.add("warning", sheet.title[self.lang], "A1", "sheet missing: its fields were not read")
                continue
            grid = self.grid(name)
            tops = [b.header_row - 1 for t in sheet.tables if (b := blocks.get(t.key)) and b.sheet == name]
            stop = min(tops, default=len(grid))
            found = self._field_rows(self.labels.fields[sheet.key], grid, stop)
            for f in sheet.fields:
                row = found.get(f.key)
                if row is None:
                    row = self._field_fallback(f, grid, found, name, stop)
                if row is None:
                    continue
                cell = a1(row + 1, FIELD_VALUE_COL)
                self.locations.fields[f.key] = cell
                plan.fields[f.key] = self._value(
                    name, row, FIELD_VALUE_COL, f, self.at(grid, row, FIELD_VALUE_COL)
                )

    def _field_rows(self, labels: dict[str, str], grid: Grid, stop: int) -> dict[str, int]:
        found: dict[str, int] = {}
        # The title rows above the form hold the client's name, which may read like a label ("KAM").
        for r in range(FIRST_FIELD_ROW - 1, min(stop, len(grid))):
            label = self.at(grid, r, FIELD_LABEL_COL)
            if isinstance(label, str) and (key := labels.get(loose(label))) and key not in found:
                found[key] = r
        return found

    def _field_fallback(
        self, f: Column, grid: Grid, found: dict[str, int], sheet: str, stop: int
    ) -> int | None:
        """A field whose label was edited: read it from its template position if that row is
        free and still above the sheet's tables."""
        row = field_row(self.t, f.key) - 1
        if f.key in self.added.fields:
            return None  # added by a later template version: absent by design
        if row in found.values() or row >= stop:
            self.add(
                "warning",
                sheet,
                a1(row + 1, FIELD_LABEL_COL),
                f"field {_q(f.label[self.lang])} not found (no row labelled so): left blank",
            )
            return None
        label = self.at(grid, row, FIELD_LABEL_COL)
        if not is_blank(label):
            self.add(
                "info",
                sheet,
                a1(row + 1, FIELD_LABEL_COL),
                f"label {_q(str(label))} not recognised: read as {_q(f.label[self.lang])} from its position",
            )
        return row

    # ---- tables
    def _block(self, table: Table) -> TableSpot | None:
        found = self.src.table(table.name)
        if found is not None:
            return found
        sheet_key = self.t.table_sheet(table.key).key
        name = self.sheet_name(sheet_key)
        label = table.title[self.lang] if table.title else table.name
        if name is None:
            if sheet_key not in self.added.sheets:
                self.add(
                    "warning",
                    self.t.sheet(sheet_key).title[self.lang],
                    "A1",
                    f"sheet missing: table {_q(label)} was not read",
                )
            return None
        anchor = table_anchor(self.t, table.key)
        grid = self.grid(name)
        header = anchor.header_row - 1
        cells = [self.at(grid, header, anchor.first_col + i) for i in range(anchor.width)]
        headers = ["" if h is None else str(h) for h in cells]
        where = a1(anchor.header_row, anchor.first_col)
        if not any(loose(h) in self.labels.headers[table.key] for h in headers):
            self.add("warning", name, where, f"table {_q(label)} not found: left empty")
            return None
        self.add(
            "info", name, where, f"table {_q(label)} is no longer an Excel table: read from its usual place"
        )
        return TableSpot(table.name, name, header, anchor.first_col, None, headers)

    def _map_headers(self, table: Table, block: TableSpot) -> dict[str, int]:
        """Column key -> sheet column, by header label in either language, then by position."""
        index = self.labels.headers[table.key]
        mapped: dict[str, int] = {}
        unmatched: dict[int, str] = {}
        for i, header in enumerate(block.headers):
            key = index.get(loose(header))
            if key is None:
                unmatched[i] = header
            elif key not in mapped:
                mapped[key] = block.first_col + i
        # A renamed header is read by its position only when the other columns are where the
        # template puts them; once columns are reordered, position means nothing.
        position = {col.key: block.first_col + i for i, col in enumerate(table.columns)}
        aligned = all(position[key] == c for key, c in mapped.items())
        missing = []
        for i, col in enumerate(table.columns):
            if col.key in mapped or not col.is_input:
                continue
            if aligned and unmatched.get(i, "").strip():
                mapped[col.key] = block.first_col + i
                self.add(
                    "info",
                    block.sheet,
                    a1(block.header_row + 1, block.first_col + i),
                    f"column {_q(unmatched[i])} not recognised: read as {_q(col.label[self.lang])} "
                    "from its position",
                )
            elif col.key not in self.added.columns.get(table.key, ()):
                missing.append(_q(col.label[self.lang]))
        if missing:
            several = len(missing) > 1
            self.add(
                "warning",
                block.sheet,
                a1(block.header_row + 1, block.first_col),
                f"column{'s' if several else ''} {', '.join(missing)} {'are' if several else 'is'} missing "
                f"from table {table.name}: left blank",
            )
        return mapped

    def _read_table(self, table: Table, block: TableSpot) -> list[Row]:
        columns = self._map_headers(table, block)
        self.locations.columns[table.key] = dict(columns)
        self.locations.header_rows[table.key] = block.header_row + 1
        input_columns = table.input_columns
        keys = [col.key for col in input_columns]
        inputs = [(col, columns[col.key]) for col in input_columns if col.key in columns]
        grid = self.grid(block.sheet)
        flags = self.flags(block.sheet)
        flagged_rows = {r for r, _ in flags}
        rows: list[Row] = []
        where: list[int] = []
        below: list[int] = []
        totals = (
            () if block.last_row is None else range(block.last_row + 1, block.last_row + 1 + block.total_rows)
        )
        for r in range(block.header_row + 1, len(grid)):
            if r in totals:
                continue
            line, width = grid[r], len(grid[r])
            raws = [
                (col, c, line[c]) for col, c in inputs if c < width and line[c] is not None and line[c] != ""
            ]
            if r in flagged_rows:
                raws += [
                    (col, c, None) for col, c in inputs if (r, c) in flags and (c >= width or line[c] == "")
                ]
            filled = [
                (col, c, raw)
                for col, c, raw in raws
                if type(raw) is not str or raw.strip() or raw is None or (r, c) in flags
            ]
            if not filled:
                continue
            row: Row = dict.fromkeys(keys)
            for col, c, raw in filled:
                row[col.key] = self._value(block.sheet, r, c, col, raw, flags)
            rows.append(row)
            where.append(r + 1)
            if block.last_row is not None and r > block.last_row:
                below.append(r + 1)
            self._check_key(table, block, columns, row, r)
        if below:
            span = f"row {below[0]}" if len(below) == 1 else f"rows {below[0]}-{below[-1]}"
            self.add(
                "info",
                block.sheet,
                a1(below[0], block.first_col),
                f"{span} typed below table {table.name} read as part of it; "
                "extend the table over them so its formulas apply",
            )
        self.locations.rows[table.key] = where
        return rows

    def _check_key(self, table: Table, block: TableSpot, columns: dict[str, int], row: Row, r: int) -> None:
        if not is_blank(row.get(table.key_column)):
            return
        key_col = table.column(table.key_column)
        c = columns.get(table.key_column, block.first_col)
        self.add(
            "warning",
            block.sheet,
            a1(r + 1, c),
            f"row has values but no {_q(key_col.label[self.lang])}: it is not counted",
        )

    # ---- one cell
    def _value(
        self, sheet: str, row: int, col: int, column: Column, raw: Any, flags: dict | None = None
    ) -> Any:
        flag = (self.flags(sheet) if flags is None else flags).get((row, col))
        if flag is None and is_blank(raw):
            return None
        if flag is not None:
            kind, text = flag
            result = error_cell(text) if kind == "error" else formula_cell(text)
        elif (
            type(raw) not in _MEMO_TYPES
            or (result := self.labels.coerced.get((id(column), type(raw), raw))) is None
        ):
            try:
                result = coerce(
                    raw, column, choices=self.labels.choices.get(column.choices or ""), lang=self.lang
                )
            except Exception as exc:  # never raise on content
                result = Coerced(None, Problem(f"could not be read ({exc})"))
            if type(raw) in _MEMO_TYPES:
                if len(self.labels.coerced) > _MEMO_SIZE:
                    self.labels.coerced.clear()
                self.labels.coerced[(id(column), type(raw), raw)] = result
        if result.problem is not None:
            suffix = "; left blank" if result.problem.severity == "error" else ""
            self.add(
                result.problem.severity,
                sheet,
                a1(row + 1, col),
                f"{column.label[self.lang]}: {result.problem.message}{suffix}",
            )
        return result.value
