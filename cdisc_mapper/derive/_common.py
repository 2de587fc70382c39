"""Shared helpers of the derivation library: text handling and error listing.

Not part of the public API. Conventions used by every module of ``cdisc_mapper.derive``:

* Character results use ``""`` for a null value (never NaN/None); numeric results use NaN
  (float) or ``pd.NA`` (nullable ``Int64``).
* Functions that may fail on raw values take them as a Series whose index is the raw row
  number. The error lists the offending rows (index labels) and values, the first
  :data:`MAX_LISTED`, then a count of the rest; the full lists are attached to the error as
  ``err.rows`` and ``err.values`` so that the caller can re-raise with the file name.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.textops import take_text

MAX_LISTED = 20


def as_series(
    values: pd.Series | Sequence[Any] | float | None, index: pd.Index, name: str
) -> pd.Series:
    """Return ``values`` as a Series on ``index``; a scalar is broadcast."""
    if isinstance(values, pd.Series):
        if not values.index.equals(index):
            raise ValueError(f"{name}: index differs from the index of the first argument")
        return values
    if values is None or isinstance(values, float | int) or np.isscalar(values):
        return pd.Series([values] * len(index), index=index, dtype=object)
    assert isinstance(values, Sequence)
    if len(values) != len(index):
        raise ValueError(f"{name}: {len(values)} values for {len(index)} rows")
    return pd.Series(list(values), index=index)


def factorize_text(raw: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Factorize raw cell values; return codes (-1 for NA) and the unique values as text.

    Non-string values (e.g. numbers read by a non-text reader) are converted with ``str``.
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    texts = [u if isinstance(u, str) else str(u) for u in uniques]
    return np.asarray(codes), texts


def take(
    per_unique: Sequence[Any] | np.ndarray, codes: np.ndarray, na_value: object
) -> npt.NDArray[np.object_]:
    """Map per-unique results back to rows; code -1 (NA input) gives ``na_value``."""
    arr = np.empty(len(per_unique) + 1, dtype=object)
    arr[: len(per_unique)] = list(per_unique)
    arr[-1] = na_value
    out: npt.NDArray[np.object_] = arr[codes]
    return out


def text_series(
    values: np.ndarray | Sequence[str], index: pd.Index, name: Hashable = None
) -> pd.Series:
    """A character Series in pandas' default string dtype (``""`` for null)."""
    return pd.Series(np.asarray(values, dtype=object), index=index, dtype=str, name=name)


def text_by_code(
    per_unique: Sequence[str | None],
    codes: npt.NDArray[np.integer[Any]],
    index: pd.Index,
    name: Hashable,
) -> pd.Series:
    """``text_series(take(per_unique, codes, ""), index, name)``, built in Arrow: one
    ``take`` of the distinct results instead of a Python string per row converted to
    Arrow. Results that are not all text (or None) take that path."""
    if not all(isinstance(v, str) or v is None for v in per_unique):
        return text_series(take(per_unique, codes, ""), index, name)
    codes = np.asarray(codes)
    values = take_text([*per_unique, ""], np.where(codes < 0, len(per_unique), codes))
    values.index = index
    values.name = name
    return values


def offender_list(
    rows: Sequence[Any], values: Sequence[Any], reasons: Sequence[str] | None = None
) -> str:
    """``row 3 '31/02/2016' (no such day), row 7 'abc' (...); and 12 more rows``."""
    parts = []
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        if i == MAX_LISTED:
            break
        text = f"row {row} {value!r}"
        if reasons is not None and reasons[i]:
            text += f" ({reasons[i]})"
        parts.append(text)
    out = ", ".join(parts)
    if len(rows) > MAX_LISTED:
        out += f"; and {len(rows) - MAX_LISTED} more rows"
    return out


def raise_for_rows(
    error: Callable[..., CdiscMapperError],
    what: str,
    index: pd.Index,
    mask: np.ndarray,
    values: Sequence[Any] | np.ndarray,
    reasons: Sequence[str] | np.ndarray | None = None,
    hint: str = "",
) -> None:
    """Raise ``error`` listing the rows where ``mask`` is true, if any.

    ``values`` and ``reasons`` are per row (same length as ``index``).
    """
    pos = np.flatnonzero(np.asarray(mask, dtype=bool))
    if len(pos) == 0:
        return
    rows = list(index[pos])
    vals = [values[p] for p in pos.tolist()]
    why = [reasons[p] for p in pos.tolist()] if reasons is not None else None
    noun = "row" if len(pos) == 1 else "rows"
    err = error(f"{what} in {len(pos)} {noun}: {offender_list(rows, vals, why)}", hint=hint)
    err.rows = rows  # type: ignore[attr-defined]
    err.values = vals  # type: ignore[attr-defined]
    raise err
