"""cdisc_mapper/sdtm/ops/identifiers.py: usubjid, subjid, siteid (SDTMIG 3.4 section
4.1.2), seq (section 4.1.7) and criterion (TI); one small table per rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm import OPERATIONS
from tests.sdtm_ops_helpers import (
    SUBJ1,
    SUBJ2,
    make_ctx,
    operations_of,
    raw_form,
    records,
    run_op,
    subjects,
    values,
)

#: The enrolment form (the registry) gives each subject's site.
SITES = {"001": "01", "002": "02"}


def test_every_operation_of_identifiers_py_is_tested_here() -> None:
    assert operations_of("identifiers") == {"usubjid", "subjid", "siteid", "seq", "criterion"}


@pytest.mark.parametrize(
    ("name", "origin", "raw", "needs_all", "row_local"),
    [
        ("usubjid", "Derived", True, False, False),
        ("subjid", "Collected", True, False, False),
        ("siteid", "Collected", True, False, False),
        ("seq", "Derived", False, True, False),
        ("criterion", "Assigned", False, False, True),
    ],
)
def test_registered_with_origin_and_traits(name, origin, raw, needs_all, row_local) -> None:
    op = OPERATIONS.require(name)
    assert (op.origin, op.raw, op.needs_all, op.row_local) == (origin, raw, needs_all, row_local)


def test_method_texts_cite_the_sdtmig_rules() -> None:
    assert "STUDYID, SITEID, SUBJID" in OPERATIONS.require("usubjid").method
    assert "4.1.7" in OPERATIONS.require("seq").method
    assert "unique within USUBJID" in OPERATIONS.require("seq").method


# ------------------------------------------------------------------ USUBJID (4.1.2)


def test_usubjid_is_the_study_template_over_studyid_siteid_subjid() -> None:
    raw = raw_form("enrollment.csv", ["PT_ID", "SITE_NO"], ["001", "01"], ["002", "02"])
    out = run_op("usubjid", {}, ctx=make_ctx("DM", "USUBJID", raw=raw))
    assert values(out) == ["0208-16-HMO-01-001", "0208-16-HMO-02-002"]


def test_usubjid_site_from_the_registry_form_when_the_form_has_no_site() -> None:
    raw = raw_form("vitals.csv", ["PT_ID"], ["002"], ["001"], ["002"])
    out = run_op("usubjid", {}, ctx=make_ctx("VS", "USUBJID", raw=raw, sites=SITES))
    # the same subject has the same USUBJID on every form (unique across the study)
    assert values(out) == ["0208-16-HMO-02-002", "0208-16-HMO-01-001", "0208-16-HMO-02-002"]


def test_usubjid_with_a_single_site_and_another_template() -> None:
    spec = subjects(site_column=None, registry_form=None, site="9", usubjid="{STUDYID}/{SUBJID}")
    raw = raw_form("vitals.csv", ["PT_ID"], ["001"], ["017"])
    ctx = make_ctx("VS", "USUBJID", raw=raw, spec=spec)
    assert values(run_op("usubjid", {}, ctx=ctx)) == ["0208-16-HMO/001", "0208-16-HMO/017"]
    assert values(run_op("siteid", {}, ctx=ctx)) == ["9", "9"]


def test_usubjid_template_field_other_than_the_three_identifiers_is_an_error() -> None:
    spec = subjects(usubjid="{STUDYID}-{PATIENT}")
    raw = raw_form("enrollment.csv", ["PT_ID", "SITE_NO"], ["001", "01"])
    with pytest.raises(MappingError, match=r"\{PATIENT\} is not STUDYID/SITEID/SUBJID"):
        run_op("usubjid", {}, ctx=make_ctx("DM", "USUBJID", raw=raw, spec=spec))


def test_usubjid_empty_subject_identifier_names_every_record() -> None:
    raw = raw_form("enrollment.csv", ["PT_ID", "SITE_NO"], ["001", "01"], ["", "01"], ["", "02"])
    with pytest.raises(MappingError) as err:
        run_op("usubjid", {}, ctx=make_ctx("DM", "USUBJID", raw=raw))
    assert str(err.value) == (
        "DM.USUBJID: empty subject identifier in 2 record(s): "
        "enrollment.csv row 3: ''; enrollment.csv row 4: ''"
    )


@pytest.mark.parametrize("name", ["usubjid", "subjid", "siteid"])
def test_subject_missing_from_the_registry_names_every_record(name) -> None:
    raw = raw_form("labs.csv", ["PT_ID"], ["001"], ["003"], ["004"], ["003"])
    with pytest.raises(MappingError) as err:
        run_op(name, {}, ctx=make_ctx("LB", name.upper(), raw=raw, sites=SITES))
    msg = str(err.value)
    assert msg.startswith(f"LB.{name.upper()}: subject not in the registry form 'enrollment'")
    assert msg.endswith(
        "in 3 record(s): labs.csv row 3: '003'; labs.csv row 4: '004'; labs.csv row 5: '003'"
    )


# ------------------------------------------------------------------ SUBJID, SITEID


def test_subjid_is_the_identifier_as_the_site_recorded_it() -> None:
    raw = raw_form("enrollment.csv", ["PT_ID", "SITE_NO"], ["001", "01"], ["0002", "02"])
    out = run_op("subjid", {}, ctx=make_ctx("DM", "SUBJID", raw=raw))
    assert values(out) == ["001", "0002"]


def test_siteid_from_the_forms_own_site_column() -> None:
    raw = raw_form("enrollment.csv", ["PT_ID", "SITE_NO"], ["001", "01"], ["002", "03"])
    # the form's own column wins over the registry
    out = run_op("siteid", {}, ctx=make_ctx("DM", "SITEID", raw=raw, sites=SITES))
    assert values(out) == ["01", "03"]


def test_siteid_from_the_registry_form() -> None:
    raw = raw_form("labs.csv", ["PT_ID"], ["002"], ["001"])
    out = run_op("siteid", {}, ctx=make_ctx("LB", "SITEID", raw=raw, sites=SITES))
    assert values(out) == ["02", "01"]


# ------------------------------------------------------------------ --SEQ (4.1.7)


def test_seq_numbers_records_1_to_n_within_each_subject_in_the_given_order() -> None:
    frame = records(
        "adverse_events.csv",
        ["USUBJID", "AESTDTC", "AETERM"],
        [SUBJ2, "2016-08-01", "Fatigue"],
        [SUBJ1, "2016-09-10", "Headache"],
        [SUBJ1, "2016-07-02", "Back pain"],
        [SUBJ2, "2016-07-15", "Nausea"],
        [SUBJ1, "2016-08-20", "Fever"],
    )
    out = run_op("seq", {"order_by": ["AESTDTC"]}, frame, make_ctx("AE", "AESEQ"))
    assert values(out) == [2, 3, 1, 1, 2]
    assert out.dtype == float


def test_seq_is_unique_within_usubjid_ties_keep_record_order() -> None:
    frame = records(
        "vitals.csv",
        ["USUBJID", "VSTESTCD", "VISITNUM"],
        [SUBJ1, "PULSE", 2.0],
        [SUBJ1, "PULSE", 2.0],  # an exact tie: the earlier record comes first
        [SUBJ1, "PULSE", 1.0],
        [SUBJ1, "DIABP", 2.0],
    )
    out = run_op("seq", {"order_by": ["VSTESTCD", "VISITNUM"]}, frame, make_ctx("VS", "VSSEQ"))
    assert values(out) == [3, 4, 2, 1]


def test_seq_sorts_numbers_as_numbers() -> None:
    frame = records(
        "vitals.csv", ["USUBJID", "VISITNUM"], [SUBJ1, 10.0], [SUBJ1, 2.0], [SUBJ1, 2.01]
    )
    out = run_op("seq", {"order_by": ["VISITNUM"]}, frame, make_ctx("VS", "VSSEQ"))
    assert values(out) == [3, 1, 2]  # 10 after 2.01, not as text "10" < "2"


# ------------------------------------------------------------------ criterion (TI)


def test_criterion_gives_ietest_and_iecat_from_study_yaml() -> None:
    frame = records("eligibility.csv", ["IETESTCD"], ["INCL03"], ["EXCL02"], ["INCL03"])
    ctx = make_ctx("IE", "IETEST")
    assert values(run_op("criterion", {"variable": "IETESTCD", "field": "ietest"}, frame, ctx)) == [
        "Age 18 to 65 years",
        "Active infection",
        "Age 18 to 65 years",
    ]
    assert values(run_op("criterion", {"variable": "IETESTCD", "field": "iecat"}, frame, ctx)) == [
        "INCLUSION",
        "EXCLUSION",
        "INCLUSION",
    ]


def test_criterion_unknown_code_names_every_record() -> None:
    frame = records("eligibility.csv", ["IETESTCD"], ["INCL01"], ["INCL9"], ["EXCL05"], first=4)
    with pytest.raises(MappingError) as err:
        run_op(
            "criterion",
            {"variable": "IETESTCD", "field": "ietest"},
            frame,
            make_ctx("IE", "IETEST"),
        )
    assert str(err.value) == (
        "IE.IETEST: criterion code not in study.yaml criteria in 2 record(s): "
        "eligibility.csv row 5: 'INCL9'; eligibility.csv row 6: 'EXCL05'"
    )


def test_criterion_field_is_ietest_or_iecat() -> None:
    with pytest.raises(ValidationError, match="field"):
        OPERATIONS.require("criterion").args_model.model_validate(
            {"variable": "IETESTCD", "field": "tivers"}
        )


def test_criterion_inside_a_source_names_the_raw_file_and_row() -> None:
    raw = raw_form("eligibility.csv", ["CRIT_ID"], ["INCL01"], ["INCL9"])
    frame = raw[[]].assign(IETESTCD=["INCL01", "INCL9"])  # mapped earlier in the source
    with pytest.raises(MappingError, match=r"in 1 record\(s\): eligibility\.csv row 3: 'INCL9'$"):
        run_op(
            "criterion",
            {"variable": "IETESTCD", "field": "iecat"},
            frame,
            make_ctx("IE", "IECAT", raw=raw),
        )
