"""Dates written into running text (titles, notes, messages) as the language's readers write
them, the same way the workbook's date cells show them: 2026-12-01 in English, 01/12/2026 in
French."""

from __future__ import annotations

import datetime as dt
from typing import Any

TEXT_DATE = {"en": "%Y-%m-%d", "fr": "%d/%m/%Y"}


def text_date(value: Any, lang: str) -> str:
    """``value`` (a date or datetime) in ``lang``'s format; ``–`` when it is not a date."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        return "–"
    return value.strftime(TEXT_DATE.get(lang, TEXT_DATE["en"]))
