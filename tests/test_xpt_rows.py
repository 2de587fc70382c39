"""Reading part of an XPORT file (cdisc_mapper.xpt.rows): the subjects' runs from their
column's bytes, and the records of row ranges equal to the whole-file reader's, sliced."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cdisc_mapper.xpt.rows as rows_module
from cdisc_mapper.errors import XptError
from cdisc_mapper.xpt import XptVariable, read_xpt, write_xpt
from cdisc_mapper.xpt.fastread import LayoutError
from cdisc_mapper.xpt.rows import XptRows

VARIABLES = [
    XptVariable("USUBJID", "Unique Subject Identifier", "Char"),
    XptVariable("QSTESTCD", "Question Short Name", "Char"),
    XptVariable("QSSEQ", "Sequence Number", "Num"),
    XptVariable("QSSTRESN", "Numeric Result", "Num"),
]


def written(tmp_path: Path, frame: pd.DataFrame, name: str = "qs.xpt") -> Path:
    path = tmp_path / name
    write_xpt(frame, path, dataset="QS", label="Questionnaires", variables=VARIABLES)
    return path


def sample() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": ["S-01", "S-01", "S-02", "S-10", "S-10", "S-10"],
            "QSTESTCD": ["A", "B", "A", "A", "", "C"],
            "QSSEQ": [1.0, 2.0, 1.0, 1.0, 2.0, 3.0],
            "QSSTRESN": [4.0, np.nan, 0.5, 3.0, 2.0, np.nan],
        }
    )


def test_runs_are_each_subjects_rows(tmp_path):
    part = XptRows.open(written(tmp_path, sample()))
    assert part.rows == 6
    runs = part.subject_runs("USUBJID")
    assert runs.values == ["S-01", "S-02", "S-10"]
    assert runs.starts.tolist() == [0, 2, 3]
    assert runs.stops.tolist() == [2, 3, 6]
    # adjacent chosen runs are joined into one range
    assert runs.rows_of(np.array([True, True, False])) == [(0, 3)]
    assert runs.rows_of(np.array([True, False, True])) == [(0, 2), (3, 6)]


def test_the_records_of_a_subject_range_only_the_named_columns(tmp_path):
    part = XptRows.open(written(tmp_path, sample()))
    frame = part.read([(2, 6)], ["QSSTRESN", "USUBJID", "NOSUCH"])
    assert list(frame.columns) == ["QSSTRESN", "USUBJID"]  # in the order asked, as read_xpt
    assert frame["USUBJID"].tolist() == ["S-02", "S-10", "S-10", "S-10"]
    assert frame["QSSTRESN"].tolist()[:3] == [0.5, 3.0, 2.0]
    assert np.isnan(frame["QSSTRESN"].iloc[3])
    assert list(frame.index) == [0, 1, 2, 3]
    # the metadata is the whole file's, as read_xpt gives it
    assert part.metadata.variables == read_xpt(part.path)[1].variables
    assert part.metadata.n_records == 6


def test_several_ranges_and_none(tmp_path):
    part = XptRows.open(written(tmp_path, sample()))
    frame = part.read([(0, 1), (5, 6)], ["QSTESTCD"], text="object")
    assert frame["QSTESTCD"].tolist() == ["A", "C"]
    assert len(part.read([], ["QSTESTCD"])) == 0


def test_a_range_outside_the_file_is_an_error_naming_it(tmp_path):
    part = XptRows.open(written(tmp_path, sample()))
    with pytest.raises(IndexError, match=r"rows 4:7 outside 0:6 of .*qs\.xpt"):
        part.read([(4, 7)])


def test_a_missing_or_numeric_subject_column_is_an_error_naming_the_file(tmp_path):
    part = XptRows.open(written(tmp_path, sample()))
    with pytest.raises(XptError, match="no variable SUBJID") as missing:
        part.subject_runs("SUBJID")
    assert "qs.xpt" in str(missing.value)
    with pytest.raises(XptError, match="QSSEQ is numeric"):
        part.subject_runs("QSSEQ")


def test_a_file_that_is_not_plain_v5_is_left_to_the_whole_file_reader(tmp_path):
    path = tmp_path / "bad.xpt"
    path.write_bytes(b"x" * 160)
    with pytest.raises(LayoutError):
        XptRows.open(path)
    with pytest.raises(XptError, match="file not found"):
        XptRows.open(tmp_path / "nowhere.xpt")
    # two members: the second member header follows the observations
    one = written(tmp_path, sample()).read_bytes()
    member = one.find(b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!")
    twice = tmp_path / "twice.xpt"
    twice.write_bytes(one + one[member:])
    with pytest.raises(LayoutError, match="more than one member"):
        XptRows.open(twice)


def test_a_cut_last_observation_is_not_read(tmp_path):
    data = written(tmp_path, sample()).read_bytes()
    cut = tmp_path / "cut.xpt"
    cut.write_bytes(data[:-80] + b"X" * 80)  # the last 80 bytes: part of a record, not blank
    with pytest.raises(LayoutError, match="incomplete"):
        XptRows.open(cut)


TEXT = st.text(alphabet="AB z-", max_size=4)
NUMBER = st.integers(-(10**6), 10**6).map(lambda n: n / 8)
ROW = st.tuples(st.integers(0, 4), TEXT, st.one_of(st.none(), NUMBER))


@settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(ROW, max_size=30),
    cuts=st.lists(st.integers(0, 30), max_size=4),
    window=st.integers(1, 64),
    text=st.sampled_from(["str", "object"]),
)
def test_any_ranges_read_as_the_whole_file_sliced(tmp_path, rows, cuts, window, text):
    """Sorted subjects (some blank), text with blanks, missing numbers,
    all-blank records at the end (the padding rule); any window size."""
    subjects = sorted(f"S{s}" if s else "" for s, _, _ in rows)
    frame = pd.DataFrame(
        {
            "USUBJID": pd.Series(subjects, dtype=object),
            "QSTESTCD": pd.Series([t for _, t, _ in rows], dtype=object),
            "QSSEQ": np.arange(len(rows), dtype="float64"),
            "QSSTRESN": np.array([np.nan if v is None else v for _, _, v in rows], dtype="float64"),
        }
    )
    path = written(tmp_path, frame, "h.xpt")
    whole, meta = read_xpt(path, text=text)
    saved = rows_module.WINDOW_BYTES
    rows_module.WINDOW_BYTES = window * 8
    try:
        part = XptRows.open(path)
        runs = part.subject_runs("USUBJID")
        bounds = sorted({0, part.rows, *(min(c, part.rows) for c in cuts)})
        ranges = list(itertools.pairwise(bounds))
        got = part.read(ranges, ["USUBJID", "QSSTRESN", "QSTESTCD"], text=text)
    finally:
        rows_module.WINDOW_BYTES = saved
    assert part.rows == len(whole) == meta.n_records
    expected = whole[["USUBJID", "QSSTRESN", "QSTESTCD"]]
    pd.testing.assert_frame_equal(got, expected)
    # the runs: each change of the subject column, as the whole reader reads it
    ids = whole["USUBJID"].tolist()
    starts = [i for i in range(len(ids)) if i == 0 or ids[i] != ids[i - 1]]
    assert runs.starts.tolist() == starts
    assert runs.values == [ids[i] for i in starts]
    assert runs.stops.tolist() == ([*starts[1:], len(ids)] if ids else [])
    for lo, hi in ranges[:2]:
        one = part.read([(lo, hi)], None, text=text)
        pd.testing.assert_frame_equal(one, whole.iloc[lo:hi].reset_index(drop=True))
