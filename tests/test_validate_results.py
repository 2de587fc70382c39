"""Results and units of Findings (cdisc_mapper.validate.checks.results, SD0101-SD0104):
one seeded defect per check in a copy of the demo output, the clean demo, and the cases a
check must leave alone (unitless tests, non-numeric results, float noise, derived
records)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.validate.checks.results import numbers
from cdisc_mapper.xpt import read_xpt
from tests.test_validate_checks import (  # noqa: F401  (pkg is a fixture)
    one,
    pkg,
    rewrite,
    row_of,
    run,
    set_value,
    xpt_path,
)


@pytest.mark.parametrize("check_id", ["SD0101", "SD0102", "SD0103", "SD0104"])
def test_results_checks_are_silent_on_the_demo(pkg, check_id):  # noqa: F811
    report, found = run(pkg, check_id)
    assert found == [] and report.checks[0].status == "passed"


def test_numbers_read_from_text():
    got = numbers(pd.Series(["9.3", " -1 ", ".5", "1.5E3", "<5", "POSITIVE", "", None]))
    expected = np.array([9.3, -1.0, 0.5, 1500.0, np.nan, np.nan, np.nan, np.nan])
    assert np.array_equal(got, expected, equal_nan=True)
    categorical = numbers(pd.Series(["2", "x", "2", None], dtype="category"))
    assert np.array_equal(categorical, [2.0, np.nan, 2.0, np.nan], equal_nan=True)


def test_sd0101_numeric_orres_without_unit(pkg):  # noqa: F811
    row = row_of(pkg, "VS", lambda df: df["VSTESTCD"] == "SYSBP")
    word = row_of(pkg, "LB", lambda df: df["LBTESTCD"] == "CRP")
    rewrite(pkg, "VS", lambda df: set_value(df, row, "VSORRESU", ""))
    # a non-numeric result without unit is not flagged
    rewrite(
        pkg,
        "LB",
        lambda df: set_value(set_value(df, word, "LBORRES", "NEGATIVE"), word, "LBORRESU", ""),
    )
    _, found = run(pkg, "SD0101")
    f = one(found, dataset="VS")
    assert (f.record, f.variable) == (row + 1, "VSORRESU")
    assert "VSORRES is a number" in f.message
    assert [x for x in found if x.dataset == "LB"] == []


def test_sd0102_stresn_without_standard_unit(pkg):  # noqa: F811
    row = row_of(pkg, "LB", lambda df: (df["LBTESTCD"] == "HGB") & df["LBSTRESN"].notna())
    rewrite(pkg, "LB", lambda df: set_value(df, row, "LBSTRESU", ""))
    _, found = run(pkg, "SD0102")
    f = one(found, dataset="LB")
    assert (f.record, f.variable) == (row + 1, "LBSTRESU")


def test_sd0102_test_without_any_unit_is_not_flagged(pkg):  # noqa: F811
    def unitless(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["VSTESTCD"] == "PULSE", "VSSTRESU"] = ""
        return df

    rewrite(pkg, "VS", unitless)
    _, found = run(pkg, "SD0102")
    assert found == []


def test_sd0103_stresc_and_stresn_disagree(pkg):  # noqa: F811
    lb, _ = read_xpt(xpt_path(pkg, "LB"))
    rows = np.flatnonzero(lb["LBSTRESN"].notna().to_numpy())[:4]
    noise, differ, word, no_number = (int(r) for r in rows)

    def seed(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[noise, ["LBSTRESC", "LBSTRESN"]] = ["9.3", 9.299999999999999]  # agrees
        df.loc[differ, ["LBSTRESC", "LBSTRESN"]] = ["5.1", 5.2]
        df.loc[word, ["LBSTRESC", "LBSTRESN"]] = ["NEGATIVE", 1.0]
        df.loc[no_number, ["LBSTRESC", "LBSTRESN"]] = ["7", np.nan]
        return df

    rewrite(pkg, "LB", seed)
    _, found = run(pkg, "SD0103")
    got = sorted((f.record, f.variable, f.message) for f in found)
    assert got == sorted(
        [
            (differ + 1, "LBSTRESN", "LBSTRESC and LBSTRESN are different numbers"),
            (word + 1, "LBSTRESN", "LBSTRESC is not a number but LBSTRESN is set"),
            (no_number + 1, "LBSTRESC", "LBSTRESC is a number but LBSTRESN is null"),
        ]
    )


def test_sd0104_baseline_record_without_result(pkg):  # noqa: F811
    row = row_of(pkg, "VS", lambda df: df["VSLOBXFL"] == "Y")
    rewrite(pkg, "VS", lambda df: set_value(set_value(df, row, "VSORRES", ""), row, "VSSTRESC", ""))
    _, found = run(pkg, "SD0104")
    f = one(found, dataset="VS")
    assert (f.record, f.variable) == (row + 1, "VSORRES")
    assert f.message == "VSLOBXFL = 'Y' but VSORRES and VSSTRESC are null"


def test_sd0104_derived_baseline_needs_no_original_result(pkg):  # noqa: F811
    row = row_of(pkg, "QS", lambda df: (df["QSLOBXFL"] == "Y") & (df["QSDRVFL"] == "Y"))
    rewrite(pkg, "QS", lambda df: set_value(df, row, "QSORRES", ""))
    _, found = run(pkg, "SD0104")
    assert found == []
