"""XlsxWriter's workbook with what every plan repeats (cell formats, shared texts) worked out once
per process, and its zip written at once."""

from __future__ import annotations

import io
import os
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.workbook import Workbook

_PROTOTYPES: dict[tuple, Format] = {}
_SHARED: dict[str, str] = {}  # a short text's <si> element: labels, help texts and lists recur


class FastWorkbook(Workbook):
    """Every plan asks for the same hundred-odd formats, and XlsxWriter builds each one by
    parsing its properties (colours, borders) and, when saving, by working out its key: a
    pure function of the properties. A format is built once, then copied into each workbook.

    The copies must not be changed after ``add_format`` (kamxl never does: a different look is
    a different format), since they carry the key worked out for their properties.

    The zip is put together in memory and written to the file at once, not part by part, and
    the texts every plan shares (labels, help, lists) are escaped for the XML once per process.
    """

    def _get_packager(self) -> Packager:
        return _Packager()

    def close(self) -> None:
        """Save, then let go of the worksheets: each holds the workbook's ``add_format``, a cycle
        that would keep every cell of the workbook for the garbage collector to find and free."""
        try:
            super().close()
        finally:
            for worksheet in self.worksheets_objs:
                worksheet.workbook_add_format = None

    def _store_workbook(self) -> None:
        target = self.filename
        if not isinstance(target, (str, os.PathLike)):
            super()._store_workbook()
            return
        buffer = io.BytesIO()
        self.filename = buffer
        try:
            super()._store_workbook()
        finally:
            self.filename = target
        with open(target, "wb") as fh:
            fh.write(buffer.getbuffer())

    def add_format(self, properties: dict[str, Any] | None = None) -> Format:
        merged = self.default_format_properties | (properties or {})
        try:
            key = tuple(merged.items())  # the same look asked in another order: one more copy
            prototype = _PROTOTYPES.get(key)
        except TypeError:  # a property XlsxWriter takes as a list or dict: built as usual
            return super().add_format(properties)
        if prototype is None:
            if len(_PROTOTYPES) > 10_000:
                _PROTOTYPES.clear()
            prototype = _PROTOTYPES[key] = Format(merged)
            prototype._get_format_key()
        # a shallow copy: the attributes are plain values and colours XlsxWriter never changes
        xf_format = Format.__new__(Format)
        xf_format.__dict__.update(prototype.__dict__)
        xf_format.xf_format_indices = self.xf_format_indices
        xf_format.dxf_format_indices = self.dxf_format_indices
        self.formats.append(xf_format)
        return xf_format


class _Packager(Packager):
    def _write_shared_strings_file(self) -> None:
        if not self.workbook.str_table.count:
            return
        sst = _SharedStrings()
        sst.string_table = self.workbook.str_table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class _SharedStrings(SharedStrings):
    def _write_si(self, string: str) -> None:
        xml = _SHARED.get(string)
        if xml is None:
            fh, self.fh = self.fh, io.StringIO()
            try:
                super()._write_si(string)
                xml = self.fh.getvalue()
            finally:
                self.fh = fh
            if len(string) <= 256:
                if len(_SHARED) > 20_000:
                    _SHARED.clear()
                _SHARED[string] = xml
        self.fh.write(xml)
