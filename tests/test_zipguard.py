"""The workbook guard: a zip's directory and each part's cells are checked before a
reader opens the workbook; real workbooks pass, bombs and far-out cells are refused with
the workbook, sheet and limit named."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from cdisc_mapper import zipguard
from cdisc_mapper.errors import CdiscMapperError, RawDataError, SpecError
from cdisc_mapper.raw import read_form
from cdisc_mapper.xlsx.p21 import read_define_workbook
from cdisc_mapper.zipguard import MAX_SHEET_COLUMNS, check_workbook
from tests.hostile.test_hostile_specs import _exported, far_cell, padded, rezip

_STUDY_SHEET = "xl/worksheets/sheet1.xml"


def _sheet(path: Path, rows: list[list[str]], title: str = "forms") -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _xml_sheet(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
        f'openxmlformats.org/spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>'
    ).encode()


def test_real_workbooks_pass(tmp_path: Path) -> None:
    spec = tmp_path / "spec.xlsx"
    spec.write_bytes(_exported())
    check_workbook(spec, SpecError)
    check_workbook(_sheet(tmp_path / "raw.xlsx", [["A", "B"], ["1", "2"]]), RawDataError)


def test_what_is_not_a_zip_is_left_to_the_reader(tmp_path: Path) -> None:
    (tmp_path / "text.xlsx").write_text("not a workbook")
    check_workbook(tmp_path / "text.xlsx")
    check_workbook(tmp_path / "missing.xlsx")
    check_workbook(tmp_path)


@pytest.mark.parametrize("name", ["/etc/passwd", "C:/x.xml", "xl/../../x.xml", "..\\x.xml"])
def test_a_part_named_outside_the_workbook_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "w.xlsx"
    rezip(_exported(), path, add={name: b"<x/>"})
    with pytest.raises(SpecError, match="outside the workbook") as info:
        check_workbook(path, SpecError)
    assert str(info.value).startswith(f"{path}: the workbook holds a part named {name!r}")


def test_a_highly_packed_part_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    path = tmp_path / "w.xlsx"
    rezip(_exported(), path, {_STUDY_SHEET: padded})
    start = time.process_time()  # CPU time: the work done, however loaded the machine
    with pytest.raises(RawDataError, match="more than 100 times its size"):
        check_workbook(path, RawDataError)
    assert time.process_time() - start < 0.5  # the directory alone tells


def test_the_total_unpacked_size_and_number_of_parts_are_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.xlsx"
    path.write_bytes(_exported())
    monkeypatch.setattr(zipguard, "MAX_UNPACKED_BYTES", 100 * 1024)
    with pytest.raises(SpecError, match=r"unpacks to 0 MB, more than the 0 MB a workbook may"):
        check_workbook(path, SpecError)
    monkeypatch.undo()
    monkeypatch.setattr(zipguard, "MAX_PARTS", 10)
    with pytest.raises(SpecError, match="the workbook has 33 parts, more than the 10"):
        check_workbook(path, SpecError)


def test_rows_and_cells_without_references_count_as_openpyxl_counts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.xlsx"
    body = "<row><c/><c/><c/></row>" * 19 + '<row><c r="C20"/></row>'  # 20 rows x 3
    rezip(
        _sheet(tmp_path / "plain.xlsx", [["a"]]), path, {_STUDY_SHEET: lambda _: _xml_sheet(body)}
    )
    monkeypatch.setattr(zipguard, "MAX_SHEET_CELLS", 60)
    check_workbook(path)
    monkeypatch.setattr(zipguard, "MAX_SHEET_CELLS", 59)
    with pytest.raises(CdiscMapperError, match="sheet forms: the used range is 20 rows x 3"):
        check_workbook(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<row r="1"><c r="XFE1"/></row>', f"column 16385 is past the last column a sheet has "
         f"({MAX_SHEET_COLUMNS}, XFD)"),
        ('<row r="2e6"><c/></row>', "row 2000000 is past the last row"),
        ('<x:row xmlns:x="urn:x" r="1048577"/>', "row 1048577 is past the last row"),
        ('<row r="1"><c r="$AAA$1"/></row><row><c r="ZZ3"/></row>' * 2 + '<row r="15000"/>',
         "the used range is 15000 rows x 703 columns"),
    ],
)  # fmt: skip
def test_far_out_cells_are_refused_naming_the_sheet(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "w.xlsx"
    rezip(
        _sheet(tmp_path / "plain.xlsx", [["a"]]), path, {_STUDY_SHEET: lambda _: _xml_sheet(body)}
    )
    with pytest.raises(RawDataError) as info:
        check_workbook(path, RawDataError)
    assert str(info.value).startswith(f"{path}: sheet forms: {message}")
    assert "delete the unused rows and columns" in str(info.value)


def test_a_dtd_is_refused(tmp_path: Path) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><worksheet><sheetData/></worksheet>'
    )
    path = tmp_path / "w.xlsx"
    rezip(_sheet(tmp_path / "plain.xlsx", [["a"]]), path, {_STUDY_SHEET: lambda _: laughs})
    with pytest.raises(SpecError, match=f"sheet forms: part {_STUDY_SHEET} declares a DTD"):
        check_workbook(path, SpecError)


def test_the_raw_reader_and_the_define_workbook_reader_are_guarded(tmp_path: Path) -> None:
    raw = tmp_path / "form.xlsx"
    rezip(
        _sheet(tmp_path / "plain.xlsx", [["A"], ["1"]]), raw, {_STUDY_SHEET: far_cell("B2000000")}
    )
    with pytest.raises(RawDataError, match="row 2000000 is past the last row"):
        read_form("form", raw)
    define = tmp_path / "define.xlsx"
    rezip(_exported(), define, {_STUDY_SHEET: padded})
    with pytest.raises(SpecError, match="more than 100 times its size"):
        read_define_workbook(define)


@pytest.mark.slow
def test_a_raw_form_of_200000_rows_passes_in_seconds(tmp_path: Path) -> None:
    """The realistic upper end: 200,000 records of 11 columns (about 114 MB unpacked)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("labs")
    sheet.append(["PT_ID", "VISIT", "DATE", "TIME", "TEST", "RESULT", "UNIT", "LOW", "HIGH",
                  "ND", "REASON"])  # fmt: skip
    for i in range(200_000):
        sheet.append([f"{i:06d}", "Month 3", "09/01/2016", "08:27", "WBC", "4.4", "10^9/L",
                      "4.5", "11.0", "", ""])  # fmt: skip
    path = tmp_path / "labs.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sum(i.file_size for i in archive.infolist()) > 100 * 1024**2
    start = time.process_time()
    check_workbook(path, RawDataError)
    assert time.process_time() - start < 30
