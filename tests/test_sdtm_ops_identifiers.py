"""cdisc_mapper/sdtm/ops/identifiers.py: usubjid, subjid, siteid (SDTMIG 3.4 section
4.1.2), seq (section 4.1.7) and criterion (TI); one small table per rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm import OPERATIONS
from cdisc_mapper.spec.study import SubjectSpec
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
    with pytest.raises(
        MappingError, match=r"\{PATIENT\} is not one of \{STUDYID\}, \{SITEID\}, \{SUBJID\}"
    ):
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


# ------------------------------------------------------------------ subject_pattern

#: The CDISC pilot: PATNUM 701-1015 is subject 1015 of site 701.
PILOT = {
    "subject_column": "PATNUM",
    "site_column": None,
    "registry_form": None,
    "subject_pattern": r"(?P<SITEID>\d+)-(?P<SUBJID>\d+)",
    "usubjid": "01-{SITEID}-{SUBJID}",
}


def pilot_ctx(*values: str, variable: str = "USUBJID", **changes: object):
    raw = raw_form("dm.csv", ["PATNUM"], *[[v] for v in values])
    return make_ctx("DM", variable, raw=raw, spec=subjects(**{**PILOT, **changes}))


def test_subject_pattern_gives_siteid_subjid_and_the_template_fields() -> None:
    ctx = pilot_ctx("701-1015", "702-1001", "701-1015")
    assert values(run_op("usubjid", {}, ctx=ctx)) == ["01-701-1015", "01-702-1001", "01-701-1015"]
    assert values(run_op("subjid", {}, ctx=ctx)) == ["1015", "1001", "1015"]
    assert values(run_op("siteid", {}, ctx=ctx)) == ["701", "702", "701"]


def test_every_named_group_is_a_template_field() -> None:
    ctx = pilot_ctx(
        "US701-1015",
        subject_pattern=r"(?P<COUNTRY>[A-Z]{2})(?P<SITEID>\d+)-(?P<SUBJID>\d+)",
        usubjid="{STUDYID}/{COUNTRY}/{SITEID}/{SUBJID}",
    )
    assert values(run_op("usubjid", {}, ctx=ctx)) == ["0208-16-HMO/US/701/1015"]
    assert values(run_op("subjid", {}, ctx=ctx)) == ["1015"]


def test_a_group_that_takes_no_part_is_empty() -> None:
    ctx = pilot_ctx("701-1015", "1016", subject_pattern=r"(?:(?P<SITEID>\d+)-)?(?P<SUBJID>\d+)")
    assert values(run_op("usubjid", {}, ctx=ctx)) == ["01-701-1015", "01--1016"]


def test_without_a_subjid_group_subjid_is_the_whole_value_and_the_site_from_the_registry():
    raw = raw_form("labs.csv", ["PT_ID"], ["S-001"], ["S-002"])
    spec = subjects(subject_pattern=r"S-(?P<NUM>\d+)", usubjid="{STUDYID}-{SITEID}-{NUM}")
    ctx = make_ctx("LB", "USUBJID", raw=raw, spec=spec, sites={"S-001": "01", "S-002": "02"})
    assert values(run_op("usubjid", {}, ctx=ctx)) == ["0208-16-HMO-01-001", "0208-16-HMO-02-002"]
    assert values(run_op("subjid", {}, ctx=ctx)) == ["S-001", "S-002"]
    assert values(run_op("siteid", {}, ctx=ctx)) == ["01", "02"]


@pytest.mark.parametrize("name", ["usubjid", "subjid", "siteid"])
def test_a_subject_value_the_pattern_does_not_match_names_file_row_value_and_study_line(
    name,
) -> None:
    ctx = pilot_ctx("701-1015", "7011016", "701-1015x", "", variable=name.upper())
    ctx.extra["study_where"] = lambda path: "study.yaml:17"
    with pytest.raises(MappingError) as err:
        run_op(name, {}, ctx=ctx)
    assert str(err.value) == (
        f"DM.{name.upper()}: subject PATNUM does not match subjects.subject_pattern "
        "'(?P<SITEID>\\d+)-(?P<SUBJID>\\d+)' (see study.yaml:17 subjects.subject_pattern) "
        "in 2 record(s): dm.csv row 3: '7011016'; dm.csv row 4: '701-1015x'"
    )


def test_an_empty_subject_value_is_the_empty_identifier_error() -> None:
    with pytest.raises(
        MappingError, match=r"empty subject identifier in 1 record\(s\): dm\.csv row 3"
    ):
        run_op("usubjid", {}, ctx=pilot_ctx("701-1015", ""))


def test_the_pattern_site_and_the_site_column_must_agree() -> None:
    raw = raw_form("dm.csv", ["PATNUM", "SITE"], ["701-1015", "701"], ["702-1001", "703"])
    ctx = make_ctx("DM", "SITEID", raw=raw, spec=subjects(**{**PILOT, "site_column": "SITE"}))
    with pytest.raises(MappingError) as err:
        run_op("siteid", {}, ctx=ctx)
    assert str(err.value) == (
        "DM.SITEID: the site in PATNUM (subject_pattern's SITEID) is not the site in SITE "
        "in 1 record(s): dm.csv row 3: '702-1001 vs 703'"
    )
    agree = raw_form("dm.csv", ["PATNUM", "SITE"], ["701-1015", "701"])
    ctx = make_ctx("DM", "SITEID", raw=agree, spec=subjects(**{**PILOT, "site_column": "SITE"}))
    assert values(run_op("siteid", {}, ctx=ctx)) == ["701"]


def subject_spec(**changes: object) -> SubjectSpec:
    return SubjectSpec.model_validate({"subject_column": "PATNUM", **changes})


def test_the_usubjid_template_default_and_allowed_fields() -> None:
    assert subject_spec().usubjid == "{STUDYID}-{SITEID}-{SUBJID}"
    assert subject_spec(usubjid="{{{STUDYID}}}{SUBJID}").usubjid == "{{{STUDYID}}}{SUBJID}"
    spec = subject_spec(subject_pattern=r"(?P<SITE>\d+)-(?P<SUBJID>\d+)", usubjid="X-{SITE}")
    assert spec.groups() == ["SITE", "SUBJID"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"usubjid": "{STUDYID}-{PATIENT}"}, r"\{PATIENT\} is not one of \{STUDYID\}, \{SITEID\}"),
        ({"usubjid": "{SUBJID:>04}"}, r"template field \{SUBJID:>04\} is not one of"),
        ({"usubjid": "{SUBJID!r}"}, r"template field \{SUBJID!r\} is not one of"),
        ({"usubjid": "{STUDYID}-}"}, r"Single '\}' encountered .*write \{\{ or \}\}"),
        ({"subject_pattern": "(?P<SITEID>\\d+"}, "not a regular expression: missing \\)"),
        ({"subject_pattern": "(?P<STUDYID>\\d+)"}, "a group named STUDYID"),
        (
            {"subject_pattern": "(?P<SITEID>\\d+)-\\d+", "site": "9"},
            "site is given and subject_pattern has a SITEID group",
        ),
    ],
)
def test_subjects_mistakes_are_spec_errors(changes, message) -> None:
    with pytest.raises(ValidationError, match=message):
        subject_spec(**changes)


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


@pytest.mark.parametrize("args", [{}, {"order_by": []}])
def test_seq_without_order_by_numbers_records_in_the_order_they_were_read(args) -> None:
    frame = records(
        "adverse_events.csv",
        ["USUBJID", "AESTDTC"],
        [SUBJ2, "2016-08-01"],
        [SUBJ1, "2016-09-10"],
        [SUBJ1, "2016-07-02"],
        [SUBJ2, ""],
        [SUBJ1, "2016-08-20"],
    )
    out = run_op("seq", args, frame, make_ctx("AE", "AESEQ"))
    assert values(out) == [1, 1, 2, 2, 3]


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
