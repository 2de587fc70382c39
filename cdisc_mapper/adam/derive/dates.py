"""Numeric analysis dates, imputed partial dates, analysis days and months.

Dates are SAS date numbers (days since 1960-01-01) held as ``float64`` with NaN for
missing, exactly what is written to XPT with the ``DATE9.`` format.

Rules implemented (ADaMIG v1.3):

* Section 3.1.2, Timing Variable Conventions: numeric dates ``*DT`` derived from ISO 8601
  ``--DTC``; a date imputation flag ``*DTF`` "Y" (year imputed), "M" (month and day
  imputed) or "D" (day imputed) when a date was imputed (codelist DATEFL, C81223);
  "if the date is not imputed, *DTF is null".
* Section 3.3.3, Timing Variables for BDS Datasets, ADY: "ADY = ADT - reference date + 1 if
  ADT is on or after the reference date, else ADT - reference date" (no day 0, as SDTM
  --DY).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from cdisc_mapper.derive import dtc_to_date
from cdisc_mapper.errors import DateParseError

__all__ = [
    "SAS_EPOCH",
    "derive_analysis_day",
    "derive_imputed_date",
    "derive_months",
    "derive_numeric_date",
    "sas_date_to_iso",
]

SAS_EPOCH = np.datetime64("1960-01-01", "D")
ImputeChoice = Literal["first", "mid", "last"]

_DTC = r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?(?:T.*)?$"


def _check_index(what: str, *series: pd.Series) -> None:
    first = series[0].index
    for s in series[1:]:
        if not s.index.equals(first):
            raise ValueError(f"{what}: arguments have different indexes")


def derive_numeric_date(dtc: pd.Series) -> pd.Series:
    """``*DT`` from ``--DTC`` (ADaMIG v1.3 section 3.1.2): the date part of a complete
    ISO 8601 date as a SAS date number; NaN for partial or missing dates (no imputation).

    Raises:
        DateParseError: a value is not right-truncated ISO 8601 text.
    """
    d = dtc_to_date(dtc.fillna("").astype(str))
    days = (d.to_numpy(dtype="datetime64[D]") - SAS_EPOCH).astype("float64")
    days[np.isnat(d.to_numpy())] = np.nan
    return pd.Series(days, index=dtc.index, name=dtc.name)


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """SAS date numbers of integer year/month/day arrays (all valid)."""
    text = np.char.add(
        np.char.add(np.char.zfill(y.astype(str), 4), "-"),
        np.char.add(
            np.char.add(np.char.zfill(m.astype(str), 2), "-"), np.char.zfill(d.astype(str), 2)
        ),
    )
    return (text.astype("datetime64[D]") - SAS_EPOCH).astype("float64")


def derive_imputed_date(
    dtc: pd.Series,
    *,
    day: ImputeChoice,
    month: ImputeChoice,
    not_before: Sequence[pd.Series] = (),
    not_after: Sequence[pd.Series] = (),
) -> tuple[pd.Series, pd.Series]:
    """A numeric date with partial dates imputed, and its imputation flag ``*DTF``.

    ADaMIG v1.3 section 3.1.2 (Timing Variable Conventions, ``*DTF``): the flag is "D" when
    only the day was imputed, "M" when month and day were imputed, null when the date was
    complete; a missing year is not imputed (date NaN, flag null).

    Imputation of the missing parts (the rule is the caller's, stated in the spec):

    * ``day``: ``first`` = 1, ``mid`` = 15, ``last`` = last day of the month;
    * ``month`` (day then imputed as the first/mid-year/last day): ``first`` = 1 January,
      ``mid`` = 1 July, ``last`` = 31 December;
    * ``not_before``: per-row dates (e.g. the first treatment date); when such a date lies in
      the range the partial date allows and after the imputed date, it replaces it (an event
      in the month of first treatment is not moved before treatment);
    * ``not_after``: likewise, per-row dates that cap the imputed date when they lie in the
      allowed range (e.g. end of study, death).

    Returns:
        ``(date, flag)`` on the index of ``dtc``: float SAS dates and ``"D"``/``"M"``/``""``.

    Raises:
        DateParseError: a value is not right-truncated ISO 8601 text.
    """
    _check_index("derive_imputed_date", dtc, *not_before, *not_after)
    text = dtc.fillna("").astype(str).str.strip()
    codes, uniques = pd.factorize(text)
    parts = pd.Series(uniques, dtype=object).str.extract(_DTC)
    bad = parts["y"].isna().to_numpy() & (np.asarray(uniques, dtype=object) != "")
    if bad.any():
        shown = ", ".join(repr(u) for u in np.asarray(uniques, dtype=object)[bad][:10])
        raise DateParseError(f"not an ISO 8601 date (YYYY[-MM[-DD]]): {shown}")
    y = pd.to_numeric(parts["y"]).to_numpy(dtype="float64")
    m = pd.to_numeric(parts["m"]).to_numpy(dtype="float64")
    d = pd.to_numeric(parts["d"]).to_numpy(dtype="float64")
    has_y = ~np.isnan(y)
    has_m = has_y & ~np.isnan(m)
    has_d = has_m & ~np.isnan(d)
    yi = np.where(has_y, y, 2000).astype(int)
    mi = np.where(has_m, m, 1).astype(int)
    last_dom = np.array([calendar.monthrange(a, b)[1] for a, b in zip(yi, mi, strict=True)])
    di = np.where(has_d, d, 1).astype(int)
    bad_date = has_d & ((mi < 1) | (mi > 12) | (di < 1) | (di > last_dom))
    if bad_date.any():
        shown = ", ".join(repr(u) for u in np.asarray(uniques, dtype=object)[bad_date][:10])
        raise DateParseError(f"no such date: {shown}")

    # the range the partial date allows
    lo_m = np.where(has_m, mi, 1)
    hi_m = np.where(has_m, mi, 12)
    lo_d = np.where(has_d, di, 1)
    hi_d = np.where(
        has_d, di, [calendar.monthrange(a, b)[1] for a, b in zip(yi, hi_m, strict=True)]
    )
    lo = np.where(has_y, _days(yi, lo_m, lo_d), np.nan)
    hi = np.where(has_y, _days(yi, hi_m, hi_d), np.nan)
    # the imputed date
    day_pick = {"first": lo_d, "mid": np.minimum(15, hi_d), "last": hi_d}[day]
    month_pick = {"first": (1, 1), "mid": (7, 1), "last": (12, 31)}[month]
    imp_m = np.where(has_m, mi, month_pick[0])
    imp_d = np.where(has_d, di, np.where(has_m, day_pick, month_pick[1]))
    value = np.where(has_y, _days(yi, imp_m, imp_d), np.nan)
    flag = np.where(has_d | ~has_y, "", np.where(has_m, "D", "M")).astype(object)

    n = len(uniques)
    take = np.where(codes < 0, n, codes)
    out = np.append(value, np.nan)[take]
    row_lo = np.append(lo, np.nan)[take]
    row_hi = np.append(hi, np.nan)[take]
    imputed = np.append(flag != "", False)[take]
    for ref in not_before:
        r = pd.to_numeric(ref, errors="coerce").to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            use = imputed & (r >= row_lo) & (r <= row_hi) & (r > out)
        out = np.where(use, r, out)
    for ref in not_after:
        r = pd.to_numeric(ref, errors="coerce").to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            use = imputed & (r >= row_lo) & (r <= row_hi) & (r < out)
        out = np.where(use, r, out)
    flags = np.append(flag, "")[take]
    return (
        pd.Series(out, index=dtc.index, name=dtc.name),
        pd.Series(flags, index=dtc.index, dtype=object, name=dtc.name),
    )


def derive_analysis_day(date: pd.Series, reference: pd.Series) -> pd.Series:
    """ADY (ADaMIG v1.3 section 3.3.3): ``date - reference + 1`` on or after the reference
    date, ``date - reference`` before it (no day 0); NaN when either is missing."""
    _check_index("derive_analysis_day", date, reference)
    diff = date.to_numpy(dtype="float64") - reference.to_numpy(dtype="float64")
    return pd.Series(np.where(diff >= 0, diff + 1, diff), index=date.index)


def derive_months(start: pd.Series, end: pd.Series, month_days: float) -> pd.Series:
    """Months from ``start`` to ``end`` (SAS dates): ``(end - start) / month_days``.

    ADaMIG v1.3 section 3.1.2 leaves the unit conversion to the producer; the spec states
    ``month_days`` (e.g. 30.4375 = 365.25 / 12) and define.xml repeats it.
    """
    _check_index("derive_months", start, end)
    if month_days <= 0:
        raise ValueError("month_days must be positive")
    return (end.astype("float64") - start.astype("float64")) / month_days


def sas_date_to_iso(days: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` text of SAS date numbers (``""`` for missing), for reports."""
    arr = days.to_numpy(dtype="float64")
    ok = ~np.isnan(arr)
    out = np.full(len(arr), "", dtype=object)
    out[ok] = (SAS_EPOCH + arr[ok].astype("int64")).astype(str)
    return pd.Series(out, index=days.index)
