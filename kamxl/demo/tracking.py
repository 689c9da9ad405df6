"""The demo's KPI tracker (quarterly values drifting with the account's story) and risk register."""

from __future__ import annotations

import datetime as dt

from ..model import Row
from .account import Account
from .content import content


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def _quarters(acc: Account) -> list[str]:
    """The KPI periods since the plan started; a stale plan stopped being filled two quarters ago."""
    periods = [c.key for c in acc.template.table("kpis").columns if c.period]
    current = min(len(periods), max(1, _months_between(acc.plan_start, acc.today) // 3 + 1))
    if acc.key == "stale":
        current = max(1, current - 2)  # values stopped being entered
    return periods[:current]


def add_kpis(acc: Account) -> None:
    quarters = _quarters(acc)
    catalogue = acc.template.catalogue["kpis"]
    engaged = sum(1 for r in acc.people if r["engaged"] == "yes")
    for index, row in enumerate(acc.plan.tables["kpis"]):
        english = catalogue[index]["name"]["en"] if index < len(catalogue) else ""
        final = _kpi_final(acc, english, row, engaged)
        if final is None or (acc.key == "new" and (row["active"] != "yes" or acc.rng.random() < 0.4)):
            continue
        if row["active"] != "yes" and acc.rng.random() < 0.6:
            continue
        _kpi_series(acc, row, quarters, final)


def _kpi_final(acc: Account, english: str, row: Row, engaged: int) -> float | None:
    """The latest value of a KPI, consistent with the Info sheet where the KPI mirrors a field."""
    fields = acc.plan.fields
    if english.startswith("Revenue generated"):
        row["target"] = fields["revenue_target"]
        return float(fields["annual_revenue"])
    if english.startswith("Net revenue retention"):
        return fields["nrr"]
    if english == "NPS":
        return None if fields["nps"] is None else float(fields["nps"])
    if english == "Gross margin":
        return fields["gross_margin"]
    if english.startswith("Key contacts engaged"):
        row["target"] = max(3, round(len(acc.people) * 0.75))
        return float(engaged)
    if english.startswith("Business units involved"):
        return float(len({r["bu"] for r in acc.people}))
    target = row.get("target")
    if not isinstance(target, (int, float)) or not target:
        return None
    attainment = acc.rng.uniform(*acc.p.kpi_attainment)
    return target * attainment if row.get("direction") != "lower" else target / attainment


def _kpi_series(acc: Account, row: Row, quarters: list[str], final: float) -> None:
    """Quarter values drifting towards the latest one, rounded to the KPI's unit."""
    unit = str(row.get("unit") or "")
    trend = acc.rng.uniform(*acc.p.kpi_trend)  # improvement per quarter
    if row.get("direction") == "lower":
        trend = -trend
    count = len(quarters)
    for step, key in enumerate(quarters):
        back = count - 1 - step
        if unit == "pts":
            value = final - 100 * trend * back + acc.rng.randint(-2, 2) * bool(back)
        else:
            value = final * (1 - trend * back) * (acc.rng.uniform(0.97, 1.03) if back else 1)
        row[key] = round(value, 3) if unit == "%" else round(value, -3) if unit == "€" else round(value)


def add_risks(acc: Account) -> None:
    """Risks by category; an at-risk account always shows churn signals and a relationship risk."""
    rng, p, catalogue = acc.rng, acc.p, content("risks")
    count = rng.randint(*p.risks)
    high = min(count, rng.randint(*p.high_risks))
    categories = [c for c in catalogue if c in acc.template.choices["risk_category"]]
    calm = [c for c in categories if c not in ("churn_signal", "relationship")]
    if acc.key == "at_risk":
        chosen = ["churn_signal", "relationship", *rng.sample(calm, count - 2)]
    else:
        chosen = rng.sample(calm, count)
    rows = []
    for index, category in enumerate(chosen):
        options = catalogue[category]
        if category == "relationship" and not acc.has_champion:
            options = options[1:]  # no champion to lose
        entry = rng.choice(options)
        severe = index < high
        ctx = acc.context()
        rows.append(
            {
                "risk": acc.t(entry["risk"], **ctx),
                "category": category,
                "probability": rng.randint(4, 5) if severe else rng.randint(1, 3),
                "impact": rng.randint(4, 5) if severe else rng.randint(2, 4),
                "mitigation": None
                if severe and index == 0 and acc.key != "healthy"
                else acc.t(entry["mitigation"]),
                "owner": acc.owner(),
                "alert": acc.t(entry["alert"]),
                "status": "open" if severe else rng.choice(("open", "monitoring", "monitoring", "closed")),
            }
        )
    acc.plan.tables["risks"] = rows
