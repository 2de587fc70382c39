"""Distinct values and combinations straight from XPORT bytes (cdisc_mapper.xpt.distinct):
hand-worked codes and representative records, and the same records as the pandas profile
(:func:`cdisc_mapper.define.profile.representatives` over the frame read) on random files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc_mapper.define.profile import representatives
from cdisc_mapper.xpt import XptVariable, read_xpt, write_xpt
from cdisc_mapper.xpt.distinct import (
    Records,
    Runs,
    column_codes,
    distinct_records,
    first_of_groups,
)
from cdisc_mapper.xpt.fastread import LayoutError, Namestr


def _records(*columns: list[bytes]) -> np.ndarray:
    """Fixed-width records from columns of stored bytes (each column one width)."""
    rows = [b"".join(cells) for cells in zip(*columns, strict=True)]
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), -1).copy()


def test_text_codes_follow_the_values_read_not_the_bytes() -> None:
    # stored:   "AB  "  "AB\0\0"  "    "  "AB  "  "ABC "  "\0\0\0\0"  "A B "
    # read:     "AB"    "AB"      ""      "AB"    "ABC"   ""          "A B"
    cells = [b"AB  ", b"AB\x00\x00", b"    ", b"AB  ", b"ABC ", b"\x00\x00\x00\x00", b"A B "]
    records = _records([b"x"] * len(cells), cells)
    codes = column_codes(records, Namestr("T", True, 4, 1))
    assert codes.tolist() == [0, 0, 1, 0, 2, 1, 3]


def test_long_text_codes() -> None:
    # 20-byte values: three words per row; equal values far apart, one differing last byte
    a, b = b"A" * 19 + b" ", b"A" * 19 + b"B"
    records = _records([a, b, a, b"".ljust(20), b])
    assert column_codes(records, Namestr("T", True, 20, 0)).tolist() == [0, 1, 0, 2, 1]


def test_number_codes_make_every_missing_value_one_and_zero_one() -> None:
    # IBM doubles: 1.0, ".", ".A", "._", 0.0, -0.0, 2.0, 1.0
    hexes = ["4110", "2e00", "4100", "5f00", "0000", "8000", "4120", "4110"]
    cells = [bytes.fromhex(h.ljust(16, "0")) for h in hexes]
    records = _records(cells)
    codes = column_codes(records, Namestr("N", False, 8, 0))
    assert codes.tolist() == [0, 1, 1, 1, 2, 2, 3, 0]
    # a 3-byte number: the same values from their first three bytes
    short = _records([c[:3] for c in cells])
    assert column_codes(short, Namestr("N", False, 3, 0)).tolist() == codes.tolist()


def test_text_that_does_not_decode_is_a_layout_error() -> None:
    records = _records([b"\xff\x00", b"A\x00"])
    with pytest.raises(LayoutError, match="does not decode"):
        column_codes(records, Namestr("T", True, 2, 0))


def _runs(codes: list[int]) -> Runs:
    values = np.asarray(codes, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return Runs(starts, values[starts], len(values))


def test_first_of_groups_keeps_the_first_record_of_each_combination() -> None:
    # A: x x y x   B: 1 2 1 1   C: p p p q
    runs = {"A": _runs([0, 0, 1, 0]), "B": _runs([0, 1, 0, 0]), "C": _runs([0, 0, 0, 1])}
    # {A}: records 0, 2; {A, B}: 0, 1, 2; {C}: 0, 3
    assert first_of_groups(runs, [["A"], ["A", "B"], ["C"]]).tolist() == [True] * 4
    assert first_of_groups(runs, [["A"], ["C"]]).tolist() == [True, False, True, True]
    assert first_of_groups(runs, [["A", "B"]]).tolist() == [True, True, True, False]


def test_records_read_words_in_place() -> None:
    records = Records([_records([b"ABCDEFGHIJ", b"ABCDEFGHIK"])], 10)
    words = records.words(Namestr("T", True, 10, 0))
    assert words.shape == (2, 2)
    assert words[0, 0] == words[0, 1]  # the first 8 bytes are equal
    assert words[1].tolist() == [int.from_bytes(b"IJ", "little"), int.from_bytes(b"IK", "little")]


def _lb(path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "USUBJID": ["S1", "S1", "S1", "S2", "S2", "S2"],
            "LBTESTCD": ["ALT", "AST", "ALT", "ALT", "AST", "AST"],
            "LBORRES": ["10", "", "10 ", "11", "", "NEG"],
            "LBSTRESN": [10.0, np.nan, 10.0, 11.0, np.nan, np.nan],
        }
    )
    variables = [
        XptVariable("USUBJID", "Subject", "Char", 8),
        XptVariable("LBTESTCD", "Test code", "Char", 8),
        XptVariable("LBORRES", "Result", "Char", 20),
        XptVariable("LBSTRESN", "Numeric result", "Num", 8),
    ]
    write_xpt(frame, path, dataset="LB", label="Laboratory", variables=variables)
    return path


@pytest.mark.parametrize("chunk_rows", [1, 2, 4, 100])
def test_distinct_records_of_a_file(tmp_path: Path, chunk_rows: int) -> None:
    path = _lb(tmp_path / "lb.xpt")
    found = distinct_records(path, [["LBTESTCD", "LBORRES"]], chunk_rows=chunk_rows)
    # USUBJID: 0 (S1), 3 (S2); LBTESTCD: 0, 1; LBORRES: 0 ("10"; "10 " is "10"), 1 (""),
    # 3 ("11"), 5 ("NEG"); LBSTRESN: 0 (10), 1 (NaN), 3 (11);
    # (LBTESTCD, LBORRES): 0, 1, 3 (ALT 11), 5 (AST NEG)
    assert found.rows == 6
    assert found.meta.dataset == "LB" and found.meta.n_records == 6
    assert found.frame["LBORRES"].tolist() == ["10", "", "11", "NEG"]
    assert found.frame["USUBJID"].tolist() == ["S1", "S1", "S2", "S2"]
    assert found.frame["LBTESTCD"].tolist() == ["ALT", "AST", "ALT", "AST"]
    assert found.frame["LBSTRESN"].tolist()[::2] == [10.0, 11.0]
    assert found.frame["LBSTRESN"].isna().tolist() == [False, True, False, True]
    assert found.frame.index.equals(pd.RangeIndex(4))
    assert found.frame["LBORRES"].dtype == object


def test_an_empty_file(tmp_path: Path) -> None:
    frame = pd.DataFrame({"A": pd.Series([], dtype=object), "N": pd.Series([], dtype=float)})
    variables = [XptVariable("A", "a", "Char", 4), XptVariable("N", "n", "Num", 8)]
    write_xpt(frame, tmp_path / "e.xpt", dataset="E", label="Empty", variables=variables)
    found = distinct_records(tmp_path / "e.xpt", [["A", "N"]])
    assert found.rows == 0
    assert list(found.frame.columns) == ["A", "N"] and len(found.frame) == 0


def test_a_file_that_is_not_plain_xport_is_a_layout_error(tmp_path: Path) -> None:
    path = tmp_path / "x.xpt"
    path.write_bytes(b"not a transport file".ljust(160))
    with pytest.raises(LayoutError):
        distinct_records(path, [])


@pytest.mark.parametrize("chunk_rows", [1, 2, 5, 100])
def test_a_second_member_is_a_layout_error_wherever_it_starts(
    tmp_path: Path, chunk_rows: int
) -> None:
    # a second member after the first one's 6 records (the library header, 240 bytes,
    # is written once), found whichever part of the records is being read
    one = _lb(tmp_path / "lb.xpt").read_bytes()
    two = tmp_path / "two.xpt"
    two.write_bytes(one + one[240:])
    assert distinct_records(tmp_path / "lb.xpt", [], chunk_rows=chunk_rows).rows == 6
    with pytest.raises(LayoutError, match="more than one member"):
        distinct_records(two, [], chunk_rows=chunk_rows)


MARKER = "HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"


@pytest.mark.parametrize("chunk_rows", [1, 2, 3])
def test_a_member_header_across_two_records_is_a_layout_error(
    tmp_path: Path, chunk_rows: int
) -> None:
    # the header's first 30 characters end record 2, its last 18 begin record 3: across
    # the boundary of two parts of the records when chunk_rows is 2
    frame = pd.DataFrame(
        {
            "HEAD": pd.Series(["a", "b", MARKER[30:], "d"], dtype=object),
            "TAIL": pd.Series(["x", MARKER[:30], "y", "z"], dtype=object),
        }
    )
    variables = [XptVariable("HEAD", "h", "Char", 18), XptVariable("TAIL", "t", "Char", 30)]
    path = tmp_path / "m.xpt"
    write_xpt(frame, path, dataset="M", label="Marker", variables=variables)
    assert MARKER.encode() in path.read_bytes()
    with pytest.raises(LayoutError, match="more than one member"):
        distinct_records(path, [], chunk_rows=chunk_rows)


TEXTS = st.sampled_from(["", "A", "A ", " A", "AB", "B", "ZZZ", "a b"])
NUMBERS = st.sampled_from([0.0, -0.0, 1.0, 1.5, -2.25, 1e10, np.nan])


@st.composite
def files(draw: st.DrawFn) -> tuple[pd.DataFrame, list[XptVariable], list[list[str]], int]:
    """A frame with a few text and number columns drawn from small sets (so values and
    combinations repeat), groups of its columns and a chunk size."""
    n = draw(st.integers(0, 30))
    columns: dict[str, list] = {}
    variables = []
    for i in range(draw(st.integers(1, 3))):
        columns[f"C{i}"] = draw(st.lists(TEXTS, min_size=n, max_size=n))
        width = draw(st.sampled_from([3, 8, 10, 17]))  # one word, or a hash of several
        variables.append(XptVariable(f"C{i}", "text", "Char", width))
    for i in range(draw(st.integers(0, 2))):
        columns[f"N{i}"] = draw(st.lists(NUMBERS, min_size=n, max_size=n))
        variables.append(XptVariable(f"N{i}", "number", "Num", 8))
    columns["C0"] = [v or "x" for v in columns["C0"]]  # no record is all blank
    names = list(columns)
    groups = draw(st.lists(st.lists(st.sampled_from(names), min_size=1, max_size=3), max_size=3))
    return pd.DataFrame(columns), variables, groups, draw(st.sampled_from([1, 3, 7, 50_000]))


@settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files())
def test_same_records_as_the_pandas_profile(
    tmp_path: Path, drawn: tuple[pd.DataFrame, list[XptVariable], list[list[str]], int]
) -> None:
    frame, variables, groups, chunk_rows = drawn
    path = tmp_path / "d.xpt"
    write_xpt(frame, path, dataset="D", label="Drawn", variables=variables)
    read, meta = read_xpt(path)
    all_groups = [frozenset([c]) for c in read.columns] + [frozenset(g) for g in groups]
    expected = read[representatives(read, all_groups)].reset_index(drop=True)
    found = distinct_records(path, groups, chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(found.frame, expected, check_exact=True)
    assert found.rows == len(read) and found.meta == meta
