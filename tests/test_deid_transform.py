"""The rules applied to one dataset (cdisc_mapper.deid.transform, .rules): tiny tables
with expected values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.deid.key import DeidKey
from cdisc_mapper.deid.spec import DateRule, DeidSpec, GroupRule, VariableRule
from cdisc_mapper.deid.transform import REDACTED, deidentify_frame
from cdisc_mapper.xpt import XptMetadata, XptVariable

KEY = DeidKey(
    secret="x",
    subjects={"ST-01-001": "ST-S02", "ST-01-002": "ST-S01"},
    subjids={"001": "S02", "002": "S01"},
    offsets={"ST-01-001": -10, "ST-01-002": 20},
    study_offset=-100,
    sites={"01": "SITE01"},
)


def _meta(name: str, frame: pd.DataFrame) -> XptMetadata:
    variables = tuple(
        XptVariable(c, c, "Num" if pd.api.types.is_numeric_dtype(frame[c]) else "Char", 8)
        for c in frame.columns
    )
    return XptMetadata(name, name, variables, len(frame))


def _run(name: str, frame: pd.DataFrame, spec: DeidSpec | None = None):
    return deidentify_frame(frame, _meta(name, frame), KEY, spec or DeidSpec())


def test_dm_identifiers_dates_sites_and_birth_date() -> None:
    dm = pd.DataFrame(
        {
            "USUBJID": ["ST-01-001", "ST-01-002"],
            "SUBJID": ["001", "002"],
            "SITEID": ["01", "01"],
            "RFSTDTC": ["2016-08-04T10:00", "2016-08"],
            "BRTHDTC": ["1950-01-02", "1960"],
            "AGE": [66.0, 56.0],
        }
    )
    new, changes = _run("DM", dm)
    # sorted by the new USUBJID: subject 002 (now S01) first
    assert new["USUBJID"].tolist() == ["ST-S01", "ST-S02"]
    assert new["SUBJID"].tolist() == ["S01", "S02"]
    assert new["SITEID"].tolist() == ["SITE01", "SITE01"]
    # 002: 1 August 2016 + 20 days is still August
    assert new["RFSTDTC"].tolist() == ["2016-08", "2016-07-25T10:00"]
    assert new["BRTHDTC"].tolist() == ["", ""]
    assert new["AGE"].tolist() == [56.0, 66.0]  # not above 89: kept
    assert {(c.variable, c.action, c.cells) for c in changes} == {
        ("USUBJID", "recode", 2),
        ("SUBJID", "recode", 2),
        ("SITEID", "mask", 2),
        ("RFSTDTC", "offset", 1),  # the month of 002 is unchanged
        ("BRTHDTC", "remove", 2),
    }


def test_ages_above_89_become_90_and_groups_of_only_such_ages_merge() -> None:
    adsl = pd.DataFrame(
        {
            "USUBJID": ["A", "B", "C", "D", "E"],
            "AGE": [45.0, 91.0, 97.0, 88.0, 92.0],
            "AGEGR1": ["<65", "90-94", "95-99", ">=65", "90-94"],
            "AGEGR1N": [1.0, 3.0, 4.0, 2.0, 3.0],
            "AGEGR2": ["<65", ">=65", ">=65", ">=65", ">=65"],
        }
    )
    new, changes = _run("ADSL", adsl)
    assert new["AGE"].tolist() == [45.0, 90.0, 90.0, 88.0, 90.0]
    # 90-94 and 95-99 hold only ages above 89: merged; the lowest number kept
    assert new["AGEGR1"].tolist() == ["<65", ">=90", ">=90", ">=65", ">=90"]
    assert new["AGEGR1N"].tolist() == [1.0, 3.0, 3.0, 2.0, 3.0]
    # >=65 holds 88 too: it says no more than 90+ does, so it stays
    assert new["AGEGR2"].tolist() == adsl["AGEGR2"].tolist()
    assert {(c.variable, c.cells) for c in changes if c.variable.startswith("AGE")} == {
        ("AGE", 3),
        ("AGEGR1", 3),
        ("AGEGR1N", 1),
    }


def test_verbatim_terms_take_the_coded_term_and_free_text_goes() -> None:
    ae = pd.DataFrame(
        {
            "USUBJID": ["ST-01-001", "ST-01-001"],
            "AETERM": ["headache after LP at Dr Cohen's", "Fall"],
            "AEDECOD": ["Post lumbar puncture syndrome", "Fall"],
            "AESTDY": [3.0, 10.0],
        }
    )
    new, changes = _run("AE", ae)
    assert new["AETERM"].tolist() == ["Post lumbar puncture syndrome", "Fall"]
    assert new["AESTDY"].tolist() == [3.0, 10.0]  # study days are kept
    assert [(c.variable, c.action, c.cells) for c in changes if c.variable == "AETERM"] == [
        ("AETERM", "replace", 1)
    ]
    cm = pd.DataFrame({"USUBJID": ["ST-01-002"], "CMTRT": ["Riluzole"], "CMINDC": ["ALS"]})
    new, _ = _run("CM", cm)
    assert new["CMINDC"].tolist() == [""] and new["CMTRT"].tolist() == ["Riluzole"]


def test_spec_overrides_redact_words_and_keep() -> None:
    cm = pd.DataFrame({"USUBJID": ["ST-01-002"], "CMINDC": ["pain after fall at Hadassah"]})
    spec = DeidSpec(variables={"CMINDC": VariableRule(action="redact")}, redact_words=("hadassah",))
    new, changes = _run("CM", cm, spec)
    assert new["CMINDC"].tolist() == [f"pain after fall at {REDACTED}"]
    assert [c.reason for c in changes if c.variable == "CMINDC"] == [
        "set in the de-identification spec"
    ]
    new, changes = _run("CM", cm, DeidSpec(variables={"CMINDC": "keep"}))
    assert new["CMINDC"].tolist() == cm["CMINDC"].tolist()
    assert [c.variable for c in changes] == ["USUBJID"]


def test_supp_subject_ids_in_idvarval_are_recoded_and_listed_qnams_removed() -> None:
    supp = pd.DataFrame(
        {
            "RDOMAIN": ["DM", "DS", "DS"],
            "USUBJID": ["ST-01-001", "ST-01-001", "ST-01-002"],
            "IDVAR": ["USUBJID", "DSSEQ", "DSSEQ"],
            "IDVARVAL": ["ST-01-001", "1", "1"],
            "QNAM": ["RACEOTH", "DSCAUSE", "DSREL"],
            "QVAL": ["Samaritan", "fell from the roof at home", "Y"],
        }
    )
    new, changes = _run("SUPPDS", supp, DeidSpec(supp_remove=("DSCAUSE",)))
    assert new["QNAM"].tolist() == ["DSREL", "RACEOTH"]  # the new subject order
    assert new["IDVARVAL"].tolist() == ["1", "ST-S02"]
    assert ("QVAL", "remove", 1, 1) in {
        (c.variable, c.action, c.cells, c.records_removed) for c in changes
    }
    assert ("IDVARVAL", "recode", 1) in {(c.variable, c.action, c.cells) for c in changes}


def test_trial_dates_keep_every_subject_within_them_and_adam_dates_move_by_the_subject() -> None:
    ts = pd.DataFrame(
        {
            "TSPARMCD": ["SSTDTC", "TITLE", "DCUTDTC", "SENDTC", "XYZDTC"],
            "TSVAL": ["2016-08-01", "A trial", "2020-12-31", "2020-12-31", "2018-01-01"],
        }
    )
    new, _ = _run("TS", ts)
    # the start by the earliest subject offset (-10 days), the cut-off and the end by the
    # latest (+20), any other trial date by the study offset (-100)
    assert new["TSVAL"].tolist() == [
        "2016-07-22",
        "A trial",
        "2021-01-20",
        "2021-01-20",
        "2017-09-23",
    ]
    adsl = pd.DataFrame(
        {
            "USUBJID": ["ST-01-001"],
            "TRTSDT": [20000.0],
            "ADTM": [1728000000.0],
            "ATM": [3600.0],
            "TRTSDY": [1.0],
        }
    )
    new, _ = _run("ADSL", adsl)
    assert new[["TRTSDT", "ADTM", "ATM", "TRTSDY"]].iloc[0].tolist() == [
        19990.0,
        1728000000.0 - 864000.0,
        3600.0,
        1.0,
    ]


def test_grouping_is_applied_by_the_pipeline_not_here() -> None:
    """Rare categories need every subject's value: the pipeline counts them on DM."""
    dm = pd.DataFrame({"USUBJID": ["ST-01-001"], "RACE": ["ASIAN"]})
    new, _changes = _run("DM", dm, DeidSpec(group_rare={"RACE": GroupRule(k=2)}))
    assert new["RACE"].tolist() == ["ASIAN"]
    assert np.array_equal(new["USUBJID"].to_numpy(), np.array(["ST-S02"], dtype=object))


def test_pools_and_related_subjects_are_recoded_and_redact_without_words_blanks_all() -> None:
    key = DeidKey(secret="x", subjects=dict(KEY.subjects), pools={"P-7": "POOL01"})
    apsc = pd.DataFrame(
        {"POOLID": ["P-7", ""], "RSUBJID": ["P-7", "ST-01-002"], "SREL": ["MOTHER", "FATHER"]}
    )
    new, _ = deidentify_frame(apsc, _meta("APDM", apsc), key, DeidSpec())
    assert new["POOLID"].tolist() == ["POOL01", ""]
    assert new["RSUBJID"].tolist() == ["POOL01", "ST-S01"]
    co = pd.DataFrame({"USUBJID": ["ST-01-001"], "COVAL": ["called the PI at home"]})
    new, _ = _run("CO", co, DeidSpec(variables={"COVAL": "redact"}))
    assert new["COVAL"].tolist() == [REDACTED]
    new, _ = _run("CO", co)  # the default for comments: removed
    assert new["COVAL"].tolist() == [""]


def test_dates_removed_instead_of_moved_when_the_spec_says_so() -> None:
    spec = DeidSpec(dates=DateRule(method="remove"))
    ae = pd.DataFrame({"USUBJID": ["ST-01-001"], "AESTDTC": ["2016-08-04"], "AESTDY": [3.0]})
    new, changes = _run("AE", ae, spec)
    assert new[["AESTDTC", "AESTDY"]].iloc[0].tolist() == ["", 3.0]
    assert [(c.variable, c.action) for c in changes if c.variable != "USUBJID"] == [
        ("AESTDTC", "remove")
    ]
    adsl = pd.DataFrame({"USUBJID": ["ST-01-001"], "TRTSDT": [20000.0]})
    new, _ = _run("ADSL", adsl, spec)
    assert np.isnan(new["TRTSDT"].iloc[0])
    ts = pd.DataFrame({"TSPARMCD": ["SSTDTC"], "TSVAL": ["2016-08-01"], "TSVALNF": [""]})
    new, _ = _run("TS", ts, spec)
    assert new[["TSVAL", "TSVALNF"]].iloc[0].tolist() == ["", "MSK"]
