"""The Forecast and Capacity sheets end to end: plans rolled up on two days, numbers read back."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from kamxl.commands.rollup import command as rollup_command
from kamxl.model import new_plan
from kamxl.rollup import rollup
from kamxl.writer import write_plan

DAY1, DAY2 = dt.date(2026, 6, 30), dt.date(2026, 9, 30)
KAM = "Olivia Optimist"


def _plan(template: Any, closed: bool) -> Any:
    """Ten deals Olivia calls at 80%: open on the first day, 4 won and 6 lost on the second, when a
    new 100,000 deal opens at 80% too."""
    plan = new_plan(
        template, "en", client_name="Acme", kam=KAM, annual_revenue=1_000_000, revenue_target=1_300_000
    )
    plan.account_id = "acme-0001"
    deals = []
    for i in range(10):
        stage = ("won" if i < 4 else "lost") if closed else "negotiation"
        probability = (1.0 if i < 4 else 0.0) if closed else 0.8
        deals.append(
            {
                "name": f"Deal {i}",
                "type": "upsell",
                "amount": 20_000,
                "probability": probability,
                "stage": stage,
            }
        )
    if closed:
        deals.append(
            {
                "name": "Next",
                "type": "new_business",
                "amount": 100_000,
                "probability": 0.8,
                "stage": "negotiation",
            }
        )
    plan.tables["opportunities"] = deals
    plan.tables["team"] = [
        {"name": KAM, "role": "account_lead", "commitment": 4},
        {"name": "Grace Liu", "role": "delivery", "commitment": 2.5},
    ]
    return plan


@pytest.fixture(scope="module")
def share(template, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("forecast")
    (root / "plans").mkdir()
    write_plan(_plan(template, closed=False), root / "plans" / "acme.xlsx", template=template)
    rollup(root / "plans", output=root / "out" / "s.xlsx", as_of=DAY1, jobs=1)
    write_plan(_plan(template, closed=True), root / "plans" / "acme.xlsx", template=template)
    return root


def _run(share: Path, *args: str) -> dict[str, Any]:
    where = [str(share / "plans"), "-o", str(share / "out" / "s.xlsx"), "--as-of", DAY2.isoformat()]
    result = CliRunner().invoke(rollup_command, [*where, *args, "--json", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _rows(path: Path, sheet: str) -> list[list[Any]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def _row(rows: list[list[Any]], first: str, after: str = "") -> list[Any]:
    start = next(i for i, r in enumerate(rows) if r and r[0] == after) if after else 0
    return next(r for r in rows[start:] if r and r[0] == first)


# Olivia's record by hand: 10 deals at 0.8, 4 won.
BRIER = (4 * 0.2**2 + 6 * 0.8**2) / 10
PORTFOLIO = (4 + 5) / (8 + 5)  # prior of 5 expected wins, towards 1
FACTOR = (4 + 5 * PORTFOLIO) / (8 + 5)  # Olivia, towards the portfolio (one KAM, one stage)
CELL = (4 + 5 * FACTOR) / (8 + 5)


def test_the_history_snapshots_each_deal_and_json_gives_each_kams_calibration(share: Path) -> None:
    data = _run(share)
    with closing(sqlite3.connect(share / "out" / "portfolio-history.sqlite")) as con:
        days = con.execute(
            "SELECT day, COUNT(*), SUM(outcome IS 'won') FROM deal_snapshots GROUP BY day"
        ).fetchall()
    assert days == [(DAY1.isoformat(), 10, 0), (DAY2.isoformat(), 11, 4)]
    assert data["calibrated_tiers"] is False
    olivia = data["calibration"][KAM]
    assert (olivia["closed_deals"], olivia["won"]) == (10, 4)
    assert olivia["mean_declared"] == 0.8 and olivia["win_rate"] == 0.4 and olivia["overstatement"] == 0.4
    assert olivia["brier"] == pytest.approx(BRIER, abs=1e-4)
    assert olivia["factor"] == pytest.approx(FACTOR, abs=1e-4)
    assert olivia["weighted_pipeline"] == 80_000
    assert olivia["calibrated_pipeline"] == pytest.approx(80_000 * CELL, abs=0.01)
    assert [b["deals"] for b in olivia["reliability"]] == [0, 0, 0, 0, 10]


def test_the_forecast_and_capacity_sheets_hold_those_numbers(share: Path) -> None:
    _run(share)
    out = share / "out" / "s.xlsx"
    forecast = _rows(out, "Forecast")
    kam = _row(forecast, KAM)
    assert kam[1:7] == [
        10,
        4,
        pytest.approx(0.8),
        pytest.approx(0.4),
        pytest.approx(0.4),
        pytest.approx(BRIER),
    ]
    assert kam[7] == pytest.approx(FACTOR) and kam[8] == 80_000 and kam[9] == pytest.approx(80_000 * CELL)
    assert _row(forecast, "80% to 100%")[1:4] == [10, pytest.approx(0.8), pytest.approx(0.4)]
    pipeline = _row(forecast, KAM, after="Calibrated pipeline against the gap to target")
    assert pipeline[1:6] == [1_000_000, 1_300_000, 300_000, 80_000, pytest.approx(80_000 * CELL)]
    capacity = _rows(out, "Capacity")
    acme = _row(capacity, "Acme")
    assert acme[1] == KAM and acme[3] == 6.5  # 4 + 2.5 days a month; the only account: as expected
    assert acme[4] == pytest.approx(6.5) and acme[5] == pytest.approx(1.0)
    assert _row(capacity, "Grace Liu")[3:6] == [2.5, 18, pytest.approx(2.5 / 18)]
    with zipfile.ZipFile(out) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    reliability = [c for c in charts if "Declared probability against deals won" in c]
    assert len(reliability) == 1 and "<c:scatterChart>" in reliability[0], charts
    assert f"<c:v>{KAM}</c:v>" in reliability[0] and "'Forecast'!$D$6:$D$6" in reliability[0]


def test_calibrated_tiers_are_off_by_default_and_said_when_on(share: Path) -> None:
    data = _run(share, "--calibrated-tiers")
    assert data["calibrated_tiers"] is True
    out = share / "out" / "s.xlsx"
    assert _rows(out, "Forecast")[1][0].startswith("Tiers use calibrated probabilities")
    assert "Tiers use calibrated probabilities" in _rows(out, "Accounts")[1][0]
    _run(share)
    assert not _rows(out, "Forecast")[1][0].startswith("Tiers use")
    assert "Tiers use" not in _rows(out, "Accounts")[1][0]


def test_libreoffice_opens_the_french_summary(share: Path, lo_recalc) -> None:
    _run(share, "--lang", "fr")
    out = share / "out" / "s.xlsx"
    sheets = CalamineWorkbook.from_path(str(out)).sheet_names
    assert "Prévisions" in sheets and "Capacité" in sheets
    assert _row(_rows(out, "Prévisions"), KAM)[1:3] == [10, 4]
    report = lo_recalc([out], cells=True)[str(out)]
    assert not report.get("errors"), report.get("errors")
    cells = report["cells"]
    totals = [v for sheet in ("Prévisions", "Capacité") for v in cells.get(sheet, {}).values()]
    assert 10 in totals and 6.5 in totals  # the total rows' formulas, recalculated by LibreOffice


def test_the_digests_give_each_kams_record(share: Path) -> None:
    import email
    import email.policy

    _run(share, "--digest", str(share / "digest"))
    drafts = {p.name.split(" 20")[0]: p for p in (share / "digest").glob("*.eml")}
    line = f"{KAM}: declared 80% on average, won 4 of 10 closed deals (40%)"
    for name in (f"KAM digest {KAM}", "Portfolio digest"):
        msg = email.message_from_bytes(drafts[name].read_bytes(), policy=email.policy.default)
        text = msg.get_body(("plain",)).get_content()
        assert f"- {line}" in text, text
    director = email.message_from_bytes(drafts["Portfolio digest"].read_bytes(), policy=email.policy.default)
    assert "Days against tier: the biggest mismatches" in director.get_body(("plain",)).get_content()


def test_a_bad_capacity_setting_is_refused_before_anything_is_written(
    template, share: Path, tmp_path
) -> None:
    text = (
        Path(template.path).read_text(encoding="utf-8").replace("days_per_month = 18", "days_per_month = -2")
    )
    bad = tmp_path / "tpl" / "account_plan.toml"
    bad.parent.mkdir()
    bad.write_text(text, encoding="utf-8")
    out = tmp_path / "out" / "s.xlsx"
    result = CliRunner().invoke(
        rollup_command, [str(share / "plans"), "-o", str(out), "--template", str(bad)]
    )
    assert result.exit_code == 2 and "account_plan.toml: capacity.days_per_month" in result.output
    assert not out.parent.exists() or not any(out.parent.iterdir())
