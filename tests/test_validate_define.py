"""Define checks (cdisc_mapper.validate.checks.define) with a Define-XML 2.0 file: it is
read and checked against the 2.0 schema; a file of an unknown version is one DD0008
finding naming it, and the other checks still run."""

from __future__ import annotations

from pathlib import Path

from cdisc_mapper.validate import validate_package
from tests.validate_pkg import write_dataset

DEFINE20 = Path(__file__).parent / "data" / "define20" / "define.xml"


def _package(tmp_path: Path, define_text: str) -> tuple[Path, Path]:
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(
        sdtm,
        "DM",
        {"STUDYID": ["ST"], "USUBJID": ["S-1"]},
        label="Demographics",
        labels={"STUDYID": "Study Identifier", "USUBJID": "Unique Subject Identifier"},
    )
    define = sdtm / "define.xml"
    define.write_text(define_text, encoding="utf-8")
    return sdtm.parent, define


def test_dd0008_a_define_20_is_valid_against_its_own_schema(tmp_path):
    root, define = _package(tmp_path, DEFINE20.read_text(encoding="utf-8"))
    report = validate_package(root, define=define, checks=["DD0001", "DD0003", "DD0008"])
    assert report.findings == []
    assert {r.spec.id: r.status for r in report.checks if r.spec.id != "VX0001"} == {
        "DD0001": "passed",
        "DD0003": "passed",
        "DD0008": "passed",
    }


def test_dd0008_an_unknown_define_version_is_one_finding_not_a_crash(tmp_path):
    text = DEFINE20.read_text(encoding="utf-8").replace(
        "http://www.cdisc.org/ns/def/v2.0", "http://www.cdisc.org/ns/def/v3.0"
    )
    root, define = _package(tmp_path, text)
    report = validate_package(root, define=define, checks=["DD0008"])
    assert report.count("VX0001") == 0
    assert [(f.value, f.message) for f in report.by_check("DD0008")] == [
        (
            "sdtm/define.xml",
            "line 12: def:DefineVersion '2.0.0' is in namespace "
            "'http://www.cdisc.org/ns/def/v3.0', not a Define-XML version with a schema here "
            "(2.0, 2.1); the file was not schema-checked",
        )
    ]


def test_dd0008_a_define_byte_that_is_not_utf8_is_located(tmp_path):
    text = DEFINE20.read_text(encoding="utf-8")
    root, define = _package(tmp_path, text)
    raw = bytearray(define.read_bytes())
    offset = raw.index(b"Demographics") + 2
    raw[offset] = 0x92  # a Windows right quote in a file declared UTF-8
    define.write_bytes(bytes(raw))
    line = raw[:offset].count(b"\n") + 1
    assert line == 16  # the ItemGroupDef Description of DM
    report = validate_package(root, define=define, checks=["DD0001", "DD0008"])
    assert [f.message for f in report.by_check("DD0008")] == [
        f"line 16: byte 0x92 at offset {offset} is not UTF-8 text, the encoding the file "
        "declares; the define checks did not use this file"
    ]
    assert {d.name for d in report.datasets} == {"DM"}  # the data was still checked
