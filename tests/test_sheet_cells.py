"""The one-pass sheet reader gives what python-calamine and the formula scan give, or declines.

Every sheet the fast path reads is compared with calamine's grid (values and their types) and
with the XML scan's formulas and error values; every sheet in another dialect must be declined,
never read differently.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine as pc
import xlsxwriter

from kamxl.demo import demo_plans
from kamxl.preflight import sheet_parts
from kamxl.reader import read_plan
from kamxl.sheet_cells import _custom_kind, date_styles, dialect, sheet_cells
from kamxl.workbook_source import FileSource, _scan
from kamxl.writer import write_plan

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "v1"


def _part(z: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        return z.read(name)
    except KeyError:
        return None


def compare_with_calamine(data: bytes) -> dict[str, str]:
    """Each sheet's outcome: "same" (read fast, equal to calamine), "declined", or what differs."""
    z = zipfile.ZipFile(io.BytesIO(data))
    found = dialect(z.read("xl/workbook.xml"), z.read("xl/styles.xml"), _part(z, "xl/sharedStrings.xml"))
    book = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    parts = {name: part for part, name in sheet_parts(z).items()}
    outcome = {}
    for name in book.sheet_names:
        xml = z.read(parts[name])
        fast = sheet_cells(xml, found) if found is not None else None
        if fast is None:
            outcome[name] = "declined"
            continue
        want = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        typed = [[(type(v), v) for v in row] for row in fast[0]]
        if typed != [[(type(v), v) for v in row] for row in want]:
            outcome[name] = f"grid differs: {fast[0]!r} != {want!r}"
        elif fast[1] != _scan(xml):
            outcome[name] = f"flags differ: {fast[1]!r} != {_scan(xml)!r}"
        else:
            outcome[name] = "same"
    return outcome


def _book(write) -> bytes:
    """A workbook written by XlsxWriter with ``write(workbook, sheet)``."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer)
    write(wb, wb.add_worksheet("S"))
    wb.close()
    return buffer.getvalue()


def _with_sheet_xml(data: bytes, change) -> bytes:
    """The workbook with its first sheet's XML passed through ``change``."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = change(body)
            dst.writestr(info.filename, body)
    return out.getvalue()


# -- real workbooks --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_files(template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fast")
    plans = demo_plans(template, seed=5, count=6)
    assert {p.lang for p in plans} == {"en", "fr"}
    return [write_plan(p, folder / f"{i}.xlsm", template=template) for i, p in enumerate(plans)]


def test_every_sheet_of_a_generated_plan_reads_fast_and_as_calamine_reads_it(demo_files) -> None:
    for path in demo_files:
        outcome = compare_with_calamine(path.read_bytes())
        assert set(outcome.values()) == {"same"}, (path.name, outcome)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.xls?")), ids=lambda p: p.name)
def test_earlier_template_versions_read_as_calamine_reads_them(path) -> None:
    outcome = compare_with_calamine(path.read_bytes())
    assert set(outcome.values()) == {"same"}, outcome


def test_a_workbook_in_another_dialect_reads_the_same_plan(demo_files, template, tmp_path) -> None:
    """openpyxl writes inline strings: every sheet is declined and calamine reads the plan."""
    book = openpyxl.load_workbook(demo_files[0], keep_vba=True)
    again = tmp_path / "again.xlsm"
    book.save(again)
    assert set(compare_with_calamine(again.read_bytes()).values()) == {"declined"}
    assert (
        read_plan(again, template=template).plan.tables
        == read_plan(demo_files[0], template=template).plan.tables
    )


# -- values ------------------------------------------------------------------------------------------
def _values(wb, ws) -> None:
    date = wb.add_format({"num_format": "dd/mm/yyyy"})
    iso = wb.add_format({"num_format": "yyyy-mm-dd"})
    pct = wb.add_format({"num_format": "0.0%"})
    money = wb.add_format({"num_format": '#,##0 "€"'})
    texts = [
        "plain",
        " padded ",
        "a & b < c > d",
        "quote \" and ' apostrophe",
        "line\nbreak",
        "ünïcødé ✓ 漢字",
        "",
        "=not a formula",
        "1234",
        "&amp; literally",
    ]
    for i, text in enumerate(texts):
        ws.write_string(i, 0, text)
    numbers = [0, 1, -1, 0.1, 1 / 3, 1e20, -2.5e-7, 123456789012, 46230, 2**53]
    for i, number in enumerate(numbers):
        ws.write_number(i, 1, number)
    for i, day in enumerate([dt.date(2026, 3, 16), dt.date(1900, 3, 1), dt.date(9999, 12, 31)]):
        ws.write_datetime(i, 2, dt.datetime.combine(day, dt.time()), date)
        ws.write_datetime(i, 3, dt.datetime.combine(day, dt.time()), iso)
    ws.write_number(0, 4, 0.125, pct)
    ws.write_number(1, 4, 2350000, money)
    ws.write_boolean(2, 4, True)
    ws.write_boolean(3, 4, False)
    ws.write_formula(0, 5, '="a"&"b"', None, "ab")
    ws.write_formula(1, 5, "=1+1", None, 2)
    ws.write_formula(2, 5, "=1/0", None, "#DIV/0!")
    ws.write_formula(3, 5, '=IF(A1="","",A1)', None, "")
    ws.write_formula(4, 5, "=TRUE()", None, True)
    ws.write_formula(5, 5, "=A1<B1", None, False)
    ws.write_formula(6, 5, "=TODAY()", date, 46230)
    ws.write_blank(30, 9, None, date)  # a styled blank cell far out: no value, not in the grid


def test_values_of_every_kind_read_as_calamine_reads_them() -> None:
    assert compare_with_calamine(_book(_values)) == {"S": "same"}


def test_a_grid_of_blank_styled_cells_only_is_empty() -> None:
    data = _book(lambda wb, ws: ws.write_blank(3, 3, None, wb.add_format({"bold": True})))
    assert compare_with_calamine(data) == {"S": "same"}


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(
            lambda wb, ws: ws.write_number(0, 0, 46230.5, wb.add_format({"num_format": "dd/mm/yyyy hh:mm"})),
            id="date-and-time",
        ),
        pytest.param(
            lambda wb, ws: ws.write_number(0, 0, 0.5, wb.add_format({"num_format": "hh:mm"})), id="time"
        ),
        pytest.param(
            lambda wb, ws: ws.write_number(0, 0, 30, wb.add_format({"num_format": "dd/mm/yyyy"})),
            id="before-march-1900",
        ),
        pytest.param(
            lambda wb, ws: ws.write_number(0, 0, 1.5, wb.add_format({"num_format": "[h]:mm"})), id="duration"
        ),
    ],
)
def test_dates_beyond_whole_days_are_left_to_calamine(write) -> None:
    assert compare_with_calamine(_book(write)) == {"S": "declined"}


def test_a_workbook_in_the_1904_date_system_is_left_to_calamine() -> None:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"date_1904": True})
    wb.add_worksheet("S").write_string(0, 0, "x")
    wb.close()
    assert compare_with_calamine(buffer.getvalue()) == {"S": "declined"}


# -- other dialects are declined, never misread ---------------------------------------------------------
def _texts(wb, ws) -> None:
    ws.write_string(0, 0, "one")
    ws.write_number(0, 1, 2)
    ws.write_string(1, 0, "three")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda x: x.replace(b'<c r="A1" t="s">', b'<c t="s" r="A1">'), id="attributes-in-another-order"
        ),
        pytest.param(lambda x: x.replace(b'<c r="B1">', b'<c r="B1" ph="1">'), id="another-attribute"),
        pytest.param(lambda x: x.replace(b"<v>2</v>", b"<v> 2</v>"), id="spaced-number"),
        pytest.param(lambda x: x.replace(b"<v>2</v>", b"<v>2_0</v>"), id="underscored-number"),
        pytest.param(
            lambda x: x.replace(b'<c r="B1"><v>2</v></c>', b'<c r="B1" t="inlineStr"><is><t>2</t></is></c>'),
            id="inline-string",
        ),
        pytest.param(
            lambda x: x.replace(b'<c r="B1"><v>2</v></c>', b'<c r="B1" t="d"><v>2026-03-16</v></c>'),
            id="iso-date",
        ),
        pytest.param(
            lambda x: x.replace(b'<c r="B1"><v>2</v></c>', b'<c r="B1">\n<v>2</v>\n</c>'), id="pretty-printed"
        ),
        pytest.param(
            lambda x: x.replace(b'<c r="A1" t="s"><v>0</v></c>', b'<c r="A1" t="s"><v>99</v></c>'),
            id="string-out-of-range",
        ),
        pytest.param(
            lambda x: re.sub(rb"<(/?)(sheetData|row|c|v)\b", rb"<\1x:\2", x).replace(
                b"<worksheet ",
                b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ',
            ),
            id="prefixed-elements",
        ),
    ],
)
def test_a_sheet_written_another_way_is_declined(change) -> None:
    data = _with_sheet_xml(_book(_texts), change)
    assert compare_with_calamine(data) == {"S": "declined"}


def test_rich_text_in_the_shared_strings_reads_as_calamine_reads_it() -> None:
    def write(wb, ws):
        bold = wb.add_format({"bold": True})
        ws.write_rich_string(0, 0, "plain ", bold, "bold")
        ws.write_rich_string(1, 0, bold, " leading", " & trailing ")
        ws.write_string(2, 0, "after")

    data = _book(write)
    z = zipfile.ZipFile(io.BytesIO(data))
    assert b"<r>" in z.read("xl/sharedStrings.xml")
    assert dialect(z.read("xl/workbook.xml"), z.read("xl/styles.xml"), z.read("xl/sharedStrings.xml"))
    assert compare_with_calamine(data) == {"S": "same"}


def test_a_file_source_reads_a_declined_sheet_through_calamine(tmp_path) -> None:
    data = _with_sheet_xml(_book(_texts), lambda x: x.replace(b'<c r="A1" t="s">', b'<c t="s" r="A1">'))
    archive = zipfile.ZipFile(io.BytesIO(data))
    source = FileSource(None, archive, data=data)
    assert source.dialect is not None and source.sheet_names == ["S"]
    assert source.grid("S") == [["one", 2.0], ["three", ""]]
    source.close()


# -- number formats ---------------------------------------------------------------------------------
FORMATS = [
    "General",
    "0",
    "0.00",
    "#,##0",
    "0%",
    "0.0%",
    '#,##0 "€"',
    "#,##0.0#",
    "0.00E+00",
    "@",
    "dd/mm/yyyy",
    "yyyy-mm-dd",
    "d mmm yyyy",
    "mmm-yy",
    "dddd",
    "hh:mm",
    "h:mm AM/PM",
    "mm:ss",
    "[h]:mm",
    "[mm]:ss",
    "[ss]",
    "[Red]0.00",
    "[Blue]#,##0;[Red]-#,##0",
    '"day "0',
    "0\\d",
    "0_)",
    "0*m",
    "[$-40C]dd mmmm yyyy",
    "[$€-2] #,##0.00",
    "yy",
    "A/P",
    "AM/PM h",
    "0;-0;;@",
    "#,##0.00 [$USD]",
    '"Due" dd/mm',
    "[>=100]0;0.0",
    "s",
    "[h]",
    '0.0 "h"',
    "e",
    "[DBNum1]0",
]


def test_number_formats_are_read_as_calamine_reads_them() -> None:
    """A whole serial shows a date, and 1.5 a duration, exactly where calamine says so."""

    def write(wb, ws):
        for i, code in enumerate(FORMATS):
            fmt = wb.add_format({"num_format": code})
            ws.write_number(i, 0, 46230, fmt)
            ws.write_number(i, 1, 1.5, fmt)

    data = _book(write)
    z = zipfile.ZipFile(io.BytesIO(data))
    styles = date_styles(z.read("xl/styles.xml"))
    assert styles is not None
    grid = pc.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("S").to_python()
    for code, (as_day, as_span) in zip(FORMATS, grid, strict=True):
        want = (
            "duration"
            if isinstance(as_span, dt.timedelta)
            else "date"
            if not isinstance(as_day, float)
            else ""
        )
        assert _custom_kind(code) == want, code
