"""Timing checks (cdisc_mapper.validate.checks.timing) on tiny hand-written packages:
which date EPOCH is compared with, and VISITNUM compared as numbers and reported by
cause."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.validate.checks.timing import Elements
from cdisc_mapper.validate.package import Dataset
from cdisc_mapper.xpt import XptMetadata
from tests.validate_pkg import days_only_package, findings, se_records, write_dataset


def _ae(tmp_path: Path, epoch: str) -> Path:
    """An AE collected (AEDTC) in TREATMENT but started (AESTDTC) in SCREENING."""
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(sdtm, "SE", se_records())
    write_dataset(
        sdtm,
        "AE",
        {
            "STUDYID": ["ST"],
            "DOMAIN": ["AE"],
            "USUBJID": ["S-1"],
            "AESEQ": [1.0],
            "AETERM": ["HEADACHE"],
            "EPOCH": [epoch],
            "AEDTC": ["2020-01-20"],
            "AESTDTC": ["2020-01-05"],
        },
    )
    return sdtm.parent


def test_tm0006_events_take_the_epoch_of_their_start_date(tmp_path):
    _, found = findings(_ae(tmp_path, "SCREENING"), "TM0006")
    assert found == []  # the collection date (TREATMENT) is not what EPOCH describes


def test_tm0006_an_event_epoch_other_than_its_start_dates_is_reported(tmp_path):
    _, found = findings(_ae(tmp_path, "TREATMENT"), "TM0006")
    assert [(f.dataset, f.record, f.variable, f.value) for f in found] == [
        ("AE", 1, "EPOCH", "TREATMENT")
    ]
    assert found[0].message == "expected EPOCH SCREENING (SE)"


def _lb(tmp_path: Path, epoch: str) -> Path:
    """A finding collected (LBDTC) in TREATMENT; LBSTDTC (specimen start) in SCREENING."""
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(sdtm, "SE", se_records())
    write_dataset(
        sdtm,
        "LB",
        {
            "STUDYID": ["ST"],
            "DOMAIN": ["LB"],
            "USUBJID": ["S-1"],
            "LBSEQ": [1.0],
            "LBTESTCD": ["ALB"],
            "EPOCH": [epoch],
            "LBDTC": ["2020-01-20"],
            "LBSTDTC": ["2020-01-05"],
        },
    )
    return sdtm.parent


def test_tm0006_findings_take_the_epoch_of_their_collection_date(tmp_path):
    assert findings(_lb(tmp_path, "TREATMENT"), "TM0006")[1] == []
    _, found = findings(_lb(tmp_path, "SCREENING"), "TM0006")
    assert [(f.dataset, f.record, f.message) for f in found] == [
        ("LB", 1, "expected EPOCH TREATMENT (SE)")
    ]


def _qs_days_only(tmp_path: Path, days: list[float]) -> Path:
    """Relative-day data without an anchor: QSDY given, no QSDTC; DM has no RFSTDTC."""
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(
        sdtm,
        "DM",
        {"STUDYID": ["ST"], "DOMAIN": ["DM"], "USUBJID": ["S-1"], "RFSTDTC": [""]},
    )
    n = len(days)
    write_dataset(
        sdtm,
        "QS",
        {
            "STUDYID": ["ST"] * n,
            "DOMAIN": ["QS"] * n,
            "USUBJID": ["S-1"] * n,
            "QSSEQ": [float(i + 1) for i in range(n)],
            "QSTESTCD": ["ALSR01"] * n,
            "QSDY": days,
        },
    )
    return sdtm.parent


def test_tm0003_study_days_without_dates_are_no_false_alarm(tmp_path):
    _, found = findings(_qs_days_only(tmp_path, [-7.0, 1.0, 92.0]), "TM0003")
    assert found == []  # nothing to compare a day with but the no-day-0 rule


def test_tm0003_study_day_0_without_a_date_is_reported(tmp_path):
    _, found = findings(_qs_days_only(tmp_path, [1.0, 0.0]), "TM0003")
    assert [(f.dataset, f.record, f.variable) for f in found] == [("QS", 2, "QSDY")]
    assert found[0].message == "QSDY is 0 (there is no study day 0)"


def test_tm0013_states_the_rule_for_study_days_without_dates(tmp_path):
    pkg = days_only_package(tmp_path, dated=False, outcomes=["RECOVERED/RESOLVED"], ends=[10.0])
    _, found = findings(pkg, "TM0013")
    assert [(f.dataset, f.variable, f.severity.name) for f in found] == [
        ("AE", "AEENDY", "INFO"),
        ("AE", "AESTDY", "INFO"),
        ("EX", "EXSTDY", "INFO"),
    ]
    assert found[0].message == (
        "AEENDY: 1 of 1 records have a study day and no AEENDTC: checked for day 0 only "
        "(day 1 is the reference day, the day before it -1; SDTMIG v3.4 §4.4.4)"
    )


def test_tm0013_is_silent_when_every_study_day_has_its_date(tmp_path):
    pkg = _lb(tmp_path, "TREATMENT")  # no study days at all
    assert findings(pkg, "TM0013")[1] == []
    pkg = days_only_package(tmp_path / "dated", dated=True, outcomes=["FATAL"], ends=[None])
    _, found = findings(pkg, "TM0013")
    assert [(f.dataset, f.variable) for f in found] == [("AE", "AESTDY")]  # EXSTDY has a date


def _dataset(name: str, records: dict[str, list]) -> Dataset:
    frame = pd.DataFrame({k: pd.Categorical(v) for k, v in records.items()})
    meta = XptMetadata(name, name, [], len(frame))
    return Dataset(name, name, Path(name), frame, meta, "SDTM", name, "Events", None, None)


def test_elements_find_the_element_started_latest_on_or_before_each_day():
    se = _dataset(
        "SE",
        {
            "USUBJID": ["S-2", "S-1", "S-1", "S-1", "S-2"],
            "SESTDTC": ["2020-01-05", "2020-01-11", "2020-01-01", "2020-01-11", ""],
            "SEENDTC": ["", "2020-01-20", "2020-01-10", "2020-01-11", "2020-01-01"],
            "EPOCH": ["SCREENING", "TREATMENT", "SCREENING", "RUN-IN", "IGNORED"],
        },
    )
    elements = Elements.of(se)
    # sorted by subject, start, end; the element without a start left out
    assert elements.epoch.tolist() == ["SCREENING", "SCREENING", "RUN-IN", "TREATMENT"]
    assert elements.end[0] == np.inf  # S-2's element has no end
    assert elements.prev_epoch.tolist() == ["", "", "SCREENING", "RUN-IN"]
    subjects = elements.subjects.get_indexer(["S-1", "S-1", "S-1", "S-2", "S-2"])
    jan1 = 21915.0  # 2020-01-01 as a SAS date: 60 * 365 + 15 leap days after 1960-01-01
    days = np.array([jan1 - 1, jan1 + 4, jan1 + 10, jan1 + 3, jan1 + 4])
    at = elements.latest_started(np.append(subjects, -1), np.append(days, jan1))
    # before S-1's first element: none; 01-05 in S-1's SCREENING; on 01-11 two elements
    # start: the later in sort order (TREATMENT, ending last); S-2 on 01-04: none;
    # S-2 on 01-05: its SCREENING; a subject not in SE: none
    assert at.tolist() == [-1, 1, 3, -1, 0, -1]


def test_epoch_of_a_record_on_the_day_one_element_ends_and_the_next_starts(tmp_path):
    # SCREENING ends 2020-01-10, TREATMENT starts 2020-01-11: a record on 01-10 may say
    # SCREENING; one on 01-11 with SCREENING is a mismatch (expected TREATMENT)
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(sdtm, "SE", se_records())
    write_dataset(
        sdtm,
        "AE",
        {
            "STUDYID": ["ST", "ST", "ST"],
            "DOMAIN": ["AE", "AE", "AE"],
            "USUBJID": ["S-1", "S-1", "S-1"],
            "AESEQ": [1.0, 2.0, 3.0],
            "AETERM": ["A", "B", "C"],
            "EPOCH": ["SCREENING", "SCREENING", "SCREENING"],
            "AESTDTC": ["2020-01-10", "2020-01-11", "2019-12-01"],
        },
    )
    _, found = findings(sdtm.parent, "TM0006")
    assert [(f.record, f.message) for f in found] == [(2, "expected EPOCH TREATMENT (SE)")]
    _, outside = findings(sdtm.parent, "TM0007")
    assert [f.record for f in outside] == [3]
