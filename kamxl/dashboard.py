"""The Dashboard's live scores as Excel formulas, mirroring ``kamxl.scoring``.

Each metric becomes a Dashboard cell with a workbook-level defined name, so other formulas,
the Recompute button and the tests address it by name. Only functions that exist in Excel 2016
and LibreOffice 7.4 are used (no XLOOKUP, LET, FILTER or dynamic arrays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .template import STATUS_CODES, Template

# Names the issue fixes; every other figure is Fig_<Key>.
SPECIAL_NAMES = {
    "potential": "Score_Potential",
    "relationship": "Score_Relationship",
    "execution": "Score_Execution",
    "overall": "Score_Overall",
    "priority": "Score_Priority",
    "tier": "Account_Tier",
    "tier_reason": "Tier_Reason",
    "weighted_pipeline": "Weighted_Pipeline",
    "overdue_actions": "Overdue_Actions",
    "status": "Account_Status",
    "status_reasons": "Status_Reasons",
}


def defined_name(key: str) -> str:
    """Workbook name of a score or figure key (``coverage`` -> ``Fig_Coverage``)."""
    if key in SPECIAL_NAMES:
        return SPECIAL_NAMES[key]
    prefix, parts = ("Alert_", key.split("_")[1:]) if key.startswith("alert_") else ("Fig_", key.split("_"))
    return prefix + "_".join(p.capitalize() for p in parts)


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


def unrated_test(template: Template) -> str:
    """True while the plan holds none of the template's ``status.rated_once`` figures (a new plan):
    the status is then unrated, no alert fires and the Dashboard stays grey."""
    return "AND(" + ",".join(f"{defined_name(k)}=0" for k in template.status["rated_once"]) + ")"


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
        """Every criterion of the axis weighs in; one not rated scores as rated 1 (0 points)."""
        c = lambda k: self.col("assessment", k)  # noqa: E731
        on_axis = f"{c('axis')},{self.lab('axis', axis)},{self.named('assessment')}"
        crit = f'{on_axis},{c("rating")},">=1",{c("rating")},"<=5"'
        den = f"SUMIFS({c('weight')},{on_axis})"
        mask = (
            f'({c("axis")}={self.lab("axis", axis)})*({c("criterion")}<>"")'
            f"*({c('rating')}>=1)*({c('rating')}<=5)"
        )
        points = f"SUMPRODUCT({c('weight')},{c('rating')},{mask})-SUMIFS({c('weight')},{crit})"
        value = f"IF({den}=0,0,({points})/{den}/4*100)"
        return value, f"COUNTIFS({crit})"

    def sponsor(self) -> str:
        """Best champion or sponsor: strength (1 strong, 0.5 other) x the template's influence weight."""
        t, c, lab, s = self.t, self.col, self.lab, "stakeholders"
        sc = t.scoring
        stance, role, infl = c(s, "stance"), c(s, "role"), c(s, "influence")
        backer = (
            f"(({stance}={lab('stance', 'champion')})"
            f"+({role}={lab('role', 'sponsor')})*({stance}<>{lab('stance', 'detractor')})>0)"
        )
        strength = f"(0.5+0.5*({c(s, 'strength')}={lab('strength', 'strong')}))"
        neutral = min(float(w) for w in sc["influence_weights"])  # a blank scores as the lowest
        influence = number(neutral) + "".join(
            f"+({infl}={i})*{number(float(w) - neutral)}" for i, w in enumerate(sc["influence_weights"], 1)
        )
        name = c(s, t.table(s).key_column)
        return f'SUMPRODUCT(MAX(({name}<>"")*{backer}*{strength}*({influence})))'

    def money_score(self) -> str:
        """The money-at-stake band as nested IFs, from the top band down."""
        out = "0"
        for floor, score in reversed(self.t.scoring["money_bands"]):
            out = f"IF(Fig_Money_At_Stake>={number(floor)},{number(score)},{out})"
        return out

    def defend(self) -> str:
        """The revenue to defend's floor: band of our revenue x profitability^(its priority share)."""
        sc = self.t.scoring
        out = "0"
        for floor, score in reversed(sc["defend"]["revenue_bands"]):
            out = f"IF(N({self.field_ref('annual_revenue')})>={number(floor)},{number(score)},{out})"
        weights = sc["priority"]
        share = float(weights["profitability"]) / sum(float(weights[k]) for k in weights)
        return f"100*{out}" + (f"*POWER(Fig_Profitability,{number(share)})" if share > 0 else "")

    def weakest(self) -> str:
        """The lowest of the priority's three factors (the first on a tie), blank while unrated."""
        from .tier_checks import tier_texts  # texts beside the template

        name = {k: _q(v[self.lang]) for k, v in tier_texts()["drivers"]["factors"].items()}
        return (
            f'IF(Fig_Complete=0,"",IF(Score_Potential/100<=MIN(Fig_Probability,Fig_Profitability),'
            f"{name['potential']},IF(Fig_Probability<=Fig_Profitability,{name['probability']},"
            f"{name['profitability']})))"
        )

    def engaged(self, *criteria: str) -> str:
        """Engaged contacts among the rows matching ``criteria``: champions, and people marked
        engaged who are not detractors."""
        c, lab, s = self.col, self.lab, "stakeholders"
        extra = "".join("," + x for x in criteria)
        stance, champion = c(s, "stance"), lab("stance", "champion")
        return (
            f"COUNTIFS({self.named(s)},{stance},{champion}{extra})"
            f"+COUNTIFS({self.named(s)},{c(s, 'engaged')},{lab('yes_no', 'yes')},"
            f'{stance},"<>"&{champion},{stance},"<>"&{lab("stance", "detractor")}{extra})'
        )

    def priority(self) -> str:
        """100 x weighted geometric mean of potential, probability and profitability."""
        weights = self.t.scoring["priority"]
        refs = {
            "potential": "Score_Potential/100",
            "probability": "Fig_Probability",
            "profitability": "Fig_Profitability",
        }
        total = sum(float(weights[k]) for k in refs)
        terms = [
            f"POWER({ref},{number(float(weights[k]) / total)})"
            for k, ref in refs.items()
            if float(weights[k]) > 0
        ]
        return "100*" + "*".join(terms)

    def metrics(self) -> list[Metric]:
        t, c, lab, named = self.t, self.col, self.lab, self.named
        sc = t.scoring
        yes = lab("yes_no", "yes")
        s = "stakeholders"
        levels = t.choices["level"]
        depth = "+".join(f"SIGN({self.engaged(c(s, 'level'), lab('level', lv))})" for lv in levels)
        key_people = number(sc["key_people"])
        rated_eng = f'{named(s)},{c(s, "engagement")},">=1",{c(s, "engagement")},"<=5"'
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
        deal_name, close = c(o, t.table(o).key_column), c(o, "expected_close")
        won_recent = (
            f"({c(o, 'stage')}={won})*(1-ISNUMBER({close})*({close}<TODAY()-{number(sc['won_window_days'])}))"
        )
        material = (
            f'({deal_name}<>"")*ISNUMBER({c(o, "amount")})'
            f"*({c(o, 'amount')}>={number(sc['material_deal_share'])}*Fig_Money_At_Stake)"
        )
        pw = sc["probability"]
        pipe_share = float(pw["pipeline"]) / sum(
            float(pw[k]) for k in ("relationship", "position", "pipeline")
        )
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
                self.engaged(),
                "int",
                "Engaged contacts (champions and engaged, not detractors)",
                "Contacts engagés (champions et engagés, hors détracteurs)",
            ),
            (
                "coverage",
                f"MIN(1,Fig_Engaged/{key_people})",
                "percent",
                f"Coverage (engaged contacts / {key_people} key people)",
                f"Couverture (contacts engagés / {key_people} personnes clés)",
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
                self.sponsor(),
                "number",
                "Sponsor (best champion or sponsor: strength x influence, 0-1)",
                "Sponsor (meilleur champion ou sponsor : force x influence, 0-1)",
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
                f"MIN(1,(SUMIFS({eng},{rated_eng})-COUNTIFS({rated_eng}))/(4*{key_people}))",
                "percent",
                f"Engagement (points of {key_people} key people)",
                f"Engagement (points de {key_people} personnes clés)",
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
                "Score relationnel",
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
                "actions_due",
                f'Fig_Actions_Done+COUNTIFS({named(a)},{c(a, "due")},"<="&TODAY(),{c(a, "status")},"<>"&{done},{c(a, "status")},"<>"&{cancelled})',
                "int",
                "Actions due by today",
                "Actions échues à ce jour",
            ),
            (
                "completion",
                "IF(Fig_Actions=0,0,IF(Fig_Actions_Due=0,1,Fig_Actions_Done/Fig_Actions_Due))",
                "percent",
                "Completion rate (due actions)",
                "Taux de réalisation (actions échues)",
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
                "Taux d'atteinte des KPI (pondéré)",
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
                "Score d'exécution",
            ),
            ("attractiveness", attractiveness, "score", "Attractiveness (0-100)", "Attractivité (0-100)"),
            ("rated", rated, "int", "Attractiveness criteria rated", "Critères d'attractivité évalués"),
            (
                "complete",
                f"IF(AND(Fig_Stakeholders>={number(sc['complete']['stakeholders'])},"
                f"Fig_Rated>={number(sc['complete']['rated'])},ISNUMBER({fr('annual_revenue')})),1,0)",
                "int",
                "Plan complete enough to judge (1 = yes)",
                "Plan assez complet pour juger (1 = oui)",
            ),
            ("position", position, "score", "Our position (0-100)", "Notre position (0-100)"),
            (
                "money_at_stake",
                f"N({fr('annual_revenue')})+Fig_Open_Potential",
                "currency",
                "Money at stake (revenue + potential still to win)",
                "Enjeu financier (CA + potentiel restant à gagner)",
            ),
            (
                "money_score",
                self.money_score(),
                "number",
                "Money-at-stake band (0-1)",
                "Tranche d'enjeu financier (0-1)",
            ),
            (
                "potential",
                "100*"
                + weighted(
                    "potential", {"attractiveness": "Fig_Attractiveness/100", "money": "Fig_Money_Score"}
                ),
                "score",
                "Potential score",
                "Score de potentiel",
            ),
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
                "profitability",
                f"IF(ISNUMBER({fr('gross_margin')}),MAX(0,MIN(1,{fr('gross_margin')}/{number(sc['target_margin'])})),0)",
                "number",
                f"Profitability (margin / {number(sc['target_margin'] * 100)} % target, 0-1)",
                f"Rentabilité (marge / cible {number(sc['target_margin'] * 100)} %, 0-1)",
            ),
            (
                "secured",
                f'SUMPRODUCT(({deal_name}<>"")*{won_recent},{c(o, "amount")})',
                "currency",
                "Secured (won deals, last 12 months)",
                "Sécurisé (affaires gagnées, 12 derniers mois)",
            ),
            (
                "material_pipeline",
                f'SUMPRODUCT({material}*({c(o, "stage")}<>""),{c(o, "weighted")})'
                f"+SUMPRODUCT({material}*{won_recent},{c(o, 'amount')})",
                "currency",
                "Material pipeline (secured + weighted, deals above the share)",
                "Pipeline significatif (sécurisé + pondéré, affaires au-dessus du seuil)",
            ),
            (
                "pipeline_score",
                f"IF({number(sc['pipeline_coverage'])}*Fig_Money_At_Stake>0,MAX(0,MIN(1,Fig_Material_Pipeline/({number(sc['pipeline_coverage'])}*Fig_Money_At_Stake))),0)",
                "percent",
                "Pipeline coverage",
                "Couverture par le pipeline",
            ),
            (
                "probability",
                weighted(
                    "probability", {"relationship": "Score_Relationship/100", "position": "Fig_Position/100"}
                )
                + f"*({number(1 - pipe_share)}+{number(pipe_share)}*Fig_Pipeline_Score)",
                "percent",
                "Probability (relationship, position, pipeline)",
                "Probabilité (relation, position, pipeline)",
            ),
            (
                "grow_priority",
                self.priority(),
                "score",
                "Growth case (potential x probability x profitability)",
                "Cas de croissance (potentiel x probabilité x rentabilité)",
            ),
            (
                "defend_priority",
                self.defend(),
                "score",
                "Revenue to defend (floor)",
                "CA à défendre (plancher)",
            ),
            (
                "priority",
                "MAX(Fig_Grow_Priority,Fig_Defend_Priority)",
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
                f"IF(Fig_Complete=0,{_q(tiers['unrated']['label'][self.lang])},IF(AND(Score_Priority>={number(tiers['invest']['min_priority'])},Fig_Money_At_Stake>={number(tiers['invest'].get('min_money_at_stake', 0))}),{_q(tiers['invest']['label'][self.lang])},IF(Score_Priority>={number(tiers['maintain']['min_priority'])},{_q(tiers['maintain']['label'][self.lang])},{_q(tiers['deprioritise']['label'][self.lang])})))",
                "text",
                "Tier",
                "Catégorie",
            ),
            (
                "tier_weakest",
                self.weakest(),
                "text",
                "Weakest factor",
                "Facteur le plus faible",
            ),
            (
                "tier_reason",
                f'IF(Fig_Complete=0,"",IF(Fig_Defend_Priority>Fig_Grow_Priority,'
                f"{_q(t.text('tier_reason_defend', self.lang))},{_q(t.text('tier_reason_grow', self.lang))}))",
                "text",
                "Tier reason",
                "Raison de la catégorie",
            ),
            (
                "whitespace",
                f"SUMIFS({c(w, 'potential')},{named(w)},{c(w, 'status')},{lab('whitespace_status', 'whitespace')})",
                "currency",
                "Whitespace potential",
                "Potentiel à conquérir",
            ),
            (
                "open_potential",
                f"SUMIFS({c(w, 'potential')},{named(w)},{c(w, 'status')},{lab('whitespace_status', 'whitespace')})"
                f"+SUMIFS({c(w, 'potential')},{named(w)},{c(w, 'status')},{lab('whitespace_status', 'pipeline')})",
                "currency",
                "Potential still to win (whitespace + in pipeline)",
                "Potentiel restant à gagner (à conquérir + en cours)",
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
                f"IFERROR(COUNTIFS({named(w)},{c(w, 'status')},{lab('whitespace_status', 'owned')})/(COUNTIFS({named(w)},{c(w, 'status')},{_q('<>')})-COUNTIFS({named(w)},{c(w, 'status')},{lab('whitespace_status', 'not_applicable')})),0)",
                "percent",
                "Offer coverage",
                "Couverture de l'offre",
            ),
            (
                "penetration",
                "IF(Fig_Current_Revenue+Fig_Whitespace=0,0,Fig_Current_Revenue/(Fig_Current_Revenue+Fig_Whitespace))",
                "percent",
                "Penetration of the BU x offer grid (revenue / revenue + whitespace)",
                "Pénétration de la grille BU x offres (CA / CA + à conquérir)",
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
        out += self.alert_metrics()
        return [Metric(key, formula, fmt, {"en": en, "fr": fr_}) for key, formula, fmt, en, fr_ in out]

    def alert_flags(self) -> dict[str, str]:
        """A 0/1 formula per alert rule of the template, mirroring ``kamxl.alerts``."""
        tests = self.alert_tests()
        unrated = unrated_test(self.t)
        return {code: f"IF({unrated},0,IF({tests[code]},1,0))" for code in self.t.alerts}

    def alert_tests(self) -> dict[str, str]:
        """The test behind each alert rule (true when it fires), before the unrated guard."""
        t, c, lab, named, fr = self.t, self.col, self.lab, self.named, self.field_ref
        sc, rules = t.scoring, t.alerts
        s, r, k = "stakeholders", "risks", "kpis"
        name = c(s, t.table(s).key_column)

        def below(code: str, field: str) -> str:
            return f"AND(ISNUMBER({fr(field)}),{fr(field)}<{number(rules[code]['below'])})"

        def either(values: list[str], column: str, choice_list: str) -> str:
            return "(" + "+".join(f"({column}={lab(choice_list, v)})" for v in values) + ")"

        key_contact = (
            "("
            + either(list(sc["key_contact_roles"]), c(s, "role"), "role")
            + f"+ISNUMBER({c(s, 'influence')})*({c(s, 'influence')}>={number(sc['key_contact_influence'])})>0)"
        )
        deciders = rules.get("detractor_decider", {}).get("roles", ["decision_maker", "budget_holder"])
        yes = lab("yes_no", "yes")
        tests = {
            "churn_risk": (
                f'SUMPRODUCT(({c(r, "risk")}<>"")*({c(r, "category")}={lab("risk_category", "churn_signal")})'
                f"*({c(r, 'status')}<>{lab('risk_status', 'closed')})*ISNUMBER({c(r, 'score')})"
                f"*({c(r, 'score')}>={number(sc['high_risk_score'])})*(LEN(TRIM({c(r, 'mitigation')}))=0))>0"
            ),
            "nrr_low": below("nrr_low", "nrr"),
            "detractor_decider": "+".join(
                f"COUNTIFS({named(s)},{c(s, 'stance')},{lab('stance', 'detractor')},{c(s, 'role')},{lab('role', role)})"
                for role in deciders
            )
            + ">0",
            "nps_low": below("nps_low", "nps"),
            "no_sponsor": (
                f"COUNTIFS({named(s)},{c(s, 'stance')},{lab('stance', 'champion')})"
                f'+COUNTIFS({named(s)},{c(s, "role")},{lab("role", "sponsor")},{c(s, "stance")},"<>"&{lab("stance", "detractor")})=0'
            ),
            "no_contact": (
                f'SUMPRODUCT(({name}<>"")*ISNUMBER({c(s, "last_contact")})'
                f"*({c(s, 'last_contact')}<TODAY()-{number(rules.get('no_contact', {}).get('days', 0))})*{key_contact})>0"
            ),
            "rituals_overdue": f'COUNTIFS({self.named("rituals")},{c("rituals", "next_due")},"<"&TODAY())>0',
            "plan_stale": f"AND(ISNUMBER({fr('last_review')}),TODAY()-{fr('last_review')}>{number(sc['stale_after_days'])})",
            "kpi_low": (
                f'AND(SUMIFS({c(k, "weight")},{c(k, "score")},">=0",{c(k, "active")},{yes},{named(k)})>0,'
                f"Fig_Kpi_Attainment<{number(rules.get('kpi_low', {}).get('below', 0))})"
            ),
            "overdue_actions": f"Overdue_Actions>={number(rules.get('overdue_actions', {}).get('at_least', 0))}",
        }
        return tests

    def alert_metrics(self) -> list[tuple[str, str, str, str, str]]:
        """The alert flags, the status they give and the reasons, as Dashboard metrics."""
        from .alerts import REASONS_SEPARATOR, ordered_rules, rule_label  # builds on the scores

        t = self.t
        flags = self.alert_flags()
        rules = ordered_rules(t)
        out = [
            (f"alert_{code}", flags[code], "int", rule_label(t, code, "en"), rule_label(t, code, "fr"))
            for code, _ in rules
        ]

        def count(severity: str) -> str:
            refs = [defined_name(f"alert_{c}") for c, rule in rules if rule["severity"] == severity]
            return "(" + "+".join(refs) + ")" if refs else "0"

        label = {code: _q(t.status[code]["label"][self.lang]) for code in STATUS_CODES}
        status = (
            f"IF({unrated_test(t)},{label['unrated']},"
            f"IF(OR({count('high')}>0,{count('medium')}>={number(t.status['at_risk_medium'])}),{label['at_risk']},"
            f"IF({count('medium')}>0,{label['watch']},"
            f"IF(Fig_Complete=0,{label['incomplete']},{label['healthy']}))))"
        )
        sep = REASONS_SEPARATOR.get(self.lang, "; ")
        reasons = "&".join(
            f'IF({defined_name(f"alert_{code}")}=1,{_q(sep + rule_label(t, code, self.lang))},"")'
            for code, _ in rules
        )
        out.append(("status", status, "text", "Status", "Statut"))
        out.append(
            (
                "status_reasons",
                f"MID({reasons},{len(sep) + 1},1000)" if rules else '""',
                "text",
                "Reasons",
                "Raisons",
            )
        )
        return out
