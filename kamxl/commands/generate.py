"""`kamxl generate`: one pre-filled account workbook per row of a CRM export."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from ..crm import STOPPED, CrmError, ExportRow, GenerateResult, generate_from_export
from ..template import TemplateError
from .errors import CommandError, exit_needing_attention
from .options import lang_option, output_dir_option


def _progress_bar(rows: Sequence[ExportRow]) -> Iterator[ExportRow]:
    with click.progressbar(rows, label="Generating", file=sys.stderr, show_pos=True) as bar:
        yield from bar


def _report(result: GenerateResult) -> None:
    later = [s for s in result.skipped if s.reason.startswith(STOPPED)]
    for skip in result.skipped:
        if skip not in later:
            account = f" {skip.account}:" if skip.account else ""
            click.echo(f"line {skip.line}:{account} {skip.reason}", err=True)
    if later:  # a full or read-only drive: the rows not tried, in one line (listed in --json)
        lines = f"line {later[0].line}" if len(later) == 1 else f"lines {later[0].line}-{later[-1].line}"
        click.echo(f"{lines}: {len(later)} row(s) {later[0].reason}", err=True)
    if result.columns_not_found:
        fields = ", ".join(result.columns_not_found)
        click.echo(f"note: the {result.mapping} mapping found no column for {fields} (left blank)", err=True)
    for backup in result.backups:
        click.echo(f"backup kept: {backup}", err=True)
    click.echo(
        f"Generated {len(result.generated)} workbook(s), skipped {len(result.skipped)} row(s); "
        f"output folder: {result.output}"
    )


@click.command("generate")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_dir_option("Folder to write the workbooks into.")
@click.option(
    "--mapping",
    metavar="salesforce|hubspot|PATH",
    help="Column mapping: a built-in one or a TOML/YAML mapping file. Default: the built-in that fits.",
)
@lang_option("Language of the workbooks.")
@click.option(
    "--template",
    "template_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Custom template file (a copy of workbook_templates/account_plan.toml).",
)
@click.option("--by-kam", is_flag=True, help="One sub-folder per account owner (KAM).")
@click.option("--force", is_flag=True, help="Replace existing workbooks (each old file is kept as a backup).")
@click.option("--no-macros", is_flag=True, help="Write macro-free .xlsx workbooks (no Recompute button).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (see docs/crm.md).")
def command(
    export: Path,
    output_dir: Path,
    mapping: str | None,
    lang: str,
    template_path: Path | None,
    by_kam: bool,
    force: bool,
    no_macros: bool,
    as_json: bool,
) -> None:
    """Write one pre-filled account workbook per account row of a CRM EXPORT (CSV or .xlsx).

    Rows that cannot be used (no name, duplicate, revenue that is not a number, existing
    workbook without --force) are listed with their line number; the others are still written.
    Exit code 1 when rows were skipped, 2 when no workbook could be written.
    """
    progress = _progress_bar if sys.stderr.isatty() and not as_json else None
    try:
        result = generate_from_export(
            export,
            output_dir,
            mapping=mapping,
            lang=lang,
            template=template_path,
            by_kam=by_kam,
            force=force,
            progress=progress,
            macros=not no_macros,
        )
    except (CrmError, TemplateError) as exc:
        message = f"invalid template: {exc}" if isinstance(exc, TemplateError) else str(exc)
        if as_json:
            doc = GenerateResult(output_dir).to_json(error=message)
            click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        raise CommandError(message) from None
    nothing = f"no workbook written: all {len(result.skipped)} row(s) were skipped"
    if as_json:
        doc = result.to_json(error=None if result.generated else nothing)
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        _report(result)
    if not result.generated:
        raise CommandError(nothing)
    exit_needing_attention(bool(result.skipped))
