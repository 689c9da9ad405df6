"""File names and safe file replacement, shared by every command that writes workbooks."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import unicodedata
from pathlib import Path

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
MAX_STEM = 80


def safe_filename(name: str, suffix: str = ".xlsx") -> str:
    """A file name from an account name that Windows, macOS and SharePoint all accept."""
    text = unicodedata.normalize("NFC", name)
    text = _FORBIDDEN.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip().strip(".").strip()
    if text.upper().split(".")[0] in _RESERVED:
        text = f"_{text}"
    text = text[:MAX_STEM].rstrip(" .") or "account"
    return text + suffix


def backup_path(path: Path, now: dt.datetime | None = None) -> Path:
    """Where an existing workbook is kept before ``--force`` replaces it."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    return path.with_name(f"{path.stem}.bak-{stamp}{path.suffix}")


def keep_backup(path: Path) -> Path | None:
    """Copy an existing file aside (never move: the original stays until replaced atomically)."""
    if not path.exists():
        return None
    target = backup_path(path)
    shutil.copy2(path, target)
    return target
