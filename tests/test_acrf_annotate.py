"""The aCRF annotations: which SDTM variables each raw column of the bundled study feeds.

Expected annotations are read off the specs by hand (mappings/als_msc/sdtm/*.yaml)."""

from __future__ import annotations

from functools import cache

import pytest

from cdisc_mapper.acrf.annotate import NOT_SUBMITTED, FormCrf, annotate, form_order
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.standards import load_terminology
from tests.conftest import STUDY

#: Headers of two raw files, as the simulated export writes them.
VITALS = (
    "PT_ID,VISIT,VS_DATE,VS_TIME,PULSE,SYS_BP,DIA_BP,RESP_RATE,TEMP,TEMP_UNIT,WEIGHT,WEIGHT_UNIT"
)
ENROLLMENT = (
    "SITE_NO,PT_ID,ICF_DATE,BIRTH_DATE,AGE_YRS,GENDER,RACE,ETHNIC,COUNTRY,WEIGHT_KG,HEIGHT_CM"
)


@cache
def _forms(with_headers: bool) -> dict[str, FormCrf]:
    columns = None
    if with_headers:
        columns = {"vitals.csv": VITALS.split(","), "enrollment.csv": ENROLLMENT.split(",")}
    forms = annotate(load_study(STUDY), load_terminology(), columns)
    return {f.name: f for f in forms}


def _texts(form: str, column: str, with_headers: bool = True) -> tuple[str, ...]:
    field = next(f for f in _forms(with_headers)[form].fields if f.column == column)
    return field.texts


def test_forms_in_study_order_registry_form_first() -> None:
    order = [form for form, _ in form_order(load_study(STUDY))]
    # the registry form, then as the domain specs (AE, CM, DM, DS, EX, ...) first read them
    assert order == [
        "enrollment", "adverse_events", "medications", "end_of_study", "injections",
        "eligibility", "labs", "als_history", "bma", "alsfrs", "fvc", "vitals",
    ]  # fmt: skip
    assert _forms(True)["enrollment"].domains == ("DM", "DS", "VS")
    assert _forms(True)["injections"].domains == ("EX", "PR")


@pytest.mark.parametrize(
    ("form", "column", "expected"),
    [
        # a melted item: the result variable when the test code is the item's
        ("vitals", "SYS_BP", ("VSORRES when VSTESTCD = SYSBP",)),
        ("vitals", "TEMP_UNIT", ("VSORRESU when VSTESTCD = TEMP",)),
        # a sponsor code list's test code
        ("alsfrs", "Q5B_CUTTING_GASTRO", ("QSORRES when QSTESTCD = ALSR05B",)),
        # MH: the melt's test variable is MHEVDTYP
        ("als_history", "DIAG_DATE", ("MHSTDTC when MHEVDTYP = DIAGNOSIS",)),
        # one column, three domains (DM, DS, VS)
        ("enrollment", "ICF_DATE", ("RFICDTC", "DSSTDTC", "VSDTC")),
        # the subject column: USUBJID on every form, SUBJID too on DM's, written once each
        ("enrollment", "PT_ID", ("USUBJID", "SUBJID")),
        ("enrollment", "SITE_NO", ("SITEID",)),
        # a working variable followed to the domain-level variable reading it
        ("enrollment", "AGE_YRS", ("AGE",)),
        ("end_of_study", "DEATH_DATE", ("DSSTDTC",)),
        # a column only a condition reads: the value of a flag, a selector of a case
        ("adverse_events", "ONGOING", ("AEENRTPT", "AEENTPT")),
        ("end_of_study", "STATUS", ("DSTERM", "DSDECOD")),  # not DSSTDTC (case: STATUS)
        ("labs", "VISIT", ("VISITNUM",)),
        ("injections", "INJ_NO", ("VISITNUM",)),  # read by a template
        # supplemental qualifiers
        ("als_history", "ONSET_SITE", ("SUPPMH.QNAM = MHONSITE",)),
        ("injections", "CSF_REMOVED_ML", ("SUPPPR.QNAM = PRCSFVOL",)),
        # two variables of one column
        ("adverse_events", "SOC_NAME", ("AEBODSYS", "AESOC")),
    ],
)
def test_annotations_of_a_field(form: str, column: str, expected: tuple[str, ...]) -> None:
    assert _texts(form, column, with_headers=form in ("vitals", "enrollment")) == expected


def test_raw_column_no_variable_reads_is_not_submitted() -> None:
    assert _texts("enrollment", "WEIGHT_KG") == (NOT_SUBMITTED,)
    fields = [f.column for f in _forms(True)["enrollment"].fields]
    assert fields == ENROLLMENT.split(",")  # file order


def test_without_the_raw_headers_the_fields_are_the_columns_read() -> None:
    fields = [f.column for f in _forms(False)["enrollment"].fields]
    assert "WEIGHT_KG" not in fields
    assert {"PT_ID", "SITE_NO", "ICF_DATE", "HEIGHT_CM", "AGE_YRS"} <= set(fields)
    assert all(f.annotations for form in _forms(False).values() for f in form.fields)


def test_question_is_the_item_name_or_the_qualifier_label() -> None:
    vitals = {f.column: f.question for f in _forms(True)["vitals"].fields}
    # no label function given: the test's name from the code list, else the column
    assert vitals["SYS_BP"] == "Systolic Blood Pressure"
    history = {f.column: f.question for f in _forms(False)["als_history"].fields}
    assert history["ONSET_SITE"] == "Site of ALS Onset"  # the supp: label
    assert history["ONSET_DATE"] == "Symptom Onset"  # the MHEDTTYP term


def test_annotation_domain_of_a_qualifier_is_its_parent() -> None:
    field = next(f for f in _forms(False)["als_history"].fields if f.column == "FAMILIAL")
    assert [(a.domain, a.variable) for a in field.annotations] == [("MH", "MHALSTYP")]
