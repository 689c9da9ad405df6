"""Where a workbook's cells come from: the file on disk (opened safely), or any :class:`WorkbookSource`.

A file's sheets are read in one pass over their XML (:mod:`.sheet_cells`) when written the way
Excel, LibreOffice and kamxl write them; otherwise values come from python-calamine and error
values and formulas from the sheet XML, since calamine shows errors as blanks and formulas as
their cached result.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import python_calamine as pc

from .cfb import entry_names
from .findings import EncryptedWorkbook, NotAWorkbook, PlanReadError
from .preflight import (
    MB,
    Limits,
    Members,
    check_file,
    check_sheet,
    listed_sheets,
    part_target,
    relationships,
    remembered,
    sheet_parts,
    xml_attrs,
)
from .sheet_cells import Dialect, Grid, dialect, formula_flag, ref_index, sheet_cells

META_SHEET = "_kamxl"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class PlanNotFound(PlanReadError):
    """No file at that path."""


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
        raise _ole_file(data, path)
    if not data.startswith(b"PK"):
        raise NotAWorkbook(path, f"not an Excel workbook{_what_it_is(data)}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise NotAWorkbook(path, f"the file is damaged (not a valid zip: {exc})") from None
    if "xl/workbook.xml" not in archive.namelist():
        archive.close()
        raise NotAWorkbook(path, "a zip file but not an Excel workbook (.xlsx or .xlsm)")
    return archive


_ENCRYPTED = "the workbook is password-protected; remove the password in Excel and save it again"
_OLE_KINDS = {  # a stream of the compound file: what the file is
    "WordDocument": "a Word document (.doc)",
    "PowerPoint Document": "a PowerPoint presentation (.ppt)",
    "__substg1.0_0037001F": "an Outlook message (.msg)",
}


def _ole_file(data: bytes, path: Path) -> PlanReadError:
    """A compound (OLE) file: a password-protected workbook (Office keeps an encrypted .xlsx in
    one, with an ``EncryptionInfo`` stream), an old ``.xls`` (a ``Workbook`` stream), or another
    Office file."""
    names = entry_names(data)
    if {"EncryptionInfo", "EncryptedPackage"} & names or (
        not names and "EncryptionInfo".encode("utf-16-le") in data
    ):
        return EncryptedWorkbook(path, _ENCRYPTED)
    if {"Workbook", "Book"} & names:
        return NotAWorkbook(
            path, "an old-format (.xls) Excel 97-2003 workbook; open it in Excel and save it as .xlsx"
        )
    kind = next((what for stream, what in _OLE_KINDS.items() if stream in names), "")
    if kind:
        return NotAWorkbook(path, f"not an Excel workbook: {kind}")
    return NotAWorkbook(path, "an old-format (.xls) or other binary file; save it as .xlsx")


def _what_it_is(data: bytes) -> str:
    """What a file that is neither a zip nor a compound file is, from its first bytes: ": an
    empty file", ": a PDF document"…, or "" when it cannot be told."""
    if not data:
        return ": an empty file (0 bytes)"
    head = data[:4096]
    if head.startswith(b"%PDF-"):
        return ": a PDF document"
    if head.startswith(b"{\\rtf"):
        return ": a rich-text (RTF) document"
    if b"\0" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ""
    text = _decoded(head).lstrip("\ufeff \t\r\n").casefold()
    if text.startswith("<!doctype html") or text.startswith("<html") or "<html" in text[:1024]:
        return ": an HTML page (a web page or a download error saved under an Excel name)"
    if text.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in text:
        return ": an Excel 2003 XML spreadsheet; open it in Excel and save it as .xlsx"
    if text.startswith("<"):
        return ": an XML or HTML file"
    first = text.split("\n", 1)[0]
    if any(sep in first for sep in (",", ";", "\t", "|")):
        return ": a CSV file (text with separated values); open it in Excel and save it as .xlsx"
    return ": a text file"


def _decoded(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "replace")
    return head.decode("utf-8", "replace")  # latin-1 text reads well enough to tell what it is


def open_calamine(data: bytes, path: Path) -> pc.CalamineWorkbook:
    """Values only: where tables sit is read from their parts (:meth:`_SheetXml.tables`)."""
    try:
        return pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError:
        raise EncryptedWorkbook(path, "the workbook is password-protected") from None
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
    """Formulas and error values of each sheet, keyed by (row, col); parsed only when asked for.

    With ``checks`` (the workbook's path and limits), a sheet the pre-flight left unchecked is
    checked (:func:`~kamxl.preflight.check_sheet`) the first time it is asked for, before any
    parser sees it.
    """

    def __init__(
        self,
        archive: zipfile.ZipFile,
        parts: dict[str, bytes] | None = None,
        sheets: dict[str, str] | None = None,
        checks: tuple[Path, Limits] | None = None,
    ) -> None:
        self.archive = archive
        self.parts = parts or {}
        self._paths = {sheet: part for part, sheet in sheets.items()} if sheets is not None else None
        self._cache: dict[str, dict[tuple[int, int], tuple[str, str]]] = {}
        self._tables: dict[str, TableSpot] | None = None
        self.checks = checks
        self._checked: set[tuple[str, bool]] = set()  # (part, checked for placed cells only)

    def _sheet_paths(self) -> dict[str, str]:
        return {sheet: part for part, sheet in sheet_parts(self.archive).items()}

    def _read(self, name: str) -> bytes:
        if name in self.parts:
            return self.parts[name]
        try:
            info = self.archive.getinfo(name)
            if self.checks is None:
                return self.archive.read(info)
            path, limits = self.checks
            return Members(self.archive).read(info, path, int(limits.part_mb * MB))
        except (KeyError, zipfile.BadZipFile, OSError, EOFError):
            return b""

    def part(self, name: str) -> bytes:
        """A part other than a sheet (b"" when missing or damaged), kept for a second reader."""
        if name not in self.parts:
            self.parts[name] = self._read(name)
        return self.parts[name]

    def sheet(self, sheet_name: str, *, placed: bool = False) -> bytes:
        """A worksheet's XML, checked before it is first given out (``placed``: for a reader of
        the cells that carry their reference only, see :func:`~kamxl.preflight.check_sheet`)."""
        if self._paths is None:
            self._paths = self._sheet_paths()
        part = self._paths.get(sheet_name, "")
        xml = self._read(part)
        if (
            self.checks is not None
            and (part, False) not in self._checked
            and (part, placed) not in self._checked
        ):
            path, limits = self.checks
            check_sheet(xml, part, sheet_name, path, limits, placed=placed)
            self._checked.add((part, placed))
            self.parts[part] = xml
        return xml

    def tables(self) -> dict[str, TableSpot]:
        """Every Excel table by name, from the table parts and the sheets' relationships.

        calamine parses a table's whole sheet again to answer for one table: the parts say
        where each table sits for a fraction of that.
        """
        if self._tables is None:
            if self._paths is None:
                self._paths = self._sheet_paths()
            self._tables = {}
            for sheet, part in self._paths.items():
                folder, base = part.rsplit("/", 1) if "/" in part else ("", part)
                for target in remembered(_table_targets, self._read(f"{folder}/_rels/{base}.rels")):
                    spot = remembered(_table_spot, self._read(part_target(folder, target)), sheet)
                    if spot is not None:
                        self._tables.setdefault(spot.name, spot)
        return self._tables

    def flags(self, sheet_name: str) -> dict[tuple[int, int], tuple[str, str]]:
        if sheet_name not in self._cache:
            self._cache[sheet_name] = _scan(self.sheet(sheet_name))
        return self._cache[sheet_name]


@lru_cache(maxsize=256)
def _targets_by_type(rels: bytes) -> tuple[tuple[str, str], ...]:
    """(type, target) of each relationship, the type's last word ("styles", "sharedStrings")."""
    return tuple((a.get("Type", "").rsplit("/", 1)[-1], a.get("Target", "")) for a in relationships(rels))


@lru_cache(maxsize=4096)
def _table_targets(rels: bytes) -> tuple[str, ...]:
    """Targets of a sheet's table relationships."""
    return tuple(
        a.get("Target", "")
        for a in relationships(rels)
        if a.get("Type", "").endswith("/table") and a.get("TargetMode") != "External"
    )


@lru_cache(maxsize=4096)
def _table_spot(xml: bytes, sheet: str) -> TableSpot | None:
    """Where a table part says its table sits (None for a part that is no table); shared, never
    changed."""
    entry = _TABLE_ENTRY.search(xml)
    if entry is None:
        return None
    a = xml_attrs(entry.group(0))
    name = a.get("displayName") or a.get("name", "")
    first, _, last = a.get("ref", "").partition(":")
    start, end = cell_index(first), cell_index(last or first)
    if not name or start is None or end is None:
        return None
    header_rows = _count(a.get("headerRowCount"), 1)
    totals = _count(a.get("totalsRowCount"), 0)
    headers = [_header(name) for name in _TABLE_COLUMN.findall(xml, entry.end())]
    last_row = end[0] - totals
    return TableSpot(name, sheet, start[0] + header_rows - 1, start[1], last_row, headers, totals)


def _count(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() else default


_TABLE_COLUMN = re.compile(rb'<(?:\w+:)?tableColumn\b[^>]*?\sname="([^"]*)"')
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


@lru_cache(maxsize=4096)
def _header(raw: bytes) -> str:
    """A column's name as Excel shows it: XML entities and Excel's ``_xHHHH_`` escapes undone."""
    text = html.unescape(raw.decode("utf-8", "replace"))
    return _EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _scan(xml: bytes) -> dict[tuple[int, int], tuple[str, str]]:
    """Cells holding an error value or a formula, keyed by 0-based (row, column)."""
    found: dict[tuple[int, int], tuple[str, str]] = {}
    for ref, text in _FORMULA_CELL.findall(xml):
        found[ref_index(ref)] = formula_flag(text)
    if b't="e"' in xml:
        for ref, code in _ERROR_CELL.findall(xml):
            found[ref_index(ref)] = ("error", code.decode("utf-8", "replace") or "#N/A")
    return found


class FileSource:
    """A workbook file: its values, formulas and error values read from each sheet's XML in one
    pass where the workbook is in the usual dialect (:mod:`.sheet_cells`), and otherwise values
    through calamine and the rest from the XML.

    ``book``: an open calamine workbook, or None to open one from ``data`` (the file's bytes)
    only if a sheet needs it.
    """

    def __init__(
        self,
        book: pc.CalamineWorkbook | None,
        archive: zipfile.ZipFile,
        parts: dict[str, bytes] | None = None,
        sheets: dict[str, str] | None = None,
        checks: tuple[Path, Limits] | None = None,
        *,
        data: bytes | None = None,
    ) -> None:
        self.xml = _SheetXml(archive, parts, sheets, checks)
        self._book, self._data = book, data
        self._cells: dict[str, tuple[Grid, dict[tuple[int, int], tuple[str, str]]] | None] = {}
        found = _usual_dialect(archive, self.xml) if book is None else None
        if found is None:
            self.dialect = None
            self.sheet_names: list[str] = list(self.book.sheet_names)
        else:
            self.sheet_names, self.dialect = found

    @property
    def book(self) -> pc.CalamineWorkbook:
        if self._book is None:
            path = self.xml.checks[0] if self.xml.checks else Path("workbook")
            self._book = open_calamine(self._data or b"", path)
        return self._book

    def close(self) -> None:
        if self._book is not None:
            self._book.close()

    def _fast(self, name: str) -> tuple[Grid, dict[tuple[int, int], tuple[str, str]]] | None:
        """The sheet read in one pass, or None: calamine reads it, after the full check."""
        if name not in self._cells:
            d = self.dialect
            self._cells[name] = sheet_cells(self.xml.sheet(name, placed=True), d) if d is not None else None
        return self._cells[name]

    def grid(self, name: str) -> Grid:
        if (fast := self._fast(name)) is not None:
            return fast[0]
        if self.xml.checks is not None:
            self.xml.sheet(name)  # checked before calamine parses it
        return self.book.get_sheet_by_name(name).to_python(skip_empty_area=False)

    def flags(self, name: str) -> dict[tuple[int, int], tuple[str, str]]:
        if (fast := self._fast(name)) is not None:
            return fast[1]
        return self.xml.flags(name)

    def table(self, name: str) -> TableSpot | None:
        try:
            return self.xml.tables().get(name)
        except Exception:  # damaged table parts: the tables are read from their usual place
            return None


_SHEET_FOLDERS = ("xl/worksheets/", "xl/chartsheets/")


def _usual_dialect(archive: zipfile.ZipFile, xml: _SheetXml) -> tuple[list[str], Dialect] | None:
    """The sheet names, in order, and the :class:`~kamxl.sheet_cells.Dialect` of a workbook
    whose parts the fast path reads as calamine does; None for any other."""
    rels, book = xml.part("xl/_rels/workbook.xml.rels"), xml.part("xl/workbook.xml")
    listed = listed_sheets(rels, book)
    names = [name for _, name in listed or ()]
    if (
        not listed
        or len(set(names)) != len(names)
        or any(not part.startswith(_SHEET_FOLDERS) or "_x" in name for part, name in listed)
    ):
        return None
    targets = dict(remembered(_targets_by_type, rels))
    styles = xml.part(part_target("xl", targets["styles"])) if "styles" in targets else b""
    strings = xml.part(part_target("xl", targets["sharedStrings"])) if "sharedStrings" in targets else None
    found = dialect(book, styles, strings)
    return None if found is None else (names, found)
