"""cdisc_mapper.adam.ops.windows: window, analysis_flag, sequence.

Small input table -> expected table, through the registry, on the in-memory study of
tests/adam_ops_context.py: ADSL RFICDT S1 2020-01-01, S3 2020-01-20; TRTSDT S1
2020-02-01, S3 none; windows 'visits': SCREENING days -30..30 from RFICDT (target 1),
BASELINE -30..1 from TRTSDT (target 1), MONTH 1 2..45 from TRTSDT (target 31).
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cdisc_mapper.adam.ops import DERIVATIONS
from cdisc_mapper.spec.operations import ColumnMeta
from tests.adam_ops_context import assert_table, col, context, day, derive, meta, tbl

OUTPUTS = ["AVISIT", "AVISITN", "AWTARGET", "AWLO", "AWHI", "AWTDIFF", "AWRANGE", "AWU"]


# --------------------------------------------------------------------------- windows
def test_window_by_relative_day_first_listed_window_wins() -> None:
    """ADaMIG v1.3 sections 3.3.3 and 3.3.5: AVISIT/AVISITN by the record's day relative
    to the window's reference date (day 1; no day 0), whatever its nominal visit; the
    first window listed that contains the day takes the record; AWTARGET, AWLO, AWHI,
    AWTDIFF = |day - target|, AWRANGE, AWU; a record in no window has none of them."""
    frame = tbl(
        "USUBJID ADT",
        ("S1", day("2020-01-01")),  # RFICDT day 1
        ("S1", day("2020-01-20")),  # RFICDT day 20, also TRTSDT day -12: SCREENING is first
        ("S1", day("2020-02-01")),  # TRTSDT day 1
        ("S1", day("2020-02-02")),  # TRTSDT day 2
        ("S1", day("2020-03-20")),  # TRTSDT day 49: no window
        ("S3", day("2020-02-05")),  # RFICDT day 17 (never treated)
        ("S3", day("2020-03-01")),  # RFICDT day 42, no TRTSDT: no window
    )
    ctx = context("ADQS")
    out = frame.assign(
        **{o: derive("window", frame, ctx, windows="visits", output=o) for o in OUTPUTS}
    )
    scr, bl, m1 = "DAY -30 TO 30 FROM RFICDT", "DAY -30 TO 1 FROM TRTSDT", "DAY 2 TO 45 FROM TRTSDT"
    expected = tbl(
        "USUBJID ADT " + " ".join(OUTPUTS),
        ("S1", day("2020-01-01"), "SCREENING", -1, 1, -30, 30, 0, scr, "DAYS"),
        ("S1", day("2020-01-20"), "SCREENING", -1, 1, -30, 30, 19, scr, "DAYS"),
        ("S1", day("2020-02-01"), "BASELINE", 0, 1, -30, 1, 0, bl, "DAYS"),
        ("S1", day("2020-02-02"), "MONTH 1", 1, 31, 2, 45, 29, m1, "DAYS"),
        ("S1", day("2020-03-20"), "", None, None, None, None, None, "", ""),
        ("S3", day("2020-02-05"), "SCREENING", -1, 1, -30, 30, 16, scr, "DAYS"),
        ("S3", day("2020-03-01"), "", None, None, None, None, None, "", ""),
    )
    assert_table(out, expected)
    rule = (
        "AVISIT (and its number AVISITN) is the analysis window containing the day of ADT "
        "relative to the window's reference date (the reference is day 1, the day before is "
        "-1); the first window listed that contains the day takes the record, whatever its "
        "nominal visit (unscheduled and out-of-window visits included); no window: null. "
        "Windows 'visits': SCREENING (-1): days -30 to 30 from RFICDT (target 1); BASELINE "
        "(0): days -30 to 1 from TRTSDT (target 1); MONTH 1 (1): days 2 to 45 from TRTSDT "
        "(target 31)."
    )
    assert meta("window", ctx, windows="visits", output="AVISIT") == ColumnMeta(
        method=rule, type="Char"
    )
    # one text for the pair: define.xml gives AVISIT and AVISITN one MethodDef
    assert meta("window", ctx, windows="visits", output="AVISITN") == ColumnMeta(
        method=rule, type="Num"
    )
    assert meta("window", None, windows="visits", output="AWTDIFF") == ColumnMeta(
        method="Absolute difference between the record's relative day and AWTARGET.", type="Num"
    )


# --------------------------------------------------------------------------- analysis flag
def test_analysis_flag_one_record_per_subject_parameter_and_window() -> None:
    """ADaMIG v1.3 section 3.3.8, ANLzzFL, and the identification of the rows used for
    analysis: one record per subject, parameter and window among the eligible records:
    the baseline record if the window has it, else the closest to the target, then the
    later date, then the lowest SRCSEQ; records outside any window are not flagged."""
    frame = tbl(
        "USUBJID PARAMCD AVISITN AWTDIFF ADT ABLFL SRCSEQ AVAL",
        ("S1", "P", 0, 0, 105, "", 1, 10),  # closest, but not the baseline record
        ("S1", "P", 0, 3, 102, "Y", 2, 11),  # baseline: chosen
        ("S1", "P", 1, 2, 130, "", 3, 12),
        ("S1", "P", 1, 2, 134, "", 5, 13),  # same distance and date as SRCSEQ 4
        ("S1", "P", 1, 2, 134, "", 4, 14),  # later date, lowest SRCSEQ: chosen
        ("S1", "P", 1, 0, 132, "", 6, None),  # closest but not eligible (no value)
        ("S1", "Q", 1, 9, 140, "", 7, 15),  # another parameter
        ("S1", "P", None, None, 300, "", 8, 16),  # in no window
        ("S2", "P", 1, 10, 120, "", 1, 17),
    )
    ctx = context("ADQS")
    where = {"variable": "AVAL", "present": True}
    out = frame.assign(
        ANL01FL=derive("analysis_flag", frame, ctx, where=where, order_by=["SRCSEQ"])
    )
    expected = frame.assign(ANL01FL=col("", "Y", "", "", "Y", "", "Y", "", "Y"))
    assert_table(out, expected)
    assert meta("analysis_flag", ctx, where=where, order_by=["SRCSEQ"]) == ColumnMeta(
        method="'Y' on one record per USUBJID, PARAMCD and AVISITN, among records where AVAL is "
        "present: the ABLFL = 'Y' record if the window has it, else the record closest to the "
        "window target (smallest AWTDIFF), then the later ADT, then the lowest SRCSEQ; null "
        "otherwise (and outside any window).",
        type="Char",
    )


# --------------------------------------------------------------------------- sequence
def test_sequence_numbers_records_within_subject_in_the_stated_order() -> None:
    """ADaMIG v1.3 section 3.3.1, ASEQ: a record number within subject, in the order the
    spec states (not the order of the rows)."""
    frame = tbl(
        "USUBJID PARAMCD ADT",
        ("S2", "B", 5),
        ("S1", "B", 1),
        ("S1", "A", 9),
        ("S1", "A", 2),
        ("S2", "A", 7),
    )
    ctx = context("ADQS")
    out = frame.assign(ASEQ=derive("sequence", frame, ctx, order_by=["PARAMCD", "ADT"]))
    expected = frame.assign(ASEQ=col(2.0, 3.0, 2.0, 1.0, 1.0))
    assert_table(out, expected)
    assert meta("sequence", ctx, order_by=["PARAMCD", "ADT"]) == ColumnMeta(
        method="1, 2, ... within USUBJID, in the order of PARAMCD, ADT.", type="Num"
    )


# --------------------------------------------------------------------------- nominal visits
VISITS = tbl(
    "USUBJID VISIT VISITNUM",
    ("S1", "SCREENING 1", 1.0),
    ("S1", "BASELINE", 3.0),
    ("S1", "WEEK 2", 4.0),
    ("S1", "UNSCHEDULED 4.1", 4.1),
    ("S1", "", None),
)


def test_nominal_visit_as_collected_or_in_title_case() -> None:
    """ADaMIG v1.3 section 3.3.3: AVISIT may be the visit as observed (SDTM VISIT); AVISITN
    then VISITNUM. admiral ad_advs.R: str_to_title(VISIT), unscheduled and screening
    visits excluded."""
    ctx = context("ADVS")
    exclude = {
        "any": [
            {"variable": "VISIT", "contains": "UNSCHED"},
            {"variable": "VISIT", "startswith": "SCREEN"},
        ]
    }
    out = VISITS.assign(
        AVISIT=derive("nominal_visit", VISITS, ctx, output="AVISIT"),
        TITLE=derive("nominal_visit", VISITS, ctx, output="AVISIT", case="title", exclude=exclude),
        AVISITN=derive("nominal_visit", VISITS, ctx, output="AVISITN"),
        SCHEDN=derive("nominal_visit", VISITS, ctx, output="AVISITN", exclude=exclude),
    )
    expected = VISITS.assign(
        AVISIT=col("SCREENING 1", "BASELINE", "WEEK 2", "UNSCHEDULED 4.1", ""),
        TITLE=col("", "Baseline", "Week 2", "", ""),
        AVISITN=col(1.0, 3.0, 4.0, 4.1, None),
        SCHEDN=col(None, 3.0, 4.0, None, None),
    )
    assert_table(out, expected)


def test_nominal_visit_through_a_table() -> None:
    """admiral ad_advs.R: AVISITN 0 for BASELINE, n for WEEK n; a visit not in the table
    gets null."""
    ctx = context("ADVS")
    names = {"BASELINE": "Baseline", "WEEK 2": "Week 2"}
    numbers = {"BASELINE": 0, "WEEK 2": 2}
    out = VISITS.assign(
        AVISIT=derive("nominal_visit", VISITS, ctx, output="AVISIT", map=names),
        AVISITN=derive("nominal_visit", VISITS, ctx, output="AVISITN", map=numbers),
    )
    expected = VISITS.assign(
        AVISIT=col("", "Baseline", "Week 2", "", ""),
        AVISITN=col(None, 0.0, 2.0, None, None),
    )
    assert_table(out, expected)
    assert meta("nominal_visit", ctx, output="AVISITN", map=numbers) == ColumnMeta(
        source="VISIT",
        method="Nominal visit: from VISIT: 'BASELINE' -> '0'; 'WEEK 2' -> '2'; any other visit: "
        "null.",
        type="Num",
    )
    assert meta("nominal_visit", ctx, output="AVISITN") == ColumnMeta(
        source="VISITNUM", method="Nominal visit number: VISITNUM.", type="Num"
    )
    model = DERIVATIONS.require("nominal_visit").args_model
    assert model.model_validate({"output": "AVISITN"}).inputs() == {"VISITNUM"}
    assert model.model_validate({"output": "AVISITN", "map": numbers}).inputs() == {"VISIT"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"output": "AVISITN", "map": {"BASELINE": "Baseline"}}, "must be numbers"),
        ({"output": "AVISIT", "map": {"BASELINE": 0}}, "must be text"),
        ({"output": "AVISITN", "case": "title"}, "case applies to AVISIT without a map"),
    ],
)
def test_nominal_visit_argument_errors(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DERIVATIONS.require("nominal_visit").args_model.model_validate(args)
