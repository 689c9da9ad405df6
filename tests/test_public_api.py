"""kamxl reaches its dependencies through their documented API only.

A patch release of a dependency may rename or remove anything it does not document: a private
name, an internal module, a private method a subclass overrides, or the state its objects keep
in public-looking attributes. Every module of ``kamxl/`` is parsed (never imported) and any such
use fails this test with the file, line and what to use instead. The checker itself is tested on
planted violations, so a checker that finds nothing cannot pass unnoticed.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kamxl"

# The modules each dependency documents as importable (its reference or user guide shows them).
# A dependency missing here fails the test: check its documentation and add what it documents.
PUBLIC_MODULES: dict[str, frozenset[str]] = {
    "xlsxwriter": frozenset(
        {
            "xlsxwriter",
            "xlsxwriter.workbook",  # The Workbook Class
            "xlsxwriter.worksheet",  # The Worksheet Class
            "xlsxwriter.format",  # The Format Class
            "xlsxwriter.chart",  # The Chart Class
            "xlsxwriter.chartsheet",  # The Chartsheet Class
            "xlsxwriter.exceptions",  # The Exceptions Class
            "xlsxwriter.utility",  # Working with Cell Notation: xl_rowcol_to_cell and friends
            "xlsxwriter.color",  # The Color Class
        }
    ),
    "openpyxl": frozenset(
        {
            "openpyxl",
            "openpyxl.styles",
            "openpyxl.utils",
            "openpyxl.utils.cell",
            "openpyxl.utils.exceptions",
            "openpyxl.workbook",
            "openpyxl.worksheet.worksheet",
            "openpyxl.worksheet.datavalidation",
            "openpyxl.formatting.rule",
            "openpyxl.comments",
        }
    ),
    "python_calamine": frozenset({"python_calamine"}),
    "pandas": frozenset({"pandas", "pandas.api.types", "pandas.errors", "pandas.testing"}),
    "click": frozenset({"click", "click.testing", "click.shell_completion"}),
    "xlwings": frozenset({"xlwings", "xlwings.constants"}),
    "pptx": frozenset(
        {
            "pptx",
            "pptx.util",
            "pptx.chart.data",
            "pptx.dml.color",
            "pptx.enum.chart",
            "pptx.enum.dml",
            "pptx.enum.shapes",
            "pptx.enum.text",
        }
    ),
    "icalendar": frozenset({"icalendar"}),
    "oletools": frozenset({"oletools.olevba"}),  # VBA_Parser, read by `kamxl doctor` when installed
    "yaml": frozenset({"yaml"}),  # optional: YAML CRM mappings
}

# Documented names that start with an underscore: named tuples' and enums' own API.
DOCUMENTED_UNDERSCORE = frozenset(
    {"_asdict", "_replace", "_fields", "_field_defaults", "_make", "_missing_", "_value_", "_name_"}
)


@dataclass(frozen=True)
class Violation:
    """One use of a dependency's private code: where, and what."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _is_dependency(module: str) -> bool:
    top = _top(module)
    return bool(top) and top != "kamxl" and top not in sys.stdlib_module_names and top != "__future__"


def _is_submodule(module: str) -> bool:
    """Whether ``module`` names an installed module (``from pkg import name`` may import one).

    Looked up on disk from the top package's folder, so nothing is imported.
    """
    top, *parts = module.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations or not parts:
        return False
    folder = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts[:-1])
    last = parts[-1]
    return (
        (folder / last / "__init__.py").is_file()
        or any(folder.glob(f"{last}.*py*"))
        or any(folder.glob(f"{last}.*.so"))
    )


@cache
def xlsxwriter_internal_attributes() -> frozenset[str]:
    """The state XlsxWriter's objects keep in public-looking attributes (``ws.col_info``).

    None of it is documented: the documented API of these classes is their methods. Taken from
    fresh objects of the installed XlsxWriter, so a release that adds such state is covered too.
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook("unused.xlsx", {"in_memory": True})
    objects = [
        workbook,
        workbook.add_worksheet(),
        workbook.add_format(),
        workbook.add_chart({"type": "line"}),
    ]
    names: set[str] = set()
    for obj in objects:
        methods = {name for name, _ in inspect.getmembers(type(obj), callable)}
        names |= {name for name in vars(obj) if not name.startswith("_") and name not in methods}
    return frozenset(names)


class _Module:
    """One parsed module: which names come from dependencies, which classes subclass theirs."""

    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.tree = tree
        self.dep_names: dict[str, str] = {}  # local name -> dependency module or object it names
        self.stdlib_modules: set[str] = set()
        self.dep_classes: set[str] = set()  # kamxl classes whose bases include a dependency's class
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or _top(alias.name)
                    if _is_dependency(alias.name):
                        self.dep_names[local] = alias.name if alias.asname else _top(alias.name)
                    else:
                        self.stdlib_modules.add(local)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_dependency(node.module or ""):
                for alias in node.names:
                    self.dep_names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(self.from_dependency(b) for b in node.bases):
                self.dep_classes.add(node.name)

    def from_dependency(self, expr: ast.expr) -> bool:
        """Whether ``expr`` (a base class, a receiver) is a name imported from a dependency."""
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        return isinstance(expr, ast.Name) and expr.id in self.dep_names


def kamxl_defined_names(modules: Iterable[ast.Module]) -> frozenset[str]:
    """Attribute names kamxl defines itself: its functions, classes, class fields and ``self.x``.

    A class that subclasses a dependency's class defines nothing here: its overrides and the
    attributes it sets share names with the dependency's own, and counting them would hide them.
    """
    names: set[str] = set()

    def visit(node: ast.AST, in_dep_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_dep_class
            if isinstance(child, ast.ClassDef):
                inner = in_dep_class or child.name in dep_classes
                if not in_dep_class:
                    names.add(child.name)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and not in_dep_class:
                names.add(child.name)
            elif not in_dep_class:
                for target in _targets(child):
                    if isinstance(target, ast.Name) and _at_class_or_module(node):
                        names.add(target.id)
                    elif (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id in ("self", "cls")
                    ):
                        names.add(target.attr)
            visit(child, inner)

    trees = list(modules)
    dep_classes = {c for t in trees for c in _Module("", t).dep_classes}
    for tree in trees:
        visit(tree, False)
    return frozenset(names)


def _at_class_or_module(node: ast.AST) -> bool:
    return isinstance(node, ast.Module | ast.ClassDef | ast.If | ast.Try)


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        return [t for target in node.targets for t in _flatten(target)]
    if isinstance(node, ast.AnnAssign | ast.AugAssign):
        return [node.target]
    return []


def _flatten(target: ast.expr) -> Iterator[ast.expr]:
    if isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _flatten(element)
    else:
        yield target


def check_imports(mod: _Module) -> Iterator[Violation]:
    """(a) private names and internal modules imported, (b) modules no documentation shows."""
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Import):
            pairs = [(alias.name, None) for alias in node.names if _is_dependency(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not _is_dependency(node.module):
                continue
            pairs = [(node.module, alias.name) for alias in node.names]
        else:
            continue
        for module, name in pairs:
            if name is not None and name.startswith("_"):
                yield Violation(mod.path, node.lineno, f"imports private name {name} from {module}")
                continue
            if name is not None and _is_submodule(f"{module}.{name}"):
                module = f"{module}.{name}"
            if any(part.startswith("_") for part in module.split(".")):
                yield Violation(mod.path, node.lineno, f"imports private module {module}")
            elif _top(module) not in PUBLIC_MODULES:
                yield Violation(
                    mod.path,
                    node.lineno,
                    f"imports {module}: {_top(module)} is not in PUBLIC_MODULES (check its documentation)",
                )
            elif module not in PUBLIC_MODULES[_top(module)]:
                yield Violation(mod.path, node.lineno, f"imports internal module {module}")


def check_overrides(mod: _Module) -> Iterator[Violation]:
    """(c) a subclass of a dependency's class that defines or calls the parent's private methods."""
    for node in ast.walk(mod.tree):
        if not (isinstance(node, ast.ClassDef) and node.name in mod.dep_classes):
            continue
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _private(item.name):
                yield Violation(
                    mod.path,
                    item.lineno,
                    f"{node.name} subclasses a dependency's class and defines its private method {item.name}",
                )


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def check_attributes(mod: _Module, defined: frozenset[str]) -> Iterator[Violation]:
    """(d) ``x._name`` kamxl does not define; (e) the undocumented state of XlsxWriter's objects."""
    for node in ast.walk(mod.tree):
        name, line = _attribute_name(node)
        if name is None or name in defined or name in DOCUMENTED_UNDERSCORE or not _private(name):
            continue
        receiver = node.value if isinstance(node, ast.Attribute) else node.args[0]
        if isinstance(receiver, ast.Name) and receiver.id in mod.stdlib_modules:
            continue  # os._exit and the like: the standard library documents its own
        yield Violation(mod.path, line, f"uses {name}, a private attribute kamxl does not define")
    internal = xlsxwriter_internal_attributes()
    for scope in ast.walk(mod.tree):
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        objects = _xlsxwriter_objects(mod, scope)
        for node in ast.walk(scope):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in internal
                and isinstance(node.value, ast.Name)
                and node.value.id in objects
            ):
                yield Violation(
                    mod.path,
                    node.lineno,
                    f"uses {node.value.id}.{node.attr}, undocumented state of XlsxWriter's objects",
                )


XLSXWRITER_FACTORIES = frozenset(
    {"Workbook", "add_worksheet", "add_format", "add_chart", "get_worksheet_by_name"}
)


def _xlsxwriter_objects(mod: _Module, func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names that hold an XlsxWriter object in ``func``: by annotation, by factory, or ``self``."""

    def is_xlsxwriter(annotation: ast.expr | None) -> bool:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            annotation = ast.parse(annotation.value, mode="eval").body
        return annotation is not None and any(
            isinstance(n, ast.Name) and mod.dep_names.get(n.id, "").startswith("xlsxwriter")
            for n in ast.walk(annotation)
        )

    args = func.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if is_xlsxwriter(a.annotation)}
    for node in ast.walk(func):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and is_xlsxwriter(node.annotation)
        ):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            called = node.value.func
            called_name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if called_name in XLSXWRITER_FACTORIES:
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    for cls in ast.walk(mod.tree):
        if isinstance(cls, ast.ClassDef) and cls.name in mod.dep_classes and func in cls.body:
            names.add("self")
    return names


def _attribute_name(node: ast.AST) -> tuple[str | None, int]:
    if isinstance(node, ast.Attribute):
        return node.attr, node.lineno
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        return node.args[1].value, node.lineno
    return None, 0


def find_violations(sources: dict[str, str]) -> list[Violation]:
    """Every use of a dependency's private code in ``sources`` (path -> module text)."""
    modules = [_Module(path, ast.parse(text, filename=path)) for path, text in sorted(sources.items())]
    defined = kamxl_defined_names(m.tree for m in modules)
    found: list[Violation] = []
    for mod in modules:
        found += check_imports(mod)
        found += check_overrides(mod)
        found += check_attributes(mod, defined)
    return sorted(set(found), key=lambda v: (v.path, v.line, v.what))


def kamxl_sources() -> dict[str, str]:
    root = PACKAGE.parent
    return {
        str(path.relative_to(root)): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


# -- the checker, on planted violations ---------------------------------------------------------

CLEAN = """
import os
from collections import namedtuple

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet


class Sheet:
    def __init__(self, ws: Worksheet) -> None:
        self._ws = ws
        self._cells = {}

    def _put(self, row, col, value):
        self._ws.write(row, col, value)
        return xl_rowcol_to_cell(row, col)


Pair = namedtuple("Pair", "a b")


def main(path):
    wb = xlsxwriter.Workbook(path)
    sheet = Sheet(wb.add_worksheet())
    sheet._put(0, 0, Pair(1, 2)._replace(a=3)._asdict()["a"])
    wb.close()
    if not path:
        os._exit(1)
"""


def test_clean_module_passes() -> None:
    assert find_violations({"kamxl/clean.py": CLEAN}) == []


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        ("from xlsxwriter.utility import _datetime_to_excel_datetime", "private name"),
        ("from xlsxwriter.packager import Packager", "internal module xlsxwriter.packager"),
        ("from xlsxwriter import sharedstrings", "internal module xlsxwriter.sharedstrings"),
        ("import xlsxwriter.url", "internal module xlsxwriter.url"),
        ("import pandas.core.frame", "internal module pandas.core.frame"),
        ("from pptx.oxml.ns import qn", "internal module pptx.oxml.ns"),
        ("import some_new_dependency", "not in PUBLIC_MODULES"),
        (
            "class Fast(Worksheet):\n    def _write_rows(self):\n        pass",
            "defines its private method _write_rows",
        ),
        ("def f(ws):\n    return ws.str_table._get_shared_string_index", "private attribute"),
        ("def f(fmt):\n    return getattr(fmt, '_get_xf_index')()", "private attribute"),
        ("def f(ws: Worksheet):\n    ws.fit_page = False", "undocumented state of XlsxWriter"),
        (
            "def f(wb):\n    ws = wb.add_worksheet()\n    return ws.col_info",
            "undocumented state of XlsxWriter",
        ),
        ("def f(ws: 'Worksheet | None'):\n    return ws.dim_rowmax", "undocumented state of XlsxWriter"),
        (
            "class W(xlsxwriter.Workbook):\n    def close(self):\n        self.filename = 'x'",
            "undocumented state",
        ),
    ],
)
def test_checker_catches_planted_violation(planted: str, expected: str) -> None:
    found = find_violations({"kamxl/clean.py": CLEAN, "kamxl/planted.py": CLEAN + "\n\n" + planted})
    assert found, f"the checker missed: {planted}"
    assert all(v.path == "kamxl/planted.py" for v in found), found
    assert any(expected in v.what for v in found), found


def test_override_calling_parent_private_method_is_caught() -> None:
    """An override's own name is not kamxl's: ``super()._write_rows()`` in it is still private use."""
    planted = CLEAN + (
        "\n\nclass Fast(Worksheet):\n"
        "    def _write_rows(self):\n"
        "        super()._write_rows()\n"
        "        self._calculate_spans()\n"
    )
    whats = [v.what for v in find_violations({"kamxl/planted.py": planted})]
    assert any("_calculate_spans" in w for w in whats), whats
    assert sum("_write_rows" in w for w in whats) >= 2, whats


# -- kamxl itself --------------------------------------------------------------------------------


def test_kamxl_uses_only_documented_dependency_api() -> None:
    found = find_violations(kamxl_sources())
    assert not found, "kamxl uses dependencies' private code:\n" + "\n".join(map(str, found))
