"""`kamxl demo`: a sample portfolio of filled account workbooks, rolled up."""

from __future__ import annotations

from pathlib import Path

import click

from ..workbooks import DemoFolderInUse, write_demo
from .errors import CommandError
from .options import output_dir_option


@click.command("demo")
@output_dir_option("Folder for the demo: plans/ and portfolio/ go inside.", default=Path("kamxl-demo"))
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same portfolio.")
@click.option(
    "--count", type=click.IntRange(1, 500), default=24, show_default=True, help="Number of accounts."
)
@click.option(
    "--force",
    is_flag=True,
    help="Write the demo even beside files it did not write (same-named workbooks are kept as backups).",
)
@click.option("--no-macros", is_flag=True, help="Write macro-free .xlsx workbooks.")
def command(output_dir: Path, seed: int, count: int, force: bool, no_macros: bool) -> None:
    """Write a realistic sample portfolio of filled account workbooks and roll it up.

    Accounts are in English and French, healthy, at risk, stale and new; the same seed gives the
    same portfolio. The portfolio summary lands in OUTPUT_DIR/portfolio/. Run again, it replaces
    its own earlier output; a folder holding anything else is left as it is (exit code 2).
    """
    try:
        plans, result = write_demo(output_dir, seed=seed, count=count, force=force, macros=not no_macros)
    except DemoFolderInUse as exc:
        raise CommandError(str(exc)) from None
    click.echo(f"{len(plans)} account workbooks in {output_dir / 'plans'}")
    click.echo(f"Portfolio summary ({result.totals['accounts']} accounts): {result.output}")
    click.echo("Open a workbook of plans/ as a KAM would, and the summary as a sales director would.")
