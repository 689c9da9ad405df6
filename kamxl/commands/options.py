"""Options several commands share, declared once so they read and behave the same everywhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-15") from None


def as_of_option(verb: str) -> Callable[[F], F]:
    """``--as-of YYYY-MM-DD``: the day overdue actions, stale plans and scores refer to."""
    return click.option(
        "--as-of",
        metavar="YYYY-MM-DD",
        callback=_date,
        help=f"{verb} as of this day instead of today.",
    )


def output_dir_option(help: str, default: Path = Path(".")) -> Callable[[F], F]:
    """``-o/--output-dir DIR``: the folder workbooks are written into (created when needed)."""
    return click.option(
        "-o",
        "--output-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=default,
        show_default=True,
        help=help,
    )


def lang_option(help: str) -> Callable[[F], F]:
    """``--lang en|fr``, passed lower-cased."""
    return click.option(
        "--lang",
        type=click.Choice(["en", "fr"], case_sensitive=False),
        default="en",
        show_default=True,
        callback=lambda _ctx, _param, value: value.lower(),
        help=help,
    )


def template_option(help: str = "Custom template file the workbooks were made from.") -> Callable[[F], F]:
    """``--template PATH``, passed to the command as ``template_path``."""
    return click.option(
        "--template", "template_path", type=click.Path(dir_okay=False, path_type=Path), help=help
    )
