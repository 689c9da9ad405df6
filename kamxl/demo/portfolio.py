"""The demo portfolio: which accounts, in which language, sector and profile, built in order."""

from __future__ import annotations

import datetime as dt
import random

from ..model import Plan
from ..template import Template
from .account import Account
from .actions import add_actions
from .clients import add_contracts, add_info, add_markets, client_name, set_dates
from .content import content
from .governance import add_assessment, add_governance
from .people import add_stakeholders
from .pipeline import add_whitespace_and_opportunities
from .profiles import cycle
from .relations import add_relations
from .strategy import add_objectives, add_swot
from .tracking import add_kpis, add_risks
from .year import add_closed_deals

# Sheets in the order they are built: each draws from the account's generator in turn and may
# use what the sheets before it settled (people, contracts, objectives).
_BUILDERS = (
    set_dates,
    add_stakeholders,
    add_info,
    add_contracts,
    add_markets,
    add_objectives,
    add_swot,
    add_whitespace_and_opportunities,
    add_actions,
    add_kpis,
    add_risks,
    add_governance,
    add_assessment,
)
_TEAM_ROLES = ("presales", "delivery", "success", "finance_legal")


def build_plan(acc: Account) -> Plan:
    for builder in _BUILDERS:
        builder(acc)
    team = [
        (acc.kam, "account_lead"),
        (acc.sponsor, "exec_sponsor"),
        *zip(acc.colleagues, _TEAM_ROLES, strict=False),
    ]
    add_relations(acc.plan, acc.template, acc.key, team)
    add_closed_deals(acc)  # a generator of its own: the draws above stay as they were
    return acc.plan


def _profiles(rng: random.Random, count: int) -> list[str]:
    mix = cycle()
    profiles = [mix[i % len(mix)] for i in range(count)]
    rng.shuffle(profiles)
    return profiles


def _languages(rng: random.Random, count: int) -> list[str]:
    french = set(rng.sample(range(count), round(count / 3))) if count > 1 else set()
    return ["fr" if i in french else "en" for i in range(count)]


def demo_portfolio(
    template: Template, *, seed: int = 7, count: int = 24, today: dt.date | None = None
) -> list[tuple[str, Plan]]:
    """The demo accounts with the profile each was drawn from: (profile, plan) pairs.

    Who the accounts are comes from the seed alone; each account then draws its content from a
    generator of its own, so the same seed gives the same accounts whatever the day.
    """
    today = today or dt.date.today()
    rng = random.Random(seed)
    profiles = _profiles(rng, count)
    languages = _languages(rng, count)
    sectors = list(template.choices["sector"])
    rng.shuffle(sectors)
    clients, people = content("clients"), content("people")
    roots = {lang: rng.sample(clients[lang]["roots"], len(clients[lang]["roots"])) for lang in ("en", "fr")}
    seen: dict[str, int] = {"en": 0, "fr": 0}
    used: set[str] = set()
    crm_ids = rng.sample(range(100_000, 1_000_000), count)
    fr_kams = 2 if count <= 30 else 4
    accounts = []
    for index, (profile, lang) in enumerate(zip(profiles, languages, strict=True)):
        sector = sectors[index % len(sectors)]
        kams = people[lang]["kams"][: fr_kams if lang == "fr" else 4]
        if lang == "en" and seen[lang] % 5 == 4:
            kams = people["fr"]["kams"][2:3]  # a bilingual KAM who also covers English-speaking accounts
        kam = kams[seen[lang] % len(kams)]
        seen[lang] += 1
        countries = clients[lang]["countries"]
        country = rng.choices(countries, weights=[4, 3] + [1] * (len(countries) - 2))[0]
        account = Account(
            template,
            random.Random(f"kamxl-demo/{seed}/{index}"),
            today,
            profile_key=profile,
            lang=lang,
            sector=sector,
            client=client_name(rng, lang, sector, used, roots[lang]),
            kam=kam,
            country=country,
        )
        accounts.append((profile, account))
    result = []
    for index, (profile, account) in enumerate(accounts):
        plan = build_plan(account)
        plan.fields["crm_id"] = f"ACC-{crm_ids[index]}"
        result.append((profile, plan))
    return result


def demo_plans(
    template: Template, *, seed: int = 7, count: int = 24, today: dt.date | None = None
) -> list[Plan]:
    """A realistic sample portfolio of filled account plans, the same for the same seed and day."""
    return [plan for _, plan in demo_portfolio(template, seed=seed, count=count, today=today)]
