"""The Dashboard's live scores as Excel formulas, mirroring ``kamxl.scoring``.

Each metric becomes a Dashboard cell with a workbook-level defined name, so other formulas,
the Recompute button and the tests address it by name. Only functions that exist in Excel 2016
and LibreOffice 7.4 are used (no XLOOKUP, LET, FILTER or dynamic arrays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .template import Template

# Names the issue fixes; every other figure is Fig_<Key>.
SPECIAL_NAMES = {
    "potential": "Score_Potential",
    "relationship": "Score_Relationship",
    "execution": "Score_Execution",
    "overall": "Score_Overall",
    "priority": "Score_Priority",
    "tier": "Account_Tier",
    "weighted_pipeline": "Weighted_Pipeline",
    "overdue_actions": "Overdue_Actions",
}


def defined_name(key: str) -> str:
    """Workbook name of a score or figure key (``coverage`` -> ``Fig_Coverage``)."""
    return SPECIAL_NAMES.get(key) or "Fig_" + "_".join(p.capitalize() for p in key.split("_"))


@dataclass(frozen=True)
class Metric:
    key: str  # a Scores attribute or a Figures field
    formula: str  # without the leading "="
    fmt: str  # key into the template's [formats], or "text"
    label: dict[str, str]

    @property
    def name(self) -> str:
        return defined_name(self.key)


def number(value: float | int) -> str:
    """A constant as a person would type it in a formula: 0.35, 1, 0.9 (never 0.9999999999999999)."""
    text = f"{round(float(value), 9):.9f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class Formulas:
    """Builds metric formulas for one workbook language.

    ``field_ref(key)`` gives an absolute reference to a form field's value cell.
    """

    def __init__(self, template: Template, lang: str, field_ref: Callable[[str], str]) -> None:
        self.t, self.lang, self.field_ref = template, lang, field_ref

    def col(self, table: str, key: str) -> str:
        tbl = self.t.table(table)
        return f"{tbl.name}[{tbl.column(key).label[self.lang]}]"

    def lab(self, choice_list: str, code: str) -> str:
        return _q(self.t.label(choice_list, code, self.lang))

    def named(self, table: str) -> str:
        """COUNTIFS criteria pair that keeps rows whose key column is filled in."""
        return f'{self.col(table, self.t.table(table).key_column)},"<>"'

    def axis(self, axis: str) -> tuple[str, str]:
        c = lambda k: self.col("assessment", k)  # noqa: E731
        crit = f'{c("axis")},{self.lab("axis", axis)},{c("rating")},">=1",{c("rating")},"<=5",{self.named("assessment")}'
        den = f"SUMIFS({c('weight')},{crit})"
        mask = (
            f'({c("axis")}={self.lab("axis", axis)})*({c("criterion")}<>"")'
            f"*({c('rating')}>=1)*({c('rating')}<=5)"
        )
        value = f"IF({den}=0,0,(SUMPRODUCT({c('weight')},{c('rating')},{mask})/{den}-1)/4*100)"
        return value, f"IF(COUNTIFS({crit})>0,1,0)"

    def metrics(self) -> list[Metric]:
        t, c, lab, named = self.t, self.col, self.lab, self.named
        sc = t.scoring
        yes = lab("yes_no", "yes")
        s = "stakeholders"
        levels = t.choices["level"]
        depth = "+".join(
            f"SIGN(COUNTIFS({named(s)},{c(s, 'level')},{lab('level', lv)},{c(s, 'engaged')},{yes}))"
            for lv in levels
        )
        champion = f"{named(s)},{c(s, 'stance')},{lab('stance', 'champion')}"
        eng = c(s, "engagement")
        bu, name = c(s, "bu"), c(s, t.table(s).key_column)
        # "="& makes a BU such as "<>x" or "=x" compare as plain text, not as an operator.
        same_bu = f'COUNTIFS({bu},"="&{bu},{name},"<>")'
        a = "actions"
        done, cancelled = lab("action_status", "done"), lab("action_status", "cancelled")
        k = "kpis"
        o = "opportunities"
        won, lost = lab("stage", "won"), lab("stage", "lost")
        w = "whitespace"
        r = "risks"
        attractiveness, rated = self.axis("attractiveness")
        position, _ = self.axis("position")
        fr = self.field_ref

        def weighted(group: str, parts: dict[str, str]) -> str:
            weights = sc[group]
            total = sum(float(weights[p]) for p in parts)
            terms = "+".join(f"{number(weights[p])}*{ref}" for p, ref in parts.items())
            return f"({terms})" if round(total, 9) == 1 else f"({terms})/{number(total)}"

        def value_of(field: str) -> str:
            return f'IF(ISNUMBER({fr(field)}),{fr(field)},"")'

        tiers = t.tiers
        out: list[tuple[str, str, str, str, str]] = [
            # key, formula, format, en, fr
            (
                "stakeholders",
                f"COUNTIFS({named(s)})",
                "int",
                "Stakeholders identified",
                "Parties prenantes identifiées",
            ),
            (
                "engaged",
                f"COUNTIFS({named(s)},{c(s, 'engaged')},{yes})",
                "int",
                "Stakeholders engaged",
                "Parties prenantes engagées",
            ),
            (
                "coverage",
                "IF(Fig_Stakeholders=0,0,Fig_Engaged/Fig_Stakeholders)",
                "percent",
                "Coverage (engaged / identified)",
                "Couverture (engagés / identifiés)",
            ),
            (
                "depth",
                f"({depth})/{len(levels)}",
                "percent",
                "Depth (levels reached)",
                "Profondeur (niveaux atteints)",
            ),
            (
                "sponsor",
                f"IF(COUNTIFS({champion},{c(s, 'strength')},{lab('strength', 'strong')})>0,1,IF(COUNTIFS({champion})>0,0.5,0))",
                "percent",
                "Sponsor (champion, strength)",
                "Sponsor (champion, force)",
            ),
            (
                "avg_engagement",
                f'IFERROR(AVERAGEIFS({eng},{named(s)},{eng},">=1",{eng},"<=5"),"")',
                "number",
                "Average engagement (1-5)",
                "Engagement moyen (1-5)",
            ),
            (
                "engagement",
                "IF(ISNUMBER(Fig_Avg_Engagement),(Fig_Avg_Engagement-1)/4,0)",
                "percent",
                "Engagement index",
                "Indice d'engagement",
            ),
            (
                "propagation",
                f'SUMPRODUCT(({bu}<>"")*({name}<>"")/({same_bu}+({same_bu}=0)))',
                "int",
                "BUs involved",
                "BU impliquées",
            ),
            (
                "relationship",
                "100*"
                + weighted(
                    "relationship",
                    {p: defined_name(p) for p in ("coverage", "depth", "sponsor", "engagement")},
                ),
                "score",
                "Relationship score",
                "Score relation",
            ),
            (
                "actions",
                f"COUNTIFS({named(a)})-COUNTIFS({named(a)},{c(a, 'status')},{cancelled})",
                "int",
                "Actions planned",
                "Actions prévues",
            ),
            (
                "actions_done",
                f"COUNTIFS({named(a)},{c(a, 'status')},{done})",
                "int",
                "Actions done",
                "Actions terminées",
            ),
            (
                "overdue_actions",
                f'COUNTIFS({named(a)},{c(a, "due")},"<"&TODAY(),{c(a, "status")},"<>"&{done},{c(a, "status")},"<>"&{cancelled})',
                "int",
                "Overdue actions",
                "Actions en retard",
            ),
            (
                "completion",
                "IF(Fig_Actions=0,0,Fig_Actions_Done/Fig_Actions)",
                "percent",
                "Actions completed",
                "Actions réalisées",
            ),
            (
                "timeliness",
                "IF(Fig_Actions=0,0,1-Overdue_Actions/Fig_Actions)",
                "percent",
                "Actions on time",
                "Actions dans les temps",
            ),
            (
                "kpis_active",
                f"COUNTIFS({named(k)},{c(k, 'active')},{yes})",
                "int",
                "Active KPIs",
                "KPI actifs",
            ),
            (
                "kpi_attainment",
                f'IFERROR(SUMPRODUCT({c(k, "weight")},{c(k, "score")},({c(k, "active")}={yes})*({c(k, "kpi")}<>""))/SUMIFS({c(k, "weight")},{c(k, "score")},">=0",{c(k, "active")},{yes},{named(k)}),0)',
                "percent",
                "KPI attainment (weighted)",
                "Atteinte des KPI (pondérée)",
            ),
            (
                "execution",
                "100*"
                + weighted(
                    "execution",
                    {
                        "completion": "Fig_Completion",
                        "timeliness": "Fig_Timeliness",
                        "kpi": "Fig_Kpi_Attainment",
                    },
                ),
                "score",
                "Execution score",
                "Score exécution",
            ),
            ("attractiveness", attractiveness, "score", "Attractiveness (0-100)", "Attractivité (0-100)"),
            ("rated", rated, "int", "Attractiveness rated (1 = yes)", "Attractivité évaluée (1 = oui)"),
            ("position", position, "score", "Our position (0-100)", "Notre position (0-100)"),
            ("potential", "Fig_Attractiveness", "score", "Potential score", "Score potentiel"),
            (
                "weighted_pipeline",
                f"SUMIFS({c(o, 'weighted')},{named(o)})",
                "currency",
                "Weighted pipeline",
                "Pipeline pondéré",
            ),
            (
                "open_pipeline",
                f'SUMIFS({c(o, "amount")},{named(o)},{c(o, "stage")},"<>"&{won},{c(o, "stage")},"<>"&{lost})',
                "currency",
                "Open pipeline",
                "Pipeline ouvert",
            ),
            (
                "win_probability",
                "IF(Fig_Open_Pipeline=0,Fig_Position/100,MAX(0,MIN(1,Weighted_Pipeline/Fig_Open_Pipeline)))",
                "percent",
                "Win probability",
                "Probabilité de gain",
            ),
            (
                "profitability",
                f"IF(ISNUMBER({fr('gross_margin')}),MAX(0,MIN(1,{fr('gross_margin')}/{number(sc['target_margin'])})),{number(sc['neutral_profitability'])})",
                "percent",
                "Profitability",
                "Rentabilité",
            ),
            (
                "priority",
                "IF(Fig_Attractiveness/100*Fig_Win_Probability*Fig_Profitability>0,100*POWER(Fig_Attractiveness/100*Fig_Win_Probability*Fig_Profitability,1/3),0)",
                "score",
                "Priority (0-100)",
                "Priorité (0-100)",
            ),
            (
                "overall",
                weighted(
                    "overall",
                    {
                        "potential": "Score_Potential",
                        "relationship": "Score_Relationship",
                        "execution": "Score_Execution",
                    },
                ),
                "score",
                "Overall score",
                "Score global",
            ),
            (
                "tier",
                f"IF(Fig_Rated=0,{_q(tiers['unrated']['label'][self.lang])},IF(Score_Priority>={number(tiers['invest']['min_priority'])},{_q(tiers['invest']['label'][self.lang])},IF(Score_Priority>={number(tiers['maintain']['min_priority'])},{_q(tiers['maintain']['label'][self.lang])},{_q(tiers['deprioritise']['label'][self.lang])})))",
                "text",
                "Tier",
                "Catégorie",
            ),
            (
                "whitespace",
                f"SUMIFS({c(w, 'potential')},{named(w)},{c(w, 'status')},{lab('whitespace_status', 'whitespace')})",
                "currency",
                "Whitespace potential",
                "Potentiel à conquérir",
            ),
            (
                "current_revenue",
                f"SUMIFS({c(w, 'current_revenue')},{named(w)})",
                "currency",
                "Revenue across BUs x offers",
                "CA par BU x offre",
            ),
            (
                "offer_coverage",
                f"IFERROR(COUNTIFS({named(w)},{c(w, 'status')},{lab('whitespace_status', 'owned')})/(COUNTIFS({named(w)})-COUNTIFS({named(w)},{c(w, 'status')},{lab('whitespace_status', 'not_applicable')})),0)",
                "percent",
                "Offer coverage",
                "Couverture de l'offre",
            ),
            (
                "penetration",
                "IF(Fig_Current_Revenue+Fig_Whitespace=0,0,Fig_Current_Revenue/(Fig_Current_Revenue+Fig_Whitespace))",
                "percent",
                "Penetration",
                "Pénétration",
            ),
            (
                "risk_exposure",
                f'SUMIFS({c(r, "score")},{named(r)},{c(r, "status")},"<>"&{lab("risk_status", "closed")})',
                "int",
                "Risk exposure (sum of open scores)",
                "Exposition au risque (somme des scores ouverts)",
            ),
            (
                "high_risks",
                f'COUNTIFS({named(r)},{c(r, "status")},"<>"&{lab("risk_status", "closed")},{c(r, "score")},">="&{number(sc["high_risk_score"])})',
                "int",
                "High risks",
                "Risques élevés",
            ),
            (
                "revenue",
                value_of("annual_revenue"),
                "currency",
                "Revenue, last 12 months",
                "CA, 12 derniers mois",
            ),
            ("target", value_of("revenue_target"), "currency", "Revenue target", "Objectif de CA"),
            ("nrr", value_of("nrr"), "percent", "NRR", "NRR"),
            ("nps", value_of("nps"), "int", "NPS", "NPS"),
            ("gross_margin", value_of("gross_margin"), "percent", "Gross margin", "Marge brute"),
            ("last_review", value_of("last_review"), "date", "Last review", "Dernière revue"),
            ("next_review", value_of("next_review"), "date", "Next review", "Prochaine revue"),
            (
                "days_since_review",
                f'IF(ISNUMBER({fr("last_review")}),TODAY()-{fr("last_review")},"")',
                "int",
                "Days since last review",
                "Jours depuis la dernière revue",
            ),
        ]
        return [Metric(key, formula, fmt, {"en": en, "fr": fr_}) for key, formula, fmt, en, fr_ in out]
