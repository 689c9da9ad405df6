"""The `kamxl` command line: thin wrappers over the library for sales ops and scheduled jobs."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from . import __version__
from .commands.errors import CommandError, os_error_message
from .commands.options import lang_option, output_dir_option, template_option
from .fileio import atomic_write_text
from .template import TemplateError, get_template
from .workbooks import EmptyName, WorkbookExists, new_workbook


def stop_cleanly_on_sigterm() -> None:
    """SIGTERM (a scheduler stopping a job) unwinds like Ctrl-C: temporary files are removed and
    reading processes stopped; exit code 143 as for an ordinary termination."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


class KamxlGroup(click.Group):
    """Turns the library's expected errors into one clear line and exit code 2."""

    def invoke(self, ctx: click.Context) -> object:
        stop_cleanly_on_sigterm()
        try:
            return super().invoke(ctx)
        except TemplateError as exc:
            raise CommandError(f"invalid template: {exc}") from None
        except (WorkbookExists, EmptyName) as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:  # a full disk, a read-only share, a name too long: one line, exit code 2
            raise CommandError(os_error_message(exc)) from None


@click.group(cls=KamxlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kamxl")
def main() -> None:
    """Key account plans in Excel: generate account workbooks, check them, roll them up.

    \b
    Start with:  kamxl demo -o kamxl-demo
    One account: kamxl new "Acme Industries" --kam "Jane Doe" --lang en
    """


@main.command()
@click.argument("name")
@click.option("--kam", help="Key account manager who owns the plan.")
@click.option("--sector", help="Sector: a label from the list (either language) or your own text.")
@lang_option("Language of the workbook.")
@template_option("Custom template file (a copy of workbook_templates/account_plan.toml).")
@output_dir_option("Folder to write the workbook into.")
@click.option("--force", is_flag=True, help="Replace an existing workbook (the old one is kept as a backup).")
@click.option(
    "--no-macros",
    is_flag=True,
    help="Write a macro-free .xlsx (no Recompute button; the live scores still work).",
)
def new(
    name: str,
    kam: str | None,
    sector: str | None,
    lang: str,
    template_path: Path | None,
    output_dir: Path,
    force: bool,
    no_macros: bool,
) -> None:
    """Create an empty account-plan workbook for the client NAME; prints its path last.

    The workbook is a macro-enabled .xlsm with a Recompute & check button (docs/excel.md).
    """
    template = get_template(template_path)
    path = new_workbook(
        name,
        output_dir,
        kam=kam,
        sector=sector,
        lang=lang,
        template=template,
        force=force,
        macros=not no_macros,
    )
    click.echo(str(path))


@main.command("template-doc")
@template_option("Template file to document (the built-in one by default).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Markdown file to write (standard output by default).",
)
def template_doc(template_path: Path | None, output: Path | None) -> None:
    """Print the reference of a template: every sheet, field, column, list and weight."""
    from .template_docs import template_markdown

    text = template_markdown(get_template(template_path))
    if output:
        atomic_write_text(output, text)
        click.echo(str(output))
    else:
        click.echo(text, nl=False)


from .commands import check as _check  # noqa: E402
from .commands import demo as _demo  # noqa: E402
from .commands import generate as _generate  # noqa: E402
from .commands import rollup as _rollup  # noqa: E402

main.add_command(_demo.command)
main.add_command(_generate.command)
main.add_command(_rollup.command)
main.add_command(_check.command)

from .commands import whatif as _whatif  # noqa: E402

main.add_command(_whatif.command)

from .commands import upgrade as _upgrade  # noqa: E402

main.add_command(_upgrade.command)

from .commands import excel as _excel  # noqa: E402

main.add_command(_excel.excel_setup_command)
main.add_command(_excel.doctor_command)

from .commands import review as _review  # noqa: E402

main.add_command(_review.qbr_command)
main.add_command(_review.share_command)
main.add_command(_review.merge_back_command)
main.add_command(_review.calendar_command)
