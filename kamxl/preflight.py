"""Checks a file passes before any spreadsheet or XML parser sees it.

A shared drive holds whatever people and programs leave there: FIFOs and device links named
``.xlsx``, zip bombs, XML with entity declarations, and sheets that claim (or hold one stray
cell at) a million rows by sixteen thousand columns, which python-calamine answers by sizing a
grid that aborts the whole process. The pre-flight reads only the zip directory, the first bytes
of each XML part and the cell references of each worksheet, and refuses such a file with a reason
a person can act on. The limits are generous for real plans (thousands of table rows) and can
be set per call or through ``KAMXL_LIMIT_*`` environment variables (docs/check.md).
"""

from __future__ import annotations

import dataclasses
import html
import io
import os
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from .findings import PlanReadError

MB = 1024 * 1024


class RefusedFile(PlanReadError):
    """A file kamxl will not hand to a parser: not a regular file, or over a limit."""


@dataclass(frozen=True)
class Limits:
    """What a workbook may hold before it is refused; every field is documented in docs/check.md."""

    file_mb: float = 100  # size on disk
    part_mb: float = 128  # one part of the zip, uncompressed
    total_mb: float = 512  # all parts, uncompressed
    ratio: float = 250  # uncompressed / compressed size of one part over 1 MB
    parts: int = 5_000  # entries in the zip
    rows: int = 100_000  # rows a sheet holds
    columns: int = 1_024  # columns a sheet holds (up to column AMJ)
    cells: int = 20_000_000  # rows x columns of a sheet's grid
    worker_mb: float = 400  # memory reading the file may take (estimated below), as isolation's budget

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """Defaults, overridden by ``KAMXL_LIMIT_<FIELD>`` (e.g. ``KAMXL_LIMIT_ROWS=250000``)."""
        env = os.environ if environ is None else environ
        values = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"KAMXL_LIMIT_{f.name.upper()}")
            if raw:
                try:
                    values[f.name] = type(getattr(cls, f.name))(float(raw))
                except ValueError:
                    raise ValueError(f"KAMXL_LIMIT_{f.name.upper()}={raw!r} is not a number") from None
        return cls(**values)


def check_file(path: str | Path, limits: Limits | None = None) -> os.stat_result:
    """Refuse anything but a regular file of a plausible size (links are followed to their target)."""
    limits = limits or Limits.from_env()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise RefusedFile(path, f"cannot be opened: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise RefusedFile(path, f"not a regular file ({file_kind(st.st_mode)}): nothing was read from it")
    if st.st_size > limits.file_mb * MB:
        raise RefusedFile(
            path, f"the file is {_mb(st.st_size)}, over the {_mb(limits.file_mb * MB)} a workbook may have"
        )
    return st


def file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a plain file"


def _mb(size: float) -> str:
    return f"{size / MB:,.0f} MB" if size >= 10 * MB else f"{size / MB:,.1f} MB"


_XML_SUFFIXES = (".xml", ".rels", ".vml")
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
# Patterns that start with a literal are scanned for quickly: the grid check reads every cell.
_ROW_REF = re.compile(rb'row\b[^>]*?\br="(\d+)"')
# Only cells carry a reference with letters (a row's is digits; ref= and sqref= are other names).
_CELL_REF = re.compile(rb'\sr="([A-Z]+)(\d+)"')
_REF_SPACED = re.compile(rb' r="([A-Z]*)([0-9]+)"')
_NO_REF_CELL = re.compile(rb'<(?:\w+:)?c(?=[\s>/])(?![^>]*\sr=")')
_ROW_END = re.compile(rb"</(?:\w+:)?row>")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_DECLARATION = 256  # bytes an XML declaration may take
_PROLOG_BYTES = 65536
_FIRST_BYTES = 2048  # enough for the prolog of every part Excel and the libraries write


def check_archive(
    archive: zipfile.ZipFile,
    path: str | Path,
    limits: Limits | None = None,
    sheets: dict[str, str] | None = None,
    *,
    check_sheets: bool = True,
) -> dict[str, bytes]:
    """Refuse a zip whose parts are too large, too compressed or declare a DTD; check every sheet.

    ``sheets``: :func:`sheet_parts` of the archive, when the caller has it already.
    ``check_sheets=False`` leaves each sheet's cells to :func:`check_sheet`, for a reader that
    checks a sheet right before it parses it and never inflates the sheets it does not read.
    Returns the parts it read whole (part name -> XML: every checked worksheet and the small
    parts), so a reader does not inflate them twice.
    """
    limits = limits or Limits.from_env()
    infos = archive.infolist()
    if len(infos) > limits.parts:
        raise RefusedFile(path, f"the workbook holds {len(infos):,} parts, more than {limits.parts:,}")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits.part_mb * MB:
            raise RefusedFile(
                path,
                f"{_part_label(info.filename)} would be {_mb(info.file_size)} once unpacked, over the "
                f"{_mb(limits.part_mb * MB)} one part may have",
            )
        if info.file_size > MB and info.file_size > limits.ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise RefusedFile(
                path,
                f"{_part_label(info.filename)} is compressed {ratio:,.0f} to 1, more than the "
                f"{limits.ratio:,.0f} to 1 of a real workbook (a zip bomb?)",
            )
    if total > limits.total_mb * MB:
        raise RefusedFile(
            path, f"the workbook would be {_mb(total)} once unpacked, over {_mb(limits.total_mb * MB)}"
        )
    sheets = sheet_parts(archive) if sheets is None else sheets
    _check_memory(infos, sheets, path, limits)
    members = Members(archive)
    read: dict[str, bytes] = {}
    for info in infos:
        name = info.filename
        if not name.lower().endswith(_XML_SUFFIXES):
            continue
        if name in sheets and check_sheets:
            data = members.read(info, path, int(limits.part_mb * MB))
            read[name] = data
            check_sheet(data, name, sheets[name], path, limits)
            continue
        head = members.head_checked(info, path, remember=name not in sheets)
        if len(head) == info.file_size:
            read[name] = head  # read whole: a reader needing this part takes it from here
    return read


# Peak resident memory of a reading process, measured on sheets of dense numeric cells (the most
# cells per byte; text cells cost about half): about 100 MB for the process and a small plan, and
# 12 MB more per MB of sheet and shared-string XML (docs/check.md#limits).
READ_BASE_MB = 100
READ_MB_PER_XML_MB = 12


def read_memory_mb(xml_bytes: int) -> float:
    """The memory reading a workbook with ``xml_bytes`` of sheet and shared-string XML may take."""
    return READ_BASE_MB + READ_MB_PER_XML_MB * xml_bytes / MB


def _check_memory(
    infos: list[zipfile.ZipInfo], sheets: dict[str, str], path: str | Path, limits: Limits
) -> None:
    """Refuse, before reading it, a file whose reading would take more than a reading process may
    use: the largest file the other limits allow would take several times that."""
    xml = sum(i.file_size for i in infos if i.filename in sheets or i.filename.endswith("sharedStrings.xml"))
    need = read_memory_mb(xml)
    if need > limits.worker_mb:
        raise RefusedFile(
            path,
            f"reading it would take about {need:,.0f} MB ({_mb(xml)} of sheet XML), over the "
            f"{limits.worker_mb:,.0f} MB a reading process may use (KAMXL_LIMIT_WORKER_MB)",
        )


def check_sheet(
    xml: bytes, part: str, sheet: str, path: str | Path, limits: Limits, *, placed: bool = False
) -> None:
    """Refuse a worksheet that declares a DTD or whose cells would size a grid beyond the limits.

    ``placed``: for a reader that reads only cells carrying their reference, unprefixed
    (:mod:`kamxl.sheet_cells`): the quick check then need not look for any other kind.
    """
    _check_prolog(xml[:_PROLOG_BYTES], part, path)
    _check_grid(xml, sheet, path, limits, placed)


class Members:
    """Parts of a zip held in memory, inflated straight from its bytes.

    zipfile's ``open`` costs more than inflating a small part, and a workbook has some sixty
    parts: reading them from the buffer the zip was opened on keeps the pre-flight cheap. Sizes
    and checksums are held to what the zip's directory says, as zipfile does; parts zipfile
    alone can read (encrypted, other compression methods, a zip on disk) go through zipfile.
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        fp = archive.fp
        self.data = fp.getbuffer() if isinstance(fp, io.BytesIO) else None

    def read(self, info: zipfile.ZipInfo, path: str | Path, cap: int) -> bytes:
        """The whole part, never more than ``cap`` bytes whatever its header claims."""
        raw = self._raw(info)
        if raw is None:
            return _read_part(self.archive, info, path, cap)
        try:
            data = _inflate(raw, info, cap + 1)
        except zlib.error as exc:
            raise RefusedFile(path, f"{_part_label(info.filename)} is damaged ({exc})") from None
        if len(data) > cap:
            raise RefusedFile(path, f"{_part_label(info.filename)} unpacks to more than its header says")
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            raise _bad_size(path, info)
        return data

    def head(self, info: zipfile.ZipInfo, path: str | Path, size: int) -> bytes:
        """The part's first ``size`` bytes (all of it when smaller, its checksum then checked)."""
        raw = self._raw(info)
        if raw is None:
            try:
                with self.archive.open(info) as fh:
                    return fh.read(size)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise RefusedFile(path, f"{_part_label(info.filename)} is damaged ({exc})") from None
        try:
            head = _inflate(raw, info, size)
        except zlib.error as exc:
            raise RefusedFile(path, f"{_part_label(info.filename)} is damaged ({exc})") from None
        if len(head) < size and (len(head) != info.file_size or zlib.crc32(head) != info.CRC):
            raise _bad_size(path, info)
        return head

    def head_checked(self, info: zipfile.ZipInfo, path: str | Path, *, remember: bool = False) -> bytes:
        """The part's first bytes, its prolog checked (:func:`_check_prolog`).

        ``remember``: the part's bytes are worth remembering. Plans made from one template share
        most of their parts byte for byte (theme, tables, relationships, drawings): a part whose
        compressed bytes passed before is not inflated and checked again.
        """
        raw = self._raw(info) if remember else None
        key = None
        if raw is not None and info.file_size <= _REMEMBERED_BYTES:
            key = (info.compress_type, info.file_size, info.CRC, bytes(raw))
            if (known := _CHECKED_PARTS.get(key)) is not None:
                return known
        head = self.head(info, path, _FIRST_BYTES)
        if len(head) == _FIRST_BYTES and _ROOT_START.search(head) is None:
            head = self.head(info, path, _PROLOG_BYTES)  # a long prolog: read on to its end
        _check_prolog(head, info.filename, path)
        if key is not None:
            if len(_CHECKED_PARTS) >= _REMEMBERED_PARTS:
                _CHECKED_PARTS.clear()
            _CHECKED_PARTS[key] = head
        return head

    def _raw(self, info: zipfile.ZipInfo) -> memoryview | None:
        """The part's compressed bytes, or None where zipfile must read it."""
        data = self.data
        if (
            data is None
            or info.flag_bits & 0x1
            or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        ):
            return None
        start = info.header_offset
        header = bytes(data[start : start + _LOCAL_HEADER.size])
        if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            return None  # zipfile says what is wrong
        names, extra = _LOCAL_HEADER.unpack(header)[-2:]
        begin = start + _LOCAL_HEADER.size + names + extra
        raw = data[begin : begin + info.compress_size]
        return raw if len(raw) == info.compress_size else None


# Parts whose compressed bytes passed the prolog check, with their first bytes (their whole text
# when small): kept per process, a few thousand small parts at most.
_CHECKED_PARTS: dict[tuple[int, int, int, bytes], bytes] = {}
_REMEMBERED_PARTS = 1024
_REMEMBERED_BYTES = 16384  # size up to which a part is remembered

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader
_INFLATED = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def _read_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str | Path, cap: int) -> bytes:
    """The part's bytes through zipfile, never more than ``cap`` whatever its header claims."""
    try:
        with archive.open(info) as fh:
            data = fh.read(cap + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise RefusedFile(path, f"{_part_label(info.filename)} is damaged ({exc})") from None
    if len(data) > cap:
        raise RefusedFile(path, f"{_part_label(info.filename)} unpacks to more than its header says")
    return data


def _bad_size(path: str | Path, info: zipfile.ZipInfo) -> RefusedFile:
    return RefusedFile(path, f"{_part_label(info.filename)} is damaged (its size or checksum is wrong)")


def _inflate(raw: memoryview, info: zipfile.ZipInfo, size: int) -> bytes:
    if info.compress_type == zipfile.ZIP_STORED:
        return bytes(raw[:size])
    return zlib.decompressobj(-15).decompress(raw, size)


def _check_prolog(head: bytes, name: str, path: str | Path) -> None:
    root = _ROOT_START.search(head)
    prolog = head[: root.start()] if root else head
    if _DTD.search(prolog):
        raise RefusedFile(
            path, f"{_part_label(name)} declares a DOCTYPE or entities, which Excel never writes: not read"
        )
    if root is None and len(head) >= _PROLOG_BYTES:
        raise RefusedFile(path, f"{_part_label(name)} has no XML element in its first 64 kB")


def _usual(xml: bytes) -> bool:
    """A sheet as Excel and every library write it: attributes separated by spaces, no prefix on
    rows. A single-byte search is the fastest scan there is; any other sheet takes the slow path."""
    start = xml.find(b"?>", 0, _DECLARATION) + 2 if xml.startswith(b"<?xml") else 0
    while xml[start : start + 1] in (b"\r", b"\n"):  # the line break after the declaration
        start += 1
    return (
        xml.find(b"\n", start) == -1
        and xml.find(b"\r", start) == -1
        and b"\t" not in xml
        and b":row" not in xml
    )


def _small_grid(xml: bytes, limits: Limits, placed: bool = False) -> bool:
    """Whether a sheet is certainly inside the limits: no reference reaches row 10,000 or a
    three-letter column, every cell carries its reference (first, as every writer puts it) and
    there are fewer than 10,000 rows. A few searches that find nothing cost far less than
    collecting every reference; anything unusual takes the exact path."""
    if (
        limits.rows < _SMALL_ROWS
        or limits.columns < _SMALL_COLUMNS
        or limits.cells < _SMALL_ROWS * _SMALL_COLUMNS
    ):
        return False
    if _BIG_REF.search(xml) or (not placed and (_PREFIXED.search(xml) or _REFLESS_CELL.search(xml))):
        return False
    # A row tag takes at least 6 bytes: a shorter sheet cannot hold 10,000 of them.
    return len(xml) < 6 * _SMALL_ROWS or xml.count(b"<row") <= _SMALL_ROWS


# False matches only send a sheet to the exact path.
_BIG_REF = re.compile(rb'r="(?:[A-Z]{3}|[A-Z]*[0-9]{5})')
_PREFIXED = re.compile(rb":(?:c|row)[\s>/]")  # a prefixed row or cell (colons are rare: a quick scan)
_REFLESS_CELL = re.compile(rb'<c(?:[>/]|\s+(?!r="))')
_SMALL_ROWS, _SMALL_COLUMNS = 9_999, 702  # what _BIG_REF lets through: rows 1-9999, columns A-ZZ


def _check_grid(xml: bytes, sheet: str, path: str | Path, limits: Limits, placed: bool = False) -> None:
    """Refuse a sheet whose cells would make a reader size a grid beyond the limits."""
    if _small_grid(xml, limits, placed):
        return
    usual = _usual(xml)
    if usual:  # one pass: rows' references (digits) and cells' (letters and digits)
        refs = set(_REF_SPACED.findall(xml))
        rows = max(map(int, {row for letters, row in refs if not letters}), default=0)
        refs = {ref for ref in refs if ref[0]}
    else:
        rows = max(map(int, set(_ROW_REF.findall(xml))), default=0)
        refs = set(_CELL_REF.findall(xml))
    cols, far = 0, b""
    if refs:
        far = max({letters for letters, _ in refs}, key=lambda s: (len(s), s))
        cols = column_number(far.decode())
        rows = max(rows, *map(int, {row for _, row in refs}))
    # Rows and cells may leave out their reference: then their position is their count.
    tags = xml.count(b"<row ") + xml.count(b"<row>") + xml.count(b"<row/") if usual else 0
    rows = max(rows, tags if usual else len(_ROW_TAG.findall(xml)))
    if _NO_REF_CELL.search(xml):  # each such cell sits one column right of the previous one
        cols += max((len(_NO_REF_CELL.findall(r)) for r in _ROW_END.split(xml)), default=0)
    if rows > limits.rows or cols > limits.columns or rows * cols > limits.cells:
        where = far.decode() + max((r for c, r in refs if c == far), key=int).decode() if far else ""
        stray = f" (the farthest cell is {where})" if where else ""
        raise RefusedFile(
            path,
            f"the {sheet} sheet claims {rows:,} rows × {cols:,} columns{stray}, more than kamxl reads "
            f"in a sheet (at most {limits.rows:,} rows × {limits.columns:,} columns): clear the cells "
            "beyond the data and save it again",
        )


def column_number(letters: str) -> int:
    """``"XFD"`` -> 16384."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


_SHEET_ENTRY = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_REL = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')


def xml_attrs(tag: bytes) -> dict[str, str]:
    return {
        k.decode().split(":")[-1]: html.unescape(v.decode("utf-8", "replace")) for k, v in _ATTR.findall(tag)
    }


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part name -> sheet name, from the workbook and its relationships."""
    rels, book = _small_part(archive, "xl/_rels/workbook.xml.rels"), _small_part(archive, "xl/workbook.xml")
    parts = dict(remembered(_listed_sheets, rels, book)[0])
    # Parts that look like worksheets but are not listed are still parsed by some readers.
    for name in archive.namelist():
        if name.startswith("xl/worksheets/") and name.endswith(".xml") and name not in parts:
            parts[name] = Path(name).stem
    return parts


@lru_cache(maxsize=256)
def _listed_sheets(rels_xml: bytes, workbook_xml: bytes) -> tuple[tuple[tuple[str, str], ...], bool]:
    """(part, name) of the sheets whose relationship resolves, and whether every sheet listed does
    (to a part of its own)."""
    targets = {a.get("Id", ""): part_target("xl", a.get("Target", "")) for a in relationships(rels_xml)}
    entries = _SHEET_ENTRY.findall(workbook_xml)
    parts = {}
    for tag in entries:
        a = xml_attrs(tag)
        if a.get("name") and a.get("id") in targets:
            parts[targets[a["id"]]] = a["name"]
    return tuple(parts.items()), len(parts) == len(entries)


def listed_sheets(rels_xml: bytes, workbook_xml: bytes) -> tuple[tuple[str, str], ...] | None:
    """(part, name) of every sheet the workbook lists, in its order; None when one of them does
    not resolve to a part of its own."""
    listed, whole = remembered(_listed_sheets, rels_xml, workbook_xml)
    return listed if whole else None


def relationships(rels_xml: bytes) -> list[dict[str, str]]:
    """The attributes of each relationship of a ``.rels`` part."""
    return [xml_attrs(tag) for tag in _REL.findall(rels_xml)]


def part_target(folder: str, target: str) -> str:
    """A relationship's target, relative to the part's ``folder`` or absolute, as a part name."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))


def remembered(func: Callable[..., T], *parts: Any) -> T:
    """``func(*parts)`` through its cache when the parts are small (plans made from one template
    share their workbook, relationship and table parts byte for byte: each is parsed once), and
    uncached otherwise, so no large part is ever kept."""
    size = sum(len(p) for p in parts if isinstance(p, bytes))
    if size > _REMEMBERED_BYTES:
        return func.__wrapped__(*parts)  # type: ignore[attr-defined]
    return func(*parts)


T = TypeVar("T")


def _small_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """A part of at most 16 MB, or nothing when it is missing or damaged."""
    try:
        return Members(archive).head(archive.getinfo(name), name, 16 * MB)
    except (KeyError, RefusedFile):
        return b""


def _part_label(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return f"{base} ({name})" if base != name else name


def check_workbook_file(path: str | Path, limits: Limits | None = None) -> None:
    """The whole pre-flight on a path: the file, its zip directory and its parts."""
    limits = limits or Limits.from_env()
    check_file(path, limits)
    try:
        with zipfile.ZipFile(path) as archive:
            check_archive(archive, path, limits)
    except zipfile.BadZipFile:
        return  # not a zip: the reader says what the file is
