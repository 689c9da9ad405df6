"""`kamxl excel-setup` and `kamxl doctor`: make the workbook buttons run on a KAM's computer."""

from __future__ import annotations

from pathlib import Path

import click

from ..excel_setup import Check, SetupError, doctor, excel_setup, verdict, workbook_problem
from .errors import CommandError

MARKS = {"ok": ("ok", "green"), "warn": ("warn", "yellow"), "fail": ("FAIL", "red")}


@click.command("excel-setup")
@click.option("--no-runpython", is_flag=True, help="macOS: do not install RunPython (xlwings' AppleScript).")
def excel_setup_command(no_runpython: bool) -> None:
    """Configure xlwings so Excel's kamxl buttons run this Python.

    Writes this interpreter into the xlwings user config (INTERPRETER_WIN or INTERPRETER_MAC,
    other settings kept) and, on macOS, installs RunPython. Then run  kamxl doctor WORKBOOK.
    Exit code 2 where there is nothing to set up (not Windows or macOS, no xlwings).
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
@click.argument("workbook", required=False, type=click.Path(path_type=Path))
def doctor_command(workbook: Path | None) -> None:
    """Check why a workbook's buttons might not run here, and print the fix for each problem.

    Checks the Python Excel starts, its xlwings and kamxl, the xlwings version inside WORKBOOK,
    RunPython on macOS, and whether Windows blocks the file's macros. Exit code 0 when all is
    well, 1 when a check failed or warned, 2 when WORKBOOK is not a workbook.
    """
    if workbook is not None and (problem := workbook_problem(workbook)):
        raise CommandError(problem)
    checks = doctor(workbook)
    for check in checks:
        click.echo(render(check))
    code, closing = verdict(checks)
    click.echo(closing)
    if code:
        raise SystemExit(code)
