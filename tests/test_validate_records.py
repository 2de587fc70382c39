"""Records of SDTM datasets (cdisc_mapper.validate.checks.records, SD0111-SD0114): one
seeded defect per check in a copy of the demo output (with its define.xml for the checks
that use the define.xml keys), the clean demo, and the specs data they read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.standards import resolve_specs_dir
from cdisc_mapper.validate.checks.records import (
    first_of_group,
    natural_keys,
    row_groups,
    sort_codes,
)
from cdisc_mapper.xpt import read_xpt
from tests.test_validate_checks import (  # noqa: F401  (pkg is a fixture)
    one,
    pkg,
    rewrite,
    row_of,
    run,
    xpt_path,
)
from tests.test_validate_define_values import defined, defined_template  # noqa: F401


@pytest.mark.parametrize("check_id", ["SD0111", "SD0112", "SD0113"])
def test_records_checks_are_silent_on_the_demo(pkg, check_id):  # noqa: F811
    report, found = run(pkg, check_id)
    assert found == [] and report.checks[0].status == "passed"


@pytest.mark.parametrize("check_id", ["SD0111", "SD0112", "SD0114"])
def test_records_checks_are_silent_on_the_demo_with_its_define(defined, check_id):  # noqa: F811
    folder, define = defined
    report, found = run(folder, check_id, define=define)
    assert found == [] and report.checks[0].status == "passed"


def test_sort_codes_follow_sas_order():
    text = pd.Series(["b", "", "B", "a", None, "b"], dtype=object)
    assert list(sort_codes(text)) == [3, 0, 1, 2, 0, 3]  # missing first, bytes: B < a < b
    numbers = pd.Series([2.0, np.nan, -1.0, 2.0])
    assert list(sort_codes(numbers)) == [2, 0, 1, 2]
    categorical = pd.Series(["b", "a", None], dtype="category")
    assert list(sort_codes(categorical)) == [2, 1, 0]


def test_row_groups_number_equal_rows_alike():
    frame = pd.DataFrame({"A": ["x", "x", "y", "x", None], "B": [1.0, 2.0, 1.0, 1.0, np.nan]})
    assert list(row_groups(frame, ["A", "B"])) == [0, 1, 2, 0, 3]


def test_sd0111_subject_out_of_order(pkg):  # noqa: F811
    rewrite(pkg, "AE", lambda df: pd.concat([df.iloc[[-1]], df.iloc[:-1]], ignore_index=True))
    ae, _ = read_xpt(xpt_path(pkg, "AE"))
    _, found = run(pkg, "SD0111")
    f = one(found, dataset="AE")
    assert (f.record, f.usubjid, f.variable) == (2, ae.loc[1, "USUBJID"], "USUBJID")
    assert "STUDYID, USUBJID" in f.message and "(1 record out of order)" in f.message


def test_sd0114_not_sorted_by_all_define_keys(defined):  # noqa: F811
    folder, define = defined
    ae, _ = read_xpt(xpt_path(folder, "AE"))
    same = (ae["USUBJID"] == ae["USUBJID"].shift(-1)) & (ae["AEDECOD"] != ae["AEDECOD"].shift(-1))
    first = int(np.flatnonzero(same.to_numpy())[0])
    order = list(range(len(ae)))
    order[first], order[first + 1] = first + 1, first
    rewrite(folder, "AE", lambda df: df.iloc[order].reset_index(drop=True))
    report, found = run(folder, "SD0114", define=define)
    f = one(found, dataset="AE")
    assert f.record == first + 2
    assert "STUDYID, USUBJID, AEDECOD, AESTDTC, AESPID" in f.message
    assert report.exit_code("warning") == 0  # a note
    _, found = run(folder, "SD0111", define=define)
    assert found == []  # the subject's records are still together


def test_sd0114_skips_without_define(pkg):  # noqa: F811
    report, found = run(pkg, "SD0114")
    assert found == [] and report.checks[0].status == "skipped"


def test_sd0112_duplicate_natural_keys(pkg):  # noqa: F811
    def duplicate(df: pd.DataFrame) -> pd.DataFrame:
        copy = df.iloc[[3]].assign(VSSEQ=df["VSSEQ"].max() + 1)
        return pd.concat([df, copy], ignore_index=True)

    rewrite(pkg, "VS", duplicate)
    vs, _ = read_xpt(xpt_path(pkg, "VS"))
    _, found = run(pkg, "SD0112")
    f = one(found, dataset="VS")
    assert f.record == len(vs)
    assert "SDTMIG natural keys" in f.message and f.message.endswith("as record 4")
    assert "VSTESTCD" in f.message and "VISITNUM" in f.message


def test_sd0112_duplicate_define_keys(defined):  # noqa: F811
    folder, define = defined
    rewrite(folder, "DM", lambda df: pd.concat([df, df.iloc[[1]]], ignore_index=True))
    dm, _ = read_xpt(xpt_path(folder, "DM"))
    _, found = run(folder, "SD0112", define=define)
    f = one(found, dataset="DM")
    assert f.record == len(dm)
    assert f.message == "same define.xml keys (STUDYID, USUBJID) as record 2"


def test_sd0113_two_baselines_for_one_test(pkg):  # noqa: F811
    lb, _ = read_xpt(xpt_path(pkg, "LB"))
    base = int(np.flatnonzero((lb["LBLOBXFL"] == "Y").to_numpy())[0])
    same_test = (
        (lb["USUBJID"] == lb.loc[base, "USUBJID"])
        & (lb["LBTESTCD"] == lb.loc[base, "LBTESTCD"])
        & (lb["LBCAT"] == lb.loc[base, "LBCAT"])
        & (lb["LBLOBXFL"] != "Y")
    )
    other = int(np.flatnonzero(same_test.to_numpy())[0])
    rewrite(pkg, "LB", lambda df: df.assign(LBLOBXFL=df["LBLOBXFL"].where(df.index != other, "Y")))
    _, found = run(pkg, "SD0113")
    f = one(found, dataset="LB")
    later, earlier = max(base, other), min(base, other)
    assert (f.record, f.variable) == (later + 1, "LBLOBXFL")
    assert f.message.endswith(f"(USUBJID, LBTESTCD, LBCAT): record {earlier + 1}")


def test_sd0113_one_baseline_per_laterality_is_right(pkg):  # noqa: F811
    """Two baselines of one test that differ in an identifying qualifier are right."""
    lb, _ = read_xpt(xpt_path(pkg, "LB"))
    base = int(np.flatnonzero((lb["LBLOBXFL"] == "Y").to_numpy())[0])
    same_test = (
        (lb["USUBJID"] == lb.loc[base, "USUBJID"])
        & (lb["LBTESTCD"] == lb.loc[base, "LBTESTCD"])
        & (lb["LBLOBXFL"] != "Y")
    )
    other = int(np.flatnonzero(same_test.to_numpy())[0])

    def seed(df: pd.DataFrame) -> pd.DataFrame:
        df["LBLOBXFL"] = df["LBLOBXFL"].where(df.index != other, "Y")
        df["LBLAT"] = np.where(df.index == other, "LEFT", np.where(df.index == base, "RIGHT", ""))
        return df

    rewrite(pkg, "LB", seed)
    _, found = run(pkg, "SD0113")
    assert found == []


def test_natural_keys_file_names_known_variables():
    table = natural_keys(resolve_specs_dir())
    assert table[("dataset", "DM")] == ("STUDYID", "USUBJID")
    assert table[("class", "Events")][:2] == ("STUDYID", "USUBJID")
    for (scope, _), keys in table.items():
        assert scope in ("class", "dataset") and keys


@pytest.mark.parametrize("unused", [0, 2_000])
def test_first_of_group_names_each_records_first_equal_record(unused):
    # unused 0: few key combinations (counted by position); 2,000 unused subject
    # categories: far more combinations than records (factorized first); the same answer
    subjects = ["S1", "S2", *(f"U{i}" for i in range(unused))]
    frame = pd.DataFrame(
        {
            "USUBJID": pd.Categorical(["S1", "S2", "S1", None, "S1", None], categories=subjects),
            "N": [1.0, 1.0, 1.0, np.nan, 2.0, np.nan],
            "T": pd.Series(["a", "a", "a", "", "a", ""], dtype=object),
        }
    )
    repeat, first = first_of_group(frame, ["USUBJID", "N", "T"])
    assert repeat.tolist() == [False, False, True, False, False, True]
    assert first.tolist() == [0, 1, 0, 3, 4, 3]
