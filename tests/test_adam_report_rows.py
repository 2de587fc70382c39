"""cdisc_mapper.adam.report.rows: the records a summary row summarises and the columns a
report reads (the report keeps only those before selecting rows)."""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_mapper.adam.report.rows import (
    condition_columns,
    narrowed,
    row_columns,
    row_records,
)
from cdisc_mapper.condition import Condition
from cdisc_mapper.spec.adam import ProgressionSummarySpec, ReportRow

FRAME = pd.DataFrame(
    {
        "USUBJID": ["S1", "S1", "S2", "S3"],
        "PARAMCD": ["ALSSLOPE", "FVCSLOPE", "ALSSLOPE", "ALSSLOPE"],
        "AVISITN": [12.0, 12.0, 12.0, 2.0],
        "EFFFL": ["Y", "Y", "N", "Y"],
        "AVAL": [1.5, -2.0, 0.5, 3.0],
        "OTHER": ["a", "b", "c", "d"],
    }
)


def _spec(rows: list[ReportRow]) -> ProgressionSummarySpec:
    return ProgressionSummarySpec(
        name="s",
        title="t",
        dataset="ADPROG",
        population="EFFFL",
        parameters=["ALSSLOPE"],
        rows=rows,
        responder_flag="CRIT1FL",
        responder_label="r",
        improvement="PCTIMPR",
    )


def test_narrowed_keeps_the_named_columns_once_in_order() -> None:
    out = narrowed(FRAME, ["AVAL", "USUBJID", "AVAL", "PARAMCD"])
    assert list(out.columns) == ["AVAL", "USUBJID", "PARAMCD"]
    assert list(out["AVAL"]) == [1.5, -2.0, 0.5, 3.0]
    assert list(out.index) == [0, 1, 2, 3]


def test_narrowed_names_a_missing_column() -> None:
    with pytest.raises(KeyError, match="PCTIMPR"):
        narrowed(FRAME, ["USUBJID", "PCTIMPR"])


def test_condition_columns_of_nested_and_absent_conditions() -> None:
    both = Condition.model_validate(
        {"all": [{"variable": "AVISITN", "equals": 12}, {"variable": "DTYPE", "present": True}]}
    )
    one = Condition.model_validate({"variable": "APERIOD", "present": True})
    assert condition_columns(both, None, one) == ["APERIOD", "AVISITN", "DTYPE"]
    assert condition_columns(None) == []


def test_row_records_from_the_narrowed_columns_are_the_same_records() -> None:
    """The population's records the row chooses, read from the population flag and the
    rows' condition columns only: the same records as from the whole frame."""
    row = ReportRow(label="overall", where={"variable": "AVISITN", "equals": 12})
    spec = _spec([row])
    assert row_columns(spec) == ["EFFFL", "AVISITN"]
    whole = row_records(FRAME, spec, row)
    narrow = row_records(narrowed(FRAME, ["USUBJID", "AVAL", *row_columns(spec)]), spec, row)
    assert list(whole.index) == list(narrow.index) == [0, 1]
    assert list(narrow["USUBJID"]) == ["S1", "S1"]
    assert list(narrow["AVAL"]) == [1.5, -2.0]
