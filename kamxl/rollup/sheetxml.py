"""Table rows of the summary's data sheets, written as sheet XML while they are made.

XlsxWriter keeps an object per cell until the workbook is saved (and one more per table cell
for its overlap check): for a large portfolio's data sheets that is most of the roll-up's memory
and a large share of its CPU time. A :class:`StreamedSheet` takes its table's rows as finished
XML instead, with strings in the workbook's shared-string table and formats by their style
index, exactly as XlsxWriter would write them, and puts them in place when the workbook is
saved; heading, table header, total row, links and conditional formats stay XlsxWriter's.

Those rows, and every sheet's XML once made, are kept deflated until the zip is written (a
:class:`StreamedWorkbook`): XlsxWriter would otherwise hold all the sheets' text at once.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import Any
from zipfile import ZipInfo

from xlsxwriter import workbook as xlsxwriter_workbook
from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.url import Url
from xlsxwriter.utility import _datetime_to_excel_datetime, xl_col_to_name, xl_range
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

MAX_LINKS = 65530  # Excel's limit of links per sheet
MAX_TEXT = 32767  # characters Excel keeps in a cell
CHUNK = 1 << 18  # characters of XML deflated together
PLAIN = 1 << 23  # characters a text keeps plain before it deflates the rest
ROW_TAG = re.compile(r"(<row [^>]*)>")


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


class DeflatedXml(io.StringIO):
    """A package part written by XlsxWriter's XML writer, deflated as it comes; ``getvalue``
    gives its UTF-8 bytes, once, when the zip is written (the part is listed as binary)."""

    def __init__(self) -> None:
        super().__init__()
        self.text = Deflated()

    def write(self, text: str) -> int:
        self.text.add(text)
        return len(text)

    def getvalue(self) -> bytes:  # type: ignore[override]
        data = self.text.data()
        self.text = Deflated()
        return data


class DeflatingPackager(Packager):
    """XlsxWriter's packager, with the worksheets' XML deflated until the zip is written."""

    def _filename(self, xml_filename: str) -> Any:
        if not (self.in_memory and xml_filename.startswith("xl/worksheets/sheet")):
            return super()._filename(xml_filename)
        part = DeflatedXml()
        self.filenames.append((part, xml_filename, True))
        return part


class StreamedWorkbook(Workbook):
    """A workbook whose worksheets' XML is held deflated until it is saved (``in_memory`` only),
    and whose zip is deflated at level 1: the summary's sheets are megabytes of XML, which the
    default level takes three times as long to pack, for a file a fifth smaller."""

    def _get_packager(self) -> Packager:
        return DeflatingPackager()

    def _store_workbook(self) -> None:
        # XlsxWriter makes each part's ZipInfo itself, at zipfile's default level.
        saved = xlsxwriter_workbook.ZipInfo
        xlsxwriter_workbook.ZipInfo = _FastZipInfo
        try:
            super()._store_workbook()
        finally:
            xlsxwriter_workbook.ZipInfo = saved


class _FastZipInfo(ZipInfo):
    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compresslevel = 1


class StreamedSheet(Worksheet):
    """A worksheet whose one table's data rows arrive as XML (see :class:`RowWriter`)."""

    def __init__(self) -> None:
        super().__init__()
        self.streamed: tuple[int, int, Deflated] | None = None  # first row, last row, rows' XML
        self.streamed_cols = (0, 0)  # first and last column of the streamed rows

    def add_streamed_table(self, top: int, left: int, last: int, right: int, options: dict[str, Any]) -> None:
        """``add_table`` over rows ``top`` to ``last``, without XlsxWriter's cell-by-cell overlap
        check (the sheet holds one table): declared over one data row, then stretched."""
        totals = bool(options.get("total_row"))
        short = top + 1 + (1 if totals else 0)
        if self.add_table(top, left, min(short, last), right, options) != 0:
            raise ValueError(f"table {options.get('name')!r} not added")
        if last <= short:
            return
        table = self.tables[-1]
        if totals:
            self.table[last] = self.table.pop(short)
        data_last = last - (1 if totals else 0)
        table["range"] = xl_range(top, left, last, right)
        table["a_range"] = xl_range(top, left, data_last, right)
        if table.get("autofilter"):
            table["autofilter"] = table["a_range"]
        self._check_dimensions(last, right)

    def stream(self, first: int, rows: Iterable[str], cols: tuple[int, int]) -> int:
        """The data rows' XML, from row ``first`` down (0-based), in columns ``cols`` (first, last),
        kept deflated until the sheet is saved; returns the number of rows."""
        text, count = Deflated(), 0
        for xml in rows:
            text.add(xml)
            count += 1
        if count:
            text.flush()
            self.streamed, self.streamed_cols = (first, first + count - 1, text), cols
            self._check_dimensions(first + count - 1, cols[1])
        return count

    def _calculate_spans(self) -> None:
        """XlsxWriter's spans (columns used per block of 16 rows), the streamed rows included."""
        super()._calculate_spans()
        if self.streamed is None:
            return
        first, last, _ = self.streamed
        low, high = self.streamed_cols
        for block in {first // 16, last // 16}:
            if block in self.row_spans:
                a, b = map(int, self.row_spans[block].split(":"))
                self.row_spans[block] = f"{min(a, low + 1)}:{max(b, high + 1)}"

    def _write_rows(self) -> None:
        if self.streamed is None:
            super()._write_rows()
            return
        first, last, rows = self.streamed
        low, high = self.dim_rowmin, self.dim_rowmax
        try:
            if low < first:
                self.dim_rowmax = first - 1
                super()._write_rows()
            for xml in rows.texts():  # whole rows: cells hold numbers and string numbers only
                if self.excel_version == 2010:  # set by a data bar after the rows were made
                    xml = ROW_TAG.sub(r'\1 x14ac:dyDescent="0.25">', xml)
                self.fh.write(xml)
            if last < high:
                self.dim_rowmin, self.dim_rowmax = last + 1, high
                super()._write_rows()
        finally:
            self.dim_rowmin, self.dim_rowmax = low, high
            self.streamed = None  # written once: the rows' memory goes with it


class RowWriter:
    """Cells of a :class:`StreamedSheet`'s rows as XML, typed as ``Worksheet.write_*`` types them."""

    def __init__(self, ws: StreamedSheet, left: int, width: int) -> None:
        self.ws, self.left = ws, left
        self.index = ws.str_table._get_shared_string_index  # a string's number in the workbook's table
        self.letters = [xl_col_to_name(left + i) for i in range(width)]
        self.spans = f"{left + 1}:{left + width}"
        self.default_px = ws.default_row_height
        self._dates: dict[Any, float] = {}

    @staticmethod
    def style(fmt: Format | None) -> str:
        return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""

    def row(self, r: int, cells: list[str], height: float | None = None) -> str:
        """A whole ``<row>``: ``height`` in points, as ``set_row`` takes it."""
        px = int(height * 4.0 / 3.0 + 0.5) if height is not None else self.default_px
        size = f' ht="{px * 0.75:.16g}" customHeight="1"' if px != self.default_px else ""
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
        return f'<c r="{self.letters[i]}{r + 1}"{style} t="s"><v>{self.index(text)}</v></c>'

    def serial(self, value: dt.date) -> float:
        if (serial := self._dates.get(value)) is None:
            when = (
                value if isinstance(value, dt.datetime) else dt.datetime(value.year, value.month, value.day)
            )
            serial = self._dates[value] = _datetime_to_excel_datetime(
                when, self.ws.date_1904, self.ws.remove_timezone
            )
        return serial

    def link(self, r: int, i: int, url: Url, style: str) -> str | None:
        """A link cell (``write_url``), or None when the sheet holds as many links as Excel allows."""
        ws = self.ws
        ws.hlink_count += 1
        if ws.hlink_count > MAX_LINKS:
            return None
        ws.hyperlinks[r][self.left + i] = url
        return self.text(r, i, url.text, style)
