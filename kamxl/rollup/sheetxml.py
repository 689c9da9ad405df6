"""Table rows of the summary's data sheets, written as sheet XML while they are made.

XlsxWriter keeps an object per cell until the workbook is saved (and one more per table cell
for its overlap check): for a large portfolio's data sheets that is most of the roll-up's memory
and a large share of its CPU time. kamxl writes those rows itself instead, as finished XML kept
deflated (:class:`Deflated`), with strings in a shared-string table of its own and each format
as a placeholder; XlsxWriter writes everything else (heading, table, total row, conditional
formats, print set-up) with its public API, and :mod:`.package` puts the rows in place once
XlsxWriter has saved the workbook. Cells are typed and written as ``Worksheet.write_*`` writes
them (tests/test_summary_streamed.py compares the two workbooks part by part).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xlsxwriter.utility import xl_col_to_name

if TYPE_CHECKING:
    from xlsxwriter.format import Format

MAX_LINKS = 65530  # Excel's limit of links per sheet
MAX_URL = 2079  # characters Excel keeps of a link (and of its location)
MAX_TEXT = 32767  # characters Excel keeps in a cell
CHUNK = 1 << 18  # characters of XML deflated together
PLAIN = 1 << 23  # characters a text keeps plain before it deflates the rest
DEFAULT_ROW_PX = 20  # Excel's default row height, 15 points
STYLE = "\x01{}\x02"  # a cell's style attribute in the rows, until known (no control character is written)
EPOCH = dt.datetime(1899, 12, 31)  # day 0 of Excel's 1900 date system
ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")  # a literal Excel escape, escaped in turn
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
URL_ESCAPES = str.maketrans(
    {
        "%": "%25",
        '"': "%22",
        " ": "%20",
        "<": "%3c",
        ">": "%3e",
        "[": "%5b",
        "]": "%5d",
        "^": "%5e",
        "`": "%60",
        "{": "%7b",
        "}": "%7d",
        "#": "%23",
    }
)
PERCENT_ESCAPE = re.compile("%[0-9a-fA-F]{2}")


class Deflated:
    """Text kept as chunks of whole writes (XML rows, a sheet): plain up to :data:`PLAIN`
    characters, deflated beyond, so a small summary pays nothing for what a large one saves."""

    def __init__(self) -> None:
        self.chunks: list[str | bytes] = []
        self._buffer: list[str] = []
        self._size = 0
        self._plain = 0  # characters held as plain text

    def add(self, text: str) -> None:
        self._buffer.append(text)
        self._size += len(text)
        if self._size >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            text = "".join(self._buffer)
            if self._plain + len(text) <= PLAIN:
                self.chunks.append(text)
                self._plain += len(text)
            else:
                self.chunks.append(zlib.compress(text.encode("utf-8"), 1))
            self._buffer, self._size = [], 0

    def texts(self) -> Iterator[str]:
        self.flush()
        for chunk in self.chunks:
            yield chunk if isinstance(chunk, str) else zlib.decompress(chunk).decode("utf-8")

    def data(self) -> bytes:
        """The whole text, UTF-8."""
        self.flush()
        return b"".join(c.encode("utf-8") if isinstance(c, str) else zlib.decompress(c) for c in self.chunks)


def escape_text(text: str) -> str:
    """Text as a shared string's ``<t>`` holds it: Excel's ``_xHHHH_`` escapes, then XML's."""
    if "_x" in text:
        text = ESCAPED.sub(r"_x005F\1", text)
    text = CONTROL.sub(lambda m: f"_x{ord(m[0]):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", "&#xA;")
    )


def shared_string(text: str) -> str:
    """One ``<si>`` of the shared-string table."""
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f"<si><t{space}>{escape_text(text)}</t></si>"


class Strings(dict[str, int]):
    """The workbook's shared strings written by kamxl, text -> index (``strings[text]`` adds a new
    one): they come first in the table, before XlsxWriter's (whose indices :mod:`.package` shifts)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0  # cells that refer to a string, counted as the rows are kept

    def __missing__(self, text: str) -> int:
        index = self[text] = len(self)
        return index

    def xml(self) -> Iterator[str]:
        """The ``<si>`` elements, in index order, a few hundred at a time."""
        batch: list[str] = []
        for text in self:
            batch.append(shared_string(text))
            if len(batch) >= 512:
                yield "".join(batch)
                batch = []
        yield "".join(batch)


@dataclass
class Link:
    """A link to a file (and a place in it), as Excel writes it: the relationship's target and
    the hyperlink's location; ``text`` is what the cell shows."""

    target: str
    location: str
    text: str
    url: str  # the same link as XlsxWriter's ``write_url`` takes it (its targets have backslashes)


def file_link(target: str, where: str = "") -> Link | None:
    """A link to the file ``target`` (relative to the summary, or absolute), at ``where`` (such as
    'Risks'!G6), with forward slashes, which Excel on Windows and on a Mac both follow; None
    when Excel could not keep it. The cell shows the path as XlsxWriter's ``external:`` links do."""
    shown = target.replace("/", "\\") + (f"#{where}" if where else "")
    path = target.replace("\\", "/")
    absolute = path.startswith("//") or (path[:1].isalpha() and path[1:2] == ":")
    link = ("file:///" + path if absolute else path).removeprefix("./")
    if "#" in link or (
        len(link) + len(where) > MAX_URL // 2 and max(map(_utf16_len, (link, where))) > MAX_URL
    ):
        return None
    escaped = link if PERCENT_ESCAPE.search(link) else link.translate(URL_ESCAPES)
    return Link(escaped, where, shown, "external:" + target + (f"#{where}" if where else ""))


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def excel_serial(value: dt.date) -> float:
    """A date or naive datetime as Excel's serial number (1900 date system), as XlsxWriter's
    ``write_datetime`` computes it."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise TypeError(f"Excel keeps no time zone: {value!r}")
    else:
        value = dt.datetime(value.year, value.month, value.day)
    delta = value - EPOCH
    days = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / (60 * 60 * 24)
    return days + 1 if days > 59 else days  # Excel's 29 February 1900


@dataclass
class StreamedTable:
    """One Excel table's data rows, written by kamxl: ``top`` is its header row (0-based)."""

    sheet: str
    name: str
    top: int
    left: int
    width: int
    totals: bool
    rows: Deflated = field(default_factory=Deflated)
    count: int = 0
    formats: list[Format] = field(default_factory=list)  # placeholder number -> format
    links: list[tuple[int, int, Link]] = field(default_factory=list)  # row, column, link

    @property
    def right(self) -> int:
        return self.left + self.width - 1

    @property
    def last(self) -> int:
        """The table's last row: the total row, if any."""
        return self.top + self.count + (1 if self.totals else 0)

    @property
    def marker_rows(self) -> int:
        """Rows of marker cells: one blank cell per format, whose style index XlsxWriter writes
        (:mod:`.package` reads them back, then writes the data rows in their place)."""
        return max(1, -(-len(self.formats) // self.width))

    @property
    def short_last(self) -> int:
        """The last row of the table as XlsxWriter is given it: header, markers, total row."""
        return self.top + self.marker_rows + (1 if self.totals else 0)

    def markers(self) -> Iterator[tuple[int, int, Format]]:
        for j, fmt in enumerate(self.formats):
            yield self.top + 1 + j // self.width, self.left + j % self.width, fmt

    def add(self, rows: Iterable[str], strings: Strings) -> int:
        """The data rows' XML (one string per row), kept deflated; returns their number."""
        refs = 0
        for xml in rows:
            self.rows.add(xml)
            refs += xml.count(' t="s"><v>')
            self.count += 1
        self.rows.flush()
        strings.count += refs
        return self.count


class RowWriter:
    """Cells of a :class:`StreamedTable`'s rows as XML, typed as ``Worksheet.write_*`` types them."""

    def __init__(self, table: StreamedTable, strings: Strings) -> None:
        self.table, self.left = table, table.left
        self.index = strings
        self.letters = [xl_col_to_name(table.left + i) for i in range(table.width)]
        self.spans = f"{table.left + 1}:{table.left + table.width}"
        self._styles: dict[int, str] = {}
        self._dates: dict[Any, float] = {}

    def style(self, fmt: Format | None) -> str:
        """A cell's ``s`` attribute: a placeholder until XlsxWriter has numbered the formats."""
        if fmt is None:
            return ""
        if (attribute := self._styles.get(id(fmt))) is None:
            self.table.formats.append(fmt)
            attribute = self._styles[id(fmt)] = STYLE.format(len(self.table.formats) - 1)
        return attribute

    def row(self, r: int, cells: list[str], height: float | None = None) -> str:
        """A whole ``<row>``: ``height`` in points, as ``set_row`` takes it."""
        px = int(height * 4.0 / 3.0 + 0.5) if height is not None else DEFAULT_ROW_PX
        size = f' ht="{px * 0.75:.16g}" customHeight="1"' if px != DEFAULT_ROW_PX else ""
        return f'<row r="{r + 1}" spans="{self.spans}"{size}>' + "".join(cells) + "</row>"

    def value(self, r: int, i: int, value: Any, style: str) -> str:
        """A value by its Python type (``SummaryWriter.put``): strings always string cells."""
        kind = type(value)
        if kind is str:
            return (
                self.text(r, i, value[:MAX_TEXT], style)
                if value
                else f'<c r="{self.letters[i]}{r + 1}"{style}/>'
            )
        if kind is int or (kind is float and math.isfinite(value)):
            return f'<c r="{self.letters[i]}{r + 1}"{style}><v>{value:.16G}</v></c>'
        if value is None or value == "" or kind is float:  # nan and infinities: blank, as put writes them
            return f'<c r="{self.letters[i]}{r + 1}"{style}/>'
        if isinstance(value, bool):
            return f'<c r="{self.letters[i]}{r + 1}"{style} t="b"><v>{int(value)}</v></c>'
        if isinstance(value, dt.date):
            return f'<c r="{self.letters[i]}{r + 1}"{style}><v>{self.serial(value):.16G}</v></c>'
        if isinstance(value, str):
            return self.value(r, i, str(value), style)
        if isinstance(value, int | float):
            return self.value(r, i, float(value) if isinstance(value, float) else int(value), style)
        return self.text(r, i, str(value)[:MAX_TEXT], style)

    def text(self, r: int, i: int, text: str, style: str) -> str:
        return f'<c r="{self.letters[i]}{r + 1}"{style} t="s"><v>{self.index[text]}</v></c>'

    def serial(self, value: dt.date) -> float:
        if (serial := self._dates.get(value)) is None:
            serial = self._dates[value] = excel_serial(value)
        return serial

    def link(self, r: int, i: int, link: Link, style: str) -> str | None:
        """A link cell, or None when the sheet holds as many links as Excel allows."""
        links = self.table.links
        if len(links) >= MAX_LINKS:
            return None
        links.append((r, self.left + i, link))
        return self.text(r, i, link.text, style)
