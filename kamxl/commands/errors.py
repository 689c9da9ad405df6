"""The one error type the commands raise: a sentence on stderr and exit code 2."""

from __future__ import annotations

import click


class CommandError(click.ClickException):
    """The run could not do its job (bad input, a file in the way): exit code 2, nothing damaged.

    Exit code 1 stays for "ran, and found problems" (``kamxl doctor``'s failed checks).
    """

    exit_code = 2
