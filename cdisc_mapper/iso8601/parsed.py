"""ISO 8601 values of a Series parsed once per distinct value, as arrays of components.

Clinical dates repeat a lot (every lab test of a visit has the same --DTC), so a Series is
factorized first and each distinct text is read once (:func:`read_dtc`); results are per
distinct value and taken back to the rows by position (``codes``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper.iso8601._fast import read_common
from cdisc_mapper.iso8601._text import precision_length, read_dtc
from cdisc_mapper.iso8601.calendar import SECONDS_PER_DAY, days_in_month, sas_date

__all__ = ["Distinct", "Parsed", "distinct", "read_once"]

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


READ_ONCE_ROWS = 1_000_000
"""The most rows whose distinct values :func:`read_once` keeps (the oldest go first), so
that what it keeps stays small beside the records it reads (8 bytes a row for the
codes)."""


class _ReadBefore:
    """Columns of Arrow text read inside :func:`read_once`: per column (its Arrow data,
    held here so that it is not freed and its identity not reused) its codes and
    :class:`Distinct` values, the oldest dropped beyond :data:`READ_ONCE_ROWS` rows."""

    def __init__(self) -> None:
        self.entries: OrderedDict[int, tuple[object, npt.NDArray[np.intp], Distinct]] = (
            OrderedDict()
        )
        self.rows = 0

    def get(self, data: object) -> tuple[npt.NDArray[np.intp], Distinct] | None:
        entry = self.entries.get(id(data))
        if entry is None or entry[0] is not data:
            return None
        self.entries.move_to_end(id(data))
        return entry[1], entry[2]

    def keep(self, data: object, codes: npt.NDArray[np.intp], values: Distinct) -> None:
        self.entries[id(data)] = (data, codes, values)
        self.rows += len(codes)
        while self.rows > READ_ONCE_ROWS and len(self.entries) > 1:
            _, (_, dropped, _) = self.entries.popitem(last=False)
            self.rows -= len(dropped)


_READ_BEFORE: ContextVar[_ReadBefore | None] = ContextVar("iso8601_read_once", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """Within: a column of Arrow text (immutable data) parsed again, as the same data (a
    copy or a relabelled Series of it shares it), is not factorized and read again: the
    codes and what was read of its distinct values are reused. E.g. a domain's --DTC,
    read for its study day, its EPOCH and its last-observation flag. Values not backed by
    Arrow (object arrays, which can change in place) are read each time."""
    token = _READ_BEFORE.set(_READ_BEFORE.get() or _ReadBefore())
    try:
        yield
    finally:
        _READ_BEFORE.reset(token)


def _arrow_data(values: pd.Series) -> object | None:
    """The immutable Arrow data behind ``values``, if any."""
    dtype = values.dtype
    arrow = isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
    if arrow or isinstance(dtype, pd.ArrowDtype):
        data: object = values.array.__arrow_array__()  # the array's own data, not a copy
        return data
    return None


def _distinct_values(values: pd.Series) -> tuple[npt.NDArray[np.intp], Distinct]:
    """:func:`distinct` of ``values``, or as read before inside :func:`read_once`."""
    seen = _READ_BEFORE.get()
    data = _arrow_data(values) if seen is not None else None
    if seen is None or data is None:
        codes, text = distinct(values)
        return codes, Distinct(text)
    found = seen.get(data)
    if found is not None:
        return found
    codes, text = distinct(values)
    values_read = Distinct(text)
    seen.keep(data, codes, values_read)
    return codes, values_read


class Parsed:
    """The ISO 8601 values of one Series, read once per distinct value.

    Per distinct value (arrays as long as :attr:`text`): the components ``year``,
    ``month``, ``day``, ``hour``, ``minute`` (-1 when not given: right-truncated or a
    missing-component hyphen) and ``second`` (NaN when not given); ``problem`` (``""``
    when valid or blank, else why it is not ISO 8601, SDTMIG 3.4 section 4.4); ``shaped``
    (a single date/time in the grammar, not an interval), ``hyphen`` (uses a
    missing-component hyphen, section 4.4.2), ``zone`` (has a UTC offset or ``Z``).
    :meth:`rows` takes any per-distinct array to the rows.

    Inside :func:`read_once`, a column of Arrow text already read there is not read
    again: its distinct values and what was read of them are shared.
    """

    def __init__(self, values: pd.Series) -> None:
        self.index = values.index
        self.codes, self.values = _distinct_values(values)

    @property
    def text(self) -> TextArray:
        """The distinct values as text (``""`` for a missing value)."""
        return self.values.text

    def map_text(self, fn: Callable[[str], str]) -> Parsed:
        """The same rows with ``fn`` applied to each distinct text (e.g. ``str.strip``, or
        ``lambda t: t[:10]`` for the ``YYYY-MM-DD`` date portion), not yet read."""
        out = Parsed.__new__(Parsed)
        out.index, out.codes = self.index, self.codes
        text = np.empty(len(self.text), dtype=object)
        text[:] = [fn(t) for t in self.text]
        out.values = Distinct(text)
        return out

    def rows(self, per_distinct: npt.NDArray[G]) -> npt.NDArray[G]:
        """A per-distinct-value array taken to the rows."""
        return per_distinct[self.codes]

    @property
    def year(self) -> IntArray:
        return self.values.year

    @property
    def month(self) -> IntArray:
        return self.values.month

    @property
    def day(self) -> IntArray:
        return self.values.day

    @property
    def hour(self) -> IntArray:
        return self.values.hour

    @property
    def minute(self) -> IntArray:
        return self.values.minute

    @property
    def second(self) -> FloatArray:
        return self.values.second

    @property
    def problem(self) -> TextArray:
        return self.values.problem

    @property
    def shaped(self) -> BoolArray:
        return self.values.shaped

    @property
    def hyphen(self) -> BoolArray:
        return self.values.hyphen

    @property
    def zone(self) -> BoolArray:
        return self.values.zone

    @property
    def valid_date_time(self) -> BoolArray:
        return self.values.valid_date_time

    @property
    def precision(self) -> IntArray:
        return self.values.precision

    @property
    def sas_dates(self) -> FloatArray:
        return self.values.sas_dates

    @property
    def bounds(self) -> tuple[FloatArray, FloatArray]:
        return self.values.bounds

    @property
    def day_bounds(self) -> tuple[FloatArray, FloatArray]:
        return self.values.day_bounds


class Distinct:
    """Distinct ISO 8601 texts and what is read of them (each part read when first
    asked for): the per-distinct arrays of :class:`Parsed`."""

    def __init__(self, text: TextArray) -> None:
        self.text = text

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
