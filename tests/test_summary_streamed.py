"""The summary's data sheets written as XML rows: the same workbook as XlsxWriter's own cells."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import openxml_audit
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from kamxl.rollup.package import write_package
from kamxl.rollup.portfolio import Portfolio
from kamxl.rollup.sheetxml import RowWriter, StreamedTable, Strings
from kamxl.rollup.summary import SummaryWriter, Trends, write_summary

from .test_rollup_units import AS_OF, record

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def resolved_parts(path: Path) -> dict[str, str]:
    """Every part of a workbook, each sheet with its shared strings and style numbers replaced by
    what they stand for (their numbering depends on the order they were first used)."""
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("xl/sharedStrings.xml"))
        strings = ["".join(t.text or "" for t in si.iter(NS + "t")) for si in root.iter(NS + "si")]
        styles = ET.fromstring(z.read("xl/styles.xml"))

        def children(tag: str) -> list[bytes]:
            element = styles.find(NS + tag)
            return [ET.tostring(c) for c in element] if element is not None else []

        fonts, fills, borders = children("fonts"), children("fills"), children("borders")
        numbers = {n.get("numFmtId"): n.get("formatCode") for n in styles.iter(NS + "numFmt")}
        xfs = []
        for xf in styles.find(NS + "cellXfs"):
            a = dict(xf.attrib)
            xfs.append(
                repr(
                    (
                        fonts[int(a.pop("fontId", 0))],
                        fills[int(a.pop("fillId", 0))],
                        borders[int(a.pop("borderId", 0))],
                        numbers.get(a.get("numFmtId"), a.pop("numFmtId", None)),
                        sorted(a.items()),
                        [ET.tostring(c) for c in xf],
                    )
                )
            )
        parts = {}
        for name in z.namelist():
            text = z.read(name).decode("utf-8", "replace")
            if name.startswith("xl/worksheets/sheet"):
                text = re.sub(r' t="s"><v>(\d+)</v>', lambda m: f' t="S"><v>{strings[int(m[1])]}</v>', text)
                text = re.sub(r' s="(\d+)"', lambda m: f' s="{xfs[int(m[1])]}"', text)
                rels = relationships(z, name)
                text = re.sub(r' r:id="(rId\d+)"', lambda m, rels=rels: f' r:id="{rels[m[1]]}"', text)
            if name.startswith("xl/worksheets/_rels/"):
                sheet = name.replace("_rels/", "").removesuffix(".rels")
                text = repr(sorted(relationships(z, sheet).values()))
            if name not in ("xl/sharedStrings.xml", "xl/styles.xml", "docProps/core.xml"):
                parts[name] = text
        return parts


def relationships(z: zipfile.ZipFile, part: str) -> dict[str, str]:
    """A sheet's relationships by id: each its type and target, a link's with forward slashes
    (XlsxWriter's own links have backslashes; the relationships' order and ids are free)."""
    name = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    if name not in z.namelist():
        return {}
    root = ET.fromstring(z.read(name))
    return {
        rel.get("Id"): " ".join(
            (rel.get("Type", ""), rel.get("Target", "").replace("\\", "/"), str(rel.get("TargetMode")))
        )
        for rel in root
    }


@pytest.fixture
def awkward(template) -> Portfolio:
    """Accounts whose rows hold every kind of value a data sheet meets."""
    accounts = [
        record(
            template, "Acme", "Alice", annual_revenue=1_000_000.0, last_review=AS_OF - dt.timedelta(days=9)
        ),
        record(template, "=Beta & <Co>", "Alice", seed_tier="maintain", annual_revenue=400_000.0),
        record(template, "Gamma", "Bruno", seed_tier="deprioritise"),
    ]
    acme, beta, gamma = accounts
    acme.opportunities += [
        {"name": "Line one\nline two\nthree", "type": "upsell", "amount": math.inf, "probability": True},
        {
            "name": "x" * 40_000,
            "type": "not-a-code",
            "amount": 12,
            "expected_close": dt.datetime(2027, 1, 2, 13),
        },
        {"name": " spaced\tout ", "amount": -0.0, "probability": float("nan"), "next_step": 42.0, "owner": 7},
        {"name": "", "amount": None, "expected_close": AS_OF, "next_step": "Le délai « court » → €"},
    ]
    beta.path = ""  # no link: shown as text
    gamma.path = "/elsewhere/with#hash.xlsx"  # a link Excel cannot follow: shown as text
    acme.alerts.append({"code": "custom", "severity": "high", "message": "M", "sheet": "It's", "cell": "B2"})
    return Portfolio(accounts, template, AS_OF, folder="/share/plans")


def test_streamed_rows_are_the_workbook_xlsxwriter_writes(tmp_path, awkward, monkeypatch):
    streamed = write_summary(awkward, tmp_path / "streamed.xlsx", trends=Trends())
    monkeypatch.setattr(SummaryWriter, "STREAM", False)
    cells = write_summary(awkward, tmp_path / "cells.xlsx", trends=Trends())
    a, b = resolved_parts(streamed), resolved_parts(cells)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name


def test_streamed_summary_reads_back(tmp_path, awkward):
    path = write_summary(awkward, tmp_path / "s.xlsx", trends=Trends())
    pipeline = openpyxl.load_workbook(path)["Pipeline"]
    names = [c.value for c in pipeline["C"]]
    assert "Line one\nline two\nthree" in names
    assert len(max((n for n in names if isinstance(n, str)), key=len)) == 32_767
    assert pipeline.tables["Pipeline"].ref.startswith("A4:")
    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Accounts").to_python()
    assert calamine[4][0] == "Acme" or "Acme" in [row[0] for row in calamine]
    assert "=Beta & <Co>" in [row[0] for row in calamine]


def test_held_text_is_plain_while_small_and_deflated_beyond(monkeypatch):
    from kamxl.rollup import sheetxml

    monkeypatch.setattr(sheetxml, "CHUNK", 10)
    monkeypatch.setattr(sheetxml, "PLAIN", 25)
    held = sheetxml.Deflated()
    parts = [f"<row>{i}é</row>" for i in range(8)]
    for part in parts:
        held.add(part)
    assert "".join(held.texts()) == "".join(parts)
    assert held.data() == "".join(parts).encode("utf-8")
    kinds = [type(c) for c in held.chunks]
    assert kinds[0] is str and bytes in kinds  # the first chunks plain, the rest deflated


def hyperlink_targets(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [
            rel.get("Target", "")
            for name in z.namelist()
            if name.startswith("xl/worksheets/_rels/")
            for rel in ET.fromstring(z.read(name))
            if rel.get("Type", "").endswith("/hyperlink")
        ]


def test_links_to_plans_have_forward_slashes(tmp_path, awkward, monkeypatch):
    """Excel for Mac follows a relative link only with forward slashes; XlsxWriter's own
    ``external:`` links (the check path) have backslashes."""
    streamed = hyperlink_targets(write_summary(awkward, tmp_path / "streamed.xlsx", trends=Trends()))
    monkeypatch.setattr(SummaryWriter, "STREAM", False)
    cells = hyperlink_targets(write_summary(awkward, tmp_path / "cells.xlsx", trends=Trends()))
    assert streamed and all("/" in t and "\\" not in t for t in streamed)
    assert sorted(t.replace("\\", "/") for t in cells) == sorted(streamed)


def audit(path: Path) -> list[str]:
    validator = openxml_audit.OpenXmlValidator(max_errors=0)
    result = validator.validate(str(path))
    return [f"{e.part_uri} {e.path}: {e.description}" for e in result.errors]


def test_streamed_summary_passes_the_ooxml_validator(tmp_path, awkward, template):
    assert audit(write_summary(awkward, tmp_path / "awkward.xlsm", trends=Trends())) == []
    one = Portfolio([record(template, "Solo", "Alice")], template, AS_OF, folder="/share/plans")
    assert audit(write_summary(one, tmp_path / "one.xlsx", trends=Trends())) == []


def test_the_validator_sees_a_misplaced_element(tmp_path, awkward):
    path = write_summary(awkward, tmp_path / "s.xlsx", trends=Trends())
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(broken, "w") as out:
        for name in src.namelist():
            data = src.read(name)
            if name == "xl/worksheets/sheet2.xml":
                data = data.replace(b"<hyperlinks>", b"<pageMargins/><hyperlinks>", 1)
            out.writestr(name, data)
    assert audit(broken)


def test_libreoffice_reads_the_streamed_rows(tmp_path, awkward, lo_recalc):
    """LibreOffice opens the summary, totals the streamed rows as the cached totals say, and
    saves the same values again."""
    path = write_summary(awkward, tmp_path / "s.xlsx", trends=Trends())
    saved = tmp_path / "saved"
    saved.mkdir()
    report = lo_recalc([path], save_as_xlsx=saved, cells=True)[str(path)]
    # the only errors: an infinite amount charted, written as XlsxWriter writes one (=1/0)
    assert [e for e in report["errors"] if e["formula"] != "=1/0"] == []
    ours, theirs = CalamineWorkbook.from_path(str(path)), CalamineWorkbook.from_path(str(saved / path.name))
    assert ours.sheet_names == theirs.sheet_names
    totals = 0
    for name in ours.sheet_names:
        rows = ours.get_sheet_by_name(name).to_python()
        again = theirs.get_sheet_by_name(name).to_python()
        assert len(rows) == len(again), name
        for row, other in zip(rows, again, strict=True):
            assert [approx(v) for v in row] == [approx(v) for v in other[: len(row)]], name
        for ref, value in report["cells"].get(name, {}).items():
            if isinstance(value, dict):  # an error: the =1/0 above
                continue
            col, r = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()
            c = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(col))) - 1
            assert approx(rows[int(r) - 1][c]) == approx(value), (name, ref)
            totals += 1
    assert totals > 20  # the tables' total rows, recalculated over the streamed rows


def approx(value: object) -> object:
    return pytest.approx(value, rel=1e-12) if isinstance(value, float) else value


def test_a_table_with_more_formats_than_cells(tmp_path):
    """Marker cells run past a one-row table: its total row still lands under the row, and the
    workbook is the one XlsxWriter writes from cells."""
    paths = {}
    for stream in (True, False):
        buffer = io.BytesIO()
        wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
        ws = wb.add_worksheet("Data")
        # the first a format with no properties of its own
        formats = [wb.add_format()] + [
            wb.add_format({"num_format": n}) for n in ("0.00", "0%", "#,##0", "0.0")
        ]
        options = {
            "name": "Small",
            "total_row": True,
            "columns": [
                {"header": "Name", "format": formats[0], "total_string": "Total"},
                {"header": "Amount", "format": formats[1], "total_function": "=SUBTOTAL(109,Small[Amount])"},
            ],
        }
        options["columns"][1]["total_value"] = 5
        if stream:
            table, strings = StreamedTable("Data", "Small", 0, 0, 2, True), Strings()
            w = RowWriter(table, strings)
            for fmt in formats:  # five formats for two cells: three rows of markers
                w.style(fmt)
            cells = [w.value(1, 0, "x & y", w.style(formats[0])), w.value(1, 1, 5, w.style(formats[1]))]
            table.add([w.row(1, cells)], strings)
            assert table.short_last > table.last
            ws.add_table(0, 0, table.short_last, table.right, options)
            for r, c, fmt in table.markers():
                ws.write_blank(r, c, None, fmt)
            wb.close()
            write_package(buffer.getvalue(), tmp_path / "streamed.xlsx", [table], strings)
            paths[stream] = tmp_path / "streamed.xlsx"
        else:
            ws.add_table(0, 0, 2, 1, options)
            ws.write_string(1, 0, "x & y", formats[0])
            ws.write_number(1, 1, 5, formats[1])
            wb.close()
            paths[stream] = tmp_path / "cells.xlsx"
            paths[stream].write_bytes(buffer.getvalue())
    a, b = resolved_parts(paths[True]), resolved_parts(paths[False])
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    assert audit(paths[True]) == []
