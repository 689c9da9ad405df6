"""Who the demo's client is: its name, dates, general information, contracts and markets."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from .account import Account, add_months
from .content import content


def _clients() -> dict[str, Any]:
    return content("clients")


def client_name(rng: random.Random, lang: str, sector: str, used: set[str], roots: list[str]) -> str:
    """An invented company name in the sector's style, unique in the portfolio."""
    catalogue = _clients()[lang]
    patterns = catalogue["name_patterns"].get(sector, catalogue["name_patterns"]["other"])
    for attempt in range(1000):
        if not roots or attempt > 50:
            roots.extend(rng.sample(catalogue["roots"], len(catalogue["roots"])))
        name = rng.choice(patterns).format(roots.pop())
        if name not in used:
            used.add(name)
            return name
    raise ValueError("too many demo accounts for the name generator")


def _join(items: list[str], last_link: str) -> str:
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last_link} {items[-1]}"


def _date_text(day: dt.date, lang: str) -> str:
    return day.isoformat() if lang == "en" else day.strftime("%d/%m/%Y")


def set_dates(acc: Account) -> None:
    """Client since, plan start and reviews: a stale plan started long ago and was not reviewed."""
    p, rng = acc.p, acc.rng
    if acc.key == "new":
        acc.client_since = acc.ago(25, 150)
        acc.plan_start = acc.client_since + dt.timedelta(days=rng.randint(5, 20))
    else:
        years = rng.randint(*p.client_years)
        acc.client_since = add_months(acc.today, -12 * years - rng.randint(1, 11))
        back = rng.randint(14, 20) if acc.key == "stale" else rng.randint(2, 11)
        acc.plan_start = add_months(acc.today, -back).replace(day=1)
    acc.last_review = max(acc.plan_start, acc.ago(*p.review_age))
    acc.next_review = acc.last_review + dt.timedelta(days=rng.choice((84, 91, 91, 98)))


def add_info(acc: Account) -> None:
    """The General information sheet's fields."""
    p, rng, lang, texts = acc.p, acc.rng, acc.lang, _clients()
    contact = next(
        (
            r
            for r in acc.people
            if r["level"] in ("director", "manager") and r["stance"] in ("champion", "ally")
        ),
        max(acc.people, key=lambda r: (r["email"] is not None, r["engagement"])),
    )
    revenue = acc.money(*p.revenue, step=5000)
    acc.revenue = revenue
    target = revenue * (1 + rng.uniform(*p.growth))
    abroad = rng.sample(texts[lang]["abroad"], rng.randint(1, 4))
    bus, sites = rng.randint(2, len(acc.bus)), rng.randint(2, 40)
    city = rng.choice(acc.cities)
    footprint = acc.t(
        texts["footprint"],
        city=city,
        country=acc.country,
        n=len(abroad) + 1,
        abroad=_join(abroad, acc.t(texts["and"])),
        bus=bus,
        sites=sites,
    )
    purchasing = texts["purchasing_public"] if acc.sector == "public" else rng.choice(texts["purchasing"])
    new = acc.key == "new"
    acc.plan.fields.update(
        {
            "client_name": acc.client,
            "crm_id": None,  # unique across the portfolio: set by demo_portfolio
            "kam": acc.kam,
            "sector": acc.sector,
            "main_contact": contact["name"],
            "main_contact_email": contact["email"],
            "client_since": acc.client_since,
            "country": acc.country,
            "footprint": footprint,
            "website": f"https://www.{acc.domain}",
            "purchasing_process": acc.t(purchasing),
            "news": acc.pick(
                texts["news"][acc.key], abroad=abroad[0], signed=_date_text(acc.client_since, lang)
            ),
            "executive_sponsor": acc.sponsor_text,
            "plan_start": acc.plan_start,
            "plan_horizon_months": rng.choice((12, 18, 24, 24, 36)),
            "last_review": acc.last_review,
            "next_review": acc.next_review,
            "annual_revenue": revenue,
            "revenue_target": int(round(target, -4)),
            "client_revenue": acc.money(40e6, 4e9, step=1_000_000),
            "gross_margin": acc.between(*p.margin),
            "nrr": None if new else acc.between(*p.nrr),
            "nps": None if new and rng.random() < 0.5 else rng.randint(*p.nps),
        }
    )


def add_contracts(acc: Account) -> None:
    """Contracts in force: the core platform since the start, other offers signed since."""
    rng, texts = acc.rng, _clients()
    count = 1 if acc.key == "new" else rng.randint(2, min(4, len(acc.offers)))
    offers = ["core_platform", *rng.sample([o for o in acc.offers if o != "core_platform"], count - 1)]
    offers = [o for o in offers if o in acc.offers] or acc.offers[:1]
    shares = [rng.uniform(1, 3) if o == "core_platform" else rng.uniform(0.3, 1) for o in offers]
    rows = []
    for offer, share in zip(offers, shares, strict=True):
        signed = acc.client_since if offer == "core_platform" else acc.ago(60, 900)
        signed = max(signed, acc.client_since)
        term = rng.choice((12, 24, 36))
        renewal = add_months(signed, term)
        while renewal <= acc.today:
            renewal = add_months(renewal, term)
        if acc.key == "at_risk" and offer == "core_platform":
            renewal = acc.ahead(45, 120)
        bare = {"en": offer, "fr": offer}
        contract = texts["contracts"].get(offer, {"name": bare, "scope": bare})
        amend = None if rng.random() < 0.4 or acc.key == "new" else rng.choice(texts["amendments"])
        rows.append(
            {
                "contract": acc.t(contract["name"]),
                "scope": acc.t(contract["scope"], users=rng.choice((50, 120, 250, 400, 800))),
                "signed": signed,
                "renewal": renewal,
                "amendments": acc.t(amend, n=rng.choice((25, 50, 100)), bu=rng.choice(acc.bus))
                if amend
                else None,
                "annual_value": int(round(acc.revenue * share / sum(shares), -3)),
            }
        )
    acc.owned_offers = offers
    acc.contracts_by_offer = dict(zip(offers, rows, strict=True))
    acc.plan.tables["contracts"] = rows


def add_markets(acc: Account) -> None:
    """The client's own markets; accounts in trouble sell in shrinking ones."""
    texts = _clients()
    pool = texts["markets"].get(acc.sector, texts["markets"]["other"])
    count = 1 if acc.key == "new" else acc.rng.randint(2, len(pool))
    trends = ("growing", "stable", "declining")
    weights = (1, 2, 3) if acc.key in ("at_risk", "tail") else (3, 2, 1)
    rows = []
    for product in acc.rng.sample(pool, count):
        trend = acc.rng.choices(trends, weights=weights)[0]
        rows.append(
            {
                "product": acc.t(product),
                "market_size": acc.money(5e7, 3e9, step=10_000_000),
                "trend": trend,
                "comment": acc.pick(texts["market_comments"][trend]),
            }
        )
    acc.plan.tables["markets"] = rows
