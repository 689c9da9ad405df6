"""Which files of a shared folder are account workbooks to roll up.

Shared drives are full of debris: Office and LibreOffice lock files, temporary copies, hidden
sync files, old ``.xls`` saves. Workbook-like debris is reported (Data quality) rather than read;
anything else is not a workbook and is left alone.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import BACKUP_NAME, printable
from ..preflight import file_kind as _kind

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
    """Account workbooks under ``folder`` (sorted), skipping ``exclude`` (e.g. the summary itself).

    The one rule for ``check``, ``rollup`` and the Roll up button (docs/rollup.md): only regular
    files named ``.xlsx`` or ``.xlsm`` are read; lock, temporary, hidden and backup files are
    ignored; links are followed only to what lies inside ``folder``, each real file and folder
    once (by device and inode), so link loops end and nothing is read twice.
    """
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"{printable(root)}: not a folder")
    found = Discovery()
    scan = _Scan(root, recursive, {_key(Path(p)) for p in exclude}, found)
    scan.folder(root)
    for items in (found.ignored, found.unsupported):
        items.sort(key=lambda item: str(item[0]).casefold())
    found.files.sort(key=lambda p: str(p).casefold())
    return found


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


class _Scan:
    """One walk of a folder tree; remembers the real folders and files it has met."""

    def __init__(self, root: Path, recursive: bool, excluded: set[str], found: Discovery) -> None:
        self.root, self.recursive, self.excluded, self.found = root, recursive, excluded, found
        self.real_root = os.path.realpath(root)
        self.folders: set[tuple[int, int]] = set()
        self.files: set[tuple[int, int]] = set()

    def inside(self, path: Path) -> bool:
        real = os.path.realpath(path)
        return os.path.commonpath([real, self.real_root]) == self.real_root

    def folder(self, folder: Path) -> None:
        try:
            st = os.stat(folder)
            entries = sorted(os.scandir(folder), key=lambda e: e.name.casefold())
        except OSError as exc:
            self.found.unsupported.append((folder, f"folder cannot be listed: {exc.strerror or exc}"))
            return
        if _identity(st) in self.folders:
            return
        self.folders.add(_identity(st))
        for entry in entries:
            self.entry(entry)

    def entry(self, entry: os.DirEntry[str]) -> None:
        path = Path(entry.path)
        try:
            link = entry.is_symlink()
            st = os.stat(entry.path)  # follows links: what the entry really is
        except OSError:
            if _workbook_like(entry.name):
                self.found.unsupported.append((path, "a link to nothing (its target is gone)"))
            return
        if stat.S_ISDIR(st.st_mode):
            if not self.recursive or _is_hidden(entry) or entry.name in SKIPPED_DIRS:
                return
            if link and not self.inside(path):
                target = printable(os.path.realpath(path))
                self.found.unsupported.append(
                    (path, f"a link to a folder outside the folder ({target}): not followed")
                )
                return
            if _identity(st) in self.folders:
                self.found.ignored.append((path, "a folder already read through another path (a link)"))
                return
            self.folder(path)
            return
        if _key(path) in self.excluded:
            return
        suffix = path.suffix.lower()
        if suffix in UNSUPPORTED_SUFFIXES and not entry.name.startswith(("~$", ".")):
            self.found.unsupported.append((path, UNSUPPORTED_SUFFIXES[suffix]))
            return
        if not _workbook_like(entry.name):
            return
        reason = ignore_reason(entry)
        if reason:
            self.found.ignored.append((path, reason))
        elif not stat.S_ISREG(st.st_mode):
            self.found.unsupported.append((path, f"not a regular file ({_kind(st.st_mode)}): not read"))
        elif link and not self.inside(path):
            target = printable(os.path.realpath(path))
            self.found.unsupported.append((path, f"a link to a file outside the folder ({target}): not read"))
        elif _identity(st) in self.files:
            self.found.ignored.append((path, "the same file as another one read (a link)"))
        else:
            self.files.add(_identity(st))
            self.found.files.append(path)
