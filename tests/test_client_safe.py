"""Nothing internal leaves the company.

A marker is written into every internal field, every column of an internal table, every internal
column of a shared table, and every kind of row kept internal (a row whose "Share with client"
says no, an inactive KPI, a KPI mirroring a figure of ours); then every part of every client
output (the client copy's and the client deck's zip parts, embedded workbooks included, the
update e-mail, the calendar) is searched for them. Markers of shared places must be found there,
so the search is known to look where the values go.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pptx import Presentation

from kamxl.cli import main
from kamxl.coerce import to_serial
from kamxl.demo import demo_plans
from kamxl.model import Plan
from kamxl.reader import read_plan
from kamxl.review.client import client_field, client_table
from kamxl.review.texts import Texts
from kamxl.template import Template
from kamxl.writer import write_plan

DAY = dt.date(2026, 12, 1)
SECRET_NUMBER = 98765.4  # in every internal number cell; searched as 98765, 98,765, 98 765
SECRET_PERCENT = 0.987654
SECRET_DATE = dt.date(2031, 7, 19)
NUMBER = re.compile(r"98\D{0,3}765")


def _secret(place: str) -> str:
    return f"KMXSECRET_{place}"


def _mark(template: Template, col: Any, place: str) -> Any:
    """A value for an internal cell that can be recognised in any output."""
    if col.type in ("text", "longtext", "choice"):
        return _secret(place)
    if col.type == "email":
        return f"{_secret(place).lower()}@example.test"
    if col.type == "url":
        return f"https://example.test/{_secret(place)}"
    if col.type == "percent":
        return SECRET_PERCENT
    if col.type in ("number", "currency", "int"):
        return SECRET_NUMBER if col.type != "int" else 98765
    if col.type == "date":
        return SECRET_DATE
    return None  # ratings and formulas: no value that could be told apart


def hostile_plan(template: Template, lang: str) -> tuple[Plan, set[str]]:
    """A demo plan with a marker in every internal place; returns it and the shared markers."""
    plan = next(p for p in demo_plans(template, seed=7, count=6, today=DAY) if p.lang == lang)
    for key, col in template.fields.items():
        if not client_field(template, key) and (value := _mark(template, col, f"field_{key}")) is not None:
            plan.fields[key] = value
    shared = set()
    for key, table in template.tables.items():
        rows = plan.tables.setdefault(key, [])
        while len(rows) < 3:
            rows.append({table.key_column: f"row {len(rows)}"})
        for i, row in enumerate(rows):
            for col in table.columns:
                if col.type == "formula" or col.key == "share":
                    continue
                value = _mark(template, col, f"{key}_{col.key}_{i}")
                if (not client_table(template, key) or col.internal) and value is not None:
                    row[col.key] = value
    kpis, actions, objectives = plan.tables["kpis"], plan.tables["actions"], plan.tables["objectives"]
    # rows kept internal: "Share with client" = no, an inactive KPI, a KPI of ours left blank
    for table, rows, name in (("actions", actions, "action"), ("objectives", objectives, "objective")):
        rows[0] |= {name: _secret(f"{table}_row"), "share": "no", "comment": _secret(f"{table}_comment")}
        rows[1] |= {name: f"KMXCLIENT_{table}", "share": "yes", "due": DAY + dt.timedelta(days=3)}
        rows[1] |= {"status": "in_progress" if table == "actions" else "on_track"}
        shared.add(f"KMXCLIENT_{table}")
    kpis[0] |= {"kpi": _secret("kpi_no"), "active": "yes", "share": "no", "q1": SECRET_NUMBER}
    kpis[1] |= {"kpi": _secret("kpi_inactive"), "active": "no", "share": "yes", "q1": SECRET_NUMBER}
    margin = next(r for r in kpis if r["kpi"] == template.catalogue["kpis"][2]["name"][lang])
    margin |= {"active": "yes", "share": None, "target": SECRET_NUMBER, "q1": SECRET_NUMBER}  # gross margin
    kpis[3] |= {"kpi": "KMXCLIENT_kpi", "active": "yes", "share": "yes", "target": 12.0, "q1": 11.0}
    shared.add("KMXCLIENT_kpi")
    actions[0] |= {"status": "in_progress", "due": DAY + dt.timedelta(days=4)}
    return plan, shared


def _unfold(text: str) -> str:
    return html.unescape(text.replace("\r\n ", "").replace("\n ", ""))


def output_texts(path: Path) -> dict[str, str]:
    """Every part of a client output as text: zip parts (and workbooks inside them) unzipped,
    an e-mail's headers and decoded body, a calendar unfolded."""
    if path.suffix == ".eml":
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = "\n".join(p.get_content() for p in msg.walk() if p.get_content_maintype() == "text")
        return {"headers": str(msg.items()), "body": body}
    if path.suffix == ".ics":
        return {"calendar": _unfold(path.read_text(encoding="utf-8"))}
    out = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            if name.endswith(".xlsx"):
                for inner, text in output_texts_of_zip(data).items():
                    out[f"{name}!{inner}"] = text
            else:
                out[name] = _unfold(data.decode("utf-8", "replace"))
    return out


def output_texts_of_zip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as inner:
        return {n: _unfold(inner.read(n).decode("utf-8", "replace")) for n in inner.namelist()}


def leaks(parts: dict[str, str]) -> list[str]:
    serial = str(to_serial(SECRET_DATE))
    found = []
    for name, text in parts.items():
        found += [f"{name}: {m}" for m in re.findall(r"(?i)KMXSECRET_\w+", text)]
        found += [f"{name}: number {m}" for m in NUMBER.findall(text)]
        found += [f"{name}: percent" for _ in re.findall(r"98\.?7654", text)]
        found += [f"{name}: date" for x in ("2031", serial) if x in text]
    return found


def run(*args: Any) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_markers_in_every_internal_place_never_reach_a_client_output(
    tmp_path: Path, template: Template, lang: str
) -> None:
    plan, shared = hostile_plan(template, lang)
    old = write_plan(plan, tmp_path / "old" / "plan.xlsx")
    # since the old copy: internal actions done, internal KPIs moved, a deal won, a new contact
    after = read_plan(old).plan
    read_back = str(after.fields) + str(after.tables)
    assert read_back.count("KMXSECRET_") > 150 and "98765" in read_back  # the markers are in the plan
    after.tables["actions"][0] |= {"status": "done", "done_date": DAY}
    after.tables["actions"][1] |= {"status": "done", "done_date": DAY}
    after.tables["kpis"][0]["q2"] = SECRET_NUMBER + 1
    after.tables["kpis"][3]["q2"] = 11.5
    after.tables["opportunities"][0]["stage"] = "won"
    after.tables["stakeholders"].append({"name": _secret("new_contact"), "stance": "neutral"})
    plan_path = write_plan(after, tmp_path / "plan.xlsx")
    out = tmp_path / "out"
    assert run("share", plan_path, "--client", "-o", out / "copy.xlsx")[0] == 0
    code, text = run("qbr", plan_path, "--client", "-o", out, "--no-pdf", "--as-of", DAY)
    assert code == 0, text
    code, text = run(
        "calendar", plan_path, "-o", out / "reviews.ics", "--mail", "--since", old, "--as-of", DAY
    )
    assert code == 0, text
    outputs = sorted(p for p in out.iterdir())
    assert {p.suffix for p in outputs} == {".xlsx", ".pptx", ".eml", ".ics"}
    everything = ""
    for path in outputs:
        parts = output_texts(path)
        assert not leaks(parts), (path.name, leaks(parts)[:10])
        everything += "\n".join(parts.values())
    for marker in shared:  # what is shared is there: the search looks where values go
        assert marker in everything, marker
    body = output_texts(next(p for p in outputs if p.suffix == ".eml"))["body"]
    assert "KMXCLIENT_actions" in body and "KMXCLIENT_kpi" in body  # the e-mail tells shared news


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_client_deck_shows_the_meeting_and_the_team_deck_says_internal(
    tmp_path: Path, template: Template, lang: str
) -> None:
    plan, _ = hostile_plan(template, lang)
    path = write_plan(plan, tmp_path / "plan.xlsx")
    t = Texts(lang)
    code, text = run("qbr", path, "--client", "-o", tmp_path, "--no-pdf", "--as-of", DAY)
    assert code == 0, text
    deck = Presentation(text.strip().splitlines()[-1])
    titles = [s.shapes.title.text for s in deck.slides if s.shapes.title is not None]
    keys = ("objectives", "action_plan", "shared_kpis", "client_review")
    assert titles == [t(f"deck.{k}") for k in keys]
    words = [sh.text_frame.text for s in deck.slides for sh in s.shapes if sh.has_text_frame]
    cells = [
        c.text for s in deck.slides for sh in s.shapes if sh.has_table for r in sh.table.rows for c in r.cells
    ]
    for key in ("successes", "obstacles", "decisions", "next_steps", "their_objectives", "our_objectives"):
        assert t(f"deck.{key}") in words
    assert "KMXCLIENT_actions" in cells and "KMXCLIENT_kpi" in cells
    assert t("deck.internal") not in words
    code, text = run("qbr", path, "-o", tmp_path, "--no-pdf", "--as-of", DAY)
    assert code == 0, text
    team = Presentation(text.strip().splitlines()[-1])
    for slide in team.slides:
        said = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
        assert t("deck.internal") in said


def test_kpis_mirroring_our_figures_are_internal_by_default(template: Template) -> None:
    from kamxl.model import new_plan
    from kamxl.review.client import client_row

    ours = ("Share of wallet", "Gross margin", "Cost to serve", "NRR", "NPS", "Revenue generated")
    table = template.table("kpis")
    for lang in ("en", "fr"):
        plan = new_plan(template, lang)
        for kpi, row in zip(template.catalogue["kpis"], plan.tables["kpis"], strict=True):
            mirrors = any(word in kpi["name"]["en"] for word in ours)
            assert bool(kpi.get("internal")) >= mirrors, kpi["name"]["en"]
            assert row["share"] == ("no" if kpi.get("internal") else "yes")
            blank = row | {
                "share": None,
                "active": "yes",
            }  # a plan made before the column: the catalogue decides
            assert client_row(template, table, blank) is not bool(kpi.get("internal"))
            assert not client_row(template, table, row | {"active": "no", "share": "yes"})  # inactive
