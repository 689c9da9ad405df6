"""`kamxl qbr`, `kamxl share`, `kamxl merge-back`, `kamxl calendar`: the review pack commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ..findings import PlanReadError
from ..reader import ReadResult, read_plan
from ..review.since import changes_for, parse_since
from ..rollup.history import HistoryError
from ..template import get_template
from .errors import CommandError, exit_needing_attention, os_error_message
from .options import as_of_option, output_dir_option, template_option

PLAN = click.Path(exists=True, dir_okay=False, path_type=Path)


def since_option(help: str) -> click.Option:
    return click.option(
        "--since", metavar="DATE|FILE", callback=lambda _c, _p, v: v and parse_since(v), help=help
    )


def history_option() -> click.Option:
    return click.option(
        "--history",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Roll-up history (SQLite) for the scores at that date. Default: portfolio-history.sqlite "
        "beside the plan or in ../portfolio/.",
    )


@contextmanager
def nothing_done_on_failure(prefix: str = "") -> Iterator[None]:
    """A file that cannot be written or a history that cannot be read ends the run with exit code 2,
    its message naming the file, instead of a traceback."""
    try:
        yield
    except OSError as exc:
        raise CommandError(f"{prefix}{os_error_message(exc)}") from None
    except (HistoryError, PlanReadError) as exc:
        raise CommandError(f"{prefix}{exc}") from None


def _read(path: Path, template_path: Path | None) -> ReadResult:
    try:
        return read_plan(path, template=get_template(template_path) if template_path else None)
    except PlanReadError as exc:
        raise CommandError(f"{exc.path}: {exc.reason}") from None


@click.command("qbr")
@click.argument("plan", type=PLAN)
@output_dir_option("Folder for the deck (and its PDF).")
@since_option("What changed since this day or this previous copy of the plan. Default: the last review.")
@history_option()
@click.option("--no-pdf", is_flag=True, help="Do not convert the deck to PDF (LibreOffice).")
@click.option(
    "--client", "for_client", is_flag=True, help="The deck for the meeting with the client: nothing internal."
)
@template_option()
@as_of_option("Review")
def qbr_command(
    plan: Path,
    output_dir: Path,
    since: dt.date | Path | None,
    history: Path | None,
    no_pdf: bool,
    for_client: bool,
    template_path: Path | None,
    as_of: dt.date | None,
) -> None:
    """Write the quarterly business review deck of PLAN (.pptx, in the plan's language).

    Cover, account snapshot, what changed since the last review, objectives, KPI tracker with
    RAG, successes / obstacles / opportunities / decisions, whitespace, top risks and next
    actions, with native charts; "Internal" on every slide. With --client: the deck to show the
    client (objectives and progress, mutual action plan, shared KPIs, successes, obstacles,
    decisions, next steps), nothing internal. A PDF is written beside it when LibreOffice is
    installed.
    """
    from ..review.qbr import soffice, write_qbr
    from ..review.qbr_client import write_client_qbr

    result = _read(plan, template_path)
    if for_client:  # what changed is told by the plan's own dates on the deck: no --since needed
        with nothing_done_on_failure():
            deck, pdf = write_client_qbr(
                result.plan, result.template, output_dir, as_of=as_of, pdf=not no_pdf
            )
    else:
        with nothing_done_on_failure():
            try:
                changes = changes_for(result.plan, result.template, plan, since, history=history, as_of=as_of)
            except PlanReadError as exc:
                raise CommandError(f"--since: {exc.path}: {exc.reason}") from None
        with nothing_done_on_failure():
            deck, pdf = write_qbr(
                result.plan,
                result.template,
                output_dir,
                changes=changes,
                as_of=as_of,
                pdf=not no_pdf,
                source=plan.name,
            )
    click.echo(str(deck))
    if pdf:
        click.echo(str(pdf))
    elif not no_pdf and soffice():
        click.echo("kamxl qbr: the deck is written; LibreOffice could not convert it to PDF", err=True)
        exit_needing_attention(True)
    elif not no_pdf:
        click.echo("kamxl qbr: no PDF (LibreOffice is not installed)", err=True)


@click.command("share")
@click.argument("plan", type=PLAN)
@click.option("--client", "for_client", is_flag=True, required=True, help="Write the client-facing copy.")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=Path("."), help="File (.xlsx) or folder."
)
@template_option()
@as_of_option("Share")
def share_command(
    plan: Path, for_client: bool, output: Path, template_path: Path | None, as_of: dt.date | None
) -> None:
    """Write the copy of PLAN to share with the client: nothing internal in it.

    It keeps what the template does not mark internal (objectives, the mutual action plan, the
    KPIs, governance) and adds "validated by / on" and comments for the client to fill in.
    Bring their copy back with `kamxl merge-back PLAN COPY`.
    """
    from ..review.share import share_plan

    result = _read(plan, template_path)
    with nothing_done_on_failure():
        path = share_plan(result.plan, result.template, output, as_of=as_of, source=plan.name)
    click.echo(str(path))


@click.command("merge-back")
@click.argument("plan", type=PLAN)
@click.argument("copy", type=PLAN)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@template_option()
def merge_back_command(plan: Path, copy: Path, dry_run: bool, template_path: Path | None) -> None:
    """Bring the client's validation, comments and updates from COPY back into PLAN.

    Only values the client changed are written, never an internal field; PLAN is backed up
    first and written atomically. Every change is listed. Exit code 1 when a change could not
    be applied (a conflict with the KAM's own edit, a row gone from the plan).
    """
    from ..review.cellpatch import PatchError
    from ..review.merge import ShareError, merge_back

    try:
        with nothing_done_on_failure():
            report = merge_back(
                plan, copy, template=get_template(template_path) if template_path else None, dry_run=dry_run
            )
    except (ShareError, PatchError) as exc:
        raise CommandError(f"{exc}; {plan} is left as it was") from None
    for change in report.changes:
        click.echo(change.line())
    for note in report.notes:
        click.echo(f"note     {note}")
    if not report.changes:
        click.echo("nothing changed in the client copy")
    elif report.backup:
        click.echo(f"{len(report.applied)} change(s) written to {plan} (backup: {report.backup.name})")
    exit_needing_attention(bool(report.problems))


@click.command("calendar")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .ics file to write.",
)
@click.option("--mail", is_flag=True, help="Also write each plan's update e-mail draft (.eml) beside it.")
@click.option("--from", "sender", metavar="ADDRESS", help="Sender of the e-mail drafts.")
@since_option("The update e-mail covers changes since this day or previous copy. Default: 14 days ago.")
@template_option()
@as_of_option("Plan")
def calendar_command(
    paths: tuple[Path, ...],
    output: Path,
    mail: bool,
    sender: str | None,
    since: dt.date | Path | None,
    template_path: Path | None,
    as_of: dt.date | None,
) -> None:
    """Write the review calendar of PLAN or FOLDER as an iCalendar file (Outlook, Google).

    Governance rituals recur at their frequency until the plan's horizon; the next review and
    every open action's due date are dated events. With --mail, the fortnightly update e-mail
    to the client's main contact is written as an .eml draft per plan.
    """
    from ..review.calendar import COMING_DAYS, plan_events, update_email, write_calendar, write_email

    day = as_of or dt.date.today()
    template = get_template(template_path) if template_path else None
    events, failed, names = [], False, []
    from ..rollup.discover import discover

    if mail and isinstance(since, Path):  # a previous copy that cannot be read: nothing to compare with
        with nothing_done_on_failure("--since: "):
            read_plan(since, template=template)
    files = [f for p in paths for f in (discover(p).files if p.is_dir() else [p])]
    for path in files:
        try:
            result = read_plan(path, template=template)
        except PlanReadError as exc:
            failed = True
            click.echo(f"kamxl calendar: {exc.path}: {exc.reason}", err=True)
            continue
        events += plan_events(result.plan, result.template, as_of=day)
        names.append(result.plan.name)
        if mail:
            try:
                with nothing_done_on_failure(f"{path}: no update e-mail: "):
                    changes = changes_for(
                        result.plan,
                        result.template,
                        path,
                        since or day - dt.timedelta(days=COMING_DAYS),
                        as_of=day,
                    )
                    msg = update_email(result.plan, result.template, changes, as_of=day, sender=sender)  # type: ignore[arg-type]
                    click.echo(str(write_email(msg, output.parent, result.plan, day)))
            except CommandError as exc:
                failed = True
                click.echo(f"kamxl calendar: {exc.message}", err=True)
    if not names:
        raise CommandError("no account plan could be read")
    title = names[0] if len(names) == 1 else f"{len(names)} accounts"
    with nothing_done_on_failure():
        written = write_calendar(events, output, f"Account reviews: {title}")
    click.echo(str(written))
    exit_needing_attention(failed)
