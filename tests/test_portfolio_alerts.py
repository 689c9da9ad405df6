"""Alerts across the portfolio: the summary's Alerts sheet and status counts, and the digests.

The demo portfolio is written to real workbooks and rolled up with ``--digest``; the summary is
opened with openpyxl (and recalculated by LibreOffice), every ``.eml`` draft is parsed with the
standard e-mail parser, and what they list is compared with the roll-up records and the plans.
"""

from __future__ import annotations

import ast
import datetime as dt
import email
import email.policy
import html
import json
import re
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from kamxl.alerts import SEVERITY_ORDER, rule_label
from kamxl.commands.rollup import command as rollup_command
from kamxl.demo import demo_portfolio
from kamxl.model import Plan
from kamxl.paths import safe_filename
from kamxl.review.texts import Texts
from kamxl.rollup import AccountRecord, Portfolio, RollupResult, record_from_plan, rollup
from kamxl.rollup.digest import digest_texts_path, write_digests
from kamxl.rollup.texts import text
from kamxl.template import STATUS_CODES, Template
from kamxl.writer import write_plan

from .test_rollup import table_rows

TODAY = dt.date(2026, 11, 16)
COUNT = 12
PACKAGE = Path(__file__).resolve().parent.parent / "kamxl"
SEVERITY = {"en": {"high": "High", "medium": "Medium"}, "fr": {"high": "Haute", "medium": "Moyenne"}}
HEADINGS = {
    "en": ("Your accounts", "Alerts, most severe first", "Overdue actions", "Rituals due by"),
    "fr": ("Vos comptes", "Alertes, les plus graves d'abord", "Actions en retard", "Rituels à tenir"),
}


@pytest.fixture(scope="module")
def demo(template: Template, tmp_path_factory) -> tuple[Path, list[tuple[str, Plan]]]:
    folder = tmp_path_factory.mktemp("alerts") / "plans"
    folder.mkdir()
    portfolio = demo_portfolio(template, seed=7, count=COUNT, today=TODAY)
    for _, plan in portfolio:
        write_plan(plan, folder / safe_filename(plan.name), template=template)
    return folder, portfolio


@pytest.fixture(scope="module", params=["en", "fr"])
def rolled(request, demo, tmp_path_factory) -> tuple[str, RollupResult, Path]:
    lang = request.param
    out = tmp_path_factory.mktemp(f"out-{lang}")
    result = rollup(
        demo[0],
        output=out / "summary.xlsx",
        history=False,
        digest=out / "digest",
        as_of=TODAY,
        lang=lang,
    )
    return lang, result, out / "digest"


def parse(path: Path) -> EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def section(body: str, heading: str) -> list[str]:
    """The ``- item`` lines under a heading of a digest's plain text."""
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    assert set(lines[start + 1]) == {"-"}, "a heading is underlined"
    items = []
    for line in lines[start + 2 :]:
        if not line.startswith("- "):
            break
        items.append(line[2:])
    return items


def by_kam(accounts: list[AccountRecord]) -> dict[str, list[AccountRecord]]:
    out: dict[str, list[AccountRecord]] = {}
    for rec in accounts:
        out.setdefault(rec.kam, []).append(rec)
    return out


def kam_drafts(result: RollupResult) -> dict[str, EmailMessage]:
    """The KAM drafts by KAM: written in KAMs' alphabetical order, the director's last."""
    kams = sorted(by_kam(result.accounts), key=str.casefold)
    assert len(result.digests) == len(kams) + 1
    out = {}
    for kam, path in zip(kams, result.digests, strict=False):
        assert safe_filename(kam, "") in path.name
        out[kam] = parse(path)
    return out


def director_draft(result: RollupResult) -> EmailMessage:
    return parse(result.digests[-1])


def expected_alerts(recs: list[AccountRecord]) -> list[dict[str, Any]]:
    """A KAM's alerts as the summary and the digest order them: most severe first, then account."""
    rows = [al | {"account": r.account} for r in recs for al in r.alerts]
    return sorted(rows, key=lambda a: (SEVERITY_ORDER.index(a["severity"]), a["account"].casefold()))


def text_of(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body((kind,))
    assert part is not None, kind
    return part.get_content()


# -- the digests ---------------------------------------------------------------------------------
def test_one_draft_per_kam_and_one_for_the_director(rolled):
    _, result, folder = rolled
    kams = by_kam(result.accounts)
    assert len(kams) >= 3
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in result.digests)
    assert len(result.digests) == len(kams) + 1
    assert set(kam_drafts(result)) == set(kams)
    assert {str(p) for p in result.digests} <= {str(p) for p in result.written}
    for path in result.digests:
        msg = parse(path)
        assert msg["X-Unsent"] == "1" and msg["X-Uniform-Type-Identifier"] == "com.apple.mail-draft"
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert msg["Date"].datetime.date() == TODAY and msg["Subject"]
        assert "From" not in msg, "the KAM sends it from their own mailbox"


def test_each_kam_draft_is_addressed_to_the_kam_from_the_account_team_sheet(rolled, demo):
    _, result, _ = rolled
    emails: dict[str, set[str]] = {}
    for _, plan in demo[1]:
        for row in plan.tables.get("team", []):
            if row.get("role") == "account_lead" and row.get("name") == plan.kam:
                emails.setdefault(plan.kam, set()).add(row["email"])
    for kam, msg in kam_drafts(result).items():
        (address,) = msg["To"].addresses
        assert address.display_name == kam and {address.addr_spec} == emails[kam]


def test_kam_draft_lists_their_alerts_most_severe_first(rolled):
    lang, result, _ = rolled
    kams = by_kam(result.accounts)
    seen = 0
    for kam, msg in kam_drafts(result).items():
        body, page = text_of(msg, "plain"), text_of(msg, "html")
        listed = section(body, HEADINGS[lang][1])
        want = expected_alerts(kams[kam])
        assert len(listed) == len(want), (kam, listed)
        for line, alert in zip(listed, want, strict=True):
            assert line.startswith(f"{SEVERITY[lang][alert['severity']]} · {alert['account']} · ")
            assert line.endswith(f"{alert['message']} ({alert['sheet']}!{alert['cell']})")
            assert html.escape(alert["message"]) in page
        for rec in kams[kam]:  # the HTML part opens each account's workbook
            link = f'<a href="{html.escape(Path(rec.path).as_uri())}">{html.escape(rec.account)}'
            assert link in page and Path(rec.path).is_file()
        others = [a.account for k, recs in kams.items() if k != kam for a in recs]
        assert not any(line.split(" · ")[1] in others for line in listed)
        seen += len(listed)
    assert seen == sum(len(r.alerts) for r in result.accounts) > 0


def test_kam_draft_lists_overdue_actions_and_rituals_of_the_next_two_weeks(rolled, demo):
    lang, result, _ = rolled
    kams = by_kam(result.accounts)
    plans = {plan.account_id: plan for _, plan in demo[1]}
    counted = Counter()
    for kam, msg in kam_drafts(result).items():
        body = text_of(msg, "plain")
        late = [
            (r.account, a["action"], (TODAY - a["due"]).days)
            for r in kams[kam]
            for a in r.actions
            if a.get("status") not in ("done", "cancelled") and a.get("due") and a["due"] < TODAY
        ]
        listed = section(body, HEADINGS[lang][2])
        assert len(listed) == len(late), (kam, listed, late)
        days = "days late" if lang == "en" else "jours de retard"
        for account, action, n in late:
            assert any(
                line.startswith(f"{account} · {action} (") and f"{n} {days}" in line for line in listed
            )
        assert [int(re.search(r"(\d+) " + days, line)[1]) for line in listed] == sorted(
            (n for *_, n in late), reverse=True
        )
        # rituals: straight from the plans as written, not from the records
        until = TODAY + dt.timedelta(days=14)
        due = [
            (plans[r.account_id].name, row["next_due"])
            for r in kams[kam]
            for row in plans[r.account_id].tables.get("rituals", [])
            if row.get("ritual") and row.get("next_due") and row["next_due"] <= until
        ]
        rituals = section(body, HEADINGS[lang][3])
        assert len(rituals) == len(due), (kam, rituals, due)
        fmt = "%Y-%m-%d" if lang == "en" else "%d/%m/%Y"
        for account, day in due:
            assert any(line.startswith(f"{account} · ") and day.strftime(fmt) in line for line in rituals)
        counted.update(late=len(late), rituals=len(due))
    assert counted["late"] > 0 and counted["rituals"] > 0


def test_director_draft_counts_statuses_and_names_every_at_risk_account(rolled, demo, template):
    lang, result, _ = rolled
    kams = set(by_kam(result.accounts))
    msg = director_draft(result)
    assert "To" not in msg
    body = text_of(msg, "plain")
    statuses = Counter(r.status for r in result.accounts)
    counts = section(body, "Accounts per status" if lang == "en" else "Comptes par statut")
    labels = {"en": ("At risk", "Watch", "Healthy"), "fr": ("À risque", "À surveiller", "Sain")}[lang]
    sep = ": " if lang == "en" else "\u00a0: "
    for label, code in zip(labels, ("at_risk", "watch", "healthy"), strict=True):
        assert f"{label}{sep}{statuses[code]}" in counts, counts
    unrated = f"{template.status['unrated']['label'][lang]}{sep}{statuses['unrated']}"
    assert (unrated in counts) == (statuses["unrated"] > 0), counts
    at_risk = section(body, "At-risk accounts by KAM" if lang == "en" else "Comptes à risque par KAM")
    want = {(r.kam, r.account) for r in result.accounts if r.status == "at_risk"}
    assert {tuple(line.split(sep)[0].split(" · ")) for line in at_risk} == want
    # the demo's at-risk accounts are among them, with their churn signal as a reason
    built = {plan.name for profile, plan in demo[1] if profile == "at_risk"}
    assert built and built <= {account for _, account in want}
    churn = rule_label(template, "churn_risk", lang)
    for line in at_risk:
        if line.split(sep)[0].split(" · ")[1] in built:
            assert churn in line, line
    by = section(body, "By KAM" if lang == "en" else "Par KAM")
    assert [line.split(sep)[0] for line in by] == sorted(kams, key=str.casefold)
    assert str(result.output) in body


def test_digest_speaks_the_summary_language(rolled):
    lang, result, _ = rolled
    kam, greeting, director = {
        "en": ("Your accounts on 2026-11-16:", "Hello ", "Portfolio on 2026-11-16:"),
        "fr": ("Vos comptes au 16/11/2026\u00a0:", "Bonjour ", "Portefeuille au 16/11/2026\u00a0:"),
    }[lang]
    for msg in kam_drafts(result).values():
        assert msg["Subject"].startswith(kam)
        assert text_of(msg, "plain").startswith(greeting)
        assert all(heading in text_of(msg, "plain") for heading in HEADINGS[lang])
    assert director_draft(result)["Subject"].startswith(director)


def test_french_typography_of_the_digest_texts():
    """A no-break space before : ; ? ! in French, as everywhere else in kamxl."""
    texts = Texts("fr", digest_texts_path()).data
    french = [v["fr"] for section in texts.values() for v in section.values()]
    assert len(french) > 20
    assert not [t for t in french if re.search(r" [:;?!](\s|$)", t)]
    assert not [t for t in french if re.search(r"[^\s\d/(\u00a0][:;?!](\s|$)", t)]


def test_no_address_when_none_is_valid_and_distinct_files_for_clashing_names(template, tmp_path):
    plans = [p for _, p in demo_portfolio(template, seed=3, count=3, today=TODAY)]
    plans[0].fields["kam"], plans[1].fields["kam"] = "Ann/Lee", "Ann Lee"
    for row in plans[0].tables["team"]:
        row["email"] = "not an address\nBcc: someone@example.com"
    plans[1].tables["team"] = []
    records = [
        record_from_plan(p, template, file=f"{i}.xlsx", path=str(tmp_path / f"{i}.xlsx"), as_of=TODAY)
        for i, p in enumerate(plans)
    ]
    assert records[0].kam_email == "" and records[1].kam_email == ""
    paths = write_digests(Portfolio(records, template, TODAY), tmp_path / "digest")
    assert len({p.name.casefold() for p in paths}) == len(paths) == 4
    msgs = [parse(path) for path in paths]
    addressed = [("To" in m, "Bcc" in m) for m in msgs]
    assert addressed == [(False, False), (False, False), (True, False), (False, False)]
    assert msgs[2]["To"].addresses[0].addr_spec == records[2].kam_email != ""


def test_cli_writes_the_digests_and_lists_them(demo, tmp_path):
    out = tmp_path / "drafts"
    args = [str(demo[0]), "-o", str(tmp_path / "s.xlsx"), "--no-history", "--digest", str(out)]
    result = CliRunner().invoke(rollup_command, [*args, "--json", "--as-of", TODAY.isoformat(), "-q"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["digests"]
    assert sorted(Path(p).name for p in listed) == sorted(p.name for p in out.iterdir())
    assert all(p.endswith(".eml") for p in listed)


def test_a_digest_folder_that_cannot_be_written_is_reported_and_the_summary_kept(demo, tmp_path):
    blocked = tmp_path / "digest"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    result = rollup(demo[0], output=tmp_path / "s.xlsx", history=False, digest=blocked, as_of=TODAY)
    assert result.output.is_file() and result.digests == [] and result.exit_code == 1
    ((error),) = result.errors
    assert error["output"] == str(blocked) and error["reason"].startswith("digests not written")


def test_digests_from_cached_records_equal_fresh_ones(demo, tmp_path):
    """A second roll-up serves unchanged plans from its cache: the KAM's e-mail, the rituals and
    the alerts survive the trip."""

    def bodies(folder: Path) -> dict[str, list[str]]:
        return {
            p.name: [text_of(parse(p), kind) for kind in ("plain", "html")] for p in sorted(folder.iterdir())
        }

    runs = []
    for name in ("first", "second"):
        result = rollup(demo[0], output=tmp_path / "s.xlsx", digest=tmp_path / name, as_of=TODAY)
        runs.append(bodies(tmp_path / name))
    assert result.from_cache == COUNT
    assert runs[0] == runs[1] and len(runs[0]) > 2


def test_nothing_is_ever_sent():
    """No module of kamxl imports a mail-sending library or calls one."""
    sending = {"smtplib", "imaplib", "poplib"}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & sending, path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in sending, path
            elif isinstance(node, ast.Attribute):
                assert node.attr not in ("sendmail", "send_message"), path
    assert "smtplib" not in (PACKAGE / "rollup" / "digest.py").read_text()


# -- the summary: Alerts sheet and status counts -------------------------------------------------
def test_alerts_sheet_by_kam_most_severe_first_linked_to_the_plan_cell(rolled):
    lang, result, _ = rolled
    wb = openpyxl.load_workbook(result.output)
    ws = wb["Alerts" if lang == "en" else "Alertes"]
    rows = table_rows(ws, "Alerts")
    assert len(rows) == sum(len(r.alerts) for r in result.accounts) > 0
    kam, severity, account, message, sheet, cell, link = (
        text(key, lang)
        for key in (
            "col_kam",
            "col_severity",
            "col_account",
            "col_message",
            "col_sheet",
            "col_cell",
            "col_go_to",
        )
    )
    records = {r.account: r for r in result.accounts}
    keys = list(rows[0])
    order = [(r[kam].casefold(), list(SEVERITY[lang].values()).index(r[severity])) for r in rows]
    assert order == sorted(order), "by KAM, most severe first"
    for r in rows:
        rec = records[r[account]]
        assert r[kam] == rec.kam
        assert {"message": r[message], "sheet": r[sheet], "cell": r[cell]} in [
            {k: al[k] for k in ("message", "sheet", "cell")} for al in rec.alerts
        ]
    # each row links to its plan, at the alert's sheet and cell
    table = ws.tables["Alerts"]
    first = openpyxl.utils.cell.range_boundaries(table.ref)
    col = first[0] + keys.index(link)
    for i, r in enumerate(rows):
        target = ws.cell(first[1] + 1 + i, col).hyperlink
        assert target is not None, r
        href = (target.target or "") + ("#" + target.location if target.location else "")
        assert Path(records[r[account]].file).name in href.replace("%20", " ")
        assert href.endswith(f"!{r[cell]}") and r[sheet] in href.replace("''", "'")
    # high rows red, medium amber: text criteria quoted, or spreadsheets read them as names
    rules = [r for cf in ws.conditional_formatting for r in cf.rules if r.type == "cellIs"]
    assert {tuple(r.formula) for r in rules} >= {(f'"{label}"',) for label in SEVERITY[lang].values()}
    by_severity = Counter(r[severity] for r in rows)
    assert by_severity[SEVERITY[lang]["high"]] == sum(
        al["severity"] == "high" for rec in result.accounts for al in rec.alerts
    )


def overview_status_counts(wb: Any, lang: str, template: Template) -> dict[str, Any]:
    ws = wb["Overview" if lang == "en" else "Synthèse"]
    labels = {code: template.status[code]["label"][lang] for code in STATUS_CODES}
    out = {}
    for row in ws.iter_rows():
        for c in row:
            for code, label in labels.items():
                if c.value == label:
                    out[code] = ws.cell(c.row + 1, c.column).value
    return out


def expected_status_counts(result: RollupResult) -> dict[str, int]:
    """Accounts per status; incomplete and unrated have a tile only when there are some."""
    statuses = Counter(r.status for r in result.accounts)
    optional = ("incomplete", "unrated")
    return {code: statuses[code] for code in STATUS_CODES if code not in optional or statuses[code]}


def test_overview_status_counts_match_the_records(rolled, template):
    lang, result, _ = rolled
    counts = overview_status_counts(openpyxl.load_workbook(result.output), lang, template)
    assert counts == expected_status_counts(result)
    assert sum(counts.values()) == COUNT and counts["at_risk"] > 0 and counts["healthy"] > 0


def test_libreoffice_recalculates_the_summary_without_formula_errors(rolled, template, lo_recalc, tmp_path):
    lang, result, _ = rolled
    report = lo_recalc([result.output], save_as_xlsx=tmp_path)[str(result.output)]
    assert not report.get("errors"), report.get("errors")
    (again,) = tmp_path.glob("*.xlsx")
    wb = openpyxl.load_workbook(again, data_only=True)
    assert overview_status_counts(wb, lang, template) == expected_status_counts(result)
    ws = wb["Alerts" if lang == "en" else "Alertes"]
    messages = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    for rec in result.accounts:
        for al in rec.alerts:
            assert al["message"] in messages
