"""cdisc_mapper.adam.ops.ranges: reference_range, nrind.

Small input table -> expected table, through the registry, on the in-memory study of
tests/adam_ops_context.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cdisc_mapper.adam import load_adam_specs
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.operations import ColumnMeta
from tests.adam_ops_context import (
    assert_table,
    col,
    context,
    derive,
    meta,
    reported_line,
    study_with,
    tbl,
)

RANGES = {"SYSBP": [90, 140], "HR": [50, None]}


def test_reference_range_from_the_data_else_from_the_spec_table() -> None:
    """ADaMIG v1.3 section 3.3.7: ANRLO/ANRHI, the analysis range: the record's own limits
    (LBSTNRLO/LBSTNRHI), else the study's range for the parameter; null when neither."""
    frame = tbl(
        "USUBJID PARAMCD LBSTNRLO LBSTNRHI",
        ("S1", "SYSBP", None, None),
        ("S1", "SYSBP", 95, None),
        ("S1", "HR", None, None),
        ("S1", "TEMP", None, None),
    )
    ctx = context("ADVS")
    low = {"bound": "low", "source": "LBSTNRLO", "table": RANGES}
    high = {"bound": "high", "source": "LBSTNRHI", "table": RANGES}
    out = frame.assign(
        ANRLO=derive("reference_range", frame, ctx, **low),
        ANRHI=derive("reference_range", frame, ctx, **high),
    )
    expected = frame.assign(ANRLO=col(90.0, 95.0, 50.0, None), ANRHI=col(140.0, 140.0, None, None))
    assert_table(out, expected)
    assert meta("reference_range", ctx, **low) == ColumnMeta(
        method="Low limit: LBSTNRLO, else the study's analysis range by PARAMCD (SYSBP: 90, "
        "HR: 50).",
        type="Num",
    )
    assert meta("reference_range", ctx, **high).method == (
        "High limit: LBSTNRHI, else the study's analysis range by PARAMCD (SYSBP: 140)."
    )


def test_nrind_low_normal_high_with_a_fallback_for_missing_values() -> None:
    """ADaMIG v1.3 section 3.3.7: ANRIND, where AVAL falls with respect to ANRLO/ANRHI (CT
    NRIND); a limit is normal; one missing limit leaves that side open; null without a
    value or limits, unless the spec names the collected indicator for missing values."""
    frame = tbl(
        "USUBJID AVAL ANRLO ANRHI LBNRIND",
        ("S1", 3, 4, 10, ""),
        ("S1", 4, 4, 10, ""),
        ("S1", 10, 4, 10, ""),
        ("S1", 11, 4, 10, ""),
        ("S1", 5, None, 10, ""),
        ("S1", 5, None, None, "HIGH"),
        ("S1", None, 4, 10, "LOW"),
        ("S1", None, 4, 10, ""),
    )
    ctx = context("ADLB")
    out = frame.assign(
        ANRIND=derive("nrind", frame, ctx, fallback="LBNRIND"), PLAIN=derive("nrind", frame, ctx)
    )
    expected = frame.assign(
        ANRIND=col("LOW", "NORMAL", "NORMAL", "HIGH", "NORMAL", "", "LOW", ""),
        PLAIN=col("LOW", "NORMAL", "NORMAL", "HIGH", "NORMAL", "", "", ""),
    )
    assert_table(out, expected)
    assert meta("nrind", ctx, fallback="LBNRIND") == ColumnMeta(
        method="'LOW' if AVAL < ANRLO, 'HIGH' if AVAL > ANRHI, 'NORMAL' otherwise; when AVAL is "
        "missing (e.g. a result below a detection limit), LBNRIND; null when AVAL or both "
        "limits are missing.",
        type="Char",
        codelist="NRIND",
    )


def test_reference_range_table_entries_are_low_high_pairs(tmp_path: Path) -> None:
    """A table entry is [low, high] (a limit may be null): any other length is a spec
    error at its line when the specs load, not an IndexError while building."""
    with pytest.raises(ValidationError, match="at least 2 items"):
        meta("reference_range", None, bound="high", table={"SYSBP": [90]})
    with pytest.raises(ValidationError, match="at most 2 items"):
        meta("reference_range", None, bound="low", table={"SYSBP": [90, 140, 200]})
    study, line = study_with(tmp_path, "advs.yaml", "PULSE: [60, 100]", "PULSE: [60]")
    with pytest.raises(SpecError, match="table") as err:
        load_adam_specs(study)
    assert abs(reported_line(str(err.value), "advs.yaml") - line) <= 3
