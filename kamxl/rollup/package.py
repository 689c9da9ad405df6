"""The summary's package: the workbook XlsxWriter saved, with kamxl's data rows put in place.

XlsxWriter writes each streamed table (:class:`.sheetxml.StreamedTable`) as a header, a few rows
of marker cells (one blank cell per format the rows use, from which the formats' style indices
are read back) and the total row. Here the marker rows make way for the data rows, the total
row moves under them, the table and the sheet's dimension grow to the rows' extent, the links
join the sheet's hyperlinks and relationships, and kamxl's shared strings come first in the
table (XlsxWriter's string indices move up by their number). Everything is standard
SpreadsheetML and the standard library's zipfile, packed at deflate level 1: the summary's
sheets are megabytes of XML, which the default level takes three times as long to pack, for a
file a fifth smaller.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

from xlsxwriter.utility import xl_col_to_name, xl_range

from .sheetxml import STYLE, StreamedTable, Strings, escape_attribute

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
ROW = re.compile(r'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.DOTALL)
CELL = re.compile(r'<c r="([A-Z]+)(\d+)"(?: s="(\d+)")?')
SHARED = re.compile(r'( t="s"><v>)(\d+)(</v>)')
ROW_TAG = re.compile(r"(<row [^>]*)>")
DYDESCENT = ' x14ac:dyDescent="0.25"'
# Elements that follow <hyperlinks> in a worksheet (CT_Worksheet's order), one of which XlsxWriter
# always writes (pageMargins).
AFTER_LINKS = ("<printOptions", "<pageMargins", "<pageSetup", "<headerFooter", "<rowBreaks")


class PackageError(ValueError):
    """XlsxWriter's package is not as kamxl expects it (a newer XlsxWriter writing differently)."""


def write_package(xlsx: bytes, path: Path, tables: list[StreamedTable], strings: Strings) -> None:
    """Write the workbook XlsxWriter saved as ``xlsx`` at ``path``, with ``tables`` in place."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src:
        parts = Parts(src, tables)
        shift = len(strings)
        if shift and parts.shared_strings not in src.namelist():
            raise PackageError("XlsxWriter wrote no shared-string table")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for info in src.infolist():
                name = info.filename
                if name in parts.streamed or (name == parts.shared_strings and shift):
                    pieces = (
                        parts.sheet(name, shift)
                        if name in parts.streamed
                        else _strings(src.read(name), strings)
                    )
                    with out.open(name, "w") as sink:  # the package's level, not XlsxWriter's
                        for piece in pieces:
                            sink.write(piece.encode("utf-8"))
                    continue
                data = src.read(name)
                if name in parts.sheet_parts and shift:
                    data = _shift(data.decode("utf-8"), shift).encode("utf-8")
                elif name in parts.changed:
                    data = parts.changed[name].encode("utf-8")
                out.writestr(zipfile.ZipInfo(name, info.date_time), data, zipfile.ZIP_DEFLATED, 1)


class Parts:
    """Where each table's sheet, table part and relationships are in XlsxWriter's package, and
    the small parts (tables, relationships) rewritten for them."""

    def __init__(self, src: zipfile.ZipFile, tables: list[StreamedTable]) -> None:
        self.src = src
        self.shared_strings = "xl/sharedStrings.xml"
        sheets = self._sheet_parts()
        self.sheet_parts = set(sheets.values())
        self.streamed: dict[str, StreamedTable] = {}
        self.changed: dict[str, str] = {}
        self.links: dict[str, str] = {}  # sheet part -> its links' <hyperlink> elements
        names = {table.name for table in tables}
        table_parts = self._table_parts(names)
        for table in tables:
            part = sheets.get(table.sheet)
            if part is None or part in self.streamed or table.name not in table_parts:
                raise PackageError(f"table {table.name!r} of sheet {table.sheet!r} not found in the workbook")
            self.streamed[part] = table
            self.changed[table_parts[table.name]] = _grown_table(self._text(table_parts[table.name]), table)
            if table.links:
                self.links[part] = self._links(part, table)

    def _text(self, name: str) -> str:
        return self.changed.get(name) or self.src.read(name).decode("utf-8")

    def _sheet_parts(self) -> dict[str, str]:
        """Sheet name -> its part, from the workbook and its relationships."""
        rels = _relationships(self.src, "xl/workbook.xml")
        book = ET.fromstring(self.src.read("xl/workbook.xml"))
        return {s.get("name", ""): rels[s.get(REL + "id", "")][1] for s in book.iter(MAIN + "sheet")}

    def _table_parts(self, names: set[str]) -> dict[str, str]:
        """Table name -> its part, for the tables named."""
        out = {}
        for name in self.src.namelist():
            if name.startswith("xl/tables/") and name.endswith(".xml"):
                root = ET.fromstring(self.src.read(name))
                if (display := root.get("displayName")) in names:
                    out[display] = name
        return out

    def sheet(self, name: str, shift: int) -> Iterator[str]:
        """The sheet ``name``'s XML, its table's data rows in place."""
        table = self.streamed[name]
        xml = _shift(self.src.read(name).decode("utf-8"), shift)
        start, end = xml.find("<sheetData>"), xml.find("</sheetData>")
        if start < 0 or end < 0:
            raise PackageError(f"no rows in {name}")
        head, body, tail = xml[: start + len("<sheetData>")], xml[start + len("<sheetData>") : end], xml[end:]
        before, total, after, styles, dy = _split_rows(body, table)
        last_row = max([table.last] + [int(r) - 1 for r in ROW.findall(after)])
        yield _dimension(head, table, last_row) + before
        for text in table.rows.texts():
            for k, index in styles.items():
                text = text.replace(STYLE.format(k), index)
            yield ROW_TAG.sub(r"\1" + DYDESCENT + ">", text) if dy else text
        table.rows = type(table.rows)()  # written once: the rows' memory goes with it
        yield total + after
        yield _with_links(tail, self.links[name]) if name in self.links else tail

    def _links(self, name: str, table: StreamedTable) -> str:
        """The ``<hyperlink>`` elements of a table's links; their relationships join the sheet's."""
        rels_name = posixpath.join(posixpath.dirname(name), "_rels", posixpath.basename(name) + ".rels")
        if rels_name not in self.src.namelist():
            raise PackageError(f"no relationships for {name}")
        rels = self._text(rels_name)
        used = [int(i) for i in re.findall(r'Id="rId(\d+)"', rels)]
        first = max(used, default=0) + 1
        elements, relationships = [], []
        for n, (r, c, link) in enumerate(table.links, start=first):
            where = f' location="{escape_attribute(link.location)}"' if link.location else ""
            elements.append(f'<hyperlink ref="{xl_col_to_name(c)}{r + 1}" r:id="rId{n}"{where}/>')
            relationships.append(
                f'<Relationship Id="rId{n}" Type="{HYPERLINK}" '
                f'Target="{escape_attribute(link.target)}" TargetMode="External"/>'
            )
        self.changed[rels_name] = rels.replace(
            "</Relationships>", "".join(relationships) + "</Relationships>"
        )
        return "".join(elements)


def _with_links(tail: str, elements: str) -> str:
    """The end of a sheet (from ``</sheetData>``) with ``elements`` in its ``<hyperlinks>``."""
    if "</hyperlinks>" in tail:
        return tail.replace("</hyperlinks>", elements + "</hyperlinks>", 1)
    at = min((i for i in (tail.find(tag) for tag in AFTER_LINKS) if i >= 0), default=-1)
    if at < 0:
        raise PackageError("a sheet without page margins")
    return tail[:at] + "<hyperlinks>" + elements + "</hyperlinks>" + tail[at:]


def _relationships(src: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, target part)."""
    folder = posixpath.dirname(part)
    name = posixpath.join(folder, "_rels", posixpath.basename(part) + ".rels")
    out = {}
    for rel in ET.fromstring(src.read(name)).iter(PKG + "Relationship"):
        target = rel.get("Target", "")
        resolved = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        out[rel.get("Id", "")] = (rel.get("Type", ""), resolved)
    return out


def _split_rows(body: str, table: StreamedTable) -> tuple[str, str, str, dict[int, str], bool]:
    """XlsxWriter's rows around the table's data: those above it, its total row (moved to its
    place), those below it; the style index of each placeholder, read from the marker cells;
    whether rows carry Excel 2010's row descent (a sheet with data bars)."""
    first, marks_end, short = table.top + 1, table.top + table.marker_rows, table.short_last
    before, after, total = [], [], ""
    found: dict[tuple[int, int], str] = {}
    dy = False
    for match in ROW.finditer(body):
        r, xml = int(match[1]) - 1, match[0]
        if r == table.top:
            dy = DYDESCENT in xml[: xml.find(">")]
        if r < first:
            before.append(xml)
        elif r <= marks_end:
            for letters, row, index in CELL.findall(xml):
                found[(int(row) - 1, _col(letters))] = index
        elif table.totals and r == short:
            total = _moved_total(xml, table)
        elif r > max(short, table.last):
            after.append(xml)
        else:
            raise PackageError(f"sheet {table.sheet!r}: row {r + 1} would be overwritten by the table's rows")
    styles = {}
    for k, (r, c, _) in enumerate(table.markers()):
        if (index := found.get((r, c))) is None:
            raise PackageError(
                f"sheet {table.sheet!r}: no style for the format of cell {xl_col_to_name(c)}{r + 1}"
            )
        styles[k] = f' s="{index}"' if index else ""  # style 0 is written as no style
    if table.totals and not total:
        raise PackageError(f"sheet {table.sheet!r}: the table's total row is missing")
    return "".join(before), total, "".join(after), styles, dy


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _moved_total(xml: str, table: StreamedTable) -> str:
    """The total row written by XlsxWriter, moved under the data rows: its formulas name the
    table's columns, never a cell, so only the row and cell numbers change."""
    row = table.last + 1
    xml = re.sub(r'^<row r="\d+"', f'<row r="{row}"', xml)
    xml = re.sub(r'(<c r="[A-Z]+)\d+"', rf'\g<1>{row}"', xml)
    cols = [_col(letters) for letters, _, _ in CELL.findall(xml)]
    shared = (table.last - 1) // 16 == table.last // 16  # data rows in its block of 16 rows
    low, high = (table.left, table.right) if shared or not cols else (min(cols), max(cols))
    return re.sub(r' spans="\d+:\d+"', f' spans="{low + 1}:{high + 1}"', xml, count=1)


def _dimension(head: str, table: StreamedTable, last_row: int) -> str:
    """The sheet's ``<dimension>`` grown to the table's rows."""
    match = re.search(r'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"/>', head)
    if match is None:
        raise PackageError(f"sheet {table.sheet!r} has no dimension")
    c0, r0 = _col(match[1]), int(match[2]) - 1
    c1 = max(_col(match[3] or match[1]), table.right)
    ref = xl_range(min(r0, table.top), min(c0, table.left), last_row, c1)
    return head[: match.start()] + f'<dimension ref="{ref}"/>' + head[match.end() :]


def _grown_table(xml: str, table: StreamedTable) -> str:
    """A table part stretched over all its rows (XlsxWriter was given the markers' rows)."""
    whole = xl_range(table.top, table.left, table.last, table.right)
    data_last = table.last - (1 if table.totals else 0)
    filtered = xl_range(table.top, table.left, data_last, table.right)
    xml, n = re.subn(r'(<table\b[^>]*?\sref=")[^"]*"', rf'\g<1>{whole}"', xml, count=1)
    if n != 1:
        raise PackageError(f"table {table.name!r} has no range")
    return re.sub(r'(<autoFilter ref=")[^"]*"', rf'\g<1>{filtered}"', xml, count=1)


def _shift(xml: str, shift: int) -> str:
    """XlsxWriter's string cells, their indices moved past kamxl's strings."""
    return SHARED.sub(lambda m: f"{m[1]}{int(m[2]) + shift}{m[3]}", xml) if shift else xml


def _strings(data: bytes, strings: Strings) -> Iterator[str]:
    """The shared-string table: kamxl's strings, then XlsxWriter's."""
    xml = data.decode("utf-8")
    match = re.search(r"<sst\b[^>]*>", xml)
    counts = [re.search(rf'\s{a}="(\d+)"', match[0]) if match else None for a in ("count", "uniqueCount")]
    if match is None or match[0].endswith("/>") or counts[0] is None or counts[1] is None:
        raise PackageError("the shared-string table is not as XlsxWriter writes it")
    tag = match[0].replace(counts[0][0], f' count="{int(counts[0][1]) + strings.count}"', 1)
    tag = tag.replace(counts[1][0], f' uniqueCount="{int(counts[1][1]) + len(strings)}"', 1)
    yield xml[: match.start()] + tag
    yield from strings.xml()
    yield xml[match.end() :]
