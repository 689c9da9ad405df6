"""What every part of the workbook writer shares: the plan, the template, the language, the
XlsxWriter workbook and its formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlsxwriter import Workbook

from . import layout
from .cell_rules import message, tone_format
from .model import Plan
from .styles import Styles
from .template import Template


class WriteContext:
    def __init__(self, plan: Plan, template: Template, lang: str, path: Path, macros: bool) -> None:
        if lang not in ("en", "fr"):
            raise ValueError(f"unknown language {lang!r}: use 'en' or 'fr'")
        self.plan, self.t, self.lang = plan, template, lang
        self.wb = Workbook(
            str(path),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "in_memory": True,  # no temporary files outside the target folder
            },
        )
        self.macros = macros
        self.s = Styles(self.wb, template, lang)
        self._tones: dict[str, Any] = {}

    def title(self, sheet_key: str) -> str:
        return self.t.sheet(sheet_key).title[self.lang]

    def field_ref(self, key: str) -> str:
        return layout.field_ref(self.t, key, self.lang)

    def msg(self, en: str, fr: str) -> str:
        return message(self.lang, en, fr)

    def tone(self, tone: str) -> Any:
        """The format of a tone (see ``tone_format``), made once per workbook: the rules of a
        plan share a few looks, and each format costs XlsxWriter a parse of its properties."""
        fmt = self._tones.get(tone)
        if fmt is None:
            fmt = self._tones[tone] = tone_format(self.wb, self.t, tone)
        return fmt
