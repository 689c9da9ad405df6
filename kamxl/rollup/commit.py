"""A roll-up's outputs as one unit: summary, history snapshot, CSV exports and read cache become
current together, or not at all.

Each output is first written whole to a staged file beside its target (``.kamxl~run-RUN-NAME``).
When every one is written, a journal beside the summary lists the staged files and their targets;
then the history's transaction (left open meanwhile, with a ``runs`` row naming the summary) is
committed: that is the moment the run becomes the current one. The staged files are then renamed
over their targets and the journal removed.

A run stopped at any point (a full disk, Ctrl-C, SIGKILL, a power cut) leaves something the next
run of the same summary completes or undoes before it starts (:func:`recover`): a journal whose run
the history holds (or, without a history, any journal: it is written only once every file is
whole) is rolled forward, the renames done; any other is rolled back, its staged files removed.
Until then the previous summary, history, exports and cache are the current, consistent, set.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..fileio import atomic_write_text, content_digest, signals_held
from .export import CSV_FILES, XLSX_NAME
from .history import PendingSnapshot, committed_run

STAGE_PREFIX = ".kamxl~run-"
CSV_NAMES = [*CSV_FILES.values(), XLSX_NAME]  # every file an --export folder may get


def journal_path(summary: Path) -> Path:
    """The journal of the run writing ``summary``, a hidden file beside it."""
    return summary.with_name(f".{summary.name}.kamxl-run")


@dataclass
class RunOutputs:
    """The staged outputs of one run and their targets."""

    summary: Path
    history: Path | None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    moves: list[tuple[Path, Path]] = field(default_factory=list)
    pending: PendingSnapshot | None = None  # today's snapshot, in its open transaction
    committed: bool = False  # past the commit point: the next run completes what is left

    def stage(self, target: Path) -> Path:
        """Where to write ``target`` for this run: a staged file beside it."""
        staged = target.with_name(f"{STAGE_PREFIX}{self.run_id}-{target.name}")
        self.moves.append((staged, target))
        return staged

    def staged(self, target: Path) -> Path | None:
        return next((s for s, t in self.moves if t == target), None)

    def named(self, exc: OSError) -> OSError:
        """``exc`` naming the output a staged file (or the journal) stands for: what the user knows."""
        names = {str(s): t for s, t in self.moves} | {str(journal_path(self.summary)): self.summary}
        target = names.get(str(exc.filename))
        if target is None or exc.errno is None:
            return exc
        return OSError(exc.errno, exc.strerror, str(target))

    def commit(self, pending: PendingSnapshot | None) -> None:
        """Make the staged files the current outputs; see the module docstring for the order.

        Before the history's commit a failure discards the staged files (and the transaction);
        after it the renames are finished, now or by the next run.
        """
        journal = journal_path(self.summary)
        try:
            atomic_write_text(journal, json.dumps(self._journal(), ensure_ascii=False))
            if pending is not None:
                staged = self.staged(self.summary)
                digest = content_digest(staged.read_bytes()) if staged else ""
                pending.commit(self.run_id, self.summary, digest)
        except BaseException as exc:
            if pending is not None:
                pending.rollback()
            self.discard()
            if isinstance(exc, OSError) and self.named(exc) is not exc:
                raise self.named(exc) from exc
            raise
        with signals_held():  # a Ctrl-C now would leave the renames to the next run
            self.committed = True
            roll_forward(self.moves)
            journal.unlink(missing_ok=True)

    def discard(self) -> None:
        """Remove the staged files and the journal: the previous outputs stay the current ones."""
        for staged, _ in self.moves:
            with contextlib.suppress(OSError):
                staged.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            journal_path(self.summary).unlink(missing_ok=True)

    def _journal(self) -> dict[str, object]:
        return {
            "run": self.run_id,
            "history": str(self.history) if self.history else None,
            "moves": [[str(s), str(t)] for s, t in self.moves],
        }


def roll_forward(moves: list[tuple[Path, Path]]) -> None:
    """Rename each staged file still there over its target (a rename already done is skipped)."""
    for staged, target in moves:
        if staged.exists():
            os.replace(staged, target)


def recover(summary: Path, log: Callable[[str], None] | None = None) -> str | None:
    """Complete or undo what a stopped run of ``summary`` left; say which (None: nothing to do).

    Called with the summary's lock held, before anything else is written.
    """
    journal = journal_path(summary)
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        run, history = str(data["run"]), data.get("history")
        moves = [(Path(s), Path(t)) for s, t in data["moves"]]
    except FileNotFoundError:
        _remove_orphans(summary)
        return None
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)  # unreadable: never acted on; staged files are orphans
        _remove_orphans(summary)
        return "rolled back"
    committed = True if history is None else committed_run(Path(history), run)
    if committed is None:
        return None  # the history cannot be read now: decide on a later run
    if committed:
        roll_forward(moves)
        outcome = "completed"
    else:
        for staged, _ in moves:
            staged.unlink(missing_ok=True)
        outcome = "rolled back"
    journal.unlink(missing_ok=True)
    _remove_orphans(summary)
    if log:
        log(f"the previous roll-up was stopped; its outputs were {outcome}")
    return outcome


def _remove_orphans(summary: Path) -> None:
    """Staged summaries a run stopped before its journal was written (nobody else writes them:
    the summary's lock is held)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(summary.parent):
            if entry.name.startswith(STAGE_PREFIX) and entry.name.endswith(f"-{summary.name}"):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def remove_orphans_in(folder: Path, names: list[str]) -> None:
    """Staged files named after ``names`` in ``folder`` (exports, cache) that no journal lists."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(STAGE_PREFIX) and any(entry.name.endswith(f"-{n}") for n in names):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
