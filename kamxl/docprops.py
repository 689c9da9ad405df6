"""Custom document properties of a workbook (``docProps/custom.xml``), read without opening it.

kamxl marks what it writes there: the kind of workbook (a portfolio summary is not an account
plan) and the xlwings version of the embedded VBA, which ``kamxl doctor`` compares with the
installed package when oletools is not at hand to read the VBA itself.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

KIND = "kamxl_kind"
SUMMARY_KIND = "portfolio-summary"  # the KIND of a portfolio summary: a roll-up skips its own output
XLWINGS_VERSION = "kamxl_xlwings_version"
_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"


def custom_properties(path: str | Path) -> dict[str, str]:
    """Name -> value as text; empty when the file has none or is not a readable workbook."""
    try:
        with zipfile.ZipFile(path) as archive:
            root = ElementTree.fromstring(archive.read("docProps/custom.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return {}
    found = {}
    for prop in root.iter(f"{_NS}property"):
        name = prop.get("name")
        value = next(iter(prop), None)
        if name and value is not None:
            found[name] = (value.text or "").strip()
    return found
