"""Exports a double-click opens right: CSV dialects read back with csv and pandas, exports.xlsx
with typed cells, typed frames, and the --log line of a scheduled run."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from kamxl.commands.rollup import command as rollup_command
from kamxl.rollup import rollup
from kamxl.rollup.export import CSV_DIALECTS, ExportTarget, export_csv
from kamxl.writer import write_plan

from .plan_factory import random_plan

AS_OF = dt.date(2026, 11, 5)
BOM = b"\xef\xbb\xbf"
MONEY = ("revenue", "target", "weighted_pipeline", "overall")


@pytest.fixture(scope="module")
def plans(template, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    for seed, lang in ((1, "en"), (2, "fr"), (3, "en")):
        plan = random_plan(template, seed, lang=lang, fullness=1.0)
        plan.fields["client_name"] = f"Métropole {seed}"
        write_plan(plan, root / "plans" / f"plan-{seed}.xlsx", template=template)
    return root / "plans"


@pytest.fixture(scope="module")
def result(plans):
    return rollup(plans, output=plans.parent / "out" / "summary.xlsx", as_of=AS_OF, history=False)


@pytest.mark.parametrize("dialect", list(CSV_DIALECTS))
def test_csv_reads_back_with_the_csv_module(result, tmp_path, dialect):
    style = CSV_DIALECTS[dialect]
    [accounts, *_] = export_csv(result.portfolio, ExportTarget(tmp_path, "csv", dialect), result.frames())
    data = accounts.read_bytes()
    assert data.startswith(BOM) == (dialect != "rfc4180")
    with accounts.open(encoding="utf-8-sig" if style.bom else "utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=style.delimiter))
    frame = result.frames()["accounts"]
    assert list(rows[0]) == list(frame.columns)  # one field per column: nothing lumped in column A
    assert sorted(r["account"] for r in rows) == ["Métropole 1", "Métropole 2", "Métropole 3"]
    for column in MONEY:
        texts = [r[column] for r in rows]
        other = "." if style.decimal == "," else ","
        assert not any(other in t for t in texts), (column, texts)
        parsed = [float(t.replace(style.decimal, ".")) for t in texts]
        assert parsed == pytest.approx(list(frame[column]), abs=1e-6)
    assert any("." in r["overall"] or "," in r["overall"] for r in rows)  # decimals really written


def test_french_csv_reads_with_pandas_as_numbers(result, tmp_path):
    paths = export_csv(result.portfolio, ExportTarget(tmp_path, "csv", "excel-fr"), result.frames())
    frame = result.frames()
    back = pd.read_csv(paths[0], sep=";", decimal=",", encoding="utf-8-sig")
    assert list(back.columns) == list(frame["accounts"].columns)
    assert set(back["account"]) == {"Métropole 1", "Métropole 2", "Métropole 3"}
    for column in MONEY:
        assert back[column].dtype.kind in "if", column  # numbers, not text
        assert list(back[column]) == pytest.approx(list(frame["accounts"][column]), abs=1e-6)
    assert back["overall"].dtype.kind == "f" and any(v % 1 for v in back["overall"])  # decimal commas
    pipeline = pd.read_csv(
        paths[1], sep=";", decimal=",", encoding="utf-8-sig", parse_dates=["expected_close"]
    )
    assert pipeline["amount"].sum() == pytest.approx(frame["pipeline"]["amount"].sum())
    assert pipeline["expected_close"].dtype.kind == "M"


def test_plain_csv_has_no_bom_and_reads_with_pandas(result, tmp_path):
    paths = export_csv(result.portfolio, ExportTarget(tmp_path, "csv", "rfc4180"), result.frames())
    assert not paths[0].read_bytes().startswith(BOM)
    back = pd.read_csv(paths[0], encoding="utf-8")
    assert back.columns[0] == "account_id"
    assert back["revenue"].sum() == pytest.approx(result.totals["revenue"])


def test_xlsx_export_has_typed_cells(result, tmp_path):
    [path] = export_csv(result.portfolio, ExportTarget(tmp_path, "xlsx"), result.frames())
    assert path.name == "exports.xlsx"
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["accounts", "opportunities", "actions", "risks"]
    rows = book.get_sheet_by_name("accounts").to_python()
    header, body = rows[0], rows[1:]
    frame = result.frames()["accounts"]
    assert header == list(frame.columns)
    by_column = {name: [r[i] for r in body] for i, name in enumerate(header)}
    assert sorted(by_column["account"]) == ["Métropole 1", "Métropole 2", "Métropole 3"]
    assert all(isinstance(v, float) for v in by_column["revenue"])
    assert sum(by_column["revenue"]) == pytest.approx(result.totals["revenue"])
    reviews = [v for v in by_column["last_review"] if v != ""]
    assert reviews and all(isinstance(v, dt.date | dt.datetime) for v in reviews)
    assert len(book.get_sheet_by_name("opportunities").to_python()) == 1 + len(result.frames()["pipeline"])


def test_frames_have_analysis_dtypes(result):
    frames = result.frames()
    accounts, pipeline, actions, risks = (frames[k] for k in ("accounts", "pipeline", "actions", "risks"))
    assert accounts["last_review"].dtype.kind == "M" and pipeline["expected_close"].dtype.kind == "M"
    assert actions["due"].dtype.kind == "M"
    for frame, column in ((accounts, "tier"), (accounts, "status"), (actions, "status"), (risks, "status")):
        assert isinstance(frame[column].dtype, pd.CategoricalDtype), column
    assert set(accounts["status"]) <= {"healthy", "watch", "at_risk", "unrated"}
    for frame, column in ((accounts, "revenue"), (accounts, "whitespace"), (pipeline, "amount")):
        assert frame[column].dtype == "float64", column
    expected = {a.account: a.figures["last_review"] for a in result.accounts}
    got = dict(zip(accounts["account"], accounts["last_review"], strict=True))
    assert {k: (v.date() if not pd.isna(v) else None) for k, v in got.items()} == expected


def test_cli_dialect_follows_lang_and_logs_the_run(plans, tmp_path):
    log = tmp_path / "logs" / "rollup.log"
    args = [str(plans), "-o", str(tmp_path / "out"), "--no-history", "--quiet", "--log", str(log)]
    runner = CliRunner()
    french = runner.invoke(rollup_command, [*args, "--lang", "fr", "--export", str(tmp_path / "fr")])
    english = runner.invoke(rollup_command, [*args, "--export", str(tmp_path / "en")])
    assert french.exit_code == english.exit_code == 0, french.output + english.output
    assert (tmp_path / "fr" / "accounts.csv").read_bytes().startswith(BOM + b"account_id;account;")
    assert (tmp_path / "en" / "accounts.csv").read_bytes().startswith(BOM + b"account_id,account,")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    pattern = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d rollup exit=0 outcome=ok accounts=3 .*skipped=0"
    assert all(re.match(pattern, line) for line in lines), lines


def test_a_log_that_cannot_be_written_never_fails_the_run(plans, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = tmp_path / "out"
    run = CliRunner().invoke(
        rollup_command, [str(plans), "-o", str(out), "--no-history", "--log", str(blocker / "x.log")]
    )
    assert run.exit_code == 0, run.output
    assert "log" in run.stderr and "not written" in run.stderr
    assert (out / "portfolio-summary.xlsm").exists()


def test_a_failed_run_is_logged(tmp_path):
    empty, log = tmp_path / "empty", tmp_path / "run.log"
    empty.mkdir()
    run = CliRunner().invoke(rollup_command, [str(empty), "--log", str(log)])
    assert run.exit_code == 2
    [line] = log.read_text(encoding="utf-8").splitlines()
    assert " rollup exit=2 outcome=failed " in line and "no .xlsx or .xlsm workbook" in line
