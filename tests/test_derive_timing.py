"""Unit tests of cdisc_mapper.derive.timing: unscheduled VISITNUM/VISIT and EPOCH.

* SDTMIG 3.4 section 4.4.5 (Clinical Encounters and Visits): VISITNUM is populated also
  for unplanned visits, with numbers that sort chronologically (an unscheduled visit after
  visit 3 is 3.1 in the IG's example; here ``base + step * k``).
* SDTMIG 3.4 section 4.1.3.1 (EPOCH Variable Guidance) and 5.3 (SE): EPOCH is the element
  of the subject's SE the date falls in; no imputation; null when it cannot be determined.

One rule per test: a small input table and the table expected back.
(tests/test_derive_flags.py has a few first cases of both; these cover the rules fully.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.derive import derive_epoch, derive_visitnum_unscheduled
from cdisc_mapper.derive.partial import derive_epoch_exact
from cdisc_mapper.errors import DateParseError, MappingError, SpecError

# ------------------------------------------------------------------ unscheduled visits


def _sv(rows: list[tuple[str, float, str, str]], index=None) -> pd.DataFrame:
    """(USUBJID, VISITNUM, VISIT, SVSTDTC) rows."""
    return pd.DataFrame(rows, columns=["USUBJID", "VISITNUM", "VISIT", "SVSTDTC"], index=index)


def _expected(vn: list[float], visit: list[str], index) -> pd.DataFrame:
    return pd.DataFrame({"VISITNUM": vn, "VISIT": pd.Series(visit, dtype=str, index=index)})


def test_unscheduled_scheduled_rows_unchanged() -> None:
    sv = _sv(
        [
            ("01", 1.0, "SCREENING", "2016-01-01"),
            ("01", 2.0, "BASELINE", ""),  # a scheduled visit without date stays as it is
            ("01", 3.5, "WEEK 2", "2016-01-15T10:00"),
        ],
        index=[7, 8, 9],
    )
    out = derive_visitnum_unscheduled(sv)
    expected = _expected([1.0, 2.0, 3.5], ["SCREENING", "BASELINE", "WEEK 2"], sv.index)
    pd.testing.assert_frame_equal(out, expected)


def test_unscheduled_numbered_after_last_scheduled_visit_in_date_order() -> None:
    # 4.4.5: numbers sort chronologically; the k-th unscheduled date after visit N is N.0k
    sv = _sv(
        [
            ("01", 1.0, "SCREENING", "2016-01-01"),
            ("01", np.nan, "Unsched", "2016-01-20"),
            ("01", np.nan, "Unsched", "2016-01-05"),
            ("01", 2.0, "WEEK 4", "2016-02-01"),
            ("01", np.nan, "Unsched", "2016-01-10"),
            ("01", np.nan, "Unsched", "2016-03-01"),
        ]
    )
    out = derive_visitnum_unscheduled(sv)
    expected = _expected(
        [1.0, 1.03, 1.01, 2.0, 1.02, 2.01],
        [
            "SCREENING",
            "UNSCHEDULED 1.03",
            "UNSCHEDULED 1.01",
            "WEEK 4",
            "UNSCHEDULED 1.02",
            "UNSCHEDULED 2.01",
        ],
        sv.index,
    )
    pd.testing.assert_frame_equal(out, expected)


def test_unscheduled_on_a_scheduled_visit_date_follows_the_highest_visit_of_that_day() -> None:
    sv = _sv(
        [
            ("01", 2.0, "DAY 1 PRE", "2016-01-10T08:00"),
            ("01", 3.0, "DAY 1 POST", "2016-01-10T12:00"),
            ("01", np.nan, "Unsched", "2016-01-10"),  # same date: after visit 3, not 2
        ]
    )
    out = derive_visitnum_unscheduled(sv)
    expected = _expected(
        [2.0, 3.0, 3.01], ["DAY 1 PRE", "DAY 1 POST", "UNSCHEDULED 3.01"], sv.index
    )
    pd.testing.assert_frame_equal(out, expected)


def test_unscheduled_before_every_scheduled_visit_numbered_from_zero() -> None:
    sv = _sv(
        [
            ("01", np.nan, "Unsched", "2015-12-01"),
            ("01", np.nan, "Unsched", "2015-12-15"),
            ("01", 1.0, "SCREENING", "2016-01-01"),
        ]
    )
    out = derive_visitnum_unscheduled(sv)
    expected = _expected(
        [0.01, 0.02, 1.0], ["UNSCHEDULED 0.01", "UNSCHEDULED 0.02", "SCREENING"], sv.index
    )
    pd.testing.assert_frame_equal(out, expected)


def test_unscheduled_same_subject_and_date_is_one_visit_even_with_times() -> None:
    # e.g. an unscheduled VS and LB record on the same day: one visit, one number
    sv = _sv(
        [
            ("01", 1.0, "SCREENING", "2016-01-01"),
            ("01", np.nan, "Unsched", "2016-01-05T09:00"),
            ("01", np.nan, "Unsched", "2016-01-05T15:30"),
            ("01", np.nan, "Unsched", "2016-01-05"),
        ]
    )
    out = derive_visitnum_unscheduled(sv)
    expected = _expected(
        [1.0, 1.01, 1.01, 1.01],
        ["SCREENING"] + ["UNSCHEDULED 1.01"] * 3,
        sv.index,
    )
    pd.testing.assert_frame_equal(out, expected)


def test_unscheduled_numbered_per_subject() -> None:
    # each subject's own scheduled visits are the anchors, never another subject's
    sv = _sv(
        [
            ("01", 1.0, "SCREENING", "2016-01-01"),
            ("02", 1.0, "SCREENING", "2016-03-01"),
            ("02", 2.0, "WEEK 4", "2016-04-01"),
            ("01", np.nan, "Unsched", "2016-03-15"),  # 01 has no visit 2: after visit 1
            ("02", np.nan, "Unsched", "2016-03-15"),
            ("03", np.nan, "Unsched", "2016-03-15"),  # no scheduled visit at all: from 0
        ]
    )
    out = derive_visitnum_unscheduled(sv)
    expected = _expected(
        [1.0, 1.0, 2.0, 1.01, 1.01, 0.01],
        [
            "SCREENING",
            "SCREENING",
            "WEEK 4",
            "UNSCHEDULED 1.01",
            "UNSCHEDULED 1.01",
            "UNSCHEDULED 0.01",
        ],
        sv.index,
    )
    pd.testing.assert_frame_equal(out, expected)


def test_unscheduled_label_uses_step_and_base_decimals() -> None:
    sv = _sv(
        [
            ("01", 2.5, "WEEK 2.5", "2016-01-01"),
            ("01", np.nan, "Unsched", "2016-01-02"),
            ("01", 4.0, "WEEK 4", "2016-02-01"),
            ("01", np.nan, "Unsched", "2016-02-02"),
        ]
    )
    out = derive_visitnum_unscheduled(sv)
    expected = _expected(
        [2.5, 2.51, 4.0, 4.01],
        ["WEEK 2.5", "UNSCHEDULED 2.51", "WEEK 4", "UNSCHEDULED 4.01"],
        sv.index,
    )
    pd.testing.assert_frame_equal(out, expected)
    out = derive_visitnum_unscheduled(sv.iloc[2:], step=0.1, label="UNSCHED")
    pd.testing.assert_frame_equal(
        out, _expected([4.0, 4.1], ["WEEK 4", "UNSCHED 4.1"], sv.index[2:])
    )


def test_unscheduled_other_column_names_text_visitnum_and_no_visit_column() -> None:
    vs = pd.DataFrame(
        {
            "SUBJ": ["01", "01", "01"],
            "VN": ["1", "", "2"],  # text as read from a raw form: "" is unscheduled
            "VSDTC": ["2016-01-01", "2016-01-02", "2016-01-09"],
        },
        index=["a", "b", "c"],
    )
    out = derive_visitnum_unscheduled(vs, usubjid="SUBJ", visitnum="VN", visit=None, dtc="VSDTC")
    expected = _expected([1.0, 1.01, 2.0], ["", "UNSCHEDULED 1.01", ""], vs.index)
    pd.testing.assert_frame_equal(out, expected)


def test_unscheduled_without_complete_date_lists_the_rows() -> None:
    sv = _sv(
        [
            ("01", 1.0, "SCREENING", "2016-01-01"),
            ("01", np.nan, "Unsched", "2016-02"),
            ("01", np.nan, "Unsched", ""),
            ("01", np.nan, "Unsched", "2016-02-03"),
            ("01", 2.0, "WEEK 4", "2016"),  # scheduled rows need no date
        ],
        index=[11, 12, 13, 14, 15],
    )
    with pytest.raises(MappingError) as info:
        derive_visitnum_unscheduled(sv)
    assert info.value.rows == [12, 13]
    assert str(info.value) == (
        "unscheduled visit without a complete date (cannot be numbered) in 2 rows: "
        "row 12 '2016-02', row 13 ''"
    )


def test_unscheduled_numbers_may_not_reach_the_next_scheduled_visit() -> None:
    sv = _sv(
        [
            ("01", 1.0, "SCREENING", "2016-01-01"),
            ("01", np.nan, "Unsched", "2016-01-02"),
            ("01", np.nan, "Unsched", "2016-01-03"),
            ("01", 1.2, "WEEK 1", "2016-01-08"),
        ]
    )
    with pytest.raises(MappingError) as info:
        derive_visitnum_unscheduled(sv, step=0.1)
    assert "too many unscheduled visits for step 0.1: 01 2016-01-03 after VISITNUM 1" in str(
        info.value
    )
    out = derive_visitnum_unscheduled(sv, step=0.05)  # a smaller step fits
    assert out["VISITNUM"].tolist() == [1.0, 1.05, 1.1, 1.2]


def test_unscheduled_missing_column_is_a_spec_error() -> None:
    sv = _sv([("01", 1.0, "SCREENING", "2016-01-01")]).drop(columns="SVSTDTC")
    with pytest.raises(SpecError, match="derive_visitnum_unscheduled: no column SVSTDTC"):
        derive_visitnum_unscheduled(sv)


@settings(deadline=None, max_examples=50)
@given(
    n_visits=st.integers(min_value=1, max_value=5),
    gaps=st.lists(st.integers(min_value=1, max_value=20), min_size=5, max_size=5),
    unsched_days=st.lists(st.integers(min_value=-5, max_value=100), max_size=8),
)
def test_unscheduled_numbers_sort_chronologically(
    n_visits: int, gaps: list[int], unsched_days: list[int]
) -> None:
    # 4.4.5: "assign VISITNUM values that sort chronologically": within a subject, an
    # earlier date never gets a higher VISITNUM (scheduled visits in date order)
    start = pd.Timestamp("2016-01-01")
    days = np.cumsum([0, *gaps])[:n_visits]
    rows = [
        ("01", float(i + 1), f"V{i + 1}", str((start + pd.Timedelta(days=int(d))).date()))
        for i, d in enumerate(days)
    ]
    rows += [("01", np.nan, "U", str((start + pd.Timedelta(days=d)).date())) for d in unsched_days]
    sv = _sv(rows)
    out = derive_visitnum_unscheduled(sv)
    dates = pd.to_datetime(sv["SVSTDTC"]).to_numpy()
    vn = out["VISITNUM"].to_numpy()
    earlier = dates[:, None] < dates[None, :]
    assert not (earlier & (vn[:, None] >= vn[None, :])).any()
    unsched = np.isnan(sv["VISITNUM"].to_numpy())
    same_day_unsched = (dates[:, None] == dates[None, :]) & unsched[:, None] & unsched[None, :]
    assert (vn[:, None] == vn[None, :])[same_day_unsched].all()


# ------------------------------------------------------------------ EPOCH

# Subject 01: screening, treatment (starts and ends with a time), follow-up, all with
# SEENDTC; subject 02: elements without SEENDTC (each ends where the next starts; the
# last is open); subject 03: a gap between two elements. Rows deliberately unsorted.
SE = pd.DataFrame(
    [
        ("01", "2016-01-10T09:00", "2016-03-01T14:30", "TREATMENT"),
        ("01", "2016-01-01", "2016-01-10T09:00", "SCREENING"),
        ("01", "2016-03-01T14:30", "2016-04-01", "FOLLOW-UP"),
        ("02", "2016-05-01", "", "SCREENING"),
        ("02", "2016-05-15", "", "TREATMENT"),
        ("03", "2016-01-01", "2016-01-10", "SCREENING"),
        ("03", "2016-01-20", "2016-02-01", "TREATMENT"),
    ],
    columns=["USUBJID", "SESTDTC", "SEENDTC", "EPOCH"],
    index=[31, 32, 33, 34, 35, 36, 37],
)


def _epoch(records: list[tuple[str, str, str]], se: pd.DataFrame = SE, exact=False):
    """records: (USUBJID, --DTC, expected EPOCH); returns (got, expected) Series."""
    frame = pd.DataFrame(records, columns=["USUBJID", "DTC", "EPOCH"])
    frame.index = range(100, 100 + len(frame))
    fn = derive_epoch_exact if exact else derive_epoch
    got = fn(frame["DTC"], frame["USUBJID"], se)
    return got, pd.Series(frame["EPOCH"].tolist(), index=frame.index, dtype=str, name="EPOCH")


def test_epoch_element_start_inclusive_end_exclusive() -> None:
    got, expected = _epoch(
        [
            ("01", "2016-01-01", "SCREENING"),  # SESTDTC of the first element
            ("01", "2016-01-05", "SCREENING"),
            ("01", "2016-02-15", "TREATMENT"),
            ("01", "2016-03-20", "FOLLOW-UP"),
        ]
    )
    pd.testing.assert_series_equal(got, expected)


def test_epoch_boundary_day_without_time_belongs_to_the_new_element() -> None:
    # record without a time on the day an element starts: dates only are compared
    got, expected = _epoch(
        [
            ("01", "2016-01-10", "TREATMENT"),  # treatment starts 2016-01-10T09:00
            ("01", "2016-03-01", "FOLLOW-UP"),  # follow-up starts 2016-03-01T14:30
            ("02", "2016-05-15", "TREATMENT"),  # start without time on either side
            ("02", "2016-05-14", "SCREENING"),
        ]
    )
    pd.testing.assert_series_equal(got, expected)


def test_epoch_boundary_with_times_on_both_sides_compares_date_and_time() -> None:
    got, expected = _epoch(
        [
            ("01", "2016-01-10T08:59", "SCREENING"),
            ("01", "2016-01-10T09:00", "TREATMENT"),  # start is inclusive
            ("01", "2016-01-10T09:00:01", "TREATMENT"),
            ("01", "2016-03-01T14:29:59", "TREATMENT"),
            ("01", "2016-03-01T14:30", "FOLLOW-UP"),  # end is exclusive
        ]
    )
    pd.testing.assert_series_equal(got, expected)


def test_epoch_last_element_includes_its_end_date_and_open_end() -> None:
    got, expected = _epoch(
        [
            ("01", "2016-04-01", "FOLLOW-UP"),  # SEENDTC of the last element
            ("01", "2016-04-01T23:59", "FOLLOW-UP"),  # end without time: dates compared
            ("01", "2016-04-02", ""),  # after the last element
            ("02", "2030-12-31", "TREATMENT"),  # last element without SEENDTC is open
        ]
    )
    pd.testing.assert_series_equal(got, expected)


def test_epoch_last_element_with_end_time() -> None:
    se = pd.DataFrame(
        {
            "USUBJID": ["01"],
            "SESTDTC": ["2016-01-01T08:00"],
            "SEENDTC": ["2016-01-02T12:00"],
            "EPOCH": ["TREATMENT"],
        }
    )
    got, expected = _epoch(
        [
            ("01", "2016-01-01T07:59", ""),
            ("01", "2016-01-01", "TREATMENT"),  # no time: same date as the start
            ("01", "2016-01-02T12:00", "TREATMENT"),  # end inclusive for the last element
            ("01", "2016-01-02T12:01", ""),
            ("01", "2016-01-02", "TREATMENT"),
        ],
        se,
    )
    pd.testing.assert_series_equal(got, expected)


def test_epoch_outside_every_element_is_null() -> None:
    # 4.1.3.1: "If it is not possible to determine the epoch ... EPOCH should be null"
    got, expected = _epoch(
        [
            ("01", "2015-12-31T23:59", ""),  # before the first element
            ("03", "2016-01-10", ""),  # in the gap: SEENDTC is exclusive...
            ("03", "2016-01-19", ""),  # ...and the next element starts later
            ("03", "2016-01-20", "TREATMENT"),
            ("04", "2016-01-20", ""),  # subject without SE records
        ]
    )
    pd.testing.assert_series_equal(got, expected)


def test_epoch_partial_or_missing_date_is_null_no_imputation() -> None:
    # 4.1.3.1: "Sponsors should not impute EPOCH values"
    got, expected = _epoch(
        [
            ("02", "2016-05", ""),  # could be screening or treatment
            ("02", "2016-06", ""),  # whole month in treatment, but derive_epoch never imputes
            ("02", "2016", ""),
            ("02", "", ""),
        ]
    )
    pd.testing.assert_series_equal(got, expected)


def test_epoch_exact_partial_date_only_when_its_whole_range_is_one_epoch() -> None:
    # derive_epoch_exact (used by the SDTM engine): a partial date gets the epoch only
    # when every day it may stand for lies in the same element; nothing is imputed
    got, expected = _epoch(
        [
            ("02", "2016-05", ""),  # 1-14 May screening, 15-31 May treatment
            ("02", "2016-06", "TREATMENT"),
            ("02", "2017", "TREATMENT"),  # open last element
            ("01", "2016-02", "TREATMENT"),
            ("01", "2016-01", ""),
            ("01", "2016", ""),
            ("03", "2016-01", ""),  # spans a gap
            ("02", "2016-05-20", "TREATMENT"),  # complete dates as derive_epoch
            ("02", "", ""),
        ],
        exact=True,
    )
    pd.testing.assert_series_equal(got, expected)


def test_epoch_overlapping_elements_the_later_start_wins() -> None:
    se = pd.DataFrame(
        {
            "USUBJID": ["01", "01"],
            "SESTDTC": ["2016-01-01", "2016-01-10"],
            "SEENDTC": ["2016-01-31", "2016-02-10"],
            "EPOCH": ["SCREENING", "TREATMENT"],
        }
    )
    got, expected = _epoch(
        [
            ("01", "2016-01-09", "SCREENING"),
            ("01", "2016-01-15", "TREATMENT"),  # in both: the later start wins
            ("01", "2016-02-05", "TREATMENT"),
        ],
        se,
    )
    pd.testing.assert_series_equal(got, expected)


def test_epoch_keeps_the_record_index_and_handles_empty_se() -> None:
    dtc = pd.Series(["2016-01-05", "2016-05-20"], index=["x", "y"])
    subj = pd.Series(["01", "02"], index=dtc.index)
    expected = pd.Series(["SCREENING", "TREATMENT"], index=dtc.index, dtype=str, name="EPOCH")
    pd.testing.assert_series_equal(derive_epoch(dtc, subj, SE), expected)
    expected_empty = pd.Series(["", ""], index=dtc.index, dtype=str, name="EPOCH")
    pd.testing.assert_series_equal(derive_epoch(dtc, subj, SE.iloc[0:0]), expected_empty)


def test_epoch_errors() -> None:
    bad_se = SE.copy()
    bad_se.loc[36, "SESTDTC"] = ""
    bad_se.loc[37, "SESTDTC"] = "2016-01"
    with pytest.raises(MappingError) as info:
        derive_epoch(pd.Series(["2016-01-05"]), pd.Series(["01"]), bad_se)
    assert info.value.rows == [36, 37]
    assert "row 36 '', row 37 '2016-01'" in str(info.value)
    with pytest.raises(DateParseError, match="row 1 '05/01/2016'"):
        derive_epoch(pd.Series(["2016-01-05", "05/01/2016"]), pd.Series(["01", "01"]), SE)
    with pytest.raises(SpecError, match="derive_epoch: no column SEENDTC"):
        derive_epoch(pd.Series(["2016-01-05"]), pd.Series(["01"]), SE.drop(columns="SEENDTC"))
    with pytest.raises(ValueError, match="usubjid index differs"):
        derive_epoch(pd.Series(["2016-01-05"], index=[1]), pd.Series(["01"], index=[2]), SE)


def test_unscheduled_when_no_scheduled_visit_has_a_date() -> None:
    # only unscheduled visits (e.g. an unscheduled-visit form on its own), or scheduled
    # visits without a date: every unscheduled visit precedes every dated scheduled one
    sv = _sv(
        [
            ("01", np.nan, "Unsched", "2016-01-05"),
            ("01", np.nan, "Unsched", "2016-01-02"),
            ("02", np.nan, "Unsched", "2016-01-05"),
        ]
    )
    expected = _expected(
        [0.02, 0.01, 0.01],
        ["UNSCHEDULED 0.02", "UNSCHEDULED 0.01", "UNSCHEDULED 0.01"],
        sv.index,
    )
    pd.testing.assert_frame_equal(derive_visitnum_unscheduled(sv), expected)
    sv = _sv([("01", 1.0, "SCREENING", ""), ("01", np.nan, "Unsched", "2016-01-02")])
    expected = _expected([1.0, 0.01], ["SCREENING", "UNSCHEDULED 0.01"], sv.index)
    pd.testing.assert_frame_equal(derive_visitnum_unscheduled(sv), expected)
