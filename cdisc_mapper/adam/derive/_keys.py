"""Integer keys for grouping and sorting large frames fast (no string sorts).

Not part of the public API. ``group_codes`` turns several columns into one int64 group id
(equal rows, equal id; NaN/blank is a value of its own); ``sort_codes`` gives codes that
sort like the values (for output order); ``lexsort`` orders rows by several numeric arrays.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np
import pandas as pd

_MEMO: dict[tuple[int, bool], tuple[weakref.ref, np.ndarray]] = {}
_MEMO_SIZE = 64


def column_codes(values: pd.Series | np.ndarray, *, sort: bool = False) -> np.ndarray:
    """int64 codes of one column; missing values get -1 (first in a sort).

    The codes of a column's underlying array are remembered (by identity, while the array
    lives), since the same key columns (USUBJID, PARAMCD...) are grouped by many
    derivations in turn.
    """
    arr = values.array if isinstance(values, pd.Series) else values
    key = (id(arr), sort)
    hit = _MEMO.get(key)
    if hit is not None and hit[0]() is arr:
        return hit[1]
    codes, _ = pd.factorize(
        values if isinstance(values, pd.Series) else np.asarray(values), sort=sort
    )
    codes = np.asarray(codes, dtype=np.int64)
    codes.setflags(write=False)
    try:
        ref = weakref.ref(arr)
    except TypeError:
        return codes
    if len(_MEMO) >= _MEMO_SIZE:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = (ref, codes)
    return codes


def _dense(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Int64 ranks of a key array (equal values, equal ranks; order kept; -inf first, NaN
    last) and the number of possible ranks. Integral keys in a modest range (codes, dates,
    sequence numbers) are offset directly; others are factorized."""
    n = len(values)
    if values.dtype.kind in "iu" and n:
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < 2**40:
            return values.astype(np.int64) - lo, hi - lo + 1
    if values.dtype.kind == "f" and n:
        finite = np.isfinite(values)
        if finite.any():
            v = values[finite]
            flo, fhi = float(v.min()), float(v.max())
            if fhi - flo < 2**40 and np.array_equal(v, np.floor(v)):
                width = int(fhi - flo) + 1
                codes = np.empty(n, dtype=np.int64)
                codes[finite] = (v - flo).astype(np.int64) + 1  # 0 is kept for -inf
                codes[values == -np.inf] = 0
                codes[~finite & (values != -np.inf)] = width + 1  # +inf, NaN: last
                return codes, width + 2
    codes, uniques = pd.factorize(values, sort=True)
    codes = np.asarray(codes, dtype=np.int64)
    width = len(uniques) + 1
    if (codes < 0).any():  # NaN: after every value
        codes = np.where(codes < 0, len(uniques), codes)
    return codes, width


def _combine(parts: Sequence[tuple[np.ndarray, int]]) -> np.ndarray | None:
    """Mixed-radix int64 key of dense codes; None when it would overflow."""
    total = 1
    for _, width in parts:
        total *= max(width, 1)
        if total >= 2**62:
            return None
    key = np.zeros(len(parts[0][0]) if parts else 0, dtype=np.int64)
    for codes, width in parts:
        key = key * max(width, 1) + codes
    return key


def group_codes(df: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One int64 id per distinct combination of ``columns`` (0, 1, ... in order of first
    appearance); a missing value is a value of its own."""
    parts = []
    for c in columns:
        col = column_codes(df[c]) + 1  # -1 (missing) -> 0
        parts.append((col, int(col.max()) + 1 if len(col) else 1))
    key = _combine(parts)
    if key is None:  # too many combinations for one int64: combine step by step
        key = np.zeros(len(df), dtype=np.int64)
        for col, width in parts:
            key = np.asarray(pd.factorize(key * width + col)[0], dtype=np.int64)
    codes, _ = pd.factorize(key)
    return np.asarray(codes, dtype=np.int64)


def sort_keys(
    df: pd.DataFrame, columns: Sequence[str], *, missing_last: bool = False
) -> list[np.ndarray]:
    """Per column, arrays that sort like the column's values: missing (NaN, null or blank
    text) first (as SAS sorts), or last with ``missing_last`` (as R sorts)."""
    out = []
    for c in columns:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col):
            v = col.to_numpy(dtype="float64")
            out.append(np.where(np.isnan(v), np.inf if missing_last else -np.inf, v))
        elif missing_last:
            out.append(_text_codes_missing_last(col))
        else:
            out.append(column_codes(col, sort=True))
    return out


def _text_codes_missing_last(col: pd.Series) -> np.ndarray:
    """Sorting codes of a text column with null and blank values after every value."""
    codes, uniques = pd.factorize(col, sort=True)
    codes = np.asarray(codes, dtype=np.int64)
    blank = np.array([str(u).strip() == "" for u in uniques], dtype=bool)
    missing = codes < 0
    if blank.any():
        missing = missing | blank[np.maximum(codes, 0)] & (codes >= 0)
    return np.where(missing, len(uniques), codes)


def lexsort(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Row order sorting by ``keys[0]``, then ``keys[1]``... (stable: ties keep row order;
    NaN last). Keys are turned into dense ranks and combined into one int64 key sorted
    once (much faster than ``np.lexsort`` on many keys)."""
    keys = [np.asarray(k) for k in keys]
    if not keys:
        return np.arange(0)
    n = len(keys[0])
    parts = [_dense(k) for k in keys]
    key = _combine(parts)
    if key is None:
        return np.lexsort(tuple(reversed(keys)))
    return np.argsort(key, kind="stable") if n else np.arange(0)
