"""cdisc_mapper/sdtm/ops/visits.py: visitnum and visit (SDTMIG 3.4 section 4.4.5) and
epoch (section 4.1.3.1); one small table per rule."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm import OPERATIONS
from cdisc_mapper.sdtm.visits import build_calendar, visit_entries
from cdisc_mapper.spec.study import StudySpec, UnscheduledSpec
from tests.sdtm_ops_helpers import (
    SUBJ1,
    SUBJ2,
    make_ctx,
    operations_of,
    records,
    run_op,
    study,
    values,
)


def test_every_operation_of_visits_py_is_tested_here() -> None:
    assert operations_of("visits") == {"visitnum", "visit", "epoch", "schedule"}


@pytest.mark.parametrize(
    ("name", "origin"),
    [("visitnum", "Derived"), ("visit", "Derived"), ("epoch", "Derived"), ("schedule", "Protocol")],
)
def test_registered_row_local_with_origin(name, origin) -> None:
    op = OPERATIONS.require(name)
    assert (op.origin, op.raw, op.needs_all, op.row_local) == (origin, False, False, True)


def test_method_texts_cite_the_sdtmig_rules() -> None:
    assert "4.4.5" in OPERATIONS.require("visitnum").method
    assert "4.1.3.1" in OPERATIONS.require("epoch").method
    assert "4.4.5" in OPERATIONS.require("schedule").method


def test_visitnum_reads_the_visit_calendar() -> None:
    args = OPERATIONS.require("visitnum").args_model.model_validate(
        {"label": "_VISITLABEL", "date": "VSDTC"}
    )
    assert args.lookups() == {("*", "CALENDAR")}
    assert args.inputs() == {"_VISITLABEL", "VSDTC", "USUBJID"}


# ------------------------------------------------------------------ VISITNUM (4.4.5)

VISIT_COLUMNS = ["USUBJID", "_VISITLABEL", "DTC"]


def visits(file: str, *rows: tuple[str, str, str]) -> pd.DataFrame:
    return records(file, VISIT_COLUMNS, *rows)


def visitnums(frame: pd.DataFrame, *others: pd.DataFrame, spec: StudySpec | None = None) -> list:
    """VISITNUM of ``frame`` with the calendar of ``frame`` and ``others`` (other domains)."""
    spec = spec or study()
    calendar = build_calendar(
        [visit_entries(f, "_VISITLABEL", "DTC") for f in (frame, *others)], spec
    )
    ctx = make_ctx("VS", "VISITNUM", calendar=calendar, spec=spec)
    ctx.extra["study_where"] = lambda path: "study.yaml:99"
    out = run_op("visitnum", {"label": "_VISITLABEL", "date": "DTC"}, frame, ctx)
    assert out.dtype == float
    return values(out)


def test_visitnum_is_the_scheduled_number_of_the_raw_label() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Month 2", "2016-03-05"),  # another raw label of visit 2
        (SUBJ1, " run-in   MONTH 4 ", "2016-05-05"),  # case and spaces ignored
        (SUBJ1, "INJECTION 1", "2016-07-01"),  # the visit's own name
        (SUBJ1, "EOS", "2017-04-20"),
    )
    assert visitnums(vs) == [1, 2, 3, 10, 90]


def test_visitnum_is_nominal_also_out_of_window() -> None:
    # Month 2 is planned about day -120; done a month late it keeps its number
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Month 2", "2016-04-20"),
    )
    assert visitnums(vs) == [1, 2]


def test_visitnum_unscheduled_after_the_last_scheduled_visit_on_or_before_its_date() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Unscheduled", "2016-01-20"),
        (SUBJ1, "UNS", "2016-02-10"),
        (SUBJ1, "Month 2", "2016-03-05"),
        (SUBJ1, "Unsched", "2016-03-05"),  # on the day of visit 2: after it
        (SUBJ1, "Unscheduled", "2016-01-20T15:00"),  # the same day: the same visit
    )
    assert visitnums(vs) == [1, 1.01, 1.02, 2, 2.01, 1.01]


def test_visitnum_unscheduled_before_any_scheduled_visit() -> None:
    vs = visits(
        "vitals.csv", (SUBJ2, "Unscheduled", "2015-12-01"), (SUBJ2, "Screening", "2016-01-05")
    )
    assert visitnums(vs) == [0.01, 1]


def test_visitnum_unscheduled_numbered_over_all_domains() -> None:
    # the lab drawn on 2016-01-12 at an unscheduled visit comes first, in every domain
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Unscheduled", "2016-01-20"),
    )
    lb = visits(
        "labs.csv", (SUBJ1, "Unscheduled", "2016-01-12"), (SUBJ1, "Unscheduled", "2016-01-20")
    )
    assert visitnums(vs, lb) == [1, 1.02]
    assert visitnums(lb, vs) == [1.01, 1.02]


def test_visitnum_per_subject() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ2, "Screening", "2016-02-01"),
        (SUBJ1, "Unscheduled", "2016-02-10"),
        (SUBJ2, "Unscheduled", "2016-02-10"),
    )
    assert visitnums(vs) == [1, 1, 1.01, 1.01]


def test_visitnum_missing_without_a_visit_label() -> None:
    vs = visits("vitals.csv", (SUBJ1, "", "2016-01-05"), (SUBJ1, "Screening", "2016-01-05"))
    assert visitnums(vs) == [None, 1]


def test_visitnum_label_not_in_the_schedule_names_every_record() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Week 3", "2016-01-26"),
        (SUBJ2, "Week 3", "2016-02-20"),
    )
    with pytest.raises(MappingError) as err:
        visitnums(vs)
    msg = str(err.value)
    assert msg.startswith("VS.VISITNUM: visit label not in the study's visit schedule")
    assert msg.endswith("in 2 record(s): vitals.csv row 3: 'Week 3'; vitals.csv row 4: 'Week 3'")


def test_visitnum_unscheduled_visit_without_a_date_names_every_record() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Unscheduled", ""),
        (SUBJ1, "UNS", "2016"),
    )
    with pytest.raises(MappingError) as err:
        visitnums(vs)
    assert str(err.value) == (
        "VS.VISITNUM: unscheduled visit without a complete date (cannot be numbered after "
        "the scheduled visits) in 2 record(s): vitals.csv row 3: ''; vitals.csv row 4: '2016'"
    )


# ------------------------------------------------------------------ unscheduled.pattern

NUMBERED = r"Unscheduled (?P<number>\d+(\.\d+)?)"


def unscheduled(**settings: object) -> StudySpec:
    """The bundled study with ``unscheduled`` set to ``settings``."""
    return study(unscheduled=UnscheduledSpec.model_validate(settings))


def test_visitnum_is_the_number_an_unscheduled_label_holds() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Unscheduled 8.2", "2016-01-20"),
        (SUBJ1, "  unscheduled   3.15 ", "2016-02-01"),  # case and spaces ignored
        (SUBJ2, "UNSCHEDULED 8.2", ""),  # no date needed
        (SUBJ1, "Unscheduled 5", "2016-02-02"),
    )
    assert visitnums(vs, spec=unscheduled(pattern=NUMBERED)) == [1, 8.2, 3.15, 8.2, 5]


def test_a_pattern_without_a_number_is_numbered_by_the_calendar() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Unplanned visit (AE)", "2016-01-20"),
        (SUBJ1, "Unplanned visit", "2016-01-21"),
    )
    spec = unscheduled(pattern=r"Unplanned visit( \(.*\))?")
    assert visitnums(vs, spec=spec) == [1, 1.01, 1.02]


def test_an_optional_number_group_numbers_by_label_or_calendar() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Unscheduled 1.01", "2016-01-10"),
        (SUBJ1, "Unscheduled", "2016-01-20"),  # 1.01 is the label's: the next number
        (SUBJ2, "Screening", "2016-01-05"),
        (SUBJ2, "Unscheduled", "2016-01-20"),  # another subject: 1.01 is free
    )
    spec = unscheduled(pattern=r"Unscheduled( (?P<number>\d+\.\d+))?")
    assert visitnums(vs, spec=spec) == [1, 1.01, 1.02, 1, 1.01]


def test_raw_labels_and_pattern_together() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "UNS", "2016-01-20"),
        (SUBJ1, "Unscheduled 1.5", "2016-01-25"),
    )
    spec = unscheduled(raw_labels=["UNS"], pattern=NUMBERED, step=0.1)
    assert visitnums(vs, spec=spec) == [1, 1.1, 1.5]


def test_an_unscheduled_number_of_a_scheduled_visit_names_label_record_and_study_line() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Unscheduled 2", "2016-01-20"),
        (SUBJ1, "Unscheduled 10.0", "2016-01-21"),
    )
    with pytest.raises(MappingError) as err:
        visitnums(vs, spec=unscheduled(pattern=NUMBERED))
    assert str(err.value) == (
        "VS.VISITNUM: unscheduled visit numbered as a scheduled visit (VISITNUM 2 is RUN-IN "
        "MONTH 2, 10 is INJECTION 1; a VISITNUM names one visit; see study.yaml:99 "
        "unscheduled.pattern) in 2 record(s): vitals.csv row 3: 'Unscheduled 2 -> 2'; "
        "vitals.csv row 4: 'Unscheduled 10.0 -> 10'"
    )


def test_a_calendar_number_reaching_the_next_visit_is_an_error_naming_the_step() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Unscheduled", "2016-01-20"),
        (SUBJ1, "Unscheduled", "2016-01-27"),  # 1 + 2 x 0.5 = visit 2
    )
    with pytest.raises(MappingError) as err:
        visitnums(vs, spec=unscheduled(raw_labels=["Unscheduled"], step=0.5))
    assert str(err.value) == (
        "VS.VISITNUM: unscheduled visit numbered as a scheduled visit (VISITNUM 2 is RUN-IN "
        "MONTH 2; a VISITNUM names one visit; see study.yaml:99 unscheduled.step) in 1 "
        "record(s): vitals.csv row 4: 'Unscheduled -> 2'"
    )


def test_a_number_group_that_is_not_a_number_names_the_records() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Unscheduled 8.2", "2016-01-20"),
        (SUBJ1, "Unscheduled 8,3", "2016-01-21"),
    )
    with pytest.raises(MappingError) as err:
        visitnums(vs, spec=unscheduled(pattern=r"Unscheduled (?P<number>\S+)"))
    assert str(err.value) == (
        "VS.VISITNUM: the number group of an unscheduled visit's label is not a number "
        "(digits, optionally a decimal point and digits; see study.yaml:99 "
        "unscheduled.pattern) in 1 record(s): vitals.csv row 3: 'Unscheduled 8,3'"
    )


def test_visitnum_runs_alone_over_the_calendar_of_its_records() -> None:
    vs = visits(
        "vitals.csv", (SUBJ1, "Screening", "2016-01-05"), (SUBJ1, "Unscheduled", "2016-01-20")
    )
    out = run_op("visitnum", {"label": "_VISITLABEL", "date": "DTC"}, vs, make_ctx("VS", "X"))
    assert values(out) == [1, 1.01]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "give raw_labels, pattern or both"),
        ({"pattern": "Unscheduled (?P<num>\\d+)"}, r"named group\(s\) \['num'\]"),
        ({"pattern": "Unscheduled (\\d+"}, "not a regular expression"),
        ({"raw_labels": ["UNS"], "step": 0}, "greater than 0"),
    ],
)
def test_unscheduled_mistakes_are_spec_errors(settings, message) -> None:
    with pytest.raises(ValidationError, match=message):
        UnscheduledSpec.model_validate(settings)


def test_a_label_is_scheduled_or_unscheduled_never_both() -> None:
    data = study().model_dump(by_alias=True, exclude_none=True)
    data["unscheduled"] = {"pattern": "(Month|Unscheduled) .*"}
    with pytest.raises(ValidationError, match=r"visit 2 \(RUN-IN MONTH 2\) label 'Month 2'"):
        StudySpec.model_validate(data)


# ------------------------------------------------------------------ VISIT


def test_visit_is_the_schedules_name_or_unscheduled_with_the_number() -> None:
    frame = records("vitals.csv", ["VISITNUM"], [1.0], [90.0], [2.01], [0.01], [10.02], [None])
    out = run_op("visit", {}, frame, make_ctx("VS", "VISIT"))
    assert values(out) == [
        "SCREENING",
        "END OF STUDY",
        "UNSCHEDULED 2.01",
        "UNSCHEDULED 0.01",
        "UNSCHEDULED 10.02",
        "",
    ]


@pytest.mark.parametrize(
    ("step", "numbers", "names"),
    [
        # the bug: 1.001 and 1.002 were both UNSCHEDULED 1.00 (TM0008: not one-to-one)
        (0.001, [1.001, 1.002, 2.01], ["1.001", "1.002", "2.010"]),
        (0.1, [8.1, 8.2, 12.0], ["8.1", "8.2", "12.0"]),  # not 8.10
        (0.01, [8.1, 2.01], ["8.10", "2.01"]),
        (0.1, [8.25], ["8.25"]),  # a label's number keeps its decimals
        (0.5, [1.5, 5.0], ["1.5", "5.0"]),
        (1, [5.0, 5.5], ["5", "5.5"]),
    ],
)
def test_unscheduled_visit_names_show_the_steps_decimals_or_the_numbers(
    step, numbers, names
) -> None:
    frame = records("vitals.csv", ["VISITNUM"], *[[n] for n in numbers])
    spec = unscheduled(raw_labels=["UNS"], step=step, label_prefix="UNSCHEDULED")
    out = run_op("visit", {}, frame, make_ctx("VS", "VISIT", spec=spec))
    assert values(out) == [f"UNSCHEDULED {n}" for n in names]


def test_calendar_numbers_at_a_fine_step_have_one_name_each() -> None:
    vs = visits(
        "vitals.csv",
        (SUBJ1, "Screening", "2016-01-05"),
        (SUBJ1, "Unscheduled", "2016-01-20"),
        (SUBJ1, "Unscheduled", "2016-01-21"),
    )
    spec = unscheduled(raw_labels=["Unscheduled"], step=0.001)
    frame = vs.assign(VISITNUM=visitnums(vs, spec=spec))
    out = run_op("visit", {}, frame, make_ctx("VS", "VISIT", spec=spec))
    assert values(out) == ["SCREENING", "UNSCHEDULED 1.001", "UNSCHEDULED 1.002"]


# ------------------------------------------------------------------ schedule (TV)


def schedule(field: str, *numbers: float | None, calendar: pd.DataFrame | None = None) -> list:
    frame = records("vitals.csv", ["VISITNUM"], *[[n] for n in numbers])
    ctx = make_ctx("VS", "VISITDY", calendar=calendar)
    return values(run_op("schedule", {"field": field}, frame, ctx))


def test_schedule_gives_the_planned_study_day_of_the_visit() -> None:
    out = schedule("visitdy", 1, 2, 10, 11, None)
    assert out == [-180, -120, 1, None, None]  # visit 11 states no day


def test_schedule_gives_the_visit_name_and_window() -> None:
    assert schedule("visit", 4, 90) == ["BONE MARROW ASPIRATION", "END OF STUDY"]
    assert schedule("window_before", 1, 2, 10) == [0, 14, None]
    assert schedule("window_after", 1, 2, 10) == [14, 14, None]


def test_schedule_is_null_for_unscheduled_visits() -> None:
    vs = visits(
        "vitals.csv", (SUBJ1, "Screening", "2016-01-05"), (SUBJ1, "Unscheduled", "2016-01-20")
    )
    calendar = build_calendar([visit_entries(vs, "_VISITLABEL", "DTC")], study())
    assert schedule("visitdy", 1, 1.01, calendar=calendar) == [-180, None]
    assert schedule("visit", 1.01, calendar=calendar) == [None]


def test_schedule_of_a_number_neither_scheduled_nor_unscheduled_names_every_record() -> None:
    with pytest.raises(MappingError) as err:
        schedule("visitdy", 1, 5, 1.01, 5)
    assert str(err.value) == (
        "VS.VISITDY: visit number neither in the study's schedule (study.yaml visits) nor "
        "an unscheduled visit's in 3 record(s): vitals.csv row 3: 5.0; vitals.csv row 4: "
        "1.01; vitals.csv row 5: 5.0"
    )


def test_schedule_field_is_one_of_the_visit_attributes() -> None:
    model = OPERATIONS.require("schedule").args_model
    with pytest.raises(ValidationError, match="field"):
        model.model_validate({"field": "start_rule"})
    assert model.model_validate({"field": "visitdy"}).inputs() == {"VISITNUM"}


# ------------------------------------------------------------------ EPOCH (4.1.3.1)

SE = pd.DataFrame(
    {
        "USUBJID": [SUBJ1, SUBJ1, SUBJ1],
        "ETCD": ["RUNIN", "MSC1", "MSC2"],
        "EPOCH": ["RUN-IN", "TREATMENT", "TREATMENT"],
        "SESTDTC": ["2016-01-05", "2016-07-12T10:00", "2016-10-15T09:00"],
        "SEENDTC": ["2016-07-12T10:00", "2016-10-15T09:00", "2017-01-10"],
    }
)


def epochs(*rows: tuple[str, str]) -> list:
    frame = records("vitals.csv", ["USUBJID", "VSDTC"], *rows)
    return values(run_op("epoch", {"dtc": "VSDTC"}, frame, make_ctx("VS", "EPOCH", se=SE)))


def test_epoch_of_the_element_whose_start_is_on_or_before_the_date() -> None:
    assert epochs(
        (SUBJ1, "2016-01-05"),  # the first element's start
        (SUBJ1, "2016-03-01"),
        (SUBJ1, "2016-08-15"),
        (SUBJ1, "2016-12-01T08:00"),
    ) == ["RUN-IN", "RUN-IN", "TREATMENT", "TREATMENT"]


def test_epoch_on_the_day_an_element_starts() -> None:
    assert epochs(
        (SUBJ1, "2016-07-12T09:00"),  # before the first dose
        (SUBJ1, "2016-07-12T10:00"),  # at the dose: the new element
        (SUBJ1, "2016-07-12"),  # no time: the new element
    ) == ["RUN-IN", "TREATMENT", "TREATMENT"]


def test_epoch_last_element_includes_its_end_date_and_nothing_after() -> None:
    assert epochs((SUBJ1, "2017-01-10"), (SUBJ1, "2017-01-11"), (SUBJ1, "2016-01-04")) == [
        "TREATMENT",
        "",
        "",
    ]


def test_epoch_of_a_partial_date_only_when_it_lies_in_one_epoch() -> None:
    # SDTMIG 3.4 section 4.1.3.1: no imputed EPOCH; null when it cannot be determined
    assert epochs(
        (SUBJ1, "2016-03"),
        (SUBJ1, "2016-10"),  # in two elements of the same epoch
        (SUBJ1, "2016-07"),  # run-in until the 12th, then treatment
        (SUBJ1, "2016"),
    ) == ["RUN-IN", "TREATMENT", "", ""]


def test_epoch_null_without_a_date_or_subject_elements() -> None:
    assert epochs((SUBJ1, ""), (SUBJ2, "2016-08-15")) == ["", ""]


def test_epoch_of_several_records_from_one_form_row() -> None:
    frame = records(
        "vitals.csv",
        ["USUBJID", "VSDTC"],
        [SUBJ1, "2016-03"],
        [SUBJ1, "2016-07"],
        [SUBJ1, "2016-08-01"],
    ).assign(_ROW=[4, 4, 4])
    out = run_op("epoch", {"dtc": "VSDTC"}, frame, make_ctx("VS", "EPOCH", se=SE))
    assert values(out) == ["RUN-IN", "", "TREATMENT"]


# The same subject on study days (no dates): run-in from day -14, treatment from day 1
SE_DAYS = pd.DataFrame(
    {
        "USUBJID": [SUBJ1, SUBJ1],
        "ETCD": ["RUNIN", "MSC1"],
        "EPOCH": ["RUN-IN", "TREATMENT"],
        "SESTDTC": ["", ""],
        "SEENDTC": ["", ""],
        "SESTDY": [-14.0, 1.0],
        "SEENDY": [1.0, 180.0],
    }
)


def test_epoch_on_study_days_with_dy() -> None:
    frame = records(
        "alsfrs.csv", ["USUBJID", "QSDY"], [SUBJ1, -15.0], [SUBJ1, -1.0], [SUBJ1, 1.0],
        [SUBJ1, 180.0], [SUBJ1, 181.0], [SUBJ1, None], [SUBJ2, 1.0],
    )  # fmt: skip
    out = run_op("epoch", {"dy": "QSDY"}, frame, make_ctx("QS", "EPOCH", se=SE_DAYS))
    # day -1 is the last run-in day and day 1 (the next day: no day 0) the first treatment
    assert values(out) == ["", "RUN-IN", "TREATMENT", "TREATMENT", "", "", ""]


def test_epoch_takes_a_date_or_a_study_day() -> None:
    model = OPERATIONS.require("epoch").args_model
    with pytest.raises(ValidationError, match="exactly one of dtc"):
        model.model_validate({"dtc": "QSDTC", "dy": "QSDY"})
    with pytest.raises(ValidationError, match="exactly one of dtc"):
        model.model_validate({})


def test_epoch_of_a_study_day_0_names_the_record() -> None:
    frame = records("alsfrs.csv", ["USUBJID", "QSDY"], [SUBJ1, 1.0], [SUBJ1, 0.0])
    with pytest.raises(MappingError) as err:
        run_op("epoch", {"dy": "QSDY"}, frame, make_ctx("QS", "EPOCH", se=SE_DAYS))
    assert str(err.value).startswith("QS.EPOCH: study day that is not a whole non-zero number")
    assert str(err.value).endswith("in 1 row: row alsfrs.csv:3 '0'")


def test_epoch_of_a_date_that_is_not_iso_8601_names_the_record() -> None:
    frame = records("vitals.csv", ["USUBJID", "VSDTC"], [SUBJ1, "2016-08-01"], [SUBJ1, "1/8/2016"])
    with pytest.raises(MappingError) as err:
        run_op("epoch", {"dtc": "VSDTC"}, frame, make_ctx("VS", "EPOCH", se=SE))
    assert str(err.value) == (
        "VS.EPOCH: not an ISO 8601 date/time (YYYY[-MM[-DD[Thh:mm[:ss]]]]) in 1 row: "
        "row vitals.csv:3 '1/8/2016'"
    )
