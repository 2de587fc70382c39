"""cdisc_mapper.adam.ops.summary_records: the DTYPE record builders (summary_record,
locf_record) and their pure functions.

Small input records -> expected records (values computed by hand), through the registry,
on the in-memory study of tests/adam_ops_context.py.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from cdisc_mapper.adam.derive.summary_records import derive_locf, derive_summary
from tests.adam_ops_context import assert_table, build, columns, context, tbl

VS = tbl(
    "USUBJID PARAMCD AVISITN AVISIT ATPT ADT AVAL DTYPE",
    ("S1", "SYSBP", 1, "WEEK 2", "LYING", 10, 120, ""),
    ("S1", "SYSBP", 1, "WEEK 2", "STANDING 1", 10, 126, ""),
    ("S1", "SYSBP", 1, "WEEK 2", "STANDING 3", 11, 129, ""),
    ("S1", "SYSBP", 2, "WEEK 4", "LYING", 20, 118, ""),
    ("S1", "SYSBP", 2, "WEEK 4", "STANDING 1", 20, None, ""),
    ("S2", "SYSBP", 1, "WEEK 2", "LYING", 12, None, ""),
    ("S2", "DIABP", 1, "WEEK 2", "LYING", 12, 80, ""),
)  # fmt: skip


def added(out: pd.DataFrame) -> pd.DataFrame:
    return out.iloc[len(VS) :].reset_index(drop=True)


# --------------------------------------------------------------------------- summary_record
def test_average_per_visit_keeps_the_by_values_and_sets_the_rest() -> None:
    """ADaMIG v1.3 section 3.3.6: DTYPE AVERAGE, the mean of the non-missing values of one
    visit's time points; a group with no value (S2 SYSBP) gets no record; the new records
    hold the by values and `set`, other columns blank (ADT)."""
    out = build(
        "summary_record",
        VS,
        context("ADVS"),
        dtype="AVERAGE",
        function="mean",
        by=["USUBJID", "PARAMCD", "AVISITN", "AVISIT"],
        set={"ATPT": ""},
    )
    assert_table(out.iloc[: len(VS)], VS)
    assert_table(
        added(out),
        tbl(
            "USUBJID PARAMCD AVISITN AVISIT ATPT ADT AVAL DTYPE",
            ("S1", "SYSBP", 1, "WEEK 2", "", None, 125, "AVERAGE"),
            ("S1", "SYSBP", 2, "WEEK 4", "", None, 118, "AVERAGE"),
            ("S2", "DIABP", 1, "WEEK 2", "", None, 80, "AVERAGE"),
        ),
    )


@pytest.mark.parametrize(
    ("function", "values"),
    [
        ("median", [126, 118, 80]),
        ("min", [120, 118, 80]),
        ("max", [129, 118, 80]),
        ("sum", [375, 118, 80]),
        ("count", [3, 1, 1]),
    ],
)
def test_summary_functions(function: str, values: list[float]) -> None:
    out = build(
        "summary_record",
        VS,
        context("ADVS"),
        dtype="X",
        function=function,
        by=["USUBJID", "PARAMCD", "AVISITN"],
    )
    assert added(out)["AVAL"].tolist() == values


def test_last_value_copies_the_chosen_record_and_obeys_where() -> None:
    """LOV (admiral derive_extreme_records, mode last): the last record by ADT, AVAL among
    those `where` chooses, its `carry` columns copied, AVISIT/AVISITN set."""
    out = build(
        "summary_record",
        VS,
        context("ADVS"),
        dtype="LOV",
        function="last",
        by=["USUBJID", "PARAMCD"],
        order_by=["ADT", "AVAL"],
        carry=["ADT", "ATPT"],
        where={"variable": "AVISITN", "le": 1},
        set={"AVISIT": "END OF TREATMENT", "AVISITN": 99},
    )
    assert_table(
        added(out),
        tbl(
            "USUBJID PARAMCD AVISITN AVISIT ATPT ADT AVAL DTYPE",
            ("S1", "SYSBP", 99, "END OF TREATMENT", "STANDING 3", 11, 129, "LOV"),
            ("S2", "DIABP", 99, "END OF TREATMENT", "LYING", 12, 80, "LOV"),
        ),
    )
    first = build(
        "summary_record",
        VS,
        context("ADVS"),
        dtype="FIRST",
        function="first",
        by=["USUBJID", "PARAMCD"],
        order_by=["ADT", "AVAL"],
    )
    assert added(first)["AVAL"].tolist() == [120, 80]


def test_dtype_is_made_when_the_records_have_none() -> None:
    out = build(
        "summary_record",
        VS.drop(columns="DTYPE"),
        context("ADVS"),
        dtype="MAXIMUM",
        function="max",
        by=["USUBJID", "PARAMCD"],
    )
    assert out["DTYPE"].tolist() == [""] * len(VS) + ["MAXIMUM", "MAXIMUM"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"function": "last", "by": ["USUBJID"]}, "needs order_by"),
        ({"function": "mean", "by": ["USUBJID"], "carry": ["ADT"]}, "for first/last"),
        ({"function": "mean", "by": ["USUBJID", "AVAL"]}, "names AVAL or DTYPE"),
        ({"function": "mean", "by": ["ATPT"], "set": {"ATPT": ""}}, "given twice"),
        ({"function": "mode", "by": ["USUBJID"]}, "function"),
    ],
)
def test_impossible_arguments_are_spec_errors(args: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build("summary_record", VS, context("ADVS"), dtype="X", **args)


def test_a_column_the_records_lack_is_named() -> None:
    with pytest.raises(Exception, match="no column AVISITN"):
        build(
            "summary_record",
            VS.drop(columns="AVISITN"),
            context("ADVS"),
            dtype="AVERAGE",
            function="mean",
            by=["USUBJID", "AVISITN"],
        )


def test_summary_define_metadata_is_dtype_value_level() -> None:
    meta = columns(
        "summary_record",
        dtype="AVERAGE",
        function="mean",
        by=["USUBJID", "PARAMCD", "AVISITN"],
        where={"variable": "AVAL", "present": True},
        set={"ATPT": ""},
    )["DTYPE"]
    text = (
        "'AVERAGE': One record per USUBJID, PARAMCD, AVISITN of the records where AVAL is "
        "present: AVAL is the mean of the non-missing AVAL of those records; ATPT = ''; "
        "other variables as derived for the dataset."
    )
    assert meta.method == text
    assert meta.value_level == (("DTYPE", "AVERAGE", "Assigned", None, text),)
    assert meta.codelist == "DTYPE"


# --------------------------------------------------------------------------- locf_record
ADVS = tbl(
    "USUBJID PARAMCD PARAMN AVISITN AVISIT ADT AVAL DTYPE",
    ("S1", "PULSE", 1, 0, "BASELINE", 1, 65, ""),
    ("S1", "DIABP", 2, 0, "BASELINE", 1, 79, ""),
    ("S1", "DIABP", 2, 2, "WEEK 2", 14, 80, ""),
    ("S1", "DIABP", 2, 2, "WEEK 2", 15, 82, ""),
    ("S1", "DIABP", 2, 4, "WEEK 4", 28, None, ""),
    ("S1", "SYSBP", 3, 2, "WEEK 2", 14, 132, ""),
)  # fmt: skip
VISITS = [
    {"avisitn": 0, "avisit": "BASELINE"},
    {"avisitn": 2, "avisit": "WEEK 2"},
    {"avisitn": 4, "avisit": "WEEK 4"},
    {"avisitn": 6, "avisit": "WEEK 6"},
]


def test_locf_fills_each_expected_visit_without_a_value() -> None:
    """admiral derive_locf_records (imputation add): per subject and parameter, each
    expected visit without a value (WEEK 4's AVAL is missing) gets the last value at an
    earlier visit (WEEK 2's later record, by ADT), DTYPE LOCF; SYSBP has no baseline to
    fill (nothing earlier); the missing WEEK 4 record stays."""
    out = build(
        "locf_record",
        ADVS,
        context("ADVS"),
        visits=VISITS,
        order_by=["ADT"],
        keep=["PARAMN"],
    )
    assert_table(out.iloc[: len(ADVS)], ADVS)
    assert_table(
        out.iloc[len(ADVS) :].reset_index(drop=True),
        tbl(
            "USUBJID PARAMCD PARAMN AVISITN AVISIT ADT AVAL DTYPE",
            ("S1", "PULSE", 1, 2, "WEEK 2", None, 65, "LOCF"),
            ("S1", "PULSE", 1, 4, "WEEK 4", None, 65, "LOCF"),
            ("S1", "PULSE", 1, 6, "WEEK 6", None, 65, "LOCF"),
            ("S1", "DIABP", 2, 4, "WEEK 4", None, 82, "LOCF"),
            ("S1", "DIABP", 2, 6, "WEEK 6", None, 82, "LOCF"),
            ("S1", "SYSBP", 3, 4, "WEEK 4", None, 132, "LOCF"),
            ("S1", "SYSBP", 3, 6, "WEEK 6", None, 132, "LOCF"),
        ),
    )


def test_locf_expected_visits_from_the_conventions_windows() -> None:
    """The test study's windows 'visits': SCREENING (-1), BASELINE (0), MONTH 1 (1)."""
    recs = tbl(
        "USUBJID PARAMCD AVISITN AVISIT AVAL DTYPE",
        ("S1", "P", -1, "SCREENING", 5, ""),
    )
    out = build("locf_record", recs, context("ADVS"), windows="visits")
    assert out["AVISIT"].tolist() == ["SCREENING", "BASELINE", "MONTH 1"]
    assert out["AVAL"].tolist() == [5, 5, 5]
    assert out["DTYPE"].tolist() == ["", "LOCF", "LOCF"]


def test_locf_where_chooses_the_records_seen() -> None:
    """Records `where` leaves out (DTYPE records here) neither fill a visit nor are carried."""
    recs = tbl(
        "USUBJID PARAMCD AVISITN AVISIT AVAL DTYPE",
        ("S1", "P", 0, "BASELINE", 5, ""),
        ("S1", "P", 2, "WEEK 2", 7, "AVERAGE"),
    )
    out = build(
        "locf_record",
        recs,
        context("ADVS"),
        visits=VISITS[:3],
        where={"variable": "DTYPE", "empty": True},
    )
    assert out["AVISITN"].tolist() == [0, 2, 2, 4]
    assert out["AVAL"].tolist() == [5, 7, 5, 5]


def test_locf_needs_one_source_of_visits() -> None:
    with pytest.raises(ValidationError, match="either `windows` or `visits`"):
        build("locf_record", ADVS, context("ADVS"))
    with pytest.raises(ValidationError, match="either `windows` or `visits`"):
        build("locf_record", ADVS, context("ADVS"), windows="visits", visits=VISITS)


def test_locf_define_metadata_lists_the_expected_visits() -> None:
    meta = columns("locf_record", windows="visits")["DTYPE"]
    assert meta.value_level[0][:3] == ("DTYPE", "LOCF", "Assigned")
    assert meta.method == (
        "'LOCF': last observation carried forward. For each USUBJID, PARAMCD and each "
        "expected AVISITN (-1 SCREENING, 0 BASELINE, 1 MONTH 1) with no non-missing AVAL, a "
        "record with the AVAL of the last such record at an earlier AVISITN; none before the "
        "first observed value."
    )


# --------------------------------------------------------------------------- pure functions
def test_derive_summary_rows_and_values() -> None:
    df = tbl("G V O", ("a", 1, 2), ("b", None, 1), ("a", 3, 1), ("b", 4, 3))
    assert_table(
        derive_summary(df, by=["G"], value="V", function="mean"),
        tbl("ROW VALUE", (0, 2), (3, 4)).astype({"ROW": "int64"}),
    )
    last = derive_summary(df, by=["G"], value="V", function="last", order_by=["O"])
    assert last["ROW"].tolist() == [0, 3]


def test_derive_locf_skips_visits_before_the_first_value() -> None:
    df = tbl("G V A", ("a", 2, 10), ("a", 4, None))
    out = derive_locf(df, by=["G"], visit="V", value="A", expected=[1, 2, 3, 4])
    assert out["ROW"].tolist() == [0, 0]
    assert out["VISIT"].tolist() == [3, 4]
