"""Creating account workbooks on disk: one call behind `kamxl new`, `kamxl demo` and the CRM import."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .model import Plan, new_plan

if TYPE_CHECKING:
    from .rollup import RollupResult
from .paths import keep_backup, safe_filename
from .template import Template, get_template
from .writer import write_plan


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
    template = template or get_template()
    plan = new_plan(
        template, lang, client_name=name.strip(), kam=kam, sector=match_choice(template, "sector", sector)
    )
    return save_plan(plan, out_dir, template=template, force=force, macros=macros)


def write_demo(
    out_dir: str | Path, *, seed: int = 7, count: int = 24, force: bool = False, macros: bool = True
) -> tuple[list[Path], RollupResult]:
    """The demo: a sample portfolio in ``out_dir/plans`` rolled up into ``out_dir/portfolio``."""
    from .demo import demo_plans
    from .rollup import rollup, summary_name

    template = get_template()
    out = Path(out_dir)
    plans = [
        save_plan(plan, out / "plans", template=template, force=force, macros=macros)
        for plan in demo_plans(template, seed=seed, count=count)
    ]
    result = rollup(out / "plans", output=out / "portfolio" / summary_name(macros), template=template)
    return plans, result
