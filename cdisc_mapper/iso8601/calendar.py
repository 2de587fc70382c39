"""Calendar arithmetic on arrays: SAS date numbers of year/month/day, days in a month.

SAS date numbers count days from 1960-01-01 (day 0), SAS datetimes seconds from
1960-01-01T00:00:00; both are what the XPT writer stores with ``DATE9.`` and
``DATETIME20.``. The calendar is the proleptic Gregorian calendar of ISO 8601 (section
3.2.1), for every 4-digit year 0000-9999, so dates before 1677 or after 2262 (outside
pandas' nanosecond timestamps) are computed exactly too.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "SAS_EPOCH",
    "SECONDS_PER_DAY",
    "days_in_month",
    "from_sas_date",
    "is_leap_year",
    "sas_date",
]

SAS_EPOCH = np.datetime64("1960-01-01", "D")
SECONDS_PER_DAY = 86400
# days from 0000-03-01 (the start of the 400-year era used below) to 1960-01-01
_EPOCH_OFFSET = 715815
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)

IntArray = npt.NDArray[np.int64]


def is_leap_year(year: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Gregorian leap years: divisible by 4, except centuries not divisible by 400."""
    y = np.asarray(year, dtype=np.int64)
    return np.asarray((y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0)), dtype=bool)


def days_in_month(year: npt.ArrayLike, month: npt.ArrayLike) -> IntArray:
    """Days in each month (1-12) of each year."""
    m = np.asarray(month, dtype=np.int64)
    days = _MONTH_DAYS[np.clip(m, 1, 12) - 1]
    return np.asarray(days + ((m == 2) & is_leap_year(year)), dtype=np.int64)


def sas_date(year: npt.ArrayLike, month: npt.ArrayLike, day: npt.ArrayLike) -> IntArray:
    """SAS date numbers (days since 1960-01-01) of valid year/month/day arrays.

    The days-from-civil count of the proleptic Gregorian calendar, in 400-year eras of
    146,097 days starting on 1 March (so that the leap day ends a year).
    """
    m = np.asarray(month, dtype=np.int64)
    y = np.asarray(year, dtype=np.int64) - (m <= 2)
    era = np.floor_divide(y, 400)
    year_of_era = y - era * 400
    day_of_year = (153 * ((m + 9) % 12) + 2) // 5 + np.asarray(day, dtype=np.int64) - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return np.asarray(era * 146097 + day_of_era - _EPOCH_OFFSET, dtype=np.int64)


def from_sas_date(days: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` text of SAS date numbers (``""`` for missing); the fraction of a day
    is dropped (towards 1960-01-01)."""
    arr = days.to_numpy(dtype="float64")
    ok = ~np.isnan(arr)
    out = np.full(len(arr), "", dtype=object)
    out[ok] = (SAS_EPOCH + arr[ok].astype("int64")).astype(str)
    return pd.Series(out, index=days.index)
