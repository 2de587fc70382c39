"""Tests of cdisc_mapper.iso8601.parsed: a column of Arrow text parsed again inside
``read_once`` is read once, and gives the values it gives when read anew (expected
values worked out by hand: SAS dates are days since 1960-01-01, 2016-01-01 is day
20454, 56 years of which 14 leap years after 1960-01-01)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper import iso8601
from cdisc_mapper.derive.dates import derive_study_day, parse_dtc
from cdisc_mapper.errors import DateParseError
from cdisc_mapper.iso8601 import parsed as parsed_module

VALUES = [
    "2016-08-04",  # day 20454 + 213 (Jan-Jul) + 3 = 20670
    "2016-08",  # partial: no SAS date; days 20667 (08-01) to 20697 (08-31)
    "",  # blank: missing, no problem
    "2016-02-30",  # no such day
    "2016-08-04T13:45+02:00",  # a time zone
    "2016-08-04T13:45",  # 20670 days and 13:45 (49,500 s)
    "2016",  # partial: 20454 (01-01) to 20819 (12-31)
    None,  # missing
]
SAS_DATES = [20670, np.nan, np.nan, np.nan, 20670, 20670, np.nan, np.nan]
VALID = [True, True, False, False, True, True, True, False]
ZONE = [False, False, False, False, True, False, False, False]
LOW_DAY = [20670, 20667, np.nan, np.nan, 20670, 20670, 20454, np.nan]
HIGH_DAY = [20670, 20697, np.nan, np.nan, 20670, 20670, 20819, np.nan]
DAY_SECONDS = 20670 * 86400


def arrow(values: list[str | None], index: list[object] | None = None) -> pd.Series:
    """Arrow text as pandas reads it (``str``: missing values are NaN)."""
    return pd.Series(values, index=index, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def check_values(parsed: iso8601.Parsed) -> None:
    np.testing.assert_array_equal(parsed.rows(parsed.sas_dates), SAS_DATES)
    np.testing.assert_array_equal(parsed.rows(parsed.valid_date_time), VALID)
    np.testing.assert_array_equal(parsed.rows(parsed.zone), ZONE)
    low, high = parsed.day_bounds
    np.testing.assert_array_equal(parsed.rows(low), LOW_DAY)
    np.testing.assert_array_equal(parsed.rows(high), HIGH_DAY)
    problems = parsed.rows(parsed.problem)
    assert problems[0] == problems[2] == problems[7] == ""
    assert problems[3] != ""  # 2016-02-30
    timed = parsed.rows(parsed.bounds[0])[5], parsed.rows(parsed.bounds[1])[5]
    assert timed == (DAY_SECONDS + 13 * 3600 + 45 * 60, DAY_SECONDS + 13 * 3600 + 45 * 60 + 59)
    assert list(parsed.rows(parsed.hour)) == [-1, -1, -1, -1, 13, 13, -1, -1]


def test_a_column_read_anew_gives_the_hand_worked_values():
    check_values(iso8601.parse(arrow(VALUES)))


def test_a_column_parsed_again_inside_read_once_is_read_once_with_the_same_values():
    column = arrow(VALUES)
    with iso8601.read_once():
        first = iso8601.parse(column)
        check_values(first)
        relabelled = column.set_axis([f"file.csv:{i + 2}" for i in range(len(VALUES))])
        again = iso8601.parse(relabelled)
        copied = iso8601.parse(column.copy())
        filled = column.fillna("")  # a missing value filled: new data, read again
        assert iso8601.parse(filled).values is not first.values
        no_missing = filled.astype(str)  # as the operations give it: the same data
        assert iso8601.parse(no_missing.astype(str)).values is iso8601.parse(filled).values
    assert again.values is first.values and copied.values is first.values  # shared
    assert list(again.index) == list(relabelled.index)  # each with its own rows
    check_values(again)
    check_values(copied)
    outside = iso8601.parse(column)
    assert outside.values is not first.values  # read anew outside
    check_values(outside)


def test_changed_values_are_read_again():
    column = arrow(VALUES)
    with iso8601.read_once():
        first = iso8601.parse(column)
        changed = column.copy()
        changed.iloc[0] = "2017-01-01"  # new Arrow data (Arrow arrays never change)
        second = iso8601.parse(changed)
        objects = pd.Series(VALUES, dtype=object)
        assert iso8601.parse(objects).values is not iso8601.parse(objects).values
    assert second.values is not first.values
    assert second.rows(second.sas_dates)[0] == 20820  # 2017-01-01
    assert first.rows(first.sas_dates)[0] == 20670


def test_an_invalid_date_is_reported_each_time_it_is_parsed():
    column = arrow(["2016-08-04", "2016-02-30", "2016-08-04T13:45+02:00"], ["a:2", "a:3", "a:4"])
    with iso8601.read_once():
        for _ in range(2):
            with pytest.raises(DateParseError) as raised:
                parse_dtc(column)
            assert "in 2 rows" in str(raised.value)
            assert "a:3" in str(raised.value) and "a:4" in str(raised.value)  # the rows


def test_study_days_inside_read_once_are_those_read_anew():
    # SDTMIG 3.4 section 4.4.4: 2016-08-04 against 2016-08-01 is day 4; 2016-07-31 is -1
    dtc = arrow(["2016-08-04", "2016-07-31", "2016-08", "", "2016-08-01T08:00"])
    ref = arrow(["2016-08-01"] * 5)
    expected = [4, -1, None, None, 1]
    with iso8601.read_once():
        for _ in range(2):
            days = derive_study_day(dtc, ref)
            assert [None if pd.isna(d) else int(d) for d in days] == expected
    days = derive_study_day(dtc, ref)
    assert [None if pd.isna(d) else int(d) for d in days] == expected


def test_the_oldest_columns_are_dropped_beyond_the_rows_kept(monkeypatch):
    monkeypatch.setattr(parsed_module, "READ_ONCE_ROWS", 10)
    a, b = arrow(VALUES), arrow(VALUES)  # 8 rows each: both together are over 10
    with iso8601.read_once():
        first_a = iso8601.parse(a)
        iso8601.parse(b)
        assert iso8601.parse(a).values is not first_a.values  # a was dropped for b
        assert iso8601.parse(b).values is iso8601.parse(b).values
