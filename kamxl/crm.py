"""Account workbooks in bulk from a CRM export (Salesforce, HubSpot or any CRM with a mapping).

Sales ops start a planning cycle from whatever file the CRM gives them: CSV in the encoding and
delimiter of the user's locale, or an Excel download. The export is read without guessing about
its meaning: a mapping (built in, or a TOML/YAML file) says which column feeds which plan field.
A bad row is reported with its line number and never stops the other accounts.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import itertools
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .coerce import ChoiceIndex, coerce, is_blank, parse_text
from .isolation import Failed, call_guarded
from .model import Plan, new_plan
from .paths import keep_backup, safe_filename
from .preflight import RefusedFile, check_file, check_workbook_file
from .presets import preset_for
from .template import Template, get_template
from .workbooks import plan_path
from .writer import write_plan

BUILTIN_MAPPINGS = ("salesforce", "hubspot")
DELIMITERS = (",", ";", "\t", "|")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SEP_LINE = re.compile(r"^sep=(.)\s*$", re.IGNORECASE)


class CrmError(ValueError):
    """The export or the mapping cannot be used at all (as opposed to one bad row)."""


def norm(text: Any) -> str:
    """Matching key ignoring case, spaces and punctuation: ``Country/Region`` = ``country region``."""
    return re.sub(r"[\W_]+", "", str(text).casefold())


# -- reading the export ------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportRow:
    """One data row: ``line`` is where it starts in the file (header = line 1 when it is first)."""

    line: int
    values: dict[str, Any]
    problem: str | None = None


@dataclass(frozen=True)
class Export:
    """A parsed export; the CSV delimiter is kept because it hints at the number format."""

    rows: list[ExportRow]
    columns: list[str]
    delimiter: str | None = None  # None for a workbook

    @property
    def number_lang(self) -> str:
        """Semicolon-separated exports come from comma-decimal locales: ``1,5`` means 1.5 there."""
        return "fr" if self.delimiter == ";" else "en"


def load_export(path: str | Path) -> tuple[list[ExportRow], list[str]]:
    """Rows and header of a CSV (any common encoding/delimiter) or Excel export."""
    export = read_export(path)
    return export.rows, export.columns


def read_export(path: str | Path) -> Export:
    """:func:`load_export`, also telling the CSV delimiter (it hints at the number format)."""
    path = Path(path)
    try:
        check_file(path)  # a FIFO or a device named .csv would hang the read
        data = path.read_bytes()
    except RefusedFile as exc:
        raise CrmError(str(exc)) from None
    except OSError as exc:
        raise CrmError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        return _load_workbook(path)
    return _load_csv(path, data)


def decode(data: bytes) -> str:
    """Text of a CSV: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _first_record(text: str) -> str:
    """The header record, up to the first line break outside quotes."""
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            return text[:i]
    return text


def sniff_delimiter(text: str) -> str:
    """The delimiter the header uses most (outside quotes); ties go to the one the data rows agree with."""
    text = text.lstrip("\r\n")
    header = re.sub(r'"[^"]*"', "", _first_record(text))
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts.values())
    winners = [d for d, n in counts.items() if n == best]
    if not best:
        return ","
    if len(winners) == 1:
        return winners[0]
    return max(winners, key=lambda d: _agreement(text[:65536], d))


def _agreement(sample: str, delimiter: str) -> int:
    """How many of the first records have as many cells as the header with this delimiter."""
    records = list(itertools.islice(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter), 50))
    width = len(records[0]) if records else 0
    return sum(len(r) == width for r in records[1:])


def _load_csv(path: Path, data: bytes) -> Export:
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CrmError(f"{path}: not a CSV text file nor an Excel workbook")
    text = decode(data)
    delimiter, skip_first = None, False
    if m := _SEP_LINE.match(_first_record(text)):  # Excel's "sep=;" hint line
        delimiter, skip_first = m.group(1), True
    body = text.split("\n", 1)[1] if skip_first and "\n" in text else text
    delimiter = delimiter or sniff_delimiter(body)
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous_end = 0
    try:
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if skip_first:
                skip_first = False
                continue
            records.append((start, record))
    except csv.Error as exc:
        raise CrmError(f"{path}: line {reader.line_num + 1}: not readable as CSV ({exc})") from None
    rows, columns = _rows_from_records(path, records)
    return Export(rows, columns, delimiter)


def _first_sheet_cells(path: str) -> list[list[Any]]:
    """Every cell of the first sheet; runs in a guarded worker process."""
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for every kind of bad file
        raise ValueError(str(exc)) from None


def _load_workbook(path: Path) -> Export:
    try:
        check_workbook_file(path)  # one stray cell at XFD1048576 makes calamine abort the process
    except RefusedFile as exc:
        raise CrmError(str(exc)) from None
    try:
        cells = call_guarded(_first_sheet_cells, str(path))  # a native abort costs this read only
    except Failed as exc:
        raise CrmError(f"{path}: cannot read the workbook ({exc.reason})") from None
    rows, columns = _rows_from_records(path, [(i, list(row)) for i, row in enumerate(cells, start=1)])
    return Export(rows, columns)


def _blank_record(record: Sequence[Any]) -> bool:
    return all(is_blank(v) for v in record)


def _rows_from_records(path: Path, records: list[tuple[int, list[Any]]]) -> tuple[list[ExportRow], list[str]]:
    """Header = first non-blank record; blank rows and a report footer are dropped."""
    records = [(line, rec) for line, rec in records if not _blank_record(rec)]
    if not records:
        raise CrmError(f"{path}: the export is empty (no header row)")
    (_, header_cells), data = records[0], records[1:]
    header = [str(parse_text(h).value or "").strip() for h in header_cells]
    width = len(header)
    if width > 1:  # Salesforce report CSVs end with one-cell lines (copyright, "Generated By")
        while data and len(data[-1][1]) == 1:
            data.pop()
    rows = []
    for line, record in data:
        values: dict[str, Any] = {}
        for name, value in zip(header, record, strict=False):
            if name and name not in values:
                values[name] = value.strip() if isinstance(value, str) else value
        extra = [v for v in record[width:] if not is_blank(v)]
        problem = (
            f"{len(record)} cells where the header has {width} (check quotes and delimiters)"
            if extra
            else None
        )
        rows.append(ExportRow(line, values, problem))
    return rows, [h for h in header if h]


# -- mappings ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mapping:
    """Which export columns feed which plan fields, and how CRM values translate."""

    name: str
    fields: dict[str, tuple[str, ...]]
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    required: tuple[str, ...] = ("client_name",)
    source: str = ""

    def translate(self, key: str, value: Any) -> Any:
        """A CRM value through the mapping's value map for that field (unlisted values unchanged)."""
        table = self.values.get(key)
        if not table or is_blank(value) or not isinstance(value, str):
            return value
        return table.get(norm(value), value)


def mappings_dir() -> Path:
    """The built-in mappings, whether kamxl runs from a checkout or an installed wheel."""
    here = Path(__file__).resolve().parent
    for folder in (here / "workbook_templates" / "mappings", here.parent / "workbook_templates" / "mappings"):
        if folder.is_dir():
            return folder
    raise CrmError(f"{here / 'workbook_templates' / 'mappings'}: built-in mappings not found")


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A built-in mapping (``salesforce``, ``hubspot``) or a user TOML/YAML mapping file."""
    text = str(name_or_path)
    if text.casefold() in BUILTIN_MAPPINGS:
        path = mappings_dir() / f"{text.casefold()}.toml"
        return _mapping_from_data(_read_mapping_file(path), path, builtin=True)
    path = Path(name_or_path)
    if not path.is_file():
        raise CrmError(
            f"{text}: no such mapping: use {' or '.join(BUILTIN_MAPPINGS)}, or the path of a mapping file "
            "(.toml or .yaml)"
        )
    data = _read_mapping_file(path)
    base = data.get("extends")
    if base is None:
        return _mapping_from_data(data, path)
    if not isinstance(base, str) or base.casefold() not in BUILTIN_MAPPINGS:
        raise CrmError(f"{path}: extends: must be one of {', '.join(BUILTIN_MAPPINGS)}")
    return _merge(load_mapping(base), _mapping_from_data(data, path, partial=True))


def _read_mapping_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CrmError(f"{path}: cannot read the mapping ({exc.strerror or exc})") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml  # optional: only YAML mapping files need PyYAML

            data = yaml.safe_load(raw.decode("utf-8-sig"))
        else:
            data = tomllib.loads(raw.decode("utf-8-sig"))
    except ImportError:
        raise CrmError(
            f"{path}: YAML mappings need PyYAML (pip install pyyaml), or write it as TOML"
        ) from None
    except Exception as exc:  # tomllib, yaml and UnicodeDecodeError all say where the syntax is wrong
        raise CrmError(f"{path}: not a valid mapping file ({exc})") from None
    if not isinstance(data, dict):
        raise CrmError(f"{path}: a mapping file holds a table with a [fields] section")
    return data


def _mapping_from_data(
    data: dict[str, Any], path: Path, *, builtin: bool = False, partial: bool = False
) -> Mapping:
    fields = data.get("fields")
    if not isinstance(fields, dict) or (not fields and not partial):
        raise CrmError(f"{path}: fields: needs a [fields] table of plan field = column name(s)")
    columns: dict[str, tuple[str, ...]] = {}
    for key, names in fields.items():
        alternatives = [names] if isinstance(names, str) else names
        if (
            not isinstance(alternatives, list)
            or not alternatives
            or not all(isinstance(n, str) and n.strip() for n in alternatives)
        ):
            raise CrmError(f"{path}: fields.{key}: must be a column name or a list of column names")
        columns[str(key)] = tuple(n.strip() for n in alternatives)
    values: dict[str, dict[str, str]] = {}
    for key, table in (data.get("values") or {}).items():
        if not isinstance(table, dict) or not all(isinstance(v, str | int | float) for v in table.values()):
            raise CrmError(f'{path}: values.{key}: must be a table of "CRM value" = "plan value"')
        values[str(key)] = {norm(k): str(v) if not isinstance(v, str) else v for k, v in table.items()}
    required = data.get("required", [] if partial else ["client_name"])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise CrmError(f"{path}: required: must be a list of plan field keys")
    label = "built-in mapping" if builtin else "mapping file"
    return Mapping(
        name=str(data.get("name") or path.stem),
        fields=columns,
        values=values,
        required=tuple(dict.fromkeys(["client_name", *required])) if not partial else tuple(required),
        source=f"{label} {path}",
    )


def _merge(base: Mapping, extra: Mapping) -> Mapping:
    values = {k: dict(v) for k, v in base.values.items()}
    for key, table in extra.values.items():
        values[key] = values.get(key, {}) | table
    return Mapping(
        name=extra.name,
        fields=base.fields | extra.fields,
        values=values,
        required=tuple(dict.fromkeys([*base.required, *extra.required])),
        source=f"{extra.source} (extends {base.name})",
    )


def check_mapping(mapping: Mapping, template: Template) -> None:
    """Every mapped field must be an input form field of the template."""
    inputs = [k for k, col in template.fields.items() if col.is_input]
    for key in [*mapping.fields, *mapping.values, *mapping.required]:
        if key not in inputs:
            raise CrmError(
                f"{mapping.source}: {key!r} is not a form field of the template (fields: {', '.join(inputs)})"
            )
    for key in mapping.required:
        if key not in mapping.fields:
            raise CrmError(f"{mapping.source}: required field {key!r} has no column in [fields]")


@dataclass(frozen=True)
class Resolved:
    """The export column found for each mapped field, and the mapped fields with no column."""

    columns: dict[str, str]
    not_found: dict[str, tuple[str, ...]]


def resolve_columns(
    mapping: Mapping, columns: Sequence[str], *, required: Iterable[str] = (), source: str = "the export"
) -> Resolved:
    """Match the mapping to the header; a required field without a column fails with both lists."""
    by_norm: dict[str, str] = {}
    for name in columns:
        by_norm.setdefault(norm(name), name)
    found: dict[str, str] = {}
    not_found: dict[str, tuple[str, ...]] = {}
    for key, alternatives in mapping.fields.items():
        hit = next((by_norm[norm(a)] for a in alternatives if norm(a) in by_norm), None)
        if hit is None:
            not_found[key] = alternatives
        else:
            found[key] = hit
    missing = [k for k in dict.fromkeys([*mapping.required, *required]) if k not in found]
    if missing:
        expected = "; ".join(
            f"{k}: {' or '.join(repr(a) for a in mapping.fields.get(k, ()))}" for k in missing
        )
        raise CrmError(
            f"{source}: missing required column(s) for the {mapping.name} mapping ({expected}). "
            f"Columns found: {', '.join(repr(c) for c in columns) or 'none'}. "
            "Pick another mapping with --mapping salesforce|hubspot|FILE."
        )
    return Resolved(found, not_found)


def detect_mapping(
    columns: Sequence[str], *, required: Iterable[str] = (), source: str = "the export"
) -> Mapping:
    """The built-in mapping whose columns the header holds (the one matching most columns)."""
    fits: list[tuple[int, Mapping]] = []
    for name in BUILTIN_MAPPINGS:
        mapping = load_mapping(name)
        try:
            fits.append((len(resolve_columns(mapping, columns).columns), mapping))
        except CrmError:
            continue
    if not fits:
        raise CrmError(
            f"{source}: no built-in mapping fits this export. Columns found: "
            f"{', '.join(repr(c) for c in columns) or 'none'}. Expected a Salesforce account export "
            "('Account Name', ...) or a HubSpot company export ('Company name', ...); for another CRM "
            "write a mapping file (docs/crm.md) and pass --mapping FILE."
        )
    best = max(fits, key=lambda fit: fit[0])[1]
    resolve_columns(best, columns, required=required, source=source)  # e.g. the owner for --by-kam
    return best


# -- rows to plans ----------------------------------------------------------------------------
class RowError(ValueError):
    """A row that cannot become a workbook; the message is the reason shown to the user."""


class DriveError(RowError):
    """The output drive refuses every write (full, read-only, failing): the later rows are not tried."""


DRIVE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}
STOPPED = "not written: writing stopped"
JSON_SCHEMA_VERSION = 1  # of the --json object: raised when a key changes meaning or goes away


def choice_indexes(template: Template, lang: str) -> dict[str, ChoiceIndex]:
    return {
        name: ChoiceIndex(items, lang, template.former_labels(name))
        for name, items in template.choices.items()
    }


def map_row(
    row: ExportRow,
    mapping: Mapping,
    resolved: Resolved,
    template: Template,
    *,
    lang: str = "en",
    numbers: str = "en",
    indexes: dict[str, ChoiceIndex] | None = None,
) -> dict[str, Any]:
    """Plan field values from one export row; raises RowError for a value that cannot be used.

    ``numbers`` is the language whose decimal mark the export's numbers use.
    """
    if row.problem:
        raise RowError(row.problem)
    indexes = indexes if indexes is not None else choice_indexes(template, lang)
    fields: dict[str, Any] = {}
    for key, column_name in resolved.columns.items():
        column = template.fields[key]
        raw = mapping.translate(key, row.values.get(column_name))
        index = indexes[column.choices] if column.choices else None
        value, problem = coerce(raw, column, choices=index, lang=numbers)
        if problem and problem.severity == "error":
            raise RowError(f"{column_name}: {problem.message}")
        if isinstance(value, str):  # one-line fields: a line break from a quoted CSV cell becomes a space
            value = (value.strip() if column.type == "longtext" else " ".join(value.split())) or None
        fields[key] = value
    if is_blank(fields.get("client_name")):
        raise RowError(f"no account name ({resolved.columns['client_name']} is empty)")
    return fields


@dataclass(frozen=True)
class Skipped:
    line: int
    account: str
    reason: str


@dataclass
class GenerateResult:
    """What a run did: workbooks written, rows skipped with the reason, backups kept."""

    output: Path
    mapping: str = ""
    generated: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    columns_not_found: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self, error: str | None = None) -> dict[str, Any]:
        """What ``kamxl generate --json`` prints (docs/crm.md); ``error``: why nothing was written."""
        return {
            "schema_version": JSON_SCHEMA_VERSION,
            "error": error,
            "output": str(self.output),
            "mapping": self.mapping,
            "generated": [str(p) for p in self.generated],
            "skipped": [{"line": s.line, "account": s.account, "reason": s.reason} for s in self.skipped],
            "backups": [str(p) for p in self.backups],
            "columns_not_found": {k: list(v) for k, v in self.columns_not_found.items()},
        }


Progress = Callable[[Sequence[ExportRow]], Iterable[ExportRow]]


def _dedup_key(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Run:
    """One generation run: remembers names, CRM ids and file names already used."""

    def __init__(
        self,
        out_dir: Path,
        template: Template,
        lang: str,
        by_kam: bool,
        force: bool,
        result: GenerateResult,
        macros: bool = True,
    ) -> None:
        self.out_dir, self.template, self.lang = out_dir, template, lang
        self.suffix = ".xlsm" if macros else ".xlsx"
        self.by_kam, self.force, self.result = by_kam, force, result
        self.names: dict[str, int] = {}
        self.ids: dict[str, int] = {}
        self.files: dict[str, int] = {}
        self.indexes = choice_indexes(template, lang)

    def target(self, plan: Plan) -> Path:
        folder = self.out_dir / safe_filename(plan.kam, "") if self.by_kam else self.out_dir
        return plan_path(plan, folder, self.suffix)

    def claim(self, line: int, fields: dict[str, Any], path: Path) -> None:
        """Refuse a second row for the same account or the same file; remember this one."""
        checks = [
            (self.names, _dedup_key(fields["client_name"]), "same account name"),
            (self.ids, str(fields.get("crm_id") or "").strip(), f"same CRM id {fields.get('crm_id')}"),
            (self.files, str(path).casefold(), f"same file name {path.name}"),
        ]
        for seen, key, why in checks:
            if key and key in seen:
                raise RowError(f"duplicate of line {seen[key]} ({why})")
        for seen, key, _ in checks:
            if key:
                seen[key] = line

    def write(self, plan: Plan, path: Path) -> None:
        if path.exists() and not self.force:
            raise RowError(
                f"{path} already exists (use --force to replace it; the old file is kept as a backup)"
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            backup = keep_backup(path) if self.force else None
            write_plan(plan, path, lang=self.lang, template=self.template)
        except OSError as exc:
            error = DriveError if exc.errno in DRIVE_ERRORS else RowError
            raise error(f"cannot write {path}: {exc.strerror or exc}") from None
        if backup:
            self.result.backups.append(backup)
        self.result.generated.append(path)

    def row(self, row: ExportRow, mapping: Mapping, resolved: Resolved, numbers: str) -> None:
        fields = map_row(
            row, mapping, resolved, self.template, lang=self.lang, numbers=numbers, indexes=self.indexes
        )
        if self.by_kam and is_blank(fields.get("kam")):
            raise RowError(
                f"no account owner ({resolved.columns.get('kam', 'owner column')} is empty), "
                "needed for --by-kam"
            )
        plan = new_plan(self.template, self.lang, preset=preset_for(fields.get("sector")), **fields)
        path = self.target(plan)
        self.claim(row.line, fields, path)
        self.write(plan, path)


def generate_from_export(
    path: str | Path,
    out_dir: str | Path = ".",
    *,
    mapping: Mapping | str | Path | None = None,
    lang: str = "en",
    template: Template | str | Path | None = None,
    by_kam: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    macros: bool = True,
) -> GenerateResult:
    """One workbook per account row of ``path``; ``mapping=None`` picks the built-in that fits.

    Workbooks are ``.xlsm`` with the Recompute & check button, or ``.xlsx`` when ``macros`` is false.

    Raises CrmError before writing anything if the export or the mapping cannot be used; rows
    that cannot be used are listed in ``GenerateResult.skipped`` with their line number.
    """
    if lang not in ("en", "fr"):
        raise CrmError(f"unknown language {lang!r}: use 'en' or 'fr'")
    tpl = template if isinstance(template, Template) else get_template(template)
    path, out = Path(path), Path(out_dir)
    export = read_export(path)
    rows, columns = export.rows, export.columns
    if not rows:
        raise CrmError(f"{path}: the export has a header but no account rows")
    required = ["kam"] if by_kam else []
    if mapping is None:
        chosen = detect_mapping(columns, required=required, source=str(path))
    else:
        chosen = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    check_mapping(chosen, tpl)
    resolved = resolve_columns(chosen, columns, required=required, source=str(path))
    numbers = export.number_lang
    result = GenerateResult(out, chosen.name, columns_not_found=resolved.not_found)
    run = _Run(out, tpl, lang, by_kam, force, result, macros)
    stopped = ""
    for row in progress(rows) if progress else rows:
        name = row.values.get(resolved.columns["client_name"])
        account = " ".join(str(parse_text(name).value or "").split())
        if stopped:
            result.skipped.append(Skipped(row.line, account, stopped))
            continue
        try:
            run.row(row, chosen, resolved, numbers)
        except DriveError as exc:  # every later row would fail the same way: each is listed, none tried
            result.skipped.append(Skipped(row.line, account, str(exc)))
            stopped = f"{STOPPED} at line {row.line} ({exc})"
        except RowError as exc:
            result.skipped.append(Skipped(row.line, account, str(exc)))
    return result
