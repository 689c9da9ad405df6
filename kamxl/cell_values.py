"""Plan values as the workbook's cells hold them: labels for choices, Excel serial dates."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from xlsxwriter.worksheet import Worksheet

from .alerts import alert_values
from .model import is_blank
from .row_formulas import Value
from .scoring import Scores
from .template import Column, Template


def excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def weakest_label(scores: Scores, lang: str) -> str:
    """The lowest factor of the priority, as the Dashboard names it; empty while unrated."""
    from .tier_checks import tier_texts

    if scores.tier == "unrated":
        return ""
    factors = {
        "potential": scores.potential / 100,
        "probability": scores.figures.probability,
        "profitability": scores.figures.profitability,
    }
    weakest = min(factors, key=lambda k: factors[k])
    return str(tier_texts()["drivers"]["factors"][weakest][lang])


def tier_reason_label(template: Template, reason: str, lang: str) -> str:
    """Why the tier: grow or defend, in the workbook's language; empty while unrated."""
    return str(template.texts[f"tier_reason_{reason}"][lang]) if reason else ""


def cached_values(scores: Scores, template: Template, lang: str) -> dict[str, Any]:
    """Scores and figures as Excel would show them, keyed like the dashboard metrics."""
    values: dict[str, Any] = dict(vars(scores.figures))
    values |= {
        k: getattr(scores, k) for k in ("potential", "relationship", "execution", "overall", "priority")
    }
    values["tier"] = template.tier_label(scores.tier, lang)
    values["tier_reason"] = tier_reason_label(template, scores.tier_reason, lang)
    values["tier_weakest"] = weakest_label(scores, lang)
    values |= alert_values(scores, template, lang)
    for key, value in values.items():
        if isinstance(value, bool):
            values[key] = int(value)
        elif isinstance(value, dt.date):
            values[key] = excel_serial(value)
        elif value is None:
            values[key] = ""
    return values


def cell_value(col: Column, value: Any, template: Template, lang: str) -> Value:
    """A plan value as the cell holds it, for formulas: labels, Excel serial dates, floats."""
    if is_blank(value):
        return None
    if col.type == "choice" and isinstance(value, str) and value in template.choices[col.choices or ""]:
        return template.label(col.choices or "", value, lang)
    if isinstance(value, dt.datetime):
        return (
            excel_serial(value.date())
            + (value - dt.datetime.combine(value.date(), dt.time())).seconds / 86400
        )
    if isinstance(value, dt.date):
        return float(excel_serial(value))
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def display(col: Column, value: Any, template: Template, lang: str) -> Any:
    """The value as a KAM sees it: choice codes become labels in the workbook language."""
    if col.type == "choice" and isinstance(value, str) and value in template.choices[col.choices or ""]:
        return template.label(col.choices or "", value, lang)
    return value


def write_value(
    ws: Worksheet,
    row: int,
    col_idx: int,
    col: Column,
    value: Any,
    fmt: Any,
    template: Template,
    lang: str,
) -> None:
    """Write one plan value with the cell type Excel expects (date, number, link, text)."""
    value = display(col, value, template, lang)
    if is_blank(value):
        ws.write_blank(row, col_idx, None, fmt)
    elif isinstance(value, dt.datetime):
        ws.write_datetime(row, col_idx, value, fmt)
    elif isinstance(value, dt.date):
        ws.write_datetime(row, col_idx, dt.datetime.combine(value, dt.time()), fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col_idx, value, fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col_idx, value, fmt)
    elif col.type == "url" and re.match(r"https?://", str(value)):
        ws.write_url(row, col_idx, str(value), fmt, string=str(value))
    else:
        ws.write_string(row, col_idx, str(value), fmt)
