"""Minimal writer for Compound File Binary files (MS-CFB, version 3).

A ``vbaProject.bin`` is a compound file. ``olefile`` reads them but cannot
create one, and no maintained pure-Python library writes them, so this
module writes the small subset we need: one shot, in memory, 512-byte
sectors, streams under 4096 bytes in the mini stream, storages created from
the stream paths. The output is deterministic (no timestamps, no CLSIDs), so
the same streams always give the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["write_compound_file"]

SECTOR_SIZE = 512
MINI_SECTOR_SIZE = 64
MINI_STREAM_CUTOFF = 4096
DIR_ENTRY_SIZE = 128
MAX_HEADER_DIFAT = 109

FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF

TYPE_STORAGE = 1
TYPE_STREAM = 2
TYPE_ROOT = 5
RED = 0
BLACK = 1

SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Entry] = field(default_factory=dict)
    sid: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    color: int = BLACK
    start: int = ENDOFCHAIN
    size: int = 0


def _sort_key(name: str) -> tuple[int, str]:
    """MS-CFB 2.6.4 order: shorter names first, then by upper-cased name."""
    return (len(name), name.upper())


def _check_name(name: str) -> None:
    if not name or len(name) > 31:
        raise ValueError(f"compound file entry names have 1 to 31 characters: {name!r}")
    if any(ch in name for ch in "/\\:!"):
        raise ValueError(f"compound file entry name has a forbidden character: {name!r}")


def _build_tree(streams: Mapping[str, bytes]) -> _Entry:
    root = _Entry("Root Entry", TYPE_ROOT)
    for path, data in streams.items():
        parts = path.split("/")
        node = root
        for part in parts[:-1]:
            _check_name(part)
            existing = _find_child(node, part)
            if existing is None:
                existing = _Entry(part, TYPE_STORAGE)
                node.children[part] = existing
            elif existing.kind != TYPE_STORAGE:
                raise ValueError(f"{path!r}: {part!r} is a stream, not a storage")
            node = existing
        leaf = parts[-1]
        _check_name(leaf)
        if _find_child(node, leaf) is not None:
            raise ValueError(f"duplicate compound file entry: {path!r}")
        node.children[leaf] = _Entry(leaf, TYPE_STREAM, data=bytes(data))
    return root


def _find_child(node: _Entry, name: str) -> _Entry | None:
    for child in node.children.values():
        if child.name.upper() == name.upper():
            return child
    return None


def _flatten(root: _Entry) -> list[_Entry]:
    """Assign directory ids in breadth-first order (root is 0)."""
    order = [root]
    index = 0
    while index < len(order):
        node = order[index]
        index += 1
        for child in sorted(node.children.values(), key=lambda e: _sort_key(e.name)):
            order.append(child)
    for sid, entry in enumerate(order):
        entry.sid = sid
    return order


def _link_siblings(node: _Entry) -> None:
    """Make each storage's children a balanced binary search tree.

    The tree built from the sorted list by taking medians is balanced; its
    nodes on the deepest level are coloured red when that level is not
    full, which makes it a valid red-black tree (equal black height on every
    path, no red node with a red child).
    """
    kids = sorted(node.children.values(), key=lambda e: _sort_key(e.name))
    if not kids:
        return
    depths: dict[int, int] = {}

    def build(lo: int, hi: int, depth: int) -> int:
        if lo > hi:
            return NOSTREAM
        mid = (lo + hi + 1) // 2
        entry = kids[mid]
        depths[mid] = depth
        entry.left = build(lo, mid - 1, depth + 1)
        entry.right = build(mid + 1, hi, depth + 1)
        return entry.sid

    node.child = build(0, len(kids) - 1, 0)
    max_depth = max(depths.values())
    full = len(kids) == 2 ** (max_depth + 1) - 1
    for i, entry in enumerate(kids):
        entry.color = RED if (not full and depths[i] == max_depth) else BLACK
    for kid in kids:
        _link_siblings(kid)


def _dir_entry(entry: _Entry | None) -> bytes:
    if entry is None:
        return b"\x00" * 64 + struct.pack(
            "<HBBIII16sIQQIQ", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"", 0, 0, 0, 0, 0
        )
    encoded = (entry.name + "\x00").encode("utf-16-le")
    return encoded.ljust(64, b"\x00") + struct.pack(
        "<HBBIII16sIQQIQ",
        len(encoded),
        entry.kind,
        entry.color,
        entry.left,
        entry.right,
        entry.child,
        b"",  # CLSID
        0,  # state bits
        0,  # creation time
        0,  # modified time
        entry.start,
        entry.size,
    )


def _chain(fat: list[int], start: int, count: int) -> None:
    for i in range(count):
        fat[start + i] = start + i + 1 if i + 1 < count else ENDOFCHAIN


def _pad(data: bytes, size: int) -> bytes:
    remainder = len(data) % size
    return data if remainder == 0 else data + b"\x00" * (size - remainder)


def write_compound_file(streams: Mapping[str, bytes]) -> bytes:
    """Return a compound file holding ``streams``.

    Keys are slash-separated paths such as ``"VBA/dir"``; the storages on the
    way are created. Entry names have at most 31 characters.
    """
    root = _build_tree(streams)
    entries = _flatten(root)
    _link_siblings(root)

    # Mini stream: every stream below the cutoff, each padded to 64 bytes.
    mini_stream = bytearray()
    mini_fat: list[int] = []
    big: list[_Entry] = []
    for entry in entries:
        if entry.kind != TYPE_STREAM:
            continue
        entry.size = len(entry.data)
        if entry.size == 0:
            entry.start = ENDOFCHAIN
        elif entry.size < MINI_STREAM_CUTOFF:
            first = len(mini_fat)
            count = -(-entry.size // MINI_SECTOR_SIZE)
            mini_fat.extend([0] * count)
            _chain(mini_fat, first, count)
            entry.start = first
            mini_stream += _pad(entry.data, MINI_SECTOR_SIZE)
        else:
            big.append(entry)

    dir_bytes_count = len(entries) * DIR_ENTRY_SIZE
    n_dir = -(-dir_bytes_count // SECTOR_SIZE)
    n_minifat = -(-len(mini_fat) * 4 // SECTOR_SIZE)
    n_ministream = -(-len(mini_stream) // SECTOR_SIZE)
    n_big = sum(-(-e.size // SECTOR_SIZE) for e in big)
    n_data = n_dir + n_minifat + n_ministream + n_big
    n_fat = 1
    while n_fat * (SECTOR_SIZE // 4) < n_data + n_fat:
        n_fat += 1
    if n_fat > MAX_HEADER_DIFAT:
        raise ValueError("compound file too large for this writer (about 7 MB at most)")

    total = n_fat + n_data
    fat = [FREESECT] * (n_fat * (SECTOR_SIZE // 4))
    for i in range(n_fat):
        fat[i] = FATSECT
    sector = n_fat
    dir_start = sector
    _chain(fat, sector, n_dir)
    sector += n_dir
    minifat_start = sector if n_minifat else ENDOFCHAIN
    _chain(fat, sector, n_minifat)
    sector += n_minifat
    root.start = sector if n_ministream else ENDOFCHAIN
    root.size = len(mini_stream)
    _chain(fat, sector, n_ministream)
    sector += n_ministream
    for entry in big:
        count = -(-entry.size // SECTOR_SIZE)
        entry.start = sector
        _chain(fat, sector, count)
        sector += count
    assert sector == total

    difat = list(range(n_fat)) + [FREESECT] * (MAX_HEADER_DIFAT - n_fat)
    header = (
        SIGNATURE
        + b"\x00" * 16
        + struct.pack(
            "<HHHHH6sIIIIIIIII",
            0x003E,  # minor version
            0x0003,  # major version: 512-byte sectors
            0xFFFE,  # byte order: little endian
            9,  # sector shift: 2**9 = 512
            6,  # mini sector shift: 2**6 = 64
            b"",
            0,  # number of directory sectors (must be 0 in version 3)
            n_fat,
            dir_start,
            0,  # transaction signature
            MINI_STREAM_CUTOFF,
            minifat_start,
            n_minifat,
            ENDOFCHAIN,  # first DIFAT sector: none
            0,  # number of DIFAT sectors
        )
        + struct.pack(f"<{MAX_HEADER_DIFAT}I", *difat)
    )
    assert len(header) == SECTOR_SIZE

    directory = b"".join(_dir_entry(e) for e in entries)
    directory += _dir_entry(None) * ((n_dir * SECTOR_SIZE - len(directory)) // DIR_ENTRY_SIZE)
    minifat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    minifat_bytes += struct.pack("<I", FREESECT) * ((n_minifat * SECTOR_SIZE - len(minifat_bytes)) // 4)
    parts = [
        header,
        struct.pack(f"<{len(fat)}I", *fat),
        directory,
        minifat_bytes,
        _pad(bytes(mini_stream), SECTOR_SIZE),
    ]
    parts.extend(_pad(e.data, SECTOR_SIZE) for e in big)
    out = b"".join(parts)
    assert len(out) == SECTOR_SIZE * (1 + total)
    return out


def entry_names(data: bytes, limit: int = 4096) -> set[str]:
    """The names of the storages and streams of a compound file held in ``data`` (only its
    directory is read; at most ``limit`` entries). Empty when ``data`` is not a compound file or
    its directory cannot be followed: enough to tell a password-protected workbook (streams
    ``EncryptionInfo`` and ``EncryptedPackage``) from an old ``.xls`` (stream ``Workbook``)."""
    if not data.startswith(SIGNATURE) or len(data) < 512:
        return set()
    sector = 1 << struct.unpack_from("<H", data, 30)[0]
    if sector not in (512, 4096):
        return set()
    first_dir = struct.unpack_from("<I", data, 48)[0]
    fat_sectors = [s for s in struct.unpack_from(f"<{MAX_HEADER_DIFAT}I", data, 76) if s < FATSECT]
    fat: list[int] = []
    for s in fat_sectors:
        start = (s + 1) * sector
        chunk = data[start : start + sector]
        fat += struct.unpack(f"<{len(chunk) // 4}I", chunk[: len(chunk) // 4 * 4])
    names: set[str] = set()
    current, seen = first_dir, set()
    while current < len(fat) and current not in seen and len(names) < limit:
        seen.add(current)
        start = (current + 1) * sector
        for offset in range(start, min(start + sector, len(data)) - DIR_ENTRY_SIZE + 1, DIR_ENTRY_SIZE):
            length = struct.unpack_from("<H", data, offset + 64)[0]
            if 2 <= length <= 64 and data[offset + 66] in (TYPE_STORAGE, TYPE_STREAM, TYPE_ROOT):
                names.add(data[offset : offset + length - 2].decode("utf-16-le", "replace"))
        current = fat[current]
    return names
