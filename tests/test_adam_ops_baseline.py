"""cdisc_mapper.adam.ops.baseline: baseline_flag, base, chg, pchg, percent_improvement.

Small input table -> expected table, through the registry, on the in-memory study of
tests/adam_ops_context.py (ADSL TRTSDT: S1 2020-02-01, S2 2020-02-15, S3 none).
"""

from __future__ import annotations

import pytest

from cdisc_mapper.adam.ops import DERIVATIONS
from cdisc_mapper.spec.operations import ColumnMeta
from tests.adam_ops_context import assert_table, col, context, day, derive, meta, tbl


# --------------------------------------------------------------------------- baseline flag
def test_baseline_flag_last_nonmissing_value_on_or_before_the_reference_date() -> None:
    """ADaMIG v1.3 section 3.3.8, ABLFL: "Y" on one record per subject and parameter:
    the last with a value dated on or before the reference date (ADSL TRTSDT; the day of
    first treatment counts); ties on the date go to the last by SRCSEQ; a subject without
    a reference date has no baseline."""
    frame = tbl(
        "USUBJID PARAMCD ADT AVAL SRCSEQ",
        ("S1", "P", day("2020-01-15"), 5, 1),
        ("S1", "P", day("2020-02-01"), 6, 2),
        ("S1", "P", day("2020-02-01"), 7, 3),  # same day, later SRCSEQ: the baseline
        ("S1", "P", day("2020-02-01"), None, 4),  # no value: never the baseline
        ("S1", "P", day("2020-02-10"), 8, 5),  # after TRTSDT
        ("S1", "Q", day("2020-01-20"), 3, 6),
        ("S3", "P", day("2020-01-25"), 4, 1),  # never treated
    )
    ctx = context("ADQS")
    out = frame.assign(ABLFL=derive("baseline_flag", frame, ctx, order_by=["SRCSEQ"]))
    expected = frame.assign(ABLFL=col("", "", "Y", "", "", "Y", ""))
    assert_table(out, expected)
    assert meta("baseline_flag", ctx, order_by=["SRCSEQ"]) == ColumnMeta(
        method="'Y' on the last record per USUBJID, PARAMCD with a non-missing AVAL and ADT on "
        "or before TRTSDT; ties on the date: the last by SRCSEQ; null otherwise.",
        type="Char",
    )


def test_baseline_flag_among_the_records_a_condition_selects() -> None:
    """E.g. the baseline among the derived best-of-visit records (DTYPE MAXIMUM) only."""
    frame = tbl(
        "USUBJID PARAMCD ADT AVAL DTYPE",
        ("S1", "P", day("2020-01-15"), 5, ""),
        ("S1", "P", day("2020-01-15"), 6, "MAXIMUM"),
        ("S1", "P", day("2020-01-20"), 4, ""),
    )
    ctx = context("ADRE")
    where = {"variable": "DTYPE", "equals": "MAXIMUM"}
    out = frame.assign(ABLFL=derive("baseline_flag", frame, ctx, where=where))
    expected = frame.assign(ABLFL=col("", "Y", ""))
    assert_table(out, expected)
    assert meta("baseline_flag", None, where=where, reference="RFICDT").method == (
        "'Y' on the last record per USUBJID, PARAMCD with a non-missing AVAL and ADT on or "
        "before RFICDT, among records where DTYPE = 'MAXIMUM'; null otherwise."
    )


# --------------------------------------------------------------------------- BASE, change
def test_base_is_the_baseline_value_on_every_record_of_the_group() -> None:
    """ADaMIG v1.3 section 3.3.4: BASE, the subject's baseline value for the parameter, on
    each of its records (null without a baseline record); BNRIND the same for ANRIND."""
    frame = tbl(
        "USUBJID PARAMCD AVAL ANRIND ABLFL",
        ("S1", "P", 5, "LOW", ""),
        ("S1", "P", 7, "NORMAL", "Y"),
        ("S1", "P", 8, "HIGH", ""),
        ("S1", "Q", 3, "", ""),
        ("S2", "P", 9, "HIGH", "Y"),
    )
    ctx = context("ADLB")
    out = frame.assign(
        BASE=derive("base", frame, ctx), BNRIND=derive("base", frame, ctx, value="ANRIND")
    )
    expected = frame.assign(
        BASE=col(7.0, 7.0, 7.0, None, 9.0), BNRIND=col("NORMAL", "NORMAL", "NORMAL", "", "HIGH")
    )
    assert_table(out, expected)
    assert meta("base", ctx) == ColumnMeta(
        method="AVAL of the record with ABLFL = 'Y' of the same USUBJID, PARAMCD; null when "
        "there is none."
    )


def test_base_with_two_baseline_records_is_an_error() -> None:
    frame = tbl("USUBJID PARAMCD AVAL ABLFL", ("S1", "P", 5, "Y"), ("S1", "P", 7, "Y"))
    with pytest.raises(ValueError, match="more than one ABLFL record"):
        derive("base", frame, context("ADQS"))


def test_chg_and_pchg_on_post_baseline_records() -> None:
    """ADaMIG v1.3 section 3.3.4: CHG = AVAL - BASE; PCHG = (AVAL - BASE) / BASE * 100,
    null when BASE is 0; both null when a value is missing and, here, on records that are
    not post-baseline (ADY >= 2)."""
    frame = tbl(
        "USUBJID AVAL BASE ADY",
        ("S1", 10, 8, 1),
        ("S1", 12, 8, 5),
        ("S1", 6, 8, 9),
        ("S1", None, 8, 10),
        ("S2", 5, 0, 3),
        ("S3", 5, None, 3),
    )
    ctx = context("ADQS")
    post = {"variable": "ADY", "ge": 2}
    out = frame.assign(
        CHG=derive("chg", frame, ctx, where=post), PCHG=derive("pchg", frame, ctx, where=post)
    )
    expected = frame.assign(
        CHG=col(None, 4.0, -2.0, None, 5.0, None), PCHG=col(None, 50.0, -25.0, None, None, None)
    )
    assert_table(out, expected)
    assert meta("chg", ctx, where=post) == ColumnMeta(
        method="AVAL - BASE on records where ADY >= 2; null when either is missing.", type="Num"
    )
    assert meta("pchg", ctx, where=post) == ColumnMeta(
        method="(AVAL - BASE) / BASE * 100 (null when BASE is 0) on records where ADY >= 2; "
        "null when either is missing.",
        type="Num",
    )


def test_percent_improvement_does_not_flip_with_a_negative_base() -> None:
    """Beside CHG (ADaMIG v1.3 section 3.3.4): 100 * (AVAL - BASE) / |BASE| when a higher
    value is better (a slope from -1.0 to -0.5 is a 50% improvement), the opposite when a
    lower value is better; null when BASE is 0 or where the condition does not hold."""
    frame = tbl(
        "USUBJID APHASEN AVAL BASE",
        ("S1", 2, -0.5, -1.0),
        ("S1", 2, -1.5, -1.0),
        ("S1", 2, 0.5, 1.0),
        ("S1", 2, 1.0, 0.0),
        ("S1", 1, -0.5, -1.0),
    )
    ctx = context("ADPROG")
    phase2 = {"variable": "APHASEN", "equals": 2}
    out = frame.assign(
        UP=derive("percent_improvement", frame, ctx, where=phase2),
        DOWN=derive("percent_improvement", frame, ctx, direction="decrease"),
    )
    expected = frame.assign(
        UP=col(50.0, -50.0, -50.0, None, None), DOWN=col(-50.0, 50.0, 50.0, None, -50.0)
    )
    assert_table(out, expected)
    assert meta("percent_improvement", ctx, where=phase2) == ColumnMeta(
        method="100 * (AVAL - BASE) / |BASE| (a higher value is better) on records where "
        "APHASEN = 2; null when BASE is 0 or either value is missing.",
        type="Num",
    )


def test_percent_improvement_needs_a_base_decline_and_states_why_it_is_null() -> None:
    """`min_base_decline` by PARAMCD: the improvement is null unless BASE <= -limit (a
    decline of at least the limit), and `output: reason` says why on every applicable
    record (a BASE that does not qualify first, so the subject is identifiable); a PARAMCD
    not listed keeps the plain rule (BASE = 0 excluded)."""
    frame = tbl(
        "USUBJID PARAMCD APHASEN AVAL BASE",
        ("S1", "A", 2, -0.5, -1.0),  # decline 1.0 >= 0.25: 50%
        ("S2", "A", 2, -0.5, -0.25),  # exactly the limit: -100% (worse)
        ("S3", "A", 2, -0.5, -0.1),  # decline too small
        ("S4", "A", 2, -0.5, 0.3),  # no decline
        ("S4", "A", 2, None, 0.3),  # no decline first
        ("S5", "A", 2, None, -1.0),  # no rate
        ("S6", "A", 2, -0.5, None),  # no run-in rate
        ("S1", "B", 2, 0.2, 0.1),  # not listed: computed
        ("S1", "A", 1, -1.0, -1.0),  # where does not hold
    )
    ctx = context("ADPROG")
    args = {
        "where": {"variable": "APHASEN", "equals": 2},
        "min_base_decline": {"A": 0.25},
        "missing_reason": "NO RATE",
        "no_decline_reason": "RUN-IN NOT A DECLINE",
    }
    out = frame.assign(
        P=derive("percent_improvement", frame, ctx, **args),
        R=derive("percent_improvement", frame, ctx, output="reason", **args),
    )
    no, na = "RUN-IN NOT A DECLINE", "NO RATE"
    expected = frame.assign(
        P=col(50.0, -100.0, None, None, None, None, None, 100.0, None),
        R=col("", "", no, no, no, na, na, "", ""),
    )
    assert_table(out, expected)
    assert meta("percent_improvement", ctx, **args).method == (
        "100 * (AVAL - BASE) / |BASE| (a higher value is better) on records where APHASEN = "
        "2; null when BASE is 0 or either value is missing; null unless A: BASE <= -0.25."
    )
    assert meta("percent_improvement", ctx, output="reason", **args).method == (
        "Why the percent improvement is null on records where APHASEN = 2: 'NO RATE' when "
        "AVAL or BASE is missing; 'RUN-IN NOT A DECLINE' when BASE is 0 or does not meet A: "
        "BASE <= -0.25; null when it is computed."
    )


def test_percent_improvement_negative_threshold_is_a_spec_error() -> None:
    model = DERIVATIONS.require("percent_improvement").args_model
    with pytest.raises(ValueError, match="0 or more"):
        model.model_validate({"min_base_decline": {"A": -1}})


def test_baseline_flag_declares_the_reference_date_it_reads() -> None:
    model = DERIVATIONS.require("baseline_flag").args_model
    args = model.model_validate({"reference": "RFICDT", "order_by": ["SRCSEQ"]})
    assert args.inputs() == {"USUBJID", "PARAMCD", "AVAL", "ADT", "SRCSEQ", "RFICDT"}
