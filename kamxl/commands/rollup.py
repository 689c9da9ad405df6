"""`kamxl rollup`: every account workbook of a folder into one portfolio summary for directors."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from ..rollup import HistoryError, NothingToRollUp, default_output, nothing_done_json, rollup
from ..rollup.export import CSV_DIALECTS, EXPORT_FORMATS
from ..template import TemplateError
from .errors import NEEDS_ATTENTION, NOTHING_DONE, CommandError, exit_needing_attention, os_error_message
from .options import as_of_option, lang_option, template_option
from .runlog import append_log, log_line


class _ProgressBar:
    """A click progress bar on stderr, opened when the number of files is known."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, total: int, file: str) -> None:
        if self.bar is None:
            self.bar = click.progressbar(
                length=total,
                label="Reading workbooks",
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda item: item,
            )
            self.bar.__enter__()
        self.bar.update(1, file)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.command("rollup")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Summary workbook (.xlsm or .xlsx) or folder. Default: portfolio/portfolio-summary.xlsm "
    "beside FOLDER.",
)
@click.option(
    "--no-macros",
    is_flag=True,
    help="Write a macro-free .xlsx summary, without the Roll up button (for Excel that blocks macros).",
)
@click.option("--recursive", is_flag=True, help="Also read workbooks in sub-folders.")
@click.option("--jobs", type=click.IntRange(min=1), help="Reading processes (default: one per CPU).")
@click.option(
    "--memory-mb",
    type=click.IntRange(min=64),
    help="Memory the reading processes share, in MB (default: KAMXL_MEMORY_MB or 1536); "
    "each may use up to 400 MB (KAMXL_LIMIT_WORKER_MB).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of the closing line.")
@click.option(
    "--history",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite history file. Default: portfolio-history.sqlite beside the summary.",
)
@click.option("--no-history", is_flag=True, help="Keep no history (the Trends sheet stays empty).")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Read every workbook, even unchanged ones (default: portfolio-cache.json.gz beside the history "
    "keeps what the last roll-up read).",
)
@click.option(
    "--export",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write accounts, opportunities, actions and risks as CSV (or one .xlsx) into this folder.",
)
@click.option(
    "--export-format",
    type=click.Choice(EXPORT_FORMATS),
    default="csv",
    show_default=True,
    help="csv: one file per export; xlsx: one exports.xlsx with a sheet per export.",
)
@click.option(
    "--csv-dialect",
    type=click.Choice(list(CSV_DIALECTS)),
    help="excel: UTF-8 with BOM, ','; excel-fr: BOM, ';' and decimal commas; rfc4180: plain UTF-8, "
    "','. Default: excel-fr with --lang fr, else excel.",
)
@click.option(
    "--digest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write e-mail drafts (.eml) into this folder: one per KAM with their accounts' alerts, "
    "overdue actions and coming rituals, one for the director. Nothing is sent.",
)
@click.option(
    "--include-contacts",
    is_flag=True,
    help="Copy stakeholder names and contact details into the summary (a Contacts sheet).",
)
@click.option(
    "--calibrated-tiers",
    is_flag=True,
    help="Priorities and tiers use each deal's calibrated probability (its KAM's record of won and "
    "lost deals) instead of the declared one; the Forecast sheet says so.",
)
@lang_option("Language of the summary.")
@template_option()
@as_of_option("Roll up")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no per-file messages.")
@click.option(
    "--log",
    "log_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append one timestamped line per run (outcome and counts) to this file; a log that cannot "
    "be written is reported on stderr and never fails the run.",
)
def command(
    folder: Path,
    output: Path | None,
    no_macros: bool,
    recursive: bool,
    jobs: int | None,
    memory_mb: int | None,
    as_json: bool,
    history: Path | None,
    no_history: bool,
    no_cache: bool,
    export: Path | None,
    export_format: str,
    csv_dialect: str | None,
    digest: Path | None,
    include_contacts: bool,
    calibrated_tiers: bool,
    lang: str,
    template_path: Path | None,
    as_of: dt.date | None,
    quiet: bool,
    log_file: Path | None,
) -> None:
    """Roll every account workbook of FOLDER up into one portfolio summary workbook.

    Files that cannot be read are listed in the summary's Data quality sheet and never stop
    the run. Prints one closing line: accounts read, files skipped, the summary's path.
    Exit code 0 when every file was read and every output written, 1 when files were skipped or
    an output (history, exports) was not written, 2 when nothing was written.
    """
    bar = _ProgressBar() if not quiet and sys.stderr.isatty() else None

    def nothing_done(message: str, nothing: NothingToRollUp | None = None) -> CommandError:
        """Exit code 2, logged; with --json, the JSON object too (the same keys, ``error`` set)."""
        append_log(log_file, log_line("rollup", NOTHING_DONE, {"folder": folder, "error": message}))
        if as_json:
            out = output or default_output(folder, macros=not no_macros)
            doc = nothing_done_json(message, out, as_of or dt.date.today(), nothing)
            click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return CommandError(message)

    try:
        result = rollup(
            folder,
            output=output,
            recursive=recursive,
            jobs=jobs,
            memory_mb=memory_mb,
            history=False if no_history else history,
            cache=False if no_cache else None,
            export=export,
            export_format=export_format,
            csv_dialect=csv_dialect,
            digest=digest,
            include_contacts=include_contacts,
            calibrated_tiers=calibrated_tiers,
            template=template_path,
            as_of=as_of,
            progress=bar,
            lang=lang,
            macros=False if no_macros else None,
            waiting=lambda message: click.echo(f"kamxl rollup: {message}", err=True),
        )
    except OSError as exc:
        raise nothing_done(os_error_message(exc)) from None
    except NothingToRollUp as exc:
        if not quiet and not as_json:
            for problem in exc.skipped:
                click.echo(f"kamxl rollup: skipped {problem.file}: {problem.reason}", err=True)
        raise nothing_done(str(exc), exc) from None
    except (HistoryError, TemplateError, ValueError) as exc:
        raise nothing_done(str(exc)) from None
    finally:
        if bar:
            bar.close()
    counts = {
        "accounts": len(result.accounts),
        "from_cache": result.from_cache,
        "skipped": len(result.skipped),
        "errors": len(result.errors),
        "up_to_date": str(result.up_to_date).lower(),
        "output": result.output,
    }
    append_log(log_file, log_line("rollup", result.exit_code, counts))
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        if not quiet:
            for item in result.skipped:
                click.echo(f"kamxl rollup: skipped {item['file']}: {item['reason']}", err=True)
            for item in result.duplicates:
                click.echo(
                    f"kamxl rollup: duplicate {item['file']}: the same account as {item['duplicate_of']}, "
                    "counted once",
                    err=True,
                )
        for item in result.errors:
            click.echo(f"kamxl rollup: {item['output']}: {item['reason']}", err=True)
        n, k = len(result.accounts), len(result.skipped)
        cached = f" ({result.from_cache} unchanged since the last roll-up)" if result.from_cache else ""
        state = " (up to date: nothing changed)" if result.up_to_date else ""
        click.echo(
            f"{n} account{'s' if n != 1 else ''} read{cached}, {k} file{'s' if k != 1 else ''} skipped: "
            f"{result.output}{state}"
        )
    exit_needing_attention(result.exit_code == NEEDS_ATTENTION)
