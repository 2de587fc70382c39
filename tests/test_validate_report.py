"""The validator's reports: findings grouped by cause (model), validation.json/.csv with
the groups, validation.html with row context, validation.xlsx in Pinnacle 21's layout.

The seeded package is the demo's SDTM with AEDECOD emptied on AE records 2-8 (subject
-002's records 2-4, subject -003's records 5-8) and DM RACE set to '=1+1' on record 1;
the expected groups, counts and rows below are worked out from those edits by hand.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cdisc_mapper.validate import (
    ERROR,
    Finding,
    ValidationReport,
    read_package,
    validate_package,
    write_reports,
)
from cdisc_mapper.validate.model import group_findings
from cdisc_mapper.validate.report_xlsx import SHEETS
from cdisc_mapper.validate.rowcontext import key_columns
from tests.test_validate_checks import rewrite

EMPTIED = [2, 3, 4, 5, 6, 7, 8]  # AE records (1-based) whose AEDECOD is emptied
CHECKS = ["SD0002", "CT0001"]


@pytest.fixture(scope="module")
def seeded(demo_sdtm, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out, _ = demo_sdtm
    pkg = tmp_path_factory.mktemp("seeded") / "pkg"
    shutil.copytree(out / "sdtm", pkg / "sdtm")

    def empty_decod(df):
        df.loc[[r - 1 for r in EMPTIED], "AEDECOD"] = ""

    def formula_race(df):
        df.loc[0, "RACE"] = "=1+1"

    rewrite(pkg, "AE", empty_decod)
    rewrite(pkg, "DM", formula_race)
    return pkg


@pytest.fixture(scope="module")
def report(seeded: Path) -> ValidationReport:
    return validate_package(seeded, checks=CHECKS)


@pytest.fixture(scope="module")
def written(report: ValidationReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    write_reports(report, out)
    return out


# -------------------------------------------------------------------------- grouping
def test_one_cause_is_one_group(report: ValidationReport):
    (group,) = [g for g in report.groups if g.first.check_id == "SD0002"]
    assert (group.first.dataset, group.first.variable, group.count) == ("AE", "AEDECOD", 7)
    assert [f.record for f in group.findings] == EMPTIED
    assert group.first.usubjid.endswith("-002")
    # totals and exit code still count records
    assert report.count("SD0002") == 7 and report.totals()["error"] == 7 + 1
    assert report.exit_code("error") == 1


def test_group_findings_keys_on_check_dataset_variable_value_message():
    def f(record: int, value: str, message: str = "bad", usubjid: str = "S1") -> Finding:
        return Finding("CT0001", "DM", record, "RACE", message, ERROR, usubjid, None, value)

    groups = group_findings([f(3, "X"), f(1, "Y"), f(2, "X", usubjid="S2"), f(4, "X", "other")])
    keys = [(g.first.value, g.first.message, [x.record for x in g.findings]) for g in groups]
    # ordered by first record; USUBJID is not part of the cause
    assert keys == [("Y", "bad", [1]), ("X", "bad", [3, 2]), ("X", "other", [4])]


# ------------------------------------------------------------------------- JSON, CSV
def test_json_lists_groups_with_every_record(written: Path):
    data = json.loads((written / "validation.json").read_text(encoding="utf-8"))
    sd = [f for f in data["findings"] if f["check_id"] == "SD0002"]
    assert len(sd) == 1 and sd[0]["count"] == 7
    assert [r["record"] for r in sd[0]["records"]] == EMPTIED
    assert sd[0]["record"] == 2 and sd[0]["reference"] == "SDTMIG v3.4 §4.1.5"
    assert data["summary"]["finding_groups"] == 2 and data["summary"]["error"] == 8
    check = next(c for c in data["checks"] if c["id"] == "SD0002")
    assert check["findings_by_dataset"] == {"AE": 7}


def test_csv_keeps_one_row_per_record_with_its_group(written: Path):
    with (written / "validation.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["check_id"], r["group"], r["count"]) for r in rows] == [("CT0001", "1", "1")] + [
        ("SD0002", "2", "7")
    ] * 7
    assert [int(r["record"]) for r in rows[1:]] == EMPTIED
    assert rows[0]["value"] == "'=1+1"  # a formula neutralised


# ----------------------------------------------------------------------------- HTML
def test_html_lists_first_records_with_their_rows(written: Path, report: ValidationReport):
    html = (written / "validation.html").read_text(encoding="utf-8")
    assert "and 2 more" in html  # 7 records, 5 shown
    # contexts: DM record 1 and AE records 2-6, numbered in (dataset, record) order
    assert sorted(report.contexts) == [("AE", r) for r in (2, 3, 4, 5, 6)] + [("DM", 1)]
    assert '<a href="#row-1">record 2</a>' in html and 'id="row-1"' in html
    ae2 = report.contexts[("AE", 2)]
    assert [r for r, _ in ae2.rows] == [2, 3, 4]  # subject -002's records, not -001's
    assert ae2.flagged == ("AEDECOD",)
    assert ae2.columns[:3] == ("USUBJID", "AESEQ", "AETERM")
    values = dict(zip(ae2.columns, ae2.rows[0][1], strict=True))
    assert values["AEDECOD"] == "" and values["AETERM"] == "Pneumonia"
    assert [r for r, _ in report.contexts[("AE", 5)].rows] == [5, 6, 7]
    assert "Reference: SDTMIG v3.4 §4.1.5" in html


def test_key_columns_of_a_domain(seeded: Path):
    keys = key_columns(read_package(seeded).datasets["AE"])
    assert keys[:4] == ["USUBJID", "AESEQ", "AETERM", "AEDECOD"]
    assert "AESTDTC" in keys


# ----------------------------------------------------------------------------- XLSX
def sheet_rows(path: Path, name: str) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[name]
    return list(ws.iter_rows(values_only=True))


def test_xlsx_has_the_four_sheets_filled(written: Path, report: ValidationReport):
    path = written / "validation.xlsx"
    assert openpyxl.load_workbook(path).sheetnames == list(SHEETS)
    summary = {row[0]: row for row in sheet_rows(path, "Dataset Summary")[1:]}
    ae_records = next(d.records for d in report.datasets if d.name == "AE")
    assert summary["AE"][2:9] == ("Events", "SDTM", "sdtm/ae.xpt", ae_records, 7, 0, 0)
    assert summary["DM"][6:9] == (1, 0, 0) and summary["LB"][6:9] == (0, 0, 0)
    issues = sheet_rows(path, "Issue Summary")
    assert issues[0] == SHEETS["Issue Summary"]
    assert [(r[0], r[1], r[4], r[5]) for r in issues[1:]] == [
        ("AE", "SD0002", "Error", 7),
        ("DM", "CT0001", "Error", 1),
    ]
    details = sheet_rows(path, "Details")
    assert len(details) == 1 + 8
    ae = [r for r in details if r[0] == "AE"]
    assert [r[1] for r in ae] == EMPTIED
    assert {(r[4], r[6], r[10], r[11], r[12]) for r in ae} == {("AEDECOD", "SD0002", "Error", 2, 7)}
    rules = {r[0]: r for r in sheet_rows(path, "Rules")[1:]}
    assert set(rules) == {"SD0002", "CT0001", "VX0001"}
    assert rules["SD0002"][7:] == ("failed", None, 7)
    assert rules["VX0001"][7] == "passed"


def test_xlsx_texts_are_never_formulas(written: Path):
    ws = openpyxl.load_workbook(written / "validation.xlsx")["Details"]
    cell = next(row[5] for row in ws.iter_rows(min_row=2) if row[0].value == "DM")
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_xlsx_is_byte_identical_and_dated_by_source_date_epoch(
    report: ValidationReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")  # 2000-01-01T00:00:00Z
    first = write_reports(report, tmp_path / "a")[3].read_bytes()
    second = write_reports(report, tmp_path / "b")[3].read_bytes()
    assert first == second
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    later = write_reports(report, tmp_path / "c")[3]
    with zipfile.ZipFile(later) as z:
        core = z.read("docProps/core.xml").decode()
        assert {i.date_time for i in z.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    assert "2023-11-14T22:13:20Z" in core and later.read_bytes() != first
