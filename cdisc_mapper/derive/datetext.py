"""Raw EDC date and time text to ISO 8601 (SDTMIG 3.4 sections 4.4.1-4.4.2).

* Section 4.4.1: "The SDTM and the SDTMIG require use of the ISO 8601 extended format"
  (``YYYY-MM-DD``, ``YYYY-MM-DDThh:mm:ss``); "the date is written in front of the time and
  the time is preceded with 'T'".
* Section 4.4.2: "Missing components are represented by right truncation or a hyphen";
  "If the date and time values are completely missing, the SDTM date field should be
  null". This module never imputes and uses right truncation only: an unknown day gives
  ``YYYY-MM``; an unknown month gives ``YYYY`` even when the day is known (the known day is
  dropped: ``YYYY---DD`` hyphen placeholders are not produced).

A value is read the one way its shape allows, or it is an error: a value that could mean
two dates (a 2-digit year, or a value that the date order and an explicit format read
differently) or no date (``31/02/2016``, ``25:00``) is listed with its row and reason.
Every function is vectorised: raw text is parsed once per distinct value, then mapped
back to the rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd

from cdisc_mapper.derive._common import (
    factorize_text,
    raise_for_rows,
    take,
    text_by_code,
    text_series,
)
from cdisc_mapper.errors import DateParseError, SpecError

DEFAULT_UNKNOWN_TOKENS: tuple[str, ...] = ("UN", "UNK", "UNKN", "??", "XX")
DATE_ORDERS: tuple[str, ...] = ("DMY", "MDY", "YMD")
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
# a month name first, then the day, a comma and the year: "Jan 2, 2014"
_COMMA = re.compile(r"([A-Z]+)\s+(\S+?)\s*,\s*(\S+)", re.ASCII)
# a 12-hour clock time: "2:30 PM", "02:30pm", "2:30 p.m."
_MERIDIEM = re.compile(r"(.*?)\s*([AP])\.?\s?M\.?", re.ASCII)
# an ISO 8601 date-time, as the XLSX reader gives a date-time cell
_ISO_DATE_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2}(?::[0-9]{2})?)")
_NOT_A_DATE = "not a recognised date"
_NOT_A_TIME = "not a time (HH:MM or HH:MM:SS, optionally AM/PM)"


class _Unrecognised(ValueError):
    """The text has no date structure at all (extra ``formats`` may still read it)."""


class _Invalid(ValueError):
    """The text is shaped like a date but a component is wrong."""


# --------------------------------------------------------------------------- dates

_Component = tuple[str, int, int]


def _component(tok: str, unknown: frozenset[str]) -> _Component:
    """Classify one date component: ('unk'|'num'|'mon', value, number of digits)."""
    if tok in unknown:
        return ("unk", 0, 0)
    if _DIGITS.fullmatch(tok):
        return ("num", int(tok), len(tok))
    if tok in _MONTHS:
        return ("mon", _MONTHS[tok], 0)
    raise _Unrecognised(_NOT_A_DATE)


def _year(c: _Component) -> int | None:
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


def _month(c: _Component) -> int | None:
    kind, value, ndigits = c
    if kind == "unk":
        return None
    if kind == "num" and (ndigits > 2 or not 1 <= value <= 12):
        raise _Invalid("month outside 1-12")
    return value


def _day(c: _Component) -> int | None:
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


def _without_comma(s: str) -> str:
    """``JAN 2, 2014`` as ``JAN 2 2014``: a comma is read only after the day of a date
    written month name first; anywhere else it is not a date."""
    m = _COMMA.fullmatch(s)
    if m is None or m[1] not in _MONTHS or "," in m[2] + m[3]:
        raise _Unrecognised(_NOT_A_DATE)
    return f"{m[1]} {m[2]} {m[3]}"


def _parts(s: str) -> list[str]:
    """The components of a date written with one kind of separator (or none)."""
    if "," in s:
        s = _without_comma(s)
    s = _SEPARATORS.sub(r"\1", s)
    seps = set(re.findall(r"[/.\-]", s))
    if len(seps) > 1:
        raise _Unrecognised("mixed separators")
    parts = s.split(seps.pop()) if seps else s.split()
    if any(not p or any(ch.isspace() for ch in p) for p in parts):
        raise _Unrecognised(_NOT_A_DATE)
    return parts


def _parse_one_date(
    text: str, order: str, unknown: frozenset[str], compact: re.Pattern[str]
) -> str:
    s = text.strip().upper()
    if not s:
        return ""
    parts = _parts(s)
    if len(parts) == 1:
        return _one_part(parts[0], unknown, compact)
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


def _one_part(part: str, unknown: frozenset[str], compact: re.Pattern[str]) -> str:
    """A date without separators: ``05APR2016``, ``APR2016``, ``2016`` or unknown."""
    m = compact.fullmatch(part)
    if m:
        day = _component(m["d"], unknown) if m["d"] else ("unk", 0, 0)
        c = [day, _component(m["m"], unknown), _component(m["y"], unknown)]
        return _iso(_year(c[2]), _month(c[1]), _day(c[0]))
    c0 = _component(part, unknown)
    if c0[0] == "unk":
        return ""
    if c0[0] == "num" and c0[2] == 4:
        return _iso(_year(c0), None, None)
    raise _Unrecognised(_NOT_A_DATE)


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


# ------------------------------------------------------------------ explicit formats

_FORMAT_DIRECTIVES = {"Y", "m", "b", "B", "d", "j", "%"}


def check_formats(formats: Sequence[str]) -> None:
    """Raise ValueError unless every format reads a complete calendar date with a 4-digit
    year: ``%Y`` with ``%m``/``%b``/``%B`` and ``%d``, or ``%Y`` with ``%j``, each once,
    and nothing else but literal text (no 2-digit year ``%y``, no time, no weekday)."""
    for fmt in formats:
        found = re.findall(r"%(.?)", fmt.replace("%%", ""))
        bad = sorted({f"%{d}" for d in found if d not in _FORMAT_DIRECTIVES})
        if "y" in found:
            raise ValueError(f"date format {fmt!r} uses a 2-digit year (%y): give %Y")
        if bad:
            raise ValueError(
                f"date format {fmt!r} uses {', '.join(bad)}: a format reads a date only, "
                "with %Y, %m, %b, %B, %d, %j (a time goes in a time column)"
            )
        months = sum(found.count(d) for d in "mbB")
        complete = found.count("Y") == 1 and (
            (months == 1 and found.count("d") == 1 and "j" not in found)
            or (found.count("j") == 1 and months == 0 and "d" not in found)
        )
        if not complete:
            raise ValueError(
                f"date format {fmt!r} does not read one complete date: give %Y once, with "
                "%m, %b or %B and %d, or with %j (a partial date is read without a format)"
            )


def _unpadded(text: str) -> str:
    """``text`` in upper case without the leading zeros of its numbers."""
    return re.sub(r"(?<![0-9])0+(?=[0-9])", "", text.upper())


def _by_format(text: str, formats: Sequence[str]) -> tuple[str, str] | None:
    """The date the first matching format reads and that format; the value must be
    written exactly as the format writes it (leading zeros aside): ``201412`` is not
    ``%Y%m%d``."""
    value = text.strip()
    for fmt in formats:
        try:
            parsed = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if _unpadded(parsed.strftime(fmt)) != _unpadded(value):
            continue
        if MIN_YEAR <= parsed.year <= MAX_YEAR:
            return parsed.isoformat(), fmt
    return None


# the common shape of a complete date: numbers and one kind of separator, a 4-digit year
_NUMERIC_DATE = re.compile(r"\s*([0-9]{1,4})([/.\-])([0-9]{1,2})\2([0-9]{1,4})\s*", re.ASCII)


def _numeric_date(text: str, order: str) -> str | None:
    """The ISO 8601 date of a valid complete date written in numbers with one kind of
    separator (``05/04/2016``, ``2016-04-05``), as :func:`_parse_one_date` reads it; None
    for anything else (left to it, which also names what is wrong). A shortcut: clinical
    dates are mostly written so, and this reads them without the general grammar."""
    m = _NUMERIC_DATE.fullmatch(text)
    if m is None:
        return None
    a, b, c = m[1], m[3], m[4]
    if len(a) == 4:
        y, mo, d = a, b, c
    elif len(c) == 4 and order == "DMY":
        y, mo, d = c, b, a
    elif len(c) == 4 and order == "MDY":
        y, mo, d = c, a, b
    else:
        return None
    if len(d) > 2:
        return None
    year, month, day = int(y), int(mo), int(d)
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    try:
        date(year, month, day)
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _read_date(
    text: str, order: str, unknown: frozenset[str], compact: re.Pattern[str], formats: list[str]
) -> tuple[str, str]:
    """(ISO 8601 date, "") or ("", the reason it is not one)."""
    try:
        flexible = _parse_one_date(text, order, unknown, compact)
    except _Unrecognised as exc:
        found = _by_format(text, formats) if formats else None
        return (found[0], "") if found else ("", str(exc))
    except _Invalid as exc:
        return "", str(exc)
    found = _by_format(text, formats) if formats and flexible else None
    if found and found[0] != flexible:
        return "", f"ambiguous: {flexible} in order {order}, {found[0]} by format {found[1]!r}"
    return flexible, ""


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
    * English month names or abbreviations (``SEPT`` too), which fix the month whatever
      ``order`` says: ``05-APR-2016``, ``05 Apr 2016``, ``05APR2016``, ``Apr-05-2016``,
      ``2016-Apr-05``, ``April 5 2016``, ``Jan 2, 2014`` (a comma only after the day of a
      month-first date);
    * month and year: ``03/2014``, ``2014-03``, ``MAR-2014``, ``APR2016``; a year alone:
      ``2014``;
    * an unknown component written as one of ``unknown_tokens`` (``UN/03/2014``).

    Output per row: ``YYYY-MM-DD``, ``YYYY-MM`` (unknown day), ``YYYY`` (unknown month; a
    known day with an unknown month is dropped, since the ``YYYY---DD`` form is not used), or
    ``""`` for an empty cell or a date whose components are all unknown.

    ``formats``: optional extra :func:`datetime.strptime` formats for complete dates (e.g.
    ``["%Y%m%d"]``, see :func:`check_formats`), tried for values that have no recognisable
    date shape; a value must be written exactly as its format writes it (leading zeros
    aside). A value that is shaped like a date but invalid (``31/02/2016``) is never re-read
    with them, and one that ``order`` and a format read as two different dates is an error.

    Raises:
        DateParseError: listing every row (index label) and value that is not a date, is
            not a calendar date (``31/02/2016``), has a 2-digit year or a year outside
            1900-2100, has an unknown year with a known month or day, or is ambiguous.
        SpecError: ``order`` or ``formats`` is not valid.
    """
    order = order.upper()
    if order not in DATE_ORDERS:
        raise SpecError(f"date order {order!r} is not one of DMY, MDY, YMD")
    formats = list(formats or [])
    try:
        check_formats(formats)
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    unknown = frozenset(t.strip().upper() for t in unknown_tokens)
    compact = _compact_re(unknown)

    codes, texts = factorize_text(raw)
    quick = not formats and not any(t.isdigit() for t in unknown)
    read = [
        (iso, "")
        if quick and (iso := _numeric_date(text, order)) is not None
        else _read_date(text, order, unknown, compact, formats)
        for text in texts
    ]
    results = [iso for iso, _ in read]
    reasons = [why for _, why in read]
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
    return text_by_code(results, codes, raw.index, raw.name)


# --------------------------------------------------------------------------- times


def _twelve_hour(s: str) -> tuple[str, str]:
    """(the time, "A" or "P") of a 12-hour clock time; (s, "") otherwise."""
    m = _MERIDIEM.fullmatch(s)
    return (m[1], m[2]) if m else (s, "")


def _hour(value: int, half: str) -> int:
    """The 24-hour clock hour of ``value`` (on the 12-hour clock when ``half`` is A/P)."""
    if not half:
        if value > 23:
            raise ValueError("hour outside 0-23")
        return value
    if not 1 <= value <= 12:
        raise ValueError("hour outside 1-12 with AM/PM")
    return value % 12 + (12 if half == "P" else 0)


def _parse_one_time(text: str, unknown: frozenset[str]) -> str:
    s, half = _twelve_hour(text.strip().upper())
    if half and not s:
        raise ValueError(_NOT_A_TIME)
    if not s or s in unknown:
        return ""
    if re.fullmatch(r"[0-9]{4}", s, re.ASCII):
        parts = [s[:2], s[2:]]
    else:
        parts = [p.strip() for p in s.split(":")]
        if not 2 <= len(parts) <= 3:
            raise ValueError(_NOT_A_TIME)
    known: list[int] = []
    for i, tok in enumerate(parts):
        if tok in unknown:
            if any(p not in unknown for p in parts[i + 1 :]):
                raise ValueError("unknown component before a known one: cannot be truncated")
            break
        width = (1, 2) if i == 0 else (2,)
        if not (_DIGITS.fullmatch(tok) and len(tok) in width):
            raise ValueError(_NOT_A_TIME)
        value = int(tok)
        if i == 0:
            value = _hour(value, half)
        elif value > 59:
            raise ValueError("minute/second outside 0-59")
        known.append(value)
    return ":".join(f"{v:02d}" for v in known)


def parse_time(
    raw: pd.Series, *, unknown_tokens: Iterable[str] = DEFAULT_UNKNOWN_TOKENS
) -> pd.Series:
    """Parse raw times to ISO 8601 ``hh:mm`` or ``hh:mm:ss`` (SDTMIG 3.4 sections 4.4.1-2).

    SDTMIG 3.4 section 4.4.1: times are "hh:mm:ss" (24-hour clock, 2 digits per component).
    Accepted: ``H:MM``, ``HH:MM``, ``H:MM:SS``, ``HH:MM:SS`` and ``HHMM`` (4 digits), on the
    24-hour clock, or on the 12-hour clock followed by ``AM``/``PM`` (any case, with or
    without a space or dots: ``2:30 PM``, ``02:30pm``, ``12:05 a.m.``; hour 1-12, ``12 AM``
    is 00). Output keeps the precision given (``9:05`` -> ``09:05``, ``09:05:30`` ->
    ``09:05:30``). An unknown trailing component is right-truncated (section 4.4.2):
    ``13:UN`` -> ``13``; a time that is empty or all unknown gives ``""``. Fractions of
    seconds, time zones, ``.`` as separator and an hour alone are not accepted.

    Raises:
        DateParseError: listing every row and value that is not such a time (``25:00``,
            ``10:5``, ``UN:30``, ``13:00 PM``).
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
    return text_by_code(results, codes, raw.index, raw.name)


# ------------------------------------------------------------------ date and time


def split_date_time(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The date text and time text of each value: an ISO 8601 date-time
    ``YYYY-MM-DDThh:mm[:ss]`` (how the XLSX reader gives a date-time cell) is split at
    its ``T``; any other value is a date alone (time ``""``). Nothing is checked here:
    each part is then read by :func:`parse_partial_date` and :func:`parse_time`."""
    codes, texts = factorize_text(raw)
    matches = [_ISO_DATE_TIME.fullmatch(t.strip()) for t in texts]
    dates = [m[1] if m else t for m, t in zip(matches, texts, strict=True)]
    times = [m[2] if m else "" for m in matches]
    return (
        text_by_code(dates, codes, raw.index, raw.name),
        text_by_code(times, codes, raw.index, raw.name),
    )


def one_time(in_date: pd.Series, separate: pd.Series) -> pd.Series:
    """The time of each record, from its date-time value or from its time column (both
    ISO 8601 times on the same index); a record with a time in both is an error.

    Raises:
        DateParseError: listing the rows with two times.
    """
    a = in_date.fillna("").astype(str).to_numpy(dtype=object)
    b = separate.fillna("").astype(str).to_numpy(dtype=object)
    both = (a != "") & (b != "")
    shown = np.array([f"{x} and {y}" for x, y in zip(a, b, strict=True)], dtype=object)
    raise_for_rows(
        DateParseError,
        "a time in the date-time value and in the time column",
        in_date.index,
        both,
        shown,
        hint="give the time once",
    )
    return text_series(np.where(a != "", a, b), in_date.index, in_date.name)


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
    d = date_iso.fillna("").astype(str)  # Arrow text: compared and joined in Arrow
    t = time_iso.fillna("").astype(str)
    has_time = (t != "").to_numpy(dtype=bool)
    complete = (d.str.len() == 10).to_numpy(dtype=bool)
    orphan = has_time & ~complete
    if orphan.any() and on_partial_date == "raise":
        pairs = zip(d.to_numpy(dtype=object), t.to_numpy(dtype=object), strict=True)
        shown = np.array([f"{a} {b}".strip() for a, b in pairs], dtype=object)
        raise_for_rows(
            DateParseError,
            "time given with a partial or missing date (cannot be represented in ISO 8601)",
            date_iso.index,
            orphan,
            shown,
        )
    join = has_time & complete
    out = (d + "T" + t).where(join, d) if join.any() else d
    out.name = date_iso.name
    return out
