"""The demo's strategy sheets: the client's objectives, ours (SMART or not quite), and the SWOT."""

from __future__ import annotations

from typing import Any

from ..model import Row
from .account import Account
from .content import Text, content

SWOT_QUADRANTS = ("strengths", "weaknesses", "opportunities", "threats")


def add_objectives(acc: Account) -> None:
    rng, texts = acc.rng, content("objectives")
    count = 1 if acc.key == "new" else rng.randint(2, 4)
    pool = [o for o in texts["client_objectives"] if acc.sector in o.get("sectors", (acc.sector,))]
    acc.plan.tables["client_objectives"] = [
        {
            "objective": acc.t(obj["objective"]),
            "kpi": acc.t(obj["kpi"]),
            "budget": acc.money(1e5, 5e6, step=50_000) if rng.random() < 0.8 else None,
            "challenges": acc.t(obj["challenges"]),
        }
        for obj in rng.sample(pool, count)
    ]
    types = [t for t in texts["ours"] if t in acc.template.choices["objective_type"]]
    rng.shuffle(types)
    count = rng.randint(*acc.p.objectives)
    kinds = [types[i % len(types)] for i in range(count)]
    rows = [_our_objective(acc, kind, texts["ours"][kind]) for kind in kinds]
    acc.objective_names = [r["objective"] for r in rows]
    acc.plan.tables["objectives"] = rows


def _our_objective(acc: Account, kind: str, pool: list[dict[str, Text]]) -> Row:
    rng = acc.rng
    entry = rng.choice(pool)
    metric = entry["metric"]
    status = rng.choice(acc.p.objective_statuses)
    progress = {"achieved": 1.0, "not_started": 0.0, "missed": acc.between(0.2, 0.6, 0.05)}.get(
        status, acc.between(0.2, 0.8, 0.05) if status == "on_track" else acc.between(0.05, 0.4, 0.05)
    )
    if "%" in metric["en"]:
        target: float = rng.choice((30, 35, 40))
    elif kind == "renewal":
        target = 3 * acc.plan.tables["contracts"][0]["annual_value"]
    elif "€" in metric["en"]:
        target = acc.money(0.1 * acc.revenue + 30_000, 0.5 * acc.revenue + 60_000, step=10_000)
    else:
        target = rng.randint(1, 6)
    stale_deadline = acc.key == "stale" and rng.random() < 0.5
    deadline = acc.ago(10, 90) if stale_deadline or status == "missed" else acc.ahead(45, 330)
    if status == "achieved":
        deadline = acc.ago(5, 60)
    owned = kind in ("upsell", "renewal", "expansion")
    offers = [o for o in acc.offers if (o in acc.owned_offers) == owned] or acc.offers
    offer = rng.choice(offers)
    context = acc.context(offer=acc.offer_label(offer))
    row: Row = {
        "objective": acc.t(entry["objective"], **context),
        "type": kind,
        "metric": acc.t(metric),
        "target": target,
        "deadline": deadline,
        "owner": acc.owner(),
        "status": status,
        "progress": progress,
    }
    if rng.random() < acc.p.smart_gaps:
        row[rng.choice(("metric", "target", "deadline", "owner"))] = None
    return row


def _swot_cells(english: str) -> dict[str, list[Any]]:
    texts = content("swot")
    if english in texts["dimensions"]:
        return texts["dimensions"][english]
    # Two variants per quadrant like every listed dimension, so a template's own dimension
    # takes the same draws.
    return {quadrant: [text, text] for quadrant, text in texts["generic"].items()}


def add_swot(acc: Account) -> None:
    catalogue = acc.template.catalogue["swot_dimensions"]
    rows = acc.plan.tables["swot"]
    filled = acc.rng.sample(range(len(rows)), min(len(rows), 3)) if acc.key == "new" else range(len(rows))
    for index in filled:
        english = catalogue[index]["en"].lower() if index < len(catalogue) else ""
        cells = _swot_cells(english)
        for quadrant in SWOT_QUADRANTS:
            if acc.key == "new" and acc.rng.random() < 0.4:
                continue
            rows[index][quadrant] = acc.pick(cells[quadrant], **acc.context())
