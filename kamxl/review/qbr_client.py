"""The review deck for the meeting with the client (``kamxl qbr PLAN --client``).

Drawn from :func:`~kamxl.review.client.client_plan` alone, so it holds only what the template
lets the client see: their objectives and ours with progress, the mutual action plan, the KPIs
followed together, successes, obstacles, decisions and next steps. No scores, tier, deal
amounts, risks or stakeholder map: those are the team's, in the default (internal) deck.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pptx.enum.shapes import MSO_SHAPE
from pptx.util import Inches

from ..fileio import atomic_path
from ..model import Plan
from ..paths import safe_filename
from ..scoring import as_date, kpi_attainment, kpi_latest, n0
from ..template import Template
from .client import client_plan
from .qbr import (
    CELL_TEXT,
    CHART_LABEL,
    HIGH,
    MARGIN,
    MAX_ROWS,
    WIDE,
    Painter,
    clip,
    kpi_table,
    objectives_table,
    pdf_of,
    rag,
    rgb,
)
from .texts import Texts, choice

OPEN = ("done", "cancelled")


def client_qbr_path(plan: Plan, out_dir: Path, day: dt.date) -> Path:
    t = Texts(plan.lang)
    name = f"{plan.name or 'account'} QBR {day.isoformat()} {t('deck.client_file')}"
    return out_dir / safe_filename(name, ".pptx")


def _kpis(view: Plan, template: Template) -> list[dict[str, Any]]:
    periods = [c.key for c in template.table("kpis").columns if c.period]
    out = []
    for row in view.rows("kpis", template):
        latest = kpi_latest(row, periods)
        attainment = kpi_attainment(row, latest)
        out.append(row | {"latest": latest, "attainment": attainment, "rag": rag(attainment, template)})
    return out


def _review(view: Plan, template: Template, t: Texts, day: dt.date) -> list[tuple[str, list[str], str]]:
    """The four boxes: successes, obstacles, decisions, next steps."""
    since = as_date(view.fields.get("last_review"))
    actions = view.rows("actions", template)
    objectives = view.rows("objectives", template)
    successes = [
        t("deck.objective_achieved", name=r.get("objective"))
        for r in objectives
        if r.get("status") == "achieved"
    ]
    successes += [
        t("deck.action_done", name=r.get("action"))
        for r in actions
        if r.get("status") == "done" and (d := as_date(r.get("done_date"))) and (since is None or d >= since)
    ]
    obstacles = [
        t("deck.action_blocked", name=r.get("action")) for r in actions if r.get("status") == "blocked"
    ]
    obstacles += [
        t("deck.objective_at_risk", name=r.get("objective"))
        for r in objectives
        if r.get("status") in ("at_risk", "missed")
    ]
    decisions = [
        f"{t.date(r.get('date'))} · {r.get('decision')}"
        for r in sorted(
            view.rows("decisions", template),
            key=lambda r: as_date(r.get("date")) or dt.date.min,
            reverse=True,
        )
    ]
    coming = sorted(
        (r for r in actions if r.get("status") not in OPEN and (as_date(r.get("due")) or dt.date.max) >= day),
        key=lambda r: as_date(r.get("due")) or dt.date.max,
    )
    steps = [
        t(
            "deck.next_step",
            name=clip(r.get("action"), 45),
            owner=clip(r.get("owner") or "–", 20),
            date=t.date(r.get("due")),
        )
        for r in coming
    ]
    return [
        (t("deck.successes"), successes, "#006100"),
        (t("deck.obstacles"), obstacles, "#9C0006"),
        (t("deck.decisions"), decisions, "#9C5700"),
        (t("deck.next_steps"), steps, "#1F3864"),
    ]


def _heading(p: Painter, slide: Any, text: str, top: int) -> None:
    """A sub-heading on a slide, in the deck's primary colour."""
    p.text(slide, text, MARGIN, top, Inches(8), Inches(0.4), size=16, bold=True, colour=p.primary)


def _objectives_slide(p: Painter, view: Plan, template: Template, t: Texts) -> None:
    slide = p.slide(t("deck.objectives"))
    theirs = [clip(r.get("objective"), CELL_TEXT) for r in view.rows("client_objectives", template)][:4]
    ours = view.rows("objectives", template)[:MAX_ROWS]
    top = Inches(1.6)
    if theirs:
        _heading(p, slide, t("deck.their_objectives"), top)
        p.text(slide, theirs, MARGIN, top + Inches(0.4), Inches(8.1), Inches(1.3), size=12, bullets=True)
        top += Inches(0.5) + Inches(0.32) * len(theirs)
    _heading(p, slide, t("deck.our_objectives"), top)
    objectives_table(p, slide, t, template, ours, top + Inches(0.45))
    if ours:
        chart = p.percent_bars(
            slide,
            t("deck.progress"),
            [(clip(r.get("objective"), CHART_LABEL), float(n0(r.get("progress")))) for r in reversed(ours)],
            Inches(8.9),
            maximum=1,
        )
        chart.plots[0].series[0].format.fill.solid()
        chart.plots[0].series[0].format.fill.fore_color.rgb = p.primary


def _actions_slide(p: Painter, view: Plan, template: Template, t: Texts, day: dt.date) -> None:
    lang = t.lang
    slide = p.slide(t("deck.action_plan"))
    cols = {c.key: c.label[lang] for c in template.table("actions").columns}
    actions = view.rows("actions", template)
    shown = sorted(actions, key=lambda r: (r.get("status") in OPEN, as_date(r.get("due")) or dt.date.max))[
        : MAX_ROWS + 3
    ]
    overdue = t("deck.overdue")
    p.table(
        slide,
        [cols["action"], cols["owner"], cols["due"], cols["status"]],
        [
            [
                clip(r.get("action"), CELL_TEXT),
                clip(r.get("owner"), 40),
                t.date(r.get("due"))
                + (
                    f" ({overdue})"
                    if r.get("status") not in OPEN and (as_date(r.get("due")) or dt.date.max) < day
                    else ""
                ),
                choice(template, "action_status", r.get("status"), lang),
            ]
            for r in shown
        ]
        or [[t("deck.nothing"), "", "", ""]],
        MARGIN,
        Inches(1.6),
        [6.4, 2.2, 1.9, 1.6],
    )


def _kpi_slide(p: Painter, view: Plan, template: Template, t: Texts) -> None:
    slide = p.slide(t("deck.shared_kpis"))
    kpis = _kpis(view, template)[:MAX_ROWS]
    kpi_table(p, slide, t, template, kpis, [5.0, 1.6, 1.6, 1.6, 1.0])


def _review_slide(p: Painter, boxes: list[tuple[str, list[str], str]], t: Texts) -> None:
    slide = p.slide(t("deck.client_review"))
    qw, qh = (WIDE - 2 * MARGIN - Inches(0.3)) / 2, Inches(2.55)
    for i, (title, items, colour) in enumerate(boxes):
        left = MARGIN + (i % 2) * (int(qw) + Inches(0.3))
        top = Inches(1.7) + (i // 2) * (qh + Inches(0.2))
        frame = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, int(qw), qh)
        frame.fill.solid()
        frame.fill.fore_color.rgb = rgb("#F9FAFB")
        frame.line.color.rgb = rgb(colour)
        p.text(
            slide,
            title,
            left + Inches(0.15),
            top + Inches(0.08),
            int(qw),
            Inches(0.4),
            size=16,
            bold=True,
            colour=rgb(colour),
        )
        shown = [clip(x, 80) for x in items[:4]] or [t("deck.nothing")]  # four fit the box
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


def render_client_deck(plan: Plan, template: Template, path: Path, *, as_of: dt.date | None = None) -> Path:
    """Write the client deck as a .pptx (atomically), from what the client may see only."""
    day = as_of or dt.date.today()
    view = client_plan(plan, template)  # the one filter: nothing below sees an internal value
    t = Texts(view.lang)
    p = Painter(template, t.lang)
    cover = p.prs.slides.add_slide(p.prs.slide_layouts[6])
    band = cover.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, WIDE, HIGH)
    band.fill.solid()
    band.fill.fore_color.rgb = p.primary
    band.line.fill.background()
    white = rgb("#FFFFFF")
    p.text(
        cover,
        view.name,
        MARGIN,
        Inches(2.4),
        WIDE - 2 * MARGIN,
        Inches(1.2),
        size=44,
        bold=True,
        colour=white,
    )
    p.text(
        cover,
        t("deck.subtitle"),
        MARGIN,
        Inches(3.6),
        WIDE,
        Inches(0.6),
        size=24,
        colour=white,
    )
    p.text(
        cover,
        t("deck.prepared_by", kam=view.kam or "–", date=t.date(day)),
        MARGIN,
        Inches(4.4),
        WIDE,
        Inches(0.5),
        size=16,
        colour=rgb("#C7D2FE"),
    )
    _objectives_slide(p, view, template, t)
    _actions_slide(p, view, template, t, day)
    _kpi_slide(p, view, template, t)
    _review_slide(p, _review(view, template, t, day), t)
    with atomic_path(path) as tmp:
        p.prs.save(str(tmp))
    return path


def write_client_qbr(
    plan: Plan, template: Template, out_dir: str | Path, *, as_of: dt.date | None = None, pdf: bool = True
) -> tuple[Path, Path | None]:
    """Write the client deck (and its PDF when LibreOffice is there); return both paths."""
    day = as_of or dt.date.today()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = render_client_deck(plan, template, client_qbr_path(plan, out, day), as_of=day)
    return path, pdf_of(path) if pdf else None
