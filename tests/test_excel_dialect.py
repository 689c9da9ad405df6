"""Workbooks as Excel and LibreOffice save them are read in one pass, as python-calamine reads them.

KAMs save their plans in Excel (or LibreOffice): the reader must read that dialect in one pass
(the speed the roll-up is measured at) and give exactly calamine's grid, or decline a sheet it
cannot read exactly. Three sources: workbooks really saved by Excel (``fixtures/excel``), kamxl's
plans converted to Excel's dialect (:mod:`tests.excel_dialect`), and plans re-saved by LibreOffice.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
import python_calamine as pc

from kamxl import workbook_source
from kamxl.demo import demo_plans
from kamxl.reader import read_plan
from kamxl.sheet_cells import declaration_crlf_only, dialect, shared_strings, sheet_cells
from kamxl.workbook_source import _scan
from kamxl.writer import write_plan
from tests.excel_dialect import excel_number, shift_rows, to_excel
from tests.test_sheet_cells import _book, compare_with_calamine

EXCEL = Path(__file__).resolve().parent / "fixtures" / "excel"
DECLINED = {"has_x000D_.xlsx"}  # a raw CR LF inside a string, which XML parsers read differently


# -- workbooks Excel saved ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", sorted(p for p in EXCEL.glob("*.xls?") if p.name not in DECLINED), ids=lambda p: p.name
)
def test_workbooks_saved_by_excel_are_read_in_one_pass_as_calamine_reads_them(path) -> None:
    data = path.read_bytes()
    assert b"?>\r\n<worksheet" in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    outcome = compare_with_calamine(data)
    assert outcome and set(outcome.values()) == {"same"}, outcome


@pytest.mark.parametrize(
    "path", sorted(p for p in EXCEL.glob("*.xls?") if p.name not in DECLINED), ids=lambda p: p.name
)
def test_a_file_source_reads_every_sheet_excel_saved_without_calamine(path, monkeypatch) -> None:
    """The whole workbook in one pass: its parts (sheet list, chart sheets, styles, strings) too."""
    data = path.read_bytes()
    want = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    _without_calamine(monkeypatch)
    source = workbook_source.FileSource(None, zipfile.ZipFile(io.BytesIO(data)), data=data)
    assert source.dialect is not None and source.sheet_names == want.sheet_names
    for name in source.sheet_names:
        assert source.grid(name) == want.get_sheet_by_name(name).to_python(skip_empty_area=False), name


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_what_excel_writes_and_calamine_versions_read_differently_is_declined(name) -> None:
    assert set(compare_with_calamine((EXCEL / name).read_bytes()).values()) == {"declined"}


# -- kamxl's plans as Excel saves them --------------------------------------------------------------
@pytest.fixture(scope="module")
def plans(template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("excel")
    chosen = demo_plans(template, seed=3, count=4)
    assert {p.lang for p in chosen} == {"en", "fr"}
    written = [write_plan(p, folder / f"{i}.xlsm", template=template) for i, p in enumerate(chosen)]
    saved = []
    for path in written:
        again = path.with_name("excel-" + path.name)
        again.write_bytes(to_excel(path.read_bytes()))
        saved.append(again)
    return list(zip(written, saved, strict=True))


def test_the_excel_dialect_has_excels_habits(plans) -> None:
    """What the conversion claims, checked on its output: the reader meets each habit."""
    z = zipfile.ZipFile(plans[0][1])
    xml_parts = [n for n in z.namelist() if n.endswith((".xml", ".rels"))]
    assert all(
        z.read(n).startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<')
        for n in xml_parts
    )
    sheets = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    assert sheets.count(b"<row ") == len(re.findall(rb'<row [^>]*x14ac:dyDescent="0.25"/?>', sheets))
    assert b'mc:Ignorable="x14ac xr xr2 xr3"' in sheets and b"xr:uid=" in sheets
    assert re.search(rb'<f t="shared" ref="[A-Z]+[0-9]+:[A-Z]+[0-9]+" si="0">', sheets)
    assert re.search(rb'<f t="shared" si="[0-9]+"/>', sheets)
    assert re.search(
        rb"<v>-?(?:0\.0*)?[1-9][0-9.]{16,17}(?:E[-+]?[0-9]+)?</v>", sheets
    )  # 17 significant digits
    assert b"xr3:uid=" in z.read("xl/tables/table1.xml")


def test_plans_saved_by_excel_read_in_one_pass_as_calamine_reads_them(plans) -> None:
    for _, saved in plans:
        outcome = compare_with_calamine(saved.read_bytes())
        assert set(outcome.values()) == {"same"}, (saved.name, outcome)


class Declined(BaseException):
    """Raised past the reader's own handling of a sheet it cannot read (which catches Exception)."""


def _without_calamine(monkeypatch) -> None:
    """Any sheet the one-pass reader declines would open calamine: that fails the test."""

    def refuse(data, path):
        raise Declined(f"{path}: a sheet was declined by the one-pass reader")

    monkeypatch.setattr(workbook_source, "open_calamine", refuse)


def test_a_plan_saved_by_excel_reads_in_one_pass_to_the_same_plan(plans, template, monkeypatch) -> None:
    for written, saved in plans:
        original = read_plan(written, template=template)
        with monkeypatch.context() as m:
            _without_calamine(m)
            again = read_plan(saved, template=template)
        assert again.plan.tables == original.plan.tables, saved.name
        assert again.plan.fields == original.plan.fields, saved.name
        assert [str(f) for f in again.findings] == [str(f) for f in original.findings], saved.name


def test_the_one_pass_check_catches_a_declined_sheet(plans, template, monkeypatch) -> None:
    """The guard above can fail: sheets with a stray CR go to calamine."""
    data = plans[0][1].read_bytes()
    src = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(
                info.filename,
                body.replace(b"<sheetData>", b"<sheetData>\r\n")
                if info.filename.startswith("xl/worksheets/sheet")
                else body,
            )
    odd = plans[0][1].with_name("odd.xlsm")
    odd.write_bytes(buffer.getvalue())
    _without_calamine(monkeypatch)
    with pytest.raises(Declined, match="declined"):
        read_plan(odd, template=template)


# -- re-saved by LibreOffice -------------------------------------------------------------------------
def test_plans_saved_by_libreoffice_read_in_one_pass_as_calamine_reads_them(
    plans, template, lo_recalc, tmp_path, monkeypatch
) -> None:
    written = [w for w, _ in plans[:2]]
    lo_recalc(written, save_as_xlsx=tmp_path)
    for path in written:
        saved = tmp_path / path.name
        assert b"LibreOffice" in zipfile.ZipFile(saved).read("docProps/app.xml")
        outcome = compare_with_calamine(saved.read_bytes())
        assert set(outcome.values()) == {"same"}, (path.name, outcome)
        with monkeypatch.context() as m:
            _without_calamine(m)
            assert read_plan(saved, template=template).plan.account_id == read_plan(path).plan.account_id


# -- Excel's habits, one at a time ----------------------------------------------------------------------
def _parts(data: bytes, changes: dict[str, object]) -> bytes:
    """The workbook with some parts passed through their change."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            change = changes.get(info.filename)
            dst.writestr(info.filename, change(body) if change else body)  # type: ignore[operator]
    return out.getvalue()


def _cells(wb, ws) -> None:
    ws.write_string(0, 0, "one")
    ws.write_number(0, 1, 0.01)
    ws.write_formula(1, 0, '=IF(B1>1,"big","")', None, "")
    ws.write_formula(1, 1, "=1/0", None, "#DIV/0!")
    ws.write_boolean(2, 0, True)


def _str_cell(xml: bytes) -> bytes:
    """The formula that gives "" typed as Excel types it: a string, with an empty <v></v>."""
    return xml.replace(b'<c r="A2"><f>', b'<c r="A2" t="str"><f>')


SHEET, STRINGS = "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"
CRLF = {n: (lambda x: x.replace(b"?>\n", b"?>\r\n", 1)) for n in (SHEET, STRINGS)}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(CRLF, id="crlf-after-declarations"),
        pytest.param({SHEET: lambda x: x + b"\r\n"}, id="crlf-after-the-root"),
        pytest.param({SHEET: lambda x: x.replace(b'<c r="B1">', b'<c r="B1" cm="1">')}, id="cell-metadata"),
        pytest.param(
            {SHEET: lambda x: x.replace(b'<c r="B2" t="e">', b'<c r="B2" t="e" vm="1">')}, id="value-metadata"
        ),
        pytest.param(
            {SHEET: lambda x: x.replace(b"<v>0.01</v>", b"<v>1.0000000000000001E-2</v>")}, id="excel-number"
        ),
        pytest.param(
            {SHEET: lambda x: x.replace(b"<row ", b'<row x14ac:dyDescent="0.25" ')}, id="row-attributes"
        ),
        pytest.param({SHEET: _str_cell}, id="formula-string-empty"),
        pytest.param({SHEET: lambda x: x.replace(b"<v>#DIV/0!</v>", b"<v></v>")}, id="error-without-value"),
        pytest.param(
            {SHEET: lambda x: _str_cell(x).replace(b"<v>#DIV/0!</v>", b"")},
            id="empty-text-beside-an-error-without-v",
        ),
        pytest.param(
            {
                STRINGS: lambda x: x.replace(
                    b"<si><t>one</t></si>",
                    b'<si><t>o</t><r><rPr><b/><sz val="11"/></rPr><t xml:space="preserve">ne </t></r></si>',
                )
            },
            id="rich-text",
        ),
        pytest.param(
            {
                STRINGS: lambda x: x.replace(
                    b"<t>one</t>", b"<t>o_x000D_\nn_x005F_x000D_e_x005f_x005F__x0009_</t>"
                )
            },
            id="excel-escapes",
        ),
        pytest.param(
            {
                STRINGS: lambda x: x.replace(
                    b"<si><t>one</t></si>",
                    b'<si><t>one</t><rPh sb="0" eb="1"><t>wan</t></rPh><phoneticPr fontId="1"/></si>',
                )
            },
            id="phonetic-reading",
        ),
    ],
)
def test_excels_habits_are_read_in_one_pass(changes) -> None:
    assert compare_with_calamine(_parts(_book(_cells), changes)) == {"S": "same"}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({SHEET: lambda x: x.replace(b"<sheetData>", b"<sheetData>\r\n")}, id="cr-inside"),
        pytest.param(
            {SHEET: lambda x: _str_cell(x).replace(b"<v></v>", b"")}, id="formula-string-without-value"
        ),
        pytest.param(
            {STRINGS: lambda x: x.replace(b"<t>one</t>", b"<t> one</t>")}, id="space-calamine-may-trim"
        ),
        pytest.param(
            {STRINGS: lambda x: x.replace(b"<t>one</t>", b"<t>one&#32;</t>")}, id="space-reference-at-an-end"
        ),
        pytest.param({STRINGS: lambda x: x.replace(b"<t>one</t>", b"<t>one_x2028_</t>")}, id="wide-escape"),
        pytest.param({STRINGS: lambda x: x.replace(b"<t>one</t>", b"<t>one_x00+D_</t>")}, id="signed-escape"),
        pytest.param(
            {STRINGS: lambda x: x.replace(b"<si><t>one</t></si>", b"<si><t>one</t><x>?</x></si>")},
            id="unknown-markup",
        ),
    ],
)
def test_what_the_reader_cannot_read_exactly_is_declined(changes) -> None:
    data = _parts(_book(_cells), changes)
    assert compare_with_calamine(data) == {"S": "declined"}


@pytest.mark.parametrize("code", [b"#SPILL!", b"#CALC!"])
def test_excel_365_errors_calamine_refuses_are_read_in_one_pass(code) -> None:
    """calamine refuses a whole sheet holding one: the one-pass reader reads it, flagged."""
    data = _parts(_book(_cells), {SHEET: lambda x: x.replace(b"<v>#DIV/0!</v>", b"<v>" + code + b"</v>")})
    with pytest.raises(pc.CalamineError, match="error value"):
        pc.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("S").to_python()
    z = zipfile.ZipFile(io.BytesIO(data))
    found = dialect(z.read("xl/workbook.xml"), z.read("xl/styles.xml"), z.read(STRINGS))
    assert found is not None
    read = sheet_cells(z.read(SHEET), found)
    assert read is not None
    grid, flags = read
    assert grid == [["one", 0.01], ["", ""], [True, ""]]
    assert flags == {(1, 0): ("formula", '=IF(B1>1,"big","")'), (1, 1): ("error", code.decode())}
    assert flags == _scan(z.read(SHEET))


def test_only_the_declarations_line_break_may_hold_a_carriage_return() -> None:
    assert declaration_crlf_only(b'<?xml version="1.0"?>\r\n<a/>')
    assert declaration_crlf_only(b'<?xml version="1.0"?>\r\n<a/>\r\n')
    assert not declaration_crlf_only(b'<?xml version="1.0"?>\r\n<a>\r\n</a>')
    assert not declaration_crlf_only(b'<?xml version="1.0"?>\r<a/>')
    assert shared_strings(b'<?xml version="1.0"?>\r\n<sst><si><t>x</t></si></sst>') == ["x"]


def test_excel_numbers_and_filled_formulas() -> None:
    """The conversion's own pieces: numbers keep their value, references move as Excel moves them."""
    for number in (0.1, 1 / 3, 2.5e-7, 1e20, -46230.0, 2**53):
        text = excel_number(repr(number).encode())
        assert float(text) == number and b"E-0" not in text
    assert (
        shift_rows(b"SUM(A1:B1)*C$2+$D3&\"A1\"&'Sheet 1'!E5", 1) == b"SUM(A2:B2)*C$2+$D4&\"A1\"&'Sheet 1'!E6"
    )
    assert shift_rows(b"LOG10(A1)+Table1[Col]", 2) == b"LOG10(A3)+Table1[Col]"
    assert shift_rows(b"SUM(1:1)", 1) is None
