"""cdisc_mapper.adam.ops.records: the record builders that make a dataset's records
(subjects, findings, occurrences).

Small SDTM input -> expected records, through the registry, on the in-memory study of
tests/adam_ops_context.py.
"""

from __future__ import annotations

import pytest

from cdisc_mapper.errors import MappingError
from cdisc_mapper.spec.operations import ColumnMeta
from tests.adam_ops_context import assert_table, build, columns, context, dm, tbl

VS = tbl(
    "USUBJID VSSEQ VSTESTCD VSSTRESN VSSTRESC VSDTC VISIT",
    ("S1", 1, "SYSBP", 120, "120", "2020-01-15", "SCREENING"),
    ("S1", 2, "DBP", 80, "80", "2020-01-15", "SCREENING"),
    ("S1", 3, "HEIGHT", 170, "170", "2020-01-15", "SCREENING"),
    ("S2", 1, "DIABP", None, "", "2020-02-20", "MONTH 1"),
)
PARAMETERS = [
    {"paramcd": "SYSBP", "param": "Systolic BP (mmHg)", "paramn": 1, "tests": ["SYSBP"]},
    {"paramcd": "DIABP", "param": "Diastolic BP (mmHg)", "paramn": 2, "tests": ["DIABP", "DBP"]},
]
FINDINGS = {
    "domain": "VS",
    "test": "VSTESTCD",
    "value": "VSSTRESN",
    "value_char": "VSSTRESC",
    "dtc": "VSDTC",
    "seq": "VSSEQ",
    "keep": ["VISIT"],
    "parameters": PARAMETERS,
}


# --------------------------------------------------------------------------- subjects
def test_subjects_one_record_per_dm_subject_in_usubjid_order() -> None:
    """ADaMIG v1.3 section 3.2: ADSL has one record per subject."""
    ctx = context(sdtm={"DM": dm().iloc[[2, 0, 1]]})
    assert_table(build("subjects", None, ctx), tbl("USUBJID", ("S1",), ("S2",), ("S3",)))
    assert columns("subjects") == {"USUBJID": ColumnMeta(origin="Predecessor", source="DM.USUBJID")}


# --------------------------------------------------------------------------- findings
def test_findings_one_record_per_sdtm_record_mapped_to_its_parameter() -> None:
    """ADaMIG v1.3 sections 3.3.4 and 3.3.9: PARAMCD/PARAM/PARAMN per parameter (several
    test codes may make one parameter); AVAL/AVALC from the standard result; SRCDOM,
    SRCVAR and SRCSEQ name the SDTM record; observed records have a null DTYPE."""
    ctx = context("ADVS", sdtm={"VS": VS})
    where = {"variable": "VSTESTCD", "not_equals": "HEIGHT"}
    out = build("findings", None, ctx, where=where, **FINDINGS)
    expected = tbl(
        "USUBJID PARAMCD PARAM PARAMN AVAL AVALC _DTC SRCDOM SRCVAR SRCSEQ DTYPE VISIT",
        ("S1", "SYSBP", "Systolic BP (mmHg)", 1, 120, "120", "2020-01-15", "VS", "VSSTRESN", 1,
         "", "SCREENING"),
        ("S1", "DIABP", "Diastolic BP (mmHg)", 2, 80, "80", "2020-01-15", "VS", "VSSTRESN", 2,
         "", "SCREENING"),
        ("S2", "DIABP", "Diastolic BP (mmHg)", 2, None, "", "2020-02-20", "VS", "VSSTRESN", 1,
         "", "MONTH 1"),
    )  # fmt: skip
    assert_table(out, expected)
    meta = columns("findings", **FINDINGS)
    assert meta["PARAMCD"] == ColumnMeta(
        origin="Assigned",
        source="VS.VSTESTCD",
        method="Assigned from SYSBP <- VS.VSTESTCD in (SYSBP); DIABP <- VS.VSTESTCD in "
        "(DIABP, DBP).",
        type="Char",
    )
    assert meta["AVAL"] == ColumnMeta(
        origin="Predecessor",
        source="VS.VSSTRESN",
        type="Num",
        value_level=(
            ("PARAMCD", "SYSBP", "Predecessor", "VS.VSSTRESN", None),
            (
                "PARAMCD",
                "DIABP",
                "Predecessor",
                "VS.VSSTRESN",
                "VS.VSSTRESN of the records with VSTESTCD in (DIABP, DBP).",
            ),
        ),
    )
    assert meta["SRCSEQ"] == ColumnMeta(origin="Predecessor", source="VS.VSSEQ", type="Num")
    assert "PARCAT1" not in meta and meta["VISIT"] == ColumnMeta(
        origin="Predecessor", source="VS.VISIT"
    )


def test_findings_test_code_without_a_parameter_is_an_error_or_dropped() -> None:
    ctx = context("ADVS", sdtm={"VS": VS})
    with pytest.raises(
        MappingError, match=r"VS\.VSTESTCD values with no analysis parameter: HEIGHT"
    ):
        build("findings", None, ctx, **FINDINGS)
    dropped = build("findings", None, ctx, unmapped="drop", **FINDINGS)
    assert list(dropped["PARAMCD"]) == ["SYSBP", "DIABP", "DIABP"]
    assert list(dropped["SRCSEQ"]) == [1.0, 2.0, 1.0]


def test_findings_unmapped_codes_outside_where_and_missing_test_codes() -> None:
    """Only the records ``where`` chooses must map to a parameter (HEIGHT is excluded, so
    no error); a record without a test code maps to none (an error naming no code, or
    dropped); each record keeps its own parameter, PARAM and PARAMN (looked up once per
    distinct code)."""
    vs = tbl(
        "USUBJID VSSEQ VSTESTCD VSSTRESN VSSTRESC VSDTC VISIT",
        ("S1", 1, "DBP", 81, "81", "2020-01-15", "SCREENING"),
        ("S1", 2, "HEIGHT", 170, "170", "2020-01-15", "SCREENING"),
        ("S2", 1, None, 5, "5", "2020-02-20", "MONTH 1"),
        ("S2", 2, "SYSBP", 118, "118", "2020-02-20", "MONTH 1"),
        ("S3", 1, "DIABP", 79, "79", "2020-02-21", "MONTH 1"),
    )
    ctx = context("ADVS", sdtm={"VS": vs})
    where = {"variable": "VSTESTCD", "not_equals": "HEIGHT"}
    with pytest.raises(
        MappingError, match=r"VS\.VSTESTCD values with no analysis parameter: \(missing\) \(add"
    ):
        build("findings", None, ctx, where=where, **FINDINGS)
    out = build("findings", None, ctx, where=where, unmapped="drop", **FINDINGS)
    assert list(out["USUBJID"]) == ["S1", "S2", "S3"]
    assert list(out["PARAMCD"]) == ["DIABP", "SYSBP", "DIABP"]
    assert list(out["PARAM"]) == [
        "Diastolic BP (mmHg)",
        "Systolic BP (mmHg)",
        "Diastolic BP (mmHg)",
    ]
    assert list(out["PARAMN"]) == [2.0, 1.0, 2.0]
    assert list(out["AVAL"]) == [81.0, 118.0, 79.0]
    assert list(out["SRCSEQ"]) == [1.0, 2.0, 1.0]


def test_findings_of_no_record_is_an_empty_table() -> None:
    ctx = context("ADVS", sdtm={"VS": VS})
    where = {"variable": "VSTESTCD", "equals": "NONE"}
    out = build("findings", None, ctx, where=where, **FINDINGS)
    assert len(out) == 0
    assert {"PARAMCD", "PARAM", "PARAMN", "AVAL", "VISIT"} <= set(out.columns)


def test_findings_parameter_category_when_the_spec_gives_one() -> None:
    params = [{**p, "parcat1": "BLOOD PRESSURE"} for p in PARAMETERS]
    ctx = context("ADVS", sdtm={"VS": VS})
    out = build("findings", None, ctx, **{**FINDINGS, "parameters": params, "unmapped": "drop"})
    assert list(out["PARCAT1"]) == ["BLOOD PRESSURE"] * 3
    assert columns("findings", **{**FINDINGS, "parameters": params})["PARCAT1"] == ColumnMeta(
        origin="Assigned", method="The parameter's category, one per PARAMCD.", type="Char"
    )


# --------------------------------------------------------------------------- occurrences
def test_occurrences_one_record_per_sdtm_event_with_its_variables() -> None:
    """ADaM OCCDS v1.1: one record per SDTM event record, its variables copied as they
    are (here the serious events only)."""
    ae = tbl(
        "USUBJID AESEQ AETERM AESER AESEV",
        ("S1", 1, "Headache", "N", "MILD"),
        ("S1", 2, "Pneumonia", "Y", "SEVERE"),
        ("S2", 1, "Fall", "Y", "MODERATE"),
    )
    ctx = context("ADAE", sdtm={"AE": ae})
    args = {
        "domain": "AE",
        "keep": ["AESEQ", "AETERM"],
        "where": {"variable": "AESER", "equals": "Y"},
    }
    out = build("occurrences", None, ctx, **args)
    expected = tbl("USUBJID AESEQ AETERM", ("S1", 2, "Pneumonia"), ("S2", 1, "Fall"))
    assert_table(out, expected)
    assert columns("occurrences", **args) == {
        "USUBJID": ColumnMeta(origin="Predecessor", source="AE.USUBJID"),
        "AESEQ": ColumnMeta(origin="Predecessor", source="AE.AESEQ"),
        "AETERM": ColumnMeta(origin="Predecessor", source="AE.AETERM"),
    }
