"""`kamxl check`: read, score and health-check workbooks without ever writing to them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from ..checking import CheckRun, check_paths
from ..report import render_text
from ..template import get_template
from .errors import NOTHING_DONE, exit_needing_attention
from .options import as_of_option, template_option


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of results (see docs/check.md).")
@click.option("--recursive", is_flag=True, help="Also check workbooks in sub-folders of a folder.")
@click.option("--jobs", type=click.IntRange(min=1), help="Reading processes (default: one per CPU).")
@click.option(
    "--memory-mb",
    type=click.IntRange(min=64),
    help="Memory the reading processes share, in MB (default: KAMXL_MEMORY_MB or 1536); "
    "each may use up to 400 MB (KAMXL_LIMIT_WORKER_MB).",
)
@click.option("--since", metavar="DATE|FILE", help="Also list what changed since this day or previous copy.")
@click.option(
    "--history", type=click.Path(dir_okay=False, path_type=Path), help="Roll-up history for --since."
)
@template_option()
@as_of_option("Check")
def command(
    paths: tuple[Path, ...],
    as_json: bool,
    recursive: bool,
    jobs: int | None,
    memory_mb: int | None,
    since: str | None,
    history: Path | None,
    template_path: Path | None,
    as_of: dt.date | None,
) -> None:
    """Check account workbooks: scores, tier, key figures and findings for each.

    PATHS are workbooks or folders of workbooks (the same files a roll-up reads). Nothing is
    written. Exit code 0 when every file was read (findings are not failures), 1 when some
    could not be read, 2 when none could.
    """
    if template_path:
        get_template(template_path)  # an invalid template is a usage error before any file is read
    run: CheckRun = check_paths(
        paths, template=template_path, as_of=as_of, recursive=recursive, jobs=jobs, memory_mb=memory_mb
    )
    for problem in run.problems:
        click.echo(f"kamxl check: {problem.file}: {problem.reason}", err=True)
    if since:
        from ..review.since import add_changes, parse_since

        for problem in add_changes(
            run.reports, parse_since(since), history=history, template=template_path, as_of=as_of
        ):
            click.echo(f"kamxl check: --since: {problem}", err=True)
    if as_json:
        click.echo(json.dumps(json_document(run), ensure_ascii=False, indent=2))
    else:
        for report in run.reports:
            click.echo(render_text(report) + "\n")
    if not run.reports:
        if not run.problems:
            click.echo("kamxl check: no .xlsx or .xlsm workbooks found", err=True)
        raise SystemExit(NOTHING_DONE)
    exit_needing_attention(bool(run.problems))


JSON_SCHEMA_VERSION = 1  # of the --json object: raised when a key changes meaning or goes away


def json_document(run: CheckRun) -> dict[str, object]:
    """What ``kamxl check --json`` prints, the same keys whatever the exit code (docs/check.md)."""
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "results": run.reports,
        "unreadable": [problem.as_dict() for problem in run.problems],
    }
