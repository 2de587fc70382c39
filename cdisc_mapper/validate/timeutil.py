"""Vectorised ISO 8601 helpers for SDTM ``--DTC``/``--DUR`` values (SDTMIG v3.4 §4.4).

Work is done once per distinct value (dates repeat a lot), then mapped back to records.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# SDTMIG v3.4 §4.4.2-4.4.4: complete or truncated values, and missing components shown
# by a hyphen ("2003---15", "--12-15", "-----T07:15", "2003-12-15T-:15").
_DTC = re.compile(
    r"^(?P<y>\d{4}|-)"
    r"(?:-(?P<m>\d{2}|-)"
    r"(?:-(?P<d>\d{2}|-)"
    r"(?:T(?P<h>\d{2}|-)"
    r"(?::(?P<mi>\d{2}|-)"
    r"(?::(?P<s>\d{2}(?:\.\d+)?))?)?"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$"
)
_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"^-?P(?:(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}D)?(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
    rf"|{_NUM}W)$"
)
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_EPOCH = np.datetime64("1960-01-01", "D")
_SIMPLE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?)?)?")


def _unique(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes per record and the distinct values (missing as ``""``)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = series.cat.categories.to_numpy(dtype=object)
        codes = series.cat.codes.to_numpy().astype(np.int64)
        if (codes < 0).any():
            categories = np.append(categories, "")
            codes = np.where(codes < 0, len(categories) - 1, codes)
        return codes, pd.Index(categories, dtype=object)
    codes, uniques = pd.factorize(series.astype(object).where(series.notna(), ""), sort=False)
    return codes, pd.Index(uniques, dtype=object)


def _dtc_problem_one(text: str) -> str:
    """'' when ``text`` is a valid SDTM ISO 8601 date/time (or interval), else why not."""
    if text == "":
        return ""
    parts = text.split("/")
    if len(parts) > 2:
        return "not ISO 8601 (an interval has one '/', e.g. 2016-08-04/2016-08-10)"
    for part in parts:
        if len(parts) == 2 and _DURATION.match(part):
            continue
        problem = _one_dtc(part)
        if problem:
            return problem
    return ""


def _one_dtc(text: str) -> str:
    match = _DTC.match(text)
    if match is None:
        return "not ISO 8601 (expected e.g. 2016-08-04, 2016-08, 2016-08-04T13:45)"
    y, m, d, h, mi, s = (match[k] for k in ("y", "m", "d", "h", "mi", "s"))
    if m not in (None, "-") and not 1 <= int(m) <= 12:
        return f"month {m} out of range"
    if d not in (None, "-"):
        if not 1 <= int(d) <= 31:
            return f"day {d} out of range"
        if y != "-" and m not in (None, "-"):
            try:
                pd.Timestamp(year=int(y), month=int(m), day=int(d))
            except ValueError:
                return f"{y}-{m}-{d} is not a calendar date"
    if h not in (None, "-") and not 0 <= int(h) <= 23:
        return f"hour {h} out of range"
    if mi not in (None, "-") and not 0 <= int(mi) <= 59:
        return f"minute {mi} out of range"
    if s is not None and not 0 <= float(s) < 60:
        return f"second {s} out of range"
    if text.endswith("-") and len(text) > 1:
        return "ends with a missing component (drop trailing missing parts)"
    return ""


def dtc_problems(series: pd.Series) -> np.ndarray:
    """Per record: ``""`` when valid or blank, else the reason it is not ISO 8601."""
    codes, uniques = _unique(series)
    reasons = np.array([_dtc_problem_one(str(u)) for u in uniques], dtype=object)
    return reasons[codes] if len(codes) else np.array([], dtype=object)


def duration_invalid(series: pd.Series) -> np.ndarray:
    """Per record: True when a non-blank value is not an ISO 8601 duration."""
    codes, uniques = _unique(series)
    bad = np.array([u != "" and _DURATION.match(str(u)) is None for u in uniques], dtype=bool)
    return bad[codes] if len(codes) else np.zeros(0, dtype=bool)


def day_number(series: pd.Series) -> np.ndarray:
    """Days since 1960-01-01 of values with a complete date (``YYYY-MM-DD...``), else NaN."""
    codes, uniques = _unique(series)
    out = np.full(len(uniques), np.nan)
    texts = pd.Series(uniques, dtype=object).astype(str)
    full = texts.str.match(_FULL_DATE).to_numpy(dtype=bool)
    if full.any():
        dates = pd.to_datetime(texts[full].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        days = (dates.to_numpy(dtype="datetime64[D]") - _EPOCH).astype("float64")
        days[pd.isna(dates).to_numpy()] = np.nan
        out[full] = days
    return out[codes] if len(codes) else np.zeros(0)


def precision(series: pd.Series) -> np.ndarray:
    """Per record: the length of the value's leading complete part (``2016-08`` -> 7).

    Only prefixes without missing-component hyphens count; 0 when there is none. Values
    compare correctly as text over their common precision.
    """
    codes, uniques = _unique(series)
    lengths = np.zeros(len(uniques), dtype=np.int64)
    for i, u in enumerate(uniques):
        match = _SIMPLE.match(str(u))
        lengths[i] = match.end() if match else 0
    return lengths[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def compare_dtc(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Compare ISO 8601 values at their common precision: -1, 0, 1, or NaN if unknown.

    ``2016-08-04`` vs ``2016-08-04T10:00`` compares equal (same day); blank or
    non-comparable values give NaN.
    """
    pa, pb = precision(a), precision(b)
    common = np.minimum(pa, pb)
    # Align time parts: compare at 4 (Y), 7 (YM), 10 (date), 13 (hour), 16 (minute) or more.
    out = np.full(len(a), np.nan)
    for width in np.unique(common):
        if width < 4:
            continue
        rows = np.flatnonzero(common == width)
        left = _prefix(a, rows, int(width))
        right = _prefix(b, rows, int(width))
        out[rows] = np.where(left < right, -1.0, np.where(left > right, 1.0, 0.0))
    return out


def _prefix(series: pd.Series, rows: np.ndarray, width: int) -> np.ndarray:
    """The first ``width`` characters of the values at ``rows`` (via distinct values)."""
    codes, uniques = _unique(series)
    cut = np.array([str(u)[:width] for u in uniques], dtype=object)
    return cut[codes[rows]]
