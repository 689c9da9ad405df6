"""The demo's governance (rituals held or late, the decision log) and the account assessment."""

from __future__ import annotations

import datetime as dt

from ..model import Row
from .account import Account
from .content import Text, content


def add_governance(acc: Account) -> None:
    rng, texts = acc.rng, content("governance")
    for row in acc.plan.tables["rituals"]:
        period = texts["ritual_days"].get(str(row.get("frequency")), 91)
        if acc.p.rituals and row["ritual"] not in acc.p.rituals:
            continue  # a ritual the account does not hold
        names = rng.sample([r["name"] for r in acc.people], min(2, len(acc.people)))
        row["participants"] = f"{', '.join(names)}; {acc.kam}, {rng.choice(acc.colleagues)}"
        if acc.key == "new":
            row["next_due"] = acc.ahead(3, min(period, 45))
            continue
        if rng.random() < acc.p.late_rituals:
            row["last_held"] = acc.ago(period + 10, period + 150)
        else:
            row["last_held"] = acc.ago(1, max(2, period - 3))
        row["next_due"] = row["last_held"] + dt.timedelta(days=period)
    count = rng.randint(0, 1) if acc.key == "new" else rng.randint(2, 5)
    acc.plan.tables["decisions"] = sorted(
        (
            _decision(acc, entry["decision"], entry["comment"])
            for entry in rng.sample(texts["decisions"], count)
        ),
        key=lambda r: r["date"],
    )


def _decision(acc: Account, decision: Text, comment: Text) -> Row:
    ctx = acc.context()
    oldest = (acc.today - acc.plan_start).days + 30
    return {
        "date": acc.ago(7, max(8, oldest)),
        "decision": acc.t(decision, **ctx),
        "owner": acc.owner(),
        "comment": acc.t(comment, **ctx),
    }


def add_assessment(acc: Account) -> None:
    """Ratings within the profile's ranges, with the evidence a KAM would write beside them."""
    p = acc.p
    if p.attractiveness is None or p.position is None:
        return  # not assessed yet: the account stays unrated
    evidence = content("governance")["evidence"]
    bounds = {"attractiveness": p.attractiveness, "position": p.position}
    for index, row in enumerate(acc.plan.tables["assessment"]):
        rating = acc.rng.randint(*bounds.get(str(row.get("axis")), (2, 4)))
        row["rating"] = rating
        if index < len(evidence) and acc.rng.random() < 0.85:
            entry = evidence[index]
            row["comment"] = acc.t(
                entry["high"] if rating >= 4 else entry["middle"] if rating == 3 else entry["low"]
            )
