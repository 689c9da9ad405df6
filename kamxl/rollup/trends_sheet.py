"""The Trends sheet: one row per snapshot day, two line charts over them, and the accounts that
changed tier since the previous snapshot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xlsxwriter.utility import xl_col_to_name

from .history import Movement, Snapshot
from .portfolio import Col, Portfolio, View
from .sheetrefs import HEADER_ROW
from .sheetrefs import quote_sheet as _quote

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

    from .summary import SummaryWriter

TREND_CHART = (520, 300)  # pixels


def render_trends(w: SummaryWriter) -> None:
    ws, p, tr = w.sheets["trends"], w.p, w.trends
    note = p.t("note_trends", db=str(tr.database)) if tr.database else p.t("no_history")
    w.frame(ws, p.t("head_trends"), note)
    view = trends_view(p, tr.snapshots)
    first, last = w.write_view(ws, view, HEADER_ROW, 0)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    row = last + 3
    if tr.snapshots:
        trend_charts(w, ws, view, first, last, row)
        row += 19
    day = tr.previous_day
    heading = p.t("head_movements", date=p.date(day)) if day else p.t("head_movements_first")
    ws.write_string(row, 0, heading, w.s.subheading)
    if tr.previous_day is None:
        ws.write_string(row + 1, 0, p.t("no_previous"), w.s.hint)
        return
    if not tr.movements:
        ws.write_string(row + 1, 0, p.t("no_movement"), w.s.hint)
        return
    w.write_view(ws, movements_view(p, tr.movements), row + 2, 0)


def trend_charts(w: SummaryWriter, ws: Worksheet, view: View, first: int, last: int, row: int) -> None:
    sheet = _quote(ws.get_name())
    keys = [c.key for c in view.columns]

    def ref(key: str) -> str:
        c = keys.index(key)
        return f"={sheet}!${xl_col_to_name(c)}${first + 1}:${xl_col_to_name(c)}${last + 1}"

    def lines(series: dict[str, str]) -> Any:
        """A line chart over the snapshot days, one series per column key, with its colour."""
        chart = w.wb.add_chart({"type": "line"})
        for key, color in series.items():
            chart.add_series(
                {
                    "name": view.columns[keys.index(key)].header,
                    "categories": ref("day"),
                    "values": ref(key),
                    "line": {"color": color, "width": 2.25},
                    "marker": {
                        "type": "circle",
                        "size": 6,
                        "fill": {"color": color},
                        "border": {"color": color},
                    },
                }
            )
        return chart

    money = lines({"revenue": w.st["primary"], "target": "#ED7D31", "weighted_pipeline": "#70AD47"})
    w.style_chart(money, w.p.t("chart_trend_totals"), money_axis=True, size=TREND_CHART)
    money.set_x_axis(snapshot_axis(w))
    ws.insert_chart(row, 0, money, {"x_offset": 4, "y_offset": 4})
    scores = lines(
        {
            "avg_overall": w.st["primary"],
            "avg_potential": "#2E75B6",
            "avg_relationship": "#7030A0",
            "avg_execution": "#ED7D31",
        }
    )
    w.style_chart(scores, w.p.t("chart_trend_scores"), size=TREND_CHART)
    scores.set_y_axis(
        {
            "min": 0,
            "max": 100,
            "major_unit": 20,
            "num_font": w.font(8),
            "major_gridlines": {"visible": True, "line": {"color": w.st["border"]}},
        }
    )
    scores.set_x_axis(snapshot_axis(w))
    ws.insert_chart(row, 0, scores, {"x_offset": 4 + TREND_CHART[0] + 20, "y_offset": 4})


def snapshot_axis(w: SummaryWriter) -> dict[str, Any]:
    """One category per snapshot day, labelled with the day itself: a date axis would label
    by its base unit (2026-01-01 under a snapshot of 2026-12-01) and space by calendar."""
    return {"text_axis": True, "num_font": w.font(8), **w.s.num_format("date")}


def trends_view(p: Portfolio, snapshots: list[Snapshot]) -> View:
    t = p.t
    cols = [
        Col("day", t("col_snapshot"), "date", width=12),
        Col("accounts", t("col_accounts"), "int"),
        Col("revenue", t("col_revenue"), "currency"),
        Col("target", t("col_target"), "currency"),
        Col("weighted_pipeline", t("col_weighted_pipeline"), "currency"),
        Col("whitespace", t("col_whitespace"), "currency"),
        Col("overdue_actions", t("col_overdue_actions"), "int"),
        Col("high_risks", t("col_high_risks"), "int"),
        Col("stale_plans", t("col_stale"), "int"),
        *[
            Col(f"avg_{k}", t(f"col_{k}"), "score")
            for k in ("overall", "potential", "relationship", "execution")
        ],
        *[
            Col(f"tier_{code}", p.tier_label(code), "int")
            for code in ("invest", "maintain", "deprioritise", "unrated")
        ],
    ]
    rows = []
    for snap in snapshots:
        tot = snap.totals
        rows.append(
            {
                "day": snap.day,
                **{
                    k: tot.get(k)
                    for k in (
                        "accounts",
                        "revenue",
                        "target",
                        "weighted_pipeline",
                        "whitespace",
                        "overdue_actions",
                        "high_risks",
                        "stale_plans",
                    )
                },
                **{
                    f"avg_{k}": tot.get("average_scores", {}).get(k)
                    for k in ("overall", "potential", "relationship", "execution")
                },
                **{
                    f"tier_{k}": tot.get("accounts_per_tier", {}).get(k, 0)
                    for k in ("invest", "maintain", "deprioritise", "unrated")
                },
            }
        )
    return View("Snapshots", cols, rows)


def movements_view(p: Portfolio, movements: list[Movement]) -> View:
    t = p.t
    cols = [
        Col("account", t("col_account"), width=26),
        Col("kam", t("col_kam"), width=16),
        Col("previous_tier", t("col_previous_tier"), choices="_tier", width=14),
        Col("tier", t("col_tier"), choices="_tier", width=13),
        Col("movement", t("col_movement"), width=16),
        Col("previous_overall", t("col_previous_overall"), "score", width=12),
        Col("overall", t("col_overall"), "score"),
    ]
    rows = [
        {
            "account": m.account,
            "kam": m.kam,
            "previous_tier": m.previous_tier,
            "tier": m.tier,
            "movement": t(f"move_{m.kind}"),
            "previous_overall": m.previous_overall,
            "overall": m.overall,
        }
        for m in movements
    ]
    return View("TierMovements", cols, rows)
