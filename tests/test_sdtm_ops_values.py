"""cdisc_mapper/sdtm/ops/values.py: column, copy, constant, studyid, domain, template, map,
case and flag; one small table per rule, through the operation registry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cdisc_mapper.errors import Location, MappingError, SpecError
from cdisc_mapper.sdtm import OPERATIONS
from tests.sdtm_ops_helpers import make_ctx, operations_of, raw_form, records, run_op, values


def test_every_operation_of_values_py_is_tested_here() -> None:
    assert operations_of("values") == {
        "column",
        "copy",
        "constant",
        "studyid",
        "domain",
        "template",
        "map",
        "case",
        "flag",
    }


@pytest.mark.parametrize(
    ("name", "origin", "raw", "row_local"),
    [
        ("column", "Collected", True, False),
        ("copy", "Derived", False, True),
        ("constant", "Assigned", False, False),
        ("studyid", "Assigned", False, False),
        ("domain", "Assigned", False, False),
        ("template", "Derived", False, True),
        ("map", "Derived", False, True),
        ("case", "Derived", False, True),
        ("flag", "Derived", False, True),
    ],
)
def test_registered_with_origin_and_traits(name, origin, raw, row_local) -> None:
    op = OPERATIONS.require(name)
    assert (op.origin, op.raw, op.row_local, op.needs_all) == (origin, raw, row_local, False)
    assert op.method.strip() != ""


# ------------------------------------------------------------------ column, copy


def test_column_is_the_raw_text_as_collected() -> None:
    raw = raw_form("ae.csv", ["AE_TERM"], ["Headache"], [""], ["nausea "])
    out = run_op("column", {"column": "AE_TERM"}, ctx=make_ctx("AE", "AETERM", raw=raw))
    assert values(out) == ["Headache", "", "nausea "]
    assert out.index.tolist() == [2, 3, 4]  # the file rows travel with the values


def test_copy_is_the_other_variable_of_the_same_record() -> None:
    frame = records("ex.csv", ["EXSTDTC", "EXDOSE"], ["2016-07-01T10:00", 1.5], ["", None])
    out = run_op("copy", {"variable": "EXSTDTC"}, frame, make_ctx("EX", "EXENDTC"))
    assert values(out) == ["2016-07-01T10:00", ""]
    # a numeric variable stays numeric, missing stays missing
    assert values(run_op("copy", {"variable": "EXDOSE"}, frame, make_ctx("EX"))) == [1.5, None]


# ------------------------------------------------------------------ constants


def test_constant_on_every_record_text_or_number() -> None:
    frame = records("ex.csv", ["USUBJID"], ["A"], ["B"], ["C"])
    ctx = make_ctx("EX", "EXTRT")
    assert (
        values(run_op("constant", {"value": "AUTOLOGOUS MSC"}, frame, ctx))
        == ["AUTOLOGOUS MSC"] * 3
    )
    assert values(run_op("constant", {"value": 2}, frame, ctx)) == [2, 2, 2]


def test_studyid_is_the_study_identifier_of_study_yaml() -> None:
    frame = records("ae.csv", ["USUBJID"], ["A"], ["B"])
    out = run_op("studyid", {}, frame, make_ctx("AE", "STUDYID"))
    assert values(out) == ["0208-16-HMO", "0208-16-HMO"]


def test_domain_is_the_two_letter_code_of_the_domain_being_mapped() -> None:
    frame = records("labs.csv", ["USUBJID"], ["A"], ["B"])
    assert values(run_op("domain", {}, frame, make_ctx("LB", "DOMAIN"))) == ["LB", "LB"]


# ------------------------------------------------------------------ template


def test_template_substitutes_raw_columns_as_plain_text() -> None:
    raw = raw_form("injections.csv", ["INJ_NO", "SIDE"], ["1", "L"], ["2", ""], ["", "R"])
    ctx = make_ctx("EX", "_VISITLABEL", raw=raw)
    out = run_op("template", {"template": "Injection {INJ_NO}"}, ctx=ctx)
    assert values(out) == ["Injection 1", "Injection 2", "Injection "]
    out = run_op("template", {"template": "{INJ_NO}/{SIDE}"}, ctx=ctx)
    assert values(out) == ["1/L", "2/", "/R"]


def test_template_doubled_braces_are_literal_braces() -> None:
    raw = raw_form("injections.csv", ["INJ_NO"], ["3"])
    out = run_op("template", {"template": "{{n}}={INJ_NO}"}, ctx=make_ctx("EX", raw=raw))
    assert values(out) == ["{n}=3"]


def test_template_unknown_column_is_an_error_naming_it() -> None:
    raw = raw_form("injections.csv", ["INJ_NO"], ["1"])
    with pytest.raises(SpecError, match=r"EX\._VISITLABEL: template field \{INJ\} names neither"):
        run_op(
            "template", {"template": "Injection {INJ}"}, ctx=make_ctx("EX", "_VISITLABEL", raw=raw)
        )


def test_template_reads_a_variable_defined_earlier_before_a_raw_column() -> None:
    raw = raw_form("vitals.csv", ["VSPOS", "N"], ["Supine", "1"], ["Standing", "2"])
    frame = raw[[]].assign(VSPOS=["SUPINE", "STANDING"], VSREPNUM=[1.0, 2.0])
    out = run_op(
        "template",
        {"template": "PATIENT {VSPOS} #{VSREPNUM} ({N})"},
        frame,
        make_ctx("VS", "VSTPTREF", raw=raw),
    )
    # the variable VSPOS hides the raw column VSPOS; a number is written as it reads
    assert values(out) == ["PATIENT SUPINE #1 (1)", "PATIENT STANDING #2 (2)"]


def test_template_at_domain_level_reads_the_domains_variables() -> None:
    frame = records("vitals.csv", ["VSPOS"], ["SUPINE"], [""])
    out = run_op("template", {"template": "PATIENT {VSPOS}"}, frame, make_ctx("VS", "VSTPTREF"))
    assert values(out) == ["PATIENT SUPINE", "PATIENT "]


def test_template_when_blank_blank_gives_blank_where_any_field_is_blank() -> None:
    frame = records(
        "vitals.csv", ["VSPOS", "VSTPT"], ["SUPINE", "5 MIN"], ["", "5 MIN"], ["SUPINE", " "]
    )
    args = {"template": "PATIENT {VSPOS} {VSTPT}", "when_blank": "blank"}
    out = run_op("template", args, frame, make_ctx("VS", "VSTPTREF"))
    assert values(out) == ["PATIENT SUPINE 5 MIN", "", ""]


def test_template_field_unknown_at_domain_level_is_an_error_at_the_spec_line() -> None:
    frame = records("vitals.csv", ["VSPOS"], ["SUPINE"])
    where = Location("mappings/x/sdtm/vs.yaml", line=12)
    with pytest.raises(
        SpecError, match=r"VS\.VSTPTREF: template field \{POS\} names no variable of VS"
    ) as err:
        run_op(
            "template",
            {"template": "PATIENT {POS}"},
            frame,
            make_ctx("VS", "VSTPTREF", where=where),
        )
    assert err.value.where == where


@pytest.mark.parametrize("template", ["Dose {INJ_NO:>3}", "Dose {INJ_NO!r}", "Dose {0}"])
def test_template_fields_are_plain_column_names(template) -> None:
    with pytest.raises(ValidationError, match="template fields are plain column names"):
        OPERATIONS.require("template").args_model.model_validate({"template": template})


# ------------------------------------------------------------------ map

COUNTRY = {"Israel": "ISR", "United States": "USA"}


def test_map_recodes_by_the_table_ignoring_case_and_spacing() -> None:
    raw = raw_form("enrollment.csv", ["COUNTRY"], ["Israel"], ["ISRAEL"], ["  united   States "])
    out = run_op(
        "map", {"column": "COUNTRY", "values": COUNTRY}, ctx=make_ctx("DM", "COUNTRY", raw=raw)
    )
    assert values(out) == ["ISR", "ISR", "USA"]


def test_map_case_sensitive_matches_exact_case_only() -> None:
    raw = raw_form("labs.csv", ["FLAG"], ["ND"], ["nd"])
    args = {"column": "FLAG", "values": {"ND": "NOT DONE"}, "case_sensitive": True}
    out = run_op("map", {**args, "default": "?"}, ctx=make_ctx("LB", "LBSTAT", raw=raw))
    assert values(out) == ["NOT DONE", "?"]


def test_map_empty_input_stays_empty_without_default() -> None:
    raw = raw_form("labs.csv", ["NOT_DONE"], ["ND"], [""], ["  "])
    args = {"column": "NOT_DONE", "values": {"ND": "NOT DONE"}}
    out = run_op("map", args, ctx=make_ctx("LB", "LBSTAT", raw=raw))
    assert values(out) == ["NOT DONE", "", ""]


def test_map_default_for_unlisted_values() -> None:
    raw = raw_form("enrollment.csv", ["COUNTRY"], ["Israel"], ["France"], [""])
    args = {"column": "COUNTRY", "values": COUNTRY, "default": "OTHER"}
    out = run_op("map", args, ctx=make_ctx("DM", "COUNTRY", raw=raw))
    assert values(out) == ["ISR", "OTHER", ""]


def test_map_keep_unlisted_passes_unlisted_values_through_as_they_are() -> None:
    raw = raw_form("ae.csv", ["REL"], ["Possible"], ["NOT RELATED"], ["  Probable "], [""])
    args = {"column": "REL", "values": {"Possible": "POSSIBLY RELATED"}, "keep_unlisted": True}
    out = run_op("map", args, ctx=make_ctx("AE", "AEREL", raw=raw))
    assert values(out) == ["POSSIBLY RELATED", "NOT RELATED", "  Probable ", ""]


def test_map_keep_unlisted_with_a_default_is_a_spec_error() -> None:
    args = {"column": "REL", "values": {"A": "B"}, "keep_unlisted": True, "default": "X"}
    with pytest.raises(ValidationError, match="keep_unlisted"):
        OPERATIONS.require("map").args_model.model_validate(args)


def test_map_keep_empty_false_treats_empty_as_unlisted() -> None:
    raw = raw_form("enrollment.csv", ["COUNTRY"], ["Israel"], [""])
    args = {"column": "COUNTRY", "values": COUNTRY, "keep_empty": False, "default": "UNK"}
    out = run_op("map", args, ctx=make_ctx("DM", "COUNTRY", raw=raw))
    assert values(out) == ["ISR", "UNK"]
    with pytest.raises(MappingError, match=r"1 record\(s\): enrollment\.csv row 3: ''"):
        run_op(
            "map",
            {"column": "COUNTRY", "values": COUNTRY, "keep_empty": False},
            ctx=make_ctx("DM", "COUNTRY", raw=raw),
        )


def test_map_of_a_mapped_variable_at_domain_level() -> None:
    frame = records("labs.csv", ["LBTESTCD"], ["HGB"], ["SODIUM"], [""])
    args = {"variable": "LBTESTCD", "values": {"HGB": "HEMATOLOGY", "SODIUM": "CHEMISTRY"}}
    out = run_op("map", args, frame, make_ctx("LB", "LBCAT"))
    assert values(out) == ["HEMATOLOGY", "CHEMISTRY", ""]


def test_map_of_a_numeric_variable_matches_the_number_as_written() -> None:
    frame = records("vitals.csv", ["VISITNUM"], [1.0], [2.5], [None])
    args = {"variable": "VISITNUM", "values": {"1": "SCREENING", "2.5": "RUN-IN"}}
    out = run_op("map", args, frame, make_ctx("VS", "X"))
    assert values(out) == ["SCREENING", "RUN-IN", ""]


def test_map_unlisted_value_without_default_names_every_raw_record() -> None:
    raw = raw_form(
        "enrollment.csv", ["COUNTRY"], ["Israel"], ["France"], ["Israel"], ["Peru"], ["France"]
    )
    with pytest.raises(MappingError) as err:
        run_op(
            "map", {"column": "COUNTRY", "values": COUNTRY}, ctx=make_ctx("DM", "COUNTRY", raw=raw)
        )
    msg = str(err.value)
    assert msg.startswith("DM.COUNTRY: value not in the spec's map")
    assert (
        "in 3 record(s): enrollment.csv row 3: 'France'; enrollment.csv row 5: 'Peru'; "
        "enrollment.csv row 6: 'France'"
    ) in msg


def test_map_unlisted_value_of_a_variable_names_the_records_file_and_row() -> None:
    frame = records("labs.csv", ["LBTESTCD"], ["HGB"], ["XYZ"], first=7)
    with pytest.raises(MappingError, match=r"LB\.LBCAT: .* 1 record\(s\): labs\.csv row 8: 'XYZ'"):
        run_op(
            "map",
            {"variable": "LBTESTCD", "values": {"HGB": "HEMATOLOGY"}},
            frame,
            make_ctx("LB", "LBCAT"),
        )


def test_map_of_a_variable_inside_a_source_names_the_raw_file_and_row() -> None:
    raw = raw_form("labs.csv", ["TEST"], ["Hemoglobin"], ["Troponin"])
    frame = raw[[]].assign(LBTESTCD=["HGB", "TROPONI"])  # mapped earlier in the source
    with pytest.raises(MappingError, match=r"1 record\(s\): labs\.csv row 3: 'TROPONI'$"):
        run_op(
            "map",
            {"variable": "LBTESTCD", "values": {"HGB": "HEMATOLOGY"}},
            frame,
            make_ctx("LB", "LBCAT", raw=raw),
        )


def test_map_error_ends_with_the_spec_line() -> None:
    raw = raw_form("enrollment.csv", ["COUNTRY"], ["Peru"])
    ctx = make_ctx("DM", "COUNTRY", raw=raw, where=Location(file="dm.yaml", line=17))
    with pytest.raises(MappingError, match=r"enrollment\.csv row 2: 'Peru' \[spec dm\.yaml:17\]$"):
        run_op("map", {"column": "COUNTRY", "values": COUNTRY}, ctx=ctx)


@pytest.mark.parametrize("args", [{}, {"column": "A", "variable": "B"}])
def test_map_takes_exactly_one_input(args) -> None:
    with pytest.raises(ValidationError, match="exactly one of column"):
        OPERATIONS.require("map").args_model.model_validate({**args, "values": {}})


# ------------------------------------------------------------------ case

AGE_CASES = {
    "cases": [
        {"when": {"variable": "_AGEDRV", "empty": False}, "variable": "_AGEDRV"},
        {"when": {"variable": "_AGECRF", "empty": False}, "variable": "_AGECRF"},
    ],
}


def test_case_first_matching_case_wins() -> None:
    frame = records(
        "enrollment.csv",
        ["_AGEDRV", "_AGECRF"],
        [55.0, 54.0],  # both hold: the first case gives the value
        [None, 54.0],
        [None, None],
    )
    out = run_op("case", AGE_CASES, frame, make_ctx("DM", "AGE"))
    assert values(out) == [55.0, 54.0, ""]


def test_case_default_when_no_case_holds() -> None:
    frame = records("enrollment.csv", ["RFXSTDTC"], ["2016-07-01"], [""])
    args = {
        "cases": [{"when": {"variable": "RFXSTDTC", "empty": True}, "value": "SCREEN FAILURE"}],
        "default": "TREATED",
    }
    out = run_op("case", args, frame, make_ctx("DM", "ARMNRS"))
    assert values(out) == ["TREATED", "SCREEN FAILURE"]


def test_case_value_of_a_raw_column_inside_a_source() -> None:
    raw = raw_form(
        "disposition.csv",
        ["EVENT", "OTHER"],
        ["Completed", ""],
        ["Other", "moved abroad"],
        ["Death", ""],
    )
    args = {
        "cases": [
            {"when": {"column": "EVENT", "equals": "Other"}, "column": "OTHER"},
            {"when": {"column": "EVENT", "in": ["Completed", "Death"]}, "column": "EVENT"},
        ],
        "default": "UNKNOWN",
    }
    out = run_op("case", args, ctx=make_ctx("DS", "DSTERM", raw=raw))
    assert values(out) == ["Completed", "moved abroad", "Death"]


def test_case_condition_on_a_variable_mapped_earlier_in_the_source() -> None:
    raw = raw_form("alsfrs.csv", ["SCORE"], ["4"], ["40"])
    frame = raw[[]].assign(QSTESTCD=["ALSR01", "ALSRTOT"])
    args = {
        "cases": [{"when": {"variable": "QSTESTCD", "equals": "ALSRTOT"}, "value": "TOTAL"}],
        "default": "ITEM",
    }
    out = run_op("case", args, frame, make_ctx("QS", "QSCAT", raw=raw))
    assert values(out) == ["ITEM", "TOTAL"]


# ------------------------------------------------------------------ flag

DM_REF = records(
    "dm.csv",
    ["USUBJID", "RFXSTDTC", "ARMCD"],
    ["S-1", "2014-01-02", "PBO"],
    ["S-2", "", "SCRNFAIL"],
)


def test_flag_compares_two_variables_of_the_record() -> None:
    frame = records(
        "ae.csv",
        ["AESTDTC", "AEENDTC"],
        ["2014-01-03", "2014-01-05"],
        ["2014-01-09", "2014-01-05"],
        ["2014-01", ""],
    )
    args = {"when": {"variable": "AEENDTC", "ge": {"variable": "AESTDTC"}, "as": "date"}}
    out = run_op("flag", args, frame, make_ctx("AE", "X"))
    assert values(out) == ["Y", "", ""]


def test_flag_treatment_emergent_against_the_subjects_dm_value() -> None:
    frame = records(
        "ae.csv",
        ["USUBJID", "AESTDTC"],
        ["S-1", "2014-01-03"],
        ["S-1", "2013-12-28"],
        ["S-1", "2014-01-02"],
        ["S-2", "2014-01-05"],  # no RFXSTDTC: a comparison with a blank never holds
        ["S-3", "2014-01-05"],  # not in DM
    )
    args = {"when": {"variable": "AESTDTC", "ge": {"variable": "DM.RFXSTDTC"}, "as": "date"}}
    out = run_op("flag", args, frame, make_ctx("AE", "AETRTEM", domains={"DM": DM_REF}))
    assert values(out) == ["Y", "", "Y", "", ""]
    model = OPERATIONS.require("flag").args_model.model_validate(args)
    assert model.inputs() == {"AESTDTC", "USUBJID"}
    assert model.lookups() == {("DM", "RFXSTDTC"), ("DM", "USUBJID")}


def test_case_gives_the_subjects_dm_value_and_tests_it() -> None:
    frame = records("ae.csv", ["USUBJID"], ["S-1"], ["S-2"])
    args = {
        "cases": [
            {"when": {"variable": "DM.ARMCD", "equals": "SCRNFAIL"}, "value": "NOT TREATED"},
            {"when": {"variable": "DM.RFXSTDTC", "present": True}, "variable": "DM.RFXSTDTC"},
        ]
    }
    out = run_op("case", args, frame, make_ctx("AE", "X", domains={"DM": DM_REF}))
    assert values(out) == ["2014-01-02", "NOT TREATED"]


def test_a_dm_value_inside_a_source_is_an_error_at_the_spec_line() -> None:
    raw = raw_form("ae.csv", ["AESTDTC"], ["2014-01-03"])
    frame = raw[[]].assign(USUBJID=["S-1"])
    where = Location("mappings/x/sdtm/ae.yaml", line=7)
    args = {"when": {"variable": "AESTDTC", "ge": {"variable": "DM.RFXSTDTC"}}}
    with pytest.raises(SpecError, match="only by a variable at domain level") as err:
        run_op(
            "flag",
            args,
            frame,
            make_ctx("AE", "AETRTEM", raw=raw, domains={"DM": DM_REF}, where=where),
        )
    assert err.value.where == where


def test_a_dm_variable_dm_does_not_map_is_an_error() -> None:
    frame = records("ae.csv", ["USUBJID", "AESTDTC"], ["S-1", "2014-01-03"])
    args = {"when": {"variable": "AESTDTC", "ge": {"variable": "DM.RFSTDTC"}}}
    with pytest.raises(
        SpecError, match=r"DM\.RFSTDTC names a DM variable the DM spec does not map"
    ):
        run_op("flag", args, frame, make_ctx("AE", "AETRTEM", domains={"DM": DM_REF}))


def test_flag_is_y_where_the_condition_holds_otherwise_null() -> None:
    frame = records("enrollment.csv", ["DTHDTC"], ["2017-03-01"], [""], ["2018"])
    out = run_op("flag", {"when": {"variable": "DTHDTC", "empty": False}}, frame, make_ctx("DM"))
    assert values(out) == ["Y", "", "Y"]


def test_flag_with_another_value() -> None:
    frame = records("alsfrs.csv", ["QSTESTCD"], ["ALSRTOT"], ["ALSR01"])
    args = {"when": {"variable": "QSTESTCD", "equals": "ALSRTOT"}, "value": "N"}
    assert values(run_op("flag", args, frame, make_ctx("QS", "QSDRVFL"))) == ["N", ""]


def test_flag_on_raw_columns_inside_a_source() -> None:
    raw = raw_form("labs.csv", ["RESULT"], ["6.2"], [""])
    out = run_op("flag", {"when": {"column": "RESULT", "empty": True}}, ctx=make_ctx("LB", raw=raw))
    assert values(out) == ["", "Y"]


def test_map_keys_are_compared_as_inputs_are() -> None:
    """Keys are trimmed and their spaces collapsed like the inputs, in either case mode."""
    raw = raw_form("ae.csv", ["REL"], ["Not related"])
    for sensitive in (True, False):
        args = {"column": "REL", "values": {" Not  related ": "NOT RELATED"}}
        out = run_op(
            "map", {**args, "case_sensitive": sensitive}, ctx=make_ctx("AE", "AEREL", raw=raw)
        )
        assert values(out) == ["NOT RELATED"]


def test_map_keys_that_are_the_same_input_are_a_spec_error() -> None:
    with pytest.raises(ValidationError, match="keys 'yes' and 'YES ' are the same input"):
        OPERATIONS.require("map").args_model.model_validate(
            {"column": "X", "values": {"yes": "Y", "YES ": "Y"}}
        )


def test_case_item_gives_one_of_value_column_variable() -> None:
    model = OPERATIONS.require("case").args_model
    with pytest.raises(ValidationError, match="not value and variable"):
        model.model_validate(
            {"cases": [{"when": {"column": "A", "empty": True}, "value": "X", "variable": "B"}]}
        )
