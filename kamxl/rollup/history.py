"""Dated snapshots of the portfolio in SQLite, for the Trends sheet.

One snapshot per roll-up day (the ``as_of`` date): running again the same day replaces that
day's snapshot, so a scheduled job and a director pressing the button never double-count.
The schema is plain on purpose: BI tools can read the database directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..scoring import as_date
from .records import AccountRecord

SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
    day TEXT PRIMARY KEY,
    taken_at TEXT NOT NULL,
    folder TEXT,
    accounts INTEGER, revenue REAL, target REAL, weighted_pipeline REAL, open_pipeline REAL,
    whitespace REAL, overdue_actions INTEGER, high_risks INTEGER, stale_plans INTEGER,
    files_skipped INTEGER,
    avg_overall REAL, avg_potential REAL, avg_relationship REAL, avg_execution REAL, avg_priority REAL,
    tier_invest INTEGER, tier_maintain INTEGER, tier_deprioritise INTEGER, tier_unrated INTEGER,
    totals_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS account_snapshots (
    day TEXT NOT NULL REFERENCES snapshots(day) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    account TEXT, kam TEXT, file TEXT, tier TEXT,
    overall REAL, potential REAL, relationship REAL, execution REAL, priority REAL,
    revenue REAL, weighted_pipeline REAL,
    PRIMARY KEY (day, account_id)
);
CREATE INDEX IF NOT EXISTS account_snapshots_by_account ON account_snapshots (account_id, day);
CREATE TABLE IF NOT EXISTS deal_snapshots (
    day TEXT NOT NULL REFERENCES snapshots(day) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    deal TEXT NOT NULL,
    kam TEXT, type TEXT, stage TEXT, probability REAL, amount REAL, expected_close TEXT, outcome TEXT,
    PRIMARY KEY (day, account_id, deal)
);
CREATE INDEX IF NOT EXISTS deal_snapshots_by_deal ON deal_snapshots (account_id, deal, day);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    committed_at TEXT NOT NULL,
    summary TEXT NOT NULL,
    summary_digest TEXT NOT NULL
);
"""
TOTAL_COLUMNS = (
    "accounts",
    "revenue",
    "target",
    "weighted_pipeline",
    "open_pipeline",
    "whitespace",
    "overdue_actions",
    "high_risks",
    "stale_plans",
    "files_skipped",
)
TIER_RANK = {"invest": 0, "maintain": 1, "deprioritise": 2}


class HistoryError(RuntimeError):
    """The history database cannot be used; names the file."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: history database cannot be used: {reason}")


@dataclass(frozen=True)
class Snapshot:
    day: dt.date
    totals: dict[str, Any]


@dataclass(frozen=True)
class Movement:
    """An account whose tier changed since the previous snapshot (or that appeared or left)."""

    account_id: str
    account: str
    kam: str
    previous_tier: str | None
    tier: str | None
    previous_overall: float | None
    overall: float | None

    @property
    def kind(self) -> str:
        """up, down, new, gone, or changed (to or from unrated)."""
        if self.previous_tier is None:
            return "new"
        if self.tier is None:
            return "gone"
        old, new = TIER_RANK.get(self.previous_tier), TIER_RANK.get(self.tier)
        if old is None or new is None:
            return "changed"
        return "up" if new < old else "down"


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _connect(path: Path) -> sqlite3.Connection:
    """Open a kamxl history, creating it when new; refuse any other database before writing to it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not path.is_file():
        raise HistoryError(path, "not a regular file")
    if path.exists() and path.stat().st_size:
        with open(path, "rb") as fh:
            if fh.read(16) != _SQLITE_MAGIC:
                raise HistoryError(path, "not a SQLite database; give another --history file")
    con = sqlite3.connect(path, timeout=30)
    try:
        _refuse_foreign(con, path)
        con.execute("PRAGMA foreign_keys = ON")
        con.executescript(f"BEGIN; {SCHEMA} COMMIT;")
        with con:
            con.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
            con.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('application', 'kamxl')")
    except BaseException:
        con.close()
        raise
    return con


def check_history(path: str | Path) -> None:
    """Refuse, before a roll-up reads or writes anything, a file that is not a kamxl history."""
    path = Path(path)
    if not path.exists():
        return
    with _guard(path), closing(_connect(path)):
        pass


def _refuse_foreign(con: sqlite3.Connection, path: Path) -> None:
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return
    known = (
        "meta" in tables
        and con.execute("SELECT 1 FROM meta WHERE key IN ('schema_version', 'application')").fetchone()
    )
    if not known or not tables >= {"snapshots", "account_snapshots"}:
        listed = ", ".join(sorted(tables)[:5])
        raise HistoryError(
            path, f"not a kamxl history (it holds the tables {listed}); give another --history file"
        )


@contextmanager
def _guard(path: Path) -> Iterator[None]:
    """Turn SQLite and file errors into a HistoryError naming the database."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise HistoryError(path, str(exc)) from exc


def account_keys(accounts: Iterable[AccountRecord]) -> list[tuple[str, AccountRecord]]:
    """Stable keys: the account id, or id and file when two workbooks share an id (a copied file)."""
    seen: set[str] = set()
    out = []
    for acc in accounts:
        key = acc.account_id or acc.file
        if key in seen:
            key = f"{key}#{acc.file}"
        seen.add(key)
        out.append((key, acc))
    return out


def store_snapshot(
    path: str | Path,
    day: dt.date,
    totals: dict[str, Any],
    accounts: Iterable[AccountRecord],
    folder: str = "",
) -> None:
    """Store (or replace) the snapshot of ``day``: totals, accounts and their deals."""
    path = Path(path)
    accounts = list(accounts)
    with _guard(path), closing(_connect(path)) as con, con:
        _store(con, day, totals, accounts, folder)


def _store(
    con: sqlite3.Connection,
    day: dt.date,
    totals: dict[str, Any],
    accounts: Sequence[AccountRecord],
    folder: str,
) -> None:
    """The statements of :func:`store_snapshot`, in the caller's transaction."""
    scores = totals.get("average_scores", {})
    tiers = totals.get("accounts_per_tier", {})
    row = {
        "day": day.isoformat(),
        "taken_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "folder": folder,
        **{k: totals.get(k) for k in TOTAL_COLUMNS},
        **{
            f"avg_{k}": scores.get(k)
            for k in ("overall", "potential", "relationship", "execution", "priority")
        },
        **{f"tier_{k}": tiers.get(k, 0) for k in ("invest", "maintain", "deprioritise", "unrated")},
        "totals_json": json.dumps(totals, default=str, sort_keys=True),
    }
    acc_rows = [
        (
            row["day"],
            key,
            a.account,
            a.kam,
            a.file,
            a.tier,
            a.scores.get("overall"),
            a.scores.get("potential"),
            a.scores.get("relationship"),
            a.scores.get("execution"),
            a.priority,
            a.figures.get("revenue"),
            a.figures.get("weighted_pipeline"),
        )
        for key, a in account_keys(accounts)
    ]
    con.execute("DELETE FROM account_snapshots WHERE day = ?", (row["day"],))
    con.execute("DELETE FROM snapshots WHERE day = ?", (row["day"],))
    con.execute(
        f"INSERT INTO snapshots ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        tuple(row.values()),
    )
    con.executemany(f"INSERT INTO account_snapshots VALUES ({', '.join('?' * 13)})", acc_rows)
    con.execute("DELETE FROM deal_snapshots WHERE day = ?", (row["day"],))
    con.executemany(f"INSERT INTO deal_snapshots VALUES ({', '.join('?' * 10)})", deal_rows(day, accounts))


def deal_rows(day: dt.date, accounts: Iterable[AccountRecord]) -> list[tuple[Any, ...]]:
    """Each opportunity of each account as the history keeps it: no name, no text. A deal is known
    across snapshots by a hash of its account and its name (renamed, it counts as a new deal)."""
    out = []
    for key, acc in account_keys(accounts):
        seen: set[str] = set()
        for opp in acc.opportunities:
            deal = deal_key(key, opp.get("name"))
            while deal in seen:  # two deals of one account with the same name
                deal = deal_key(deal, "")
            seen.add(deal)
            stage = opp.get("stage")
            close = as_date(opp.get("expected_close"))
            out.append(
                (
                    day.isoformat(),
                    key,
                    deal,
                    acc.kam,
                    _code(opp.get("type")),
                    _code(stage),
                    _number(opp.get("probability")),
                    _number(opp.get("amount")),
                    close.isoformat() if close else None,
                    stage if stage in ("won", "lost") else None,
                )
            )
    return out


def deal_key(account: str, name: Any) -> str:
    """A short, stable, nameless key of a deal within its account."""
    text = f"{account}\0{' '.join(str(name or '').split()).casefold()}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def _code(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class DealSnapshot:
    """One opportunity on one snapshot day (``outcome``: won, lost or None while open)."""

    day: dt.date
    account_id: str
    deal: str
    kam: str
    type: str | None
    stage: str | None
    probability: float | None
    amount: float | None
    expected_close: dt.date | None
    outcome: str | None


DEAL_COLUMNS = "day, account_id, deal, kam, type, stage, probability, amount, expected_close, outcome"
# Of each deal, the snapshots before a day that calibration reads: the first that shows it won or
# lost, and the last before that one (or the last of all) that shows it open with a probability.
DECISIVE_QUERY = f"""
WITH closed AS (
    SELECT account_id, deal, MIN(day) AS day FROM deal_snapshots
    WHERE day < :before AND outcome IS NOT NULL GROUP BY account_id, deal
),
open AS (
    SELECT p.account_id, p.deal, MAX(p.day) AS day
    FROM deal_snapshots p LEFT JOIN closed c USING (account_id, deal)
    WHERE p.day < :before AND p.outcome IS NULL AND p.probability IS NOT NULL
        AND (c.day IS NULL OR p.day < c.day)
    GROUP BY p.account_id, p.deal
),
picked AS (SELECT * FROM closed UNION ALL SELECT * FROM open)
SELECT {", ".join(f"d.{c}" for c in DEAL_COLUMNS.split(", "))} FROM picked k
JOIN deal_snapshots d ON d.day = k.day AND d.account_id = k.account_id AND d.deal = k.deal
ORDER BY d.day, d.account_id, d.deal
"""


def load_deals(
    path: str | Path, *, before: dt.date | None = None, decisive: bool = False
) -> list[DealSnapshot]:
    """Deals of the snapshots (before ``before`` if given), oldest first; none for a history older
    than deal snapshots. ``decisive``: only the snapshots calibration reads (:data:`DECISIVE_QUERY`),
    at most two of each deal however long the history."""
    path = Path(path)
    if not path.exists():
        return []
    limit = (before or dt.date.max).isoformat()
    query = (
        DECISIVE_QUERY
        if decisive
        else f"SELECT {DEAL_COLUMNS} FROM deal_snapshots WHERE day < :before ORDER BY day, account_id, deal"
    )
    with _guard(path), closing(_connect(path)) as con:
        rows = con.execute(query, {"before": limit}).fetchall()
    return [
        DealSnapshot(
            dt.date.fromisoformat(r[0]),
            r[1],
            r[2],
            r[3] or "",
            r[4],
            r[5],
            r[6],
            r[7],
            dt.date.fromisoformat(r[8]) if r[8] else None,
            r[9],
        )
        for r in rows
    ]


def load_snapshots(path: str | Path) -> list[Snapshot]:
    """Every snapshot, oldest first."""
    path = Path(path)
    if not path.exists():
        return []
    with _guard(path), closing(_connect(path)) as con:
        return _snapshots(con)


def _snapshots(con: sqlite3.Connection) -> list[Snapshot]:
    rows = con.execute("SELECT day, totals_json FROM snapshots ORDER BY day").fetchall()
    return [Snapshot(dt.date.fromisoformat(day), json.loads(totals)) for day, totals in rows]


def tier_movements(path: str | Path, day: dt.date) -> tuple[dt.date | None, list[Movement]]:
    """Tier changes between the last snapshot before ``day`` and the snapshot of ``day``."""
    path = Path(path)
    if not path.exists():
        return None, []
    with _guard(path), closing(_connect(path)) as con:
        return _movements(con, day)


def _movements(con: sqlite3.Connection, day: dt.date) -> tuple[dt.date | None, list[Movement]]:
    prev = con.execute("SELECT MAX(day) FROM snapshots WHERE day < ?", (day.isoformat(),)).fetchone()[0]
    if prev is None:
        return None, []
    query = "SELECT account_id, account, kam, tier, overall FROM account_snapshots WHERE day = ?"
    before = {r[0]: r for r in con.execute(query, (prev,))}
    now = {r[0]: r for r in con.execute(query, (day.isoformat(),))}
    moves = []
    for key in sorted(before.keys() | now.keys()):
        old, new = before.get(key), now.get(key)
        if old and new and old[3] == new[3]:
            continue
        ref = new or old
        moves.append(
            Movement(
                account_id=key,
                account=ref[1] or "",
                kam=ref[2] or "",
                previous_tier=old[3] if old else None,
                tier=new[3] if new else None,
                previous_overall=old[4] if old else None,
                overall=new[4] if new else None,
            )
        )
    order = {"down": 0, "up": 1, "changed": 2, "new": 3, "gone": 4}
    moves.sort(key=lambda m: (order[m.kind], m.account.casefold()))
    return dt.date.fromisoformat(prev), moves


BASELINE_QUERY = (
    "SELECT day, tier, overall, potential, relationship, execution FROM account_snapshots"
    " WHERE account_id = ? AND day <= ? ORDER BY day DESC LIMIT 1"
)


def _baseline(row: tuple | None) -> dict[str, Any] | None:
    if row is None:
        return None
    keys = ("overall", "potential", "relationship", "execution")
    return {
        "day": dt.date.fromisoformat(row[0]),
        "tier": row[1],
        "scores": dict(zip(keys, row[2:], strict=True)),
    }


def account_baseline(path: str | Path, account_id: str, day: dt.date) -> dict[str, Any] | None:
    """An account's tier and scores in the last snapshot on or before ``day`` (None if none)."""
    path = Path(path)
    if not path.exists() or not account_id:
        return None
    query = BASELINE_QUERY.replace("account_id = ?", "(account_id = ? OR account_id LIKE ?)")
    with _guard(path), closing(_connect(path)) as con:
        return _baseline(con.execute(query, (account_id, f"{account_id}#%", day.isoformat())).fetchone())


def review_baselines(path: str | Path, accounts: Iterable[AccountRecord]) -> dict[str, dict[str, Any]]:
    """Each account's tier and scores in the last snapshot on or before its last review, by file:
    what the summary's "Changes since last review" column compares today's scores with."""
    path = Path(path)
    if not path.exists():
        return {}
    with _guard(path), closing(_connect(path)) as con:
        return _review_baselines(con, accounts)


def _review_baselines(
    con: sqlite3.Connection, accounts: Iterable[AccountRecord]
) -> dict[str, dict[str, Any]]:
    out = {}
    for key, acc in account_keys(accounts):
        day = as_date(acc.figures.get("last_review"))
        if day and (found := _baseline(con.execute(BASELINE_QUERY, (key, day.isoformat())).fetchone())):
            out[acc.file] = found
    return out


class PendingSnapshot:
    """Today's snapshot, stored in a transaction left open while the roll-up stages its other
    outputs: :meth:`commit` is the moment the run's outputs become the current ones, and
    :meth:`rollback` (or a kill: SQLite rolls an unfinished transaction back) leaves the history
    as it was. The ``runs`` row names the summary the snapshot belongs to."""

    def __init__(
        self,
        path: Path,
        day: dt.date,
        totals: dict[str, Any],
        accounts: list[AccountRecord],
        folder: str,
    ) -> None:
        self.path, self.day, self.committed = path, day, False
        with _guard(path):
            self.con = _connect(path)
            try:
                self.con.execute("PRAGMA foreign_keys = ON")
                self.con.execute("BEGIN IMMEDIATE")
                _store(self.con, day, totals, accounts, folder)
            except BaseException:
                self.con.close()
                raise

    def trends(self) -> Trends:
        """What the Trends sheet shows, today's snapshot included."""
        with _guard(self.path):
            previous, moves = _movements(self.con, self.day)
            return Trends(self.path, _snapshots(self.con), previous, moves)

    def baselines(self, accounts: Iterable[AccountRecord]) -> dict[str, dict[str, Any]]:
        with _guard(self.path):
            return _review_baselines(self.con, accounts)

    def commit(self, run_id: str, summary: Path, summary_digest: str) -> None:
        """Record which summary the snapshot belongs to and make both the current ones."""
        with _guard(self.path):
            try:
                self.con.execute("DELETE FROM runs WHERE day = ?", (self.day.isoformat(),))
                now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
                self.con.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?)",
                    (run_id, self.day.isoformat(), now, str(summary), summary_digest),
                )
                self.con.commit()
                self.committed = True
            finally:
                self.con.close()

    def rollback(self) -> None:
        with suppress(sqlite3.Error):
            self.con.rollback()
        self.con.close()


def committed_run(path: Path, run_id: str) -> bool | None:
    """Whether the history holds the run ``run_id`` (None: the history cannot be read)."""
    if not path.exists():
        return False
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)) as con:
            return con.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is not None
    except sqlite3.Error:
        return None


def last_run(path: Path) -> str | None:
    """The run of the history's latest committed snapshot (None for none or a history without runs)."""
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)) as con:
            row = con.execute("SELECT run_id FROM runs ORDER BY rowid DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


@dataclass
class Trends:
    """What the Trends sheet shows: the history database, its snapshots and the tier movements."""

    database: Path | None = None
    snapshots: list[Snapshot] = field(default_factory=list)
    previous_day: dt.date | None = None
    movements: list[Movement] = field(default_factory=list)
