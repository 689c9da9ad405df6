"""The portfolio as tables: what every sheet of the summary (and every CSV) lists.

Rows hold raw values (choice codes, dates, numbers); columns say how to show them. The summary
writer turns codes into labels of its language, the CSV exports keep the codes, and both come
from the same rows, so the workbook and the exports cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..alerts import SEVERITY_ORDER, rule_label
from ..dates import text_date
from ..drivers import drivers_brief
from ..model import Row
from ..review.changes import score_changes, short_text
from ..scoring import n0
from ..template import STATUS_CODES, TIER_CODES, Template
from .competitors import presence_rows
from .duplicates import Duplicate
from .records import AccountRecord
from .texts import text

KAM_BAND = (3, 8)  # accounts a KAM can sustain; the template's [portfolio] section may change it
UPCOMING_DAYS = 30
MATRIX_LABELS = 10  # the matrix numbers the highest priorities only, named in a key below it
TIER_ORDER = {"invest": 0, "maintain": 1, "deprioritise": 2, "unrated": 3}
SCORE_AVERAGES = ("overall", "potential", "relationship", "execution", "priority")


@dataclass(frozen=True)
class Col:
    """A column of a view: ``kind`` drives the number format, ``choices`` the label lookup."""

    key: str
    header: str
    kind: str = "text"  # text, longtext, int, number, currency, percent, score, date, link
    choices: str | None = None
    total: str | None = None  # total row: "sum", "average", "weighted:<key>" or "ratio:<key>/<key>"
    width: float | None = None
    empty: str | None = None  # text shown instead of a missing value (e.g. "never")


@dataclass
class View:
    """One table of the summary: an Excel table ``name`` with its columns and rows."""

    name: str
    columns: list[Col]
    rows: list[Row]


@dataclass(frozen=True)
class Problem:
    """A file that is not in the summary: skipped (could not be read) or ignored (lock, temp)."""

    file: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason}


@dataclass
class Portfolio:
    """Everything one roll-up found, with the template and language it is shown in."""

    accounts: list[AccountRecord]
    template: Template
    as_of: dt.date
    lang: str = "en"
    folder: str = ""
    skipped: list[Problem] = field(default_factory=list)
    ignored: list[Problem] = field(default_factory=list)
    include_contacts: bool = False
    # file -> tier and scores the history recorded on or before the account's last review
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)
    forecast: Any = None  # kamxl.rollup.forecast.ForecastState: the Forecast sheet and --json
    duplicates: list[Duplicate] = field(default_factory=list)  # left out of ``accounts`` and totals

    # -- labels ------------------------------------------------------------------------------
    def t(self, key: str, **values: Any) -> str:
        return text(key, self.lang, **values)

    def date(self, value: Any) -> str:
        """A date in running text, in the summary's language (01/12/2026 in French)."""
        return text_date(value, self.lang)

    def label(self, choices: str | None, value: Any) -> Any:
        """The label of a choice code in the summary language (free text and numbers unchanged)."""
        if choices is None or value is None or value == "":
            return value
        if choices == "_tier":
            return self.tier_label(str(value))
        if choices == "_sponsor":
            return self.sponsor_label(value)
        item = self.template.choices.get(choices, {}).get(str(value))
        return item.get(self.lang, item.get("en")) if item else value

    def tier_label(self, code: str) -> str:
        labels = self.template.tiers.get(code, {}).get("label", {})
        return labels.get(self.lang) or labels.get("en") or code

    def sponsor_label(self, value: Any) -> str:
        value = float(value or 0)
        key = "sponsor_strong" if value >= 1 else "sponsor_champion" if value > 0 else "sponsor_none"
        return self.t(key)

    @property
    def kam_band(self) -> tuple[int, int]:
        cfg = self.template.raw.get("portfolio", {})
        return int(cfg.get("kam_min_accounts", KAM_BAND[0])), int(cfg.get("kam_max_accounts", KAM_BAND[1]))

    @property
    def stale_after(self) -> int:
        return int(self.template.scoring.get("stale_after_days", 90))

    @property
    def high_risk_score(self) -> float:
        return float(self.template.scoring.get("high_risk_score", 15))

    # -- derived facts -----------------------------------------------------------------------
    def sorted_accounts(self) -> list[AccountRecord]:
        return sorted(
            self.accounts, key=lambda a: (TIER_ORDER.get(a.tier, 9), -a.priority, a.account.casefold())
        )

    def is_stale(self, record: AccountRecord) -> bool:
        days = record.figures.get("days_since_review")
        return days is None or days > self.stale_after

    def open_actions(self) -> Iterable[tuple[AccountRecord, Row]]:
        for rec in self.accounts:
            for row in rec.actions:
                if row.get("status") not in ("done", "cancelled"):
                    yield rec, row

    def upcoming_actions(self) -> list[tuple[AccountRecord, Row, int]]:
        """Open actions overdue or due within 30 days, with days late (negative: days left)."""
        out = []
        for rec, row in self.open_actions():
            due = _date(row.get("due"))
            if due is None:
                continue
            late = (self.as_of - due).days
            if late > 0 or -late <= UPCOMING_DAYS:
                out.append((rec, row, late))
        return out

    def totals(self) -> dict[str, Any]:
        """Portfolio totals: the sums of every account's figures, tier counts and average scores."""
        accs = self.accounts

        def total(key: str) -> float:
            return sum(float(a.figures.get(key) or 0) for a in accs)

        tiers = Counter(a.tier for a in accs)
        upcoming = self.upcoming_actions()
        return {
            "accounts": len(accs),
            "kams": len({a.kam.strip().casefold() for a in accs}),
            "revenue": total("revenue"),
            "target": total("target"),
            "weighted_pipeline": total("weighted_pipeline"),
            "open_pipeline": total("open_pipeline"),
            "whitespace": total("whitespace"),
            "overdue_actions": int(total("overdue_actions")),
            "actions_due_30_days": sum(1 for _, _, late in upcoming if late <= 0),
            "high_risks": int(total("high_risks")),
            "stale_plans": sum(1 for a in accs if self.is_stale(a)),
            "plans_with_errors": sum(1 for a in accs if a.errors),
            "files_skipped": len(self.skipped),
            "accounts_per_tier": {code: tiers.get(code, 0) for code in TIER_CODES},
            "average_scores": {k: _mean(_score(a, k) for a in accs) for k in SCORE_AVERAGES},
        }

    # -- views -------------------------------------------------------------------------------
    def accounts_view(self) -> View:
        t = self.t
        cols = [
            Col("account", t("col_account"), width=26),
            Col("kam", t("col_kam"), width=16),
            Col("sector", t("col_sector"), choices="sector", width=20),
            Col("tier", t("col_tier"), choices="_tier", width=13),
            Col("tier_drivers", t("col_tier_drivers"), "longtext", width=40),
            Col("status", t("col_account_status"), width=14),
            Col("priority", t("col_priority"), "score", total="average"),
            Col("overall", t("col_overall"), "score", total="average"),
            Col("potential", t("col_potential"), "score", total="average"),
            Col("relationship", t("col_relationship"), "score", total="average"),
            Col("execution", t("col_execution"), "score", total="average"),
            Col("revenue", t("col_revenue"), "currency", total="sum"),
            Col("target", t("col_target"), "currency", total="sum"),
            Col("weighted_pipeline", t("col_weighted_pipeline"), "currency", total="sum"),
            Col("whitespace", t("col_whitespace"), "currency", total="sum"),
            Col("nrr", t("col_nrr"), "percent"),
            Col("nps", t("col_nps"), "int"),
            Col("gross_margin", t("col_gross_margin"), "percent"),
            Col("probability", t("col_probability"), "percent"),
            Col("profitability", t("col_profitability"), "number"),
            Col("coverage", t("col_coverage"), "percent"),
            Col("depth", t("col_depth"), "percent"),
            Col("sponsor", t("col_sponsor"), choices="_sponsor", width=16),
            Col("last_review", t("col_last_review"), "date"),
            Col("days_since_review", t("col_days_since_review"), "int", empty=t("never")),
            Col("changes", t("col_changes"), width=34),
            Col("overdue_actions", t("col_overdue_actions"), "int", total="sum"),
            Col("high_risks", t("col_high_risks"), "int", total="sum"),
            Col("errors", t("col_errors"), "int", total="sum"),
            Col("path", t("col_open"), "link", width=30),
        ]
        rows = [self.account_row(a) for a in self.sorted_accounts()]
        return View("Accounts", cols, rows)

    def account_row(self, a: AccountRecord) -> Row:
        f = a.figures
        return {
            "account": a.account,
            "kam": a.kam,
            "sector": a.sector,
            "tier": a.tier,
            "tier_drivers": self.tier_drivers(a),
            "status": self.status_label(a.status),
            "priority": a.priority,
            **a.scores,
            "gross_margin": f.get("gross_margin"),
            "probability": f.get("probability"),
            "profitability": f.get("profitability"),
            "revenue": f.get("revenue"),
            "target": f.get("target"),
            "weighted_pipeline": f.get("weighted_pipeline"),
            "open_pipeline": f.get("open_pipeline"),
            "whitespace": f.get("whitespace"),
            "nrr": f.get("nrr"),
            "nps": f.get("nps"),
            "coverage": f.get("coverage"),
            "depth": f.get("depth"),
            "sponsor": f.get("sponsor"),
            "stakeholders": f.get("stakeholders"),
            "engaged": f.get("engaged"),
            "attractiveness": f.get("attractiveness"),
            "position": f.get("position"),
            "last_review": f.get("last_review"),
            "next_review": f.get("next_review"),
            "days_since_review": f.get("days_since_review"),
            "changes": self.review_changes(a) if f.get("last_review") else None,
            "overdue_actions": f.get("overdue_actions"),
            "high_risks": f.get("high_risks"),
            "errors": len(a.errors),
            "warnings": len(a.warnings),
            "file": a.file,
            "path": a.path,
            "account_id": a.account_id,
        }

    def tier_drivers(self, a: AccountRecord) -> str:
        """Why the tier, in the summary's language: the reason and the weakest factor (no change
        is tried here, so the roll-up still scores each plan once; `check --json` has them)."""
        return drivers_brief(self.template, a.tier, a.figures, a.scores["potential"], self.lang)

    def review_changes(self, a: AccountRecord) -> str:
        """What changed since the account's last review: tier and overall score moves (from the
        history's snapshot on or before that review), then counts (deals won, actions done...)."""
        moves = []
        if base := self.baselines.get(a.file):
            moves = score_changes(base["scores"], base["tier"], a.scores, a.tier, self.template)
        return short_text(moves, a.review_changes, self.lang)

    def _group_view(
        self, name: str, key_col: Col, key_of: Callable[[AccountRecord], str], with_band: bool
    ) -> View:
        t = self.t
        groups: dict[str, list[AccountRecord]] = defaultdict(list)
        for a in self.accounts:
            groups[key_of(a)].append(a)
        cols = [key_col, Col("accounts", t("col_accounts"), "int", total="sum")]
        if with_band:
            cols.append(Col("band", t("col_band"), width=16))
        cols += [
            Col("revenue", t("col_revenue"), "currency", total="sum"),
            Col("target", t("col_target"), "currency", total="sum"),
            Col("attainment", t("col_attainment"), "percent", total="ratio:revenue/target"),
            Col("weighted_pipeline", t("col_weighted_pipeline"), "currency", total="sum"),
            Col("whitespace", t("col_whitespace"), "currency", total="sum"),
            Col("overdue_actions", t("col_overdue_actions"), "int", total="sum"),
            Col("high_risks", t("col_high_risks"), "int", total="sum"),
            Col("stale", t("col_stale"), "int", total="sum"),
        ]
        cols += [
            Col(k, t(f"col_{k}"), "score", total="weighted:accounts")
            for k in ("overall", "potential", "relationship", "execution")
        ]
        cols += [Col(f"tier_{code}", self.tier_label(code), "int", total="sum") for code in TIER_CODES]
        rows = []
        for key in sorted(groups, key=str.casefold):
            accs = groups[key]
            row = self._group_row(accs) | {key_col.key: key}
            if with_band:
                row["band"] = self.band_text(len(accs))
            rows.append(row)
        return View(name, cols, rows)

    def _group_row(self, accs: list[AccountRecord]) -> Row:
        def total(k: str) -> float:
            return sum(float(a.figures.get(k) or 0) for a in accs)

        tiers = Counter(a.tier for a in accs)
        revenue, target = total("revenue"), total("target")
        return {
            "accounts": len(accs),
            "revenue": revenue,
            "target": target,
            "attainment": revenue / target if target else None,
            "weighted_pipeline": total("weighted_pipeline"),
            "whitespace": total("whitespace"),
            "overdue_actions": int(total("overdue_actions")),
            "high_risks": int(total("high_risks")),
            "stale": sum(1 for a in accs if self.is_stale(a)),
            **{
                k: _mean(a.scores[k] for a in accs)
                for k in ("overall", "potential", "relationship", "execution")
            },
            **{f"tier_{code}": tiers.get(code, 0) for code in TIER_CODES},
        }

    def band_text(self, n: int) -> str:
        low, high = self.kam_band
        if n < low:
            return self.t("band_low", low=low)
        if n > high:
            return self.t("band_high", high=high)
        return self.t("band_ok")

    def by_kam_view(self) -> View:
        none = self.t("none_label")
        return self._group_view(
            "ByKAM", Col("kam", self.t("col_kam"), width=20), lambda a: a.kam.strip() or none, with_band=True
        )

    def by_sector_view(self) -> View:
        none = self.t("none_label")
        return self._group_view(
            "BySector",
            Col("sector", self.t("col_sector"), width=26),
            lambda a: str(self.label("sector", a.sector) or none),
            with_band=False,
        )

    def pipeline_view(self) -> View:
        t = self.t
        cols = [
            Col("account", t("col_account"), width=24),
            Col("kam", t("col_kam"), width=16),
            Col("name", t("col_opportunity"), "longtext", width=32),
            Col("type", t("col_type"), choices="opportunity_type", width=15),
            Col("offer", t("col_offer"), choices="offer", width=18),
            Col("bu", t("col_bu"), width=14),
            Col("stage", t("col_stage"), choices="stage", width=13),
            Col("amount", t("col_amount"), "currency", total="sum"),
            Col("probability", t("col_probability"), "percent"),
            Col("weighted", t("col_weighted"), "currency", total="sum"),
            Col("expected_close", t("col_expected_close"), "date"),
            Col("owner", t("col_owner"), width=16),
            Col("next_step", t("col_next_step"), "longtext", width=34),
        ]
        rows = [
            {"account": a.account, "kam": a.kam, "account_id": a.account_id, "file": a.file} | o
            for a in self.accounts
            for o in a.opportunities
        ]
        rows.sort(
            key=lambda r: (-float(r.get("weighted") or 0), -_num(r.get("amount")), r["account"].casefold())
        )
        return View("Pipeline", cols, rows)

    def actions_view(self) -> View:
        t = self.t
        cols = [
            Col("when", t("col_when"), width=14),
            Col("due", t("col_due"), "date"),
            Col("days", t("col_days"), "int", width=12),
            Col("account", t("col_account"), width=24),
            Col("kam", t("col_kam"), width=16),
            Col("action", t("col_action"), "longtext", width=40),
            Col("objective", t("col_objective"), width=24),
            Col("owner", t("col_owner"), width=16),
            Col("status", t("col_status"), choices="action_status", width=13),
        ]
        if self.include_contacts:
            cols.insert(7, Col("stakeholder", t("col_stakeholder"), width=20))
        rows = []
        for rec, row, late in sorted(
            self.upcoming_actions(), key=lambda x: (x[2] * -1, x[0].account.casefold())
        ):
            rows.append(
                {"account": rec.account, "kam": rec.kam, "account_id": rec.account_id, "file": rec.file}
                | row
                | {"when": t("when_overdue") if late > 0 else t("when_soon"), "days": late}
            )
        return View("UpcomingActions", cols, rows)

    def risks_view(self) -> View:
        t = self.t
        cols = [
            Col("score", t("col_score"), "int", width=8),
            Col("account", t("col_account"), width=24),
            Col("kam", t("col_kam"), width=16),
            Col("risk", t("col_risk"), "longtext", width=36),
            Col("category", t("col_category"), choices="risk_category", width=15),
            Col("probability", t("col_risk_probability"), "int", width=12),
            Col("impact", t("col_impact"), "int", width=10),
            Col("mitigation", t("col_mitigation"), "longtext", width=36),
            Col("owner", t("col_owner"), width=16),
            Col("alert", t("col_alert"), "longtext", width=26),
            Col("status", t("col_status"), choices="risk_status", width=14),
        ]
        rows = [
            {"account": a.account, "kam": a.kam, "account_id": a.account_id, "file": a.file} | r
            for a in self.accounts
            for r in a.risks
            if r.get("status") != "closed"
        ]
        rows.sort(key=lambda r: (-_num(r.get("score"), -1), r["account"].casefold()))
        return View("RiskRegister", cols, rows)

    def status_counts(self) -> dict[str, int]:
        """Accounts per status (healthy, watch, at_risk)."""
        counts = dict.fromkeys(STATUS_CODES, 0)
        for a in self.accounts:
            counts[a.status] = counts.get(a.status, 0) + 1
        return counts

    def status_label(self, code: str) -> str:
        return str(self.template.status.get(code, {}).get("label", {}).get(self.lang, code))

    def alerts_view(self) -> View:
        """Every alert of every account: by KAM, most severe first, each linked to its cell."""
        t = self.t
        cols = [
            Col("kam", t("col_kam"), width=16),
            Col("severity", t("col_severity"), width=10),
            Col("account", t("col_account"), width=24),
            Col("status", t("col_account_status"), width=13),
            Col("rule", t("col_rule"), width=30),
            Col("message", t("col_message"), "longtext", width=52),
            Col("sheet", t("col_sheet"), width=16),
            Col("cell", t("col_cell"), width=8),
            Col("path", t("col_go_to"), "celllink", width=26),
        ]
        rules = self.template.alerts
        rows = [
            {
                "kam": a.kam,
                "severity": t(f"severity_{al['severity']}"),
                "rank": SEVERITY_ORDER.index(al["severity"]) if al["severity"] in SEVERITY_ORDER else 9,
                "account": a.account,
                "account_id": a.account_id,
                "status": self.status_label(a.status),
                "rule": rule_label(self.template, al["code"], self.lang)
                if al["code"] in rules
                else al["code"],
                "message": al["message"],
                "sheet": al["sheet"],
                "cell": al["cell"],
                "path": a.path,
                "file": a.file,
            }
            for a in self.accounts
            for al in a.alerts
        ]
        rows.sort(key=lambda r: (r["kam"].casefold(), r["rank"], r["account"].casefold()))
        return View("Alerts", cols, rows)

    def competitors_view(self) -> View:
        t = self.t
        cols = [
            Col("competitor", t("col_competitor"), width=24),
            Col("kind", t("col_competitor_kind"), choices="competitor_kind", width=16),
            Col("accounts", t("col_present_at"), "int", total="sum", width=11),
            Col("high_threat", t("col_high_threat"), "int", total="sum", width=11),
            Col("threat", t("col_top_threat"), choices="threat", width=12),
            Col("cells", t("col_incumbent_cells"), "int", total="sum", width=13),
            Col("potential", t("col_incumbent_potential"), "currency", total="sum", width=16),
            Col("where", t("col_accounts_list"), "longtext", width=48),
        ]
        return View("CompetitorPresence", cols, presence_rows(self.accounts))

    def stale_view(self) -> View:
        t = self.t
        cols = [
            Col("account", t("col_account"), width=26),
            Col("kam", t("col_kam"), width=16),
            Col("tier", t("col_tier"), choices="_tier", width=13),
            Col("last_review", t("col_last_review"), "date", width=13),
            Col("days_since_review", t("col_days_since_review"), "int", width=12, empty=t("never")),
            Col("next_review", t("col_next_review"), "date", width=13),
            Col("overall", t("col_overall"), "score"),
            Col("revenue", t("col_revenue"), "currency"),
            Col("path", t("col_open"), "link", width=30),
        ]
        stale = [a for a in self.accounts if self.is_stale(a)]
        stale.sort(
            key=lambda a: (
                a.figures.get("days_since_review") is not None,
                -(a.figures.get("days_since_review") or 0),
                a.account.casefold(),
            )
        )
        return View("StalePlans", cols, [self.account_row(a) for a in stale])

    def quality_view(self) -> View:
        t = self.t
        cols = [
            Col("file", t("col_file"), width=34),
            Col("account", t("col_account"), width=22),
            Col("problem", t("col_problem"), width=16),
            Col("sheet", t("col_sheet"), width=16),
            Col("cell", t("col_cell"), width=8),
            Col("message", t("col_message"), "longtext", width=60),
        ]

        def row(file: str, account: str, problem: str, message: str, sheet: str = "", cell: str = "") -> Row:
            return {
                "file": file,
                "account": account,
                "problem": t(problem),
                "sheet": sheet,
                "cell": cell,
                "message": message,
            }

        rows = [row(p.file, "", "problem_skipped", p.reason) for p in self.skipped]
        rows += [row(p.file, "", "problem_ignored", p.reason) for p in self.ignored]
        rows += [
            row(d.file, d.account, "problem_duplicate", t(f"duplicate_{d.same}", other=d.duplicate_of))
            for d in self.duplicates
        ]
        first_file: dict[str, str] = {}
        for a in sorted(self.accounts, key=lambda a: a.file.casefold()):
            if a.account_id and a.account_id in first_file:
                rows.append(
                    row(
                        a.file,
                        a.account,
                        "problem_duplicate",
                        t("duplicate_counted_twice", other=first_file[a.account_id]),
                    )
                )
            first_file.setdefault(a.account_id, a.file)
            rows += [
                row(
                    a.file,
                    a.account,
                    "problem_error",
                    f.get("message", ""),
                    f.get("sheet", ""),
                    f.get("cell", ""),
                )
                for f in a.errors
            ]
        return View("DataQuality", cols, rows)

    def contacts_view(self) -> View:
        t = self.t
        cols = [
            Col("account", t("col_account"), width=24),
            Col("kam", t("col_kam"), width=16),
            Col("kind", t("col_contact_kind"), width=16),
        ]
        for c in self.template.table("stakeholders").input_columns:
            kind = {"date": "date", "rating": "int"}.get(
                c.type, "longtext" if c.type == "longtext" else "text"
            )
            cols.append(
                Col(
                    c.key,
                    c.label.get(self.lang, c.label["en"]),
                    kind,
                    choices=c.choices,
                    width=c.width or (12 if kind in ("date", "int") else 18),
                )
            )
        kinds = {"main": t("contact_main"), "stakeholder": t("contact_stakeholder")}
        rows = [
            {"account": a.account, "kam": a.kam} | c | {"kind": kinds.get(c.get("kind"), c.get("kind"))}
            for a in self.sorted_accounts()
            for c in a.contacts
        ]
        return View("Contacts", cols, rows)

    # -- chart data --------------------------------------------------------------------------
    def matrix_points(self) -> dict[str, list[Row]]:
        """Rated accounts per tier: probability (x) and potential (y), the two priority factors, so
        an account up and to the right of another never has a lower tier at equal profitability;
        revenue gives the bubble size. The :data:`MATRIX_LABELS` highest priorities carry a number
        (``label``: 1 is the highest), which :meth:`matrix_key` names: names themselves overlap
        where accounts cluster."""
        out: dict[str, list[Row]] = {code: [] for code in TIER_CODES if code != "unrated"}
        rated = [a for a in self.sorted_accounts() if a.tier in out]
        revenue = {id(a): _finite(a.figures.get("revenue")) for a in rated}
        floor = max(max(revenue.values(), default=0) / 50, 1.0)  # an account without revenue still shows
        numbers = {id(a): i for i, a in enumerate(self.matrix_key(), start=1)}
        for a in rated:
            out[a.tier].append(
                {
                    "account": a.account,
                    "x": 100 * _finite(a.figures.get("probability")),
                    "y": _finite(a.scores.get("potential")),
                    "size": max(revenue[id(a)], floor),
                    "label": str(numbers[id(a)]) if id(a) in numbers else "",
                }
            )
        return out

    def matrix_key(self) -> list[AccountRecord]:
        """The rated accounts numbered on the matrix, highest priority first."""
        rated = [a for a in self.accounts if a.tier in TIER_CODES and a.tier != "unrated"]
        return sorted(rated, key=lambda a: (-a.priority, a.account))[:MATRIX_LABELS]

    def pipeline_by_type(self) -> list[Row]:
        sums: dict[str, list[float]] = {
            code: [0.0, 0.0] for code in self.template.choices.get("opportunity_type", {})
        }
        for a in self.accounts:
            for o in a.opportunities:
                if o.get("stage") in ("won", "lost"):
                    continue
                code = str(o.get("type") or "")
                bucket = sums.setdefault(code, [0.0, 0.0])
                bucket[0] += _num(o.get("amount"))
                bucket[1] += _num(o.get("weighted"))
        none = self.t("none_label")
        return [
            {"type": self.label("opportunity_type", code) or none, "open": v[0], "weighted": v[1]}
            for code, v in sums.items()
        ]


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _num(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)


def _score(record: AccountRecord, key: str) -> float:
    return record.priority if key == "priority" else record.scores[key]


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def _finite(value: Any) -> float:
    """A number a chart can plot: 0 for blanks, text, NaN and infinities."""
    number = n0(value)
    return number if math.isfinite(number) else 0.0
