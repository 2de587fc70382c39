"""A finished ADaM dataset's columns as its XPT file stores them: values, lengths, key
duplicates, and key values as a reader knows them (for errors).

Rules:

* A value is stored as its variable's declared type or not at all. Text in a numeric
  variable, or a number in a character one, is a :class:`~cdisc_mapper.errors.MappingError`
  naming the dataset, the variable, the first offending records and the spec line: a value
  is never set missing because of a type (e.g. the numeric type an ADaMIG suffix rule such
  as ``*TM`` gives). Blank text in a numeric variable is a missing value.
* A character variable is as long as its longest value (bytes, trailing blanks not
  counted, at least 1) and, when it is carried from SDTM under its own name, at least as
  long as its SDTM file declares it, so that SDTM and ADaM agree on it. Numbers take 8
  bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from cdisc_mapper.adam.model import AdamVariable
from cdisc_mapper.errors import MappingError
from cdisc_mapper.textops import text_column

#: How many offending records an error shows.
SHOWN = 3


def _blank(value: Any) -> bool:
    """Whether a value of an object column is missing (None, NaN, NA) or blank text."""
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def typed_values(col: pd.Series, vtype: Literal["Char", "Num"]) -> tuple[np.ndarray, np.ndarray]:
    """``col`` as ``vtype`` stores it (float64 numbers, or text with ``""`` for null) and
    the positions of the values that do not fit that type (empty when all do)."""
    none = np.empty(0, dtype=np.intp)
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    if vtype == "Num":
        if numeric:
            return col.to_numpy(dtype="float64"), none
        arr = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64")
        missing = np.flatnonzero(np.isnan(arr))
        if not len(missing):
            return arr, none
        raw = col.to_numpy(dtype=object)[missing]
        codes, uniques = pd.factorize(pd.Series(raw, dtype=object), use_na_sentinel=False)
        bad_unique = np.array([not _blank(u) for u in uniques], dtype=bool)
        return arr, missing[bad_unique[codes]] if len(uniques) else none
    if numeric:
        bad = np.flatnonzero(col.notna().to_numpy())
        return col.to_numpy(dtype=object, na_value=""), bad
    if col.dtype == object:
        # the derivations make "" for null: no per-value scan of object columns (the XPT
        # writer rejects a value that is not text, naming it)
        return col.to_numpy(), none
    return col.to_numpy(dtype=object, na_value=""), none


def is_arrow_text(col: pd.Series) -> bool:
    """Whether ``col`` holds pandas' Arrow-backed ``str`` text."""
    return isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow"


def stored_series(arr: np.ndarray, vtype: Literal["Char", "Num"]) -> pd.Series:
    """A typed column (:func:`typed_values`) as the finished dataset holds it: text that
    is all ``str`` as Arrow-backed ``str`` (the XPT writer encodes it in one Arrow pass),
    anything else as it is (a value that is not text stays for the writer to name)."""
    text = vtype == "Char" and arr.dtype == object and len(arr) > 0
    if text and pd.api.types.infer_dtype(arr, skipna=False) == "string":
        return text_column(arr)
    return pd.Series(arr, dtype=arr.dtype, copy=False)


def adjacent_duplicates(frame: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """Which records of ``frame`` (sorted by ``keys``) share all key values with the
    record before or after them: numbers equal (two missing are equal), text equal."""
    same = np.ones(max(len(frame) - 1, 0), dtype=bool)
    for k in keys:
        if is_arrow_text(frame[k]):  # finished text: "" for null, compared by codes
            codes = pd.factorize(frame[k])[0]
            same = same & (codes[1:] == codes[:-1])
            continue
        a = frame[k].to_numpy()
        if frame[k].dtype.kind == "f":
            eq = (a[1:] == a[:-1]) | (np.isnan(a[1:]) & np.isnan(a[:-1]))
        else:
            eq = a[1:] == a[:-1]
        same = same & eq
    return np.r_[same, False] | np.r_[False, same]


def _show(value: object) -> str:
    """A key value as a reader knows it: whole numbers without ``.0``."""
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return "missing"
        if float(value).is_integer():
            return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Misfit:
    """Values of ``variable`` at ``positions`` (frame rows) that do not fit ``vtype``,
    which ``why`` declared (e.g. ``the ADaMIG BDS rule *TM``)."""

    dataset: str
    variable: str
    vtype: str
    why: str
    positions: np.ndarray


def misfit_error(
    misfit: Misfit,
    frame: pd.DataFrame,
    keys: Sequence[str],
    output_order: np.ndarray,
    where: str,
    hint: str,
) -> MappingError:
    """The error for a :class:`Misfit`: how many records, and the first ones in output
    order (``output_order`` lists the frame rows in output order) with their record
    number, keys and value."""
    positions = misfit.positions
    rank = np.empty(len(output_order), dtype=np.intp)
    rank[output_order] = np.arange(len(output_order))
    first = positions[np.argsort(rank[positions], kind="stable")][:SHOWN]
    shown_keys = [k for k in keys if k in frame.columns and k != misfit.variable]
    examples = []
    for pos in first:
        row = frame.iloc[int(pos)]
        ids = ", ".join(f"{k}={_show(row[k])}" for k in shown_keys)
        examples.append(f"record {int(rank[pos]) + 1} ({ids}): {row[misfit.variable]!r}")
    held = "text" if misfit.vtype == "Num" else "numbers"
    return MappingError(
        f"{misfit.dataset}.{misfit.variable} is {misfit.vtype} ({misfit.why}) but "
        f"{len(positions)} record(s) hold {held}, e.g. {'; '.join(examples)}; a value is "
        "never set missing to fit a type",
        where=where,
        hint=hint,
    )


def stored_length(col: pd.Series, vtype: str | None, declared: int | None = None) -> int:
    """Storage length: 8 for numbers; for text the longest value in bytes (each distinct
    value measured once), at least 1 and at least ``declared`` (the length of the SDTM
    variable a carried one copies)."""
    if vtype != "Char":
        return 8
    uniques = pd.unique(col) if is_arrow_text(col) else pd.unique(col.to_numpy(dtype=object))
    longest = max((len(str(u).rstrip(" ").encode("utf-8")) for u in uniques), default=0)
    return max(longest, declared or 0, 1)


def key_sample(rows: pd.DataFrame, variables: list[AdamVariable]) -> list[dict[str, Any]]:
    """Key values of ``rows`` as a reader knows them: dates (a ``DATE``/``E8601DA``
    format) as ISO 8601 dates, datetimes as ISO 8601 datetimes, whole numbers without
    ``.0``, missing numbers as null."""
    formats = {v.name: (v.format or "").upper() for v in variables}
    out: list[dict[str, Any]] = []
    for record in rows.to_dict("records"):
        out.append({str(k): _key_text(v, formats.get(str(k), "")) for k, v in record.items()})
    return out


def _key_text(value: Any, fmt: str) -> Any:
    if not isinstance(value, float | np.floating):
        return value
    if np.isnan(value):
        return None
    if fmt.startswith(("DATETIME", "E8601DT")):
        return str(np.datetime64("1960-01-01T00:00:00") + np.timedelta64(int(value), "s"))
    if fmt.startswith(("DATE", "E8601DA", "YYMMDD")):
        return str(np.datetime64("1960-01-01") + np.timedelta64(int(value), "D"))
    return int(value) if float(value).is_integer() else float(value)
