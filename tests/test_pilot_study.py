"""The third example study (tests/data/README.md): XANPILOT02, raw CRF exports laid out as
pharmaverseraw's (`pilot_raw/`), mapped by a spec written from the README and
docs/operations.md alone (`pilot_study/`), gives the hand-written SDTM of
`pilot_expected/` cell by cell: the same variables in the same order, the same records in
USUBJID, --SEQ order and the same values as the XPT holds them."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from cdisc_mapper.sdtm.pipeline import run_sdtm

DATA = Path(__file__).parent / "data"
EXPECTED = DATA / "pilot_expected"
DATASETS = sorted(p.stem for p in EXPECTED.glob("*.csv"))


@pytest.fixture(scope="module")
def sdtm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pilot")
    run_sdtm(DATA / "pilot_study", DATA / "pilot_raw", out)
    return out / "sdtm"


def as_text(value: object) -> str:
    """A cell as the expected CSV writes it: a number without trailing zeros (`-7`,
    `3.1`), a missing number or blank text empty."""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.15g}"
    return "" if value is None else str(value)


def read_xpt(path: Path) -> pd.DataFrame:
    frame, _ = pyreadstat.read_xport(str(path))
    return frame.map(as_text)


def read_expected(name: str) -> pd.DataFrame:
    return pd.read_csv(EXPECTED / f"{name}.csv", dtype=str, keep_default_na=False)


def mismatches(name: str, got: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    """Every cell that differs, as `dataset USUBJID --SEQ variable: got vs expected`."""
    seq = next((c for c in expected.columns if c.endswith("SEQ")), "IDVARVAL")
    found = []
    for i in range(max(len(got), len(expected))):
        if i >= len(got) or i >= len(expected):
            row = expected.iloc[i] if i < len(expected) else got.iloc[i]
            where = "missing" if i >= len(got) else "extra"
            found.append(f"{name} {row['USUBJID']} {row.get(seq, '')}: {where} record")
            continue
        for var in expected.columns:
            g, e = got.iloc[i][var], expected.iloc[i][var]
            if g != e:
                key = f"{expected.iloc[i]['USUBJID']} {seq}={expected.iloc[i].get(seq, '')}"
                found.append(f"{name} {key} {var}: got {g!r}, expected {e!r}")
    return found


@pytest.mark.parametrize("name", DATASETS)
def test_pilot_dataset_matches_expected(sdtm: Path, name: str) -> None:
    got = read_xpt(sdtm / f"{name}.xpt")
    expected = read_expected(name)
    assert list(got.columns) == list(expected.columns), name
    assert mismatches(name, got, expected) == []


def xpt(sdtm: Path, name: str) -> pd.DataFrame:
    frame, _ = pyreadstat.read_xport(str(sdtm / f"{name}.xpt"))
    return frame


def test_pilot_subject_elements_follow_each_subjects_arm(sdtm: Path) -> None:
    """SE: PBO and XANLO both start at the first patch; each subject gets its own arm's
    elements (TA), the screen failure screening alone, the last ending at RFPENDTC."""
    se = xpt(sdtm, "se").sort_values(["USUBJID", "SESEQ"])
    paths = se.groupby("USUBJID")[["ETCD", "SESTDTC", "SEENDTC"]].apply(lambda f: f.values.tolist())
    assert paths.to_dict() == {
        "02-701-1901": [["SCRN", "2014-03-03", "2014-03-10"], ["PBO", "2014-03-10", "2014-04-06"]],
        "02-701-1902": [
            ["SCRN", "2014-02-17", "2014-02-25"],
            ["XANLO", "2014-02-25", "2014-03-14"],
        ],
        "02-704-1903": [
            ["SCRN", "2014-04-01", "2014-04-08"],
            ["XANLO", "2014-04-08", "2014-04-22"],
            ["XANHI", "2014-04-22", "2014-05-05"],
        ],
        "02-704-1904": [["SCRN", "2014-04-14", "2014-04-18"]],
    }
    assert se.TAETORD.tolist() == [1, 2, 1, 2, 1, 2, 3, 1]


def test_pilot_trial_design_and_reconciliation(sdtm: Path) -> None:
    """TA, TE and TV as study.yaml states them; the exact repeat row is excluded and
    counted in the reconciliation."""
    ta = xpt(sdtm, "ta")
    assert ta.groupby("ARMCD").ETCD.apply(list).to_dict() == {
        "Pbo": ["SCRN", "PBO"],
        "Xan_Hi": ["SCRN", "XANLO", "XANHI"],
        "Xan_Lo": ["SCRN", "XANLO"],
    }
    assert sorted(xpt(sdtm, "te").ETCD) == ["PBO", "SCRN", "XANHI", "XANLO"]
    tv = xpt(sdtm, "tv")
    assert tv.VISITNUM.tolist() == [1, 2, 3, 4, 5, 101]
    assert tv.VISITDY.fillna(0).tolist() == [-7, -1, 1, 14, 28, 0]
    rec = pd.read_csv(sdtm / "reconciliation.csv", dtype=str).set_index("form")
    assert rec.loc["vs", ["rows_read", "rows_mapped", "rows_excluded"]].tolist() == [
        "25",
        "24",
        "1",
    ]
    assert rec.loc["vs", "exclusion_reasons"].startswith("duplicate form entry")
