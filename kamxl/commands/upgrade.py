"""`kamxl upgrade`: move workbooks made with an older template version to the current one."""

from __future__ import annotations

from pathlib import Path

import click

from ..findings import PlanReadError
from ..template import TemplateError, get_template
from ..upgrade import UpgradeError, upgrade_workbook, workbook_files
from .errors import CommandError, exit_needing_attention, os_error_message
from .options import template_option


@click.command("upgrade")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@template_option("Template to upgrade to (default: the built-in one).")
def command(paths: tuple[Path, ...], template_path: Path | None) -> None:
    """Upgrade account workbooks (files or folders) to the current template version.

    Each workbook is read, written anew, read back and compared value by value before it
    replaces the original, which is kept beside it as NAME.bak-YYYYMMDD-HHMMSS.xlsx. Values
    with no place in the new template go to a "Carried over" sheet. A workbook that cannot be
    upgraded is left untouched and reported (exit code 1).
    """
    try:
        template = get_template(template_path)
    except TemplateError as exc:
        raise CommandError(str(exc)) from None
    files = workbook_files(list(paths))
    if not files:
        raise CommandError("no .xlsx or .xlsm workbook found in the paths given")
    failed = False
    for path in files:
        try:
            click.echo(upgrade_workbook(path, template=template).message)
        except OSError as exc:
            failed = True
            click.echo(f"{path}: not upgraded: {os_error_message(exc)}", err=True)
        except (PlanReadError, UpgradeError) as exc:
            failed = True
            click.echo(f"{path}: not upgraded: {exc}", err=True)
    exit_needing_attention(failed)
