"""Names of people at the client are taken out of the text a roll-up keeps, whatever their case."""

from __future__ import annotations

import os
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kamxl.rollup.records import REDACTED, redactor

EXAMPLES = int(os.environ.get("KAMXL_HYPOTHESIS_EXAMPLES", "30"))
# Letters whose case rules differ between str.casefold and re.IGNORECASE are the interesting ones.
LETTERS = st.sampled_from(list("abcAB éÉßẞſsSkKKİıiIΣσςæÆµμΜθϑ-'"))
NAMES = st.lists(st.text(LETTERS, min_size=3, max_size=8).filter(str.strip), min_size=1, max_size=4)


def by_pattern(names: list[str], value: str) -> str:
    ordered = sorted(set(names), key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in ordered), re.IGNORECASE).sub(REDACTED, value)


@settings(max_examples=EXAMPLES * 5, deadline=None)
@given(NAMES, st.lists(st.text(LETTERS, max_size=30), min_size=1, max_size=5), st.data())
def test_redaction_finds_what_a_case_insensitive_pattern_finds(names, texts, data) -> None:
    # Some texts hold a name, in another case.
    name = data.draw(st.sampled_from(names))
    texts = [*texts, f"Call {name.upper()} today", f"{name.lower()}: budget"]
    scrub = redactor(names)
    for text in texts:
        assert scrub(text) == by_pattern(names, text)


def test_names_in_free_text_are_replaced_and_other_values_kept() -> None:
    scrub = redactor(["Fiona Clarke", "Tom"])
    assert (
        scrub("Confirm budget with FIONA clarke and tom") == f"Confirm budget with {REDACTED} and {REDACTED}"
    )
    assert scrub("Nothing to hide") == "Nothing to hide"
    assert scrub(12.5) == 12.5
    assert redactor([])("Fiona Clarke") == "Fiona Clarke"


def test_rows_are_scrubbed_where_a_name_appears_in_any_text() -> None:
    scrub = redactor(["Fiona Clarke"])
    rows = [{"action": "Call fiona CLARKE", "due": 3}, {"action": "Send the deck", "owner": None}]
    assert scrub.rows(rows) == [{"action": f"Call {REDACTED}", "due": 3}, rows[1]]
    assert rows[0]["action"] == "Call fiona CLARKE"  # the plan's own rows are left as they are
