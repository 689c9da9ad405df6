"""`kamxl whatif`: a plan's priority, tier and status after a few changes, beside today's.

A thin shell over ``kamxl.whatif``; the workbook is read, never written.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from ..findings import PlanReadError
from ..whatif import CHANGES, Change, WhatIfError, what_if
from .errors import CommandError
from .options import as_of_option, template_option


def _change(text: str) -> Change:
    """``win_deal`` or ``win_deal=Renewal 2027`` or ``set_margin=0.3``."""
    code, _, value = text.partition("=")
    code = code.strip()
    if code not in CHANGES:
        raise click.BadParameter(f"{code!r} is not one of {', '.join(CHANGES)}", param_hint="--change")
    if not value.strip():
        return Change(code)
    try:
        return Change(code, float(value))
    except ValueError:
        return Change(code, value.strip())


@click.command("whatif")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--change",
    "changes",
    multiple=True,
    required=True,
    metavar="CODE[=VALUE]",
    help=f"A change, made in order ({', '.join(CHANGES)}); VALUE names the row or gives the number.",
)
@click.option("--json", "as_json", is_flag=True, help="Print today's and the changed scores as JSON.")
@template_option()
@as_of_option("Score")
def command(
    path: Path, changes: tuple[str, ...], as_json: bool, template_path: Path | None, as_of: dt.date | None
) -> None:
    """Show what a few changes would do to a plan's priority, tier and status (nothing is written)."""
    from ..reader import read_plan

    try:
        result = read_plan(path, template=template_path)
        outcome = what_if(result.plan, result.template, [_change(c) for c in changes], as_of)
    except PlanReadError as exc:
        raise CommandError(f"{exc.path}: {exc.reason}") from exc
    except WhatIfError as exc:
        raise CommandError(f"{path}: {exc}") from exc
    if as_json:
        click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False, indent=2))
        return
    t, lang = result.template, result.plan.lang if result.plan.lang in ("en", "fr") else "en"
    for label, s in (("today", outcome.today), ("after", outcome.after)):
        click.echo(
            f"{label:<6} priority {s.priority:5.1f}  tier {t.tier_label(s.tier, lang)}"
            f"  status {t.status[s.status]['label'][lang]}"
        )
