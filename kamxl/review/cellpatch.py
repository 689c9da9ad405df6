"""Change a few cell values in an existing workbook file, leaving every other byte of it alone.

Merge-back writes a client's updates into a KAM's workbook: rewriting the workbook with a
spreadsheet library would drop what that library does not model (buttons, the VBA project,
formatting the KAM added). Only the ``<c>`` elements of the edited cells change; their style is
kept; workbook formulas are marked for recalculation when Excel next opens the file.

A table with no blank row left grows downwards (:func:`grow_table`), as Excel grows it when a
row is typed below: its range and filter take the new rows, which get the styles and formulas
of the table's last row; the sheet's validations and conditional formats already reach below
the table (the writer sets them past it), and its print area follows.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from dataclasses import dataclass
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


def sheet_part_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> its part in the zip (``xl/worksheets/sheet3.xml``)."""
    return _sheet_parts(archive)


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
    """Sheet XML with the cells of ``edits`` ({"C12": value}) replaced or inserted.

    One pass over the rows, whatever the number of edits: a thousand rows typed by a client
    take as long to write as to read."""
    start, end = xml.find("<sheetData"), xml.find("</sheetData>")
    if start < 0:
        raise PatchError("no <sheetData> in the sheet")
    if end < 0:  # an empty sheet: <sheetData/>
        xml = xml.replace("<sheetData/>", "<sheetData></sheetData>", 1)
        end = xml.find("</sheetData>")
    body_start = xml.find(">", start) + 1
    body = xml[body_start:end]
    by_row: dict[int, list[tuple[int, str, Any]]] = {}
    for ref, value in edits.items():
        where = cell_index(ref)
        if where is None:
            raise PatchError(f"{ref} is not a cell address")
        by_row.setdefault(where[0] + 1, []).append((where[1], ref, value))
    pending = sorted(by_row)
    out: list[str] = []
    pos = i = 0

    def new_row(number: int) -> str:
        cells = sorted(by_row[number], key=lambda e: e[0])
        return f'<row r="{number}">' + "".join(cell_xml(ref, v, None) for _, ref, v in cells) + "</row>"

    for m in _ROW.finditer(body):
        number = int(m.group(1))
        while i < len(pending) and pending[i] < number:  # rows the sheet lacks go before this one
            out += [body[pos : m.start()], new_row(pending[i])]
            pos = m.start()
            i += 1
        if i < len(pending) and pending[i] == number:
            row = m.group(0)
            for _, ref, value in by_row[number]:
                row = _patch_row(row, ref, value)
            out += [body[pos : m.start()], row]
            pos = m.end()
            i += 1
    out.append(body[pos:])
    out += [new_row(n) for n in pending[i:]]
    return xml[:body_start] + "".join(out) + xml[end:]


def _recalc_on_load(book: str) -> str:
    if "<calcPr" not in book:
        return book.replace("</workbook>", '<calcPr fullCalcOnLoad="1"/></workbook>', 1)
    if "fullCalcOnLoad" in book:
        return re.sub(r'fullCalcOnLoad="[^"]*"', 'fullCalcOnLoad="1"', book, count=1)
    return book.replace("<calcPr", '<calcPr fullCalcOnLoad="1"', 1)


def patch_workbook(
    path: str | Path,
    edits: dict[str, dict[str, Any]],
    grow: dict[str, int] | None = None,
    *,
    mode: int | None = None,
) -> None:
    """Write ``edits`` ({sheet title: {cell: value}}) into the workbook at ``path``, atomically,
    after growing the tables of ``grow`` ({table name: its new last row}) down to that row.
    ``mode``: the permission bits the rewritten file gets (default: as a new file)."""
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        parts = _sheet_parts(archive)
        missing = [name for name in edits if name not in parts]
        if missing:
            raise PatchError(f"sheet {missing[0]!r} not found in {path.name}")
        changed: dict[str, str] = {}
        book = archive.read("xl/workbook.xml").decode("utf-8")

        def text(part: str) -> str:
            return changed[part] if part in changed else archive.read(part).decode("utf-8")

        for name, last in (grow or {}).items():
            spot = find_table(archive, name)
            if spot is None:
                raise PatchError(f"table {name} not found in {path.name}")
            changed[spot.sheet_part] = grow_sheet(text(spot.sheet_part), spot, last)
            changed[spot.part] = _grown_part(text(spot.part), spot, last)
            title = next((t for t, part in parts.items() if part == spot.sheet_part), "")
            book = _grown_print_area(book, title, spot, last)
        for name, cells in edits.items():
            if cells:
                changed[parts[name]] = patch_sheet(text(parts[name]), cells)
        changed["xl/workbook.xml"] = _recalc_on_load(book)
        with atomic_path(path, mode=mode) as tmp, zipfile.ZipFile(tmp, "w") as out:
            for info in archive.infolist():
                data = (
                    changed[info.filename].encode("utf-8") if info.filename in changed else archive.read(info)
                )
                out.writestr(info, data, compress_type=info.compress_type)


_TABLE_TAG = re.compile(r"<table\b[^>]*>", re.S)
_A1 = re.compile(r"(?<![A-Za-z_.$])\$?[A-Z]{1,3}\$?[0-9]+(?![0-9(A-Za-z_])")
_FORMULA = re.compile(r"<f\b([^>]*?)(?:/>|>(.*?)</f>)", re.S)


@dataclass(frozen=True)
class TableSpot:
    """An Excel table in the workbook file: its part, its sheet's part, its columns and rows."""

    part: str  # xl/tables/table12.xml
    sheet_part: str  # xl/worksheets/sheet11.xml
    first_col: int  # 1-based column numbers
    last_col: int
    header_row: int  # Excel row numbers
    last_row: int
    totals: int  # rows of the totals row (0 or 1)


def find_table(archive: zipfile.ZipFile, table_name: str) -> TableSpot | None:
    """Where the Excel table ``table_name`` sits: its part, its sheet and its range."""
    part = None
    for name in archive.namelist():
        if name.startswith("xl/tables/") and name.endswith(".xml"):
            tag = _TABLE_TAG.search(archive.read(name).decode("utf-8"))
            attrs = dict(_ATTR.findall(tag.group(0))) if tag else {}
            if attrs.get("name", "").casefold() == table_name.casefold():
                part = name
                break
    if part is None:
        return None
    for name in archive.namelist():
        if not (name.startswith("xl/worksheets/_rels/") and name.endswith(".rels")):
            continue
        for tag in _REL.findall(archive.read(name).decode("utf-8")):
            target = dict(_ATTR.findall(tag)).get("Target", "")
            resolved = (
                str(PurePosixPath("xl/worksheets") / target) if not target.startswith("/") else target[1:]
            )
            if _normal(resolved) == part:
                sheet = "xl/worksheets/" + PurePosixPath(name).name.removesuffix(".rels")
                first, _, last = attrs.get("ref", "").partition(":")
                start, end = cell_index(first), cell_index(last)
                if start is None or end is None:
                    return None
                return TableSpot(
                    part,
                    sheet,
                    start[1] + 1,
                    end[1] + 1,
                    start[0] + 1,
                    end[0] + 1,
                    int(attrs.get("totalsRowCount", "0") or 0),
                )
    return None


def _normal(path: str) -> str:
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _letters(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def _shared_formulas(sheet: str) -> dict[str, str]:
    """The text of each shared formula of a sheet, by its index (``si``): Excel writes it once."""
    masters: dict[str, str] = {}
    for m in _FORMULA.finditer(sheet):
        attrs = dict(_ATTR.findall(m.group(1)))
        if attrs.get("t") == "shared" and m.group(2) and "si" in attrs:
            masters.setdefault(attrs["si"], m.group(2))
    return masters


def _copied_cell(cell: str, masters: dict[str, str], ref: str) -> str:
    """A cell of the table's last row for a new row: its style and its formula, not its value."""
    head = cell[: cell.find(">") + 1]
    style = _STYLE.search(head)
    s = f' s="{style.group(1)}"' if style else ""
    found = _FORMULA.search(cell)
    if not found:
        return f'<c r="{ref}"{s}/>'
    attrs = dict(_ATTR.findall(found.group(1)))
    formula = found.group(2) or ""
    if attrs.get("t") == "shared":  # Excel keeps one copy of a column's formula: find it
        master = masters.get(attrs.get("si", ""))
        if master is None:
            raise PatchError(f"the shared formula to copy into {ref} is not found")
        formula = master
    elif attrs.get("t"):
        raise PatchError(f"an {attrs['t']} formula in the table's last row")
    bare = re.sub(r"\[[^\]]*\]|&quot;.*?&quot;|\"[^\"]*\"", "", formula)
    if _A1.search(html.unescape(bare)):
        raise PatchError("a formula of the table's last row refers to cells by address")
    return f'<c r="{ref}"{s}><f>{formula}</f></c>'


def _model_row(row: re.Match[str] | None, spot: TableSpot) -> tuple[str, dict[int, str]]:
    """The attributes and the table's cells of the table's last row, which new rows copy."""
    if row is None:
        return "", {}
    head = row.group(0)[: row.group(0).find(">") + 1]
    attrs = re.sub(r'\s(?:r|spans)="[^"]*"', "", head[len("<row") :].rstrip("/>"))
    cells = {}
    for m in _CELL.finditer(row.group(0)):
        if spot.first_col <= _col_number(m.group(1)) <= spot.last_col:
            cells[_col_number(m.group(1))] = m.group(0)
    return attrs, cells


def _merged_row(current: re.Match[str], new_cells: dict[int, str], spot: TableSpot, n: int) -> str:
    """An existing row below the table with the table's new cells in it; its cells in the
    table's columns must be empty."""
    kept = []
    for m in _CELL.finditer(current.group(0)):
        col = _col_number(m.group(1))
        if spot.first_col <= col <= spot.last_col:
            if re.search(r"<(?:v|f|is)\b", m.group(0)):
                raise PatchError(f"cell {m.group(1)}{n} below the table is not empty")
            continue
        kept.append((col, m.group(0)))
    cells = sorted(kept + list(new_cells.items()), key=lambda item: item[0])
    head = current.group(0)[: current.group(0).find(">") + 1].replace("/>", ">")
    head = re.sub(r'\sspans="[^"]*"', "", head)
    return head + "".join(c for _, c in cells) + "</row>"


def grow_sheet(xml: str, spot: TableSpot, last: int) -> str:
    """Sheet XML with rows ``spot.last_row + 1 .. last`` added to the table's columns, each a copy
    (styles and formulas) of the table's last row; raises :class:`PatchError` when a cell there
    holds anything or the last row's formulas cannot be copied. One pass over the sheet."""
    if spot.totals:
        raise PatchError("the table has a totals row")
    start, end = xml.find("<sheetData"), xml.find("</sheetData>")
    if start < 0 or end < 0:
        raise PatchError("no rows in the sheet")
    body_start = xml.find(">", start) + 1
    body = xml[body_start:end]
    ordered = list(_ROW.finditer(body))
    rows = {int(m.group(1)): m for m in ordered}
    row_attrs, model_cells = _model_row(rows.get(spot.last_row), spot)
    masters = _shared_formulas(body) if model_cells else {}
    edits: list[tuple[int, int, str]] = []  # (start, end, text) in the body
    later = sorted((int(m.group(1)), m.start()) for m in ordered)
    k = 0
    for n in range(spot.last_row + 1, last + 1):
        new_cells = {
            c: _copied_cell(model_cells[c], masters, f"{_letters(c)}{n}")
            if c in model_cells
            else f'<c r="{_letters(c)}{n}"/>'
            for c in range(spot.first_col, spot.last_col + 1)
        }
        current = rows.get(n)
        if current is None:
            while k < len(later) and later[k][0] <= n:
                k += 1
            at = later[k][1] if k < len(later) else len(body)
            edits.append((at, at, f'<row r="{n}"{row_attrs}>{"".join(new_cells.values())}</row>'))
        else:
            edits.append((current.start(), current.end(), _merged_row(current, new_cells, spot, n)))
    out, pos = [], 0
    for begin, stop, text in sorted(edits, key=lambda e: e[0]):  # stable: new rows keep their order
        out += [body[pos:begin], text]
        pos = stop
    out.append(body[pos:])
    return _grown_dimension(xml[:body_start] + "".join(out) + xml[end:], last)


def _grown_dimension(xml: str, last: int) -> str:
    m = re.search(r'<dimension ref="([A-Z]+\d+):([A-Z]+)(\d+)"', xml)
    if m and int(m.group(3)) < last:
        xml = xml[: m.start()] + f'<dimension ref="{m.group(1)}:{m.group(2)}{last}"' + xml[m.end() :]
    return xml


def _grown_part(xml: str, spot: TableSpot, last: int) -> str:
    """The table part with its range and its filter's range down to row ``last``."""
    old = f"{_letters(spot.first_col)}{spot.header_row}:{_letters(spot.last_col)}{spot.last_row}"
    new = f"{_letters(spot.first_col)}{spot.header_row}:{_letters(spot.last_col)}{last}"
    if f'ref="{old}"' not in xml:
        raise PatchError(f"the table's range {old} is not where expected")
    return xml.replace(f'ref="{old}"', f'ref="{new}"')


def _grown_print_area(book: str, title: str, spot: TableSpot, last: int) -> str:
    """A print area of the table's sheet that ended with the table ends with its new last row."""
    quoted = "'" + title.replace("'", "''") + "'"

    def area(m: re.Match[str]) -> str:
        text = m.group(0)
        for sheet in (quoted, title):
            if f">{sheet}!" in text or f",{sheet}!" in text:
                text = re.sub(rf"(\$[A-Z]+\$\d+:\$[A-Z]+\$){spot.last_row}(?=[,<])", rf"\g<1>{last}", text)
        return text

    return re.sub(r'<definedName name="_xlnm\.Print_Area"[^>]*>[^<]*</definedName>', area, book)


def can_grow(path: str | Path, table_name: str, last: int) -> str | None:
    """Why the table cannot grow down to row ``last`` (None when it can)."""
    with zipfile.ZipFile(path) as archive:
        spot = find_table(archive, table_name)
        if spot is None:
            return f"table {table_name} not found"
        try:
            grow_sheet(archive.read(spot.sheet_part).decode("utf-8"), spot, last)
        except PatchError as exc:
            return str(exc)
    return None


def table_rows(path: str | Path, table_name: str) -> tuple[int, int] | None:
    """First and last data row (Excel numbers) of an Excel table, from its table part."""
    with zipfile.ZipFile(path) as archive:
        spot = find_table(archive, table_name)
    return (spot.header_row + 1, spot.last_row - spot.totals) if spot else None
