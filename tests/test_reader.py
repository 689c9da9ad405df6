"""Reading workbooks back: round trips through the writer, hand edits, and unreadable files."""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine as pc
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kamxl.cfb import write_compound_file
from kamxl.coerce import loose
from kamxl.findings import EncryptedWorkbook, NotAPlan, NotAWorkbook, PlanReadError
from kamxl.layout import a1, col_letter, field_cell, table_anchor
from kamxl.model import Plan, new_plan
from kamxl.reader import PlanNotFound, ReadResult, _FileSource, read_plan, read_plan_from_source
from kamxl.template import Column, Template, get_template
from kamxl.writer import write_plan

EXAMPLES = int(os.environ.get("KAMXL_HYPOTHESIS_EXAMPLES", "30"))


# -- helpers ------------------------------------------------------------------------------------
def normalised(plan: Plan, template: Template) -> dict[str, Any]:
    """What a round trip must keep: input values, blank cells and blank rows left out."""
    tables = {}
    for key, table in template.tables.items():
        inputs = [c.key for c in table.input_columns]
        rows = [{k: row[k] for k in inputs if row.get(k) is not None} for row in plan.tables.get(key, [])]
        tables[key] = [r for r in rows if r]
    fields = {k: v for k, v in plan.fields.items() if v is not None}
    return {"fields": fields, "tables": tables}


def value_for(col: Column, template: Template, i: int) -> Any:
    """A deterministic, valid value of every column type."""
    kind = col.type
    if kind == "choice":
        codes = list(template.choices[col.choices or ""])
        return codes[i % len(codes)]
    if kind == "date":
        return dt.date(2026, 1, 1) + dt.timedelta(days=37 * i)
    if kind == "rating":
        return 1 + i % 5
    if kind == "percent":
        low, high = col.min if col.min is not None else 0.0, col.max if col.max is not None else 1.0
        return round(low + (high - low) * ((i % 7) + 1) / 9, 4)
    if kind == "int":
        low = int(col.min) if col.min is not None else 0
        return low + i
    if kind in ("currency", "number"):
        return 1250.5 * (i + 1) if col.max is None else min(col.max, 3 + i)
    if kind == "email":
        return f"person{i}@example.com"
    if kind == "url":
        return f"https://example.com/{i}"
    return f"{col.label['en']} {i} «é»"


def full_plan(template: Template, lang: str) -> Plan:
    plan = new_plan(template, lang, client_name="Acme Industries", kam="Jane Doe")
    for i, (key, col) in enumerate(template.fields.items()):
        if key not in ("client_name", "kam"):
            plan.fields[key] = value_for(col, template, i)
    for key, table in template.tables.items():
        plan.tables[key] = [
            {col.key: value_for(col, template, i + j) for j, col in enumerate(table.input_columns)}
            for i in range(3)
        ]
    plan.generated_at = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
    return plan


@pytest.fixture
def write(tmp_path: Path, template: Template):
    def _write(plan: Plan, name: str = "plan.xlsx") -> Path:
        return write_plan(plan, tmp_path / name, template=template)

    return _write


# -- round trips through the writer -------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_new_plan_round_trip(template, write, lang) -> None:
    plan = new_plan(template, lang, client_name="Acme", kam="Jo")
    result = read_plan(write(plan), template=template)
    assert isinstance(result, ReadResult)
    assert result.findings == []
    assert normalised(result.plan, template) == normalised(plan, template)
    assert result.plan.lang == lang
    assert result.plan.account_id == plan.account_id


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_full_plan_round_trip(template, write, lang) -> None:
    plan = full_plan(template, lang)
    read, findings = read_plan(write(plan), template=template)
    assert findings == []
    assert normalised(read, template) == normalised(plan, template)
    assert (read.template_id, read.template_version) == (template.id, template.version)
    assert read.generated_at == plan.generated_at


def test_locations_of_rows_and_fields(template, write) -> None:
    plan = full_plan(template, "fr")
    result = read_plan(write(plan), template=template)
    anchor = table_anchor(template, "decisions")
    assert result.locations.rows["decisions"] == [anchor.data_row(i) for i in range(3)]
    assert result.locations.fields["nps"] == field_cell(template, "nps")[1]
    assert result.locations.at_row(template, "decisions", 1, "owner") == (
        "Gouvernance",
        a1(anchor.data_row(1), 9),
    )


def _text() -> st.SearchStrategy[str]:
    chars = st.characters(categories=["L", "N", "P", "S", "Zs"], exclude_characters="\u2028\u2029")
    return st.text(chars, min_size=1, max_size=25).filter(lambda s: s.strip() != "")


def _value(col: Column, template: Template) -> st.SearchStrategy[Any]:
    kind = col.type
    if kind == "choice":
        codes = st.sampled_from(list(template.choices[col.choices or ""]))
        if col.strict:
            return codes
        labels = {
            loose(x) for c, lab in template.choices[col.choices or ""].items() for x in (c, *lab.values())
        }
        return codes | _text().filter(lambda s: loose(s) not in labels and s == s.strip())
    if kind == "date":
        return st.dates(dt.date(1950, 1, 1), dt.date(2100, 12, 31))
    if kind == "email":
        return st.emails()
    if kind == "rating":
        return st.integers(1, 5)
    if kind == "percent":
        low, high = col.min if col.min is not None else -1.0, col.max if col.max is not None else 1.0
        return st.integers(int(low * 10000), int(high * 10000)).map(lambda n: n / 10000)
    low = col.min if col.min is not None else -1e9
    high = col.max if col.max is not None else 1e9
    if kind == "int":
        return st.integers(int(low), int(high))
    if kind in ("number", "currency"):
        return st.integers(int(low * 100), int(high * 100)).map(lambda n: n / 100)
    return _text()


@st.composite
def plans(draw: st.DrawFn, template: Template) -> Plan:
    lang = draw(st.sampled_from(["en", "fr"]))
    plan = new_plan(template, lang, client_name=draw(_text()))
    for key, col in template.fields.items():
        plan.fields[key] = draw(st.none() | _value(col, template))
    for key, table in template.tables.items():
        if draw(st.booleans()):
            row = st.fixed_dictionaries({c.key: st.none() | _value(c, template) for c in table.input_columns})
            plan.tables[key] = draw(st.lists(row, max_size=4))
    return plan


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_plans_round_trip(tmp_path, data) -> None:
    template = get_template()
    plan = data.draw(plans(template))
    path = write_plan(plan, tmp_path / "random.xlsx", template=template)
    result = read_plan(path, template=template)
    assert normalised(result.plan, template) == normalised(plan, template)
    keyless = [f for f in result.findings if "it is not counted" in f.message]
    assert len(keyless) == len(result.findings), result.findings  # the only finding: rows without a key


def test_workbook_saved_by_openpyxl_reads_the_same(template, write, tmp_path) -> None:
    plan = full_plan(template, "en")
    path = write(plan)
    book = openpyxl.load_workbook(path)
    again = tmp_path / "resaved.xlsx"
    book.save(again)
    result = read_plan(again, template=template)
    assert result.findings == []
    assert normalised(result.plan, template) == normalised(plan, template)


# -- what KAMs do to workbooks -------------------------------------------------------------------
def _cell(template: Template, table: str, row: int, column: str) -> str:
    anchor = table_anchor(template, table)
    keys = [c.key for c in template.table(table).columns]
    return a1(anchor.data_row(row), anchor.first_col + keys.index(column))


def _finding(findings, cell: str):
    found = [f for f in findings if f.cell == cell]
    assert len(found) == 1, (cell, findings)
    return found[0]


@pytest.fixture
def messy(template, write, tmp_path):
    """An English plan with two opportunities and one action, then edited by hand in openpyxl."""
    plan = new_plan(template, "en", client_name="Acme", kam="Jo")
    plan.tables["opportunities"] = [
        {"name": "Deal A", "type": "upsell", "amount": 100000, "probability": 0.5, "stage": "proposal",
         "expected_close": dt.date(2026, 12, 1)},
        {"name": "Deal B", "amount": 5000, "stage": "won", "expected_close": dt.date(2026, 6, 1)},
        {"name": "Deal C", "amount": 7000, "stage": "lost"},
    ]  # fmt: skip
    path = write(plan)
    book = openpyxl.load_workbook(path)

    def edit(sheet: str, cells: dict[str, Any]) -> Path:
        ws = book[sheet]
        for ref, value in cells.items():
            ws[ref] = value
        out = tmp_path / "edited.xlsx"
        book.save(out)
        return out

    return edit


def test_amount_typed_as_text(template, messy) -> None:
    amount = _cell(template, "opportunities", 0, "amount")
    result = read_plan(messy("Opportunities", {amount: "1 200 000 €"}), template=template)
    assert result.plan.tables["opportunities"][0]["amount"] == 1_200_000
    f = _finding(result.findings, amount)
    assert (f.severity, f.sheet) == ("warning", "Opportunities")
    assert f.message.startswith("Amount:") and "1 200 000" in f.message


def test_french_label_in_english_workbook(template, messy) -> None:
    stage = _cell(template, "opportunities", 0, "stage")
    result = read_plan(messy("Opportunities", {stage: "Négociation"}), template=template)
    assert result.plan.tables["opportunities"][0]["stage"] == "negotiation"
    assert '"Negotiation"' in _finding(result.findings, stage).message


def test_other_case_and_spaces_in_a_choice(template, messy) -> None:
    stage = _cell(template, "opportunities", 0, "stage")
    result = read_plan(messy("Opportunities", {stage: "  NEGOTIATION "}), template=template)
    assert result.plan.tables["opportunities"][0]["stage"] == "negotiation"


def test_error_value_in_a_date(template, messy) -> None:
    close = _cell(template, "opportunities", 1, "expected_close")
    result = read_plan(messy("Opportunities", {close: "#N/A"}), template=template)
    row = result.plan.tables["opportunities"][1]
    assert row["expected_close"] is None and row["amount"] == 5000
    f = _finding(result.findings, close)
    assert f.severity == "error" and f.sheet == "Opportunities"
    assert f.message == "Expected close: error value #N/A; left blank"


def test_formula_typed_into_an_input(template, messy) -> None:
    amount = _cell(template, "opportunities", 1, "amount")
    result = read_plan(messy("Opportunities", {amount: "=1+1"}), template=template)
    assert result.plan.tables["opportunities"][1]["amount"] is None
    f = _finding(result.findings, amount)
    assert f.severity == "error" and "=1+1" in f.message


def test_text_in_a_numeric_field(template, messy) -> None:
    sheet, cell = field_cell(template, "annual_revenue")
    result = read_plan(messy(sheet["en"], {cell: "about a million"}), template=template)
    assert result.plan.fields["annual_revenue"] is None
    f = _finding(result.findings, cell)
    assert (f.severity, f.sheet) == ("error", "Info")
    assert "not a number" in f.message


def test_blank_row_inside_a_table_and_row_typed_below(template, messy) -> None:
    anchor = table_anchor(template, "opportunities")
    middle = anchor.data_row(1)
    below = anchor.data_row(template.table("opportunities").rows) + 1
    edits = {f"{col_letter(c)}{middle}": None for c in range(anchor.first_col, anchor.last_col + 1)}
    edits |= {f"A{below}": "Deal typed below", f"E{below}": 3000, f"G{below}": "Proposal"}
    result = read_plan(messy("Opportunities", edits), template=template)
    names = [r["name"] for r in result.plan.tables["opportunities"]]
    assert names == ["Deal A", "Deal C", "Deal typed below"]
    assert result.plan.tables["opportunities"][2]["stage"] == "proposal"
    assert result.locations.rows["opportunities"] == [anchor.data_row(0), anchor.data_row(2), below]
    f = _finding(result.findings, f"A{below}")
    assert f.severity == "info" and "below table Opportunities" in f.message


def test_rows_deleted(template, write, tmp_path) -> None:
    plan = full_plan(template, "en")
    book = openpyxl.load_workbook(write(plan))
    anchor = table_anchor(template, "actions")
    book["Action plan"].delete_rows(anchor.data_row(0), 2)
    book.save(tmp_path / "deleted.xlsx")
    result = read_plan(tmp_path / "deleted.xlsx", template=template)
    assert (
        normalised(result.plan, template)["tables"]["actions"]
        == normalised(plan, template)["tables"]["actions"][2:]
    )


def test_row_without_key_is_read_and_flagged(template, messy) -> None:
    anchor = table_anchor(template, "opportunities")
    row = anchor.data_row(4)
    result = read_plan(messy("Opportunities", {f"E{row}": 999}), template=template)
    assert result.plan.tables["opportunities"][-1]["amount"] == 999
    assert "not counted" in _finding(result.findings, f"A{row}").message


# -- workbooks built by hand: reordered, renamed, missing ------------------------------------------
def build(
    path: Path,
    template: Template,
    lang: str,
    tables: dict[str, tuple[list[str], list[list[Any]]]],
    fields: list[tuple[str, Any]] | None = None,
    as_tables: bool = True,
    meta: dict | None = None,
    up: int = 0,
) -> Path:
    """A workbook following the layout contract, written without kamxl's writer.

    ``up`` moves every table that many rows up, as when a KAM deletes rows above them.
    """
    book = xlsxwriter.Workbook(str(path))
    sheets = {}
    for sheet in template.sheets:
        sheets[sheet.key] = book.add_worksheet(sheet.title[lang])
    for r, (label, value) in enumerate(fields or [], start=3):
        sheets["info"].write(r, 0, label)
        if value is not None:
            sheets["info"].write(r, 1, value)
    for key, (headers, rows) in tables.items():
        anchor = table_anchor(template, key)
        ws = sheets[template.table_sheet(key).key]
        top, left = anchor.header_row - 1 - up, anchor.first_col
        if as_tables:
            ws.add_table(top, left, top + max(len(rows), 1), left + len(headers) - 1, {
                "name": template.table(key).name, "columns": [{"header": h} for h in headers], "data": rows,
            })  # fmt: skip
        else:
            ws.write_row(top, left, headers)
            for i, row in enumerate(rows, start=1):
                ws.write_row(top + i, left, row)
    meta_ws = book.add_worksheet("_kamxl")
    meta_ws.very_hidden()
    info = {"template_id": template.id, "template_version": template.version, "lang": lang} | (meta or {})
    for r, (k, v) in enumerate(info.items()):
        meta_ws.write_string(r, 0, k)
        meta_ws.write_string(r, 1, v)
    book.close()
    return path


def test_reordered_extra_missing_and_other_language_headers(template, tmp_path) -> None:
    headers = ["Posture", "My own notes", "Name", "Rôle décisionnel", "LEVEL", "Engaged"]
    rows = [["Champion", "call back", "Ann", "Decision maker", "C-level", "Yes"],
            ["Neutral", None, "Bob", "Utilisateur", "Manager", "No"]]  # fmt: skip
    path = build(tmp_path / "hand.xlsx", template, "en", {"stakeholders": (headers, rows)})
    result = read_plan(path, template=template)
    ann, bob = result.plan.tables["stakeholders"]
    assert (ann["name"], ann["stance"], ann["role"], ann["level"], ann["engaged"]) == (
        "Ann",
        "champion",
        "decision_maker",
        "c_level",
        "yes",
    )
    assert (bob["role"], bob["stance"]) == ("user", "neutral")
    assert ann["strength"] is None and "My own notes" not in ann
    (missing,) = [f for f in result.findings if "missing from table" in f.message]
    assert (missing.severity, missing.sheet, missing.cell) == ("warning", "Stakeholders", "A5")
    assert all(f'"{label}"' in missing.message for label in ("Relationship", "Job title", "BU / entity"))
    assert '"Name"' not in missing.message
    absent = [f for f in result.findings if "not found: left empty" in f.message]
    assert len(absent) == len(template.tables) - 1
    assert result.locations.columns["stakeholders"]["name"] == 2


def test_renamed_header_is_read_by_position(template, tmp_path) -> None:
    labels = [c.label["en"] for c in template.table("risks").columns]
    labels[0] = "What could go wrong"
    row = ["Churn", "Competitive", 4, 5, None, None, "Jo", None, "Open"]
    path = build(tmp_path / "renamed.xlsx", template, "en", {"risks": (labels, [row])})
    result = read_plan(path, template=template)
    assert result.plan.tables["risks"][0]["risk"] == "Churn"
    assert any(f.severity == "info" and "What could go wrong" in f.message for f in result.findings)


def test_plain_cells_where_the_table_was(template, tmp_path) -> None:
    labels = [c.label["fr"] for c in template.table("decisions").columns]
    path = build(tmp_path / "plain.xlsx", template, "fr",
                 {"decisions": (labels, [["2026-03-15", "Go", "Jo", None]])}, as_tables=False)  # fmt: skip
    result = read_plan(path, template=template)
    (decision,) = result.plan.tables["decisions"]
    assert decision["date"] == dt.date(2026, 3, 15) and decision["decision"] == "Go"
    assert any("no longer an Excel table" in f.message for f in result.findings)


def test_fields_found_by_label_in_any_order_and_language(template, tmp_path) -> None:
    fields = [("Key account manager", "Jo"), ("Client name", "Acme"), ("Secteur", "Industrie"),
              ("Last review", "15/03/2026"), ("Our gross margin on the account", "35 %")]  # fmt: skip
    result = read_plan(build(tmp_path / "f.xlsx", template, "en", {}, fields), template=template)
    f = result.plan.fields
    assert (f["client_name"], f["kam"], f["sector"]) == ("Acme", "Jo", "industry")
    assert f["last_review"] == dt.date(2026, 3, 15)
    assert f["gross_margin"] == pytest.approx(0.35)
    assert result.locations.fields["client_name"] == "B5"


def test_other_template_version_is_read_with_a_note(template, tmp_path) -> None:
    path = build(tmp_path / "old.xlsx", template, "en", {}, meta={"template_version": "0.9"})
    result = read_plan(path, template=template)
    assert any(f.severity == "info" and "version 0.9" in f.message for f in result.findings)
    assert result.plan.template_version == "0.9"


def test_missing_sheet_is_a_finding_not_an_error(template, tmp_path, write) -> None:
    path = write(full_plan(template, "en"))
    book = openpyxl.load_workbook(path)
    del book["Risks"]
    book.save(tmp_path / "no-risks.xlsx")
    result = read_plan(tmp_path / "no-risks.xlsx", template=template)
    assert result.plan.tables["risks"] == []
    assert any(f.sheet == "Risks" and "sheet missing" in f.message for f in result.findings)
    assert len(result.plan.tables["actions"]) == 3


# -- files that cannot be read at all -----------------------------------------------------------
def test_not_a_workbook(tmp_path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("just some text")
    with pytest.raises(NotAWorkbook) as err:
        read_plan(path)
    assert str(path) in str(err.value)


def test_corrupt_zip(tmp_path, template, write) -> None:
    good = write(new_plan(template, "en")).read_bytes()
    path = tmp_path / "broken.xlsx"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(NotAWorkbook, match="damaged"):
        read_plan(path)


def test_zip_that_is_not_a_workbook(tmp_path) -> None:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(NotAWorkbook, match="not an Excel workbook"):
        read_plan(path)


def test_workbook_without_kamxl_sheet(tmp_path) -> None:
    path = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(NotAPlan) as err:
        read_plan(path)
    assert err.value.path == str(path) and "_kamxl" in err.value.reason


def test_encrypted_workbook(tmp_path) -> None:
    path = tmp_path / "secret.xlsx"
    path.write_bytes(write_compound_file({"EncryptionInfo": b"\x04\x00\x04\x00" + bytes(60),
                                          "EncryptedPackage": bytes(600)}))  # fmt: skip
    with pytest.raises(EncryptedWorkbook) as err:
        read_plan(path)
    assert str(path) in str(err.value) and "password" in err.value.reason


def test_legacy_binary_file(tmp_path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(write_compound_file({"Workbook": bytes(600)}))
    with pytest.raises(NotAWorkbook, match=r"\.xls"):
        read_plan(path)


def test_missing_file_and_folder(tmp_path) -> None:
    with pytest.raises(PlanNotFound, match="no such file"):
        read_plan(tmp_path / "nope.xlsx")
    with pytest.raises(PlanReadError, match="folder"):
        read_plan(tmp_path)


# -- edge cases found in review -----------------------------------------------------------------
def _rewrite_cell(path: Path, sheet: str, ref: str, xml: str) -> None:
    """Replace one cell's XML in a workbook saved by openpyxl (sheets are sheet1.xml... in order)."""
    part = f"xl/worksheets/sheet{openpyxl.load_workbook(path).sheetnames.index(sheet) + 1}.xml"
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    cell = re.compile(rf'<c r="{ref}"(?:[^>]*/>|[^>]*>.*?</c>)'.encode())
    parts[part], n = cell.subn(xml.encode(), parts[part], count=1)
    assert n == 1
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_shared_formula_in_an_input_cell(template, messy) -> None:
    amount = _cell(template, "opportunities", 1, "amount")
    path = messy("Opportunities", {amount: 5})
    _rewrite_cell(path, "Opportunities", amount, f'<c r="{amount}"><f t="shared" si="0"/><v>2</v></c>')
    result = read_plan(path, template=template)
    assert result.plan.tables["opportunities"][1]["amount"] is None
    f = _finding(result.findings, amount)
    assert f.message == "Amount: a formula where a value is expected; left blank"


def test_total_row_of_a_table_is_not_a_row(template, write, tmp_path) -> None:
    plan = new_plan(template, "en", client_name="Acme", kam="Jo")
    plan.tables["opportunities"] = [{"name": "Deal", "amount": 100, "stage": "proposal"}]
    book = openpyxl.load_workbook(write(plan))
    ws = book["Opportunities"]
    table = ws.tables["Opportunities"]
    anchor = table_anchor(template, "opportunities")
    total = anchor.data_row(template.table("opportunities").rows)
    last = col_letter(anchor.last_col)
    table.ref, table.totalsRowCount = f"A{anchor.header_row}:{last}{total}", 1
    ws[f"A{total}"] = "Total"
    ws[f"E{total}"] = "=SUBTOTAL(109,[Amount])"
    book.save(tmp_path / "total.xlsx")
    result = read_plan(tmp_path / "total.xlsx", template=template)
    assert [r["name"] for r in result.plan.tables["opportunities"]] == ["Deal"]
    assert result.findings == []


def test_a_field_row_deleted_is_not_read_from_the_table_below(template, tmp_path) -> None:
    """Four field rows deleted: the tables below moved up, the last fields' usual rows hold them."""
    fields = [(f.label["en"], None) for f in list(template.fields.values())[:-4]]
    contracts = [c.label["en"] for c in template.table("contracts").columns]
    rows = [["Master agreement", "All", "2024-01-01", None, None, 1000]]
    path = build(tmp_path / "f.xlsx", template, "en", {"contracts": (contracts, rows)}, fields, up=4)
    result = read_plan(path, template=template)
    assert result.plan.fields["nps"] is None
    assert result.plan.tables["contracts"][0]["contract"] == "Master agreement"
    assert not [f for f in result.findings if f.severity == "error" or "Contract" in f.message]


def test_blank_meta_values_are_blank(template, write) -> None:
    """A workbook source may give blank cells as None (Excel through xlwings does)."""
    path = write(new_plan(template, "en", client_name="Acme"))
    with zipfile.ZipFile(path) as archive:
        source = _FileSource(pc.CalamineWorkbook.from_path(str(path), load_tables=True), archive)
        grid = source.grid
        source.grid = (
            lambda name: [  # type: ignore[method-assign]
                [row[0], None] if name == "_kamxl" and row[:1] == ["account_id"] else row
                for row in grid(name)
            ]
        )
        result = read_plan_from_source(source, path, template=template)
    assert result.plan.account_id not in ("", "None")


def test_a_client_named_like_a_label_keeps_its_fields(tmp_path, template):
    """The title rows show the client's name: a client called "KAM" must not hide the KAM field."""
    plan = new_plan(template, "en", client_name="KAM", kam="Jane Doe")
    read = read_plan(write_plan(plan, tmp_path / "kam.xlsx", template=template))
    assert read.plan.fields["client_name"] == "KAM" and read.plan.fields["kam"] == "Jane Doe"
