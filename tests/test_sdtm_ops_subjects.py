"""cdisc_mapper/sdtm/ops/subjects.py: subject_first, subject_last and subject_value, a
subject's value taken from another domain (SDTMIG 3.4 DM: RFXSTDTC, RFXENDTC, DTHDTC,
RFPENDTC); one small table per rule."""

from __future__ import annotations

import warnings

import pytest

from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm import OPERATIONS
from tests.sdtm_ops_helpers import SUBJ1, SUBJ2, make_ctx, operations_of, records, run_op, values

SUBJ3 = "0208-16-HMO-01-003"  # a screen failure: no exposure, no disposition date

DM = records("enrollment.csv", ["USUBJID"], [SUBJ1], [SUBJ2], [SUBJ3])

EX = records(
    "injections.csv",
    ["USUBJID", "EXSTDTC", "EXENDTC", "VISIT"],
    [SUBJ1, "2016-10-01T09:00", "2016-10-01T09:00", "INJECTION 2"],
    [SUBJ1, "2016-07-01T10:00", "2016-07-01T10:00", "INJECTION 1"],
    [SUBJ1, "", "", "INJECTION 3"],  # not done: no date
    [SUBJ2, "2016-09-15", "2016-09-15", "INJECTION 1"],
    [SUBJ1, "2017-01-20T11:00", "2017-01-20T11:00", "INJECTION 3"],
)

DS = records(
    "disposition.csv",
    ["USUBJID", "DSDECOD", "DSSTDTC"],
    [SUBJ1, "COMPLETED", "2017-04-20"],
    [SUBJ2, "DEATH", "2017-02-03"],
    [SUBJ2, "DEATH", "2017-02-03"],  # the same date recorded twice
    [SUBJ3, "SCREEN FAILURE", ""],
)


def subject_op(name: str, args: dict, **domains) -> list:
    ctx = make_ctx("DM", "X", domains=domains)
    return values(run_op(name, args, DM, ctx))


def test_every_operation_of_subjects_py_is_tested_here() -> None:
    assert operations_of("subjects") == {"subject_first", "subject_last", "subject_value"}


@pytest.mark.parametrize("name", ["subject_first", "subject_last", "subject_value"])
def test_registered_as_derived_row_local(name) -> None:
    op = OPERATIONS.require(name)
    assert (op.origin, op.raw, op.needs_all, op.row_local) == ("Derived", False, False, True)


def test_lookups_name_the_other_domains_variables() -> None:
    model = OPERATIONS.require("subject_value").args_model
    args = model.model_validate(
        {"domain": "DS", "variable": "DSSTDTC", "where": {"variable": "DSDECOD", "equals": "X"}}
    )
    assert args.lookups() == {("DS", "DSSTDTC"), ("DS", "USUBJID"), ("DS", "DSDECOD")}
    assert args.inputs() == {"USUBJID"}


# ------------------------------------------------------------------ subject_first / last


def test_subject_first_is_the_earliest_date_of_the_subject() -> None:
    # RFXSTDTC = the first EXSTDTC; blanks ignored; no exposure gives null
    out = subject_op("subject_first", {"domain": "EX", "variable": "EXSTDTC"}, EX=EX)
    assert out == ["2016-07-01T10:00", "2016-09-15", ""]


def test_subject_last_is_the_latest_date_of_the_subject() -> None:
    out = subject_op("subject_last", {"domain": "EX", "variable": "EXENDTC"}, EX=EX)
    assert out == ["2017-01-20T11:00", "2016-09-15", ""]


def test_subject_first_of_the_records_where_the_condition_holds() -> None:
    args = {
        "domain": "EX",
        "variable": "EXSTDTC",
        "where": {"variable": "VISIT", "equals": "INJECTION 2"},
    }
    assert subject_op("subject_first", args, EX=EX) == ["2016-10-01T09:00", "", ""]


def test_subject_last_iso_8601_text_sorts_chronologically() -> None:
    ex = records(
        "injections.csv",
        ["USUBJID", "EXSTDTC"],
        [SUBJ1, "2016-12-01"],
        [SUBJ1, "2017-01-02"],
        [SUBJ1, "2016-09-30"],
    )
    args = {"domain": "EX", "variable": "EXSTDTC"}
    assert subject_op("subject_last", args, EX=ex) == ["2017-01-02", "", ""]
    assert subject_op("subject_first", args, EX=ex) == ["2016-09-30", "", ""]


# ------------------------------------------------------------------ subject_value


def test_subject_value_is_the_subjects_single_value() -> None:
    args = {
        "domain": "DS",
        "variable": "DSSTDTC",
        "where": {"variable": "DSDECOD", "equals": "DEATH"},
    }
    # DTHDTC: the same date twice is one value; subjects without a death are null
    assert subject_op("subject_value", args, DS=DS) == ["", "2017-02-03", ""]


def test_subject_value_blank_values_do_not_count() -> None:
    args = {"domain": "DS", "variable": "DSSTDTC"}
    ds = DS[DS["USUBJID"] != SUBJ2]
    assert subject_op("subject_value", args, DS=ds) == ["2017-04-20", "", ""]


def test_subject_value_with_two_values_names_every_record() -> None:
    ds = records(
        "disposition.csv",
        ["USUBJID", "DSDECOD", "DSSTDTC"],
        [SUBJ1, "COMPLETED", "2017-04-20"],
        [SUBJ2, "DEATH", "2017-02-03"],
        [SUBJ2, "COMPLETED", "2017-02-04"],
        [SUBJ2, "DEATH", "2017-02-03"],
    )
    ctx = make_ctx("DM", "RFPENDTC", domains={"DS": ds})
    with pytest.raises(MappingError) as err:
        run_op("subject_value", {"domain": "DS", "variable": "DSSTDTC"}, DM, ctx)
    assert str(err.value) == (
        "DM.RFPENDTC: DS.DSSTDTC has more than one value for a subject in 3 record(s): "
        f"disposition.csv row 3: '{SUBJ2} 2017-02-03'; "
        f"disposition.csv row 4: '{SUBJ2} 2017-02-04'; "
        f"disposition.csv row 5: '{SUBJ2} 2017-02-03'"
    )


def test_subject_value_of_a_numeric_variable_ignores_missing_values() -> None:
    """A missing number is no value (not the text 'nan'): one dose per subject here."""
    ex = records(
        "injections.csv",
        ["USUBJID", "EXDOSE"],
        [SUBJ1, 1.5],
        [SUBJ1, float("nan")],
        [SUBJ2, 2.0],
    )
    assert subject_op("subject_value", {"domain": "EX", "variable": "EXDOSE"}, EX=ex) == [
        "1.5",
        "2",
        "",
    ]


def test_subject_first_and_last_of_a_numeric_variable_compare_numbers() -> None:
    # read as text, 10 sorted before 9 and 9.5: the first visit was VISITNUM 10
    sv = records(
        "visits.csv",
        ["USUBJID", "VISITNUM"],
        [SUBJ1, 9.0],
        [SUBJ1, 10.0],
        [SUBJ1, 9.5],
        [SUBJ2, 2.0],
        [SUBJ2, None],
    )
    args = {"domain": "SV", "variable": "VISITNUM"}
    assert subject_op("subject_first", args, SV=sv) == ["9", "2", ""]
    assert subject_op("subject_last", args, SV=sv) == ["10", "2", ""]


@pytest.mark.parametrize("name", ["subject_first", "subject_last", "subject_value"])
def test_no_record_for_any_subject_gives_blank_text(name: str) -> None:
    """A study without deaths: no DS record meets the condition, so every subject's
    DTHDTC is blank text (not a missing number that pandas must coerce)."""
    args = {"domain": "DS", "variable": "DSSTDTC", "where": {"variable": "DSDECOD", "equals": "X"}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert subject_op(name, args, DS=DS) == ["", "", ""]
