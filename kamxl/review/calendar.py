"""The review calendar (iCalendar) and the fortnightly update e-mail (an .eml draft).

Governance rituals become recurring events at their frequency, the next review and the open
actions' due dates become dated events. Events are all-day (the plan holds dates, not times)
and carry stable UIDs, so importing a newer calendar into Outlook or Google Calendar updates
the events instead of duplicating them. The e-mail tells the client only what may leave the
company: actions done and coming, KPIs, the next review.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event

from ..drafts import draft_email, write_draft
from ..fileio import atomic_write_bytes
from ..model import Plan
from ..scoring import as_date
from ..template import Template
from ..xmltext import one_line
from .changes import Changes
from .client import client_change_items, client_plan
from .texts import Texts, choice

# Frequency code -> RRULE parts. A quarter is three months: RFC 5545 has no QUARTERLY.
RRULES: dict[str, dict[str, Any]] = {
    "weekly": {"freq": "weekly"},
    "biweekly": {"freq": "weekly", "interval": 2},
    "monthly": {"freq": "monthly"},
    "quarterly": {"freq": "monthly", "interval": 3},
    "half_yearly": {"freq": "monthly", "interval": 6},
    "yearly": {"freq": "yearly"},
}
COMING_DAYS = 14  # "coming up" in the update e-mail: the fortnight ahead


def _uid(plan: Plan, *parts: Any) -> str:
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:12]
    return f"{plan.account_id}-{digest}@kamxl"


def _plan_end(plan: Plan) -> dt.date | None:
    start, months = as_date(plan.fields.get("plan_start")), plan.fields.get("plan_horizon_months")
    if not start or not isinstance(months, int | float) or months <= 0:
        return None
    month = start.month - 1 + int(months)
    year, month = start.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(start.day, 28))


def _event(plan: Plan, uid_parts: tuple[Any, ...], summary: str, day: dt.date, stamp: dt.datetime) -> Event:
    event = Event()
    event.add("uid", _uid(plan, *uid_parts))
    event.add("dtstamp", stamp)
    event.add("summary", summary)
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("transp", "TRANSPARENT")  # a reminder, not a block of busy time
    return event


def plan_events(plan: Plan, template: Template, *, as_of: dt.date | None = None) -> list[Event]:
    """The rituals (recurring), the next review and the open actions' due dates of one plan:
    what the client may see of it (a calendar is shared with the client's people)."""
    plan = client_plan(plan, template)
    day = as_of or dt.date.today()
    stamp = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    lang = plan.lang if plan.lang in ("en", "fr") else "en"
    t = Texts(lang)
    client = one_line(plan.name) or "–"
    until = _plan_end(plan)
    events = []
    for row in plan.rows("rituals", template):
        code, freq = row.get("ritual"), row.get("frequency")
        start = as_date(row.get("next_due")) or as_date(row.get("last_held"))
        if not start:
            continue
        name = choice(template, "ritual", code, lang)
        event = _event(plan, ("ritual", code), t("calendar.ritual", ritual=name, client=client), start, stamp)
        if freq in RRULES:
            rule = dict(RRULES[freq])
            if until and until > start:
                rule["until"] = until
            event.add("rrule", rule)
        if row.get("participants"):
            event.add("description", t("calendar.participants", text=row["participants"]))
        events.append(event)
    review = as_date(plan.fields.get("next_review"))
    if review:
        events.append(_event(plan, ("review",), t("calendar.review", client=client), review, stamp))
    for row in plan.rows("actions", template):
        due = as_date(row.get("due"))
        if not due or row.get("status") in ("done", "cancelled"):
            continue
        event = _event(
            plan,
            ("action", row.get("action")),
            t("calendar.action", action=row.get("action"), client=client),
            due,
            stamp,
        )
        if row.get("owner"):
            event.add("description", t("calendar.owner", text=row["owner"]))
        events.append(event)
    return events


def build_calendar(events: list[Event], name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//kamxl//account reviews//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", one_line(name))
    for event in events:
        cal.add_component(event)
    return cal


def write_calendar(events: list[Event], path: str | Path, name: str) -> Path:
    """Write an .ics file (CRLF line endings, as RFC 5545 asks) atomically."""
    return atomic_write_bytes(path, build_calendar(events, name).to_ical())


# -- the fortnightly update e-mail --------------------------------------------------------------
def update_email(
    plan: Plan,
    template: Template,
    changes: Changes,
    *,
    as_of: dt.date | None = None,
    sender: str | None = None,
) -> EmailMessage:
    """A draft of the update e-mail to the client's main contact, from what changed: only what
    the client may see (:mod:`.client`)."""
    plan = client_plan(plan, template)
    changes = client_change_items(changes, plan, template)
    day = as_of or dt.date.today()
    lang = plan.lang if plan.lang in ("en", "fr") else "en"
    t = Texts(lang)
    client = one_line(plan.name) or "–"
    contact = str(plan.fields.get("main_contact") or "").strip()
    first = contact.split()[0] if contact else ""
    lines = [t("mail.greeting", name=first) if first else t("mail.greeting_all"), ""]
    lines.append(t("mail.intro", date=t.date(changes.since)) if changes.since else "")
    done = [c.text(t) for c in changes.of("action_done")]
    done += [c.text(t) for c in changes.of("opportunity_won")]
    coming = [
        f"{row.get('action')} ({t.date(row.get('due'))})"
        for row in plan.rows("actions", template)
        if row.get("status") not in ("done", "cancelled")
        and (due := as_date(row.get("due")))
        and day <= due <= day + dt.timedelta(days=COMING_DAYS)
    ]
    kpis = [c.text(t) for c in changes.of("kpi")]
    for title, items in (("mail.done", done), ("mail.coming", coming), ("mail.kpis", kpis)):
        if items:
            lines += ["", t(title), *(f"- {item}" for item in items)]
    if not (done or coming or kpis):
        lines += ["", t("mail.nothing")]
    if review := as_date(plan.fields.get("next_review")):
        lines += ["", t("mail.next_review", date=t.date(review))]
    lines += ["", t("mail.closing"), plan.kam or ""]
    return draft_email(
        t("mail.subject", client=client, date=t.date(day)),
        "\n".join(lines).replace("\n\n\n", "\n\n") + "\n",
        day=day,
        to=(contact, str(plan.fields.get("main_contact_email") or "")),
        sender=sender,
    )


def write_email(msg: EmailMessage, out_dir: str | Path, plan: Plan, day: dt.date) -> Path:
    return write_draft(msg, out_dir, f"{plan.name or 'account'} update {day.isoformat()}")
