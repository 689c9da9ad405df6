"""The declarative template: one TOML file drives writer, reader, checks and docs.

Loading validates everything up front so that a sales-ops copy with a typo fails with the
file and the key at fault, instead of producing a broken workbook later.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from functools import cache, cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

LANGS = ("en", "fr")
FIELD_TYPES = {
    "text",
    "longtext",
    "int",
    "number",
    "currency",
    "percent",
    "date",
    "choice",
    "rating",
    "email",
    "url",
    "formula",
}
NUMERIC_TYPES = {"int", "number", "currency", "percent", "rating"}
TIER_CODES = ("invest", "maintain", "deprioritise", "unrated")
_BAD_LABEL_CHARS = re.compile(r"[\[\]#'\n]")
_TOKEN = re.compile(r"\{([a-z_]+)(?:\.([a-z0-9_]+))?\}")


class TemplateError(ValueError):
    """An invalid template: names the file and the key at fault."""

    def __init__(self, path: Path | str, key: str, message: str) -> None:
        self.path, self.key = str(path), key
        super().__init__(f"{path}: {key}: {message}")


Labels = dict[str, str]


@dataclass(frozen=True)
class Column:
    """A form field or a table column."""

    key: str
    type: str
    label: Labels
    help: Labels
    choices: str | None = None
    strict: bool = True
    required: bool = False
    sensitive: bool = False
    internal: bool = False  # never leaves the company: left out of the copy shared with the client
    width: float | None = None
    min: float | None = None
    max: float | None = None
    formula: str | None = None
    number_format: str | None = None
    period: bool = False
    colors: dict[str, str] = field(default_factory=dict)  # choice code or text key -> tone
    bands: tuple[tuple[float, str], ...] = ()  # (minimum, tone), highest first
    row_flag: bool = False  # tint the whole row when non-empty
    list_from: str | None = None  # "table.column": a dropdown of the names typed in that column
    former_labels: tuple[str, ...] = ()  # labels of earlier template versions (label.was): still read

    @property
    def is_input(self) -> bool:
        return self.type != "formula"

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def format_key(self) -> str | None:
        """Key into ``[formats]`` for this column's number format."""
        if self.number_format:
            return self.number_format
        return {
            "int": "int",
            "rating": "int",
            "number": "number",
            "currency": "currency",
            "percent": "percent",
            "date": "date",
        }.get(self.type)


@dataclass(frozen=True)
class Table:
    key: str
    name: str
    key_column: str
    columns: tuple[Column, ...]
    title: Labels | None = None
    rows: int = 10
    row_height: float | None = None
    internal: bool = False
    share_when: dict[str, str] = field(default_factory=dict)  # only rows holding these are shared

    def column(self, key: str) -> Column:
        try:
            return self._columns[key]
        except KeyError:
            raise KeyError(f"{self.key}.{key}") from None

    @cached_property
    def _columns(self) -> dict[str, Column]:
        return {col.key: col for col in reversed(self.columns)}  # the first of a key, as before

    @cached_property
    def input_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.is_input)


@dataclass(frozen=True)
class Sheet:
    key: str
    title: Labels
    heading: Labels
    tab_color: str
    fields: tuple[Column, ...] = ()
    tables: tuple[Table, ...] = ()
    sensitive: bool = False
    internal: bool = False
    drawing: str | None = None  # drawn by kamxl from the plan's data (e.g. "orgchart"), not typed in


@dataclass(frozen=True)
class Version:
    """One template version and what it added, so older workbooks read quietly and upgrade."""

    version: str
    summary: Labels
    sheets: tuple[str, ...] = ()
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fields: tuple[str, ...] = ()


DRAWINGS = ("orgchart", "whatif")


def version_key(version: str) -> tuple[int, ...]:
    """``"2.0"`` -> ``(2, 0)``, for ordering versions; anything unreadable sorts as newest."""
    try:
        return tuple(int(part) for part in version.strip().split("."))
    except ValueError:
        return (10**9,)


@dataclass(frozen=True)
class Template:
    """A validated template. ``raw`` keeps sections kamxl reads as plain data."""

    path: Path
    id: str
    version: str
    name: Labels
    style: dict[str, Any]
    formats: dict[str, str]
    texts: dict[str, Labels]
    choices: dict[str, dict[str, Labels]]
    catalogue: dict[str, Any]
    scoring: dict[str, Any]
    tiers: dict[str, dict[str, Any]]
    sheets: tuple[Sheet, ...]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    versions: tuple[Version, ...] = ()
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule code -> severity, params, texts
    status: dict[str, Any] = field(default_factory=dict)

    def former_labels(self, choice_list: str) -> dict[str, list[str]]:
        """Labels a choice had in earlier template versions (``was = [...]``): still read, never written."""
        items = (self.raw.get("choices") or {}).get(choice_list) or {}
        return {code: list(lab.get("was", [])) for code, lab in items.items() if isinstance(lab, dict)}

    def sheet(self, key: str) -> Sheet:
        return self._index["sheets"][key]

    def table(self, key: str) -> Table:
        return self._index["tables"][key]

    def table_sheet(self, key: str) -> Sheet:
        return self._index["table_sheets"][key]

    @property
    def fields(self) -> Mapping[str, Column]:
        return self._index["fields"]

    @property
    def field_sheets(self) -> Mapping[str, Sheet]:
        return self._index["field_sheets"]

    @property
    def tables(self) -> Mapping[str, Table]:
        return self._index["tables"]

    @cached_property
    def _index(self) -> dict[str, Mapping[str, Any]]:
        """Sheets, tables and fields by key, built once: scoring and reading look them up for
        every row of every plan. Read-only, since every caller shares them."""
        return {
            "sheets": MappingProxyType({s.key: s for s in self.sheets}),
            "tables": MappingProxyType({t.key: t for s in self.sheets for t in s.tables}),
            "table_sheets": MappingProxyType({t.key: s for s in self.sheets for t in s.tables}),
            "fields": MappingProxyType({f.key: f for s in self.sheets for f in s.fields}),
            "field_sheets": MappingProxyType({f.key: s for s in self.sheets for f in s.fields}),
        }

    def added_since(self, version: str) -> Version:
        """Sheets, fields and table columns that versions after ``version`` added: what a workbook
        made with ``version`` lacks by design (nothing for an unknown or current version)."""
        sheets: list[str] = []
        fields: list[str] = []
        columns: dict[str, tuple[str, ...]] = {}
        for entry in self.versions:
            if version_key(entry.version) > version_key(version):
                sheets += entry.sheets
                fields += entry.fields
                for table, keys in entry.columns.items():
                    columns[table] = (*columns.get(table, ()), *keys)
        return Version(self.version, self.name, tuple(sheets), columns, tuple(fields))

    def label(self, choice_list: str, code: str, lang: str) -> str:
        return self.choices[choice_list][code][lang]

    def text(self, key: str, lang: str) -> str:
        return self.texts[key][lang]

    def tier_label(self, code: str, lang: str) -> str:
        return self.tiers[code]["label"][lang]


# Keys the scoring engine and dashboard rely on: a template may add anything, not drop these.
REQUIRED_FIELDS = (
    "client_name",
    "kam",
    "sector",
    "last_review",
    "next_review",
    "annual_revenue",
    "revenue_target",
    "gross_margin",
    "nrr",
    "nps",
    "plan_start",
)
REQUIRED_COLUMNS = {
    "stakeholders": (
        "name",
        "title",
        "bu",
        "role",
        "level",
        "stance",
        "strength",
        "influence",
        "engagement",
        "last_contact",
        "engaged",
    ),
    "rituals": ("ritual", "frequency", "last_held", "next_due"),
    "opportunities": ("name", "type", "amount", "probability", "stage", "expected_close"),
    "actions": ("action", "owner", "due", "status"),
    "kpis": ("kpi", "direction", "target", "weight", "active", "latest", "attainment", "score"),
    "risks": ("risk", "category", "probability", "impact", "score", "mitigation", "status"),
    "whitespace": ("bu", "offer", "status", "current_revenue", "potential"),
    "assessment": ("criterion", "axis", "weight", "rating"),
    "objectives": ("objective", "metric", "target", "deadline", "owner"),
}
REQUIRED_CHOICES = {
    "yes_no": ("yes", "no"),
    "level": (),
    "stance": ("champion", "detractor"),
    "strength": ("strong",),
    "stage": ("won", "lost"),
    "action_status": ("done", "cancelled"),
    "direction": ("lower", "higher"),
    "risk_status": ("closed",),
    "whitespace_status": ("owned", "whitespace", "not_applicable"),
    "axis": ("attractiveness", "position"),
    "role": ("decision_maker", "budget_holder", "sponsor"),
    "risk_category": ("churn_signal",),
}


class _Checker:
    """Small helpers that turn a missing or mistyped key into a TemplateError."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> TemplateError:
        return TemplateError(self.path, key, message)

    def get(self, data: dict[str, Any], name: str, where: str, kind: type | tuple[type, ...]) -> Any:
        if name not in data:
            raise self.fail(f"{where}.{name}" if where else name, "is missing")
        value = data[name]
        if not isinstance(value, kind) or (
            kind is not bool and isinstance(value, bool) and bool not in _as_tuple(kind)
        ):
            raise self.fail(
                f"{where}.{name}" if where else name, f"must be {_kind_name(kind)}, not {value!r}"
            )
        return value

    def labels(self, value: Any, where: str) -> Labels:
        if not isinstance(value, dict):
            raise self.fail(where, 'must be a table of labels like { en = "...", fr = "..." }')
        for lang in LANGS:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                raise self.fail(f"{where}.{lang}", "label is missing or empty")
        return {lang: value[lang] for lang in LANGS}

    def number(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, f"must be a number, not {value!r}")
        return float(value)


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _column(ck: _Checker, data: Any, where: str, choices: dict[str, Any], header: bool = False) -> Column:
    if not isinstance(data, dict):
        raise ck.fail(where, "must be a table")
    key = ck.get(data, "key", where, str)
    where = f"{where}[{key}]"
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        raise ck.fail(f"{where}.key", "must be lower_snake_case")
    ftype = ck.get(data, "type", where, str)
    if ftype not in FIELD_TYPES:
        raise ck.fail(f"{where}.type", f"unknown type {ftype!r}; one of {', '.join(sorted(FIELD_TYPES))}")
    label = ck.labels(data.get("label"), f"{where}.label")
    for lang, text in label.items():
        if header and _BAD_LABEL_CHARS.search(text):
            raise ck.fail(f"{where}.label.{lang}", "must not contain [ ] # ' or a line break")
    help_ = ck.labels(data.get("help"), f"{where}.help")
    choice_list = data.get("choices")
    if ftype == "choice" and (not isinstance(choice_list, str) or choice_list not in choices):
        raise ck.fail(f"{where}.choices", f"must name a list under [choices], not {choice_list!r}")
    formula = data.get("formula")
    if ftype == "formula" and not isinstance(formula, str):
        raise ck.fail(f"{where}.formula", "is missing")
    known = {
        "key",
        "type",
        "label",
        "help",
        "choices",
        "strict",
        "required",
        "sensitive",
        "internal",
        "width",
        "min",
        "max",
        "formula",
        "number_format",
        "period",
        "colors",
        "bands",
        "row_flag",
        "list_from",
    }
    for extra in data.keys() - known:
        raise ck.fail(f"{where}.{extra}", "is not a known column setting")
    return Column(
        key=key,
        type=ftype,
        label=label,
        help=help_,
        choices=choice_list,
        strict=bool(data.get("strict", True)),
        required=bool(data.get("required", False)),
        sensitive=bool(data.get("sensitive", False)),
        internal=bool(data.get("internal", False)),
        width=ck.number(data["width"], f"{where}.width") if "width" in data else None,
        min=ck.number(data["min"], f"{where}.min") if "min" in data else None,
        max=ck.number(data["max"], f"{where}.max") if "max" in data else None,
        formula=formula,
        number_format=data.get("number_format"),
        period=bool(data.get("period", False)),
        colors=_tones(ck, data.get("colors", {}), f"{where}.colors"),
        bands=tuple(
            (ck.number(b[0], f"{where}.bands"), _tone(ck, b[1], f"{where}.bands"))
            for b in _list_of_pairs(ck, data.get("bands", []), f"{where}.bands")
        ),
        row_flag=bool(data.get("row_flag", False)),
        list_from=data.get("list_from"),
        former_labels=tuple(str(w) for w in data["label"].get("was", [])),
    )


TONES = ("good", "warn", "bad", "neutral", "info")


def _tone(ck: _Checker, tone: Any, where: str) -> str:
    if tone not in TONES:
        raise ck.fail(where, f"tone must be one of {', '.join(TONES)}, not {tone!r}")
    return str(tone)


def _tones(ck: _Checker, data: Any, where: str) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ck.fail(where, 'must be a table like { code = "good" }')
    return {str(k): _tone(ck, v, f"{where}.{k}") for k, v in data.items()}


def _list_of_pairs(ck: _Checker, data: Any, where: str) -> list[list[Any]]:
    if not isinstance(data, list) or not all(isinstance(b, list) and len(b) == 2 for b in data):
        raise ck.fail(where, "must be a list of [minimum, tone] pairs")
    return data


def _check_formula(ck: _Checker, table: Table, col: Column, tpl: dict[str, Any], where: str) -> None:
    keys = {c.key for c in table.columns}
    for ref in re.findall(r"\[@([a-z0-9_]+)\]", col.formula or ""):
        if ref not in keys:
            raise ck.fail(f"{where}.formula", f"refers to unknown column [@{ref}]")
    for section, item in _TOKEN.findall(col.formula or ""):
        if section == "latest_period" and not item:
            continue
        if section == "text" and item in tpl.get("texts", {}):
            continue
        if section == "scoring" and item in tpl.get("scoring", {}):
            continue
        if section in tpl.get("choices", {}) and item in tpl["choices"][section]:
            continue
        raise ck.fail(f"{where}.formula", f"unknown placeholder {{{section}{'.' + item if item else ''}}}")


def load_template(path: str | Path | None = None) -> Template:
    """Load and validate a template file (the built-in one when ``path`` is None)."""
    path = Path(path) if path else default_template_path()
    ck = _Checker(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ck.fail("(file)", "no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ck.fail("(syntax)", str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ck.fail("(file)", f"cannot be read: {exc}") from None

    tid = ck.get(raw, "id", "", str)
    version = ck.get(raw, "version", "", str)
    name = ck.labels(raw.get("name"), "name")
    style = ck.get(raw, "style", "", dict)
    formats = ck.get(raw, "formats", "", dict)
    for fmt in ("currency", "number", "int", "percent", "date", "score"):
        ck.get(formats, fmt, "formats", str)
    texts = {k: ck.labels(v, f"texts.{k}") for k, v in ck.get(raw, "texts", "", dict).items()}
    for needed in (
        "smart_ok",
        "smart_missing",
        "overdue",
        "rag_green",
        "rag_amber",
        "rag_red",
        "tier_reason_grow",
        "tier_reason_defend",
    ):
        if needed not in texts:
            raise ck.fail(f"texts.{needed}", "is missing")

    choices: dict[str, dict[str, Labels]] = {}
    for list_key, items in ck.get(raw, "choices", "", dict).items():
        if not isinstance(items, dict) or not items:
            raise ck.fail(f"choices.{list_key}", "must list at least one choice")
        choices[list_key] = {
            code: ck.labels(lab, f"choices.{list_key}.{code}") for code, lab in items.items()
        }
        for lang in LANGS:
            seen = [lab[lang].casefold() for lab in choices[list_key].values()]
            if len(set(seen)) != len(seen):
                raise ck.fail(f"choices.{list_key}", f"two choices share a {lang} label")
    for list_key, codes in REQUIRED_CHOICES.items():
        if list_key not in choices:
            raise ck.fail(f"choices.{list_key}", "is missing (the scores use it)")
        for code in codes:
            if code not in choices[list_key]:
                raise ck.fail(f"choices.{list_key}.{code}", "is missing (the scores use it)")

    scoring = ck.get(raw, "scoring", "", dict)
    for name_ in (
        "target_margin",
        "stale_after_days",
        "high_risk_score",
        "kpi_amber",
        "kpi_green",
        *SCORING_NUMBERS,
    ):
        ck.number(scoring.get(name_), f"scoring.{name_}")
    _check_scoring_lists(ck, scoring, choices)
    for group, parts in (
        ("overall", ("potential", "relationship", "execution")),
        ("relationship", ("coverage", "depth", "sponsor", "engagement")),
        ("execution", ("completion", "timeliness", "kpi")),
        *SCORING_GROUPS,
    ):
        weights = ck.get(scoring, group, "scoring", dict)
        for part in parts:
            if ck.number(weights.get(part), f"scoring.{group}.{part}") < 0:
                raise ck.fail(f"scoring.{group}.{part}", "must not be negative")
        if sum(float(weights[p]) for p in parts) <= 0:
            raise ck.fail(f"scoring.{group}", "weights must not all be zero")

    tiers = ck.get(raw, "tiers", "", dict)
    for code in TIER_CODES:
        tier = ck.get(tiers, code, "tiers", dict)
        ck.labels(tier.get("label"), f"tiers.{code}.label")
        if code != "unrated":
            ck.number(tier.get("min_priority"), f"tiers.{code}.min_priority")
    ck.number(tiers["invest"].get("min_money_at_stake"), "tiers.invest.min_money_at_stake")
    complete = ck.get(scoring, "complete", "scoring", dict)
    for need in ("stakeholders", "rated"):
        ck.number(complete.get(need), f"scoring.complete.{need}")
    if (
        not tiers["invest"]["min_priority"]
        >= tiers["maintain"]["min_priority"]
        >= tiers["deprioritise"]["min_priority"]
    ):
        raise ck.fail("tiers", "min_priority must decrease from invest to maintain to deprioritise")

    catalogue = ck.get(raw, "catalogue", "", dict)
    _check_catalogue(ck, catalogue, choices)

    sheets: list[Sheet] = []
    seen_fields: set[str] = set()
    seen_tables: set[str] = set()
    seen_names: set[str] = set()
    for i, sdata in enumerate(ck.get(raw, "sheets", "", list)):
        where = f"sheets[{i}]"
        skey = ck.get(sdata, "key", where, str)
        where = f"sheets[{skey}]"
        fields = tuple(_column(ck, f, f"{where}.fields", choices) for f in sdata.get("fields", []))
        for f in fields:
            if f.key in seen_fields:
                raise ck.fail(f"{where}.fields[{f.key}]", "duplicate field key")
            if f.type == "formula":
                raise ck.fail(f"{where}.fields[{f.key}].type", "form fields cannot be formulas")
            seen_fields.add(f.key)
        tables = []
        for j, tdata in enumerate(sdata.get("tables", [])):
            twhere = f"{where}.tables[{j}]"
            tkey = ck.get(tdata, "key", twhere, str)
            twhere = f"{where}.tables[{tkey}]"
            tname = ck.get(tdata, "name", twhere, str)
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", tname) or tname.casefold() in seen_names:
                raise ck.fail(f"{twhere}.name", "must be a unique Excel table name (letters, digits, _)")
            seen_names.add(tname.casefold())
            cols = tuple(
                _column(ck, c, f"{twhere}.columns", choices, header=True)
                for c in ck.get(tdata, "columns", twhere, list)
            )
            if len({c.key for c in cols}) != len(cols):
                raise ck.fail(f"{twhere}.columns", "duplicate column key")
            for lang in LANGS:
                if len({c.label[lang].casefold() for c in cols}) != len(cols):
                    raise ck.fail(f"{twhere}.columns", f"two columns share a {lang} label")
            key_column = ck.get(tdata, "key_column", twhere, str)
            if key_column not in {c.key for c in cols if c.is_input}:
                raise ck.fail(f"{twhere}.key_column", f"{key_column!r} is not an input column of the table")
            table = Table(
                key=tkey,
                name=tname,
                key_column=key_column,
                columns=cols,
                title=ck.labels(tdata["title"], f"{twhere}.title") if "title" in tdata else None,
                rows=int(tdata.get("rows", 10)),
                row_height=tdata.get("row_height"),
                internal=bool(tdata.get("internal", False)),
                share_when={str(k): str(v) for k, v in tdata.get("share_when", {}).items()},
            )
            for col in cols:
                if col.type == "formula":
                    _check_formula(ck, table, col, raw, f"{twhere}.columns[{col.key}]")
                known_keys = choices[col.choices] if col.type == "choice" else texts
                for code in col.colors:
                    if code not in known_keys:
                        raise ck.fail(
                            f"{twhere}.columns[{col.key}].colors.{code}",
                            "is neither a choice code of the column nor a [texts] key",
                        )
            if tkey in seen_tables:
                raise ck.fail(twhere, "duplicate table key")
            seen_tables.add(tkey)
            tables.append(table)
        sheets.append(
            Sheet(
                key=skey,
                title=ck.labels(sdata.get("title"), f"{where}.title"),
                heading=ck.labels(sdata.get("heading"), f"{where}.heading"),
                tab_color=str(sdata.get("tab_color", style.get("primary", "#1F3864"))),
                fields=fields,
                tables=tuple(tables),
                sensitive=bool(sdata.get("sensitive", False)),
                internal=bool(sdata.get("internal", False)),
                drawing=_drawing(ck, sdata, where),
            )
        )
        for lang in LANGS:
            title = sheets[-1].title[lang]
            if len(title) > 31 or re.search(r"[\[\]:*?/\\]", title):
                raise ck.fail(f"{where}.title.{lang}", "is not a valid Excel sheet name")
    if not sheets or sheets[0].key != "dashboard":
        raise ck.fail("sheets", 'the first sheet must be the dashboard (key = "dashboard")')
    for fkey in REQUIRED_FIELDS:
        if fkey not in seen_fields:
            raise ck.fail(f"sheets.fields[{fkey}]", "is missing (the scores use it)")
    tables_by_key = {t.key: t for s in sheets for t in s.tables}
    for tkey, cols in REQUIRED_COLUMNS.items():
        if tkey not in tables_by_key:
            raise ck.fail(f"sheets.tables[{tkey}]", "is missing (the scores use it)")
        have = {c.key for c in tables_by_key[tkey].columns}
        for ckey in cols:
            if ckey not in have:
                raise ck.fail(f"sheets.tables[{tkey}].columns[{ckey}]", "is missing (the scores use it)")
    _check_lists_from(ck, tables_by_key)
    versions = _versions(ck, raw, version, sheets, tables_by_key)
    if not any(c.period for c in tables_by_key["kpis"].columns):
        raise ck.fail("sheets.tables[kpis].columns", "needs at least one period column (period = true)")

    return Template(
        path=path,
        id=tid,
        version=version,
        name=name,
        style=style,
        formats=formats,
        texts=texts,
        choices=choices,
        catalogue=catalogue,
        scoring=scoring,
        tiers=tiers,
        alerts=_check_alerts(ck, raw),
        status=_check_status(ck, raw),
        sheets=tuple(sheets),
        raw=raw,
        versions=versions,
    )


def _drawing(ck: _Checker, sdata: dict[str, Any], where: str) -> str | None:
    drawing = sdata.get("drawing")
    if drawing is not None and drawing not in DRAWINGS:
        raise ck.fail(f"{where}.drawing", f"must be one of {', '.join(DRAWINGS)}, not {drawing!r}")
    return drawing


def _check_lists_from(ck: _Checker, tables: dict[str, Table]) -> None:
    for table in tables.values():
        for col in table.columns:
            if col.list_from is None:
                continue
            tkey, _, ckey = col.list_from.partition(".")
            if tkey not in tables or ckey not in {c.key for c in tables[tkey].input_columns}:
                raise ck.fail(
                    f"sheets.tables[{table.key}].columns[{col.key}].list_from",
                    f"must name an input column as table.column, not {col.list_from!r}",
                )


def _versions(
    ck: _Checker, raw: dict[str, Any], current: str, sheets: list[Sheet], tables: dict[str, Table]
) -> tuple[Version, ...]:
    """The ``[[versions]]`` history; what each version added must exist in the template."""
    sheet_keys = {s.key for s in sheets}
    out = []
    for i, vdata in enumerate(raw.get("versions", [])):
        where = f"versions[{i}]"
        number = str(ck.get(vdata, "version", where, str))
        added = tuple(ck.get(vdata, "sheets", where, list)) if "sheets" in vdata else ()
        for key in added:
            if key not in sheet_keys:
                raise ck.fail(f"{where}.sheets", f"no sheet {key!r} in the template")
        columns = {}
        for tkey, keys in (vdata.get("columns") or {}).items():
            have = {c.key for c in tables[tkey].columns} if tkey in tables else set()
            for key in keys:
                if key not in have:
                    raise ck.fail(f"{where}.columns.{tkey}", f"no column {key!r} in table {tkey!r}")
            columns[str(tkey)] = tuple(keys)
        fields = tuple(vdata.get("fields", []))
        for key in fields:
            if key not in {f.key for s in sheets for f in s.fields}:
                raise ck.fail(f"{where}.fields", f"no field {key!r} in the template")
        summary = ck.labels(vdata.get("summary"), f"{where}.summary")
        out.append(Version(number, summary, added, columns, fields))
    if out and out[-1].version != current:
        raise ck.fail("versions", f"the last entry must be the template's version {current!r}")
    return tuple(out)


def _check_catalogue(ck: _Checker, catalogue: dict[str, Any], choices: dict[str, Any]) -> None:
    for key in ("business_units", "swot_dimensions"):
        for i, item in enumerate(ck.get(catalogue, key, "catalogue", list)):
            ck.labels(item, f"catalogue.{key}[{i}]")
    for i, kpi in enumerate(ck.get(catalogue, "kpis", "catalogue", list)):
        where = f"catalogue.kpis[{i}]"
        ck.labels(kpi.get("name"), f"{where}.name")
        if kpi.get("family") not in choices["kpi_family"]:
            raise ck.fail(f"{where}.family", f"must be one of {', '.join(choices['kpi_family'])}")
        if kpi.get("direction") not in choices["direction"]:
            raise ck.fail(f"{where}.direction", f"must be one of {', '.join(choices['direction'])}")
        ck.number(kpi.get("target"), f"{where}.target")
        ck.number(kpi.get("weight"), f"{where}.weight")
    for i, crit in enumerate(ck.get(catalogue, "assessment", "catalogue", list)):
        where = f"catalogue.assessment[{i}]"
        ck.labels(crit.get("name"), f"{where}.name")
        if crit.get("axis") not in choices["axis"]:
            raise ck.fail(f"{where}.axis", f"must be one of {', '.join(choices['axis'])}")
        ck.number(crit.get("weight"), f"{where}.weight")
    for i, ritual in enumerate(catalogue.get("rituals", [])):
        if ritual.get("ritual") not in choices.get("ritual", {}):
            raise ck.fail(f"catalogue.rituals[{i}].ritual", "must be a code of [choices.ritual]")
        if ritual.get("frequency") not in choices.get("frequency", {}):
            raise ck.fail(f"catalogue.rituals[{i}].frequency", "must be a code of [choices.frequency]")


# Scoring settings of the weighted priority, alert rules and status (docs/scoring.md).
SCORING_NUMBERS = (
    "kpis_active_min",
    "kpis_active_max",
    "material_deal_share",
    "pipeline_coverage",
    "key_contact_influence",
    "key_people",
    "won_window_days",
)
SCORING_GROUPS = (
    ("priority", ("potential", "probability", "profitability")),
    ("potential", ("attractiveness", "money")),
    ("probability", ("relationship", "position", "pipeline")),
)
ALERT_CODES = (
    "churn_risk",
    "nrr_low",
    "detractor_decider",
    "nps_low",
    "no_sponsor",
    "no_contact",
    "rituals_overdue",
    "plan_stale",
    "kpi_low",
    "overdue_actions",
)
ALERT_PARAMS = {
    "nrr_low": ("below",),
    "nps_low": ("below",),
    "no_contact": ("days",),
    "kpi_low": ("below",),
    "overdue_actions": ("at_least",),
    "detractor_decider": (),
}
STATUS_CODES = ("healthy", "incomplete", "watch", "at_risk", "unrated")


def _check_scoring_lists(ck: _Checker, scoring: dict[str, Any], choices: dict[str, Any]) -> None:
    defend = ck.get(scoring, "defend", "scoring", dict)
    for where, value in (
        ("scoring.money_bands", scoring.get("money_bands")),
        ("scoring.defend.revenue_bands", defend.get("revenue_bands")),
    ):
        bands = _list_of_pairs(ck, value, where)
        floors = [ck.number(b[0], where) for b in bands]
        if not floors or floors != sorted(floors, reverse=True) or floors[-1] != 0:
            raise ck.fail(where, "amounts must decrease from the top band down to 0")
        for band in bands:
            if not 0 <= ck.number(band[1], where) <= 1:
                raise ck.fail(where, "band scores must be between 0 and 1")
    weights = ck.get(scoring, "influence_weights", "scoring", list)
    if len(weights) != 5:
        raise ck.fail("scoring.influence_weights", "needs one weight for each influence rating 1 to 5")
    for w in weights:
        ck.number(w, "scoring.influence_weights")
    for role in ck.get(scoring, "key_contact_roles", "scoring", list):
        if role not in choices.get("role", {}):
            raise ck.fail("scoring.key_contact_roles", f"{role!r} is not a code of [choices.role]")


def _check_alerts(ck: _Checker, raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    alerts = ck.get(raw, "alerts", "", dict)
    for code, rule in alerts.items():
        where = f"alerts.{code}"
        if code not in ALERT_CODES:
            raise ck.fail(where, f"unknown rule (known: {', '.join(ALERT_CODES)})")
        if not isinstance(rule, dict) or rule.get("severity") not in ("high", "medium"):
            raise ck.fail(f"{where}.severity", 'must be "high" or "medium"')
        ck.labels(rule.get("label"), f"{where}.label")
        ck.labels(rule.get("message"), f"{where}.message")
        for param in ALERT_PARAMS.get(code, ()):
            ck.number(rule.get(param), f"{where}.{param}")
    return alerts


def _check_status(ck: _Checker, raw: dict[str, Any]) -> dict[str, Any]:
    status = ck.get(raw, "status", "", dict)
    ck.number(status.get("at_risk_medium"), "status.at_risk_medium")
    for code in STATUS_CODES:
        ck.labels(ck.get(status, code, "status", dict).get("label"), f"status.{code}.label")
    from .scoring import Figures  # the figures a plan is rated by are Figures fields

    known = {f.name for f in dataclass_fields(Figures)}
    rated_once = ck.get(status, "rated_once", "status", list)
    if not rated_once or any(k not in known for k in rated_once):
        raise ck.fail("status.rated_once", f"a non-empty list of figures among {sorted(known)}")
    return status


@cache  # where kamxl is installed does not change while it runs
def default_template_path() -> Path:
    """The built-in template, whether kamxl runs from a checkout or an installed wheel."""
    here = Path(__file__).resolve().parent
    for folder in (here / "workbook_templates", here.parent / "workbook_templates"):
        candidate = folder / "account_plan.toml"
        if candidate.is_file():
            return candidate
    raise TemplateError(
        here / "workbook_templates" / "account_plan.toml", "(file)", "built-in template not found"
    )


@cache
def _cached(path: str, mtime: float) -> Template:
    return load_template(path)


def get_template(path: str | Path | None = None) -> Template:
    """Load a template once per file version (templates are read on every workbook)."""
    resolved = Path(path).resolve() if path else default_template_path()
    try:
        mtime = resolved.stat().st_mtime
    except OSError:
        return load_template(resolved)
    return _cached(str(resolved), mtime)
