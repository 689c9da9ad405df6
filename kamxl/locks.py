"""Before kamxl replaces a KAM's workbook: is it open, and what mode and group must it keep?

Excel and LibreOffice keep an open workbook in memory and save it over whatever replaced it on
disk; both leave a lock file beside it (``~$NAME`` for Excel, ``.~lock.NAME#`` for LibreOffice)
naming who has it open. A workbook on a shared drive is often group-writable for the account
team: a rewrite must not narrow it to the writer's umask or group, nor may its backup.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import stat
from pathlib import Path

from .fileio import atomic_copy
from .findings import PlanReadError
from .paths import backup_path

_EXCEL_UNICODE_AT = 54  # the owner file holds the name in the ANSI code page, then in UTF-16 here


class WorkbookInUse(PlanReadError):
    """The workbook is open in Excel or LibreOffice: replacing it now would be lost or undone."""


def _excel_owner(data: bytes) -> str:
    """The user name in Excel's ``~$`` owner file: its length in the first byte, then the name
    (the same again in UTF-16 from byte 54, which Excel writes for names outside the code page)."""
    at = _EXCEL_UNICODE_AT
    if len(data) > at + 2 and 0 < data[at] <= 54 and data[at + 1] == 0:
        wide = data[at + 2 : at + 2 + 2 * data[at]]
        with contextlib.suppress(UnicodeDecodeError):
            if len(wide) == 2 * data[at] and (name := wide.decode("utf-16-le").strip()):
                return name
    if data and 0 < data[0] < len(data):
        return data[1 : 1 + data[0]].decode("cp1252", "replace").strip()
    return ""


def _libreoffice_owner(text: str) -> str:
    """``Full Name,host,user,date,profile;``: who, on which machine, since when."""
    fields = next(csv.reader([text.strip().rstrip(";")]), [])
    fields += [""] * (4 - len(fields))
    who = fields[0].strip() or fields[2].strip()
    host = f" on {fields[1].strip()}" if fields[1].strip() else ""
    since = f" since {fields[3].strip()}" if fields[3].strip() else ""
    return f"{who}{host}{since}".strip()


def open_by(path: str | Path) -> tuple[Path, str] | None:
    """The lock file beside ``path`` left by Excel or LibreOffice, and who it names."""
    path = Path(path)
    excel = [path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])]
    for lock in excel[: 1 if len(path.name) <= 2 else 2]:
        with contextlib.suppress(OSError):
            return lock, "Excel, by " + (_excel_owner(lock.read_bytes()[:512]) or "an unknown user")
    lock = path.with_name(f".~lock.{path.name}#")
    with contextlib.suppress(OSError):
        text = lock.read_bytes()[:4096].decode("utf-8", "replace")
        return lock, "LibreOffice, by " + (_libreoffice_owner(text) or "an unknown user")
    return None


def refuse_if_open(path: str | Path) -> None:
    """Raise :class:`WorkbookInUse`, saying who holds it, when ``path`` is open somewhere."""
    found = open_by(path)
    if found:
        lock, who = found
        raise WorkbookInUse(
            path,
            f"open in {who} ({lock.name} beside it): close it there and run again "
            f"(if nobody has it open, delete {lock.name})",
        )


def keep_mode_and_group(path: str | Path, original: os.stat_result) -> None:
    """Give ``path`` the permission bits and group of the file it replaces or copies. A group
    the user does not belong to cannot be given: the file then keeps the user's own."""
    os.chmod(path, stat.S_IMODE(original.st_mode))
    if hasattr(os, "chown") and os.stat(path).st_gid != original.st_gid:
        with contextlib.suppress(PermissionError):
            os.chown(path, -1, original.st_gid)


def unique_backup(path: str | Path, now: dt.datetime | None = None) -> Path:
    """Copy ``path`` aside as ``NAME.bak-YYYYMMDD-HHMMSS[-N].ext``, a name no other backup has
    (claimed with an exclusive create, so two runs in the same second keep two backups), with
    the original's mode and group."""
    path = Path(path)
    original = os.stat(path)
    first = backup_path(path, now)
    for n in range(1, 1000):
        target = first if n == 1 else first.with_name(f"{first.stem}-{n}{first.suffix}")
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            continue
        try:
            atomic_copy(path, target)
            keep_mode_and_group(target, original)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target
    raise FileExistsError(f"{first}: a thousand backups of {path.name} in the same second")
