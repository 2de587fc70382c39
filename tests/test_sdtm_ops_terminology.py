"""cdisc_mapper/sdtm/ops/terminology.py: ct, ct_decode, unit and standard_unit (SDTMIG 3.4
section 4.3, controlled terminology; section 4.5.1, units); one small table per rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm import OPERATIONS
from tests.sdtm_ops_helpers import (
    make_ctx,
    operations_of,
    raw_form,
    records,
    run_op,
    study,
    values,
)


def test_every_operation_of_terminology_py_is_tested_here() -> None:
    assert operations_of("terminology") == {"ct", "ct_decode", "unit", "standard_unit"}


@pytest.mark.parametrize(
    ("name", "origin", "row_local"),
    [
        ("ct", "Collected", True),
        ("ct_decode", "Derived", True),
        ("unit", "Collected", False),
        ("standard_unit", "Assigned", True),
    ],
)
def test_registered_with_origin_and_traits(name, origin, row_local) -> None:
    op = OPERATIONS.require(name)
    assert (op.origin, op.raw, op.needs_all, op.row_local) == (origin, False, False, row_local)


# ------------------------------------------------------------------ ct


def sex(*terms: str, synonyms: dict[str, str] | None = None) -> list:
    raw = raw_form("enrollment.csv", ["GENDER"], *[[t] for t in terms])
    args = {"column": "GENDER", "codelist": "SEX", "synonyms": synonyms or {}}
    return values(run_op("ct", args, ctx=make_ctx("DM", "SEX", raw=raw)))


def test_ct_submission_value_as_is_or_in_another_case() -> None:
    assert sex("M", "f", " F ") == ["M", "F", "F"]


def test_ct_cdisc_synonym_gives_its_submission_value() -> None:
    # SEX: M has the CDISC synonym "Male", U has "UNK" and "Unknown"
    assert sex("Male", "FEMALE", "unk") == ["M", "F", "U"]


def test_ct_nci_preferred_term_gives_its_submission_value() -> None:
    raw = raw_form("labs.csv", ["TEST"], ["Hemoglobin Measurement"], ["leukocyte  count"])
    out = run_op(
        "ct", {"column": "TEST", "codelist": "LBTESTCD"}, ctx=make_ctx("LB", "LBTESTCD", raw=raw)
    )
    assert values(out) == ["HGB", "WBC"]


def test_ct_study_synonym_ignoring_case_and_spacing() -> None:
    assert sex("Mle", "  MLE ", "Fem ale", synonyms={"mle": "M", "fem ale": "F"}) == [
        "M",
        "M",
        "F",
    ]


def test_ct_study_synonym_wins_over_the_codelist() -> None:
    # the site wrote U for "undifferentiated", which the study maps to INTERSEX
    assert sex("U", synonyms={"U": "INTERSEX"}) == ["INTERSEX"]


def test_ct_empty_term_stays_empty() -> None:
    assert sex("", "  ", "M") == ["", "", "M"]


def test_ct_of_a_mapped_variable_at_domain_level() -> None:
    frame = records("alsfrs.csv", ["_TESTCD"], ["alsr01"], ["ALSRTOT"])
    args = {"variable": "_TESTCD", "codelist": "ALSFRSTC"}
    assert values(run_op("ct", args, frame, make_ctx("QS", "QSTESTCD"))) == ["ALSR01", "ALSRTOT"]


def test_ct_extensible_codelist_accepts_a_sponsor_synonym_target() -> None:
    raw = raw_form("labs.csv", ["TEST"], ["Troponin T hs"])
    args = {"column": "TEST", "codelist": "LBTESTCD", "synonyms": {"Troponin T hs": "TROPTHS"}}
    out = run_op("ct", args, ctx=make_ctx("LB", "LBTESTCD", raw=raw))
    assert values(out) == ["TROPTHS"]


def test_ct_synonym_target_outside_a_non_extensible_codelist_is_an_error() -> None:
    raw = raw_form("enrollment.csv", ["GENDER"], ["M"])
    args = {"column": "GENDER", "codelist": "SEX", "synonyms": {"Man": "MALE"}}
    with pytest.raises(MappingError) as err:
        run_op("ct", args, ctx=make_ctx("DM", "SEX", raw=raw))
    assert str(err.value) == (
        "DM.SEX: synonym target 'MALE' is not a term of non-extensible codelist SEX"
    )


def test_ct_unknown_term_names_every_occurrence() -> None:
    raw = raw_form("enrollment.csv", ["GENDER"], ["M"], ["Mle"], ["F"], ["Mle"], ["X"])
    with pytest.raises(MappingError) as err:
        run_op("ct", {"column": "GENDER", "codelist": "SEX"}, ctx=make_ctx("DM", "SEX", raw=raw))
    msg = str(err.value)
    assert msg.startswith("DM.SEX: term not in codelist SEX")
    assert msg.endswith(
        "in 3 record(s): enrollment.csv row 3: 'Mle'; enrollment.csv row 5: 'Mle'; "
        "enrollment.csv row 6: 'X'"
    )


def test_ct_unknown_term_of_a_variable_names_the_records_file_and_row() -> None:
    frame = records("alsfrs.csv", ["_TESTCD"], ["ALSR01"], ["ALSR13"], first=10)
    with pytest.raises(MappingError, match=r"1 record\(s\): alsfrs\.csv row 11: 'ALSR13'$"):
        run_op(
            "ct",
            {"variable": "_TESTCD", "codelist": "ALSFRSTC"},
            frame,
            make_ctx("QS", "QSTESTCD"),
        )


# ------------------------------------------------------------------ ct_decode


def test_ct_decode_pairs_cdisc_codelists_by_nci_code() -> None:
    frame = records("labs.csv", ["LBTESTCD"], ["HGB"], ["WBC"], ["CREAT"], [""])
    args = {"variable": "LBTESTCD", "codelist": "LBTESTCD", "target": "LBTEST"}
    out = run_op("ct_decode", args, frame, make_ctx("LB", "LBTEST"))
    assert values(out) == ["Hemoglobin", "Leukocytes", "Creatinine", ""]


def test_ct_decode_of_a_sponsor_list_is_its_decode() -> None:
    frame = records("alsfrs.csv", ["QSTESTCD"], ["ALSR01"], ["ALSRTOT"])
    args = {"variable": "QSTESTCD", "codelist": "ALSFRSTC", "target": "ALSFRSTC"}
    out = run_op("ct_decode", args, frame, make_ctx("QS", "QSTEST"))
    assert values(out) == ["ALSFRS-R - Speech", "ALSFRS-R - Total Score"]


def test_ct_decode_pairs_sponsor_lists_by_decode() -> None:
    # ALSFRSTC's decode is the submission value of ALSFRSTN's term (no NCI codes)
    frame = records("alsfrs.csv", ["QSTESTCD"], ["ALSR05A"], ["ALSRTOT"], [""])
    args = {"variable": "QSTESTCD", "codelist": "ALSFRSTC", "target": "ALSFRSTN"}
    out = run_op("ct_decode", args, frame, make_ctx("QS", "QSTEST"))
    assert values(out) == ["ALSFRS-R - Cutting Food w/o Gastrostomy", "ALSFRS-R - Total Score", ""]


def test_ct_decode_of_a_sponsor_list_without_the_paired_term_names_the_record() -> None:
    # ELESCCAT terms have no decode that is an ALSFRSTN term: no pair
    frame = records("als_history.csv", ["MHELESC"], ["DEFINITE"])
    args = {"variable": "MHELESC", "codelist": "ELESCCAT", "target": "ALSFRSTN"}
    with pytest.raises(MappingError) as err:
        run_op("ct_decode", args, frame, make_ctx("MH", "MHTERM"))
    assert "no ALSFRSTN term pairs with ELESCCAT value" in str(err.value)
    assert "als_history.csv row 2: 'DEFINITE'" in str(err.value)


def test_ct_decode_value_without_a_pair_names_every_record() -> None:
    frame = records("labs.csv", ["LBTESTCD"], ["HGB"], ["TROPTHS"], ["HGB"], ["TROPTHS"])
    args = {"variable": "LBTESTCD", "codelist": "LBTESTCD", "target": "LBTEST"}
    with pytest.raises(MappingError) as err:
        run_op("ct_decode", args, frame, make_ctx("LB", "LBTEST"))
    assert str(err.value) == (
        "LB.LBTEST: no LBTEST term pairs with LBTESTCD value in 2 record(s): "
        "labs.csv row 3: 'TROPTHS'; labs.csv row 5: 'TROPTHS'"
    )


# ------------------------------------------------------------------ unit


def units(*spellings: str, codelist: str = "UNIT") -> list:
    raw = raw_form("labs.csv", ["UNIT"], *[[s] for s in spellings])
    args = {"column": "UNIT", "codelist": codelist}
    return values(run_op("unit", args, ctx=make_ctx("LB", "LBORRESU", raw=raw)))


def test_unit_submission_value_is_kept() -> None:
    assert units("g/L", "10^9/L", "mmol/L") == ["g/L", "10^9/L", "mmol/L"]


def test_unit_study_synonyms_ignoring_case_and_blanks() -> None:
    assert units("x10^9/l", "X10^9 / L", "µmol/L", "°C", "Celsius", "lbs") == [
        "10^9/L",
        "10^9/L",
        "umol/L",
        "C",
        "C",
        "LB",
    ]


def test_unit_a_studys_standard_unit_matches_itself_in_any_case() -> None:
    assert units("BEATS/MIN", "Breaths/Min") == ["beats/min", "breaths/min"]


def test_unit_empty_stays_empty() -> None:
    assert units("", "  ", "g/L") == ["", "", "g/L"]


def test_unit_fixed_value() -> None:
    frame = records("injections.csv", ["USUBJID"], ["A"], ["B"])
    out = run_op("unit", {"value": "Therapeutic Cells"}, frame, make_ctx("EX", "EXDOSU"))
    assert values(out) == ["Therapeutic Cells", "Therapeutic Cells"]


def test_unit_of_a_mapped_variable() -> None:
    frame = records("labs.csv", ["_U"], ["mg/dl"], ["U/L"])
    out = run_op("unit", {"variable": "_U"}, frame, make_ctx("LB", "LBORRESU"))
    assert values(out) == ["mg/dL", "U/L"]


def test_unit_unknown_spelling_names_file_column_and_every_row() -> None:
    raw = raw_form("labs.csv", ["UNIT"], ["g/L"], ["furlongs"], ["g/L"], ["furlongs"])
    with pytest.raises(MappingError) as err:
        run_op("unit", {"column": "UNIT"}, ctx=make_ctx("LB", "LBORRESU", raw=raw))
    msg = str(err.value)
    assert msg.startswith("labs.csv, column UNIT (rows are file rows): unknown unit 'furlongs'")
    assert "in 2 rows: row 3 'furlongs', row 5 'furlongs'" in msg


def test_unit_unknown_spelling_of_a_variable_names_each_records_file_and_row() -> None:
    frame = records("labs.csv", ["_U"], ["g/L"], ["furlongs"], first=40)
    with pytest.raises(MappingError) as err:
        run_op("unit", {"variable": "_U"}, frame, make_ctx("LB", "LBORRESU"))
    msg = str(err.value)
    assert msg.startswith("LB.LBORRESU: unknown unit 'furlongs' in 1 row: row labs.csv:41")


def test_unit_outside_a_non_extensible_codelist_names_every_record() -> None:
    assert units("YEARS", codelist="AGEU") == ["YEARS"]
    raw = raw_form("enrollment.csv", ["AGE_UNIT"], ["YEARS"], ["kg"])
    with pytest.raises(MappingError) as err:
        run_op(
            "unit",
            {"column": "AGE_UNIT", "codelist": "AGEU"},
            ctx=make_ctx("DM", "AGEU", raw=raw),
        )
    assert str(err.value) == (
        "DM.AGEU: unit not in codelist AGEU in 1 record(s): enrollment.csv row 3: 'kg'"
    )


# ------------------------------------------------------------------ standard_unit


def test_standard_unit_is_the_studys_unit_for_the_test_in_the_domain() -> None:
    frame = records("labs.csv", ["LBTESTCD"], ["HGB"], ["CREAT"], ["WBC"], ["TEMP"], ["XYZ"])
    out = run_op("standard_unit", {"testcd": "LBTESTCD"}, frame, make_ctx("LB", "LBSTRESU"))
    # TEMP has a standard unit in VS, not in LB; XYZ has none
    assert values(out) == ["g/L", "umol/L", "10^9/L", "", ""]


def test_standard_unit_is_blank_when_the_result_is_blank() -> None:
    frame = records("vitals.csv", ["VSTESTCD", "VSORRES"], ["WEIGHT", "72.5"], ["WEIGHT", ""])
    args = {"testcd": "VSTESTCD", "result": "VSORRES"}
    out = run_op("standard_unit", args, frame, make_ctx("VS", "VSSTRESU"))
    assert values(out) == ["kg", ""]


@pytest.mark.parametrize(
    "args", [{}, {"column": "U", "value": "kg"}, {"variable": "U", "column": "U"}]
)
def test_unit_takes_exactly_one_source(args: dict) -> None:
    with pytest.raises(ValidationError, match=r"exactly one of column \(raw\), variable"):
        OPERATIONS.require("unit").args_model.model_validate(args)


def test_ct_study_synonym_key_with_repeated_inner_spaces_matches() -> None:
    # a key is compared as the raw term is: repeated spaces inside count as one
    assert sex("Fem ale", synonyms={"fem  ale": "F"}) == ["F"]


def test_unit_matches_the_codelists_values_synonyms_and_preferred_terms_in_any_case() -> None:
    # pharmaverseraw's EC form writes the dose unit as its NCI preferred term
    assert units("Milligram", "MG", "Degree Celsius", "millimeter of mercury") == [
        "mg",
        "mg",
        "C",
        "mmHg",
    ]


def test_unit_study_synonym_wins_over_the_codelist() -> None:
    # the study reads "c" as Celsius, not as the codelist's "c" (if any other)
    assert units("c", "Celsius") == ["C", "C"]


def test_unit_ambiguous_in_the_codelist_is_an_error() -> None:
    # UNIT has both "Pa" and "PA": "pa" is either, so it is no match
    with pytest.raises(MappingError, match="unknown unit 'pa'"):
        units("pa")


def test_ct_a_term_outside_an_extensible_codelist_needs_a_synonym() -> None:
    # FREQ is extensible: QD has the CDISC synonym Daily, "Once Daily" is no term of it
    raw = raw_form("ec.csv", ["DOSFRQ"], ["Daily"], ["Once Daily"])
    ctx = make_ctx("EX", "EXDOSFRQ", raw=raw)
    with pytest.raises(MappingError) as err:
        run_op("ct", {"column": "DOSFRQ", "codelist": "FREQ"}, ctx=ctx)
    assert "term not in codelist FREQ" in str(err.value) and "'Once Daily'" in str(err.value)
    args = {"column": "DOSFRQ", "codelist": "FREQ", "synonyms": {"once daily": "QD"}}
    assert values(run_op("ct", args, ctx=ctx)) == ["QD", "QD"]


# ------------------------------------------------------------------ unit case and synonyms


def _units_with(spec_units: dict, *spellings: str) -> list:
    base = study().units
    spec = study(units=base.model_copy(update=spec_units))
    raw = raw_form("labs.csv", ["UNIT"], *[[s] for s in spellings])
    ctx = make_ctx("LB", "LBORRESU", raw=raw, spec=spec)
    return values(run_op("unit", {"column": "UNIT"}, ctx=ctx))


def test_unit_a_study_synonym_from_one_cdisc_unit_to_another_is_honoured() -> None:
    # IU/L is itself a UNIT submission value: the study's synonym must still win
    synonyms = {**study().units.synonyms, "IU/L": "U/L"}
    assert _units_with({"synonyms": synonyms}, "IU/L", "iu/l", "U/L", "g/L") == [
        "U/L",
        "U/L",
        "U/L",
        "g/L",
    ]


def test_unit_a_studys_own_spelling_in_another_case_is_the_codelists() -> None:
    # a standard unit declared MG is mg; raw Mg and mg give mg, never the spec's MG
    standard = {**study().units.standard, "LB": {"GLUC": "MG"}}
    assert _units_with({"standard": standard}, "Mg", "mg", "MG") == ["mg", "mg", "mg"]
    frame = records("injections.csv", ["USUBJID"], ["A"])
    out = run_op("unit", {"value": "MG"}, frame, make_ctx("EX", "EXDOSU"))
    assert values(out) == ["mg"]


def test_standard_unit_declared_in_another_case_is_the_codelists() -> None:
    standard = {**study().units.standard, "LB": {"GLUC": "MG/DL"}}
    spec = study(units=study().units.model_copy(update={"standard": standard}))
    frame = records("labs.csv", ["LBTESTCD"], ["GLUC"])
    out = run_op("standard_unit", {"testcd": "LBTESTCD"}, frame, make_ctx("LB", "X", spec=spec))
    assert values(out) == ["mg/dL"]
