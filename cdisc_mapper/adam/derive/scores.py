"""Questionnaire scores (totals, subscores) from item records, with a missing-item rule.

Rules implemented (ADaMIG v1.3):

* Section 4.2 (Creation of Derived Columns Versus Creation of Derived Rows): a value
  computed from several records (a questionnaire total across its items) is added as new
  rows, here a new parameter (its own PARAMCD); DTYPE therefore stays null (section 3.3.5:
  DTYPE identifies derived records within a parameter that also has observed records).
* The rule for missing items is the producer's (the instrument's scoring manual or the
  SAP); it is chosen in the spec from :data:`SCORE_RULES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from cdisc_mapper.adam.derive._keys import group_codes

__all__ = ["SCORE_RULES", "ScoreRule", "derive_score"]

ScoreRule = Callable[[np.ndarray, np.ndarray, int, int], np.ndarray]
"""``(sum of present items, number present, number of items, max_missing) -> score``."""


def _all_items(
    total: np.ndarray, present: np.ndarray, n_items: int, max_missing: int
) -> np.ndarray:
    """The plain sum; missing when any item is missing (``max_missing`` must be 0)."""
    return np.where(present == n_items, total, np.nan)


def _prorate(total: np.ndarray, present: np.ndarray, n_items: int, max_missing: int) -> np.ndarray:
    """With at most ``max_missing`` items missing: sum * n_items / n_present (the mean
    item score times the number of items); missing otherwise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        prorated = total * n_items / present
    return np.where((n_items - present <= max_missing) & (present > 0), prorated, np.nan)


SCORE_RULES: dict[str, ScoreRule] = {"all_items": _all_items, "prorate": _prorate}


def derive_score(
    items: pd.DataFrame,
    *,
    by: Sequence[str],
    item: str,
    value: str,
    item_codes: Sequence[str],
    rule: str = "all_items",
    max_missing: int = 0,
    groups: np.ndarray | None = None,
) -> pd.DataFrame:
    """A score per assessment (``by`` group, e.g. USUBJID, VISITNUM, date) from its items:
    the AVAL of a derived parameter added as new rows (ADaMIG v1.3 section 4.2).

    ``items`` holds one row per answered item (``item`` = the item code, ``value`` its
    numeric score); an item that is absent or has a missing value counts as missing. The
    score follows ``rule`` (:data:`SCORE_RULES`: ``all_items`` = missing when any item is
    missing; ``prorate`` = mean of the answered items times the number of items when at
    most ``max_missing`` are missing). Rows whose ``item`` is not in ``item_codes`` are
    ignored; an item answered twice in one assessment is an error. ``groups`` may give the
    assessment id of every row of ``items`` (as ``group_codes(items, by)``) to save work
    when several scores come from the same items.

    Returns:
        One row per ``by`` group that has at least one of the items: the ``by`` columns,
        ``AVAL`` (score), ``NITEMS`` (items answered), ``NMISS`` (items missing) and
        ``ROW`` (position in ``items`` of the assessment's first item row).
    """
    if rule not in SCORE_RULES:
        raise KeyError(f"unknown score rule {rule!r}; known: {', '.join(SCORE_RULES)}")
    if rule == "all_items" and max_missing != 0:
        raise ValueError("the all_items rule allows no missing item (max_missing 0)")
    by = list(by)
    codes = list(item_codes)
    mask = items[item].isin(codes).to_numpy()
    g_all = group_codes(items, by) if groups is None else np.asarray(groups, dtype=np.int64)
    idx = np.flatnonzero(mask)
    g = g_all[idx]
    item_codes_ = (
        pd.factorize(items[item].to_numpy()[idx])[0] if len(idx) else np.zeros(0, np.int64)
    )
    pair = g * (len(codes) + 1) + item_codes_
    if len(pair) and pd.Series(pair).duplicated().any():
        first = items.iloc[int(idx[np.flatnonzero(pd.Series(pair).duplicated().to_numpy())[0]])]
        raise ValueError(
            f"derive_score: item {first[item]} answered twice in one assessment "
            f"({', '.join(f'{c}={first[c]}' for c in by)})"
        )
    n_groups = int(g_all.max()) + 1 if len(g_all) else 0
    v = items[value].to_numpy(dtype="float64")[idx]
    present = ~np.isnan(v)
    total = np.bincount(g, weights=np.where(present, v, 0.0), minlength=n_groups)
    n_present = np.bincount(g, weights=present.astype("float64"), minlength=n_groups).astype(
        np.int64
    )
    groups, first_pos = np.unique(g, return_index=True)
    order = np.argsort(first_pos, kind="stable")  # output in order of first appearance
    out = items.iloc[idx[first_pos[order]]][by].reset_index(drop=True)
    out_pos = groups[order]
    scores = SCORE_RULES[rule](total, n_present, len(codes), max_missing)
    out["AVAL"] = scores[out_pos]
    out["ROW"] = idx[first_pos[order]]
    out["NITEMS"] = n_present[out_pos]
    out["NMISS"] = len(codes) - n_present[out_pos]
    return out
