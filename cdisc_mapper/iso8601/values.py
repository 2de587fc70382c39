"""Vectorised ISO 8601 functions over pandas Series: one result per row, computed once per
distinct value. The rules are SDTMIG 3.4 section 4.4 (see the package docstring)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper.iso8601._text import is_duration_text
from cdisc_mapper.iso8601.parsed import FloatArray, IntArray, Parsed, TextArray

__all__ = [
    "DAY",
    "HOUR",
    "MINUTE",
    "MONTH",
    "SECOND",
    "YEAR",
    "bounds",
    "compare",
    "duration_problems",
    "parse",
    "precision",
    "problems",
    "study_day",
    "to_sas_date",
]

# precision() of a value given to the year, month, ..., second (e.g. 2016-08 -> MONTH)
YEAR, MONTH, DAY, HOUR, MINUTE, SECOND = 4, 7, 10, 13, 16, 19

_NOT_DURATION = "not an ISO 8601 duration (e.g. P1Y2M, PT30M, P2W)"


def parse(values: pd.Series) -> Parsed:
    """The values read once per distinct value, with their components (:class:`Parsed`).

    Use it when several results are needed from the same Series; each function below
    parses on its own.
    """
    return Parsed(values)


def problems(values: pd.Series) -> TextArray:
    """Per row: ``""`` when the value is a valid ISO 8601 date/time or interval, or blank;
    else why it is not (e.g. ``"month 13 out of range"``).

    Valid values (SDTMIG 3.4 section 4.4.1-4.4.3, ISO 8601 extended format): a complete
    or right-truncated date/time ``YYYY[-MM[-DD[Thh[:mm[:ss[.f]]]]]]`` with an optional
    time zone (``Z``, ``+hh:mm``); missing middle components written as a hyphen
    (section 4.4.2: ``2003---15``, ``--12-15``, ``2003-12-15T-:15``) but no trailing
    hyphen; a real calendar date (proleptic Gregorian, years 0001-9999), hour 00-23,
    minute and second 00-59; or an interval ``start/end`` whose sides are such values or
    durations (section 4.4.3). Blank (``""``, None, NaN) is valid: "If the date and time
    values are completely missing, the SDTM date field should be null" (section 4.4.2).
    Whitespace is not blank and is not ISO 8601.
    """
    parsed = Parsed(values)
    return parsed.rows(parsed.problem)


def duration_problems(values: pd.Series) -> TextArray:
    """Per row: ``""`` when blank or an ISO 8601 duration, else why not.

    SDTMIG 3.4 section 4.4.3: durations are ``PnYnMnDTnHnMnS`` or ``PnW`` (``P1Y2M``,
    ``PT30M``, ``P2W``), optionally negative (``-P1D``), the last number with a ``.`` or
    ``,`` fraction.
    """
    parsed = Parsed(values)
    per = np.array(
        ["" if t == "" or is_duration_text(t) else _NOT_DURATION for t in parsed.text],
        dtype=object,
    )
    return parsed.rows(per)


def precision(values: pd.Series) -> IntArray:
    """Per row: the length of the value's leading right-truncated part; 0 when none.

    SDTMIG 3.4 section 4.4.2: "the precision of the date/time value can be inferred from
    the presence or absence of components". The length is :data:`YEAR` (4, ``2016``),
    :data:`MONTH` (7), :data:`DAY` (10), :data:`HOUR` (13), :data:`MINUTE` (16),
    :data:`SECOND` (19) or more (fractions of a second). Only the part before the first
    missing-component hyphen counts (``2003---15`` -> 4), and the part is read even when
    the rest of the value is not ISO 8601 (``2016-08-04T25:00`` -> 16). Two values
    compare correctly as text over their common precision (see :func:`compare`).
    """
    parsed = Parsed(values)
    return parsed.rows(parsed.precision)


def bounds(values: pd.Series) -> tuple[FloatArray, FloatArray]:
    """Per row: the earliest and the latest instant the value can stand for, as SAS
    datetimes (float seconds since 1960-01-01T00:00:00); NaN for blank or invalid values.

    SDTMIG 3.4 section 4.4.2: a right-truncated value stands for every instant of the
    period it names, and a missing component written as a hyphen for every value of that
    component. So ``2020`` -> [2020-01-01T00:00:00, 2020-12-31T23:59:59], ``2020-02`` ->
    [2020-02-01T00:00:00, 2020-02-29T23:59:59], ``2020-03-15`` -> [00:00:00, 23:59:59] of
    that day, ``2020-03-15T10:30`` -> [10:30:00, 10:30:59], ``2020-03-15T10:30:15`` ->
    [10:30:15, 10:30:15]; ``2020---15`` -> [2020-01-15T00:00:00, 2020-12-15T23:59:59] (the
    earliest and latest of the 12 days it may be). Instants are whole seconds: a fraction
    of a second is dropped. A time zone is ignored (the clock time as written, as SDTM
    values without a zone are compared). NaN also for values without a year (``--12-15``),
    which have no bounds, and for intervals (``2016-08-04/2016-08-10``).
    """
    parsed = Parsed(values)
    lo, hi = parsed.bounds
    return parsed.rows(lo), parsed.rows(hi)


def to_sas_date(values: pd.Series, *, date_portion: bool = False) -> FloatArray:
    """Per row: the SAS date number (days since 1960-01-01) of a value with a complete
    date (``YYYY-MM-DD``, with or without a time); NaN for partial, blank or invalid values.

    SDTMIG 3.4 section 4.4.4 uses "the date portion of --DTC"; ADaMIG v1.3 section 3.1.2
    derives numeric dates ``*DT`` from complete ``--DTC`` dates only (nothing is imputed
    here). With ``date_portion=True`` only the first 10 characters are read, so a value
    whose time part is invalid (``2016-08-04T25:00``) still gives its day: the validator
    reports the invalid value itself and still checks the study day of its date.
    """
    parsed = Parsed(values)
    if date_portion:
        parsed = parsed.map_text(_date_portion)
    return parsed.rows(parsed.sas_dates)


def study_day(date: npt.ArrayLike, reference: npt.ArrayLike) -> FloatArray:
    """Study day of SAS dates relative to reference SAS dates; NaN when either is missing.

    SDTMIG 3.4 section 4.4.4: "--DY = (date portion of --DTC) - (date portion of RFSTDTC)
    + 1 if --DTC is on or after RFSTDTC", "(date portion of --DTC) - (date portion of
    RFSTDTC) if --DTC precedes RFSTDTC"; "there is no study day 0". ADaMIG v1.3 section
    3.3.3 defines ADY the same way from ADT and the reference date.
    """
    diff = np.asarray(date, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    return np.where(diff >= 0, diff + 1, diff)


def compare(a: pd.Series, b: pd.Series) -> FloatArray:
    """Per row (by position): -1, 0 or 1 as ``a`` is before, at or after ``b`` at their
    common precision; NaN when either has no year.

    SDTMIG 3.4 section 4.4.2: a truncated value is known only to its precision, so
    ``2016-08`` and ``2016-08-04`` compare equal (0), as do ``2016-08-04`` and
    ``2016-08-04T10:00``. The values are compared as text over their common
    :func:`precision`, which orders ISO 8601 extended-format values correctly.
    """
    left, right = Parsed(a), Parsed(b)
    common = np.minimum(left.rows(left.precision), right.rows(right.precision))
    out = np.full(len(common), np.nan)
    for width in np.unique(common):
        if width < YEAR:
            continue
        rows = np.flatnonzero(common == width)
        x = _cut(left, int(width))[left.codes[rows]]
        y = _cut(right, int(width))[right.codes[rows]]
        out[rows] = np.where(x < y, -1.0, np.where(x > y, 1.0, 0.0))
    return out


def _date_portion(text: str) -> str:
    return text[:DAY]


def _cut(parsed: Parsed, width: int) -> TextArray:
    """The distinct values cut to their first ``width`` characters."""
    out = np.empty(len(parsed.text), dtype=object)
    out[:] = [t[:width] for t in parsed.text]
    return out
