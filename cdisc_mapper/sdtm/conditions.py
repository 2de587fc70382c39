"""Evaluate spec conditions on a frame, vectorised; no spec text is ever run as code."""

from __future__ import annotations

import re

import pandas as pd

from cdisc_mapper.errors import SpecError
from cdisc_mapper.sdtm.context import as_text
from cdisc_mapper.spec.models import Condition


def evaluate(cond: Condition, frame: pd.DataFrame) -> pd.Series:
    """A boolean Series: where ``cond`` holds for each row of ``frame``."""
    if cond.all is not None:
        out = pd.Series(True, index=frame.index)
        for sub in cond.all:
            out &= evaluate(sub, frame)
        return out
    if cond.any is not None:
        out = pd.Series(False, index=frame.index)
        for sub in cond.any:
            out |= evaluate(sub, frame)
        return out
    if cond.not_ is not None:
        return ~evaluate(cond.not_, frame)
    assert cond.column is not None
    if cond.column not in frame.columns:
        raise SpecError(
            f"condition names column {cond.column!r}, which is not there; available: "
            f"{', '.join(c for c in frame.columns if not str(c).startswith('_'))}"
        )
    values = as_text(frame[cond.column]).str.strip()

    def fold(v: str) -> str:
        return v if cond.case_sensitive else v.upper()

    if not cond.case_sensitive:
        values = values.str.upper()
    if cond.equals is not None:
        return values == fold(cond.equals)
    if cond.not_equals is not None:
        return values != fold(cond.not_equals)
    if cond.in_ is not None:
        return values.isin([fold(v) for v in cond.in_])
    if cond.not_in is not None:
        return ~values.isin([fold(v) for v in cond.not_in])
    if cond.empty is not None:
        return (values == "") if cond.empty else (values != "")
    if cond.startswith is not None:
        return values.str.startswith(fold(cond.startswith))
    if cond.matches is not None:
        flags = 0 if cond.case_sensitive else re.IGNORECASE
        return values.str.fullmatch(cond.matches, flags=flags)
    raise SpecError("empty condition")
