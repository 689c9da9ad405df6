"""Exit codes shared by every command, and the error type behind exit code 2.

0 done; 1 done, but something needs attention (bad rows or bad files were skipped, a check
warned); 2 nothing could be done (no input, bad usage, nothing to work on). README lists them.
"""

from __future__ import annotations

import errno

import click

DONE, NEEDS_ATTENTION, NOTHING_DONE = 0, 1, 2


class CommandError(click.ClickException):
    """The run could not do its job (bad input, a file in the way): exit code 2, nothing damaged."""

    exit_code = NOTHING_DONE


def exit_needing_attention(needed: bool) -> None:
    """End with exit code 1 when the run did its job but left something to look at."""
    if needed:
        raise SystemExit(NEEDS_ATTENTION)


_HINTS = {
    errno.ENOSPC: "the disk is full: free some space and run again",
    errno.EDQUOT: "the disk quota is used up: free some space and run again",
    errno.EROFS: "the drive is read-only: choose another output folder",
    errno.EACCES: "permission denied: choose a folder you can write to, or close the file",
    errno.EPERM: "permission denied: choose a folder you can write to, or close the file",
    errno.ENAMETOOLONG: "the path is too long: choose a shorter output folder or name",
    errno.EIO: "the drive reported an input/output error: check the drive or network share",
}


def os_error_message(exc: OSError) -> str:
    """One line for a file the system would not write or read: the path, what happened, what to do."""
    code = errno.errorcode.get(exc.errno or 0, "")
    what = _HINTS.get(exc.errno or 0) or (exc.strerror or str(exc)).rstrip(".")
    detail = exc.strerror if exc.strerror and exc.errno in (errno.EACCES, errno.EPERM) else ""
    where = f"{exc.filename}: " if exc.filename else ""
    extra = f" ({detail})" if detail and detail not in what else ""
    return f"{where}{what}{extra}{f' [{code}]' if code else ''}; nothing was left half-written"
