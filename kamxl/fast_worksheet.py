"""XlsxWriter's worksheet with what every plan repeats (formulas, dropdown and colour rules,
pre-sized tables) worked out once per process, and its cells written straight to XML.

Every shortcut writes the bytes XlsxWriter would write (tests/test_fast_xlsxwriter.py compares);
anything it does not know how to shorten goes to XlsxWriter's own code."""

from __future__ import annotations

from io import StringIO
from itertools import product
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name, xl_range
from xlsxwriter.worksheet import (
    CellBlankTuple,
    CellDatetimeTuple,
    CellFormulaTuple,
    CellNumberTuple,
    CellStringTuple,
    Worksheet,
    re_dynamic_function,
)

_PREPARED: dict[tuple[str, bool, bool], str] = {}
_PLAIN_FORMULA: dict[str, bool] = {}  # not a dynamic array or array formula
_ESCAPED_FORMULAS: dict[str, str] = {}  # a formula as the sheet's XML holds it
_COLUMNS: list[str] = [xl_col_to_name(c) for c in range(64)]
# a data validation's options as XlsxWriter checks and converts them, and its XML around the cells
_VALIDATIONS: dict[tuple[int, bool, bool], tuple[dict[str, Any], dict[str, Any]]] = {}
_VALIDATION_XML: dict[tuple, list[str]] = {}
# a "cell" or "formula" colour rule as XlsxWriter checks it, less its format and priority
_RULES: dict[tuple, dict[str, Any]] = {}
_RULE_XML: dict[tuple, list[str]] = {}  # a rule's XML around its format index and priority
# add_table options the fast path takes (no totals row, no data, always a header row)
_TABLE_OPTIONS = frozenset(
    {"name", "columns", "style", "autofilter", "banded_rows", "banded_columns", "first_column"}
    | {"last_column", "description", "title"}
)
_ERROR_CODES = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"))


def _plain(formula: str) -> bool:
    """Not empty, not a dynamic array or array formula (XlsxWriter writes those differently)."""
    plain = _PLAIN_FORMULA.get(formula)
    if plain is None:
        if len(_PLAIN_FORMULA) > 50_000:
            _PLAIN_FORMULA.clear()
        plain = _PLAIN_FORMULA[formula] = bool(formula) and not (
            re_dynamic_function.search(formula) or (formula.startswith("{") and formula.endswith("}"))
        )
    return plain


class FastWorksheet(Worksheet):
    """A plan repeats the same formulas on every pre-sized table row, and XlsxWriter runs some
    thirty regular expressions over each formula it writes (a pure function of the text and two
    flags): the prepared text is kept instead of being recomputed.

    Saving writes each cell's XML through a generic tag writer (an escaping test per attribute,
    the format's index worked out again for every cell); the cells a plan holds (blank, number,
    text, formula) are written here directly, byte for byte as XlsxWriter writes them.

    A plan's dropdowns and colour rules are the same as the last plan's, but for the cells and
    formats they apply to: XlsxWriter's checks and XML for each rule are kept and reused."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, expand_future_functions, bool(self.use_future_functions))
        prepared = _PREPARED.get(key)
        if prepared is None:
            if len(_PREPARED) > 50_000:
                _PREPARED.clear()
            prepared = _PREPARED[key] = super()._prepare_formula(formula, expand_future_functions)
        return prepared

    def _write_formula(
        self, row: int, col: int, formula: str, cell_format: Format | None = None, value: Any = 0
    ) -> int:
        """XlsxWriter's, with its search for dynamic array functions done once per formula."""
        if not _plain(formula) or self.constant_memory:
            return super()._write_formula(row, col, formula, cell_format, value)
        if self._check_dimensions(row, col):
            return -1
        self.table[row][col] = CellFormulaTuple(self._prepare_formula(formula), cell_format, value)
        return 0

    def add_table(self, *args: Any, **kwargs: Any) -> int:  # type: ignore[override]
        """XlsxWriter's, without its cell-by-cell walk over a pre-sized table's rows: XlsxWriter
        sets the table up on its header and first row, then the table is stretched to its rows."""
        if kwargs or len(args) != 5 or not all(type(a) is int for a in args[:4]):
            return super().add_table(*args, **kwargs)
        first_row, first_col, last_row, last_col, options = args
        if (
            not isinstance(options, dict)
            or not options.keys() <= _TABLE_OPTIONS
            or first_row > last_row - 2
            or first_col > last_col
        ):
            return super().add_table(*args)
        cells = list(product(range(first_row, last_row + 1), range(first_col, last_col + 1)))
        if not (self.table_cells.keys().isdisjoint(cells) and self.merged_cells.keys().isdisjoint(cells)):
            return super().add_table(*args)  # the overlap, reported as XlsxWriter reports it
        count = len(self.tables)
        result = super().add_table(first_row, first_col, first_row + 1, last_col, options)
        full = xl_range(first_row, first_col, last_row, last_col)
        self.table_cells.update(dict.fromkeys(cells, full))
        if result != 0 or len(self.tables) != count + 1:
            return result
        table = self.tables[-1]
        short = table["range"]
        table["range"] = table["a_range"] = full
        if "autofilter" in table:
            table["autofilter"] = full
        for col in range(first_col, last_col + 1):
            if self.filter_cells.get((first_row, col)) == ("table", short):
                self.filter_cells[(first_row, col)] = ("table", full)
        columns = options.get("columns") or []
        for i, column in enumerate(table["columns"]):
            if column["formula"]:
                fmt = columns[i].get("format") if i < len(columns) and columns[i] else None
                self.write_formulas(first_row + 2, last_row, first_col + i, column["formula"], fmt, 0)
        return result

    def write_blanks(self, first_row: int, last_row: int, col: int, fmt: Format) -> None:
        """Formatted blank cells down a column (a pre-sized table's empty rows), as ``write_blank``
        would write them one by one."""
        if first_row > last_row:
            return
        if self._check_dimensions(first_row, col) or self._check_dimensions(last_row, col):
            raise ValueError(f"rows {first_row}-{last_row}, column {col}: outside the worksheet")
        cell = CellBlankTuple(fmt)
        for row in range(first_row, last_row + 1):
            self.table[row][col] = cell

    def write_formulas(
        self, first_row: int, last_row: int, col: int, formula: str, fmt: Format | None, value: Any
    ) -> None:
        """The same formula and cached value down a column, as ``write_formula`` would write them."""
        if first_row > last_row:
            return
        if not _plain(formula) or self.constant_memory:
            for row in range(first_row, last_row + 1):  # XlsxWriter's way
                self.write_formula(row, col, formula, fmt, value)
            return
        prepared = self._prepare_formula(formula)
        if self._check_dimensions(first_row, col) or self._check_dimensions(last_row, col):
            raise ValueError(f"rows {first_row}-{last_row}, column {col}: outside the worksheet")
        cell = CellFormulaTuple(prepared, fmt, value)
        for row in range(first_row, last_row + 1):
            self.table[row][col] = cell

    def data_validation(self, *args: Any, **kwargs: Any) -> int:  # type: ignore[override]
        """XlsxWriter's, with a rule's options checked and converted once per process: a plan
        gives every table column the same rule as the last plan did."""
        if kwargs or len(args) != 5 or not all(type(a) is int for a in args[:4]):
            return super().data_validation(*args, **kwargs)
        first_row, first_col, last_row, last_col, options = args
        if not isinstance(options, dict) or "other_cells" in options or "multi_range" in options:
            return super().data_validation(*args)
        key = (id(options), self.date_1904, self.remove_timezone)
        found = _VALIDATIONS.get(key)
        if found is None or found[0] != options:
            count = len(self.validations)
            result = super().data_validation(*args)
            if result == 0 and len(self.validations) == count + 1:
                if len(_VALIDATIONS) > 10_000:
                    _VALIDATIONS.clear()
                checked = {k: v for k, v in self.validations[-1].items() if k != "cells"}
                _VALIDATIONS[key] = (dict(options), checked)
            return result
        if self._check_dimensions(first_row, first_col, True, True):
            return -1
        if self._check_dimensions(last_row, last_col, True, True):
            return -1
        self.validations.append(found[1] | {"cells": [[first_row, first_col, last_row, last_col]]})
        return 0

    def conditional_format(self, *args: Any, **kwargs: Any) -> int:  # type: ignore[override]
        """XlsxWriter's, with a "cell" or "formula" rule checked once per process: only its
        format (a workbook's own), priority and cells change from one use to the next."""
        if kwargs or len(args) != 5 or not all(type(a) is int for a in args[:4]):
            return super().conditional_format(*args, **kwargs)
        first_row, first_col, last_row, last_col, options = args
        if (
            not isinstance(options, dict)
            or options.get("type") not in ("cell", "formula")
            or self.use_data_bars_2010
            or any(k == "multi_range" or k.startswith(("bar_", "data_bar")) for k in options)
        ):
            return super().conditional_format(*args)
        try:
            key = tuple((k, v.__class__, v) for k, v in options.items() if k != "format")
            rule = _RULES.get(key)
        except TypeError:
            return super().conditional_format(*args)
        first_row, last_row = min(first_row, last_row), max(first_row, last_row)
        first_col, last_col = min(first_col, last_col), max(first_col, last_col)
        cell_range = xl_range(first_row, first_col, last_row, last_col)
        if rule is None:
            result = super().conditional_format(*args)
            if result == 0:
                if len(_RULES) > 10_000:
                    _RULES.clear()
                done = self.cond_formats[cell_range][-1]
                _RULES[key] = {k: v for k, v in done.items() if k not in ("format", "priority")}
            return result
        if self._check_dimensions(first_row, first_col, True, True):
            return -1
        if self._check_dimensions(last_row, last_col, True, True):
            return -1
        done = dict(rule)
        if "format" in options:
            fmt = options["format"]
            done["format"] = fmt._get_dxf_index() if fmt else fmt
        done["priority"] = self.dxf_priority
        self.dxf_priority += 1
        self.cond_formats.setdefault(cell_range, []).append(done)
        return 0

    def _write_cf_rule(self, params: dict[str, Any]) -> None:
        """XlsxWriter's, with the XML of a "cell" or "formula" rule written once per process and
        its format index and priority put in."""
        if params.get("type") not in ("cellIs", "expression"):
            super()._write_cf_rule(params)
            return
        fmt = params.get("format")
        try:
            key = (
                bool(self.use_future_functions),
                fmt is not None,
                *((k, v.__class__, v) for k, v in params.items() if k not in ("format", "priority")),
            )
            parts = _RULE_XML.get(key)
        except TypeError:
            super()._write_cf_rule(params)
            return
        if parts is None:
            marked = params | {"priority": "\x02"} | ({"format": "\x01"} if fmt is not None else {})
            fh, self.fh = self.fh, StringIO()
            try:
                super()._write_cf_rule(marked)
                parts = self.fh.getvalue().replace("\x01", "\x02").split("\x02")
            finally:
                self.fh = fh
            if len(parts) != (3 if fmt is not None else 2):  # a marker met in the rule's text
                super()._write_cf_rule(params)
                return
            if len(_RULE_XML) > 10_000:
                _RULE_XML.clear()
            _RULE_XML[key] = parts
        if fmt is not None:
            self.fh.write(f"{parts[0]}{fmt}{parts[1]}{params['priority']}{parts[2]}")
        else:
            self.fh.write(f"{parts[0]}{params['priority']}{parts[1]}")

    def _write_data_validation(self, options: dict[str, Any]) -> None:
        """XlsxWriter's, with the XML of a rule written once per process and its cells put in."""
        try:
            key = (bool(self.use_future_functions), *((k, v) for k, v in options.items() if k != "cells"))
            parts = _VALIDATION_XML.get(key)
        except TypeError:  # a list of values: XlsxWriter's way
            super()._write_data_validation(options)
            return
        if options.get("multi_range"):
            super()._write_data_validation(options)
            return
        if parts is None:
            fh, self.fh = self.fh, StringIO()
            try:
                super()._write_data_validation(options | {"cells": [], "multi_range": "\x00"})
                parts = self.fh.getvalue().split("\x00")
            finally:
                self.fh = fh
            if len(parts) != 2:  # the marker met in a message: XlsxWriter's way
                super()._write_data_validation(options)
                return
            if len(_VALIDATION_XML) > 10_000:
                _VALIDATION_XML.clear()
            _VALIDATION_XML[key] = parts
        ranges = []
        for row_first, col_first, row_last, col_last in options["cells"]:
            row_first, row_last = min(row_first, row_last), max(row_first, row_last)
            col_first, col_last = min(col_first, col_last), max(col_first, col_last)
            ranges.append(xl_range(row_first, col_first, row_last, col_last))
        self.fh.write(parts[0] + " ".join(ranges) + parts[1])

    def _calculate_spans(self) -> None:
        if self.comments:
            super()._calculate_spans()
            return
        spans: dict[int, str] = {}
        table, low, high = self.table, self.dim_rowmin, self.dim_rowmax
        for block in range(low // 16, high // 16 + 1):
            cols = [
                c
                for r in range(max(low, block * 16), min(high, block * 16 + 15) + 1)
                if (cells := table.get(r))
                for c in (min(cells), max(cells))
            ]
            if cols:
                spans[block] = f"{min(cols) + 1}:{max(cols) + 1}"
        self.row_spans = spans

    def _write_rows(self) -> None:
        if self.constant_memory or self.comments:
            super()._write_rows()
            return
        self._calculate_spans()
        table, row_info, spans, write = self.table, self.row_info, self.row_spans, self.fh.write
        xf_index: dict[int, int] = {}
        low, high = self.dim_rowmin, self.dim_rowmax
        rows = sorted(r for r in {*table, *row_info} if low <= r <= high and (table.get(r) or r in row_info))
        for row in rows:
            cells = table.get(row)
            info = row_info.get(row)
            if not cells:
                self._write_empty_row(row, spans.get(row // 16), info)
                continue
            self._write_row(row, spans.get(row // 16), info)
            row_format = info is not None and info.row_format
            number = str(row + 1)
            out = []
            for col in sorted(cells):
                cell = cells[col]
                fmt = cell.format
                if fmt is None or row_format:
                    write("".join(out))  # a row or column format: XlsxWriter's way
                    out.clear()
                    self._write_cell(row, col, cell)
                    continue
                index = xf_index.get(id(fmt))
                if index is None:
                    index = xf_index[id(fmt)] = fmt._get_xf_index()
                ref = (_COLUMNS[col] if col < 64 else xl_col_to_name(col)) + number
                kind = cell.__class__
                if kind is CellBlankTuple:
                    out.append(f'<c r="{ref}" s="{index}"/>')
                elif kind is CellStringTuple:
                    out.append(f'<c r="{ref}" s="{index}" t="s"><v>{cell.string}</v></c>')
                elif kind is CellNumberTuple or kind is CellDatetimeTuple:
                    out.append(f'<c r="{ref}" s="{index}"><v>{cell.number:.16G}</v></c>')
                elif kind is CellFormulaTuple:
                    out.append(self._formula_xml(ref, index, cell.formula, cell.value))
                else:
                    write("".join(out))
                    out.clear()
                    self._write_cell(row, col, cell)
            out.append("</row>")
            write("".join(out))

    def _formula_xml(self, ref: str, index: int, formula: str, value: Any) -> str:
        kind = ""
        if isinstance(value, bool):
            kind, value = ' t="b"', int(value)
        elif isinstance(value, str) and value:
            kind = ' t="e"' if value in _ERROR_CODES else ' t="str"'
        escaped = _ESCAPED_FORMULAS.get(formula)
        if escaped is None:
            if len(_ESCAPED_FORMULAS) > 50_000:
                _ESCAPED_FORMULAS.clear()
            escaped = _ESCAPED_FORMULAS[formula] = self._escape_data(formula)
        return f'<c r="{ref}" s="{index}"{kind}><f>{escaped}</f><v>{self._escape_data(value)}</v></c>'
