"""A kamxl-written workbook as Excel would save it, for tests and benchmarks.

KAMs open their plans in Excel and save them: what kamxl then reads is Excel's dialect, not
XlsxWriter's. Excel writes the same cells and values, with its own habits, which this module
reproduces part by part:

* every XML part: ``<?xml ... standalone="yes"?>`` followed by CR LF;
* worksheets: the ``mc``/``x14ac``/``xr``/``xr2``/``xr3`` namespaces and an ``xr:uid`` on the
  root, ``x14ac:dyDescent`` on ``<sheetFormatPr>`` and on every row, numbers with up to 17
  significant digits and exponents as ``1.0000000000000001E-2``, formulas whose result is an
  empty text typed ``t="str"`` with an empty ``<v></v>``, and formulas filled down a
  column stored once as a shared formula (``<f t="shared" ref="C2:C9" si="0">``) with empty
  followers (``<f t="shared" si="0"/>``);
* the workbook: its revision pointer, absolute path, namespaces and calculation id;
* styles: their namespaces and ``x14ac:knownFonts``;
* tables: ``xr:uid``/``xr3:uid`` on the table, its filter and its columns;
* ``docProps/app.xml``: Microsoft Excel 16 as the application.

Deterministic: the same workbook gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Callable

NAMESPACES = {
    b"r": b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    b"mc": b"http://schemas.openxmlformats.org/markup-compatibility/2006",
    b"x14ac": b"http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac",
    b"xr": b"http://schemas.microsoft.com/office/spreadsheetml/2014/revision",
    b"xr2": b"http://schemas.microsoft.com/office/spreadsheetml/2015/revision2",
    b"xr3": b"http://schemas.microsoft.com/office/spreadsheetml/2016/revision3",
    b"x15": b"http://schemas.microsoft.com/office/spreadsheetml/2010/11/main",
    b"x16r2": b"http://schemas.microsoft.com/office/spreadsheetml/2015/02/main",
}
DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_DECLARED = re.compile(rb"\A<\?xml[^>]*\?>\s*")
_ROOT = re.compile(rb"<([A-Za-z]+)((?:\s+[\w:]+=\"[^\"]*\")*)\s*(/?)>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_ROW = re.compile(rb"<row\b([^>]*?)(/?)>")
_NUMBER_CELL = re.compile(
    rb'(<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")?(?: t="n")?>(?:<f\b[^>]*?(?:/>|>[^<]*</f>))?<v>)([^<]+)(</v>)'
)
_EMPTY_RESULT = re.compile(rb'(<c r="[A-Z]+[0-9]+"(?: s="[0-9]+")?)(><f\b[^>]*?(?:/>|>[^<]*</f>)<v></v></c>)')
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*><f>([^<]*)</f>')
# A relative or absolute cell reference outside a string, a quoted sheet name or a function name.
_TOKEN = re.compile(
    rb'"[^"]*"|\'[^\']*\'|(?<![A-Za-z0-9_.$])(\$?[A-Z]{1,3}\$?)([0-9]{1,7})(?![A-Za-z0-9_(\[])'
)
_ROW_RANGE = re.compile(rb"(?<![A-Za-z0-9_$])\$?[0-9]+:\$?[0-9]+")  # 3:5: left unshared


def to_excel(data: bytes) -> bytes:
    """The workbook ``data`` (an .xlsx or .xlsm) as Excel 16 saves it."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            name = info.filename
            if name.endswith((".xml", ".rels")) and body.startswith(b"<?xml"):
                body = excel_part(name, body)
            target = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            target.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(target, body)
    return out.getvalue()


def excel_part(name: str, xml: bytes) -> bytes:
    """One XML part as Excel writes it."""
    body = _DECLARED.sub(b"", xml, count=1)
    change = _PARTS.get(name) or next((f for prefix, f in _FOLDERS if name.startswith(prefix)), None)
    if change is not None:
        body = change(name, body)
    return DECLARATION + body


def _guid(*parts: object) -> bytes:
    digest = hashlib.sha1(repr(parts).encode()).digest()
    return b"{" + str(uuid.UUID(bytes=digest[:16])).upper().encode() + b"}"


def _with_root(body: bytes, ignorable: list[bytes], extra: list[tuple[bytes, bytes]]) -> bytes:
    """The root element with Excel's namespaces first, ``mc:Ignorable`` and ``extra`` attributes."""
    m = _ROOT.search(body)
    assert m is not None, body[:200]
    attrs = dict(_ATTR.findall(m.group(2)))
    names = [b"xmlns", b"xmlns:r"] if b"xmlns:r" in attrs else [b"xmlns"]
    ordered = {k: attrs.pop(k) for k in names if k in attrs}
    ordered[b"xmlns:mc"] = NAMESPACES[b"mc"]
    old = attrs.pop(b"mc:Ignorable", b"").split()
    ordered[b"mc:Ignorable"] = b" ".join(dict.fromkeys([*ignorable, *old]))
    for prefix in ignorable:
        ordered[b"xmlns:" + prefix] = NAMESPACES[prefix]
    ordered |= attrs | dict(extra)
    text = b" ".join(k + b'="' + v + b'"' for k, v in ordered.items())
    return body[: m.start()] + b"<" + m.group(1) + b" " + text + m.group(3) + b">" + body[m.end() :]


# -- worksheets -------------------------------------------------------------------------------------
def worksheet(name: str, body: bytes) -> bytes:
    body = _with_root(body, [b"x14ac", b"xr", b"xr2", b"xr3"], [(b"xr:uid", _guid(name))])
    body = re.sub(
        rb"<sheetFormatPr\b([^>]*?)/>",
        lambda m: (
            m.group(0)
            if b"dyDescent" in m.group(1)
            else b"<sheetFormatPr" + m.group(1) + b' x14ac:dyDescent="0.25"/>'
        ),
        body,
    )
    body = _ROW.sub(
        lambda m: (
            m.group(0)
            if b"dyDescent" in m.group(1)
            else b"<row" + m.group(1) + b' x14ac:dyDescent="0.25"' + m.group(2) + b">"
        ),
        body,
    )
    body = _NUMBER_CELL.sub(lambda m: m.group(1) + excel_number(m.group(2)) + m.group(3), body)
    body = _EMPTY_RESULT.sub(rb'\1 t="str"\2', body)
    return share_formulas(body)


def excel_number(text: bytes) -> bytes:
    """A number as Excel writes it: whole numbers bare, others with 17 significant digits."""
    x = float(text)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x)).encode()
    mantissa, _, exponent = f"{x:.17G}".partition("E")
    if not exponent:
        return mantissa.encode()
    power = int(exponent)  # E-05 -> E-5, E+20 stays
    return f"{mantissa}E{'+' if power > 0 else ''}{power}".encode()


def shift_rows(formula: bytes, rows: int) -> bytes | None:
    """The formula filled ``rows`` rows down (relative row numbers moved), or None where this
    module does not know how Excel would move it."""
    if _ROW_RANGE.search(formula):
        return None

    def move(m: re.Match[bytes]) -> bytes:
        if m.group(1) is None:
            return m.group(0)  # a string or a quoted sheet name
        col, row = m.group(1), m.group(2)
        return col + (row if col.endswith(b"$") else str(int(row) + rows).encode())

    return _TOKEN.sub(move, formula)


def share_formulas(body: bytes) -> bytes:
    """Formulas filled down a column (each the one above moved one row) as Excel stores them:
    the first cell holds the formula and the range, the others only the shared index."""
    column: dict[bytes, list[tuple[int, bytes]]] = {}
    for col, row, formula in _FORMULA_CELL.findall(body):
        column.setdefault(col, []).append((int(row), formula))
    replace: dict[bytes, bytes] = {}
    index = 0
    for col in sorted(column, key=lambda c: (len(c), c)):
        cells = sorted(column[col])
        i = 0
        while i < len(cells):
            j = i
            while (
                j + 1 < len(cells)
                and cells[j + 1][0] == cells[j][0] + 1
                and shift_rows(cells[j][1], 1) == cells[j + 1][1]
            ):
                j += 1
            if j > i:
                first, last = cells[i][0], cells[j][0]
                ref = b"%s%d:%s%d" % (col, first, col, last)
                replace[col + b"%d" % first] = b'<f t="shared" ref="%s" si="%d">%s</f>' % (
                    ref,
                    index,
                    cells[i][1],
                )
                for row, _ in cells[i + 1 : j + 1]:
                    replace[col + b"%d" % row] = b'<f t="shared" si="%d"/>' % index
                index += 1
            i = j + 1
    if not replace:
        return body

    def rewrite(m: re.Match[bytes]) -> bytes:
        new = replace.get(m.group(1) + m.group(2))
        if new is None:
            return m.group(0)
        start = m.group(0)
        return start[: start.index(b"<f>")] + new

    return _FORMULA_CELL.sub(rewrite, body)


# -- other parts ----------------------------------------------------------------------------------
def workbook(name: str, body: bytes) -> bytes:
    body = _with_root(body, [b"x15", b"xr", b"xr2", b"xr3"], [])
    path = (
        b'<mc:AlternateContent xmlns:mc="' + NAMESPACES[b"mc"] + b'"><mc:Choice Requires="x15">'
        b'<x15ac:absPath url="C:\\Users\\kam\\Documents\\Plans\\" '
        b'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"/>'
        b"</mc:Choice></mc:AlternateContent>"
        b'<xr:revisionPtr revIDLastSave="0" documentId="8_{' + _guid(name)[1:-1] + b'}" '
        b'xr6:coauthVersionLast="47" xr6:coauthVersionMax="47" '
        b'xr10:uidLastSave="{00000000-0000-0000-0000-000000000000}" '
        b'xmlns:xr6="http://schemas.microsoft.com/office/spreadsheetml/2016/revision6" '
        b'xmlns:xr10="http://schemas.microsoft.com/office/spreadsheetml/2016/revision10"/>'
    )
    body = re.sub(rb"(<workbookPr\b[^>]*/>)", lambda m: m.group(1) + path, body, count=1)
    body = re.sub(rb"<calcPr\b[^>]*/>", b'<calcPr calcId="191029"/>', body, count=1)
    return re.sub(
        rb"<workbookView\b", b'<workbookView xr2:uid="{00000000-000D-0000-FFFF-FFFF00000000}"', body, count=1
    )


def styles(name: str, body: bytes) -> bytes:
    body = _with_root(body, [b"x14ac", b"x16r2", b"xr"], [])
    return re.sub(rb'<fonts count="([0-9]+)">', rb'<fonts count="\1" x14ac:knownFonts="1">', body, count=1)


def table(name: str, body: bytes) -> bytes:
    body = _with_root(body, [b"xr", b"xr3"], [])
    body = re.sub(
        rb"(<table\b[^>]*?) id=\"([0-9]+)\"",
        lambda m: m.group(0) + b' xr:uid="' + _guid(name) + b'"',
        body,
        count=1,
    )
    body = re.sub(
        rb"<autoFilter ([^>]*?)(/?)>",
        lambda m: (
            b"<autoFilter " + m.group(1) + b' xr:uid="' + _guid(name, "filter") + b'"' + m.group(2) + b">"
        ),
        body,
    )
    return re.sub(
        rb'<tableColumn id="([0-9]+)"',
        lambda m: m.group(0) + b' xr3:uid="' + _guid(name, m.group(1)) + b'"',
        body,
    )


def app(name: str, body: bytes) -> bytes:
    body = re.sub(rb"<Application>[^<]*</Application>", b"<Application>Microsoft Excel</Application>", body)
    return re.sub(rb"<AppVersion>[^<]*</AppVersion>", b"<AppVersion>16.0300</AppVersion>", body)


Change = Callable[[str, bytes], bytes]
_PARTS: dict[str, Change] = {"xl/workbook.xml": workbook, "xl/styles.xml": styles, "docProps/app.xml": app}
_FOLDERS: list[tuple[str, Change]] = [("xl/worksheets/sheet", worksheet), ("xl/tables/table", table)]
