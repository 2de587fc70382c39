"""Unit tests of cdisc_mapper.raw.reader: raw forms read as stripped text with row numbers.

The reader's promises (module docstring): every cell is text exactly as exported (no type
guessing: ``01`` stays ``01``, ``NA`` stays ``NA``), with surrounding blanks removed; the
index is the row number a person sees in the file (header = row 1, first record = row 2
for CSV and XLSX; SAS7BDAT rows from 1); every failure is a RawDataError naming the file.
Fixture files are written in tmp_path.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.errors import RawDataError
from cdisc_mapper.raw import RawForm, open_form, path_inside, read_form
from cdisc_mapper.raw import reader as raw_reader
from cdisc_mapper.raw.excel import format_decimals, number_text

FIELD_COUNT_HINT = (
    "every record needs exactly one field per header column: re-export the file (a row "
    "cut short, or a value holding a comma without quotes around it?)"
)
FORMATS = ["General", "0", "0.00", "0.0#", "#,##0.000", "0.0%", "0.00E+00", "0.00;(0.00)"]


def _frame(rows: list[list[str]], columns: list[str], index: list[int]) -> pd.DataFrame:
    """The expected form data: text (object) columns on the file's row numbers."""
    return pd.DataFrame(rows, columns=columns, index=pd.Index(index, dtype="int64"), dtype=object)


def _csv(tmp_path: Path, text: str, name: str = "dm.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _xlsx(tmp_path: Path, rows: list[list[object]], name: str = "dm.xlsx") -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                ws.cell(row=r, column=c, value=value)
    path = tmp_path / name
    wb.save(path)
    return path


# ------------------------------------------------------------------ CSV


def test_csv_cells_are_stripped_text_without_type_guessing(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "SUBJID, AGE ,SEX,VISIT,RESULT\n"
        "01, 055 ,NA,,1.50\n"
        "002,NULL, f ,  ,-0\n"
        "3,1e3,N/A,TRUE,nan\n",
    )
    form = read_form("DM", path)
    expected = _frame(
        [
            ["01", "055", "NA", "", "1.50"],
            ["002", "NULL", "f", "", "-0"],
            ["3", "1e3", "N/A", "TRUE", "nan"],
        ],
        ["SUBJID", "AGE", "SEX", "VISIT", "RESULT"],
        [2, 3, 4],
    )
    pd.testing.assert_frame_equal(form.data, expected)
    assert form.name == "DM"
    assert form.path == path


def test_csv_row_numbers_start_at_2_after_the_header(tmp_path: Path) -> None:
    path = _csv(tmp_path, "A\n" + "".join(f"v{i}\n" for i in range(2, 12)))
    data = read_form("F", path).data
    assert data.index.tolist() == list(range(2, 12))
    assert data.loc[7, "A"] == "v7"  # the value on file row 7 is found as row 7


def test_csv_quoted_cells_keep_commas_quotes_and_line_breaks(tmp_path: Path) -> None:
    path = _csv(tmp_path, 'ID,TERM\n1,"HEADACHE, SEVERE"\n2,"say ""hi"""\n3,"two\nlines"\n')
    expected = _frame(
        [["1", "HEADACHE, SEVERE"], ["2", 'say "hi"'], ["3", "two\nlines"]],
        ["ID", "TERM"],
        [2, 3, 4],  # a line break inside a quoted cell stays in its row
    )
    pd.testing.assert_frame_equal(read_form("AE", path).data, expected)


def test_csv_short_row_is_an_error_not_padded(tmp_path: Path) -> None:
    # a row cut short was padded with empty cells: an AE without AEDECOD, AESEV or dates
    path = _csv(tmp_path, "A,B,C\n1,2\n4,5,6\n")
    with pytest.raises(RawDataError) as info:
        read_form("F", path)
    assert str(info.value) == (
        f"{path}:2: 2 fields where the header (line 1) has 3 ({FIELD_COUNT_HINT})"
    )


def test_csv_txt_and_upper_case_suffix(tmp_path: Path) -> None:
    for name in ("vs.txt", "vs.CSV"):
        path = _csv(tmp_path, "A,B\n1,2\n", name)
        pd.testing.assert_frame_equal(
            read_form("VS", path).data, _frame([["1", "2"]], ["A", "B"], [2])
        )


def test_csv_utf8_text_and_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "lb.csv"
    path.write_bytes("\ufeffLBTEST,LBORRESU\nGlucose,µmol/L\nCréatinine,mg/dL\n".encode())
    expected = _frame(
        [["Glucose", "µmol/L"], ["Créatinine", "mg/dL"]], ["LBTEST", "LBORRESU"], [2, 3]
    )
    pd.testing.assert_frame_equal(read_form("LB", path).data, expected)


def test_csv_not_utf8_is_a_raw_data_error(tmp_path: Path) -> None:
    path = tmp_path / "dm.csv"
    path.write_bytes("ID,NAME\n1,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(RawDataError) as info:
        read_form("DM", path)
    text = str(info.value)
    assert text.startswith(f"{path}: not UTF-8 text at byte ")
    assert text.endswith(
        "(re-export as UTF-8, or state the file's encoding in study.yaml (csv: {encoding: "
        "windows-1252}, or per file under csv: files:))"
    )


def test_csv_header_only_is_an_empty_form(tmp_path: Path) -> None:
    form = read_form("AE", _csv(tmp_path, "USUBJID,AETERM\n"))
    pd.testing.assert_frame_equal(form.data, _frame([], ["USUBJID", "AETERM"], []))


def test_csv_empty_file_is_a_raw_data_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, "")
    with pytest.raises(RawDataError, match="cannot read file") as info:
        read_form("AE", path)
    assert str(info.value).startswith(str(path))


def test_csv_row_with_too_many_fields_is_a_raw_data_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, "A,B\n1,2\n3,4,5\n")
    with pytest.raises(RawDataError, match=r":3: 3 fields where the header \(line 1\) has 2 "):
        read_form("F", path)


# ------------------------------------------------------------------ file-level errors


def test_missing_file_names_form_and_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "ae.csv"
    with pytest.raises(RawDataError) as info:
        read_form("AE", path)
    assert str(info.value) == (
        f"{path}: raw file for form 'AE' not found (check --raw and the spec's form/file names)"
    )


def test_unsupported_file_type(tmp_path: Path) -> None:
    path = tmp_path / "dm.json"
    path.write_text("{}")
    with pytest.raises(RawDataError, match=r"unsupported raw file type '\.json'"):
        read_form("DM", path)


def test_read_form_accepts_a_text_path(tmp_path: Path) -> None:
    path = _csv(tmp_path, "A\n1\n")
    form = read_form("F", str(path))
    assert form.path == path and isinstance(form.path, Path)


# ------------------------------------------------------------------ RawForm.require


def test_require_passes_when_every_column_is_there(tmp_path: Path) -> None:
    form = read_form("DM", _csv(tmp_path, "SUBJID,AGE,SEX\n01,55,F\n"))
    assert form.require(["AGE", "SUBJID"]) is None
    assert form.require({"SEX"}) is None
    assert form.require(()) is None
    with pytest.raises(RawDataError, match=r"missing column\(s\) sex: "):
        form.require(["SUBJID", "sex"])  # names are compared exactly


def test_require_names_the_file_and_every_missing_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "SUBJID,AGE\n01,55\n")
    form = read_form("DM", path)
    with pytest.raises(RawDataError) as info:
        form.require(["SUBJID", "SEX", "AGE", "RACE"])
    assert str(info.value) == (
        f"{path}: missing column(s) SEX, RACE: not among the 2 column names of the header "
        "(row 1) (fix the export or the spec's column names)"
    )


def test_require_compares_stripped_exact_names(tmp_path: Path) -> None:
    form = read_form("DM", _csv(tmp_path, " SUBJID ,Age\n01,55\n"))
    form.require(["SUBJID"])  # header blanks are removed...
    with pytest.raises(RawDataError, match=r"missing column\(s\) AGE: .* close names in it: Age "):
        form.require(["AGE"])  # ...but case is kept


def test_rawform_can_be_built_directly() -> None:
    data = _frame([["1"]], ["A"], [2])
    form = RawForm(name="F", path=Path("f.csv"), data=data)
    with pytest.raises(RawDataError, match=r"^f\.csv: missing column\(s\) B: "):
        form.require(["B"])


# ------------------------------------------------------------------ XLSX


def test_xlsx_cells_as_text_with_row_numbers(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path,
        [
            ["SUBJID", " AGE ", "SEX", "WEIGHT"],
            ["01", 55, " F ", 70.5],
            ["002", None, "NA", 80],
        ],
    )
    expected = _frame(
        [["01", "55", "F", "70.5"], ["002", "", "NA", "80"]],
        ["SUBJID", "AGE", "SEX", "WEIGHT"],
        [2, 3],
    )
    pd.testing.assert_frame_equal(read_form("DM", path).data, expected)


def test_xlsx_reads_the_first_sheet(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["A"])
    wb.active.append(["first"])
    other = wb.create_sheet("Other")
    other.append(["A"])
    other.append(["second"])
    path = tmp_path / "f.xlsx"
    wb.save(path)
    pd.testing.assert_frame_equal(read_form("F", path).data, _frame([["first"]], ["A"], [2]))


def test_xlsx_blank_row_keeps_the_row_numbers_of_later_records(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [["ID", "X"], ["1", "a"], [None, None], ["2", "b"]])
    data = read_form("F", path).data
    assert data.loc[2].tolist() == ["1", "a"]
    assert data.loc[4].tolist() == ["2", "b"]  # as on the sheet: row 4


def test_xlsx_header_only_is_an_empty_form(tmp_path: Path) -> None:
    form = read_form("AE", _xlsx(tmp_path, [["USUBJID", "AETERM"]]))
    pd.testing.assert_frame_equal(form.data, _frame([], ["USUBJID", "AETERM"], []))


# ------------------------------------------------------------------ SAS7BDAT


def _sas7bdat(tmp_path: Path, frame: pd.DataFrame) -> Path:
    pyreadstat = pytest.importorskip("pyreadstat")
    if not hasattr(pyreadstat, "write_sas7bdat"):
        pytest.skip("this pyreadstat cannot write sas7bdat")
    path = tmp_path / "dm.sas7bdat"
    pyreadstat.write_sas7bdat(frame, str(path))
    return path


def test_sas7bdat_values_as_text_rows_from_1(tmp_path: Path) -> None:
    path = _sas7bdat(
        tmp_path,
        pd.DataFrame(
            {
                "SUBJID": ["01", " 002 ", ""],
                "AGE": [55.0, np.nan, 1.5],  # whole numbers without ".0"; missing -> ""
                "N": [1e15, -0.0, 3.0],
            }
        ),
    )
    expected = _frame(
        [["01", "55", "1000000000000000"], ["002", "", "0"], ["", "1.5", "3"]],
        ["SUBJID", "AGE", "N"],
        [1, 2, 3],
    )
    pd.testing.assert_frame_equal(read_form("DM", path).data, expected)


# ------------------------------------------------------------------ header row (bug fixes)


def test_csv_trailing_delimiter_does_not_shift_the_columns(tmp_path: Path) -> None:
    # "1,2," under "A,B": pandas took the first field as the row index and shifted every
    # value one column to the left (A=2, B=""), silently; now an error naming the line
    path = _csv(tmp_path, "SUBJID,AGE\n01,55,\n02,60,\n")
    with pytest.raises(RawDataError, match=r"dm\.csv:2: 3 fields where the header .* has 2;"):
        read_form("DM", path)


def test_csv_extra_field_in_first_record_is_an_error_not_a_shift(tmp_path: Path) -> None:
    path = _csv(tmp_path, "SUBJID,AGE\n01,55,X\n02,60\n")
    with pytest.raises(RawDataError, match=r"dm\.csv:2: 3 fields where the header .* has 2 "):
        read_form("DM", path)


@pytest.mark.parametrize("header", ["SUBJID,AGE,AGE", "SUBJID,AGE, AGE "])
def test_csv_duplicate_column_names_are_an_error(tmp_path: Path, header: str) -> None:
    # pandas renamed a repeated name to AGE.1, and two names equal after stripping
    # collapsed to one column (the first one's values lost): neither may pass silently
    path = _csv(tmp_path, f"{header}\n01,55,56\n")
    with pytest.raises(RawDataError) as info:
        read_form("DM", path)
    assert str(info.value) == f"{path}: duplicate column names ['AGE']"


def test_xlsx_duplicate_column_names_are_an_error(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [["SUBJID", "AGE", "AGE "], ["01", 55, 56]])
    with pytest.raises(RawDataError, match=r"duplicate column names \['AGE'\]"):
        read_form("DM", path)


def test_blank_header_cells_are_named_by_position(tmp_path: Path) -> None:
    # as pandas names them; a header ending with a delimiter gives one such column
    path = _csv(tmp_path, "A,,C,\n1,2,3,\n")
    expected = _frame([["1", "2", "3", ""]], ["A", "Unnamed: 1", "C", "Unnamed: 3"], [2])
    pd.testing.assert_frame_equal(read_form("F", path).data, expected)
    path = _xlsx(tmp_path, [["A", None, "C"], ["1", "2", "3"]])
    expected = _frame([["1", "2", "3"]], ["A", "Unnamed: 1", "C"], [2])
    pd.testing.assert_frame_equal(read_form("F", path).data, expected)


def test_xlsx_empty_sheet_has_no_columns_and_require_says_so(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [])
    form = read_form("AE", path)
    assert form.data.shape == (0, 0)
    with pytest.raises(RawDataError, match=r"missing column\(s\) USUBJID: not among the 0 "):
        form.require(["USUBJID"])


# ------------------------------------------------------------------ blank rows (bug fix)


def test_csv_blank_line_keeps_the_row_numbers_of_later_records(tmp_path: Path) -> None:
    # pandas skipped blank lines and the records after one were numbered one row too
    # early, so error messages pointed at the wrong row of the file
    path = _csv(tmp_path, "ID,X\n1,a\n\n2,b\n,\n3,c\n\n")
    expected = _frame([["1", "a"], ["2", "b"], ["3", "c"]], ["ID", "X"], [2, 4, 6])
    pd.testing.assert_frame_equal(read_form("F", path).data, expected)


def test_rows_without_any_value_are_not_records(tmp_path: Path) -> None:
    # blank rows in a sheet (and ' , ' lines in a CSV) carry no record in any format
    path = _xlsx(tmp_path, [["ID", "X"], ["1", "a"], [None, None], [" ", None], ["2", "b"]])
    expected = _frame([["1", "a"], ["2", "b"]], ["ID", "X"], [2, 5])
    pd.testing.assert_frame_equal(read_form("F", path).data, expected)
    path = _csv(tmp_path, "ID,X\n , \n1,a\n")
    pd.testing.assert_frame_equal(read_form("F", path).data, _frame([["1", "a"]], ["ID", "X"], [3]))


def test_csv_header_must_be_on_row_1(tmp_path: Path) -> None:
    path = _csv(tmp_path, "\nID,X\n1,a\n")
    with pytest.raises(RawDataError, match=r"no header on row 1"):
        read_form("F", path)


def test_xlsx_header_must_be_on_row_1(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [[None, None], ["ID", "X"], ["1", "a"]])
    with pytest.raises(RawDataError, match=r"cannot read file: no header on row 1"):
        read_form("F", path)


# ------------------------------------------------------------------ unreadable files (bug fixes)


def test_csv_not_utf8_names_the_byte_offset_in_the_file(tmp_path: Path) -> None:
    # the offset was the one within pandas' decoding chunk (3 here), not in the file
    path = tmp_path / "dm.csv"
    content = "ID,NAME\n1,Jos\xe9\n".encode("latin-1")
    path.write_bytes(content)
    with pytest.raises(RawDataError) as info:
        read_form("DM", path)
    assert content.index(b"\xe9") == 13
    assert info.value.message == "not UTF-8 text at byte 13"


def test_csv_not_utf8_after_a_large_utf8_part(tmp_path: Path) -> None:
    path = tmp_path / "ae.csv"
    head = "ID,TERM\n" + "".join(f"{i},CÉPHALÉE\n" for i in range(20000))
    content = head.encode() + "1,fi\xe8vre\n".encode("latin-1")
    path.write_bytes(content)
    offset = content.index(b"\xe8")
    assert offset > 200000
    with pytest.raises(RawDataError, match=f"not UTF-8 text at byte {offset} "):
        read_form("AE", path)


@pytest.mark.parametrize("name", ["dm.xlsx", "dm.xlsm", "dm.sas7bdat"])
def test_corrupt_binary_file_is_a_raw_data_error(tmp_path: Path, name: str) -> None:
    # a truncated or mislabelled file gave an internal error (BadZipFile, ReadstatError)
    path = tmp_path / name
    path.write_bytes(b"SUBJID,AGE\n01,55\n")
    with pytest.raises(RawDataError) as info:
        read_form("DM", path)
    assert str(info.value).startswith(f"{path}: cannot read file: ")


def test_zip_that_is_not_a_workbook_is_a_raw_data_error(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "dm.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("dm.csv", "SUBJID\n01\n")
    with pytest.raises(RawDataError, match=r"^.*dm\.xlsx: cannot read file: not an Excel workbook"):
        read_form("DM", path)


# ------------------------------------------------------------------ strict CSV (issue 11)


@pytest.mark.parametrize(
    ("text", "line", "fields"),
    [
        ("A,B,C\n1,2,3\n4,5\n", 3, 2),  # the last record cut short
        ("A,B,C\n1,2,3\n4,5,6,7\n8,9,10\n", 3, 4),  # one extra field in the middle
        ("A,B,C\n1\n", 2, 1),  # a single field left
        ("A,B,C\r\n1,2,3\r\n4,5\r\n", 3, 2),  # Windows line ends
    ],
)
def test_csv_record_with_another_field_count_is_an_error(
    tmp_path: Path, text: str, line: int, fields: int
) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(RawDataError) as info:
        read_form("F", path)
    assert str(info.value) == (
        f"{path}:{line}: {fields} fields where the header (line 1) has 3 ({FIELD_COUNT_HINT})"
    )


def test_csv_every_bad_record_is_counted_in_the_message(tmp_path: Path) -> None:
    body = "".join("1,2\n" if i % 2 else "1,2,3\n" for i in range(20))
    path = _csv(tmp_path, "A,B,C\n" + body)
    with pytest.raises(RawDataError) as info:
        read_form("F", path)
    assert f"{path}:3: 2 fields where the header (line 1) has 3; also the records on " in str(
        info.value
    )
    assert "lines 5, 7, 9, 11, 13 and 4 more (" in str(info.value)


def test_csv_lines_are_counted_as_an_editor_shows_them(tmp_path: Path) -> None:
    # a quoted value with a line break spans two lines: the next record starts on line 4
    path = _csv(tmp_path, 'ID,TERM\n1,"headache\nafter LP"\n2,fever\n3\n')
    with pytest.raises(RawDataError, match=r"dm\.csv:5: 1 fields where the header"):
        read_form("F", path)
    path = _csv(tmp_path, 'ID,TERM\r\n1,"headache\r\nafter LP"\r\n\r\n2,fever\r\n  \r\n\r\n')
    data = read_form("F", path).data  # blank lines are no records, and no short rows
    assert data.index.tolist() == [2, 5]
    assert data["TERM"].tolist() == ["headache\r\nafter LP", "fever"]


def test_csv_bad_record_spanning_lines_names_its_first_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, 'ID,TERM,X\n1,a,b\n2,"two\nlines"\n')
    with pytest.raises(RawDataError) as info:
        read_form("F", path)
    assert str(info.value).startswith(
        f"{path}:3: 2 fields where the header (line 1) has 3 (the record spans lines 3-4) ("
    )


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        ('ID,TERM\n1,a\n2,"not closed\n3,c\n', 3, "unexpected end of data"),
        ('ID,TERM\n1,"a"b\n', 2, "',' expected after '\"'"),
        ('ID,TERM\n1,"x\ny"\n2,"a"b\n', 4, "',' expected after '\"'"),
    ],
)
def test_csv_quotes_are_read_strictly(tmp_path: Path, text: str, line: int, why: str) -> None:
    # pandas dropped the quote of "a"b (a silent 'ab') and swallowed the rest of the
    # file into an unclosed quote
    path = _csv(tmp_path, text)
    with pytest.raises(RawDataError) as info:
        read_form("F", path)
    assert str(info.value).startswith(
        f"{path}:{line}: cannot read the record starting on this line: {why} ("
    )
    path = _csv(tmp_path, 'ID,TERM\n1,5" long\n')  # a quote inside a value is text
    assert read_form("F", path).data["TERM"].tolist() == ['5" long']


def _read_carefully(path: Path) -> pd.DataFrame:
    """read_form as it reads without the C parser's quick path."""
    with mock.patch.object(raw_reader, "_csv_quick", return_value=None):
        return read_form("F", path).data


def _outcome(read: Callable[[], pd.DataFrame]) -> pd.DataFrame | str:
    try:
        return read()
    except RawDataError as exc:
        return str(exc)


CSV_PIECES = ["a", "b", "7", " ", ",", '"', '""', "\n", "\r\n", "\r", "é", "\t", "\x00"]


@settings(max_examples=400)
@given(st.lists(st.sampled_from(CSV_PIECES), max_size=40))
def test_csv_quick_path_reads_what_the_careful_reading_reads(pieces: list[str]) -> None:
    # the C parser is used only where it cannot repair anything: same frame, same error
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_bytes(("ID,TERM,DOSE\n" + "".join(pieces)).encode("utf-8"))
        quick = _outcome(lambda: read_form("F", path).data)
        careful = _outcome(lambda: _read_carefully(path))
        if isinstance(careful, str) or isinstance(quick, str):
            assert quick == careful
        else:
            pd.testing.assert_frame_equal(quick, careful)


def test_csv_quick_path_reads_a_usual_export(tmp_path: Path) -> None:
    text = (
        "\ufeffID,TERM,RESULT\r\n"
        '1,"Headache, mild",<5\r\n'
        "\r\n"
        '2,"a ""quoted"" word", 4,1 \r\n'.replace(" 4,1 ", '" 4,1 "')
        + '3,5" long,\r\n'
    )
    path = _csv(tmp_path, text)
    assert raw_reader._csv_quick(path) is not None
    expected = _frame(
        [["1", "Headache, mild", "<5"], ["2", 'a "quoted" word', "4,1"], ["3", '5" long', ""]],
        ["ID", "TERM", "RESULT"],
        [2, 4, 5],
    )
    pd.testing.assert_frame_equal(read_form("F", path).data, expected)
    pd.testing.assert_frame_equal(_read_carefully(path), expected)


@pytest.mark.parametrize(
    "text",
    [
        "ID,TERM\n1\n",  # a short record: its error comes from the careful reading
        'ID,TERM\n1,"two\nlines"\n',  # a record over two lines
        "ID,TERM\r1,a\r",  # bare CR line ends
        'ID,TERM\n1,"a"b\n',  # quotes the strict reader refuses
        "\n\nID,TERM\n",  # no header on line 1
    ],
)
def test_csv_quick_path_leaves_doubtful_files_to_the_careful_reading(
    tmp_path: Path, text: str
) -> None:
    assert raw_reader._csv_quick(_csv(tmp_path, text)) is None


# ------------------------------------------------------------------ require (issue 11)


def test_require_never_shows_cells_of_a_headerless_file(tmp_path: Path) -> None:
    # the message listed the whole of row 1: the first record when the header is missing
    path = _csv(tmp_path, "001,JANE DOE,1962-03-01\n002,JOHN ROE,1970-01-01\n")
    form = read_form("DM", path)
    with pytest.raises(RawDataError) as info:
        form.require(["SUBJID", "NAME"])
    text = str(info.value)
    assert text == (
        f"{path}: missing column(s) SUBJID, NAME: not among the 3 column names of the header "
        "(row 1) (fix the export or the spec's column names)"
    )


def test_require_names_close_header_names(tmp_path: Path) -> None:
    form = read_form("DM", _csv(tmp_path, "SUBJ_ID,Sex,RACE\n01,F,W\n"))
    with pytest.raises(RawDataError) as info:
        form.require(["SUBJID", "SEX", "RACE"])
    assert "close names in it: SUBJ_ID (for SUBJID), Sex (for SEX) (" in str(info.value)


# ------------------------------------------------------------------ paths (issue 11)


def test_open_form_reads_a_file_inside_the_raw_folder(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    _csv(raw / "sub", "A\n1\n", "ae.csv")
    form = open_form("AE", raw, "sub/ae.csv")
    assert form.file == "sub/ae.csv" and form.path == raw / "sub" / "ae.csv"
    assert form.data["A"].tolist() == ["1"]
    assert read_form("AE", raw / "sub" / "ae.csv").file == "ae.csv"


def _foreign(tmp_path: Path) -> Path:
    other = tmp_path / "other"
    other.mkdir()
    return _csv(other, "SECRET,LINE\nTOP,SECRET\n", "ae.csv")


@pytest.mark.parametrize("written", ["../other/ae.csv", "sub/../../other/ae.csv", "ABSOLUTE"])
def test_path_outside_the_raw_folder_is_an_error_that_reads_nothing(
    tmp_path: Path, written: str
) -> None:
    foreign = _foreign(tmp_path)
    written = str(foreign) if written == "ABSOLUTE" else written
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    with pytest.raises(RawDataError) as info:
        open_form("AE", raw, written, where="ae.yaml:5")
    assert str(info.value) == (
        f"ae.yaml:5: file {written!r} is outside the raw folder {raw}; no file outside it is "
        "read (copy the file into the raw folder and name it by its path there)"
    )


def test_symbolic_link_leaving_the_raw_folder_is_an_error(tmp_path: Path) -> None:
    foreign = _foreign(tmp_path)
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    (raw / "ae.csv").symlink_to(foreign)
    (raw / "sub" / "up").symlink_to(tmp_path / "other", target_is_directory=True)
    for written in ("ae.csv", "sub/up/ae.csv"):
        with pytest.raises(RawDataError) as info:
            open_form("AE", raw, written, where="ae.yaml:5")
        text = str(info.value)
        assert text.startswith(
            f"ae.yaml:5: file {written!r} is outside the raw folder {raw} (through a symbolic "
            "link); no file outside it is read"
        )
        assert "SECRET" not in text


def test_symbolic_links_within_the_raw_folder_are_followed(tmp_path: Path) -> None:
    real = tmp_path / "exports" / "2024"
    real.mkdir(parents=True)
    _csv(real, "A\n1\n", "ae.csv")
    (real / "latest.csv").symlink_to(real / "ae.csv")
    raw = tmp_path / "raw"
    raw.symlink_to(real, target_is_directory=True)  # the raw folder itself may be a link
    assert open_form("AE", raw, "latest.csv").data["A"].tolist() == ["1"]
    assert path_inside(raw, "ae.csv") == raw / "ae.csv"


# ------------------------------------------------------------------ Excel as shown (issue 11)


def _xlsx_cells(tmp_path: Path, cells: list[tuple[object, str | None]]) -> list[str]:
    """The text read from a one-record sheet of ``cells`` (value, number format)."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    for c, (value, fmt) in enumerate(cells, start=1):
        ws.cell(row=1, column=c, value=f"C{c}")
        cell = ws.cell(row=2, column=c, value=value)
        if fmt is not None:
            cell.number_format = fmt
    path = tmp_path / "f.xlsx"
    wb.save(path)
    return read_form("F", path).data.loc[2].tolist()


def test_xlsx_date_cells_are_iso_8601_dates(tmp_path: Path) -> None:
    # pandas gave '2020-03-05 00:00:00', which no date operation reads
    cells = [
        (dt.datetime(2020, 3, 5), "mm-dd-yy"),  # Excel's own date format (built-in 14)
        (dt.datetime(2020, 3, 5), "dd/mm/yyyy"),
        (dt.date(2020, 3, 5), None),
        (dt.datetime(2020, 3, 5, 14, 30), "dd/mm/yyyy hh:mm"),
        (dt.datetime(2020, 3, 5), "dd/mm/yyyy hh:mm"),  # a time shown, even midnight
        (dt.datetime(2020, 3, 5, 14, 30, 15), "dd/mm/yyyy hh:mm:ss"),
        (dt.datetime(2020, 3, 5, 14, 30, 15), "dd/mm/yyyy"),  # a time held, not shown
        (dt.time(9, 5), "hh:mm"),
        (dt.time(9, 5), "h:mm:ss"),
        (dt.timedelta(hours=26, minutes=30), "[h]:mm"),
    ]
    assert _xlsx_cells(tmp_path, cells) == [
        "2020-03-05",
        "2020-03-05",
        "2020-03-05",
        "2020-03-05T14:30",
        "2020-03-05T00:00",
        "2020-03-05T14:30:15",
        "2020-03-05T14:30:15",
        "09:05",
        "09:05:00",
        "26:30",
    ]


def test_xlsx_numbers_keep_the_decimals_their_format_shows(tmp_path: Path) -> None:
    # pandas gave 4 for 4.0 and 4.1 for 4.10: a result's precision was lost
    cells = [
        (4.0, "0.00"),
        (4.1, "0.00"),
        (4, "0.0"),
        (4.0, "General"),
        (70.5, None),
        (4.1, "0.0#"),
        (4, "0.0#"),
        (1234.5, "#,##0.00"),  # the thousands separator is not part of the value
        (-1234.5, "#,##0.00;[Red](#,##0.00)"),  # nor are colours and brackets
        (2.5, '"$"0.00'),
        (0, '0.00;-0.00;"-"'),  # zero shown as '-': the stored 0
        (True, None),
    ]
    assert _xlsx_cells(tmp_path, cells) == [
        "4.00",
        "4.10",
        "4.0",
        "4",
        "70.5",
        "4.1",
        "4.0",
        "1234.50",
        "-1234.50",
        "2.50",
        "0",
        "TRUE",
    ]


def test_xlsx_number_whose_shown_text_is_not_known_is_its_stored_value(tmp_path: Path) -> None:
    cells = [
        (4.123, "0.0"),  # Excel shows 4.1: the reader never rounds the stored digits away
        (0.125, "0.0%"),  # 12.5%
        (12345.678, "0.00E+00"),
        (1500, "#,##0,"),  # shown in thousands: 2
        (0.5, "# ?/?"),
        (1e-7, "General"),
    ]
    assert _xlsx_cells(tmp_path, cells) == [
        "4.123",
        "0.125",
        "12345.678",
        "1500",
        "0.5",
        "0.0000001",
    ]
    # Excel shows 15 significant digits; a stored value may have 17 (openpyxl writes 16)
    assert number_text(0.1 + 0.2, "General") == "0.30000000000000004"
    assert number_text(1e22, "0") == "10000000000000000000000"
    assert number_text(-0.0, "0.00") == "0.00"


def test_xlsx_error_cell_is_a_raw_data_error(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["ID", "RESULT"])
    wb.active.append(["1", "#DIV/0!"])
    path = tmp_path / "lb.xlsx"
    wb.save(path)
    with pytest.raises(RawDataError) as info:
        read_form("LB", path)
    assert str(info.value) == (
        f"{path}, row 2, column B: the cell holds no value Excel can show (#DIV/0!), not "
        "data (fix the formula or enter the value in the workbook)"
    )


def _with_sheet_xml(path: Path, change: Callable[[bytes], bytes]) -> None:
    """Rewrite the first sheet's XML of a workbook openpyxl saved."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts["xl/worksheets/sheet1.xml"] = change(parts["xl/worksheets/sheet1.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_xlsx_formula_without_a_saved_value_is_an_error_not_an_empty_cell(
    tmp_path: Path,
) -> None:
    # a workbook written by a program (openpyxl) holds formulas without their values:
    # read with the values Excel saved, such cells came out empty
    path = _xlsx(tmp_path, [["ID", "DOSE", "TOTAL"], ["1", 4, "=B2*2"], ["2", 5, "=B3*2"]])
    with pytest.raises(RawDataError) as info:
        read_form("EX", path)
    assert str(info.value) == (
        f"{path}, row 2, column C: the cell holds a formula whose value was never saved "
        "(also C3) (open the workbook in a spreadsheet program and save it (that computes "
        "and saves the values), or enter the values)"
    )


def test_xlsx_formula_with_its_saved_value_reads_the_value(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [["ID", "TOTAL", "NOTE"], ["1", "=4*2", '=""']])
    _with_sheet_xml(
        path,
        lambda xml: xml.replace(b"<f>4*2</f><v></v>", b"<f>4*2</f><v>8</v>").replace(
            b'<c r="C2"><f>""</f><v></v>', b'<c r="C2" t="str"><f>""</f><v></v>'
        ),
    )
    expected = _frame([["1", "8", ""]], ["ID", "TOTAL", "NOTE"], [2])
    pd.testing.assert_frame_equal(read_form("EX", path).data, expected)


@settings(max_examples=300)
@given(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(FORMATS))
def test_xlsx_number_text_never_changes_the_stored_number(value: float, fmt: str) -> None:
    text = number_text(value, fmt)
    assert re.fullmatch(r"-?\d+(\.\d+)?", text), text
    assert Decimal(text) == Decimal(repr(value))  # padding zeros only, never rounding


@pytest.mark.parametrize(
    ("fmt", "value", "decimals"),
    [
        ("0.000", 1.0, 3),
        ("0.00_);(0.00)", -1.0, 2),
        ("0.00;0.0", -1.0, 1),
        ('0.00" kg"', 1.0, 2),
        ("[$€-2] #,##0.00", 1.0, 2),
        ("0.00%", 1.0, None),
        ("@", 1.0, None),
        ("General", 1.0, 0),
        ("", 1.0, 0),
    ],
)
def test_format_decimals(fmt: str, value: float, decimals: int | None) -> None:
    assert format_decimals(fmt, value) == decimals
