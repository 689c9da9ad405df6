"""One workbook's check result as plain data: what ``kamxl check --json`` prints.

The roll-up and the Excel add-in build the same dictionary with :func:`plan_report`, so every
consumer sees one documented shape (docs/check.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .alerts import Alert, plan_alerts, status_label
from .findings import SEVERITIES, Finding
from .paths import printable
from .scoring import Figures, Scores, score_plan
from .template import Template

if TYPE_CHECKING:
    from .reader import ReadResult

SCORE_KEYS = ("potential", "relationship", "execution", "overall")
# Figures shown on a terminal, in this order; --json carries them all.
KEY_FIGURES = (
    "revenue", "target", "weighted_pipeline", "whitespace", "nrr", "nps",
    "overdue_actions", "high_risks", "last_review", "days_since_review", "next_review",
)  # fmt: skip


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings, then infos; reading order kept within each."""
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def figures_dict(figures: Figures) -> dict[str, Any]:
    """Every figure, JSON-ready: dates as ISO text."""
    out = {}
    for item in dataclasses.fields(figures):
        value = getattr(figures, item.name)
        out[item.name] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def plan_report(
    result: ReadResult,
    scores: Scores,
    findings: Iterable[Finding],
    alerts: Iterable[Alert] = (),
    as_of: dt.date | None = None,
) -> dict[str, Any]:
    """The documented check object of one workbook (see docs/check.md)."""
    from .drivers import tier_drivers  # builds on the what-if engine, which scores plans

    plan, template = result.plan, result.template
    lang = plan.lang if plan.lang in ("en", "fr") else "en"
    return {
        "file": printable(result.path),
        "account": plan.name,
        "kam": plan.kam,
        "account_id": plan.account_id,
        "lang": lang,
        "template": {"id": plan.template_id, "version": plan.template_version},
        "scores": {key: getattr(scores, key) for key in SCORE_KEYS},
        "priority": scores.priority,
        "tier": scores.tier,
        "tier_label": template.tier_label(scores.tier, lang),
        "tier_drivers": tier_drivers(plan, template, scores, as_of).as_dict(),
        "status": scores.status,
        "status_label": status_label(template, scores.status, lang),
        "alerts": [a.as_dict() for a in alerts],
        "figures": figures_dict(scores.figures),
        "findings": [f.as_dict() for f in sorted_findings(findings)],
    }


def check_workbook(
    path: str | Path, *, template: Template | str | Path | None = None, as_of: dt.date | None = None
) -> dict[str, Any]:
    """Read, score and health-check one workbook; raises PlanReadError if it cannot be read."""
    from .health import check_plan
    from .reader import read_plan

    result = read_plan(path, template=template)
    scores = score_plan(result.plan, result.template, as_of)
    health = check_plan(result.plan, result.template, scores, as_of, locations=result.locations)
    alerts = plan_alerts(result.plan, result.template, scores, as_of, locations=result.locations)
    return plan_report(result, scores, [*result.findings, *health], alerts, as_of)


# -- text, for a terminal ------------------------------------------------------------------------
LABELS = {
    "revenue": "Revenue", "target": "Target", "weighted_pipeline": "Weighted pipeline",
    "whitespace": "Whitespace", "nrr": "NRR", "nps": "NPS", "overdue_actions": "Overdue actions",
    "high_risks": "High risks", "last_review": "Last review", "days_since_review": "Days since review",
    "next_review": "Next review",
}  # fmt: skip
PERCENT_FIGURES = {"nrr"}


def _figure(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if key in PERCENT_FIGURES and isinstance(value, (int, float)):
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:,.0f}"
    return str(value)


def render_text(report: dict[str, Any]) -> str:
    """A readable block for one workbook: identity, scores, key figures, findings as a table."""
    s, figures = report["scores"], report["figures"]
    lines = [
        f"{report['account'] or '(no client name)'}  ·  {report['file']}",
        f"  KAM: {report['kam'] or '–'}    Tier: {report['tier_label']} ({report['tier']})"
        f"    Status: {report['status_label']} ({report['status']})",
        "  Scores: "
        + "   ".join(f"{k.capitalize()} {s[k]:.1f}" for k in SCORE_KEYS)
        + f"   Priority {report['priority']:.1f}",
    ]
    if drivers := report.get("tier_drivers"):
        lines.append(f"  Why: {drivers['text']}")
    shown = [f"{LABELS[k]} {_figure(k, figures.get(k))}" for k in KEY_FIGURES]
    for start in range(0, len(shown), 4):
        lines.append(("  Figures: " if start == 0 else "           ") + "   ".join(shown[start : start + 4]))
    for alert in report["alerts"]:
        lines.append(f"  Alert {alert['severity']:<6} {alert['sheet']}!{alert['cell']}  {alert['message']}")
    findings = report["findings"]
    counts = {sev: sum(1 for f in findings if f["severity"] == sev) for sev in SEVERITIES}
    summary = ", ".join(f"{n} {sev}{'s' if n != 1 and sev != 'info' else ''}" for sev, n in counts.items())
    lines.append(f"  Findings: {summary}" if findings else "  Findings: none")
    if findings:
        where = [f"{f['sheet']}!{f['cell']}" for f in findings]
        width = max(len(w) for w in where)
        for f, w in zip(findings, where, strict=True):
            lines.append(f"    {f['severity']:<8} {w:<{width}}  {f['message']}")
    if (changes := report.get("changes")) is not None:
        since = changes.get("since") or "the last review"
        lines.append(f"  Changes since {since}: {len(changes['changes']) or 'none'}")
        lines += [f"    {c['text']}" for c in changes["changes"]]
    return "\n".join(lines)
