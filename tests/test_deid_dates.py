"""Dates moved by an offset (cdisc_mapper.deid.dates): every precision, worked by hand."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.deid.dates import shift_dtc, shift_numeric, shift_text


@pytest.mark.parametrize(
    ("value", "days", "expected"),
    [
        ("2016-08-04", -30, "2016-07-05"),  # 4 days back to 31 July, 26 more
        ("2016-08-04T13:45", -365, "2015-08-05T13:45"),  # 2016 is a leap year
        ("2016-03-01T08:00:30", -1, "2016-02-29T08:00:30"),
        ("2016-12-31", 1, "2017-01-01"),
        ("2016-08", -400, "2015-06"),  # 1 August 2016 - 400 days = 28 June 2015
        ("2016-01", -20, "2015-12"),  # 1 January - 20 days = 12 December
        ("2016-08", 10, "2016-08"),  # 11 August
        ("2016", -400, "2014"),  # 1 January 2016 - 400 days = 27 November 2014
        ("2016", -100, "2015"),  # 23 September 2015
        ("2016-08-04/2016-08-10", 1, "2016-08-05/2016-08-11"),
        ("2016-08-04/P3D", 1, "2016-08-05/P3D"),
        ("P3D", 100, "P3D"),
    ],
)
def test_each_precision_moves_as_documented(value: str, days: int, expected: str) -> None:
    assert shift_text(value, days) == expected


@pytest.mark.parametrize(
    ("value", "days", "expected"),
    [
        ("2016-08", -400, "2015-07"),  # 31 August 2016 - 400 days = 27 July 2015
        ("2016-08", 10, "2016-09"),  # 10 September
        ("2016-02", -29, "2016-01"),  # 29 February 2016 - 29 days = 31 January
        ("2016", -400, "2015"),  # 31 December 2016 - 400 days = 27 November 2015
        ("2016", -100, "2016"),  # 22 September 2016
        ("2016-08-04", -30, "2016-07-05"),  # complete dates: as for a start
    ],
)
def test_a_partial_end_date_moves_with_the_last_day_it_stands_for(
    value: str, days: int, expected: str
) -> None:
    assert shift_text(value, days, end=True) == expected


@settings(deadline=None, max_examples=300)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)),
    st.integers(0, 400),
    st.sampled_from([4, 7]),
    st.integers(-3000, 3000),
)
def test_a_start_never_moves_after_its_end(start: date, length: int, cut: int, days: int) -> None:
    """Start complete, end partial (or the reverse): their order at the common precision
    is kept, so a valid record stays valid."""
    end = (start + timedelta(days=length)).isoformat()[:cut]
    moved_start = shift_text(start.isoformat(), days) or ""
    moved_end = shift_text(end, days, end=True) or ""
    assert moved_start[:cut] <= moved_end
    partial_start = start.isoformat()[:cut]
    full_end = (start + timedelta(days=length)).isoformat()
    assert (shift_text(partial_start, days) or "") <= (shift_text(full_end, days, end=True) or "")[
        :cut
    ]


@pytest.mark.parametrize(
    "value", ["9999-12-31", "2003---15", "--12-15", "2016-02-30", "4 Aug 2016", "a/b/c"]
)
def test_values_that_cannot_move_faithfully_are_refused(value: str) -> None:
    assert shift_text(value, 10) is None


def test_a_series_moves_row_by_row_and_counts_what_it_removed() -> None:
    values = pd.Series(["2016-08-04", "", "2003---15", "2016-08"])
    moved, lost = shift_dtc(values, np.array([-4, -4, -4, 31]))
    assert moved.tolist() == ["2016-07-31", "", "", "2016-09"]
    assert lost == 1


def test_numeric_dates_and_datetimes_move_by_days_and_seconds() -> None:
    days = np.array([-10, 5])
    assert shift_numeric(pd.Series([20000.0, np.nan]), days, seconds=False).tolist()[0] == 19990.0
    assert np.isnan(shift_numeric(pd.Series([20000.0, np.nan]), days, seconds=False).iloc[1])
    moved = shift_numeric(pd.Series([100.0, 200.0]), days, seconds=True)
    assert moved.tolist() == [100.0 - 864000.0, 200.0 + 432000.0]


@settings(deadline=None, max_examples=200)
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)),
    st.integers(-3000, 3000),
)
def test_the_distance_of_two_complete_dates_is_kept(a: date, b: date, days: int) -> None:
    """The study day rests on the distance of two dates (SDTMIG 3.4 section 4.4.4)."""
    new_a = date.fromisoformat(shift_text(a.isoformat(), days) or "")
    new_b = date.fromisoformat(shift_text(b.isoformat(), days) or "")
    assert (new_a - new_b).days == (a - b).days
