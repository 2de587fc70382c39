"""Dates and times: raw EDC text to ISO 8601 (--DTC) and study days (--DY).

Rules implemented (SDTMIG 3.4):

* Section 4.4.1, Formats for Date/Time Variables: "The SDTM and the SDTMIG require use of
  the ISO 8601 extended format" (``YYYY-MM-DD``, ``YYYY-MM-DDThh:mm:ss``).
* Section 4.4.2, Date/Time Precision: precision "can be inferred from the presence or
  absence of components"; "Missing components are represented by right truncation or a
  hyphen". Raw text is read by :mod:`cdisc_mapper.derive.datetext` (re-exported here),
  which never imputes and uses right truncation only.
* Section 4.4.4, Use of the Study Day Variables: "--DY = (date portion of --DTC) - (date
  portion of RFSTDTC) + 1 if --DTC is on or after RFSTDTC", "(date portion of --DTC) -
  (date portion of RFSTDTC) if --DTC precedes RFSTDTC"; "there is no study day 0".

Every function is vectorised. Errors list the offending rows (the Series index) and values.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper import iso8601
from cdisc_mapper.derive._common import raise_for_rows
from cdisc_mapper.derive.datetext import (
    DATE_ORDERS,
    DEFAULT_UNKNOWN_TOKENS,
    check_formats,
    combine_dtc,
    one_time,
    parse_partial_date,
    parse_time,
    split_date_time,
)
from cdisc_mapper.errors import DateParseError, MappingError

__all__ = [
    "DATE_ORDERS",
    "DEFAULT_UNKNOWN_TOKENS",
    "check_formats",
    "combine_dtc",
    "derive_age",
    "derive_study_day",
    "dtc_to_date",
    "dtc_to_datetime",
    "is_complete_date",
    "one_time",
    "parse_dtc",
    "parse_partial_date",
    "parse_time",
    "split_date_time",
]

# ------------------------------------------------------------------ ISO 8601 --DTC

_NOT_DTC = "not an ISO 8601 date/time (YYYY[-MM[-DD[Thh:mm[:ss]]]])"
# the whole seconds datetime64[ns] can hold (int64 nanoseconds around 1970-01-01; the
# smallest int64 is NaT), as SAS datetimes (seconds since 1960-01-01)
_SAS_SECONDS = np.datetime64("1960-01-01T00:00:00", "s")
_UNIX_EPOCH = 315619200  # 1970-01-01 as a SAS datetime
_NS_FIRST = -((2**63 - 1) // 10**9) + _UNIX_EPOCH
_NS_LAST = (2**63 - 1) // 10**9 + _UNIX_EPOCH


def parse_dtc(dtc: pd.Series) -> iso8601.Parsed:
    """ISO 8601 --DTC values read by :mod:`cdisc_mapper.iso8601`, held to this library's
    contract: right truncation only (SDTMIG 3.4 section 4.4.2), no time zone.

    Blank or whitespace-only values are missing. Every other value must be a valid
    ``YYYY[-MM[-DD[Thh[:mm[:ss[.f]]]]]]`` (:func:`cdisc_mapper.iso8601.problems`).

    Raises:
        DateParseError: listing the rows whose value is not such text (e.g. ``05/04/2016``,
            ``2016-02-30``, ``2016-13``, ``2016---15``, ``2016-04-05T25:00``).
    """
    parsed = iso8601.parse(dtc)
    blank = np.fromiter((not t.strip() for t in parsed.text), dtype=bool, count=len(parsed.text))
    ok = parsed.valid_date_time & ~parsed.hyphen & ~parsed.zone
    raise_for_rows(
        DateParseError, _NOT_DTC, dtc.index, parsed.rows(~ok & ~blank), parsed.rows(parsed.text)
    )
    return parsed


def _datetime64(seconds: npt.NDArray[np.float64]) -> npt.NDArray[np.datetime64]:
    """SAS datetimes (whole seconds, NaN for missing) as ``datetime64[ns]`` (NaT)."""
    known = ~np.isnan(seconds)
    whole = np.where(known, seconds, 0).astype(np.int64).astype("timedelta64[s]")
    out = (_SAS_SECONDS + whole).astype("datetime64[ns]")
    out[~known] = np.datetime64("NaT", "ns")
    return out


def _dtc_parts(dtc: pd.Series) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.datetime64]]:
    """Return (date, datetime) as datetime64[ns] arrays; NaT when not complete / without hh:mm.

    The datetime keeps whole seconds (a fraction of a second is dropped).

    Raises:
        DateParseError: a value is not right-truncated ISO 8601 text (:func:`parse_dtc`), or
            its date lies outside 1677-09-22 to 2262-04-11, which ``datetime64[ns]`` cannot
            hold.
    """
    parsed = parse_dtc(dtc)
    date = parsed.sas_dates * iso8601.SECONDS_PER_DAY
    start = parsed.bounds[0]
    timed = np.where(~np.isnan(date) & (parsed.minute >= 0), start, np.nan)
    with np.errstate(invalid="ignore"):
        outside = (date < _NS_FIRST) | (timed > _NS_LAST) | (date > _NS_LAST)
    raise_for_rows(
        DateParseError,
        "date outside 1677-09-22 to 2262-04-11 (the range of datetime64[ns])",
        dtc.index,
        parsed.rows(outside),
        parsed.rows(parsed.text),
    )
    return parsed.rows(_datetime64(date)), parsed.rows(_datetime64(timed))


def dtc_to_date(dtc: pd.Series) -> pd.Series:
    """Date portion of ISO 8601 --DTC values as ``datetime64``; NaT when partial or missing.

    SDTMIG 3.4 section 4.4.4: study days compare "the date portion" of date/times. A value
    with a time gives its date (midnight). ``YYYY`` and ``YYYY-MM`` (section 4.4.2
    right truncation) and ``""`` give NaT.

    Raises:
        DateParseError: a value is not right-truncated ISO 8601 text (e.g. ``05/04/2016``,
            ``2016-02-30``, ``2016---15``).
    """
    d, _ = _dtc_parts(dtc)
    return pd.Series(d, index=dtc.index, name=dtc.name)


def dtc_to_datetime(dtc: pd.Series) -> pd.Series:
    """Date and time of --DTC values with at least ``hh:mm`` as ``datetime64``; else NaT."""
    _, dt = _dtc_parts(dtc)
    return pd.Series(dt, index=dtc.index, name=dtc.name)


def is_complete_date(dtc: pd.Series) -> pd.Series:
    """True where a --DTC value has a complete date (``YYYY-MM-DD``, with or without time)."""
    parsed = parse_dtc(dtc)
    return pd.Series(parsed.rows(~np.isnan(parsed.sas_dates)), index=dtc.index, name=dtc.name)


def derive_study_day(dtc: pd.Series, ref_dtc: pd.Series) -> pd.Series:
    """--DY, --STDY, --ENDY per SDTMIG 3.4 section 4.4.4 (Use of the Study Day Variables).

    "--DY = (date portion of --DTC) - (date portion of RFSTDTC) + 1 if --DTC is on or after
    RFSTDTC"; "--DY = (date portion of --DTC) - (date portion of RFSTDTC) if --DTC precedes
    RFSTDTC": the reference date is day 1, the day before is day -1, "there is no study day
    0" (:func:`cdisc_mapper.iso8601.study_day`). Times are ignored. Missing (``pd.NA``) when
    either date is partial or missing.

    ``ref_dtc`` is the subject's RFSTDTC on each row (same index as ``dtc``); the caller
    merges it from DM by USUBJID.

    Returns:
        Nullable ``Int64`` Series on the index of ``dtc``.

    Raises:
        DateParseError: a value is not right-truncated ISO 8601 text (:func:`parse_dtc`).
    """
    if not dtc.index.equals(ref_dtc.index):
        raise ValueError("derive_study_day: dtc and ref_dtc have different indexes")
    d, r = parse_dtc(dtc), parse_dtc(ref_dtc)
    days = iso8601.study_day(d.rows(d.sas_dates), r.rows(r.sas_dates))
    known = ~np.isnan(days)
    out = pd.array(np.where(known, days, 0).astype(np.int64), dtype="Int64")
    return pd.Series(out, index=dtc.index, name=dtc.name).mask(~known)


def derive_age(birth_dtc: pd.Series, ref_dtc: pd.Series) -> pd.Series:
    """AGE in completed years at the reference date (SDTMIG 3.4 section 5.2, DM AGE).

    SDTMIG 3.4 section 5.2, DM AGE: "Age expressed in AGEU. May be derived from RFSTDTC and
    BRTHDTC" (the reference date is the caller's choice). Computed only from complete dates: a
    partial birth date (``YYYY`` or ``YYYY-MM``) or reference date gives ``pd.NA`` (no
    imputation). Completed years: the birthday counts from its calendar day; a 29 February
    birthday is reached on 1 March in non-leap years. AGEU is then ``"YEARS"``.

    Raises:
        DateParseError: a value is not right-truncated ISO 8601 text (:func:`parse_dtc`).
        MappingError: listing rows where the reference date precedes the birth date.
    """
    if not birth_dtc.index.equals(ref_dtc.index):
        raise ValueError("derive_age: birth_dtc and ref_dtc have different indexes")
    b, r = parse_dtc(birth_dtc), parse_dtc(ref_dtc)
    known = ~np.isnan(b.rows(b.sas_dates)) & ~np.isnan(r.rows(r.sas_dates))
    birthday = b.rows(b.month) * 100 + b.rows(b.day)
    before_birthday = r.rows(r.month) * 100 + r.rows(r.day) < birthday
    years = np.where(known, r.rows(r.year) - b.rows(b.year) - before_birthday, 0)
    negative = known & (years < 0)
    if negative.any():
        shown = [f"{x} -> {y}" for x, y in zip(birth_dtc, ref_dtc, strict=True)]
        raise_for_rows(
            MappingError, "reference date before birth date", birth_dtc.index, negative, shown
        )
    out = pd.Series(pd.array(years, dtype="Int64"), index=birth_dtc.index, name="AGE")
    return out.mask(~known)
