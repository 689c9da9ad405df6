"""Team capacity: figures worked out by hand on three accounts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from kamxl.rollup.capacity import CapacitySettings, capacity, capacity_settings
from kamxl.rollup.digest import director_message, kam_digests
from kamxl.rollup.forecast import rescored
from kamxl.rollup.portfolio import Portfolio
from kamxl.rollup.records import AccountRecord
from kamxl.template import TemplateError, load_template

from .test_forecast import account

AS_OF = dt.date(2026, 9, 30)


def team(*rows: tuple[str, str, float]) -> list[dict]:
    return [{"name": n, "role": r, "commitment": d} for n, r, d in rows]


def accounts() -> list[AccountRecord]:
    """A: Invest, 2 M at stake, 3 days. B: De-prioritise, 0.2 M, 8 days. C: Maintain, 0.8 M, 5 days.
    Portfolio: 16 days for 3 M, so A should get 16 x 2/3 = 10.67 days, B 1.07 and C 4.27."""
    a = account("Ann", "A", [], revenue=1_500_000.0, whitespace=500_000.0, money_at_stake=2_000_000.0)
    b = account("Ann", "B", [], revenue=200_000.0, whitespace=0.0, money_at_stake=200_000.0)
    c = account("Bob", "C", [], revenue=600_000.0, whitespace=200_000.0, money_at_stake=800_000.0)
    a.tier, b.tier, c.tier = "invest", "deprioritise", "maintain"
    a.team = team(("Ann", "account_lead", 2), ("Grace Liu", "delivery", 1))
    b.team = team(("Ann", "account_lead", 4), ("Grace Liu", "delivery", 4))
    c.team = team(("Robert Bob", "account_lead", 0), (" grace  liu", "delivery", 5))  # Bob's row: lead role
    c.kam = "Bob"
    a.figures |= {"gross_margin": 0.30, "profitability": 0.30 / 0.35, "position": 60.0, "rated": True}
    return [a, b, c]


def test_loads_against_value_and_tier(template) -> None:
    cap = capacity(accounts(), template, AS_OF, CapacitySettings())
    a, b, c = cap.accounts
    assert [x.days for x in cap.accounts] == [3, 8, 5]
    assert a.expected == pytest.approx(16 * 2 / 3) and b.expected == pytest.approx(16 * 0.2 / 3)
    assert c.expected == pytest.approx(16 * 0.8 / 3)
    assert a.ratio == pytest.approx(3 / (32 / 3)) and a.verdict == "under"
    assert b.ratio == pytest.approx(7.5) and b.verdict == "over"
    assert c.verdict == ""  # Maintain accounts are never flagged
    assert a.mismatch == pytest.approx(32 / 3 - 3) and b.mismatch == pytest.approx(8 - 3.2 / 3)
    assert [x.account.account_id for x in cap.mismatches()] == ["A", "B"]
    assert cap.days_per_million == pytest.approx(12 * 16 / 3)
    assert a.per_million(a.revenue) == pytest.approx(12 * 3 / 1.5) and a.per_million(a.potential) == 72
    assert b.per_million(b.potential) is None


def test_people_and_kams(template) -> None:
    cap = capacity(accounts(), template, AS_OF, CapacitySettings(days_per_month=10))
    people = {p.name: p for p in cap.people}
    assert set(people) == {"Ann", "Grace Liu", "Robert Bob"}
    assert people["Grace Liu"].days == 10 and people["Grace Liu"].load == pytest.approx(1.0)
    assert people["Ann"].days == 6 and people["Ann"].kam and not people["Grace Liu"].kam
    assert cap.people[0].name == "Grace Liu"  # the most loaded first
    kams = {k.kam: k for k in cap.kams}
    assert (kams["Ann"].accounts, kams["Ann"].own_days, kams["Ann"].team_days) == (2, 6, 11)
    assert kams["Ann"].load == pytest.approx(0.6) and (kams["Ann"].under, kams["Ann"].over) == (1, 1)
    assert kams["Ann"].days_per_million == pytest.approx(12 * 11 / 1.7)
    assert kams["Bob"].own_days == 0  # Bob's row is the account lead's: 0 days


def test_cost_to_serve_feeds_profitability(template) -> None:
    cap = capacity(accounts(), template, AS_OF, CapacitySettings(day_rate=500.0))
    a, b, _ = cap.accounts
    assert a.cost == 12 * 3 * 500 and b.cost == 12 * 8 * 500
    assert a.margin_after == pytest.approx(0.30 - 18_000 / 1_500_000)
    assert a.profitability_after == pytest.approx((0.30 - 0.012) / 0.35)
    assert (a.priority_after, a.tier_after) == rescored(
        a.account, template, AS_OF, profitability=a.profitability_after
    )
    assert a.priority_after < rescored(a.account, template, AS_OF)[0]
    assert b.margin_after is None  # no gross margin entered: nothing to take the cost from
    assert capacity(accounts(), template, AS_OF, CapacitySettings()).accounts[0].cost is None


def test_the_directors_digest_names_the_three_biggest_mismatches(template) -> None:
    recs = accounts()
    d = account("Dee", "D", [], revenue=100_000.0, money_at_stake=100_000.0)
    d.tier, d.team = "deprioritise", team(("Dee", "account_lead", 6))
    recs.append(d)
    p = Portfolio(recs, template, AS_OF)
    cap = capacity(recs, template, AS_OF)
    expected = [x.account.account for x in cap.mismatches()]
    assert len(expected) == 3  # A under-served, B and D over-served
    body = director_message(kam_digests(p), p).get_body(("plain",)).get_content()
    section = body.split("biggest mismatches")[1]
    at = [section.index(name) for name in expected]
    assert at == sorted(at), section
    assert "under-served" in section and "over-served" in section
    biggest = cap.mismatches(1)[0]
    assert f"{biggest.days:g} days a month, {biggest.expected:.1f} expected" in section


def test_template_settings_are_checked(template, tmp_path: Path) -> None:
    assert capacity_settings(template) == CapacitySettings(18.0, None, 0.5, 1.5)
    text = Path(template.path).read_text(encoding="utf-8")
    for old, new, key in (
        ("days_per_month = 18", "days_per_month = 0", "capacity.days_per_month"),
        ("day_rate = 0", 'day_rate = "600"', "capacity.day_rate"),
        ("under_served = 0.5", "under_served = 2", "capacity.under_served"),
    ):
        bad = tmp_path / "t.toml"
        bad.write_text(text.replace(old, new), encoding="utf-8")
        with pytest.raises(TemplateError, match=rf"t\.toml: {key}"):
            capacity_settings(load_template(bad))
    rate = tmp_path / "rate.toml"
    rate.write_text(text.replace("day_rate = 0", "day_rate = 650"), encoding="utf-8")
    assert dataclasses.replace(capacity_settings(template), day_rate=650.0) == capacity_settings(
        load_template(rate)
    )
