"""Trial design (cdisc_mapper.sdtm.trial_design): TS values the study spec derives from
the mapped data (ACTSUB) and the spec rule behind them."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from cdisc_mapper.errors import SpecError
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.sdtm.trial_design import actual_subjects, build_ts, last_participation
from cdisc_mapper.spec.study import TrialSummaryParam
from cdisc_mapper.standards import load_terminology
from tests.conftest import STUDY


def test_actual_subjects_counts_dm_subjects_apart_from_screen_failures():
    dm = pd.DataFrame(
        {
            "USUBJID": ["S-1", "S-2", "S-3", "S-4", "S-5"],
            "ARMCD": ["MSC", "MSC", "Scrnfail", "SCRNFAIL", "NOTASSGN"],
        }
    )
    assert actual_subjects(dm) == "3"  # S-1, S-2 and the enrolled but unassigned S-5


def test_actual_subjects_without_armcd_counts_every_subject():
    assert actual_subjects(pd.DataFrame({"USUBJID": ["A", "B", "B"]})) == "2"


def test_actual_subjects_needs_dm():
    with pytest.raises(SpecError, match="actual_subjects needs the DM domain"):
        actual_subjects(None)


def test_a_parameter_gives_a_value_a_derivation_or_a_null_flavor():
    assert TrialSummaryParam(tsparmcd="ACTSUB", derive="actual_subjects").tsval is None
    assert TrialSummaryParam(tsparmcd="REGID", tsvalnf="UNK").tsval is None
    with pytest.raises(ValidationError, match="derive computes TSVAL"):
        TrialSummaryParam(tsparmcd="ACTSUB", tsval="20", derive="actual_subjects")
    with pytest.raises(ValidationError, match="derive computes TSVAL"):
        TrialSummaryParam(tsparmcd="ACTSUB", tsvalnf="UNK", derive="actual_subjects")
    with pytest.raises(ValidationError, match="give tsval, derive, or tsvalnf"):
        TrialSummaryParam(tsparmcd="ACTSUB")
    with pytest.raises(ValidationError):
        TrialSummaryParam(tsparmcd="ACTSUB", derive="planned_subjects")  # type: ignore[arg-type]


def test_last_participation_is_the_latest_complete_rfpendtc():
    dm = pd.DataFrame({"RFPENDTC": ["2019-03-02", "2020-11-30T10:15", "2020-12", ""]})
    assert last_participation(dm) == "2020-11-30"  # the partial 2020-12 is not a date


def test_last_participation_without_a_complete_date_is_none():
    assert last_participation(pd.DataFrame({"RFPENDTC": ["2020", ""]})) is None
    assert last_participation(None) is None


def test_ts_states_unk_when_the_cutoff_cannot_be_derived(caplog):
    study = load_study(STUDY).study
    dm = pd.DataFrame({"USUBJID": ["A"], "ARMCD": ["MSC"], "RFPENDTC": [""]})
    ts = build_ts(study, load_terminology(), dm)
    cutoff = ts[ts["TSPARMCD"] == "DCUTDTC"].iloc[0]
    assert (cutoff["TSVAL"], cutoff["TSVALNF"]) == ("", "UNK")
    assert "TS DCUTDTC: no complete DM.RFPENDTC" in caplog.text
    assert ts.loc[ts["TSPARMCD"] == "ACTSUB", "TSVAL"].tolist() == ["1"]
