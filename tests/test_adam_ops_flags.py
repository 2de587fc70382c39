"""cdisc_mapper.adam.ops.flags: flag, group, recode, criterion, treatment_emergent,
first_occurrence.

Small input table -> expected table, through the registry, on the in-memory study of
tests/adam_ops_context.py (ADSL TRTSDT: S1 2020-02-01, S2 2020-02-15, S3 none; EOSDT: S1
2020-06-30).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_mapper.adam import load_adam_specs
from cdisc_mapper.adam.ops import DERIVATIONS
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.operations import ColumnMeta
from tests.adam_ops_context import (
    assert_table,
    col,
    context,
    day,
    derive,
    meta,
    reported_line,
    study_with,
    tbl,
)

AGEGROUPS = [
    {"label": "<50", "hi": 50},
    {"label": "50-59", "lo": 50, "hi": 60},
    {"label": ">=60", "lo": 60},
]


# --------------------------------------------------------------------------- groups, recodes
def test_group_and_its_number_one_to_one() -> None:
    """ADaMIG v1.3 section 3.1.1: *GRy and *GRyN in a one-to-one relationship; a value
    takes the first group with lo <= value < hi; missing values are in no group."""
    frame = tbl("USUBJID AGE", ("S1", 49.0), ("S1", 50.0), ("S1", 59.5), ("S2", 60.0), ("S3", None))
    ctx = context()
    out = frame.assign(
        AGEGR1=derive("group", frame, ctx, source="AGE", groups=AGEGROUPS),
        AGEGR1N=derive("group", frame, ctx, source="AGE", groups=AGEGROUPS, output="number"),
    )
    expected = tbl(
        "USUBJID AGE AGEGR1 AGEGR1N",
        ("S1", 49.0, "<50", 1.0),
        ("S1", 50.0, "50-59", 2.0),
        ("S1", 59.5, "50-59", 2.0),
        ("S2", 60.0, ">=60", 3.0),
        ("S3", None, "", None),
    )
    assert_table(out, expected)
    assert meta("group", ctx, source="AGE", groups=AGEGROUPS) == ColumnMeta(
        method="'<50' (1) if AGE < 50; '50-59' (2) if AGE >= 50 and < 60; '>=60' (3) if AGE >= 60.",
        type="Char",
    )
    assert meta("group", ctx, source="AGE", groups=AGEGROUPS, output="number").type == "Num"


def test_recode_through_a_table_with_other_and_missing_values() -> None:
    """EOSSTT from the disposition event: COMPLETED, any other reason DISCONTINUED, no
    disposition yet ONGOING."""
    ds = tbl(
        "USUBJID DSCAT DSDECOD",
        ("S1", "DISPOSITION EVENT", "COMPLETED"),
        ("S1", "PROTOCOL MILESTONE", "INFORMED CONSENT OBTAINED"),
        ("S2", "DISPOSITION EVENT", "ADVERSE EVENT"),
    )
    ctx = context(sdtm={"DS": ds})
    args = {
        "source": "DS.DSDECOD",
        "where": {"variable": "DSCAT", "equals": "DISPOSITION EVENT"},
        "map": {"COMPLETED": "COMPLETED"},
        "other": "DISCONTINUED",
        "missing": "ONGOING",
    }
    frame = tbl("USUBJID", ("S1",), ("S2",), ("S3",))
    out = frame.assign(EOSSTT=derive("recode", frame, ctx, **args))
    expected = tbl("USUBJID EOSSTT", ("S1", "COMPLETED"), ("S2", "DISCONTINUED"), ("S3", "ONGOING"))
    assert_table(out, expected)
    assert meta("recode", ctx, **args) == ColumnMeta(
        origin="Derived",
        source="DS.DSDECOD",
        method="From DS.DSDECOD where DSCAT = 'DISPOSITION EVENT': 'COMPLETED' -> 'COMPLETED'; "
        "any other value -> 'DISCONTINUED'; missing -> 'ONGOING'.",
        type="Char",
    )


def test_recode_keeps_unmapped_values_and_may_give_numbers() -> None:
    frame = tbl("USUBJID AEREL", ("S1", "PROBABLY RELATED"), ("S1", "UNKNOWN"), ("S2", ""))
    ctx = context("ADAE")
    out = frame.assign(
        AREL=derive("recode", frame, ctx, source="AEREL", map={"PROBABLY RELATED": "RELATED"}),
        ARELN=derive(
            "recode",
            frame,
            ctx,
            source="AEREL",
            map={"PROBABLY RELATED": "1", "UNKNOWN": "0"},
            output_type="Num",
        ),
    )
    expected = tbl(
        "USUBJID AEREL AREL ARELN",
        ("S1", "PROBABLY RELATED", "RELATED", 1.0),
        ("S1", "UNKNOWN", "UNKNOWN", 0.0),
        ("S2", "", "", None),
    )
    assert_table(out, expected)


# --------------------------------------------------------------------------- flags, criteria
def test_flag_is_y_or_n_or_y_or_null() -> None:
    """ADaMIG v1.3 section 3.1.4: a population flag is "Y"/"N", never null; another flag
    may be "Y"/null. A condition may name ADSL variables on BDS records."""
    frame = tbl("USUBJID AVAL", ("S1", 1.0), ("S2", None), ("S3", 3.0))
    ctx = context("ADQS")
    saf = {"variable": "SAFFL", "equals": "Y"}
    out = frame.assign(
        SAFFL=derive("flag", frame, ctx, where=saf),
        HASVAL=derive(
            "flag", frame, ctx, where={"variable": "AVAL", "present": True}, otherwise=""
        ),
    )
    expected = tbl(
        "USUBJID AVAL SAFFL HASVAL",
        ("S1", 1.0, "Y", "Y"),
        ("S2", None, "Y", ""),
        ("S3", 3.0, "N", "Y"),
    )
    assert_table(out, expected)
    assert meta("flag", ctx, where=saf) == ColumnMeta(
        method="'Y' if SAFFL = 'Y'; otherwise 'N'.", type="Char"
    )
    assert (
        meta("flag", ctx, where=saf, otherwise="").method == "'Y' if SAFFL = 'Y'; otherwise null."
    )


def test_criterion_text_and_flag() -> None:
    """ADaMIG v1.3 section 3.3.4: CRITy holds the criterion's text; CRITyFL is "Y" when
    it is met, "N" when not, null when it cannot be evaluated (missing value or a record
    the criterion does not apply to)."""
    frame = tbl(
        "USUBJID APHASEN PCTIMPR",
        ("S1", 2, 50.0),
        ("S1", 2, 49.9),
        ("S2", 2, None),
        ("S2", 1, 80.0),
    )
    ctx = context("ADPROG")
    args = {
        "source": "PCTIMPR",
        "op": "ge",
        "threshold": 50,
        "text": "Improvement >= 50%",
        "where": {"variable": "APHASEN", "equals": 2},
    }
    out = frame.assign(
        CRIT1=derive("criterion", frame, ctx, output="text", **args),
        CRIT1FL=derive("criterion", frame, ctx, output="flag", **args),
    )
    expected = tbl(
        "USUBJID APHASEN PCTIMPR CRIT1 CRIT1FL",
        ("S1", 2, 50.0, "Improvement >= 50%", "Y"),
        ("S1", 2, 49.9, "Improvement >= 50%", "N"),
        ("S2", 2, None, "Improvement >= 50%", ""),
        ("S2", 1, 80.0, "", ""),
    )
    assert_table(out, expected)
    assert meta("criterion", ctx, output="text", **args) == ColumnMeta(
        method="'Improvement >= 50%' on records where APHASEN = 2.", type="Char"
    )
    assert meta("criterion", ctx, output="flag", **args) == ColumnMeta(
        method="'Y' if PCTIMPR >= 50, 'N' if not, null when PCTIMPR is missing or not "
        "(APHASEN = 2).",
        type="Char",
    )


# --------------------------------------------------------------------------- occurrences
def test_treatment_emergent_on_or_after_first_treatment() -> None:
    """ADaM OCCDS v1.1, TRTEMFL: "Y" for events starting on or after first treatment
    (the day of first treatment counts); a missing start counts as emergent for a treated
    subject; never-treated subjects have no emergent events; with an end reference,
    events after it are not emergent."""
    frame = tbl(
        "USUBJID ASTDT",
        ("S1", day("2020-02-01")),
        ("S1", day("2020-01-31")),
        ("S1", None),
        ("S1", day("2020-07-01")),
        ("S3", None),
        ("S3", day("2020-02-05")),
    )
    ctx = context("ADAE")
    out = frame.assign(
        TRTEMFL=derive("treatment_emergent", frame, ctx),
        ONSTUDY=derive("treatment_emergent", frame, ctx, end_reference="EOSDT", missing_start=""),
    )
    expected = tbl(
        "USUBJID ASTDT TRTEMFL ONSTUDY",
        ("S1", day("2020-02-01"), "Y", "Y"),
        ("S1", day("2020-01-31"), "", ""),
        ("S1", None, "Y", ""),
        ("S1", day("2020-07-01"), "Y", ""),
        ("S3", None, "", ""),
        ("S3", day("2020-02-05"), "", ""),
    )
    assert_table(out, expected)
    assert meta("treatment_emergent", ctx) == ColumnMeta(
        method="'Y' if ASTDT is on or after TRTSDT; also 'Y' when ASTDT is missing and TRTSDT "
        "is present (conservative); null otherwise (always null when TRTSDT is missing: never "
        "treated).",
        type="Char",
    )


def test_first_occurrence_within_a_grouping() -> None:
    """ADaM OCCDS v1.1, AOCCzzFL: "Y" on the first record per subject and term, in the
    stated order, among the records considered (here treatment-emergent ones)."""
    frame = tbl(
        "USUBJID AEDECOD ASTDT AESEQ TRTEMFL",
        ("S1", "HEADACHE", 10, 2, "Y"),
        ("S1", "HEADACHE", 5, 4, "Y"),
        ("S1", "HEADACHE", 5, 3, "Y"),
        ("S1", "HEADACHE", 1, 1, ""),
        ("S1", "NAUSEA", 7, 5, "Y"),
        ("S2", "HEADACHE", 3, 1, "Y"),
    )
    ctx = context("ADAE")
    args = {
        "by": ["USUBJID", "AEDECOD"],
        "order_by": ["ASTDT", "AESEQ"],
        "where": {"variable": "TRTEMFL", "equals": "Y"},
    }
    out = frame.assign(AOCCPFL=derive("first_occurrence", frame, ctx, **args))
    expected = frame.assign(AOCCPFL=col("", "", "Y", "", "Y", "Y"))
    assert_table(out, expected)
    assert meta("first_occurrence", ctx, **args) == ColumnMeta(
        method="'Y' on the first record per USUBJID, AEDECOD in the order of ASTDT, AESEQ, among "
        "records where TRTEMFL = 'Y'; null otherwise.",
        type="Char",
    )


def test_treatment_emergent_declares_the_reference_dates_it_reads(tmp_path: Path) -> None:
    """The reference dates are read like the start date: the spec loader checks they
    exist (at the spec line) and orders the variables by them."""
    model = DERIVATIONS.require("treatment_emergent").args_model
    args = model.model_validate({"reference": "TRTSDT", "end_reference": "EOSDT"})
    assert args.inputs() == {"ASTDT", "TRTSDT", "EOSDT"}
    study, line = study_with(
        tmp_path, "adae.yaml", "    reference: TRTSDT\n", "    reference: TRTSDX\n"
    )
    with pytest.raises(SpecError, match="TRTEMFL: uses TRTSDX, which is neither") as err:
        load_adam_specs(study)
    assert abs(reported_line(str(err.value), "adae.yaml") - line) <= 3


# --------------------------------------------------------------------------- where on group, recode
HEIGHTGROUPS = [{"label": "<160", "hi": 160}, {"label": ">=160", "lo": 160}]


def test_group_where_leaves_other_records_null() -> None:
    """AVALCAT1 for HEIGHT only: records of other parameters get null (text and number)."""
    frame = tbl(
        "USUBJID PARAMCD AVAL",
        ("S1", "HEIGHT", 155.0),
        ("S1", "WEIGHT", 70.0),
        ("S2", "HEIGHT", 172.0),
    )
    ctx = context("ADVS")
    only = {"variable": "PARAMCD", "equals": "HEIGHT"}
    out = frame.assign(
        AVALCAT1=derive("group", frame, ctx, source="AVAL", groups=HEIGHTGROUPS, where=only),
        AVALCA1N=derive(
            "group", frame, ctx, source="AVAL", groups=HEIGHTGROUPS, where=only, output="number"
        ),
    )
    expected = tbl(
        "USUBJID PARAMCD AVAL AVALCAT1 AVALCA1N",
        ("S1", "HEIGHT", 155.0, "<160", 1.0),
        ("S1", "WEIGHT", 70.0, "", None),
        ("S2", "HEIGHT", 172.0, ">=160", 2.0),
    )
    assert_table(out, expected)
    method = meta("group", ctx, source="AVAL", groups=HEIGHTGROUPS, where=only).method
    assert method is not None and method.endswith("Only where PARAMCD = 'HEIGHT'; null elsewhere.")


def test_recode_where_on_this_datasets_record() -> None:
    """``where`` with a source of this dataset chooses the records recoded (null elsewhere);
    with a source in another dataset it still chooses that dataset's records."""
    frame = tbl("USUBJID PARAMCD AVALC", ("S1", "HEIGHT", "TALL"), ("S1", "WEIGHT", "HEAVY"))
    ctx = context("ADVS")
    args = {
        "source": "AVALC",
        "map": {"TALL": "1", "HEAVY": "2"},
        "where": {"variable": "PARAMCD", "equals": "HEIGHT"},
        "output_type": "Num",
    }
    assert derive("recode", frame, ctx, **args).tolist()[0] == 1.0
    assert derive("recode", frame, ctx, **args).isna().tolist() == [False, True]
    text = derive("recode", frame, ctx, **{**args, "output_type": "Char"})
    assert text.tolist() == ["1", ""]
    assert DERIVATIONS.require("recode").args_model.model_validate(args).inputs() == {
        "AVALC",
        "PARAMCD",
    }
    method = meta("recode", ctx, **args).method
    assert method is not None and method.endswith("Only where PARAMCD = 'HEIGHT'; null elsewhere.")


# --------------------------------------------------------------------------- conditions in ADaM
def test_flag_compares_two_variables_of_the_record_and_adsl() -> None:
    """ADT <= TRTEDT where TRTEDT is ADSL's (no helper variable); text tests as in SDTM."""
    frame = tbl(
        "USUBJID ADT AETERM",
        ("S1", day("2020-01-31"), "Severe headache"),
        ("S1", day("2020-02-01"), "NAUSEA"),
        ("S1", day("2020-02-02"), "headache"),
        ("S3", day("2020-02-02"), "rash"),
    )
    ctx = context("ADAE")
    before = derive("flag", frame, ctx, where={"variable": "ADT", "le": {"variable": "TRTSDT"}})
    assert before.tolist() == ["Y", "Y", "N", "N"]  # S3 has no TRTSDT: never holds
    contains = derive(
        "flag",
        frame,
        ctx,
        where={"variable": "AETERM", "contains": "HEADACHE", "case_sensitive": False},
        otherwise="",
    )
    assert contains.tolist() == ["Y", "", "Y", ""]
    matches = derive("flag", frame, ctx, where={"variable": "AETERM", "matches": "[a-z]+"})
    assert matches.tolist() == ["N", "N", "Y", "Y"]
