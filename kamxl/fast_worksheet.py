"""XlsxWriter's worksheet with each formula prepared once per process."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

_PREPARED: dict[tuple[str, bool, bool], str] = {}


class FastWorksheet(Worksheet):
    """A plan repeats the same formulas on every pre-sized table row, and XlsxWriter runs some
    thirty regular expressions over each formula it writes (a pure function of the text and two
    flags): the prepared text is kept instead of being recomputed."""

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        key = (formula, expand_future_functions, bool(self.use_future_functions))
        prepared = _PREPARED.get(key)
        if prepared is None:
            if len(_PREPARED) > 50_000:
                _PREPARED.clear()
            prepared = _PREPARED[key] = super()._prepare_formula(formula, expand_future_functions)
        return prepared
