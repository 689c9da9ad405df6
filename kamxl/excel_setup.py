"""Set-up and diagnosis of the Excel buttons (``kamxl excel-setup`` and ``kamxl doctor``).

The buttons run Python through xlwings' ``RunPython``, and they fail on users' machines for a
handful of reasons: Excel cannot find the interpreter, that interpreter lacks xlwings or
kamxl, the xlwings VBA inside the workbook and the xlwings package differ in version, RunPython
is not installed on macOS, or Excel blocks the workbook's macros because of where the file
came from. Each check here is a small function returning a :class:`Check` with the fix to
apply, and everything that touches the machine (home folder, platform, running a program,
reading a file's zone) is passed in, so the checks are tested anywhere.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import locale
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Literal

from .docprops import XLWINGS_VERSION, custom_properties
from .fileio import atomic_copy, atomic_write_text

Status = Literal["ok", "warn", "fail"]
Runner = Callable[[list[str]], tuple[int, str, str]]

CONFIG_NAME = "xlwings.conf"
MAC_SCRIPTS = Path("Library", "Application Scripts", "com.microsoft.Excel")
MAC_CONTAINER = Path("Library", "Containers", "com.microsoft.Excel", "Data")
IMPORT_PROBE = "import xlwings, kamxl; print(xlwings.__version__)"
_CONFIG_LINE = re.compile(r'^\s*"([^"]*)"\s*,\s*"([^"]*)"')
_ZONE = re.compile(r"^\s*ZoneId\s*=\s*(\d+)", re.MULTILINE | re.IGNORECASE)
ZONES = {
    0: "this computer",
    1: "the local intranet",
    2: "a trusted site",
    3: "the internet",
    4: "a restricted site",
}


class SetupError(RuntimeError):
    """Set-up cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Check:
    """One diagnosis: its status, what was found, and how to fix it when it is not ok."""

    name: str
    status: Status
    message: str
    fix: str = ""


@dataclass(frozen=True)
class Machine:
    """The computer being set up or diagnosed: passed in so tests can fake any platform."""

    system: Literal["windows", "macos", "other"]
    home: Path
    executable: str

    @classmethod
    def current(cls) -> Machine:
        system: Literal["windows", "macos", "other"] = (
            "windows" if sys.platform == "win32" else "macos" if sys.platform == "darwin" else "other"
        )
        return cls(system, Path.home(), sys.executable)

    @property
    def config_file(self) -> Path:
        """The xlwings user config the VBA reads: Excel for Mac is sandboxed in its container."""
        if self.system == "macos":
            return self.home / MAC_CONTAINER / CONFIG_NAME
        return self.home / ".xlwings" / CONFIG_NAME

    @property
    def interpreter_key(self) -> str:
        return "INTERPRETER_MAC" if self.system == "macos" else "INTERPRETER_WIN"

    @property
    def scripts_folder(self) -> Path:
        """Where ``xlwings runpython install`` puts the AppleScript that RunPython calls on macOS."""
        return self.home / MAC_SCRIPTS


# -- xlwings, as installed --------------------------------------------------------------------------
def installed_xlwings_version() -> str | None:
    """Version of the xlwings package of this Python, without importing it."""
    try:
        return importlib.metadata.version("xlwings")
    except importlib.metadata.PackageNotFoundError:
        return None


def xlwings_folder() -> Path | None:
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def applescript_name(version: str) -> str:
    """The file the xlwings VBA of that version calls on macOS (``AppleScriptTask``)."""
    return f"xlwings-{version}.applescript"


# -- the xlwings config file ----------------------------------------------------------------------
def _encoding() -> str:
    """The VBA reads the file with ``Input #``, in the system's ANSI code page, as xlwings writes it."""
    return locale.getpreferredencoding(False)


def read_config(path: Path) -> dict[str, str]:
    """``"KEY","value"`` lines of an xlwings config file; keys upper-cased (the VBA ignores case)."""
    if not path.is_file():
        return {}
    config: dict[str, str] = {}
    for line in path.read_text(encoding=_encoding(), errors="surrogateescape").splitlines():
        m = _CONFIG_LINE.match(line)
        if m:
            config.setdefault(m.group(1).upper(), m.group(2))
    return config


def set_config_value(path: Path, key: str, value: str) -> bool:
    """Set one key, keeping every other line as it was; returns whether the file changed.

    Written atomically: Excel may read the file at any moment.
    """
    if '"' in value or "\n" in value:
        raise SetupError(f"cannot store {value!r} in {path}: quotes and line breaks are not allowed")
    enc = _encoding()
    old = path.read_text(encoding=enc, errors="surrogateescape") if path.is_file() else ""
    lines, found = [], False
    for line in old.splitlines():
        m = _CONFIG_LINE.match(line)
        if m and m.group(1).upper() == key.upper():
            if not found:
                lines.append(f'"{key}","{value}"')
            found = True
        else:
            lines.append(line)
    if not found:
        lines.append(f'"{key}","{value}"')
    new = "\n".join(lines) + "\n"
    if new == old:
        return False
    atomic_write_text(path, new, encoding=enc, errors="surrogateescape")
    return True


# -- kamxl excel-setup ----------------------------------------------------------------------------
def install_runpython(machine: Machine, version: str | None = None, source: Path | None = None) -> Path:
    """What ``xlwings runpython install`` does: copy xlwings' AppleScript where Excel for Mac looks."""
    version = version or installed_xlwings_version()
    folder = source or xlwings_folder()
    if version is None or folder is None:
        raise SetupError("xlwings is not installed for this Python: run  python -m pip install kamxl")
    script = folder / applescript_name(version)
    if not script.is_file():
        raise SetupError(f"{script} is missing: reinstall xlwings ({version}) for this Python")
    machine.scripts_folder.mkdir(parents=True, exist_ok=True)
    return atomic_copy(script, machine.scripts_folder / script.name)


def excel_setup(
    machine: Machine | None = None, *, runpython: bool = True, xlwings_source: Path | None = None
) -> list[str]:
    """Point xlwings at this Python (and on macOS install RunPython); returns what was done."""
    machine = machine or Machine.current()
    if machine.system == "other":
        raise SetupError(
            "Excel runs on Windows and macOS only: nothing to configure on this computer. "
            "Run  kamxl excel-setup  on each KAM's computer, with the Python that has kamxl."
        )
    if installed_xlwings_version() is None:
        raise SetupError("xlwings is not installed for this Python: run  python -m pip install kamxl")
    done = []
    path = machine.config_file
    changed = set_config_value(path, machine.interpreter_key, machine.executable)
    verb = "set" if changed else "already set"
    done.append(f"{machine.interpreter_key} {verb} to {machine.executable} in {path}")
    if machine.system == "macos":
        if runpython:
            target = install_runpython(machine, source=xlwings_source)
            done.append(f"RunPython installed: {target}")
        else:
            done.append("RunPython not installed (asked not to): run  xlwings runpython install")
    return done


# -- kamxl doctor ---------------------------------------------------------------------------------
def _run(cmd: list[str]) -> tuple[int, str, str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def _quote(path: str) -> str:
    return f'"{path}"' if " " in path else path


def _conda_interpreter(config: dict[str, str]) -> str | None:
    base, env = config.get("CONDA PATH"), config.get("CONDA ENV")
    if not base:
        return None
    root = PureWindowsPath(os.path.expandvars(base))
    return str(root / "python.exe" if env in (None, "", "base") else root / "envs" / env / "python.exe")


def check_system(machine: Machine) -> Check:
    if machine.system == "other":
        return Check(
            "system",
            "warn",
            "Excel runs on Windows and macOS: the buttons cannot run on this computer "
            "(the kamxl commands and the workbooks' live formulas work everywhere).",
            "Run  kamxl doctor  on the KAM's Windows or Mac computer.",
        )
    return Check(
        "system", "ok", f"{'Windows' if machine.system == 'windows' else 'macOS'}, {machine.executable}"
    )


def check_interpreter(
    machine: Machine, workbook: Path | None = None, which: Callable[[str], str | None] = shutil.which
) -> tuple[Check, str | None]:
    """Which Python Excel will start, read the way the xlwings VBA reads it; and whether it exists."""
    key = machine.interpreter_key
    sources = [machine.config_file]
    if workbook is not None:
        sources.insert(0, workbook.parent / CONFIG_NAME)  # a folder config wins over the user's
    for path in sources:
        config = read_config(path)
        value = config.get(key) or config.get("INTERPRETER")
        shown = f"{key} in {path}"
        if not value and machine.system == "windows" and (conda := _conda_interpreter(config)):
            value, shown = conda, f"CONDA PATH / CONDA ENV in {path}"
        if not value:
            continue
        value = os.path.expandvars(value)
        if Path(value).is_file() or (machine.system == "windows" and which(value)):
            return Check("interpreter", "ok", f"Excel runs {value} ({shown})"), value
        return (
            Check(
                "interpreter",
                "fail",
                f"{shown} is {value}, which does not exist: Excel cannot start Python.",
                "Run  kamxl excel-setup  with the Python that has kamxl installed.",
            ),
            None,
        )
    fix = "Run  kamxl excel-setup  with the Python that has kamxl installed."
    if machine.system == "windows" and (found := which("python")):
        return (
            Check(
                "interpreter",
                "warn",
                f"No {key} in {machine.config_file}: Excel runs 'python' from the PATH ({found}), "
                "which may be another Python than the one with kamxl.",
                fix,
            ),
            found,
        )
    return (
        Check("interpreter", "fail", f"No {key} in {machine.config_file}: Excel cannot find Python.", fix),
        None,
    )


def check_packages(interpreter: str, run: Runner = _run) -> tuple[Check, str | None]:
    """Whether that Python imports xlwings and kamxl; returns its xlwings version."""
    code, out, err = run([interpreter, "-c", IMPORT_PROBE])
    if code == 0 and out.strip():
        version = out.strip().splitlines()[-1].strip()
        return Check("packages", "ok", f"{interpreter} has kamxl and xlwings {version}"), version
    last = (err.strip().splitlines() or ["it did not start"])[-1]
    missing = re.search(r"No module named '([\w.]+)'", last)
    what = f"cannot import {missing.group(1).split('.')[0]}" if missing else f"failed: {last}"
    return (
        Check(
            "packages",
            "fail",
            f"{interpreter} {what}.",
            f"{_quote(interpreter)} -m pip install kamxl   (xlwings comes with it)",
        ),
        None,
    )


def read_vba_modules(path: Path) -> dict[str, str] | None:
    """VBA modules of a workbook by name, or None when it has no macros. Needs oletools."""
    import logging

    from oletools.olevba import VBA_Parser

    logging.getLogger("olevba").setLevel(logging.CRITICAL)
    parser = VBA_Parser(str(path))
    try:
        if not parser.detect_vba_macros():
            return None
        modules: dict[str, str] = {}
        for _file, _stream, vba_filename, code in parser.extract_macros():
            name = vba_filename.rsplit(".", 1)[0]
            modules[name] = code.decode("latin-1") if isinstance(code, bytes) else code
        return modules
    finally:
        parser.close()


def embedded_xlwings_version(modules: dict[str, str]) -> str | None:
    """Version of the xlwings VBA module among a workbook's modules (its XLWINGS_VERSION constant)."""
    from .vba import xlwings_vba_version

    ordered = sorted(modules.items(), key=lambda kv: kv[0].lower() != "xlwings")
    for _name, source in ordered:
        try:
            return xlwings_vba_version(source)
        except ValueError:
            continue
    return None


def check_workbook_vba(
    workbook: Path,
    python_version: str | None,
    read_modules: Callable[[Path], dict[str, str] | None] = read_vba_modules,
    *,
    strict: bool = True,
) -> tuple[Check, str | None]:
    """The xlwings VBA inside the workbook should be the version of the Python package it calls.

    On macOS a mismatch stops the button (the VBA calls an AppleScript named after its own
    version), and so it does on Windows with ``USE UDF SERVER`` (the VBA loads
    ``xlwings64-<version>.dll``): ``strict`` makes it a failure. Otherwise Windows' RunPython
    starts Python on the command line and still works: a warning.
    """
    name = "workbook macros"
    try:
        modules = read_modules(workbook)
        version = embedded_xlwings_version(modules) if modules is not None else None
    except ImportError:  # no oletools: trust what kamxl recorded when it embedded the VBA
        version = custom_properties(workbook).get(XLWINGS_VERSION)
        modules = {}
        if version is None:
            return (
                Check(
                    name,
                    "warn",
                    "oletools is not installed: the workbook's macros were not checked.",
                    "python -m pip install oletools",
                ),
                None,
            )
    except Exception as exc:  # any unreadable file is a finding, not a crash
        return Check(name, "fail", f"{workbook} cannot be read: {exc}", "Check the path and the file."), None
    if modules is None:
        return (
            Check(
                name,
                "warn",
                f"{workbook.name} has no macros: no buttons, but its live formulas work.",
                "Write it again as a macro-enabled workbook (.xlsm, without --no-macros) to get the buttons.",
            ),
            None,
        )
    if version is None:
        return (
            Check(
                name,
                "fail",
                f"{workbook.name} has macros but no xlwings module: its buttons cannot call Python.",
                "Write the workbook again with kamxl.",
            ),
            None,
        )
    if python_version is None:
        return Check(name, "ok", f"{workbook.name} carries the xlwings {version} VBA module"), version
    if version != python_version:
        effect = (
            "the button cannot start RunPython"
            if strict
            else "RunPython still starts, but keep them equal so the workbook also works on a Mac"
        )
        return (
            Check(
                name,
                "fail" if strict else "warn",
                f"{workbook.name} carries the xlwings {version} VBA module but Python has xlwings "
                f"{python_version}: {effect}.",
                f'Install the same version:  python -m pip install "xlwings=={version}"  '
                "(with the Python Excel runs), or write the workbook again with this kamxl.",
            ),
            version,
        )
    return Check(name, "ok", f"{workbook.name}: xlwings {version} in the VBA and in Python"), version


def check_runpython_mac(machine: Machine, version: str | None) -> Check:
    """On macOS the xlwings VBA calls an AppleScript named after its own version."""
    if version is None:
        return Check(
            "RunPython",
            "fail",
            "The xlwings version is unknown, so RunPython cannot be checked.",
            "Fix the checks above first.",
        )
    script = machine.scripts_folder / applescript_name(version)
    if script.is_file():
        return Check("RunPython", "ok", f"installed: {script}")
    others = sorted(p.name for p in machine.scripts_folder.glob("xlwings-*.applescript"))
    seen = f" (found only {', '.join(others)})" if others else ""
    return Check(
        "RunPython",
        "fail",
        f"RunPython for xlwings {version} is not installed: {script} is missing{seen}.",
        f"Run  kamxl excel-setup  (or  xlwings runpython install)  with xlwings {version}.",
    )


def read_zone_identifier(path: Path) -> str | None:
    """The Mark of the Web: the ``Zone.Identifier`` alternate data stream Windows adds to downloads."""
    try:
        with open(f"{path}:Zone.Identifier", encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def is_network_path(path: Path) -> bool:
    """A UNC path or a mapped network drive (on Windows)."""
    text = str(path)
    if text.startswith(("\\\\", "//")):
        return True
    if sys.platform != "win32":
        return False
    import ctypes

    drive = os.path.splitdrive(os.path.abspath(text))[0]
    return bool(drive) and ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == 4  # DRIVE_REMOTE


def check_blocked(
    workbook: Path,
    read_zone: Callable[[Path], str | None] = read_zone_identifier,
    network: Callable[[Path], bool] = is_network_path,
) -> Check:
    """Windows blocks macros in files from the internet, and often in files on network shares."""
    name = "macros allowed"
    zone = read_zone(workbook)
    m = _ZONE.search(zone or "")
    if m and int(m.group(1)) >= 3:
        where = ZONES.get(int(m.group(1)), "the internet")
        return Check(
            name,
            "fail",
            f"Windows marks {workbook.name} as coming from {where} (Mark of the Web): "
            "Excel blocks its macros, so the buttons do nothing.",
            "Close the workbook, right-click the file > Properties > tick 'Unblock' > OK; or in PowerShell:  "
            f"Unblock-File -Path '{workbook}'   (a whole folder:  "
            f"Get-ChildItem -Path '{workbook.parent}' -Recurse | Unblock-File).",
        )
    if network(workbook):
        return Check(
            name,
            "warn",
            f"{workbook.name} is on a network share: "
            "Excel may block its macros or open it in Protected View.",
            "Trust the folder: File > Options > Trust Center > Trust Center Settings > Trusted Locations > "
            f"tick 'Allow Trusted Locations on my network' > Add new location > {workbook.parent}. "
            "Or ask IT to add the file server to the Local intranet zone.",
        )
    return Check(name, "ok", f"{workbook.name} is not marked as coming from the internet")


def doctor(
    workbook: str | Path | None = None,
    machine: Machine | None = None,
    *,
    run: Runner | None = None,
    which: Callable[[str], str | None] | None = None,
    read_modules: Callable[[Path], dict[str, str] | None] | None = None,
    read_zone: Callable[[Path], str | None] | None = None,
    network: Callable[[Path], bool] | None = None,
) -> list[Check]:
    """Every check, in the order a user fixes them. The callables default to the real machine."""
    machine = machine or Machine.current()
    run = run or _run
    which = which or shutil.which
    read_modules = read_modules or read_vba_modules
    read_zone = read_zone or read_zone_identifier
    network = network or is_network_path
    book = Path(workbook) if workbook is not None else None
    checks = [check_system(machine)]
    if machine.system == "other":
        interpreter: str | None = machine.executable
    else:
        check, interpreter = check_interpreter(machine, book, which)
        checks.append(check)
    python_version = None
    if interpreter is not None:
        check, python_version = check_packages(interpreter, run)
        checks.append(check)
    vba_version = None
    if book is not None:
        if problem := workbook_problem(book):
            checks.append(Check("workbook", "fail", problem, WORKBOOK_FIX))
        else:
            strict = machine.system == "macos" or (machine.system == "windows" and uses_dll(machine, book))
            check, vba_version = check_workbook_vba(book, python_version, read_modules, strict=strict)
            checks.append(check)
            if machine.system == "windows":
                checks.append(check_blocked(book, read_zone, network))
    if machine.system == "macos":
        checks.append(check_runpython_mac(machine, vba_version or python_version))
    return checks


WORKBOOK_FIX = "Give the path of an account workbook (.xlsm), or no path to check this computer only."


def workbook_problem(path: Path) -> str | None:
    """Why ``path`` is no workbook to look into, said of what it is (a folder, a text file), or None.

    The reader's own opening checks, so doctor and check describe a file the same way.
    """
    from .findings import PlanReadError
    from .reader import open_workbook

    try:
        open_workbook(path)[1].close()
    except PlanReadError as exc:
        return str(exc)
    return None


def verdict(checks: list[Check]) -> tuple[int, str]:
    """The closing line and exit code, consistent with the checks: 0 only when all are ok."""
    if any(c.name == "workbook" and c.status == "fail" for c in checks):
        return 2, "Nothing was checked in the workbook: give the path of an account workbook."
    if failed(checks):
        return 1, "Some checks failed: apply the fixes above, then run  kamxl doctor  again."
    if any(c.name == "system" and c.status != "ok" for c in checks):
        return 1, (
            "The buttons cannot run on this computer (Excel runs on Windows and macOS): "
            "run  kamxl doctor  on the KAM's computer."
        )
    if any(c.status == "warn" for c in checks):
        return 1, "The buttons can run Python here, with the warnings above."
    return 0, "All set: the buttons can run Python here."


def uses_dll(machine: Machine, workbook: Path | None = None) -> bool:
    """Whether RunPython goes through xlwings' DLL (``USE UDF SERVER``), which is named after the
    VBA's xlwings version: then a version mismatch stops the button on Windows too."""
    for path in ([workbook.parent / CONFIG_NAME] if workbook else []) + [machine.config_file]:
        value = read_config(path).get("USE UDF SERVER")
        if value is not None:
            return value.strip().lower() == "true"
    return False


def failed(checks: list[Check]) -> bool:
    return any(c.status == "fail" for c in checks)
