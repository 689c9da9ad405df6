"""The roll-up uses XlsxWriter through its documented API only: no private name, no internal
module, no subclass overriding its methods, no undocumented attribute of its objects."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
import xlsxwriter

ROLLUP = Path(__file__).resolve().parent.parent / "kamxl" / "rollup"
# xlsxwriter.utility's functions in XlsxWriter's documentation ("Working with Cell Notation")
UTILITY = {"xl_rowcol_to_cell", "xl_cell_to_rowcol", "xl_col_to_name", "xl_range", "xl_range_abs"}
# Documented classes, imported for type hints only (``if TYPE_CHECKING:``)
CLASSES = {"worksheet": {"Worksheet"}, "format": {"Format"}, "workbook": {"Workbook"}, "chart": {"Chart"}}
RECEIVERS = {"ws", "wb", "sheet", "worksheet", "workbook", "book"}  # names kamxl gives XlsxWriter's objects


def undocumented_attributes() -> set[str]:
    """Data attributes of XlsxWriter's workbook and worksheet objects: the documented API of both
    is their methods, so any of these is XlsxWriter's internal state."""
    wb = xlsxwriter.Workbook(io.BytesIO())
    ws = wb.add_worksheet()
    names = {k for o in (wb, ws) for k in vars(o) if not k.startswith("_")}
    methods = {k for cls in (type(wb), type(ws)) for k in dir(cls) if callable(getattr(cls, k, None))}
    return names - methods


def type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def receiver(node: ast.expr) -> str | None:
    """The name an attribute is read on: ``ws`` of ``ws.x``, ``wb`` of ``self.wb.x``, ``sheets`` of
    ``self.sheets[key].x``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return receiver(node.value)
    return None


def violations(path: Path, undocumented: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hints = type_checking_lines(tree)
    from_xlsxwriter: set[str] = set()
    found = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "xlsxwriter":
            module = (node.module or "").partition(".")[2]
            for alias in node.names:
                from_xlsxwriter.add(alias.asname or alias.name)
                public = (module == "utility" and alias.name in UTILITY) or (
                    node.lineno in hints and alias.name in CLASSES.get(module, set())
                )
                if not public:
                    found.append(f"{where}: from xlsxwriter.{module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("xlsxwriter.") or alias.name.startswith("_"):
                    found.append(f"{where}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and any(a.name.startswith("_") for a in node.names):
            if node.level == 0:
                found.append(f"{where}: private name from {node.module}")
        elif isinstance(node, ast.Attribute):
            base = receiver(node.value)
            if node.attr.startswith("_") and not node.attr.startswith("__") and base not in ("self", "cls"):
                found.append(f"{where}: {ast.unparse(node)}")
            if isinstance(node.value, ast.Name) and node.value.id == "xlsxwriter" and node.attr != "Workbook":
                found.append(f"{where}: {ast.unparse(node)}")
            if base in RECEIVERS | {"sheets"} and node.attr in undocumented:
                found.append(f"{where}: {ast.unparse(node)} (XlsxWriter's internal state)")
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                if ast.unparse(base).split(".")[0] in from_xlsxwriter | {"xlsxwriter"}:
                    found.append(f"{path.name}:{node.lineno}: class {node.name} extends {ast.unparse(base)}")
    return found


def test_the_check_finds_private_use(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from xlsxwriter.url import Url\n"
        "from xlsxwriter.utility import _datetime_to_excel_datetime, xl_range\n"
        "from xlsxwriter.worksheet import Worksheet\n"
        "import xlsxwriter\n"
        "class Fast(Worksheet):\n"
        "    def _write_rows(self): ws.dim_rowmax; url._link = 1; xlsxwriter.workbook.ZipInfo = 2\n"
    )
    found = violations(bad, undocumented_attributes())
    for text in ("Url", "_datetime_to_excel_datetime", "import Worksheet", "extends Worksheet"):
        assert any(text in f for f in found), (text, found)
    for text in ("ws.dim_rowmax", "url._link", "xlsxwriter.workbook"):
        assert any(text in f for f in found), (text, found)
    assert not any("xl_range" in f for f in found)


@pytest.mark.parametrize("path", sorted(ROLLUP.glob("*.py")), ids=lambda p: p.name)
def test_rollup_uses_only_xlsxwriters_documented_api(path):
    assert violations(path, undocumented_attributes()) == []
