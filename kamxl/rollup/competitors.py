"""Competitor presence across the portfolio: who we meet at how many accounts, how threatening,
and how much whitespace they hold as incumbents.

Each account's record keeps one row per competitor or partner named on its Competitors sheet or
as an incumbent on its Whitespace sheet; the summary groups them by name (case and spacing
ignored, so "Altura Systems" and "altura  systems" count once).
"""

from __future__ import annotations

from typing import Any

from ..model import Plan, Row, is_blank
from ..scoring import n0
from ..template import Template

THREAT_ORDER = {"high": 3, "medium": 2, "low": 1}


def _key(name: Any) -> str:
    return " ".join(str(name).split()).casefold()


def competitor_rows(plan: Plan, template: Template) -> list[Row]:
    """One row per competitor or partner of a plan, with the whitespace cells they hold."""
    if "competitors" not in template.tables:
        return []
    rows: dict[str, Row] = {}
    for comp in plan.rows("competitors", template):
        rows.setdefault(
            _key(comp["name"]),
            {
                "name": " ".join(str(comp["name"]).split()),
                "kind": comp.get("kind"),
                "threat": comp.get("threat"),
                "cells": 0,
                "potential": 0.0,
            },
        )
    for cell in plan.tables.get("whitespace", []):
        holder = cell.get("incumbent")
        if is_blank(holder):
            continue
        row = rows.setdefault(
            _key(holder),
            {"name": " ".join(str(holder).split()), "kind": None, "threat": None, "cells": 0},
        )
        row["cells"] += 1
        row["potential"] = row.get("potential", 0.0) + n0(cell.get("potential"))
    return list(rows.values())


def presence_rows(accounts: list[Any]) -> list[Row]:
    """Competitors across accounts (records with ``competitors``), most present first."""
    grouped: dict[str, Row] = {}
    for account in accounts:
        for comp in getattr(account, "competitors", []):
            row = grouped.setdefault(
                _key(comp["name"]),
                {
                    "competitor": comp["name"],
                    "kind": comp.get("kind"),
                    "accounts": 0,
                    "high_threat": 0,
                    "threat": None,
                    "cells": 0,
                    "potential": 0.0,
                    "where": [],
                },
            )
            row["accounts"] += 1
            row["kind"] = row["kind"] or comp.get("kind")
            threat = comp.get("threat")
            row["high_threat"] += threat == "high"
            if THREAT_ORDER.get(threat, 0) > THREAT_ORDER.get(row["threat"], 0):
                row["threat"] = threat
            row["cells"] += comp.get("cells", 0)
            row["potential"] += comp.get("potential", 0.0)
            row["where"].append(account.account)
    out = []
    for row in grouped.values():
        row["where"] = ", ".join(sorted(row["where"], key=str.casefold))
        out.append(row)
    out.sort(key=lambda r: (-r["accounts"], -r["potential"], r["competitor"].casefold()))
    return out
