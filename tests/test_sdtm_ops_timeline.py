"""The relative-day operations (cdisc_mapper.sdtm.ops.timeline): relative_day and
relative_date over study.yaml ``timeline``, with their located errors."""

from __future__ import annotations

import pytest

from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.spec.study import TimelineSpec, VisitSpec
from tests.sdtm_ops_helpers import make_ctx, raw_form, records, run_op, study, values

ONSET = {"kind": "relative_days", "day0": "Trial onset"}


def _run(op: str, timeline: dict | None, *offsets: str, variable: str = "QSDY") -> list:
    spec = study(timeline=TimelineSpec.model_validate(timeline) if timeline else None)
    raw = raw_form("alsfrs.csv", ["ALSFRS_Delta"], *[[o] for o in offsets])
    ctx = make_ctx("QS", variable, raw=raw, spec=spec)
    return values(run_op(op, {"column": "ALSFRS_Delta"}, ctx=ctx))


def test_relative_day_counts_elapsed_offsets_without_day_0() -> None:
    assert _run("relative_day", ONSET, "-30", "-1", "0", "6", "") == [-30, -1, 1, 7, None]


def test_relative_day_keeps_offsets_counted_as_study_days() -> None:
    timeline = {**ONSET, "offsets": "study_day"}
    assert _run("relative_day", timeline, "-1", "1", "7") == [-1, 1, 7]
    with pytest.raises(
        MappingError, match=r"alsfrs.csv, column ALSFRS_Delta .*study day 0 .*row 3 .0."
    ):
        _run("relative_day", timeline, "1", "0")


def test_relative_date_is_the_anchor_plus_the_offset() -> None:
    timeline = {**ONSET, "anchor": "2010-03-01"}
    got = _run("relative_date", timeline, "-1", "0", "30", "", variable="QSDTC")
    assert got == ["2010-02-28", "2010-03-01", "2010-03-31", ""]


def test_relative_date_without_an_anchor_is_an_error_at_the_spec_line() -> None:
    with pytest.raises(SpecError) as err:
        _run("relative_date", ONSET, "0", variable="QSDTC")
    assert "QS.QSDTC: relative_date needs a pseudo date for the day0 event" in str(err.value)
    assert "timeline.anchor" in str(err.value)


def test_offsets_without_a_timeline_are_an_error() -> None:
    with pytest.raises(SpecError, match=r"QS\.QSDY: the study has no timeline"):
        _run("relative_day", None, "0")


def test_an_offset_that_is_no_whole_number_names_the_file_column_and_row() -> None:
    with pytest.raises(MappingError) as err:
        _run("relative_day", ONSET, "0", "1.5")
    msg = str(err.value)
    assert msg.startswith("alsfrs.csv, column ALSFRS_Delta (rows are file rows)")
    assert "row 3 '1.5'" in msg


def _visits(days: list, **args: object) -> list:
    visits = [
        {"visitnum": 1, "visit": "BASELINE", "raw_labels": [], "visitdy": 1,
         "window_before": 10, "window_after": 10, "start_rule": "Day 1"},
        {"visitnum": 2, "visit": "DAY 15", "raw_labels": [], "visitdy": 15,
         "window_before": 7, "window_after": 7, "start_rule": "Day 15"},
        {"visitnum": 9, "visit": "END", "raw_labels": [], "start_rule": "End of study"},
    ]  # fmt: skip
    spec = study(visits=[VisitSpec.model_validate(v) for v in visits])
    frame = records("alsfrs.csv", ["QSDY"], *[[d] for d in days])
    ctx = make_ctx("QS", "VISITNUM", spec=spec)
    return values(run_op("visit_window", {"dy": "QSDY", **args}, frame, ctx))


def test_visit_window_takes_the_visit_whose_window_holds_the_day() -> None:
    # day 8 is in both windows (1 +- 10 and 15 +- 7): 15 is nearer (7 days) than 1 (7 days:
    # a tie, the earlier visit); day 9 is nearer 15
    assert _visits([-9, 1, 8, 9, 22, None]) == [1.0, 1.0, 1.0, 2.0, 2.0, None]


def test_visit_window_a_day_in_no_window_names_its_records() -> None:
    with pytest.raises(MappingError) as err:
        _visits([1, 40])
    assert "QS.VISITNUM: study day QSDY in no visit's window" in str(err.value)
    assert "alsfrs.csv row 3: 40" in str(err.value)
    assert _visits([1, 40], outside="blank") == [1.0, None]
