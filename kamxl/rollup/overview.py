"""The Overview sheet: tiles a director reads in ten seconds, and the three charts.

Layout: tiles are single columns of width 20 separated by narrow gutters (B, D, F, H, J, L).
The top right (columns K to M of rows 2-3) is left free for a Roll up button next to the
``Source_Folder`` input cell.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from xlsxwriter.utility import xl_col_to_name

from ..printing import legible_print, set_width, sheet_width
from ..template import TIER_CODES
from .sheetrefs import TIER_TONES, cell_ref
from .sheetrefs import quote_sheet as _quote

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

    from .summary import SummaryWriter

TILE_COLS = (1, 3, 5, 7, 9, 11)
TILE_WIDTH = 20
GUTTER = 2
SOURCE_FOLDER_CELL = (1, 6)  # G2, merged to J2
CHART_WIDTH = 3 * (TILE_WIDTH * 7 + 5) + 3 * (GUTTER * 7 + 5)  # pixels from column B to the end of G
TIER_INK = {"invest": "good_text", "maintain": "warn_text", "deprioritise": "bad_text", "unrated": "muted"}


def render_overview(w: SummaryWriter, ws: Worksheet) -> None:
    p, st, s = w.p, w.st, w.s
    totals = p.totals()
    ws.hide_gridlines(2)
    set_width(ws, 0, 0, GUTTER)
    for c in TILE_COLS:
        set_width(ws, c, c, TILE_WIDTH)
        set_width(ws, c + 1, c + 1, GUTTER)
    heights = {0: 8.0, 1: 30.0}  # points of the rows set taller or shorter than 15, for the print scale
    for r, height in heights.items():
        ws.set_row(r, height)
    ws.merge_range(
        1, 1, 1, 4, p.t("title"), s.get(bold=True, font_size=20, font_color=st["primary"], valign="vcenter")
    )
    to_fix = len(p.skipped) + totals["plans_with_errors"]
    ws.merge_range(
        2,
        1,
        2,
        8,
        p.t("subtitle", accounts=totals["accounts"], date=p.date(p.as_of), to_fix=to_fix),
        s.hint,
    )
    # The folder rolled up: an input cell (a Roll up button reads it).
    ws.write_string(
        1,
        5,
        p.t("source_folder"),
        s.get(bold=True, font_color=st["primary"], align="right", valign="vcenter"),
    )
    r, c = SOURCE_FOLDER_CELL
    folder_cell = s.get(
        bg_color=st["input_fill"],
        border=1,
        border_color=st["border"],
        valign="vcenter",
        locked=False,
        shrink=True,
    )
    ws.merge_range(r, c, r, c + 3, "", folder_cell)
    ws.write_string(r, c, p.folder, folder_cell)  # always text, whatever the folder's name looks like
    w.wb.define_name("Source_Folder", cell_ref(ws.get_name(), r, c))

    money = w.compact_money_format()
    sym = w.symbol
    revenue, target = totals["revenue"], totals["target"]
    pct = _pct(revenue / target, p.lang) if target else "-"
    scores = totals["average_scores"]
    tiers = totals["accounts_per_tier"]
    n = totals["accounts"] or 1
    low, high = p.kam_band
    by_kam = w.by_kam
    statuses = p.status_counts()
    alert_counts = {
        sev: sum(al["severity"] == sev for acc in p.accounts for al in acc.alerts)
        for sev in ("high", "medium")
    }
    outside = sum(1 for row in by_kam.rows if not low <= row["accounts"] <= high)
    rows: list[tuple[str, list[tuple[str, Any, str, str, str | None]]]] = [
        (
            p.t("section_figures"),
            [
                (
                    p.t("tile_accounts"),
                    totals["accounts"],
                    "0",
                    p.t("tile_accounts_sub", kams=totals["kams"]),
                    None,
                ),
                (
                    p.t("tile_revenue"),
                    revenue,
                    money,
                    p.t("tile_revenue_sub", pct=pct, target=_money(target, sym, p.lang)),
                    None,
                ),
                (
                    p.t("tile_pipeline"),
                    totals["weighted_pipeline"],
                    money,
                    p.t("tile_pipeline_sub", open=_money(totals["open_pipeline"], sym, p.lang)),
                    None,
                ),
                (p.t("tile_whitespace"), totals["whitespace"], money, p.t("tile_whitespace_sub"), None),
                (
                    p.t("tile_overdue"),
                    totals["overdue_actions"],
                    "0",
                    p.t("tile_overdue_sub", soon=totals["actions_due_30_days"]),
                    "bad" if totals["overdue_actions"] else None,
                ),
                (
                    p.t("tile_risks"),
                    totals["high_risks"],
                    "0",
                    p.t("tile_risks_sub", score=_num(p.high_risk_score)),
                    "bad" if totals["high_risks"] else None,
                ),
            ],
        ),
        (
            p.t("section_tiers"),
            [
                *[
                    (
                        p.tier_label(code),
                        tiers[code],
                        "0",
                        p.t("tile_tier_sub", pct=_pct(tiers[code] / n, p.lang)),
                        f"tier:{code}",
                    )
                    for code in TIER_CODES
                ],
                (
                    p.t("tile_stale"),
                    totals["stale_plans"],
                    "0",
                    p.t("tile_stale_sub", days=p.stale_after),
                    "warn" if totals["stale_plans"] else None,
                ),
                (
                    p.t("tile_quality"),
                    to_fix,
                    "0",
                    p.t("tile_quality_sub", skipped=len(p.skipped), errors=totals["plans_with_errors"]),
                    "warn" if to_fix else None,
                ),
            ],
        ),
        (
            p.t("section_status"),
            [
                *[
                    (
                        p.status_label(code),
                        statuses[code],
                        "0",
                        p.t("tile_status_sub", pct=_pct(statuses[code] / n, p.lang)),
                        tone if statuses[code] else None,
                    )
                    for code, tone in (("at_risk", "bad"), ("watch", "warn"), ("healthy", "good"))
                ],
                (
                    p.t("tile_alerts"),
                    sum(alert_counts.values()),
                    "0",
                    p.t("tile_alerts_sub", high=alert_counts["high"], medium=alert_counts["medium"]),
                    "bad" if alert_counts["high"] else None,
                ),
                *[  # plans too empty to judge, new plans: shown only when there are some
                    (
                        p.status_label(code),
                        statuses[code],
                        "0",
                        p.t("tile_status_sub", pct=_pct(statuses[code] / n, p.lang)),
                        "neutral",
                    )
                    for code in ("incomplete", "unrated")
                    if statuses.get(code)
                ],
            ],
        ),
        (
            p.t("section_scores"),
            [
                (p.t("col_overall"), scores["overall"], "0", "", None),
                (p.t("col_priority"), scores["priority"], "0", "", None),
                (p.t("col_potential"), scores["potential"], "0", "", None),
                (p.t("col_relationship"), scores["relationship"], "0", "", None),
                (p.t("col_execution"), scores["execution"], "0", "", None),
                (
                    p.t("tile_kams_band", low=low, high=high),
                    outside,
                    "0",
                    p.t("tile_kams_sub", kams=len(by_kam.rows)),
                    "warn" if outside else None,
                ),
            ],
        ),
    ]
    row = 4
    for heading, tiles in rows:
        ws.merge_range(
            row,
            1,
            row,
            11,
            heading,
            s.get(
                bold=True,
                font_size=12,
                font_color=st["primary"],
                bottom=1,
                bottom_color=st["border"],
                valign="bottom",
            ),
        )
        heights |= {row: 20.0, row + 2: 34.0}  # the section's heading, the tiles' values
        ws.set_row(row, 20)
        ws.set_row(row + 2, 34)
        for col, (label, value, num_format, sub, tone) in zip(TILE_COLS, tiles, strict=False):
            _tile(w, ws, row + 1, col, label, value, num_format, sub, tone)
        row += 5
    kam_row = _charts(w, ws, row)
    # Tiles on page 1, the matrix and pipeline on page 2, the KAM chart on page 3, each at a
    # legible scale (fitted to one page, the whole Overview printed its text at about 5 pt).
    first_page = sum(heights.get(r, 15) for r in range(row))
    legible_print(ws, sheet_width(ws), key_col=None, row_breaks=[row, kam_row], first_page_height=first_page)


def _tile(
    w: SummaryWriter,
    ws: Worksheet,
    row: int,
    col: int,
    label: str,
    value: Any,
    num_format: str,
    sub: str,
    tone: str | None,
) -> None:
    st, s = w.st, w.s
    band_color, fill, ink = st["primary"], st["calc_fill"], st["primary"]
    if tone and tone.startswith("tier:"):
        tone = TIER_TONES[tone[5:]]
        band_color = st[{"good": "good_text", "warn": "warn_text", "bad": "bad_text"}.get(tone, "muted")]
    if tone in ("good", "warn", "bad"):
        fill, ink = st[tone], st[f"{tone}_text"]
    elif tone == "neutral":
        fill = st["neutral"]
    ws.write_string(
        row,
        col,
        label,
        s.get(
            bold=True,
            font_size=9,
            font_color=st["header_text"],
            bg_color=band_color,
            align="center",
            valign="vcenter",
        ),
    )
    big = s.get(
        bold=True,
        font_size=18,
        font_color=ink,
        bg_color=fill,
        align="center",
        valign="vcenter",
        num_format=num_format,
    )
    w.put(ws, row + 1, col, value if value is not None else "-", big)
    ws.write_string(
        row + 2,
        col,
        sub,
        s.get(
            font_size=8,
            italic=True,
            font_color=st["muted"],
            bg_color=fill,
            align="center",
            valign="vcenter",
            shrink=True,
        ),
    )


def _charts(w: SummaryWriter, ws: Worksheet, row: int) -> int:
    """The matrix, pipeline by type and scores by KAM, fed from the hidden chart-data sheet, from
    ``row`` down; returns the row of the last one (the KAM chart)."""
    p, st = w.p, w.st
    data = w.sheets["chart_data"]
    dname = _quote(data.get_name())
    col = 0

    def rng(c: int, first: int, last: int) -> str:
        letter = xl_col_to_name(c)
        return f"={dname}!${letter}${first + 1}:${letter}${last + 1}"

    # Portfolio matrix: a scatter chart whose marker size grows with revenue (XlsxWriter has no
    # bubble chart). One series per tier and size class keeps under Excel's 255 series.
    matrix = w.wb.add_chart({"type": "scatter"})
    data.write_row(0, col, ["Account", "Position", "Attractiveness", "Revenue", "Tier", "Size class"])
    points = p.matrix_points()
    biggest = max((pt["size"] for pts in points.values() for pt in pts), default=1.0)
    r, series, legend_only = 1, 0, []
    for code, pts in points.items():
        color = st[TIER_INK[code]]
        marker = {"type": "circle", "fill": {"color": color, "transparency": 35}, "border": {"color": color}}
        # A legend entry per tier, with a small marker, from an empty range.
        matrix.add_series(
            {
                "name": p.tier_label(code),
                "categories": rng(col + 7, 0, 0),
                "values": rng(col + 7, 0, 0),
                "marker": marker | {"size": 9},
            }
        )
        legend_only.append(series)
        series += 1
        classes: dict[int, list[dict[str, Any]]] = {}
        for pt in pts:
            classes.setdefault(_size_class(pt["size"], biggest), []).append(pt)
        for size_class in sorted(classes):
            first = r
            for pt in classes[size_class]:
                data.write_string(r, col, pt["account"])
                data.write_number(r, col + 1, pt["x"])
                data.write_number(r, col + 2, pt["y"])
                data.write_number(r, col + 3, pt["size"])
                data.write_string(r, col + 4, code)
                data.write_number(r, col + 5, size_class)
                r += 1
            labels = [
                {"value": pt["label"]} if pt["label"] else {"delete": True} for pt in classes[size_class]
            ]
            matrix.add_series(
                {
                    "categories": rng(col + 1, first, r - 1),
                    "values": rng(col + 2, first, r - 1),
                    "marker": marker | {"size": 6 + 5 * size_class},
                    "data_labels": {
                        "value": True,
                        "custom": labels,
                        "position": "center",
                        "font": w.font(8, bold=True, color="#FFFFFF" if size_class > 1 else st["ink"]),
                    },
                }
            )
            series += 1
    axis = {
        "min": 0,
        "max": 100,
        "major_unit": 50,
        "num_font": w.font(8),
        "major_gridlines": {"visible": True, "line": {"color": st["muted"], "dash_type": "dash"}},
    }
    matrix.set_x_axis(axis | {"name": p.t("chart_matrix_x"), "name_font": w.font(9, bold=False)})
    matrix.set_y_axis(axis | {"name": p.t("chart_matrix_y"), "name_font": w.font(9, bold=False)})
    w.style_chart(matrix, p.t("chart_matrix"), size=(CHART_WIDTH, 380))
    matrix.set_legend(
        {
            "position": "bottom",
            "font": w.font(8),
            "delete_series": [i for i in range(series) if i not in legend_only],
        }
    )
    ws.insert_chart(row, 1, matrix, {"x_offset": 0, "y_offset": 6})

    # Pipeline by opportunity type.
    col = 6
    types = p.pipeline_by_type()
    data.write_row(0, col, ["Type", "Open", "Weighted"])
    for i, item in enumerate(types, start=1):
        data.write_string(i, col, item["type"])
        data.write_number(i, col + 1, item["open"])
        data.write_number(i, col + 2, item["weighted"])
    pipe = w.wb.add_chart({"type": "column"})
    last = max(len(types), 1)
    for offset, name, color in (
        (1, p.t("col_open_pipeline"), "#9DC3E6"),
        (2, p.t("col_weighted_pipeline"), st["primary"]),
    ):
        pipe.add_series(
            {
                "name": name,
                "categories": rng(col, 1, last),
                "values": rng(col + offset, 1, last),
                "fill": {"color": color},
                "border": {"none": True},
                "gap": 80,
            }
        )
    w.style_chart(pipe, p.t("chart_pipeline"), money_axis=True, size=(CHART_WIDTH, 380))
    pipe.set_x_axis({"num_font": w.font(8)})
    ws.insert_chart(row, 7, pipe, {"x_offset": 0, "y_offset": 6})

    # Average scores by KAM.
    col = 10
    view = w.by_kam
    keys = ("overall", "potential", "relationship", "execution")
    data.write_row(0, col, ["KAM", *keys])
    for i, krow in enumerate(view.rows, start=1):
        data.write_string(i, col, str(krow["kam"]))
        for j, key in enumerate(keys, start=1):
            w.put(data, i, col + j, krow[key])
    kam = w.wb.add_chart({"type": "column"})
    last = max(len(view.rows), 1)
    palette = (st["primary"], "#2E75B6", "#7030A0", "#ED7D31")
    for j, (key, color) in enumerate(zip(keys, palette, strict=True), start=1):
        kam.add_series(
            {
                "name": p.t(f"col_{key}"),
                "categories": rng(col, 1, last),
                "values": rng(col + j, 1, last),
                "fill": {"color": color},
                "border": {"none": True},
                "gap": 60,
            }
        )
    w.style_chart(kam, p.t("chart_kam"), size=(2 * CHART_WIDTH, 300))
    kam.set_y_axis(
        {
            "min": 0,
            "max": 100,
            "major_unit": 25,
            "num_font": w.font(8),
            "major_gridlines": {"visible": True, "line": {"color": st["border"]}},
        }
    )
    kam.set_x_axis({"num_font": w.font(8)})
    ws.insert_chart(row + 22, 1, kam, {"x_offset": 0, "y_offset": 6})
    # The key to the numbered markers: one wrapped line of "1 Name · 2 Name …", then the note.
    key = "  ·  ".join(f"{i} {_label(a.account)}" for i, a in enumerate(p.matrix_key(), start=1))
    ws.merge_range(row + 20, 1, row + 20, 11, key, w.s.get(font_size=9, text_wrap=True, valign="top"))
    ws.set_row(row + 20, 13.5 * (1 + len(key) // 150) + 2)
    ws.write_string(row + 21, 1, p.t("chart_matrix_note", n=len(p.matrix_key())), w.s.hint)
    return row + 22


def _label(name: str) -> str:
    """An account name in the matrix key, never taken for a formula."""
    return " " + name if name.startswith("=") else name


def _size_class(size: float, biggest: float) -> int:
    """1 to 5, by the square root of revenue so that marker areas follow revenue."""
    return max(1, min(5, math.ceil(5 * math.sqrt(size / biggest)))) if biggest > 0 else 1


def _pct(value: float, lang: str) -> str:
    text = f"{value:.0%}"
    return text.replace("%", " %") if lang == "fr" else text


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _money(value: float, symbol: str, lang: str) -> str:
    """A compact amount for tile captions (12.3 M€, 450 k€)."""
    if abs(value) >= 1e6:
        text = f"{value / 1e6:,.1f} M{symbol}"
    elif abs(value) >= 1e3:
        text = f"{value / 1e3:,.0f} k{symbol}"
    else:
        text = f"{value:,.0f} {symbol}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text
