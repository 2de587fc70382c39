"""Tests of cdisc_mapper.iso8601: ISO 8601 values (SDTMIG 3.4 section 4.4) read once per
distinct value. Input -> expected tables per function, then properties."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper import iso8601
from cdisc_mapper.iso8601._fast import read_common
from cdisc_mapper.iso8601._text import precision_length, read_dtc

EPOCH = dt.datetime(1960, 1, 1)
NOT_ISO = "not ISO 8601 (expected e.g. 2016-08-04, 2016-08, 2016-08-04T13:45)"


def S(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype=object)


def sas_seconds(text: str) -> float:
    return (dt.datetime.fromisoformat(text) - EPOCH).total_seconds()


def sas_day(text: str) -> float:
    return float((dt.date.fromisoformat(text) - EPOCH.date()).days)


def as_text(seconds: float) -> str:
    if math.isnan(seconds):
        return ""
    return (EPOCH + dt.timedelta(seconds=seconds)).isoformat()


# ----------------------------------------------------------------------------- problems


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", ""),
        ("2016", ""),
        ("2016-08", ""),
        ("2016-08-04", ""),
        ("2016-08-04T13", ""),
        ("2016-08-04T13:45", ""),
        ("2016-08-04T13:45:30", ""),
        ("2016-08-04T13:45:30.25", ""),
        ("2016-08-04T13:45Z", ""),
        ("2016-08-04T13:45+01:00", ""),
        ("2016-08-04T13-05", ""),
        ("2003---15", ""),
        ("--12-15", ""),
        ("-----T07:15", ""),
        ("2003-12-15T-:15", ""),
        ("-", ""),
        ("2016-02-29", ""),
        ("1500-01-01", ""),
        ("0000-01", ""),
        ("2016-08-04/2016-08-10", ""),
        ("2016-08-04/P3D", ""),
        ("P3D/2016-08-10", ""),
        ("2016-13", "month 13 out of range"),
        ("2016-00-01", "month 00 out of range"),
        ("2016-01-32", "day 32 out of range"),
        ("2015-02-29", "2015-02-29 is not a calendar date"),
        ("0000-01-01", "0000-01-01 is not a calendar date"),
        ("2016-01-01T24:00", "hour 24 out of range"),
        ("2016-01-01T10:60", "minute 60 out of range"),
        ("2016-01-01T10:00:60", "second 60 out of range"),
        ("2016--", "ends with a missing component (drop trailing missing parts)"),
        ("2016-08-04T-", "ends with a missing component (drop trailing missing parts)"),
        ("04/08/2016", "not ISO 8601 (an interval has one '/', e.g. 2016-08-04/2016-08-10)"),
        ("04.08.2016", NOT_ISO),
        ("2016-8-4", NOT_ISO),
        ("2016-08-04 13:45", NOT_ISO),
        ("2016-08-04t13:45", NOT_ISO),
        (" 2016", NOT_ISO),
        ("2016\n", NOT_ISO),
        ("   ", NOT_ISO),
        ("٢٠١٦", NOT_ISO),
        ("2016-08-04/", NOT_ISO),
        ("P3D", NOT_ISO),
        ("a/b/c", "not ISO 8601 (an interval has one '/', e.g. 2016-08-04/2016-08-10)"),
        ("2016-08-04/2016-13", "month 13 out of range"),
    ],
)
def test_problems(value: str, problem: str) -> None:
    assert iso8601.problems(S([value])).tolist() == [problem]


def test_problems_missing_values_and_categoricals() -> None:
    values = ["2016-13", None, "2016", np.nan, "2016-13", pd.NA]
    expected = ["month 13 out of range", "", "", "", "month 13 out of range", ""]
    assert iso8601.problems(S(values)).tolist() == expected
    assert iso8601.problems(S(values).astype("category")).tolist() == expected
    assert iso8601.problems(pd.Series(["2016", None], dtype="string")).tolist() == ["", ""]
    assert iso8601.problems(S([])).tolist() == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", ""),
        ("P1Y2M", ""),
        ("PT30M", ""),
        ("P2W", ""),
        ("-P1D", ""),
        ("P1Y2M3DT4H5M6.5S", ""),
        ("PT0,5H", ""),
        ("P", ""),  # accepted, as the validator always has
        ("PT", "not an ISO 8601 duration (e.g. P1Y2M, PT30M, P2W)"),
        ("P1H", "not an ISO 8601 duration (e.g. P1Y2M, PT30M, P2W)"),
        ("1D", "not an ISO 8601 duration (e.g. P1Y2M, PT30M, P2W)"),
        ("P1W2D", "not an ISO 8601 duration (e.g. P1Y2M, PT30M, P2W)"),
    ],
)
def test_duration_problems(value: str, problem: str) -> None:
    assert iso8601.duration_problems(S([value])).tolist() == [problem]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("P1Y2M", iso8601.Duration(False, 1, 2, 0, 0, 0, 0, 0)),
        ("-PT1.5H", iso8601.Duration(True, 0, 0, 0, 0, 1.5, 0, 0)),
        ("P2W", iso8601.Duration(False, 0, 0, 2, 0, 0, 0, 0)),
        ("P3DT4H5M6,5S", iso8601.Duration(False, 0, 0, 0, 3, 4, 5, 6.5)),
        ("P", iso8601.Duration(False, 0, 0, 0, 0, 0, 0, 0)),
        ("PT", None),
        ("2016", None),
    ],
)
def test_parse_duration(value: str, expected: iso8601.Duration | None) -> None:
    assert iso8601.parse_duration(value) == expected


# ---------------------------------------------------------------------------- precision


@pytest.mark.parametrize(
    ("value", "length"),
    [
        ("2016", iso8601.YEAR),
        ("2016-08", iso8601.MONTH),
        ("2016-08-04", iso8601.DAY),
        ("2016-08-04T13", iso8601.HOUR),
        ("2016-08-04T13:45", iso8601.MINUTE),
        ("2016-08-04T13:45:30", iso8601.SECOND),
        ("2016-08-04T13:45:30.25", 22),
        ("2016-08-04T13:45+01:00", iso8601.MINUTE),
        ("2003---15", iso8601.YEAR),
        ("--12-15", 0),
        ("2016-08-04T25:00", iso8601.MINUTE),  # the leading part is read anyway
        ("", 0),
        ("abc", 0),
    ],
)
def test_precision(value: str, length: int) -> None:
    assert iso8601.precision(S([value])).tolist() == [length]


# ------------------------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    ("value", "lo", "hi"),
    [
        ("2020", "2020-01-01T00:00:00", "2020-12-31T23:59:59"),
        ("2020-02", "2020-02-01T00:00:00", "2020-02-29T23:59:59"),
        ("2019-02", "2019-02-01T00:00:00", "2019-02-28T23:59:59"),
        ("2020-03-15", "2020-03-15T00:00:00", "2020-03-15T23:59:59"),
        ("2020-03-15T10", "2020-03-15T10:00:00", "2020-03-15T10:59:59"),
        ("2020-03-15T10:30", "2020-03-15T10:30:00", "2020-03-15T10:30:59"),
        ("2020-03-15T10:30:15", "2020-03-15T10:30:15", "2020-03-15T10:30:15"),
        ("2020-03-15T10:30:15.75", "2020-03-15T10:30:15", "2020-03-15T10:30:15"),
        ("2020-03-15T10:30+05:00", "2020-03-15T10:30:00", "2020-03-15T10:30:59"),
        ("2020---15", "2020-01-15T00:00:00", "2020-12-15T23:59:59"),
        ("2020-02--T10:00", "2020-02-01T10:00:00", "2020-02-29T10:00:59"),
        ("2020-03-15T-:30", "2020-03-15T00:30:00", "2020-03-15T23:30:59"),
        ("1500-06", "1500-06-01T00:00:00", "1500-06-30T23:59:59"),
        ("1959-12-31T23:59:59", "1959-12-31T23:59:59", "1959-12-31T23:59:59"),
        ("--12-15", "", ""),
        ("-", "", ""),
        ("2020-02-30", "", ""),
        ("2020-03-15/2020-03-20", "", ""),
        ("15/03/2020", "", ""),
        ("", "", ""),
        (None, "", ""),
    ],
)
def test_bounds(value: str | None, lo: str, hi: str) -> None:
    low, high = iso8601.bounds(S([value]))
    assert (as_text(low[0]), as_text(high[0])) == (lo, hi)


def test_bounds_are_sas_datetimes() -> None:
    low, high = iso8601.bounds(S(["1960-01-01", "1960", "1959-12"]))
    assert low.dtype == np.float64
    assert low.tolist() == [0.0, 0.0, -31 * 86400.0]
    assert high.tolist() == [86399.0, 366 * 86400.0 - 1, -1.0]


# --------------------------------------------------------------------- to_sas_date


@pytest.mark.parametrize(
    ("value", "expected", "date_portion"),
    [
        ("1960-01-01", 0.0, None),
        ("2016-02-03", sas_day("2016-02-03"), None),
        ("2016-02-03T10:11", sas_day("2016-02-03"), None),
        ("2016-02-03T10:11:12.5+01:00", sas_day("2016-02-03"), None),
        ("2003-12-15T-:15", sas_day("2003-12-15"), None),
        ("1500-01-01", sas_day("1500-01-01"), None),
        ("2016-02", math.nan, None),
        ("2016", math.nan, None),
        ("2003---15", math.nan, None),
        ("", math.nan, None),
        (None, math.nan, None),
        ("2016-02-30", math.nan, None),
        ("0000-01-01", math.nan, None),  # year 0000 is not a calendar year here
        # invalid time: no date, except for the date portion
        ("2016-02-03T25:00", math.nan, sas_day("2016-02-03")),
        ("2016-02-03 10:11", math.nan, sas_day("2016-02-03")),
        ("2016-02-03/2016-02-05", math.nan, sas_day("2016-02-03")),
    ],
)
def test_to_sas_date(value: str | None, expected: float, date_portion: float | None) -> None:
    got = iso8601.to_sas_date(S([value]))[0]
    portion = iso8601.to_sas_date(S([value]), date_portion=True)[0]
    want_portion = expected if date_portion is None else date_portion
    assert got == expected or (math.isnan(got) and math.isnan(expected))
    assert portion == want_portion or (math.isnan(portion) and math.isnan(want_portion))


def test_from_sas_date() -> None:
    days = pd.Series([0.0, -1.0, 20513.0, np.nan, 2.9], index=[5, 6, 7, 8, 9])
    out = iso8601.from_sas_date(days)
    assert out.tolist() == ["1960-01-01", "1959-12-31", "2016-02-29", "", "1960-01-03"]
    assert out.index.tolist() == [5, 6, 7, 8, 9]


# ---------------------------------------------------------------------------- study day


@pytest.mark.parametrize(
    ("date", "reference", "day"),
    [
        ("2016-04-05", "2016-04-05", 1.0),
        ("2016-04-06", "2016-04-05", 2.0),
        ("2016-04-04", "2016-04-05", -1.0),
        ("2016-03-06", "2016-04-05", -30.0),
        ("2017-04-05", "2016-04-05", 366.0),
        ("", "2016-04-05", math.nan),
        ("2016-04-05", "", math.nan),
    ],
)
def test_study_day(date: str, reference: str, day: float) -> None:
    got = iso8601.study_day(iso8601.to_sas_date(S([date])), iso8601.to_sas_date(S([reference])))
    assert got[0] == day or (math.isnan(got[0]) and math.isnan(day))


# ------------------------------------------------------------------------------ compare


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        ("2016-08-04", "2016-08-05", -1.0),
        ("2016-08-05", "2016-08-04", 1.0),
        ("2016-08", "2016-08-04", 0.0),
        ("2016-08-04", "2016-08-04T10:00", 0.0),
        ("2016-08-04T09:59", "2016-08-04T10:00", -1.0),
        ("2016", "2015-12-31", 1.0),
        ("2003---15", "2003-12-15", 0.0),
        ("", "2016", math.nan),
        ("--12-15", "2016-12-15", math.nan),
    ],
)
def test_compare(a: str, b: str, order: float) -> None:
    got = iso8601.compare(S([a]), S([b]))[0]
    assert got == order or (math.isnan(got) and math.isnan(order))


def test_compare_is_by_position() -> None:
    a = pd.Series(["2016-01-01", "2016-01-03"], index=[10, 11])
    b = pd.Series(["2016-01-02", "2016-01-02"], index=[11, 10])
    assert iso8601.compare(a, b).tolist() == [-1.0, 1.0]


# ------------------------------------------------------------------------------ parse


def test_parse_components_once_per_distinct_value() -> None:
    parsed = iso8601.parse(S(["2016-08-04T10:30", "2016-08-04T10:30", None, "2003---15", "x"]))
    assert parsed.text.tolist() == ["2016-08-04T10:30", "2003---15", "x", ""]
    assert parsed.rows(parsed.text).tolist() == [
        "2016-08-04T10:30",
        "2016-08-04T10:30",
        "",
        "2003---15",
        "x",
    ]
    assert parsed.year.tolist() == [2016, 2003, -1, -1]
    assert parsed.month.tolist() == [8, -1, -1, -1]
    assert parsed.day.tolist() == [4, 15, -1, -1]
    assert parsed.hour.tolist() == [10, -1, -1, -1]
    assert parsed.minute.tolist() == [30, -1, -1, -1]
    assert parsed.hyphen.tolist() == [False, True, False, False]
    assert parsed.shaped.tolist() == [True, True, False, False]
    assert parsed.problem.tolist() == ["", "", NOT_ISO, ""]


def test_calendar_matches_python() -> None:
    dates = [dt.date(1, 1, 1), dt.date(1582, 10, 15), dt.date(1900, 2, 28), dt.date(9999, 12, 31)]
    got = iso8601.sas_date(
        [d.year for d in dates], [d.month for d in dates], [d.day for d in dates]
    )
    assert got.tolist() == [(d - EPOCH.date()).days for d in dates]
    assert iso8601.days_in_month([1900, 2000, 2016, 2019], [2, 2, 2, 4]).tolist() == [
        28,
        29,
        29,
        30,
    ]


# ---------------------------------------------------------------------------- properties

datetimes = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))
# component counts: year, month, day, hour, minute, second
CUTS = {1: 4, 2: 7, 3: 10, 4: 13, 5: 16, 6: 19}


def full_iso(value: dt.datetime) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value:%H:%M:%S}"


@settings(deadline=None)
@given(datetimes, st.integers(1, 6))
def test_bounds_contain_the_instant(value: dt.datetime, parts: int) -> None:
    text = full_iso(value)[: CUTS[parts]]
    lo, hi = iso8601.bounds(S([text]))
    instant = (value.replace(microsecond=0) - EPOCH).total_seconds()
    assert lo[0] <= instant <= hi[0]


@settings(deadline=None)
@given(datetimes)
def test_truncating_widens_bounds(value: dt.datetime) -> None:
    full = full_iso(value)
    texts = [full[: CUTS[k]] for k in range(6, 0, -1)]
    lo, hi = iso8601.bounds(S(texts))
    assert (np.diff(lo) <= 0).all()
    assert (np.diff(hi) >= 0).all()
    assert lo[0] == hi[0]


@settings(deadline=None)
@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_complete_date_bounds_span_one_day(day: dt.date) -> None:
    lo, hi = iso8601.bounds(S([day.isoformat()]))
    assert hi[0] - lo[0] == 86399
    assert lo[0] == (day - EPOCH.date()).days * 86400.0


@settings(deadline=None)
@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_to_sas_date_round_trip(day: dt.date) -> None:
    text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    number = iso8601.to_sas_date(S([text]))
    assert number[0] == (day - EPOCH.date()).days
    assert iso8601.from_sas_date(pd.Series(number)).tolist() == [text]


@settings(deadline=None)
@given(st.integers(-700_000, 2_900_000))
def test_from_sas_date_round_trip(number: int) -> None:
    text = iso8601.from_sas_date(pd.Series([float(number)]))
    assert iso8601.to_sas_date(text).tolist() == [number]


@settings(deadline=None)
@given(datetimes, st.integers(1, 6), st.data())
def test_hyphens_widen_bounds(value: dt.datetime, parts: int, data: st.DataObject) -> None:
    """Writing a component as a missing-component hyphen never narrows the bounds."""
    full = full_iso(value)[: CUTS[parts]]
    # components that may be replaced: month, day, hour, minute (not the last one given)
    spans = [(5, 7), (8, 10), (11, 13), (14, 16)][: max(parts - 2, 0)]
    if not spans:
        return
    start, end = data.draw(st.sampled_from(spans))
    hyphened = full[:start] + "-" + full[end:]
    assert iso8601.problems(S([hyphened])).tolist() == [""]
    lo, hi = iso8601.bounds(S([full, hyphened]))
    assert lo[1] <= lo[0] <= hi[0] <= hi[1]


date_text = st.text(alphabet="0123456789-T:+Z./P ", max_size=24)


@settings(deadline=None, max_examples=300)
@given(st.lists(date_text | st.sampled_from(["2016-02-29", "2015-02-29", "2016-13"])))
def test_vectorised_reader_matches_the_exact_reader(texts: list[str]) -> None:
    parsed = iso8601.parse(S(texts))
    common = read_common(parsed.text)[0]
    for i, text in enumerate(parsed.text):
        components, problem = read_dtc(text)
        assert parsed.problem[i] == problem
        assert parsed.shaped[i] == (components is not None)
        assert parsed.precision[i] == precision_length(text)
        if components is not None:
            got = (parsed.year[i], parsed.month[i], parsed.day[i], parsed.hour[i])
            assert got == components[:4]
            assert parsed.minute[i] == components.minute
        if common[i]:
            assert problem == ""


@settings(deadline=None, max_examples=300)
@given(st.lists(date_text, max_size=8))
def test_parser_properties(texts: list[str]) -> None:
    values = S(texts)
    problems = iso8601.problems(values)
    lo, hi = iso8601.bounds(values)
    days = iso8601.to_sas_date(values)
    known = ~np.isnan(lo)
    assert (lo[known] <= hi[known]).all()
    assert (problems[known] == "").all()
    # a complete date's bounds lie within its day
    dated = ~np.isnan(days)
    assert (np.floor(lo[dated] / 86400) == days[dated]).all()
    assert (np.floor(hi[dated] / 86400) == days[dated]).all()
    assert (iso8601.precision(values) <= [len(t) for t in texts]).all()


def test_day_bounds() -> None:
    parsed = iso8601.parse(S(["2016-02", "2016-02-03T23:59:59", "1959-12", "--12-15"]))
    lo, hi = parsed.day_bounds
    assert lo[:3].tolist() == [sas_day("2016-02-01"), sas_day("2016-02-03"), -31.0]
    assert hi[:3].tolist() == [sas_day("2016-02-29"), sas_day("2016-02-03"), -1.0]
    assert np.isnan(lo[3]) and np.isnan(hi[3])
