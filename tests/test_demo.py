"""The demo portfolio: deterministic, varied, valid against the template, and writable."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kamxl.demo import PROFILES, demo_plans, demo_portfolio
from kamxl.model import Plan
from kamxl.scoring import score_plan
from kamxl.template import Column, Template

TODAY = dt.date(2026, 11, 16)
FRENCH = re.compile(
    r"[àâçéèêëîïôûùœ]|\b(le|la|les|des|du|de|d'|l'|pour|avec|en|au|aux|sur|un|une|et|à|sous|dans|leur|leurs|notre|nos|par|pas)\b",
    re.I,
)


@pytest.fixture(scope="module")
def portfolio(template: Template) -> list[tuple[str, Plan]]:
    return demo_portfolio(template, seed=7, today=TODAY)


@pytest.fixture(scope="module")
def plans(portfolio: list[tuple[str, Plan]]) -> list[Plan]:
    return [plan for _, plan in portfolio]


def test_same_seed_same_plans_and_other_seed_other_plans(template: Template, plans: list[Plan]) -> None:
    assert demo_plans(template, seed=7, today=TODAY) == plans
    other = demo_plans(template, seed=8, today=TODAY)
    assert [p.name for p in other] != [p.name for p in plans]
    assert [p.account_id for p in other] != [p.account_id for p in plans]


def test_portfolio_breadth(plans: list[Plan]) -> None:
    assert len(plans) >= 24
    assert len({p.name for p in plans}) == len(plans)
    assert len({p.fields["crm_id"] for p in plans}) == len(plans)
    assert len({p.account_id for p in plans}) == len(plans)
    assert len({p.kam for p in plans}) >= 5
    assert max(Counter(p.kam for p in plans).values()) <= 8  # a sustainable load per KAM
    assert len({p.fields["sector"] for p in plans}) >= 4
    french = sum(p.lang == "fr" for p in plans)
    assert 0.25 <= french / len(plans) <= 0.45
    assert {p.lang for p in plans} == {"en", "fr"}


def test_count_is_honoured_with_distinct_names(template: Template) -> None:
    for count in (1, 5, 60):
        plans = demo_plans(template, seed=3, count=count, today=TODAY)
        assert len(plans) == count
        assert len({p.name for p in plans}) == count


def _check_value(col: Column, value: Any, template: Template, where: str) -> None:
    if value is None:
        return
    kind = col.type
    if kind == "choice":
        assert value in template.choices[col.choices or ""], f"{where}: {value!r} is not a code"
    elif kind == "date":
        assert type(value) is dt.date, f"{where}: {value!r} is not a date"
    elif kind in ("int", "rating"):
        assert type(value) is int, f"{where}: {value!r} is not an int"
    elif col.is_numeric:
        assert type(value) in (int, float), f"{where}: {value!r} is not a number"
    else:
        assert isinstance(value, str) and value.strip(), f"{where}: {value!r} is not text"
    if kind == "rating":
        assert 1 <= value <= 5, where
    if col.is_numeric and col.min is not None:
        assert col.min <= value, where
    if col.is_numeric and col.max is not None:
        assert value <= col.max, where
    if kind == "percent":
        assert -1 <= value <= 5, f"{where}: percentages are fractions"


def test_every_value_fits_its_column(template: Template, plans: list[Plan]) -> None:
    for plan in plans:
        assert set(plan.fields) == set(template.fields)
        for key, col in template.fields.items():
            _check_value(col, plan.fields[key], template, f"{plan.name}: {key}")
        for tkey, table in template.tables.items():
            columns = {c.key: c for c in table.input_columns}
            for index, row in enumerate(plan.tables[tkey]):
                assert set(row) <= set(columns), f"{plan.name}: {tkey} has unknown columns"
                for key, value in row.items():
                    _check_value(columns[key], value, template, f"{plan.name}: {tkey}[{index}].{key}")


def test_tables_have_content(template: Template, portfolio: list[tuple[str, Plan]]) -> None:
    for profile, plan in portfolio:
        counts = {t: len(plan.rows(t, template)) for t in template.tables}
        if profile == "new":
            assert 2 <= counts["stakeholders"] <= 4
            continue
        assert all(counts.values()), f"{plan.name} ({profile}): empty tables {counts}"
        assert 5 <= counts["stakeholders"] <= 12
        swot = plan.rows("swot", template)
        assert all(row.get("strengths") and row.get("threats") for row in swot)
        whitespace = plan.rows("whitespace", template)
        assert {r["status"] for r in whitespace} >= {"owned", "whitespace"}
        kpis = [r for r in plan.rows("kpis", template) if r["active"] == "yes"]
        assert all(isinstance(r.get("q1"), (int, float)) for r in kpis), plan.name


def test_revenue_figures_agree_across_sheets(template: Template, plans: list[Plan]) -> None:
    for plan in plans:
        revenue = plan.fields["annual_revenue"]
        contracts = sum(r["annual_value"] for r in plan.rows("contracts", template))
        current = sum(r.get("current_revenue") or 0 for r in plan.rows("whitespace", template))
        assert abs(contracts - revenue) <= 5_000, plan.name
        assert abs(current - revenue) <= 10_000, plan.name


def test_profiles_give_a_spread_of_tiers(template: Template, portfolio: list[tuple[str, Plan]]) -> None:
    tiers = Counter(score_plan(plan, template, as_of=TODAY).tier for _, plan in portfolio)
    assert set(Counter(p for p, _ in portfolio)) == set(PROFILES)
    assert len(tiers) >= 3 and tiers["unrated"] >= 1
    assert tiers["invest"] >= 3 and tiers["maintain"] >= 3 and tiers["deprioritise"] >= 2


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_each_profile_tells_its_story(template: Template, seed: int) -> None:
    for profile, plan in demo_portfolio(template, seed=seed, today=TODAY):
        scores = score_plan(plan, template, as_of=TODAY)
        fig = scores.figures
        stakeholders = plan.rows("stakeholders", template)
        if profile == "healthy":
            assert scores.tier == "invest" and fig.sponsor >= 0.6 and fig.overdue_actions <= 1
            assert scores.status == "healthy" and not scores.alerts, (plan.name, scores.alerts)
        elif profile == "new":
            assert scores.tier == "unrated" and not fig.rated
        elif profile == "tail":
            assert scores.tier == "deprioritise"
        elif profile == "at_risk":
            assert any(r["stance"] == "detractor" for r in stakeholders)
            assert fig.high_risks >= 2 and fig.overdue_actions >= 3
            assert plan.fields["nrr"] < 1 and plan.fields["nps"] <= 0
            assert any(r["category"] == "churn_signal" for r in plan.rows("risks", template))
            # flagged at risk for the reasons its data shows: churn signal without mitigation, low NRR
            assert scores.status == "at_risk" and {"churn_risk", "nrr_low", "nps_low"} <= set(scores.alerts)
            deciders = [r for r in stakeholders if r.get("role") in ("decision_maker", "budget_holder")]
            assert ("detractor_decider" in scores.alerts) == any(r["stance"] == "detractor" for r in deciders)
        elif profile == "stale":
            assert fig.days_since_review is not None and fig.days_since_review > 120
            assert {"plan_stale", "rituals_overdue", "overdue_actions"} <= set(scores.alerts)
            assert plan.fields["next_review"] < TODAY and fig.overdue_actions >= 3
        if profile != "stale":
            assert fig.days_since_review is not None and fig.days_since_review <= 90, plan.name


# Days the demo is made and read on: any day, the end of a month, a leap day, a new year.
STORY_DAYS = (TODAY, dt.date(2027, 1, 31), dt.date(2028, 2, 29))


def _severities(template: Template, codes: tuple[str, ...]) -> Counter[str]:
    return Counter(template.alerts[code]["severity"] for code in codes)


@pytest.mark.parametrize("today", STORY_DAYS)
@pytest.mark.parametrize("seed", [1, 7, 42])
def test_each_profile_comes_out_with_the_status_its_story_means(
    template: Template, seed: int, today: dt.date
) -> None:
    statuses: Counter[str] = Counter()
    for profile, plan in demo_portfolio(template, seed=seed, today=today):
        scores = score_plan(plan, template, as_of=today)
        status, alerts = scores.status, set(scores.alerts)
        severities = _severities(template, scores.alerts)
        statuses[status] += 1
        where = (profile, plan.name, status, scores.alerts)
        if profile == "healthy":
            assert status == "healthy" and not alerts, where
        elif profile == "steady":
            # well run: key stakeholders met, actions on time; at most one minor reason to watch
            assert status in ("healthy", "watch") and severities["high"] == 0, where
            assert len(alerts) <= 1 and not alerts & {"no_contact", "overdue_actions", "no_sponsor"}, where
        elif profile == "tail":
            # less attention is not a risk: a champion, fewer rituals all held, key people met
            assert not alerts & {"no_sponsor", "no_contact", "rituals_overdue"}, where
            assert status != "at_risk" or severities["high"] > 0, where
        elif profile == "new":
            assert status in ("healthy", "watch") and alerts <= {"kpi_low"}, where
        elif profile == "stale":
            assert status == "at_risk" and "plan_stale" in alerts, where
        elif profile == "at_risk":
            assert status == "at_risk" and {"churn_risk", "nrr_low", "nps_low"} <= alerts, where
    total = sum(statuses.values())
    # a mix a director would believe: most accounts healthy, fewer than a third at risk
    assert statuses["at_risk"] / total <= 0.3, statuses
    assert statuses["healthy"] / total >= 0.5 and statuses["watch"] >= 2, statuses


def test_a_key_stakeholders_last_contact_follows_the_profile(template: Template) -> None:
    """Steady and tail accounts meet the people the contact rule counts; stale ones do not."""
    from kamxl.alerts import is_key_contact

    window = int(template.alerts["no_contact"]["days"])
    ages: dict[str, list[int]] = {}
    for profile, plan in demo_portfolio(template, seed=42, today=TODAY):
        for row in plan.rows("stakeholders", template):
            if is_key_contact(row, template) and row.get("last_contact"):
                ages.setdefault(profile, []).append((TODAY - row["last_contact"]).days)
    assert max(ages["steady"]) <= window and max(ages["tail"]) <= window
    assert max(ages["healthy"]) <= window
    assert min(ages["stale"]) > window


def test_dates_follow_today(template: Template, plans: list[Plan]) -> None:
    assert any(score_plan(p, template, as_of=TODAY).figures.overdue_actions for p in plans)
    later = TODAY + dt.timedelta(days=400)
    moved = demo_plans(template, seed=7, today=later)
    assert [p.name for p in moved] == [p.name for p in plans], "the same accounts whatever the day"
    assert [score_plan(p, template, as_of=later).tier for p in moved] == [
        score_plan(p, template, as_of=TODAY).tier for p in plans
    ]
    for plan in moved:
        assert plan.fields["last_review"] <= later
        assert plan.fields["last_review"] > TODAY, "dates must move with today"
        assert plan.fields["client_since"] <= plan.fields["plan_start"] <= later


def test_french_plans_are_written_in_french(template: Template, plans: list[Plan]) -> None:
    texts = {
        "objectives": "objective",
        "actions": "action",
        "risks": "mitigation",
        "opportunities": "next_step",
        "decisions": "decision",
        "markets": "comment",
    }
    for plan in plans:
        cells = [plan.fields["news"], plan.fields["purchasing_process"], plan.fields["footprint"]]
        for table, key in texts.items():
            cells += [r[key] for r in plan.rows(table, template) if r.get(key)]
        for row in plan.rows("swot", template):
            cells += [row[q] for q in ("strengths", "weaknesses", "opportunities", "threats") if row.get(q)]
        french = [bool(FRENCH.search(text)) for text in cells]
        if plan.lang == "fr":
            assert all(french), [c for c, f in zip(cells, french, strict=True) if not f]
        else:
            assert sum(french) < len(cells) / 3, plan.name


def test_fast(template: Template) -> None:
    start = time.perf_counter()
    demo_plans(template, seed=11, today=TODAY)
    assert time.perf_counter() - start < 0.5


def test_writes_and_opens_in_both_languages(template: Template, plans: list[Plan], tmp_path: Path) -> None:
    from kamxl.reader import read_plan
    from kamxl.writer import write_plan

    for lang in ("en", "fr"):
        plan = next(p for p in plans if p.lang == lang)
        path = write_plan(plan, tmp_path / f"{lang}.xlsx", template=template)
        book = openpyxl.load_workbook(path)
        info = book[template.sheet("info").title[lang]]
        assert info["B4"].value == plan.name
        sheet = book[template.table_sheet("stakeholders").title[lang]]
        table = sheet.tables["Stakeholders"]
        first, last = table.ref.split(":")
        assert int(re.sub(r"\D", "", last)) - int(re.sub(r"\D", "", first)) >= len(
            plan.rows("stakeholders", template)
        )
        names = {c.value for row in sheet.iter_rows() for c in row}
        assert {r["name"] for r in plan.rows("stakeholders", template)} <= names
        back = read_plan(path, template=template).plan
        assert back.fields == plan.fields
        for key in ("actions", "stakeholders", "kpis"):
            assert _inputs(back, key, template) == _inputs(plan, key, template), f"{lang}: {key}"


def _inputs(plan: Plan, table: str, template: Template) -> list[dict[str, Any]]:
    keys = {c.key for c in template.table(table).input_columns}
    return [{k: v for k, v in r.items() if k in keys and v is not None} for r in plan.rows(table, template)]
