"""The relative-day operations (cdisc_mapper.sdtm.ops.timeline): relative_day and
relative_date over study.yaml ``timeline``, with their located errors."""

from __future__ import annotations

import pytest

from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.spec.study import TimelineSpec
from tests.sdtm_ops_helpers import make_ctx, raw_form, run_op, study, values

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
