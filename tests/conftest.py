"""Shared fixtures: the template, and LibreOffice as the real spreadsheet engine.

LibreOffice tests skip when it is missing, unless ``KAMXL_REQUIRE_LIBREOFFICE=1`` (set in CI),
where a missing LibreOffice fails them instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from kamxl.template import Template, load_template

HERE = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="session")
def template() -> Template:
    return load_template()


def libreoffice_missing() -> str | None:
    if not shutil.which("soffice"):
        return "soffice is not installed (apt-get install libreoffice-calc-nogui)"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    if probe.returncode:
        return "python3-uno is not installed for /usr/bin/python3 (apt-get install python3-uno)"
    return None


def require_libreoffice() -> None:
    reason = libreoffice_missing()
    if reason:
        if os.environ.get("KAMXL_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"LibreOffice is required here: {reason}")
        pytest.skip(reason)


def recalc(
    files: list[Path],
    *,
    save_as_xlsx: Path | None = None,
    pdf: Path | None = None,
    cells: bool = False,
) -> dict[str, dict]:
    """Recalculate workbooks in one LibreOffice session; returns names and error cells per file."""
    require_libreoffice()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [SYSTEM_PYTHON, str(HERE / "lo_recalc.py")]
        if save_as_xlsx:
            cmd += ["--save-as-xlsx", str(save_as_xlsx)]
        if pdf:
            cmd += ["--pdf", str(pdf)]
        if cells:
            cmd += ["--cells"]
        subprocess.run([*cmd, str(out), *map(str, files)], check=True, timeout=600)
        data = json.loads(out.read_text())
    return {str(Path(k)): v for k, v in data.items()}


@pytest.fixture(scope="session")
def lo_recalc():
    return recalc


def vba_probe(files: list[Path]) -> dict[str, dict]:
    """What LibreOffice sees of each workbook's VBA: libraries, module sources, buttons and their macros."""
    require_libreoffice()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    out = subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "lo_vba_probe.py"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=True,
    )
    return json.loads(out.stdout)["files"]


def assert_button_runs(info: dict, sheet: str, macro: str) -> None:
    """The sheet holds exactly one button bound to ``macro`` of KamxlButtons, which LibreOffice resolves."""
    assert info["error"] is None
    assert f"Sub {macro}()" in info["libraries"]["VBAProject"]["KamxlButtons"]["source"]
    (button,) = [
        b
        for b in info["buttons"]
        if b["sheet"] == sheet and any(f"KamxlButtons.{macro}?" in str(e.get("script")) for e in b["events"])
    ]
    (event,) = [e for e in button["events"] if e["method"] == "actionPerformed"]
    assert event["script"].startswith(f"vnd.sun.star.script:VBAProject.KamxlButtons.{macro}?")
    assert event["resolves"] is True
