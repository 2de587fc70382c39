"""A pooled-registry export in the PRO-ACT layout (tests/data/proact_raw: every time a
day offset from trial onset, one-hot race flags, three FVC efforts per visit) maps with
its spec alone (tests/data/proact_study: study.yaml ``timeline`` with a pseudo anchor,
``codelists``; ops relative_day, relative_date, one_hot, best_of), through the command
line as a user runs it, and validates with no errors. The expected values were worked
out by hand from the raw rows (anchor 2000-01-01 is trial onset, offset 0 = day 1)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cdisc_mapper.cli import main
from cdisc_mapper.xpt import read_xpt

DATA = Path(__file__).parent / "data"
STUDY = DATA / "proact_study"
RAW = DATA / "proact_raw"


def _run(*args: object) -> str:
    result = CliRunner().invoke(main, ["-q", *[str(a) for a in args]])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("proact")
    _run("sdtm", "--study", STUDY, "--raw", RAW, "--out", out)
    _run("define", "--study", STUDY, "--out", out)
    return out


def _dataset(package: Path, name: str) -> pd.DataFrame:
    frame, _ = read_xpt(package / "sdtm" / f"{name}.xpt")
    return frame


def _one(frame: pd.DataFrame, **where: object) -> pd.Series:
    hit = frame
    for key, value in where.items():
        hit = hit[hit[key] == value]
    assert len(hit) == 1, (where, hit)
    return hit.iloc[0]


def test_the_export_validates_with_no_errors(package: Path) -> None:
    output = CliRunner().invoke(main, ["-q", "validate", str(package)]).output
    assert " 0 errors," in output, output


def test_dm_from_offsets_and_race_flags(package: Path) -> None:
    dm = _dataset(package, "dm")
    first = _one(dm, USUBJID="PROACT-SYN-100037")
    # Date_of_Birth -16882 days from 2000-01-01
    assert first.BRTHDTC == "1953-10-12"
    assert (first.RFSTDTC, first.AGE, first.RACE, first.ARMCD) == ("2000-01-01", 46, "WHITE", "ACT")
    assert first.RFPENDTC == "2000-06-30"  # the last QS, ALSFRS_Delta 181
    died = _one(dm, USUBJID="PROACT-SYN-100111")
    assert (died.DTHDTC, died.DTHFL) == ("2000-07-21", "Y")  # Death_Days 202
    assert _one(dm, USUBJID="PROACT-SYN-100148").RACE == "MULTIPLE"  # Asian and Caucasian
    supp = _dataset(package, "suppdm")
    assert supp[["USUBJID", "QNAM", "QVAL"]].values.tolist() == [
        ["PROACT-SYN-100148", "RACE1", "ASIAN"],
        ["PROACT-SYN-100148", "RACE2", "WHITE"],
    ]


def test_study_days_have_no_day_0_and_dates_are_the_anchor_plus_the_offset(
    package: Path,
) -> None:
    qs = _dataset(package, "qs")
    onset = _one(qs, USUBJID="PROACT-SYN-100037", QSTESTCD="ALSR01", QSDY=1)
    assert onset.QSDTC == "2000-01-01"  # ALSFRS_Delta 0
    later = _one(qs, USUBJID="PROACT-SYN-100037", QSTESTCD="ALSR01", QSDY=94)
    assert later.QSDTC == "2000-04-03"  # ALSFRS_Delta 93
    assert 0 not in set(qs.QSDY)
    # visits from study-day windows: day 1 BASELINE, 94 MONTH 3 (92 +- 14), 182 MONTH 6
    totals = qs[(qs.USUBJID == "PROACT-SYN-100037") & (qs.QSTESTCD == "ALSRTOT")]
    assert totals[["QSDY", "VISITNUM", "VISIT"]].values.tolist() == [
        [1, 1, "BASELINE"],
        [94, 2, "MONTH 3"],
        [182, 3, "MONTH 6"],
    ]
    cm = _one(_dataset(package, "cm"), USUBJID="PROACT-SYN-100074")
    assert (cm.CMSTDY, cm.CMSTDTC) == (-399, "1998-11-28")  # Start_Delta -399: day -399
    ae = _one(_dataset(package, "ae"), USUBJID="PROACT-SYN-100037")
    assert (ae.AESTDY, ae.AEENDY, ae.AEENDTC) == (6, 10, "2000-01-10")  # deltas 5 and 9


def test_a_term_the_study_adds_to_a_sponsor_codelist(package: Path) -> None:
    qs = _dataset(package, "qs")
    item = qs[(qs.USUBJID == "PROACT-SYN-100037") & (qs.QSTESTCD == "ALSO10")]
    assert item.QSORRES.tolist() == ["4", "3", "3"]
    assert set(item.QSTEST) == {"ALSFRS - Respiration (original item 10)"}
    define = (package / "sdtm" / "define.xml").read_text(encoding="utf-8")
    assert 'CodedValue="ALSO10"' in define
    assert "Pseudo date, not a real calendar date: the made-up date" in define
    # QSCAT (C100129, extensible) with the term the study adds: an extended value, decoded
    assert (
        '<CodeListItem CodedValue="ALSFRS-R" OrderNumber="1" def:ExtendedValue="Yes">\n'
        "          <Decode>\n"
        '            <TranslatedText xml:lang="en">ALS Functional Rating Scale - Revised'
    ) in define


def test_define_declares_the_pseudo_dates_on_every_date_and_on_dm_and_ts(package: Path) -> None:
    """TS has no parameter for pseudo dates (TSPARMCD, C66738, has none), so define.xml
    says it: a comment on TS, on DM (the study's own comment there) and on each --DTC and
    --DY."""
    define = (package / "sdtm" / "define.xml").read_text(encoding="utf-8")
    assert (
        "Pseudo dates, not real calendar dates: that event is given the made-up date "
        "2000-01-01, and every --DTC (DM's reference dates included) is 2000-01-01 plus the "
        "offset in days."
    ) in define
    ts = define.split('<ItemGroupDef OID="IG.TS"', 1)[1].split(">", 1)[0]
    assert 'def:CommentOID="COM.TIMELINE"' in ts
    dm = define.split('<ItemGroupDef OID="IG.DM"', 1)[1].split(">", 1)[0]
    assert 'def:CommentOID="COM.C-PSEUDO"' in dm  # the study's own comment is kept
    for item in ("IT.QS.QSDTC", "IT.QS.QSDY", "IT.DM.RFSTDTC", "IT.DM.BRTHDTC", "IT.SE.SESTDTC"):
        itemdef = define.split(f'<ItemDef OID="{item}"', 1)[1].split(">", 1)[0]
        assert 'def:CommentOID="COM.TIMELINE"' in itemdef, item


def test_the_best_fvc_effort_is_a_derived_record(package: Path) -> None:
    re = _dataset(package, "re")
    visit = re[(re.USUBJID == "PROACT-SYN-100037") & (re.RETESTCD == "FVC") & (re.REDY == -7)]
    # efforts 3.3, 4.32, 2.53 on Forced_Vital_Capacity_Delta -7 (1999-12-25, day -7)
    assert visit.REORRES.tolist() == ["3.3", "4.32", "2.53", "4.32"]
    best = _one(visit, REDRVFL="Y")
    assert (best.REORRES, best.REDTC, best.RELOBXFL) == ("4.32", "1999-12-25", "Y")
    assert pd.isna(best.REREPNUM)
    assert visit.RELOBXFL.tolist().count("Y") == 1


# SV by hand (anchor 2000-01-01 = study day 1 = offset 0; 2000 is a leap year, so offset
# 60 is 2000-03-01, 90 is 2000-03-31, 91 is 2000-04-01, 180 is 2000-06-29). 100037:
# ALSFRS_Delta 0, 93, 181 and Forced_Vital_Capacity_Delta -7, 90, 180; 100111: ALSFRS 0,
# 92, 181 and FVC 0, 90, 180. Windows: BASELINE day 1 +- 10, MONTH 3 92 +- 14, MONTH 6
# 183 +- 14. SVSTDTC/SVENDTC: the earliest/latest pseudo date of the visit's records.
SV_BY_HAND = {
    "PROACT-SYN-100037": [
        [1.0, "BASELINE", "1999-12-25", "2000-01-01", -7.0, 1.0],
        [2.0, "MONTH 3", "2000-03-31", "2000-04-03", 91.0, 94.0],
        [3.0, "MONTH 6", "2000-06-29", "2000-06-30", 181.0, 182.0],
    ],
    "PROACT-SYN-100111": [
        [1.0, "BASELINE", "2000-01-01", "2000-01-01", 1.0, 1.0],
        [2.0, "MONTH 3", "2000-03-31", "2000-04-02", 91.0, 93.0],
        [3.0, "MONTH 6", "2000-06-29", "2000-06-30", 181.0, 182.0],
    ],
}


def test_sv_lists_the_visits_from_study_day_windows_with_their_pseudo_dates(
    package: Path,
) -> None:
    sv = _dataset(package, "sv")
    columns = ["VISITNUM", "VISIT", "SVSTDTC", "SVENDTC", "SVSTDY", "SVENDY"]
    for usubjid, rows in SV_BY_HAND.items():
        got = sv[sv["USUBJID"] == usubjid]
        assert got[columns].values.tolist() == rows, usubjid
        assert set(got.SVPRESP) == set(got.SVOCCUR) == {"Y"}
        assert set(got.SVUPDES) == {""}
    assert (sv.SVSTDTC.str.len() == 10).all()
