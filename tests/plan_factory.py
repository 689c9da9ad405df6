"""Random account plans for property and parity tests, driven by the template alone."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from kamxl.model import Plan, new_plan
from kamxl.template import Column, Template

TODAY = dt.date.today()


def random_value(rng: random.Random, col: Column, template: Template, lang: str) -> Any:
    """A plausible value for a column, sometimes blank."""
    if rng.random() < 0.15:
        return None
    kind = col.type
    if kind == "choice":
        return rng.choice(list(template.choices[col.choices or ""]))
    if kind == "rating":
        return rng.randint(1, 5)
    if kind == "date":
        return TODAY + dt.timedelta(days=rng.randint(-400, 400))
    if kind == "percent":
        lo = col.min if col.min is not None else 0.0
        hi = col.max if col.max is not None else 1.0
        return round(rng.uniform(lo, min(hi, 1.5)), 4)
    if kind == "int":
        lo = int(col.min) if col.min is not None else 0
        hi = int(col.max) if col.max is not None else 1000
        return rng.randint(lo, hi)
    if kind == "currency":
        return float(rng.choice([0, rng.randint(1, 50) * 1000, rng.randint(1, 5000) * 1000]))
    if kind == "number":
        lo = col.min if col.min is not None else -50.0
        hi = col.max if col.max is not None else 5000.0
        return round(rng.uniform(lo, hi), 3) if rng.random() < 0.7 else float(rng.randint(0, 10))
    if kind == "email":
        return f"person{rng.randint(1, 999)}@example.com"
    if kind == "url":
        return f"https://www.example{rng.randint(1, 99)}.com"
    words = ["Plan", "croissance", "Ärger", "renewal", "Q3", "é", "data", "=not a formula", "client", "+33 1"]
    return " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))


def random_plan(
    template: Template, seed: int, *, lang: str | None = None, fullness: float | None = None
) -> Plan:
    """A plan with each table between empty and full; `fullness` 0 gives the catalogue-only plan."""
    rng = random.Random(seed)
    lang = lang or rng.choice(["en", "fr"])
    fullness = rng.choice([0.0, 0.3, 1.0]) if fullness is None else fullness
    plan = new_plan(template, lang, client_name=f"Client {seed}", kam=f"KAM {seed % 7}")
    if fullness == 0:
        return plan
    for key, col in template.fields.items():
        if key not in ("client_name", "kam") and rng.random() < fullness:
            plan.fields[key] = random_value(rng, col, template, lang)
    for tkey, table in template.tables.items():
        rows = plan.tables.get(tkey, [])
        for row in rows:
            for col in table.input_columns:
                if col.key not in row and rng.random() < fullness:
                    row[col.key] = random_value(rng, col, template, lang)
        for _ in range(rng.randint(0, int(12 * fullness))):
            row = {col.key: random_value(rng, col, template, lang) for col in table.input_columns}
            if rng.random() < 0.85:
                row[table.key_column] = row[table.key_column] or f"Row {rng.randint(1, 99)}"
            rows.append(row)
        plan.tables[tkey] = rows
    return plan
