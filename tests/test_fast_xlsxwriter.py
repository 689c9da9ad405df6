"""The plan writer uses XlsxWriter through its documented API only: a patch release that moves
XlsxWriter's internals cannot break kamxl. Every call the writer makes on XlsxWriter's objects
while writing plans is watched here; tests/test_public_api.py reads the
source. The per-process caches that keep the writer fast never hold a workbook."""

from __future__ import annotations

import datetime as dt
import gc
import re
import weakref
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from xlsxwriter.chart import Chart
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from kamxl import write_context
from kamxl.demo import demo_plans
from kamxl.writer import write_plan

KAMXL = Path(__file__).resolve().parent.parent / "kamxl"

# The methods of XlsxWriter's documentation (https://xlsxwriter.readthedocs.io): workbook.html,
# worksheet.html, page_setup.html, chart.html. Anything else on these objects is internal.
DOCUMENTED = {
    "Workbook": {
        "add_worksheet", "add_format", "add_chart", "add_chartsheet", "close", "set_size",
        "tab_ratio", "set_properties", "set_custom_property", "define_name", "add_vba_project",
        "add_signed_vba_project", "set_vba_name", "worksheets", "get_worksheet_by_name",
        "get_default_url_format", "set_calc_mode", "use_zip64", "read_only_recommended",
        "set_tempdir",
    },
    "Worksheet": {
        "write", "add_write_handler", "write_string", "write_number", "write_formula",
        "write_array_formula", "write_dynamic_array_formula", "write_blank", "write_boolean",
        "write_datetime", "write_url", "write_rich_string", "write_row", "write_column",
        "write_comment", "write_checkbox", "insert_image", "embed_image", "insert_chart",
        "insert_textbox", "insert_button", "data_validation", "conditional_format", "add_table",
        "add_sparkline", "set_row", "set_row_pixels", "set_column", "set_column_pixels", "autofit",
        "get_name", "activate", "select", "hide", "very_hidden", "set_first_sheet", "merge_range",
        "autofilter", "filter_column", "filter_column_list", "set_selection", "set_top_left_cell",
        "freeze_panes", "split_panes", "set_zoom", "right_to_left", "hide_zero", "set_background",
        "set_tab_color", "protect", "unprotect_range", "set_default_row", "outline_settings",
        "set_vba_name", "ignore_errors", "show_comments", "set_comments_author",
        # page set-up
        "set_landscape", "set_portrait", "set_page_view", "set_paper", "center_horizontally",
        "center_vertically", "set_margins", "set_header", "set_footer", "repeat_rows",
        "repeat_columns", "hide_gridlines", "print_row_col_headers", "hide_row_col_headers",
        "print_area", "print_across", "fit_to_pages", "set_start_page", "set_print_scale",
        "print_black_and_white", "set_h_pagebreaks", "set_v_pagebreaks",
    },
    "Chart": {
        "add_series", "set_x_axis", "set_y_axis", "set_x2_axis", "set_y2_axis", "combine",
        "set_size", "set_title", "set_legend", "set_chartarea", "set_plotarea", "set_style",
        "set_table", "set_up_down_bars", "set_drop_lines", "set_high_low_lines",
        "show_blanks_as", "show_na_as_empty_cells", "show_hidden_data", "set_rotation",
        "set_hole_size",
    },
    "Format": set(),  # kamxl builds formats from properties and never changes one
}  # fmt: skip


class _Watched:
    """Stands for an XlsxWriter object: passes every call on, and notes any use of a name that
    is not a documented method (an attribute read or set, a private method)."""

    __slots__ = ("__weakref__", "_kind", "_target", "_watch")

    def __init__(self, target: Any, kind: str, watch: _Watch) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_watch", watch)

    def __getattr__(self, name: str) -> Any:
        if name not in DOCUMENTED[self._kind]:
            self._watch.undocumented.append(f"{self._kind}.{name}")
        value = getattr(self._target, name)
        if not callable(value):
            return value
        watch = self._watch

        def call(*args: Any, **kwargs: Any) -> Any:
            watch.calls += 1
            return watch.wrap(value(*watch.unwrap(args), **watch.unwrap(kwargs)))

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        self._watch.undocumented.append(f"{self._kind}.{name} = ...")
        setattr(self._target, name, value)


class _Watch:
    def __init__(self) -> None:
        self.undocumented: list[str] = []
        self.calls = 0
        self.proxies: dict[int, _Watched] = {}

    def wrap(self, value: Any) -> Any:
        kinds = ((xlsxwriter.Workbook, "Workbook"), (Worksheet, "Worksheet"), (Chart, "Chart"))
        kinds += ((Format, "Format"),)
        if isinstance(value, list):
            return [self.wrap(v) for v in value]
        for cls, kind in kinds:
            if isinstance(value, cls):
                if id(value) not in self.proxies:
                    self.proxies[id(value)] = _Watched(value, kind, self)
                return self.proxies[id(value)]
        return value

    def unwrap(self, value: Any) -> Any:
        if isinstance(value, _Watched):
            return object.__getattribute__(value, "_target")
        if isinstance(value, dict):
            return {k: self.unwrap(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.unwrap(v) for v in value)
        return value


def _plans(template: Any) -> list[Any]:
    plans = demo_plans(template, seed=5, count=2, today=dt.date(2026, 3, 16))
    plans[0].lang, plans[1].lang = "en", "fr"
    plans[1].carried_over = [{"sheet": "Old", "cell": "B2", "label": "Budget", "value": 12.5}]
    for plan in plans:
        plan.generated_at = dt.datetime(2026, 3, 16, 9, tzinfo=dt.UTC)
    return plans


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    parts["docProps/core.xml"] = re.sub(
        rb"<dcterms:(created|modified)[^<]*<", b"", parts["docProps/core.xml"]
    )
    return parts


def test_the_writer_calls_only_documented_xlsxwriter_methods(template, tmp_path, monkeypatch):
    plans = _plans(template)
    plain = [write_plan(p, tmp_path / f"plain{i}.xlsm", template=template) for i, p in enumerate(plans)]
    watch = _Watch()
    monkeypatch.setattr(write_context, "Workbook", lambda *a, **k: watch.wrap(xlsxwriter.Workbook(*a, **k)))
    watched = [write_plan(p, tmp_path / f"watched{i}.xlsm", template=template) for i, p in enumerate(plans)]
    assert watch.calls > 5000  # every cell went through the watch
    assert not watch.undocumented, sorted(set(watch.undocumented))
    for a, b in zip(plain, watched, strict=True):  # the watch changed nothing in the workbooks
        assert _parts(a) == _parts(b)
    names = zipfile.ZipFile(watched[1]).namelist()
    assert "xl/vbaProject.bin" in names and any("table" in n for n in names)


def test_a_written_plan_frees_its_workbook(template, tmp_path, monkeypatch):
    """Writing many plans in one process (the demo, a CRM import, the benchmark) must not keep
    any: the per-process caches hold template-derived values, never a workbook or its sheets."""
    books: list[weakref.ref[Any]] = []

    def workbook(*args: Any, **kwargs: Any) -> Any:
        book = xlsxwriter.Workbook(*args, **kwargs)
        books.append(weakref.ref(book))
        return book

    monkeypatch.setattr(write_context, "Workbook", workbook)
    for i, plan in enumerate(_plans(template)):
        write_plan(plan, tmp_path / f"{i}.xlsm", template=template)
    gc.collect()
    assert len(books) == 2 and all(ref() is None for ref in books)


def test_per_template_cache_tells_objects_and_values_apart():
    from kamxl.memo import per_template

    calls: list[tuple] = []

    @per_template
    def worked_out(*args: object) -> int:
        calls.append(args)
        return len(calls)

    class Part:  # a template's table or column: compared by identity
        pass

    part, other = Part(), Part()
    assert worked_out(part, "en", True) == 1
    assert worked_out(part, "en", True) == 1  # from the cache
    assert worked_out(part, "en", 1) == 2  # 1 is not True
    assert worked_out(part, "fr", True) == 3
    assert worked_out(other, "en", True) == 4
    assert len(calls) == 4


def test_several_print_areas_and_the_page_width_without_xlsxwriter_internals(tmp_path):
    """Two print areas on a sheet whose name needs quoting, as Excel's ``Print_Area`` name; the
    printed width from the widths set through ``set_width`` (XlsxWriter cannot give them back)."""
    import openpyxl

    from kamxl.printing import print_areas, set_width, sheet_width

    path = tmp_path / "areas.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Plan d'action")
    plain = book.add_worksheet("Other")
    set_width(ws, 0, 1, 12)
    set_width(ws, 3, 3, 30)
    assert sheet_width(ws) == pytest.approx((2 * 89 + 64 + 215) / 7)  # column C at the default
    assert sheet_width(ws, 1) == pytest.approx(2 * 89 / 7)
    with pytest.raises(ValueError, match="'Other'"):
        sheet_width(plain)  # no width known: said, not guessed
    ws.write_string(0, 0, "x")
    print_areas(ws, [(3, 0, 20, 1), (10, 3, 20, 3)], book)
    print_areas(plain, [(0, 0, 5, 2)])
    book.close()
    wb = openpyxl.load_workbook(path)
    assert wb["Plan d'action"].print_area == "'Plan d''action'!$A$4:$B$21,'Plan d''action'!$D$11:$D$21"
    assert wb["Other"].print_area.endswith("!$A$1:$C$6")
    assert wb["Plan d'action"].column_dimensions["D"].width == pytest.approx(30.7109375)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_written_plan_passes_the_ooxml_schema_check(template, tmp_path, lang):
    """Every part of a filled plan, macros included, is valid against the OOXML schema."""
    import openxml_audit

    plan = next(p for p in demo_plans(template) if p.lang == lang)
    path = write_plan(plan, tmp_path / f"plan-{lang}.xlsm", template=template)
    result = openxml_audit.OpenXmlValidator(max_errors=0).validate(str(path))
    assert [f"{e.part_uri} {e.path}: {e.description}" for e in result.errors] == []
