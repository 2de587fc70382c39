"""Reading a CSV form by parts of its subjects (cdisc_mapper.raw.chunks): the same records
and row numbers as the whole-file reader, a block at a time; anything else left to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.errors import RawDataError
from cdisc_mapper.raw import read_form
from cdisc_mapper.raw.chunks import (
    FormLines,
    Subjects,
    line_blocks,
    parse_lines,
    route_lines,
    scan_subjects,
)


def parts_of(path: Path, starts: list[str], size: int) -> list[pd.DataFrame]:
    """The records of each part (subjects from each of ``starts``), read by blocks."""
    subjects = Subjects()
    form = scan_subjects(path, "PT", subjects, size=size)
    assert form is not None
    values = subjects.values()
    part_of = np.searchsorted(np.asarray(starts, dtype=object), values, side="right")
    bodies: dict[int, list[bytes]] = {}
    lines: dict[int, list[np.ndarray]] = {}
    for part, body, numbers in route_lines(form, part_of, size=size):
        bodies.setdefault(part, []).append(body)
        lines.setdefault(part, []).append(numbers)
    return [
        parse_lines(
            path,
            form.header,
            b"".join(bodies.get(k, [])),
            np.concatenate(lines.get(k, [np.empty(0, dtype=np.int64)])),
            ",",
        )
        for k in range(len(starts) + 1)
    ]


LAYOUT = (
    "\ufeffPT , X,Y\r\n"  # byte order mark, a name to strip, CRLF line ends
    "S2,a,1\r\n"  # row 2
    ' S1 ,"b,c",2\r\n'  # row 3: identifier stripped, a quoted comma
    "\r\n"  # row 4: a blank line, not a record
    "S3,d,\r\n"  # row 5
    "S1,e,5"  # row 6: no line end at the end of the file
)


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_parts_hold_their_subjects_records_in_file_order_with_row_numbers(tmp_path, size):
    path = tmp_path / "f.csv"
    path.write_bytes(LAYOUT.encode())
    first, second = parts_of(path, ["S2"], size)
    assert list(first.columns) == ["PT", "X", "Y"]
    assert first.to_dict("index") == {
        3: {"PT": "S1", "X": "b,c", "Y": "2"},
        6: {"PT": "S1", "X": "e", "Y": "5"},
    }
    assert second.to_dict("index") == {
        2: {"PT": "S2", "X": "a", "Y": "1"},
        5: {"PT": "S3", "X": "d", "Y": ""},
    }


def test_the_parts_together_are_the_whole_file_read(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(LAYOUT.encode())
    joined = pd.concat(parts_of(path, ["S2"], 5)).sort_index()
    pd.testing.assert_frame_equal(joined, read_form("f", path).data)


def test_subject_codes_are_shared_by_forms_and_stripped(tmp_path):
    (tmp_path / "a.csv").write_text("PT,X\nS1,1\nS2,2\n")
    (tmp_path / "b.csv").write_text("X,PT\n1, S2\n2,S9\n\n")
    subjects = Subjects()
    a = scan_subjects(tmp_path / "a.csv", "PT", subjects)
    b = scan_subjects(tmp_path / "b.csv", "PT", subjects)
    assert isinstance(a, FormLines) and isinstance(b, FormLines)
    assert list(subjects.values()) == ["S1", "S2", "S9", ""]  # "" the blank line's
    assert list(a.subjects) == [0, 1]
    assert list(b.subjects) == [1, 2, 3]
    assert list(b.counts(4)) == [0, 1, 1, 1]


@pytest.mark.parametrize(
    "text",
    [
        'PT,X\nS1,"two\nlines"\n',  # a quoted value over two lines
        "PT,X\nS1\n",  # a row cut short
        'PT,X\nS1,"a"b\n',  # a quote the strict reader refuses
        "PT,X\nS1,a\rS2,b\n",  # a bare CR
        "",  # no header
    ],
)
def test_what_the_fast_path_does_not_read_is_left_to_the_whole_file_reader(tmp_path, text):
    path = tmp_path / "f.csv"
    path.write_text(text)
    assert scan_subjects(path, "PT", Subjects()) is None


def test_text_that_is_not_utf8_in_another_column_is_left_to_the_reader(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"PT,X\nS1,caf\xe9\n")
    assert scan_subjects(path, "PT", Subjects()) is None
    with pytest.raises(RawDataError, match="not UTF-8 text at byte 11"):
        read_form("f", path)  # the whole-file reader names the byte


def test_a_form_without_the_column_or_a_workbook_is_not_scanned(tmp_path):
    (tmp_path / "f.csv").write_text("SUBJ,X\nS1,1\n")
    assert scan_subjects(tmp_path / "f.csv", "PT", Subjects()) is None
    (tmp_path / "f.xlsx").write_bytes(b"PK")
    assert scan_subjects(tmp_path / "f.xlsx", "PT", Subjects()) is None


def test_a_part_whose_lines_changed_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(RawDataError, match=r"f\.csv: the file changed while it was read"):
        parse_lines(tmp_path / "f.csv", ["PT", "X"], b"S1,a,b\n", np.array([2]), ",")


def test_blocks_are_whole_lines(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"ab\ncdefgh\ni")
    assert list(line_blocks(path, 2)) == [b"ab\n", b"cdefgh\n", b"i"]
    assert b"".join(line_blocks(path, 4)) == b"ab\ncdefgh\ni"


CELL = st.text(alphabet=' ab,"é', max_size=4)


@settings(deadline=None, max_examples=60)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["S1", "S2", " S3", ""]), CELL, CELL), max_size=12),
    blank=st.integers(0, 12),
    size=st.integers(1, 64),
)
def test_any_file_the_fast_path_reads_is_read_the_same_by_parts(
    tmp_path_factory, rows, blank, size
):
    path = tmp_path_factory.mktemp("h") / "f.csv"
    lines = ["PT,X,Y"] + [",".join(_quoted(v) for v in row) for row in rows]
    lines.insert(min(blank, len(lines)), "")
    path.write_bytes("\n".join(lines).encode() + b"\n")
    try:
        whole = read_form("f", path).data
    except RawDataError:  # a blank line first: no header
        assert scan_subjects(path, "PT", Subjects()) is None
        return
    joined = pd.concat(parts_of(path, ["S2"], size)).sort_index()
    pd.testing.assert_frame_equal(joined, whole)


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"') else value
