"""Flags, groupings, recodes and best-of-several derived records.

Rules implemented (ADaMIG v1.3):

* Section 3.1.4 (Flag Variable Conventions): subject-level population flags (``*FL``) are
  "Y" or "N", never null; other flags are "Y"/"N"/null or "Y"/null.
* Section 3.1.1 (General Variable Conventions) and Table 3.2.2: grouping variables
  ``*GRy`` with their numeric ``*GRyN`` in a one-to-one relationship.
* Section 3.3.5 (Analysis Descriptor Variables), DTYPE: a derived record added within a
  parameter that has observed records, e.g. DTYPE "MAXIMUM" (CDISC CT DTYPE, C81224) for
  the best of several efforts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from cdisc_mapper.adam.derive._keys import group_codes, lexsort, sort_keys
from cdisc_mapper.textops import format_number

__all__ = [
    "derive_best_record",
    "derive_flag",
    "derive_group",
    "derive_recode",
]


def _text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return pd.Series(
            [format_number(v) for v in values.to_numpy(dtype="float64")],
            index=values.index,
            dtype=object,
        )
    return values.fillna("").astype(str).str.strip()


def derive_flag(mask: pd.Series, *, false_value: Literal["N", ""] = "N") -> pd.Series:
    """A character flag (ADaMIG v1.3 section 3.1.4): "Y" where ``mask`` holds, else
    ``false_value`` ("N" for population flags, ``""`` for Y/null flags)."""
    m = mask.fillna(False).to_numpy(dtype=bool)
    return pd.Series(np.where(m, "Y", false_value).astype(object), index=mask.index)


def derive_group(
    values: pd.Series, groups: Sequence[tuple[str, float | None, float | None]]
) -> tuple[pd.Series, pd.Series]:
    """``*GRy`` and ``*GRyN`` (ADaMIG v1.3 section 3.1.1): the first group whose
    ``lo <= value < hi`` (a None bound is open) takes the value; groups are numbered from 1
    in the given order. Missing or ungrouped values give ``""``/NaN.
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    text = np.full(len(v), "", dtype=object)
    code = np.full(len(v), np.nan)
    free = ~np.isnan(v)
    for i, (label, lo, hi) in enumerate(groups, start=1):
        with np.errstate(invalid="ignore"):
            hit = (
                free & (v >= (-np.inf if lo is None else lo)) & (v < (np.inf if hi is None else hi))
            )
        text[hit] = label
        code[hit] = i
        free = free & ~hit
    return pd.Series(text, index=values.index), pd.Series(code, index=values.index)


def derive_recode(
    values: pd.Series,
    mapping: Mapping[str, str],
    *,
    other: str | None = None,
    missing: str = "",
) -> pd.Series:
    """Recode text values with ``mapping`` (e.g. an analysis version of a collected value,
    AREL from AEREL, or EOSSTT from DSDECOD: ADaMIG v1.3 sections 3.2.8 and ADaM OCCDS v1.1);
    unmapped non-blank values become ``other`` (kept as they are when ``other`` is None);
    blanks become ``missing``."""
    text = _text(values)
    out = text.map(dict(mapping))
    blank = text == ""
    out = out.where(out.notna(), text if other is None else other)
    out = out.where(~blank, missing)
    return out.astype(object)


def derive_best_record(
    df: pd.DataFrame,
    *,
    by: Sequence[str],
    value: str,
    function: Literal["maximum", "minimum"] = "maximum",
    order_by: Sequence[str] = (),
) -> pd.Series:
    """DTYPE records (ADaMIG v1.3 section 3.3.5): the position (row number in ``df``) of
    the best record per ``by`` group, to be copied as a derived record: the highest
    (``maximum``) or lowest ``value``; ties go to the first by ``order_by`` (e.g. the
    lowest repetition number), then row order. Rows with a missing value never win.

    Returns:
        ``int64`` array-like Series of row positions, one per group with a value.
    """
    by, order_by = list(by), list(order_by)
    v = df[value].to_numpy(dtype="float64")
    ok = ~np.isnan(v)
    idx = np.flatnonzero(ok)
    g = group_codes(df, by)[idx]
    key = -v[idx] if function == "maximum" else v[idx]
    o = lexsort([g, key, *[k[idx] for k in sort_keys(df, order_by)]])
    gs = g[o]
    first = idx[o[np.r_[True, gs[1:] != gs[:-1]]]] if len(o) else idx[:0]
    return pd.Series(np.sort(first), dtype=np.int64)
