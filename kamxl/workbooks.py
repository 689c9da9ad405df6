"""Creating account workbooks on disk: one call behind `kamxl new`, `kamxl demo` and the CRM import."""

from __future__ import annotations

import datetime as dt
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from .model import Plan, new_plan

if TYPE_CHECKING:
    from .rollup import RollupResult
from .paths import keep_backup, safe_filename
from .template import Template, get_template
from .writer import META_SHEET, write_plan


class WorkbookExists(FileExistsError):
    """The target workbook exists and replacing it was not asked for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"{path} already exists (use --force to replace it; the old file is kept as a backup)"
        )


class EmptyName(ValueError):
    """A workbook asked for without an account name (it would be called ``account.xlsm``)."""


def match_choice(template: Template, choice_list: str, value: str | None) -> str | None:
    """The code of a choice given as code or label in any language; other text is kept as typed."""
    if value is None:
        return None
    wanted = value.strip().casefold()
    for code, labels in template.choices[choice_list].items():
        if wanted == code.casefold() or wanted in (lab.casefold() for lab in labels.values()):
            return code
    return value.strip()


def plan_path(plan: Plan, out_dir: Path, suffix: str = ".xlsx") -> Path:
    return out_dir / safe_filename(plan.name or "account", suffix)


def save_plan(
    plan: Plan,
    out_dir: str | Path,
    *,
    template: Template | None = None,
    force: bool = False,
    macros: bool = True,
) -> Path:
    """Write a plan into a folder under a name made from the account; never replace silently.

    ``macros`` gives a ``.xlsm`` with the Recompute button, else a macro-free ``.xlsx``.
    """
    suffix = ".xlsm" if macros else ".xlsx"
    template = template or get_template()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = plan_path(plan, out, suffix)
    if path.exists():
        if not force:
            raise WorkbookExists(path)
        keep_backup(path)
    return write_plan(plan, path, template=template)


def new_workbook(
    name: str,
    out_dir: str | Path = ".",
    *,
    kam: str | None = None,
    sector: str | None = None,
    lang: str = "en",
    template: Template | None = None,
    force: bool = False,
    macros: bool = True,
) -> Path:
    """An empty, catalogue-prefilled account plan for one client; an empty name is refused."""
    if not name.strip():
        raise EmptyName(
            'the account name is empty: give the client\'s name, e.g. kamxl new "Acme Industries"'
        )
    from .presets import preset_for, sector_of

    template = template or get_template()
    code = sector_of(sector, template) or match_choice(template, "sector", sector)
    plan = new_plan(template, lang, preset=preset_for(code), client_name=name.strip(), kam=kam, sector=code)
    return save_plan(plan, out_dir, template=template, force=force, macros=macros)


def write_demo(
    out_dir: str | Path, *, seed: int = 7, count: int = 24, force: bool = False, macros: bool = True
) -> tuple[list[Path], RollupResult]:
    """The demo: a sample portfolio in ``out_dir/plans`` rolled up into ``out_dir/portfolio``."""
    from .demo import demo_plans
    from .demo.year import store_demo_history
    from .rollup import HISTORY_NAME, rollup, summary_name

    template = get_template()
    out = Path(out_dir)
    earlier, foreign = demo_leftovers(out)
    if foreign and not force:
        raise DemoFolderInUse(out, foreign)
    if not foreign:  # only an earlier demo's own files: the new demo replaces them
        for path in earlier:
            path.unlink()
    today = dt.date.today()
    made = demo_plans(template, seed=seed, count=count, today=today)
    plans = [save_plan(plan, out / "plans", template=template, force=force, macros=macros) for plan in made]
    history = out / "portfolio" / HISTORY_NAME
    if not history.exists():  # a year of quarterly snapshots before today's roll-up
        store_demo_history(history, zip(made, [p.name for p in plans], strict=True), template, today)
    # a one-off: no read cache left beside the demo's summary
    result = rollup(
        out / "plans",
        output=out / "portfolio" / summary_name(macros),
        template=template,
        cache=False,
        as_of=today,
    )
    return plans, result


class DemoFolderInUse(FileExistsError):
    """The demo folder holds files the demo did not write: nothing there is replaced."""

    def __init__(self, folder: Path, foreign: list[Path]) -> None:
        self.folder, self.foreign = folder, foreign
        shown = ", ".join(str(p.relative_to(folder)) for p in foreign[:3])
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        super().__init__(
            f"{folder} holds files the demo did not write ({shown}{more}): they are left as they are. "
            "Give another folder with -o, or --force to write the demo beside them"
        )


def written_by_kamxl(path: Path) -> bool:
    """A workbook kamxl wrote: it holds the very hidden ``_kamxl`` sheet (looked up in the zip)."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("xl/workbook.xml") as part:
            head = part.read(1 << 20)
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return f'name="{META_SHEET}"'.encode() in head


def _demo_file(path: Path, where: str) -> bool:
    """Whether a file under a demo folder's ``plans/`` or ``portfolio/`` is the demo's own output."""
    from .docprops import KIND, SUMMARY_KIND, custom_properties
    from .rollup import HISTORY_NAME, SUMMARY_STEM
    from .rollup.cache import CACHE_NAME, is_rollup_cache

    name = path.name
    if name.startswith(".kamxl-") or (name.startswith(".") and name.endswith(".kamxl-lock")):
        return True  # a kamxl temporary or lock file
    if path.is_symlink() or not path.is_file():
        return False
    if where == "plans":
        return path.suffix.lower() in (".xlsx", ".xlsm") and written_by_kamxl(path)
    if path.stem == SUMMARY_STEM and path.suffix.lower() in (".xlsx", ".xlsm"):
        return custom_properties(path).get(KIND) == SUMMARY_KIND
    if name == CACHE_NAME:
        return is_rollup_cache(path)
    return name == HISTORY_NAME and _history_tables(path) >= {"snapshots", "account_snapshots"}


def _history_tables(path: Path) -> set[str]:
    """Tables of an SQLite file, opened read-only; empty for anything else."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as con:
            return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return set()


def demo_leftovers(out: Path) -> tuple[list[Path], list[Path]]:
    """Files of an earlier demo in ``out`` (plans and summary kamxl wrote, its history, lock and
    temporary files), and every other file or folder found there."""
    if not out.exists():
        return [], []
    if out.is_symlink() or not out.is_dir():
        return [], [out]
    ours: list[Path] = []
    foreign: list[Path] = []
    for top in sorted(out.iterdir()):
        if top.name not in ("plans", "portfolio") or top.is_symlink() or not top.is_dir():
            foreign.append(top)
            continue
        for path in sorted(top.iterdir()):
            (ours if _demo_file(path, top.name) else foreign).append(path)
    return ours, foreign
