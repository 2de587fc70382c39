"""ISO 8601 values of a Series parsed once per distinct value, as arrays of components.

Clinical dates repeat a lot (every lab test of a visit has the same --DTC), so a Series is
factorized first and each distinct text is read once (:func:`read_dtc`); results are per
distinct value and taken back to the rows by position (``codes``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper.iso8601._fast import read_common
from cdisc_mapper.iso8601._text import precision_length, read_dtc
from cdisc_mapper.iso8601.calendar import SECONDS_PER_DAY, days_in_month, sas_date

__all__ = ["Parsed", "distinct"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
TextArray = npt.NDArray[np.object_]
G = TypeVar("G", bound=np.generic)


def distinct(values: pd.Series) -> tuple[npt.NDArray[np.intp], TextArray]:
    """Position of each row's value among the distinct values, and those values as text.

    Missing values (None, NaN, ``pd.NA``) become ``""``; other non-text values ``str(v)``.
    Categoricals are cheap: only their used categories are read.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = [u if isinstance(u, str) else str(u) for u in np.asarray(uniques, dtype=object)]
    codes = np.asarray(codes, dtype=np.intp)
    if len(codes) and codes.min() < 0:
        codes = np.where(codes < 0, len(texts), codes)
        texts.append("")
    out = np.empty(len(texts), dtype=object)
    out[:] = texts
    return codes, out


class Parsed:
    """The ISO 8601 values of one Series, read once per distinct value.

    Per distinct value (arrays as long as :attr:`text`): the components ``year``,
    ``month``, ``day``, ``hour``, ``minute`` (-1 when not given: right-truncated or a
    missing-component hyphen) and ``second`` (NaN when not given); ``problem`` (``""``
    when valid or blank, else why it is not ISO 8601, SDTMIG 3.4 section 4.4); ``shaped``
    (a single date/time in the grammar, not an interval), ``hyphen`` (uses a
    missing-component hyphen, section 4.4.2), ``zone`` (has a UTC offset or ``Z``).
    :meth:`rows` takes any per-distinct array to the rows.
    """

    def __init__(self, values: pd.Series) -> None:
        self.index = values.index
        self.codes, self.text = distinct(values)

    def map_text(self, fn: Callable[[str], str]) -> Parsed:
        """The same rows with ``fn`` applied to each distinct text (e.g. ``str.strip``, or
        ``lambda t: t[:10]`` for the ``YYYY-MM-DD`` date portion), not yet read."""
        out = Parsed.__new__(Parsed)
        out.index, out.codes = self.index, self.codes
        out.text = np.empty(len(self.text), dtype=object)
        out.text[:] = [fn(t) for t in self.text]
        return out

    def rows(self, per_distinct: npt.NDArray[G]) -> npt.NDArray[G]:
        """A per-distinct-value array taken to the rows."""
        return per_distinct[self.codes]

    @cached_property
    def _common(self) -> tuple[BoolArray, IntArray, FloatArray]:
        """:func:`read_common` of the distinct values (the vectorised reader)."""
        return read_common(self.text)

    @cached_property
    def _read(self) -> tuple[IntArray, FloatArray, TextArray, BoolArray, BoolArray, BoolArray]:
        common = self._common[0]
        parts, second = self._common[1].copy(), self._common[2].copy()
        n = len(self.text)
        problem = np.full(n, "", dtype=object)
        flags = np.zeros((n, 3), dtype=bool)
        flags[common, 0] = True
        for i in np.flatnonzero(~common):
            components, problem[i] = read_dtc(self.text[i])
            if components is not None:
                parts[i] = components[:5]
                second[i] = components.second
                flags[i] = (True, components.hyphen, components.zone != "")
        return parts, second, problem, flags[:, 0], flags[:, 1], flags[:, 2]

    @property
    def year(self) -> IntArray:
        return self._read[0][:, 0]

    @property
    def month(self) -> IntArray:
        return self._read[0][:, 1]

    @property
    def day(self) -> IntArray:
        return self._read[0][:, 2]

    @property
    def hour(self) -> IntArray:
        return self._read[0][:, 3]

    @property
    def minute(self) -> IntArray:
        return self._read[0][:, 4]

    @property
    def second(self) -> FloatArray:
        return self._read[1]

    @property
    def problem(self) -> TextArray:
        return self._read[2]

    @property
    def shaped(self) -> BoolArray:
        return self._read[3]

    @property
    def hyphen(self) -> BoolArray:
        return self._read[4]

    @property
    def zone(self) -> BoolArray:
        return self._read[5]

    @cached_property
    def valid_date_time(self) -> BoolArray:
        """A valid single date/time (not blank, not an interval) with its year given."""
        return np.asarray(self.shaped & (self.problem == "") & (self.year >= 0), dtype=bool)

    @cached_property
    def precision(self) -> IntArray:
        """Per distinct value: :func:`~cdisc_mapper.iso8601._text.precision_length`."""
        common = self._common[0]
        lengths = np.fromiter((len(t) for t in self.text), dtype=np.int64, count=len(self.text))
        for i in np.flatnonzero(~common):
            lengths[i] = precision_length(self.text[i])
        return lengths

    @cached_property
    def sas_dates(self) -> FloatArray:
        """Per distinct value: the SAS date of a valid value with year, month and day given
        (its date portion, whatever the time says), else NaN."""
        ok = self.valid_date_time & (self.month >= 0) & (self.day >= 0)
        days = sas_date(np.where(ok, self.year, 2000), self.month, self.day)
        return np.where(ok, days, np.nan)

    @cached_property
    def bounds(self) -> tuple[FloatArray, FloatArray]:
        """Per distinct value: the first and last second it can stand for (SAS datetimes).

        Not given components range over their whole span (month 1-12, day 1 to the last
        day of the month, hour 0-23, minute and second 0-59); a fraction of a second is
        dropped; a time zone is ignored. NaN unless :attr:`valid_date_time`.
        """
        ok = self.valid_date_time
        year = np.where(ok, self.year, 2000)
        lo_month = np.where(self.month >= 0, self.month, 1)
        hi_month = np.where(self.month >= 0, self.month, 12)
        lo_day = np.where(self.day >= 0, self.day, 1)
        hi_day = np.where(self.day >= 0, self.day, days_in_month(year, hi_month))
        whole = np.floor(self.second)
        lo_clock = _clock(self.hour, self.minute, whole, 0, 0, 0.0)
        hi_clock = _clock(self.hour, self.minute, whole, 23, 59, 59.0)
        lo = sas_date(year, lo_month, lo_day) * float(SECONDS_PER_DAY) + lo_clock
        hi = sas_date(year, hi_month, hi_day) * float(SECONDS_PER_DAY) + hi_clock
        return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)

    @cached_property
    def day_bounds(self) -> tuple[FloatArray, FloatArray]:
        """Per distinct value: the first and last day it can stand for (SAS dates), the days
        of :attr:`bounds`; NaN unless :attr:`valid_date_time`."""
        lo, hi = self.bounds
        return np.floor(lo / SECONDS_PER_DAY), np.floor(hi / SECONDS_PER_DAY)


def _clock(
    hour: IntArray, minute: IntArray, second: FloatArray, h: int, m: int, s: float
) -> FloatArray:
    """Seconds into the day, with ``h``, ``m``, ``s`` for components not given."""
    return (
        np.where(hour >= 0, hour, h) * 3600.0
        + np.where(minute >= 0, minute, m) * 60.0
        + np.where(np.isnan(second), s, second)
    )
