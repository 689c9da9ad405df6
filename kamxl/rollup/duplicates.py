"""One account found under several file names counts once.

A plan copied on a shared drive ("Acme (copy).xlsm", "Acme - Copy.xlsm") carries the same account
id as the original; a plan with no account id copied byte for byte has the same content. Either
way the account is counted once in every total; the other files are listed as duplicates (the
summary's Data quality sheet, ``duplicates`` in ``--json``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..scoring import as_date
from .records import AccountRecord


@dataclass(frozen=True)
class Duplicate:
    """A file left out of the totals: the same account as ``duplicate_of``, which is counted."""

    file: str
    account: str
    duplicate_of: str
    same: str  # "account_id" or "content"

    def as_dict(self) -> dict[str, str]:
        return {
            "file": self.file,
            "account": self.account,
            "duplicate_of": self.duplicate_of,
            "same": self.same,
        }


def _kept_first(record: AccountRecord) -> tuple[int, int, str]:
    """The copy counted: the most recent review, then the shortest name (a copy's name is longer),
    then the name's order."""
    review = as_date(record.figures.get("last_review"))
    return (-(review or dt.date.min).toordinal(), len(record.file), record.file.casefold())


def split_duplicates(
    accounts: list[AccountRecord], digests: dict[str, str]
) -> tuple[list[AccountRecord], list[Duplicate]]:
    """The accounts to count (in their order) and the duplicates left out.

    ``digests``: file -> hash of its bytes, for the files that may be byte copies of another (the
    same size); the same bytes make a duplicate first, then the same account id.
    """
    left_out: dict[int, Duplicate] = {}
    for same, key in (("content", lambda r: digests.get(r.file, "")), ("account_id", lambda r: r.account_id)):
        groups: dict[str, list[AccountRecord]] = {}
        for record in accounts:
            if id(record) not in left_out and (value := key(record)):
                groups.setdefault(value, []).append(record)
        for records in groups.values():
            kept, *others = sorted(records, key=_kept_first)
            for other in others:
                left_out[id(other)] = Duplicate(other.file, other.account, kept.file, same)
    counted = [r for r in accounts if id(r) not in left_out]
    return counted, sorted(left_out.values(), key=lambda d: d.file.casefold())


def same_size_digests(files: dict[str, Path], digest: Callable[[Path], str]) -> dict[str, str]:
    """Hashes of the files whose size another file shares (only those can be byte copies)."""
    sizes: dict[str, int] = {}
    for name, path in files.items():
        try:
            sizes[name] = path.stat().st_size
        except OSError:
            continue
    shared = {size for size, n in Counter(sizes.values()).items() if n > 1}
    return {name: digest(files[name]) for name, size in sizes.items() if size in shared}
