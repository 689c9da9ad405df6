"""One demo account while it is being built: who it is, what is known so far, and its draws.

The sheet builders (people, clients, strategy, pipeline, actions, tracking, governance) fill the
plan in turn and share this state. Every random draw comes from the account's own generator, in
order, so a seed always tells the same story.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
import uuid
from typing import Any

from ..model import Plan, Row, new_plan
from ..template import Template
from .content import Phrases, content
from .profiles import Profile, profile


def slug(text: str, sep: str = "-") -> str:
    """Lower-case ASCII words of a name, for web domains and e-mail addresses."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return sep.join(re.findall(r"[a-z0-9]+", ascii_text.lower().replace("'", "")))


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    return dt.date(year, month % 12 + 1, min(day.day, 28))


class Account(Phrases):
    """Builds one plan's content; what one sheet learns (dates, people, contracts) serves the next."""

    def __init__(
        self,
        template: Template,
        rng: random.Random,
        today: dt.date,
        *,
        profile_key: str,
        lang: str,
        sector: str,
        client: str,
        kam: str,
        country: dict[str, Any],
    ) -> None:
        self.template, self.rng, self.today = template, rng, today
        self.key, self.lang = profile_key, lang
        self.p: Profile = profile(profile_key)
        self.sector, self.client, self.kam = sector, client, kam
        self.country: str = country["name"]
        self.cities: list[str] = country["cities"]
        self.domain = f"{slug(client)}.{country['tld']}"
        self.bus: list[str] = [bu[lang] for bu in template.catalogue["business_units"]]
        self.offers: list[str] = list(template.choices["offer"])
        ours = content("people")[lang]
        sponsor = rng.choice(ours["sponsors"])
        self.sponsor: str = sponsor["name"]
        self.sponsor_text = f"{sponsor['name']} ({sponsor['title']})"
        self.colleagues: list[str] = list(ours["colleagues"])
        self.plan: Plan = new_plan(template, lang, catalogue_targets=True)
        self.plan.account_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        # Filled in as the sheets are built.
        self.people: list[Row] = []
        self.champion = ""
        self.has_champion = False
        self.objective_names: list[str] = []
        self.client_since = self.plan_start = self.last_review = self.next_review = today
        self.revenue = 0
        self.owned_offers: list[str] = []
        self.contracts_by_offer: dict[str, Row] = {}

    # -- texts -------------------------------------------------------------
    def offer_label(self, code: str, *, capital: bool = False) -> str:
        label = self.template.label("offer", code, self.lang)
        if self.lang == "fr" and not capital:
            return label[0].lower() + label[1:]
        return label

    def context(self, **extra: Any) -> dict[str, Any]:
        """Values for a text's placeholders: a business unit, an offer, a contact..."""
        offer = self.rng.choice(self.offers)
        values = {
            "bu": self.rng.choice(self.bus),
            "offer": self.offer_label(offer),
            "offer_cap": self.offer_label(offer, capital=True),
            "stakeholder": self.stakeholder(),
            "sponsor": self.sponsor,
            "champion": self.champion or self.stakeholder(),
            "client": self.client,
        }
        return values | extra

    # -- draws -------------------------------------------------------------
    def days(self, low: int, high: int) -> int:
        """Days in [low, high] from exactly one draw, so the day of the demo never shifts the stream."""
        return low + min(high - low, int(self.rng.random() * (high - low + 1)))

    def ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.days(low, high))

    def ahead(self, low: int, high: int) -> dt.date:
        return self.today + dt.timedelta(days=self.days(low, high))

    def between(self, low: float, high: float, step: float = 0.01) -> float:
        return round(round(self.rng.uniform(low, high) / step) * step, 4)

    def money(self, low: float, high: float, step: int = 1000) -> int:
        return int(round(self.rng.uniform(low, high) / step) * step)

    def owner(self) -> str:
        """Who owns an item on our side: mostly the KAM, sometimes a colleague or the sponsor."""
        roll = self.rng.random()
        if roll < 0.6:
            return self.kam
        return self.sponsor if roll > 0.9 else self.rng.choice(self.colleagues)

    def stakeholder(self) -> str:
        """A client contact, the influential ones more often: they are who actions target."""
        if not self.people:
            return self.champion
        return self.rng.choices(self.people, weights=[r["influence"] ** 2 for r in self.people])[0]["name"]
