"""Dates and times: raw EDC text to ISO 8601 (--DTC) and study days (--DY).

Rules implemented (SDTMIG 3.4):

* Section 4.4.1, Formats for Date/Time Variables: "The SDTM and the SDTMIG require use of
  the ISO 8601 extended format" (``YYYY-MM-DD``, ``YYYY-MM-DDThh:mm:ss``).
* Section 4.4.2, Date/Time Precision: precision "can be inferred from the presence or
  absence of components"; "Missing components are represented by right truncation or a
  hyphen"; "If the date and time values are completely missing, the SDTM date field
  should be null". This library never imputes and uses right truncation only: an unknown
  day gives ``YYYY-MM``; an unknown month gives ``YYYY`` even when the day is known (the
  known day is dropped: ``YYYY---DD`` hyphen placeholders are not produced).
* Section 4.4.4, Use of the Study Day Variables: "--DY = (date portion of --DTC) - (date
  portion of RFSTDTC) + 1 if --DTC is on or after RFSTDTC", "(date portion of --DTC) -
  (date portion of RFSTDTC) if --DTC precedes RFSTDTC"; "there is no study day 0".

Every function is vectorised: raw text is parsed once per distinct value, then mapped
back to the rows. Errors list the offending rows (the Series index) and values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper import iso8601
from cdisc_mapper.derive._common import factorize_text, raise_for_rows, take, text_series
from cdisc_mapper.errors import DateParseError, MappingError, SpecError

__all__ = [
    "DEFAULT_UNKNOWN_TOKENS",
    "combine_dtc",
    "derive_age",
    "derive_study_day",
    "dtc_to_date",
    "dtc_to_datetime",
    "is_complete_date",
    "parse_dtc",
    "parse_partial_date",
    "parse_time",
]

DEFAULT_UNKNOWN_TOKENS: tuple[str, ...] = ("UN", "UNK", "UNKN", "??", "XX")
MIN_YEAR, MAX_YEAR = 1900, 2100

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("JAN", "JANUARY"),
            ("FEB", "FEBRUARY"),
            ("MAR", "MARCH"),
            ("APR", "APRIL"),
            ("MAY",),
            ("JUN", "JUNE"),
            ("JUL", "JULY"),
            ("AUG", "AUGUST"),
            ("SEP", "SEPT", "SEPTEMBER"),
            ("OCT", "OCTOBER"),
            ("NOV", "NOVEMBER"),
            ("DEC", "DECEMBER"),
        ]
    )
    for name in names
}
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_SEPARATORS = re.compile(r"\s*([/.\-])\s*")
_NOT_A_DATE = "not a recognised date"


class _Unrecognised(ValueError):
    """The text has no date structure at all (extra ``formats`` may still read it)."""


class _Invalid(ValueError):
    """The text is shaped like a date but a component is wrong."""


# --------------------------------------------------------------------------- dates


def _component(tok: str, unknown: frozenset[str]) -> tuple[str, int, int]:
    """Classify one date component: ('unk'|'num'|'mon', value, number of digits)."""
    if tok in unknown:
        return ("unk", 0, 0)
    if _DIGITS.fullmatch(tok):
        return ("num", int(tok), len(tok))
    if tok in _MONTHS:
        return ("mon", _MONTHS[tok], 0)
    raise _Unrecognised(_NOT_A_DATE)


def _year(c: tuple[str, int, int]) -> int | None:
    kind, value, ndigits = c
    if kind == "unk":
        return None
    if kind != "num":
        raise _Invalid("month name where the year should be")
    if ndigits in (1, 2):
        raise _Invalid("2-digit year")
    if ndigits != 4:
        raise _Invalid("year must have 4 digits")
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise _Invalid(f"year outside {MIN_YEAR}-{MAX_YEAR}")
    return value


def _month(c: tuple[str, int, int]) -> int | None:
    kind, value, ndigits = c
    if kind == "unk":
        return None
    if kind == "num" and (ndigits > 2 or not 1 <= value <= 12):
        raise _Invalid("month outside 1-12")
    return value


def _day(c: tuple[str, int, int]) -> int | None:
    kind, value, ndigits = c
    if kind == "unk":
        return None
    if kind != "num":
        raise _Invalid("month name where the day should be")
    if ndigits > 2 or not 1 <= value <= 31:
        raise _Invalid("day outside 1-31")
    return value


def _iso(y: int | None, m: int | None, d: int | None) -> str:
    """Right-truncated ISO 8601 date; '' when everything is unknown."""
    if y is None:
        if m is None and d is None:
            return ""
        raise _Invalid("year unknown but month or day known: cannot be right-truncated")
    if m is None:
        return f"{y:04d}"
    if d is None:
        return f"{y:04d}-{m:02d}"
    try:
        date(y, m, d)
    except ValueError:
        raise _Invalid(f"no day {d} in {y:04d}-{m:02d}") from None
    return f"{y:04d}-{m:02d}-{d:02d}"


def _compact_re(unknown: frozenset[str]) -> re.Pattern[str]:
    toks = "|".join(re.escape(t) for t in sorted(unknown, key=len, reverse=True))
    alt = f"{toks}|" if toks else ""
    return re.compile(
        rf"(?P<d>{alt}[0-9]{{1,2}})?(?P<m>{alt}[A-Z]{{3,9}})(?P<y>{alt}[0-9]{{1,4}})", re.ASCII
    )


def _parse_one_date(
    text: str, order: str, unknown: frozenset[str], compact: re.Pattern[str]
) -> str:
    s = text.strip().upper()
    if not s:
        return ""
    s = _SEPARATORS.sub(r"\1", s)
    seps = set(re.findall(r"[/.\-]", s))
    if len(seps) > 1:
        raise _Unrecognised("mixed separators")
    parts = s.split(seps.pop()) if seps else s.split()
    if any(not p or any(ch.isspace() for ch in p) for p in parts):
        raise _Unrecognised(_NOT_A_DATE)
    if len(parts) == 1:
        m = compact.fullmatch(parts[0])
        if m:
            day = _component(m["d"], unknown) if m["d"] else ("unk", 0, 0)
            c = [day, _component(m["m"], unknown), _component(m["y"], unknown)]
            return _iso(_year(c[2]), _month(c[1]), _day(c[0]))
        c0 = _component(parts[0], unknown)
        if c0[0] == "unk":
            return ""
        if c0[0] == "num" and c0[2] == 4:
            return _iso(_year(c0), None, None)
        raise _Unrecognised(_NOT_A_DATE)
    c = [_component(p, unknown) for p in parts]
    if len(c) == 2:
        year_first = c[0][0] != "mon" and (
            (c[0][0] == "num" and c[0][2] == 4) or c[1][0] == "mon" or order == "YMD"
        )
        if year_first:
            return _iso(_year(c[0]), _month(c[1]), None)
        return _iso(_year(c[1]), _month(c[0]), None)
    if len(c) == 3:
        y, mo, d = _year_month_day(c, order)
        return _iso(_year(y), _month(mo), _day(d))
    raise _Unrecognised(_NOT_A_DATE)


_Component = tuple[str, int, int]


def _year_month_day(c: list[_Component], order: str) -> tuple[_Component, _Component, _Component]:
    """The year, month and day of three components: a 4-digit first component is the year,
    a month name is the month, else ``order`` decides."""
    if c[0][0] == "num" and c[0][2] == 4:
        return c[0], c[1], c[2]
    if c[1][0] == "mon" or (c[0][0] != "mon" and order == "DMY"):
        return c[2], c[1], c[0]
    if c[0][0] == "mon" or order == "MDY":
        return c[2], c[0], c[1]
    return c[0], c[1], c[2]


def _parse_with_formats(text: str, formats: Sequence[str]) -> str | None:
    for fmt in formats:
        try:
            parsed = datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
        if MIN_YEAR <= parsed.year <= MAX_YEAR:
            return parsed.isoformat()
    return None


def parse_partial_date(
    raw: pd.Series,
    *,
    order: str = "DMY",
    unknown_tokens: Iterable[str] = DEFAULT_UNKNOWN_TOKENS,
    formats: Sequence[str] | None = None,
) -> pd.Series:
    """Parse raw (possibly partial) dates to ISO 8601 text, per SDTMIG 3.4 section 4.4.2.

    SDTMIG 3.4 section 4.4.2 (Date/Time Precision): "Missing components are represented by
    right truncation"; a completely missing date is null. Nothing is ever imputed.

    Accepted input (case-insensitive, surrounding spaces ignored):

    * numbers separated by one kind of separator (``/``, ``.``, ``-`` or spaces), in
      ``order`` (``"DMY"``, ``"MDY"`` or ``"YMD"``): ``05/04/2016``, ``5/4/2016``,
      ``05.04.2016``, ``05-04-2016``; a 4-digit first component always means year-month-day
      (``2016-04-05``, ``2016/04/05``), whatever ``order`` says;
    * English month names or abbreviations: ``05-APR-2016``, ``05 Apr 2016``, ``05APR2016``,
      ``Apr-05-2016``, ``APR2016``;
    * month and year: ``03/2014``, ``2014-03``, ``MAR-2014``; a year alone: ``2014``;
    * an unknown component written as one of ``unknown_tokens`` (``UN/03/2014``).

    Output per row: ``YYYY-MM-DD``, ``YYYY-MM`` (unknown day), ``YYYY`` (unknown month; a
    known day with an unknown month is dropped, since the ``YYYY---DD`` form is not used), or
    ``""`` for an empty cell or a date whose components are all unknown.

    ``formats``: optional extra :func:`datetime.strptime` formats for complete dates (e.g.
    ``["%Y%m%d"]``), tried only for values that have no recognisable date shape; a value that
    is shaped like a date but invalid (``31/02/2016``) is never re-read with them. ``%y``
    (2-digit year) is refused.

    Raises:
        DateParseError: listing every row (index label) and value that is not a date, is
            not a calendar date (``31/02/2016``), has a 2-digit year or a year outside
            1900-2100, or has an unknown year with a known month or day.
        SpecError: ``order`` or ``formats`` is not valid.
    """
    order = order.upper()
    if order not in ("DMY", "MDY", "YMD"):
        raise SpecError(f"date order {order!r} is not one of DMY, MDY, YMD")
    formats = list(formats or [])
    for fmt in formats:
        if "%y" in fmt:
            raise SpecError(f"date format {fmt!r} uses a 2-digit year (%y)")
    unknown = frozenset(t.strip().upper() for t in unknown_tokens)
    compact = _compact_re(unknown)

    codes, texts = factorize_text(raw)
    results: list[str] = []
    reasons: list[str] = []
    for text in texts:
        try:
            results.append(_parse_one_date(text, order, unknown, compact))
            reasons.append("")
        except _Unrecognised as exc:
            alt = _parse_with_formats(text, formats) if formats else None
            results.append(alt or "")
            reasons.append("" if alt else str(exc))
        except _Invalid as exc:
            results.append("")
            reasons.append(str(exc))
    bad_codes = np.array([i for i, r in enumerate(reasons) if r], dtype=np.intp)
    if len(bad_codes):
        mask = np.isin(codes, bad_codes)
        raise_for_rows(
            DateParseError,
            f"invalid date (order {order})",
            raw.index,
            mask,
            take(texts, codes, ""),
            take(reasons, codes, ""),
        )
    return text_series(take(results, codes, ""), raw.index, raw.name)


# --------------------------------------------------------------------------- times


def _parse_one_time(text: str, unknown: frozenset[str]) -> str:
    s = text.strip().upper()
    if not s or s in unknown:
        return ""
    if re.fullmatch(r"[0-9]{4}", s, re.ASCII):
        parts = [s[:2], s[2:]]
    else:
        parts = [p.strip() for p in s.split(":")]
        if not 2 <= len(parts) <= 3:
            raise ValueError("not a time (HH:MM or HH:MM:SS)")
    known: list[int] = []
    for i, tok in enumerate(parts):
        if tok in unknown:
            if any(p not in unknown for p in parts[i + 1 :]):
                raise ValueError("unknown component before a known one: cannot be truncated")
            break
        width = (1, 2) if i == 0 else (2,)
        if not (_DIGITS.fullmatch(tok) and len(tok) in width):
            raise ValueError("not a time (HH:MM or HH:MM:SS)")
        value = int(tok)
        if value > (23 if i == 0 else 59):
            raise ValueError("hour outside 0-23" if i == 0 else "minute/second outside 0-59")
        known.append(value)
    return ":".join(f"{v:02d}" for v in known)


def parse_time(
    raw: pd.Series, *, unknown_tokens: Iterable[str] = DEFAULT_UNKNOWN_TOKENS
) -> pd.Series:
    """Parse raw times to ISO 8601 ``hh:mm`` or ``hh:mm:ss`` (SDTMIG 3.4 sections 4.4.1-2).

    SDTMIG 3.4 section 4.4.1: times are "hh:mm:ss" (24-hour clock, 2 digits per component).
    Accepted: ``H:MM``, ``HH:MM``, ``H:MM:SS``, ``HH:MM:SS`` and ``HHMM`` (4 digits).
    Output keeps the precision given (``9:05`` -> ``09:05``, ``09:05:30`` -> ``09:05:30``).
    An unknown trailing component is right-truncated (section 4.4.2): ``13:UN`` -> ``13``;
    a time that is empty or all unknown gives ``""``. AM/PM, fractions of seconds and time
    zones are not accepted.

    Raises:
        DateParseError: listing every row and value that is not such a time (``25:00``,
            ``10:5``, ``UN:30``).
    """
    unknown = frozenset(t.strip().upper() for t in unknown_tokens)
    codes, texts = factorize_text(raw)
    results: list[str] = []
    reasons: list[str] = []
    for text in texts:
        try:
            results.append(_parse_one_time(text, unknown))
            reasons.append("")
        except ValueError as exc:
            results.append("")
            reasons.append(str(exc))
    if any(reasons):
        bad = np.array([i for i, r in enumerate(reasons) if r], dtype=np.intp)
        raise_for_rows(
            DateParseError,
            "invalid time",
            raw.index,
            np.isin(codes, bad),
            take(texts, codes, ""),
            take(reasons, codes, ""),
        )
    return text_series(take(results, codes, ""), raw.index, raw.name)


def combine_dtc(
    date_iso: pd.Series, time_iso: pd.Series, *, on_partial_date: str = "raise"
) -> pd.Series:
    """Join an ISO date and an ISO time into one --DTC value (SDTMIG 3.4 section 4.4.1).

    SDTMIG 3.4 section 4.4.1: "the date is written in front of the time and the time is
    preceded with 'T'" (``YYYY-MM-DDThh:mm``); section 4.4.2: without a time the ``T`` is
    omitted. A time is only kept with a complete date: with right truncation a time cannot
    follow a partial date. Both inputs are outputs of :func:`parse_partial_date` and
    :func:`parse_time` on the same rows (same index).

    Args:
        on_partial_date: ``"raise"`` (default) or ``"drop"`` (keep the partial date and
            drop the time) for a time given with a partial or empty date.

    Raises:
        DateParseError: listing rows whose time comes with a partial or missing date.
    """
    if on_partial_date not in ("raise", "drop"):
        raise SpecError(f"on_partial_date must be 'raise' or 'drop', not {on_partial_date!r}")
    if not date_iso.index.equals(time_iso.index):
        raise ValueError("combine_dtc: date and time Series have different indexes")
    d = date_iso.fillna("").astype(str).to_numpy(dtype=object)
    t = time_iso.fillna("").astype(str).to_numpy(dtype=object)
    has_time = t != ""
    complete = np.fromiter((len(x) == 10 for x in d), dtype=bool, count=len(d))
    orphan = has_time & ~complete
    if orphan.any() and on_partial_date == "raise":
        shown = np.array([f"{a} {b}".strip() for a, b in zip(d, t, strict=True)], dtype=object)
        raise_for_rows(
            DateParseError,
            "time given with a partial or missing date (cannot be represented in ISO 8601)",
            date_iso.index,
            orphan,
            shown,
        )
    out = d.copy()
    join = has_time & complete
    out[join] = d[join] + "T" + t[join]
    return text_series(out, date_iso.index, date_iso.name)


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
