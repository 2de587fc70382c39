"""DM and AE consistency (cdisc_mapper.validate.checks.consistency, ID0101-ID0104): one
seeded defect per check in a copy of the demo output, the clean demo, and the cases a
check must leave alone (case of coded values, subjects not treated, partial dates)."""

from __future__ import annotations

import pandas as pd
import pytest

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
from tests.validate_pkg import days_only_package, findings


@pytest.mark.parametrize("check_id", ["ID0101", "ID0102", "ID0103", "ID0104"])
def test_consistency_checks_are_silent_on_the_demo(pkg, check_id):  # noqa: F811
    report, found = run(pkg, check_id)
    assert found == [] and report.checks[0].status == "passed"


def test_id0101_actual_arm_differs_from_planned(pkg):  # noqa: F811
    def seed(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[0, ["ACTARMCD", "ACTARM"]] = ["PLACEBO", "Placebo"]
        df.loc[1, "ACTARMCD"] = df.loc[1, "ARMCD"].lower()  # same code, other case
        df.loc[2, ["ACTARMCD", "ACTARM", "ARMNRS"]] = ["Scrnfail", "Screen Failure", ""]
        return df

    rewrite(pkg, "DM", seed)
    dm, _ = read_xpt(xpt_path(pkg, "DM"))
    _, found = run(pkg, "ID0101")
    f = one(found, dataset="DM")
    assert (f.record, f.variable, f.value) == (1, "ACTARMCD", "PLACEBO")
    assert f.message == f"ACTARMCD differs from ARMCD {dm.loc[0, 'ARMCD']!r}"


def test_id0102_outcome_and_end_date(pkg):  # noqa: F811
    ended = row_of(pkg, "AE", lambda df: df["AEOUT"] == "RECOVERED/RESOLVED")
    ongoing = row_of(pkg, "AE", lambda df: df["AEOUT"] == "NOT RECOVERED/NOT RESOLVED")

    def seed(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[ended, ["AEOUT", "AEENDTC"]] = ["recovered/resolved", ""]
        df.loc[ongoing, "AEENDTC"] = "2017-01-01"
        return df

    rewrite(pkg, "AE", seed)
    _, found = run(pkg, "ID0102")
    assert sorted((f.record, f.message) for f in found) == sorted(
        [
            (ended + 1, "AEOUT says the event ended but AEENDTC is null"),
            (ongoing + 1, "AEOUT says the event has not ended but AEENDTC is set"),
        ]
    )
    assert {f.variable for f in found} == {"AEENDTC"}


def test_id0103_seriousness_criteria_and_aeser(pkg):  # noqa: F811
    flagged = row_of(pkg, "AE", lambda df: df["AESER"] == "N")
    serious = row_of(pkg, "AE", lambda df: df["AESER"] == "Y")
    criteria = ["AESCONG", "AESDISAB", "AESDTH", "AESHOSP", "AESLIFE", "AESMIE"]

    def seed(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[flagged, "AESHOSP"] = "Y"
        df.loc[serious, criteria] = "N"
        return df

    rewrite(pkg, "AE", seed)
    _, found = run(pkg, "ID0103")
    got = {f.record: f.message for f in found}
    assert got == {
        flagged + 1: "AESHOSP = 'Y' but AESER is not 'Y'",
        serious + 1: "AESER = 'Y' but no seriousness criterion "
        "(AESCONG, AESDISAB, AESDTH, AESHOSP, AESLIFE, AESMIE) is 'Y'",
    }


def test_id0104_fatal_event_without_death_in_dm(pkg):  # noqa: F811
    fatal = row_of(pkg, "AE", lambda df: df["AEOUT"] == "FATAL")
    ae, _ = read_xpt(xpt_path(pkg, "AE"))
    subject = ae.loc[fatal, "USUBJID"]
    rewrite(
        pkg, "DM", lambda df: set_value(df, int((df["USUBJID"] == subject).idxmax()), "DTHFL", "")
    )
    _, found = run(pkg, "ID0104")
    f = one(found, dataset="AE")
    assert (f.record, f.usubjid, f.variable) == (fatal + 1, subject, "AEOUT")
    assert "DM.DTHFL is not 'Y'" in f.message


def test_id0104_fatal_event_ends_on_another_day_than_death(pkg):  # noqa: F811
    fatal = row_of(pkg, "AE", lambda df: df["AEOUT"] == "FATAL")
    dm, _ = read_xpt(xpt_path(pkg, "DM"))
    ae, _ = read_xpt(xpt_path(pkg, "AE"))
    death = dm.loc[dm["USUBJID"] == ae.loc[fatal, "USUBJID"], "DTHDTC"].iloc[0]
    day_before = (pd.Timestamp(death) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    rewrite(pkg, "AE", lambda df: set_value(df, fatal, "AEENDTC", day_before))
    _, found = run(pkg, "ID0104")
    f = one(found, dataset="AE", variable="AEENDTC")
    assert (f.record, f.value) == (fatal + 1, day_before)
    assert f.message == f"fatal adverse event ends on a day other than DM.DTHDTC {death}"
    # a partial end date that may be the death day is not a finding
    rewrite(pkg, "AE", lambda df: set_value(df, fatal, "AEENDTC", death[:7]))
    _, found = run(pkg, "ID0104")
    assert found == []


def test_id0102_an_end_given_as_a_study_day_is_an_end(tmp_path):
    days_only = days_only_package(
        tmp_path,
        dated=False,
        outcomes=["RECOVERED/RESOLVED", "RECOVERED/RESOLVED", "NOT RECOVERED/NOT RESOLVED"],
        ends=[10.0, None, 12.0],
    )
    _, found = findings(days_only, "ID0102")
    assert [(f.record, f.message) for f in found] == [
        (2, "AEOUT says the event ended but AEENDTC is null"),
        (3, "AEOUT says the event has not ended but AEENDY is set"),
    ]
