"""A study laid out as the CDISC pilot's raw CRF exports (pharmaverseraw) maps with specs
alone: subject numbers with a site prefix (701-1015), visit labels holding the
unscheduled visit's number (Unscheduled 8.2), the planned study day from the schedule
(VISITDY) and --SEQ in the order the records were read. Errors name study.yaml's line."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.sdtm.engine import run_mapping
from cdisc_mapper.standards import load_terminology

STUDY_YAML = """\
studyid: CDISCPILOT01
title: A pilot-like study
sponsor: Example Sponsor
subjects:
  subject_column: PATNUM
  subject_pattern: '(?P<SITEID>\\d+)-(?P<SUBJID>\\d+)'
  usubjid: '01-{SITEID}-{SUBJID}'
  date_order: MDY
arms: []
elements: []
visits:
  - {visitnum: 1, visit: SCREENING 1, raw_labels: [Screening 1], visitdy: -7,
     start_rule: Informed consent}
  - {visitnum: 3, visit: BASELINE, raw_labels: [Baseline], visitdy: 1, start_rule: Day 1}
  - {visitnum: 4, visit: WEEK 2, raw_labels: [Week 2], visitdy: 14, start_rule: Week 2}
unscheduled:
  raw_labels: [Unscheduled]
  pattern: 'Unscheduled (?P<number>\\d+\\.\\d+)'
  step: 0.1
"""

DM_YAML = """\
domain: DM
keys: [STUDYID, USUBJID]
sources:
  - form: dm
    variables:
      STUDYID: {op: studyid}
      DOMAIN: {op: domain}
      USUBJID: {op: usubjid}
      SUBJID: {op: subjid}
      SITEID: {op: siteid}
"""

VS_YAML = """\
domain: VS
keys: [STUDYID, USUBJID, VSSEQ]
sources:
  - form: vitals
    melt:
      items:
        - {test: SYSBP, value: SYS_BP}
        - {test: DIABP, value: DIA_BP}
    variables:
      STUDYID: {op: studyid}
      DOMAIN: {op: domain}
      USUBJID: {op: usubjid}
      VSTESTCD: {op: column, column: _TEST}
      VSORRES: {op: column, column: _VALUE}
      VSDTC: {op: date, column: VTLD}
      _VISIT: {op: column, column: INSTANCE}
  - form: vitals_extra
    variables:
      STUDYID: {op: studyid}
      DOMAIN: {op: domain}
      USUBJID: {op: usubjid}
      VSTESTCD: {op: column, column: TEST}
      VSORRES: {op: column, column: RESULT}
      VSDTC: {op: date, column: VTLD}
      _VISIT: {op: column, column: INSTANCE}
variables:
  VISITNUM: {op: visitnum, label: _VISIT, date: VSDTC}
  VISIT: {op: visit}
  VISITDY: {op: schedule, field: visitdy}
  VSSEQ: {op: seq}
"""

DM_CSV = "PATNUM\n701-1015\n702-1001\n"
VITALS_CSV = """\
PATNUM,INSTANCE,VTLD,SYS_BP,DIA_BP
701-1015,Screening 1,12/26/2013,130,80
702-1001,Baseline,01/02/2014,,75
701-1015,Unscheduled 3.1,01/05/2014,128,
701-1015,Baseline,01/02/2014,125,78
701-1015,UNSCHEDULED  3.2,,124,77
701-1015,Unscheduled,01/09/2014,122,76
"""
EXTRA_CSV = "PATNUM,INSTANCE,VTLD,TEST,RESULT\n701-1015,Week 2,01/16/2014,PULSE,70\n"


def write_study(tmp_path: Path, study: str = STUDY_YAML, dm: str = DM_CSV) -> tuple[Path, Path]:
    root, raw = tmp_path / "study", tmp_path / "raw"
    (root / "sdtm").mkdir(parents=True)
    raw.mkdir()
    (root / "study.yaml").write_text(study)
    (root / "sdtm" / "dm.yaml").write_text(DM_YAML)
    (root / "sdtm" / "vs.yaml").write_text(VS_YAML)
    (raw / "dm.csv").write_text(dm)
    (raw / "vitals.csv").write_text(VITALS_CSV)
    (raw / "vitals_extra.csv").write_text(EXTRA_CSV)
    return root, raw


def mapped(tmp_path: Path, **kwargs: str) -> dict[str, pd.DataFrame]:
    root, raw = write_study(tmp_path, **kwargs)
    return run_mapping(load_study(root), load_terminology(), raw).domains


def test_subject_numbers_with_a_site_prefix(tmp_path: Path) -> None:
    dm = mapped(tmp_path)["DM"]
    assert dm[["USUBJID", "SUBJID", "SITEID"]].values.tolist() == [
        ["01-701-1015", "1015", "701"],
        ["01-702-1001", "1001", "702"],
    ]


def test_visits_numbered_from_labels_schedule_and_calendar(tmp_path: Path) -> None:
    vs = mapped(tmp_path)["VS"]
    got = vs[["USUBJID", "VSTESTCD", "VISITNUM", "VISIT", "VISITDY", "VSSEQ"]]
    rows = [[None if pd.isna(v) else v for v in row] for row in got.values.tolist()]
    assert rows == [
        # vitals.csv, in file row order, each row's items in melt order
        ["01-701-1015", "SYSBP", 1.0, "SCREENING 1", -7.0, 1.0],
        ["01-701-1015", "DIABP", 1.0, "SCREENING 1", -7.0, 2.0],
        ["01-702-1001", "DIABP", 3.0, "BASELINE", 1.0, 1.0],
        ["01-701-1015", "SYSBP", 3.1, "UNSCHEDULED 3.1", None, 3.0],
        ["01-701-1015", "SYSBP", 3.0, "BASELINE", 1.0, 4.0],
        ["01-701-1015", "DIABP", 3.0, "BASELINE", 1.0, 5.0],
        # a label's number needs no date; case and spaces do not matter
        ["01-701-1015", "SYSBP", 3.2, "UNSCHEDULED 3.2", None, 6.0],
        ["01-701-1015", "DIABP", 3.2, "UNSCHEDULED 3.2", None, 7.0],
        # numbered by the calendar after BASELINE: 3.1 and 3.2 are the labels', so 3.3
        ["01-701-1015", "SYSBP", 3.3, "UNSCHEDULED 3.3", None, 8.0],
        ["01-701-1015", "DIABP", 3.3, "UNSCHEDULED 3.3", None, 9.0],
        # the second source after the first
        ["01-701-1015", "PULSE", 4.0, "WEEK 2", 14.0, 10.0],
    ]


def test_a_subject_number_the_pattern_does_not_match_names_file_row_and_study_line(
    tmp_path: Path,
) -> None:
    with pytest.raises(MappingError) as err:
        mapped(tmp_path, dm=DM_CSV + "7011016\n")
    msg = str(err.value)
    assert msg.startswith(
        "DM.USUBJID: subject PATNUM does not match subjects.subject_pattern "
        "'(?P<SITEID>\\d+)-(?P<SUBJID>\\d+)' (see "
    )
    assert re.search(r"study\.yaml:6 subjects\.subject_pattern\) in 1 record\(s\): ", msg)
    assert "dm.csv row 4: '7011016'" in msg


def test_an_unscheduled_number_of_a_scheduled_visit_names_label_record_and_study_line(
    tmp_path: Path,
) -> None:
    study = STUDY_YAML.replace("(?P<number>\\d+\\.\\d+)", "(?P<number>\\d+(\\.\\d+)?)")
    root, raw = write_study(tmp_path, study=study)
    (raw / "vitals.csv").write_text(VITALS_CSV + "701-1015,Unscheduled 4,01/20/2014,120,70\n")
    with pytest.raises(MappingError) as err:
        run_mapping(load_study(root), load_terminology(), raw)
    msg = str(err.value)
    assert msg.startswith(
        "VS.VISITNUM: unscheduled visit numbered as a scheduled visit (VISITNUM 4 is WEEK 2; "
        "a VISITNUM names one visit; see "
    )
    assert re.search(r"study\.yaml:18 unscheduled\.pattern\) in 2 record\(s\): ", msg)
    assert msg.endswith(
        "vitals.csv row 8: 'Unscheduled 4 -> 4'; vitals.csv row 8: 'Unscheduled 4 -> 4' "
        f"[spec {root / 'sdtm' / 'vs.yaml'}:27]"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "usubjid: '01-{SITEID}-{SUBJID}'",
            "usubjid: '01-{SITE}-{SUBJID}'",
            r"study\.yaml:7: subjects\.usubjid: .*template field \{SITE\} is not one of "
            r"\{STUDYID\}, \{SITEID\}, \{SUBJID\}",
        ),
        (
            "pattern: 'Unscheduled (?P<number>\\d+\\.\\d+)'",
            "pattern: 'Unscheduled (?P<num>\\d+\\.\\d+)'",
            r"study\.yaml:18: unscheduled\.pattern: .*named group\(s\) \['num'\] in the "
            r"pattern: only \(\?P<number>\.\.\.\)",
        ),
        (
            "raw_labels: [Unscheduled]",
            "raw_labels: [Unscheduled, Baseline]",
            r"study\.yaml:16: unscheduled: .*visit 3 \(BASELINE\) label 'BASELINE' is also "
            r"an unscheduled visit's label \(raw_labels or pattern\)",
        ),
    ],
)
def test_study_yaml_mistakes_are_spec_errors_at_their_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in STUDY_YAML
    root, _ = write_study(tmp_path, study=STUDY_YAML.replace(old, new))
    with pytest.raises(SpecError, match=message):
        load_study(root)
