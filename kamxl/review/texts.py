"""The review pack's words, from workbook_templates/review.toml, and how it writes figures."""

from __future__ import annotations

import tomllib
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

from ..dates import text_date
from ..template import Template, default_template_path

LANGS = ("en", "fr")


@cache
def _load(path: str) -> dict[str, Any]:
    return tomllib.loads(Path(path).read_text(encoding="utf-8"))


def review_texts_path() -> Path:
    return default_template_path().with_name("review.toml")


class Texts:
    """``t("deck.snapshot")`` in one language; ``t("changes.won", name=...)`` fills placeholders."""

    def __init__(self, lang: str, source: Path | None = None) -> None:
        """``source``: another texts file of the same shape (default: the review pack's)."""
        self.lang = lang if lang in LANGS else "en"
        self.data = _load(str(source or review_texts_path()))

    def __call__(self, path: str, /, **values: Any) -> str:
        node: Any = self.data
        for part in path.split("."):
            node = node[part]
        text = node[self.lang]
        local = {k: v.get(self.lang, v.get("en")) if isinstance(v, dict) else v for k, v in values.items()}
        return text.format(**local) if values else text

    def money(self, value: Any) -> str:
        """``€150,000`` in English, ``150 000 €`` in French; ``–`` for blank."""
        if not isinstance(value, int | float) or isinstance(value, bool):
            return "–"
        if self.lang == "fr":
            return f"{value:,.0f} €".replace(",", "\u202f")
        return f"€{value:,.0f}"

    def date(self, value: Any) -> str:
        return text_date(value, self.lang)

    def percent(self, value: Any) -> str:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return "–"
        # Half up, as Excel shows the same value in a chart's label: 92.5 % is 93 %, not 92 %.
        whole = (Decimal(repr(float(value))) * 100).quantize(Decimal(1), ROUND_HALF_UP)
        text = f"{whole}%"
        return text.replace("%", "\u202f%") if self.lang == "fr" else text

    def number(self, value: Any, unit: str | None = None) -> str:
        """A KPI value with its unit: percentages as %, money as money, others plain."""
        if not isinstance(value, int | float) or isinstance(value, bool):
            return "–"
        if unit == "%":
            return self.percent(value)
        if unit == "€":
            return self.money(value)
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        if self.lang == "fr":
            text = text.replace(",", "\u202f").replace(".", ",")
        return f"{text} {unit}".strip() if unit and unit != "#" else text


def chart_label(text: Any) -> str:
    """A chart category as text: the chart's data workbook is written with XlsxWriter's
    ``write()``, which would turn "=..." into a live formula; an invisible word joiner keeps it
    text and looks the same."""
    text = str(text)
    return "\u2060" + text if text.startswith("=") else text


def choice_labels(template: Template, choice_list: str, code: Any) -> dict[str, str]:
    """A choice's label in every language (text typed outside the list, as typed)."""
    return {lang: choice(template, choice_list, code, lang) or "–" for lang in LANGS}


def choice(template: Template, choice_list: str, code: Any, lang: str) -> str:
    """The label of a choice code; text typed outside the list is shown as typed."""
    if code is None:
        return ""
    items = template.choices.get(choice_list, {})
    return items[code][lang] if code in items else str(code)
