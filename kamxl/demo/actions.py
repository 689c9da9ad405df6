"""The demo's action plan: done, open, planned, blocked and overdue actions with their comments."""

from __future__ import annotations

import datetime as dt

from ..model import Row
from .account import Account
from .content import Text, content


def add_actions(acc: Account) -> None:
    rng, p = acc.rng, acc.p
    count = rng.randint(*p.actions)
    overdue = min(count, rng.randint(*p.overdue))
    states = ["overdue"] * overdue + rng.choices(
        ("done", "open", "planned", "blocked", "cancelled"), weights=p.action_mix, k=count - overdue
    )
    rng.shuffle(states)
    texts = rng.sample(content("actions")["actions"], count)
    rows = [_action(acc, text, state) for text, state in zip(texts, states, strict=True)]
    rows.sort(key=lambda r: r["due"])
    acc.plan.tables["actions"] = rows


def _action(acc: Account, text: Text, state: str) -> Row:
    rng = acc.rng
    old = acc.key == "stale"
    done_date = None
    if state == "overdue":
        status = rng.choice(("in_progress", "in_progress", "not_started", "blocked"))
        due = acc.ago(40, 200) if old else acc.ago(3, 60)
        start = due - dt.timedelta(days=rng.randint(14, 60))
    elif state == "done":
        status = "done"
        due = acc.ago(60, 330) if old else acc.ago(-20, 150)
        start = due - dt.timedelta(days=rng.randint(14, 60))
        done_date = min(acc.today, max(start, due + dt.timedelta(days=rng.randint(-15, 7))))
    elif state == "planned":
        status = "not_started"
        start = acc.ahead(0, 30)
        due = start + dt.timedelta(days=rng.randint(14, 60))
    else:
        status = {"open": "in_progress", "blocked": "blocked", "cancelled": "cancelled"}[state]
        start = acc.ago(5, 60)
        due = acc.ahead(5, 75)
    start = max(start, acc.plan_start - dt.timedelta(days=30))
    ctx = acc.context()
    comment_pool = content("actions")["comments"].get(
        {"overdue": "blocked" if status == "blocked" else "open", "planned": "open"}.get(state, state)
    )
    return {
        "action": acc.t(text, **ctx),
        "objective": rng.choice(acc.objective_names) if acc.objective_names and rng.random() < 0.8 else None,
        "stakeholder": ctx["stakeholder"],
        "owner": acc.owner(),
        "start": start,
        "due": due,
        "status": status,
        "done_date": done_date,
        "comment": acc.pick(comment_pool, **ctx) if comment_pool and rng.random() < 0.7 else None,
    }
