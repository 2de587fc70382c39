"""cdisc_mapper.adam.ops.periods: period_date, period_treatment, record_period, in_periods.

Small input table -> expected table, through the registry, on the in-memory study of
tests/adam_ops_context.py. Its periods, from the conventions' events:

* S1: 1 RUN-IN 2020-01-01..02-01, 2 AFTER INJECTION 1 02-01..03-02, 3 AFTER INJECTION 2
  03-02..06-30 (phase 2 TREATMENT: 02-01..06-30);
* S2: 1 01-10..02-15, 2 02-15..05-15 (no third injection);
* S3: 1 01-20..02-10 (never injected: the run-in ends at the end of study).
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from cdisc_mapper.adam.ops import DERIVATIONS
from cdisc_mapper.adam.ops.periods import _text_by_period
from cdisc_mapper.spec.operations import ColumnMeta
from tests.adam_ops_context import assert_table, context, day, derive, dm, meta, tbl

SUBJECTS = tbl("USUBJID", ("S1",), ("S2",), ("S3",))


# --------------------------------------------------------------------------- ADSL
def test_period_and_phase_dates_from_the_conventions_events() -> None:
    """ADaMIG v1.3 section 3.2.7: APxxSDT/APxxEDT per subject (a period the subject did
    not have is null); PHwSDT/PHwEDT the earliest start and latest end of the phase's
    periods."""
    ctx = context()
    dates = {
        "AP01SDT": {"period": 1, "bound": "start"},
        "AP01EDT": {"period": 1, "bound": "end"},
        "AP02SDT": {"period": 2, "bound": "start"},
        "AP02EDT": {"period": 2, "bound": "end"},
        "AP03SDT": {"period": 3, "bound": "start"},
        "PH2SDT": {"phase": 2, "bound": "start"},
        "PH2EDT": {"phase": 2, "bound": "end"},
    }
    out = SUBJECTS.assign(
        **{name: derive("period_date", SUBJECTS, ctx, **args) for name, args in dates.items()}
    )
    d = day
    expected = tbl(
        "USUBJID AP01SDT AP01EDT AP02SDT AP02EDT AP03SDT PH2SDT PH2EDT",
        ("S1", d("2020-01-01"), d("2020-02-01"), d("2020-02-01"), d("2020-03-02"),
         d("2020-03-02"), d("2020-02-01"), d("2020-06-30")),
        ("S2", d("2020-01-10"), d("2020-02-15"), d("2020-02-15"), d("2020-05-15"),
         None, d("2020-02-15"), d("2020-05-15")),
        ("S3", d("2020-01-20"), d("2020-02-10"), None, None, None, None, None),
    )  # fmt: skip
    assert_table(out, expected)
    assert meta("period_date", ctx, **dates["AP02SDT"]) == ColumnMeta(
        method="Start of period 2 (AFTER INJECTION 1): date of INJECTION (EX.EXSTDTC, "
        "occurrence 1). Null when the subject has no such event (the period did not happen).",
        type="Num",
        date=True,
    )
    assert meta("period_date", ctx, **dates["AP01EDT"]).method == (
        "End of period 1 (RUN-IN): date of INJECTION (EX.EXSTDTC, occurrence 1) else END "
        "(DM.RFPENDTC, occurrence 1)."
    )
    assert meta("period_date", ctx, **dates["PH2EDT"]).method == (
        "Latest end of the periods of phase 2 (TREATMENT): periods 2, 3."
    )
    assert meta("period_date", None, **dates["PH2EDT"]) == ColumnMeta(type="Num", date=True)


def test_planned_and_actual_treatment_of_a_period() -> None:
    """ADaMIG v1.3 section 3.2.4: TRTxxP for every subject; TRTxxA for the subjects who
    had period xx (null for the others)."""
    ctx = context()
    out = SUBJECTS.assign(
        TRT02P=derive("period_treatment", SUBJECTS, ctx, period=2),
        TRT02A=derive("period_treatment", SUBJECTS, ctx, period=2, actual=True),
        TRT03A=derive("period_treatment", SUBJECTS, ctx, period=3, actual=True),
    )
    expected = tbl(
        "USUBJID TRT02P TRT02A TRT03A",
        ("S1", "DRUG", "DRUG", "DRUG AGAIN (ACTUAL)"),
        ("S2", "DRUG", "DRUG", ""),
        ("S3", "DRUG", "", ""),
    )
    assert_table(out, expected)
    assert meta("period_treatment", ctx, period=2) == ColumnMeta(
        origin="Assigned",
        method="'DRUG' for every subject (planned treatment of period 2, AFTER INJECTION 1).",
        type="Char",
    )
    assert meta("period_treatment", ctx, period=2, actual=True) == ColumnMeta(
        origin="Derived",
        method="'DRUG' for subjects who had period 2 (AFTER INJECTION 1), i.e. AP02SDT is "
        "present; null otherwise.",
        type="Char",
    )


ARMS = tbl(
    "USUBJID ARM ACTARM",
    ("S1", "Placebo", "Placebo"),
    ("S2", "Xanomeline High Dose", "Xanomeline Low Dose"),
    ("S3", "Screen Failure", "Screen Failure"),
)


def test_period_treatment_from_each_subjects_arm() -> None:
    """ADaMIG v1.3 section 3.2.4 with randomised arms (admiral ad_adsl.R: TRT01P = ARM,
    TRT01A = ACTARM): the subject's DM value, null where the record fails `where`
    (screen failures); `actual` also nulls subjects who did not have the period."""
    ctx = context(sdtm={"DM": dm().merge(ARMS, on="USUBJID")})
    screened = {"variable": "ARM", "not_in": ["Screen Failure"]}
    out = SUBJECTS.assign(
        TRT01P=derive("period_treatment", SUBJECTS, ctx, period=1, source="DM.ARM"),
        TRT01PS=derive(
            "period_treatment", SUBJECTS, ctx, period=1, source="DM.ARM", where=screened
        ),
        TRT02A=derive("period_treatment", SUBJECTS, ctx, period=2, source="DM.ACTARM", actual=True),
    )
    expected = tbl(
        "USUBJID TRT01P TRT01PS TRT02A",
        ("S1", "Placebo", "Placebo", "Placebo"),
        ("S2", "Xanomeline High Dose", "Xanomeline High Dose", "Xanomeline Low Dose"),
        ("S3", "Screen Failure", "", ""),  # S3 never had period 2
    )
    assert_table(out, expected)
    assert meta("period_treatment", ctx, period=1, source="DM.ARM") == ColumnMeta(
        origin="Predecessor",
        source="DM.ARM",
        method="Planned treatment of period 1: DM.ARM.",
        type="Char",
    )
    assert meta("period_treatment", ctx, period=1, source="DM.ARM", where=screened) == (
        ColumnMeta(
            origin="Derived",
            source="DM.ARM",
            method="Planned treatment of period 1: DM.ARM where ARM not in ('Screen "
            "Failure'); null for subjects without such a record.",
            type="Char",
        )
    )
    assert meta("period_treatment", ctx, period=2, source="DM.ACTARM", actual=True).method == (
        "Actual treatment of period 2: DM.ACTARM; null for subjects who did not have period 2 "
        "(AP02SDT missing)."
    )


def test_period_treatment_from_data_needs_no_period_in_the_conventions() -> None:
    """A study without periods in its conventions (one treatment per subject, as the CDISC
    pilot) reads TRT01P from DM; only the conventions' texts and `actual` need the period."""
    model = DERIVATIONS.require("period_treatment").args_model
    from_data = model.model_validate({"period": 7, "source": "DM.ARM"})
    assert from_data.conventions_used() == set()
    assert from_data.lookups() == {("DM", "ARM"), ("DM", "USUBJID")}
    assert model.model_validate({"period": 7}).conventions_used() == {("period", 7)}
    actual = model.model_validate({"period": 7, "source": "DM.ACTARM", "actual": True})
    assert actual.conventions_used() == {("period", 7)}
    with pytest.raises(ValidationError, match="where applies to a source"):
        model.model_validate({"period": 1, "where": {"variable": "ARM", "equals": "X"}})
    with pytest.raises(ValidationError, match="where/select/order_by apply to a source"):
        model.model_validate(
            {"period": 1, "source": "ARM", "where": {"variable": "ARM", "equals": "X"}}
        )


# --------------------------------------------------------------------------- BDS, OCCDS
def test_record_period_phase_and_their_dates_by_the_record_date() -> None:
    """ADaMIG v1.3 section 3.3.3: APERIOD is the period whose APxxSDT..APxxEDT contains the
    record's date, with APERIODC, APHASE(N), the period's and phase's dates and its
    treatment; a record in no period has none."""
    frame = tbl(
        "USUBJID ADT",
        ("S1", day("2020-01-15")),
        ("S1", day("2020-03-10")),
        ("S2", day("2020-05-20")),
        ("S3", None),
    )
    ctx = context("ADQS")
    outputs = [
        "APERIOD",
        "APERIODC",
        "APHASE",
        "APHASEN",
        "APERSDT",
        "APEREDT",
        "PHSDT",
        "PHEDT",
        "TRTP",
        "TRTA",
    ]
    out = frame.assign(**{o: derive("record_period", frame, ctx, output=o) for o in outputs})
    d = day
    expected = tbl(
        "USUBJID ADT " + " ".join(outputs),
        ("S1", d("2020-01-15"), 1, "RUN-IN", "RUN-IN", 1, d("2020-01-01"), d("2020-02-01"),
         d("2020-01-01"), d("2020-02-01"), "NONE", "NONE"),
        ("S1", d("2020-03-10"), 3, "AFTER INJECTION 2", "TREATMENT", 2, d("2020-03-02"),
         d("2020-06-30"), d("2020-02-01"), d("2020-06-30"), "DRUG AGAIN", "DRUG AGAIN (ACTUAL)"),
        ("S2", d("2020-05-20"), None, "", "", None, None, None, None, None, "", ""),
        ("S3", None, None, "", "", None, None, None, None, None, "", ""),
    )  # fmt: skip
    assert_table(out, expected)


def test_record_period_on_a_day_shared_by_two_periods() -> None:
    """The injection day ends one period and starts the next: ``boundary`` says which
    period its records belong to (pre-dose assessments: the one that ends)."""
    frame = tbl("USUBJID ASTDT", ("S1", day("2020-02-01")), ("S1", day("2020-03-02")))
    ctx = context("ADAE")
    out = frame.assign(
        END=derive("record_period", frame, ctx, date="ASTDT", output="APERIOD"),
        START=derive("record_period", frame, ctx, date="ASTDT", output="APERIOD", boundary="start"),
    )
    expected = tbl(
        "USUBJID ASTDT END START",
        ("S1", day("2020-02-01"), 1, 2),
        ("S1", day("2020-03-02"), 2, 3),
    )
    assert_table(out, expected)
    assert meta("record_period", ctx, date="ASTDT", output="APERIOD", boundary="start") == (
        ColumnMeta(
            method="APERIOD is the period whose ADSL APxxSDT..APxxEDT (inclusive) contains "
            "ASTDT; a date shared by two periods (the day one ends and the next starts) "
            "belongs to the period that starts that day; null when no period contains it. "
            "APERIODC is the period's name in the study conventions, APHASE the phase (ADSL "
            "APHASEw) containing the period and APHASEN the phase's number.",
            type="Num",
        )
    )
    # one text for the period and phase variables: one MethodDef in define.xml
    texts = {
        meta("record_period", ctx, date="ASTDT", output=o, boundary="start").method
        for o in ("APERIOD", "APERIODC", "APHASE", "APHASEN")
    }
    assert len(texts) == 1
    assert meta("record_period", ctx, output="APERSDT") == ColumnMeta(
        method="ADSL APxxSDT of the record's APERIOD.", type="Num", date=True
    )


# --------------------------------------------------------------------------- in_periods
def test_in_periods_flags_the_records_a_rate_over_the_periods_uses() -> None:
    """ANLzzFL-style Y/null flag (ADaMIG v1.3 section 3.3.8): Y when the record's date is
    from the earliest start to the latest end of the subject's listed periods (both days
    included: the injection day is in the interval it ends and the one it starts) and the
    condition holds; a subject without the periods has none."""
    frame = tbl(
        "USUBJID ADT AVAL",
        ("S1", day("2020-01-31"), 40),
        ("S1", day("2020-02-01"), 39),  # injection 1: ends the run-in, starts period 2
        ("S1", day("2020-03-02"), 38),  # injection 2: ends period 2, starts period 3
        ("S1", day("2020-03-03"), None),  # no value
        ("S1", day("2020-06-30"), 35),
        ("S2", day("2020-05-15"), 44),
        ("S3", day("2020-02-01"), 47),  # in its run-in (to 02-10); no period 2
    )
    ctx = context("ADQS")
    value = {"variable": "AVAL", "present": True}
    out = frame.assign(
        RUNIN=derive("in_periods", frame, ctx, periods=[1]),
        P2=derive("in_periods", frame, ctx, periods=[2], where=value),
        P23=derive("in_periods", frame, ctx, periods=[2, 3], where=value),
    )
    expected = frame.assign(
        RUNIN=["Y", "Y", "", "", "", "", "Y"],
        P2=["", "Y", "Y", "", "", "Y", ""],
        P23=["", "Y", "Y", "", "Y", "Y", ""],
    )
    assert_table(out, expected)
    assert meta("in_periods", ctx, periods=[2, 3], where=value).method == (
        "'Y' when ADT is from the start to the end (inclusive) of the subject's periods 2, 3 "
        "(ADSL APxxSDT..APxxEDT, earliest start to latest end) and AVAL is present; null "
        "otherwise."
    )


def test_in_periods_with_a_fallback_flags_the_records_of_the_fallback_periods() -> None:
    """`fallback`, the same rule as the ADPROG interval it serves: a subject who had none
    of `periods` has the records within its `fallback` periods flagged. S1 had period 3
    (03-02..06-30): its own, not its period 2; S2 had no period 3: its period 2
    (02-15..05-15); S3 had neither: nothing flagged."""
    frame = tbl(
        "USUBJID ADT AVAL",
        ("S1", day("2020-02-15"), 39),  # in S1's period 2 only
        ("S1", day("2020-03-02"), 38),  # injection 2: starts period 3
        ("S1", day("2020-03-03"), None),  # no value
        ("S1", day("2020-06-30"), 35),
        ("S2", day("2020-02-14"), 45),  # the day before S2's injection 1
        ("S2", day("2020-05-15"), 44),
        ("S3", day("2020-02-01"), 47),
    )
    ctx = context("ADQS")
    value = {"variable": "AVAL", "present": True}
    out = frame.assign(
        P3=derive("in_periods", frame, ctx, periods=[3], where=value),
        P3ELSE2=derive("in_periods", frame, ctx, periods=[3], fallback=[2], where=value),
    )
    expected = frame.assign(
        P3=["", "Y", "", "Y", "", "", ""],
        P3ELSE2=["", "Y", "", "Y", "", "Y", ""],
    )
    assert_table(out, expected)
    assert meta("in_periods", ctx, periods=[3], fallback=[2]).method == (
        "'Y' when ADT is from the start to the end (inclusive) of the subject's periods 3, or, "
        "for a subject who had none of them, of periods 2 (ADSL APxxSDT..APxxEDT, earliest "
        "start to latest end); null otherwise."
    )
    args = DERIVATIONS.require("in_periods").args_model.model_validate(
        {"periods": [3], "fallback": [2]}
    )
    assert args.conventions_used() == {("period", 2), ("period", 3)}
    with pytest.raises(ValidationError, match=r"period\(s\) \[3\] are in both"):
        DERIVATIONS.require("in_periods").args_model.model_validate(
            {"periods": [3], "fallback": [3]}
        )


def test_period_text_is_taken_from_the_period_number_of_each_row() -> None:
    """APERIODC/TRTP text of each row by its period number (ADaMIG v1.3 section 3.3.3); the
    last position stands for no period and gives ""."""
    idx = np.array([2, 0, 3, 2, 1])
    out = _text_by_period(idx, 4, {1: "RUN-IN", 2: "DOSE 1"})
    assert list(out) == ["DOSE 1", "", "", "DOSE 1", "RUN-IN"]
    assert str(out.dtype) == "str"
