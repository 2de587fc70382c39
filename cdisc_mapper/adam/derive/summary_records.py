"""Summary and last-observation records (ADaMIG v1.3 section 3.3.6, DTYPE): which
records a derived record summarises or carries forward, as pure functions of a frame.

* :func:`derive_summary`: one value per group of records (mean, median, minimum, maximum,
  sum, count, first or last in an order), e.g. DTYPE = AVERAGE over the time points of a
  visit, LOV (the last value of a window), MAXIMUM, MINIMUM.
* :func:`derive_locf`: for each expected analysis visit a group has no value at, the
  record whose value is carried forward to it (DTYPE = LOCF).

Rows whose value is missing are never summarised nor carried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from cdisc_mapper.adam.derive._keys import group_codes, lexsort, sort_keys

SummaryFunction = Literal["mean", "median", "min", "max", "sum", "count", "first", "last"]
SUMMARY_FUNCTIONS: tuple[str, ...] = (
    "mean",
    "median",
    "min",
    "max",
    "sum",
    "count",
    "first",
    "last",
)


def _picked(groups: np.ndarray, order: np.ndarray, last: bool) -> np.ndarray:
    """Positions (into ``groups``) of the first or last row of each group along ``order``."""
    gs = groups[order]
    if last:
        edge = np.r_[gs[1:] != gs[:-1], True] if len(gs) else np.zeros(0, dtype=bool)
    else:
        edge = np.r_[True, gs[1:] != gs[:-1]] if len(gs) else np.zeros(0, dtype=bool)
    return np.asarray(order[edge], dtype=np.int64)


def derive_summary(
    df: pd.DataFrame,
    *,
    by: Sequence[str],
    value: str,
    function: SummaryFunction,
    order_by: Sequence[str] = (),
) -> pd.DataFrame:
    """One summary per ``by`` group of ``df`` (ADaMIG v1.3 section 3.3.6, a DTYPE record
    such as AVERAGE): ``function`` of the group's non-missing ``value``; ``first`` and
    ``last`` take the value of the first or last record in ``order_by`` order (ties: row
    order). A group with no non-missing value has no summary.

    Returns:
        One row per group, in order of the groups' first rows: ``ROW``, the position in
        ``df`` of the record the summary takes its ``by`` values from (the chosen record
        for first/last, else the group's first record with a value), and ``VALUE``.
    """
    v = df[value].to_numpy(dtype="float64")
    idx = np.flatnonzero(~np.isnan(v))
    g = group_codes(df, list(by))[idx]
    if function in ("first", "last"):
        keys = [k[idx] for k in sort_keys(df, list(order_by))]
        pos = idx[_picked(g, lexsort([g, *keys]), function == "last")]
        out = pd.DataFrame({"ROW": pos, "VALUE": v[pos]})
    else:
        first = idx[_picked(g, lexsort([g]), last=False)]
        agg = pd.Series(v[idx]).groupby(g, sort=True).agg(function)
        out = pd.DataFrame({"ROW": first, "VALUE": agg.to_numpy(dtype="float64")})
    return out.sort_values("ROW", kind="stable").reset_index(drop=True)


def derive_locf(
    df: pd.DataFrame,
    *,
    by: Sequence[str],
    visit: str,
    value: str,
    expected: Sequence[float],
    order_by: Sequence[str] = (),
) -> pd.DataFrame:
    """Last observation carried forward (ADaMIG v1.3 section 3.3.6, DTYPE = LOCF; admiral
    ``derive_locf_records``): for each ``by`` group with a non-missing ``value`` and each
    ``expected`` visit at which the group has none, the group's last record with a value
    at an earlier visit (by ``visit``, then ``order_by``, then row order). An expected
    visit before the group's first value gets nothing (there is nothing to carry).

    Returns:
        ``ROW`` (position in ``df`` of the record carried) and ``VISIT`` (the expected
        visit it fills), ordered by group and visit.
    """
    v = df[value].to_numpy(dtype="float64")
    vis = df[visit].to_numpy(dtype="float64")
    idx = np.flatnonzero(~np.isnan(v) & ~np.isnan(vis))
    g = group_codes(df, list(by))[idx]
    keys = [k[idx] for k in sort_keys(df, list(order_by))]
    order = lexsort([g, vis[idx], *keys])
    gv = pd.DataFrame({"G": g[order], "VISIT": vis[idx][order], "ROW": idx[order]})
    last = gv.drop_duplicates(["G", "VISIT"], keep="last")
    targets = np.unique(np.asarray(expected, dtype="float64"))
    grid = pd.DataFrame(
        {
            "G": np.repeat(np.unique(g), len(targets)),
            "TARGET": np.tile(targets, len(np.unique(g))),
        }
    )
    seen = pd.MultiIndex.from_frame(last[["G", "VISIT"]])
    grid = grid[~pd.MultiIndex.from_arrays([grid["G"], grid["TARGET"]]).isin(seen)]
    carried = pd.merge_asof(
        grid.sort_values("TARGET", kind="stable"),
        last.sort_values("VISIT", kind="stable"),
        left_on="TARGET",
        right_on="VISIT",
        by="G",
        allow_exact_matches=False,
        direction="backward",
    ).dropna(subset=["ROW"])
    carried = carried.sort_values(["G", "TARGET"], kind="stable")
    return pd.DataFrame(
        {
            "ROW": carried["ROW"].to_numpy(dtype=np.int64),
            "VISIT": carried["TARGET"].to_numpy(dtype="float64"),
        }
    )
