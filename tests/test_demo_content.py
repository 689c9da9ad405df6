"""The demo's content files: they load, every text is in English and French, and the demo they
feed is the same for a seed in any process and from an installed layout."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kamxl.demo import PROFILES, demo_plans
from kamxl.demo import content as demo_content
from kamxl.demo.content import THEMES, content, content_folder
from kamxl.demo.profiles import cycle, profile
from kamxl.template import Template, TemplateError

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 5)
LANGS = ("en", "fr")


def _texts(data: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every text in a theme (a table with an ``en`` or ``fr`` key), with where it is."""
    if isinstance(data, dict):
        if ("en" in data or "fr" in data) and all(isinstance(v, str) for v in data.values()):
            yield where, data
            return
        for key, value in data.items():
            yield from _texts(value, f"{where}.{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _texts(value, f"{where}[{index}]")


def _placeholders(text: str) -> set[str]:
    """Names a text fills in; ``offer_cap`` is the offer capitalised, as French word order may need."""
    return {name.removesuffix("_cap") for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_content_folder_holds_every_theme_and_nothing_else() -> None:
    assert content_folder() == ROOT / "workbook_templates" / "demo"
    assert sorted(p.stem for p in content_folder().glob("*.toml")) == sorted(THEMES)
    for theme in THEMES:
        assert content(theme), theme


@pytest.mark.parametrize("theme", [t for t in THEMES if t != "profiles"])  # profiles: numbers only
def test_every_text_is_in_english_and_french_with_the_same_placeholders(theme: str) -> None:
    texts = list(_texts(content(theme), theme))
    assert texts, f"{theme} holds no text"
    for where, text in texts:
        for lang in LANGS:
            assert isinstance(text.get(lang), str) and text[lang].strip(), f"{where}: no {lang} text"
        variants = [v for k, v in text.items() if k.startswith(("en", "fr"))]
        assert len({frozenset(_placeholders(v)) for v in variants}) == 1, f"{where}: placeholders differ"


@pytest.mark.parametrize("theme", THEMES)
def test_lists_of_texts_hold_only_texts(theme: str) -> None:
    """A phrase list mixes no bare string with its texts: a bare one would show in one language only."""

    def walk(data: Any, where: str) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                walk(value, f"{where}.{key}")
        elif isinstance(data, list):
            kinds = {"text" if isinstance(v, dict) and "en" in v else type(v).__name__ for v in data}
            assert len(kinds) == 1 or "text" not in kinds, f"{where}: {sorted(kinds)}"
            for index, value in enumerate(data):
                walk(value, f"{where}[{index}]")

    walk(content(theme), theme)


@pytest.mark.parametrize("theme", ["people", "clients"])
def test_names_and_places_exist_for_both_languages_alike(theme: str) -> None:
    data = content(theme)

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(v) for v in value][:1] if value else []
        return type(value).__name__

    assert shape(data["en"]) == shape(data["fr"])
    for lang in LANGS:
        if theme == "people":
            assert len(data[lang]["kams"]) == 4  # the portfolio spreads accounts over four KAMs
            assert data[lang]["men"] and data[lang]["women"] and data[lang]["last_names"]
        else:
            assert "other" in data[lang]["name_patterns"]
            assert len(data[lang]["countries"]) >= 2  # the first two countries are weighted


def test_profiles_are_the_ones_the_demo_tells(template: Template) -> None:
    assert set(content("profiles")) - {"cycle"} == set(PROFILES)
    assert set(cycle()) == set(PROFILES)
    for key in PROFILES:
        p = profile(key)
        for name in ("revenue", "stakeholders", "actions", "risks", "kpi_trend"):
            low, high = getattr(p, name)
            assert low <= high, f"{key}.{name}"
        assert set(p.objective_statuses) <= set(template.choices["objective_status"])
        assert len(p.stances) == len(content("people")["stances"])
    assert profile("new").attractiveness is None  # a new account is not rated yet


def test_catalogue_codes_are_template_codes(template: Template) -> None:
    """Keys that name template choices (sectors, offers, risk categories, stances) exist there."""
    choices = template.choices
    assert set(content("clients")["en"]["name_patterns"]) - {"other"} <= set(choices["sector"])
    assert set(content("clients")["markets"]) - {"other"} <= set(choices["sector"])
    assert set(content("clients")["contracts"]) <= set(choices["offer"])
    assert set(content("risks")) <= set(choices["risk_category"])
    assert set(content("people")["stances"]) == set(choices["stance"])
    assert set(content("pipeline")["opportunity_names"]) <= set(choices["opportunity_type"])
    assert set(content("pipeline")["opportunity_steps"]) <= set(choices["stage"])
    assert set(content("governance")["ritual_days"]) == set(choices["frequency"])
    swot = {d["en"].lower() for d in template.catalogue["swot_dimensions"]}
    assert set(content("swot")["dimensions"]) == swot


def test_a_broken_content_file_is_refused_with_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "actions.toml").write_text("actions = [\n", encoding="utf-8")
    monkeypatch.setattr(demo_content, "content_folder", lambda: tmp_path)
    demo_content.content.cache_clear()
    try:
        with pytest.raises(TemplateError, match=r"actions\.toml: \(file\): invalid TOML"):
            content("actions")
        with pytest.raises(TemplateError, match=r"risks\.toml: \(file\): demo content not readable"):
            content("risks")
    finally:
        demo_content.content.cache_clear()


_DIGEST = """
import dataclasses, datetime as dt, hashlib, json, sys
from kamxl.demo import demo_plans
from kamxl.demo.content import content_folder
from kamxl.template import get_template
print(content_folder())
plans = demo_plans(get_template(), seed=int(sys.argv[1]), count=int(sys.argv[2]), today=dt.date(2026, 11, 5))
text = json.dumps([dataclasses.asdict(p) for p in plans], default=str, sort_keys=True)
print(hashlib.sha256(text.encode()).hexdigest())
"""


def _digest_here(template: Template, seed: int, count: int) -> str:
    import dataclasses

    plans = demo_plans(template, seed=seed, count=count, today=TODAY)
    text = json.dumps([dataclasses.asdict(p) for p in plans], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _digest_in_process(seed: int, count: int, *, path: Path, hash_seed: str) -> str:
    env = os.environ | {"PYTHONPATH": str(path), "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", _DIGEST, str(seed), str(count)],
        env=env,
        cwd=path,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    folder, digest = done.stdout.split()
    assert Path(folder) == path / "kamxl" / "workbook_templates" / "demo" or path == ROOT, folder
    return digest


def test_the_demo_is_the_same_for_a_seed_in_any_process(template: Template) -> None:
    here = _digest_here(template, 42, 12)
    assert _digest_in_process(42, 12, path=ROOT, hash_seed="1") == here
    assert _digest_in_process(42, 12, path=ROOT, hash_seed="99") == here
    assert _digest_here(template, 43, 12) != here


def test_an_installed_layout_finds_the_content(tmp_path: Path, template: Template) -> None:
    """The wheel ships workbook_templates/ inside the package: the demo reads its content there."""
    shutil.copytree(ROOT / "kamxl", tmp_path / "kamxl", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "workbook_templates", tmp_path / "kamxl" / "workbook_templates")
    shutil.copytree(ROOT / "macros", tmp_path / "kamxl" / "macros")
    assert _digest_in_process(5, 3, path=tmp_path, hash_seed="0") == _digest_here(template, 5, 3)
