"""The validator as a whole: API, reports, bad input, and the CDISC pilot package as an
external test case (skipped when ../shared/reference is absent). The XPT reader it uses is
tested in test_xpt_reader.py."""

from __future__ import annotations

import csv
import json
import shutil
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from cdisc_mapper.define import write_define
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.validate import (
    ERROR,
    INFO,
    WARNING,
    Finding,
    Severity,
    ValidationInputError,
    ValidationReport,
    load_package,
    registered_checks,
    render_html,
    validate_package,
    write_reports,
)
from cdisc_mapper.xpt import read_xpt, write_xpt
from tests.conftest import SHARED, STUDY
from tests.test_validate_checks import rewrite

PILOT = SHARED / "reference" / "cdisc-pilot-msg2"
needs_pilot = pytest.mark.skipif(not PILOT.is_dir(), reason="CDISC pilot package not present")


@pytest.fixture(scope="module")
def demo_report(demo_sdtm) -> ValidationReport:
    out, _ = demo_sdtm
    return validate_package(out)


@pytest.fixture
def pkg(tmp_path: Path, demo_sdtm) -> Path:
    out, _ = demo_sdtm
    shutil.copytree(out / "sdtm", tmp_path / "pkg" / "sdtm")
    return tmp_path / "pkg"


# ------------------------------------------------------------------------ the demo
def test_demo_output_has_no_errors(demo_report: ValidationReport):
    totals = demo_report.totals()
    assert totals["error"] == 0, [f for f in demo_report.findings if f.severity == ERROR][:5]
    assert demo_report.exit_code("error") == 0
    assert demo_report.exit_code(Severity.WARNING) == 1  # the explained CT extensions
    assert demo_report.exit_code("info") == 1
    names = {d.name for d in demo_report.datasets}
    assert {"DM", "AE", "LB", "QS", "SUPPEX", "TS"} <= names
    assert all(d.standard == "SDTM" for d in demo_report.datasets)


def test_demo_warnings_are_explained(demo_report: ValidationReport):
    for result in demo_report.checks:
        if result.findings and result.spec.severity >= WARNING:
            assert len(result.spec.explanation) > 40, result.spec.id
    html = render_html(demo_report)
    assert "ALSFRS-R" in html and "sponsor" in html


def test_summary_line(demo_report: ValidationReport):
    line = demo_report.summary_line()
    assert line.startswith("validated 23 datasets") and "0 errors" in line
    assert "CT0002 x2" in line


def test_reconciliation_is_read(demo_report: ValidationReport, demo_sdtm):
    out, _ = demo_sdtm
    with (out / "sdtm" / "reconciliation.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert demo_report.reconciliation is not None
    assert len(demo_report.reconciliation) == len(rows)
    ie = next(r for r in demo_report.reconciliation if r["domain"] == "IE")
    assert (ie["rows_read"], ie["rows_mapped"], ie["rows_excluded"]) == (160, 1, 159)
    assert "criteria not met" in ie["exclusion_reasons"]


# ------------------------------------------------------------------------- reports
def test_write_reports_json_csv_html(demo_report: ValidationReport, tmp_path: Path):
    paths = write_reports(demo_report, tmp_path / "reports")
    assert [p.name for p in paths] == [
        "validation.json",
        "validation.csv",
        "validation.html",
        "validation.xlsx",
    ]
    data = json.loads(paths[0].read_text())
    # warnings: CT0002 x2 (the sponsor extensions; without define.xml nothing declares them)
    assert data["summary"]["error"] == 0 and data["summary"]["warning"] == 2
    assert data["summary"]["exit_code_fail_on_error"] == 0
    assert [c["id"] for c in data["checks"]] == sorted(c["id"] for c in data["checks"])
    assert {c["id"] for c in data["checks"]} == {s.id for s in registered_checks()}
    assert len(data["findings"]) == len(demo_report.groups)
    assert sum(f["count"] for f in data["findings"]) == len(demo_report.findings)
    assert data["reconciliation"][0]["domain"] == "AE"
    finding = data["findings"][0]
    assert set(finding) >= {
        "check_id",
        "severity",
        "dataset",
        "usubjid",
        "seq",
        "record",
        "variable",
        "value",
        "message",
        "count",
        "records",
        "reference",
    }
    with paths[1].open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(demo_report.findings)
    assert rows[0]["check_id"] == "CT0002" and rows[0]["category"] == "terminology"
    assert rows[0]["group"] == "1" and rows[0]["reference"]
    html = paths[2].read_text()
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert "<script" not in html and "src=" not in html and 'href="http' not in html
    for text in (
        "Summary by check",
        "Reconciliation",
        "Checks run",
        "eligibility.csv",
        'id="CT0002"',
        "SDTMIG 3.4",
    ):
        assert text in html, text


def test_reports_are_deterministic(pkg: Path, tmp_path: Path):
    first = write_reports(validate_package(pkg), tmp_path / "a")
    second = write_reports(validate_package(pkg), tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_findings_beyond_the_limit_are_counted(pkg: Path):
    rewrite(pkg, "LB", lambda df: df.assign(DOMAIN="LX"))
    report = validate_package(pkg, checks=["SD0012"], limit=5)
    result = next(r for r in report.checks if r.spec.id == "SD0012")
    lb_records = next(d.records for d in report.datasets if d.name == "LB")
    assert result.findings == lb_records and result.suppressed == lb_records - 5
    assert len(report.by_check("SD0012")) == 5
    assert report.totals()["error"] == lb_records
    assert f"{lb_records - 5} beyond the per-dataset limit" in render_html(report)


def test_exit_code_thresholds(pkg: Path):
    report = validate_package(pkg, checks=["DD0000"])
    assert report.exit_code("error") == 0 and report.exit_code("warning") == 0
    assert report.exit_code("info") == 1
    with pytest.raises(ValidationInputError, match="unknown severity"):
        report.exit_code("fatal")


# ----------------------------------------------------------------------- registry
def test_registry_ids_are_stable_and_documented():
    specs = registered_checks()
    ids = [s.id for s in specs]
    assert len(ids) == len(set(ids)) >= 60
    for spec in specs:
        assert spec.description and spec.explanation, spec.id
        assert spec.severity in (ERROR, WARNING, INFO)
    prefixes = Counter(i[:2] for i in ids)
    assert set(prefixes) == {"SD", "CT", "TM", "ID", "SP", "AD", "DD", "RC", "VX"}


def test_only_requested_checks_run(pkg: Path):
    report = validate_package(pkg, checks=["ID0001"])
    assert {r.spec.id for r in report.checks} == {"ID0001", "VX0001"}
    with pytest.raises(ValidationInputError, match="ZZ0001"):
        validate_package(pkg, checks=["ZZ0001"])


# ---------------------------------------------------------------------- bad input
def _raises(path: Path, match: str, **kwargs) -> str:
    with pytest.raises(ValidationInputError, match=match) as info:
        validate_package(path, **kwargs)
    assert isinstance(info.value, CdiscMapperError)
    assert "Traceback" not in str(info.value)
    return str(info.value)


def test_missing_folder(tmp_path: Path):
    message = _raises(tmp_path / "nope", "package folder not found")
    assert "nope" in message


def test_empty_folder(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    assert "sdtm" in _raises(tmp_path / "empty", "no .xpt files found")


def test_non_xpt_path(tmp_path: Path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    _raises(path, "not a folder or a .xpt file")


def _unreadable(report: ValidationReport, file: str) -> Finding:
    """The SD0017 finding of ``file``; the other datasets were checked."""
    (finding,) = [f for f in report.by_check("SD0017") if f.value == file]
    assert finding.severity == ERROR and report.exit_code("error") == 1
    assert report.count("VX0001") == 0
    assert {"DM", "AE", "TS"} - {finding.dataset} <= {d.name for d in report.datasets}
    return finding


def test_non_xpt_file_named_xpt(pkg: Path):
    (pkg / "sdtm" / "zz.xpt").write_text("STUDYID,DOMAIN\nS,ZZ\n")
    finding = _unreadable(validate_package(pkg), "sdtm/zz.xpt")
    assert finding.dataset == "ZZ"
    assert "does not start with the SAS XPORT library header (it starts b'STUDYID" in (
        finding.message
    )
    with pytest.raises(ValidationInputError, match="SAS XPORT"):
        load_package(pkg)  # the all-or-nothing reader still refuses the package


@pytest.mark.parametrize("cut", ["odd", "record"])
def test_truncated_xpt(pkg: Path, cut: str):
    path = pkg / "sdtm" / "lb.xpt"
    data = path.read_bytes()
    keep = len(data) - 37 if cut == "odd" else (len(data) // 2) // 80 * 80
    path.write_bytes(data[:keep])
    finding = _unreadable(validate_package(pkg), "sdtm/lb.xpt")
    assert finding.dataset == "LB" and "truncated" in finding.message


def _with_byte(path: Path, text: bytes, index: int, byte: int) -> int:
    """Replace byte ``index`` of the first ``text`` in the file; return its offset."""
    data = bytearray(path.read_bytes())
    offset = data.index(text) + index
    data[offset] = byte
    path.write_bytes(bytes(data))
    return offset


def test_text_that_is_not_utf8_is_located(pkg: Path):
    ts = pkg / "sdtm" / "ts.xpt"
    offset = _with_byte(ts, b"ISO 8601", 3, 0x92)  # a Windows right quote
    df, _ = read_xpt(pkg / "sdtm" / "ts.xpt", encoding="WINDOWS-1252")
    record = int((df["TSVCDREF"] == "ISO\u20198601").to_numpy().argmax()) + 1
    finding = _unreadable(validate_package(pkg), "sdtm/ts.xpt")
    assert (finding.dataset, finding.variable, finding.record) == ("TS", "TSVCDREF", record)
    assert f"byte 0x92 at offset {offset} (record {record}, variable TSVCDREF)" in finding.message
    assert "--encoding WINDOWS-1252" in finding.message
    report = validate_package(pkg, encoding="WINDOWS-1252")
    assert report.count("SD0017") == 0 and "TS" in {d.name for d in report.datasets}


def test_a_label_that_is_not_utf8_is_located(pkg: Path):
    dm = pkg / "sdtm" / "dm.xpt"
    offset = _with_byte(dm, b"Subject Reference Start Date/Time", 7, 0xE9)
    finding = _unreadable(validate_package(pkg), "sdtm/dm.xpt")
    assert f"byte 0xE9 at offset {offset} (label of variable RFSTDTC)" in finding.message
    assert finding.variable == "RFSTDTC" and finding.record is None


def test_text_that_is_not_utf8_in_an_xport_v8_file(tmp_path: Path):
    """No v5 layout to locate the byte in: the reader's reason, and the hint."""
    df = pd.DataFrame({"STUDYID": ["S1", "S1"], "TSPARMCD": ["A", "B"], "TSVAL": ["ISO 8601", "x"]})
    pyreadstat.write_xport(df, str(tmp_path / "ts.xpt"), table_name="TS", file_format_version=8)
    _with_byte(tmp_path / "ts.xpt", b"ISO 8601", 3, 0x92)
    (finding,) = validate_package(tmp_path).by_check("SD0017")
    assert "can't decode byte 0x92" in finding.message
    assert "--encoding WINDOWS-1252" in finding.message


def test_unknown_encoding(pkg: Path):
    _raises(pkg, "unknown encoding 'NO-SUCH-CODE'", encoding="NO-SUCH-CODE")


def test_missing_define(pkg: Path):
    assert "nodefine.xml" in _raises(pkg, "define.xml not found", define=pkg / "nodefine.xml")


def test_define_that_is_not_xml(pkg: Path):
    """A define.xml that is not Define-XML is a DD0008 finding; the data is still checked
    and a second define.xml is still used."""
    bad = pkg / "define.xml"
    bad.write_text("<ODM><unclosed>")
    report = validate_package(pkg, define=bad)
    (finding,) = report.by_check("DD0008")
    assert finding.message.startswith("line 1: not well-formed XML")
    assert "did not use this file" in finding.message and finding.value == "define.xml"
    assert report.count("DD0000") == 0 and report.count("VX0001") == 0
    assert {"DM", "AE"} <= {d.name for d in report.datasets}
    bad.write_text("<html xmlns='http://www.w3.org/1999/xhtml'/>")
    other = pkg / "sdtm" / "define.xml"
    write_define(STUDY, pkg, which=("sdtm",))
    report = validate_package(pkg, define=[bad, other])
    (finding,) = report.by_check("DD0008")
    assert "not a Define-XML document" in finding.message
    dd1 = next(r for r in report.checks if r.spec.id == "DD0001")
    assert dd1.status == "passed" and report.count("DD0001") == 0  # the SDTM define is used
    rewrite(pkg, "AE", lambda df: df.assign(AEXTRA="x"))
    assert validate_package(pkg, define=[bad, other], checks=["DD0003"]).count("DD0003") == 1


def test_two_files_with_one_dataset(pkg: Path):
    shutil.copy(pkg / "sdtm" / "ae.xpt", pkg / "ae.xpt")
    report = validate_package(pkg)
    finding = _unreadable(report, "sdtm/ae.xpt")
    assert "holds dataset AE, already read from ae.xpt" in finding.message
    assert next(d.file for d in report.datasets if d.name == "AE") == "ae.xpt"


def test_every_check_runs_on_a_package_without_records(pkg: Path):
    """0 subjects: each check runs or skips cleanly (ID0007 used to crash)."""
    for path in (pkg / "sdtm").glob("*.xpt"):
        df, meta = read_xpt(path)
        write_xpt(
            df.iloc[:0], path, dataset=meta.dataset, label=meta.label, variables=meta.variables
        )
    report = validate_package(pkg)
    assert report.count("VX0001") == 0, report.by_check("VX0001")
    assert sum(d.records for d in report.datasets) == 0 and len(report.datasets) >= 20
    assert report.count("SD0016") == len(report.datasets)  # each empty dataset is reported


# --------------------------------------------------------------- other layouts
def test_single_file_and_plain_folder(pkg: Path, tmp_path: Path):
    report = validate_package(pkg / "sdtm" / "dm.xpt")
    assert [d.name for d in report.datasets] == ["DM"]
    plain = tmp_path / "plain"
    plain.mkdir()
    df, meta = read_xpt(pkg / "sdtm" / "dm.xpt")
    pyreadstat.write_xport(  # another tool's writer: lengths/format its own way
        df,
        str(plain / "dm.xpt"),
        table_name="DM",
        file_label=meta.label,
        column_labels=[v.label for v in meta.variables],
    )
    report = validate_package(plain)
    assert [d.file for d in report.datasets] == ["dm.xpt"]
    assert report.count("VX0001") == 0
    assert report.count("SD0001") == 0


# ------------------------------------------------------------------- the pilot
@needs_pilot
def test_pilot_sdtm(tmp_path: Path):
    start = time.process_time()  # CPU time: the work done, however loaded the machine
    report = validate_package(PILOT / "sdtm", encoding="WINDOWS-1252")
    assert time.process_time() - start < 30
    assert report.count("VX0001") == 0, report.by_check("VX0001")
    assert len(report.datasets) == len(list((PILOT / "sdtm").glob("*.xpt")))
    found = {(f.check_id, f.dataset, f.variable, f.value) for f in report.findings}
    # facts about the pilot data, verified by hand
    # not a CDISC RACE term, but SDTMIG §4.2.8.3 / the DM assumptions permit it
    assert not any(f[:3] == ("CT0001", "DM", "RACE") for f in found)
    assert ("SD0004", "AE", "AELLTCD", "Char") in found  # MedDRA codes must be Num
    assert any(f[:3] == ("SD0002", "AE", "AEDECOD") for f in found)  # uncoded AEs
    assert ("SD0011", "CM", "", "Concomitant Medications") in found
    # every SDTMIG v3.4 dataset has metadata now: RELREC, EC, OE... are structure-checked;
    # DI (Device Identifiers) belongs to SDTMIG-MD, which specs/ does not hold
    assert {f[1] for f in found if f[0] == "SD0014"} == {"DI"}
    assert ("SD0003", "OE", "OEORRESU", "") in found  # an Expected OE variable is missing
    write_reports(report, tmp_path)
    assert (tmp_path / "validation.html").stat().st_size > 10_000


@needs_pilot
def test_pilot_adam():
    start = time.process_time()
    report = validate_package(PILOT / "adam", encoding="WINDOWS-1252")
    assert time.process_time() - start < 30
    assert report.count("VX0001") == 0
    classes = {d.name: d.class_ for d in report.datasets}
    assert classes == {
        "ADAE": "OCCDS",
        "ADCIBC": "BDS",
        "ADLBHY": "BDS",
        "ADSL": "ADSL",
        "ADTTE": "TTE",
    }
    assert all(report.count(f"AD{n:04d}") == 0 for n in range(1, 11))
    assert {f.dataset for f in report.by_check("SD0011")} == {
        "ADAE",
        "ADCIBC",
        "ADLBHY",
        "ADTTE",
    }  # empty labels


@needs_pilot
def test_pilot_with_define():
    report = validate_package(
        PILOT / "adam", define=PILOT / "adam" / "define.xml", encoding="WINDOWS-1252"
    )
    assert report.count("DD0000") == 0
    missing = {f.dataset for f in report.by_check("DD0002")}
    assert {"ADADAS", "ADLBC", "ADNPIX"} <= missing
    assert report.count("DD0001") == 0 and report.count("DD0006") == 0
    lengths = {(f.dataset, f.variable) for f in report.by_check("DD0007")}
    assert ("ADLBHY", "ABLFL") in lengths  # stored as 2 bytes, define says 1
    sdtm = validate_package(
        PILOT / "sdtm", define=PILOT / "sdtm" / "define.xml", encoding="WINDOWS-1252"
    )
    assert sdtm.count("DD0001") == 0 and sdtm.count("VX0001") == 0
    assert {"FT", "NV"} <= {f.dataset for f in sdtm.by_check("DD0002")}
    schema = next(r for r in sdtm.checks if r.spec.id == "DD0008")
    assert schema.status == "failed"
    (problem,) = sdtm.by_check("DD0008")  # the known typo, and nothing else
    assert "line 63" in problem.message and "STDTMIG" in problem.message
    assert problem.value == "define.xml"
    adam_schema = next(r for r in report.checks if r.spec.id == "DD0008")
    assert adam_schema.status == "passed" and report.count("DD0008") == 0
