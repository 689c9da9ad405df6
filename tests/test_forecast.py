"""Forecast calibration on histories whose right answer is known before the code runs."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from kamxl.rollup.forecast import (
    ForecastSettings,
    calibrate,
    calibrated_records,
    closed_deals,
    forecast_settings,
    pipeline_lines,
    rescored,
    today_deals,
)
from kamxl.rollup.history import load_deals, store_snapshot
from kamxl.rollup.records import AccountRecord
from kamxl.template import TemplateError, load_template

from .test_rollup_units import AS_OF, record

DAY1, DAY2, DAY3 = dt.date(2026, 3, 31), dt.date(2026, 6, 30), dt.date(2026, 9, 30)
PRIOR = 5.0  # the template's prior_wins


def account(kam: str, key: str, deals: list[dict], **figures: float) -> AccountRecord:
    """A bare record: what the history and the calibration read of an account."""
    return AccountRecord(
        file=f"{key}.xlsx",
        path="",
        account=f"Client {key}",
        account_id=key,
        kam=kam,
        sector="",
        lang="en",
        template_version="2.0",
        scores={"potential": 60.0, "relationship": 60.0, "execution": 60.0, "overall": 60.0},
        priority=50.0,
        tier="maintain",
        tier_label="Maintain",
        figures={"revenue": 0.0, "target": 0.0, **figures},
        opportunities=deals,
    )


def deal(name: str, probability: float, stage: str = "negotiation", **extra: object) -> dict:
    return {
        "name": name,
        "type": "upsell",
        "amount": 10_000.0,
        "probability": probability,
        "stage": stage,
    } | extra


def book(kam: str, key: str, n: int, declared: float, wins: int, stage: str = "negotiation") -> tuple:
    """The same account on two days: ``n`` deals open at ``declared``, then ``wins`` of them won."""
    before = account(kam, key, [deal(f"Deal {i}", declared, stage) for i in range(n)])
    after = account(
        kam,
        key,
        [deal(f"Deal {i}", 1.0 if i < wins else 0.0, "won" if i < wins else "lost") for i in range(n)],
    )
    return before, after


def history(tmp_path: Path, days: dict[dt.date, list[AccountRecord]]) -> Path:
    db = tmp_path / "h.sqlite"
    for day, accounts in days.items():
        store_snapshot(db, day, {"accounts": len(accounts)}, accounts)
    return db


def test_an_optimist_declaring_80_who_wins_40_of_50(tmp_path: Path) -> None:
    before, after = book("Olivia Optimist", "A", 50, 0.8, 20)
    db = history(tmp_path, {DAY1: [before], DAY2: [after]})
    cal = calibrate(load_deals(db), [])
    rec = cal.by_kam["Olivia Optimist"]
    assert (rec.deals, rec.wins) == (50, 20)
    assert rec.mean_declared == pytest.approx(0.8) and rec.win_rate == pytest.approx(0.4)
    assert rec.overstatement == pytest.approx(0.4)
    # Brier: 20 wins at (0.8 - 1)^2 = 0.04, 30 losses at 0.8^2 = 0.64
    assert rec.brier == pytest.approx((20 * 0.04 + 30 * 0.64) / 50)
    # Shrinkage by hand: portfolio 25/45 (towards 1), KAM and KAM x stage towards the level above.
    portfolio = (20 + PRIOR * 1) / (40 + PRIOR)
    kam = (20 + PRIOR * portfolio) / (40 + PRIOR)
    cell = (20 + PRIOR * kam) / (40 + PRIOR)
    assert cal.portfolio_factor() == pytest.approx(portfolio)
    assert cal.kam_factor("Olivia  Optimist") == pytest.approx(kam)
    assert cal.calibrated(0.8, "Olivia Optimist", "negotiation") == pytest.approx(0.8 * cell)
    assert cal.calibrated(0.8, "Olivia Optimist", "negotiation") == pytest.approx(0.4, abs=0.005)


def test_a_cautious_kam_is_corrected_upwards(tmp_path: Path) -> None:
    before, after = book("Carl Cautious", "C", 40, 0.3, 24, stage="proposal")
    cal = calibrate(load_deals(history(tmp_path, {DAY1: [before], DAY2: [after]})), [])
    rec = cal.by_kam["Carl Cautious"]
    assert rec.win_rate == pytest.approx(0.6) and rec.overstatement == pytest.approx(-0.3)
    assert cal.calibrated(0.3, "Carl Cautious", "proposal") == pytest.approx(0.6, abs=0.03)
    assert cal.calibrated(0.9, "Carl Cautious", "proposal") == 1.0  # never above certainty


def test_a_kam_with_few_closed_deals_is_corrected_as_the_portfolio(tmp_path: Path) -> None:
    o_before, o_after = book("Olivia Optimist", "A", 50, 0.8, 20)
    n_before, n_after = book("Nina New", "N", 2, 0.8, 0)
    cal = calibrate(load_deals(history(tmp_path, {DAY1: [o_before, n_before], DAY2: [o_after, n_after]})), [])
    portfolio = (20 + PRIOR) / (40 + 1.6 + PRIOR)
    nina = (0 + PRIOR * portfolio) / (1.6 + PRIOR)  # her own record (0 of 2) weighs 1.6 expected wins
    assert cal.portfolio_factor() == pytest.approx(portfolio)
    assert cal.kam_factor("Nina New") == pytest.approx(nina)
    assert 0 < nina < portfolio and nina > portfolio / 2  # pulled most of the way to the portfolio
    assert cal.kam_factor("Nobody Yet") == pytest.approx(portfolio)


def test_each_deal_counts_once_with_its_last_declaration(tmp_path: Path) -> None:
    early = account("K", "A", [deal("Grows", 0.2, "qualification"), deal("Early", 0.5)])
    later = account("K", "A", [deal("Grows", 0.7), deal("Early", 1.0, "won"), deal("Late", 0.6)])
    last = account(
        "K", "A", [deal("Grows", 0.0, "lost"), deal("Early", 1.0, "won"), deal("Seen closed", 1, "won")]
    )
    outcomes = closed_deals(load_deals(history(tmp_path, {DAY1: [early], DAY2: [later], DAY3: [last]})))
    got = sorted((o.probability, o.stage, o.won, o.closed_on) for o in outcomes)
    # "Late" vanished without an outcome and "Seen closed" was never seen open: neither counts.
    assert got == [(0.5, "negotiation", True, DAY2), (0.7, "negotiation", False, DAY3)]


def test_todays_deals_replace_a_snapshot_of_the_same_day(tmp_path: Path) -> None:
    before, after = book("K", "A", 10, 0.5, 10)
    db = history(tmp_path, {DAY1: [before], DAY2: [before]})
    cal = calibrate(load_deals(db), today_deals(DAY2, [after]))
    assert (cal.portfolio.deals, cal.portfolio.wins, cal.first_day) == (10, 10, DAY1)


def test_reliability_bins(tmp_path: Path) -> None:
    rows = [(0.1, 10, 1), (0.5, 10, 5), (0.9, 10, 9), (1.0, 2, 2)]
    before = account("K", "A", [deal(f"{p}-{i}", p) for p, n, _ in rows for i in range(n)])
    after = account(
        "K", "A", [deal(f"{p}-{i}", 1, "won" if i < w else "lost") for p, n, w in rows for i in range(n)]
    )
    cal = calibrate(load_deals(history(tmp_path, {DAY1: [before], DAY2: [after]})), [])
    bins = [(b.low, b.high, b.deals, b.mean_declared, b.win_rate) for b in cal.reliability()]
    assert bins[0] == (0.0, 0.2, 10, pytest.approx(0.1), pytest.approx(0.1))
    assert bins[1][2] == 0 and bins[1][3] is None
    assert bins[2] == (0.4, 0.6, 10, pytest.approx(0.5), pytest.approx(0.5))
    assert bins[4] == (0.8, 1.0, 12, pytest.approx((0.9 * 10 + 1.0 * 2) / 12), pytest.approx(11 / 12))
    assert [b.deals for b in cal.reliability("Someone else")] == [0] * 5


def test_the_history_keeps_no_names_nor_text(tmp_path: Path) -> None:
    secret = "Confirm budget with Fiona Clarke"
    acc = account("Kim KAM", "A", [deal(secret, 0.4, next_step=secret, owner="Fiona Clarke")])
    db = history(tmp_path, {DAY1: [acc]})
    with closing(sqlite3.connect(db)) as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(deal_snapshots)")]
        rows = con.execute("SELECT * FROM deal_snapshots").fetchall()
    expected = ["day", "account_id", "deal", "kam", "type", "stage", "probability", "amount"]
    assert cols == [*expected, "expected_close", "outcome"]
    assert len(rows) == 1 and rows[0][3] == "Kim KAM" and rows[0][6] == 0.4
    assert "fiona" not in repr(rows).casefold() and "budget" not in repr(rows).casefold()


def test_calibrated_pipeline_against_the_gap(tmp_path: Path) -> None:
    before, after = book("Olivia Optimist", "A", 50, 0.8, 20)
    cal = calibrate(load_deals(history(tmp_path, {DAY1: [before], DAY2: [after]})), [])
    factor = cal.factor("Olivia Optimist", "negotiation")
    now = account(
        "Olivia Optimist",
        "B",
        [
            deal("New", 0.5, amount=200_000.0),
            deal("Renewal", 0.8, type="renewal", amount=100_000.0),
            deal("Won already", 1.0, "won", amount=999_999.0),
        ],
        revenue=1_000_000.0,
        target=1_300_000.0,
    )
    (line,) = pipeline_lines(cal, [now])
    assert line.gap == 300_000.0
    assert line.new_declared == 100_000.0 and line.new_calibrated == pytest.approx(100_000.0 * factor)
    assert line.renewal_open == 100_000.0 and line.renewal_declared == pytest.approx(80_000.0)
    assert line.renewal_calibrated == pytest.approx(80_000.0 * factor)
    assert line.coverage == pytest.approx(100_000.0 * factor / 300_000.0)
    assert line.declared_coverage == pytest.approx(1 / 3)


def test_rescoring_without_calibration_gives_the_records_own_tier(template) -> None:
    acc = record(template, "Acme", "Alice", annual_revenue=1_000_000.0)
    assert rescored(acc, template, AS_OF) == (pytest.approx(acc.priority), acc.tier)
    no_history = calibrate([], [])
    assert rescored(acc, template, AS_OF, cal=no_history) == (pytest.approx(acc.priority), acc.tier)


def test_calibrated_tiers_follow_a_kams_record(template, tmp_path: Path) -> None:
    acc = record(template, "Acme", "Alice", annual_revenue=1_000_000.0)  # its pipeline short of coverage
    before, after = book("Alice", "X", 50, 0.8, 5, stage="proposal")
    cal = calibrate(load_deals(history(tmp_path, {DAY1: [before], DAY2: [after]})), [])
    assert cal.factor("Alice", "proposal") < 0.3
    (copy,), declared = calibrated_records([acc], template, cal, AS_OF)
    assert declared == {acc.file: (acc.tier, acc.priority)}
    assert copy.priority < acc.priority  # the same deals, believed less
    assert (copy.priority, copy.tier) == (
        pytest.approx(rescored(acc, template, AS_OF, cal=cal)[0]),
        copy.tier,
    )
    assert acc.priority == declared[acc.file][1]  # the record itself is left as it was


def test_template_settings_are_checked(template, tmp_path: Path) -> None:
    assert forecast_settings(template) == ForecastSettings(5.0, (0.2, 0.4, 0.6, 0.8))
    text = Path(template.path).read_text(encoding="utf-8").replace("prior_wins = 5", "prior_wins = -1")
    bad = tmp_path / "t.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(TemplateError, match=r"t\.toml: forecast\.prior_wins"):
        forecast_settings(load_template(bad))


def test_every_text_is_in_english_and_french_with_the_same_placeholders() -> None:
    import string
    import tomllib

    from kamxl.rollup.forecast_sheets import forecast_texts_path

    data = tomllib.loads(forecast_texts_path().read_text(encoding="utf-8"))
    texts = [(f"{section}.{key}", v) for section, items in data.items() for key, v in items.items()]
    assert len(texts) > 80
    for where, text in texts:
        assert set(text) == {"en", "fr"} and all(text.values()), where
        names = [{n for _, n, _, _ in string.Formatter().parse(text[lang]) if n} for lang in ("en", "fr")]
        assert names[0] == names[1], where


def test_reading_only_the_decisive_snapshots_calibrates_the_same(tmp_path: Path) -> None:
    """A roll-up reads at most two snapshots of each deal: the same outcomes as reading them all,
    whatever the deals did (opened late, closed, reopened, vanished, lost their probability)."""
    import random

    rng = random.Random(5)
    days = [DAY1 + dt.timedelta(days=30 * i) for i in range(6)]
    snapshots: dict[dt.date, list[AccountRecord]] = {}
    for day in days:
        deals = []
        for i in range(60):
            if rng.random() < 0.15:
                continue  # not in the plan that day
            stage = rng.choice(("qualification", "proposal", "negotiation", "won", "lost"))
            probability = None if rng.random() < 0.1 else rng.choice((0.1, 0.3, 0.5, 0.7, 0.9))
            deals.append(deal(f"D{i}", probability, stage))  # type: ignore[arg-type]
        snapshots[day] = [account(f"K{rng.randint(1, 3)}", "A", deals)]
    db = history(tmp_path, snapshots)
    full = closed_deals(load_deals(db))
    assert len(full) > 20
    assert closed_deals(load_deals(db, decisive=True)) == full
    cut = days[3]
    assert closed_deals(load_deals(db, before=cut, decisive=True)) == closed_deals(
        [s for s in load_deals(db) if s.day < cut]
    )
