"""`kamxl excel-setup` and `kamxl doctor`: config file, checks and fixes, on faked machines."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamxl import excel_setup as es
from kamxl.commands.excel import doctor_command, excel_setup_command
from kamxl.vba import xlwings_vba_version
from kamxl.workbooks import new_workbook

XLWINGS = es.installed_xlwings_version()
PY_WIN = r"C:\Users\Zoë Martin\AppData\Local\Programs\Python\Python311\python.exe"


def windows(home: Path, executable: str = PY_WIN) -> es.Machine:
    return es.Machine("windows", home, executable)


def mac(home: Path, executable: str = "/Users/zoe/.venv/bin/python") -> es.Machine:
    return es.Machine("macos", home, executable)


def by_name(checks: list[es.Check]) -> dict[str, es.Check]:
    return {c.name: c for c in checks}


@pytest.fixture(scope="module")
def xlsm(tmp_path_factory, template) -> Path:
    return new_workbook("Doctor Test", tmp_path_factory.mktemp("wb"), template=template)


# -- the config file ------------------------------------------------------------------------------
def test_config_written_and_other_keys_kept(tmp_path):
    conf = tmp_path / ".xlwings" / "xlwings.conf"
    conf.parent.mkdir()
    conf.write_text('"LICENSE_KEY","abc"\n"interpreter_win","C:\\old\\python.exe"\n"PYTHONPATH","D:\\lib"\n')
    done = es.excel_setup(windows(tmp_path))
    assert done == [f"INTERPRETER_WIN set to {PY_WIN} in {conf}"]
    lines = conf.read_text().splitlines()
    assert lines == ['"LICENSE_KEY","abc"', f'"INTERPRETER_WIN","{PY_WIN}"', '"PYTHONPATH","D:\\lib"']
    assert es.read_config(conf)["INTERPRETER_WIN"] == PY_WIN
    assert es.set_config_value(conf, "INTERPRETER_WIN", PY_WIN) is False  # same value: untouched
    assert not list(conf.parent.glob(".xlwings-*"))  # no temporary file left


def test_config_created_from_nothing(tmp_path):
    es.excel_setup(windows(tmp_path))
    assert (tmp_path / ".xlwings" / "xlwings.conf").read_text() == f'"INTERPRETER_WIN","{PY_WIN}"\n'


def test_mac_setup_uses_excel_container_and_installs_runpython(tmp_path):
    machine = mac(tmp_path)
    done = es.excel_setup(machine)
    conf = tmp_path / "Library/Containers/com.microsoft.Excel/Data/xlwings.conf"
    assert es.read_config(conf) == {"INTERPRETER_MAC": machine.executable}
    script = tmp_path / "Library/Application Scripts/com.microsoft.Excel" / f"xlwings-{XLWINGS}.applescript"
    assert script.is_file() and script.stat().st_size > 100
    assert done[-1] == f"RunPython installed: {script}"
    assert es.check_runpython_mac(machine, XLWINGS).status == "ok"


def test_setup_on_linux_writes_nothing(tmp_path):
    with pytest.raises(es.SetupError, match="Windows and macOS"):
        es.excel_setup(es.Machine("other", tmp_path, "/usr/bin/python3"))
    assert not any(tmp_path.iterdir())


def test_setup_refuses_quotes(tmp_path):
    with pytest.raises(es.SetupError):
        es.set_config_value(tmp_path / "x.conf", "INTERPRETER_WIN", 'C:\\a"b')


# -- the checks -----------------------------------------------------------------------------------
def test_interpreter_missing_config_fails_on_mac(tmp_path):
    check, interpreter = es.check_interpreter(mac(tmp_path))
    assert check.status == "fail" and interpreter is None
    assert "kamxl excel-setup" in check.fix


def test_interpreter_falls_back_to_path_python_on_windows(tmp_path):
    check, interpreter = es.check_interpreter(windows(tmp_path), which=lambda name: r"C:\Python\python.exe")
    assert check.status == "warn" and interpreter == r"C:\Python\python.exe"
    check, _ = es.check_interpreter(windows(tmp_path), which=lambda name: None)
    assert check.status == "fail"


def test_interpreter_configured_but_gone(tmp_path):
    machine = mac(tmp_path, executable=str(tmp_path / "gone" / "python"))
    es.excel_setup(machine, runpython=False)
    check, interpreter = es.check_interpreter(machine)
    assert check.status == "fail" and "does not exist" in check.message and interpreter is None


def test_interpreter_configured_and_present_folder_config_wins(tmp_path):
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.write_text("")
    machine = mac(tmp_path, executable="/nowhere/python")
    es.excel_setup(machine, runpython=False)
    book = tmp_path / "plans" / "a.xlsm"
    book.parent.mkdir()
    es.set_config_value(book.parent / "xlwings.conf", "INTERPRETER_MAC", str(python))
    check, interpreter = es.check_interpreter(machine, book)
    assert check.status == "ok" and interpreter == str(python)


def test_conda_settings_name_the_interpreter(tmp_path):
    conf = tmp_path / ".xlwings" / "xlwings.conf"
    es.set_config_value(conf, "CONDA PATH", r"C:\miniconda3")
    es.set_config_value(conf, "CONDA ENV", "kam")
    check, interpreter = es.check_interpreter(windows(tmp_path), which=lambda name: name)
    assert check.status == "ok" and interpreter == r"C:\miniconda3\envs\kam\python.exe"


def test_packages_ok_and_missing():
    check, version = es.check_packages("py", run=lambda cmd: (0, "0.37.8\n", ""))
    assert (check.status, version) == ("ok", "0.37.8")
    err = "Traceback...\nModuleNotFoundError: No module named 'kamxl'\n"
    check, version = es.check_packages(PY_WIN, run=lambda cmd: (1, "", err))
    assert check.status == "fail" and version is None
    assert "cannot import kamxl" in check.message
    assert check.fix.startswith(f'"{PY_WIN}" -m pip install kamxl')


def test_packages_probe_really_runs_the_interpreter():
    check, version = es.check_packages(sys.executable)
    assert check.status == "ok", check.message
    assert version == XLWINGS


def test_workbook_vba_version_read_with_oletools(xlsm):
    modules = es.read_vba_modules(xlsm)
    assert es.embedded_xlwings_version(modules) == xlwings_vba_version() == XLWINGS
    assert es.check_workbook_vba(xlsm, XLWINGS)[0].status == "ok"
    check, embedded = es.check_workbook_vba(xlsm, "0.36.0")
    assert check.status == "fail" and embedded == XLWINGS
    assert f'"xlwings=={XLWINGS}"' in check.fix
    assert es.check_workbook_vba(xlsm, "0.36.0", strict=False)[0].status == "warn"  # Windows


def test_without_oletools_the_recorded_version_is_compared(xlsm, tmp_path, template):
    def no_oletools(path: Path) -> dict[str, str] | None:
        raise ImportError("No module named 'oletools'")

    check, embedded = es.check_workbook_vba(xlsm, "0.36.0", read_modules=no_oletools)
    assert check.status == "fail" and embedded == XLWINGS and "0.36.0" in check.message
    assert es.check_workbook_vba(xlsm, XLWINGS, read_modules=no_oletools)[0].status == "ok"
    xlsx = new_workbook("Plain", tmp_path, template=template, macros=False)
    check, _ = es.check_workbook_vba(xlsx, XLWINGS, read_modules=no_oletools)
    assert check.status == "warn" and "oletools is not installed" in check.message


def test_workbook_without_macros_or_without_xlwings(tmp_path, template):
    xlsx = new_workbook("Plain", tmp_path, template=template, macros=False)
    assert es.check_workbook_vba(xlsx, XLWINGS)[0].status == "warn"
    check, _ = es.check_workbook_vba(
        xlsx, XLWINGS, read_modules=lambda p: {"KamxlButtons": "Sub A()\nEnd Sub"}
    )
    assert check.status == "fail" and "no xlwings module" in check.message


def test_runpython_missing_names_the_version(tmp_path):
    machine = mac(tmp_path)
    machine.scripts_folder.mkdir(parents=True)
    (machine.scripts_folder / "xlwings-0.30.0.applescript").write_text("")
    check = es.check_runpython_mac(machine, "0.37.8")
    assert check.status == "fail"
    assert "xlwings-0.30.0.applescript" in check.message and "xlwings runpython install" in check.fix


@pytest.mark.parametrize(
    ("zone", "network", "status"),
    [
        ("[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=https://mail.example.com/\r\n", False, "fail"),
        ("[ZoneTransfer]\nZoneId=4\n", False, "fail"),
        ("[ZoneTransfer]\nZoneId=1\n", False, "ok"),
        (None, False, "ok"),
        (None, True, "warn"),
    ],
)
def test_blocked_macros(zone, network, status):
    book = Path(r"\\files\sales\Acme.xlsm") if network else Path("Acme.xlsm")
    check = es.check_blocked(book, read_zone=lambda p: zone, network=lambda p: network)
    assert check.status == status
    if status == "fail":
        assert "Unblock-File" in check.fix and "Properties" in check.fix
    if status == "warn":
        assert "Trusted Locations" in check.fix


def test_network_path_detection():
    assert es.is_network_path(Path("//server/share/a.xlsm"))
    assert not es.is_network_path(Path("/home/kam/a.xlsm"))


# -- doctor as a whole, and the commands ------------------------------------------------------------
def fakes(**overrides):
    return {
        "run": lambda cmd: (0, f"{XLWINGS}\n", ""),
        "which": lambda name: name,
        "read_zone": lambda p: None,
        "network": lambda p: False,
    } | overrides


def test_doctor_windows_all_ok(tmp_path, xlsm):
    machine = windows(tmp_path)
    es.excel_setup(machine)
    checks = es.doctor(xlsm, machine, **fakes())
    assert [c.name for c in checks] == [
        "system",
        "interpreter",
        "packages",
        "workbook macros",
        "macros allowed",
    ]
    assert all(c.status == "ok" for c in checks), checks
    assert not es.failed(checks)


def test_doctor_mac_reports_each_failure(tmp_path, xlsm):
    checks = by_name(es.doctor(xlsm, mac(tmp_path), **fakes()))
    assert checks["interpreter"].status == "fail"
    assert "packages" not in checks  # no interpreter to probe
    assert checks["RunPython"].status == "fail"
    assert f"xlwings-{XLWINGS}.applescript" in checks["RunPython"].message


def test_doctor_version_mismatch_fails_on_a_mac_warns_on_windows(tmp_path, xlsm):
    python = tmp_path / "python3"
    python.write_text("")
    for machine, status in ((windows(tmp_path), "warn"), (mac(tmp_path, str(python)), "fail")):
        es.excel_setup(machine)
        checks = by_name(es.doctor(xlsm, machine, **fakes(run=lambda cmd: (0, "0.35.1\n", ""))))
        assert checks["workbook macros"].status == status
        assert "0.35.1" in checks["workbook macros"].message


def test_version_mismatch_fails_on_windows_when_runpython_goes_through_the_dll(tmp_path, xlsm):
    machine = windows(tmp_path)
    es.excel_setup(machine)
    es.set_config_value(machine.config_file, "USE UDF SERVER", "True")
    checks = by_name(es.doctor(xlsm, machine, **fakes(run=lambda cmd: (0, "0.35.1\n", ""))))
    assert checks["workbook macros"].status == "fail"
    # A folder config beside the workbook wins over the user's.
    (xlsm.parent / "xlwings.conf").write_text('"USE UDF SERVER","False"\n')
    try:
        checks = by_name(es.doctor(xlsm, machine, **fakes(run=lambda cmd: (0, "0.35.1\n", ""))))
    finally:
        (xlsm.parent / "xlwings.conf").unlink()
    assert checks["workbook macros"].status == "warn"


def test_doctor_command_exit_codes(tmp_path, xlsm, monkeypatch):
    machine = windows(tmp_path, executable=sys.executable)
    monkeypatch.setattr(es.Machine, "current", classmethod(lambda cls: machine))
    monkeypatch.setattr(es, "_run", lambda cmd: (0, f"{XLWINGS}\n", ""))
    monkeypatch.setattr(es, "read_zone_identifier", lambda p: "[ZoneTransfer]\nZoneId=3\n")
    monkeypatch.setattr(es, "is_network_path", lambda p: False)
    runner = CliRunner()
    assert "INTERPRETER_WIN set to" in runner.invoke(excel_setup_command, []).output
    result = runner.invoke(doctor_command, [str(xlsm)])
    assert result.exit_code == 1, result.output
    assert "[FAIL] macros allowed" in result.output and "fix: " in result.output
    monkeypatch.setattr(es, "read_zone_identifier", lambda p: None)
    result = runner.invoke(doctor_command, [str(xlsm)])
    assert result.exit_code == 0, result.output
    assert "All set" in result.output
