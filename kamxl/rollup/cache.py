"""What the last roll-up read of each workbook, so an unchanged file is not read again.

A re-run over a shared drive where few plans changed should cost little more than hashing the
files. Each entry is keyed by the file's absolute path, size, modification time and a BLAKE2
hash of the bytes its record was made from: a record is served only when all four match, so a
changed file is always read again, even when its size and modification time were put back.
The whole cache is void when kamxl's version, the template (its files), the day scores refer
to, the folder or the contacts option differ from the run that wrote it.

The cache is one gzipped file of JSON lines beside the history (JSON, never pickle: a file on a
shared drive must not be able to run code), written atomically: the context first, then one
workbook a line, then what the outputs were made from. It is read a line at a time, so a large
portfolio's cache is never one string in memory; a damaged or foreign file is ignored.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .. import __version__
from ..fileio import atomic_path, content_digest
from ..template import Template
from .records import AccountRecord
from .sharing import shared_json_object

CACHE_NAME = "portfolio-cache.json.gz"
FORMAT = 2  # 1 was one JSON object
_MAX_BYTES = 512 * 1024 * 1024  # a cache larger than this, unpacked, is not ours: ignored
_FIELDS = {f.name for f in fields(AccountRecord)}


def template_fingerprint(template: Template) -> str:
    """A hash of the template file and the data files beside it: any edit voids the cache."""
    h = hashlib.blake2b(digest_size=20)
    folder = Path(template.path).parent
    for path in [Path(template.path), *sorted(p for p in folder.rglob("*") if p.is_file())]:
        try:
            h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
        except (OSError, ValueError):
            h.update(b"?")
    return h.hexdigest()


@dataclass(frozen=True)
class Stamp:
    """A file's size and modification time, as the operating system reports them."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | Path) -> Stamp | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns)


class ReadCache:
    """Records of the last roll-up, keyed by path; :meth:`save` keeps only what this run used."""

    def __init__(self, path: Path, context: dict[str, Any]) -> None:
        self.path, self.context = path, context
        self.old: dict[str, dict[str, Any]] = {}
        self.new: dict[str, tuple[Stamp, str, AccountRecord | str]] = {}  # a record, or its text
        self.hits = 0
        self.written: dict[
            str, Any
        ] = {}  # what the last run wrote: {"key": ..., "files": {path: [size, mtime]}}
        self._outputs: dict[str, Any] = {}
        self._load()

    @classmethod
    def for_rollup(
        cls, path: Path, template: Template, *, as_of: dt.date, folder: Path, include_contacts: bool
    ) -> ReadCache:
        context = {
            "format": FORMAT,
            "kamxl": __version__,
            "template": template_fingerprint(template),
            "as_of": as_of.isoformat(),
            "folder": str(folder),
            "include_contacts": include_contacts,
        }
        return cls(path, context)

    def _load(self) -> None:
        entries: dict[str, dict[str, Any]] = {}
        written: dict[str, Any] = {}
        size = 0
        try:
            with gzip.open(self.path, "rt", encoding="utf-8") as fh:
                for number, line in enumerate(fh):
                    size += len(line)
                    if size > _MAX_BYTES:
                        return
                    item = json.loads(line, object_hook=_decode)
                    if number == 0:
                        if not isinstance(item, dict) or item.get("context") != self.context:
                            return  # another version, template, day or folder: every file is read
                    elif isinstance(item, list) and len(item) == 2 and isinstance(item[0], str):
                        entries[item[0]] = item[1]
                    elif isinstance(item, dict) and isinstance(item.get("outputs"), dict):
                        written = item["outputs"]
        except (OSError, EOFError, ValueError, TypeError, gzip.BadGzipFile):
            return  # absent, damaged or foreign: every file is read
        self.old, self.written = entries, written

    def lookup(self, path: str, stamp: Stamp | None) -> AccountRecord | None:
        """The cached record of ``path`` if its size, time and content are those it was made from."""
        entry = self.old.pop(path, None)
        if stamp is None or not isinstance(entry, dict):
            return None
        if entry.get("size") != stamp.size or entry.get("mtime_ns") != stamp.mtime_ns:
            return None
        try:
            with open(path, "rb") as fh:
                digest = content_digest(fh.read())
        except OSError:
            return None
        if digest != entry.get("digest"):
            return None
        record = _record(entry.get("record"))
        if record is not None:
            self.new[path] = (stamp, digest, record)
            self.hits += 1
        return record

    def store(
        self, path: str, stamp: Stamp | None, digest: str, record: AccountRecord, encoded: str = ""
    ) -> None:
        """Remember the record read from bytes hashing to ``digest`` (``stamp`` taken before reading).

        ``encoded``: :func:`encode_record` of it, when the reading process made it already.
        """
        if stamp is not None and digest:
            self.new[path] = (stamp, digest, encoded or record)

    def outputs_key(self, *parts: Any) -> str:
        """A hash of what the outputs are made from: every record's file and content, and ``parts``
        (the files skipped and ignored, the output paths, the language)."""
        files = sorted((path, digest) for path, (_, digest, _) in self.new.items())
        text = json.dumps([files, *parts], default=str, sort_keys=True)
        return content_digest(text.encode("utf-8"))

    def outputs_current(self, key: str, paths: list[Path], run: str | None = None) -> bool:
        """Whether the last run made ``paths`` from the same inputs and nobody changed them since;
        ``run``: the run the history's last snapshot belongs to, which must be that run."""
        files = self.written.get("files")
        if (
            self.written.get("key") != key
            or self.written.get("run") != run
            or not isinstance(files, dict)
            or set(files) != {str(p) for p in paths}
        ):
            return False
        for path in paths:
            stamp = Stamp.of(path)
            if stamp is None or files[str(path)] != [stamp.size, stamp.mtime_ns]:
                return False
        return True

    def outputs_written(self, key: str, paths: dict[Path, Path], run: str | None = None) -> None:
        """Remember the outputs this run wrote (target: the file holding it now, which a rename
        keeps as it is) and the run of the history's snapshot (saved by :meth:`save`)."""
        stamps = {str(target): Stamp.of(now) for target, now in paths.items()}
        self.written = {
            "key": key,
            "run": run,
            "files": {p: [s.size, s.mtime_ns] for p, s in stamps.items() if s is not None},
        }

    def save(self, path: Path | None = None) -> Path:
        """Write the entries of this run (files gone or unreadable drop out), atomically, at
        ``path`` (the cache's own by default; a staged copy when a roll-up commits its outputs).

        One line per workbook: the cache of a large portfolio is never one string.
        """
        self.old.clear()
        path = path or self.path
        with atomic_path(path) as tmp, gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as fh:
            fh.write('{"context":' + _dumps(self.context) + "}\n")
            for path, (stamp, digest, record) in self.new.items():
                entry = {"size": stamp.size, "mtime_ns": stamp.mtime_ns, "digest": digest}
                text = record if isinstance(record, str) else encode_record(record)
                fh.write("[" + _dumps(path) + "," + _dumps(entry)[:-1] + ',"record":' + text + "}]\n")
            fh.write('{"outputs":' + _dumps(self.written) + "}\n")
        return path


def is_rollup_cache(path: str | Path) -> bool:
    """Whether a file is a cache a roll-up wrote (so a demo re-run may replace it)."""
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(64).startswith(b'{"context":{"format":')
    except (OSError, EOFError, gzip.BadGzipFile):
        return False


def encode_record(record: AccountRecord) -> str:
    """A record as the cache holds it. Reading processes encode their records as they make them,
    so the roll-up does not spend the end of its run on it."""
    return _dumps(vars(record))  # plain dicts and lists: JSON takes them as they are


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_encode, separators=(",", ":"))


def _record(raw: Any) -> AccountRecord | None:
    if not isinstance(raw, dict) or set(raw) != _FIELDS:
        return None
    try:
        return AccountRecord(**raw)
    except TypeError:
        return None


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not cached")


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if isinstance(text := obj.get("$date"), str):
            return dt.date.fromisoformat(text)
        if isinstance(text := obj.get("$datetime"), str):
            return dt.datetime.fromisoformat(text)
    return shared_json_object(obj)
