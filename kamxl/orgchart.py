"""The org chart: the client's reporting lines laid out as a tree of cells.

Why cells: XlsxWriter cannot draw connectors between shapes, a picture goes stale the moment a
KAM edits a name, and shapes drawn through xlwings differ between Excel for Windows and macOS.
Cells with fills, borders and merged ranges look the same in Excel and LibreOffice, print on one
page like any range, and the Recompute button repaints them through xlwings with the very layout
computed here. This module is pure: it turns stakeholder rows into a :class:`Drawing` (painted
cells); ``kamxl.orgchart_paint`` puts a drawing on an XlsxWriter sheet or an open Excel sheet.

Geometry: every column of the chart is narrow (``UNIT_WIDTH``); a box is ``BOX_UNITS`` columns
wide and three rows high (name, job title, buying role and influence); leaves sit ``PITCH``
columns apart and a manager is centred over its reports. Lines are cell borders: a box's centre
is the border between two columns, so vertical lines are right borders of the column left of
the centre, and the line joining a manager to its reports is the bottom border of a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Row, is_blank
from .template import Template

UNIT_WIDTH = 3.8  # characters per chart column
BOX_UNITS = 6  # columns per box
PITCH = 8  # columns from one leaf box to the next (even: a manager's centre stays on a border)
BOX_ROWS = 3
LINK_ROWS = 2
FIRST_ROW = 7  # 0-based row of the first level of boxes, below the title and the legend
FIRST_COL = 1  # column A stays a margin
BOX_ROW_HEIGHT = 13.0
LINK_ROW_HEIGHT = 9.0
MARKS = {"decision_maker": "◆", "budget_holder": "€", "sponsor": "★"}
# Relationship strength frames a box: XlsxWriter border styles (5 thick, 2 medium, 8 medium dashed).
FRAMES = {"strong": (5, "#00B050"), "good": (2, "#ED7D31"), "weak": (8, "#C00000")}
NO_FRAME = (1, "#7F7F7F")
LINE = (1, "#595959")


@dataclass
class Style:
    """How one cell looks; borders are (XlsxWriter style number, colour) per side."""

    fill: str | None = None
    font_color: str = "#1F2937"
    bold: bool = False
    italic: bool = False
    size: float = 8
    align: str = "center"
    top: tuple[int, str] | None = None
    bottom: tuple[int, str] | None = None
    left: tuple[int, str] | None = None
    right: tuple[int, str] | None = None

    def key(self) -> tuple[Any, ...]:
        return tuple(vars(self).values())


@dataclass
class Paint:
    """One cell, or a merged run of cells on one row (``last_col``), with its text and style."""

    row: int
    col: int
    last_col: int
    value: str
    style: Style


@dataclass
class Drawing:
    """The whole chart: painted cells, its size, and notes on reporting lines that could not be drawn."""

    cells: list[Paint] = field(default_factory=list)
    rows: int = FIRST_ROW
    cols: int = FIRST_COL
    notes: list[str] = field(default_factory=list)

    def row_heights(self) -> dict[int, float]:
        heights = {}
        for r in range(FIRST_ROW, self.rows):
            in_box = (r - FIRST_ROW) % (BOX_ROWS + LINK_ROWS) < BOX_ROWS
            heights[r] = BOX_ROW_HEIGHT if in_box else LINK_ROW_HEIGHT
        return heights


@dataclass
class _Node:
    index: int
    row: Row
    children: list[_Node] = field(default_factory=list)
    center: float = 0.0  # in leaf slots
    level: int = 0


def _key(value: Any) -> str:
    return " ".join(str(value).split()).casefold() if not is_blank(value) else ""


Note = tuple[str, dict[str, str]]  # a template text key and its values


def build_forest(rows: list[Row]) -> tuple[list[_Node], list[Note]]:
    """Stakeholders as trees by their Reports-to names; people reporting to an unlisted name or
    inside a reporting loop become tops of their own tree, with a note saying so (a key of the
    template's [texts] and its values, worded in the workbook's language by the caller)."""
    nodes = [_Node(i, r) for i, r in enumerate(rows) if not is_blank(r.get("name"))]
    by_name: dict[str, _Node] = {}
    for node in nodes:
        by_name.setdefault(_key(node.row["name"]), node)
    notes: list[Note] = []
    parent: dict[int, _Node] = {}
    for node in nodes:
        boss = _key(node.row.get("reports_to"))
        if not boss:
            continue
        manager = by_name.get(boss)
        if manager is None:
            notes.append(
                ("orgchart_unknown_boss", {"name": node.row["name"], "boss": node.row["reports_to"]})
            )
        elif manager is node:
            notes.append(("orgchart_self", {"name": node.row["name"]}))
        else:
            parent[node.index] = manager
    for node in nodes:  # break reporting loops where they close
        seen = {node.index}
        walk = parent.get(node.index)
        while walk is not None:
            if walk.index in seen:
                notes.append(("orgchart_loop", {"name": node.row["name"], "other": walk.row["name"]}))
                parent.pop(node.index, None)
                break
            seen.add(walk.index)
            walk = parent.get(walk.index)
    roots = []
    for node in nodes:
        if node.index in parent:
            parent[node.index].children.append(node)
        else:
            roots.append(node)
    return roots, notes


def _place(node: _Node, level: int, next_leaf: list[int]) -> None:
    node.level = level
    if not node.children:
        node.center = next_leaf[0]
        next_leaf[0] += 1
        return
    for child in node.children:
        _place(child, level + 1, next_leaf)
    node.center = (node.children[0].center + node.children[-1].center) / 2


def _walk(nodes: list[_Node]) -> list[_Node]:
    out = []
    for node in nodes:
        out.append(node)
        out.extend(_walk(node.children))
    return out


def center_col(center: float) -> int:
    """Sheet column whose left border is a box's centre line."""
    return FIRST_COL + BOX_UNITS // 2 + round(center * PITCH)


def box_top(level: int) -> int:
    return FIRST_ROW + level * (BOX_ROWS + LINK_ROWS)


def _tone_fill(template: Template, tone: str | None) -> tuple[str | None, str]:
    st = template.style
    return {
        "good": (st["good"], st["good_text"]),
        "warn": (st["warn"], st["warn_text"]),
        "bad": (st["bad"], st["bad_text"]),
        "neutral": (st["neutral"], st["ink"]),
        "info": ("#DDEBF7", "#1F4E79"),
    }.get(tone or "", ("#FFFFFF", st["ink"]))


def stance_fill(template: Template, stance: Any) -> tuple[str | None, str]:
    """Fill and text colour of a box: the Stakeholders sheet's colours for the stance."""
    colors = dict(template.table("stakeholders").column("stance").colors)
    colors.setdefault("neutral", "neutral")
    return _tone_fill(template, colors.get(stance) if isinstance(stance, str) else None)


def _label(template: Template, choice_list: str, code: Any, lang: str) -> str:
    if isinstance(code, str) and code in template.choices.get(choice_list, {}):
        return template.label(choice_list, code, lang)
    return "" if is_blank(code) else str(code)


def _box(drawing: Drawing, node: _Node, template: Template, lang: str) -> None:
    row, c = node.row, center_col(node.center)
    top, first, last = box_top(node.level), c - BOX_UNITS // 2, c + BOX_UNITS // 2 - 1
    fill, ink = stance_fill(template, row.get("stance"))
    frame = FRAMES.get(row.get("strength") or "", NO_FRAME)
    role = row.get("role")
    mark = MARKS.get(role, "") if isinstance(role, str) else ""
    influence = row.get("influence")
    dots = ""
    if isinstance(influence, (int, float)) and 1 <= influence <= 5:
        dots = "●" * int(influence) + "○" * (5 - int(influence))
    role_text = " ".join(p for p in (mark, _label(template, "role", role, lang)) if p)
    job = ", ".join(str(p) for p in (row.get("title"), row.get("bu")) if not is_blank(p))
    lines = [str(row.get("name")), job, " · ".join(p for p in (role_text, dots) if p)]
    for i, text in enumerate(lines):
        style = Style(fill=fill, font_color=ink, bold=i == 0, size=9 if i == 0 else 8)
        style.left = style.right = frame
        style.top = frame if i == 0 else None
        style.bottom = frame if i == BOX_ROWS - 1 else None
        style.italic = i == 2 and bool(mark)
        drawing.cells.append(Paint(top + i, first, last, text, style))


def _lines(drawing: Drawing, node: _Node, borders: dict[tuple[int, int], Style]) -> None:
    if not node.children:
        return
    link = box_top(node.level) + BOX_ROWS  # first link row below the manager's box
    c = center_col(node.center)
    borders.setdefault((link, c - 1), Style()).right = LINE
    centres = [center_col(ch.center) for ch in node.children]
    for col in range(min(centres), max(centres)):
        borders.setdefault((link, col), Style()).bottom = LINE
    for col in centres:
        borders.setdefault((link + 1, col - 1), Style()).right = LINE


def _legend(drawing: Drawing, template: Template, lang: str) -> None:
    """Two rows above the chart: fills by stance, frames by relationship strength, role marks."""
    words = [template.text(key, lang) for key in ("orgchart_fill", "orgchart_frame", "orgchart_marks")]
    col = FIRST_COL
    drawing.cells.append(Paint(4, col, col + 5, words[0], Style(bold=True, align="left")))
    col += 6
    for code in template.choices["stance"]:
        fill, ink = stance_fill(template, code)
        drawing.cells.append(
            Paint(4, col, col + 3, template.label("stance", code, lang), Style(fill=fill, font_color=ink))
        )
        col += 5
    col = FIRST_COL
    drawing.cells.append(Paint(5, col, col + 5, words[1], Style(bold=True, align="left")))
    col += 6
    for code in template.choices["strength"]:
        frame = FRAMES.get(code, NO_FRAME)
        style = Style(top=frame, bottom=frame, left=frame, right=frame)
        drawing.cells.append(Paint(5, col, col + 3, template.label("strength", code, lang), style))
        col += 5
    marks = "   ".join(
        f"{mark} {template.label('role', code, lang)}"
        for code, mark in MARKS.items()
        if code in template.choices["role"]
    )
    drawing.cells.append(Paint(5, col + 1, col + 16, f"{words[2]} {marks}", Style(align="left")))
    drawing.cols = max(drawing.cols, col + 17)


def layout_orgchart(rows: list[Row], template: Template, lang: str) -> Drawing:
    """The org chart of a plan's stakeholder rows: boxes, connecting lines and a legend."""
    drawing = Drawing()
    _legend(drawing, template, lang)
    roots, notes = build_forest(rows)
    drawing.notes = [template.text(key, lang).format(**values) for key, values in notes]
    next_leaf = [0]
    for root in roots:
        _place(root, 0, next_leaf)
    nodes = _walk(roots)
    borders: dict[tuple[int, int], Style] = {}
    for node in nodes:
        _box(drawing, node, template, lang)
        _lines(drawing, node, borders)
    for (r, c), style in sorted(borders.items()):
        drawing.cells.append(Paint(r, c, c, "", style))
    if nodes:
        depth = max(n.level for n in nodes) + 1
        drawing.rows = box_top(depth - 1) + BOX_ROWS
        drawing.cols = max(drawing.cols, center_col(next_leaf[0] - 1) + BOX_UNITS // 2)
    for i, note in enumerate(drawing.notes):
        row = drawing.rows + 1 + i
        drawing.cells.append(Paint(row, FIRST_COL, FIRST_COL, f"⚠ {note}", Style(italic=True, align="left")))
    drawing.rows += len(drawing.notes) + 1 if drawing.notes else 0
    return drawing
