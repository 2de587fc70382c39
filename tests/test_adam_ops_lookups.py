"""cdisc_mapper.adam.ops.lookups: keep, value, constant, count, exists.

Small input table -> expected table, through the registry, on the in-memory study of
tests/adam_ops_context.py (S1 injected twice, S2 once, S3 never).
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cdisc_mapper.errors import MappingError
from cdisc_mapper.spec.operations import ColumnMeta
from tests.adam_ops_context import assert_table, context, day, derive, meta, tbl


# --------------------------------------------------------------------------- keep
def test_keep_is_the_record_column_of_the_variable() -> None:
    frame = tbl("USUBJID AVAL _VAL", ("S1", 3.0, 4.0), ("S2", None, 5.0))
    ctx = context("ADQS")
    ctx.state.cache["__variable"] = "AVAL"  # the engine names the variable being derived
    out = frame.assign(A=derive("keep", frame, ctx), B=derive("keep", frame, ctx, column="_VAL"))
    expected = tbl(
        "USUBJID AVAL _VAL A B",
        ("S1", 3.0, 4.0, 3.0, 4.0),
        ("S2", None, 5.0, None, 5.0),
    )
    assert_table(out, expected)
    assert meta("keep", ctx) == ColumnMeta()


def test_keep_of_a_column_the_records_lack_is_an_error() -> None:
    with pytest.raises(MappingError, match="the records have no column AVALC"):
        derive("keep", tbl("USUBJID", ("S1",)), context("ADQS"), column="AVALC")


# --------------------------------------------------------------------------- value
def test_value_copies_an_sdtm_variable_to_every_record_of_the_subject() -> None:
    """ADaMIG v1.3 section 3.1.1: a variable copied from SDTM keeps its values; the
    subject's one DM record gives them to each of the subject's records."""
    frame = tbl("USUBJID PARAMCD", ("S1", "A"), ("S1", "B"), ("S2", "A"), ("S3", "A"))
    ctx = context("ADQS")
    out = frame.assign(
        AGE=derive("value", frame, ctx, source="DM.AGE"),
        SEX=derive("value", frame, ctx, source="DM.SEX"),
    )
    expected = tbl(
        "USUBJID PARAMCD AGE SEX",
        ("S1", "A", 61.0, "M"),
        ("S1", "B", 61.0, "M"),
        ("S2", "A", 49.0, "F"),
        ("S3", "A", 55.0, "F"),
    )
    assert_table(out, expected)
    assert meta("value", ctx, source="DM.AGE") == ColumnMeta(origin="Predecessor", source="DM.AGE")


def test_value_chooses_one_record_per_subject_first_or_last_or_where() -> None:
    """One record among several: the first or last by order_by, or the one where the
    condition holds; a subject without such a record gets null."""
    frame = tbl("USUBJID", ("S1",), ("S2",), ("S3",))
    ctx = context()
    first = dict(source="EX.EXSTDTC", select="first", order_by="EXSTDTC")
    out = frame.assign(
        FIRST=derive("value", frame, ctx, **first),
        LAST=derive("value", frame, ctx, source="EX.EXSTDTC", select="last", order_by="EXSEQ"),
        SECOND=derive(
            "value", frame, ctx, source="EX.EXSTDTC", where={"variable": "EXSEQ", "equals": 2}
        ),
    )
    expected = tbl(
        "USUBJID FIRST LAST SECOND",
        ("S1", "2020-02-01", "2020-03-02", "2020-03-02"),
        ("S2", "2020-02-15", "2020-02-15", ""),
        ("S3", "", "", ""),
    )
    assert_table(out, expected)
    assert meta("value", ctx, **first) == ColumnMeta(
        origin="Derived",
        source="EX.EXSTDTC",
        method="Copied from EX.EXSTDTC (first by EXSTDTC).",
    )


def test_value_with_several_records_and_no_choice_is_an_error() -> None:
    frame = tbl("USUBJID", ("S1",))
    with pytest.raises(MappingError, match=r"EX\.EXSTDTC has several records for subject S1"):
        derive("value", frame, context(), source="EX.EXSTDTC")


def test_value_of_an_adsl_variable_on_the_records_of_another_dataset() -> None:
    """An ADSL variable named without a dataset in BDS/OCCDS: the subject's ADSL value."""
    frame = tbl("USUBJID AVAL", ("S2", 1.0), ("S3", 2.0), ("S1", 3.0))
    out = frame.assign(TRTSDT=derive("value", frame, context("ADQS"), source="TRTSDT"))
    expected = tbl(
        "USUBJID AVAL TRTSDT",
        ("S2", 1.0, day("2020-02-15")),
        ("S3", 2.0, None),
        ("S1", 3.0, day("2020-02-01")),
    )
    assert_table(out, expected)
    assert meta("value", None, source="TRTSDT") == ColumnMeta(origin="Derived", source="TRTSDT")


def test_value_of_a_variable_not_derived_yet_is_an_error() -> None:
    with pytest.raises(MappingError, match="ADSL: variable TRTSDT is needed but not derived yet"):
        derive("value", tbl("USUBJID", ("S1",)), context("ADSL"), source="TRTSDT")


def test_value_from_another_adam_dataset() -> None:
    adqs = tbl(
        "USUBJID PARAMCD ABLFL AVAL",
        ("S1", "TOT", "", 40.0),
        ("S1", "TOT", "Y", 38.0),
        ("S2", "TOT", "Y", 45.0),
        ("S2", "ITEM", "Y", 4.0),
    )
    ctx = context(datasets={"ADQS": adqs})
    where = {
        "all": [{"variable": "PARAMCD", "equals": "TOT"}, {"variable": "ABLFL", "equals": "Y"}]
    }
    frame = tbl("USUBJID", ("S1",), ("S2",), ("S3",))
    out = frame.assign(BLTOT=derive("value", frame, ctx, source="ADQS.AVAL", where=where))
    assert_table(out, tbl("USUBJID BLTOT", ("S1", 38.0), ("S2", 45.0), ("S3", None)))
    assert meta("value", ctx, source="ADQS.AVAL", where=where).method == (
        "Copied from ADQS.AVAL where PARAMCD = 'TOT' and ABLFL = 'Y'."
    )


def test_lookup_arguments_are_checked_when_the_spec_loads() -> None:
    with pytest.raises(ValidationError, match="apply to a source in another dataset"):
        meta("value", None, source="AVAL", select="first", order_by="ADT")
    with pytest.raises(ValidationError, match="select: last needs order_by"):
        meta("value", None, source="EX.EXSTDTC", select="last")
    with pytest.raises(ValidationError, match="is not a variable name"):
        meta("value", None, source="aval")


# --------------------------------------------------------------------------- constant
def test_constant_on_every_record_or_where_the_condition_holds() -> None:
    frame = tbl("USUBJID ADURN", ("S1", 3.0), ("S1", None), ("S2", 1.0))
    ctx = context("ADAE")
    out = frame.assign(
        STUDYID=derive("constant", frame, ctx, value="X-1"),
        ADURU=derive(
            "constant", frame, ctx, value="DAYS", when={"variable": "ADURN", "present": True}
        ),
        ONE=derive("constant", frame, ctx, value=1, when={"variable": "ADURN", "ge": 2}),
    )
    expected = tbl(
        "USUBJID ADURN STUDYID ADURU ONE",
        ("S1", 3.0, "X-1", "DAYS", 1.0),
        ("S1", None, "X-1", "", None),
        ("S2", 1.0, "X-1", "DAYS", None),
    )
    assert_table(out, expected)
    assert meta("constant", ctx, value="DAYS", when={"variable": "ADURN", "present": True}) == (
        ColumnMeta(
            origin="Assigned",
            method="Set to 'DAYS' where ADURN is present; null otherwise.",
            type="Char",
        )
    )
    assert meta("constant", ctx, value=1) == ColumnMeta(
        origin="Assigned", method="Set to 1.0.", type="Num"
    )


# --------------------------------------------------------------------------- count
def test_count_per_subject_zero_when_none() -> None:
    """A subject-level count (e.g. number of injections): 0, not null, without records;
    blank values are not counted; distinct counts each value once."""
    ex = tbl(
        "USUBJID EXSEQ EXSTDTC",
        ("S1", 1, "2020-02-01"),
        ("S1", 2, "2020-02-01"),
        ("S1", 3, ""),
        ("S2", 1, "2020-02-15"),
    )
    ctx = context(sdtm={"EX": ex})
    frame = tbl("USUBJID", ("S1",), ("S2",), ("S3",))
    out = frame.assign(
        N=derive("count", frame, ctx, source="EX.EXSTDTC"),
        DAYS=derive("count", frame, ctx, source="EX.EXSTDTC", distinct=True),
        LATER=derive(
            "count", frame, ctx, source="EX.EXSTDTC", where={"variable": "EXSEQ", "ge": 2}
        ),
    )
    expected = tbl(
        "USUBJID N DAYS LATER",
        ("S1", 2.0, 1.0, 1.0),
        ("S2", 1.0, 1.0, 0.0),
        ("S3", 0.0, 0.0, 0.0),
    )
    assert_table(out, expected)
    assert meta(
        "count", ctx, source="EX.EXSTDTC", distinct=True, where={"variable": "EXSEQ", "ge": 2}
    ) == ColumnMeta(
        origin="Derived",
        source="EX.EXSTDTC",
        method="Number of distinct EX.EXSTDTC values per subject where EXSEQ >= 2; 0 when none.",
        type="Num",
    )


# --------------------------------------------------------------------------- exists
def test_exists_is_a_y_n_subject_flag() -> None:
    """ADaMIG v1.3 section 3.1.4: a subject-level flag is "Y" or "N" (never null), or
    "Y"/null when the spec asks for it."""
    cm = tbl("USUBJID CMTRT", ("S1", "Riluzole"), ("S1", "Aspirin"), ("S2", "Aspirin"))
    ctx = context(sdtm={"CM": cm})
    where = {"variable": "CMTRT", "equals": "Riluzole"}
    frame = tbl("USUBJID", ("S1",), ("S2",), ("S3",))
    out = frame.assign(
        RILUFL=derive("exists", frame, ctx, source="CM.CMTRT", where=where),
        CMFL=derive("exists", frame, ctx, source="CM.CMTRT", otherwise=""),
    )
    expected = tbl(
        "USUBJID RILUFL CMFL",
        ("S1", "Y", "Y"),
        ("S2", "N", "Y"),
        ("S3", "N", ""),
    )
    assert_table(out, expected)
    assert meta("exists", ctx, source="CM.CMTRT", where=where) == ColumnMeta(
        source="CM.CMTRT",
        method="'Y' if the subject has a CM record with CMTRT = 'Riluzole'; otherwise 'N'.",
        type="Char",
    )


def test_a_blank_order_value_is_never_first_or_last_when_others_have_one() -> None:
    """TRTSDT as the first EXSTDTC: an undated injection does not make it null."""
    ex = tbl(
        "USUBJID EXSEQ EXSTDTC",
        ("S1", 1, ""),
        ("S1", 2, "2020-03-02"),
        ("S1", 3, "2020-02-01"),
        ("S2", 1, ""),
    )
    frame = tbl("USUBJID", ("S1",), ("S2",))
    ctx = context(sdtm={"EX": ex})
    args = dict(source="EX.EXSTDTC", order_by="EXSTDTC")
    out = frame.assign(
        FIRST=derive("value", frame, ctx, select="first", **args),
        LAST=derive("value", frame, ctx, select="last", **args),
    )
    expected = tbl(
        "USUBJID FIRST LAST",
        ("S1", "2020-02-01", "2020-03-02"),
        ("S2", "", ""),
    )
    assert_table(out, expected)
