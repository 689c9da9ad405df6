"""The summary's Forecast and Capacity sheets (XlsxWriter tables and a scatter chart).

Forecast: each KAM's and stage's declared probabilities against the deals then won, the
reliability table and chart, and the calibrated pipeline against the gap to target
(:mod:`.forecast`). Capacity: days per month against value and tier, per account, person and
KAM (:mod:`.capacity`). Texts: workbook_templates/forecast.toml.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from ..model import Row
from ..printing import legible_print, sheet_width
from ..review.texts import Texts
from ..template import default_template_path
from .capacity import Capacity, capacity
from .forecast import Calibration, ForecastState, PipelineLine, Record, pipeline_lines
from .portfolio import Col, Portfolio, View
from .sheetrefs import quote_sheet

if TYPE_CHECKING:
    from .summary import SummaryWriter

TOP = 3  # first row under the heading and note
CHART_SIZE = (480, 360)
KAM_COLOURS = ("#C00000", "#2E75B6", "#70AD47", "#7030A0", "#ED7D31", "#00B0F0", "#7F6000", "#FF66CC")


def forecast_texts_path() -> Path:
    return default_template_path().with_name("forecast.toml")


@cache
def _texts(lang: str) -> Texts:
    return Texts(lang, forecast_texts_path())


def texts(p: Portfolio) -> Texts:
    return _texts(p.lang)


def tiers_note(p: Portfolio) -> str:
    """What a sheet showing tiers adds to its note when they use calibrated probabilities."""
    state = p.forecast
    return f" {texts(p)('forecast.tiers_on')}" if state is not None and state.calibrated_tiers else ""


# -- views ------------------------------------------------------------------------------------
def _record_cols(t: Texts, first: Col) -> list[Col]:
    return [
        first,
        Col("deals", t("forecast.col_deals"), "int", total="sum"),
        Col("won", t("forecast.col_won"), "int", total="sum"),
        Col("declared", t("forecast.col_declared"), "percent", total="weighted:deals"),
        Col("win_rate", t("forecast.col_win_rate"), "percent", total="ratio:won/deals"),
        Col("overstatement", t("forecast.col_overstatement"), "percent", total="weighted:deals"),
        Col("brier", t("forecast.col_brier"), "number", total="weighted:deals"),
    ]


def _record_row(rec: Record) -> Row:
    return {
        "deals": rec.deals,
        "won": rec.wins,
        "declared": rec.mean_declared,
        "win_rate": rec.win_rate,
        "overstatement": rec.overstatement,
        "brier": rec.brier,
    }


def kam_view(p: Portfolio, cal: Calibration) -> View:
    """One row per KAM: their closed deals' record, correction and pipeline."""
    t = texts(p)
    cols = [
        *_record_cols(t, Col("kam", t("forecast.col_kam"), width=20)),
        Col("factor", t("forecast.col_factor"), "number"),
        Col("weighted", t("forecast.col_weighted"), "currency", total="sum"),
        Col("calibrated", t("forecast.col_calibrated"), "currency", total="sum"),
    ]
    lines = {line.kam: line for line in pipeline_lines(cal, p.accounts)}
    rows = []
    for kam in sorted(set(lines) | set(cal.by_kam), key=str.casefold):
        line = lines.get(kam, PipelineLine(kam))
        rows.append(
            {"kam": kam or p.t("none_label")}
            | _record_row(cal.by_kam.get(kam, Record()))
            | {
                "factor": cal.kam_factor(kam),
                "weighted": line.new_declared + line.renewal_declared,
                "calibrated": line.new_calibrated + line.renewal_calibrated,
            }
        )
    return View("CalibrationByKAM", cols, rows)


def stage_view(p: Portfolio, cal: Calibration) -> View:
    t = texts(p)
    cols = [
        *_record_cols(t, Col("stage", t("forecast.col_stage"), width=18)),
        Col("factor", t("forecast.col_factor"), "number"),
    ]
    order = list(p.template.choices.get("stage", {}))
    stages = sorted(cal.by_stage, key=lambda s: (order.index(s) if s in order else len(order), s))
    rows = [
        {"stage": p.label("stage", s) if s else t("forecast.no_stage")}
        | _record_row(cal.by_stage[s])
        | {"factor": cal.stage_factor(s)}
        for s in stages
    ]
    return View("CalibrationByStage", cols, rows)


def reliability_view(p: Portfolio, cal: Calibration) -> View:
    t = texts(p)
    cols = [
        Col("bin", t("forecast.col_bin"), width=14),
        Col("deals", t("forecast.col_deals"), "int", total="sum"),
        Col("declared", t("forecast.col_declared"), "percent"),
        Col("win_rate", t("forecast.col_win_rate"), "percent"),
    ]
    rows = [
        {
            "bin": t("forecast.bin", low=t.percent(b.low), high=t.percent(b.high)),
            "deals": b.deals,
            "declared": b.mean_declared,
            "win_rate": b.win_rate,
        }
        for b in cal.reliability()
    ]
    return View("Reliability", cols, rows)


def pipeline_view(p: Portfolio, cal: Calibration) -> View:
    """Per KAM: revenue, target and gap; new business weighted and calibrated, and how much of the
    gap each covers; renewals apart."""
    t = texts(p)
    cols = [
        Col("kam", t("forecast.col_kam"), width=20),
        Col("revenue", t("forecast.col_revenue"), "currency", total="sum"),
        Col("target", t("forecast.col_target"), "currency", total="sum"),
        Col("gap", t("forecast.col_gap"), "currency", total="sum"),
        Col("new_declared", t("forecast.col_new_declared"), "currency", total="sum"),
        Col("new_calibrated", t("forecast.col_new_calibrated"), "currency", total="sum"),
        Col(
            "declared_coverage",
            t("forecast.col_coverage_declared"),
            "percent",
            total="ratio:new_declared/gap",
        ),
        Col("coverage", t("forecast.col_coverage"), "percent", total="ratio:new_calibrated/gap"),
        Col("renewal_open", t("forecast.col_renewal_open"), "currency", total="sum"),
        Col("renewal_calibrated", t("forecast.col_renewal_calibrated"), "currency", total="sum"),
    ]
    rows = [
        {
            "kam": line.kam or p.t("none_label"),
            "revenue": line.revenue,
            "target": line.target,
            "gap": line.gap,
            "new_declared": line.new_declared,
            "new_calibrated": line.new_calibrated,
            "declared_coverage": line.declared_coverage,
            "coverage": line.coverage,
            "renewal_open": line.renewal_open,
            "renewal_calibrated": line.renewal_calibrated,
        }
        for line in pipeline_lines(cal, p.accounts)
    ]
    return View("CalibratedPipeline", cols, rows)


def tiers_view(p: Portfolio, state: ForecastState) -> View:
    """Accounts whose tier calibration changed (only when the tiers use it)."""
    t = texts(p)
    cols = [
        Col("account", t("forecast.col_account"), width=26),
        Col("kam", t("forecast.col_kam"), width=16),
        Col("declared_tier", t("forecast.col_declared_tier"), choices="_tier", width=14),
        Col("tier", t("forecast.col_calibrated_tier"), choices="_tier", width=14),
        Col("declared_priority", t("forecast.col_declared_priority"), "score", width=12),
        Col("priority", t("forecast.col_calibrated_priority"), "score", width=12),
    ]
    declared = state.declared_tiers or {}
    rows = [
        {
            "account": a.account,
            "kam": a.kam,
            "declared_tier": declared[a.file][0],
            "tier": a.tier,
            "declared_priority": declared[a.file][1],
            "priority": a.priority,
        }
        for a in p.sorted_accounts()
        if a.file in declared and declared[a.file][0] != a.tier
    ]
    return View("CalibratedTiers", cols, rows)


def capacity_account_view(p: Portfolio, cap: Capacity) -> View:
    t = texts(p)
    cols = [
        Col("account", t("capacity.col_account"), width=26),
        Col("kam", t("capacity.col_kam"), width=16),
        Col("tier", t("capacity.col_tier"), choices="_tier", width=13),
        Col("days", t("capacity.col_days"), "number", total="sum"),
        Col("expected", t("capacity.col_expected"), "number", total="sum"),
        Col("ratio", t("capacity.col_ratio"), "percent", total="ratio:days/expected"),
        Col("verdict", t("capacity.col_verdict"), width=14),
        Col("mismatch", t("capacity.col_mismatch"), "number", total="sum"),
        Col("revenue", t("capacity.col_revenue"), "currency", total="sum"),
        Col("potential", t("capacity.col_potential"), "currency", total="sum"),
        Col("per_revenue", t("capacity.col_per_revenue"), "number", width=13),
        Col("per_potential", t("capacity.col_per_potential"), "number", width=13),
    ]
    if cap.settings.day_rate:
        cols += [
            Col("cost", t("capacity.col_cost"), "currency", total="sum"),
            Col("margin_after", t("capacity.col_margin_after"), "percent", width=13),
            Col("priority_after", t("capacity.col_priority_after"), "score", width=13),
            Col("tier_after", t("capacity.col_tier_after"), choices="_tier", width=14),
        ]
    flagged = {id(x): i for i, x in enumerate(cap.mismatches())}
    loads = sorted(
        cap.accounts,
        key=lambda x: (flagged.get(id(x), len(flagged)), -x.account.priority, x.account.account.casefold()),
    )
    rows = [
        {
            "account": x.account.account,
            "kam": x.account.kam,
            "tier": x.account.tier,
            "days": x.days,
            "expected": x.expected,
            "ratio": x.ratio,
            "verdict": t(f"capacity.{x.verdict}") if x.verdict else "",
            "mismatch": x.mismatch or None,
            "revenue": x.revenue,
            "potential": x.potential,
            "per_revenue": x.per_million(x.revenue),
            "per_potential": x.per_million(x.potential),
            "cost": x.cost,
            "margin_after": x.margin_after,
            "priority_after": x.priority_after,
            "tier_after": x.tier_after,
        }
        for x in loads
    ]
    return View("CapacityByAccount", cols, rows)


def capacity_people_view(p: Portfolio, cap: Capacity) -> View:
    t = texts(p)
    cols = [
        Col("name", t("capacity.col_person"), width=22),
        Col("is_kam", t("capacity.col_is_kam"), width=8),
        Col("accounts", t("capacity.col_accounts"), "int"),
        Col("days", t("capacity.col_days"), "number", total="sum"),
        Col("capacity", t("capacity.col_capacity"), "number", total="sum"),
        Col("load", t("capacity.col_load"), "percent", total="ratio:days/capacity"),
    ]
    rows = [
        {
            "name": person.name,
            "is_kam": t("capacity.yes") if person.kam else "",
            "accounts": len(person.accounts),
            "days": person.days,
            "capacity": person.capacity,
            "load": person.load,
        }
        for person in cap.people
    ]
    return View("CapacityByPerson", cols, rows)


def capacity_kam_view(p: Portfolio, cap: Capacity) -> View:
    t = texts(p)
    cols = [
        Col("kam", t("capacity.col_kam"), width=20),
        Col("accounts", t("capacity.col_accounts"), "int", total="sum"),
        Col("own_days", t("capacity.col_own_days"), "number", total="sum"),
        Col("capacity", t("capacity.col_capacity"), "number", total="sum"),
        Col("load", t("capacity.col_load"), "percent", total="ratio:own_days/capacity"),
        Col("team_days", t("capacity.col_team_days"), "number", total="sum"),
        Col("revenue", t("capacity.col_revenue"), "currency", total="sum"),
        Col("per_revenue", t("capacity.col_per_revenue"), "number", width=13),
        Col("under", t("capacity.col_under"), "int", total="sum"),
        Col("over", t("capacity.col_over"), "int", total="sum"),
    ]
    rows = [
        {
            "kam": k.kam or p.t("none_label"),
            "accounts": k.accounts,
            "own_days": k.own_days,
            "capacity": k.capacity,
            "load": k.load,
            "team_days": k.team_days,
            "revenue": k.revenue,
            "per_revenue": k.days_per_million,
            "under": k.under,
            "over": k.over,
        }
        for k in cap.kams
    ]
    return View("CapacityByKAM", cols, rows)


# -- sheets -----------------------------------------------------------------------------------
def _block(w: SummaryWriter, ws: Worksheet, row: int, title: str, view: View) -> tuple[int, int, int]:
    """A subheading and a table under it; its first and last data rows, and the next free row."""
    ws.write_string(row, 0, title, w.s.subheading)
    first, last = w.write_view(ws, view, row + 1, 0)
    totals = bool(view.rows) and any(c.total for c in view.columns)
    return first, last, last + (1 if totals else 0) + 3


def render_forecast(w: SummaryWriter, ws: Worksheet) -> None:
    p = w.p
    t = texts(p)
    state: ForecastState | None = p.forecast
    if state is None:
        from .forecast import prepare_forecast

        _, state = prepare_forecast([], p.as_of, p.accounts, p.template)
    cal = state.calibration
    if cal.outcomes:
        since = p.date(cal.first_day) if cal.first_day else "-"
        note = t("forecast.note", deals=len(cal.outcomes), since=since)
    else:
        note = t("forecast.no_history")
    if state.calibrated_tiers:
        note = f"{t('forecast.tiers_on')} {note}"
    w.frame(ws, t("forecast.head"), note)
    row = TOP
    kams = kam_view(p, cal)
    k_first, k_last, row = _block(w, ws, row, t("forecast.section_kams"), kams)
    _tone(w, ws, kams, k_first, "overstatement")
    _, _, row = _block(w, ws, row, t("forecast.section_stages"), stage_view(p, cal))
    rel = reliability_view(p, cal)
    r_first, r_last, next_row = _block(w, ws, row, t("forecast.section_reliability"), rel)
    _chart(w, ws, row, (r_first, r_last), (k_first, k_last, kams))
    row = max(next_row, row + 20)
    _, _, row = _block(w, ws, row, t("forecast.section_pipeline"), pipeline_view(p, cal))
    if state.calibrated_tiers:
        tiers = tiers_view(p, state)
        if tiers.rows:
            _block(w, ws, row, t("forecast.section_tiers"), tiers)
        else:
            ws.write_string(row, 0, t("forecast.no_tier_change"), w.s.hint)
    legible_print(ws, sheet_width(ws), key_col=0)


def _tone(w: SummaryWriter, ws: Worksheet, view: View, first: int, key: str) -> None:
    """Overstatement of 10 points or more in the bad tone, understatement of 10 in the warn tone."""
    if not view.rows:
        return
    col = [c.key for c in view.columns].index(key)
    last = first + len(view.rows) - 1
    for criteria, value, tone in ((">=", 0.1, "bad"), ("<=", -0.1, "warn")):
        ws.conditional_format(
            first,
            col,
            last,
            col,
            {"type": "cell", "criteria": criteria, "value": value, "format": w.tone(tone)},
        )


def _chart(
    w: SummaryWriter, ws: Worksheet, row: int, rel: tuple[int, int], kams: tuple[int, int, View]
) -> None:
    """Scatter: the portfolio's bins and each KAM's closed deals (declared across, won up), with the
    diagonal of perfect calibration; beside the reliability table."""
    t = texts(w.p)
    sheet = quote_sheet(ws.get_name())
    left = 6  # columns G onwards: clear of the reliability table
    # The diagonal's two points, under the chart's title cell.
    ws.write_string(row, left + 8, t("forecast.perfect"), w.s.hint)
    for i, value in enumerate((0, 1)):
        ws.write_number(row + 1 + i, left + 8, value)
        ws.write_number(row + 1 + i, left + 9, value)

    def ref(r0: int, r1: int, c: int) -> str:
        col = xl_col_to_name(c)
        return f"={sheet}!${col}${r0 + 1}:${col}${r1 + 1}"

    chart = w.wb.add_chart({"type": "scatter"})
    chart.add_series(
        {
            "name": t("forecast.perfect"),
            "categories": ref(row + 1, row + 2, left + 8),
            "values": ref(row + 1, row + 2, left + 9),
            "line": {"color": "#7F7F7F", "dash_type": "dash", "width": 1.25},
            "marker": {"type": "none"},
        }
    )
    first, last = rel
    chart.add_series(
        {
            "name": t("forecast.portfolio_series"),
            "categories": ref(first, last, 2),
            "values": ref(first, last, 3),
            "marker": {"type": "diamond", "size": 8, "fill": {"color": w.st["primary"]}},
        }
    )
    k_first, _, view = kams
    keys = [c.key for c in view.columns]
    for i, kam_row in enumerate(view.rows):
        if not kam_row.get("deals"):
            continue
        r = k_first + i
        colour = KAM_COLOURS[i % len(KAM_COLOURS)]
        chart.add_series(
            {
                "name": str(kam_row["kam"]),
                "categories": ref(r, r, keys.index("declared")),
                "values": ref(r, r, keys.index("win_rate")),
                "marker": {
                    "type": "circle",
                    "size": 9,
                    "fill": {"color": colour},
                    "border": {"color": colour},
                },
            }
        )
    axis = {"min": 0, "max": 1, "major_unit": 0.2, "num_format": "0%", "num_font": w.font(8)}
    chart.set_x_axis(axis | {"name": t("forecast.axis_declared"), "name_font": w.font(9)})
    chart.set_y_axis(
        axis
        | {
            "name": t("forecast.axis_won"),
            "name_font": w.font(9),
            "major_gridlines": {"visible": True, "line": {"color": w.st["border"]}},
        }
    )
    w.style_chart(chart, t("forecast.chart"), size=CHART_SIZE)
    ws.insert_chart(row, left, chart, {"x_offset": 4, "y_offset": 4})


def render_capacity(w: SummaryWriter, ws: Worksheet) -> None:
    p = w.p
    t = texts(p)
    cap = capacity(p.accounts, p.template, p.as_of)
    s = cap.settings
    rate = f"{cap.days_per_million:.1f}" if cap.days_per_million is not None else "-"
    note = t(
        "capacity.note",
        rate=rate,
        under=t.percent(s.under_served),
        over=f"{s.over_served:g}",
        capacity=f"{s.days_per_month:g}",
    )
    if s.day_rate:
        note = f"{note} {t('capacity.cost_note', rate=t.money(s.day_rate))}"
    w.frame(ws, t("capacity.head"), note)
    accounts = capacity_account_view(p, cap)
    first, _, row = _block(w, ws, TOP, t("capacity.section_accounts"), accounts)
    keys = [c.key for c in accounts.columns]
    if accounts.rows:
        col, last = keys.index("verdict"), first + len(accounts.rows) - 1
        for word, tone in ((t("capacity.under"), "warn"), (t("capacity.over"), "bad")):
            ws.conditional_format(
                first,
                col,
                last,
                col,
                {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": w.tone(tone)},
            )
    people = capacity_people_view(p, cap)
    first, _, row = _block(w, ws, row, t("capacity.section_people"), people)
    _over_capacity(w, ws, people, first)
    kams = capacity_kam_view(p, cap)
    first, _, _ = _block(w, ws, row, t("capacity.section_kams"), kams)
    _over_capacity(w, ws, kams, first)
    legible_print(ws, sheet_width(ws), key_col=0)


def _over_capacity(w: SummaryWriter, ws: Worksheet, view: View, first: int) -> None:
    if not view.rows:
        return
    col = [c.key for c in view.columns].index("load")
    ws.conditional_format(
        first,
        col,
        first + len(view.rows) - 1,
        col,
        {"type": "cell", "criteria": ">", "value": 1, "format": w.tone("bad")},
    )
