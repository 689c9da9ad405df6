"""The summary's data sheets written as XML rows: the same workbook as XlsxWriter's own cells."""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from kamxl.rollup.portfolio import Portfolio
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
            if name not in ("xl/sharedStrings.xml", "xl/styles.xml", "docProps/core.xml"):
                parts[name] = text
        return parts


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
