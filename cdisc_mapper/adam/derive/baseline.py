"""Baseline flag, baseline value, change and percent change from baseline (BDS).

Rules implemented (ADaMIG v1.3):

* Section 3.3.8, Indicator Variables for BDS Datasets, ABLFL: "Character indicator
  identifying the baseline record for each subject, parameter, and baseline type
  (BASETYPE) combination"; "Y" or null; at most one per group.
* Section 3.3.4, Analysis Parameter Variables for BDS Datasets: BASE "The subject's
  baseline analysis value for a parameter and baseline type"; BASEC the same for AVALC;
  BNRIND "the reference range indicator of the baseline record"; CHG "AVAL - BASE";
  PCHG "Percent change from baseline: ((AVAL - BASE) / BASE) * 100" (null when BASE is 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_mapper.adam.derive._keys import group_codes, lexsort, sort_keys

__all__ = [
    "derive_base",
    "derive_baseline_flag",
    "derive_chg",
    "derive_pchg",
]


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what}: no column {', '.join(missing)}")


def _present(values: pd.Series) -> np.ndarray:
    """Non-missing (numbers) or non-blank (text), testing each distinct text once."""
    if pd.api.types.is_numeric_dtype(values):
        return values.notna().to_numpy()
    codes, uniques = pd.factorize(values)
    ok = np.array([str(u).strip() != "" for u in uniques], dtype=bool)
    return np.where(codes >= 0, np.append(ok, False)[codes], False)


def derive_baseline_flag(
    df: pd.DataFrame,
    *,
    by: Sequence[str],
    value: str,
    date: str,
    reference: str,
    order_by: Sequence[str] = (),
    eligible: pd.Series | None = None,
) -> pd.Series:
    """ABLFL (ADaMIG v1.3 section 3.3.8): "Y" on the last record with a non-missing
    ``value`` dated on or before ``reference`` (e.g. TRTSDT, so pre-dose assessments on the
    day of first treatment count), per ``by`` group (e.g. USUBJID, PARAMCD).

    Ties on the date are broken by ``order_by`` (the last wins, e.g. SRCSEQ), then by row
    order. ``eligible`` (bool, same index) restricts the candidates (e.g. DTYPE records
    only). Subjects without a reference date get no flag.

    Returns:
        ``"Y"``/``""`` Series on the index of ``df``.
    """
    by, order_by = list(by), list(order_by)
    _require(df, [*by, value, date, reference, *order_by], "derive_baseline_flag")
    d = df[date].to_numpy(dtype="float64")
    r = df[reference].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        ok = _present(df[value]) & ~np.isnan(d) & ~np.isnan(r) & (d <= r)
    if eligible is not None:
        if not eligible.index.equals(df.index):
            raise ValueError("derive_baseline_flag: eligible has a different index")
        ok = ok & eligible.fillna(False).to_numpy(dtype=bool)
    idx = np.flatnonzero(ok)
    g = group_codes(df, by)[idx]
    keys = [g, d[idx], *[k[idx] for k in sort_keys(df, order_by)]]
    o = lexsort(keys)
    gs = g[o]
    last = idx[o[np.r_[gs[1:] != gs[:-1], True]]] if len(o) else idx[:0]
    out = np.full(len(df), "", dtype=object)
    out[last] = "Y"
    return pd.Series(out, index=df.index, name="ABLFL")


def derive_base(
    df: pd.DataFrame, *, by: Sequence[str], value: str, flag: str = "ABLFL"
) -> pd.Series:
    """BASE, BASEC, BNRIND... (ADaMIG v1.3 section 3.3.4): the ``value`` of the group's
    baseline record (``flag == "Y"``) on every record of the ``by`` group; missing (NaN or
    ``""``) for groups without a baseline record.

    Raises:
        ValueError: a group has more than one baseline record.
    """
    by = list(by)
    _require(df, [*by, value, flag], "derive_base")
    is_base = df[flag].eq("Y").to_numpy(dtype=bool, na_value=False)  # no object copy
    g = group_codes(df, by)
    n_groups = int(g.max()) + 1 if len(g) else 0
    if np.bincount(g[is_base], minlength=n_groups).max(initial=0) > 1:
        raise ValueError(f"derive_base: more than one {flag} record in a {'/'.join(by)} group")
    pos = np.full(n_groups, -1, dtype=np.int64)
    pos[g[is_base]] = np.flatnonzero(is_base)
    row = pos[g]
    has = row >= 0
    src = df[value].to_numpy()
    if pd.api.types.is_numeric_dtype(df[value]):
        out = np.where(
            has, src.astype("float64")[np.maximum(row, 0)] if len(src) else np.nan, np.nan
        )
    else:
        out = np.where(has, src[np.maximum(row, 0)] if len(src) else "", "").astype(object)
    return pd.Series(out, index=df.index, name=value)


def derive_chg(aval: pd.Series, base: pd.Series, *, where: pd.Series | None = None) -> pd.Series:
    """CHG = AVAL - BASE (ADaMIG v1.3 section 3.3.4), on the rows ``where`` holds (e.g.
    post-baseline records); NaN elsewhere or when either value is missing."""
    out = aval.astype("float64") - base.astype("float64")
    if where is not None:
        out = out.where(where.fillna(False).astype(bool))
    return out


def derive_pchg(aval: pd.Series, base: pd.Series, *, where: pd.Series | None = None) -> pd.Series:
    """PCHG = (AVAL - BASE) / BASE * 100 (ADaMIG v1.3 section 3.3.4); NaN when BASE is 0 or
    missing, and on rows where ``where`` does not hold."""
    b = base.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (aval.astype("float64") - b) / b * 100.0
    out = out.where(b != 0)
    if where is not None:
        out = out.where(where.fillna(False).astype(bool))
    return out
