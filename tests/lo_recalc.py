"""Recalculate workbooks in LibreOffice and report what its formulas give.

Run by the system Python that has LibreOffice's ``uno`` module:
``/usr/bin/python3 tests/lo_recalc.py OUT.json FILE...``. For each file it writes the value of
every workbook-level defined name and every formula cell holding an error value after a full
recalculation. With ``--save-as-xlsx DIR`` it also saves each recalculated file there (a
workbook written by a different program, for round-trip tests); with ``--pdf DIR`` it exports
each recalculated workbook to PDF, to look at it as a KAM would; with ``--cells`` it also writes the
value of every formula cell (``cells``: sheet -> A1 address -> value), to compare with the values
cached in the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.sheet.CellFlags import FORMULA  # type: ignore[import-not-found]


def prop(name: str, value: object) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(pipe: str, profile: str) -> tuple[subprocess.Popen, object]:
    proc = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            f"-env:UserInstallation=file://{profile}",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.time() + 60
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("LibreOffice did not start") from None
            time.sleep(0.2)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    return proc, desktop


def cell_value(cell: object) -> object:
    if cell.getError():
        return {"error": cell.getError(), "text": cell.getString()}
    if cell.getType().value == "TEXT" or (cell.getFormula().startswith("=") and cell.FormulaResultType2 == 2):
        return cell.getString()
    return cell.getValue()


def formula_cells(doc: object) -> dict[str, dict[str, object]]:
    """Every formula cell's recalculated value, by sheet and A1 address."""
    out: dict[str, dict[str, object]] = {}
    sheets = doc.Sheets
    for i in range(sheets.getCount()):
        sheet = sheets.getByIndex(i)
        values: dict[str, object] = {}
        for rng in sheet.queryContentCells(FORMULA).getRangeAddresses():
            for r in range(rng.StartRow, rng.EndRow + 1):
                for c in range(rng.StartColumn, rng.EndColumn + 1):
                    cell = sheet.getCellByPosition(c, r)
                    values[cell.AbsoluteName.split(".")[-1].replace("$", "")] = cell_value(cell)
        out[sheet.getName()] = values
    return out


def inspect(doc: object) -> dict[str, object]:
    names: dict[str, object] = {}
    ranges = doc.NamedRanges
    for name in ranges.getElementNames():
        try:
            cells = ranges.getByName(name).getReferredCells()
        except Exception:
            continue
        if cells is None:
            continue
        cell = cells.getCellByPosition(0, 0)
        names[name] = cell_value(cell)
    errors = []
    sheets = doc.Sheets
    for i in range(sheets.getCount()):
        sheet = sheets.getByIndex(i)
        formulas = sheet.queryContentCells(FORMULA)
        for rng in formulas.getRangeAddresses():
            for r in range(rng.StartRow, rng.EndRow + 1):
                for c in range(rng.StartColumn, rng.EndColumn + 1):
                    cell = sheet.getCellByPosition(c, r)
                    if cell.getError():
                        errors.append(
                            {
                                "sheet": sheet.getName(),
                                "row": r + 1,
                                "col": c,
                                "error": cell.getError(),
                                "formula": cell.getFormula(),
                            }
                        )
    return {"names": names, "errors": errors}


def main(argv: list[str]) -> int:
    save_dir = pdf_dir = None
    cells = False
    while argv and argv[0] in ("--save-as-xlsx", "--pdf", "--cells"):
        if argv[0] == "--cells":
            cells, argv = True, argv[1:]
            continue
        if argv[0] == "--pdf":
            pdf_dir = argv[1]
        else:
            save_dir = argv[1]
        argv = argv[2:]
    out_path, files = argv[0], argv[1:]
    profile = tempfile.mkdtemp(prefix="kamxl-lo-")
    pipe = f"kamxl{os.getpid()}"
    proc, desktop = connect(pipe, profile)
    results: dict[str, object] = {}
    try:
        for path in files:
            url = uno.systemPathToFileUrl(os.path.abspath(path))
            doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
            if doc is None:
                results[path] = {"load_error": True}
                continue
            try:
                doc.calculateAll()
                results[path] = inspect(doc)
                if cells:
                    results[path]["cells"] = formula_cells(doc)
                if pdf_dir:
                    stem = os.path.splitext(os.path.basename(path))[0]
                    target = os.path.join(pdf_dir, stem + ".pdf")
                    doc.storeToURL(
                        uno.systemPathToFileUrl(os.path.abspath(target)),
                        (prop("FilterName", "calc_pdf_Export"),),
                    )
                if save_dir:
                    target = os.path.join(save_dir, os.path.basename(path))
                    doc.storeToURL(
                        uno.systemPathToFileUrl(os.path.abspath(target)),
                        (prop("FilterName", "Calc Office Open XML"),),
                    )
            finally:
                doc.close(True)
    finally:
        with contextlib.suppress(Exception):
            desktop.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(results, fh, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
