"""Vectorised reading of the common, valid right-truncated shapes.

Nearly every SDTM --DTC value is ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or that date with
``Thh``, ``Thh:mm`` or ``Thh:mm:ss``. Those are checked and split into components with
numpy on a character matrix, many thousand values at a time; anything else (other shapes,
a component out of range, fractions of a second, zones, hyphens, intervals) is left to the
exact reader :func:`cdisc_mapper.iso8601._text.read_dtc`, which gives the same answer for
the values read here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cdisc_mapper.iso8601.calendar import days_in_month

__all__ = ["read_common"]

_TEMPLATE = "dddd-dd-ddTdd:dd:dd"
_LENGTHS = (4, 7, 10, 13, 16, 19)
# (first digit, length of the whole value that includes it) of month, day, hour, minute
_PARTS = ((5, 7), (8, 10), (11, 13), (14, 16))
_ZERO = ord("0")


def read_common(
    texts: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Which texts are valid values of the common shapes, their components and seconds.

    Returns ``(ok, parts, second)``: ``parts`` has columns year, month, day, hour, minute
    (-1 when truncated, and on rows where ``ok`` is False) and ``second`` (NaN when
    truncated or not ``ok``).
    """
    n = len(texts)
    parts = np.full((n, 5), -1, dtype=np.int64)
    second = np.full(n, np.nan)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    ok = np.isin(lengths, _LENGTHS)
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return ok, parts, second
    size = lengths[rows][:, None]
    chars = np.asarray(texts[rows].astype("U19")).view(np.uint32).reshape(rows.size, 19)
    digits = chars.astype(np.int64) - _ZERO
    used = np.arange(19)[None, :] < size
    want_digit = np.array([c == "d" for c in _TEMPLATE])[None, :]
    want_char = np.array([ord(c) for c in _TEMPLATE], dtype=np.uint32)[None, :]
    is_digit = (digits >= 0) & (digits <= 9)
    shape_ok = np.where(want_digit, is_digit, chars == want_char) | ~used
    good = shape_ok.all(axis=1)

    length = lengths[rows]
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    sub = [year]
    for first, needs in _PARTS:
        value = digits[:, first] * 10 + digits[:, first + 1]
        sub.append(np.where(length >= needs, value, -1))
    month, day, hour, minute = sub[1:]
    sec = np.where(length >= 19, digits[:, 17] * 10 + digits[:, 18], -1)
    good &= (month == -1) | ((month >= 1) & (month <= 12))
    good &= (day == -1) | ((year >= 1) & (day >= 1) & (day <= days_in_month(year, month)))
    good &= (hour <= 23) & (minute <= 59) & (sec <= 59)

    ok[rows] = good
    parts[rows[good]] = np.stack(sub, axis=1)[good]
    second[rows[good]] = np.where(sec >= 0, sec, np.nan)[good]
    return ok, parts, second
