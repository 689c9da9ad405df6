"""kamxl: key account management in Excel workbooks.

The library API: build a plan, write it as a workbook, read a filled workbook back, score it,
roll a folder of workbooks up into a portfolio summary.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kamxl")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.2.0"

from . import rollup  # callable: kamxl.rollup(folder, ...)
from .findings import Finding, PlanReadError
from .model import Plan, new_plan
from .reader import ReadResult, read_plan
from .scoring import Scores, score_plan
from .template import Template, TemplateError, get_template, load_template


def __getattr__(name: str) -> object:
    """``kamxl.write_plan`` loads the writer (XlsxWriter and the sheet builders) on first use: a
    roll-up or a check never needs it before its summary, so it does not wait for it."""
    if name == "write_plan":
        from .writer import write_plan

        return write_plan
    raise AttributeError(f"module 'kamxl' has no attribute {name!r}")


__all__ = [
    "Finding",
    "Plan",
    "PlanReadError",
    "ReadResult",
    "Scores",
    "Template",
    "TemplateError",
    "__version__",
    "get_template",
    "load_template",
    "new_plan",
    "read_plan",
    "rollup",
    "score_plan",
    "write_plan",
]
