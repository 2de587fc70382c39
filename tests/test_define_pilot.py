"""Schema validation and the define/data consistency check on real, externally produced
defines: the CDISC pilot package (skipped when the reference folder is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_mapper.define import check_define_consistency, validate_define_schema
from cdisc_mapper.define.reader import CHAR_TYPES, NUM_TYPES, read_define
from cdisc_mapper.xpt import read_xpt_names

PILOT = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cdisc-pilot-msg2"
ENCODING = "WINDOWS-1252"

pytestmark = pytest.mark.skipif(
    not (PILOT / "sdtm" / "define.xml").is_file(), reason="CDISC pilot reference data absent"
)


@pytest.mark.parametrize(("kind", "purpose"), [("sdtm", "Tabulation"), ("adam", "Analysis")])
def test_the_reader_reads_the_pilot_defines(kind, purpose):
    doc = read_define(PILOT / kind / "define.xml")
    assert doc.define_version == "2.1.0"
    assert {ds.purpose for ds in doc.datasets.values()} == {purpose}
    assert {i.data_type for i in doc.items.values()} <= CHAR_TYPES | NUM_TYPES
    for path in sorted((PILOT / kind).glob("*.xpt")):
        ds = doc.dataset(path.stem)
        assert ds is not None and ds.href == path.name
        assert ds.standard == ("SDTM" if kind == "sdtm" else "ADaM")
        assert list(doc.variables(ds)) == read_xpt_names(path), path.name
    if kind == "sdtm":
        dm = doc.datasets["DM"]
        assert doc.keys(dm) == ("STUDYID", "USUBJID")
        age = doc.variables(dm)["AGE"]
        assert (age.data_type, age.length, age.label) == ("integer", 8, "Age")
    else:
        assert doc.keys(doc.datasets["ADSL"]) == ("USUBJID",)


def test_pilot_adam_define_is_schema_valid():
    # it carries Analysis Results Metadata: validated with odmlib's ARM + Define-XML 2.1 XSD
    assert validate_define_schema(PILOT / "adam" / "define.xml") == []


def test_pilot_sdtm_define_has_exactly_the_stdtmig_typo():
    errors = validate_define_schema(PILOT / "sdtm" / "define.xml")
    assert len(errors) == 1
    assert errors[0].startswith("line 63: ")
    assert "'STDTMIG'" in errors[0] and "Name" in errors[0]


def _keys(findings, severity="error"):
    return {(f.check_id, f.dataset, f.variable) for f in findings if f.severity == severity}


def test_pilot_sdtm_consistency():
    findings = check_define_consistency(
        PILOT / "sdtm" / "define.xml", PILOT / "sdtm", encoding=ENCODING
    )
    errors = _keys(findings)
    # structure agrees both ways: every dataset and variable, names, types, char lengths
    assert not {k for k in errors if k[0] in ("DC0001", "DC0004", "DC0005", "DC0006", "DC0007")}
    assert not {k for k in errors if k[0] == "DC0012"}  # every OID reference resolves
    # real inconsistencies of the sample package
    assert ("DC0009", "DM", "BRTHDTC") in errors  # partial birth dates declared "date"
    assert ("DC0011", "SUPPDM", "QVAL") in errors  # RACE4/RACE5 value level, no records
    assert ("DC0011", "RS", "RSORRES") in errors  # HAMD116A: no such test in rs.xpt
    assert ("DC0010", "FA", "FAOBJ") in errors  # PRURITIS not in the FAOBJ list
    # datasets the define describes that the sample does not ship
    assert {k[1] for k in _keys(findings, "warning") if k[0] == "DC0002"} == {
        "FT",
        "NV",
        "SUPPNV",
        "SUPPOE",
    }


def test_pilot_adam_consistency():
    findings = check_define_consistency(
        PILOT / "adam" / "define.xml", PILOT / "adam", encoding=ENCODING
    )
    errors = _keys(findings)
    assert not {k for k in errors if k[0] in ("DC0001", "DC0004", "DC0005", "DC0007", "DC0012")}
    # the sample's XPT files lost their dataset labels
    assert {k[1] for k in errors if k[0] == "DC0003"} >= {"ADAE", "ADCIBC", "ADLBHY", "ADTTE"}
    assert ("DC0006", "ADAE", "AOCCFL") in errors  # label differs
    assert ("DC0008", "ADLBHY", "PARAM") in errors  # Length 100 vs 47 in the file
    assert ("DC0009", "ADSL", "RFSTDTC") in errors  # dates declared "datetime"
    shipped = {p.stem.upper() for p in (PILOT / "adam").glob("*.xpt")}
    missing = {k[1] for k in _keys(findings, "warning") if k[0] == "DC0002"}
    assert missing and not (missing & shipped)
