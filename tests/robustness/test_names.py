"""Generated file names: hostile account names never give a name kamxl, Excel or Windows treat specially."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kamxl.paths import BACKUP_NAME, MAX_STEM, backup_path, safe_filename
from kamxl.rollup.discover import BACKUP_NAME as DISCOVERY_BACKUP_NAME
from kamxl.rollup.discover import ignore_reason

HOSTILE = [
    "~$lock",
    "~lock",
    "evil.bak-20260101-000000",
    "evil.BAK-20260101-000000.",
    "=cmd|' /C calc'!A0",
    "+SUM(1)",
    "-2+3",
    "@SUM(A1)",
    " = leading space then formula",
    ".hidden",
    "..",
    ".",
    "",
    "   ",
    "\t\n",
    ".kamxl-tmp",
    ".~lock.plan.xlsm#",
    "Acme [EMEA]",
    "[Book1]Sheet1",
    "CON",
    "con",
    "NUL.txt",
    "aux.",
    "COM1",
    "LPT9.tar.gz",
    "COM¹",
    "CONIN$",
    "PRN  ",
    "name. . .",
    "trailing dots...",
    "Acme\x01Corp",
    "\x00\x1f\x7f",
    "bell\x07and\x1bescape",
    "right\u202eto-left override",
    "zero\u200bwidth",
    "lone \udcff surrogate",
    'a/b\\c:d*e?f"g<h>i|j',
    "../../etc/passwd",
    "C:\\Windows\\System32",
    "x" * 300,
    "é" * 300,
    "😀" * 300,
    "e\u0301" * 100,  # decomposed accents (macOS)
    "Groupe Exemple SA",
]


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def assert_safe(name: str, suffix: str = ".xlsm") -> None:
    stem = name[: -len(suffix)] if suffix else name
    assert name.endswith(suffix)
    assert stem and stem.strip() == stem, name
    assert not stem.startswith((".", "~", "=", "+", "-", "@", " ")), name
    assert not stem.endswith((".", " ")), name
    assert not BACKUP_NAME.search(stem + ".xlsm") and not DISCOVERY_BACKUP_NAME.search(stem + ".xlsx"), name
    assert not re.search(r'[\[\]<>:"/\\|?*]', name), name
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs") for ch in name), repr(name)
    base = stem.split(".")[0].rstrip(" ").upper()
    assert base not in {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}, name
    assert not re.fullmatch(r"(COM|LPT)[1-9¹²³]", base), name
    assert _units(stem) <= MAX_STEM and len(name.encode("utf-8")) <= 255, name
    assert unicodedata.is_normalized("NFC", name)
    name.encode("utf-8")  # no lone surrogate: every file system can store it


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_names_give_safe_names(hostile: str) -> None:
    assert_safe(safe_filename(hostile, ".xlsm"))
    assert_safe(safe_filename(hostile, ""), "")  # folder names (--by-kam)


@given(st.text(max_size=400))
def test_any_text_gives_a_safe_name(text: str) -> None:
    assert_safe(safe_filename(text, ".xlsm"))


def test_names_keep_what_the_account_is_called() -> None:
    assert safe_filename("Groupe Exemple SA", ".xlsm") == "Groupe Exemple SA.xlsm"
    assert safe_filename("Acme [EMEA]") == "Acme (EMEA).xlsx"
    assert safe_filename("~$lock") == "$lock.xlsx"
    assert safe_filename("evil.bak-20260101-000000") == "evil bak-20260101-000000.xlsx"
    assert safe_filename("=cmd|' /C calc'!A0") == "cmd ' C calc'!A0.xlsx"
    assert safe_filename("CON") == "_CON.xlsx"
    assert safe_filename("Acme\x01Corp") == "Acme Corp.xlsx"
    assert safe_filename("") == safe_filename("...") == "account.xlsx"
    assert safe_filename("e\u0301cole") == "\u00e9cole.xlsx"


def test_long_names_are_cut_on_whole_characters() -> None:
    name = safe_filename("😀" * 300, "")
    assert name == "😀" * (MAX_STEM // 2)
    assert safe_filename("a" * 79 + "😀", "") == "a" * 79  # the emoji would need two units


def test_generated_names_are_read_by_the_roll_up(tmp_path: Path) -> None:
    """Discovery would ignore a lock file, hidden file, temporary file or backup: never a generated name."""
    for hostile in HOSTILE:
        (tmp_path / safe_filename(hostile, ".xlsm")).touch()
    with os.scandir(tmp_path) as entries:
        ignored = {e.name: ignore_reason(e) for e in entries if ignore_reason(e)}
    assert ignored == {}
    assert BACKUP_NAME.search(backup_path(tmp_path / "Acme.xlsm").name)
