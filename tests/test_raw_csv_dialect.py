"""cdisc_mapper/raw/reader.py: CSV/TXT exports in another dialect (``;``, tab or ``|``
separated, a legacy encoding), as study.yaml ``csv:`` states it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.errors import RawDataError
from cdisc_mapper.raw import CsvDialect, read_form
from cdisc_mapper.raw import reader as raw_reader

EXPECTED = pd.DataFrame(
    [["1", "Céphalée, légère", "72,5"], ["2", 'a "quoted" word', ""]],
    columns=["ID", "TERM", "WEIGHT"],
    index=pd.Index([2, 3], dtype="int64"),
    dtype=object,
)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "windows-1252", "utf-16"])
def test_a_file_in_the_stated_dialect_reads_as_a_comma_separated_utf8_one(
    tmp_path: Path, delimiter: str, encoding: str
) -> None:
    d = delimiter
    text = f'ID{d}TERM{d}WEIGHT\r\n1{d}Céphalée, légère{d}72,5\r\n2{d}"a ""quoted"" word"{d}\r\n'
    path = tmp_path / "ae.csv"
    path.write_bytes(text.encode(encoding))
    form = read_form("AE", path, CsvDialect(delimiter=delimiter, encoding=encoding))
    pd.testing.assert_frame_equal(form.data, EXPECTED)


def test_a_legacy_encoding_read_as_utf8_names_the_byte_and_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "ae.csv"
    path.write_bytes("ID,TERM\n1,Céphalée\n".encode("windows-1252"))
    with pytest.raises(RawDataError) as info:
        read_form("AE", path)
    assert info.value.message == "not UTF-8 text at byte 11"
    assert "csv: {encoding: windows-1252}" in (info.value.hint or "")


def test_a_byte_the_stated_encoding_lacks_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "ae.csv"
    path.write_bytes(b"ID,TERM\n1,\x81\n")  # 0x81 is not a windows-1252 character
    with pytest.raises(RawDataError, match="not windows-1252 text at byte 10"):
        read_form("AE", path, CsvDialect(encoding="windows-1252"))


def test_a_semicolon_file_read_as_comma_separated_hints_at_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "ae.csv"
    path.write_text("ID;TERM\n1;Headache\n", encoding="utf-8")
    form = read_form("AE", path)
    with pytest.raises(RawDataError) as info:
        form.require(["ID", "TERM"])
    assert "csv: {delimiter: ';'}" in (info.value.hint or "")


def test_a_record_with_too_many_fields_for_the_delimiter_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "ae.csv"
    path.write_text("ID;TERM\n1;a;b\n", encoding="utf-8")
    with pytest.raises(RawDataError, match="2"):
        read_form("AE", path, CsvDialect(delimiter=";"))


@pytest.mark.parametrize("delimiter", ['"', "\n", ";;", ""])
def test_a_delimiter_is_one_character_other_than_a_quote_or_line_break(delimiter: str) -> None:
    with pytest.raises(ValueError, match="one character"):
        CsvDialect(delimiter=delimiter)


PIECES = ["a", "7", " ", ",", ";", "\t", "|", '"', '""', "\n", "\r\n", "é"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([";", "\t", "|"]), st.lists(st.sampled_from(PIECES), max_size=40))
def test_quick_path_reads_what_the_careful_reading_reads_in_any_delimiter(
    delimiter: str, pieces: list[str]
) -> None:
    dialect = CsvDialect(delimiter=delimiter)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        header = delimiter.join(["ID", "TERM", "DOSE"])
        path.write_bytes((header + "\n" + "".join(pieces)).encode("utf-8"))

        def outcome(quick: bool) -> pd.DataFrame | str:
            try:
                if quick:
                    return read_form("F", path, dialect).data
                with mock.patch.object(raw_reader, "_csv_quick", return_value=None):
                    return read_form("F", path, dialect).data
            except RawDataError as exc:
                return str(exc)

        fast, careful = outcome(True), outcome(False)
        if isinstance(fast, str) or isinstance(careful, str):
            assert fast == careful
        else:
            pd.testing.assert_frame_equal(fast, careful)
