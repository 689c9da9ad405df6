"""The writer's faster XlsxWriter workbook and worksheet write the very bytes XlsxWriter writes."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from kamxl.fast_workbook import FastWorkbook
from kamxl.fast_worksheet import FastWorksheet


def _fill(wb: Workbook, worksheet_class: type[Worksheet], bulk: bool) -> None:
    """Every kind of cell a plan holds, and the odd ones the fast path hands back to XlsxWriter."""
    fmt = wb.add_format({"bg_color": "#FFF2CC", "border": 1, "locked": False, "num_format": "0.0"})
    same = wb.add_format({"bg_color": "#FFF2CC", "border": 1, "locked": False, "num_format": "0.0"})
    other = wb.add_format({"bold": True, "font_color": "#1F2937", "text_wrap": True})
    wb.set_properties({"created": dt.datetime(2026, 1, 2, 3, 4, 5)})  # the same bytes throughout
    ws = wb.add_worksheet("Cells", worksheet_class=worksheet_class)
    ws.set_column(3, 3, 20, other)
    ws.set_row(4, 30)
    ws.set_row(7, None, other)  # a row format
    ws.set_row(90, 40)  # a row with a height and no cells
    ws.write_string(0, 0, "text & <tags>", other)
    ws.write_string(0, 1, "text")  # no format
    for c, text in enumerate((" padded ", "bell\x07", "_x0041_ kept", "a\nb", "Total: 5 €")):
        ws.write_string(12, c, text, other)  # escaped for the shared strings, once per process
    ws.write_number(1, 0, 3.25, fmt)
    ws.write_number(1, 70, 1e20, same)  # past the 64 columns the fast path names ahead
    ws.write_datetime(2, 0, dt.datetime(2026, 3, 15, 12), fmt)
    ws.write_boolean(2, 1, True, fmt)
    ws.write_blank(3, 3, None)  # no format: not written
    ws.write_blank(7, 2, None, fmt)
    ws.write_number(7, 4, 5)  # takes the row's format
    ws.write_number(8, 3, 6)  # takes the column's format
    ws.write_formula(5, 0, '=IF(A2>1,"a & b","")', fmt, "a & b")
    ws.write_formula(5, 1, "=A2>1", fmt, True)
    ws.write_formula(5, 2, "=1/0", fmt, "#DIV/0!")
    ws.write_formula(5, 3, "=A2*2", other, 6.5)
    ws.write_formula(5, 4, "=A2", fmt, "")
    ws.write_formula(5, 5, "=_xlfn.UNIQUE(A1:A3)", fmt, 0)
    ws.write_array_formula(6, 0, 6, 0, "{=SUM(A1:A3*2)}", fmt, 2)
    ws.write_url(9, 0, "https://example.com/a?b=1&c=2", other, string="link")
    ws.merge_range(10, 0, 10, 3, "merged", other)
    if bulk:
        ws.write_blanks(20, 60, 1, fmt)
        ws.write_blanks(61, 60, 1, fmt)  # an empty run writes nothing
        ws.write_formulas(20, 60, 2, '=IF(B21="","",B21*2)', same, "")
        ws.write_formulas(20, 22, 3, "=_xlfn.UNIQUE(A1:A3)", same, 0)
    else:
        for row in range(20, 61):
            ws.write_blank(row, 1, None, fmt)
            ws.write_formula(row, 2, '=IF(B21="","",B21*2)', same, "")
        for row in range(20, 23):
            ws.write_formula(row, 3, "=_xlfn.UNIQUE(A1:A3)", same, 0)
    rules = [
        {"validate": "list", "source": "=List_stage", "error_type": "information", "input_title": "T"},
        {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 5, "input_message": "&<>"},
        {
            "validate": "date",
            "criteria": "between",
            "minimum": dt.date(1990, 1, 1),
            "maximum": dt.date(2100, 1, 1),
        },
        {"validate": "decimal", "criteria": ">=", "value": 0, "error_type": "warning"},
        {"validate": "any", "input_title": "Help", "input_message": "Type a name"},
        {"validate": "list", "source": ["a", "b, c"]},
    ]
    for i, rule in enumerate(rules):
        ws.data_validation(30, 10 + i, 40, 10 + i, rule)
        ws.data_validation(50, 10 + i, 50, 10 + i, rule)  # the same rule again: from the cache
    rules[1]["maximum"] = 9  # a rule changed in place is checked again
    ws.data_validation(60, 11, 70, 11, rules[1])
    ws.data_validation(71, 11, 72, 12, rules[1] | {"other_cells": ((80, 1, 81, 2), (90, 3, 85, 1))})
    ws.data_validation(73, 11, 73, 11, rules[0] | {"multi_range": "L74 $M$74:M75"})
    ws.data_validation("N1:N4", rules[0])
    good = wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
    bad = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    colours = [
        {"type": "cell", "criteria": "==", "value": '"Won"', "format": good},
        {"type": "cell", "criteria": ">=", "value": 3, "format": bad},
        {"type": "cell", "criteria": "==", "value": True, "format": good},
        {"type": "formula", "criteria": "=AND(ISNUMBER($B2),$B2>=65)", "format": good, "stop_if_true": True},
        {"type": "formula", "criteria": '=AND(ISTEXT($C2),$C2<>"")', "format": None},
        {"type": "text", "criteria": "containing", "value": "risk", "format": bad},
    ]
    for i, rule in enumerate(colours):
        ws.conditional_format(100, i, 140, i, rule)
        ws.conditional_format(150, i, 145, i, rule | {"format": bad if i % 2 else good})  # reversed rows
        ws.conditional_format(100, i, 140, i, rule)  # a second rule on the same cells
    ws.conditional_format(160, 0, 170, 3, colours[0] | {"multi_range": "A161:D171 F161"})
    ws.conditional_format("H1:H9", colours[1])
    tables = wb.add_worksheet("Tables", worksheet_class=worksheet_class)
    columns = [
        {"header": "Name", "header_format": other, "format": fmt},
        {"header": "Amount", "format": same},
        {"header": "Weighted", "formula": "=[@Amount]*0.5", "format": fmt},
        {"header": "Flag", "formula": '=IF([@Amount]>10,"big","")'},
    ]
    tables.add_table(2, 1, 40, 4, {"name": "Deals", "columns": columns, "style": "Table Style Light 9"})
    tables.add_table(2, 6, 4, 7, {"name": "Small", "columns": columns[:2]})  # header and 2 rows
    tables.add_table(2, 9, 30, 12, {"columns": columns, "autofilter": False, "banded_rows": False})
    tables.add_table(50, 1, 60, 2, {"name": "Totals", "columns": columns[:2], "total_row": True})
    tables.write_string(45, 1, "after the tables", other)
    commented = wb.add_worksheet("Commented", worksheet_class=worksheet_class)
    commented.write_string(0, 0, "note", fmt)
    commented.write_comment(0, 0, "a comment")
    wb.add_worksheet("Empty", worksheet_class=worksheet_class)


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def test_fast_workbook_and_worksheet_write_what_xlsxwriter_writes(tmp_path):
    plain, fast = tmp_path / "plain.xlsx", tmp_path / "fast.xlsx"
    wb = Workbook(str(plain), {"in_memory": True})
    _fill(wb, Worksheet, bulk=False)
    wb.close()
    for _ in range(2):  # the second time, every format comes from the per-process copies
        fast.unlink(missing_ok=True)
        fwb = FastWorkbook(str(fast), {"in_memory": True})
        _fill(fwb, FastWorksheet, bulk=True)
        fwb.close()
        expected, got = _parts(plain), _parts(fast)
        assert got.keys() == expected.keys()
        for name in expected:
            assert got[name] == expected[name], name
        assert fast.read_bytes() == plain.read_bytes()  # the zip itself, put together in memory


def test_overlapping_tables_are_refused_as_xlsxwriter_refuses_them(tmp_path):
    from xlsxwriter.exceptions import OverlappingRange

    messages = []
    for worksheet_class in (Worksheet, FastWorksheet):
        wb = FastWorkbook(str(tmp_path / "t.xlsx"), {"in_memory": True})
        ws = wb.add_worksheet(worksheet_class=worksheet_class)
        ws.add_table(2, 1, 40, 4, {"name": "First"})
        got = []
        with pytest.raises(OverlappingRange) as caught:
            ws.add_table(30, 3, 60, 6, {"name": "Second"})  # a table over the first
        got.append(str(caught.value))
        with pytest.raises(OverlappingRange) as caught:
            ws.merge_range(39, 4, 41, 5, "x")  # a merge over its last rows
        got.append(str(caught.value))
        ws.merge_range(41, 1, 41, 4, "just below")
        messages.append(got)
    assert messages[0] == messages[1]


def test_formats_are_copies_each_workbook_owns(tmp_path):
    first = FastWorkbook(str(tmp_path / "a.xlsx"), {"in_memory": True})
    second = FastWorkbook(str(tmp_path / "b.xlsx"), {"in_memory": True})
    a = first.add_format({"bold": True, "bg_color": "#DDEBF7"})
    b = second.add_format({"bold": True, "bg_color": "#DDEBF7"})
    assert a is not b and a in first.formats and b not in first.formats
    assert a.xf_format_indices is first.xf_format_indices
    assert b.xf_format_indices is second.xf_format_indices
    # an index worked out for one workbook is not carried to the other
    first.add_worksheet(worksheet_class=FastWorksheet).write_string(0, 0, "x", a)
    first.close()
    assert a.xf_index is not None and b.xf_index is None
    second.close()


def test_per_template_cache_tells_objects_and_values_apart():
    from kamxl.memo import per_template

    calls: list[tuple] = []

    @per_template
    def worked_out(*args: object) -> int:
        calls.append(args)
        return len(calls)

    class Part:  # a template's table or column: compared by identity
        pass

    part, other = Part(), Part()
    assert worked_out(part, "en", True) == 1
    assert worked_out(part, "en", True) == 1  # from the cache
    assert worked_out(part, "en", 1) == 2  # 1 is not True
    assert worked_out(part, "fr", True) == 3
    assert worked_out(other, "en", True) == 4
    assert len(calls) == 4


def test_a_written_plan_leaves_no_reference_cycles(template, tmp_path):
    """Writing many plans in one process (the demo, a CRM import) frees each workbook as soon as
    it is saved: a cycle would keep its cells for the garbage collector to scan and free."""
    import gc

    from kamxl.demo import demo_plans
    from kamxl.writer import write_plan

    first, second = demo_plans(template, seed=3, count=2)
    write_plan(first, tmp_path / "first.xlsm", template=template)  # per-process caches filled
    gc.collect()
    gc.disable()
    try:
        write_plan(second, tmp_path / "second.xlsm", template=template)
        assert gc.collect() == 0
    finally:
        gc.enable()
