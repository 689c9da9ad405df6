"""Hostile files for the robustness suite, built from real plans: small on disk, over the limits."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

from kamxl.preflight import sheet_parts


def rewrite_part(source: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    """Copy a workbook, passing every part through ``change(name, data)`` (None drops nothing)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            new = change(info.filename, data)
            out.writestr(info.filename, data if new is None else new)
    return target


def sheet_part(path: Path, sheet_prefix: str) -> str:
    """The part name of the first sheet whose name starts with ``sheet_prefix`` (Info, Infos)."""
    with zipfile.ZipFile(path) as archive:
        for part, name in sheet_parts(archive).items():
            if name.startswith(sheet_prefix):
                return part
    raise LookupError(sheet_prefix)


def stray_corner_cell(plan: Path, target: Path, sheet: str = "Info") -> Path:
    """A plan whose sheet holds one extra cell at XFD1048576 (python-calamine aborts on it)."""
    part = sheet_part(plan, sheet)
    cell = b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row>'
    return rewrite_part(
        plan, target, lambda n, d: d.replace(b"</sheetData>", cell + b"</sheetData>") if n == part else None
    )


def many_rows(plan: Path, target: Path, rows: int, sheet: str = "Info") -> Path:
    """A plan whose sheet XML holds ``rows`` extra empty rows after its data."""
    part = sheet_part(plan, sheet)

    def change(name: str, data: bytes) -> bytes | None:
        if name != part:
            return None
        m = max(int(r) for r in re.findall(rb'<row r="(\d+)"', data))
        extra = b"".join(b'<row r="%d"/>' % r for r in range(m + 1, m + 1 + rows))
        return data.replace(b"</sheetData>", extra + b"</sheetData>")

    return rewrite_part(plan, target, change)


def big_shared_strings(plan: Path, target: Path, megabytes: int) -> Path:
    """A plan whose sharedStrings part unpacks to ``megabytes`` (compresses to almost nothing)."""
    pad = b"<!-- " + b"x" * (megabytes * 1024 * 1024) + b" -->"

    def change(name: str, data: bytes) -> bytes | None:
        if name == "xl/sharedStrings.xml":
            return data.replace(b"<sst ", pad + b"<sst ", 1) if b"<sst " in data else data + pad
        return None

    return rewrite_part(plan, target, change)


def with_doctype(plan: Path, target: Path) -> Path:
    """A plan whose workbook part declares an entity (the billion-laughs shape, one level)."""
    dtd = b'<!DOCTYPE workbook [<!ENTITY a "aaaaaaaaaa">]>'

    def change(name: str, data: bytes) -> bytes | None:
        if name == "xl/workbook.xml":
            return re.sub(rb"(<\?xml[^>]*\?>)", lambda m: m.group(1) + dtd, data, count=1)
        return None

    return rewrite_part(plan, target, change)


def foreign_database(path: Path) -> Path:
    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        con.execute("INSERT INTO customers (name) VALUES ('Acme')")
    con.close()
    return path


def digest_tree(folder: Path) -> dict[str, str]:
    """SHA-256 of every regular file below ``folder`` (links and special files not followed)."""
    out = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue
            out[os.fsdecode(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
