"""The demo's sample content: texts, phrase lists and catalogues in ``workbook_templates/demo/``.

One TOML file per theme, found beside the built-in template (from a checkout or an installed
wheel) and read once. A text is ``{ en = "...", fr = "..." }``; names and places that are not
translations (KAMs, company stems, countries) are listed per language under ``[en]`` and ``[fr]``.
"""

from __future__ import annotations

import random
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from ..template import TemplateError, default_template_path

THEMES = (
    "profiles",
    "people",
    "clients",
    "objectives",
    "swot",
    "pipeline",
    "actions",
    "risks",
    "governance",
    "relations",
)
Text = dict[str, str]  # {"en": ..., "fr": ...}


def content_folder() -> Path:
    return default_template_path().with_name("demo")


@cache
def content(theme: str) -> dict[str, Any]:
    """The parsed file of one theme; a missing or broken file is refused with its path."""
    path = content_folder() / f"{theme}.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(path, "(file)", f"demo content not readable: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(path, "(file)", f"invalid TOML: {exc}") from exc


def say(text: Text, lang: str, **values: Any) -> str:
    """A text in the plan's language (French for any language but English), placeholders filled."""
    chosen = text["en"] if lang == "en" else text["fr"]
    return chosen.format(**values) if values else chosen


class Phrases:
    """Texts in one plan's language, variants drawn from the plan's own generator."""

    lang: str
    rng: random.Random

    def t(self, text: Text, **values: Any) -> str:
        return say(text, self.lang, **values)

    def pick(self, pool: list[Text], **values: Any) -> str:
        return self.t(self.rng.choice(pool), **values)
