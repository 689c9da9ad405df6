"""Parsing what KAMs type: numbers, percentages, dates, choices, ratings, errors, formulas."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kamxl.coerce import (
    ChoiceIndex,
    coerce,
    fold,
    from_serial,
    parse_choice,
    parse_date,
    parse_number,
    parse_percent,
    parse_rating,
    parse_text,
    to_serial,
)

EXAMPLES = int(os.environ.get("KAMXL_HYPOTHESIS_EXAMPLES", "30"))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1 200 000 €", 1_200_000),
        ("1\u00a0200\u00a0000\u00a0€", 1_200_000),
        ("1\u202f200,50 €", 1200.5),
        ("1,2 M€", 1_200_000),
        ("$1.2M", 1_200_000),
        ("45k", 45_000),
        ("45 k€", 45_000),
        ("2,5 Md€", 2_500_000_000),
        ("1.5bn", 1_500_000_000),
        ("1.234,56", 1234.56),
        ("1,234.56", 1234.56),
        ("1,200", 1200),
        ("1.200.000", 1_200_000),
        ("12,5", 12.5),
        ("0,125", 0.125),
        ("(1 200)", -1200),
        ("-1 200 €", -1200),
        ("−45", -45),
        ("EUR 300", 300),
        ("1'200'000 CHF", 1_200_000),
        ("12,5 %", 0.125),
        ("35%", 0.35),
        (" 42 ", 42),
        (42.0, 42.0),
        (7, 7),
    ],
)
def test_numbers_typed_as_text(typed, expected) -> None:
    value, problem = parse_number(typed)
    assert problem is None
    assert value == pytest.approx(expected)


def test_single_comma_is_a_decimal_mark_in_french() -> None:
    assert parse_number("1,200", lang="fr").value == pytest.approx(1.2)
    assert parse_number("1,200", lang="en").value == 1200
    assert parse_number("1234,567", lang="en").value == pytest.approx(1234.567)


@pytest.mark.parametrize(
    "typed", ["abc", "12 abc", "1,2,3", "1.2.3,4.5", "--5", "M", True, dt.date(2026, 1, 1), "nan"]
)
def test_not_numbers(typed) -> None:
    value, problem = parse_number(typed)
    assert value is None
    assert problem is not None and problem.severity == "error"
    assert "number" in problem.message


def test_blank_is_none_without_problem() -> None:
    assert parse_number(None) == (None, None)
    assert parse_number("  ") == (None, None)
    assert parse_date("") == (None, None)


def test_percent_column_rules() -> None:
    assert parse_percent(0.35) == (0.35, None)
    assert parse_percent("35 %") == (0.35, None)
    value, problem = parse_percent(35)
    assert value == pytest.approx(0.35)
    assert problem is not None and problem.severity == "warning" and "35%" in problem.message
    assert parse_percent(1.05, low=0, high=5) == (1.05, None)  # an NRR of 105% typed as a fraction
    value, problem = parse_percent(105, low=0, high=5)
    assert value == pytest.approx(1.05) and problem.severity == "warning"
    assert parse_percent(250)[0] == 250  # no reading fits: kept for the range check to flag


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-03-15", dt.date(2026, 3, 15)),
        ("2026-03-15T10:30:00", dt.date(2026, 3, 15)),
        ("2026/03/15", dt.date(2026, 3, 15)),
        ("15/03/2026", dt.date(2026, 3, 15)),
        ("15.03.2026", dt.date(2026, 3, 15)),
        ("15-03-26", dt.date(2026, 3, 15)),
        ("05/04/2026", dt.date(2026, 4, 5)),  # day first
        ("15 mars 2026", dt.date(2026, 3, 15)),
        ("1er avril 2026", dt.date(2026, 4, 1)),
        ("15 Février 2026", dt.date(2026, 2, 15)),
        ("dimanche 15 mars 2026", dt.date(2026, 3, 15)),
        ("March 15, 2026", dt.date(2026, 3, 15)),
        ("Mar 15th 2026", dt.date(2026, 3, 15)),
        ("15-Mar-2026", dt.date(2026, 3, 15)),
        ("20260315", dt.date(2026, 3, 15)),
        (46096, dt.date(2026, 3, 15)),
        (46096.75, dt.date(2026, 3, 15)),
        (dt.datetime(2026, 3, 15, 9, 30), dt.date(2026, 3, 15)),
        (dt.date(2026, 3, 15), dt.date(2026, 3, 15)),
    ],
)
def test_dates(typed, expected) -> None:
    assert parse_date(typed) == (expected, None)


def test_month_first_date_is_read_with_a_note() -> None:
    value, problem = parse_date("03/15/2026")
    assert value == dt.date(2026, 3, 15)
    assert problem.severity == "info"


@pytest.mark.parametrize("typed", ["31/02/2026", "soon", "15 mars", "2026", 2026, "Q3 2026", -5, True])
def test_not_dates(typed) -> None:
    value, problem = parse_date(typed)
    assert value is None
    assert problem is not None and problem.severity == "error"


def test_excel_serials_follow_the_1900_date_system() -> None:
    assert from_serial(1) == dt.date(1900, 1, 1)
    assert from_serial(59) == dt.date(1900, 2, 28)
    assert from_serial(60) is None  # Excel's fictitious 1900-02-29
    assert from_serial(61) == dt.date(1900, 3, 1)
    assert from_serial(2958465) == dt.date(9999, 12, 31)


STAGES = {
    "won": {"en": "Won", "fr": "Gagnée"},
    "negotiation": {"en": "Negotiation", "fr": "Négociation"},
    "cross_sell": {"en": "Cross-sell", "fr": "Vente croisée"},
}


@pytest.mark.parametrize(
    "typed",
    ["Négociation", "negociation", "  NEGOTIATION ", "Negotiation", "negotiation", "Ne\u0301gociation"],
)
def test_choices_in_either_language_case_and_accents(typed) -> None:
    index = ChoiceIndex(STAGES, "en")
    assert parse_choice(typed, index).value == "negotiation"


def test_choice_notes_what_excel_formulas_would_not_match() -> None:
    index = ChoiceIndex(STAGES, "en")
    assert parse_choice("NEGOTIATION", index) == ("negotiation", None)  # Excel compares without case
    value, problem = parse_choice("Négociation", index)
    assert value == "negotiation"
    assert problem.severity == "warning" and '"Negotiation"' in problem.message


def test_choice_codes_and_punctuation() -> None:
    index = ChoiceIndex(STAGES, "fr")
    assert parse_choice("cross sell", index).value == "cross_sell"
    assert parse_choice("Vente  croisée", index).value == "cross_sell"
    assert parse_choice("cross_sell", index).value == "cross_sell"


def test_unknown_choice_strict_and_free() -> None:
    index = ChoiceIndex(STAGES, "fr")
    value, problem = parse_choice("Maybe", index)
    assert value is None and problem.severity == "error"
    assert "Gagnée" in problem.message  # allowed labels in the workbook language
    assert parse_choice("Maybe", index, strict=False) == ("Maybe", None)


@pytest.mark.parametrize(
    ("typed", "expected"), [(4, 4), (4.0, 4), ("4", 4), ("4/5", 4), ("3,5", 3.5), (None, None)]
)
def test_ratings(typed, expected) -> None:
    assert parse_rating(typed) == (expected, None)


@pytest.mark.parametrize("typed", [0, 6, "7/5", "good"])
def test_bad_ratings(typed) -> None:
    value, problem = parse_rating(typed)
    assert value is None and problem.severity == "error"


def test_text_keeps_what_was_typed() -> None:
    assert parse_text(12345.0) == ("12345", None)
    assert parse_text(dt.datetime(2026, 3, 15)) == ("2026-03-15", None)
    assert parse_text("=not a formula") == ("=not a formula", None)


@pytest.mark.parametrize("code", ["#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"])
def test_error_values_in_typed_columns(template, code) -> None:
    column = template.table("opportunities").column("expected_close")
    value, problem = coerce(code, column)
    assert value is None
    assert problem.severity == "error" and code in problem.message


def test_numbers_and_dates_typed_as_text_are_read_with_a_warning(template) -> None:
    amount = template.table("opportunities").column("amount")
    value, problem = coerce("1 200 000 €", amount)
    assert value == 1_200_000
    assert problem.severity == "warning" and "1 200 000" in problem.message
    assert coerce(1_200_000.0, amount) == (1_200_000.0, None)
    value, problem = coerce("15/03/2026", template.table("opportunities").column("expected_close"))
    assert value == dt.date(2026, 3, 15) and "2026-03-15" in problem.message


def test_error_text_in_a_text_column_is_text(template) -> None:
    assert coerce("#N/A", template.table("opportunities").column("next_step")) == ("#N/A", None)


def test_formula_text_where_a_value_is_expected(template) -> None:
    column = template.table("opportunities").column("amount")
    value, problem = coerce("=1+1", column)
    assert value is None and "formula" in problem.message


def test_out_of_range_is_kept_with_a_warning(template) -> None:
    column = template.table("opportunities").column("probability")
    assert coerce(0.6, column) == (0.6, None)
    value, problem = coerce("60 %", column)
    assert value == pytest.approx(0.6)
    assert problem.severity == "warning" and "is text" in problem.message
    value, problem = coerce(60, column)
    assert value == pytest.approx(0.6) and problem.severity == "warning"
    value, problem = coerce("150 %", column)
    assert value == pytest.approx(1.5) and problem.severity == "warning" and "range" in problem.message


def test_fold_ignores_case_accents_and_spacing() -> None:
    assert fold("  Détenteur\u00a0du   BUDGET ") == "detenteur du budget"
    assert fold("Signal d’alerte") == fold("signal d'alerte")


# -- property tests: what is written the usual ways reads back ------------------------------------
def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    return sep.join([digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))])


NNBSP, APOSTROPHE = "\u202f", "'"
AMOUNTS = st.decimals(min_value=Decimal("-1e11"), max_value=Decimal("1e11"), places=2, allow_nan=False)


@settings(max_examples=EXAMPLES, deadline=None)
@given(amount=AMOUNTS, style=st.sampled_from(["fr", "en", "de", "plain", "paren", "ch"]))
def test_number_round_trip(amount: Decimal, style: str) -> None:
    sign = "-" if amount < 0 else ""
    whole, frac = f"{abs(amount):.2f}".split(".")
    typed = {
        "fr": f"{sign}{_group(whole, NNBSP)},{frac} €",
        "en": f"{sign}${_group(whole, ',')}.{frac}",
        "de": f"{sign}{_group(whole, '.')},{frac} EUR",
        "plain": f"{sign}{whole}.{frac}",
        "paren": f"({_group(whole, ' ')},{frac})" if sign else f"{_group(whole, ' ')},{frac}",
        "ch": f"{sign}{_group(whole, APOSTROPHE)}.{frac} CHF",
    }[style]
    value, problem = parse_number(typed, lang="fr" if style in ("fr", "de", "paren") else "en")
    assert problem is None, typed
    assert Decimal(str(value)) == amount, typed


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    amount=st.decimals(min_value=Decimal("0.1"), max_value=Decimal("999"), places=1),
    suffix=st.sampled_from(
        [
            ("k", 10**3),
            (" k€", 10**3),
            ("M", 10**6),
            (" M€", 10**6),
            ("m", 10**6),
            (" Md€", 10**9),
            ("bn", 10**9),
        ]
    ),
)
def test_number_with_multiplier_round_trip(amount: Decimal, suffix: tuple[str, int]) -> None:
    text, factor = suffix
    value, problem = parse_number(f"{amount}".replace(".", ",") + text, lang="fr")
    assert problem is None
    assert Decimal(str(value)) == amount * factor


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    day=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)),
    style=st.sampled_from(["iso", "slash", "dot", "serial", "fr", "en", "datetime"]),
)
def test_date_round_trip(day: dt.date, style: str) -> None:
    fr_months = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ]
    typed = {
        "iso": day.isoformat(),
        "slash": day.strftime("%d/%m/%Y"),
        "dot": day.strftime("%d.%m.%Y"),
        "serial": float(to_serial(day)),
        "fr": f"{day.day} {fr_months[day.month - 1]} {day.year}",
        "en": f"{day:%B} {day.day}, {day.year}",
        "datetime": dt.datetime.combine(day, dt.time(13, 5)),
    }[style]
    assert parse_date(typed) == (day, None)


# -- edge cases a KAM can type ---------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["EUR", "€", "$", "%", "( € )", "- €"])
def test_a_currency_or_sign_alone_is_not_a_number(typed) -> None:
    value, problem = parse_number(typed)
    assert value is None and problem.severity == "error" and "not a number" in problem.message


@pytest.mark.parametrize("typed", ["12 34", "5 10", "1 2 3", "1 2345", "1'23", "1 000 00"])
def test_spaces_group_thousands_only_by_three(typed) -> None:
    assert parse_number(typed).value is None


def test_a_number_too_large_for_excel_is_not_a_number() -> None:
    value, problem = parse_number("9" * 400)
    assert value is None and problem.severity == "error"


@pytest.mark.parametrize("serial", [float("inf"), float("-inf")])
def test_infinite_serial_is_not_a_date(serial) -> None:
    value, problem = parse_date(serial)
    assert value is None and problem.severity == "error"


@pytest.mark.parametrize("typed", ["15/03/0026", "0001-01-01", "1899-12-31"])
def test_dates_before_1900_are_not_dates_excel_can_hold(typed) -> None:
    value, problem = parse_date(typed)
    assert value is None and problem.severity == "error" and "1900" in problem.message


def test_bad_rating_message_quotes_what_was_typed() -> None:
    assert parse_rating("7/5").problem.message == '"7/5" is not a rating from 1 to 5'


def test_booleans_are_shown_as_excel_shows_them() -> None:
    assert parse_number(True).problem.message == '"TRUE" is not a number'
    index = ChoiceIndex({"yes": {"en": "Yes", "fr": "Oui"}, "no": {"en": "No", "fr": "Non"}})
    assert parse_choice(False, index).problem.message.startswith('"FALSE" is not in the list')


def test_month_first_date_typed_as_text_is_still_a_warning(template) -> None:
    value, problem = coerce("03/15/2026", template.table("opportunities").column("expected_close"))
    assert value == dt.date(2026, 3, 15)
    assert problem.severity == "warning"
    assert "2026-03-15" in problem.message and "month/day/year" in problem.message
    assert "text" in problem.message


def test_percentage_points_disagree_with_the_workbook_formulas(template) -> None:
    """Excel's weighted amount multiplies by 35, not 0.35: the KAM has to retype it."""
    column = template.table("opportunities").column("probability")
    value, problem = coerce(35.0, column)
    assert value == pytest.approx(0.35)
    assert problem.severity == "warning" and "35%" in problem.message


def test_free_choice_keeps_booleans_and_dates_as_excel_shows_them() -> None:
    index = ChoiceIndex(STAGES, "en")
    assert parse_choice(True, index, strict=False) == ("TRUE", None)
    assert parse_choice(dt.datetime(2026, 3, 15), index, strict=False) == ("2026-03-15", None)
    assert parse_choice(12.0, index, strict=False) == ("12", None)


def test_text_starting_with_an_equals_sign_in_an_open_choice_is_text(template) -> None:
    """A choice list that also takes free text keeps "=..." typed as text (a real formula is
    found in the sheet, not guessed from its text)."""
    column = next(
        c for t in template.tables.values() for c in t.input_columns if c.type == "choice" and not c.strict
    )
    choices = ChoiceIndex(template.choices[column.choices], "en", template.former_labels(column.choices))
    assert coerce("=ĥ", column, choices=choices) == ("=ĥ", None)
    assert coerce("=1+1", template.table("opportunities").column("amount"))[0] is None  # still a formula
