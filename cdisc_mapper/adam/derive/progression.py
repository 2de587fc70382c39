"""Progression rates over periods: least-squares slopes, two-point rates, improvement
relative to a reference rate and responder criteria.

Rules implemented (ADaMIG v1.3):

* Section 4.2 (Creation of Derived Columns Versus Creation of Derived Rows): a rate
  computed from many records of a parameter over a period is a new row of a new parameter
  (one record per subject, parameter and period), traced to its source with SRCDOM/SRCVAR
  (section 3.3.9).
* Section 3.3.4 (Analysis Parameter Variables for BDS Datasets): BASE "the subject's
  baseline analysis value" (here the run-in rate), CHG = AVAL - BASE; CRITy "Analysis
  Criterion y" with CRITyFL "Criterion y Evaluation Result Flag" ("Y"/"N"/null: null when
  the criterion cannot be evaluated).

Time is in months: ``(date - period start) / month_days``, the convention the spec states.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd

from cdisc_mapper.adam.derive._keys import group_codes, lexsort

__all__ = [
    "RATE_METHODS",
    "base_declines",
    "derive_criterion_flag",
    "derive_improvement_reason",
    "derive_percent_improvement",
    "derive_rate",
    "derive_slope",
    "derive_two_point_rate",
]


def _grouped(
    keys: pd.DataFrame, x: pd.Series, y: pd.Series
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Rows with x and y present, sorted by group then x; group codes 0, 1, ... contiguous
    in order of first appearance; the x and y arrays."""
    ok = x.notna().to_numpy() & y.notna().to_numpy()
    idx = np.flatnonzero(ok)
    g = group_codes(keys, list(keys.columns))[idx]
    xv = x.to_numpy(dtype="float64")[idx]
    o = lexsort([g, xv])
    work = keys.iloc[idx[o]].reset_index(drop=True)
    gs = g[o]
    codes = np.cumsum(np.r_[False, gs[1:] != gs[:-1]]) if len(gs) else gs
    return work, codes.astype(np.int64), xv[o], y.to_numpy(dtype="float64")[idx][o]


def _result(
    work: pd.DataFrame, keys: Iterable[str], codes: np.ndarray, cols: dict[str, Any]
) -> pd.DataFrame:
    first = np.r_[True, codes[1:] != codes[:-1]] if len(codes) else np.zeros(0, dtype=bool)
    out = work.loc[first, list(keys)].reset_index(drop=True)
    for name, values in cols.items():
        out[name] = values
    return out


def derive_slope(keys: pd.DataFrame, x: pd.Series, y: pd.Series) -> pd.DataFrame:
    """Ordinary least-squares slope of ``y`` on ``x`` per group of ``keys``: the AVAL of a
    rate parameter, one row per subject and period (ADaMIG v1.3 section 4.2).

    ``slope = sum((x - mean x)(y - mean y)) / sum((x - mean x)^2)``, computed with grouped
    sums (vectorised, no per-group Python code). Rows missing x or y are ignored.

    Returns:
        One row per group with data: the key columns, ``AVAL`` (slope; NaN when fewer than
        two distinct x), ``N`` (points used), ``XFIRST``/``XLAST`` (first and last x).
    """
    work, codes, xv, yv = _grouped(keys, x, y)
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    n = np.bincount(codes, minlength=n_groups).astype("float64")
    mx = np.bincount(codes, weights=xv, minlength=n_groups) / np.maximum(n, 1)
    my = np.bincount(codes, weights=yv, minlength=n_groups) / np.maximum(n, 1)
    dx = xv - mx[codes]
    dy = yv - my[codes]
    sxx = np.bincount(codes, weights=dx * dx, minlength=n_groups)
    sxy = np.bincount(codes, weights=dx * dy, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where((n >= 2) & (sxx > 0), sxy / sxx, np.nan)
    xfirst, xlast = _ends(codes, xv, n_groups)
    return _result(
        work,
        keys.columns,
        codes,
        {"AVAL": slope, "N": n.astype(int), "XFIRST": xfirst, "XLAST": xlast},
    )


def _ends(codes: np.ndarray, values: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last value of each group; rows are sorted by group (codes 0, 1, ... in
    order of appearance, contiguous) then by x."""
    if not len(codes):
        return np.zeros(0), np.zeros(0)
    change = codes[1:] != codes[:-1]
    first = values[np.r_[True, change]]
    last = values[np.r_[change, True]]
    return first, last


def derive_two_point_rate(keys: pd.DataFrame, x: pd.Series, y: pd.Series) -> pd.DataFrame:
    """Two-point rate per group: ``(y at last x - y at first x) / (last x - first x)``,
    the AVAL of a rate parameter (ADaMIG v1.3 section 4.2).

    Returns the same columns as :func:`derive_slope` (AVAL NaN when fewer than two
    distinct x). With several values at the first or last x, the first/last row in the
    given order is used.
    """
    work, codes, xv, yv = _grouped(keys, x, y)
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    n = np.bincount(codes, minlength=n_groups)
    xfirst, xlast = _ends(codes, xv, n_groups)
    yfirst, ylast = _ends(codes, yv, n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where((n >= 2) & (xlast > xfirst), (ylast - yfirst) / (xlast - xfirst), np.nan)
    return _result(
        work, keys.columns, codes, {"AVAL": rate, "N": n, "XFIRST": xfirst, "XLAST": xlast}
    )


RateMethod = Callable[[pd.DataFrame, pd.Series, pd.Series], pd.DataFrame]
RATE_METHODS: dict[str, RateMethod] = {
    "slope": derive_slope,
    "two_point": derive_two_point_rate,
}


def derive_rate(method: str, keys: pd.DataFrame, x: pd.Series, y: pd.Series) -> pd.DataFrame:
    """A rate parameter's AVAL (ADaMIG v1.3 section 4.2) by the method of
    :data:`RATE_METHODS` the spec names."""
    try:
        fn = RATE_METHODS[method]
    except KeyError:
        raise KeyError(
            f"unknown rate method {method!r}; known: {', '.join(RATE_METHODS)}"
        ) from None
    return fn(keys, x, y)


def derive_percent_improvement(
    aval: pd.Series, base: pd.Series, *, direction: Literal["increase", "decrease"] = "increase"
) -> pd.Series:
    """Percent improvement of AVAL relative to BASE, a sponsor column beside CHG (ADaMIG v1.3
    section 3.3.4; section 4.2: a function of AVAL and BASE on the same row is a new
    column): ``100 * (AVAL - BASE) / |BASE|`` when a higher value is better
    (``direction="increase"``, e.g. a less negative ALSFRS-R slope),
    ``100 * (BASE - AVAL) / |BASE|`` otherwise; NaN when BASE is 0 or missing.

    Unlike PCHG (``(AVAL - BASE) / BASE``), the sign does not flip with a negative BASE: a
    slope going from -1.0 to -0.5 points/month is a 50% improvement.
    """
    b = base.astype("float64")
    delta = aval.astype("float64") - b
    if direction == "decrease":
        delta = -delta
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 100.0 * delta / b.abs()
    return out.where(b != 0)


def base_declines(
    base: pd.Series, limit: pd.Series, *, direction: Literal["increase", "decrease"] = "increase"
) -> pd.Series:
    """Whether BASE is a worsening of at least ``limit`` (per record): ``BASE <= -limit``
    when a higher value is better (a declining rate), ``BASE >= limit`` otherwise; a
    missing ``limit`` only requires BASE to be non-zero."""
    b = base.astype("float64").to_numpy()
    lim = limit.astype("float64").to_numpy()
    with np.errstate(invalid="ignore"):
        beyond = b <= -lim if direction == "increase" else b >= lim
        ok = np.where(np.isnan(lim), b != 0, beyond)
    return pd.Series(ok & ~np.isnan(b), index=base.index)


def derive_improvement_reason(
    aval: pd.Series,
    base: pd.Series,
    limit: pd.Series,
    *,
    direction: Literal["increase", "decrease"] = "increase",
    missing: str,
    no_decline: str,
) -> pd.Series:
    """Why the percent improvement of a record is null (a sponsor reason variable beside
    it, ADaMIG v1.3 section 3.3.4): ``missing`` when BASE or AVAL is missing, ``no_decline``
    when BASE is not a worsening of at least ``limit`` (see :func:`base_declines`; BASE = 0
    included), ``""`` when the improvement is computed. The BASE reason comes first, so
    every record of a subject whose baseline rate does not qualify says so."""
    b = base.astype("float64")
    ok = base_declines(b, limit, direction=direction).to_numpy()
    out = np.where(
        b.isna().to_numpy(),
        missing,
        np.where(~ok, no_decline, np.where(aval.isna().to_numpy(), missing, "")),
    )
    return pd.Series(out.astype(object), index=base.index)


def derive_criterion_flag(
    value: pd.Series, *, op: Literal["ge", "gt", "le", "lt"], threshold: float
) -> pd.Series:
    """CRITyFL (ADaMIG v1.3 section 3.3.4): "Y" when ``value op threshold`` holds, "N" when
    it does not, ``""`` when ``value`` is missing (not evaluable)."""
    v = value.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        met = {
            "ge": v >= threshold,
            "gt": v > threshold,
            "le": v <= threshold,
            "lt": v < threshold,
        }[op]
    out = np.where(np.isnan(v), "", np.where(met, "Y", "N")).astype(object)
    return pd.Series(out, index=value.index)
