"""Forecast calibration: can the director believe the pipeline the KAMs declare?

Every roll-up keeps each opportunity's stage, probability and outcome in the history
(:func:`kamxl.rollup.history.deal_rows`). A deal seen open in one snapshot and won or lost in a
later one is a forecast whose answer is known: the probability declared in the last snapshot
where it was still open is set against what happened. From those closed deals come, per KAM
and per stage, the counts, the Brier score and a reliability table, and a correction factor
that turns each open deal's declared probability into a calibrated one.

The correction is a ratio of realised to expected wins (wins / sum of declared probabilities),
shrunk by empirical Bayes (a Gamma-Poisson prior worth ``prior_wins`` expected wins), level by
level: the portfolio's ratio is shrunk towards 1 (no correction without history), each KAM's
towards the portfolio's, and each KAM's stage towards the KAM's. A KAM with two closed deals is
corrected like the portfolio; one with fifty by their own record. docs/forecast.md works
examples through. Everything here is a pure function of the deals and the records.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..scoring import clamp, material_pipeline, n0, rank
from ..template import Template, TemplateError
from .history import DealSnapshot, deal_rows
from .records import AccountRecord

CLOSED = ("won", "lost")
PRIOR_WINS = 5.0  # strength of the prior, in expected wins
BIN_EDGES = (0.2, 0.4, 0.6, 0.8)  # reliability bins: [0, 0.2), [0.2, 0.4), ..., [0.8, 1]


@dataclass(frozen=True)
class ForecastSettings:
    """The template's ``[forecast]`` section."""

    prior_wins: float = PRIOR_WINS
    bins: tuple[float, ...] = BIN_EDGES


def forecast_settings(template: Template) -> ForecastSettings:
    """``[forecast]`` of the template, checked: a bad value names the file and the key."""
    cfg = template.raw.get("forecast") or {}
    prior = cfg.get("prior_wins", PRIOR_WINS)
    if isinstance(prior, bool) or not isinstance(prior, int | float) or prior < 0:
        raise TemplateError(template.path, "forecast.prior_wins", "must be a number at least 0")
    bins = cfg.get("bins", list(BIN_EDGES))
    if (
        not isinstance(bins, list)
        or not all(isinstance(b, int | float) and not isinstance(b, bool) and 0 < b < 1 for b in bins)
        or sorted(set(bins)) != bins
    ):
        raise TemplateError(template.path, "forecast.bins", "must be increasing numbers between 0 and 1")
    return ForecastSettings(float(prior), tuple(float(b) for b in bins))


@dataclass(frozen=True)
class Outcome:
    """A closed deal as calibration counts it: what was declared when it was last open."""

    account_id: str
    deal: str
    kam: str
    stage: str  # the stage when last open ("" when none was given)
    type: str
    probability: float  # declared when last open
    amount: float
    won: bool
    closed_on: dt.date  # the first snapshot that shows it won or lost


def kam_name(kam: str) -> str:
    """A KAM as the roll-up groups them: spaces collapsed."""
    return " ".join(str(kam or "").split())


def today_deals(day: dt.date, accounts: Iterable[AccountRecord]) -> list[DealSnapshot]:
    """The deals of this roll-up, as its history snapshot will hold them."""
    out = []
    for r in deal_rows(day, accounts):
        close = dt.date.fromisoformat(r[8]) if r[8] else None
        out.append(DealSnapshot(day, r[1], r[2], r[3] or "", r[4], r[5], r[6], r[7], close, r[9]))
    return out


def closed_deals(snapshots: Iterable[DealSnapshot]) -> list[Outcome]:
    """Deals seen open (with a probability) in one snapshot and won or lost in a later one.

    Deals closed before they were ever seen open say nothing about a forecast and are left out,
    as are deals that vanished from their plan without an outcome."""
    by_deal: dict[tuple[str, str], list[DealSnapshot]] = defaultdict(list)
    for snap in snapshots:
        by_deal[(snap.account_id, snap.deal)].append(snap)
    out = []
    for seen in by_deal.values():
        seen.sort(key=lambda s: s.day)
        last_open: DealSnapshot | None = None
        for snap in seen:
            if snap.outcome not in CLOSED:
                last_open = snap if snap.probability is not None else last_open
                continue
            if last_open is not None:
                out.append(
                    Outcome(
                        last_open.account_id,
                        last_open.deal,
                        kam_name(last_open.kam),
                        last_open.stage or "",
                        last_open.type or "",
                        clamp(float(last_open.probability or 0)),
                        float(last_open.amount or 0),
                        snap.outcome == "won",
                        snap.day,
                    )
                )
            break
    out.sort(key=lambda o: (o.closed_on, o.kam.casefold(), o.account_id, o.deal))
    return out


@dataclass
class Record:
    """Closed deals of a KAM, a stage or the portfolio: how their declarations fared."""

    deals: int = 0
    wins: int = 0
    declared: float = 0.0  # sum of declared probabilities: the wins they announced
    squared: float = 0.0  # sum of (declared - outcome)^2

    def add(self, o: Outcome) -> None:
        self.deals += 1
        self.wins += o.won
        self.declared += o.probability
        self.squared += (o.probability - o.won) ** 2

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.deals if self.deals else None

    @property
    def mean_declared(self) -> float | None:
        return self.declared / self.deals if self.deals else None

    @property
    def brier(self) -> float | None:
        """Mean squared gap between declared probability and outcome: 0 perfect, 0.25 a coin."""
        return self.squared / self.deals if self.deals else None

    @property
    def overstatement(self) -> float | None:
        """Mean declared probability minus win rate: positive for an optimist."""
        return (self.declared - self.wins) / self.deals if self.deals else None


def shrunk(wins: float, declared: float, towards: float, prior: float) -> float:
    """Realised over expected wins, with ``prior`` expected wins at the ratio ``towards``."""
    if declared + prior <= 0:
        return towards
    return (wins + prior * towards) / (declared + prior)


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    deals: int
    mean_declared: float | None
    win_rate: float | None


@dataclass
class Calibration:
    """What the closed deals say of each KAM's and stage's declarations."""

    outcomes: list[Outcome]
    settings: ForecastSettings = field(default_factory=ForecastSettings)
    first_day: dt.date | None = None  # the first snapshot: deals closed since then count
    portfolio: Record = field(default_factory=Record)
    by_kam: dict[str, Record] = field(default_factory=dict)
    by_stage: dict[str, Record] = field(default_factory=dict)
    by_kam_stage: dict[tuple[str, str], Record] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for o in self.outcomes:
            self.portfolio.add(o)
            self.by_kam.setdefault(o.kam, Record()).add(o)
            self.by_stage.setdefault(o.stage, Record()).add(o)
            self.by_kam_stage.setdefault((o.kam, o.stage), Record()).add(o)

    @property
    def prior(self) -> float:
        return self.settings.prior_wins

    def portfolio_factor(self) -> float:
        rec = self.portfolio
        return shrunk(rec.wins, rec.declared, 1.0, self.prior)

    def kam_factor(self, kam: str) -> float:
        rec = self.by_kam.get(kam_name(kam), Record())
        return shrunk(rec.wins, rec.declared, self.portfolio_factor(), self.prior)

    def stage_factor(self, stage: str) -> float:
        rec = self.by_stage.get(stage or "", Record())
        return shrunk(rec.wins, rec.declared, self.portfolio_factor(), self.prior)

    def factor(self, kam: str, stage: str | None) -> float:
        """The correction of a KAM's deal at a stage: their stage record shrunk towards their own."""
        rec = self.by_kam_stage.get((kam_name(kam), stage or ""), Record())
        return shrunk(rec.wins, rec.declared, self.kam_factor(kam), self.prior)

    def calibrated(self, probability: Any, kam: str, stage: str | None) -> float:
        """A declared probability corrected by the record of its KAM at its stage (0-1)."""
        return clamp(n0(probability) * self.factor(kam, stage))

    def reliability(self, kam: str | None = None) -> list[Bin]:
        """Closed deals by declared-probability bin: how many, declared on average, won."""
        edges = (0.0, *self.settings.bins, 1.0)
        records = [Record() for _ in edges[1:]]
        for o in self.outcomes:
            if kam is not None and o.kam != kam_name(kam):
                continue
            i = next(i for i, high in enumerate(edges[1:]) if o.probability < high or high == 1.0)
            records[i].add(o)
        return [
            Bin(low, high, r.deals, r.mean_declared, r.win_rate)
            for low, high, r in zip(edges, edges[1:], records, strict=False)
        ]


def calibrate(
    history: Iterable[DealSnapshot], today: Iterable[DealSnapshot], settings: ForecastSettings | None = None
) -> Calibration:
    """The calibration of the deals of earlier snapshots and of this roll-up's (``today``), which
    replace any snapshot of the same day."""
    today = list(today)
    days = {s.day for s in today}
    snaps = [s for s in history if s.day not in days] + today
    first = min((s.day for s in snaps), default=None)
    return Calibration(closed_deals(snaps), settings or ForecastSettings(), first)


def is_open(opp: Mapping[str, Any]) -> bool:
    return opp.get("stage") not in CLOSED


@dataclass
class PipelineLine:
    """One KAM's (or the portfolio's) open pipeline, declared and calibrated, against the gap."""

    kam: str
    revenue: float = 0.0
    target: float = 0.0
    new_open: float = 0.0
    new_declared: float = 0.0
    new_calibrated: float = 0.0
    renewal_open: float = 0.0
    renewal_declared: float = 0.0
    renewal_calibrated: float = 0.0

    @property
    def gap(self) -> float:
        """Revenue still missing to reach the target (0 when reached)."""
        return max(self.target - self.revenue, 0.0)

    @property
    def coverage(self) -> float | None:
        """Calibrated new business against the gap: 1 covers it."""
        return self.new_calibrated / self.gap if self.gap else None

    @property
    def declared_coverage(self) -> float | None:
        return self.new_declared / self.gap if self.gap else None

    def add(self, other: PipelineLine) -> None:
        for key in (
            "revenue",
            "target",
            "new_open",
            "new_declared",
            "new_calibrated",
            "renewal_open",
            "renewal_declared",
            "renewal_calibrated",
        ):
            setattr(self, key, getattr(self, key) + getattr(other, key))


def pipeline_lines(cal: Calibration, accounts: Iterable[AccountRecord]) -> list[PipelineLine]:
    """Per KAM (alphabetical): open pipeline weighted by declared and by calibrated probabilities,
    renewals apart from new business (every other opportunity type), against revenue and target."""
    lines: dict[str, PipelineLine] = {}
    for acc in accounts:
        kam = kam_name(acc.kam)
        line = lines.setdefault(kam, PipelineLine(kam))
        line.revenue += n0(acc.figures.get("revenue"))
        line.target += n0(acc.figures.get("target"))
        for opp in acc.opportunities:
            if not is_open(opp):
                continue
            amount = n0(opp.get("amount"))
            declared = amount * n0(opp.get("probability"))
            calibrated = amount * cal.calibrated(opp.get("probability"), kam, opp.get("stage"))
            kind = "renewal" if opp.get("type") == "renewal" else "new"
            setattr(line, f"{kind}_open", getattr(line, f"{kind}_open") + amount)
            setattr(line, f"{kind}_declared", getattr(line, f"{kind}_declared") + declared)
            setattr(line, f"{kind}_calibrated", getattr(line, f"{kind}_calibrated") + calibrated)
    return [lines[k] for k in sorted(lines, key=str.casefold)]


def portfolio_line(lines: Iterable[PipelineLine], label: str = "") -> PipelineLine:
    total = PipelineLine(label)
    for line in lines:
        total.add(line)
    return total


def rescored(
    record: AccountRecord,
    template: Template,
    as_of: dt.date,
    *,
    cal: Calibration | None = None,
    profitability: float | None = None,
) -> tuple[float, str]:
    """An account's priority and tier recomputed from its record, with its deals' probabilities
    calibrated (``cal``) and/or another profitability factor (0-1). With neither, the record's own
    priority and tier come back: kamxl.scoring.rank, as score_plan uses it."""
    cfg = template.scoring
    fig = record.figures
    money = n0(fig.get("money_at_stake"))
    deals = record.opportunities
    if cal is not None:
        deals = [
            {**o, "probability": cal.calibrated(o.get("probability"), record.kam, o.get("stage"))}
            for o in deals
        ]
    window = float(cfg["won_window_days"])
    material = material_pipeline(deals, money, float(cfg["material_deal_share"]), as_of, window)
    target = float(cfg["pipeline_coverage"]) * money
    pipeline_score = clamp(material / target) if target > 0 else 0.0
    profit = n0(fig.get("profitability")) if profitability is None else profitability
    scores = record.scores
    _, _, priority, tier = rank(
        scores["potential"],
        scores["relationship"],
        n0(fig.get("position")),
        pipeline_score,
        profit,
        n0(fig.get("revenue")),
        money,
        bool(fig.get("complete")),
        template,
    )
    return priority, tier


def calibrated_records(
    accounts: list[AccountRecord], template: Template, cal: Calibration, as_of: dt.date
) -> tuple[list[AccountRecord], dict[str, tuple[str, float]]]:
    """Copies of the records whose priority and tier use calibrated probabilities, and each
    file's declared tier and priority (the records themselves are left as they are: the read
    cache keeps them)."""
    out, declared = [], {}
    for acc in accounts:
        priority, tier = rescored(acc, template, as_of, cal=cal)
        declared[acc.file] = (acc.tier, acc.priority)
        label = template.tiers.get(tier, {}).get("label", {}).get(acc.lang, tier)
        out.append(replace(acc, priority=priority, tier=tier, tier_label=label))
    return out, declared


def calibration_json(cal: Calibration, accounts: Iterable[AccountRecord]) -> dict[str, Any]:
    """``calibration`` of ``kamxl rollup --json``: per KAM, their record and their pipeline."""
    lines = {line.kam: line for line in pipeline_lines(cal, accounts)}
    out: dict[str, Any] = {}
    for kam in sorted(set(lines) | set(cal.by_kam), key=str.casefold):
        rec = cal.by_kam.get(kam, Record())
        line = lines.get(kam, PipelineLine(kam))
        out[kam] = {
            "closed_deals": rec.deals,
            "won": rec.wins,
            "mean_declared": _r(rec.mean_declared, 4),
            "win_rate": _r(rec.win_rate, 4),
            "overstatement": _r(rec.overstatement, 4),
            "brier": _r(rec.brier, 4),
            "factor": _r(cal.kam_factor(kam), 4),
            "weighted_pipeline": _r(line.new_declared + line.renewal_declared, 2),
            "calibrated_pipeline": _r(line.new_calibrated + line.renewal_calibrated, 2),
            "reliability": [
                {
                    "from": b.low,
                    "to": b.high,
                    "deals": b.deals,
                    "mean_declared": _r(b.mean_declared, 4),
                    "win_rate": _r(b.win_rate, 4),
                }
                for b in cal.reliability(kam)
            ],
        }
    return out


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class ForecastState:
    """A roll-up's calibration, and each file's declared tier and priority when the tiers use
    calibrated probabilities (None: the tiers are the declared ones)."""

    calibration: Calibration
    declared_tiers: dict[str, tuple[str, float]] | None = None

    @property
    def calibrated_tiers(self) -> bool:
        return self.declared_tiers is not None

    def as_json(self, accounts: Iterable[AccountRecord]) -> dict[str, Any]:
        return calibration_json(self.calibration, accounts)


def prepare_forecast(
    history: Iterable[DealSnapshot],
    day: dt.date,
    accounts: list[AccountRecord],
    template: Template,
    *,
    calibrated_tiers: bool = False,
) -> tuple[list[AccountRecord], ForecastState]:
    """The calibration of a roll-up (earlier snapshots' deals and this one's) and the records the
    summary shows: copies re-tiered with calibrated probabilities when asked, else the same."""
    cal = calibrate(history, today_deals(day, accounts), forecast_settings(template))
    if not calibrated_tiers:
        return accounts, ForecastState(cal)
    records, declared = calibrated_records(accounts, template, cal, day)
    return records, ForecastState(cal, declared)
