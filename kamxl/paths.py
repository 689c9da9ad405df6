"""File names and safe file replacement, shared by every command that writes workbooks."""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from pathlib import Path

from .fileio import atomic_copy

BACKUP_STAMP = "%Y%m%d-%H%M%S"
BACKUP_NAME = re.compile(r"\.bak-\d{8}-\d{6}(?:-\d+)?\.xls[xm]$", re.IGNORECASE)  # backup_path, unique_backup

# Characters Windows refuses in a file name, plus what Excel refuses in a workbook name ([ ] also
# break Application.Run "'Book.xlsm'!Macro"); brackets become parentheses, the others spaces.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_BRACKETS = str.maketrans("[]", "()")
_LEADING = " .~=+-@"  # hidden, lock/temporary files, and what a spreadsheet takes for a formula
_BACKUP_STEM = re.compile(r"\.(bak-\d{8}-\d{6}(?:-\d+)?)$", re.IGNORECASE)
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    "CONIN$",
    "CONOUT$",
    *(f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")),
}
# Excel opens no workbook whose full path is longer than 218 characters: a stem of at most
# 80 UTF-16 units (85 with ".xlsm") leaves 133 for the folder. 80 units are at most 240 UTF-8
# bytes, under the 255-byte name limit of Linux and macOS file systems.
MAX_STEM = 80
FALLBACK_STEM = "account"


def _printable(ch: str) -> bool:
    """Not a control, format (bidi overrides, zero-width), surrogate or unassigned character."""
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")


def _truncate(text: str, units: int) -> str:
    """At most ``units`` UTF-16 code units (how Windows and Excel count), whole characters only."""
    count = 0
    for i, ch in enumerate(text):
        count += 2 if ord(ch) > 0xFFFF else 1
        if count > units:
            return text[:i]
    return text


def safe_filename(name: str, suffix: str = ".xlsx") -> str:
    """A file (or folder, with ``suffix=""``) name made from user data, safe everywhere kamxl goes.

    Windows, macOS, Linux and SharePoint accept it; Excel opens it; and neither kamxl nor Excel
    mistakes it for something else: never hidden (``.``), an Office lock or temporary file
    (``~``), a kamxl backup (``.bak-YYYYMMDD-HHMMSS``), a formula (``= + - @``), a Windows
    device name (``CON``, ``COM1.txt``) or empty. See MAX_STEM for the length.
    """
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch if _printable(ch) else " " for ch in text)
    text = _FORBIDDEN.sub(" ", text).translate(_BRACKETS)
    text = " ".join(text.split()).lstrip(_LEADING)
    text = _truncate(text, MAX_STEM).rstrip(" .")  # Windows drops trailing dots and spaces
    if text.split(".")[0].rstrip(" ").upper() in _RESERVED:
        text = _truncate(f"_{text}", MAX_STEM).rstrip(" .")
    text = _BACKUP_STEM.sub(r" \1", text)
    return (text or FALLBACK_STEM) + suffix


def backup_path(path: Path, now: dt.datetime | None = None) -> Path:
    """Where an existing workbook is kept before ``--force`` replaces it."""
    stamp = (now or dt.datetime.now()).strftime(BACKUP_STAMP)
    return path.with_name(f"{path.stem}.bak-{stamp}{path.suffix}")


def keep_backup(path: Path) -> Path | None:
    """Copy an existing file aside (never move: the original stays until replaced atomically)."""
    if not path.exists():
        return None
    return atomic_copy(path, backup_path(path))


def printable(path: str | Path) -> str:
    """A path as text that can be shown and written anywhere: bytes that are not UTF-8 as ``\\xNN``."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")
