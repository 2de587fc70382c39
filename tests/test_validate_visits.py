"""Visit checks (cdisc_mapper.validate.checks.visits) on tiny hand-written packages:
VISITNUM compared as numbers, each cause reported once with its record count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdisc_mapper.validate.checks.visits import _distinct_pairs
from cdisc_mapper.validate.package import numeric_key, row_keys
from tests.validate_pkg import findings, write_dataset

NOISY = float(np.nextafter(9.3, 0))  # 9.299999999999999: VISITNUM from float sums


def test_noise_is_what_the_tests_assume():
    assert NOISY != 9.3 and repr(NOISY) == "9.299999999999999"


def test_numeric_key_makes_float_noise_one_key():
    keys = numeric_key(np.array([NOISY, 9.3, 0.1 + 0.2, 0.3, np.nan, 0.0, 1.001, 1.002, 1e20]))
    assert keys[0] == keys[1] == 9.3 and keys[2] == keys[3] == 0.3
    assert np.isnan(keys[4]) and keys[5] == 0.0
    assert keys[6] != keys[7]  # 1.001 and 1.002 are two unscheduled visits
    assert keys[8] == 1e20


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != 0))
def test_numeric_key_is_within_1e_9_relative_and_stable(value):
    key = numeric_key(np.array([value]))[0]
    assert abs(key - value) <= 1e-9 * abs(value)
    assert numeric_key(np.array([key]))[0] == key


def test_numeric_key_of_numbers_is_that_of_the_same_values_as_objects():
    # a float column takes no object round trip; text that is not a number is NaN
    numbers = np.array([NOISY, 9.3, np.nan, 2.0, -0.5])
    assert numeric_key(numbers).tolist()[:2] == [9.3, 9.3]
    as_objects = numeric_key(np.array([NOISY, 9.3, None, "2", "-0.5", "x"], dtype=object))
    np.testing.assert_array_equal(numeric_key(numbers), as_objects[:5])
    assert np.isnan(as_objects[5])
    assert numeric_key(np.array([1, 2], dtype=np.int64)).tolist() == [1.0, 2.0]
    assert numeric_key(np.array([True, False])).tolist() == [1.0, 0.0]


def test_row_keys_match_noisy_numbers():
    left, right = row_keys(
        [pd.Series(["S-1", "S-1"]), pd.Series([NOISY, 9.4])], [pd.Series(["S-1"]), pd.Series([9.3])]
    )
    assert np.isin(left, right).tolist() == [True, False]


def _visits(sdtm: Path, name: str, nums: list[float], visits: list[str], subject="S-1") -> None:
    n = len(nums)
    write_dataset(
        sdtm,
        name,
        {
            "STUDYID": ["ST"] * n,
            "DOMAIN": [name] * n,
            "USUBJID": [subject] * n,
            f"{name}SEQ": [float(i + 1) for i in range(n)],
            "VISITNUM": nums,
            "VISIT": visits,
        },
    )


def _package(tmp_path: Path, lb_nums: list[float], lb_visits: list[str]) -> Path:
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(
        sdtm,
        "TV",
        {
            "STUDYID": ["ST", "ST"],
            "DOMAIN": ["TV", "TV"],
            "VISITNUM": [1.0, 9.3],
            "VISIT": ["SCREENING", "WEEK 9"],
        },
    )
    write_dataset(
        sdtm,
        "SV",
        {
            "STUDYID": ["ST", "ST"],
            "DOMAIN": ["SV", "SV"],
            "USUBJID": ["S-1", "S-1"],
            "VISITNUM": [1.0, 9.3],
            "VISIT": ["SCREENING", "WEEK 9"],
            "SVPRESP": ["Y", "Y"],
        },
    )
    _visits(sdtm, "LB", lb_nums, lb_visits)
    return sdtm.parent


def test_tm0008_and_tm0009_float_noise_is_the_same_visit(tmp_path):
    root = _package(tmp_path, [1.0, NOISY, NOISY], ["SCREENING", "WEEK 9", "WEEK 9"])
    assert findings(root, "TM0008")[1] == []
    assert findings(root, "TM0009")[1] == []


def test_tm0008_one_bad_pairing_is_one_finding_with_its_count(tmp_path):
    # 134 LB records of VISITNUM 9.3 named 'WEEK 09' (TV says 'WEEK 9'): one cause.
    root = _package(tmp_path, [1.0] + [NOISY] * 134, ["SCREENING"] + ["WEEK 09"] * 134)
    _, found = findings(root, "TM0008")
    assert [(f.dataset, f.record, f.variable, f.value) for f in found] == [
        ("LB", 2, "VISITNUM", "9.299999999999999")
    ]
    assert found[0].message == (
        "VISITNUM 9.3 is named 'WEEK 09' here but 'WEEK 9' in 2 records of SV, TV (134 records)"
    )


def test_tm0008_without_tv_the_most_used_name_is_right(tmp_path):
    sdtm = tmp_path / "pkg" / "sdtm"
    _visits(sdtm, "LB", [2.0, 2.0, 2.0], ["WEEK 1", "WEEK 1", "WEEK1"])
    _visits(sdtm, "VS", [2.0, 3.0], ["WEEK 1", "WEEK 1"])
    _, found = findings(sdtm.parent, "TM0008")
    assert sorted((f.dataset, f.record, f.message) for f in found) == [
        (
            "LB",
            3,
            "VISITNUM 2 is named 'WEEK1' here but 'WEEK 1' in 3 records of LB, VS (1 record)",
        ),
        ("VS", 2, "VISIT 'WEEK 1' has VISITNUM 3 here but 2 in 3 records of LB, VS (1 record)"),
    ]


def test_tm0009_a_missing_subject_visit_is_one_finding(tmp_path):
    root = _package(tmp_path, [1.0, 4.0, 4.0, 4.0], ["SCREENING", "WEEK 4", "WEEK 4", "WEEK 4"])
    _, found = findings(root, "TM0009")
    assert [(f.dataset, f.record, f.usubjid, f.message) for f in found] == [
        ("LB", 2, "S-1", "subject has no SV record for VISITNUM 4 (3 records)")
    ]


def test_tm0010_planned_visit_compared_with_tv_as_numbers(tmp_path):
    root = _package(tmp_path, [1.0], ["SCREENING"])
    sv = root / "sdtm"
    write_dataset(
        sv,
        "SV",
        {
            "STUDYID": ["ST"] * 3,
            "DOMAIN": ["SV"] * 3,
            "USUBJID": ["S-1", "S-2", "S-3"],
            "VISITNUM": [NOISY, 5.0, 5.0],
            "VISIT": ["WEEK 9", "WEEK 5", "WEEK 5"],
            "SVPRESP": ["Y", "Y", "Y"],
        },
    )
    _, found = findings(root, "TM0010")
    assert [(f.record, f.variable, f.message) for f in found] == [
        (2, "VISITNUM", "planned VISITNUM 5 is not in TV (2 records)")
    ]


@pytest.mark.parametrize("extra", [0, 60])
def test_visit_pairs_are_counted_by_distinct_value(extra):
    # extra: 60 more visits of one record each, so that the (VISITNUM, VISIT) pairs are
    # too sparse to count by position; the counts are the same
    nums = [1.0, NOISY, 9.3, np.nan, 2.0, 1.0]
    names = ["SCREENING", "WEEK 9", "WEEK 9", "WEEK 9", "", "DAY 1"]
    nums += [100.0 + i for i in range(extra)]
    names += [f"V{i}" for i in range(extra)]
    pairs = _distinct_pairs(pd.DataFrame({"VISITNUM": nums, "VISIT": pd.Categorical(names)}))
    rows = zip(pairs["num"], pairs["VISIT"], pairs["records"], strict=True)
    counted = {(n, v): r for n, v, r in rows}
    expected = {(1.0, "SCREENING"): 1, (9.3, "WEEK 9"): 2, (1.0, "DAY 1"): 1}
    expected |= {(100.0 + i, f"V{i}"): 1 for i in range(extra)}
    assert counted == expected
