"""Run a function over files in guarded worker processes: one bad file costs that file only.

A native parser can abort the whole process (python-calamine on a giant grid), exhaust memory
or hang; no ``try`` catches that, and in a ``ProcessPoolExecutor`` one dead worker fails every
pending file. Here each worker reads one file at a time under a memory limit (Linux and other
POSIX systems that enforce ``RLIMIT_AS``) and a time limit; a worker that dies or overruns is
replaced, the file is reported with what happened, and the others are still read. Workers
exit when their parent dies, so a killed roll-up leaves no process behind.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


WORKER_MB = 400  # memory (resident) one reading process may use: the largest file allowed fits in it
RUN_MB = 1536  # memory the reading processes of one run share


@dataclass(frozen=True)
class Guard:
    """Limits on one worker: address space in MB (None: no limit), seconds per file, and the
    memory of its own it may use (``budget_mb``: past it, the worker stops and its file is reported)."""

    memory_mb: int | None = 2048
    seconds: float = 120.0
    budget_mb: int | None = WORKER_MB

    @classmethod
    def from_env(cls) -> Guard:
        """Defaults, overridden by ``KAMXL_LIMIT_MEMORY_MB``, ``KAMXL_LIMIT_SECONDS`` and
        ``KAMXL_LIMIT_WORKER_MB``."""
        memory = os.environ.get("KAMXL_LIMIT_MEMORY_MB")
        seconds = os.environ.get("KAMXL_LIMIT_SECONDS")
        return cls(
            memory_mb=int(memory) if memory else cls.memory_mb,
            seconds=float(seconds) if seconds else cls.seconds,
            budget_mb=worker_budget_mb(),
        )


def worker_budget_mb() -> int:
    """The memory one reading process may use: ``KAMXL_LIMIT_WORKER_MB``, default 400."""
    raw = os.environ.get("KAMXL_LIMIT_WORKER_MB")
    try:
        return max(64, int(float(raw))) if raw else WORKER_MB
    except ValueError:
        raise ValueError(f"KAMXL_LIMIT_WORKER_MB={raw!r} is not a number") from None


def run_budget_mb(given: int | None = None) -> int:
    """The memory the reading processes of one run share: ``given`` (an option), else
    ``KAMXL_MEMORY_MB``, default 1536."""
    raw = os.environ.get("KAMXL_MEMORY_MB")
    try:
        return max(64, int(given or (float(raw) if raw else RUN_MB)))
    except ValueError:
        raise ValueError(f"KAMXL_MEMORY_MB={raw!r} is not a number") from None


def workers_within(budget_mb: int, jobs: int, worker_mb: int | None = None) -> int:
    """How many reading processes a run may start: no more than ``jobs``, and no more than the
    run's budget holds at the worst each may use."""
    return max(1, min(jobs, budget_mb // (worker_mb or worker_budget_mb())))


class Failed(Exception):
    """Why a worker gave no result for one item (it died, ran out of memory or overran)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _context() -> Any:
    """Fork where it is safe and cheap (Linux, no other thread); spawn elsewhere."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


OVER_BUDGET = "kamxl: over the memory budget of a reading process"
_OVER_BUDGET_EXIT = 75


def _die_with_parent(parent: int, budget_mb: int | None = None) -> None:
    """Exit as soon as the parent is gone, whatever the worker is busy with; and, where the
    system tells a process's resident memory (Linux), as soon as it uses more than ``budget_mb``."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)
    limit = budget_mb * 1024 if budget_mb and _private_kb() is not None else 0  # in kB

    def watch() -> None:
        ticks = 0
        while True:
            time.sleep(0.1 if limit else 0.5)
            ticks += 1
            if (not limit or ticks % 5 == 0) and os.getppid() != parent:
                os._exit(1)
            if limit and (_private_kb() or 0) > limit:
                os.write(2, f"\n{OVER_BUDGET} ({budget_mb} MB)\n".encode())
                os._exit(_OVER_BUDGET_EXIT)

    threading.Thread(target=watch, daemon=True).start()


def _private_kb() -> int | None:
    """The memory this process uses alone, in kB (Linux): what it inherited from its parent and
    still shares with it is the parent's, counted once."""
    try:
        with open("/proc/self/smaps_rollup", "rb") as fh:
            text = fh.read()
    except OSError:
        return None
    total = 0
    for line in text.splitlines():
        if line.startswith((b"Private_Clean:", b"Private_Dirty:")):
            total += int(line.split()[1])
    return total


def _limit_memory(megabytes: int | None) -> None:
    if not megabytes:
        return
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _worker(func: Callable[[Any], Any], conn: Connection, guard: Guard, parent: int, errlog: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a parent's clean-up handler is not ours
    faulthandler.disable()  # a crash is reported by the parent, not dumped on the terminal
    with contextlib.suppress(OSError):
        fd = os.open(errlog, os.O_WRONLY | os.O_APPEND)
        os.dup2(fd, 2)  # a native abort's last words, for the report
        os.close(fd)
    _die_with_parent(parent, guard.budget_mb)
    _limit_memory(guard.memory_mb)
    if guard.budget_mb:  # the pre-flight refuses a file whose reading would take more (kamxl.preflight)
        os.environ["KAMXL_LIMIT_WORKER_MB"] = str(guard.budget_mb)
    # What the worker inherited lives as long as it does: the collector need not walk it, and
    # each file's short-lived objects are collected in fewer, larger passes.
    gc.freeze()
    gc.set_threshold(20_000, 20, 100)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        index, item = message
        try:
            result: Any = ("ok", func(item))
        except MemoryError:
            result = ("failed", "the reader ran out of memory on this file")
        except BaseException as exc:  # report, never die quietly
            result = ("failed", f"the reader failed on this file ({type(exc).__name__}: {exc})")
        try:
            conn.send((index, result))
        except (EOFError, OSError):
            return


def _answer(raw: bytes) -> Any:
    """A worker's answer: its result, or :class:`Failed` with the reason it gave."""
    try:
        _, (status, value) = ForkingPickler.loads(raw)
    except Exception as exc:  # an answer that cannot be read costs its item only
        return Failed(f"the reader's answer could not be read ({type(exc).__name__})")
    return value if status == "ok" else Failed(value)


_DEPTH = 2  # items a worker holds: the one it reads and the next, so it never waits for this process


@dataclass
class _Slot:
    process: Any
    conn: Connection
    errlog: str
    queue: deque[int] = field(default_factory=deque)  # items sent, in order; the first is being read
    started: float = 0.0  # when the first began

    @property
    def index(self) -> int | None:
        return self.queue[0] if self.queue else None


class GuardedPool(Generic[T, R]):
    """Worker processes running ``func``; replaced when one dies. Use as a context manager."""

    def __init__(self, func: Callable[[T], R], jobs: int, guard: Guard | None = None) -> None:
        self.func, self.jobs, self.guard = func, max(1, jobs), guard or Guard.from_env()
        self.ctx = _context()
        self.slots: list[_Slot] = []
        self._helper: threading.Thread | None = None
        self._helper_errors: list[BaseException] = []

    def __enter__(self) -> GuardedPool[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> _Slot:
        if self._helper is not None:
            self._helper.join()  # never fork while another thread may hold a lock
        fd, errlog = tempfile.mkstemp(prefix="kamxl-worker-", suffix=".log")
        os.close(fd)
        ours, theirs = self.ctx.Pipe()
        process = self.ctx.Process(
            target=_worker, args=(self.func, theirs, self.guard, os.getpid(), errlog), daemon=True
        )
        process.start()
        theirs.close()
        slot = _Slot(process, ours, errlog)
        self.slots.append(slot)
        return slot

    def _retire(self, slot: _Slot, *, kill: bool) -> None:
        if kill and slot.process.is_alive():
            with contextlib.suppress(Exception):
                slot.process.kill()
        slot.process.join(5)
        slot.conn.close()
        with contextlib.suppress(OSError):
            os.unlink(slot.errlog)
        self.slots.remove(slot)

    def close(self) -> None:
        """Stop every worker (asked politely, then killed)."""
        for slot in list(self.slots):
            with contextlib.suppress(Exception):
                if slot.index is None:
                    slot.conn.send(None)
        deadline = time.monotonic() + 2
        for slot in list(self.slots):
            slot.process.join(max(0.0, deadline - time.monotonic()))
            self._retire(slot, kill=True)

    def map(
        self,
        items: Sequence[T],
        on_result: Callable[[int, R | Failed], None] | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> list[R | Failed]:
        """``func`` over ``items``, in order; an item whose worker failed gives :class:`Failed`.

        ``meanwhile()`` is called once every worker has its first item: work of the caller's
        that can run while they do."""
        results: dict[int, R | Failed] = {}
        pending = deque(range(len(items)))
        arrived: list[int] = []
        received: list[tuple[int, bytes]] = []  # answers not unpickled yet

        def finish(index: int, value: R | Failed) -> None:
            results[index] = value
            arrived.append(index)

        def dispatch() -> None:
            while pending and (slot := self._free()) is not None:
                index = pending.popleft()
                if not slot.queue:
                    slot.started = time.monotonic()
                slot.queue.append(index)
                try:
                    slot.conn.send((index, items[index]))
                except (OSError, ValueError) as exc:
                    slot.queue.pop()
                    pending.extendleft(reversed(slot.queue))  # read again by another worker
                    self._retire(slot, kill=True)
                    finish(index, Failed(f"the reading process could not be started ({exc})"))

        def lost(slot: _Slot, reason: str) -> None:
            """The worker died or overran: its current item fails, the next ones go back."""
            index = slot.queue.popleft()
            pending.extendleft(reversed(slot.queue))
            self._retire(slot, kill=True)
            finish(index, Failed(reason))

        while True:
            dispatch()
            if meanwhile is not None:
                self._meanwhile(meanwhile)
                meanwhile = None
            for index, raw in received:  # unpickled once their workers are busy again
                finish(index, _answer(raw))
            received.clear()
            # Results are handed on once every worker has its next item: the caller's work on
            # them overlaps the workers' instead of holding them up.
            for index in arrived:
                if on_result:
                    on_result(index, results[index])
            arrived.clear()
            if len(results) >= len(items):
                break
            busy = [s for s in self.slots if s.queue]
            if not busy:
                continue
            now = time.monotonic()
            timeout = max(0.0, min(s.started + self.guard.seconds - now for s in busy))
            ready = wait(
                [s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=min(timeout, 1.0)
            )
            for slot in busy:
                if slot.conn in ready:
                    try:
                        raw = slot.conn.recv_bytes()
                    except (EOFError, OSError):
                        pass  # died while answering: handled as a death below
                    else:
                        received.append((slot.queue.popleft(), raw))
                        slot.started = time.monotonic()  # the worker goes on with its next item
                        continue
                if not slot.queue:
                    continue
                if not slot.process.is_alive() or slot.process.sentinel in ready:
                    slot.process.join(1)
                    lost(slot, self._death(slot))
                elif time.monotonic() - slot.started > self.guard.seconds:
                    lost(
                        slot,
                        f"the reader took more than {self.guard.seconds:g} s on this file and was stopped",
                    )
        self._join_helper()
        return [results[i] for i in range(len(items))]

    def _meanwhile(self, work: Callable[[], None]) -> None:
        """Run the caller's ``work`` in a thread of this process while the workers read: this
        loop keeps answering them meanwhile (the thread lets go of the interpreter every few
        milliseconds), where running it here would leave them waiting for their next items."""
        errors: list[BaseException] = []

        def run() -> None:
            try:
                work()
            except BaseException as exc:  # raised again once the items are read
                errors.append(exc)

        self._helper = threading.Thread(target=run, name="kamxl-meanwhile", daemon=True)
        self._helper_errors = errors
        self._helper.start()

    def _join_helper(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            helper.join()
            if self._helper_errors:
                raise self._helper_errors[0]

    def _free(self) -> _Slot | None:
        """A worker to send an item to: an idle one, else a new one, else one with room queued."""
        for slot in self.slots:
            if not slot.queue:
                return slot
        if len(self.slots) < self.jobs:
            return self._start()
        return min((s for s in self.slots if len(s.queue) < _DEPTH), key=lambda s: len(s.queue), default=None)

    def _death(self, slot: _Slot) -> str:
        try:
            with open(slot.errlog, "rb") as fh:
                fh.seek(max(0, os.path.getsize(slot.errlog) - 4096))
                last = fh.read().decode("utf-8", "replace")
        except OSError:
            last = ""
        code = slot.process.exitcode
        if OVER_BUDGET in last or code == _OVER_BUDGET_EXIT:
            return (
                f"reading this file took more than the {self.guard.budget_mb} MB a reading process may use "
                "(KAMXL_LIMIT_WORKER_MB); it was stopped"
            )
        if "memory allocation" in last or "MemoryError" in last or "out of memory" in last.lower():
            return "the reader ran out of memory on this file"
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if name == "SIGKILL":
                return "the reading process was killed on this file (out of memory?)"
            return f"the reader crashed on this file ({name})"
        return f"the reading process ended unexpectedly on this file (exit code {code})"


def run_guarded(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    jobs: int = 1,
    guard: Guard | None = None,
    on_result: Callable[[int, R | Failed], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[R | Failed]:
    """Run ``func`` over ``items`` in ``jobs`` guarded worker processes; see :class:`GuardedPool`."""
    with GuardedPool(func, min(jobs, max(1, len(items))), guard) as pool:
        return pool.map(items, on_result, meanwhile)


def call_guarded(func: Callable[[T], R], item: T, *, guard: Guard | None = None) -> R:
    """``func(item)`` in one guarded worker; raise :class:`Failed` when the worker gave no result."""
    (result,) = run_guarded(func, [item], guard=guard)
    if isinstance(result, Failed):
        raise result
    return result
