"""Relative-day data (cdisc_mapper.derive.relative): offsets read as whole days, study
days with no day 0 (SDTMIG 3.4 section 4.4.4) and pseudo dates from an anchor. Expected
values are worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.derive.relative import (
    day_axis_dates,
    epoch_of_study_days,
    offset_days,
    pseudo_dates,
    study_days_of_offsets,
)
from cdisc_mapper.errors import MappingError


def test_offsets_are_whole_days_and_blank_is_missing() -> None:
    got = offset_days(pd.Series(["-12", " 0 ", "35", "35.0", "", "+4"]))
    assert got.tolist()[:4] == [-12.0, 0.0, 35.0, 35.0]
    assert pd.isna(got.iloc[4]) and got.iloc[5] == 4.0


def test_an_offset_that_is_no_whole_number_names_its_rows() -> None:
    with pytest.raises(MappingError) as err:
        offset_days(pd.Series(["1", "3.5", "abc"], index=[2, 3, 4]))
    assert "offset that is not a whole number of days in 2 rows: row 3 '3.5', row 4 'abc'" in (
        str(err.value)
    )


def test_elapsed_offsets_give_study_days_without_day_0() -> None:
    days = study_days_of_offsets(pd.Series([-7.0, -1.0, 0.0, 1.0, 91.0, None]), "elapsed")
    assert days.tolist()[:5] == [-7, -1, 1, 2, 92]
    assert pd.isna(days.iloc[5])


def test_offsets_counted_as_study_days_are_kept_and_0_is_an_error() -> None:
    days = study_days_of_offsets(pd.Series([-1.0, 1.0, 30.0]), "study_day")
    assert days.tolist() == [-1, 1, 30]
    with pytest.raises(MappingError, match=r"study day 0 .* in 1 row: row 1 '0'"):
        study_days_of_offsets(pd.Series([1.0, 0.0]), "study_day")


def test_pseudo_dates_are_the_anchor_plus_the_offset() -> None:
    # 2000 is a leap year: 2000-01-01 + 59 days is 29 February
    got = pseudo_dates(pd.Series([-1.0, 0.0, 59.0, 366.0, None]), "2000-01-01")
    assert got.tolist() == ["1999-12-31", "2000-01-01", "2000-02-29", "2001-01-01", ""]


def test_pseudo_dates_of_study_day_offsets_skip_day_0() -> None:
    got = pseudo_dates(pd.Series([-1.0, 1.0, 2.0]), "2000-01-01", "study_day")
    assert got.tolist() == ["1999-12-31", "2000-01-01", "2000-01-02"]


@settings(deadline=None, max_examples=60)
@given(st.integers(min_value=-40000, max_value=40000))
def test_a_date_and_its_study_day_agree(offset: int) -> None:
    """The study day counted from the pseudo date (date - anchor + 1 on or after it,
    date - anchor before it) is the study day of the offset."""
    date = pseudo_dates(pd.Series([float(offset)]), "2000-01-01").iloc[0]
    delta = (pd.Timestamp(date) - pd.Timestamp("2000-01-01")).days
    expected = delta + 1 if delta >= 0 else delta
    assert study_days_of_offsets(pd.Series([float(offset)]), "elapsed").iloc[0] == expected


def test_a_pseudo_date_of_study_day_0_is_an_error() -> None:
    with pytest.raises(MappingError, match="study day 0"):
        pseudo_dates(pd.Series([0.0]), "2000-01-01", "study_day")


# ------------------------------------------------- study days placed on a day axis


def test_study_days_on_the_day_axis_have_no_gap_for_day_0() -> None:
    # day 1 is the axis origin (2000-01-01), day -1 the day before it, day 2 the day after
    got = day_axis_dates(pd.Series([-1.0, 1.0, 2.0, 366.0, None]))
    assert got.tolist() == ["1999-12-31", "2000-01-01", "2000-01-02", "2000-12-31", ""]


def test_a_day_0_or_a_part_day_names_its_rows() -> None:
    with pytest.raises(MappingError) as err:
        day_axis_dates(pd.Series([1.0, 0.0, 2.5], index=["qs.csv:2", "qs.csv:3", "qs.csv:4"]))
    assert "study day that is not a whole non-zero number of days (no day 0" in str(err.value)
    assert str(err.value).endswith("in 2 rows: row qs.csv:3 '0', row qs.csv:4 '2.5'")


# Subject S-1: run-in from day -14, treatment from day 1 to day 30 (its last day)
SE_DAYS = pd.DataFrame(
    {
        "USUBJID": ["S-1", "S-1"],
        "EPOCH": ["RUN-IN", "TREATMENT"],
        "SESTDY": [-14.0, 1.0],
        "SEENDY": [1.0, 30.0],
    }
)


def test_epoch_of_study_days_with_no_day_0_between_day_minus_1_and_day_1() -> None:
    dy = pd.Series([-15.0, -14.0, -1.0, 1.0, 30.0, 31.0, None, 5.0])
    subjects = pd.Series(["S-1"] * 7 + ["S-2"])  # S-2 has no elements
    got = epoch_of_study_days(dy, subjects, SE_DAYS).tolist()
    assert got == ["", "RUN-IN", "RUN-IN", "TREATMENT", "TREATMENT", "", "", ""]


def test_an_element_without_a_start_day_is_an_error() -> None:
    se = SE_DAYS.assign(SESTDY=[-14.0, None])
    with pytest.raises(MappingError, match=r"subject element \(SE\) without a study day SESTDY"):
        epoch_of_study_days(pd.Series([1.0]), pd.Series(["S-1"]), se)


@settings(deadline=None, max_examples=60)
@given(st.integers(min_value=-40000, max_value=40000).filter(lambda d: d != 0))
def test_the_next_study_day_is_the_next_day_on_the_axis(day: int) -> None:
    """Study days follow each other with no day 0 (-1 then 1), so each study day and the
    next one are one day apart on the axis, and the axis keeps their order."""
    following = 1 if day == -1 else day + 1
    got = day_axis_dates(pd.Series([float(day), float(following)])).tolist()
    assert (pd.Timestamp(got[1]) - pd.Timestamp(got[0])).days == 1
