"""Reference documentation of a template, generated from the template itself.

The docs cannot drift from the workbook: `docs/template.md` is this function's output and a
test checks it is up to date (`kamxl template-doc -o docs/template.md` refreshes it).
"""

from __future__ import annotations

from .template import Column, Template

TYPE_NAMES = {
    "text": "text",
    "longtext": "long text",
    "int": "whole number",
    "number": "number",
    "currency": "amount (€)",
    "percent": "percentage",
    "date": "date",
    "choice": "choice",
    "rating": "rating 1-5",
    "email": "e-mail",
    "url": "web address",
    "formula": "formula (computed)",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(col: Column, template: Template) -> str:
    kind = TYPE_NAMES[col.type]
    if col.type == "choice":
        codes = ", ".join(f"`{c}`" for c in template.choices[col.choices or ""])
        kind += f" from `{col.choices}` ({codes})" + ("" if col.strict else ", other text allowed")
    if col.min is not None or col.max is not None:
        kind += f", {col.min if col.min is not None else '…'} to {col.max if col.max is not None else '…'}"
    return kind


def _rows(columns: tuple[Column, ...], template: Template) -> list[str]:
    lines = ["| key | English | French | type | help |", "|---|---|---|---|---|"]
    for col in columns:
        flags = " (required)" if col.required else ""
        flags += " (confidential)" if col.sensitive else ""
        flags += " (internal)" if col.internal else ""
        lines.append(
            f"| `{col.key}` | {_cell(col.label['en'])}{flags} | {_cell(col.label['fr'])} | "
            f"{_cell(_type(col, template))} | {_cell(col.help['en'])} |"
        )
    return lines


def template_markdown(template: Template) -> str:
    """Markdown reference of every sheet, field, table column and choice list."""
    out = [
        f"# Template reference: {template.name['en']} (`{template.id}` {template.version})",
        "",
        "Generated from `workbook_templates/account_plan.toml` by `kamxl template-doc`; do not edit by hand.",
        "",
    ]
    for sheet in template.sheets:
        out += [f"## {sheet.title['en']} / {sheet.title['fr']}", "", sheet.heading["en"], ""]
        if sheet.internal:
            out += ["Internal: left out of the copy shared with the client (`kamxl share`).", ""]
        if sheet.key == "dashboard":
            out += ["Computed by kamxl: scores, tier and key figures (see docs/scoring.md).", ""]
        if sheet.fields:
            out += ["Fields:", "", *_rows(sheet.fields, template), ""]
        for table in sheet.tables:
            title = table.title["en"] if table.title else table.name
            out += [
                f"### Table `{table.name}`: {title}",
                "",
                f"A row counts when `{table.key_column}` is filled in; {table.rows} blank rows are offered."
                + (" Internal: not shared with the client." if table.internal and not sheet.internal else ""),
                "",
                *_rows(table.columns, template),
                "",
            ]
    out += ["## Choice lists", "", "| list | code | English | French |", "|---|---|---|---|"]
    for key, items in template.choices.items():
        for code, labels in items.items():
            out.append(f"| `{key}` | `{code}` | {_cell(labels['en'])} | {_cell(labels['fr'])} |")
    out += [
        "",
        "## KPI catalogue",
        "",
        "| KPI | family | unit | direction | target | weight | active |",
        "|---|---|---|---|---|---|---|",
    ]
    for kpi in template.catalogue["kpis"]:
        out.append(
            f"| {_cell(kpi['name']['en'])} | {kpi['family']} | {_unit(kpi.get('unit'))} | "
            f"{kpi['direction']} | "
            f"{kpi['target']} | {kpi['weight']} | {'yes' if kpi.get('active') else 'no'} |"
        )
    out += ["", "## Assessment criteria", "", "| criterion | axis | weight |", "|---|---|---|"]
    for crit in template.catalogue["assessment"]:
        out.append(f"| {_cell(crit['name']['en'])} | {crit['axis']} | {crit['weight']} |")
    out += ["", "## Scoring settings", "", "| setting | value |", "|---|---|"]
    for key, value in template.scoring.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                out.append(f"| `{key}.{sub}` | {v} |")
        else:
            out.append(f"| `{key}` | {value} |")
    for code, tier in template.tiers.items():
        threshold = tier.get("min_priority", "no attractiveness rated")
        out.append(f"| tier `{code}` ({tier['label']['en']}) | {threshold} |")
    return "\n".join(out) + "\n"


def _unit(unit: object) -> str:
    """A KPI unit: a symbol (``%``) or words in each language (``days`` / ``jours``)."""
    if isinstance(unit, dict):
        return " / ".join(dict.fromkeys(unit.values()))
    return str(unit or "")
