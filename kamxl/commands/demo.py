"""`kamxl demo`: a sample portfolio of filled account workbooks, rolled up."""

from __future__ import annotations

from pathlib import Path

import click

from ..demo import demo_plans
from ..template import get_template
from ..workbooks import save_plan


def write_demo(out_dir: Path, *, seed: int, count: int, force: bool) -> list[Path]:
    template = get_template()
    plans_dir = out_dir / "plans"
    return [
        save_plan(p, plans_dir, template=template, force=force)
        for p in demo_plans(template, seed=seed, count=count)
    ]


@click.command("demo")
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("kamxl-demo"),
    show_default=True,
    help="Folder for the demo: plans/ and portfolio/ go inside.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same portfolio.")
@click.option(
    "--count", type=click.IntRange(1, 500), default=24, show_default=True, help="Number of accounts."
)
@click.option("--force", is_flag=True, help="Replace workbooks left by an earlier demo.")
def command(output_dir: Path, seed: int, count: int, force: bool) -> None:
    """Write a realistic sample portfolio of filled account workbooks (English and French)."""
    paths = write_demo(output_dir, seed=seed, count=count, force=force)
    click.echo(f"{len(paths)} account workbooks in {output_dir / 'plans'}")
