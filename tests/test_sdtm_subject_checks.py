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


def test_se_on_study_days_ends_at_the_next_start_and_the_last_day_on_record() -> None:
    """Relative-day data without dates: the elements start at a study day (EXSTDY); the
    last one ends at the subject's latest study day in any domain (S-1: QSDY 95, later
    than AEENDY 40; S-2: DSSTDY 203). SESTDTC and SEENDTC stay null."""
    day = {"domain": "EX", "variable": "EXSTDY"}
    spec = _arm_study(
        {"A": ["SCRN", "TRTA"]},
        {"TRTA": {**day, "where": {"variable": "EXTRT", "equals": "ACTIVE"}}},
    )
    spec.elements[0] = _element(
        "SCRN", "SCREENING", {**day, "where": {"variable": "EXTRT", "equals": "RUN-IN"}}
    )
    dm = records("dm.csv", ["USUBJID", "ARMCD"], ["S-1", "A"], ["S-2", "A"])
    ex = records(
        "ex.csv",
        ["USUBJID", "EXTRT", "EXSTDY"],
        ["S-1", "RUN-IN", -14.0],
        ["S-1", "ACTIVE", 1.0],
        ["S-2", "ACTIVE", 1.0],
    )
    qs = records("qs.csv", ["USUBJID", "QSDY"], ["S-1", -14.0], ["S-1", 95.0], ["S-2", 60.0])
    ae = records("ae.csv", ["USUBJID", "AESTDY", "AEENDY"], ["S-1", 3.0, 40.0])
    ds = records("ds.csv", ["USUBJID", "DSSTDY"], ["S-2", 203.0])
    se = build_se({"DM": dm, "EX": ex, "QS": qs, "AE": ae, "DS": ds}, spec, None)
    assert se[["USUBJID", "ETCD", "SESTDY", "SEENDY", "SESTDTC", "SEENDTC"]].values.tolist() == [
        ["S-1", "SCRN", -14.0, 1.0, "", ""],
        ["S-1", "TRTA", 1.0, 95.0, "", ""],
        ["S-2", "TRTA", 1.0, 203.0, "", ""],
    ]


def test_elements_starting_at_dates_and_at_study_days_are_an_error_at_the_start() -> None:
    spec = _arm_study({"A": ["SCRN", "TRTA"]}, {"TRTA": {"domain": "EX", "variable": "EXSTDY"}})
    frames = {
        "DM": records("dm.csv", ["USUBJID", "RFICDTC"], ["S-1", "2020-01-01"]),
        "EX": records("ex.csv", ["USUBJID", "EXSTDY"], ["S-1", 1.0]),
    }
    with pytest.raises(SpecError) as err:
        check_se_inputs(frames, spec, lambda doc, path: f"{doc}.yaml{list(path)}")
    assert str(err.value).startswith(
        "study.yaml['elements', 1, 'start']: element TRTA starts at EXSTDY and element SCRN "
        "at RFICDTC: one at a study day, the other at a date"
    )


def test_a_start_study_day_that_is_no_number_names_the_element() -> None:
    spec = _arm_study({"A": ["TRTA"]}, {"TRTA": {"domain": "EX", "variable": "EXSTDY"}})
    spec.elements.pop(0)
    dm = records("dm.csv", ["USUBJID", "ARMCD"], ["S-1", "A"])
    ex = records("ex.csv", ["USUBJID", "EXSTDY"], ["S-1", "day one"])
    with pytest.raises(MappingError, match=r"element TRTA starts at EX\.EXSTDY, a study day, "):
        build_se({"DM": dm, "EX": ex}, spec, None)
