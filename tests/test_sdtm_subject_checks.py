"""Located errors of the SDTM stage: one DM record per subject, numbers in numeric
variables, what SE needs."""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.sdtm.engine import check_one_record_per_subject
from cdisc_mapper.sdtm.finalize import check_numeric
from cdisc_mapper.sdtm.subject_design import build_se, check_se_inputs
from cdisc_mapper.spec.study import ArmSpec, ElementSpec, StudySpec
from tests.sdtm_ops_helpers import records, study


def test_a_subject_on_two_enrolment_rows_names_both() -> None:
    dm = records("enrollment.csv", ["USUBJID"], ["S-1"], ["S-2"], ["S-1"])
    with pytest.raises(MappingError) as err:
        check_one_record_per_subject({"DM": dm})
    assert str(err.value).startswith(
        "DM: 1 subject(s) with more than one enrolment record: S-1: enrollment.csv row 2 "
        "and enrollment.csv row 4 (DM has one record per subject"
    )
    check_one_record_per_subject({"DM": dm.iloc[:2]})  # one each: fine


def test_text_in_a_numeric_variable_names_records_and_values() -> None:
    ex = records("injections.csv", ["EXDOSE"], ["5"], ["MISSING"], [""], ["7,5"])
    with pytest.raises(MappingError) as err:
        check_numeric("EX", "EXDOSE", ex)
    assert str(err.value).startswith(
        "EX.EXDOSE is numeric (SDTMIG 3.4) but holds text in 2 record(s): injections.csv row "
        "3: 'MISSING'; injections.csv row 5: '7,5' (map it with op number"
    )
    check_numeric("EX", "EXDOSE", ex.iloc[[0, 2]])


def _frames(dm_columns: list[str]) -> dict[str, pd.DataFrame]:
    dm = records(
        "enrollment.csv", ["USUBJID", *dm_columns], *[["S-1", *["2020-01-01"] * len(dm_columns)]]
    )
    ex = records("injections.csv", ["USUBJID", "EXSTDTC"], ["S-1", "2020-02-01"])
    return {"DM": dm.assign(RFICDTC="2020-01-01"), "EX": ex}


def test_se_without_rfpendtc_and_rfstdtc_has_empty_end_and_days() -> None:
    se = build_se(_frames([]), study(), None)
    assert se["SEENDTC"].tolist() == ["2020-02-01", ""]  # RUNIN ends at MSC1; MSC1: unknown
    assert se["SESTDY"].isna().all() and se["SEENDY"].isna().all()


def test_an_element_start_no_spec_maps_is_a_spec_error_at_study_yaml() -> None:
    frames = _frames([])
    del frames["EX"]
    with pytest.raises(SpecError) as err:
        check_se_inputs(frames, study(), lambda doc, path: f"{doc}.yaml{list(path)}")
    assert str(err.value).startswith(
        "study.yaml['elements', 1, 'start']: element MSC1 starts at EX.EXSTDTC, which no "
        "domain spec maps"
    )
    with pytest.raises(SpecError, match="no DM spec maps USUBJID"):
        check_se_inputs({}, study(), lambda doc, path: doc)


def _element(etcd: str, epoch: str, start: dict) -> ElementSpec:
    return ElementSpec.model_validate(
        {
            "etcd": etcd,
            "element": etcd.title(),
            "epoch": epoch,
            "start_rule": "x",
            "end_rule": "y",
            "start": start,
        }
    )


def _arm_study(arms: dict[str, list[str]], starts: dict[str, dict]) -> StudySpec:
    consent = {"domain": "DM", "variable": "RFICDTC"}
    elements = [_element("SCRN", "SCREENING", consent)]
    elements += [_element(etcd, "TREATMENT", start) for etcd, start in starts.items()]
    return study(
        arms=[ArmSpec(armcd=cd, arm=cd, elements=els) for cd, els in arms.items()],
        elements=elements,
    )


def _se_paths(se: pd.DataFrame) -> dict[str, list[list[object]]]:
    paths = se.groupby("USUBJID")[["ETCD", "TAETORD"]].apply(lambda f: f.values.tolist())
    return paths.to_dict()


def test_se_lists_only_the_elements_of_the_subjects_arm() -> None:
    """SDTMIG 3.4 section 5.3.1: SE holds the elements a subject passed through, those
    of the subject's arm (ACTARMCD, else ARMCD): two elements starting at the first dose
    are told apart by the arm. A subject with no arm of the study (a screen failure) gets
    every element it has a start for."""
    first_dose = {"domain": "EX", "variable": "EXSTDTC", "occurrence": 1}
    spec = _arm_study(
        {"A": ["SCRN", "TRTA"], "P": ["SCRN", "TRTP"]}, {"TRTA": first_dose, "TRTP": first_dose}
    )
    dm = records(
        "dm.csv",
        ["USUBJID", "RFICDTC", "ARMCD", "ACTARMCD"],
        ["S-1", "2020-01-01", "A", "A"],
        ["S-2", "2020-01-02", "P", ""],
        ["S-3", "2020-01-03", "", ""],
    )
    ex = records("ec.csv", ["USUBJID", "EXSTDTC"], ["S-1", "2020-02-01"], ["S-2", "2020-02-02"])
    se = build_se({"DM": dm, "EX": ex}, spec, None)
    assert _se_paths(se) == {
        "S-1": [["SCRN", 1.0], ["TRTA", 2.0]],
        "S-2": [["SCRN", 1.0], ["TRTP", 2.0]],
        "S-3": [["SCRN", 1.0]],
    }
    assert se.loc[se.USUBJID == "S-1", "SEENDTC"].tolist() == ["2020-02-01", ""]


def test_se_taetord_is_the_elements_place_in_the_subjects_arm() -> None:
    """TAETORD is the element's order in the subject's arm (TA): TRTA is 2nd in arm A,
    3rd in arm L after a lead-in."""
    spec = _arm_study(
        {"A": ["SCRN", "TRTA"], "L": ["SCRN", "LEAD", "TRTA"]},
        {
            "LEAD": {"domain": "EX", "variable": "EXSTDTC", "occurrence": 1},
            "TRTA": {
                "domain": "EX",
                "variable": "EXSTDTC",
                "occurrence": 1,
                "where": {"variable": "EXDOSE", "equals": 10},
            },
        },
    )
    dm = records(
        "dm.csv",
        ["USUBJID", "RFICDTC", "ARMCD", "ACTARMCD"],
        ["S-1", "2020-01-01", "A", "A"],
        ["S-2", "2020-01-02", "L", "L"],
    )
    ex = records(
        "ec.csv",
        ["USUBJID", "EXSTDTC", "EXDOSE"],
        ["S-1", "2020-02-01", 10.0],
        ["S-2", "2020-02-02", 0.0],
        ["S-2", "2020-02-16", 10.0],
    )
    se = build_se({"DM": dm, "EX": ex}, spec, None)
    assert _se_paths(se) == {
        "S-1": [["SCRN", 1.0], ["TRTA", 2.0]],
        "S-2": [["SCRN", 1.0], ["LEAD", 2.0], ["TRTA", 3.0]],
    }
