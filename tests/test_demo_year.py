"""The demo tells a year: quarterly snapshots, deals won and lost, KAMs with habits of their own."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from kamxl.demo import demo_plans
from kamxl.demo.content import content
from kamxl.demo.year import habit, history_days, plan_on, store_demo_history, story
from kamxl.rollup.capacity import capacity
from kamxl.rollup.forecast import calibrate, today_deals
from kamxl.rollup.history import load_deals, load_snapshots
from kamxl.rollup.records import record_from_plan

TODAY = dt.date(2026, 11, 5)


@pytest.fixture(scope="module")
def year(template, tmp_path_factory) -> tuple:
    plans = demo_plans(template, seed=7, today=TODAY)
    named = [(plan, f"plan-{i}.xlsx") for i, plan in enumerate(plans)]
    db = tmp_path_factory.mktemp("year") / "history.sqlite"
    store_demo_history(db, named, template, TODAY)
    records = [record_from_plan(plan, template, file=name, as_of=TODAY) for plan, name in named]
    return plans, db, records


def test_four_quarterly_snapshots_before_today(year) -> None:
    _, db, _ = year
    days = [s.day for s in load_snapshots(db)]
    assert days == history_days(TODAY) and len(days) == 4
    assert all(80 <= (b - a).days <= 95 for a, b in itertools.pairwise(days))
    assert (TODAY - days[-1]).days <= 95
    revenue = [s.totals["revenue"] for s in load_snapshots(db)]
    assert revenue == sorted(revenue) and revenue[0] < revenue[-1]  # the year's wins add revenue


def test_the_forecast_sheet_finds_each_kams_habit_back(year) -> None:
    _, db, records = year
    habits = content("pipeline")["habits"]
    optimist, cautious = max(habits, key=habits.get), min(habits, key=habits.get)
    assert habit(optimist) > 0 > habit(cautious)
    cal = calibrate(load_deals(db), today_deals(TODAY, records))
    over = {kam: rec.overstatement for kam, rec in cal.by_kam.items()}
    assert over[optimist] == max(over.values()) and over[optimist] > 0.2, over
    assert over[cautious] == min(over.values()) and over[cautious] < -0.15, over
    assert cal.kam_factor(optimist) < 1 < cal.kam_factor(cautious)
    assert all(cal.by_kam[k].deals >= 8 for k in cal.by_kam), "every KAM closed deals over the year"
    assert sum(r.wins for r in cal.by_kam.values()) > 20 and cal.portfolio.deals > 80


def test_declared_probabilities_follow_the_habits_whatever_the_seed(template) -> None:
    """What a KAM declares is their habit; what they win varies with the deals (seeds differ)."""
    habits = content("pipeline")["habits"]
    optimist, cautious = max(habits, key=habits.get), min(habits, key=habits.get)
    for seed in (1, 42):
        declared: dict[str, list[float]] = {}
        for plan in demo_plans(template, seed=seed, today=TODAY):
            for row in plan.tables["opportunities"]:
                if row["stage"] in ("won", "lost"):
                    declared.setdefault(plan.kam, []).append(story(plan, row, TODAY).declared)
        mean = {kam: sum(v) / len(v) for kam, v in declared.items()}
        others = [m for k, m in mean.items() if k not in (optimist, cautious)]
        assert mean[optimist] > max(others) + 0.1 and mean[cautious] < min(others) - 0.1, (seed, mean)


def test_a_plan_on_an_earlier_day(year) -> None:
    plans, _, _ = year
    plan = next(p for p in plans if any(r["stage"] == "won" for r in p.tables["opportunities"]))
    first = history_days(TODAY)[0]
    past = plan_on(plan, first, TODAY)
    now = {r["name"]: r for r in plan.tables["opportunities"]}
    for row in past.tables["opportunities"]:
        if now[row["name"]]["expected_close"] > first and now[row["name"]]["stage"] in ("won", "lost"):
            assert row["stage"] not in ("won", "lost") and 0 < row["probability"] < 1
    assert past.fields["annual_revenue"] <= plan.fields["annual_revenue"]
    assert plan_on(plan, TODAY, TODAY).tables["opportunities"] == plan.tables["opportunities"]


def test_the_demo_shows_accounts_with_too_many_and_too_few_days(year, template) -> None:
    _, _, records = year
    verdicts = {x.verdict for x in capacity(records, template, TODAY).mismatches()}
    assert verdicts == {"under", "over"}


def test_the_demo_writes_its_history(tmp_path: Path) -> None:
    from kamxl.workbooks import write_demo

    _, result = write_demo(tmp_path / "demo", count=6, macros=False)
    days = [s.day for s in load_snapshots(result.history)]
    assert len(days) == 5 and days[-1] == result.as_of  # four quarters, then today's roll-up
    assert result.as_json()["calibration"], "the summary's Forecast sheet has KAMs to show"
