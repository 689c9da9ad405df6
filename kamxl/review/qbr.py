"""The quarterly business review deck: a PowerPoint a KAM presents after light editing.

Slides: cover, account snapshot, what changed since the last review, objectives and progress,
KPI tracker with RAG, successes / obstacles / opportunities / decisions, whitespace, top risks
and next actions. Charts are native PowerPoint charts (their data lives in the deck and opens
in PowerPoint's chart editor), tables are real tables, titles are title placeholders, so every
slide stays editable. Everything is in the plan's language.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches, Pt

from ..fileio import atomic_path
from ..model import Plan, Row
from ..paths import safe_filename
from ..scoring import Scores, as_date, kpi_attainment, kpi_latest, n0, risk_score, score_plan
from ..template import Template
from .changes import Changes
from .texts import Texts, chart_label, choice

WIDE, HIGH = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.6)
MAX_ROWS = 7  # table rows per slide: more does not read from the back of a room
CHART_LABEL = 60  # a bar's label wraps over two lines beside it; longer ones are cut
CELL_TEXT = 100  # table cells and risk lines wrap; past this they would push the table off the slide
RAG_FILL = {"G": "C6EFCE", "A": "FFEB9C", "R": "FFC7CE"}
RAG_INK = {"G": "006100", "A": "9C5700", "R": "9C0006"}


@dataclass
class Deck:
    """What the deck says, as data (tests read it; the renderer draws it)."""

    lang: str
    client: str
    kam: str
    day: dt.date
    scores: Scores
    changes: Changes | None
    objectives: list[Row]
    kpis: list[dict[str, Any]]
    successes: list[str]
    obstacles: list[str]
    opportunities: list[str]
    decisions: list[str]
    whitespace: dict[str, tuple[float, float]]  # BU -> (current revenue, potential not yet won)
    risks: list[Row]
    actions: list[Row]


def rag(attainment: float | None, template: Template) -> str | None:
    """G, A or R as the KPI tracker computes it (thresholds from the template)."""
    if attainment is None:
        return None
    cfg = template.scoring
    return "G" if attainment >= cfg["kpi_green"] else "A" if attainment >= cfg["kpi_amber"] else "R"


def deck_content(
    plan: Plan, template: Template, *, changes: Changes | None = None, as_of: dt.date | None = None
) -> Deck:
    """Pick and order what each slide shows, from the plan."""
    day = as_of or dt.date.today()
    lang = plan.lang if plan.lang in ("en", "fr") else "en"
    t = Texts(lang)
    rows = {key: plan.rows(key, template) for key in template.tables}
    periods = [c.key for c in template.table("kpis").columns if c.period]
    kpis = []
    for row in rows["kpis"]:
        if row.get("active") != "yes":
            continue
        latest = kpi_latest(row, periods)
        attainment = kpi_attainment(row, latest)
        kpis.append(row | {"latest": latest, "attainment": attainment, "rag": rag(attainment, template)})
    open_actions = [r for r in rows["actions"] if r.get("status") not in ("done", "cancelled")]
    open_actions.sort(key=lambda r: as_date(r.get("due")) or dt.date.max)
    open_risks = [r for r in rows["risks"] if r.get("status") != "closed" and risk_score(r) is not None]
    open_risks.sort(key=lambda r: -(risk_score(r) or 0))
    opps = [r for r in rows["opportunities"] if r.get("stage") not in ("won", "lost")]
    opps.sort(key=lambda r: -n0(r.get("amount")))
    whitespace: dict[str, tuple[float, float]] = {}
    for row in rows["whitespace"]:
        current, potential = whitespace.get(str(row.get("bu")), (0.0, 0.0))
        current += n0(row.get("current_revenue"))
        if row.get("status") in ("whitespace", "pipeline"):
            potential += n0(row.get("potential"))
        whitespace[str(row.get("bu"))] = (current, potential)
    since = as_date(plan.fields.get("last_review"))
    recent = (lambda d: d is not None and d >= since) if since else (lambda d: d is not None)

    def said(key: str, table: str, column: str, keep: Any) -> list[str]:
        return [t(f"deck.{key}", name=r.get(column)) for r in rows[table] if keep(r)]

    successes = [
        t("deck.won", name=r.get("name"), amount=t.money(r.get("amount")))
        for r in rows["opportunities"]
        if r.get("stage") == "won"
    ]
    successes += said(
        "objective_achieved", "objectives", "objective", lambda r: r.get("status") == "achieved"
    )
    successes += said(
        "action_done",
        "actions",
        "action",
        lambda r: r.get("status") == "done" and recent(as_date(r.get("done_date"))),
    )
    obstacles = said("action_blocked", "actions", "action", lambda r: r.get("status") == "blocked")
    obstacles += said(
        "objective_at_risk", "objectives", "objective", lambda r: r.get("status") in ("at_risk", "missed")
    )
    return Deck(
        lang=lang,
        client=plan.name,
        kam=plan.kam,
        day=day,
        scores=score_plan(plan, template, day),
        changes=changes,
        objectives=rows["objectives"],
        kpis=kpis,
        successes=successes,
        obstacles=obstacles,
        opportunities=[
            t(
                "deck.open_opportunity",
                name=r.get("name"),
                amount=t.money(r.get("amount")),
                stage=choice(template, "stage", r.get("stage"), lang),
            )
            for r in opps
        ],
        decisions=[
            f"{t.date(r.get('date'))} · {r.get('decision')}"
            for r in sorted(
                rows["decisions"], key=lambda r: as_date(r.get("date")) or dt.date.min, reverse=True
            )
        ],
        whitespace={bu: v for bu, v in whitespace.items() if v[0] or v[1]},
        risks=open_risks[:5],
        actions=open_actions[:MAX_ROWS],
    )


# -- drawing -------------------------------------------------------------------------------------
def rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


class Painter:
    """Slide primitives in the template's colours and font."""

    def __init__(self, template: Template, lang: str = "en", stamp: str | None = None) -> None:
        self.prs = Presentation()
        self.stamp = stamp  # "Internal" on every slide of the team's deck
        # as Texts.percent writes them: 35 % in French (a narrow no-break space), 35% in English
        self.percent = '0"\u202f"%' if lang == "fr" else "0%"
        self.prs.slide_width, self.prs.slide_height = WIDE, HIGH
        style = template.style
        self.font = style.get("font", "Calibri")
        self.primary = rgb(style.get("primary", "#1F3864"))
        self.ink = rgb(style.get("ink", "#1F2937"))
        self.muted = rgb(style.get("muted", "#6B7280"))
        self.light = rgb(style.get("neutral", "#E5E7EB"))

    def slide(self, title: str, subtitle: str | None = None) -> Any:
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[5])  # "Title Only"
        head = slide.shapes.title
        head.left, head.top, head.width, head.height = MARGIN, Inches(0.35), WIDE - 2 * MARGIN, Inches(0.8)
        head.text = title
        self.stamped(slide)
        para = head.text_frame.paragraphs[0]
        para.alignment = PP_ALIGN.LEFT
        self._font(para.runs[0], 28, bold=True, colour=self.primary)
        bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, MARGIN, Inches(1.15), Inches(1.2), Emu(45720))
        bar.fill.solid()
        bar.fill.fore_color.rgb = self.primary
        bar.line.fill.background()
        if subtitle:
            self.text(
                slide,
                subtitle,
                MARGIN,
                Inches(1.25),
                WIDE - 2 * MARGIN,
                Inches(0.4),
                size=13,
                colour=self.muted,
            )
        return slide

    def stamped(self, slide: Any, colour: RGBColor | None = None) -> None:
        if self.stamp:
            box = self.text(
                slide,
                self.stamp,
                WIDE - Inches(2.6),
                Inches(0.12),
                Inches(2.3),
                Inches(0.35),
                size=11,
                bold=True,
                colour=colour or rgb("#C00000"),
            )
            box.text_frame.paragraphs[0].alignment = PP_ALIGN.RIGHT

    def _font(self, run: Any, size: float, *, bold: bool = False, colour: RGBColor | None = None) -> None:
        run.font.name = self.font
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = colour or self.ink

    def text(
        self,
        slide: Any,
        text: str | list[str],
        left: int,
        top: int,
        width: int,
        height: int,
        *,
        size: float = 14,
        bold: bool = False,
        colour: RGBColor | None = None,
        bullets: bool = False,
    ) -> Any:
        box = slide.shapes.add_textbox(left, top, width, height)
        frame = box.text_frame
        frame.word_wrap = True
        lines = text if isinstance(text, list) else [text]
        for i, line in enumerate(lines):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            self._font(para.add_run(), size, bold=bold, colour=colour)
            para.runs[0].text = f"•  {line}" if bullets else line
            para.space_after = Pt(6 if bullets else 2)
        return box

    def tile(self, slide: Any, label: str, value: str, left: int, top: int, width: int) -> None:
        box = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, width, Inches(1.05))
        box.fill.solid()
        box.fill.fore_color.rgb = rgb("#F3F4F6")
        box.line.fill.background()
        self.text(
            slide,
            label,
            left + Inches(0.12),
            top + Inches(0.08),
            width,
            Inches(0.3),
            size=11,
            colour=self.muted,
        )
        self.text(
            slide, value, left + Inches(0.12), top + Inches(0.4), width, Inches(0.5), size=20, bold=True
        )

    def table(
        self, slide: Any, header: list[str], rows: list[list[str]], left: int, top: int, widths: list[float]
    ) -> Any:
        height = Inches(0.4) * (len(rows) + 1)
        shape = slide.shapes.add_table(len(rows) + 1, len(header), left, top, Inches(sum(widths)), height)
        table = shape.table
        for i, w in enumerate(widths):
            table.columns[i].width = Inches(w)
        for r, values in enumerate([header, *rows]):
            for c, value in enumerate(values):
                cell = table.cell(r, c)
                cell.text = value
                cell.margin_top = cell.margin_bottom = Inches(0.04)
                run = cell.text_frame.paragraphs[0].runs[0] if value else None
                if run is not None:
                    self._font(run, 12, bold=r == 0, colour=rgb("#FFFFFF") if r == 0 else None)
                cell.fill.solid()
                cell.fill.fore_color.rgb = self.primary if r == 0 else rgb("#FFFFFF" if r % 2 else "#F3F4F6")
        return table

    def chart(
        self, slide: Any, kind: Any, data: CategoryChartData, left: int, top: int, width: int, height: int
    ) -> Any:
        chart = slide.shapes.add_chart(kind, left, top, width, height, data).chart
        chart.font.name = self.font
        chart.font.size = Pt(11)
        chart.font.color.rgb = self.ink
        return chart

    def percent_bars(
        self, slide: Any, name: str, values: list[tuple[str, float]], left: int, maximum: float | None = None
    ) -> Any:
        """Horizontal bars of percentages, labelled, on the right-hand side of a slide."""
        data = CategoryChartData(number_format=self.percent)
        data.categories = [chart_label(label) for label, _ in values]
        data.add_series(name, [value for _, value in values])
        chart = self.chart(
            slide, XL_CHART_TYPE.BAR_CLUSTERED, data, left, Inches(1.7), Inches(3.95), Inches(5.2)
        )
        chart.has_legend = False
        axis = chart.value_axis
        axis.minimum_scale = 0
        if maximum is not None:
            axis.maximum_scale = maximum
        axis.tick_labels.number_format, axis.tick_labels.number_format_is_linked = self.percent, False
        axis.has_major_gridlines = False
        chart.category_axis.tick_labels.font.size = Pt(9)
        plot = chart.plots[0]
        plot.has_data_labels = True
        plot.data_labels.number_format, plot.data_labels.number_format_is_linked = self.percent, False
        return chart


def kpi_table(
    p: Painter, slide: Any, t: Texts, template: Template, kpis: list[Row], widths: list[float]
) -> None:
    """KPIs with target, latest value, attainment and a coloured RAG: the team's deck and the
    client's."""
    lang = t.lang
    kcols = {c.key: c.label[lang] for c in template.table("kpis").columns}
    words = {"G": "rag_green", "A": "rag_amber", "R": "rag_red"}
    table = p.table(
        slide,
        [kcols["kpi"], t("deck.target"), t("deck.latest"), t("deck.attainment"), kcols["rag"]],
        [
            [
                clip(k.get("kpi"), CELL_TEXT),
                t.number(k.get("target"), k.get("unit")),
                t.number(k.get("latest"), k.get("unit")),
                t.percent(k.get("attainment")),
                template.text(words[k["rag"]], lang) if k["rag"] else "",
            ]
            for k in kpis
        ]
        or [[t("deck.nothing"), "", "", "", ""]],
        MARGIN,
        Inches(1.8),
        widths,
    )
    for i, k in enumerate(kpis, start=1):
        if k["rag"]:
            cell = table.cell(i, 4)
            cell.fill.solid()
            cell.fill.fore_color.rgb = rgb(RAG_FILL[k["rag"]])
            for run in cell.text_frame.paragraphs[0].runs:
                run.font.bold = True
                run.font.color.rgb = rgb(RAG_INK[k["rag"]])


def objectives_table(p: Painter, slide: Any, t: Texts, template: Template, rows: list[Row], top: int) -> None:
    """Our objectives with deadline, status and progress: the team's deck and the client's."""
    lang = t.lang
    cols = {c.key: c.label[lang] for c in template.table("objectives").columns}
    p.table(
        slide,
        [cols["objective"], cols["deadline"], cols["status"], t("deck.progress")],
        [
            [
                clip(r.get("objective"), CELL_TEXT),
                t.date(r.get("deadline")),
                choice(template, "objective_status", r.get("status"), lang),
                t.percent(r.get("progress")),
            ]
            for r in rows
        ]
        or [[t("deck.nothing"), "", "", ""]],
        MARGIN,
        top,
        [4.3, 1.3, 1.4, 1.1],
    )


def clip(text: Any, limit: int = 70) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_deck(deck: Deck, template: Template, path: Path, *, source: str = "") -> Path:
    """Write the deck as a .pptx (atomically)."""
    t = Texts(deck.lang)
    lang = deck.lang
    p = Painter(template, lang, stamp=t("deck.internal"))
    s = deck.scores
    f = s.figures

    # Cover
    cover = p.prs.slides.add_slide(p.prs.slide_layouts[6])
    band = cover.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, WIDE, HIGH)
    band.fill.solid()
    band.fill.fore_color.rgb = p.primary
    band.line.fill.background()
    white = rgb("#FFFFFF")
    p.stamped(cover, white)
    p.text(
        cover,
        deck.client,
        MARGIN,
        Inches(2.4),
        WIDE - 2 * MARGIN,
        Inches(1.2),
        size=44,
        bold=True,
        colour=white,
    )
    p.text(cover, t("deck.subtitle"), MARGIN, Inches(3.6), WIDE, Inches(0.6), size=24, colour=white)
    p.text(
        cover,
        t("deck.prepared_by", kam=deck.kam or "–", date=t.date(deck.day)),
        MARGIN,
        Inches(4.4),
        WIDE,
        Inches(0.5),
        size=16,
        colour=rgb("#C7D2FE"),
    )

    # Account snapshot
    slide = p.slide(t("deck.snapshot"), t("deck.tier_line", tier=template.tier_label(s.tier, lang)))
    tiles = [
        (t("deck.revenue"), t.money(f.revenue)),
        (t("deck.revenue_target"), t.money(f.target)),
        (t("deck.weighted_pipeline"), t.money(f.weighted_pipeline)),
        (t("deck.nrr"), t.percent(f.nrr)),
        (t("deck.nps"), "–" if f.nps is None else f"{f.nps:.0f}"),
        (t("deck.overdue_actions"), str(f.overdue_actions)),
        (t("deck.next_review"), t.date(f.next_review)),
    ]
    for i, (label, value) in enumerate(tiles):
        col, row = i % 2, i // 2
        p.tile(
            slide, label, value, MARGIN + col * Inches(2.9), Inches(1.8) + row * Inches(1.25), Inches(2.75)
        )
    data = CategoryChartData()
    data.categories = [t(f"deck.{k}_score") for k in ("potential", "relationship", "execution", "overall")]
    data.add_series(
        t("deck.scores"),
        [round(getattr(s, k), 1) for k in ("potential", "relationship", "execution", "overall")],
    )
    chart = p.chart(
        slide, XL_CHART_TYPE.COLUMN_CLUSTERED, data, Inches(6.8), Inches(1.8), Inches(5.9), Inches(4.9)
    )
    chart.has_title = True
    chart.chart_title.text_frame.text = t("deck.scores")
    chart.has_legend = False
    chart.value_axis.maximum_scale, chart.value_axis.minimum_scale = 100, 0
    chart.value_axis.has_major_gridlines = False
    plot = chart.plots[0]
    plot.has_data_labels = True
    plot.data_labels.number_format, plot.data_labels.number_format_is_linked = "0", False
    plot.data_labels.position = XL_LABEL_POSITION.OUTSIDE_END
    plot.series[0].format.fill.solid()
    plot.series[0].format.fill.fore_color.rgb = p.primary
    slide.notes_slide.notes_text_frame.text = t("deck.notes", file=source)

    # What changed since the last review
    if deck.changes is not None:
        since = deck.changes.since
        slide = p.slide(t("deck.changes"), t("deck.changes_since", date=t.date(since)) if since else None)
        lines = deck.changes.lines(lang) or [t("deck.no_changes")]
        half = (len(lines) + 1) // 2 if len(lines) > 8 else len(lines)
        width = (WIDE - 2 * MARGIN - Inches(0.4)) / (2 if half < len(lines) else 1)
        p.text(slide, lines[:half], MARGIN, Inches(1.8), int(width), Inches(5.2), size=15, bullets=True)
        if half < len(lines):
            p.text(
                slide,
                lines[half:],
                MARGIN + int(width) + Inches(0.4),
                Inches(1.8),
                int(width),
                Inches(5.2),
                size=15,
                bullets=True,
            )

    # Objectives and progress
    slide = p.slide(t("deck.objectives"))
    objectives = deck.objectives[:MAX_ROWS]
    objectives_table(p, slide, t, template, objectives, Inches(1.8))
    if objectives:
        chart = p.percent_bars(
            slide,
            t("deck.progress"),
            [
                (clip(r.get("objective"), CHART_LABEL), float(n0(r.get("progress"))))
                for r in reversed(objectives)
            ],
            Inches(8.9),
            maximum=1,
        )
        chart.plots[0].series[0].format.fill.solid()
        chart.plots[0].series[0].format.fill.fore_color.rgb = p.primary

    # KPI tracker with RAG
    slide = p.slide(t("deck.kpis"))
    kpis = deck.kpis[:MAX_ROWS]
    kpi_table(p, slide, t, template, kpis, [3.6, 1.3, 1.3, 1.3, 0.8])
    rated = [k for k in kpis if k["attainment"] is not None]
    if rated:
        chart = p.percent_bars(
            slide,
            t("deck.attainment"),
            [
                (clip(k.get("kpi"), CHART_LABEL), round(max(0.0, min(k["attainment"], 1.5)), 3))
                for k in reversed(rated)
            ],
            Inches(9.0),
        )
        plot = chart.plots[0]
        for point, k in zip(plot.series[0].points, reversed(rated), strict=True):
            point.format.fill.solid()
            point.format.fill.fore_color.rgb = rgb(RAG_INK[k["rag"]])

    # Successes, obstacles, opportunities, decisions
    slide = p.slide(t("deck.review"))
    quads = [
        ("successes", deck.successes, "#006100"),
        ("obstacles", deck.obstacles, "#9C0006"),
        ("opportunities", deck.opportunities, "#1F3864"),
        ("decisions", deck.decisions, "#9C5700"),
    ]
    qw, qh = (WIDE - 2 * MARGIN - Inches(0.3)) / 2, Inches(2.55)
    for i, (key, items, colour) in enumerate(quads):
        left = MARGIN + (i % 2) * (int(qw) + Inches(0.3))
        top = Inches(1.7) + (i // 2) * (qh + Inches(0.2))
        frame = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, int(qw), qh)
        frame.fill.solid()
        frame.fill.fore_color.rgb = rgb("#F9FAFB")
        frame.line.color.rgb = rgb(colour)
        p.text(
            slide,
            t(f"deck.{key}"),
            left + Inches(0.15),
            top + Inches(0.08),
            int(qw),
            Inches(0.4),
            size=16,
            bold=True,
            colour=rgb(colour),
        )
        shown = [clip(x, 85) for x in items[:5]] or [t("deck.nothing")]
        p.text(
            slide,
            shown,
            left + Inches(0.15),
            top + Inches(0.5),
            int(qw) - Inches(0.3),
            qh - Inches(0.6),
            size=12,
            bullets=bool(items),
        )

    # Whitespace
    slide = p.slide(
        t("deck.whitespace"),
        t("deck.whitespace_figures", potential=t.money(f.whitespace), current=t.money(f.current_revenue)),
    )
    if deck.whitespace:
        data = CategoryChartData()
        data.categories = [chart_label(bu) for bu in deck.whitespace]
        data.add_series(t("deck.current_revenue"), [v[0] for v in deck.whitespace.values()])
        data.add_series(t("deck.potential"), [v[1] for v in deck.whitespace.values()])
        chart = p.chart(
            slide, XL_CHART_TYPE.BAR_STACKED, data, MARGIN, Inches(1.8), WIDE - 2 * MARGIN, Inches(5.2)
        )
        chart.has_legend = True
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.value_axis.has_major_gridlines = False
        money = '#,##0 "€"' if lang == "fr" else '"€"#,##0'
        chart.value_axis.tick_labels.number_format = money
        chart.value_axis.tick_labels.number_format_is_linked = False
        for series, colour in zip(chart.plots[0].series, (p.primary, rgb("#F4B183")), strict=True):
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = colour
    else:
        p.text(slide, t("deck.nothing"), MARGIN, Inches(1.9), Inches(8), Inches(0.5))

    # Top risks and next actions
    slide = p.slide(t("deck.risks_actions"))
    half = (WIDE - 2 * MARGIN - Inches(0.4)) / 2
    p.text(
        slide,
        t("deck.top_risks"),
        MARGIN,
        Inches(1.6),
        int(half),
        Inches(0.4),
        size=16,
        bold=True,
        colour=p.primary,
    )
    risk_lines = []
    for r in deck.risks:
        risk_lines.append(
            t("deck.risk_line", name=clip(r.get("risk"), CELL_TEXT), score=f"{risk_score(r):.0f}")
        )
        if r.get("mitigation"):
            risk_lines.append("    " + t("deck.mitigation", text=clip(r.get("mitigation"), CELL_TEXT)))
    p.text(slide, risk_lines or [t("deck.nothing")], MARGIN, Inches(2.1), int(half), Inches(4.9), size=12)
    acols = {c.key: c.label[lang] for c in template.table("actions").columns}
    p.text(
        slide,
        t("deck.next_actions"),
        MARGIN + int(half) + Inches(0.4),
        Inches(1.6),
        int(half),
        Inches(0.4),
        size=16,
        bold=True,
        colour=p.primary,
    )
    overdue_word = t("deck.overdue")
    p.table(
        slide,
        [acols["action"], acols["owner"], acols["due"]],
        [
            [
                clip(r.get("action"), CELL_TEXT),
                clip(r.get("owner"), 40),
                t.date(r.get("due"))
                + (f" ({overdue_word})" if (as_date(r.get("due")) or dt.date.max) < deck.day else ""),
            ]
            for r in deck.actions
        ]
        or [[t("deck.nothing"), "", ""]],
        MARGIN + int(half) + Inches(0.4),
        Inches(2.1),
        [3.0, 1.35, 1.75],
    )
    with atomic_path(path) as tmp:
        p.prs.save(str(tmp))
    return path


def soffice() -> str | None:
    """LibreOffice's command, when it is installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def pdf_of(pptx: Path, *, timeout: float = 120) -> Path | None:
    """A PDF beside the deck, through LibreOffice when it is installed (None otherwise)."""
    program = soffice()
    if not program:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        try:
            subprocess.run(
                [
                    program,
                    f"-env:UserInstallation=file://{profile}",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    tmp,
                    str(pptx),
                ],
                check=True,
                capture_output=True,
                timeout=timeout,
            )
        except (subprocess.SubprocessError, OSError):
            return None
        made = Path(tmp) / (pptx.stem + ".pdf")
        if not made.exists():
            return None
        target = pptx.with_suffix(".pdf")
        with atomic_path(target) as out:
            shutil.copyfile(made, out)
    return target


def qbr_path(plan: Plan, out_dir: Path, day: dt.date) -> Path:
    return out_dir / safe_filename(f"{plan.name or 'account'} QBR {day.isoformat()}", ".pptx")


def write_qbr(
    plan: Plan,
    template: Template,
    out_dir: str | Path,
    *,
    changes: Changes | None = None,
    as_of: dt.date | None = None,
    pdf: bool = True,
    source: str = "",
) -> tuple[Path, Path | None]:
    """Write the review deck (and its PDF when LibreOffice is there); return both paths."""
    deck = deck_content(plan, template, changes=changes, as_of=as_of)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = render_deck(deck, template, qbr_path(plan, out, deck.day), source=source)
    return path, pdf_of(path) if pdf else None
