"""cdisc_mapper/sdtm/ops/visits.py: visitnum and visit (SDTMIG 3.4 section 4.4.5) and
epoch (section 4.1.3.1); one small table per rule."""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm import OPERATIONS
from cdisc_mapper.sdtm.visits import build_calendar, visit_entries
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
    assert operations_of("visits") == {"visitnum", "visit", "epoch"}


@pytest.mark.parametrize("name", ["visitnum", "visit", "epoch"])
def test_registered_as_derived_row_local(name) -> None:
    op = OPERATIONS.require(name)
    assert (op.origin, op.raw, op.needs_all, op.row_local) == ("Derived", False, False, True)


def test_method_texts_cite_the_sdtmig_rules() -> None:
    assert "4.4.5" in OPERATIONS.require("visitnum").method
    assert "4.1.3.1" in OPERATIONS.require("epoch").method


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


def visitnums(frame: pd.DataFrame, *others: pd.DataFrame) -> list:
    """VISITNUM of ``frame`` with the calendar of ``frame`` and ``others`` (other domains)."""
    calendar = build_calendar(
        [visit_entries(f, "_VISITLABEL", "DTC") for f in (frame, *others)], study()
    )
    ctx = make_ctx("VS", "VISITNUM", calendar=calendar)
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


def test_epoch_of_a_date_that_is_not_iso_8601_names_the_record() -> None:
    frame = records("vitals.csv", ["USUBJID", "VSDTC"], [SUBJ1, "2016-08-01"], [SUBJ1, "1/8/2016"])
    with pytest.raises(MappingError) as err:
        run_op("epoch", {"dtc": "VSDTC"}, frame, make_ctx("VS", "EPOCH", se=SE))
    assert str(err.value) == (
        "VS.EPOCH: not an ISO 8601 date/time (YYYY[-MM[-DD[Thh:mm[:ss]]]]) in 1 row: "
        "row vitals.csv:3 '1/8/2016'"
    )
