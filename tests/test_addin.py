"""The button entry points against xlwings itself: its remote engine, fed a generated workbook.

``xw.Book(json=...)`` is the engine behind xlwings Server and xlwings Lite: it takes the book
as the Office.js client sends it (sheets with their values from A1, tables, defined names) and
records what the code does as a list of actions for the client to apply. These tests build
that JSON from a workbook written by kamxl, run ``recompute()`` and ``rollup()`` on it, and
check the actions put the right values in the right cells.

The remote payload carries values, not formulas (the Office.js client fetches those on demand),
whereas desktop Excel answers ``range.formula`` directly. The ``formulas`` fixture gives the
remote Range the formulas of the workbook file, so the formula-restoring path runs as on a desktop.

xlwings' remote engine lives in ``xlwings.pro`` (PolyForm Noncommercial): the licence key is
set for this test process only. Without xlwings the tests skip, unless KAMXL_REQUIRE_XLWINGS=1
(CI), where they fail.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest

from kamxl import addin
from kamxl.alerts import plan_alerts
from kamxl.health import check_plan
from kamxl.layout import a1, table_anchor
from kamxl.reader import read_plan
from kamxl.scoring import score_plan
from kamxl.writer import write_plan

from .plan_factory import random_plan

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 6, 15)
NOW = dt.datetime(2026, 6, 15, 9, 30)


# -- the remote engine ------------------------------------------------------------------------------
@pytest.fixture
def remote(monkeypatch):
    """xlwings' remote engine module, with the noncommercial licence set for this process only."""
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    try:
        import xlwings  # noqa: F401
        from xlwings.pro import _xlremote
    except ImportError as exc:
        if os.environ.get("KAMXL_REQUIRE_XLWINGS") == "1":
            pytest.fail(f"xlwings' remote engine is required here: {exc}")
        pytest.skip(f"xlwings' remote engine is not available: {exc}")
    return _xlremote


def _iso(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _json_value(value: Any) -> Any:
    """A cell value as the Office.js client sends it: "" for blank, dates as ISO text."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return _iso(value)
    if isinstance(value, dt.date):
        return _iso(dt.datetime.combine(value, dt.time()))
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def _address(r1: int, c1: int, r2: int, c2: int) -> str:
    """0-based rows and columns to an absolute A1 range."""
    from kamxl.layout import col_letter

    return f"${col_letter(c1)}${r1 + 1}:${col_letter(c2)}${r2 + 1}"


def book_json(path: Path, xlwings_version: str) -> tuple[dict[str, Any], dict[str, list[list[str]]]]:
    """The remote engine's book JSON for a workbook file, and each sheet's formulas (A1 on)."""
    values_wb = openpyxl.load_workbook(path, data_only=True)
    formulas_wb = openpyxl.load_workbook(path)
    sheets, formulas = [], {}
    index = {ws.title: i for i, ws in enumerate(values_wb.worksheets)}
    for ws, wf in zip(values_wb.worksheets, formulas_wb.worksheets, strict=True):
        rows, cols = ws.max_row, ws.max_column
        values = [[_json_value(ws.cell(r, c).value) for c in range(1, cols + 1)] for r in range(1, rows + 1)]
        formulas[ws.title] = [
            [
                "" if (v := wf.cell(r, c).value) is None else v if isinstance(v, str) else str(v)
                for c in range(1, cols + 1)
            ]
            for r in range(1, rows + 1)
        ]
        tables = []
        for table in wf.tables.values():
            r1, c1, r2, c2 = addin.parse_address(table.ref)
            totals = bool(table.totalsRowCount)
            tables.append(
                {
                    "name": table.name,
                    "range_address": _address(r1, c1, r2, c2),
                    "header_row_range_address": _address(r1, c1, r1, c2),
                    "data_body_range_address": _address(r1 + 1, c1, r2 - totals, c2),
                    "total_row_range_address": _address(r2, c1, r2, c2) if totals else None,
                    "show_headers": True,
                    "show_totals": totals,
                    "table_style": table.tableStyleInfo.name if table.tableStyleInfo else "",
                    "show_autofilter": True,
                }
            )
        state = {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}[ws.sheet_state]
        sheets.append(
            {"name": ws.title, "values": values, "tables": tables, "pictures": [], "visibility": state}
        )
    names = []
    for name, defined in formulas_wb.defined_names.items():
        dests = list(defined.destinations)
        if len(dests) != 1:
            continue
        sheet, ref = dests[0]
        names.append(
            {
                "name": name,
                "sheet_index": index[sheet],
                "address": ref.replace("$", ""),
                "book_scope": True,
                "scope_sheet_name": None,
                "scope_sheet_index": None,
            }
        )
    payload = {
        "client": "Office.js",
        "version": xlwings_version,
        "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
        "names": names,
        "sheets": sheets,
    }
    return json.loads(json.dumps(payload)), formulas


def open_remote(remote, monkeypatch, path: Path) -> Any:
    """A public-API xlwings Book on the remote engine, returned by ``xw.Book.caller()``."""
    import xlwings as xw

    payload, formulas = book_json(path, xw.__version__)
    impl = remote.App(remote.Apps(), add_book=False).books.open(payload)
    book = xw.Book(impl=impl)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))

    def formula(self: Any) -> Any:  # what desktop Excel answers for range.formula
        grid = formulas[self.sheet.name]
        (r1, c1), (r2, c2) = self.arg1, self.arg2 or self.arg1
        rows = [
            tuple(grid[r][c] if r < len(grid) and c < len(grid[r]) else "" for c in range(c1 - 1, c2))
            for r in range(r1 - 1, r2)
        ]
        return rows[0][0] if (r1, c1) == (r2, c2) else tuple(rows)

    monkeypatch.setattr(remote.Range, "formula", property(formula, remote.Range.formula.fset))
    return book


def actions(book: Any) -> list[dict[str, Any]]:
    return book.impl.json()["actions"]


def writes(book: Any) -> dict[tuple[int, int, int], Any]:
    """Every cell a value or formula action writes: (sheet index, row, col) 0-based -> value."""
    cells: dict[tuple[int, int, int], Any] = {}
    for action in actions(book):
        if action["func"] not in ("setValues", "setFormula"):
            continue
        for i, row in enumerate(action["values"]):
            for j, value in enumerate(row):
                cells[(action["sheet_position"], action["start_row"] + i, action["start_column"] + j)] = value
    return cells


def shown(value: Any) -> Any:
    """A written value as Excel shows it (the apostrophe that keeps text as text is not shown)."""
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


# -- a workbook to press the button in ---------------------------------------------------------------
@pytest.fixture(scope="module")
def account(tmp_path_factory, template) -> Path:
    plan = random_plan(template, 11, lang="en", fullness=1.0)
    plan.fields["last_review"] = AS_OF - dt.timedelta(days=200)  # a stale plan: an error finding
    return write_plan(plan, tmp_path_factory.mktemp("acct") / "Acme.xlsm", template=template)


def sheet_index(book: Any, name: str) -> int:
    return [s.name for s in book.sheets].index(name)


def test_recompute_writes_python_scores_findings_and_stamp(remote, monkeypatch, account, template):
    book = open_remote(remote, monkeypatch, account)
    addin.recompute(as_of=AS_OF, now=NOW)
    assert not [a for a in actions(book) if a["func"] == "alert"], actions(book)

    result = read_plan(account)
    scores = score_plan(result.plan, template, AS_OF)
    expected = [
        *result.findings,
        *check_plan(result.plan, template, scores, AS_OF, locations=result.locations),
    ]
    cells = writes(book)
    dash = sheet_index(book, "Dashboard")
    top, left = (r - 1 for r in addin.BLOCK_ANCHOR)
    block = {(r - top, c - left): shown(v) for (s, r, c), v in cells.items() if s == dash}

    assert block[(0, 0)] == "Recompute & check (Python)"
    assert block[(1, 1)] == "2026-06-15 09:30"
    labels = {block[(r, 0)]: r for r in range(3, 3 + len(addin.BLOCK_METRICS))}
    overall = labels["Overall score"]
    assert block[(overall, 1)] == "=Score_Overall"
    assert block[(overall, 2)] == pytest.approx(scores.overall)
    assert block[(labels["Tier"], 2)] == template.tier_label(scores.tier, "en")
    assert block[(labels["Weighted pipeline"], 2)] == pytest.approx(scores.figures.weighted_pipeline)

    rows = {(block.get((r, 1)), block.get((r, 3))): r for r in range(len(block)) if (r, 3) in block}
    assert expected, "the plan should have findings"
    for finding in expected:
        r = rows[(finding.sheet, finding.message)]
        assert block[(r, 0)] == finding.severity
        target = "#'" + finding.sheet.replace("'", "''") + "'!" + finding.cell
        assert block[(r, 2)] == f'=HYPERLINK("{target}","{finding.cell}")'
    assert any(f.severity == "error" and "not reviewed" in f.message for f in expected)
    assert f"Findings: {len(expected)}" in {block.get((r, 0)) for r in range(len(block))}
    # the status beside its live formula, then each alert linked to its cell, before the findings
    status = labels["Status"]
    assert block[(status, 1)] == "=Account_Status"
    assert block[(status, 2)] == template.status[scores.status]["label"]["en"] != ""
    alerts = plan_alerts(result.plan, template, scores, AS_OF, locations=result.locations)
    assert [a.code for a in alerts] == list(scores.alerts) and "plan_stale" in scores.alerts
    heading = f"Alerts: {len(alerts)} (status: {block[(status, 2)]})"
    (top_alerts,) = [r for r in range(len(block)) if block.get((r, 0)) == heading]
    for i, alert in enumerate(alerts):
        r = top_alerts + 2 + i
        target = "#'" + alert.sheet.replace("'", "''") + "'!" + alert.cell
        assert [block.get((r, c)) for c in range(4)] == [
            alert.severity,
            alert.sheet,
            f'=HYPERLINK("{target}","{alert.cell}")',
            f"{alert.label}: {alert.message}",
        ]
    assert top_alerts < min(rows[(f.sheet, f.message)] for f in expected)
    links = [r for r in range(len(block)) if str(block.get((r, 2))).startswith("=HYPERLINK")]
    # nothing more: e.g. the metadata sheet was read without trouble
    assert len(links) == len(expected) + len(alerts)


def input_cells(template, book: Any) -> set[tuple[int, int, int]]:
    """Every input cell of the workbook's tables and forms, as (sheet index, row, col) 0-based."""
    cells = set()
    for key, table in template.tables.items():
        anchor = table_anchor(template, key)
        sheet = sheet_index(book, template.table_sheet(key).title["en"])
        for i, col in enumerate(table.columns):
            if col.is_input:
                cells |= {
                    (sheet, r, anchor.first_col + i)
                    for r in range(anchor.header_row, anchor.header_row + 400)
                }
    return cells


def test_recompute_restores_a_formula_typed_over_and_touches_no_input(
    remote, monkeypatch, account, template, tmp_path
):
    # A KAM typed 12 over the second risk's Score and cleared the first opportunity's Weighted.
    wb = openpyxl.load_workbook(account, keep_vba=True)
    risks, opps = template.table("risks"), template.table("opportunities")
    risk_anchor, opp_anchor = table_anchor(template, "risks"), table_anchor(template, "opportunities")
    score_col = risk_anchor.first_col + [c.key for c in risks.columns].index("score")
    weighted_col = opp_anchor.first_col + [c.key for c in opps.columns].index("weighted")
    score_cell = a1(risk_anchor.data_row(1), score_col)
    weighted_cell = a1(opp_anchor.data_row(0), weighted_col)
    wb["Risks"][score_cell] = 12
    wb["Opportunities"][weighted_cell] = None
    # ... and, after lifting the Dashboard's protection, typed 99 over the overall score.
    ((dash_title, overall_ref),) = wb.defined_names["Score_Overall"].destinations
    overall_cell = overall_ref.replace("$", "")
    overall_formula = wb[dash_title][overall_cell].value
    assert overall_formula.startswith("=")
    wb[dash_title][overall_cell] = 99
    edited = tmp_path / "edited.xlsm"
    wb.save(edited)

    book = open_remote(remote, monkeypatch, edited)
    addin.recompute(as_of=AS_OF, now=NOW)
    formula_actions = [a for a in actions(book) if a["func"] == "setFormula"]
    restored = {
        (book.sheets[a["sheet_position"]].name, a1(a["start_row"] + 1, a["start_column"])): a["values"][0][0]
        for a in formula_actions
    }
    from kamxl.writer import table_formula

    assert restored == {
        ("Risks", score_cell): table_formula(template, risks, risks.column("score").formula, "en"),
        ("Opportunities", weighted_cell): table_formula(
            template, opps, opps.column("weighted").formula, "en"
        ),
        (dash_title, overall_cell): overall_formula,
    }
    messages = {(shown(v)) for (s, r, c), v in writes(book).items() if isinstance(v, str)}
    assert any("12 had been typed over the formula" in m for m in messages)
    assert any(m.startswith("Overall score: 99 had been typed over") for m in messages)
    touched = set(writes(book))
    assert not touched & input_cells(template, book)
    dash = sheet_index(book, "Dashboard")
    assert {s for s, _, _ in touched} <= {
        dash,
        sheet_index(book, "Risks"),
        sheet_index(book, "Opportunities"),
        sheet_index(book, "Org chart"),  # redrawn from the stakeholders on every Recompute
    }


def test_recompute_leaves_a_table_with_a_renamed_header_alone(
    remote, monkeypatch, account, template, tmp_path
):
    # Excel renames references when a header is edited: the template's formula would now be wrong.
    wb = openpyxl.load_workbook(account, keep_vba=True)
    anchor = table_anchor(template, "risks")
    keys = [c.key for c in template.table("risks").columns]
    wb["Risks"][a1(anchor.header_row, anchor.first_col + keys.index("impact"))] = "Severity 1-5"
    wb["Risks"][a1(anchor.data_row(0), anchor.first_col + keys.index("score"))] = 3
    edited = tmp_path / "renamed.xlsm"
    wb.save(edited)
    book = open_remote(remote, monkeypatch, edited)
    addin.recompute(as_of=AS_OF, now=NOW)
    assert not [a for a in actions(book) if a["func"] in ("setFormula", "alert")]


def test_recompute_in_a_french_workbook(remote, monkeypatch, template, tmp_path):
    plan = random_plan(template, 5, lang="fr", fullness=1.0)
    path = write_plan(plan, tmp_path / "Client.xlsm", template=template)
    book = open_remote(remote, monkeypatch, path)
    addin.recompute(as_of=AS_OF, now=NOW)
    cells = {(r, c): v for (s, r, c), v in writes(book).items() if s == sheet_index(book, "Tableau de bord")}
    top, left = (r - 1 for r in addin.BLOCK_ANCHOR)
    assert shown(cells[(top, left)]) == "Recalcul et vérification (Python)"
    links = [v for v in cells.values() if isinstance(v, str) and v.startswith("=HYPERLINK")]
    assert any(v.startswith("=HYPERLINK(\"#'Plan d''action'!") for v in links), links
    assert any(str(shown(v)).startswith("Alertes\u00a0: ") for v in cells.values())


def test_recompute_reads_unsaved_values_not_the_file(remote, monkeypatch, account, template):
    book = open_remote(remote, monkeypatch, account)
    # An edit made in Excel and not saved: the payload has it, the file does not.
    anchor = table_anchor(template, "risks")
    sheet = book.sheets["Risks"].impl.api
    row = sheet["values"][anchor.data_row(0) - 1]
    keys = [c.key for c in template.table("risks").columns]
    edit = {
        "risk": "Unsaved supplier switch",
        "probability": 5.0,
        "impact": 5.0,
        "mitigation": "",
        "status": "Open",
    }
    for key, value in edit.items():  # a high risk nobody mitigates
        row[anchor.first_col + keys.index(key)] = value
    assert "Unsaved supplier switch" not in {
        c.value for r in openpyxl.load_workbook(account)["Risks"] for c in r
    }
    addin.recompute(as_of=AS_OF, now=NOW)
    messages = [shown(v) for v in writes(book).values() if isinstance(v, str)]
    assert 'High risk "Unsaved supplier switch" (score 25/25) has no mitigation' in messages


def test_a_table_total_row_is_not_read_as_a_row(remote, monkeypatch, template, tmp_path):
    from kamxl.layout import col_letter
    from kamxl.model import new_plan
    from kamxl.reader import read_plan_from_source

    plan = new_plan(template, "en", client_name="Acme", kam="Jo")
    plan.tables["opportunities"] = [{"name": "Deal", "amount": 100, "stage": "proposal"}]
    book = openpyxl.load_workbook(write_plan(plan, tmp_path / "t.xlsm", template=template), keep_vba=True)
    anchor = table_anchor(template, "opportunities")
    total = anchor.data_row(template.table("opportunities").rows)
    table = book["Opportunities"].tables["Opportunities"]
    table.ref, table.totalsRowCount = f"A{anchor.header_row}:{col_letter(anchor.last_col)}{total}", 1
    book["Opportunities"][f"A{total}"] = "Total"
    book.save(tmp_path / "total.xlsm")

    remote_book = open_remote(remote, monkeypatch, tmp_path / "total.xlsm")
    result = read_plan_from_source(addin.XlwingsSource(remote_book), tmp_path / "total.xlsm")
    assert [r["name"] for r in result.plan.tables["opportunities"]] == ["Deal"]


def test_errors_reach_the_user_as_a_message_box(remote, monkeypatch, tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "not a plan"
    path = tmp_path / "other.xlsx"
    wb.save(path)
    book = open_remote(remote, monkeypatch, path)
    addin.recompute()
    (alert,) = [a for a in actions(book) if a["func"] == "alert"]
    message = alert["args"][0]
    assert "kamxl could not recompute this workbook" in message and "Traceback" not in message
    assert alert["args"][1] == "kamxl"


# -- the roll-up ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def portfolio(tmp_path_factory, template) -> tuple[Path, Path]:
    """A summary made from two plans, and its folder now holding a third."""
    from kamxl.rollup import rollup as library_rollup

    root = tmp_path_factory.mktemp("portfolio")
    plans = root / "plans"
    plans.mkdir()
    for seed in (1, 2):
        write_plan(
            random_plan(template, seed, lang="en", fullness=1.0), plans / f"A{seed}.xlsx", template=template
        )
    summary = library_rollup(plans, output=root / "summary.xlsx", history=False, jobs=1, as_of=AS_OF).output
    third = random_plan(template, 3, lang="en", fullness=1.0)
    third.fields["client_name"] = "Zeta Newcomer"
    write_plan(third, plans / "A3.xlsx", template=template)
    return summary, plans


def test_rollup_writes_the_new_accounts_into_the_open_summary(remote, monkeypatch, portfolio):
    summary, _ = portfolio
    book = open_remote(remote, monkeypatch, summary)
    addin.rollup(as_of=AS_OF, jobs=1, history=False)
    assert not [a for a in actions(book) if a["func"] == "alert"], actions(book)

    accounts = book.sheets["Accounts"]
    (resize,) = [
        a for a in actions(book) if a["func"] == "resizeTable" and a["sheet_position"] == accounts.index - 1
    ]
    r1, _, r2, _ = addin.parse_address(resize["args"][1])
    assert r2 - r1 == 3  # header and three accounts
    cells = writes(book)
    names = {shown(v) for (s, r, c), v in cells.items() if s == accounts.index - 1 and r1 < r <= r2}
    assert "Zeta Newcomer" in names
    folder_name = book.names["Source_Folder"].refers_to_range
    assert (
        book.sheets[folder_name.sheet.name].index - 1,
        folder_name.row - 1,
        folder_name.column - 1,
    ) not in cells
    overview = book.sheets[0].index - 1
    assert any(s == overview and v == 3 for (s, r, c), v in cells.items())  # the accounts tile


def test_rollup_without_a_folder_says_what_to_do(remote, monkeypatch, portfolio, tmp_path):
    summary, _ = portfolio
    book = open_remote(remote, monkeypatch, summary)
    ref = book.names["Source_Folder"].refers_to_range
    book.sheets[ref.sheet.name].impl.api["values"][ref.row - 1][ref.column - 1] = str(tmp_path / "nowhere")
    addin.rollup(jobs=1, history=False)
    (alert,) = [a for a in actions(book) if a["func"] == "alert"]
    assert "does not exist" in alert["args"][0] and "nowhere" in alert["args"][0]


# -- units ---------------------------------------------------------------------------------------------
def test_excel_and_file_spellings_of_a_table_formula_compare_equal():
    file_form = (
        '=IF(ISNUMBER(KPIs[[#This Row],[Attainment]]),IF(KPIs[[#This Row],[Attainment]]>=1.0,"G","R"),"")'
    )
    excel_form = '=IF(ISNUMBER([@Attainment]),IF([@Attainment]>=1,"G","R"),"")'
    assert addin.canonical_formula(file_form, "KPIs") == addin.canonical_formula(excel_form, "KPIs")
    spaced = "=IF(AND(ISNUMBER(Risks[[#This Row],[Probability 1-5]])),1,0)"
    assert addin.canonical_formula(spaced, "Risks") == addin.canonical_formula(
        "=IF(AND(ISNUMBER([@[Probability 1-5]])),1,0)", "Risks"
    )
    assert addin.canonical_formula('=IF([@A]="x  y",1,0)', "T") != addin.canonical_formula(
        '=IF([@A]="x y",1,0)', "T"
    )
    assert addin.canonical_formula("=[@A]*2", "T") != addin.canonical_formula("=[@A]*3", "T")


def test_text_cells_are_not_taken_for_formulas():
    assert addin.is_formula("=A1+1", 3.0)
    assert not addin.is_formula("=not a formula", "=not a formula")
    assert not addin.is_formula("plain", "plain")


class FakeComSheet:
    """What pywin32 shows of a protected worksheet: enough for the protection round trip."""

    Name = "Risks"
    ProtectDrawingObjects = True
    ProtectScenarios = True

    def __init__(self, allow: dict[str, bool]) -> None:
        self.ProtectContents = True
        self.Protection = SimpleNamespace(**allow)
        self.calls: list[tuple[Any, ...]] = []

    def Unprotect(self, password: str) -> None:  # COM names
        self.calls.append(("Unprotect", password))
        self.ProtectContents = False

    def Protect(self, *args: Any) -> None:
        self.calls.append(("Protect", *args))


def test_windows_protection_is_lifted_and_put_back_as_it_was():
    allow = {
        name: name in ("AllowFormattingColumns", "AllowSorting", "AllowInsertingHyperlinks")
        for name in addin._ALLOW
    }
    api = FakeComSheet(allow)
    excel = SimpleNamespace(engine=SimpleNamespace(name="excel"))
    sheet = SimpleNamespace(api=api, book=SimpleNamespace(app=excel))
    with addin.unprotected(sheet, platform="win32"):
        api.calls.append(("write",))
    assert [c[0] for c in api.calls] == ["Unprotect", "write", "Protect"]
    assert api.calls[2] == ("Protect", "", True, True, True, False, *allow.values())
    remote = SimpleNamespace(
        api={}, book=SimpleNamespace(app=SimpleNamespace(engine=SimpleNamespace(name="remote")))
    )
    with addin.unprotected(remote):
        pass  # no protection API on the remote engine: nothing to call


class FakeAppleEvent:
    """An appscript property reference: its value comes with ``.get()``."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self) -> Any:
        return self.value


class FakeMacSheet:
    """What appscript shows of a protected worksheet, named as in xlwings' Excel dictionary."""

    def __init__(self, allow: dict[str, bool], params: set[str]) -> None:
        self.protect_contents = FakeAppleEvent(True)
        self.protect_drawing_objects = FakeAppleEvent(True)
        self.protect_scenarios = FakeAppleEvent(False)
        self.protection_object = SimpleNamespace(**{k: FakeAppleEvent(v) for k, v in allow.items()})
        self.params = params
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def unprotect(self, **params: Any) -> None:
        self.calls.append(("unprotect", params))

    def protect_worksheet(self, **params: Any) -> None:
        assert set(params) <= self.params, set(params) - self.params  # appscript refuses other names
        self.calls.append(("protect_worksheet", params))


def test_mac_protection_is_lifted_and_put_back_as_it_was():
    mac_dict = pytest.importorskip("xlwings.mac_dict")
    (params,) = [dict(c[2]) for c in mac_dict.commands if c[0] == "protect_worksheet"]
    properties = {name for name, _ in mac_dict.properties}
    assert "protection_object" in properties
    allow = {name: name == "allow_sorting" for name in params if name.startswith("allow_")}
    assert len(allow) == len(addin._ALLOW) and set(allow) <= properties
    api = FakeMacSheet(allow, set(params))
    excel = SimpleNamespace(engine=SimpleNamespace(name="excel"))
    with addin.unprotected(SimpleNamespace(api=api, book=SimpleNamespace(app=excel)), platform="darwin"):
        api.calls.append(("write", {}))
    assert api.calls == [
        ("unprotect", {"password": ""}),
        ("write", {}),
        (
            "protect_worksheet",
            {
                "password": "",
                "drawing_objects": True,
                "worksheet_contents": True,
                "scenarios": False,
                **allow,
            },
        ),
    ]


Grid = list[list[Any]]


class FakeDesktopRange:
    """A sheet's cells as xlwings' desktop engines hand them over (values read from A1).

    ``values`` hold error values as Windows gives them (a number) or macOS does (None, with
    the shown text in ``texts``). On macOS, xlwings' ``err_to_str`` fails on several rows,
    a single row comes as a flat list, and so does its formula text.
    """

    def __init__(self, values: Grid, formulas: Grid, mac: bool, texts: Grid | None = None) -> None:
        self.values, self.formulas, self.mac = values, formulas, mac
        flat = mac and len(values) == 1
        self.api = SimpleNamespace(string_value=FakeAppleEvent(texts[0] if flat and texts else texts))
        self.formula = formulas[0] if flat else tuple(tuple(row) for row in formulas)

    def options(self, **options: Any) -> Any:
        if self.mac and options.get("err_to_str") and len(self.values) > 1:
            raise TypeError("'NoneType' object is not iterable")
        return SimpleNamespace(value=[list(row) for row in self.values])


def desktop_book(sheets: dict[str, FakeDesktopRange]) -> Any:
    def sheet(name: str, rng: FakeDesktopRange) -> Any:
        last = SimpleNamespace(row=len(rng.values), column=len(rng.values[0]))
        return SimpleNamespace(
            name=name, used_range=SimpleNamespace(last_cell=last), range=lambda *a: rng, tables=[]
        )

    excel = SimpleNamespace(engine=SimpleNamespace(name="excel"))
    return SimpleNamespace(sheets=[sheet(n, r) for n, r in sheets.items()], app=excel)


def test_windows_error_values_newer_than_xlwings_are_read_as_errors():
    spill = FakeDesktopRange([["Score"], [-2146826243]], [["Score"], ["=SEQUENCE(3)"]], mac=False)
    source = addin.XlwingsSource(desktop_book({"Risks": spill}), platform="win32")
    assert source.grid("Risks") == [["Score"], [None]]
    assert source.flags("Risks") == {(1, 0): ("error", "#SPILL!")}


def test_mac_values_error_values_and_single_row_formulas():
    table = FakeDesktopRange(
        [["Risk", "Score"], ["Late delivery", None]],
        [["Risk", "Score"], ["Late delivery", "=1/0"]],
        mac=True,
        texts=[["Risk", "Score"], ["Late delivery", "#DIV/0!"]],
    )
    line = FakeDesktopRange([["Title", 2.0]], [["Title", "=1+1"]], mac=True, texts=[["Title", "2"]])
    source = addin.XlwingsSource(desktop_book({"Risks": table, "Notes": line}), platform="darwin")
    assert source.grid("Risks") == [["Risk", "Score"], ["Late delivery", None]]
    assert source.flags("Risks") == {(1, 1): ("error", "#DIV/0!")}
    assert source.formulas("Notes") == [["Title", "=1+1"]]
    assert source.flags("Notes") == {(0, 1): ("formula", "=1+1")}


def test_runtime_never_imports_xlwings_pro():
    for path in (ROOT / "kamxl").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            assert not any(n.startswith("xlwings.pro") for n in names), f"{path} imports {names}"
    env = {k: v for k, v in os.environ.items() if k != "XLWINGS_LICENSE_KEY"}
    code = (
        "import sys, kamxl.addin, kamxl.excel_setup, kamxl.commands.excel; "
        "print(sorted(m for m in sys.modules if m.startswith('xlwings')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"  # xlwings itself is imported only when a button runs
