"""The pre-flight's grid check on sheets written in every legal layout, not only Excel's.

The check takes a fast path on sheets laid out as Excel and the libraries write them; a stray
far cell written any other legal way (line breaks or tabs between attributes, the reference
after other attributes, a namespace prefix, no reference at all) must still be refused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kamxl.model import new_plan
from kamxl.preflight import RefusedFile, check_workbook_file
from kamxl.reader import read_plan
from kamxl.writer import write_plan

from .robustness.hostile import rewrite_part, sheet_part

STRAY = {
    "excel": b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row>',
    "line breaks": b'<row\nr="1048576"><c\nr="XFD1048576"\nt="n"><v>1</v></c></row>',
    "carriage returns": b'<row\r\nr="1048576"><c\r\nr="XFD1048576"><v>1</v></c></row>',
    "tabs": b'<row\tr="1048576"><c\tr="XFD1048576"><v>1</v></c></row>',
    "reference last": b'<row spans="1:1" r="1048576"><c t="n" s="0" r="XFD1048576"><v>1</v></c></row>',
    "prefixed": b'<x:row r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row>',
    "far row only": b'<row r="1048576"><c r="A1048576"><v>1</v></c></row>',
    "far column only": b'<row r="3"><c r="XFD3"><v>1</v></c></row>',
}


@pytest.fixture(scope="module")
def plan(template, tmp_path_factory) -> Path:
    return write_plan(
        new_plan(template, "en", client_name="Grid"), tmp_path_factory.mktemp("grid") / "p.xlsx"
    )


def with_stray(plan: Path, tmp_path: Path, rows: bytes, sheet: str = "Info") -> Path:
    """A copy of the plan with ``rows`` added at the end of one sheet's data."""
    part = sheet_part(plan, sheet)
    return rewrite_part(
        plan,
        tmp_path / "stray.xlsx",
        lambda n, d: d.replace(b"</sheetData>", rows + b"</sheetData>") if n == part else None,
    )


def test_a_plain_plan_passes(plan):
    check_workbook_file(plan)


@pytest.mark.parametrize("layout", list(STRAY))
def test_a_far_cell_is_refused_in_every_layout(plan, tmp_path, layout):
    target = with_stray(plan, tmp_path, STRAY[layout])
    with pytest.raises(RefusedFile, match="rows ×"):
        check_workbook_file(target)


STRAY["no references"] = b"<row>" + b"<c><v>1</v></c>" * 1100 + b"</row>"


@pytest.mark.parametrize("layout", ["excel", "tabs", "prefixed", "far row only", "no references"])
def test_the_reader_checks_each_sheet_before_it_parses_it(plan, tmp_path, layout):
    target = with_stray(plan, tmp_path, STRAY[layout])
    with pytest.raises(RefusedFile, match="the Info sheet claims"):
        read_plan(target)


def test_a_sheet_the_reader_never_parses_does_not_cost_the_plan(plan, tmp_path):
    """The Dashboard is formulas only: the reader never parses it, so its stray cell is harmless
    to the roll-up (the full pre-flight, as run before an import, still refuses the file)."""
    target = with_stray(plan, tmp_path, STRAY["excel"], sheet="Dashboard")
    assert read_plan(target).plan.name == "Grid"
    with pytest.raises(RefusedFile, match="the Dashboard sheet claims"):
        check_workbook_file(target)


def test_a_part_whose_checksum_is_wrong_is_refused(plan, tmp_path):
    part = sheet_part(plan, "Info").encode()
    data = bytearray(plan.read_bytes())
    entry = data.find(b"PK\x01\x02")  # the central directory: one entry per part
    while data[entry + 46 : entry + 46 + int.from_bytes(data[entry + 28 : entry + 30], "little")] != part:
        entry = data.find(b"PK\x01\x02", entry + 4)
        assert entry != -1
    data[entry + 16] ^= 0xFF  # the stored checksum no longer matches the part's bytes
    target = tmp_path / "crc.xlsx"
    target.write_bytes(bytes(data))
    with pytest.raises(RefusedFile, match="damaged"):
        read_plan(target)


@pytest.mark.parametrize("part", ["xl/theme/theme1.xml", "xl/tables/table1.xml", "docProps/app.xml"])
def test_a_part_passed_before_does_not_vouch_for_a_changed_one(plan, tmp_path, part):
    """Parts seen before are not checked again only when their bytes are the same."""
    read_plan(plan)  # every part of the plain plan passes, and is remembered
    dtd = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    target = rewrite_part(
        plan,
        tmp_path / "dtd.xlsx",
        lambda n, d: (
            re.sub(rb"(<\?xml[^>]*\?>)", lambda m: m.group(1) + dtd, d, count=1) if n == part else None
        ),
    )
    with pytest.raises(RefusedFile, match="DOCTYPE"):
        read_plan(target)
    assert read_plan(plan).plan.name == "Grid"  # and the plain plan still reads
