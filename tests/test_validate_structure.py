"""Structure checks (cdisc_mapper.validate.checks.structure) on SDTMIG v3.4 domains that
cdisc_mapper does not produce (EC, RELREC): specs/ holds every SDTMIG dataset, so their
variable-level checks run."""

from __future__ import annotations

from pathlib import Path

from cdisc_mapper.validate import validate_package
from tests.validate_pkg import write_dataset

EC_LABELS = {
    "STUDYID": "Study Identifier",
    "DOMAIN": "Domain Abbreviation",
    "USUBJID": "Unique Subject Identifier",
    "SPDEVID": "Sponsor Device Identifier",
    "ECSEQ": "Sequence Number",
    "ECTRT": "Name of Treatment",
    "ECDOSE": "Dose",
    "ECDOSU": "Dose Units",
    "ECDOSFRM": "Dose Form",
    "ECSTDTC": "Start Date/Time of Treatment",
    "ECENDTC": "End Date/Time of Treatment",
}


def _ec(tmp_path: Path, *, drop: str = "") -> Path:
    sdtm = tmp_path / "pkg" / "sdtm"
    records = {
        "STUDYID": ["ST"],
        "DOMAIN": ["EC"],
        "USUBJID": ["S-1"],
        "SPDEVID": ["DEV-1"],  # an SDTM v1.8 identifier of every general class
        "ECSEQ": [1.0],
        "ECTRT": ["DRUG A"],
        "ECDOSE": [5.0],
        "ECDOSU": ["mg"],
        "ECDOSFRM": ["TABLET"],
        "ECSTDTC": ["2020-01-01"],
        "ECENDTC": ["2020-01-02"],
    }
    records.pop(drop, None)
    write_dataset(sdtm, "EC", records, label="Exposure as Collected", labels=EC_LABELS)
    return sdtm.parent


STRUCTURE = ["SD0001", "SD0002", "SD0003", "SD0004", "SD0005", "SD0007", "SD0013", "SD0014"]


def test_ec_is_described_and_clean(tmp_path):
    report = validate_package(_ec(tmp_path), checks=STRUCTURE)
    assert report.findings == []
    (summary,) = report.datasets
    assert (summary.class_, summary.metadata) == ("Interventions", "SDTMIG 3.4 EC")


def test_ec_without_its_required_treatment_name_is_reported(tmp_path):
    report = validate_package(_ec(tmp_path, drop="ECTRT"), checks=STRUCTURE)
    assert [(f.check_id, f.dataset, f.variable, f.message) for f in report.findings] == [
        ("SD0001", "EC", "ECTRT", "required variable ECTRT (Name of Treatment) is missing")
    ]


def test_relrec_structure_is_checked(tmp_path):
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(
        sdtm,
        "RELREC",
        {
            "STUDYID": ["ST", "ST"],
            "RDOMAIN": ["AE", "CM"],
            "USUBJID": ["S-1", "S-1"],
            "IDVAR": ["AESEQ", "CMSEQ"],
            "IDVARVAL": ["1", "1"],
            "RELTYPE": ["", ""],
            "RELID": ["R1", ""],
        },
        label="Related Records",
    )
    report = validate_package(sdtm.parent, checks=["SD0002", "SD0014"])
    assert [(f.check_id, f.record, f.variable) for f in report.findings] == [("SD0002", 2, "RELID")]
