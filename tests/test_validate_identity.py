"""Identity checks (cdisc_mapper.validate.checks.identity) on tiny hand-written packages:
arm codes of subjects without an arm are matched in any case."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdisc_mapper.validate.checks.identity import SPECIAL_ARMS, arm_code_in
from tests.validate_pkg import days_only_package, findings, write_dataset


def _package(tmp_path: Path, arms: list[tuple[str, str]], exposed: list[str]) -> Path:
    """DM with subjects S-1.. having the (ACTARMCD, ACTARM) given; TA has arm A only."""
    sdtm = tmp_path / "pkg" / "sdtm"
    subjects = [f"S-{i + 1}" for i in range(len(arms))]
    codes = [a for a, _ in arms]
    names = [n for _, n in arms]
    write_dataset(
        sdtm,
        "DM",
        {
            "STUDYID": ["ST"] * len(arms),
            "DOMAIN": ["DM"] * len(arms),
            "USUBJID": subjects,
            "ARMCD": codes,
            "ARM": names,
            "ACTARMCD": codes,
            "ACTARM": names,
        },
    )
    write_dataset(
        sdtm,
        "TA",
        {"STUDYID": ["ST"], "DOMAIN": ["TA"], "ARMCD": ["A"], "ARM": ["Drug A"], "TAETORD": [1.0]},
    )
    write_dataset(
        sdtm,
        "EX",
        {
            "STUDYID": ["ST"] * len(exposed),
            "DOMAIN": ["EX"] * len(exposed),
            "USUBJID": exposed,
            "EXSEQ": [1.0] * len(exposed),
            "EXTRT": ["DRUG A"] * len(exposed),
        },
    )
    return sdtm.parent


def test_arm_code_in_ignores_case_and_blanks():
    codes = pd.Series(["Scrnfail", " notassgn ", "", "A", "Unplan", None], dtype=object)
    assert arm_code_in(codes, SPECIAL_ARMS).tolist() == [True, True, True, False, True, True]


def test_id0006_screen_failures_in_any_case_are_not_arms(tmp_path):
    root = _package(tmp_path, [("A", "Drug A"), ("Scrnfail", "Screen Failure")], ["S-1"])
    assert findings(root, "ID0006")[1] == []


def test_id0006_an_arm_that_is_not_in_ta_is_reported(tmp_path):
    root = _package(tmp_path, [("A", "Drug A"), ("B", "Drug B")], ["S-1", "S-2"])
    _, found = findings(root, "ID0006")
    assert sorted((f.record, f.variable, f.value) for f in found) == [
        (2, "ACTARMCD", "B"),
        (2, "ARMCD", "B"),
    ]


def test_id0005_screen_failure_in_any_case_without_exposure_is_clean(tmp_path):
    root = _package(
        tmp_path,
        [("A", "Drug A"), ("Scrnfail", "Screen Failure"), ("UNPLAN", "Unplanned")],
        ["S-1", "S-3"],
    )
    assert findings(root, "ID0005")[1] == []


def test_id0005_exposed_screen_failure_in_any_case_is_reported(tmp_path):
    root = _package(tmp_path, [("A", "Drug A"), ("Scrnfail", "Screen Failure")], ["S-1", "S-2"])
    _, found = findings(root, "ID0005")
    assert [(f.record, f.usubjid, f.value, f.message) for f in found] == [
        (2, "S-2", "Scrnfail", "subject has EX records but ACTARMCD says not treated")
    ]


def test_id0001_float_noise_does_not_hide_a_repeated_seq(tmp_path):
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(
        sdtm,
        "AE",
        {
            "STUDYID": ["ST"] * 3,
            "DOMAIN": ["AE"] * 3,
            "USUBJID": ["S-1"] * 3,
            "AESEQ": [0.1 * 3, 0.3, 1.0],  # 0.30000000000000004 and 0.3: one number
            "AETERM": ["A", "B", "C"],
        },
    )
    _, found = findings(sdtm.parent, "ID0001")
    assert [(f.record, f.variable) for f in found] == [(1, "AESEQ"), (2, "AESEQ")]
    write_dataset(
        sdtm,
        "AE",
        {
            "STUDYID": ["ST"] * 2,
            "DOMAIN": ["AE"] * 2,
            "USUBJID": ["S-1"] * 2,
            "AESEQ": [1.0, 2.0],
            "AETERM": ["A", "B"],
        },
    )
    assert findings(sdtm.parent, "ID0001")[1] == []


def test_id0004_no_reference_dates_to_give_when_exposure_has_study_days_only(tmp_path):
    days_only = days_only_package(tmp_path, dated=False, outcomes=[""], ends=[None])
    assert findings(days_only, "ID0004")[1] == []
    # the same subject with a dated EX record: RFSTDTC and RFXSTDTC are missing
    dated = days_only_package(tmp_path / "d", dated=True, outcomes=[""], ends=[None])
    _, found = findings(dated, "ID0004")
    assert sorted(f.message for f in found) == [
        "RFSTDTC is null but the subject has EX records",
        "RFXSTDTC is null but the subject has EX records",
    ]
