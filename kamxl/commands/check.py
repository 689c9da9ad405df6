"""`kamxl check`: read, score and health-check workbooks without ever writing to them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

import click

from ..findings import PlanReadError
from ..report import check_workbook, render_text
from ..template import Template, get_template
from .options import as_of_option, template_option

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def _is_workbook(path: Path) -> bool:
    return (
        path.suffix.lower() in WORKBOOK_SUFFIXES and not path.name.startswith(("~$", ".")) and path.is_file()
    )


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a folder becomes its workbooks (sorted), skipping Excel lock and temp files."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if _is_workbook(p))
        else:
            out.append(path)
    return out


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of results (see docs/check.md).")
@template_option()
@as_of_option("Check")
def command(
    paths: tuple[Path, ...], as_json: bool, template_path: Path | None, as_of: dt.date | None
) -> None:
    """Check account workbooks: scores, tier, key figures and findings for each.

    PATHS are workbooks or folders of workbooks. Nothing is written. Exit code 0 when every
    file was read (findings are not failures), 2 when any could not be read.
    """
    template: Template | None = get_template(template_path) if template_path else None
    files: list[Path] = []
    reports, failed = [], False
    for given in paths:
        try:
            files += expand_paths([given])
        except OSError as exc:  # a folder that cannot be listed (permissions, network drive gone)
            failed = True
            click.echo(f"kamxl check: {given}: cannot be opened: {exc.strerror or exc}", err=True)
    for path in files:
        try:
            report = check_workbook(path, template=template, as_of=as_of)
        except PlanReadError as exc:
            failed = True
            click.echo(f"kamxl check: {exc.path}: {exc.reason}", err=True)
            continue
        reports.append(report)
        if not as_json:
            click.echo(render_text(report) + "\n")
    if as_json:
        click.echo(json.dumps(reports, ensure_ascii=False, indent=2))
    if not files and not failed:
        click.echo("kamxl check: no .xlsx or .xlsm workbooks found", err=True)
        failed = True
    if failed:
        raise SystemExit(2)
