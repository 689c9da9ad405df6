"""How fast ``read_plan`` is, against openpyxl's read-only mode on the same workbooks, same run.

Usage: python benchmarks/bench_read.py [WORKBOOK...] [--repeat N]
Without workbooks it writes an empty and a full plan (English and French) to a temporary folder,
each also as Excel saves it (:mod:`tests.excel_dialect`), the dialect KAMs' plans are in.
Prints, per workbook, the median time of each reader and their ratio (read_plan / openpyxl).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kamxl.model import new_plan
from kamxl.reader import read_plan
from kamxl.template import get_template
from kamxl.writer import write_plan


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches (template, imports)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def openpyxl_read(path: Path) -> None:
    """The fair baseline: every sheet's values, read-only, cached values only."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    for sheet in book.worksheets:
        for _ in sheet.iter_rows(values_only=True):
            pass
    book.close()


def sample_workbooks(folder: Path) -> list[Path]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from excel_dialect import to_excel
    from plan_factory import random_plan

    template = get_template()
    paths = []
    for lang in ("en", "fr"):
        paths.append(write_plan(new_plan(template, lang, client_name="Empty"), folder / f"empty-{lang}.xlsx"))
        full = random_plan(template, seed=7, lang=lang, fullness=1.0)
        paths.append(write_plan(full, folder / f"full-{lang}.xlsx"))
    for path in list(paths):
        saved = path.with_name(f"excel-{path.name}")
        saved.write_bytes(to_excel(path.read_bytes()))
        paths.append(saved)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbooks", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        paths = args.workbooks or sample_workbooks(Path(tmp))
        print(f"{'workbook':<28} {'read_plan ms':>12} {'openpyxl ms':>12} {'ratio':>7}")
        for path in paths:
            ours = median_ms(lambda p=path: read_plan(p), args.repeat)
            theirs = median_ms(lambda p=path: openpyxl_read(p), args.repeat)
            print(f"{path.name[:28]:<28} {ours:>12.2f} {theirs:>12.2f} {ours / theirs:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
