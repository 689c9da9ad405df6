"""The roll-up's e-mail digests: one draft per KAM and one for the director, never sent.

A KAM's digest lists their accounts' status, the alerts (most severe first, with the sheet and
cell to open), the overdue actions and the rituals due in the next two weeks; it is addressed
to the KAM when a plan's Account team sheet holds their e-mail. The director's digest is the
portfolio view: accounts per status, the at-risk accounts by KAM and each KAM's counts. The
lists come from the same roll-up records and views as the summary workbook, so a digest and
the summary's Alerts sheet always agree. Texts: workbook_templates/digest.toml.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ..drafts import draft_email, write_draft
from ..model import Row
from ..paths import MAX_STEM, safe_filename
from ..review.calendar import COMING_DAYS
from ..review.texts import Texts, choice
from ..scoring import as_date
from ..template import default_template_path
from .portfolio import Portfolio
from .records import AccountRecord

STATUS_ORDER = {"at_risk": 0, "watch": 1, "healthy": 2, "unrated": 3}
MISMATCHES = 3  # accounts the director's digest names whose days do not match their tier


def digest_texts_path() -> Path:
    return default_template_path().with_name("digest.toml")


@dataclass
class KamDigest:
    """What one KAM's draft lists, in the order it lists it."""

    kam: str
    email: str  # "" when none of their plans holds it
    accounts: list[AccountRecord]
    alerts: list[Row] = field(default_factory=list)  # rows of Portfolio.alerts_view, most severe first
    overdue: list[Row] = field(default_factory=list)  # account, action, owner, due, days
    rituals: list[Row] = field(default_factory=list)  # account, ritual, due, overdue

    def counts(self) -> Counter[str]:
        return Counter(a.status for a in self.accounts)


def kam_digests(portfolio: Portfolio) -> list[KamDigest]:
    """One digest per KAM (accounts without a KAM together), KAMs in alphabetical order."""
    p = portfolio
    by_kam: dict[str, list[AccountRecord]] = {}
    for rec in sorted(p.accounts, key=lambda a: (STATUS_ORDER.get(a.status, 9), a.account.casefold())):
        by_kam.setdefault(rec.kam.strip(), []).append(rec)
    alerts = p.alerts_view().rows
    overdue = sorted(
        ((rec, row, late) for rec, row, late in p.upcoming_actions() if late > 0),
        key=lambda item: (-item[2], item[0].account.casefold()),
    )
    until = p.as_of + dt.timedelta(days=COMING_DAYS)
    out = []
    for kam in sorted(by_kam, key=str.casefold):
        recs = by_kam[kam]
        ids = {id(r) for r in recs}
        emails = Counter(r.kam_email for r in recs if r.kam_email)
        digest = KamDigest(kam, emails.most_common(1)[0][0] if emails else "", recs)
        digest.alerts = [row for row in alerts if row["kam"].strip() == kam]
        digest.overdue = [
            {
                "account": rec.account,
                "action": row.get("action"),
                "owner": row.get("owner"),
                "due": as_date(row.get("due")),
                "days": late,
            }
            for rec, row, late in overdue
            if id(rec) in ids
        ]
        rituals = [
            {
                "account": rec.account,
                "ritual": choice(p.template, "ritual", row.get("ritual"), p.lang),
                "due": due,
                "overdue": due < p.as_of,
            }
            for rec in recs
            for row in rec.rituals
            if (due := as_date(row.get("next_due"))) is not None and due <= until
        ]
        digest.rituals = sorted(rituals, key=lambda r: (r["due"], r["account"].casefold()))
        out.append(digest)
    return out


class _Body:
    """A message built once and rendered twice: plain text and its HTML alternative."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, Any]] = []

    def para(self, text: str) -> None:
        self.parts.append(("p", text))

    def section(self, title: str, items: list[str], empty: str, links: list[str] | None = None) -> None:
        """A heading and its list; ``links``: a file for each item, linked in the HTML part."""
        self.parts.append(("h", title))
        self.parts.append(
            ("ul", list(zip(items, links or [""] * len(items), strict=True))) if items else ("p", empty)
        )

    def link(self, text: str, path: str) -> None:
        self.parts.append(("a", (text, path)))

    def text(self) -> str:
        lines: list[str] = []
        for kind, value in self.parts:
            if kind == "h":
                lines += ["", value, "-" * len(value)]
            elif kind == "ul":
                lines += [f"- {item}" for item, _ in value]
            elif kind == "a":
                lines += ["", value[0]]
            else:
                lines += ["", value]
        return "\n".join(lines).strip("\n") + "\n"

    def html(self, title: str) -> str:
        out = [
            "<!DOCTYPE html>",
            '<html><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title></head>",
            '<body style="font-family: Calibri, Arial, sans-serif; font-size: 11pt; color: #1F1F1F">',
        ]
        for kind, value in self.parts:
            if kind == "h":
                out.append(f'<h3 style="color: #1F3864; margin: 14px 0 4px">{html.escape(value)}</h3>')
            elif kind == "ul":
                out.append(
                    "<ul>" + "".join(f"<li>{_anchor(item, path)}</li>" for item, path in value) + "</ul>"
                )
            elif kind == "a":
                out.append(f"<p>{_anchor(*value)}</p>")
            else:
                out.append(f"<p>{html.escape(value)}</p>")
        out.append("</body></html>")
        return "\n".join(out) + "\n"


def _anchor(text: str, path: str) -> str:
    """The text, linked to the file when there is one (a file: URI for an absolute path)."""
    if not path:
        return html.escape(text)
    href = Path(path).as_uri() if Path(path).is_absolute() else path
    return f'<a href="{html.escape(href)}">{html.escape(text)}</a>'


def _message(subject: str, body: _Body, day: dt.date, to: tuple[str, str] | None) -> EmailMessage:
    return draft_email(subject, body.text(), day=day, to=to, html=body.html(subject))


def kam_message(digest: KamDigest, portfolio: Portfolio) -> EmailMessage:
    """The draft to one KAM, in the summary's language."""
    p, t = portfolio, Texts(portfolio.lang, digest_texts_path())
    counts = digest.counts()
    name = digest.kam or t("kam.no_kam")
    body = _Body()
    first = digest.kam.split()[0] if digest.kam else ""
    body.para(t("kam.greeting", name=first) if first else t("kam.greeting_all"))
    body.para(t("kam.intro", date=t.date(p.as_of)))
    body.section(
        t("kam.accounts"),
        [
            t(
                "kam.account_line",
                account=a.account,
                status=p.status_label(a.status),
                tier=p.tier_label(a.tier),
            )
            for a in digest.accounts
        ],
        "",
        [a.path for a in digest.accounts],
    )
    body.section(
        t("kam.alerts"),
        [
            t(
                "kam.alert_line",
                severity=row["severity"],
                account=row["account"],
                rule=row["rule"],
                message=row["message"],
                sheet=row["sheet"],
                cell=row["cell"],
            )
            for row in digest.alerts
        ],
        t("kam.no_alerts"),
    )
    body.section(
        t("kam.overdue"),
        [
            t(
                "kam.overdue_line",
                account=row["account"],
                action=row["action"],
                due=t.date(row["due"]),
                days=row["days"],
                owner=t("kam.owner", name=row["owner"]) if row["owner"] else "",
            )
            for row in digest.overdue
        ],
        t("kam.no_overdue"),
    )
    body.section(
        t("kam.rituals", date=t.date(p.as_of + dt.timedelta(days=COMING_DAYS))),
        [
            t(
                "kam.ritual_late" if row["overdue"] else "kam.ritual_line",
                account=row["account"],
                ritual=row["ritual"],
                due=t.date(row["due"]),
            )
            for row in digest.rituals
        ],
        t("kam.no_rituals"),
    )
    _forecast_sections(body, p, kam=digest.kam)
    body.para(t("kam.closing"))
    subject = t("kam.subject", date=t.date(p.as_of), at_risk=counts["at_risk"], alerts=len(digest.alerts))
    return _message(subject, body, p.as_of, (name, digest.email) if digest.email else None)


def director_message(
    digests: list[KamDigest], portfolio: Portfolio, summary: str | Path | None = None
) -> EmailMessage:
    """The portfolio draft for the director: counts, at-risk accounts by KAM, each KAM's figures."""
    p, t = portfolio, Texts(portfolio.lang, digest_texts_path())
    statuses = p.status_counts()
    severities = Counter(row["rank"] for d in digests for row in d.alerts)
    overdue = sum(len(d.overdue) for d in digests)
    body = _Body()
    body.para(t("director.greeting"))
    body.para(t("director.intro", date=t.date(p.as_of), accounts=len(p.accounts), kams=len(digests)))
    body.section(
        t("director.counts"),
        [
            t("director.count_line", status=p.status_label(code), count=statuses.get(code, 0))
            for code in STATUS_ORDER
            if code != "unrated" or statuses.get(code)  # new plans: listed when there are some
        ]
        + [t("director.alert_counts", high=severities[0], medium=severities[1], overdue=overdue)],
        "",
    )
    at_risk = []
    for d in digests:
        for a in d.accounts:
            if a.status != "at_risk":
                continue
            reasons = list(
                dict.fromkeys(row["rule"] for row in d.alerts if row["account_id"] == a.account_id)
            )
            at_risk.append(
                t(
                    "director.at_risk_line",
                    kam=d.kam or t("kam.no_kam"),
                    account=a.account,
                    reasons=t("director.reasons_separator").join(reasons),
                )
            )
    body.section(t("director.at_risk"), at_risk, t("director.no_at_risk"))
    body.section(
        t("director.by_kam"),
        [
            t(
                "director.kam_line",
                kam=d.kam or t("kam.no_kam"),
                accounts=len(d.accounts),
                at_risk=d.counts()["at_risk"],
                watch=d.counts()["watch"],
                healthy=d.counts()["healthy"],
                alerts=len(d.alerts),
                overdue=len(d.overdue),
            )
            for d in digests
        ],
        "",
    )
    _forecast_sections(body, p)
    if summary:
        body.link(t("director.summary", path=str(summary)), str(summary))
    body.para(t("director.closing"))
    subject = t(
        "director.subject",
        date=t.date(p.as_of),
        at_risk=statuses.get("at_risk", 0),
        accounts=len(p.accounts),
    )
    return _message(subject, body, p.as_of, None)


def _forecast_sections(body: _Body, p: Portfolio, kam: str | None = None) -> None:
    """Each KAM's declared probability against deals won, and the three accounts whose days are
    furthest from what their tier and value call for (the summary's Forecast and Capacity sheets).
    A KAM's digest (``kam``) gives their own record only."""
    from .capacity import capacity
    from .forecast import kam_name
    from .forecast_sheets import forecast_texts_path

    t = Texts(p.lang, forecast_texts_path())
    state = p.forecast
    records = state.calibration.by_kam if state is not None else {}
    if kam is not None:
        records = {k: v for k, v in records.items() if k == kam_name(kam)}
    body.section(
        t("digest.forecast"),
        [
            t(
                "digest.forecast_line",
                kam=kam or t("forecast.portfolio"),
                declared=t.percent(rec.mean_declared),
                won=rec.wins,
                deals=rec.deals,
                rate=t.percent(rec.win_rate),
            )
            for kam, rec in sorted(records.items(), key=lambda kv: -abs(kv[1].overstatement or 0))
        ],
        t("digest.no_forecast"),
    )
    if kam is not None:
        return
    lines = [
        t(
            f"digest.{x.verdict}_line",
            account=x.account.account,
            kam=x.account.kam,
            tier=p.tier_label(x.account.tier),
            days=f"{x.days:g}",
            expected=f"{x.expected:.1f}",
        )
        for x in capacity(p.accounts, p.template, p.as_of).mismatches(MISMATCHES)
    ]
    body.section(t("digest.mismatches"), lines, t("digest.no_mismatch"))


def write_digests(
    portfolio: Portfolio, out_dir: str | Path, *, summary: str | Path | None = None
) -> list[Path]:
    """Write one draft per KAM and the director's into ``out_dir`` (created); returns the paths.

    Each file is written atomically; two KAMs whose names make the same file name get a number.
    """
    t = Texts(portfolio.lang, digest_texts_path())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    day = portfolio.as_of.isoformat()
    digests = kam_digests(portfolio)
    written: list[Path] = []
    used: set[str] = set()
    drafts = [
        (kam_message(d, portfolio), t("kam.file", kam=d.kam or t("kam.no_kam"), date=day)) for d in digests
    ]
    drafts.append((director_message(digests, portfolio, summary), t("director.file", date=day)))
    for msg, stem in drafts:
        stem = stem[: MAX_STEM - 6]  # room for " (n)" within the file name's limit
        unique, n = stem, 1
        while safe_filename(unique, ".eml").casefold() in used:
            n += 1
            unique = f"{stem} ({n})"
        used.add(safe_filename(unique, ".eml").casefold())
        written.append(write_draft(msg, out, unique))
    return written
