"""One ISO 8601 value as text: its grammar, its components and what is wrong with it.

Pure Python on a single ``str``; :mod:`cdisc_mapper.iso8601.parsed` calls it once per
distinct value that the vectorised reader (:mod:`cdisc_mapper.iso8601._fast`) leaves
(anything but a valid plain ``YYYY-MM-DDThh:mm:ss`` or a right truncation of it) and
turns the results into arrays. This module is the definition of the rules.

Grammar (SDTMIG 3.4 section 4.4.1-4.4.3; ISO 8601 extended format, ASCII digits only):

* date/time ``YYYY[-MM[-DD[Thh[:mm[:ss[.f]]][zone]]]]``, right-truncated (section 4.4.2:
  "Missing components are represented by right truncation"), where any component but the
  seconds may be a single hyphen for a missing middle component (section 4.4.2 and its
  table: ``2003---15``, ``--12-15``, ``-----T07:15``, ``2003-12-15T-:15``); ``zone`` is
  ``Z`` or ``+hh[[:]mm]`` / ``-hh[[:]mm]``;
* duration ``[-]PnYnMnDTnHnMnS`` or ``PnW`` (section 4.4.3), ``n`` with an optional ``.``
  or ``,`` fraction;
* interval ``start/end`` (section 4.4.3), each side a date/time or a duration.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "Components",
    "Duration",
    "dtc_problem",
    "is_duration_text",
    "parse_duration",
    "precision_length",
    "read_dtc",
]

# SDTMIG 3.4 section 4.4.2: complete or truncated values, and missing components shown by a
# hyphen ("2003---15", "--12-15", "-----T07:15", "2003-12-15T-:15").
_DTC = re.compile(
    r"(?P<y>[0-9]{4}|-)"
    r"(?:-(?P<m>[0-9]{2}|-)"
    r"(?:-(?P<d>[0-9]{2}|-)"
    r"(?:T(?P<h>[0-9]{2}|-)"
    r"(?::(?P<mi>[0-9]{2}|-)"
    r"(?::(?P<s>[0-9]{2}(?:\.[0-9]+)?))?)?"
    r"(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?)?)?"
)
_NUM = r"[0-9]+(?:[.,][0-9]+)?"
# SDTMIG 3.4 section 4.4.3 / ISO 8601 durations: PnYnMnDTnHnMnS (any part may be left
# out, "T" only before a time part) or PnW.
_DURATION = re.compile(
    rf"(?P<neg>-)?P(?:(?:(?P<Y>{_NUM})Y)?(?:(?P<M>{_NUM})M)?(?:(?P<D>{_NUM})D)?"
    rf"(?:T(?=[0-9])(?:(?P<h>{_NUM})H)?(?:(?P<mi>{_NUM})M)?(?:(?P<s>{_NUM})S)?)?"
    rf"|(?P<W>{_NUM})W)"
)
# the leading part of a value written without missing-component hyphens
_TRUNCATED = re.compile(
    r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2}(?:T[0-9]{2}(?::[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?)?)?)?"
)
_NOT_ISO = "not ISO 8601 (expected e.g. 2016-08-04, 2016-08, 2016-08-04T13:45)"
_NOT_INTERVAL = "not ISO 8601 (an interval has one '/', e.g. 2016-08-04/2016-08-10)"
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Components(NamedTuple):
    """The components of one ISO 8601 date/time; -1 (NaN for seconds) when not given.

    A component is not given when it is right-truncated or written as a hyphen
    (``hyphen`` tells which of the two forms the value uses).
    """

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: float
    hyphen: bool
    zone: str


class Duration(NamedTuple):
    """The numbers of an ISO 8601 duration (SDTMIG 3.4 section 4.4.3); 0 when absent."""

    negative: bool
    years: float
    months: float
    weeks: float
    days: float
    hours: float
    minutes: float
    seconds: float


def _number(text: str | None) -> int:
    return -1 if text is None or text == "-" else int(text)


def _components(match: re.Match[str]) -> Components:
    y, m, d, h, mi, s, tz = match.group("y", "m", "d", "h", "mi", "s", "tz")
    hyphen = "-" in (y, m, d, h, mi)
    return Components(
        _number(y),
        _number(m),
        _number(d),
        _number(h),
        _number(mi),
        float("nan") if s is None else float(s),
        hyphen,
        tz or "",
    )


def _range_problem(c: Components, match: re.Match[str]) -> str:
    """Why the components of a value in the grammar are out of range; '' when they are not."""
    if c.month != -1 and not 1 <= c.month <= 12:
        return f"month {match['m']} out of range"
    if c.day != -1:
        if not 1 <= c.day <= 31:
            return f"day {match['d']} out of range"
        if c.year != -1 and c.month != -1 and not _calendar_day(c.year, c.month, c.day):
            return f"{match['y']}-{match['m']}-{match['d']} is not a calendar date"
    if c.hour != -1 and not 0 <= c.hour <= 23:
        return f"hour {match['h']} out of range"
    if c.minute != -1 and not 0 <= c.minute <= 59:
        return f"minute {match['mi']} out of range"
    if match["s"] is not None and not 0 <= c.second < 60:
        return f"second {match['s']} out of range"
    return ""


def _read_single(text: str) -> tuple[Components | None, str]:
    match = _DTC.fullmatch(text)
    if match is None:
        return None, _NOT_ISO
    components = _components(match)
    problem = _range_problem(components, match)
    if not problem and text.endswith("-") and len(text) > 1:
        problem = "ends with a missing component (drop trailing missing parts)"
    return components, problem


def read_dtc(text: str) -> tuple[Components | None, str]:
    """The components of a date/time value (None for an interval, a blank or a value not in
    the grammar; a value in the grammar has components even when out of range, e.g. month
    13) and :func:`dtc_problem` of it, from one match."""
    if text == "" or "/" in text:
        return None, dtc_problem(text)
    return _read_single(text)


def dtc_problem(text: str) -> str:
    """``""`` when ``text`` is a valid ISO 8601 date/time or interval (or empty), else why not.

    Valid (SDTMIG 3.4 section 4.4): the grammar of this module, a real calendar date
    (proleptic Gregorian calendar, years 0001-9999), hour 00-23, minute and
    second 00-59, no trailing hyphen. An interval ``a/b`` is valid when each side is a valid
    date/time or an ISO 8601 duration.
    """
    if text == "":
        return ""
    parts = text.split("/")
    if len(parts) > 2:
        return _NOT_INTERVAL
    for part in parts:
        if len(parts) == 2 and _DURATION.fullmatch(part):
            continue
        problem = _read_single(part)[1]
        if problem:
            return problem
    return ""


def _calendar_day(year: int, month: int, day: int) -> bool:
    """Whether the day exists: years 0001-9999 (year 0000, ISO 8601's 1 BC, only "by
    mutual agreement", is refused as by Python's and pandas' calendars)."""
    return year >= 1 and day <= _days_in_month(year, month)


def _days_in_month(year: int, month: int) -> int:
    """Days in ``month`` of ``year`` (proleptic Gregorian calendar)."""
    if month != 2:
        return _MONTH_DAYS[month - 1]
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 29 if leap else 28


def precision_length(text: str) -> int:
    """Length of the leading part of ``text`` written without missing-component hyphens.

    ``2016-08`` -> 7, ``2016-08-04T10:30`` -> 16, ``2003---15`` -> 4, ``abc`` -> 0. The
    leading part is read even when the rest of the value is not ISO 8601.
    """
    match = _TRUNCATED.match(text)
    return match.end() if match else 0


def _float(text: str | None) -> float:
    return 0.0 if text is None else float(text.replace(",", "."))


def parse_duration(text: str) -> Duration | None:
    """The numbers of an ISO 8601 duration (``P1Y2M``, ``PT30M``, ``P2W``, ``-P1D``,
    ``PT0,5S``), or None when ``text`` is not one (SDTMIG 3.4 section 4.4.3).

    As the validator has always done, ``P`` alone is read as a zero duration; ``PT``
    without a time part is not a duration.
    """
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    return Duration(
        match["neg"] is not None,
        _float(match["Y"]),
        _float(match["M"]),
        _float(match["W"]),
        _float(match["D"]),
        _float(match["h"]),
        _float(match["mi"]),
        _float(match["s"]),
    )


def is_duration_text(text: str) -> bool:
    """Whether ``text`` is written as an ISO 8601 duration (the validator's rule)."""
    return _DURATION.fullmatch(text) is not None
