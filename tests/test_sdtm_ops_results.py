"""cdisc_mapper/sdtm/ops/results.py: result (--ORRES), stresc and stresn (SDTMIG 3.4
section 4.5.1), number, nrind (--NRIND) and lobxfl (section 4.5.9); one small table per
rule."""

from __future__ import annotations

import pytest

from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.sdtm import OPERATIONS
from cdisc_mapper.spec.study import DEFAULT_NUMBERS, NumberFormat, UnitConversion
from tests.sdtm_ops_helpers import (
    SUBJ1,
    SUBJ2,
    make_ctx,
    operations_of,
    raw_form,
    records,
    run_op,
    study,
    values,
)


def test_every_operation_of_results_py_is_tested_here() -> None:
    assert operations_of("results") == {"result", "stresc", "stresn", "number", "nrind", "lobxfl"}


@pytest.mark.parametrize(
    ("name", "origin", "needs_all", "row_local"),
    [
        ("result", "Collected", False, False),
        ("stresc", "Derived", False, True),
        ("stresn", "Derived", False, True),
        ("number", "Collected", False, True),
        ("nrind", "Derived", False, True),
        ("lobxfl", "Derived", True, False),
    ],
)
def test_registered_with_origin_and_traits(name, origin, needs_all, row_local) -> None:
    op = OPERATIONS.require(name)
    assert (op.origin, op.raw, op.needs_all, op.row_local) == (origin, False, needs_all, row_local)


def test_method_texts_cite_the_sdtmig_rules() -> None:
    assert "4.5.1" in OPERATIONS.require("stresc").method
    assert "4.5.9" in OPERATIONS.require("lobxfl").method
    # the reference date is an argument, RFXSTDTC unless the spec says otherwise
    lobxfl = OPERATIONS.require("lobxfl")
    assert "on or before DM.{ref}" in lobxfl.method
    assert lobxfl.args_model.model_fields["ref"].default == "RFXSTDTC"


# ------------------------------------------------------------------ result (--ORRES)


def orres(*cells: str, **args: object) -> list:
    raw = raw_form("labs.csv", ["RESULT"], *[[c] for c in cells])
    out = run_op("result", {"column": "RESULT", **args}, ctx=make_ctx("LB", "LBORRES", raw=raw))
    return values(out)


def test_result_as_collected_blanks_trimmed() -> None:
    assert orres(" 6.2 ", "NEGATIVE", "", "<5") == ["6.2", "NEGATIVE", "", "<5"]


def test_result_decimal_comma_is_written_as_a_point() -> None:
    assert orres("6,7", "-0,5", "<0,5", ">= 3,25") == ["6.7", "-0.5", "<0.5", ">= 3.25"]


def test_result_nothing_else_changes() -> None:
    assert orres("2,5 mg", "A,B", "12.03.2021") == ["2,5 mg", "A,B", "12.03.2021"]


def test_result_a_number_the_study_convention_cannot_read_is_an_error() -> None:
    with pytest.raises(MappingError) as err:
        orres("6.2", "1,000.5", "1,000,000")
    text = str(err.value)
    assert text.startswith("LB.LBORRES, column RESULT: number not readable under the number ")
    assert "row labs.csv:3 '1,000.5' (not a number under decimal_mark either" in text
    assert "it is 1000000 if ',' separates thousands" in text
    assert "`numbers: {decimal_mark: ..., thousands_separator: ...}` in study.yaml" in text


def test_result_decimal_comma_off_a_comma_number_is_an_error() -> None:
    with pytest.raises(MappingError, match=r"'6,7' \(not a number under decimal_mark '\.'"):
        orres("6,7", decimal_comma=False)


def test_result_with_a_thousands_separator_writes_the_plain_number() -> None:
    us = {"decimal_mark": ".", "thousands_separator": ","}
    assert orres("250,000", "1,000.5", "< 1,000", "4.5", **us) == [
        "250000",
        "1000.5",
        "< 1000",
        "4.5",
    ]


def test_result_of_a_mapped_variable() -> None:
    frame = records("alsfrs.csv", ["_SCORE"], ["4"], [3.0], ["  2 "])
    out = run_op("result", {"variable": "_SCORE"}, frame, make_ctx("QS", "QSORRES"))
    assert values(out) == ["4", "3", "2"]


# ------------------------------------------------------------------ stresc (4.5.1)

STRESC = {"orres": "LBORRES", "orresu": "LBORRESU", "stresu": "LBSTRESU", "testcd": "LBTESTCD"}


def stresc(*rows: tuple[str, str, str, str], domain: str = "LB") -> list:
    frame = records("labs.csv", ["LBTESTCD", "LBORRES", "LBORRESU", "LBSTRESU"], *rows)
    return values(run_op("stresc", STRESC, frame, make_ctx(domain, "LBSTRESC")))


def test_stresc_in_the_same_unit_is_the_number_in_standard_format() -> None:
    assert stresc(
        ("WBC", "6.2", "10^9/L", "10^9/L"),
        ("WBC", "06.20", "10^9/L", "10^9/L"),
        ("WBC", "1.234", "10^9/L", "10^9/L"),  # as result writes it: a decimal point
    ) == ["6.2", "6.2", "1.234"]


def test_stresc_of_a_mapped_result_with_a_comma_is_an_error_naming_the_record() -> None:
    with pytest.raises(MappingError) as err:
        stresc(("WBC", "6.2", "10^9/L", "10^9/L"), ("WBC", "6,2", "10^9/L", "10^9/L"))
    assert "LB.LBSTRESC: number not readable" in str(err.value)
    assert "row labs.csv:3 '6,2'" in str(err.value)
    assert "map it with result or number from the raw column" in str(err.value)


def test_stresc_converts_with_the_studys_factor_and_decimals() -> None:
    assert stresc(
        ("HGB", "13.5", "g/dL", "g/L"),  # factor 10, 0 decimals
        ("HGB", "13.56", "g/dL", "g/L"),
        ("ALT", "40", "IU/L", "U/L"),  # factor 1
    ) == ["135", "136", "40"]


def test_stresc_test_specific_conversion() -> None:
    assert stresc(("CREAT", "1.2", "mg/dL", "umol/L")) == ["106"]  # 1.2 * 88.42


def test_stresc_conversion_with_an_offset() -> None:
    assert stresc(("TEMP", "98.6", "F", "C"), ("TEMP", "100.4", "F", "C"), domain="VS") == [
        "37.0",
        "38.0",
    ]


def test_stresc_trailing_zeros_drop_writes_the_rounded_number_as_sas_best_does() -> None:
    # the CDISC pilot rounds 97.7 F to 2 decimals and submits 36.5, not 36.50; the bundled
    # study's F -> C conversion has decimals: 1, its g/dL -> g/L decimals: 0
    frame = records(
        "vitals.csv",
        ["LBTESTCD", "LBORRES", "LBORRESU", "LBSTRESU"],
        ["TEMP", "98.6", "F", "C"],
        ["TEMP", "97.7", "F", "C"],
        ["TEMP", "<99.5", "F", "C"],
        ["HGB", "13.5", "g/dL", "g/L"],
        ["WBC", "06.20", "10^9/L", "10^9/L"],
        ["WBC", "NOT DONE", "", ""],
    )
    args = {**STRESC, "trailing_zeros": "drop"}
    out = values(run_op("stresc", args, frame, make_ctx("VS", "VSSTRESC")))
    assert out == ["37", "36.5", "<37.5", "135", "6.2", "NOT DONE"]
    kept = values(run_op("stresc", STRESC, frame, make_ctx("VS", "VSSTRESC")))
    assert kept == ["37.0", "36.5", "<37.5", "135", "6.2", "NOT DONE"]


def test_stresc_conversion_without_decimals_keeps_twelve_significant_digits() -> None:
    # the rule of SDTMIG 3.4 section 4.5.1.3's example (<0.1 mg/dL -> <1.71 umol/L): no
    # rounding of its own, so a conversion that is not exact needs its decimals
    no_decimals = UnitConversion(test="*", to="C", factor=5 / 9, offset=-160 / 9, **{"from": "F"})
    spec = study(units=study().units.model_copy(update={"conversions": [no_decimals]}))
    frame = records(
        "vitals.csv",
        ["LBTESTCD", "LBORRES", "LBORRESU", "LBSTRESU"],
        ["TEMP", "97.4", "F", "C"],
        ["TEMP", "212", "F", "C"],
    )
    out = values(run_op("stresc", STRESC, frame, make_ctx("VS", "VSSTRESC", spec=spec)))
    assert out == ["36.3333333333", "100"]


def test_stresc_keeps_the_operator_of_an_inequality() -> None:
    assert stresc(("CRP", "<5", "mg/L", "mg/L"), ("WBC", ">= 50", "10^9/L", "10^9/L")) == [
        "<5",
        ">=50",
    ]


def test_stresc_converts_the_bound_of_an_inequality() -> None:
    # SDTMIG 3.4 section 4.5.1.1: "<0.1" mg/dL goes to --STRESC converted to umol/L
    assert stresc(("CREAT", "<0.1", "mg/dL", "umol/L"), ("HGB", ">20", "g/dL", "g/L")) == [
        "<9",
        ">200",
    ]


def test_stresc_text_result_is_copied() -> None:
    assert stresc(("WBC", "NEGATIVE", "10^9/L", "10^9/L"), ("HGB", "clotted", "g/dL", "g/L")) == [
        "NEGATIVE",
        "clotted",
    ]


def test_stresc_empty_result_is_empty() -> None:
    assert stresc(("WBC", "", "", "10^9/L"), ("WBC", "", "10^9/L", "10^9/L")) == ["", ""]


def test_stresc_without_a_conversion_names_test_units_and_every_record() -> None:
    frame = records(
        "labs.csv",
        ["LBTESTCD", "LBORRES", "LBORRESU", "LBSTRESU"],
        ["SODIUM", "140", "mEq/L", "mmol/L"],
        ["SODIUM", "139", "mmol/L", "mmol/L"],
        ["SODIUM", "141", "mEq/L", "mmol/L"],
    )
    with pytest.raises(MappingError) as err:
        run_op("stresc", STRESC, frame, make_ctx("LB", "LBSTRESC"))
    assert str(err.value) == (
        "LB.LBSTRESC: no unit conversion for 1 test/unit pairs: SODIUM: 'mEq/L' -> 'mmol/L' "
        "(rows labs.csv:2, labs.csv:4) (add the conversion to the spec's unit conversions)"
    )


# ------------------------------------------------------------------ stresn (4.5.1)


def test_stresn_is_the_number_of_a_plain_numeric_stresc() -> None:
    frame = records("labs.csv", ["S"], ["6.2"], ["-3"], ["135"], ["1e3"])
    out = run_op("stresn", {"variable": "S"}, frame, make_ctx("LB", "LBSTRESN"))
    assert values(out) == [6.2, -3.0, 135.0, 1000.0]
    assert out.dtype == float


def test_stresn_is_missing_for_an_inequality_text_or_blank() -> None:
    frame = records("labs.csv", ["S"], ["<5"], [">=50"], ["NEGATIVE"], [""])
    out = run_op("stresn", {"variable": "S"}, frame, make_ctx("LB", "LBSTRESN"))
    assert values(out) == [None, None, None, None]


# ------------------------------------------------------------------ number


def test_number_from_text_with_a_decimal_comma() -> None:
    raw = raw_form("injections.csv", ["WEIGHT_KG"], ["72,5"], ["80"], [""], [" 64.25 "])
    out = run_op("number", {"column": "WEIGHT_KG"}, ctx=make_ctx("EX", "EXWTKG", raw=raw))
    assert values(out) == [72.5, 80.0, None, 64.25]
    assert out.dtype == float


def test_number_not_a_number_names_every_record() -> None:
    raw = raw_form("enrollment.csv", ["AGE_YRS"], ["55"], ["<50"], ["fifty"], ["12 kg"])
    with pytest.raises(MappingError) as err:
        run_op("number", {"column": "AGE_YRS"}, ctx=make_ctx("DM", "_AGECRF", raw=raw))
    assert str(err.value) == (
        "DM._AGECRF: not a number in 3 record(s): enrollment.csv row 3: '<50'; "
        "enrollment.csv row 4: 'fifty'; enrollment.csv row 5: '12 kg'"
    )


# ------------------------------------------------------------------ nrind


def nrind(*rows: tuple[object, object, object]) -> list:
    frame = records("labs.csv", ["LBSTRESC", "LBSTNRLO", "LBSTNRHI"], *rows)
    args = {"value": "LBSTRESC", "low": "LBSTNRLO", "high": "LBSTNRHI"}
    return values(run_op("nrind", args, frame, make_ctx("LB", "LBNRIND")))


def test_nrind_low_normal_high_limits_inclusive() -> None:
    assert nrind(("3.9", 4.0, 10.0), ("4", 4.0, 10.0), ("10", 4.0, 10.0), ("10.1", 4.0, 10.0)) == [
        "LOW",
        "NORMAL",
        "NORMAL",
        "HIGH",
    ]


def test_nrind_an_inequality_keeps_its_operator() -> None:
    assert nrind(
        ("<5", 0.0, 5.0),  # below 5, within 0-5
        (">1000", 10.0, 450.0),
        ("<5", 5.0, 10.0),  # just below the low limit
        (">450", 10.0, 450.0),  # just above the high limit
    ) == ["NORMAL", "HIGH", "LOW", "HIGH"]


def test_nrind_a_range_with_one_limit_is_open_on_the_other_side() -> None:
    assert nrind(("11", 4.0, None), ("1", 4.0, None), ("900", None, 5.0)) == [
        "NORMAL",
        "LOW",
        "HIGH",
    ]


def test_nrind_null_without_a_numeric_result_or_any_limit() -> None:
    assert nrind(("NEGATIVE", 1.0, 2.0), ("", 1.0, 2.0), ("7", None, None)) == ["", "", ""]


def test_nrind_limits_given_as_text() -> None:
    assert nrind(("12", "4", "10"), ("6.5", "4", "10")) == ["HIGH", "NORMAL"]


def test_nrind_of_several_records_from_one_form_row() -> None:
    frame = records(
        "labs.csv",
        ["LBSTRESC", "LBSTNRLO", "LBSTNRHI"],
        ["3", 4.0, 10.0],
        ["<5", 0.0, 5.0],
        ["12", 4.0, 10.0],
    ).assign(_ROW=[7, 7, 7])
    args = {"value": "LBSTRESC", "low": "LBSTNRLO", "high": "LBSTNRHI"}
    out = run_op("nrind", args, frame, make_ctx("LB", "LBNRIND"))
    assert values(out) == ["LOW", "NORMAL", "HIGH"]


def test_nrind_low_limit_above_high_limit_names_every_record() -> None:
    frame = records(
        "labs.csv",
        ["LBSTRESC", "LBSTNRLO", "LBSTNRHI"],
        ["5", 1.0, 10.0],
        ["5", 10.0, 1.0],
        first=20,
    )
    args = {"value": "LBSTRESC", "low": "LBSTNRLO", "high": "LBSTNRHI"}
    with pytest.raises(MappingError) as err:
        run_op("nrind", args, frame, make_ctx("LB", "LBNRIND"))
    assert str(err.value) == (
        "LB.LBNRIND: normal range low limit above high limit in 1 row: row labs.csv:21 '10.0 - 1.0'"
    )


# ------------------------------------------------------------------ lobxfl (4.5.9)

DM = records(
    "enrollment.csv",
    ["USUBJID", "RFXSTDTC", "RFSTDTC"],
    [SUBJ1, "2016-07-01T10:00", "2016-07-01"],
    [SUBJ2, "", ""],  # never exposed
)
LOBXFL = {"testcd": ["LBCAT", "LBTESTCD"], "dtc": "LBDTC", "result": "LBSTRESC"}
COLUMNS = ["USUBJID", "LBCAT", "LBTESTCD", "LBDTC", "LBSTRESC"]


def lobxfl(*rows: tuple[str, ...], **args: object) -> list:
    frame = records("labs.csv", COLUMNS, *rows)
    ctx = make_ctx("LB", "LBLOBXFL", domains={"DM": DM})
    return values(run_op("lobxfl", {**LOBXFL, **args}, frame, ctx))


def test_lobxfl_last_non_missing_result_per_test_before_exposure() -> None:
    assert lobxfl(
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-01-05", "135"),
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-06-01", "130"),  # the last with a result
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-06-20", ""),  # later, but no result
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-08-01", "120"),  # after exposure
        (SUBJ1, "HEMATOLOGY", "WBC", "2016-01-05", "6.2"),  # one per test
    ) == ["", "Y", "", "", "Y"]


def test_lobxfl_record_without_time_on_the_day_of_first_dose_counts_as_before() -> None:
    assert lobxfl(
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-06-01", "130"),
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-07-01", "128"),  # pre-dose on day 1
        (SUBJ1, "HEMATOLOGY", "WBC", "2016-06-01", "6.0"),
        (SUBJ1, "HEMATOLOGY", "WBC", "2016-07-01T11:00", "6.4"),  # after the 10:00 dose
    ) == ["", "Y", "Y", ""]


def test_lobxfl_a_partial_date_is_never_baseline() -> None:
    assert lobxfl(
        (SUBJ1, "HEMATOLOGY", "WBC", "2016-05-01", "6.0"),
        (SUBJ1, "HEMATOLOGY", "WBC", "2016-06", "6.2"),
    ) == ["Y", ""]


def test_lobxfl_on_one_date_a_timed_record_then_the_later_row_wins() -> None:
    assert lobxfl(
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-06-01T08:00", "131"),  # has a time: after
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-06-01", "130"),
        (SUBJ1, "HEMATOLOGY", "WBC", "2016-06-01", "6.0"),
        (SUBJ1, "HEMATOLOGY", "WBC", "2016-06-01", "6.0"),  # an exact repeat: the later row
    ) == ["Y", "", "", "Y"]


def test_number_blank_is_missing_and_an_inequality_is_an_error() -> None:
    raw = raw_form("ex.csv", ["DOSE"], ["54"], [" "], ["<5"])
    with pytest.raises(MappingError) as err:
        run_op("number", {"column": "DOSE"}, ctx=make_ctx("EX", "EXDOSE", raw=raw))
    assert "not a number" in str(err.value) and "row 4: '<5'" in str(err.value)
    raw = raw_form("ex.csv", ["DOSE"], ["54"], [" "])
    out = run_op("number", {"column": "DOSE"}, ctx=make_ctx("EX", "EXDOSE", raw=raw))
    assert values(out) == [54.0, None]


def test_lobxfl_no_flag_for_a_subject_never_exposed() -> None:
    assert lobxfl((SUBJ2, "HEMATOLOGY", "HGB", "2016-05-01", "140")) == [""]


def test_lobxfl_per_test_identified_by_every_given_variable() -> None:
    assert lobxfl(
        (SUBJ1, "CHEMISTRY", "GLUC", "2016-06-01", "5.1"),
        (SUBJ1, "URINALYSIS", "GLUC", "2016-06-01", "NEGATIVE"),
    ) == ["Y", "Y"]


def test_lobxfl_against_another_reference_date() -> None:
    assert lobxfl(
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-06-01", "130"),
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-07-01T11:00", "128"),
        ref="RFSTDTC",  # a date without time: the whole day is before
    ) == ["", "Y"]


def test_lobxfl_of_several_records_from_one_form_row() -> None:
    frame = records(
        "labs.csv",
        COLUMNS,
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-06-01", "130"),
        (SUBJ1, "HEMATOLOGY", "WBC", "2016-06-01", "6.1"),
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-05-01", "131"),
        (SUBJ1, "HEMATOLOGY", "WBC", "2016-05-01", "6.0"),
    ).assign(_ROW=[3, 3, 2, 2])
    ctx = make_ctx("LB", "LBLOBXFL", domains={"DM": DM})
    assert values(run_op("lobxfl", LOBXFL, frame, ctx)) == ["Y", "Y", "", ""]


def test_lobxfl_of_a_date_that_is_not_iso_8601_names_the_record() -> None:
    frame = records(
        "labs.csv",
        COLUMNS,
        (SUBJ1, "HEMATOLOGY", "HGB", "2016-06-01", "130"),
        (SUBJ1, "HEMATOLOGY", "HGB", "1/6/2016", "131"),
        first=12,
    )
    ctx = make_ctx("LB", "LBLOBXFL", domains={"DM": DM})
    with pytest.raises(MappingError) as err:
        run_op("lobxfl", LOBXFL, frame, ctx)
    assert str(err.value) == (
        "LB.LBLOBXFL: not an ISO 8601 date/time (YYYY[-MM[-DD[Thh:mm[:ss]]]]) in 1 row: "
        "row labs.csv:13 '1/6/2016'"
    )


# ------------------------------------------------------------------ number conventions


def _number(cells: list[str], numbers: NumberFormat | None = None, **args: object) -> list:
    raw = raw_form("labs.csv", ["RESULT"], *[[c] for c in cells])
    ctx = make_ctx("LB", "LBORRES", raw=raw, spec=study(numbers=numbers or DEFAULT_NUMBERS))
    return values(run_op("number", {"column": "RESULT", **args}, ctx=ctx))


def test_number_reads_the_study_convention() -> None:
    us = NumberFormat(decimal_mark=".", thousands_separator=",")
    assert _number(["250,000", "1,000.5"], us) == [250000.0, 1000.5]
    with pytest.raises(MappingError, match="ambiguous: 250 if ',' is the decimal mark"):
        _number(["250,000"])


def test_a_source_convention_overrides_the_study_one_setting_by_setting() -> None:
    raw = raw_form("labs.csv", ["RESULT"], ["1.000,5"])
    ctx = make_ctx("LB", "LBORRES", raw=raw, spec=study(numbers=DEFAULT_NUMBERS))
    ctx.numbers = NumberFormat(thousands_separator=".").over(DEFAULT_NUMBERS)
    assert values(run_op("number", {"column": "RESULT"}, ctx=ctx)) == [1000.5]


def test_the_operation_settings_override_the_source_and_study() -> None:
    assert _number(["1,000"], thousands_separator=",", decimal_mark=".") == [1000.0]
    assert _number(["1,000"], decimal_mark=",") == [1.0]
    with pytest.raises(MappingError, match=r"not a number under decimal_mark '\.'"):
        _number(["72,5"], decimal_comma=False)


def test_conflicting_settings_are_a_spec_error_at_the_operation() -> None:
    with pytest.raises(SpecError, match="cannot be both the decimal mark and the thousands"):
        _number(["1"], NumberFormat(decimal_mark=".", thousands_separator=","), decimal_mark=",")


# ------------------------------------------------------------------ lobxfl on study days


def test_lobxfl_on_study_days_without_dates() -> None:
    # relative-day data without an anchor: the last result on or before day 1 (first dose)
    frame = records(
        "alsfrs.csv",
        ["USUBJID", "QSTESTCD", "QSDY", "QSSTRESC"],
        ["S-1", "ALSR01", -7, "3"],
        ["S-1", "ALSR01", 1, "4"],
        ["S-1", "ALSR01", 1, "2"],  # the same day, later in the raw order: this one
        ["S-1", "ALSR01", 30, "1"],
        ["S-1", "ALSR02", 2, "4"],  # after day 1 only: no flag
        ["S-2", "ALSR01", -10, "3"],
        ["S-2", "ALSR01", -3, ""],  # no result
        ["S-2", "ALSR01", None, "2"],  # no day
    )
    args = {"testcd": ["QSTESTCD"], "dy": "QSDY", "result": "QSSTRESC"}
    out = run_op("lobxfl", args, frame, make_ctx("QS", "QSLOBXFL"))
    assert values(out) == ["", "", "Y", "", "", "Y", "", ""]


def test_lobxfl_takes_a_date_or_a_study_day() -> None:
    model = OPERATIONS.require("lobxfl").args_model
    with pytest.raises(ValueError, match="exactly one of dtc"):
        model.model_validate({"testcd": ["X"], "result": "R"})
    with pytest.raises(ValueError, match="exactly one of dtc"):
        model.model_validate({"testcd": ["X"], "result": "R", "dtc": "D", "dy": "Y"})
