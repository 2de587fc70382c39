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
* Sections 3.1.2 and 3.1.3 (``*DTM``, ``*DTF``, ``*TMF``): a numeric datetime from a
  ``--DTC`` with a time; the time imputation flag ``*TMF`` "H" (hour, minute and second
  imputed), "M" (minute and second) or "S" (second), null when the time was complete
  (codelist TIMEFL, C81226).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper import iso8601
from cdisc_mapper.derive.dates import parse_dtc
from cdisc_mapper.errors import DateParseError

__all__ = [
    "SAS_EPOCH",
    "datetime_date",
    "datetime_time",
    "derive_analysis_day",
    "derive_imputed_date",
    "derive_imputed_datetime",
    "derive_months",
    "derive_numeric_date",
    "sas_date_to_iso",
]

SAS_EPOCH = iso8601.SAS_EPOCH
ImputeChoice = Literal["first", "mid", "last"]
TimeChoice = Literal["first", "last"]
SECONDS_PER_DAY = 86400.0
FloatArray = npt.NDArray[np.float64]


def _check_index(what: str, *series: pd.Series) -> None:
    first = series[0].index
    for s in series[1:]:
        if not s.index.equals(first):
            raise ValueError(f"{what}: arguments have different indexes")


def derive_numeric_date(dtc: pd.Series) -> pd.Series:
    """``*DT`` from ``--DTC`` (ADaMIG v1.3 section 3.1.2): the date part of a complete
    ISO 8601 date as a SAS date number; NaN for partial or missing dates (no imputation).

    The date is :func:`cdisc_mapper.iso8601.to_sas_date` of the value.

    Raises:
        DateParseError: a value is not right-truncated ISO 8601 text
            (:func:`cdisc_mapper.derive.dates.parse_dtc`).
    """
    parsed = parse_dtc(dtc)
    return pd.Series(parsed.rows(parsed.sas_dates), index=dtc.index, name=dtc.name)


def _parse_partial(dtc: pd.Series) -> iso8601.Parsed:
    """Stripped ``--DTC`` values read as ISO 8601 dates, at most to the day.

    Raises DateParseError for values that are not ``YYYY[-MM[-DD]]`` (with any valid
    time), listing the first 10 distinct offenders.
    """
    parsed = iso8601.parse(dtc).map_text(str.strip)
    shaped = parsed.shaped & ~parsed.hyphen & (parsed.year >= 0)
    bad = ~shaped & (parsed.text != "")
    if bad.any():
        shown = ", ".join(repr(u) for u in parsed.text[bad][:10])
        raise DateParseError(f"not an ISO 8601 date (YYYY[-MM[-DD]]): {shown}")
    bad_date = shaped & (parsed.problem != "")
    if bad_date.any():
        shown = ", ".join(
            f"{u!r} ({why})"
            for u, why in zip(
                parsed.text[bad_date][:10], parsed.problem[bad_date][:10], strict=True
            )
        )
        raise DateParseError(f"no such date: {shown}")
    return parsed


def _impute(
    parsed: iso8601.Parsed, day: ImputeChoice, month: ImputeChoice
) -> tuple[FloatArray, npt.NDArray[np.object_]]:
    """Per distinct value: the imputed SAS date and its ``*DTF`` flag."""
    has_y = parsed.year >= 0
    has_m = has_y & (parsed.month >= 0)
    has_d = has_m & (parsed.day >= 0)
    year = np.where(has_y, parsed.year, 2000)
    month_no = np.where(has_m, parsed.month, 1)
    last_dom = iso8601.days_in_month(year, month_no)
    days = {"first": np.ones_like(last_dom), "mid": np.minimum(15, last_dom), "last": last_dom}
    day_pick = days[day]
    month_pick = {"first": (1, 1), "mid": (7, 1), "last": (12, 31)}[month]
    imp_m = np.where(has_m, month_no, month_pick[0])
    imp_d = np.where(has_d, parsed.day, np.where(has_m, day_pick, month_pick[1]))
    value = np.where(has_y, iso8601.sas_date(year, imp_m, imp_d), np.nan)
    flag = np.where(has_d | ~has_y, "", np.where(has_m, "D", "M")).astype(object)
    return value, flag


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
      the range the partial date allows (:func:`cdisc_mapper.iso8601.bounds`) and after the
      imputed date, it replaces it (an event in the month of first treatment is not moved
      before treatment);
    * ``not_after``: likewise, per-row dates that cap the imputed date when they lie in the
      allowed range (e.g. end of study, death).

    Values are read by :mod:`cdisc_mapper.iso8601` after stripping surrounding blanks: a
    right-truncated date with or without a time (SDTMIG 3.4 section 4.4.2; the time is
    not used).

    Returns:
        ``(date, flag)`` on the index of ``dtc``: float SAS dates and ``"D"``/``"M"``/``""``.

    Raises:
        DateParseError: a value is not right-truncated ISO 8601 text, or names no real
            date or time (``2016-02-30``, ``2016-13``).
    """
    _check_index("derive_imputed_date", dtc, *not_before, *not_after)
    parsed = _parse_partial(dtc)
    value, flag = _impute(parsed, day, month)
    # the range the partial date allows
    lo, hi = parsed.day_bounds
    out = parsed.rows(value)
    row_lo = parsed.rows(lo)
    row_hi = parsed.rows(hi)
    imputed = parsed.rows(flag != "")
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
    return (
        pd.Series(out, index=dtc.index, name=dtc.name),
        pd.Series(parsed.rows(flag), index=dtc.index, dtype=object, name=dtc.name),
    )


def _replace_within(
    out: FloatArray,
    imputed: npt.NDArray[np.bool_],
    bounds: tuple[FloatArray, FloatArray],
    refs: Sequence[pd.Series],
    later: bool,
) -> FloatArray:
    """``out`` with each imputed value replaced by a reference inside the range the partial
    value allows (``bounds``) when the reference is later (``later``) or earlier than it."""
    lo, hi = bounds
    for ref in refs:
        r = pd.to_numeric(ref, errors="coerce").to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            beyond = r > out if later else r < out
            use = imputed & (r >= lo) & (r <= hi) & beyond
        out = np.where(use, r, out)
    return out


def _time_flag(parsed: iso8601.Parsed, ignore_seconds: bool) -> npt.NDArray[np.object_]:
    """Per distinct value: ``*TMF`` of its time: "H" no hour, "M" no minute, "S" no second
    (null when ``ignore_seconds``), null when the seconds are given."""
    has_h = (parsed.day >= 0) & (parsed.hour >= 0)
    has_min = has_h & (parsed.minute >= 0)
    has_s = has_min & ~np.isnan(parsed.second)
    seconds = "" if ignore_seconds else "S"
    return np.select([has_s, has_min, has_h], ["", seconds, "M"], "H").astype(object)


def derive_imputed_datetime(
    dtc: pd.Series,
    *,
    time: TimeChoice | None,
    day: ImputeChoice | None = None,
    month: ImputeChoice | None = None,
    not_before: Sequence[pd.Series] = (),
    not_after: Sequence[pd.Series] = (),
    ignore_seconds: bool = False,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """A numeric datetime ``*DTM`` (SAS seconds since 1960-01-01 00:00:00) from ISO 8601
    text with the missing parts imputed, its date imputation flag ``*DTF`` and its time
    imputation flag ``*TMF`` (ADaMIG v1.3 sections 3.1.2 and 3.1.3).

    What may be imputed is the highest part given (admiral ``highest_imputation``):
    ``time`` alone imputes a missing hour, minute or second of a complete date (``first``
    00:00:00 / :00, ``last`` 23:59:59 / :59); ``day`` also a missing day and ``month`` also
    a missing month, as :func:`derive_imputed_date` does. A value missing more than may be
    imputed, or its year, gives null (and null flags). ``*DTF`` is "D" or "M" as for
    ``*DT``; ``*TMF`` is "H" when the hour was imputed (always so when the date was), "M"
    the minute, "S" the second (null with ``ignore_seconds``: seconds not collected), null
    when the time was complete. A fraction of a second is dropped.

    ``not_before`` / ``not_after``: per-row datetimes (seconds) that replace an imputed
    value they follow / precede when they lie in the range the partial value allows (an
    event in the minute, day or month of first dose is not moved before the dose).

    Raises:
        ValueError: ``month`` without ``day``, or ``day`` without ``time``.
        DateParseError: a value is not right-truncated ISO 8601 text or names no real date.
    """
    if (month and not day) or (day and not time):
        raise ValueError("imputing a month needs day imputation; a day needs time imputation")
    _check_index("derive_imputed_datetime", dtc, *not_before, *not_after)
    parsed = _parse_partial(dtc)
    days, dtf = _impute(parsed, day or "first", month or "first")
    has_m = (parsed.year >= 0) & (parsed.month >= 0)
    has_d = has_m & (parsed.day >= 0)
    has_s = has_d & (parsed.hour >= 0) & (parsed.minute >= 0) & ~np.isnan(parsed.second)
    date_ok = has_d | (has_m & bool(day)) | ((parsed.year >= 0) & bool(month))
    ok = date_ok & (has_s | bool(time))
    fill = (0, 0, 0.0) if time != "last" else (23, 59, 59.0)
    clock = (
        np.where(parsed.hour >= 0, parsed.hour, fill[0]) * 3600.0
        + np.where(parsed.minute >= 0, parsed.minute, fill[1]) * 60.0
        + np.where(np.isnan(parsed.second), fill[2], np.floor(parsed.second))
    )
    value = np.where(ok, days * SECONDS_PER_DAY + clock, np.nan)
    dtf = np.where(ok, dtf, "").astype(object)
    tmf = np.where(ok, _time_flag(parsed, ignore_seconds), "").astype(object)
    imputed = parsed.rows((dtf != "") | ~has_s)
    out = parsed.rows(value)
    bounds = (parsed.rows(parsed.bounds[0]), parsed.rows(parsed.bounds[1]))
    out = _replace_within(out, imputed, bounds, not_before, later=True)
    out = _replace_within(out, imputed, bounds, not_after, later=False)

    def series(values: np.ndarray, dtype: str | None = None) -> pd.Series:
        return pd.Series(values, index=dtc.index, dtype=dtype, name=dtc.name)

    return series(out), series(parsed.rows(dtf), "object"), series(parsed.rows(tmf), "object")


def datetime_date(seconds: pd.Series) -> pd.Series:
    """The date part (SAS date) of SAS datetimes: ``floor(seconds / 86400)``; NaN stays
    NaN (admiral ``derive_vars_dtm_to_dt``; ADaMIG v1.3 section 3.1.2 ``*DT`` of ``*DTM``)."""
    days = np.floor(seconds.to_numpy(dtype="float64") / SECONDS_PER_DAY)
    return pd.Series(days, index=seconds.index, name=seconds.name)


def datetime_time(seconds: pd.Series) -> pd.Series:
    """The time part (seconds into the day, SAS time) of SAS datetimes (admiral
    ``derive_vars_dtm_to_tm``; ADaMIG v1.3 section 3.1.2 ``*TM``)."""
    return seconds.astype("float64") % SECONDS_PER_DAY


def derive_analysis_day(date: pd.Series, reference: pd.Series) -> pd.Series:
    """ADY (ADaMIG v1.3 section 3.3.3): ``date - reference + 1`` on or after the reference
    date, ``date - reference`` before it (no day 0); NaN when either is missing."""
    _check_index("derive_analysis_day", date, reference)
    days = iso8601.study_day(date.to_numpy(dtype="float64"), reference.to_numpy(dtype="float64"))
    return pd.Series(days, index=date.index)


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
    """``YYYY-MM-DD`` text of SAS date numbers (``""`` for missing), for reports
    (:func:`cdisc_mapper.iso8601.from_sas_date`)."""
    return iso8601.from_sas_date(days)
