"""Tests of cdisc_mapper.derive.dates: raw dates/times to ISO 8601, study day, age."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.derive import (
    combine_dtc,
    derive_age,
    derive_study_day,
    dtc_to_date,
    dtc_to_datetime,
    is_complete_date,
    parse_partial_date,
    parse_time,
)
from cdisc_mapper.derive.dates import check_formats, one_time, split_date_time
from cdisc_mapper.derive.partial import derive_age_exact, partial_date_bounds
from cdisc_mapper.errors import DateParseError, MappingError, SpecError

ISO_DATE = re.compile(r"(?:[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?)?")
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def one(value: str, **kw) -> str:
    return parse_partial_date(pd.Series([value]), **kw).iloc[0]


# ------------------------------------------------------------------ parse_partial_date


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("UN/03/2014", "2014-03"),
        ("UN/UNK/2013", "2013"),
        ("UNK/2013", "2013"),
        ("un/unk/2013", "2013"),
        ("05/04/2016", "2016-04-05"),
        ("5/4/2016", "2016-04-05"),
        ("05.04.2016", "2016-04-05"),
        ("05-04-2016", "2016-04-05"),
        (" 05 / 04 / 2016 ", "2016-04-05"),
        ("2016-04-05", "2016-04-05"),
        ("2016/04/05", "2016-04-05"),
        ("05-APR-2016", "2016-04-05"),
        ("05-apr-2016", "2016-04-05"),
        ("05APR2016", "2016-04-05"),
        ("5 April 2016", "2016-04-05"),
        ("Apr-05-2016", "2016-04-05"),
        ("UN-APR-2016", "2016-04"),
        ("UNAPR2016", "2016-04"),
        ("APR2016", "2016-04"),
        ("MAR-2014", "2014-03"),
        ("03/2014", "2014-03"),
        ("2014-03", "2014-03"),
        ("2014", "2014"),
        ("??/??/2014", "2014"),
        ("XX/03/2014", "2014-03"),
        ("15/UNK/2013", "2013"),  # known day, unknown month: right truncation drops the day
        ("29/02/2016", "2016-02-29"),
        ("UN/UN/UNKN", ""),
        ("", ""),
        ("   ", ""),
    ],
)
def test_parse_partial_date_hand_cases(raw: str, iso: str) -> None:
    assert one(raw) == iso


def test_parse_partial_date_keeps_index_name_and_missing() -> None:
    raw = pd.Series(["05/04/2016", None, np.nan, "UN/03/2014"], index=[7, 8, 9, 10], name="D")
    out = parse_partial_date(raw)
    assert out.index.tolist() == [7, 8, 9, 10]
    assert out.name == "D"
    assert out.tolist() == ["2016-04-05", "", "", "2014-03"]


def test_order_mdy_and_ymd() -> None:
    assert one("04/05/2016", order="MDY") == "2016-04-05"
    assert one("2016-04-05", order="MDY") == "2016-04-05"  # ISO is always Y-M-D
    assert one("2016.04.05", order="YMD") == "2016-04-05"
    assert one("2016/UNK", order="YMD") == "2016"
    assert one("APR-2016", order="YMD") == "2016-04"
    with pytest.raises(SpecError):
        one("05/04/2016", order="DYM")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("31/02/2016", "no day 31 in 2016-02"),
        ("29/02/2015", "no day 29"),
        ("05/04/16", "2-digit year"),
        ("05/04/1899", "year outside 1900-2100"),
        ("05/04/2101", "year outside"),
        ("13/13/2013", "month outside"),
        ("32/UNK/2013", "day outside"),
        ("UN/03/UNK", "year unknown"),
        ("not a date", "not a recognised date"),
        ("05/04-2016", "mixed separators"),
        ("2016-04-05T10:30", "not a recognised date"),
        ("05/APR", "2-digit year"),
        ("FOO-2016", "not a recognised date"),
    ],
)
def test_invalid_dates_raise_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(DateParseError, match=re.escape(reason)):
        one(raw)


def test_error_names_every_row_and_value() -> None:
    raw = pd.Series(
        ["01/01/2016", "31/02/2016", "02/01/2016", "31/02/2016", "foo"], index=[2, 3, 4, 5, 6]
    )
    with pytest.raises(DateParseError) as info:
        parse_partial_date(raw)
    err = info.value
    assert isinstance(err, MappingError)
    assert "row 3 '31/02/2016'" in str(err)
    assert "row 5 '31/02/2016'" in str(err)
    assert "row 6 'foo'" in str(err)
    assert err.rows == [3, 5, 6]
    assert err.values == ["31/02/2016", "31/02/2016", "foo"]


def test_error_lists_first_twenty_then_count() -> None:
    raw = pd.Series(["31/02/2016"] * 25, index=range(100, 125))
    with pytest.raises(DateParseError) as info:
        parse_partial_date(raw)
    text = str(info.value)
    assert "in 25 rows" in text
    assert "row 119" in text and "row 120 " not in text
    assert "and 5 more rows" in text
    assert len(info.value.rows) == 25


def test_extra_formats_only_for_unrecognised_text() -> None:
    assert one("20160405", formats=["%Y%m%d"]) == "2016-04-05"
    with pytest.raises(DateParseError):
        one("20160405")
    # shaped like a date but invalid: extra formats are not tried
    with pytest.raises(DateParseError):
        one("12/25/2016", formats=["%m/%d/%Y"])
    with pytest.raises(SpecError):
        one("050416", formats=["%d%m%y"])


def test_custom_unknown_tokens() -> None:
    assert one("00/03/2014", unknown_tokens=("00",)) == "2014-03"
    with pytest.raises(DateParseError):
        one("00/03/2014")


def test_vectorised_on_many_rows() -> None:
    raw = pd.Series(["05/04/2016", "UN/03/2014", "", "UN/UNK/2013"] * 50_000)
    out = parse_partial_date(raw)
    assert out.iloc[:4].tolist() == ["2016-04-05", "2014-03", "", "2013"]
    assert len(out) == 200_000


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("Jan 2, 2014", "2014-01-02"),
        ("January 02, 2014", "2014-01-02"),
        ("Jan 02 2014", "2014-01-02"),
        ("jAn 2,2014", "2014-01-02"),
        ("JANUARY 2 , 2014", "2014-01-02"),
        ("Sept 5, 2016", "2016-09-05"),
        ("september 5 2016", "2016-09-05"),
        ("2 january 2014", "2014-01-02"),
        ("2-January-2014", "2014-01-02"),
        ("2January2014", "2014-01-02"),
        ("2014-Jan-02", "2014-01-02"),
        ("Jan UN, 2014", "2014-01"),
        ("Jan-2014", "2014-01"),
    ],
)
def test_month_names_full_abbreviated_mixed_case_one_digit_day_comma(raw: str, iso: str) -> None:
    assert one(raw, order="DMY") == iso
    assert one(raw, order="MDY") == iso


@pytest.mark.parametrize("raw", ["02, Jan 2014", "01,02,2014", "Jan, 2014", "Jan-2, 2014"])
def test_a_comma_is_read_only_after_the_day_of_a_month_first_date(raw: str) -> None:
    with pytest.raises(DateParseError, match="not a recognised date"):
        one(raw)


def test_two_digit_years_are_refused_whatever_the_form() -> None:
    for raw in ("05/04/16", "05-APR-16", "Apr 5, 16", "05APR16"):
        with pytest.raises(DateParseError, match="2-digit year"):
            one(raw)


@pytest.mark.parametrize(
    ("fmt", "problem"),
    [
        ("%d%m%y", "2-digit year"),
        ("%Y%m%d %H%M", "%H, %M"),
        ("%Y%m", "does not read one complete date"),
        ("%m%d", "does not read one complete date"),
        ("%Y%m%d%d", "does not read one complete date"),
        ("%a %d %b %Y", "%a"),
    ],
)
def test_formats_read_complete_dates_with_a_4_digit_year(fmt: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_formats([fmt])
    with pytest.raises(SpecError, match=re.escape(problem)):
        one("20140102", formats=[fmt])


def test_formats_accepted() -> None:
    check_formats(["%Y%m%d", "%d%b%Y", "%Y%j", "%d %B, %Y", "%Y%%%m%%%d"])
    assert one("2014002", formats=["%Y%j"]) == "2014-01-02"
    assert one("2 January, 2014", formats=["%d %B, %Y"]) == "2014-01-02"


def test_a_value_must_be_written_as_its_format_writes_it() -> None:
    # strptime alone reads 201412 as 2014-01-02 (%m=1, %d=2): not the format's shape
    with pytest.raises(DateParseError, match="201412"):
        one("201412", formats=["%Y%m%d"])
    assert one("20140102", formats=["%Y%m%d"]) == "2014-01-02"


def test_a_value_read_differently_by_the_order_and_a_format_is_an_error() -> None:
    with pytest.raises(DateParseError) as err:
        one("05/04/2016", order="MDY", formats=["%d/%m/%Y"])
    assert "ambiguous: 2016-05-04 in order MDY, 2016-04-05 by format '%d/%m/%Y'" in str(err.value)
    # read the same way: no ambiguity
    assert one("05/04/2016", order="DMY", formats=["%d/%m/%Y"]) == "2016-04-05"


def test_split_date_time_splits_iso_date_times_only() -> None:
    raw = pd.Series(["2016-04-05T14:30", "2016-04-05T14:30:05", "05/04/2016", "", None])
    dates, times = split_date_time(raw)
    assert dates.tolist() == ["2016-04-05", "2016-04-05", "05/04/2016", "", ""]
    assert times.tolist() == ["14:30", "14:30:05", "", "", ""]


def test_one_time_from_the_date_time_or_the_time_column_not_both() -> None:
    a = pd.Series(["14:30", "", ""], index=[2, 3, 4])
    b = pd.Series(["", "08:00", ""], index=[2, 3, 4])
    assert one_time(a, b).tolist() == ["14:30", "08:00", ""]
    with pytest.raises(DateParseError, match=r"in 1 row: row 2 '14:30 and 09:00'"):
        one_time(a, pd.Series(["09:00", "", ""], index=[2, 3, 4]))


# ------------------------------------------------------------------ hypothesis: dates

valid_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


@given(valid_dates)
def test_roundtrip_day_first(d: dt.date) -> None:
    assert one(f"{d.day:02d}/{d.month:02d}/{d.year}") == d.isoformat()
    assert one(f"{d.day}/{d.month}/{d.year}") == d.isoformat()


@given(valid_dates, st.sampled_from(["DMY", "MDY", "YMD"]))
def test_roundtrip_iso_whatever_the_order(d: dt.date, order: str) -> None:
    assert one(d.isoformat(), order=order) == d.isoformat()


@given(
    valid_dates, st.sampled_from(["-", " ", ""]), st.sampled_from([str.upper, str.lower, str.title])
)
def test_roundtrip_month_name(d: dt.date, sep: str, case) -> None:
    text = f"{d.day:02d}{sep}{case(MONTHS[d.month - 1])}{sep}{d.year}"
    assert one(text) == d.isoformat()


@given(valid_dates, st.sampled_from(["UN", "UNK", "un", "??", "XX"]))
def test_unknown_day_gives_year_month(d: dt.date, token: str) -> None:
    assert one(f"{token}/{d.month:02d}/{d.year}") == f"{d.year:04d}-{d.month:02d}"


@given(valid_dates)
def test_unknown_day_and_month_gives_year(d: dt.date) -> None:
    assert one(f"UN/UNK/{d.year}") == f"{d.year:04d}"


FULL = ["JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST",
        "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER"]  # fmt: skip
CASES = [str.upper, str.lower, str.title, lambda t: t[:1] + t[1:].lower()]


def _num(n: int, pad: bool, width: int = 2) -> str:
    return f"{n:0{width}d}" if pad else str(n)


@st.composite
def written_dates(draw) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """(a date as some EDC writes it, the date order it is read in, its ISO 8601 value)."""
    d = draw(valid_dates)
    order = draw(st.sampled_from(["DMY", "MDY", "YMD"]))
    pad = draw(st.booleans()), draw(st.booleans())
    day, month, year = _num(d.day, pad[0]), _num(d.month, pad[1]), str(d.year)
    names = [MONTHS[d.month - 1], FULL[d.month - 1]] + (["SEPT"] if d.month == 9 else [])
    name = draw(st.sampled_from(CASES))(draw(st.sampled_from(names)))
    sep = draw(st.sampled_from(["/", ".", "-", " ", " / ", " - "]))
    nsep = draw(st.sampled_from(["-", " ", "/", "."]))
    by_order = {"DMY": [day, month, year], "MDY": [month, day, year], "YMD": [year, month, day]}
    forms = [
        sep.join(by_order[order]),
        d.isoformat(),
        f"{year}{sep.strip() or '-'}{month}{sep.strip() or '-'}{day}",
        nsep.join([day, name, year]),
        f"{day}{name}{year}",
        nsep.join([name, day, year]),
        f"{name} {day}, {year}",
        f"{name} {day},{year}",
        nsep.join([year, name, day]),
    ]
    text = draw(st.sampled_from(forms))
    spaces = draw(st.sampled_from(["", " ", "  "]))
    return f"{spaces}{text}{spaces}", order, d.isoformat()


@settings(max_examples=500)
@given(written_dates())
def test_a_date_written_in_any_accepted_form_reads_back(case: tuple[str, str, str]) -> None:
    text, order, iso = case
    assert one(text, order=order) == iso


@st.composite
def written_partial_dates(draw) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    d = draw(valid_dates)
    order = draw(st.sampled_from(["DMY", "MDY"]))
    token = draw(st.sampled_from(["UN", "UNK", "un", "??", "XX"]))
    name = draw(st.sampled_from(CASES))(MONTHS[d.month - 1])
    month, year = f"{d.month:02d}", str(d.year)
    by_month = [
        f"{month}/{year}",
        f"{year}-{month}",
        f"{name}-{year}",
        f"{name}{year}",
        f"{name} {year}",
        f"{token}-{name}-{year}",
        f"{token}/{month}/{year}" if order == "DMY" else f"{month}/{token}/{year}",
    ]
    by_year = [year, f"{token}/{token}/{year}", f"{token}-{token}-{year}"]
    if draw(st.booleans()):
        return draw(st.sampled_from(by_month)), order, f"{year}-{month}"
    return draw(st.sampled_from(by_year)), order, year


@given(written_partial_dates())
def test_a_partial_date_reads_back_right_truncated(case: tuple[str, str, str]) -> None:
    text, order, iso = case
    assert one(text, order=order) == iso


FORMATS = ["%Y%m%d", "%d%m%Y", "%Y%j", "%d|%m|%Y", "%Y年%m月%d日", "%d %B, %Y", "%b. %d %Y"]


@given(valid_dates, st.sampled_from(FORMATS))
def test_a_date_written_in_an_explicit_format_reads_back(d: dt.date, fmt: str) -> None:
    assert one(d.strftime(fmt), formats=[fmt]) == d.isoformat()


times = st.tuples(st.integers(0, 23), st.integers(0, 59), st.one_of(st.none(), st.integers(0, 59)))


@given(times, st.booleans(), st.sampled_from(["", "AM", " PM", "pm", " a.m.", " P.M."]))
def test_a_time_written_on_either_clock_reads_back(
    t: tuple[int, int, int | None], pad: bool, suffix: str
) -> None:
    h, m, sec = t
    iso = f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec is not None else "")
    seconds = f":{sec:02d}" if sec is not None else ""
    if suffix:
        half = "P" if h >= 12 else "A"
        suffix = suffix.replace("A", half).replace("a", half.lower())
        suffix = suffix.replace("P", half).replace("p", half.lower())
        hour = h % 12 or 12
    else:
        hour = h
    text = f"{_num(hour, pad)}:{m:02d}{seconds}{suffix}"
    assert parse_time(pd.Series([text])).iloc[0] == iso
    if sec is None and not suffix:
        assert parse_time(pd.Series([f"{h:02d}{m:02d}"])).iloc[0] == iso


date_like = st.lists(
    st.sampled_from([*list("0123456789/.-: ?xXUNKunkAPRaprTt"), "UN", "UNK", "APR", "2016"]),
    max_size=14,
).map("".join)


@settings(max_examples=400)
@given(st.one_of(st.text(max_size=20), date_like))
def test_garbage_parses_to_iso_or_raises_date_parse_error(text: str) -> None:
    try:
        out = one(text)
    except DateParseError:
        return
    assert ISO_DATE.fullmatch(out)
    if len(out) == 10:
        dt.date.fromisoformat(out)
    if out:
        assert 1900 <= int(out[:4]) <= 2100


# ------------------------------------------------------------------ times


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("09:05", "09:05"),
        ("9:05", "09:05"),
        ("23:59:59", "23:59:59"),
        ("1030", "10:30"),
        (" 00:00 ", "00:00"),
        ("13:UN", "13"),
        ("13:30:UN", "13:30"),
        ("UN:UN", ""),
        ("UNK", ""),
        ("", ""),
    ],
)
def test_parse_time(raw: str, iso: str) -> None:
    assert parse_time(pd.Series([raw])).iloc[0] == iso


@pytest.mark.parametrize(
    "raw",
    ["24:00", "10:60", "10:5", "UN:30", "13:30 PM", "0:30 AM", "PM", "10", "1:2:3:4", "10.30"],
)
def test_parse_time_invalid(raw: str) -> None:
    with pytest.raises(DateParseError, match="row 4"):
        parse_time(pd.Series([raw], index=[4]))


def test_combine_dtc() -> None:
    d = pd.Series(["2016-04-05", "2016-04-05", "2016-04", ""], index=[1, 2, 3, 4])
    t = pd.Series(["10:30", "", "", ""], index=[1, 2, 3, 4])
    assert combine_dtc(d, t).tolist() == ["2016-04-05T10:30", "2016-04-05", "2016-04", ""]


def test_combine_dtc_time_with_partial_date() -> None:
    d = pd.Series(["2016-04", "", "2016-04-05"], index=[11, 12, 13])
    t = pd.Series(["10:30", "08:00", "09:00"], index=[11, 12, 13])
    with pytest.raises(DateParseError) as info:
        combine_dtc(d, t)
    assert info.value.rows == [11, 12]
    assert "row 11 '2016-04 10:30'" in str(info.value)
    dropped = combine_dtc(d, t, on_partial_date="drop")
    assert dropped.tolist() == ["2016-04", "", "2016-04-05T09:00"]
    with pytest.raises(ValueError):
        combine_dtc(d, t.reset_index(drop=True))


# ------------------------------------------------------------------ --DTC helpers


def test_dtc_to_date_and_datetime() -> None:
    s = pd.Series(["2016-04-05T10:30", "2016-04-05", "2016-04", "2016", "", None, "2016-04-05T10"])
    d = dtc_to_date(s)
    assert d.iloc[0] == pd.Timestamp("2016-04-05")
    assert d.iloc[1] == pd.Timestamp("2016-04-05")
    assert d.iloc[2:6].isna().all()
    assert d.iloc[6] == pd.Timestamp("2016-04-05")
    t = dtc_to_datetime(s)
    assert t.iloc[0] == pd.Timestamp("2016-04-05 10:30")
    assert t.iloc[1:].isna().all()  # hour-only time counts as date precision
    assert is_complete_date(s).tolist() == [True, True, False, False, False, False, True]


@pytest.mark.parametrize(
    "bad",
    [
        "05/04/2016",
        "2016-02-30",
        "2016---15",
        "2016-04-05T25:00",
        # invalid although partial or without minutes (cdisc_mapper.iso8601 validity)
        "2016-13",
        "2016-00",
        "2016-04-05T25",
        "2016-04-05T10:00Z",
        "2016-04-05\n",
        " 2016",
    ],
)
def test_dtc_helpers_reject_non_iso(bad: str) -> None:
    with pytest.raises(DateParseError, match=r"^not an ISO 8601 date/time .* in 1 row: row 1 "):
        dtc_to_date(pd.Series(["2016-01-01", bad]))


def test_dtc_helpers_blank_and_fractions() -> None:
    s = pd.Series(["  ", None, "2016-04-05T10:30:15.75", "1677-09-22"], index=[7, 8, 9, 10])
    assert dtc_to_date(s).isna().tolist() == [True, True, False, False]
    assert dtc_to_datetime(s).iloc[2] == pd.Timestamp("2016-04-05 10:30:15")
    assert dtc_to_date(s).index.tolist() == [7, 8, 9, 10]


@pytest.mark.parametrize("far", ["1500-01-01", "1677-09-21", "2262-04-12", "2262-04-11T23:59"])
def test_dtc_helpers_reject_dates_datetime64_cannot_hold(far: str) -> None:
    with pytest.raises(
        DateParseError, match=r"^date outside 1677-09-22 to 2262-04-11 .* in 1 row: row 1 "
    ):
        dtc_to_date(pd.Series(["2016-01-01", far]))
    assert dtc_to_date(pd.Series(["1500", "2300-01"])).isna().all()


# ------------------------------------------------------------------ study day


def test_study_day_before_on_after_reference() -> None:
    dtc = pd.Series(
        ["2016-04-04", "2016-04-05", "2016-04-06T23:59", "2016-03-06", "2016-04", "", "2017-04-05"]
    )
    ref = pd.Series(["2016-04-05T09:00"] * 7)
    assert derive_study_day(dtc, ref).tolist() == [-1, 1, 2, -30, pd.NA, pd.NA, 366]
    assert str(derive_study_day(dtc, ref).dtype) == "Int64"


def test_study_day_missing_reference() -> None:
    out = derive_study_day(pd.Series(["2016-04-04", "2016-04-04"]), pd.Series(["", "2016"]))
    assert out.isna().all()


@given(valid_dates, valid_dates, valid_dates)
def test_study_day_never_zero_and_monotonic(a: dt.date, b: dt.date, ref: dt.date) -> None:
    lo, hi = sorted([a, b])
    out = derive_study_day(
        pd.Series([lo.isoformat(), hi.isoformat()]), pd.Series([ref.isoformat()] * 2)
    )
    assert 0 not in out.tolist()
    assert out.iloc[0] <= out.iloc[1]
    expected = (lo - ref).days
    assert out.iloc[0] == (expected + 1 if expected >= 0 else expected)


# ------------------------------------------------------------------ age


def test_derive_age() -> None:
    birth = pd.Series(["1980-06-15", "1980-06-15", "2000-02-29", "2000-02-29", "1980", "1980-06"])
    ref = pd.Series(
        ["2016-06-14", "2016-06-15", "2017-02-28", "2017-03-01", "2016-01-01", "2016-01-01"]
    )
    assert derive_age(birth, ref).tolist() == [35, 36, 16, 17, pd.NA, pd.NA]


def test_derive_age_far_dates() -> None:
    # study days and ages do not go through datetime64: any 4-digit year works
    birth = pd.Series(["1500-06-15", "2016-02-29"])
    ref = pd.Series(["1550-06-14", "2300-02-28"])
    assert derive_age(birth, ref).tolist() == [49, 283]
    assert derive_study_day(birth, ref).tolist() == [-18261, -103728]


def test_derive_age_reference_before_birth() -> None:
    with pytest.raises(MappingError, match="row 1"):
        derive_age(pd.Series(["1980-01-01", "2020-01-01"]), pd.Series(["2016-01-01"] * 2))


# ------------------------------------------------------------------ partial dates


@pytest.mark.parametrize(
    ("dtc", "lo", "hi"),
    [
        ("2014-03", "2014-03-01", "2014-03-31"),
        ("2016-02", "2016-02-01", "2016-02-29"),
        ("2013", "2013-01-01", "2013-12-31"),
        ("2013-05-06", "2013-05-06", "2013-05-06"),
        ("2013-05-06T10:00", "2013-05-06T10:00", "2013-05-06T10:00"),
        ("2003---15", "2003-01-15", "2003-12-15"),
        ("", "", ""),
        (None, "", ""),
        ("2016-13", "2016-13", "2016-13"),  # invalid: unchanged, so a reader reports it
    ],
)
def test_partial_date_bounds(dtc: str | None, lo: str, hi: str) -> None:
    low, high = partial_date_bounds(pd.Series([dtc], index=[4]))
    assert (low.loc[4], high.loc[4]) == (lo, hi)


def test_derive_age_exact() -> None:
    birth = pd.Series(["1961-03", "1961-08", "1961", "1961-03-15"])
    ref = pd.Series(["2016-08-29"] * 4)
    assert derive_age_exact(birth, ref).tolist() == [55, pd.NA, pd.NA, 55]
    with pytest.raises(DateParseError):
        derive_age_exact(pd.Series(["2016-13"]), pd.Series(["2020-01-01"]))
