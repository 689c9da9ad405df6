"""Exit codes shared by every command, and the error type behind exit code 2.

0 done; 1 done, but something needs attention (bad rows or bad files were skipped, a check
warned); 2 nothing could be done (no input, bad usage, nothing to work on). README lists them.
"""

from __future__ import annotations

import click

DONE, NEEDS_ATTENTION, NOTHING_DONE = 0, 1, 2


class CommandError(click.ClickException):
    """The run could not do its job (bad input, a file in the way): exit code 2, nothing damaged."""

    exit_code = NOTHING_DONE


def exit_needing_attention(needed: bool) -> None:
    """End with exit code 1 when the run did its job but left something to look at."""
    if needed:
        raise SystemExit(NEEDS_ATTENTION)
