"""The PRO-ACT-layout export (tests/data/proact_raw) mapped without an anchor
(tests/data/proact_study_days: the same raw files, a spec giving study days only): no
calendar date anywhere, yet EPOCH, baseline flags, visits and --SEQ come from study days,
and the package validates with no errors, through the command line as a user runs it.

The expected values were worked out by hand from the raw rows: an offset counts elapsed
days from trial onset (0 on its day), so offset 0 is study day 1, offset 92 day 93 and
offset -7 day -7 (no day 0: the day before day 1 is day -1). The treatment element starts
at EXSTDY 1 (every subject's Treatment_Group_Start_Date_Delta is 0) and ends at the
subject's last study day (100111: Death_Days 202, DSSTDY 203)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cdisc_mapper.cli import main
from cdisc_mapper.xpt import read_xpt

DATA = Path(__file__).parent / "data"
STUDY = DATA / "proact_study_days"
RAW = DATA / "proact_raw"


def _run(*args: object) -> str:
    result = CliRunner().invoke(main, ["-q", *[str(a) for a in args]])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("proact_days")
    _run("sdtm", "--study", STUDY, "--raw", RAW, "--out", out)
    _run("define", "--study", STUDY, "--out", out)
    _run("validate", out)
    return out


def _dataset(package: Path, name: str) -> pd.DataFrame:
    frame, _ = read_xpt(package / "sdtm" / f"{name}.xpt")
    return frame


def _rows(frame: pd.DataFrame, columns: list[str], **where: object) -> list[list]:
    hit = frame
    for key, value in where.items():
        hit = hit[hit[key] == value]
    return hit[columns].fillna("").values.tolist()


def _report(package: Path) -> dict:
    return json.loads((package / "reports" / "validation.json").read_text(encoding="utf-8"))


def test_the_export_without_dates_validates_with_no_errors(package: Path) -> None:
    summary = _report(package)["summary"]
    assert (summary["error"], summary["warning"]) == (0, 25)  # the 25: SD0121 TS parameters
    ids = {f["check_id"] for f in _report(package)["findings"]}
    assert ids == {"SD0121", "RC0003", "TM0013"}


def test_no_date_anywhere_and_no_se_written(package: Path) -> None:
    dm = _dataset(package, "dm")
    for name in ("RFSTDTC", "RFENDTC", "RFXSTDTC", "RFXENDTC", "RFICDTC", "RFPENDTC", "DTHDTC"):
        assert set(dm[name]) == {""}, name
    assert _rows(dm, ["USUBJID", "DTHFL"], DTHFL="Y") == [
        ["PROACT-SYN-100111", "Y"],  # Subject_Died Yes, Death_Days 202
        ["PROACT-SYN-100370", "Y"],  # Death_Days 209
    ]
    # SESTDTC is Required (SDTMIG 3.4 section 5.3.1) and there is no date: SE is not written
    assert not (package / "sdtm" / "se.xpt").exists()
    for name in ("ae", "ds", "ex", "qs", "re"):
        frame = _dataset(package, name)
        dates = [c for c in frame.columns if c.endswith("DTC")]
        assert dates and all(set(frame[c]) == {""} for c in dates), name


# Subject 100111, by hand from the raw rows: (offset -> study day, visit window, epoch)
QS_100111 = [  # ALSFRS_Delta 0, 92, 181; windows day 1 +- 10, 92 +- 14, 183 +- 14
    [1.0, 1.0, "BASELINE", "TREATMENT", "Y"],
    [93.0, 2.0, "MONTH 3", "TREATMENT", ""],
    [182.0, 3.0, "MONTH 6", "TREATMENT", ""],
]


def test_study_days_visits_epochs_and_baseline_of_one_subject(package: Path) -> None:
    qs = _dataset(package, "qs")
    got = _rows(
        qs,
        ["QSDY", "VISITNUM", "VISIT", "EPOCH", "QSLOBXFL"],
        USUBJID="PROACT-SYN-100111",
        QSTESTCD="ALSRTOT",
    )
    assert got == QS_100111
    assert 0 not in set(qs.QSDY)
    ex = _dataset(package, "ex")
    assert _rows(ex, ["EXSTDY", "EXENDY", "EPOCH"], USUBJID="PROACT-SYN-100111") == [
        [1.0, 1.0, "TREATMENT"]  # Treatment_Group_Start_Date_Delta 0
    ]
    ds = _dataset(package, "ds")
    # Death_Days 202 is day 203, the subject's last day: the element's last day, in it
    assert _rows(ds, ["DSSTDY", "EPOCH"], USUBJID="PROACT-SYN-100111") == [[203.0, "TREATMENT"]]


def test_days_before_day_1_have_no_epoch_and_the_baseline_is_the_last_on_or_before_day_1(
    package: Path,
) -> None:
    re = _dataset(package, "re")
    # 100037's FVC: Forced_Vital_Capacity_Delta -7 (day -7), 90 (day 91), 180 (day 181);
    # efforts 3.3, 4.32, 2.53 on day -7, best 4.32 the derived record, the baseline
    fvc = _rows(
        re,
        ["REDY", "VISITNUM", "EPOCH", "REORRES", "REDRVFL", "RELOBXFL"],
        USUBJID="PROACT-SYN-100037",
        RETESTCD="FVC",
    )
    assert fvc[:5] == [
        [-7.0, 1.0, "", "3.3", "", ""],
        [-7.0, 1.0, "", "4.32", "", ""],
        [-7.0, 1.0, "", "2.53", "", ""],
        [-7.0, 1.0, "", "4.32", "Y", "Y"],
        [91.0, 2.0, "TREATMENT", "3.77", "", ""],
    ]
    cm = _dataset(package, "cm")  # Start_Delta -399: day -399, before the treatment element
    assert _rows(cm, ["CMSTDY", "EPOCH"], USUBJID="PROACT-SYN-100074") == [[-399.0, ""]]
    ae = _dataset(package, "ae")  # Start_Date_Delta 5, End_Date_Delta 9
    assert _rows(ae, ["AESTDY", "AEENDY", "EPOCH", "AESEQ"], USUBJID="PROACT-SYN-100037") == [
        [6.0, 10.0, "TREATMENT", 1.0]
    ]


# SV by hand from the raw rows of two subjects (no anchor: no dates, so SVSTDTC/SVENDTC
# null). Study days: offset d >= 0 is day d + 1, d < 0 is day d. Windows: BASELINE day
# 1 +- 10 (-9..11), MONTH 3 day 92 +- 14 (78..106), MONTH 6 day 183 +- 14 (169..197).
# 100037: ALSFRS_Delta 0, 93, 181 (days 1, 94, 182); Forced_Vital_Capacity_Delta -7, 90,
# 180 (days -7, 91, 181). 100111: ALSFRS_Delta 0, 92, 181 (days 1, 93, 182); FVC 0, 90,
# 180 (days 1, 91, 181). SVSTDY/SVENDY: the earliest/latest day of the visit's records.
SV_COLUMNS = ["VISITNUM", "VISIT", "SVPRESP", "SVOCCUR", "SVSTDTC", "SVENDTC", "SVSTDY"]
SV_BY_HAND = {
    "PROACT-SYN-100037": [
        [1.0, "BASELINE", "Y", "Y", "", "", -7.0, 1.0, ""],
        [2.0, "MONTH 3", "Y", "Y", "", "", 91.0, 94.0, ""],
        [3.0, "MONTH 6", "Y", "Y", "", "", 181.0, 182.0, ""],
    ],
    "PROACT-SYN-100111": [
        [1.0, "BASELINE", "Y", "Y", "", "", 1.0, 1.0, ""],
        [2.0, "MONTH 3", "Y", "Y", "", "", 91.0, 93.0, ""],
        [3.0, "MONTH 6", "Y", "Y", "", "", 181.0, 182.0, ""],
    ],
}


def test_sv_lists_the_visits_from_study_day_windows_on_study_days(package: Path) -> None:
    sv = _dataset(package, "sv")
    columns = [*SV_COLUMNS, "SVENDY", "SVUPDES"]
    for usubjid, rows in SV_BY_HAND.items():
        assert _rows(sv, columns, USUBJID=usubjid) == rows, usubjid
    assert set(sv["SVSTDTC"]) == set(sv["SVENDTC"]) == {""}
    assert sv["SVSTDY"].notna().all() and (sv["SVSTDY"] <= sv["SVENDY"]).all()


def test_the_validator_states_its_rule_for_study_days_without_dates(package: Path) -> None:
    notes = [f for f in _report(package)["findings"] if f["check_id"] == "TM0013"]
    assert [(f["dataset"], f["variable"]) for f in notes] == [
        ("AE", "AEENDY"),
        ("AE", "AESTDY"),
        ("CM", "CMSTDY"),
        ("DS", "DSSTDY"),
        ("EX", "EXENDY"),
        ("EX", "EXSTDY"),
        ("QS", "QSDY"),
        ("RE", "REDY"),
        ("SV", "SVENDY"),  # SV's visits from study-day windows: study days, no dates
        ("SV", "SVSTDY"),
    ]
    qs = next(f for f in notes if f["dataset"] == "QS")
    assert qs["severity"] == "info" and qs["reference"] == "SDTMIG v3.4 §4.4.4"
    # 45 rows x 15 items, less 42 blank Q10 (the original item, on 3 rows) and 45 blank
    # Q5a/Q5b (one of the two per row): 675 - 87 = 588
    assert qs["message"].startswith("QSDY: 588 of 588 records have a study day and no QSDTC")


def test_define_says_how_day_1_is_defined_and_that_there_are_no_dates(package: Path) -> None:
    define = (package / "sdtm" / "define.xml").read_text(encoding="utf-8")
    assert "Study day 1 is that event's day and the day before it day -1" in define
    assert "Trial onset (Treatment_Group_Start_Date_Delta 0, first dose)" in define
    assert "There are no dates: every --DTC and DM's reference dates" in define
    for oid in ("IG.DM", "IG.TS"):
        assert f'OID="{oid}"' in define
        group = define.split(f'<ItemGroupDef OID="{oid}"', 1)[1].split(">", 1)[0]
        assert 'def:CommentOID="COM.TIMELINE"' in group, oid
    for item in ("IT.QS.QSDY", "IT.DM.RFSTDTC", "IT.AE.AESTDY"):
        itemdef = define.split(f'<ItemDef OID="{item}"', 1)[1].split(">", 1)[0]
        assert 'def:CommentOID="COM.TIMELINE"' in itemdef, item
    assert "study day QSDY falls" in define  # EPOCH's method on study days
    assert '<ItemGroupDef OID="IG.SE"' not in define
    # SV's method says how its start and end are found without dates
    assert "SVSTDY and SVENDY are the earliest and latest study days recorded" in define
