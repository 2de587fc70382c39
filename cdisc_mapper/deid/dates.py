"""Dates moved by a number of days, keeping every study day (--DY, ADY, ASTDY) as it was.

A study day is the difference of two dates of one subject (SDTMIG 3.4 section 4.4.4), so
moving every date of a subject by the same number of days keeps it. Rules by precision
(SDTMIG 3.4 section 4.4.2, right truncation):

* a complete date (``2016-08-04``, with or without a time) moves by the offset; the time
  of day is kept (the offset is whole days);
* a year and month (``2016-08``) or a year alone (``2016``) stands for an interval of
  days; it becomes the month (year) holding the moved first day of that interval, or,
  for an end date (``--ENDTC`` and the end of an interval), the moved last day. So a
  record's start never moves after its end: a complete start date inside the month of a
  partial end date stays inside (or before) the moved month, as the order checks
  (P21 SD0013-style, our TM0004) need. With the default offsets of one to three years
  back, a year-only date moves by one to four years. What a coarser value cannot keep is
  the text order against a complete date of a later year: ``2018-03-29`` and ``2019``,
  moved 759 days back, become ``2016-02-29`` and ``2016`` (equal at year precision), so a
  SAS sort by the date puts the year first (at most a note, SD0114);
* an interval ``start/end`` moves each side (the end side as an end date); a duration
  does not move;
* anything else (a value moved outside the years 1 to 9999, a value with a missing
  middle component such as ``2003---15``, or not ISO 8601) cannot be moved faithfully
  and is removed, and counted as such.

ADaM numeric dates (SAS day numbers, ``ADT``) move by the offset, date-times
(``ADTM``, SAS seconds) by the offset times 86,400 seconds; times of day (``ATM``) stay.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pandas as pd

from cdisc_mapper.iso8601 import SECONDS_PER_DAY

_FULL = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})((?:T.*)?)$")
_YEAR_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_YEAR = re.compile(r"^([0-9]{4})$")
_DURATION = re.compile(r"^-?P")


def _moved(first: date, last: date, days: int, end: bool) -> date:
    return (last if end else first) + timedelta(days=days)


def shift_text(value: str, days: int, *, end: bool = False) -> str | None:
    """``value`` moved by ``days`` (see the module rules; ``end``: an end date); None
    when it cannot be."""
    if "/" in value:
        sides = value.split("/")
        if len(sides) != 2:
            return None
        moved = [
            s if _DURATION.match(s) else shift_text(s, days, end=i == 1)
            for i, s in enumerate(sides)
        ]
        if any(m is None for m in moved):
            return None
        return f"{moved[0]}/{moved[1]}"
    if _DURATION.match(value):
        return value
    full = _FULL.match(value)
    if full:
        try:
            day = date(int(full[1]), int(full[2]), int(full[3])) + timedelta(days=days)
        except (ValueError, OverflowError):  # no such day, or beyond year 9999
            return None
        return day.isoformat() + full[4]
    try:
        return _shift_partial(value, days, end)
    except (ValueError, OverflowError):
        return None


def _shift_partial(value: str, days: int, end: bool) -> str | None:
    year_month = _YEAR_MONTH.match(value)
    if year_month:
        y, m = int(year_month[1]), int(year_month[2])
        last = date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)
        moved = _moved(date(y, m, 1), last, days, end)
        return f"{moved.year:04d}-{moved.month:02d}"
    year = _YEAR.match(value)
    if year:
        y = int(year[1])
        return f"{_moved(date(y, 1, 1), date(y, 12, 31), days, end).year:04d}"
    return None


def shift_dtc(values: pd.Series, days: np.ndarray, *, end: bool = False) -> tuple[pd.Series, int]:
    """Each text value moved by its row's ``days`` (``end``: end dates); blanks stay
    blank. Returns the new values and how many could not be moved (removed)."""
    out: list[str] = []
    lost = 0
    for value, offset in zip(values.fillna("").astype(str), days, strict=True):
        if value.strip() == "":
            out.append(value)
            continue
        moved = shift_text(value.strip(), int(offset), end=end)
        if moved is None:
            lost += 1
            moved = ""
        out.append(moved)
    return pd.Series(out, index=values.index, dtype=object), lost


def shift_numeric(values: pd.Series, days: np.ndarray, *, seconds: bool) -> pd.Series:
    """SAS dates (days) or date-times (``seconds``) moved by ``days``; missing stay missing."""
    step = days.astype(float) * (SECONDS_PER_DAY if seconds else 1.0)
    return values.astype(float) + step
