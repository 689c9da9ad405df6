"""Writing files safely on shared drives: one atomic-write helper for every file kamxl writes.

A file is written to a temporary name in its target folder, flushed and fsynced, given the mode an
ordinary file gets under the user's umask (``mkstemp`` makes owner-only files, which colleagues on
a shared drive cannot open), then renamed over the target. On any failure, and on SIGTERM or
Ctrl-C, the temporary file is removed; one that a SIGKILL left behind carries the writer's process
id in its name, so the next run can remove it (:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

TEMP_PREFIX = ".kamxl-"
_STALE_AFTER = 24 * 3600  # seconds: a temporary file of another machine is removed after a day
_TEMP_NAME = re.compile(r"^\.kamxl-(?P<host>[A-Za-z0-9_-]*)-(?P<pid>\d+)-")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:20]


def temp_prefix() -> str:
    """The prefix of this process's temporary files: host and process id, for stale-file cleanup."""
    return f"{TEMP_PREFIX}{_host()}-{os.getpid()}-"


@contextlib.contextmanager
def atomic_path(path: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    The caller writes the whole file at the yielded path (any library that takes a file name).
    ``mode`` defaults to what ``open()`` would give a new file under the current umask.
    """
    target = Path(path)
    tmp: Path | None = None
    held = _hold_signals()  # a SIGTERM or Ctrl-C between creating the file and `try` would leak it
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=temp_prefix(), suffix=target.suffix, dir=target.parent)
        os.close(fd)
        tmp = Path(name)
        _release_signals(held)  # a signal that came meanwhile is raised here, inside `try`
        yield tmp
        _fsync(tmp)
        os.chmod(tmp, mode if mode is not None else 0o666 & ~_umask())
        try:
            os.replace(tmp, target)
        except PermissionError as exc:
            raise PermissionError(
                exc.errno, f"cannot be replaced ({exc.strerror}); is it open in Excel?", str(target)
            ) from exc
        _fsync_dir(target.parent)
    except Exception as exc:
        named = write_error(exc, target)
        if named is exc:
            raise
        raise named from exc
    finally:
        _release_signals(held)
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def write_error(exc: BaseException, target: Path) -> BaseException:
    """The OS error behind ``exc`` (a library may wrap it: XlsxWriter, zipfile), naming ``target``
    rather than the temporary file, so the message tells the user which output failed."""
    if type(exc).__module__.startswith("kamxl."):
        return exc  # kamxl's own errors already say what went wrong
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if cause is None or cause.errno is None or (cause is exc and cause.filename == str(target)):
        return exc
    return OSError(cause.errno, cause.strerror or os.strerror(cause.errno), str(target))


_HELD = (signal.SIGINT, signal.SIGTERM)


def _hold_signals() -> set[int] | None:
    """Block SIGINT and SIGTERM in this thread (POSIX); what to restore, or None where not possible."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        return None
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, _HELD))


def _release_signals(held: set[int] | None) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done: for a few renames that belong together."""
    held = _hold_signals()
    try:
        yield
    finally:
        _release_signals(held)


def content_digest(data: bytes) -> str:
    """A fast hash of a file's bytes: tells whether a workbook changed since it was last read."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def atomic_write_bytes(path: str | Path, data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(
    path: str | Path, text: str, *, encoding: str = "utf-8", errors: str = "strict", newline: str = ""
) -> Path:
    """Write ``text`` to ``path`` atomically (no newline translation unless ``newline`` says)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding=encoding, errors=errors, newline=newline) as fh:
        fh.write(text)
    return Path(path)


def atomic_copy(source: str | Path, target: str | Path) -> Path:
    """Copy a file (contents and times) so that ``target`` appears whole or not at all."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
        shutil.copystat(source, tmp)
    return Path(target)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temporaries(folder: str | Path, *, now: float | None = None) -> list[Path]:
    """Remove kamxl temporary files that a killed process left in ``folder``; return them.

    A file of this machine is stale when its process is gone; one of another machine (same shared
    folder) when it is older than a day. Files of running processes are never touched.
    """
    now = time.time() if now is None else now
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    host = _host()
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if not m or not entry.is_file(follow_symlinks=False):
            continue
        if m["host"] == host:
            stale = int(m["pid"]) != os.getpid() and not _pid_alive(int(m["pid"]))
        else:
            try:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > _STALE_AFTER
            except OSError:
                continue
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def lock_path(target: str | Path) -> Path:
    """The hidden lock file beside ``target``; it exists only while a writer holds or awaits it."""
    target = Path(target)
    return target.with_name(f".{target.name}.kamxl-lock")


@contextlib.contextmanager
def exclusive_lock(target: str | Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Serialise writers of ``target``: one holds the lock, the next waits and is told who holds it.

    The lock is an OS file lock on a hidden file beside ``target``: the system releases it when
    its holder dies, however it dies, so a crashed run never blocks the next one. The holder
    removes the file while it still holds it, so none stays in users' sight; a waiter that then
    gets the lock of the removed file sees it is no longer the one at the path and starts again
    (:func:`_acquire`), so two writers never hold the lock at once.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(target)
    fd = _acquire(path, target, on_wait)
    try:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"kamxl process {os.getpid()} on {socket.gethostname()}".encode())
        yield
    finally:
        _release(fd, path)


def _acquire(path: Path, target: Path, on_wait: Callable[[str], None] | None) -> int:
    """Lock the file at ``path``, retrying while the file locked is not the one at the path (its
    holder removed it meanwhile: another writer may already hold the new one)."""
    told = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            _hide(path)
            if not _try_lock(fd):
                if on_wait and not told:
                    holder = _holder(fd) or "another process"
                    on_wait(f"waiting for {holder} to finish writing {target}")
                    told = True
                _lock(fd)
            if _is_at(fd, path):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _is_at(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is still the file named ``path``."""
    held = os.fstat(fd)
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


def _hide(path: Path) -> None:
    """On Windows, give the lock file the hidden attribute (elsewhere its leading dot hides it)."""
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import ctypes

        ctypes.windll.kernel32.SetFileAttributesW(str(path), 0x2)  # FILE_ATTRIBUTE_HIDDEN


def _release(fd: int, path: Path) -> None:
    """Remove the lock file, then release the lock. POSIX removes it while it is held (the safe
    order); Windows cannot remove an open file, so it tries after closing, and a file another
    writer has opened meanwhile is left to that writer."""
    if os.name != "nt":
        with contextlib.suppress(OSError):
            os.unlink(path)
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
    os.close(fd)  # closing releases the lock
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        with contextlib.suppress(OSError):
            os.unlink(path)


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 512).decode("utf-8", "replace").strip()
    except OSError:  # Windows keeps a locked range unreadable
        return ""


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _lock(fd: int) -> None:
        while not _try_lock(fd):
            time.sleep(0.5)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)
