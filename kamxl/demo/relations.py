"""The demo's relationship map: reporting lines, stakes and powers, account team, RACI, competitors.

Texts come from ``workbook_templates/demo/relations.toml``. Draws come from a generator seeded
by the account's id, not from the demo's main stream, so the rest of each demo plan stays the
same whatever is added here. The map tells the account's story: at-risk accounts meet a strong
competitor who is incumbent where we are weak, healthy ones have partners and a full team.
"""

from __future__ import annotations

import random

from ..model import Plan, Row
from ..template import Template
from .content import Phrases, content

LEVEL_ORDER = ("c_level", "director", "manager", "user")


class _Relations(Phrases):
    def __init__(self, plan: Plan, template: Template, profile: str, team: list[tuple[str, str]]) -> None:
        self.plan, self.template, self.profile = plan, template, profile
        self.lang = plan.lang
        self.rng = random.Random(f"kamxl-demo-relations/{plan.account_id}")
        self.c = content("relations")
        self.team_people = team

    def offer(self) -> str:
        return self.template.label("offer", self.rng.choice(list(self.template.choices["offer"])), self.lang)

    def stakeholders(self) -> None:
        people = self.plan.tables.get("stakeholders", [])
        by_level: dict[str, list[Row]] = {}
        for row in people:
            by_level.setdefault(row.get("level") or "user", []).append(row)
        for row in people:
            row["reports_to"] = self.manager_of(row, by_level)
            level = row.get("level") or "user"
            row["stakes"] = self.pick(self.c["stakes"][level], bu=row.get("bu") or "", offer=self.offer())
            powers = self.c["formal_power"].get(row.get("role") or "", self.c["formal_power"]["user"])
            row["formal_power"] = self.pick(powers, bu=row.get("bu") or "")
            row["informal_power"] = self.pick(self.c["informal_power"])
            row["channel"] = self.rng.choice(self.c["channels"][level])

    def manager_of(self, row: Row, by_level: dict[str, list[Row]]) -> str | None:
        """The nearest person one level up, in the same BU when there is one."""
        level = row.get("level") or "user"
        tops = by_level.get("c_level", [])
        if level == "c_level":
            return None if not tops or tops[0] is row else str(tops[0]["name"])
        for up in reversed(LEVEL_ORDER[: LEVEL_ORDER.index(level)]):
            bosses = [b for b in by_level.get(up, []) if b is not row]
            if bosses:
                same_bu = [b for b in bosses if b.get("bu") == row.get("bu")]
                return str(self.rng.choice(same_bu or bosses)["name"])
        return None

    def team(self) -> list[Row]:
        domain = content("people")["our_domain"]
        rows = []
        factor = float(self.c.get("team_days_by_profile", {}).get(self.profile, 1.0))
        for name, role in self.team_people:
            spec = self.c["team"][role]
            low, high = spec["days"]
            rows.append(
                {
                    "name": name,
                    "role": role,
                    "department": self.t(spec["department"]),
                    "commitment": max(round(self.rng.uniform(low, high) * factor * 2) / 2, 0.5),
                    "sla": self.t(spec["sla"]),
                    "email": ".".join(name.lower().split()[:2]).replace("'", "") + "@" + domain,
                }
            )
        self.plan.tables["team"] = rows
        return rows

    def raci(self, team: list[Row]) -> None:
        kam = next(r["name"] for r in team if r["role"] == "account_lead")
        sponsor = next((r["name"] for r in team if r["role"] == "exec_sponsor"), kam)
        others = [r["name"] for r in team if r["role"] not in ("account_lead", "exec_sponsor")] or [kam]
        rows = []
        for objective in self.plan.tables.get("objectives", [])[:4]:
            owner = objective.get("owner") or kam
            rows.append(
                {
                    "subject": objective.get("objective"),
                    "kind": "objective",
                    "responsible": owner,
                    "accountable": kam,
                    "consulted": self.rng.choice(others),
                    "informed": sponsor,
                }
            )
        people = sorted(self.plan.tables.get("stakeholders", []), key=lambda r: -(r.get("influence") or 0))
        for person in people[:3]:
            c_level = person.get("level") == "c_level"
            rows.append(
                {
                    "subject": person.get("name"),
                    "kind": "stakeholder",
                    "responsible": person.get("owner") or kam,
                    "accountable": sponsor if c_level else kam,
                    "consulted": self.rng.choice(others),
                    "informed": kam if c_level else sponsor,
                }
            )
        self.plan.tables["raci"] = rows

    def competitors(self) -> None:
        pool = self.c["competitors"]
        count = {"new": 1, "tail": 1, "at_risk": 3}.get(self.profile, 2)
        rivals = [c for c in pool if c["kind"] != "partner"]
        partners = [c for c in pool if c["kind"] == "partner"]
        chosen = self.rng.sample(rivals, min(count, len(rivals)))
        if self.profile in ("healthy", "steady"):
            chosen.append(self.rng.choice(partners))
        threat = {"at_risk": ["high", "high", "medium"], "healthy": ["low", "medium"]}.get(
            self.profile, ["medium", "low", "high"]
        )
        bus = [bu[self.lang] for bu in self.template.catalogue["business_units"]]
        rows = []
        for i, comp in enumerate(chosen):
            where = self.rng.sample(bus, self.rng.randint(1, 2))
            offers = [self.template.label("offer", code, self.lang) for code in comp["offers"]]
            rows.append(
                {
                    "name": comp["name"],
                    "kind": comp["kind"],
                    "threat": None if comp["kind"] == "partner" else threat[i % len(threat)],
                    "present_in": f"{', '.join(where)}: {', '.join(offers)}",
                    "strengths": self.t(comp["strengths"]),
                    "response": self.t(comp["response"]),
                }
            )
        self.plan.tables["competitors"] = rows
        offers_of = {c["name"]: set(c["offers"]) for c in chosen if c["kind"] != "partner"}
        for cell in self.plan.tables.get("whitespace", []):
            if cell.get("status") not in ("whitespace", "pipeline"):
                continue
            holders = [name for name, offers in offers_of.items() if cell.get("offer") in offers]
            if holders and self.rng.random() < 0.7:
                cell["incumbent"] = self.rng.choice(holders)


def add_relations(plan: Plan, template: Template, profile: str, team: list[tuple[str, str]]) -> None:
    """Fill the relationship map of a demo plan: ``team`` is our people as (name, team role)."""
    rel = _Relations(plan, template, profile, team)
    rel.stakeholders()
    rel.raci(rel.team())
    rel.competitors()
