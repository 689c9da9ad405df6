"""`kamxl excel-setup` and `kamxl doctor`: make the workbook buttons run on a KAM's computer."""

from __future__ import annotations

from pathlib import Path

import click

from ..excel_setup import Check, SetupError, doctor, excel_setup, failed
from .errors import CommandError

MARKS = {"ok": ("ok", "green"), "warn": ("warn", "yellow"), "fail": ("FAIL", "red")}


@click.command("excel-setup")
@click.option("--no-runpython", is_flag=True, help="macOS: do not install RunPython (xlwings' AppleScript).")
def excel_setup_command(no_runpython: bool) -> None:
    """Configure xlwings so Excel's kamxl buttons run this Python.

    Writes this interpreter into the xlwings user config (INTERPRETER_WIN or INTERPRETER_MAC,
    other settings kept) and, on macOS, installs RunPython. Then run  kamxl doctor WORKBOOK.
    """
    try:
        for line in excel_setup(runpython=not no_runpython):
            click.echo(line)
    except SetupError as exc:
        raise CommandError(str(exc)) from None


def render(check: Check) -> str:
    mark, color = MARKS[check.status]
    line = f"[{click.style(mark, fg=color)}] {check.name}: {check.message}"
    if check.fix and check.status != "ok":
        line += f"\n       fix: {check.fix}"
    return line


@click.command("doctor")
@click.argument("workbook", required=False, type=click.Path(dir_okay=False, path_type=Path))
def doctor_command(workbook: Path | None) -> None:
    """Check why a workbook's buttons might not run here, and print the fix for each problem.

    Checks the Python Excel starts, its xlwings and kamxl, the xlwings version inside WORKBOOK,
    RunPython on macOS, and whether Windows blocks the file's macros. Exit code 1 if any fails.
    """
    checks = doctor(workbook)
    for check in checks:
        click.echo(render(check))
    if failed(checks):
        click.echo("Some checks failed: apply the fixes above, then run  kamxl doctor  again.")
        raise SystemExit(1)
    click.echo("All set: the buttons can run Python here.")
