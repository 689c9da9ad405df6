"""Bulk generation from CRM exports: reading exports, mappings, bad rows, files on disk, CLI."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner

from kamxl.commands.generate import command
from kamxl.crm import (
    CrmError,
    Mapping,
    generate_from_export,
    load_export,
    load_mapping,
    read_export,
    resolve_columns,
    sniff_delimiter,
)
from kamxl.reader import read_plan

FIXTURES = Path(__file__).parent / "fixtures" / "crm"
SGE = "Société Générale d'Équipement"

# -- export writers: the same accounts as each CRM's CSV (UTF-8 BOM), Excel-French CSV, .xlsx --
Cell = str | int | float | dt.date | None


def _csv_text(value: Cell, fmt: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat() if fmt == "bom" else value.strftime("%d/%m/%Y")
    if isinstance(value, (int, float)):
        return f"{value:,.2f}" if fmt == "bom" else f"{value:,.2f} €".replace(",", " ").replace(".", ",")
    return value


def _quote(text: str, delimiter: str) -> str:
    if any(ch in text for ch in (delimiter, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_export(path: Path, fmt: str, header: list[str], rows: list[list[Cell]]) -> Path:
    """``bom``: UTF-8 with BOM, comma; ``cp1252``: Windows-1252, semicolon; ``xlsx``: a workbook."""
    if fmt == "xlsx":
        wb = xlsxwriter.Workbook(str(path))
        ws = wb.add_worksheet("Export")
        dates = wb.add_format({"num_format": "dd/mm/yyyy"})
        ws.write_row(0, 0, header)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), dates)
                elif value is not None:
                    ws.write(r, c, value)
        wb.close()
        return path
    delimiter = "," if fmt == "bom" else ";"
    lines = [delimiter.join(_quote(h, delimiter) for h in header)]
    lines += [delimiter.join(_quote(_csv_text(v, fmt), delimiter) for v in row) for row in rows]
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8") if fmt == "bom" else text.encode("cp1252"))
    return path


SF_HEADER = [
    "Account Name", "Account ID", "Account Owner", "Industry", "Type", "Annual Revenue",
    "Billing Country", "Website", "Phone", "Customer Since", "Primary Contact",
]  # fmt: skip
SF_ROWS: list[list[Cell]] = [
    [SGE, "0015g00000SGEQPT", "Jeanne Martin", "Banking", "Customer - Direct", 1_250_000_000,
     "France", "www.sge.fr", "+33 1 00 00 00 00", dt.date(2019, 3, 15), "Éloïse Dupré"],
    ["Acme Industries", "0015g00000ACMEIN", "Tom Becker", "Entertainment", "Customer - Channel", 42_500_000.5,
     "Germany", "acme.example", "", dt.date(2021, 11, 2), ""],
    ["Nordic Freight AB", "0015g00000NORDIC", "Jeanne Martin", "Transportation", "Prospect", None,
     "Sweden", "", "", None, "Lars Nyström"],
]  # fmt: skip
HS_HEADER = [
    "Record ID", "Company name", "Company owner", "Industry", "Annual Revenue", "Country/Region",
    "Website URL", "Create Date", "Became a Customer Date", "Phone Number",
]  # fmt: skip
HS_ROWS: list[list[Cell]] = [
    ["9001", SGE, "Jeanne Martin", "Banking", 1_250_000_000, "France", "sge.fr",
     dt.date(2015, 1, 4), dt.date(2019, 3, 15), ""],
    ["9002", "Acme Industries", "Tom Becker", "Computer Software", 42_500_000.5, "Germany", "acme.example",
     dt.date(2020, 5, 1), dt.date(2021, 11, 2), ""],
    ["9003", "Nordic Freight AB", "Jeanne Martin", "Entertainment", None, "Sweden", "", None, None, ""],
]  # fmt: skip

EXPECTED = {
    "salesforce": {
        SGE: {"crm_id": "0015g00000SGEQPT", "kam": "Jeanne Martin", "sector": "finance", "country": "France",
              "website": "www.sge.fr", "client_revenue": 1_250_000_000, "client_since": dt.date(2019, 3, 15),
              "main_contact": "Éloïse Dupré", "annual_revenue": None},
        "Acme Industries": {"sector": "Entertainment", "client_revenue": 42_500_000.5, "main_contact": None},
        "Nordic Freight AB": {"sector": "transport", "client_revenue": None, "client_since": None,
                              "main_contact": "Lars Nyström", "website": None},
    },
    "hubspot": {
        SGE: {"crm_id": "9001", "kam": "Jeanne Martin", "sector": "finance", "country": "France",
              "website": "sge.fr", "client_revenue": 1_250_000_000, "client_since": dt.date(2019, 3, 15)},
        "Acme Industries": {"sector": "tech", "client_revenue": 42_500_000.5,
                            "client_since": dt.date(2021, 11, 2)},
        "Nordic Freight AB": {"sector": "Entertainment", "client_revenue": None, "client_since": None},
    },
}  # fmt: skip
STYLES = {"salesforce": (SF_HEADER, SF_ROWS), "hubspot": (HS_HEADER, HS_ROWS)}
SUFFIX = {"bom": ".csv", "cp1252": ".csv", "xlsx": ".xlsx"}


def read_fields(path: Path) -> dict[str, Any]:
    plan, findings = read_plan(path)
    assert [f for f in findings if f.severity == "error"] == []
    return plan.fields


# -- generation from each CRM and format ---------------------------------------------------------
@pytest.mark.parametrize("fmt", ["bom", "cp1252", "xlsx"])
@pytest.mark.parametrize("style", ["salesforce", "hubspot"])
def test_generate_maps_values_into_the_workbooks(tmp_path: Path, style: str, fmt: str) -> None:
    header, rows = STYLES[style]
    export = write_export(tmp_path / f"export{SUFFIX[fmt]}", fmt, header, rows)
    result = generate_from_export(export, tmp_path / "out", mapping=style)
    assert result.skipped == []
    assert sorted(p.name for p in result.generated) == sorted(f"{r[0 if style == 'salesforce' else 1]}.xlsm"
                                                             for r in rows)  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in result.generated)
    for name, expected in EXPECTED[style].items():
        fields = read_fields(tmp_path / "out" / f"{name}.xlsm")
        assert fields["client_name"] == name
        for key, value in expected.items():
            assert fields[key] == value, (name, key)


def test_values_sit_in_the_info_sheet_cells_of_the_layout(tmp_path: Path) -> None:
    export = write_export(tmp_path / "sf.csv", "cp1252", SF_HEADER, SF_ROWS[:1])
    [path] = generate_from_export(export, tmp_path, mapping="salesforce", lang="fr").generated
    info = openpyxl.load_workbook(path)["Infos"]
    cells = {info.cell(r, 1).value: info.cell(r, 2).value for r in range(4, 30)}
    assert cells["Nom du client"] == SGE
    assert cells["Secteur"] == "Banque & assurance"
    assert cells["CA du client"] == 1_250_000_000
    assert cells["Client depuis"] == dt.datetime(2019, 3, 15)
    assert cells["Responsable grand compte (KAM)"] == "Jeanne Martin"


def test_mapping_is_detected_when_not_given(tmp_path: Path) -> None:
    export = write_export(tmp_path / "hs.xlsx", "xlsx", HS_HEADER, HS_ROWS)
    result = generate_from_export(export, tmp_path / "out")
    assert result.mapping == "hubspot" and len(result.generated) == 3


def test_salesforce_report_export_with_footer(tmp_path: Path) -> None:
    rows, columns = load_export(FIXTURES / "salesforce_report.csv")
    assert columns[:3] == ["Account Name", "Account ID", "Account Owner"]
    assert [r.line for r in rows] == [2, 4, 5]  # the description of line 2 spans two lines
    result = generate_from_export(FIXTURES / "salesforce_report.csv", tmp_path, by_kam=True)
    assert result.skipped == []
    assert sorted(str(p.relative_to(tmp_path)) for p in result.generated) == [
        "Claire Fontaine/Helios Énergie SA.xlsm",
        "Claire Fontaine/Kestrel Biotech GmbH.xlsm",
        "Tom Becker/Brightline Retail Ltd.xlsm",
    ]
    fields = read_fields(tmp_path / "Claire Fontaine" / "Helios Énergie SA.xlsm")
    assert fields["client_revenue"] == 3_400_000_000 and fields["sector"] == "energy"


# -- reading exports ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "delimiter"),
    [
        (b"a,b,c\r\n1,2,3\r\n", ","),
        (b"a;b;c\n1;2,5;3\n", ";"),
        (b"a\tb\tc\n1\t2\t3\n", "\t"),
        (b"a|b|c\n1|2|3\n", "|"),
        (b'"Revenue, EUR";"Name";"Owner"\n1;2;3\n', ";"),
        (b"\r\n\r\na;b;c\r\n1;2;3\r\n", ";"),
    ],
)
def test_delimiters_are_detected(tmp_path: Path, raw: bytes, delimiter: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(raw)
    export = read_export(path)
    assert export.delimiter == delimiter
    assert len(export.columns) == 3 and len(export.rows[0].values) == 3


def test_data_rows_break_a_tie_in_the_header() -> None:
    assert sniff_delimiter("Name;Revenue, EUR;Owner,Team\nAcme;1,5;Ann\nBeta;2,5;Bob\n") == ";"
    assert sniff_delimiter("name\nAcme\n") == ","


@pytest.mark.parametrize(
    "encoded",
    [
        "Name;Ville\nSociété Générale;Nîmes\n".encode("cp1252"),
        "Name;Ville\nSociété Générale;Nîmes\n".encode(),
        b"\xef\xbb\xbf" + "Name;Ville\nSociété Générale;Nîmes\n".encode(),
        "Name;Ville\nSociété Générale;Nîmes\n".encode("utf-16"),
        "sep=;\nName;Ville\nSociété Générale;Nîmes\n".encode("cp1252"),
    ],
)
def test_encodings_are_detected(tmp_path: Path, encoded: bytes) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(encoded)
    rows, columns = load_export(path)
    assert columns == ["Name", "Ville"]
    assert rows[0].values == {"Name": "Société Générale", "Ville": "Nîmes"}


def test_xlsx_line_numbers_count_leading_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(2, 1, ["Account Name", "Annual Revenue"])
    ws.write_row(3, 1, ["Acme", 12.5])
    ws.write_row(5, 1, ["Beta", "n/a"])
    wb.close()
    rows, columns = load_export(path)
    assert columns == ["Account Name", "Annual Revenue"]
    assert [(r.line, r.values["Account Name"]) for r in rows] == [(4, "Acme"), (6, "Beta")]


def test_empty_export_and_garbage_fail_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\r\n\r\n")
    with pytest.raises(CrmError, match=r"empty\.csv: the export is empty"):
        load_export(empty)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CrmError, match=r"fake\.xlsx: cannot read the workbook"):
        load_export(fake)


# -- bad rows ---------------------------------------------------------------------------------------
BAD = (
    "Account Name,Account ID,Account Owner,Annual Revenue,Industry\r\n"  # line 1
    'Alpha SA,001A,Ann,"1,000",Retail\r\n'  # 2
    '"Beta\r\nHoldings",001B,Ann,2000,Retail\r\n'  # 3-4
    ",001C,Bob,3000,Retail\r\n"  # 5: no name
    "alpha  sa,001D,Bob,4000,Retail\r\n"  # 6: same name as line 2
    "Gamma,001A,Bob,5000,Retail\r\n"  # 7: same CRM id as line 2
    "Delta,001E,Bob,lots,Retail\r\n"  # 8: revenue not a number
    "\r\n"  # 9: blank line, ignored
    "Epsilon,001F,,6000,Retail,extra\r\n"  # 10: one cell too many
    "Zeta,001G,,,\r\n"  # 11: fine without --by-kam
)


def test_bad_rows_are_reported_with_line_numbers(tmp_path: Path) -> None:
    export = tmp_path / "bad.csv"
    export.write_text(BAD, encoding="utf-8", newline="")
    result = generate_from_export(export, tmp_path / "out", mapping="salesforce")
    assert sorted(p.name for p in result.generated) == ["Alpha SA.xlsm", "Beta Holdings.xlsm", "Zeta.xlsm"]
    skipped = {s.line: (s.account, s.reason) for s in result.skipped}
    assert sorted(skipped) == [5, 6, 7, 8, 10]
    assert skipped[5] == ("", "no account name (Account Name is empty)")
    assert skipped[6] == ("alpha sa", "duplicate of line 2 (same account name)")
    assert skipped[7] == ("Gamma", "duplicate of line 2 (same CRM id 001A)")
    assert skipped[8][0] == "Delta"
    assert re.fullmatch(r"Annual Revenue: .lots. is not a number", skipped[8][1])
    assert "6 cells where the header has 5" in skipped[10][1]


def test_by_kam_needs_an_owner(tmp_path: Path) -> None:
    export = tmp_path / "bad.csv"
    export.write_text(BAD, encoding="utf-8", newline="")
    result = generate_from_export(export, tmp_path, mapping="salesforce", by_kam=True)
    assert sorted(str(p.relative_to(tmp_path)) for p in result.generated) == [
        "Ann/Alpha SA.xlsm",
        "Ann/Beta Holdings.xlsm",
    ]
    assert {s.line: s.reason for s in result.skipped}[11].startswith(
        "no account owner (Account Owner is empty)"
    )
    no_owner = tmp_path / "no_owner.csv"
    no_owner.write_text("Account Name\nAcme\n", encoding="utf-8")
    with pytest.raises(CrmError, match="kam: 'Account Owner'"):
        generate_from_export(no_owner, tmp_path, mapping="salesforce", by_kam=True)


def test_file_names_are_safe_on_windows(tmp_path: Path) -> None:
    export = tmp_path / "names.csv"
    export.write_text('Account Name\nCON\n"A/B: ""C""?"\nTrailing dots...\nAUX.com\n', encoding="utf-8")
    result = generate_from_export(export, tmp_path / "out", mapping="salesforce")
    names = sorted(p.name for p in result.generated)
    assert names == ["A B C.xlsm", "Trailing dots.xlsm", "_AUX.com.xlsm", "_CON.xlsm"]
    assert read_fields(tmp_path / "out" / "A B C.xlsm")["client_name"] == 'A/B: "C"?'


def test_accounts_whose_file_names_collide_are_not_both_written(tmp_path: Path) -> None:
    export = tmp_path / "names.csv"
    export.write_text("Account Name\nA/B\nA:B\n", encoding="utf-8")
    result = generate_from_export(export, tmp_path, mapping="salesforce")
    assert [p.name for p in result.generated] == ["A B.xlsm"]
    assert result.skipped[0].line == 3 and "same file name A B.xlsm" in result.skipped[0].reason


# -- existing workbooks -------------------------------------------------------------------------------
def test_existing_workbooks_are_kept_unless_forced_then_backed_up(tmp_path: Path) -> None:
    export = write_export(tmp_path / "sf.csv", "bom", SF_HEADER, SF_ROWS[:2])
    out = tmp_path / "out"
    first = generate_from_export(export, out, mapping="salesforce")
    target = out / "Acme Industries.xlsm"
    before = target.read_bytes()

    again = generate_from_export(export, out, mapping="salesforce")
    assert again.generated == [] and [s.line for s in again.skipped] == [2, 3]
    assert all("already exists (use --force" in s.reason for s in again.skipped)
    assert target.read_bytes() == before

    forced = generate_from_export(export, out, mapping="salesforce", force=True)
    assert forced.generated == first.generated and forced.skipped == []
    assert len(forced.backups) == 2
    backup = next(b for b in forced.backups if b.name.startswith("Acme Industries.bak-"))
    assert backup.parent == out and backup.read_bytes() == before
    assert target.read_bytes() != before
    assert read_fields(target)["client_name"] == "Acme Industries"


# -- mappings ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mapping_file", ["pipedrive_mapping.toml", "pipedrive_mapping.yaml"])
def test_user_mapping_file(tmp_path: Path, mapping_file: str) -> None:
    mapping = load_mapping(FIXTURES / mapping_file)
    assert mapping.name == "pipedrive" and mapping.required == ("client_name", "kam")
    result = generate_from_export(FIXTURES / "pipedrive_organizations.tsv", tmp_path, mapping=mapping)
    assert sorted(p.name for p in result.generated) == ["Orbital Foods.xlsm", "Quanta Soft.xlsm"]
    fields = read_fields(tmp_path / "Orbital Foods.xlsm")
    assert fields["crm_id"] == "101" and fields["kam"] == "Nadia Benali"
    assert fields["sector"] == "agrifood" and fields["country"] == "Morocco"
    assert fields["client_revenue"] == 120_000_000 and fields["annual_revenue"] == 450_000
    assert fields["executive_sponsor"] == "Paul Girard"
    assert read_fields(tmp_path / "Quanta Soft.xlsm")["sector"] == "tech"


def test_user_mapping_can_extend_a_builtin(tmp_path: Path) -> None:
    path = tmp_path / "ours.toml"
    path.write_text(
        'extends = "salesforce"\nname = "ours"\n[fields]\nannual_revenue = "Revenue with us"\n'
        '[values.sector]\n"Entertainment" = "Media & entertainment"\n',
        encoding="utf-8",
    )
    mapping = load_mapping(path)
    assert mapping.fields["client_name"] == ("Account Name", "Name")
    assert mapping.translate("sector", "entertainment") == "Media & entertainment"
    assert mapping.translate("sector", "BANKING") == "finance"
    export = tmp_path / "x.csv"
    export.write_text(
        "Account Name;Revenue with us;Industry\nAcme;12 500,50;Entertainment\n", encoding="cp1252"
    )
    [plan_path] = generate_from_export(export, tmp_path / "out", mapping=path).generated
    fields = read_fields(plan_path)
    assert fields["annual_revenue"] == 12500.5 and fields["sector"] == "Media & entertainment"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[fields]\nclient_name = "Name"\nshoe_size = "Size"\n', "'shoe_size' is not a form field"),
        ('[fields]\nclient_name = ["Name", 3]\n', "fields.client_name: must be a column name"),
        ("[fields]\n", "needs a \\[fields\\] table"),
        ('[fields\nclient_name = "Name"\n', "not a valid mapping file"),
        ('extends = "zoho"\n[fields]\n', "extends: must be one of salesforce, hubspot"),
        ('required = ["kam"]\n[fields]\nclient_name = "Name"\n', "required field 'kam' has no column"),
    ],
)
def test_bad_mapping_files_fail_with_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    export = tmp_path / "x.csv"
    export.write_text("Name\nAcme\n", encoding="utf-8")
    with pytest.raises(CrmError, match=message) as info:
        generate_from_export(export, tmp_path, mapping=path)
    assert "bad.toml" in str(info.value)
    assert not list(tmp_path.glob("*.xlsx"))


def test_header_matching_ignores_case_spaces_and_punctuation() -> None:
    mapping = Mapping("m", {"client_name": ("Account Name",), "country": ("Country/Region",)})
    resolved = resolve_columns(mapping, ["ACCOUNT_NAME ", "country region"])
    assert resolved.columns == {"client_name": "ACCOUNT_NAME ", "country": "country region"}


def test_missing_required_column_lists_found_and_expected(tmp_path: Path) -> None:
    export = write_export(tmp_path / "hs.csv", "bom", HS_HEADER, HS_ROWS)
    with pytest.raises(CrmError) as info:
        generate_from_export(export, tmp_path / "out", mapping="salesforce")
    message = str(info.value)
    assert "hs.csv" in message and "client_name: 'Account Name' or 'Name'" in message
    assert "Columns found: 'Record ID', 'Company name'" in message
    assert not (tmp_path / "out").exists()


# -- command line -------------------------------------------------------------------------------------
def test_cli_closing_line_and_skipped_rows(tmp_path: Path) -> None:
    export = tmp_path / "bad.csv"
    export.write_text(BAD, encoding="utf-8", newline="")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        command, [str(export), "-o", str(out), "--mapping", "salesforce", "--no-macros"]
    )
    assert result.exit_code == 1, result.output  # done, but rows were skipped
    assert result.stdout.strip().splitlines()[-1] == (
        f"Generated 3 workbook(s), skipped 5 row(s); output folder: {out}"
    )
    assert sorted(p.suffix for p in out.iterdir()) == [".xlsx"] * 3  # macro-free, as asked
    assert re.search(r"^line 8: Delta: Annual Revenue: .lots. is not a number$", result.stderr, re.M)
    assert "Generating" not in result.stderr  # no progress bar when stderr is not a terminal


def test_cli_json(tmp_path: Path) -> None:
    export = write_export(tmp_path / "hs.xlsx", "xlsx", HS_HEADER, HS_ROWS)
    out = tmp_path / "out"
    args = [str(export), "-o", str(out), "--mapping", "hubspot", "--lang", "fr", "--by-kam", "--json"]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["output"] == str(out) and data["mapping"] == "hubspot"
    assert sorted(data["generated"]) == sorted(
        str(out / kam / f"{name}.xlsm")
        for kam, name in [("Jeanne Martin", SGE), ("Tom Becker", "Acme Industries"),
                          ("Jeanne Martin", "Nordic Freight AB")]
    )  # fmt: skip
    assert data["skipped"] == [] and data["backups"] == []
    plan, _ = read_plan(out / "Tom Becker" / "Acme Industries.xlsm")
    assert plan.lang == "fr"

    again = json.loads(CliRunner().invoke(command, args).stdout)
    assert again["generated"] == []
    assert [s["line"] for s in again["skipped"]] == [2, 3, 4]
    assert set(again["skipped"][0]) == {"line", "account", "reason"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "does not exist"),
        (["{export}", "--mapping", "zoho"], "zoho: no such mapping"),
        (["{export}", "--mapping", "hubspot"], "missing required column"),
        (["{export}", "--by-kam"], "kam: 'Account Owner'"),
        (["{export}", "--mapping", "salesforce", "--template", "{export}"], "invalid template"),
    ],
)
def test_cli_exit_code_2_when_the_run_cannot_start(tmp_path: Path, args: list[str], message: str) -> None:
    export = tmp_path / "x.csv"
    export.write_text("Account Name\nAcme\n", encoding="utf-8")
    argv = [a.format(export=export) for a in args] + ["-o", str(tmp_path / "out")]
    result = CliRunner().invoke(command, argv)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_an_export_no_builtin_mapping_fits(tmp_path: Path) -> None:
    export = tmp_path / "other.csv"
    export.write_text("Organisation;Responsable\nAcme;Ann\n", encoding="utf-8")
    with pytest.raises(CrmError, match=r"no built-in mapping fits.*Columns found: 'Organisation'"):
        generate_from_export(export, tmp_path)
