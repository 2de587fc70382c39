"""Terminology checks (cdisc_mapper.validate.checks.terminology) on tiny hand-written
packages: values outside CT that the SDTMIG itself permits."""

from __future__ import annotations

from pathlib import Path

from tests.validate_pkg import findings, write_dataset


def _dm(tmp_path: Path, races: list[str]) -> Path:
    sdtm = tmp_path / "pkg" / "sdtm"
    n = len(races)
    write_dataset(
        sdtm,
        "DM",
        {
            "STUDYID": ["ST"] * n,
            "DOMAIN": ["DM"] * n,
            "USUBJID": [f"S-{i + 1}" for i in range(n)],
            "SEX": ["F"] * n,
            "RACE": races,
        },
    )
    return sdtm.parent


def test_ct0001_race_multiple_is_permitted_by_the_sdtmig(tmp_path):
    # SDTMIG v3.4 §4.2.8.3 and the DM assumptions: several races collected -> RACE
    # 'MULTIPLE' (the races in SUPPDM); OTHER is a CT term.
    root = _dm(tmp_path, ["WHITE", "MULTIPLE", "OTHER"])
    assert findings(root, "CT0001")[1] == []


def test_ct0001_a_race_outside_ct_is_still_reported(tmp_path):
    root = _dm(tmp_path, ["WHITE", "MULTIPLE", "MULTI-RACIAL"])
    _, found = findings(root, "CT0001")
    assert [(f.dataset, f.record, f.variable, f.value) for f in found] == [
        ("DM", 3, "RACE", "MULTI-RACIAL")
    ]
    assert found[0].message.startswith("'MULTI-RACIAL' is not in non-extensible codelist RACE")


def test_ct0001_multiple_is_not_a_value_of_a_result(tmp_path):
    # 'MULTIPLE' is for non-result qualifiers only: IEORRES (Result Qualifier, codelist
    # NY) holds one answer.
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(
        sdtm,
        "IE",
        {
            "STUDYID": ["ST", "ST"],
            "DOMAIN": ["IE", "IE"],
            "USUBJID": ["S-1", "S-2"],
            "IESEQ": [1.0, 1.0],
            "IETESTCD": ["IN01", "IN01"],
            "IEORRES": ["N", "MULTIPLE"],
        },
    )
    _, found = findings(sdtm.parent, "CT0001")
    assert [(f.record, f.variable, f.value) for f in found] == [(2, "IEORRES", "MULTIPLE")]
