"""Every `--json` output carries a schema version and exactly the keys its documentation lists,
in every outcome (exit codes 0, 1 and 2)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kamxl.cli import main
from kamxl.demo import demo_plans
from kamxl.template import Template
from kamxl.writer import write_plan

DOCS = Path(__file__).resolve().parents[1] / "docs"
CRM = Path(__file__).resolve().parent / "fixtures" / "crm" / "salesforce_report.csv"


def documented(doc: str, after: str, skip: int = 0) -> dict[str, str]:
    """The keys of the first table after the line ``after`` (``skip`` tables later): key -> text."""
    lines = (DOCS / doc).read_text(encoding="utf-8").splitlines()
    start = lines.index(after)
    tables, current = [], {}
    for line in lines[start + 1 :]:
        m = re.match(r"^\| `([a-z_0-9]+)`(?:, `[a-z_]+`)* \|(.*)$", line)
        if m:
            current[m[1]] = m[2]
        elif current and not line.startswith("|"):
            tables.append(current)
            current = {}
            if len(tables) > skip:
                break
    return tables[skip]


def _json(args: list[str]) -> tuple[int, dict]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory, template: Template) -> Path:
    folder = tmp_path_factory.mktemp("plans")
    for i, plan in enumerate(demo_plans(template, seed=11, count=2)):
        write_plan(plan, folder / f"plan{i}.xlsx")
    return folder


def test_rollup_json_matches_its_documentation(plans, tmp_path):
    keys = documented("rollup.md", "## `--json`")
    bad = tmp_path / "bad"
    shutil.copytree(plans, bad)
    (bad / "notes.xlsx").write_text("a,b\n1,2\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    outcomes = {
        0: ["rollup", str(plans), "-o", str(tmp_path / "a"), "--json", "-q"],
        1: ["rollup", str(bad), "-o", str(tmp_path / "b"), "--json", "-q"],
        2: ["rollup", str(empty), "--json", "-q"],
    }
    for code, args in outcomes.items():
        exit_code, doc = _json(args)
        assert exit_code == code, doc
        assert set(doc) == set(keys), (code, set(doc) ^ set(keys))
        assert doc["schema_version"] == 1
        assert (doc["error"] is None) == (code != 2)
        if doc["totals"]:
            assert all(f"`{k}`" in keys["totals"] for k in doc["totals"]), doc["totals"]
    again = _json(outcomes[0])[1]
    assert again["up_to_date"] is True and again["from_cache"] == 2 and again["written"] == []


def test_check_json_matches_its_documentation(plans, tmp_path):
    top = documented("check.md", "## The JSON format")
    result_keys = documented("check.md", "## The JSON format", skip=1)
    optional = {k for k, text in result_keys.items() if "only with `--since`" in text}
    broken = tmp_path / "broken.xlsx"
    broken.write_text("")
    outcomes = {0: [str(plans)], 1: [str(plans), str(broken)], 2: [str(broken)]}
    for code, paths in outcomes.items():
        exit_code, doc = _json(["check", *paths, "--json"])
        assert exit_code == code
        assert set(doc) == set(top) and doc["schema_version"] == 1
        assert [u["file"] for u in doc["unreadable"]] == ([str(broken)] if code else [])
        for report in doc["results"]:
            assert set(report) == set(result_keys) - optional


def test_generate_json_matches_its_documentation(tmp_path):
    keys = documented("crm.md", "### JSON output")
    header_only = tmp_path / "header.csv"
    header_only.write_text(CRM.read_text(encoding="utf-8-sig").splitlines()[0] + "\n", encoding="utf-8")
    for code, export in ((0, CRM), (2, header_only)):
        exit_code, doc = _json(["generate", str(export), "-o", str(tmp_path / "out"), "--json"])
        assert exit_code == code, doc
        assert set(doc) == set(keys) and doc["schema_version"] == 1
        assert (doc["error"] is None) == (code != 2)
