"""cdisc_mapper.adam.ops.derived_rows: the record builders that add derived rows (scores,
best_record).

Small input records -> expected records, through the registry, on the in-memory study of
tests/adam_ops_context.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_mapper.errors import MappingError
from cdisc_mapper.spec.operations import ColumnMeta
from tests.adam_ops_context import assert_table, build, columns, context, tbl

ITEMS = tbl(
    "USUBJID VISITNUM _DTC VISIT PARAMCD PARAM PARAMN AVAL SRCDOM SRCVAR SRCSEQ DTYPE",
    ("S1", 1, "2020-01-01", "SCREENING", "I1", "Item 1", 1, 1, "QS", "QSSTRESN", 1, ""),
    ("S1", 1, "2020-01-01", "SCREENING", "I2", "Item 2", 2, 2, "QS", "QSSTRESN", 2, ""),
    ("S1", 1, "2020-01-01", "SCREENING", "I3", "Item 3", 3, 3, "QS", "QSSTRESN", 3, ""),
    ("S1", 2, "2020-02-01", "MONTH 1", "I1", "Item 1", 1, 4, "QS", "QSSTRESN", 4, ""),
    ("S1", 2, "2020-02-01", "MONTH 1", "I3", "Item 3", 3, 2, "QS", "QSSTRESN", 5, ""),
    ("S2", 1, "2020-01-10", "SCREENING", "I1", "Item 1", 1, 2, "QS", "QSSTRESN", 1, ""),
    ("S2", 1, "2020-01-10", "SCREENING", "I2", "Item 2", 2, None, "QS", "QSSTRESN", 2, ""),
)  # fmt: skip
SCORES = [
    {"paramcd": "TOT", "param": "Total", "paramn": 10, "items": ["I1", "I2", "I3"]},
    {
        "paramcd": "PRO",
        "param": "Total (prorated)",
        "paramn": 11,
        "items": ["I1", "I2", "I3"],
        "rule": "prorate",
        "max_missing": 1,
    },
]


# --------------------------------------------------------------------------- scores
def test_scores_are_new_parameter_rows_per_assessment() -> None:
    """ADaMIG v1.3 section 4.2: a total over items is a new row of a new parameter (its
    own PARAMCD; DTYPE null, no SDTM record to trace); all_items: missing when an item is
    missing; prorate: the mean of the answered items times their number when at most
    max_missing are missing."""
    out = build("scores", ITEMS, context("ADQS"), scores=SCORES)
    added = tbl(
        "USUBJID VISITNUM _DTC VISIT PARAMCD PARAM PARAMN AVAL SRCDOM SRCVAR SRCSEQ DTYPE",
        ("S1", 1, "2020-01-01", "SCREENING", "TOT", "Total", 10, 6, "", "", None, ""),
        ("S1", 2, "2020-02-01", "MONTH 1", "TOT", "Total", 10, None, "", "", None, ""),
        ("S2", 1, "2020-01-10", "SCREENING", "TOT", "Total", 10, None, "", "", None, ""),
        ("S1", 1, "2020-01-01", "SCREENING", "PRO", "Total (prorated)", 11, 6, "", "", None, ""),
        ("S1", 2, "2020-02-01", "MONTH 1", "PRO", "Total (prorated)", 11, 9, "", "", None, ""),
        ("S2", 1, "2020-01-10", "SCREENING", "PRO", "Total (prorated)", 11, None, "", "", None,
         ""),
    )  # fmt: skip
    assert_table(out, pd.concat([ITEMS, added], ignore_index=True))
    assert columns("scores", scores=SCORES) == {
        "AVAL": ColumnMeta(
            origin="Derived",
            type="Num",
            value_level=(
                (
                    "PARAMCD",
                    "TOT",
                    "Derived",
                    None,
                    "Sum of the AVAL of I1, I2, I3 of the same assessment (USUBJID, VISITNUM, "
                    "_DTC); missing when any item is missing.",
                ),
                (
                    "PARAMCD",
                    "PRO",
                    "Derived",
                    None,
                    "Sum of the AVAL of I1, I2, I3 of the same assessment (USUBJID, VISITNUM, "
                    "_DTC); with at most 1 item(s) missing, the mean of the answered items times "
                    "3; missing otherwise.",
                ),
            ),
        )
    }


def test_scores_errors_name_the_score() -> None:
    ctx = context("ADQS")
    other = [{"paramcd": "X", "param": "X", "paramn": 9, "items": ["J1", "J2"]}]
    with pytest.raises(MappingError, match="score X: none of its items is in the data"):
        build("scores", ITEMS, ctx, scores=other)
    twice = pd.concat([ITEMS, ITEMS.iloc[[0]]], ignore_index=True)
    with pytest.raises(MappingError, match=r"score TOT: .*item I1 answered twice"):
        build("scores", twice, ctx, scores=SCORES[:1])
    with pytest.raises(MappingError, match="scores need columns VISITNUM"):
        build("scores", ITEMS.drop(columns="VISITNUM"), ctx, scores=SCORES)


# --------------------------------------------------------------------------- best record
def test_best_record_adds_a_dtype_copy_of_the_best_observed_record() -> None:
    """ADaMIG v1.3 section 3.3.5, DTYPE: a derived record within the parameter (here
    MAXIMUM, a copy of the highest of the visit's efforts; ties: the first by REP);
    records without a value and earlier derived records are not candidates; the columns
    named in ``clear`` are blank on the copies."""
    frame = tbl(
        "USUBJID PARAMCD _DTC REP AVAL SRCVAR SRCSEQ DTYPE",
        ("S1", "FVC", "2020-01-01", 1, 80, "RESTRESN", 1, ""),
        ("S1", "FVC", "2020-01-01", 3, 85, "RESTRESN", 3, ""),
        ("S1", "FVC", "2020-01-01", 2, 85, "RESTRESN", 2, ""),
        ("S1", "FVC", "2020-01-01", 9, 99, "", None, "AVERAGE"),
        ("S1", "FVC", "2020-02-01", 1, 70, "RESTRESN", 4, ""),
        ("S1", "PEF", "2020-01-01", 1, 400, "RESTRESN", 5, ""),
        ("S2", "FVC", "2020-01-10", 1, None, "RESTRESN", 1, ""),
    )
    args = {"parameters": ["FVC"], "order_by": ["REP"], "clear": ["SRCVAR", "SRCSEQ"]}
    out = build("best_record", frame, context("ADRE"), **args)
    added = tbl(
        "USUBJID PARAMCD _DTC REP AVAL SRCVAR SRCSEQ DTYPE",
        ("S1", "FVC", "2020-01-01", 2, 85, "", None, "MAXIMUM"),
        ("S1", "FVC", "2020-02-01", 1, 70, "", None, "MAXIMUM"),
    )
    assert_table(out, pd.concat([frame, added], ignore_index=True))
    assert columns("best_record", **args) == {
        "DTYPE": ColumnMeta(
            origin="Assigned",
            method="'MAXIMUM' on the record added per USUBJID, PARAMCD, _DTC for FVC: a copy of "
            "the record with the highest AVAL (ties: the first by REP); null on observed records.",
            type="Char",
            codelist="DTYPE",
        )
    }
