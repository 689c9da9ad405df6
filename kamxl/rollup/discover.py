"""Which files of a shared folder are account workbooks to roll up.

Shared drives are full of debris: Office and LibreOffice lock files, temporary copies, hidden
sync files, old ``.xls`` saves. Workbook-like debris is reported (Data quality) rather than read;
anything else is not a workbook and is left alone.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})
UNSUPPORTED_SUFFIXES = {
    ".xls": "Excel 97-2003 workbook (.xls): open it in Excel and save it as .xlsx",
    ".xlsb": "Excel binary workbook (.xlsb): open it in Excel and save it as .xlsx",
    ".ods": "OpenDocument spreadsheet (.ods): save it as .xlsx",
}
SKIPPED_DIRS = frozenset({"__MACOSX", "$RECYCLE.BIN", "System Volume Information"})


@dataclass
class Discovery:
    """Workbooks to read, workbook-like files ignored and files that cannot be rolled up."""

    files: list[Path] = field(default_factory=list)
    ignored: list[tuple[Path, str]] = field(default_factory=list)
    unsupported: list[tuple[Path, str]] = field(default_factory=list)


def _is_hidden(entry: os.DirEntry[str]) -> bool:
    """Dot-files everywhere; the hidden attribute on Windows."""
    if entry.name.startswith("."):
        return True
    try:
        attrs = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)
    except OSError:
        return False
    return bool(attrs & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


BACKUP_NAME = re.compile(r"\.bak-\d{8}-\d{6}\.xls[xm]$", re.IGNORECASE)


def ignore_reason(entry: os.DirEntry[str]) -> str | None:
    """Why a workbook-like file is not an account plan to read, or None if it is one to read."""
    name = entry.name
    if name.startswith(".~lock.") and name.endswith("#"):
        return f"LibreOffice lock file: {name[7:-1]} is open in LibreOffice"
    if name.startswith("~$"):
        return f"Office lock file: a workbook named like {name[2:]} is open in Excel"
    if name.startswith("~") or name.lower().endswith(".tmp"):
        return "temporary file"
    if name.startswith(".kamxl-"):
        return "temporary file of a kamxl write in progress or interrupted"
    if _is_hidden(entry):
        return "hidden file"
    if BACKUP_NAME.search(name):
        return "backup kept when a workbook was replaced with --force"
    return None


def _workbook_like(name: str) -> bool:
    lower = name.lower()
    if lower.startswith(".~lock.") and lower.endswith("#"):
        return True
    return Path(lower).suffix in WORKBOOK_SUFFIXES


def discover(folder: str | Path, *, recursive: bool = False, exclude: Iterable[str | Path] = ()) -> Discovery:
    """Account workbooks under ``folder`` (sorted), skipping ``exclude`` (e.g. the summary itself)."""
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a folder")
    excluded = {_key(Path(p)) for p in exclude}
    found = Discovery()
    _scan(root, recursive, excluded, found)
    for items in (found.ignored, found.unsupported):
        items.sort(key=lambda item: str(item[0]).casefold())
    found.files.sort(key=lambda p: str(p).casefold())
    return found


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _scan(folder: Path, recursive: bool, excluded: set[str], found: Discovery) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name.casefold())
    except OSError as exc:
        found.unsupported.append((folder, f"folder cannot be listed: {exc.strerror or exc}"))
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            if recursive and not _is_hidden(entry) and entry.name not in SKIPPED_DIRS:
                _scan(path, recursive, excluded, found)
            continue
        if _key(path) in excluded:
            continue
        suffix = path.suffix.lower()
        if suffix in UNSUPPORTED_SUFFIXES and not entry.name.startswith(("~$", ".")):
            found.unsupported.append((path, UNSUPPORTED_SUFFIXES[suffix]))
        elif _workbook_like(entry.name):
            reason = ignore_reason(entry)
            if reason:
                found.ignored.append((path, reason))
            else:
                found.files.append(path)
