"""Relative-day data: study days and pseudo dates from whole-day offsets.

Pooled registries (PRO-ACT) give every time as a number of days from an event of each
subject (``ALSFRS_Delta``: days since trial onset, 0 on its day). SDTMIG 3.4 section
4.4.4 counts study days with no day 0: the reference date is day 1 and the day before it
day -1. An offset counted as elapsed days (0 on the event's day) is therefore study day
``offset + 1`` when it is 0 or more and ``offset`` when it is negative; an offset already
counted as a study day is the study day itself, and 0 is then an error.
"""

from __future__ import annotations

import datetime
import re

import numpy as np
import pandas as pd

from cdisc_mapper.derive._common import factorize_text, raise_for_rows, take, text_series
from cdisc_mapper.derive.timing import derive_epoch
from cdisc_mapper.errors import MappingError

__all__ = [
    "day_axis_dates",
    "epoch_of_study_days",
    "offset_days",
    "pseudo_dates",
    "study_days_of_offsets",
]

#: A whole number of days as written: optional sign, digits, optionally ``.0`` (a number
#: column read by a reader that writes floats).
_WHOLE = re.compile(r"^[+-]?\d+(\.0*)?$")


def offset_days(raw: pd.Series) -> pd.Series:
    """Whole-day offsets read from text (``-12``, ``0``, ``35``, ``35.0``): float, NaN
    where blank. Anything else (``3.5``, ``abc``) is an error listing its rows."""
    codes, texts = factorize_text(raw)
    values: list[float] = []
    bad: list[int] = []
    for i, text in enumerate(texts):
        t = text.strip()
        if not t:
            values.append(np.nan)
        elif _WHOLE.match(t):
            values.append(float(int(float(t))))
        else:
            values.append(np.nan)
            bad.append(i)
    if bad:
        raise_for_rows(
            MappingError,
            "offset that is not a whole number of days",
            raw.index,
            np.isin(codes, bad),
            take(texts, codes, ""),
            hint="an offset is a whole number of days from the timeline's day0 event",
        )
    return pd.Series(np.asarray(take(values, codes, np.nan), dtype=float), index=raw.index)


def study_days_of_offsets(offsets: pd.Series, counted: str) -> pd.Series:
    """--DY of offsets (SDTMIG 3.4 section 4.4.4, no day 0): ``elapsed`` offsets (0 on the
    event's day) give ``offset + 1`` from 0 on and ``offset`` below it; ``study_day``
    offsets are the study day, and 0 is an error listing its rows. Nullable Int64."""
    if counted == "study_day":
        raise_for_rows(
            MappingError,
            "study day 0 (no day 0: SDTMIG 3.4 section 4.4.4)",
            offsets.index,
            (offsets == 0).to_numpy(),
            ["" if pd.isna(v) else f"{v:g}" for v in offsets],
            hint="offsets counted from 0 on the event's day are `offsets: elapsed`",
        )
        days = offsets
    else:
        days = offsets.where(offsets < 0, offsets + 1)
    return days.astype("Int64")


def pseudo_dates(offsets: pd.Series, anchor: str, counted: str = "elapsed") -> pd.Series:
    """ISO 8601 dates of offsets, ``anchor`` being the event's day (study day 1):
    ``anchor + offset`` days for ``elapsed`` offsets; for ``study_day`` offsets, ``anchor +
    offset - 1`` from day 1 on and ``anchor + offset`` before it (0 is an error). ``""``
    where blank."""
    start = np.datetime64(datetime.date.fromisoformat(anchor), "D")
    if counted == "study_day":
        study_days_of_offsets(offsets, counted)  # a day 0 is an error here too
        offsets = offsets.where(offsets < 0, offsets - 1)
    known = offsets.notna().to_numpy()
    out = np.full(len(offsets), "", dtype=object)
    days = offsets.to_numpy(dtype=float)[known].astype(np.int64)
    out[known] = np.datetime_as_string(start + days.astype("timedelta64[D]"), unit="D")
    return text_series(out, offsets.index, offsets.name)


#: The origin of the internal day axis on which study days are placed to compare them as
#: dates (any date would do: nothing derived from it is output).
_AXIS_ORIGIN = np.datetime64("2000-01-01", "D")


def day_axis_dates(days: pd.Series, what: str = "study day") -> pd.Series:
    """Study days as dates of a continuous internal day axis, to order and compare them as
    dates: study day 1 is the axis origin, day 2 the day after, day -1 the day before
    (SDTMIG 3.4 section 4.4.4 has no day 0, so day ``d`` is ``d - 1`` days after the
    origin from day 1 on and ``d`` days before it below). ``""`` where blank; a day 0 or a
    day that is not a whole number is an error listing its rows."""
    values = pd.to_numeric(days, errors="coerce").to_numpy(dtype=float)
    given = days.notna().to_numpy() & (days.astype(str).str.strip() != "").to_numpy()
    bad = given & (np.isnan(values) | (values == 0) | (np.mod(values, 1) != 0))
    raise_for_rows(
        MappingError,
        f"{what} that is not a whole non-zero number of days (no day 0: SDTMIG 3.4 section 4.4.4)",
        days.index,
        bad,
        [str(d) if np.isnan(v) else f"{v:g}" for d, v in zip(days, values, strict=True)],
    )
    known = given & ~bad
    shift = np.where(values[known] > 0, values[known] - 1, values[known]).astype(np.int64)
    out = np.full(len(days), "", dtype=object)
    out[known] = np.datetime_as_string(_AXIS_ORIGIN + shift.astype("timedelta64[D]"), unit="D")
    return text_series(out, days.index, days.name)


def epoch_of_study_days(dy: pd.Series, usubjid: pd.Series, se: pd.DataFrame) -> pd.Series:
    """EPOCH (SDTMIG 3.4 section 4.1.3.1) of records that have a study day and no date:
    the subject's element (SE) with SESTDY <= the day < the next element's SESTDY (the
    last element up to and including its SEENDY, or open when it has none), the rule of
    :func:`~cdisc_mapper.derive.timing.derive_epoch` on study days. Null where the day is
    blank, before the subject's first element or after the last; an SE record without
    SESTDY is an error listing its rows."""
    start = se["SESTDY"]
    raise_for_rows(
        MappingError,
        "subject element (SE) without a study day SESTDY (the records have study days, "
        "not dates, so SE must have them)",
        se.index,
        pd.to_numeric(start, errors="coerce").isna().to_numpy(),
        se["USUBJID"].astype(str).to_numpy(dtype=object),
    )
    on_axis = se.assign(
        SESTDTC=day_axis_dates(start, "SESTDY"),
        SEENDTC=day_axis_dates(se["SEENDY"], "SEENDY"),
    )
    return derive_epoch(day_axis_dates(dy), usubjid, on_axis)
