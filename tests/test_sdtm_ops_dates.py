"""cdisc_mapper/sdtm/ops/dates.py: date (SDTMIG 3.4 sections 4.4.1-4.4.2), latest_of,
study_day and study_day_of (section 4.4.4) and age (DM); one small table per rule."""

from __future__ import annotations

import pytest

from cdisc_mapper.errors import DateParseError, Location, MappingError, SpecError
from cdisc_mapper.sdtm import OPERATIONS
from tests.sdtm_ops_helpers import (
    SUBJ1,
    SUBJ2,
    make_ctx,
    operations_of,
    raw_form,
    records,
    run_op,
    subjects,
    values,
)


def test_every_operation_of_dates_py_is_tested_here() -> None:
    assert operations_of("dates") == {"date", "latest_of", "study_day", "study_day_of", "age"}


@pytest.mark.parametrize(
    ("name", "origin", "raw", "row_local"),
    [
        ("date", "Collected", False, False),
        ("latest_of", "Derived", False, True),
        ("study_day", "Derived", False, True),
        ("study_day_of", "Derived", False, True),
        ("age", "Derived", False, True),
    ],
)
def test_registered_with_origin_and_traits(name, origin, raw, row_local) -> None:
    op = OPERATIONS.require(name)
    assert (op.origin, op.raw, op.needs_all, op.row_local) == (origin, raw, False, row_local)


def test_study_day_method_states_the_sdtmig_rules() -> None:
    method = OPERATIONS.require("study_day").method
    assert "4.4.4" in method and "no day 0" in method and "partial" in method


# ------------------------------------------------------------------ date (4.4.1, 4.4.2)


def dates(*cells: str, order: str = "DMY") -> list:
    raw = raw_form("labs.csv", ["SAMPLE_DATE"], *[[c] for c in cells])
    ctx = make_ctx("LB", "LBDTC", raw=raw, spec=subjects(date_order=order))
    return values(run_op("date", {"column": "SAMPLE_DATE"}, ctx=ctx))


def test_date_in_the_studys_day_first_order() -> None:
    assert dates("05/04/2016", "5.4.2016", "05-APR-2016", "2016-04-05") == ["2016-04-05"] * 4


def test_date_in_month_first_order() -> None:
    assert dates("05/04/2016", "12/31/2016", order="MDY") == ["2016-05-04", "2016-12-31"]


def test_date_partial_stays_partial_nothing_imputed() -> None:
    assert dates("UN/03/2014", "03/2014", "MAR-2014", "2014") == [
        "2014-03",
        "2014-03",
        "2014-03",
        "2014",
    ]


def test_date_unknown_month_truncates_to_the_year() -> None:
    # right truncation only: the known day is dropped, no YYYY---DD
    assert dates("15/UN/2014", "UN/UN/2014") == ["2014", "2014"]


def test_date_empty_or_all_unknown_is_null() -> None:
    assert dates("", "UN/UN/UNKN") == ["", ""]


def test_date_with_time_when_recorded() -> None:
    raw = raw_form(
        "labs.csv",
        ["SAMPLE_DATE", "SAMPLE_TIME"],
        ["05/04/2016", "9:05"],
        ["05/04/2016", ""],
        ["06/04/2016", "0830"],
        ["07/04/2016", "13:UN"],
    )
    args = {"column": "SAMPLE_DATE", "time_column": "SAMPLE_TIME"}
    out = run_op("date", args, ctx=make_ctx("LB", "LBDTC", raw=raw))
    assert values(out) == ["2016-04-05T09:05", "2016-04-05", "2016-04-06T08:30", "2016-04-07T13"]


def test_date_invalid_names_file_column_every_row_and_reason() -> None:
    raw = raw_form("alsfrs.csv", ["ASSESS_DATE"], ["01/02/2017"], ["31/02/2017"], ["05/04/16"])
    with pytest.raises(DateParseError) as err:
        run_op("date", {"column": "ASSESS_DATE"}, ctx=make_ctx("QS", "QSDTC", raw=raw))
    assert str(err.value) == (
        "alsfrs.csv, column ASSESS_DATE (rows are file rows): invalid date (order DMY) in 2 "
        "rows: row 3 '31/02/2017' (no day 31 in 2017-02), row 4 '05/04/16' (2-digit year)"
    )


def test_date_time_with_a_partial_date_names_file_and_row() -> None:
    raw = raw_form(
        "labs.csv", ["SAMPLE_DATE", "SAMPLE_TIME"], ["05/04/2016", "10:00"], ["04/2016", "10:00"]
    )
    args = {"column": "SAMPLE_DATE", "time_column": "SAMPLE_TIME"}
    with pytest.raises(DateParseError) as err:
        run_op("date", args, ctx=make_ctx("LB", "LBDTC", raw=raw))
    msg = str(err.value)
    assert msg.startswith("labs.csv, column SAMPLE_DATE with SAMPLE_TIME (rows are file rows)")
    assert msg.endswith("in 1 row: row 3 '2016-04 10:00'")


def test_date_invalid_time_names_the_time_column_and_row() -> None:
    raw = raw_form(
        "labs.csv", ["SAMPLE_DATE", "SAMPLE_TIME"], ["05/04/2016", "10:00"], ["05/04/2016", "25:00"]
    )
    args = {"column": "SAMPLE_DATE", "time_column": "SAMPLE_TIME"}
    with pytest.raises(DateParseError) as err:
        run_op("date", args, ctx=make_ctx("LB", "LBDTC", raw=raw))
    assert str(err.value) == (
        "labs.csv, column SAMPLE_TIME (rows are file rows): invalid time in 1 row: "
        "row 3 '25:00' (hour outside 0-23)"
    )


def test_date_month_names_commas_and_12_hour_times() -> None:
    raw = raw_form(
        "vs.csv",
        ["VTLD", "TIME"],
        ["Jan 2, 2014", "2:30 PM"],
        ["January 02, 2014", "02:30pm"],
        ["02-Jan-2014", "12:05 AM"],
        ["2JAN2014", "14:30:05"],
    )
    args = {"column": "VTLD", "time_column": "TIME"}
    out = run_op("date", args, ctx=make_ctx("VS", "VSDTC", raw=raw))
    assert values(out) == [
        "2014-01-02T14:30",
        "2014-01-02T14:30",
        "2014-01-02T00:05",
        "2014-01-02T14:30:05",
    ]


def test_date_order_argument_over_the_source_over_the_study() -> None:
    raw = raw_form("dm.csv", ["D"], ["01/02/2014"])
    study_dmy = make_ctx("DM", "RFICDTC", raw=raw)
    assert values(run_op("date", {"column": "D"}, ctx=study_dmy)) == ["2014-02-01"]
    source_mdy = make_ctx("DM", "RFICDTC", raw=raw)
    source_mdy.date_order = "MDY"
    assert values(run_op("date", {"column": "D"}, ctx=source_mdy)) == ["2014-01-02"]
    assert values(run_op("date", {"column": "D", "order": "DMY"}, ctx=source_mdy)) == ["2014-02-01"]


def test_date_in_ymd_order_refuses_a_2_digit_first_number() -> None:
    raw = raw_form("dm.csv", ["D"], ["01/02/2014"], ["2014/02/01"])
    with pytest.raises(DateParseError, match=r"row 2 '01/02/2014' \(2-digit year\)"):
        run_op("date", {"column": "D", "order": "YMD"}, ctx=make_ctx("DM", "X", raw=raw))


def test_date_formats_for_values_the_reader_does_not_recognise() -> None:
    raw = raw_form("ex.csv", ["D"], ["20140102"], ["05/04/2016"])
    out = run_op("date", {"column": "D", "formats": ["%Y%m%d"]}, ctx=make_ctx("EX", "X", raw=raw))
    assert values(out) == ["2014-01-02", "2016-04-05"]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"column": "D", "formats": ["%d%m%y"]}, "2-digit year"),
        ({"column": "D", "formats": ["%Y%m"]}, "does not read one complete date"),
        ({"column": "D", "order": "DYM"}, "DMY"),
        ({"column": "D", "variable": "X"}, "exactly one of column"),
        ({"time_column": "T"}, "exactly one of column"),
        ({"column": "D", "time_column": "T", "time_variable": "U"}, "not both"),
    ],
)
def test_date_arguments_checked_when_the_spec_is_read(args: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        OPERATIONS.require("date").args_model.model_validate(args)


def test_date_from_variables_made_before_it_in_the_source() -> None:
    raw = raw_form("ae.csv", ["X"], ["a"], ["b"])
    frame = raw_form("ae.csv", ["_DATE", "_TIME"], ["2014-01-02", "9:05"], ["02/13/2014", ""])
    args = {"variable": "_DATE", "time_variable": "_TIME"}
    with pytest.raises(DateParseError) as err:
        run_op("date", args, frame, make_ctx("AE", "AESTDTC", raw=raw))
    assert str(err.value) == (
        "ae.csv, variable _DATE (rows are file rows): invalid date (order DMY) in 1 row: "
        "row 3 '02/13/2014' (month outside 1-12)"
    )
    args["order"] = "MDY"
    out = run_op("date", args, frame, make_ctx("AE", "AESTDTC", raw=raw))
    assert values(out) == ["2014-01-02T09:05", "2014-02-13"]


def test_date_from_a_variable_at_domain_level_names_each_record() -> None:
    frame = records("cm.csv", ["_START"], ["Jan 2, 2014"], ["31/02/2014"])
    assert OPERATIONS.require("date").args_model(variable="_START").inputs() == {"_START"}
    where = Location(file="cm.yaml", line=12)
    ctx = make_ctx("CM", "CMSTDTC", where=where)
    with pytest.raises(DateParseError) as err:
        run_op("date", {"variable": "_START"}, frame, ctx)
    assert str(err.value) == (
        "cm.yaml:12: CM.CMSTDTC: invalid date (order DMY) in 1 row: row cm.csv:3 "
        "'31/02/2014' (no day 31 in 2014-02)"
    )
    ok = records("cm.csv", ["_START"], ["Jan 2, 2014"], ["UN/02/2014"])
    assert values(run_op("date", {"variable": "_START"}, ok, ctx)) == ["2014-01-02", "2014-02"]


def test_date_raw_column_at_domain_level_is_an_error_at_the_spec_line() -> None:
    frame = records("cm.csv", ["_START"], ["2014-01-02"])
    ctx = make_ctx("CM", "CMSTDTC", where=Location(file="cm.yaml", line=12))
    with pytest.raises(SpecError, match=r"^cm\.yaml:12: CM\.CMSTDTC: reads raw column START"):
        run_op("date", {"column": "START"}, frame, ctx)


def test_date_time_from_an_iso_date_time_cell() -> None:
    raw = raw_form(
        "lb.xlsx", ["D", "T"], ["2014-01-02T10:30", ""], ["2014-01-02", "11:00"], ["2014-01", ""]
    )
    args = {"column": "D", "time_column": "T"}
    out = run_op("date", args, ctx=make_ctx("LB", "LBDTC", raw=raw))
    assert values(out) == ["2014-01-02T10:30", "2014-01-02T11:00", "2014-01"]
    assert values(run_op("date", {"column": "D"}, ctx=make_ctx("LB", "LBDTC", raw=raw))) == [
        "2014-01-02T10:30",
        "2014-01-02",
        "2014-01",
    ]


def test_date_time_in_the_date_and_the_time_column_is_an_error() -> None:
    raw = raw_form("lb.xlsx", ["D", "T"], ["2014-01-02T10:30", "10:30"])
    with pytest.raises(DateParseError) as err:
        args = {"column": "D", "time_column": "T"}
        run_op("date", args, ctx=make_ctx("LB", "LBDTC", raw=raw))
    assert str(err.value) == (
        "lb.xlsx, column D with T (rows are file rows): a time in the date-time value and in "
        "the time column in 1 row: row 2 '10:30 and 10:30' (give the time once)"
    )


@pytest.mark.parametrize(
    ("time", "reason"),
    [("13:00 PM", "hour outside 1-12 with AM/PM"), ("0:30 AM", "hour outside 1-12 with AM/PM")],
)
def test_date_impossible_12_hour_time_names_the_row(time: str, reason: str) -> None:
    raw = raw_form("vs.csv", ["D", "T"], ["02/01/2014", time])
    with pytest.raises(DateParseError, match=f"row 2 '{time}' \\({reason}\\)"):
        run_op("date", {"column": "D", "time_column": "T"}, ctx=make_ctx("VS", "X", raw=raw))


# ------------------------------------------------------------------ latest_of


def test_latest_of_several_dates_blanks_ignored() -> None:
    frame = records(
        "disposition.csv",
        ["A", "B", "C"],
        ["2016-01-01", "2016-02-01T10:00", ""],
        ["2017-05-01", "", "2016-12-31"],
        ["", "", ""],
    )
    out = run_op("latest_of", {"variables": ["A", "B", "C"]}, frame, make_ctx("DS"))
    assert values(out) == ["2016-02-01T10:00", "2017-05-01", ""]


# ------------------------------------------------------------------ study day (4.4.4)

DM = records(
    "enrollment.csv",
    ["USUBJID", "RFSTDTC", "RFXSTDTC"],
    [SUBJ1, "2016-07-01", "2016-07-01T10:30"],
    [SUBJ2, "2016-07", ""],  # a partial reference date
)


def study_days(*rows: tuple[str, str], ref: str = "RFSTDTC") -> list:
    frame = records("labs.csv", ["USUBJID", "LBDTC"], *rows)
    ctx = make_ctx("LB", "LBDY", domains={"DM": DM})
    return values(run_op("study_day", {"dtc": "LBDTC", "ref": ref}, frame, ctx))


def test_study_day_is_1_on_the_reference_date_and_counts_on() -> None:
    assert study_days((SUBJ1, "2016-07-01"), (SUBJ1, "2016-07-02"), (SUBJ1, "2017-07-01")) == [
        1,
        2,
        366,
    ]


def test_study_day_has_no_day_0() -> None:
    assert study_days((SUBJ1, "2016-06-30"), (SUBJ1, "2016-01-05")) == [-1, -178]


def test_study_day_ignores_times() -> None:
    assert study_days((SUBJ1, "2016-07-01T08:00"), (SUBJ1, "2016-06-30T23:59")) == [1, -1]


def test_study_day_missing_for_a_partial_date_or_reference() -> None:
    assert study_days((SUBJ1, "2016-07"), (SUBJ1, "2016"), (SUBJ2, "2016-07-20")) == [
        None,
        None,
        None,
    ]


def test_study_day_missing_without_a_date_or_a_reference() -> None:
    assert study_days((SUBJ1, ""), ("0208-16-HMO-01-999", "2016-07-20")) == [None, None]


def test_study_day_of_several_records_from_one_form_row() -> None:
    # a melted form (one record per test of a row) gives records with the same file row
    frame = records(
        "vitals.csv",
        ["USUBJID", "VSDTC"],
        [SUBJ1, "2016-07-03"],
        [SUBJ1, "2016-07-03"],
        [SUBJ1, "2016-06-03"],
    ).assign(_ROW=[5, 5, 6])
    out = run_op("study_day", {"dtc": "VSDTC"}, frame, make_ctx("VS", "VSDY", domains={"DM": DM}))
    assert values(out) == [3, 3, -28]


def test_study_day_from_another_reference_variable_of_dm() -> None:
    assert study_days((SUBJ1, "2016-07-03"), (SUBJ2, "2016-07-03"), ref="RFXSTDTC") == [3, None]


def test_study_day_of_a_reference_on_the_same_record() -> None:
    frame = records(
        "adverse_events.csv",
        ["AESTDTC", "AEENDTC"],
        ["2016-07-01", "2016-07-01"],
        ["2016-07-01", "2016-07-10T10:00"],
        ["2016-07-01", "2016-06-29"],
        ["2016-07", "2016-07-10"],
    )
    args = {"dtc": "AEENDTC", "ref": "AESTDTC"}
    out = run_op("study_day_of", args, frame, make_ctx("AE", "AEENDY"))
    assert values(out) == [1, 10, -2, None]


def test_study_day_of_a_date_that_is_not_iso_8601_names_the_record() -> None:
    frame = records(
        "adverse_events.csv", ["AESTDTC", "AEENDTC"], ["2016-07-01", "10/07/2016"], first=5
    )
    with pytest.raises(DateParseError) as err:
        run_op(
            "study_day_of", {"dtc": "AEENDTC", "ref": "AESTDTC"}, frame, make_ctx("AE", "AEENDY")
        )
    assert str(err.value).startswith(
        "AE.AEENDY: not an ISO 8601 date/time (YYYY[-MM[-DD[Thh:mm[:ss]]]]) in 1 row: "
        "row adverse_events.csv:5 '10/07/2016'"
    )


def test_study_day_with_a_date_that_is_not_iso_8601_names_the_record() -> None:
    frame = records("labs.csv", ["USUBJID", "LBDTC"], [SUBJ1, "2016-07-02"], [SUBJ1, "2/7/2016"])
    with pytest.raises(DateParseError, match=r"^LB\.LBDY: .* row labs\.csv:3 '2/7/2016'"):
        run_op("study_day", {"dtc": "LBDTC"}, frame, make_ctx("LB", "LBDY", domains={"DM": DM}))


def test_study_day_error_starts_with_the_spec_line() -> None:
    frame = records("labs.csv", ["USUBJID", "LBDTC"], [SUBJ1, "2/7/2016"])
    where = Location(file="lb.yaml", line=31)
    ctx = make_ctx("LB", "LBDY", domains={"DM": DM}, where=where)
    with pytest.raises(DateParseError, match=r"^lb\.yaml:31: LB\.LBDY: .* row labs\.csv:2 "):
        run_op("study_day", {"dtc": "LBDTC"}, frame, ctx)


# ------------------------------------------------------------------ age (DM)


def ages(*rows: tuple[str, str]) -> list:
    frame = records("enrollment.csv", ["BRTHDTC", "RFICDTC"], *rows)
    out = run_op("age", {}, frame, make_ctx("DM", "AGE"))
    assert out.dtype == float
    return values(out)


def test_age_in_completed_years_at_the_reference_date() -> None:
    assert ages(
        ("1961-03-15", "2016-03-14"),  # the day before the birthday
        ("1961-03-15", "2016-03-15"),  # on the birthday
        ("1961-03-15", "2016-08-29T10:00"),
    ) == [54, 55, 55]


def test_age_from_a_partial_birth_date_when_every_birth_day_gives_the_same_age() -> None:
    assert ages(("1961-03", "2016-08-29"), ("1961", "2016-12-31")) == [55, 55]


def test_age_missing_when_a_partial_birth_date_allows_two_ages() -> None:
    assert ages(("1961-03", "2016-03-10"), ("1961", "2016-06-01")) == [None, None]


def test_age_missing_without_a_complete_reference_or_any_birth_date() -> None:
    assert ages(("1961-03-15", "2016-03"), ("", "2016-03-10")) == [None, None]


def test_age_leap_day_birthday_is_reached_on_1_march_in_other_years() -> None:
    assert ages(("1960-02-29", "2015-02-28"), ("1960-02-29", "2015-03-01")) == [54, 55]


def test_age_of_several_records_from_one_form_row() -> None:
    frame = records(
        "enrollment.csv",
        ["BRTHDTC", "RFICDTC"],
        ["1961-03", "2016-08-29"],
        ["1961-03", "2016-03-10"],
        ["1961-03-15", "2016-03-10"],
    ).assign(_ROW=[2, 2, 2])
    assert values(run_op("age", {}, frame, make_ctx("DM", "AGE"))) == [55, None, 54]


def test_age_other_birth_and_reference_variables() -> None:
    frame = records("enrollment.csv", ["BRTHDTC", "RFSTDTC"], ["1980-01-10", "2016-07-01"])
    out = run_op("age", {"ref": "RFSTDTC"}, frame, make_ctx("DM", "AGE"))
    assert values(out) == [36]


def test_age_reference_before_birth_names_every_record() -> None:
    frame = records(
        "enrollment.csv",
        ["BRTHDTC", "RFICDTC"],
        ["1961-03-15", "2016-03-15"],
        ["2017-01-01", "2016-01-01"],
        ["1990-01-01", "1989-06-01"],
    )
    with pytest.raises(MappingError) as err:
        run_op("age", {}, frame, make_ctx("DM", "AGE"))
    assert str(err.value) == (
        "DM.AGE: reference date before birth date in 2 rows: "
        "row enrollment.csv:3 '2017-01-01 -> 2016-01-01', "
        "row enrollment.csv:4 '1990-01-01 -> 1989-06-01'"
    )
