"""cdisc_mapper.adam.ops.progression: the progression record builder.

Small ADQS input -> expected rate records, through the registry, on the in-memory study of
tests/adam_ops_context.py. Periods: S1 1 2020-01-01..02-01, 2 02-01..03-02, 3
03-02..06-30; S2 1 01-10..02-15, 2 02-15..05-15; S3 1 01-20..02-10. Phase 2 (TREATMENT)
is periods 2 and 3: S1 02-01..06-30, S2 02-15..05-15, S3 none.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdisc_mapper.adam import load_adam_specs, run_adam
from cdisc_mapper.adam.ops import RECORD_BUILDERS
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam import Conventions
from tests.adam_ops_context import (
    CONVENTIONS,
    adsl,
    assert_table,
    build,
    columns,
    context,
    day,
    reported_line,
    study_with,
    tbl,
)

MONTH = 30.4375
ADQS = tbl(
    "USUBJID PARAMCD ADT AVAL",
    ("S1", "TOT", day("2020-01-01"), 40),
    ("S1", "TOT", day("2020-01-16"), 38),
    ("S1", "TOT", day("2020-02-01"), 37),
    ("S1", "TOT", day("2020-02-01"), 35),  # the same day: the mean, 36, is used
    ("S1", "TOT", day("2020-03-02"), 34),
    ("S1", "TOT", day("2020-06-30"), 30),
    ("S1", "ITEM", day("2020-01-16"), 99),  # another parameter
    ("S1", "TOT", None, 20),  # no date
    ("S2", "TOT", day("2020-01-10"), 45),
    ("S2", "TOT", day("2020-02-15"), 44),
    ("S3", "TOT", day("2020-01-20"), 48),
)
RATE = {
    "paramcd": "TOTRATE",
    "param": "Total: rate per month",
    "paramn": 1,
    "source": "ADQS",
    "source_paramcd": "TOT",
    "method": "two_point",
}
SLOPE = {**RATE, "paramcd": "TOTSLOPE", "param": "Total: slope per month", "method": "slope"}
ARGS = {"parameters": [RATE, SLOPE], "periods": [1, 2], "phases": [2]}
REASON = "FEWER THAN 2 ASSESSMENTS IN THE PERIOD"


def test_progression_rate_per_subject_parameter_and_period() -> None:
    """ADaMIG v1.3 section 4.2: a rate over many records is a row of a new parameter, one
    per subject and period (or whole phase, APERIOD null); time in months of the
    conventions; null, with the reason, when there are too few assessments (distinct
    days) in the period, start and end days included; ASTDT/AENDT are the period's (or
    phase's) start and end, the span the rate covers."""
    ctx = context("ADPROG", datasets={"ADSL": adsl(), "ADQS": ADQS})
    out = build("progression", None, ctx, **ARGS)
    rate = out[out["PARAMCD"] == "TOTRATE"]
    d = day
    expected = tbl(
        "USUBJID APERIOD APERIODC APHASEN APHASE APERSDT APEREDT PHSDT PHEDT",
        ("S1", 1, "RUN-IN", 1, "RUN-IN", d("2020-01-01"), d("2020-02-01"), d("2020-01-01"),
         d("2020-02-01")),
        ("S2", 1, "RUN-IN", 1, "RUN-IN", d("2020-01-10"), d("2020-02-15"), d("2020-01-10"),
         d("2020-02-15")),
        ("S3", 1, "RUN-IN", 1, "RUN-IN", d("2020-01-20"), d("2020-02-10"), d("2020-01-20"),
         d("2020-02-10")),
        ("S1", 2, "AFTER INJECTION 1", 2, "TREATMENT", d("2020-02-01"), d("2020-03-02"),
         d("2020-02-01"), d("2020-06-30")),
        ("S2", 2, "AFTER INJECTION 1", 2, "TREATMENT", d("2020-02-15"), d("2020-05-15"),
         d("2020-02-15"), d("2020-05-15")),
        ("S1", None, "", 2, "TREATMENT", None, None, d("2020-02-01"), d("2020-06-30")),
        ("S2", None, "", 2, "TREATMENT", None, None, d("2020-02-15"), d("2020-05-15")),
    )  # fmt: skip
    assert_table(rate[list(expected.columns)], expected)
    expected = tbl(
        "USUBJID PARAMCD PARAM PARAMN AVAL NASMT AVALREAS ASTDT AENDT SRCDOM SRCVAR",
        ("S1", "TOTRATE", "Total: rate per month", 1, (36 - 40) / (31 / MONTH), 3, "",
         d("2020-01-01"), d("2020-02-01"), "ADQS", "AVAL"),
        ("S2", "TOTRATE", "Total: rate per month", 1, (44 - 45) / (36 / MONTH), 2, "",
         d("2020-01-10"), d("2020-02-15"), "ADQS", "AVAL"),
        ("S3", "TOTRATE", "Total: rate per month", 1, None, 1, REASON,
         d("2020-01-20"), d("2020-02-10"), "ADQS", "AVAL"),
        ("S1", "TOTRATE", "Total: rate per month", 1, (34 - 36) / (30 / MONTH), 2, "",
         d("2020-02-01"), d("2020-03-02"), "ADQS", "AVAL"),
        ("S2", "TOTRATE", "Total: rate per month", 1, None, 1, REASON,
         d("2020-02-15"), d("2020-05-15"), "ADQS", "AVAL"),
        ("S1", "TOTRATE", "Total: rate per month", 1, (30 - 36) / (150 / MONTH), 3, "",
         d("2020-02-01"), d("2020-06-30"), "ADQS", "AVAL"),
        ("S2", "TOTRATE", "Total: rate per month", 1, None, 1, REASON,
         d("2020-02-15"), d("2020-05-15"), "ADQS", "AVAL"),
    )  # fmt: skip
    assert_table(rate[list(expected.columns)], expected)
    # least squares: equal to the two-point rate with two days, not with three
    slope = out.loc[out["PARAMCD"] == "TOTSLOPE", "AVAL"].to_numpy()
    s1_runin = -62 / (4326 / 9) * MONTH  # days 0, 15, 31; totals 40, 38, 36
    s1_phase = -480 / 12600 * MONTH  # days 0, 30, 150; totals 36, 34, 30
    expected_slope = [s1_runin, -MONTH / 36, None, -2 * MONTH / 30, None, s1_phase, None]
    assert_table(tbl("AVAL", *[(v,) for v in slope]), tbl("AVAL", *[(v,) for v in expected_slope]))


def test_progression_uses_the_conventions_month_length() -> None:
    """Time in months is days / the conventions' month_days (here 30)."""
    ctx = context(
        "ADPROG",
        datasets={"ADSL": adsl(), "ADQS": ADQS},
        conventions={**CONVENTIONS, "month_days": 30.0},
    )
    out = build("progression", None, ctx, parameters=[RATE], periods=[2])
    # S1: 36 -> 34 over 30 days = 1 month; S2: one assessment
    assert_table(out[["USUBJID", "AVAL"]], tbl("USUBJID AVAL", ("S1", -2.0), ("S2", None)))


def test_progression_columns_metadata() -> None:
    meta = columns("progression", **ARGS)
    assert meta["AVAL"].source == "ADQS.AVAL"
    assert meta["AVAL"].value_level[0] == (
        "PARAMCD",
        "TOTRATE",
        "Derived",
        "ADQS.AVAL",
        "(AVAL at the last assessment - AVAL at the first) / (time between them), time in "
        "months = (ADT - period start) / 30.4375 days, over the ADQS PARAMCD = 'TOT' "
        "assessments with non-missing AVAL dated within the period (start and end days "
        "included; values on the same day averaged). Null, with AVALREAS = 'FEWER THAN 2 "
        "ASSESSMENTS IN THE PERIOD', when fewer than 2 assessments.",
    )
    slope_method = meta["AVAL"].value_level[1][4] or ""
    assert slope_method.startswith("the ordinary least-squares slope of AVAL on time, ")
    assert meta["NASMT"].method == "Number of assessments (distinct days) in the period."
    assert meta["SRCDOM"].method == (
        "The dataset of the assessments: TOTRATE: 'ADQS', TOTSLOPE: 'ADQS'."
    )


def test_progression_declares_the_periods_and_phases_it_uses() -> None:
    """Like period_date, the builder names the phases it reads as well as the periods, so
    the spec loader can check them against the conventions."""
    args = RECORD_BUILDERS.require("progression").args_model.model_validate(ARGS)
    assert args.conventions_used() == {("period", 1), ("period", 2), ("phase", 2)}


def test_progression_unknown_period_of_an_interval_is_a_spec_error(tmp_path: Path) -> None:
    study, line = study_with(tmp_path, "adprog.yaml", "periods: [2, 3, 4, 5]", "periods: [2, 6]")
    with pytest.raises(SpecError, match=r"period 6 is not in conventions\.yaml") as err:
        load_adam_specs(study)
    text = (study / "adam" / "adprog.yaml").read_text()
    step = text[: text.index("op: progression")].count("\n") + 1
    assert step <= reported_line(str(err.value), "adprog.yaml") <= line  # in the step


def test_progression_method_states_the_conventions_month_length() -> None:
    conventions = Conventions.model_validate({**CONVENTIONS, "month_days": 30.0})
    method = columns("progression", conventions, **ARGS)["AVAL"].value_level[0][4] or ""
    assert "/ 30 days" in method
    assert "30.4375" not in method


FLAGGED = ADQS.assign(FL=["Y", "", "Y", "Y", "Y", "Y", "Y", "Y", "Y", "Y", "Y"])


def test_progression_intervals_of_periods_with_avisit_treatment_and_flag() -> None:
    """Labelled intervals (AVISIT/AVISITN, ADaMIG v1.3 section 3.3.3: a conceptual
    analysis timepoint): one period keeps APERIOD; several run from the earliest start to
    the latest end of those the subject had, APERIOD null, APHASE of their common phase;
    TRTP/TRTA the periods' treatment; `flag` keeps only the source records flagged Y."""
    ctx = context("ADPROG", datasets={"ADSL": adsl(), "ADQS": FLAGGED})
    intervals = [
        {"avisitn": 1, "avisit": "RUN-IN", "periods": [1], "flag": "FL"},
        {"avisitn": 9, "avisit": "AFTER INJECTION 1 (ALL)", "periods": [2, 3]},
    ]
    out = build("progression", None, ctx, parameters=[RATE], intervals=intervals)
    d = day
    expected = tbl(
        "USUBJID AVISITN AVISIT APERIOD APHASE TRTP TRTA ASTDT AENDT NASMT AVAL",
        # S1 run-in without the unflagged 01-16 record: 40 -> 36 over 31 days
        ("S1", 1, "RUN-IN", 1, "RUN-IN", "NONE", "NONE", d("2020-01-01"), d("2020-02-01"), 2,
         (36 - 40) / (31 / MONTH)),
        ("S2", 1, "RUN-IN", 1, "RUN-IN", "NONE", "NONE", d("2020-01-10"), d("2020-02-15"), 2,
         (44 - 45) / (36 / MONTH)),
        ("S3", 1, "RUN-IN", 1, "RUN-IN", "NONE", "NONE", d("2020-01-20"), d("2020-02-10"), 1,
         None),
        ("S1", 9, "AFTER INJECTION 1 (ALL)", None, "TREATMENT", "", "", d("2020-02-01"),
         d("2020-06-30"), 3, (30 - 36) / (150 / MONTH)),
        ("S2", 9, "AFTER INJECTION 1 (ALL)", None, "TREATMENT", "", "",
         d("2020-02-15"), d("2020-05-15"), 1, None),
    )  # fmt: skip
    assert_table(out[list(expected.columns)], expected)


def test_progression_two_intervals_with_one_avisitn_is_an_error() -> None:
    model = RECORD_BUILDERS.require("progression").args_model
    one = {"avisitn": 1, "avisit": "A", "periods": [1]}
    with pytest.raises(ValueError, match="same avisitn"):
        model.model_validate({"parameters": [RATE], "intervals": [one, {**one, "avisit": "B"}]})


def test_progression_interval_with_a_fallback_for_subjects_without_its_periods() -> None:
    """`fallback`: a subject who had none of the interval's periods takes the fallback
    periods instead (the paper's "injection 1 to injection 2, else to the end of
    follow-up"). S1 had period 3 (03-02..06-30): its own; S2 had no period 3: its period
    2 (02-15..05-15); S3 had neither: no record. APERIOD is null (the period differs
    between subjects), APHASE the common phase of all of them."""
    adqs = pd.concat(
        [FLAGGED, tbl("USUBJID PARAMCD ADT AVAL FL", ("S2", "TOT", day("2020-04-15"), 42, "Y"))],
        ignore_index=True,
    )
    ctx = context("ADPROG", datasets={"ADSL": adsl(), "ADQS": adqs})
    interval = {
        "avisitn": 3,
        "avisit": "AFTER INJECTION 2, ELSE AFTER INJECTION 1",
        "periods": [3],
        "fallback": [2],
        "flag": "FL",
    }
    out = build("progression", None, ctx, parameters=[RATE], intervals=[interval])
    d = day
    expected = tbl(
        "USUBJID AVISITN APERIOD APERIODC APHASE TRTP ASTDT AENDT NASMT AVAL",
        # S1: 34 on 03-02 -> 30 on 06-30, 120 days (not its period 2 values)
        ("S1", 3, None, "", "TREATMENT", "", d("2020-03-02"), d("2020-06-30"), 2,
         (30 - 34) / (120 / MONTH)),
        # S2: 44 on 02-15 -> 42 on 04-15, 60 days (2020 is a leap year)
        ("S2", 3, None, "", "TREATMENT", "", d("2020-02-15"), d("2020-05-15"), 2,
         (42 - 44) / (60 / MONTH)),
    )  # fmt: skip
    assert_table(out[list(expected.columns)], expected)
    meta = columns("progression", parameters=[RATE], intervals=[interval])
    assert meta["AVISITN"].method == (
        "The interval of the rate: 3 = 'AFTER INJECTION 2, ELSE AFTER INJECTION 1' (periods "
        "[3], else, for a subject with none of them, periods [2])."
    )
    args = RECORD_BUILDERS.require("progression").args_model.model_validate(
        {"parameters": [RATE], "intervals": [interval]}
    )
    assert args.conventions_used() == {("period", 2), ("period", 3)}


def test_progression_fallback_sharing_a_period_with_the_interval_is_an_error() -> None:
    model = RECORD_BUILDERS.require("progression").args_model
    one = {"avisitn": 1, "avisit": "A", "periods": [2, 3], "fallback": [3]}
    with pytest.raises(ValueError, match=r"period\(s\) \[3\] are in both `periods` and `fallback`"):
        model.model_validate({"parameters": [RATE], "intervals": [one]})


def test_progression_unknown_fallback_period_is_a_located_spec_error(tmp_path: Path) -> None:
    study, line = study_with(
        tmp_path, "adprog.yaml", "periods: [2], fallback: [5]", "periods: [2], fallback: [7]"
    )
    with pytest.raises(SpecError, match=r"period 7 is not in conventions\.yaml") as err:
        load_adam_specs(study)
    text = (study / "adam" / "adprog.yaml").read_text()
    step = text[: text.index("op: progression")].count("\n") + 1
    assert step <= reported_line(str(err.value), "adprog.yaml") <= line


def test_an_interval_flag_derived_over_other_periods_is_a_located_error(
    demo_sdtm, tmp_path: Path
) -> None:
    """The ADQS flag of AVISITN 6 without the interval's fallback would leave the
    one-injection subjects' rate without records: the build stops at the flag's line."""
    old = "ANL09FL: {derive: in_periods, periods: [2], fallback: [5],"
    study, line = study_with(
        tmp_path, "adqs.yaml", old, "ANL09FL: {derive: in_periods, periods: [2],"
    )
    with pytest.raises(
        SpecError,
        match=rf"adqs.yaml:{line}: ADQS.ANL09FL \(in_periods: periods \[2\], fallback \[\]\) "
        r"marks the records of ADPROG interval AVISITN 6, which spans periods \[2\] with "
        r"fallback \[5\]: give the flag the interval's `periods` and `fallback`",
    ):
        run_adam(study, demo_sdtm[0] / "sdtm", tmp_path / "out")
