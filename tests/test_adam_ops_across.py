"""cdisc_mapper.adam.ops.across: coalesce, latest_date, earliest_date.

Input -> expected tables (admiral style), on the in-memory study of
tests/adam_ops_context.py (ADSL TRTSDT: S1 2020-02-01, S2 2020-02-15, S3 none; RFICDT: S1
2020-01-01, S2 2020-01-10, S3 2020-01-20). Expected dates are written as ISO dates and
turned into SAS numbers by ``day`` (independently of the code under test).
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cdisc_mapper.adam.ops import DERIVATIONS
from cdisc_mapper.errors import DateParseError, MappingError
from tests.adam_ops_context import assert_table, context, day, derive, meta, tbl

SUBJECTS = tbl("USUBJID", ("S1",), ("S2",), ("S3",))


def _ae():
    return tbl(
        "USUBJID AESEQ AEDECOD AEOUT AESTDTC AEENDTC",
        ("S1", 1, "HEADACHE", "RECOVERED/RESOLVED", "2020-03-01", "2020-03-10"),
        ("S1", 2, "MYOCARDIAL INFARCTION", "FATAL", "2020-04", ""),
        ("S2", 1, "NAUSEA", "NOT RECOVERED/NOT RESOLVED", "2020-01-05", "2020-01-07"),
    )


def _ds():
    return tbl(
        "USUBJID DSDECOD DSTERM",
        ("S1", "DEATH", "DEATH DUE TO MI"),
        ("S2", "DEATH", "UNKNOWN CAUSE"),
        ("S3", "COMPLETED", "COMPLETED"),
    )


DTHCAUS = [
    {"source": "AE.AEDECOD", "where": {"variable": "AEOUT", "equals": "FATAL"}},
    {"source": "DS.DSTERM", "where": {"variable": "DSDECOD", "equals": "DEATH"}},
]


# --------------------------------------------------------------------------- coalesce
def test_coalesce_takes_the_first_source_with_a_value() -> None:
    """DTHCAUS from the fatal AE, else from the DS record of death; S3 has neither."""
    ctx = context("ADVS", sdtm={"AE": _ae(), "DS": _ds()})
    out = SUBJECTS.assign(DTHCAUS=derive("coalesce", SUBJECTS, ctx, sources=DTHCAUS))
    expected = tbl(
        "USUBJID DTHCAUS",
        ("S1", "MYOCARDIAL INFARCTION"),
        ("S2", "UNKNOWN CAUSE"),
        ("S3", ""),
    )
    assert_table(out, expected)
    m = meta("coalesce", ctx, sources=DTHCAUS)
    assert m.source == "AE.AEDECOD, DS.DSTERM"
    assert m.method == (
        "The first non-missing of: AE.AEDECOD where AEOUT = 'FATAL'; else DS.DSTERM where "
        "DSDECOD = 'DEATH'; null when none has a value."
    )


def test_coalesce_of_numbers_and_of_this_datasets_variables() -> None:
    """Numeric sources: the first non-missing number (here TRTSDT, else RFICDT from ADSL)."""
    ctx = context("ADVS")
    out = derive("coalesce", SUBJECTS, ctx, sources=[{"source": "TRTSDT"}, {"source": "RFICDT"}])
    assert out.tolist() == [day("2020-02-01"), day("2020-02-15"), day("2020-01-20")]


def test_coalesce_chooses_among_several_records_by_order() -> None:
    """Several qualifying records: select first/last by order_by, as derive: value does."""
    ae = _ae()
    ctx = context("ADVS", sdtm={"AE": ae})
    out = derive(
        "coalesce",
        SUBJECTS,
        ctx,
        sources=[
            {"source": "AE.AEDECOD", "select": "last", "order_by": "AESEQ"},
            {"source": "DM.SEX"},
        ],
    )
    assert out.tolist() == ["MYOCARDIAL INFARCTION", "NAUSEA", "F"]


def test_coalesce_errors() -> None:
    ctx = context("ADVS", sdtm={"AE": _ae()})
    with pytest.raises(ValueError, match=r"one type: AE.AEDECOD \(text\), RFICDT \(number\)"):
        derive("coalesce", SUBJECTS, ctx, sources=[{"source": "AE.AEDECOD", "select": "first",
               "order_by": "AESEQ"}, {"source": "RFICDT"}])  # fmt: skip
    with pytest.raises(MappingError, match="several records for subject S1"):
        derive("coalesce", SUBJECTS, ctx, sources=[{"source": "AE.AEDECOD"}, {"source": "DM.SEX"}])
    with pytest.raises(ValidationError, match="at least 2"):
        DERIVATIONS.require("coalesce").args_model.model_validate(
            {"sources": [{"source": "DM.SEX"}]}
        )


# --------------------------------------------------------------------------- extreme dates
LSTALVDT = [
    {"source": "AE.AESTDTC"},
    {"source": "AE.AEENDTC"},
    {"source": "TRTSDT"},
]


def test_latest_date_over_several_domains() -> None:
    """admiral derive_var_extreme_dt (mode last): the subject's latest date over all the
    sources' records; a partial date (S1's 2020-04) is left out without impute."""
    ctx = context("ADVS", sdtm={"AE": _ae()})
    out = SUBJECTS.assign(LSTALVDT=derive("latest_date", SUBJECTS, ctx, sources=LSTALVDT))
    expected = tbl(
        "USUBJID LSTALVDT",
        ("S1", day("2020-03-10")),
        ("S2", day("2020-02-15")),  # TRTSDT, after the AE dates
        ("S3", None),
    )
    assert_table(out, expected)
    m = meta("latest_date", ctx, sources=LSTALVDT)
    assert (m.type, m.date, m.source) == ("Num", True, "AE.AESTDTC, AE.AEENDTC, TRTSDT")
    assert m.method is not None and m.method.startswith(
        "The latest date of: AE.AESTDTC; AE.AEENDTC; TRTSDT."
    )


def test_latest_date_imputes_partial_dates_when_told() -> None:
    """With impute (first day of the month), S1's 2020-04 counts as 2020-04-01."""
    ctx = context("ADVS", sdtm={"AE": _ae()})
    sources = [{"source": "AE.AESTDTC", "impute": {"day": "first", "month": "first"}}]
    out = derive("latest_date", SUBJECTS, ctx, sources=sources)
    assert out.tolist()[:2] == [day("2020-04-01"), day("2020-01-05")]
    last = [{"source": "AE.AESTDTC", "impute": {"day": "last", "month": "last"}}]
    assert derive("latest_date", SUBJECTS, ctx, sources=last).iloc[0] == day("2020-04-30")


def test_latest_date_with_a_condition_and_earliest_date() -> None:
    ctx = context("ADVS", sdtm={"AE": _ae()})
    fatal = [{"source": "AE.AESTDTC", "where": {"variable": "AEOUT", "equals": "FATAL"},
              "impute": {"day": "first", "month": "first"}}]  # fmt: skip
    out = derive("latest_date", SUBJECTS, ctx, sources=fatal)
    assert out.iloc[0] == day("2020-04-01") and out.iloc[1:].isna().all()
    first = derive(
        "earliest_date", SUBJECTS, ctx, sources=[{"source": "EX.EXSTDTC"}, {"source": "RFICDT"}]
    )
    assert first.tolist() == [day("2020-01-01"), day("2020-01-10"), day("2020-01-20")]


def test_date_source_errors() -> None:
    model = DERIVATIONS.require("latest_date").args_model
    with pytest.raises(ValidationError, match="where applies to a source in another dataset"):
        model.model_validate({"sources": [{"source": "TRTSDT", "where": {"variable": "X",
                              "equals": "Y"}}]})  # fmt: skip
    with pytest.raises(ValidationError, match="not_before/not_after do not apply"):
        model.model_validate({"sources": [{"source": "AE.AESTDTC", "impute": {"day": "first",
                              "month": "first", "not_before": ["TRTSDT"]}}]})  # fmt: skip
    bad = tbl("USUBJID AESTDTC AEENDTC AEOUT AESEQ AEDECOD", ("S1", "03/01/2020", "", "", 1, "X"))
    with pytest.raises(DateParseError, match="03/01/2020"):
        derive("latest_date", SUBJECTS, context("ADVS", sdtm={"AE": bad}), sources=LSTALVDT)
