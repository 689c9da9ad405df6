"""``--log FILE``: one line per scheduled run, so whoever looks after the job sees its history.

A log that cannot be written never changes the run's outcome or exit code: the run says so on
stderr and goes on. Lines are appended (never rewritten), so several jobs may share one file.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click


def log_line(command: str, exit_code: int, fields: dict[str, object]) -> str:
    """``TIMESTAMP command exit=N outcome=... key=value...``: one greppable line, local time."""
    outcome = {0: "ok", 1: "needs-attention"}.get(exit_code, "failed")
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    parts = [stamp, command, f"exit={exit_code}", f"outcome={outcome}"]
    parts += [f"{key}={_value(value)}" for key, value in fields.items()]
    return " ".join(parts)


def _value(value: object) -> str:
    text = " ".join(str(value).split())  # one line, whatever the message held
    return f'"{text}"' if (" " in text or not text) else text


def append_log(path: Path | None, line: str) -> None:
    """Append ``line`` to ``path``; on failure, say so on stderr and carry on."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))  # one write: lines of parallel runs never mix
        finally:
            os.close(fd)
    except OSError as exc:
        click.echo(f"kamxl: log {path} not written: {exc.strerror or exc}", err=True)
