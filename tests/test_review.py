"""The review pack: QBR deck, what changed, client copy and merge-back, calendar and e-mail.

Every output is opened with an independent reader (python-pptx and LibreOffice for the deck,
openpyxl for the client copy, the icalendar parser, Python's e-mail parser) and checked
against the plan it came from.
"""

from __future__ import annotations

import copy
import datetime as dt
import email
import email.policy
import json
import os
import re
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from icalendar import Calendar
from pptx import Presentation
from xlsxwriter.utility import xl_col_to_name

from kamxl.cli import main
from kamxl.demo import demo_plans
from kamxl.model import Plan
from kamxl.reader import read_plan
from kamxl.review.calendar import RRULES
from kamxl.review.cellpatch import table_rows
from kamxl.review.changes import changes_since_date, compare_plans, history_baseline
from kamxl.review.qbr import deck_content
from kamxl.review.share import VALIDATION_FIELDS, shared_sheets, writable_cells
from kamxl.review.texts import Texts
from kamxl.rollup import rollup
from kamxl.scoring import as_date, kpi_latest, score_plan
from kamxl.template import Template
from kamxl.writer import write_plan

from .conftest import recalc, require_libreoffice

DAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory, template: Template) -> dict[str, Path]:
    """An English macro-enabled plan and a French macro-free one, from the demo."""
    folder = tmp_path_factory.mktemp("plans")
    out = {}
    for plan in demo_plans(template, seed=7, count=6, today=DAY):
        if plan.lang not in out:
            out[plan.lang] = write_plan(
                plan, folder / f"{plan.lang}.{'xlsm' if plan.lang == 'en' else 'xlsx'}"
            )
    return out


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def _copy(plans: dict[str, Path], lang: str, tmp_path: Path) -> Path:
    target = tmp_path / plans[lang].name
    shutil.copy2(plans[lang], target)
    return target


# -- template ------------------------------------------------------------------------------------
def test_template_marks_internal_and_merge_may_write_only_shared_cells(template: Template) -> None:
    internal_sheets = {s.key for s in template.sheets if s.internal}
    assert {"dashboard", "stakeholders", "risks", "assessment", "opportunities"} <= internal_sheets
    assert template.fields["gross_margin"].internal and template.fields["revenue_target"].internal
    assert template.table("kpis").column("weight").internal
    writable = writable_cells(template)
    for kind, key in writable:
        if kind == "fields":
            assert not template.fields[key].internal
            assert not template.field_sheets[key].internal
        else:
            assert not template.table(kind).column(key).internal
            assert not template.table(kind).internal and not template.table_sheet(kind).internal
    assert ("actions", "status") in writable and ("fields", "client_validated_on") in writable


# -- the deck -------------------------------------------------------------------------------------
def _texts(prs: Presentation) -> list[str]:
    out = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.append(shape.text_frame.text)
            if shape.has_table:
                out += [cell.text for row in shape.table.rows for cell in row.cells]
    return out


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_qbr_deck_says_what_the_plan_says(plans: dict[str, Path], tmp_path: Path, lang: str) -> None:
    code, output = run("qbr", plans[lang], "-o", tmp_path, "--no-pdf", "--as-of", DAY.isoformat())
    assert code == 0, output
    deck_path = Path(output.strip().splitlines()[-1])
    prs = Presentation(str(deck_path))
    result = read_plan(plans[lang])
    plan, template = result.plan, result.template
    t = Texts(lang)
    titles = [s.shapes.title.text for s in prs.slides if s.shapes.title is not None]
    for key in ("snapshot", "objectives", "kpis", "review", "whitespace", "risks_actions", "changes"):
        assert t(f"deck.{key}") in titles
    texts = _texts(prs)
    assert plan.name in "".join(texts[:3])
    assert any(t("deck.subtitle") in x for x in texts)
    # objectives, with their status label in the plan's language
    for row in plan.rows("objectives", template)[:7]:
        status = template.label("objective_status", row["status"], lang)
        assert status in texts
        assert any(str(row["objective"])[:30] in x for x in texts)
    # KPI tracker: one row per active KPI, latest value and RAG as the workbook computes them
    periods = [c.key for c in template.table("kpis").columns if c.period]
    kpi_slide = next(
        s for s in prs.slides if s.shapes.title is not None and s.shapes.title.text == t("deck.kpis")
    )
    table = next(sh.table for sh in kpi_slide.shapes if sh.has_table)
    active = [r for r in plan.rows("kpis", template) if r.get("active") == "yes"][:7]
    assert len(table.rows) == len(active) + 1
    for i, row in enumerate(active, start=1):
        assert table.cell(i, 0).text.startswith(str(row["kpi"])[:20])
        assert table.cell(i, 2).text == t.number(kpi_latest(row, periods), row.get("unit"))
    # native charts, with the plan's numbers in their data
    charts = [sh.chart for s in prs.slides for sh in s.shapes if sh.has_chart]
    assert len(charts) >= 4
    scores = score_plan(plan, template, DAY)
    values = list(charts[0].plots[0].series[0].values)
    assert values == [
        round(getattr(scores, k), 1) for k in ("potential", "relationship", "execution", "overall")
    ]
    content = deck_content(plan, template, as_of=DAY)
    whitespace = next(c for c in charts if len(c.plots[0].series) == 2)
    assert list(whitespace.plots[0].categories) == list(content.whitespace)
    assert sum(whitespace.plots[0].series[1].values) == pytest.approx(
        sum(v[1] for v in content.whitespace.values())
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_qbr_deck_needs_no_retyping(
    plans: dict[str, Path], tmp_path: Path, template: Template, lang: str
) -> None:
    """What a KAM would otherwise fix by hand: table cells cut short, French colons, percentages
    that differ between a table and its chart."""
    from kamxl.review.qbr import write_qbr

    plan = read_plan(plans[lang]).plan
    long_action = "Run the twelve-month value review with the operations director and the CFO's team"
    open_action = next(
        r for r in plan.rows("actions", template) if r.get("status") not in ("done", "cancelled")
    )
    open_action["action"], open_action["due"] = long_action, DAY + dt.timedelta(days=1)
    long_objective = "Move the operations business unit to the premium managed services edition by spring"
    plan.rows("objectives", template)[0]["objective"] = long_objective
    deck, _ = write_qbr(plan, template, tmp_path, as_of=DAY, pdf=False)
    prs = Presentation(str(deck))
    cells = [
        cell.text
        for slide in prs.slides
        for shape in slide.shapes
        if shape.has_table
        for row in shape.table.rows
        for cell in row.cells
    ]
    assert long_action in cells and long_objective in cells
    tier = template.tier_label(score_plan(plan, template, DAY).tier, lang)
    assert {"en": f"Tier: {tier}", "fr": f"Catégorie\u00a0: {tier}"}[lang] in _texts(prs)
    # charts write percentages as the tables do; 92.5 % shows as 93 % in both (Excel rounds half up)
    formats = {
        shape.chart.plots[0].data_labels.number_format
        for slide in prs.slides
        for shape in slide.shapes
        if shape.has_chart and shape.chart.plots[0].has_data_labels
    }
    assert {"en": "0%", "fr": '0"\u202f"%'}[lang] in formats
    assert Texts(lang).percent(0.35) == {"en": "35%", "fr": "35\u202f%"}[lang]
    assert Texts(lang).percent(0.925).startswith("93") and Texts(lang).percent(0.325).startswith("33")


@pytest.mark.libreoffice
def test_qbr_pdf_through_libreoffice(plans: dict[str, Path], tmp_path: Path) -> None:
    require_libreoffice()
    if subprocess.run(["soffice", "--version"], capture_output=True).returncode:
        pytest.skip("soffice does not start")
    code, output = run("qbr", plans["fr"], "-o", tmp_path, "--as-of", DAY.isoformat())
    assert code == 0, output
    deck, pdf = (Path(x) for x in output.strip().splitlines()[-2:])
    if pdf.suffix != ".pdf":
        if os.environ.get("KAMXL_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("no PDF: LibreOffice Impress is required here")
        pytest.skip("LibreOffice Impress is not installed (apt-get install libreoffice-impress-nogui)")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = re.search(r"^Pages:\s+(\d+)", info, re.M)
    assert pages and int(pages.group(1)) == len(Presentation(str(deck)).slides)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    plan = read_plan(plans["fr"]).plan
    assert plan.name in text and "Suivi des KPI" in text


# -- what changed ---------------------------------------------------------------------------------
def _changed(plan: Plan, template: Template) -> Plan:
    after = copy.deepcopy(plan)
    opps = after.rows("opportunities", template)
    open_opp = next(r for r in opps if r.get("stage") not in ("won", "lost"))
    open_opp["stage"] = "won"
    person = after.rows("stakeholders", template)[0]
    person["stance"] = "champion" if person.get("stance") != "champion" else "neutral"
    after.tables["stakeholders"].append({"name": "Nadia Newcomer", "title": "CFO", "stance": "neutral"})
    action = next(r for r in after.rows("actions", template) if r.get("status") != "done")
    action["status"], action["done_date"] = "done", DAY
    kpi = next(
        r for r in after.rows("kpis", template) if r.get("active") == "yes" and r.get("share") == "yes"
    )
    kpi["q4"] = 123456.0
    kept = next(
        r for r in after.rows("kpis", template) if r.get("active") == "yes" and r.get("share") == "no"
    )
    kept["q4"] = 654321.0  # a KPI of ours (share of wallet, NRR...): never told to the client
    return after


def test_compare_plans_finds_every_kind_of_change(plans: dict[str, Path], template: Template) -> None:
    before = read_plan(plans["en"]).plan
    after = _changed(before, template)
    changes = compare_plans(before, after, template, since=DAY, as_of=DAY)
    kinds = {c.kind for c in changes.items}
    assert {"opportunity_won", "stance", "stakeholder_new", "action_done", "kpi"} <= kinds
    lines = changes.lines("en")
    assert any("Nadia Newcomer" in x for x in lines)
    kpi = next(r for r in after.rows("kpis", template) if r.get("q4") == 123456.0)
    assert any(Texts("en").number(123456.0, kpi.get("unit")) in x for x in lines)
    # nothing changed: nothing reported but the overdue actions
    same = compare_plans(before, copy.deepcopy(before), template, since=DAY, as_of=DAY)
    assert {c.kind for c in same.items} <= {"action_overdue"}


def test_check_since_a_previous_copy(plans: dict[str, Path], tmp_path: Path, template: Template) -> None:
    old = _copy(plans, "en", tmp_path)
    new = tmp_path / "now.xlsx"
    write_plan(_changed(read_plan(old).plan, template), new)
    code, output = run("check", new, "--since", old, "--json", "--as-of", DAY.isoformat())
    assert code in (0, 1), output
    report = json.loads(output[output.index('{\n  "schema_version"') :])["results"][0]
    kinds = [c["kind"] for c in report["changes"]["changes"]]
    assert "opportunity_won" in kinds and "stakeholder_new" in kinds and "kpi" in kinds
    code, text = run("check", new, "--since", old, "--as-of", DAY.isoformat())
    assert "Changes since" in text and "Nadia Newcomer" in text


def test_changes_since_a_date_use_the_rollup_history(plans: dict[str, Path], tmp_path: Path) -> None:
    result = read_plan(plans["en"])
    plan, template = result.plan, result.template
    folder = tmp_path / "plans"
    folder.mkdir()
    shutil.copy2(plans["en"], folder / plans["en"].name)
    db = tmp_path / "portfolio-history.sqlite"
    rollup(folder, output=tmp_path / "summary.xlsx", history=db, as_of=dt.date(2026, 9, 1))
    with sqlite3.connect(db) as con:  # as if the account had scored 10 then
        con.execute("UPDATE account_snapshots SET overall = 10, tier = 'deprioritise'")
    since = dt.date(2026, 9, 15)
    baseline = history_baseline(db, plan.account_id, since)
    assert baseline is not None and baseline.scores["overall"] == 10
    changes = changes_since_date(plan, template, since, baseline=baseline, as_of=DAY)
    now = score_plan(plan, template, DAY)
    overall = next(c for c in changes.of("score") if c.values["key"] == "overall")
    assert overall.values["delta"] == f"{now.overall - 10:+.1f}"
    if now.tier != "deprioritise":
        assert changes.of("tier")
    done = [
        r
        for r in plan.rows("actions", template)
        if r.get("status") == "done" and (as_date(r.get("done_date")) or since) > since
    ]
    assert len(changes.of("action_done")) == len(done)


# -- the client copy ------------------------------------------------------------------------------
def _internal_values(plan: Plan, template: Template) -> set[str]:
    """Texts and numbers held only in internal cells of the plan (not also in shared ones)."""
    internal, shared = set(), set()

    def add(bucket: set[str], value: object) -> None:
        if isinstance(value, str) and len(value.strip()) >= 4:
            bucket.add(value.strip())
        elif isinstance(value, float) and value not in (0.0, 1.0):
            bucket.add(repr(value))

    for key, col in template.fields.items():
        hidden = col.internal or template.field_sheets[key].internal
        add(internal if hidden else shared, plan.fields.get(key))
    for key, table in template.tables.items():
        sheet = template.table_sheet(key)
        for row in plan.rows(key, template):
            for col in table.columns:
                hidden = sheet.internal or table.internal or col.internal
                value = row.get(col.key)
                if col.type == "choice" and isinstance(value, str) and value in template.choices[col.choices]:
                    value = template.label(col.choices, value, plan.lang)
                add(internal if hidden else shared, value)
    return internal - shared


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_client_copy_holds_nothing_internal(plans: dict[str, Path], tmp_path: Path, lang: str) -> None:
    code, output = run("share", plans[lang], "--client", "-o", tmp_path)
    assert code == 0, output
    copy_path = Path(output.strip())
    result = read_plan(plans[lang])
    plan, template = result.plan, result.template
    secrets = _internal_values(plan, template)
    assert len(secrets) > 30  # stakeholder stances, margins, risks, scores: the test has teeth
    book = openpyxl.load_workbook(copy_path)
    seen = []
    for ws in book.worksheets:  # hidden sheets included
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    seen.append(repr(cell.value) if isinstance(cell.value, float) else str(cell.value))
    blob = "\n".join(seen)
    exact = {x.strip() for x in seen}
    leaks = [s for s in secrets if s in exact or (len(s) >= 25 and s in blob)]
    assert not leaks
    titles = {s.title[lang] for s in template.sheets if s.internal}
    assert not titles & set(book.sheetnames)
    # what is shared is all there: objectives, mutual action plan, KPIs, validation fields
    for row in plan.rows("actions", template):
        assert str(row["action"]) in blob
    for row in plan.rows("objectives", template):
        assert str(row["objective"]) in blob
    active = [r for r in plan.rows("kpis", template) if r.get("active") == "yes"]
    shared = [r["kpi"] for r in active if r.get("share") == "yes"]
    kept = [r["kpi"] for r in active if r.get("share") == "no"]  # share of wallet, NRR, NPS...
    assert shared and kept and all(k in blob for k in shared) and not [k for k in kept if k in exact]
    for key in VALIDATION_FIELDS:
        assert template.fields[key].label[lang] in blob
    assert [s.title[lang] for s in shared_sheets(template)][:1] == [book.sheetnames[1]]


def _validate(book: openpyxl.Workbook, lang: str, template: Template) -> Any:
    """The client fills in the Validation sheet (the copy's first); returns that sheet."""
    labels = {template.fields[k].label[lang]: k for k in VALIDATION_FIELDS}
    cover = book.worksheets[0]
    for row in cover.iter_rows(min_col=2, max_col=3):  # column A holds row references, hidden
        key = labels.get(row[0].value)
        if key == "client_validated_by":
            row[1].value = "Marie Client"
        elif key == "client_validated_on":
            row[1].value = dt.datetime(2026, 12, 3)
        elif key == "client_comment":
            row[1].value = "Validated, see our comments"
    return cover


def _edit_copy(copy_path: Path, lang: str, template: Template) -> None:
    """What a client does: validates, updates a status, comments, adds an action, and tries to
    slip in an internal field."""
    book = openpyxl.load_workbook(copy_path)
    cover = _validate(book, lang, template)
    cover.append([None, template.fields["gross_margin"].label[lang], 0.99])
    actions = next(ws for ws in book.worksheets if "Actions" in ws.tables)
    grid = list(actions[actions.tables["Actions"].ref])
    header = [c.value for c in grid[0]]
    status = header.index(template.table("actions").column("status").label[lang])
    comment = header.index(template.table("actions").column("comment").label[lang])
    done = template.label("action_status", "done", lang)
    action = header.index(template.table("actions").column("action").label[lang])
    open_row = next(r for r in grid[1:] if r[action].value and r[status].value != done)
    open_row[status].value = done
    grid[1 if grid[1] is not open_row else 2][comment].value = "Client: needed by January"
    blank = next(r for r in grid[1:] if r[action].value is None)
    blank[action].value = "Client sends the usage data"
    blank[header.index(template.table("actions").column("due").label[lang])].value = dt.datetime(2027, 1, 10)
    book.save(copy_path)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_merge_back_brings_the_client_updates_and_nothing_else(
    plans: dict[str, Path], tmp_path: Path, template: Template, lang: str
) -> None:
    plan_path = _copy(plans, lang, tmp_path)
    code, output = run("share", plan_path, "--client", "-o", tmp_path / "client.xlsx")
    assert code == 0, output
    _edit_copy(tmp_path / "client.xlsx", lang, template)
    before = read_plan(plan_path).plan
    original = zipfile.ZipFile(plan_path)
    parts_before = {n: original.read(n) for n in original.namelist()}
    code, output = run("merge-back", plan_path, tmp_path / "client.xlsx")
    assert code == 0, output
    assert output.count("applied") == 5 and output.count("added") == 1, output
    after = read_plan(plan_path)
    plan = after.plan
    assert not [f for f in after.findings if f.severity == "error"]
    assert plan.fields["client_validated_by"] == "Marie Client"
    assert plan.fields["client_validated_on"] == dt.date(2026, 12, 3)
    assert plan.fields["gross_margin"] == before.fields["gross_margin"]  # internal: never written
    actions, old_actions = plan.rows("actions", template), before.rows("actions", template)
    now_done = [
        i for i, r in enumerate(old_actions) if r.get("status") != "done" and actions[i]["status"] == "done"
    ]
    assert len(now_done) == 1
    assert sum(r["comment"] == "Client: needed by January" for r in actions) == 1
    assert actions[-1]["action"] == "Client sends the usage data" and len(actions) == len(old_actions) + 1
    for key in template.tables:  # every other value is as it was
        if key != "actions":
            assert plan.rows(key, template) == before.rows(key, template)
    for key, value in before.fields.items():
        if key not in VALIDATION_FIELDS:
            assert plan.fields[key] == value
    # the workbook is the same file but for the cells written: macros, styles, tables kept
    parts_after = {n: zipfile.ZipFile(plan_path).read(n) for n in zipfile.ZipFile(plan_path).namelist()}
    assert parts_after.keys() == parts_before.keys()
    changed = {n for n in parts_before if parts_before[n] != parts_after[n]}
    sheets = {n for n in changed if n.startswith("xl/worksheets/")}
    assert len(sheets) == 2 and changed <= sheets | {"xl/workbook.xml"}  # Info, Action plan
    assert list(tmp_path.glob(f"{plan_path.stem}.bak-*{plan_path.suffix}"))
    # merging the same copy again changes nothing
    code, output = run("merge-back", plan_path, tmp_path / "client.xlsx")
    assert "applied" not in output


V1 = sorted(
    p for p in (Path(__file__).parent / "fixtures" / "v1").iterdir() if p.suffix in (".xlsx", ".xlsm")
)


@pytest.mark.parametrize("path", V1, ids=lambda p: p.name)
def test_older_plans_read_without_the_client_validation_fields_quietly(
    path: Path, template: Template
) -> None:
    """Plans made before the validation fields existed read them as blank, with no finding."""
    result = read_plan(path)
    assert result.plan.template_version == "1.0"
    assert {"client_validated_by", "client_validated_on", "client_comment"} <= set(VALIDATION_FIELDS)
    assert set(VALIDATION_FIELDS) <= set(template.added_since("1.0").fields)
    labels = [template.fields[k].label[lang] for k in VALIDATION_FIELDS for lang in ("en", "fr")]
    for finding in result.findings:
        assert "not found" not in finding.message, finding
        assert not any(label in finding.message for label in labels), finding
    assert all(result.plan.fields.get(k) is None for k in VALIDATION_FIELDS)
    code, output = run("check", path, "--as-of", DAY.isoformat())
    assert code in (0, 1) and "not found" not in output, output


def test_merge_back_into_an_older_plan_writes_no_field_it_lacks(tmp_path: Path, template: Template) -> None:
    """A 1.0 plan has no validation rows: merge-back writes nothing there (the cells the template
    gives them hold other content in a 1.0 workbook), says to upgrade, and merges once upgraded."""
    from kamxl.upgrade import upgrade_workbook

    source = next(p for p in V1 if p.suffix == ".xlsx")
    plan_path = tmp_path / source.name
    shutil.copy2(source, plan_path)
    lang = read_plan(plan_path).plan.lang
    code, output = run("share", plan_path, "--client", "-o", tmp_path / "client.xlsx")
    assert code == 0, output
    book = openpyxl.load_workbook(tmp_path / "client.xlsx")
    _validate(book, lang, template)
    book.save(tmp_path / "client.xlsx")
    original = plan_path.read_bytes()
    code, output = run("merge-back", plan_path, tmp_path / "client.xlsx")
    assert code == 1, output
    assert output.count("skipped") == 3 and "applied" not in output, output
    assert f"run kamxl upgrade {plan_path.name}, then merge again" in output
    assert plan_path.read_bytes() == original  # not a byte written
    upgrade_workbook(plan_path)
    code, output = run("merge-back", plan_path, tmp_path / "client.xlsx")
    assert code == 0 and output.count("applied") == 3, output
    fields = read_plan(plan_path).plan.fields
    assert fields["client_validated_by"] == "Marie Client" and fields["client_comment"]


def test_merge_back_reports_a_conflict_and_keeps_the_kams_value(
    plans: dict[str, Path], tmp_path: Path, template: Template
) -> None:
    plan_path = tmp_path / "plan.xlsx"
    shutil.copy2(plans["fr"], plan_path)
    run("share", plan_path, "--client", "-o", tmp_path / "client.xlsx")
    _edit_copy(tmp_path / "client.xlsx", "fr", template)
    plan = read_plan(plan_path).plan
    for row in plan.rows("actions", template)[:2]:
        row["comment"] = "KAM: reprogrammé"
    write_plan(plan, plan_path)
    code, output = run("merge-back", plan_path, tmp_path / "client.xlsx")
    assert code == 1 and "conflict" in output
    assert [r["comment"] for r in read_plan(plan_path).plan.rows("actions", template)[:2]] == [
        "KAM: reprogrammé"
    ] * 2


def test_merge_back_refuses_another_accounts_copy(plans: dict[str, Path], tmp_path: Path) -> None:
    run("share", plans["fr"], "--client", "-o", tmp_path / "client.xlsx")
    plan_path = _copy(plans, "en", tmp_path)
    data = plan_path.read_bytes()
    code, output = run("merge-back", plan_path, tmp_path / "client.xlsx")
    assert code == 2 and "not of" in output
    assert plan_path.read_bytes() == data


@pytest.mark.libreoffice
def test_merged_plan_opens_and_recalculates_in_libreoffice(
    plans: dict[str, Path], tmp_path: Path, template: Template
) -> None:
    plan_path = _copy(plans, "en", tmp_path)
    run("share", plan_path, "--client", "-o", tmp_path / "client.xlsx")
    _edit_copy(tmp_path / "client.xlsx", "en", template)
    assert run("merge-back", plan_path, tmp_path / "client.xlsx")[0] == 0
    out = recalc([plan_path])
    assert not next(iter(out.values())).get("errors")


def _client_adds_actions(copy_path: Path, lang: str, template: Template, below: int) -> list[str]:
    """The client fills every blank row of the copy's action table, then types ``below`` more
    rows under it (the table's range is not grown, as LibreOffice leaves it); returns the names."""
    book = openpyxl.load_workbook(copy_path)
    ws = next(w for w in book.worksheets if "Actions" in w.tables)
    grid = list(ws[ws.tables["Actions"].ref])
    header = [c.value for c in grid[0]]
    label = {k: template.table("actions").column(k).label[lang] for k in ("action", "due")}
    action, due = header.index(label["action"]), header.index(label["due"])
    rows = [r for r in grid[1:] if r[action].value is None]
    last, first_col = grid[-1][0].row, grid[0][0].column
    rows += [[ws.cell(last + k, first_col + i) for i in range(len(header))] for k in range(1, below + 1)]
    names = []
    for n, row in enumerate(rows):
        names.append(f"Client action {n + 1}")
        row[action].value, row[due].value = names[-1], dt.datetime(2026, 1, 10 + n)
    book.save(copy_path)
    return names


def test_merge_back_grows_a_full_table(plans: dict[str, Path], tmp_path: Path, template: Template) -> None:
    plan_path = _copy(plans, "en", tmp_path)
    before = read_plan(plan_path)
    first_row, last_row = table_rows(plan_path, "Actions")
    assert run("share", plan_path, "--client", "-o", tmp_path / "client.xlsx")[0] == 0
    names = _client_adds_actions(tmp_path / "client.xlsx", "en", template, below=3)
    blank = last_row - first_row + 1 - len(before.plan.rows("actions", template))
    assert len(names) > blank  # more rows than the plan's table has blank
    code, output = run("merge-back", plan_path, tmp_path / "client.xlsx")
    assert code == 0, output
    assert output.count("added") == len(names), output
    new_last = last_row + len(names) - blank
    assert f"table Actions extended down to row {new_last}" in output
    after = read_plan(plan_path)
    rows = after.plan.rows("actions", template)
    assert [r["action"] for r in rows[-len(names) :]] == names
    assert not [f for f in after.findings if f.severity == "error"]
    book = openpyxl.load_workbook(plan_path)
    ws = book["Action plan"]
    width = len(template.table("actions").columns)
    end = xl_col_to_name(width - 1)
    assert ws.tables["Actions"].ref.endswith(f"{end}{new_last}")
    assert str(ws.print_area).endswith(f"${end}${new_last}")  # printed with its new rows
    overdue = 1 + [c.key for c in template.table("actions").columns].index("overdue")
    for col in range(1, width + 1):  # the new rows look and compute like the table's own
        assert ws.cell(new_last, col).style_id == ws.cell(last_row, col).style_id
    assert ws.cell(new_last, overdue).value == ws.cell(last_row, overdue).value
    assert str(ws.cell(new_last, overdue).value).startswith("=")
    assert run("merge-back", plan_path, tmp_path / "client.xlsx")[1].count("added") == 0  # once only
    # a cell in the way below the table: the row is skipped, and the message says what to do
    again = tmp_path / "again"
    again.mkdir()
    second = _copy(plans, "en", again)
    from kamxl.review.cellpatch import patch_workbook

    patch_workbook(second, {"Action plan": {f"B{last_row + 2}": "a note of the KAM"}})
    code, output = run("merge-back", second, tmp_path / "client.xlsx")
    assert code == 1 and "skipped" in output and "add rows to the table in the plan first" in output
    assert "B" + str(last_row + 2) in output
    assert openpyxl.load_workbook(second)["Action plan"][f"B{last_row + 2}"].value == "a note of the KAM"


@pytest.mark.libreoffice
def test_grown_table_recalculates_in_libreoffice(
    plans: dict[str, Path], tmp_path: Path, template: Template
) -> None:
    plan_path = _copy(plans, "en", tmp_path)
    last_row = table_rows(plan_path, "Actions")[1]
    run("share", plan_path, "--client", "-o", tmp_path / "client.xlsx")
    names = _client_adds_actions(tmp_path / "client.xlsx", "en", template, below=2)
    assert run("merge-back", plan_path, tmp_path / "client.xlsx")[0] == 0
    new_last = table_rows(plan_path, "Actions")[1]
    assert new_last > last_row
    out = next(iter(recalc([plan_path], cells=True).values()))
    assert not out.get("errors")
    overdue = xl_col_to_name([c.key for c in template.table("actions").columns].index("overdue"))
    shown = template.text("overdue", "en")
    for row in range(last_row + 1, new_last + 1):  # due in January 2026, not done: overdue
        assert out["cells"]["Action plan"][f"{overdue}{row}"] == shown, (row, names)


# -- calendar and e-mail --------------------------------------------------------------------------
def test_calendar_imports_with_the_plans_dates_and_recurrences(
    plans: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    for path in plans.values():
        shutil.copy2(path, folder / path.name)
    ics = tmp_path / "reviews.ics"
    code, output = run("calendar", folder, "-o", ics, "--mail", "--as-of", DAY.isoformat())
    assert code == 0, output
    raw = ics.read_bytes()
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n")
    cal = Calendar.from_ical(raw)
    events = list(cal.walk("VEVENT"))
    assert len({str(e["UID"]) for e in events}) == len(events)
    expected = 0
    for path in plans.values():
        result = read_plan(path)
        plan, template = result.plan, result.template
        rituals = [
            r
            for r in plan.rows("rituals", template)
            if as_date(r.get("next_due")) or as_date(r.get("last_held"))
        ]
        open_actions = [
            r
            for r in plan.rows("actions", template)
            if r.get("due") and r.get("status") not in ("done", "cancelled")
        ]
        expected += len(rituals) + len(open_actions) + (1 if plan.fields.get("next_review") else 0)
        mine = [e for e in events if plan.name in str(e["SUMMARY"])]
        for row in rituals:
            label = template.label("ritual", row["ritual"], plan.lang)
            event = next(e for e in mine if str(e["SUMMARY"]).startswith(label))
            start = as_date(row.get("next_due")) or as_date(row.get("last_held"))
            assert event.decoded("DTSTART") == start
            rule = event["RRULE"]
            want = RRULES[row["frequency"]]
            assert rule["FREQ"] == [want["freq"].upper()]
            assert rule.get("INTERVAL", [1]) == [want.get("interval", 1)]
        review = next(
            e for e in mine if e.decoded("DTSTART") == plan.fields["next_review"] and "RRULE" not in e
        )
        assert review is not None
        for row in open_actions:
            assert any(
                str(row["action"]) in str(e["SUMMARY"]) and e.decoded("DTSTART") == row["due"] for e in mine
            )
    assert len(events) == expected


def test_update_email_draft_parses_and_tells_the_client_only_what_is_shared(
    plans: dict[str, Path], tmp_path: Path, template: Template
) -> None:
    plan_path = tmp_path / "plan.xlsx"
    old = _copy(plans, "en", tmp_path)
    write_plan(_changed(read_plan(old).plan, template), plan_path)
    code, output = run(
        "calendar", plan_path, "-o", tmp_path / "r.ics", "--mail", "--since", old, "--as-of", DAY.isoformat()
    )
    assert code == 0, output
    eml = next(tmp_path.glob("*.eml"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    plan = read_plan(plan_path).plan
    assert plan.fields["main_contact_email"] in msg["To"]
    assert msg["X-Unsent"] == "1" and plan.name in msg["Subject"]
    body = msg.get_body().get_content()
    was = {r["action"]: r.get("status") for r in read_plan(old).plan.rows("actions", template)}
    done = [
        r
        for r in plan.rows("actions", template)
        if r.get("status") == "done" and was.get(r["action"]) != "done"
    ]
    assert len(done) == 1 and str(done[0]["action"]) in body
    kpi = next(r for r in plan.rows("kpis", template) if r.get("q4") == 123456.0)
    assert Texts("en").number(123456.0, kpi.get("unit")) in body  # the KPI that moved
    assert plan.kam in body
    for secret in ("Nadia Newcomer", "stance", "Tier", "score"):  # stakeholders, scores: internal
        assert secret not in body
    assert "654" not in body and "Opportunity won" not in body  # our KPI moved; deals are internal


def test_summary_has_a_changes_since_last_review_column(plans: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    for path in plans.values():
        shutil.copy2(path, folder / path.name)
    result = rollup(folder, output=tmp_path / "summary.xlsx", history=False, as_of=DAY)
    book = openpyxl.load_workbook(result.output, data_only=True)
    sheet = book["Accounts"]
    header = next(
        (row for row in sheet.iter_rows(max_row=10) if any(c.value == "Account" for c in row)), None
    )
    assert header is not None
    names = [c.value for c in header]
    col, acc = names.index("Changes since last review"), names.index("Account")
    shown = {
        row[acc].value: row[col].value for row in sheet.iter_rows(min_row=header[0].row + 1) if row[acc].value
    }
    for path in plans.values():
        read = read_plan(path)
        last = as_date(read.plan.fields["last_review"])
        expected = changes_since_date(read.plan, read.template, last, as_of=DAY).short("en")
        assert shown[read.plan.name] == expected


def _summary_changes(summary: Path, account_header: str, changes_header: str) -> dict[str, str]:
    book = openpyxl.load_workbook(summary, data_only=True)
    sheet = next(ws for ws in book.worksheets if ws.title in ("Accounts", "Comptes"))
    header = next(row for row in sheet.iter_rows(max_row=10) if any(c.value == account_header for c in row))
    names = [c.value for c in header]
    col, acc = names.index(changes_header), names.index(account_header)
    return {
        row[acc].value: row[col].value for row in sheet.iter_rows(min_row=header[0].row + 1) if row[acc].value
    }


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_summary_changes_tell_tier_and_score_moves_from_the_history(
    plans: dict[str, Path], tmp_path: Path, template: Template, lang: str
) -> None:
    """Roll up on the day of the last review, change the plan, roll up later: the column tells the
    tier and overall score moves, then the counts, in the summary's language."""
    folder = tmp_path / "plans"
    folder.mkdir()
    target = folder / plans["fr"].name
    before = read_plan(plans["fr"]).plan
    before.fields["gross_margin"] = 0.6  # a profitable account: invest
    write_plan(before, target)
    review = as_date(before.fields["last_review"])
    db = tmp_path / "portfolio-history.sqlite"
    summary = tmp_path / "summary.xlsx"
    rollup(folder, output=summary, history=db, as_of=review, lang=lang)
    after = copy.deepcopy(before)
    for person in after.rows("stakeholders", template):  # the relationship turns sour
        person["stance"] = "detractor"
    after.fields["gross_margin"] = 0.01  # and the margin vanishes: far down the priority
    won = next(r for r in after.rows("opportunities", template) if r.get("stage") not in ("won", "lost"))
    won["stage"], won["expected_close"] = "won", DAY
    write_plan(after, target)
    result = rollup(folder, output=summary, history=db, as_of=DAY, lang=lang)
    assert result.exit_code == 0, result.errors
    old, new = score_plan(before, template, review), score_plan(after, template, DAY)
    assert old.tier == "invest" and new.tier == "deprioritise"  # far from the thresholds
    delta = round(new.overall - old.overall)
    assert delta <= -5
    t = Texts(lang)
    headers = {
        "en": ("Account", "Changes since last review"),
        "fr": ("Compte", "Changements depuis la revue"),
    }
    cell = _summary_changes(summary, *headers[lang])[before.name]
    tiers = {c: template.tiers[c]["label"][lang] for c in ("invest", "deprioritise")}
    first = {"en": "Tier", "fr": "Catégorie"}[lang]
    sep = {"en": "; ", "fr": "\u00a0; "}[lang]  # French: a no-break space before ;
    assert cell.startswith(f"{first} {tiers['invest']} → {tiers['deprioritise']}{sep}"), cell
    assert t("changes.short.score", delta=f"{delta:+d}") in cell, cell
    assert t("changes.short.opportunity_won", n=1) in cell, cell
    # without the history, counts only
    plain = rollup(folder, output=tmp_path / "plain.xlsx", history=False, as_of=DAY, lang=lang)
    counts = _summary_changes(plain.output, *headers[lang])[before.name]
    assert tiers["invest"] not in counts and t("changes.short.opportunity_won", n=1) in counts


# -- the Quarterly review deck button ---------------------------------------------------------------
def test_dashboard_has_a_qbr_button_running_the_addin(template: Template, tmp_path: Path) -> None:
    from kamxl.vba import QBR_MACRO, button_macros, load_macro_sources
    from kamxl.workbooks import new_workbook

    from .conftest import assert_button_runs, vba_probe

    sources = load_macro_sources()
    assert button_macros(sources)[QBR_MACRO] == "KamxlButtons"
    assert 'RunKamxl "import kamxl.addin; kamxl.addin.qbr()"' in sources["KamxlButtons"]
    files = [
        new_workbook(n, tmp_path, template=template, lang=lang) for n, lang in (("Q", "en"), ("R", "fr"))
    ]
    report = vba_probe(files)
    for path, dashboard in zip(files, ("Dashboard", "Tableau de bord"), strict=True):
        assert_button_runs(report[str(path)], dashboard, QBR_MACRO)


def test_qbr_button_writes_the_deck_from_the_open_workbook(
    plans: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kamxl import addin

    from .test_addin import open_remote, remote  # noqa: F401  (the fixture)

    pytest.importorskip("xlwings")
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    try:
        from xlwings.pro import _xlremote
    except ImportError as exc:
        pytest.skip(f"xlwings' remote engine is not available: {exc}")
    book = open_remote(_xlremote, monkeypatch, plans["en"])
    deck = addin.run_qbr(book, as_of=DAY, out_dir=tmp_path)
    prs = Presentation(str(deck))
    plan = read_plan(plans["en"]).plan
    assert plan.name in _texts(prs)[:3] and len(prs.slides) == 8


# -- exit codes: 0 done, 1 done but something to look at, 2 nothing done ----------------------------
def test_review_commands_exit_codes(
    plans: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _copy(plans, "en", tmp_path)
    other = _copy(plans, "fr", tmp_path)
    not_a_plan = tmp_path / "notes.xlsx"
    not_a_plan.write_text("not a workbook")
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    day = ("--as-of", DAY.isoformat())
    cases = [
        (0, ["qbr", plan, "--no-pdf", "-o", tmp_path / "deck"], ""),
        (2, ["qbr", not_a_plan, "--no-pdf"], "notes.xlsx"),
        (2, ["qbr", plan, "--no-pdf", "-o", in_the_way / "deck"], "a-file"),
        (2, ["qbr", plan, "--no-pdf", "--since", not_a_plan], "--since: "),
        (2, ["qbr", plan, "--no-pdf", "--history", in_the_way.with_suffix(".none")], "--history"),
        (2, ["qbr", plan, "--no-pdf", "--history", not_a_plan], "history database cannot be used"),
        (2, ["qbr", plan, "--no-pdf", "--since", other], "not of"),  # another account's plan
        (0, ["share", plan, "--client", "-o", tmp_path / "copy.xlsx"], ""),
        (2, ["share", plan, "--client", "-o", in_the_way / "copy.xlsx"], "a-file"),
        (0, ["merge-back", plan, tmp_path / "copy.xlsx"], "nothing changed"),
        (2, ["merge-back", other, tmp_path / "copy.xlsx"], "left as it was"),
        (2, ["merge-back", plan, not_a_plan], "notes.xlsx"),
        (0, ["calendar", plan, other, "-o", tmp_path / "r.ics", *day], ""),
        (1, ["calendar", plan, not_a_plan, "-o", tmp_path / "r.ics", *day], "notes.xlsx"),
        (2, ["calendar", not_a_plan, "-o", tmp_path / "r.ics", *day], "no account plan"),
        (2, ["calendar", plan, "-o", in_the_way / "r.ics", *day], "a-file"),
        (2, ["calendar", plan, "-o", tmp_path / "r.ics", "--mail", "--since", not_a_plan], "--since: "),
        (1, ["calendar", plan, "-o", tmp_path / "r.ics", "--mail", "--since", other, *day], "not of"),
    ]
    for expected, args, says in cases:
        result = CliRunner().invoke(main, [str(a) for a in args])
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.output)
        assert result.exit_code == expected, (args, result.output)
        assert says in result.output, (args, result.output)
    # a file beside the plan named like the history but no history: the plan's dates only
    (tmp_path / "portfolio-history.sqlite").write_text("not a database")
    code, output = run("qbr", plan, "--no-pdf", "-o", tmp_path / "deck3")
    assert code == 0, output
    # LibreOffice there but failing: the deck is written, the PDF is not (exit 1)
    monkeypatch.setattr("kamxl.review.qbr.soffice", lambda: shutil.which("false"))
    code, output = run("qbr", plan, "-o", tmp_path / "deck2")
    assert code == 1 and "could not convert" in output and list((tmp_path / "deck2").glob("*.pptx"))


def test_grow_sheet_copies_shared_formulas_and_refuses_what_it_cannot_copy() -> None:
    """Excel saves a column's formula once (shared); a formula by cell address cannot be copied."""
    from kamxl.review.cellpatch import PatchError, TableSpot, grow_sheet

    spot = TableSpot("xl/tables/table1.xml", "xl/worksheets/sheet1.xml", 1, 2, 1, 3, 0)
    formula = 'IF(T[[#This Row],[A]]="","",1)'
    head = '<row r="{n}" ht="30" customHeight="1"><c r="A{n}" s="4"/><c r="B{n}" s="5">'
    xml = (
        '<worksheet><dimension ref="A1:B3"/><sheetData><row r="1"><c r="A1"/><c r="B1"/></row>'
        + head.format(n=2)
        + f'<f t="shared" ref="B2:B3" si="0">{formula}</f><v>1</v></c></row>'
        + head.format(n=3)
        + '<f t="shared" si="0"/><v>1</v></c></row><row r="5"><c r="D5"><v>7</v></c></row>'
        + "</sheetData></worksheet>"
    )
    grown = grow_sheet(xml, spot, 5)
    assert (
        f'<row r="4" ht="30" customHeight="1"><c r="A4" s="4"/><c r="B4" s="5"><f>{formula}</f></c></row>'
        in grown
    )
    assert '<c r="A5" s="4"/><c r="B5" s="5"><f>' in grown and '<c r="D5"><v>7</v></c>' in grown  # kept
    assert '<dimension ref="A1:B5"/>' in grown
    with pytest.raises(PatchError, match="by address"):
        grow_sheet(xml.replace(formula, "C3*2"), spot, 4)
    with pytest.raises(PatchError, match="A5"):
        grow_sheet(xml.replace('<c r="D5">', '<c r="A5">'), spot, 5)
