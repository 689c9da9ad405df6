"""Placement of the Dashboard: score tiles, key figures, score details and charts."""

from __future__ import annotations

from typing import Any, Protocol

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .dashboard import Metric, unrated_test
from .model import Plan
from .printing import legible_print, quote_sheet, set_width, sheet_width
from .scoring import pipeline_by_stage
from .styles import Styles, row_height
from .template import Template


class DashboardWriter(Protocol):
    """What the Dashboard needs from the workbook writer (which imports this module, not the reverse)."""

    wb: Workbook
    s: Styles
    t: Template
    lang: str
    plan: Plan
    macros: bool
    cached: dict[str, Any]

    def field_ref(self, key: str) -> str: ...
    def title(self, sheet_key: str) -> str: ...
    def tone(self, tone: str) -> Format: ...
    def metric_cell(self, ws: Worksheet, row: int, col: int, metric: Metric, fmt: Any) -> None: ...


TILES = ("overall", "tier", "priority", "potential", "relationship", "execution")
KEY_FIGURES = (
    "revenue",
    "target",
    "weighted_pipeline",
    "open_pipeline",
    "whitespace",
    "nrr",
    "nps",
    "gross_margin",
    "overdue_actions",
    "high_risks",
    "last_review",
    "next_review",
    "days_since_review",
)
DETAILS = {
    ("Relationship", "Relation"): (
        "stakeholders",
        "engaged",
        "coverage",
        "depth",
        "sponsor",
        "avg_engagement",
        "engagement",
        "propagation",
    ),
    ("Execution", "Exécution"): (
        "actions",
        "actions_done",
        "actions_due",
        "completion",
        "timeliness",
        "kpis_active",
        "kpi_attainment",
    ),
    ("Potential and priority", "Potentiel et priorité"): (
        "attractiveness",
        "rated",
        "complete",
        "money_at_stake",
        "money_score",
        "position",
        "secured",
        "material_pipeline",
        "pipeline_score",
        "probability",
        "profitability",
        "grow_priority",
        "defend_priority",
        "tier_reason",
        "tier_weakest",
        "open_potential",
        "offer_coverage",
        "penetration",
        "current_revenue",
        "risk_exposure",
    ),
}
PYTHON_BLOCK = (4, 15)  # P5 (0-based row, column): where the Recompute button writes, right of the print area
PYTHON_BLOCK_NAME = "Python_Check"
PYTHON_BLOCK_WIDTHS = (26, 14, 14, 70)
LAST_PRINTED_COL = 13  # N

TEXT = {
    "python_title": ("Recompute & check (Python)", "Recalcul et vérification (Python)"),
    "python_hint": (
        "Press Recompute & check: Python's scores and the plan's health check appear here.",
        "Cliquez sur Recalculer et vérifier\u00a0: les scores Python et le contrôle du plan s'affichent ici.",
    ),
    "subtitle": (
        "Scores update live as you fill in the plan. Weights and thresholds: see the template.",
        "Les scores se mettent à jour pendant la saisie. Pondérations et seuils\u00a0: voir le modèle.",
    ),
    "key_figures": ("Key figures", "Chiffres clés"),
    "details": ("Score details", "Détail des scores"),
    "pipeline": ("Pipeline by stage", "Pipeline par étape"),
    "stage": ("Stage", "Étape"),
    "amount": ("Amount", "Montant"),
    "weighted": ("Weighted", "Pondéré"),
    "scores_chart": ("Scores (0-100)", "Scores (0-100)"),
    "status": ("Status and alerts", "Statut et alertes"),
    "alerts": ("Alert rules (1 = fires)", "Règles d'alerte (1 = déclenchée)"),
    "kam": ("KAM: ", "KAM\u00a0: "),
    "no_kam": ("KAM: not named yet (Info sheet)", "KAM\u00a0: à renseigner (feuille Infos)"),
    "sector": ("Sector", "Secteur"),
}


def render_dashboard(w: DashboardWriter, ws: Worksheet, metrics: list[Metric]) -> None:
    lang_i = 0 if w.lang == "en" else 1
    tx = {k: v[lang_i] for k, v in TEXT.items()}
    by_key = {m.key: m for m in metrics}
    placed: set[str] = set()
    s, st, fmts = w.s, w.t.style, w.t.formats

    def fmt(metric: Metric, **extra: Any) -> Any:
        return s.get(**(s.num_format(metric.fmt) | extra))

    def put(row: int, col: int, key: str, f: Any) -> None:
        w.metric_cell(ws, row, col, by_key[key], f)
        placed.add(key)

    ws.hide_gridlines(2)
    set_width(ws, 0, 0, 2)
    set_width(ws, 1, 13, 12.5)
    name_ref, kam_ref = w.field_ref("client_name"), w.field_ref("kam")
    ws.set_row(0, 30)
    ws.write_formula(
        0,
        1,
        f'=IF({name_ref}="",{_q(w.t.name[w.lang])},{name_ref})',
        s.get(bold=True, font_size=20, font_color=st["primary"], valign="vcenter"),
        w.plan.name or w.t.name[w.lang],
    )
    ws.write_formula(
        1,
        1,
        f'=IF({kam_ref}="",{_q(tx["no_kam"])},{_q(tx["kam"])}&{kam_ref})',
        s.subheading,
        tx["kam"] + w.plan.kam if w.plan.kam else tx["no_kam"],
    )
    ws.write_string(2, 1, tx["subtitle"], s.hint)

    # Tiles: label row, then a big value over two merged rows.
    tile_label = s.get(
        bold=True,
        font_size=9,
        font_color=st["header_text"],
        bg_color=st["primary"],
        align="center",
        valign="vcenter",
    )
    for i, key in enumerate(TILES):
        c = 1 + 2 * i
        m = by_key[key]
        ws.merge_range(4, c, 4, c + 1, m.label[w.lang], tile_label)
        big = fmt(
            m,
            bold=True,
            font_size=20,
            align="center",
            valign="vcenter",
            border=1,
            border_color=st["border"],
            **({"num_format": "0"} if m.fmt == "score" else {}),
        )
        ws.merge_range(5, c, 6, c + 1, "", big)
        put(5, c, key, big)
        cell = xl_rowcol_to_cell(5, c)
        if key == "tier":
            for code, tone in (
                ("invest", "good"),
                ("maintain", "info"),
                ("deprioritise", "bad"),
                ("unrated", "neutral"),
            ):
                ws.conditional_format(
                    5,
                    c,
                    6,
                    c + 1,
                    {
                        "type": "cell",
                        "criteria": "==",
                        "value": _q(w.t.tier_label(code, w.lang)),
                        "format": w.tone(tone),
                    },
                )
        else:
            _score_colors(w, ws, 5, c, 6, c + 1, cell)
    ws.set_row(5, 22)
    ws.set_row(6, 22)
    _why_line(w, ws, 7)

    # Key figures on the left.
    section = s.get(bold=True, font_size=11, font_color=st["primary"], bottom=2, bottom_color=st["primary"])
    label_f = s.get(font_color=st["ink"], bottom=1, bottom_color=st["border"])
    row = 8
    ws.merge_range(row, 1, row, 5, tx["key_figures"], section)
    for key in KEY_FIGURES:
        row += 1
        m = by_key[key]
        ws.merge_range(row, 1, row, 4, m.label[w.lang], label_f)
        put(row, 5, key, fmt(m, bold=True, align="right", bottom=1, bottom_color=st["border"]))
    _alert(w, ws, "overdue_actions", 0)
    _alert(w, ws, "high_risks", 0)
    _alert(w, ws, "days_since_review", int(w.t.scoring["stale_after_days"]))
    key_rows = {key: 9 + i for i, key in enumerate(KEY_FIGURES)}
    nr = key_rows["next_review"]
    _when(ws, (nr, 5, nr, 5), f"AND(ISNUMBER($F${nr + 1}),$F${nr + 1}<TODAY())", w.tone("bad"))

    # Status beside the tier: healthy / watch / at risk, and the alerts behind it.
    row += 2
    ws.merge_range(row, 1, row, 5, tx["status"], section)
    row += 1
    big = s.get(
        bold=True, font_size=14, align="center", valign="vcenter", border=1, border_color=st["border"]
    )
    # Two rows of the default height, not one taller row: the score details share these rows.
    ws.merge_range(row, 1, row + 1, 5, "", big)
    put(row, 1, "status", big)
    for code, tone in (
        ("at_risk", "bad"),
        ("watch", "warn"),
        ("healthy", "good"),
        ("incomplete", "neutral"),
        ("unrated", "neutral"),
    ):
        label = _q(w.t.status[code]["label"][w.lang])
        ws.conditional_format(
            row, 1, row + 1, 5, {"type": "cell", "criteria": "==", "value": label, "format": w.tone(tone)}
        )
    row += 2
    reasons = s.get(text_wrap=True, valign="top", font_color=st["ink"])
    # Four rows: every rule firing at once, in French, still shows whole (at most one row free).
    ws.merge_range(row, 1, row + 3, 5, "", reasons)
    put(row, 1, "status_reasons", reasons)
    reason_rows = {r: row_height(1) for r in range(row, row + 4)}
    for r, height in reason_rows.items():  # set: LibreOffice would grow the last one to fit the text
        ws.set_row(r, height)
    row += 2

    # Pipeline by stage (feeds the pipeline chart).
    row += 2
    ws.merge_range(row, 1, row, 5, tx["pipeline"], section)
    row += 1
    head = s.get(bold=True, font_color=st["muted"], bottom=1, bottom_color=st["border"])
    ws.merge_range(row, 1, row, 3, tx["stage"], head)
    ws.write_string(row, 4, tx["amount"], head)
    ws.write_string(row, 5, tx["weighted"], head)
    o = w.t.table("opportunities")
    amount = f"{o.name}[{o.column('amount').label[w.lang]}]"
    weighted = f"{o.name}[{o.column('weighted').label[w.lang]}]"
    stage_col = f"{o.name}[{o.column('stage').label[w.lang]}]"
    key_col = f"{o.name}[{o.column(o.key_column).label[w.lang]}]"
    money = s.get(num_format=fmts["currency"], bottom=1, bottom_color=st["border"])
    first_stage_row = row + 1
    by_stage = pipeline_by_stage(w.plan.rows("opportunities", w.t))
    for code, labels in w.t.choices["stage"].items():
        row += 1
        ws.merge_range(row, 1, row, 3, labels[w.lang], label_f)
        crit = f'{key_col},"<>",{stage_col},{_q(labels[w.lang])}'
        cached_amount, cached_weighted = by_stage.get(code, (0.0, 0.0))
        ws.write_formula(row, 4, f"=SUMIFS({amount},{crit})", money, cached_amount)
        ws.write_formula(row, 5, f"=SUMIFS({weighted},{crit})", money, cached_weighted)
    last_stage_row = row

    # Score details on the right, with the chart data for the scores chart first.
    drow = 8
    ws.merge_range(drow, 7, drow, 13, tx["details"], section)
    chart_first = drow + 1
    for key in ("potential", "relationship", "execution", "overall"):
        drow += 1
        m = by_key[key]
        ws.merge_range(drow, 7, drow, 11, m.label[w.lang], label_f)
        ws.merge_range(drow, 12, drow, 13, "", fmt(m, bold=True, bottom=1, bottom_color=st["border"]))
        ws.write_formula(
            drow,
            12,
            f"={m.name}",
            fmt(m, bold=True, bottom=1, bottom_color=st["border"]),
            w.cached.get(key, ""),
        )
    chart_last = drow
    sub = s.get(bold=True, italic=True, font_color=st["muted"])
    details_rows: dict[str, int] = {}
    for (en, fr), keys in DETAILS.items():
        drow += 1
        ws.write_string(drow, 7, en if w.lang == "en" else fr, sub)
        for key in keys:
            drow += 1
            m = by_key[key]
            ws.merge_range(drow, 7, drow, 11, m.label[w.lang], label_f)
            f = fmt(m, align="right", bottom=1, bottom_color=st["border"])
            ws.merge_range(drow, 12, drow, 13, "", f)
            put(drow, 12, key, f)
            details_rows[key] = drow

    drow += 1
    ws.write_string(drow, 7, tx["alerts"], sub)
    for key in [k for k in by_key if k.startswith("alert_")]:
        drow += 1
        m = by_key[key]
        ws.merge_range(drow, 7, drow, 11, m.label[w.lang], label_f)
        f = fmt(m, align="right", bottom=1, bottom_color=st["border"])
        ws.merge_range(drow, 12, drow, 13, "", f)
        put(drow, 12, key, f)
        severity = w.t.alerts[key.removeprefix("alert_")]["severity"]
        ws.conditional_format(
            drow,
            12,
            drow,
            13,
            {
                "type": "cell",
                "criteria": "==",
                "value": 1,
                "format": w.tone("bad" if severity == "high" else "warn"),
            },
        )

    # Until something is entered, figures and details are grey dashes, not zeros and defaults; the
    # profitability stays grey while no gross margin is entered (it then counts as 0 %, a finding says so).
    _neutral(w, ws, 9, 5, 9 + len(KEY_FIGURES) - 1, 5, unrated_test(w.t))
    _neutral(w, ws, chart_first, 12, max(details_rows.values()), 13, unrated_test(w.t))
    prof = details_rows["profitability"]
    _neutral(w, ws, prof, 12, prof, 13, f"NOT(ISNUMBER({w.field_ref('gross_margin')}))")

    missing = set(by_key) - placed
    if missing:
        raise AssertionError(f"dashboard metrics not placed: {sorted(missing)}")

    dash = w.title("dashboard")
    chart = w.wb.add_chart({"type": "bar"})
    chart.add_series(
        {
            "categories": [dash, chart_first, 7, chart_last, 7],
            "values": [dash, chart_first, 12, chart_last, 12],
            "fill": {"color": st["primary"]},
            "gap": 60,
            "data_labels": {"value": True, "num_format": "0"},
        }
    )
    chart.set_title({"name": tx["scores_chart"], "name_font": {"size": 11, "color": st["primary"]}})
    chart.set_x_axis(
        {"min": 0, "max": 100, "major_gridlines": {"visible": True, "line": {"color": "#E5E7EB"}}}
    )
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    chart.set_size({"width": 470, "height": 230})
    ws.insert_chart(last_stage_row + 2, 1, chart, {"x_offset": 2, "y_offset": 4})

    pipe = w.wb.add_chart({"type": "column"})
    pipe.add_series(
        {
            "name": tx["amount"],
            "categories": [dash, first_stage_row, 1, last_stage_row, 1],
            "values": [dash, first_stage_row, 4, last_stage_row, 4],
            "fill": {"color": "#9DC3E6"},
        }
    )
    pipe.add_series(
        {
            "name": tx["weighted"],
            "categories": [dash, first_stage_row, 1, last_stage_row, 1],
            "values": [dash, first_stage_row, 5, last_stage_row, 5],
            "fill": {"color": st["primary"]},
        }
    )
    pipe.set_title({"name": tx["pipeline"], "name_font": {"size": 11, "color": st["primary"]}})
    pipe.set_y_axis(
        {
            "min": 0,
            "num_format": AXIS_AMOUNT,
            "major_gridlines": {"visible": True, "line": {"color": "#E5E7EB"}},
        }
    )
    pipe.set_legend({"position": "bottom"})
    pipe.set_size({"width": 470, "height": 230})
    ws.insert_chart(drow + 2, 7, pipe, {"x_offset": 2, "y_offset": 4})

    if w.macros:
        _python_block(w, ws, tx)
    # The print area stops at the live dashboard: the Python block beside it is for the screen.
    # Down to the stage table's last row or the pipeline chart under the details, the lower.
    ws.print_area(0, 0, max(last_stage_row, drow + 14), LAST_PRINTED_COL)
    # Page 1: tiles, key figures and the first score details; page 2: the charts and the rest.
    heights = {0: 30, 5: 22, 6: 22} | reason_rows
    legible_print(
        ws,
        sheet_width(ws, LAST_PRINTED_COL),
        key_col=None,
        row_breaks=[last_stage_row + 1],
        first_page_height=sum(heights.get(r, 15) for r in range(last_stage_row + 1)),
    )
    ws.protect("", {"format_columns": True, "format_rows": True})


def _why_line(w: DashboardWriter, ws: Worksheet, row: int) -> None:
    """Under the tiles: the tier's reason and weakest factor, live, linking to the What-if sheet."""
    from .tier_checks import tier_texts  # texts beside the template

    sheet = next((s for s in w.t.sheets if s.drawing == "whatif"), None)
    if sheet is None:
        return
    tx = {k: str(v[w.lang]) for k, v in tier_texts()["whatif"].items() if k.startswith("dashboard_")}
    text = (
        f"IF(Fig_Complete=0,{_q(tx['dashboard_unrated'])},{_q(tx['dashboard_reason'])}&Tier_Reason"
        f"&{_q(tx['dashboard_weakest'])}&Fig_Tier_Weakest&{_q(tx['dashboard_link'])})"
    )
    target = "#" + quote_sheet(sheet.title[w.lang]) + "!A1"
    if w.cached.get("tier") == w.t.tier_label("unrated", w.lang):
        cached = tx["dashboard_unrated"]
    else:
        cached = (
            tx["dashboard_reason"] + str(w.cached.get("tier_reason", "")) + tx["dashboard_weakest"]
            + str(w.cached.get("tier_weakest", "")) + tx["dashboard_link"]
        )  # fmt: skip
    link = w.s.get(font_color=w.t.style["primary"], underline=1, font_size=9)
    ws.merge_range(row, 1, row, LAST_PRINTED_COL, "", link)
    ws.write_formula(row, 1, f"=HYPERLINK({_q(target)},{text})", link, cached)


def _python_block(w: DashboardWriter, ws: Worksheet, tx: dict[str, str]) -> None:
    """The empty block the Recompute & check button fills, named so the add-in finds it."""
    row, col = PYTHON_BLOCK
    set_width(ws, col - 1, col - 1, 2)
    for i, width in enumerate(PYTHON_BLOCK_WIDTHS):
        set_width(ws, col + i, col + i, width)
    ws.write_string(row, col, tx["python_title"], w.s.get(bold=True, font_color=w.t.style["primary"]))
    ws.write_string(row + 1, col, tx["python_hint"], w.s.hint)
    ref = quote_sheet(ws.get_name()) + "!" + xl_rowcol_to_cell(row, col, True, True)
    w.wb.define_name(PYTHON_BLOCK_NAME, "=" + ref)


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


# Money axis: an empty chart scales 0 to 1 in steps of 0.5, which "#,##0" shows as 0, 1, 1;
# fractions below 1 are left blank instead (no amount that small is ever worth a gridline label).
AXIS_AMOUNT = '[=0]0;[<1]"";#,##0'


def _when(ws: Worksheet, cells: tuple[int, int, int, int], test: str, fmt: Any, stop: bool = False) -> None:
    """Format ``cells`` (first row, first column, last row, last column) while formula ``test`` holds."""
    rule = {"type": "formula", "criteria": "=" + test, "format": fmt}
    ws.conditional_format(*cells, {**rule, "stop_if_true": True} if stop else rule)


def _neutral(w: DashboardWriter, ws: Worksheet, r1: int, c1: int, r2: int, c2: int, when: str) -> None:
    """Grey with a dash while ``when`` holds (checked before any colour of the same cells)."""
    st = w.t.style
    grey = w.wb.add_format({"bg_color": st["neutral"], "font_color": st["muted"], "num_format": '"–"'})
    _when(ws, (r1, c1, r2, c2), when, grey, stop=True)


def _score_colors(w: DashboardWriter, ws: Worksheet, r1: int, c1: int, r2: int, c2: int, cell: str) -> None:
    """Red, amber or green by score; grey with a dash while nothing is entered (a new plan)."""
    _neutral(w, ws, r1, c1, r2, c2, unrated_test(w.t))
    for minimum, tone in ((65, "good"), (40, "warn"), (0, "bad")):
        _when(ws, (r1, c1, r2, c2), f"AND(ISNUMBER({cell}),{cell}>={minimum})", w.tone(tone), stop=True)


def _alert(w: DashboardWriter, ws: Worksheet, key: str, above: int) -> None:
    """Key figures above a limit turn red (overdue actions, high risks, days since review)."""
    row = 9 + KEY_FIGURES.index(key)
    cell = xl_rowcol_to_cell(row, 5)
    _when(ws, (row, 5, row, 5), f"AND(ISNUMBER({cell}),{cell}>{above})", w.tone("bad"))
