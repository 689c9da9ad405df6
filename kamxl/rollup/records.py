"""The small, picklable record a roll-up keeps of each account plan.

Workers send these back instead of whole plans: a portfolio of hundreds of workbooks then
costs a few kilobytes per account in the parent process. Personal data (stakeholder names,
contact details) is dropped here, in the worker, unless the caller asked for contacts, so it
cannot leak into the summary or the exports by accident.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Any

from ..alerts import Alert, plan_alerts, status_label
from ..drafts import mail_address
from ..findings import Finding
from ..model import Plan, Row
from ..scoring import Scores, n0, risk_score, score_plan
from ..template import Template
from .competitors import competitor_rows

SCORE_KEYS = ("potential", "relationship", "execution", "overall")
# Columns that name a person at the client without being marked sensitive in the template.
PERSONAL_COLUMNS: dict[str, frozenset[str]] = {"actions": frozenset({"stakeholder"})}
REDACTED = "[contact]"
RITUAL_COLUMNS = ["ritual", "frequency", "last_held", "next_due"]  # participants name people
TEAM_COLUMNS = ["name", "role", "commitment"]  # our colleagues' days per month (kamxl.rollup.capacity)
MIN_REDACTED = 3  # shorter "names" (initials, "IT") would blank ordinary words


@dataclass
class AccountRecord:
    """One readable account plan: identity, scores, figures, and the rows the summary lists."""

    file: str  # path relative to the rolled-up folder, "/" separators
    path: str  # absolute path of the workbook
    account: str
    account_id: str
    kam: str
    sector: str  # a sector code of the template, or the text the KAM typed
    lang: str
    template_version: str
    scores: dict[str, float]  # potential, relationship, execution, overall (0-100)
    priority: float
    tier: str  # invest, maintain, deprioritise or unrated
    tier_label: str  # as the workbook shows it (its own language)
    figures: dict[str, Any]  # every kamxl.scoring.Figures field; dates stay dates
    findings: list[dict[str, str]] = field(default_factory=list)
    status: str = "healthy"  # healthy, watch or at_risk
    status_label: str = ""  # as the workbook shows it (its own language)
    alerts: list[dict[str, str]] = field(default_factory=list)  # code, severity, message, sheet, cell
    kam_email: str = ""  # from the Account team sheet: the KAM's row, else the account lead's
    opportunities: list[Row] = field(default_factory=list)
    actions: list[Row] = field(default_factory=list)
    risks: list[Row] = field(default_factory=list)
    rituals: list[Row] = field(default_factory=list)  # RITUAL_COLUMNS: what a digest lists as coming
    contacts: list[Row] = field(default_factory=list)
    competitors: list[Row] = field(default_factory=list)  # kamxl.rollup.competitors.competitor_rows
    team: list[Row] = field(default_factory=list)  # TEAM_COLUMNS of the Account team sheet
    review_changes: dict[str, int] = field(default_factory=dict)  # kind -> count since the last review
    check: dict[str, Any] | None = None  # what `kamxl check --json` prints for this file (unredacted)

    @property
    def errors(self) -> list[dict[str, str]]:
        return [f for f in self.findings if f.get("severity") == "error"]

    @property
    def warnings(self) -> list[dict[str, str]]:
        return [f for f in self.findings if f.get("severity") == "warning"]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates become ISO text."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def kept_columns(template: Template, table: str, include_contacts: bool) -> list[str]:
    """Input columns of a table that may leave the workbook."""
    personal = PERSONAL_COLUMNS.get(table, frozenset())
    return [
        c.key
        for c in template.table(table).input_columns
        if include_contacts or not (c.sensitive or c.key in personal)
    ]


def _pick(rows: Iterable[Row], keys: list[str]) -> list[Row]:
    return [{k: row.get(k) for k in keys} for row in rows]


def opportunity_rows(plan: Plan, template: Template, include_contacts: bool = False) -> list[Row]:
    rows = _pick(
        plan.rows("opportunities", template), kept_columns(template, "opportunities", include_contacts)
    )
    for row in rows:
        closed = row.get("stage") in ("won", "lost")
        row["weighted"] = 0.0 if closed else n0(row.get("amount")) * n0(row.get("probability"))
    return rows


def action_rows(plan: Plan, template: Template, include_contacts: bool = False) -> list[Row]:
    return _pick(plan.rows("actions", template), kept_columns(template, "actions", include_contacts))


def risk_rows(plan: Plan, template: Template, include_contacts: bool = False) -> list[Row]:
    rows = _pick(plan.rows("risks", template), kept_columns(template, "risks", include_contacts))
    for row in rows:
        row["score"] = risk_score(row)
    return rows


def kam_email(plan: Plan, template: Template) -> str:
    """The KAM's e-mail: their row of the Account team sheet, else the account lead's."""
    rows = plan.rows("team", template)
    name = " ".join(plan.kam.split()).casefold()
    mine = [r for r in rows if " ".join(str(r.get("name") or "").split()).casefold() == name]
    leads = [r for r in rows if r.get("role") == "account_lead"]
    return next((a for r in mine + leads if (a := mail_address(r.get("email")))), "")


def contact_names(plan: Plan, template: Template) -> set[str]:
    """Names and contact details of people at the client: stakeholders and the main contact."""
    values: set[str] = set()
    for row in plan.rows("stakeholders", template):
        values |= {
            str(row.get(c.key) or "")
            for c in template.table("stakeholders").columns
            if c.sensitive or c.key == template.table("stakeholders").key_column
        }
    values |= {str(plan.fields.get(k) or "") for k, col in template.fields.items() if col.sensitive}
    values.add(str(plan.fields.get("main_contact") or ""))
    return {v.strip() for v in values if len(v.strip()) >= MIN_REDACTED}


def redactor(names: Iterable[str]) -> Redactor:
    """A function that replaces those names in text with a placeholder (other values unchanged).

    KAMs write names into free text ("Confirm budget with Fiona Clarke"): without this, the
    summary would carry the names the stakeholder sheet keeps private.
    """
    return Redactor(names)


class Redactor:
    """Replaces names in text. Most text names nobody: a plain search over a whole row finds
    that; names are then replaced by plain searches too, and a case-insensitive pattern is
    compiled only for text whose letters case-fold irregularly (a pattern per plan costs about
    a millisecond)."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names), key=len, reverse=True)
        self.folded = [n.casefold() for n in self.names] if all(map(_foldable, self.names)) else None
        self._pattern: re.Pattern[str] | None = None

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or not self.names or not self._may_hold(value):
            return value
        if self.folded is not None and _foldable(value):
            folded = value.casefold()
            if len(folded) == len(value):  # one character for one: positions carry over
                return _replaced(value, folded, self.folded)
        if self._pattern is None:
            self._pattern = re.compile("|".join(re.escape(n) for n in self.names), re.IGNORECASE)
        return self._pattern.sub(REDACTED, value)

    def rows(self, rows: list[Row]) -> list[Row]:
        """Copies of the rows, names replaced in their text."""
        out = []
        for row in rows:
            text = "\n".join(v for v in row.values() if isinstance(v, str))
            out.append({k: self(v) for k, v in row.items()} if self._may_hold(text) else dict(row))
        return out

    def _may_hold(self, text: str) -> bool:
        if self.folded is None or not _foldable(text):
            return bool(self.names)
        return any(map(text.casefold().__contains__, self.folded))


def _replaced(text: str, folded: str, names: list[str]) -> str:
    """``text`` with each name found in ``folded`` (its case-folded copy, position for position)
    replaced, as a case-insensitive pattern of the names, longest first, replaces them: leftmost
    first, the longest name at a position, never overlapping."""
    out, start = [], 0
    while True:
        at, length = -1, 0
        for name in names:
            i = folded.find(name, start)
            if i != -1 and (at == -1 or i < at or (i == at and len(name) > length)):
                at, length = i, len(name)
        if at == -1:
            break
        out += [text[start:at], REDACTED]
        start = at + length
    out.append(text[start:])
    return "".join(out)


def _foldable(text: str) -> bool:
    """Whether case-folding finds in ``text`` exactly what a case-insensitive pattern finds: true
    unless it holds a letter with irregular case rules (dotless i, long s, sharp s, final sigma).

    Checked on the whole text, in C: a letter with such rules makes the whole text's mappings
    differ too (a final sigma may also make a text of regular letters fail: it then takes the
    pattern, which is only slower)."""
    if text.isascii():
        return True
    low = text.lower()
    return text.casefold() == low and text.upper().lower() == low and low.upper() == text.upper()


def contact_rows(plan: Plan, template: Template) -> list[Row]:
    """The main contact and every stakeholder, with their contact details."""
    out: list[Row] = []
    name, email = plan.fields.get("main_contact"), plan.fields.get("main_contact_email")
    if name or email:
        out.append({"kind": "main", "name": name, "email": email})
    keys = [c.key for c in template.table("stakeholders").input_columns]
    out.extend({"kind": "stakeholder"} | r for r in _pick(plan.rows("stakeholders", template), keys))
    return out


def record_from_plan(
    plan: Plan,
    template: Template,
    *,
    file: str,
    path: str = "",
    as_of: dt.date | None = None,
    scores: Scores | None = None,
    findings: Iterable[Finding] = (),
    include_contacts: bool = False,
    check: dict[str, Any] | None = None,
    alerts: Iterable[Alert] | None = None,
) -> AccountRecord:
    """Build the record of one plan (scored from its raw inputs unless ``scores`` is given)."""
    scores = scores or score_plan(plan, template, as_of)
    if alerts is None:
        alerts = plan_alerts(plan, template, scores, as_of)
    tier_labels = template.tiers.get(scores.tier, {}).get("label", {})
    scrub = redactor(() if include_contacts else contact_names(plan, template))
    return AccountRecord(
        file=file,
        path=path,
        account=plan.name,
        account_id=plan.account_id,
        kam=plan.kam,
        kam_email=kam_email(plan, template),
        sector=str(plan.fields.get("sector") or ""),
        lang=plan.lang,
        template_version=plan.template_version,
        scores={k: float(getattr(scores, k)) for k in SCORE_KEYS},
        priority=float(scores.priority),
        tier=scores.tier,
        tier_label=tier_labels.get(plan.lang, scores.tier),
        figures=_fields(scores.figures),
        findings=scrub.rows([f.as_dict() for f in findings]),
        status=scores.status,
        status_label=status_label(template, scores.status, plan.lang if plan.lang in ("en", "fr") else "en"),
        alerts=scrub.rows([a.as_dict() for a in alerts]),
        opportunities=scrub.rows(opportunity_rows(plan, template, include_contacts)),
        actions=scrub.rows(action_rows(plan, template, include_contacts)),
        risks=scrub.rows(risk_rows(plan, template, include_contacts)),
        rituals=_pick(plan.rows("rituals", template), RITUAL_COLUMNS),
        contacts=contact_rows(plan, template) if include_contacts else [],
        competitors=competitor_rows(plan, template),
        team=team_rows(plan, template),
        review_changes=_review_changes(plan, template, as_of),
        check=check,
    )


def team_rows(plan: Plan, template: Template) -> list[Row]:
    """Our people on the account and their days per month (none when the template has no team)."""
    if "team" not in template.tables:
        return []
    return _pick(plan.rows("team", template), TEAM_COLUMNS)


def _fields(figures: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, values shared (``asdict`` deep-copies every one)."""
    return {f.name: getattr(figures, f.name) for f in dataclass_fields(figures)}


def _review_changes(plan: Plan, template: Template, as_of: dt.date | None) -> dict[str, int]:
    """Counts of what changed since the plan's last review (opportunities, actions)."""
    from ..review.changes import changes_since_date
    from ..scoring import as_date

    last = as_date(plan.fields.get("last_review"))
    return changes_since_date(plan, template, last, as_of=as_of).counts() if last else {}
