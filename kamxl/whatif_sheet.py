"""The What-if sheet: the KAM types a few changes and sees priority, tier and status beside today's.

Live formulas only (Excel 2016+ and LibreOffice): the sheet recomputes the priority chain from
the Dashboard's figures with the changes made, the way ``kamxl.whatif.sheet_what_if`` does in
Python; the parity tests recalculate both. ``WhatIf_Priority``, ``WhatIf_Tier`` and
``WhatIf_Status`` are defined names. Texts: workbook_templates/tier.toml ``[whatif]``.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from . import layout
from .alerts import ordered_rules
from .dashboard import Formulas, defined_name, number
from .dashboard_layout import DashboardWriter
from .printing import legible_print, set_width, sheet_width
from .scoring import Scores
from .template import Template
from .tier_checks import tier_texts
from .whatif import OPEN, SHEET_INPUTS, sheet_what_if

LABEL_COL, INPUT_COL, TODAY_COL, AFTER_COL = 1, 2, 3, 4
FIRST_INPUT_ROW = 4
EXTRA_ROWS = 50  # the input lists reach this far below each table, for rows added later
INPUT_FORMATS = {"margin": "percent", "revenue": "currency"}
SOURCES = {"win": "opportunities", "lose": "opportunities", "convert": "stakeholders", "close": "risks"}


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def input_name(key: str) -> str:
    return "WhatIf_" + key.capitalize()


class _Chain:
    """The priority chain with the sheet's changes made, as formulas over the Dashboard's names."""

    def __init__(self, template: Template, lang: str, f: Formulas) -> None:
        self.t, self.lang, self.f = template, lang, f
        self.sc = template.scoring

    def col(self, table: str, key: str) -> str:
        return self.f.col(table, key)

    def deal_flags(self) -> tuple[str, str, str, str]:
        """Row masks: open (a stage kamxl can win or lose), won (this change), lost (this change)."""
        o, lab = "opportunities", self.f.lab
        stage, name = self.col(o, "stage"), self.col(o, self.t.table(o).key_column)
        open_ = "(" + "+".join(f"({stage}={lab('stage', code)})" for code in OPEN) + ")"
        win = f'({name}=TRIM(WhatIf_Win))*{open_}*(TRIM(WhatIf_Win)<>"")'
        lose = (
            f'({name}=TRIM(WhatIf_Lose))*{open_}*(TRIM(WhatIf_Lose)<>"")'
            "*(1-WhatIf_Win_Ok*(TRIM(WhatIf_Lose)=TRIM(WhatIf_Win)))"
        )
        return open_, win, lose, name

    def cells(self) -> list[tuple[str, str, str]]:
        """(name, formula, format key) of every working cell, in dependency order."""
        t, sc, c, lab, o, s = self.t, self.sc, self.col, self.f.lab, "opportunities", "stakeholders"
        _, win, lose, deal = self.deal_flags()
        amount, close = c(o, "amount"), c(o, "expected_close")
        won_recent = (
            f"({c(o, 'stage')}={lab('stage', 'won')})"
            f"*(1-ISNUMBER({close})*({close}<TODAY()-{number(sc['won_window_days'])}))"
        )
        revenue = self.f.field_ref("annual_revenue")
        share, cover = number(sc["material_deal_share"]), number(sc["pipeline_coverage"])
        material = f'({deal}<>"")*ISNUMBER({amount})*({amount}>={share}*WhatIf_Money)'
        people, stance = c(s, t.table(s).key_column), c(s, "stance")
        champion, detractor = lab("stance", "champion"), lab("stance", "detractor")
        row = f"MATCH(TRIM(WhatIf_Convert),{people},0)"

        def pick(column: str) -> str:
            return f'IF(WhatIf_Convert_Ok=1,INDEX({c(s, column)},{row}),"")'

        key_people = number(sc["key_people"])
        levels = t.choices["level"]
        depth = "+".join(
            f"SIGN({self.f.engaged(c(s, 'level'), lab('level', lv))}"
            f"+WhatIf_Convert_Ok*(WhatIf_S_Level={lab('level', lv)}))"
            for lv in levels
        )
        neutral = min(float(w) for w in sc["influence_weights"])
        influence = number(neutral) + "".join(
            f"+(WhatIf_S_Influence={i})*{number(float(w) - neutral)}"
            for i, w in enumerate(sc["influence_weights"], 1)
        )
        rw, pw, prw = sc["relationship"], sc["probability"], sc["priority"]
        rel_total = sum(float(rw[k]) for k in ("coverage", "depth", "sponsor", "engagement"))
        base_total = float(pw["relationship"]) + float(pw["position"])
        pipe_share = float(pw["pipeline"]) / (base_total + float(pw["pipeline"]))
        pr_total = sum(float(prw[k]) for k in ("potential", "probability", "profitability"))
        po = sc["potential"]
        po_total = float(po["attractiveness"]) + float(po["money"])
        money_band = "0"
        for floor, score in reversed(sc["money_bands"]):
            money_band = f"IF(WhatIf_Money>={number(floor)},{number(score)},{money_band})"
        defend_band = "0"
        for floor, score in reversed(sc["defend"]["revenue_bands"]):
            defend_band = f"IF(N(WhatIf_Revenue_Field)>={number(floor)},{number(score)},{defend_band})"
        prof_share = float(prw["profitability"]) / pr_total
        grow = "100*" + "*".join(
            f"POWER({ref},{number(float(prw[k]) / pr_total)})"
            for k, ref in (
                ("potential", "WhatIf_Potential/100"),
                ("probability", "WhatIf_Probability"),
                ("profitability", "WhatIf_Profitability"),
            )
            if float(prw[k]) > 0
        )
        tiers = t.tiers
        label = {k: _q(t.tier_label(k, self.lang)) for k in ("invest", "maintain", "deprioritise", "unrated")}
        need = sc["complete"]
        return [
            ("WhatIf_Win_Ok", f"IF(SUMPRODUCT({win})>0,1,0)", "int"),
            ("WhatIf_Lose_Ok", f"IF(SUMPRODUCT({lose})>0,1,0)", "int"),
            (
                "WhatIf_Revenue_Field",
                f'IF(ISNUMBER(WhatIf_Revenue),N({revenue})+WhatIf_Revenue,IF(ISNUMBER({revenue}),{revenue},""))',
                "currency",
            ),
            ("WhatIf_Money", "N(WhatIf_Revenue_Field)+Fig_Open_Potential", "currency"),
            (
                "WhatIf_Material",
                f'SUMPRODUCT({material}*(1-{win})*(1-{lose})*({c(o, "stage")}<>""),{c(o, "weighted")})'
                f"+SUMPRODUCT({material}*(1-{win})*{won_recent},{amount})+SUMPRODUCT({material}*{win},{amount})",
                "currency",
            ),
            (
                "WhatIf_Open_Pipeline",
                f"Fig_Open_Pipeline-SUMPRODUCT((({win})+({lose})>0)*ISNUMBER({amount}),{amount})",
                "currency",
            ),
            (
                "WhatIf_Pipeline",
                f"IF({cover}*WhatIf_Money>0,MAX(0,MIN(1,WhatIf_Material/({cover}*WhatIf_Money))),0)",
                "number",
            ),
            (
                "WhatIf_Convert_Ok",
                f'IF(TRIM(WhatIf_Convert)="",0,IF(COUNTIFS({self.f.named(s)},{stance},"<>"&{champion},'
                f"{people},TRIM(WhatIf_Convert))>0,1,0))",
                "int",
            ),
            ("WhatIf_S_Level", pick("level"), "text"),
            ("WhatIf_S_Influence", pick("influence"), "number"),
            (
                "WhatIf_S_Engaged",
                f"IF(WhatIf_Convert_Ok=1,IF(AND(INDEX({c(s, 'engaged')},{row})={lab('yes_no', 'yes')},"
                f"INDEX({stance},{row})<>{detractor}),1,0),0)",
                "int",
            ),
            (
                "WhatIf_S_Decider_Detractor",
                f"IF(WhatIf_Convert_Ok=1,IF(AND(INDEX({stance},{row})={detractor},OR("
                + ",".join(f"INDEX({c(s, 'role')},{row})={lab('role', r)}" for r in self.deciders())
                + ")),1,0),0)",
                "int",
            ),
            (
                "WhatIf_Coverage",
                f"MIN(1,(Fig_Engaged+WhatIf_Convert_Ok*(1-WhatIf_S_Engaged))/{key_people})",
                "number",
            ),
            ("WhatIf_Depth", f"({depth})/{len(levels)}", "number"),
            ("WhatIf_Sponsor", f"MAX(Fig_Sponsor,WhatIf_Convert_Ok*({influence}))", "number"),
            (
                "WhatIf_Relationship",
                f"100*({number(rw['coverage'])}*WhatIf_Coverage+{number(rw['depth'])}*WhatIf_Depth"
                f"+{number(rw['sponsor'])}*WhatIf_Sponsor+{number(rw['engagement'])}*Fig_Engagement)/{number(rel_total)}",
                "score",
            ),
            (
                "WhatIf_Profitability",
                f"IF(ISNUMBER(WhatIf_Margin),MAX(0,MIN(1,WhatIf_Margin/{number(sc['target_margin'])})),Fig_Profitability)",
                "number",
            ),
            (
                "WhatIf_Potential",
                f"100*({number(po['attractiveness'])}*Fig_Attractiveness/100+{number(po['money'])}*{money_band})/{number(po_total)}",
                "score",
            ),
            (
                "WhatIf_Probability",
                f"({number(pw['relationship'])}*WhatIf_Relationship/100+{number(pw['position'])}*Fig_Position/100)"
                f"/{number(base_total)}*({number(1 - pipe_share)}+{number(pipe_share)}*WhatIf_Pipeline)",
                "number",
            ),
            ("WhatIf_Grow", grow, "score"),
            (
                "WhatIf_Defend",
                f"100*{defend_band}"
                + (f"*POWER(WhatIf_Profitability,{number(prof_share)})" if prof_share > 0 else ""),
                "score",
            ),
            ("WhatIf_Priority", "MAX(WhatIf_Grow,WhatIf_Defend)", "score"),
            (
                "WhatIf_Complete",
                f"IF(AND(Fig_Stakeholders>={number(need['stakeholders'])},Fig_Rated>={number(need['rated'])},"
                f"ISNUMBER(WhatIf_Revenue_Field)),1,0)",
                "int",
            ),
            (
                "WhatIf_Tier",
                f"IF(WhatIf_Complete=0,{label['unrated']},IF(AND(WhatIf_Priority>={number(tiers['invest']['min_priority'])},"
                f"WhatIf_Money>={number(tiers['invest'].get('min_money_at_stake', 0))}),{label['invest']},"
                f"IF(WhatIf_Priority>={number(tiers['maintain']['min_priority'])},{label['maintain']},{label['deprioritise']})))",
                "text",
            ),
            (
                "WhatIf_Reason",
                f'IF(WhatIf_Complete=0,"",IF(WhatIf_Defend>WhatIf_Grow,'
                f"{_q(t.text('tier_reason_defend', self.lang))},"
                f"{_q(t.text('tier_reason_grow', self.lang))}))",
                "text",
            ),
            *self.status_cells(),
        ]

    def deciders(self) -> list[str]:
        rule = self.t.alerts.get("detractor_decider", {})
        return list(rule.get("roles", ["decision_maker", "budget_holder"]))

    def status_cells(self) -> list[tuple[str, str, str]]:
        """Alerts after the changes: closing a risk, converting a stakeholder; the others as today."""
        t, c, lab, r = self.t, self.col, self.f.lab, "risks"
        rules = ordered_rules(t)
        churn = (
            f'SUMPRODUCT(({c(r, "risk")}<>"")*({c(r, "category")}={lab("risk_category", "churn_signal")})'
            f"*({c(r, 'status')}<>{lab('risk_status', 'closed')})*ISNUMBER({c(r, 'score')})"
            f"*({c(r, 'score')}>={number(t.scoring['high_risk_score'])})*(LEN(TRIM({c(r, 'mitigation')}))=0)"
            f'*(({c(r, "risk")}<>TRIM(WhatIf_Close))+(TRIM(WhatIf_Close)="")>0))>0'
        )
        unrated = (
            "AND("
            + ",".join(
                f"{'WhatIf_Open_Pipeline' if k == 'open_pipeline' else defined_name(k)}=0"
                for k in t.status["rated_once"]
            )
            + ")"
        )
        deciders = self.f.alert_tests()["detractor_decider"].removesuffix(">0")
        changed = {
            "churn_risk": f"IF({churn},1,0)",
            "detractor_decider": f"IF(({deciders})-WhatIf_S_Decider_Detractor>0,1,0)",
            "no_sponsor": "IF(WhatIf_Convert_Ok=1,0,Alert_No_Sponsor)",
        }
        # The changes never add what rates a plan, so a plan unrated today stays unrated.
        flags = {
            code: f"IF({unrated},0,{changed.get(code, defined_name('alert_' + code))})" for code, _ in rules
        }
        out = [(f"WhatIf_Alert_{i}", flags[code], "int") for i, (code, _) in enumerate(rules)]

        def count(severity: str) -> str:
            refs = [f"WhatIf_Alert_{i}" for i, (_, rule) in enumerate(rules) if rule["severity"] == severity]
            return "(" + "+".join(refs) + ")" if refs else "0"

        label = {
            k: _q(t.status[k]["label"][self.lang])
            for k in ("unrated", "at_risk", "watch", "incomplete", "healthy")
        }
        status = (
            f"IF({unrated},{label['unrated']},"
            f"IF(OR({count('high')}>0,{count('medium')}>={number(t.status['at_risk_medium'])}),{label['at_risk']},"
            f"IF({count('medium')}>0,{label['watch']},IF(WhatIf_Complete=0,{label['incomplete']},{label['healthy']}))))"
        )
        return [*out, ("WhatIf_Status", status, "text")]


OUTPUTS = (
    # label key in the Dashboard's metrics, today's name, what-if name, format
    ("priority", "Score_Priority", "WhatIf_Priority", "score"),
    ("tier", "Account_Tier", "WhatIf_Tier", "text"),
    ("tier_reason", "Tier_Reason", "WhatIf_Reason", "text"),
    ("status", "Account_Status", "WhatIf_Status", "text"),
    ("potential", "Score_Potential", "WhatIf_Potential", "score"),
    ("relationship", "Score_Relationship", "WhatIf_Relationship", "score"),
    ("probability", "Fig_Probability", "WhatIf_Probability", "percent"),
    ("profitability", "Fig_Profitability", "WhatIf_Profitability", "number"),
    ("money_at_stake", "Fig_Money_At_Stake", "WhatIf_Money", "currency"),
    ("material_pipeline", "Fig_Material_Pipeline", "WhatIf_Material", "currency"),
)


def _source_range(w: DashboardWriter, table_key: str) -> str:
    """The key column of a table, and room below it, for the input's dropdown."""
    t = w.t
    table, anchor = t.table(table_key), layout.table_anchor(t, table_key)
    col = anchor.first_col + [c.key for c in table.columns].index(table.key_column)
    last = anchor.header_row + max(table.rows, len(w.plan.tables.get(table_key, []))) + EXTRA_ROWS
    letter, sheet = xl_col_to_name(col), w.title(t.table_sheet(table_key).key).replace("'", "''")
    return f"='{sheet}'!${letter}${anchor.first_data_row}:${letter}${last}"


def _cached(scores: Scores, values: dict[str, Any]) -> dict[str, Any]:
    """What the working cells hold before any change (for viewers that do not recalculate)."""
    f = scores.figures
    return values | {
        "WhatIf_Revenue_Field": f.revenue if f.revenue is not None else "",
        "WhatIf_Money": f.money_at_stake,
        "WhatIf_Material": f.material_pipeline,
        "WhatIf_Open_Pipeline": f.open_pipeline,
        "WhatIf_Pipeline": f.pipeline_score,
        "WhatIf_Coverage": f.coverage,
        "WhatIf_Depth": f.depth,
        "WhatIf_Sponsor": f.sponsor,
        "WhatIf_Relationship": scores.relationship,
        "WhatIf_Profitability": f.profitability,
        "WhatIf_Potential": scores.potential,
        "WhatIf_Probability": f.probability,
        "WhatIf_Grow": f.grow_priority,
        "WhatIf_Defend": f.defend_priority,
        "WhatIf_Priority": scores.priority,
        "WhatIf_Complete": f.complete,
        "WhatIf_S_Level": "",
        "WhatIf_S_Influence": "",
    }


def write_whatif(w: DashboardWriter, sheet: Any, ws: Worksheet) -> None:
    """The What-if sheet of a plan: inputs, today beside what if, and the workings."""
    t, s, lang = w.t, w.s, w.lang
    tx = {k: str(v[lang]) for k, v in tier_texts()["whatif"].items()}
    f = Formulas(t, lang, w.field_ref)
    labels = {m.key: m.label[lang] for m in f.metrics()}
    today = sheet_what_if(w.plan, t, {}).today
    cached = {m.name: w.cached.get(m.key, "") for m in f.metrics()}
    head = s.get(bold=True, font_color=t.style["header_text"], bg_color=t.style["primary"])
    calc = s.get(bg_color=t.style["calc_fill"], border=1, border_color=t.style["border"])
    ws.hide_gridlines(2)
    set_width(ws, 0, 0, 2)
    set_width(ws, LABEL_COL, LABEL_COL, 58)
    set_width(ws, INPUT_COL, AFTER_COL, 22)
    ws.write_string(
        0, LABEL_COL, sheet.heading[lang], s.get(bold=True, font_size=16, font_color=t.style["primary"])
    )
    ws.write_string(1, LABEL_COL, tx["hint"], s.hint)
    for col, key in ((LABEL_COL, "change"), (INPUT_COL, "input"), (TODAY_COL, "applies")):
        ws.write_string(FIRST_INPUT_ROW - 1, col, tx[key], head)
    applies = {
        "win": "WhatIf_Win_Ok",
        "lose": "WhatIf_Lose_Ok",
        "convert": "WhatIf_Convert_Ok",
        "close": "WhatIf_Close_Ok",
        "margin": "IF(ISNUMBER(WhatIf_Margin),1,0)",
        "revenue": "IF(ISNUMBER(WhatIf_Revenue),1,0)",
    }
    for i, (key, _) in enumerate(SHEET_INPUTS):
        row = FIRST_INPUT_ROW + i
        ws.write_string(row, LABEL_COL, tx[key])
        fmt = s.get(
            locked=False,
            bg_color=t.style["input_fill"],
            border=1,
            border_color=t.style["input_border"],
            **s.num_format(INPUT_FORMATS.get(key)),
        )
        ws.write_blank(row, INPUT_COL, None, fmt)
        if key in SOURCES:
            ws.data_validation(
                row, INPUT_COL, row, INPUT_COL,
                {"validate": "list", "source": _source_range(w, SOURCES[key]), "error_type": "information"},
            )  # fmt: skip
        else:
            ws.data_validation(row, INPUT_COL, row, INPUT_COL, {"validate": "decimal", "criteria": "between",
                               "minimum": -1e12, "maximum": 1e12})  # fmt: skip
        w.wb.define_name(input_name(key), "=" + _ref(ws, row, INPUT_COL))
        ws.write_formula(row, TODAY_COL, "=" + applies[key], calc, 0)
    row = FIRST_INPUT_ROW + len(SHEET_INPUTS) + 1
    for col, key in ((TODAY_COL, "today"), (AFTER_COL, "after")):
        ws.write_string(row, col, tx[key], head)
    ws.write_string(row, LABEL_COL, "", head)
    ws.write_string(row, INPUT_COL, "", head)
    same = {"WhatIf_Tier": "Account_Tier", "WhatIf_Reason": "Tier_Reason", "WhatIf_Status": "Account_Status"}
    after = _cached(today, cached | {k: cached[v] for k, v in same.items()})
    for key, now, then, fmt_key in OUTPUTS:
        row += 1
        fmt = s.get(bold=key in ("priority", "tier", "status"), border=1, border_color=t.style["border"],
                    **s.num_format(None if fmt_key == "text" else fmt_key))  # fmt: skip
        ws.write_string(row, LABEL_COL, labels[key])
        ws.write_formula(row, TODAY_COL, "=" + now, fmt, cached.get(now, ""))
        ws.write_formula(row, AFTER_COL, "=" + then, fmt, after.get(then, ""))
    last_printed = row  # the workings below are for the formulas, not for the page
    row += 2
    ws.write_string(
        row, LABEL_COL, tx["workings"], s.get(bold=True, italic=True, font_color=t.style["muted"])
    )
    chain = _Chain(t, lang, f)
    close_ok = (
        f'IF(TRIM(WhatIf_Close)="",0,IF(COUNTIFS({f.named("risks")},{f.col("risks", "status")},'
        f'"<>"&{f.lab("risk_status", "closed")},{f.col("risks", "risk")},TRIM(WhatIf_Close))>0,1,0))'
    )
    alert_today = {f"WhatIf_Alert_{i}": cached.get(defined_name("alert_" + code), 0)
                   for i, (code, _) in enumerate(ordered_rules(t))}  # fmt: skip
    for name, formula, fmt_key in [("WhatIf_Close_Ok", close_ok, "int"), *chain.cells()]:
        row += 1
        ws.write_string(row, LABEL_COL, name, s.hint)
        fmt = s.get(font_color=t.style["muted"], **s.num_format(None if fmt_key == "text" else fmt_key))
        value = after.get(name, alert_today.get(name, 0))
        ws.write_formula(row, INPUT_COL, "=" + formula, fmt, value)
        w.wb.define_name(name, "=" + _ref(ws, row, INPUT_COL))
    account = (w.plan.name or t.name[lang]).replace("&", "&&")
    page, of = t.text("page", lang), t.text("of", lang)
    ws.set_footer(f"&L&8{account}&C&8&A&R&8{page} &P {of} &N")
    ws.print_area(0, 0, last_printed, AFTER_COL)
    legible_print(ws, sheet_width(ws, AFTER_COL), key_col=None)
    ws.protect("", {"format_columns": True, "format_rows": True})


def _ref(ws: Worksheet, row: int, col: int) -> str:
    return "'" + ws.get_name().replace("'", "''") + "'!" + xl_rowcol_to_cell(row, col, True, True)
