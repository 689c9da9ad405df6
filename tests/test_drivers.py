"""The tier's drivers and the what-if engine they use."""

from __future__ import annotations

import datetime as dt

import pytest

from kamxl.drivers import tier_drivers
from kamxl.model import new_plan
from kamxl.scoring import score_plan
from kamxl.whatif import Change, WhatIfError, apply_change, what_if

from .test_invariants import _case

TODAY = dt.date(2026, 6, 1)
RANK = {"unrated": -1, "deprioritise": 0, "maintain": 1, "invest": 2}


def _maintain(template, *, champions=2, engagement=1, margin=0.2, rating=4):
    """A friendly mid-size account one engaged contact short of Invest (with the defaults)."""
    plan = _case(template, revenue=900_000, whitespace=600_000, friendly=True, margin=margin, lang="en")
    for row in plan.tables["assessment"]:
        row["rating"] = rating
    for row in plan.tables["stakeholders"][champions:]:
        row |= {
            "stance": "neutral",
            "engaged": "no",
            "engagement": engagement,
            "influence": 3,
            "strength": "good",
        }
    return plan


def test_what_if_leaves_the_plan_alone_and_scores_the_change(template):
    plan = _maintain(template)
    before = [dict(r) for r in plan.tables["opportunities"]]
    result = what_if(plan, template, [Change("win_deal")], TODAY)
    assert plan.tables["opportunities"] == before
    assert result.plan.tables["opportunities"][0]["stage"] == "won"
    assert result.after.figures.secured == before[0]["amount"]
    assert result.after.priority >= result.today.priority
    assert result.today.priority == score_plan(plan, template, TODAY).priority


@pytest.mark.parametrize(
    ("change", "table", "column", "value"),
    [
        (Change("lose_deal", "deal"), "opportunities", "stage", "lost"),
        (Change("convert_stakeholder", "P3"), "stakeholders", "stance", "champion"),
        (Change("engage_contact", "P4"), "stakeholders", "engaged", "yes"),
        (Change("lose_champion", "P0"), "stakeholders", "stance", "detractor"),
    ],
)
def test_each_change_edits_the_named_row(template, change, table, column, value):
    plan = _maintain(template)
    changed = apply_change(plan, template, change, TODAY)
    key = template.table(table).key_column
    (row,) = [r for r in changed.tables[table] if str(r[key]).lower() == str(change.value).lower()]
    assert row[column] == value


def test_margin_and_revenue_changes(template):
    plan = _maintain(template)
    assert apply_change(plan, template, Change("set_margin", 0.12), TODAY).fields["gross_margin"] == 0.12
    assert (
        apply_change(plan, template, Change("add_revenue", 100_000), TODAY).fields["annual_revenue"]
        == 1_000_000
    )
    with pytest.raises(WhatIfError, match="needs a number"):
        apply_change(plan, template, Change("set_margin", "high"), TODAY)


def test_a_change_that_cannot_apply_says_so(template):
    plan = _maintain(template)
    with pytest.raises(WhatIfError, match='"Nobody"'):
        apply_change(plan, template, Change("win_deal", "Nobody"), TODAY)
    with pytest.raises(WhatIfError, match="unknown change"):
        apply_change(plan, template, Change("bribe"), TODAY)


def test_drivers_name_the_smallest_change_up_and_down(template):
    plan = _maintain(template)
    scores = score_plan(plan, template, TODAY)
    d = tier_drivers(plan, template, scores, TODAY)
    assert d.tier == scores.tier == "maintain" and d.reason == "grow"
    assert set(d.factors) == {"potential", "probability", "profitability"}
    assert d.weakest == min(d.factors, key=d.factors.get)
    assert d.up is not None and (d.up.text, d.up.tier) == ("engage P2", "invest")
    assert d.text.endswith("engage P2 → Invest")
    engaged = apply_change(plan, template, Change("engage_contact", "P2"), TODAY)
    assert score_plan(engaged, template, TODAY).tier == "invest"
    # One champion fewer: Invest, and losing the last champion is what takes it down.
    top = _maintain(template, champions=1, engagement=2, margin=0.25, rating=5)
    d = tier_drivers(top, template, as_of=TODAY)
    assert (d.tier, d.up) == ("invest", None)
    assert d.down is not None and (d.down.text, d.down.tier) == ("P0 turns detractor", "maintain")
    assert "P0 turns detractor → Maintain" in d.text


def test_drivers_of_a_defended_account_and_of_an_unrated_one(template):
    plan = _case(template, revenue=6_000_000, whitespace=3_000_000, friendly=False)
    d = tier_drivers(plan, template, as_of=TODAY)
    assert (d.tier, d.reason, d.up) == ("invest", "defend", None)
    assert d.text.startswith("défendre\u00a0; point faible\u00a0: ")
    empty = tier_drivers(new_plan(template, "en", client_name="New"), template, as_of=TODAY)
    assert (empty.tier, empty.up, empty.down) == ("unrated", None, None)


def test_whatif_command(template, tmp_path):
    import json

    from click.testing import CliRunner

    from kamxl.cli import main
    from kamxl.writer import write_plan

    plan = _maintain(template)
    path = write_plan(plan, tmp_path / "acct.xlsx", template=template)
    before = path.read_bytes()
    run = CliRunner().invoke(main, ["whatif", str(path), "--change", "engage_contact=P2", "--json"])
    assert run.exit_code == 0, run.output
    out = json.loads(run.output)
    assert (out["today"]["tier"], out["after"]["tier"]) == ("maintain", "invest")
    assert out["after"]["priority"] > out["today"]["priority"]
    assert path.read_bytes() == before  # never written
    text = CliRunner().invoke(main, ["whatif", str(path), "--change", "set_margin=0.05"])
    assert text.exit_code == 0 and "today" in text.output and "after" in text.output
    bad = CliRunner().invoke(main, ["whatif", str(path), "--change", "win_deal=Nobody"])
    assert bad.exit_code == 2 and "acct.xlsx" in bad.output and '"Nobody"' in bad.output
    unknown = CliRunner().invoke(main, ["whatif", str(path), "--change", "bribe"])
    assert unknown.exit_code == 2 and "bribe" in unknown.output


def test_check_text_says_why(template, tmp_path):
    from click.testing import CliRunner

    from kamxl.cli import main
    from kamxl.writer import write_plan

    path = write_plan(_maintain(template), tmp_path / "acct.xlsx", template=template)
    run = CliRunner().invoke(main, ["check", str(path)])
    assert "  Why: grow; weakest: probability; engage P2 → Invest" in run.output


def test_template_checks_the_new_scoring_settings(template, tmp_path):
    from pathlib import Path

    from kamxl.template import TemplateError, load_template

    text = Path(template.path).read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        text.replace("revenue_bands = [[3000000, 0.8]", "revenue_bands = [[3000000, 1.8]"), "utf-8"
    )
    with pytest.raises(TemplateError, match=r"scoring\.defend\.revenue_bands"):
        load_template(bad)
    bad.write_text(text.replace("key_people = 6", "key_people = 'six'"), "utf-8")
    with pytest.raises(TemplateError, match=r"scoring\.key_people"):
        load_template(bad)
    bad.write_text(text.replace("min_money_at_stake = 500000, ", ""), "utf-8")
    with pytest.raises(TemplateError, match=r"tiers\.invest\.min_money_at_stake"):
        load_template(bad)
