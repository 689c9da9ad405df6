"""The client's stakeholders in a demo plan: who they are, where they sit, how they see us."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..alerts import decider_roles, is_key_contact
from ..model import Row
from .account import Account, slug
from .content import content


@dataclass
class Person:
    name: str
    female: bool
    email: str


def _people() -> dict[str, Any]:
    return content("people")


def add_stakeholders(acc: Account) -> None:
    """The Stakeholders sheet, and the account's champion that later texts name."""
    rng = acc.rng
    count = rng.randint(*acc.p.stakeholders)
    levels = _levels(acc, count)
    stances = _stances(acc, levels)
    used: set[str] = set()
    seats: set[tuple[int, str]] = set()  # one person per BU and level keeps job titles distinct
    for level, stance in zip(levels, stances, strict=True):
        free = [i for i in range(len(acc.bus)) if (i, level) not in seats] or list(range(len(acc.bus)))
        bu_index = rng.choice(free)
        seats.add((bu_index, level))
        acc.people.append(_stakeholder_row(acc, level, stance, bu_index, _person(acc, used)))
    if not acc.p.detractor_deciders:  # a well-run account's deciders do not work against us
        deciders = decider_roles(acc.template)
        for row in acc.people:
            if row["stance"] == "detractor" and row.get("role") in deciders:
                row["role"] = "influencer"
    champions = [r["name"] for r in acc.people if r["stance"] == "champion"]
    friendliest = max(acc.people, key=lambda r: (r["stance"] in ("ally", "neutral"), r["engagement"]))
    acc.has_champion = bool(champions)
    acc.champion = champions[0] if champions else friendliest["name"]
    steps = _people()["stakeholder_steps"]
    for row in acc.people:
        row["next_step"] = acc.pick(steps[row["stance"]], **acc.context())
    acc.plan.tables["stakeholders"] = acc.people


def _person(acc: Account, used: set[str]) -> Person:
    names = _people()[acc.lang]
    while True:
        female = acc.rng.random() < 0.45
        first = acc.rng.choice(names["women"] if female else names["men"])
        last = acc.rng.choice(names["last_names"])
        name = f"{first} {last}"
        if last not in used and first not in used and name != acc.kam:
            used.update((first, last))
            email = f"{slug(first, '')}.{slug(name[len(first) + 1 :], '')}@{acc.domain}"
            return Person(name, female, email)


def _levels(acc: Account, count: int) -> list[str]:
    if acc.key == "new":
        return ["director", "manager", "user", "manager"][:count]
    names, weights = zip(*_people()["level_weights"].items(), strict=True)
    rest = acc.rng.choices(names, weights=weights, k=count - 2)
    return ["c_level", "director", *rest]


def _stances(acc: Account, levels: list[str]) -> list[str]:
    rng = acc.rng
    stances = rng.choices(_people()["stances"], weights=acc.p.stances, k=len(levels))
    if acc.key in ("healthy", "steady", "stale", "new"):
        stances[1] = "champion"  # the director who sponsors us
    if acc.key == "tail" and "champion" not in stances:
        stances[-1] = "champion"  # a small account's champion: often a manager who buys from us
    if acc.key == "healthy":
        stances[0] = rng.choice(("champion", "ally"))
    if acc.key == "at_risk":
        stances[0] = "detractor"
        stances[1] = rng.choice(("neutral", "unknown", "ally"))
    return stances


def _strength(acc: Account, stance: str) -> str:
    strength = acc.rng.choice(_people()["strength_by_stance"][stance])
    if strength != "weak" and acc.rng.random() < acc.p.weakened_ties:
        strength = "good" if strength == "strong" else "weak"
    if acc.key == "healthy" and stance == "champion":
        strength = "strong"
    return strength


def _stakeholder_row(acc: Account, level: str, stance: str, bu_index: int, who: Person) -> Row:
    rng, catalogue = acc.rng, _people()
    titles = catalogue["titles"][bu_index % len(catalogue["titles"])][level]
    title = titles["en"] if acc.lang == "en" else titles["fr_female" if who.female else "fr"]
    engagement = rng.randint(*catalogue["engagement_by_stance"][stance])
    engaged = "yes" if stance in ("champion", "ally") and engagement >= 3 else "no"
    if stance == "neutral" and rng.random() < 0.3:
        engaged = "yes"
    known = stance != "unknown" or rng.random() < 0.5
    row: Row = {
        "name": who.name,
        "title": title,
        "bu": acc.bus[bu_index],
        "role": rng.choice(catalogue["roles_by_level"][level]),
        "level": level,
        "stance": stance,
        "strength": _strength(acc, stance),
        "influence": rng.randint(*catalogue["influence_by_level"][level]),
        "engagement": engagement,
    }
    # key stakeholders (as the alert rules count them) are met within the profile's own range
    ages = acc.p.key_contact_age if is_key_contact(row, acc.template) else acc.p.contact_age
    row["last_contact"] = acc.ago(*ages) if known else None
    row["owner"] = acc.sponsor if level == "c_level" and rng.random() < 0.6 else acc.owner()
    row["engaged"] = engaged
    row["email"] = who.email if known else None
    return row
