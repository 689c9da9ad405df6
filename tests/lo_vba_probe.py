"""Report what LibreOffice sees of the VBA project and buttons of workbooks.

Run with the Python that has LibreOffice's ``uno`` module (Debian's
``/usr/bin/python3`` with ``python3-uno``), not the project's interpreter:

    /usr/bin/python3 tests/lo_vba_probe.py BOOK.xlsm [BOOK2.xlsm ...]

It starts a private headless LibreOffice (own profile in a temporary
folder, a named pipe, nothing on the network), opens each file with macros
allowed, and prints one JSON object on stdout:

    {"version": "...", "files": {PATH: {
        "vba_mode": bool, "project_name": str,
        "libraries": {LIB: {MODULE: {"type": int, "source": str}}},
        "buttons": [{"sheet", "name", "label", "events": [...]}],
        "error": str | null}}}

Every button event of script type "Script" gets ``resolves``: whether
LibreOffice's script provider finds the bound macro. Exit code 0 when the
probe ran (per-file problems are reported in the JSON), 2 when LibreOffice
could not be started or reached.
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
import uuid
from pathlib import Path

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

SOFFICE = os.environ.get("KAMXL_SOFFICE", shutil.which("soffice") or "/usr/bin/soffice")
CONNECT_TIMEOUT = 90.0
ALWAYS_EXECUTE_NO_WARN = 4  # com.sun.star.document.MacroExecMode


def _prop(name: str, value: object) -> PropertyValue:
    prop = PropertyValue()
    prop.Name = name
    prop.Value = value
    return prop


def _connect(pipe: str, process: subprocess.Popen[bytes]) -> object:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + CONNECT_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"soffice exited with code {process.returncode} before accepting")
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception as exc:  # NoConnectException until soffice listens
            last_error = exc
            time.sleep(0.2)
    raise RuntimeError(f"could not connect to soffice within {CONNECT_TIMEOUT:.0f} s: {last_error}")


def _libraries(doc: object) -> tuple[bool, str, dict[str, dict[str, dict[str, object]]]]:
    container = doc.BasicLibraries
    vba_mode = bool(getattr(container, "VBACompatibilityMode", False))
    project_name = str(getattr(container, "ProjectName", "") or "")
    result: dict[str, dict[str, dict[str, object]]] = {}
    for lib_name in container.ElementNames:
        if not container.isLibraryLoaded(lib_name):
            container.loadLibrary(lib_name)
        lib = container.getByName(lib_name)
        modules: dict[str, dict[str, object]] = {}
        for module_name in lib.ElementNames:
            module_type = None
            try:
                if lib.hasModuleInfo(module_name):
                    module_type = int(lib.getModuleInfo(module_name).ModuleType)
            except Exception:
                module_type = None
            modules[module_name] = {"type": module_type, "source": str(lib.getByName(module_name))}
        result[lib_name] = modules
    return vba_mode, project_name, result


def _buttons(doc: object) -> list[dict[str, object]]:
    provider = doc.getScriptProvider()
    buttons: list[dict[str, object]] = []
    for sheet_name in doc.Sheets.ElementNames:
        sheet = doc.Sheets.getByName(sheet_name)
        forms = sheet.DrawPage.Forms
        for f in range(forms.Count):
            form = forms.getByIndex(f)
            for c in range(form.Count):
                control = form.getByIndex(c)
                events = []
                for event in form.getScriptEvents(c):
                    item: dict[str, object] = {
                        "listener": event.ListenerType,
                        "method": event.EventMethod,
                        "script_type": event.ScriptType,
                        "script": event.ScriptCode,
                    }
                    if event.ScriptType == "Script" and event.ScriptCode.startswith("vnd.sun.star.script:"):
                        try:
                            provider.getScript(event.ScriptCode)
                            item["resolves"] = True
                        except Exception as exc:
                            item["resolves"] = False
                            item["resolve_error"] = str(exc)
                    events.append(item)
                buttons.append(
                    {
                        "sheet": sheet_name,
                        "form": form.Name,
                        "name": control.Name,
                        "label": str(getattr(control, "Label", "") or ""),
                        "events": events,
                    }
                )
    return buttons


def _probe(desktop: object, path: str) -> dict[str, object]:
    url = uno.systemPathToFileUrl(str(Path(path).resolve()))
    props = (_prop("Hidden", True), _prop("MacroExecutionMode", ALWAYS_EXECUTE_NO_WARN))
    doc = desktop.loadComponentFromURL(url, "_blank", 0, props)
    if doc is None:
        return {"error": "LibreOffice could not load the file"}
    try:
        vba_mode, project_name, libraries = _libraries(doc)
        return {
            "vba_mode": vba_mode,
            "project_name": project_name,
            "libraries": libraries,
            "buttons": _buttons(doc),
            "error": None,
        }
    finally:
        doc.close(True)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    profile = Path(tempfile.mkdtemp(prefix="kamxl-lo-profile-"))
    pipe = f"kamxl_vba_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    command = [
        SOFFICE,
        "--headless",
        "--invisible",
        "--norestore",
        "--nologo",
        "--nodefault",
        "--nolockcheck",
        f"-env:UserInstallation={profile.as_uri()}",
        f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    desktop = None
    try:
        try:
            ctx = _connect(pipe, process)
        except RuntimeError as exc:
            print(json.dumps({"error": str(exc)}))
            return 2
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        report: dict[str, object] = {"files": {}}
        try:
            provider = ctx.ServiceManager.createInstanceWithContext(
                "com.sun.star.configuration.ConfigurationProvider", ctx
            )
            access = provider.createInstanceWithArguments(
                "com.sun.star.configuration.ConfigurationAccess",
                (_prop("nodepath", "/org.openoffice.Setup/Product"),),
            )
            report["version"] = f"{access.ooSetupVersionAboutBox}"
        except Exception:
            report["version"] = None
        files: dict[str, object] = {}
        for path in argv:
            try:
                files[path] = _probe(desktop, path)
            except Exception as exc:
                files[path] = {"error": f"{type(exc).__name__}: {exc}"}
        report["files"] = files
        print(json.dumps(report))
        return 0
    finally:
        if desktop is not None:
            with contextlib.suppress(Exception):  # the bridge drops when soffice exits
                desktop.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
