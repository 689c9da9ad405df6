"""Change a few cell values in an existing workbook file, leaving every other byte of it alone.

Merge-back writes a client's updates into a KAM's workbook: rewriting the workbook with a
spreadsheet library would drop what that library does not model (buttons, the VBA project,
formatting the KAM added). Only the ``<c>`` elements of the edited cells change; their style is
kept; workbook formulas are marked for recalculation when Excel next opens the file.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from ..coerce import to_serial
from ..fileio import atomic_path
from ..reader import cell_index

_SHEET = re.compile(r'<sheet\b[^>]*\bname="([^"]*)"[^>]*\br:id="([^"]*)"', re.S)
_REL = re.compile(r"<Relationship\b[^>]*>")
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_ROW = re.compile(r'<row\b[^>]*\br="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)
_CELL = re.compile(r'<c\b[^>]*\br="([A-Z]+)(\d+)"[^>]*?(?:/>|>.*?</c>)', re.S)
_STYLE = re.compile(r'\bs="(\d+)"')


class PatchError(ValueError):
    """The workbook's XML is not laid out as expected; nothing was written."""


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    book = archive.read("xl/workbook.xml").decode("utf-8")
    rels = {}
    for tag in _REL.findall(archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")):
        attrs = dict(_ATTR.findall(tag))
        target = attrs.get("Target", "")
        rels[attrs.get("Id")] = (
            target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        )
    return {html.unescape(name): rels[rid] for name, rid in _SHEET.findall(book) if rid in rels}


def cell_xml(ref: str, value: Any, style: str | None) -> str:
    """One ``<c>`` element: text inline, numbers and dates (as serials) as values, None blank."""
    s = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.date):
        value = to_serial(value if not isinstance(value, dt.datetime) else value.date())
    if isinstance(value, int | float):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    text = html.escape(str(value), quote=False)
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _patch_row(row_xml: str, ref: str, value: Any) -> str:
    head_end = row_xml.find(">")
    row_xml = re.sub(r'\sspans="[^"]*"', "", row_xml[:head_end]) + row_xml[head_end:]
    letters = re.match(r"[A-Z]+", ref).group(0)  # type: ignore[union-attr]
    for m in _CELL.finditer(row_xml):
        if m.group(1) == letters:
            style = _STYLE.search(m.group(0)[: m.group(0).find(">") + 1])
            return row_xml[: m.start()] + cell_xml(ref, value, style and style.group(1)) + row_xml[m.end() :]
        if _col_number(m.group(1)) > _col_number(letters):
            return row_xml[: m.start()] + cell_xml(ref, value, None) + row_xml[m.start() :]
    if row_xml.endswith("/>"):
        return row_xml[:-2] + ">" + cell_xml(ref, value, None) + "</row>"
    return row_xml[: -len("</row>")] + cell_xml(ref, value, None) + "</row>"


def patch_sheet(xml: str, edits: dict[str, Any]) -> str:
    """Sheet XML with the cells of ``edits`` ({"C12": value}) replaced or inserted."""
    start, end = xml.find("<sheetData"), xml.find("</sheetData>")
    if start < 0:
        raise PatchError("no <sheetData> in the sheet")
    if end < 0:  # an empty sheet: <sheetData/>
        xml = xml.replace("<sheetData/>", "<sheetData></sheetData>", 1)
        end = xml.find("</sheetData>")
    body_start = xml.find(">", start) + 1
    body = xml[body_start:end]
    for ref, value in edits.items():
        where = cell_index(ref)
        if where is None:
            raise PatchError(f"{ref} is not a cell address")
        row_no = where[0] + 1
        for m in _ROW.finditer(body):
            number = int(m.group(1))
            if number == row_no:
                body = body[: m.start()] + _patch_row(m.group(0), ref, value) + body[m.end() :]
                break
            if number > row_no:
                body = (
                    body[: m.start()]
                    + f'<row r="{row_no}">{cell_xml(ref, value, None)}</row>'
                    + body[m.start() :]
                )
                break
        else:
            body += f'<row r="{row_no}">{cell_xml(ref, value, None)}</row>'
    return xml[:body_start] + body + xml[end:]


def _recalc_on_load(book: str) -> str:
    if "<calcPr" not in book:
        return book.replace("</workbook>", '<calcPr fullCalcOnLoad="1"/></workbook>', 1)
    if "fullCalcOnLoad" in book:
        return re.sub(r'fullCalcOnLoad="[^"]*"', 'fullCalcOnLoad="1"', book, count=1)
    return book.replace("<calcPr", '<calcPr fullCalcOnLoad="1"', 1)


def patch_workbook(path: str | Path, edits: dict[str, dict[str, Any]]) -> None:
    """Write ``edits`` ({sheet title: {cell: value}}) into the workbook at ``path``, atomically."""
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        parts = _sheet_parts(archive)
        missing = [name for name in edits if name not in parts]
        if missing:
            raise PatchError(f"sheet {missing[0]!r} not found in {path.name}")
        changed = {
            parts[name]: patch_sheet(archive.read(parts[name]).decode("utf-8"), cells)
            for name, cells in edits.items()
            if cells
        }
        changed["xl/workbook.xml"] = _recalc_on_load(archive.read("xl/workbook.xml").decode("utf-8"))
        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as out:
            for info in archive.infolist():
                data = (
                    changed[info.filename].encode("utf-8") if info.filename in changed else archive.read(info)
                )
                out.writestr(info, data, compress_type=info.compress_type)


_TABLE_TAG = re.compile(r"<table\b[^>]*>", re.S)


def table_rows(path: str | Path, table_name: str) -> tuple[int, int] | None:
    """First and last data row (Excel numbers) of an Excel table, from its table part."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not (name.startswith("xl/tables/") and name.endswith(".xml")):
                continue
            tag = _TABLE_TAG.search(archive.read(name).decode("utf-8"))
            attrs = dict(_ATTR.findall(tag.group(0))) if tag else {}
            if attrs.get("name", "").casefold() != table_name.casefold():
                continue
            first, _, last = attrs.get("ref", "").partition(":")
            start, end = cell_index(first), cell_index(last)
            if start is None or end is None:
                return None
            totals = int(attrs.get("totalsRowCount", "0") or 0)
            return start[0] + 2, end[0] + 1 - totals
    return None
