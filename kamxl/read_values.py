"""Cell values read to their column's type, each problem a finding; label indexes built once.

A portfolio repeats the same choices, dates and numbers, so coerced values are remembered
per template and language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .coerce import ChoiceIndex, Coerced, Problem, coerce, error_cell, formula_cell, is_blank, loose
from .findings import Severity
from .layout import a1
from .template import LANGS, Column, Template

Flags = dict[tuple[int, int], tuple[str, str]]


@dataclass(frozen=True)
class Labels:
    """Labels of choices, table headers and form fields, to keys, in one workbook language."""

    choices: dict[str, ChoiceIndex]
    headers: dict[str, dict[str, str]]  # table key -> loose label -> column key
    fields: dict[str, dict[str, str]]  # sheet key -> loose label -> field key
    # (id(column), type, raw) -> coerced: a portfolio repeats the same choices, dates and numbers
    coerced: dict[tuple[int, type, Any], Coerced] = field(default_factory=dict)
    # table layout -> (column key -> sheet column, findings): see read_tables._map_headers
    layouts: dict[tuple[Any, ...], tuple[dict[str, int], list[Any]]] = field(default_factory=dict)


_LABELS: dict[tuple[int, str], tuple[Template, Labels]] = {}
_MEMO_SIZE = 200_000  # coerced cells remembered per template and language
MEMO_TYPES = frozenset({str, float, int, bool, dt.date, dt.datetime})


def label_index(columns: tuple[Column, ...], lang: str) -> dict[str, str]:
    """Labels in the workbook language first, then the other, then keys (so either matches)."""
    index: dict[str, str] = {}
    for col in columns:
        for text in (*(col.label[lg] for lg in (lang, *LANGS)), *col.former_labels, col.key):
            index.setdefault(loose(text), col.key)
    return index


def labels_for(template: Template, lang: str) -> Labels:
    """Built once per template and language: a portfolio is mostly read in one or two."""
    hit = _LABELS.get((id(template), lang))
    if hit is not None and hit[0] is template:
        return hit[1]
    labels = Labels(
        choices={
            key: ChoiceIndex(items, lang, template.former_labels(key))
            for key, items in template.choices.items()
        },
        headers={key: label_index(t.columns, lang) for key, t in template.tables.items()},
        fields={s.key: label_index(s.fields, lang) for s in template.sheets if s.fields},
    )
    if len(_LABELS) > 16:
        _LABELS.clear()
    _LABELS[(id(template), lang)] = (template, labels)
    return labels


class CellValues:
    """Reads one cell: error values and formulas typed into input cells, then coercion."""

    def __init__(
        self,
        labels: Labels,
        lang: str,
        add: Callable[[Severity, str, str, str], None],
        flags: Callable[[str], Flags],
    ) -> None:
        self.labels, self.lang, self.add, self.flags = labels, lang, add, flags

    def value(
        self, sheet: str, row: int, col: int, column: Column, raw: Any, flags: dict | None = None
    ) -> Any:
        """The cell's value for ``column`` (None when unreadable); a problem becomes a finding."""
        flag = (self.flags(sheet) if flags is None else flags).get((row, col))
        if flag is None and is_blank(raw):
            return None
        if flag is not None:
            kind, text = flag
            result = error_cell(text) if kind == "error" else formula_cell(text)
        elif (
            type(raw) not in MEMO_TYPES
            or (result := self.labels.coerced.get((id(column), type(raw), raw))) is None
        ):
            try:
                result = coerce(
                    raw, column, choices=self.labels.choices.get(column.choices or ""), lang=self.lang
                )
            except Exception as exc:  # never raise on content
                result = Coerced(None, Problem(f"could not be read ({exc})"))
            if type(raw) in MEMO_TYPES:
                if len(self.labels.coerced) > _MEMO_SIZE:
                    self.labels.coerced.clear()
                self.labels.coerced[(id(column), type(raw), raw)] = result
        if result.problem is not None:
            suffix = "; left blank" if result.problem.severity == "error" else ""
            self.add(
                result.problem.severity,
                sheet,
                a1(row + 1, col),
                f"{column.label[self.lang]}: {result.problem.message}{suffix}",
            )
        return result.value
