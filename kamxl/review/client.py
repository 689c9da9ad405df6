"""What may leave the company: the one filter every client-facing output goes through.

The client copy (``kamxl share``), the client deck (``kamxl qbr --client``), the update e-mail
and the calendar are all drawn from :func:`client_plan`, a copy of the plan holding only what
the template lets the client see, so a new output cannot leak what an older one keeps back.
The template says it once: ``internal = true`` on a sheet, table, field, column or catalogue
KPI; the ``[sharing]`` section names the "Share with client" column of a row and the kinds of
change the update e-mail may tell.
"""

from __future__ import annotations

import copy
from typing import Any

from ..model import Plan, Row, is_blank
from ..template import LANGS, Column, Table, Template
from .changes import Changes

REF = "_ref"  # in a client plan's rows: the row's index in the plan it came from


def _sharing(template: Template) -> dict[str, Any]:
    return template.raw.get("sharing") or {}


def client_field(template: Template, key: str) -> bool:
    """A form field the client may see: neither it nor its sheet is internal."""
    return not template.fields[key].internal and not template.field_sheets[key].internal


def client_table(template: Template, key: str) -> bool:
    """A table whose rows the client may see (some of them: see :func:`client_row`)."""
    return not template.table(key).internal and not template.table_sheet(key).internal


def client_columns(table: Table) -> list[Column]:
    """Columns of a table the client may see (formula columns included: the deck shows them)."""
    return [c for c in table.columns if not c.internal]


def _internal_kpis(template: Template) -> frozenset[str]:
    names = set()
    for kpi in template.catalogue.get("kpis", []):
        if kpi.get("internal"):
            names |= {str(kpi["name"][lang]).strip().casefold() for lang in LANGS}
    return frozenset(names)


def row_column(template: Template, table: Table) -> str | None:
    """The table's "Share with client" column, if it has one."""
    key = _sharing(template).get("row_column")
    return key if key in {c.key for c in table.columns} else None


def client_row(template: Template, table: Table, row: Row) -> bool:
    """A row of a client table the client may see.

    ``share_when`` must hold (active KPIs only); the "Share with client" column set to "no"
    keeps a row internal; left blank, a KPI that mirrors a figure of ours (``internal = true``
    in the catalogue) stays internal, any other row is shared.
    """
    if is_blank(row.get(table.key_column)):
        return False
    if any(row.get(k) != v for k, v in table.share_when.items()):
        return False
    share = row.get(column) if (column := row_column(template, table)) else None
    if share == "no":
        return False
    if share != "yes" and table.key == "kpis":
        return str(row.get(table.key_column)).strip().casefold() not in _internal_kpis(template)
    return True


def client_rows(plan: Plan, template: Template, table: Table) -> list[tuple[int, Row]]:
    """(index in the plan, row) of the rows of ``table`` the client may see."""
    if not client_table(template, table.key):
        return []
    return [(i, r) for i, r in enumerate(plan.tables.get(table.key, [])) if client_row(template, table, r)]


def client_plan(plan: Plan, template: Template) -> Plan:
    """The plan as the client may see it: internal fields, tables, columns and rows left out.

    Each row keeps its index in ``plan`` under ``_ref``. Every output that leaves the company
    is drawn from this, never from the plan itself.
    """
    fields = {
        k: copy.deepcopy(v)
        for k, v in plan.fields.items()
        if k in template.fields and client_field(template, k)
    }
    tables: dict[str, list[Row]] = {}
    for key, table in template.tables.items():
        keep = [c.key for c in client_columns(table)]
        tables[key] = [
            {c: copy.deepcopy(row.get(c)) for c in keep if c in row} | {REF: i}
            for i, row in client_rows(plan, template, table)
        ]
    return Plan(
        fields=fields,
        tables=tables,
        lang=plan.lang,
        account_id=plan.account_id,
        template_id=plan.template_id,
        template_version=plan.template_version,
        generated_at=plan.generated_at,
    )


def client_changes(template: Template) -> tuple[str, ...]:
    """Kinds of change the update e-mail may tell the client (``[sharing] client_changes``)."""
    return tuple(_sharing(template).get("client_changes", ()))


def client_change_items(changes: Changes, view: Plan, template: Template) -> Changes:
    """The changes the client may hear of: kinds listed in ``[sharing] client_changes``, about
    rows of ``view`` (a :func:`client_plan`): an internal KPI or action is never named."""
    names = {
        "kpi": {_fold(r.get("kpi")) for r in view.tables.get("kpis", [])},
        "action_done": {_fold(r.get("action")) for r in view.tables.get("actions", [])},
        "action_overdue": {_fold(r.get("action")) for r in view.tables.get("actions", [])},
    }
    kinds = client_changes(template)
    kept = [
        c
        for c in changes.items
        if c.kind in kinds and (c.kind not in names or _fold(c.values.get("name")) in names[c.kind])
    ]
    return Changes(changes.since, changes.basis, kept)


def _fold(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()
