"""The demo's whitespace (business unit x offer) and the opportunities drawn from it."""

from __future__ import annotations

import datetime as dt

from ..model import Row
from .account import Account
from .content import content


def add_whitespace_and_opportunities(acc: Account) -> None:
    rows = acc.plan.tables["whitespace"]
    _whitespace_status(acc, rows)
    opportunities = _opportunities(acc, rows)
    steps = content("pipeline")["whitespace_steps"]
    for row in rows:
        if row.get("status") in steps and (row["status"] != "owned" or acc.rng.random() < 0.3):
            row["next_step"] = acc.pick(steps[row["status"]], **acc.context())
    acc.plan.tables["opportunities"] = opportunities


def _whitespace_status(acc: Account, rows: list[Row]) -> None:
    """Owned where a contract runs (always at head office), whitespace or not applicable elsewhere."""
    rng = acc.rng
    owned_mix, white_mix, na_mix = acc.p.whitespace_mix
    owned_rows = []
    for row in rows:
        if row["offer"] in acc.owned_offers and row["bu"] == acc.bus[0]:
            status = "owned"  # every contract runs at least at head office
        elif row["offer"] in acc.owned_offers:
            status = rng.choices(
                ("owned", "whitespace", "not_applicable"), (owned_mix + 0.3, white_mix, na_mix)
            )[0]
        else:
            status = rng.choices(("whitespace", "not_applicable"), (white_mix, na_mix))[0]
        row["status"] = status
        if status == "owned":
            owned_rows.append(row)
        elif status == "whitespace":
            row["potential"] = acc.money(15_000, 60_000 + 0.12 * acc.revenue, step=5000)
    for offer, contract in acc.contracts_by_offer.items():
        rows_of_offer = [r for r in owned_rows if r["offer"] == offer]
        weights = [rng.uniform(0.5, 2) for _ in rows_of_offer]
        for row, weight in zip(rows_of_offer, weights, strict=True):
            row["current_revenue"] = int(round(contract["annual_value"] * weight / sum(weights), -3))
            if rng.random() < 0.3:
                row["potential"] = acc.money(10_000, 40_000 + 0.05 * acc.revenue, step=5000)


def _opportunities(acc: Account, whitespace: list[Row]) -> list[Row]:
    """New business in whitespace cells, upsell, renewal and expansion where we are."""
    rng = acc.rng
    count = rng.randint(*acc.p.opportunities)
    white = [r for r in whitespace if r.get("status") == "whitespace"]
    owned = [r for r in whitespace if r.get("status") == "owned"]
    result: list[Row] = []
    renewed: set[str] = set()
    for index in range(count):
        if (index % 2 == 0 or not owned) and white:
            row = white.pop(rng.randrange(len(white)))
            kind = rng.choice(("cross_sell", "new_business"))
            row["status"] = "pipeline"
        else:
            kind = rng.choice(("upsell", "renewal", "expansion"))
            due = [r for r in owned if r["bu"] == acc.bus[0] and r["offer"] not in renewed]
            if kind == "renewal" and not due:
                kind = "upsell"
            row = rng.choice(due if kind == "renewal" else owned)
            if kind == "renewal":
                renewed.add(row["offer"])
        result.append(_opportunity(acc, row, kind, closed=index >= 2 and _closed_deal(acc)))
        if row["status"] == "pipeline":
            row["potential"] = result[-1]["amount"]
    return result


def _closed_deal(acc: Account) -> bool:
    return acc.key in ("healthy", "steady", "at_risk") and acc.rng.random() < 0.35


def _opportunity(acc: Account, row: Row, kind: str, *, closed: bool) -> Row:
    rng, texts = acc.rng, content("pipeline")
    offer = row["offer"]
    if closed:
        stage = "won" if rng.random() < (0.7 if acc.key == "healthy" else 0.4) else "lost"
        probability = 1.0 if stage == "won" else 0.0
        close = acc.ago(10, 150)
    else:
        probability = acc.between(*acc.p.probability, step=0.05)
        stage = stage_of(probability)
        if kind == "renewal" and stage in ("prospecting", "qualification"):
            stage = "proposal"  # a renewal is always on the table
        slipped = acc.key in ("stale", "at_risk") and rng.random() < 0.4
        close = acc.ago(5, 60) if slipped else acc.ahead(15, 240)
    contract = acc.contracts_by_offer.get(offer)
    if kind == "renewal" and contract:
        amount = contract["annual_value"]
        notice = dt.timedelta(days=rng.randint(0, 30))
        if not closed and contract["renewal"] - dt.timedelta(days=30) > acc.today:
            close = contract["renewal"] - notice
    elif kind == "upsell":
        amount = acc.money(20_000, 40_000 + 0.2 * acc.revenue, step=5000)
    else:
        amount = acc.money(30_000, 80_000 + 0.3 * acc.revenue, step=5000)
    name = acc.t(
        texts["opportunity_names"][kind],
        offer=acc.offer_label(offer),
        offer_cap=acc.offer_label(offer, capital=True),
        bu=row["bu"],
        year=close.year,
    )
    return {
        "name": name,
        "type": kind,
        "offer": offer,
        "bu": row["bu"],
        "amount": amount,
        "probability": probability,
        "stage": stage,
        "expected_close": close,
        "next_step": acc.pick(texts["opportunity_steps"][stage], **acc.context()),
        "owner": acc.kam if rng.random() < 0.8 else rng.choice(acc.colleagues),
    }


def stage_of(probability: float) -> str:
    """The sales stage an open opportunity's probability stands for."""
    if probability < 0.2:
        return "prospecting"
    if probability < 0.4:
        return "qualification"
    return "proposal" if probability < 0.65 else "negotiation"
