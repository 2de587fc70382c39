"""The appending XPORT writer (cdisc_mapper.xpt.append): the whole-frame writer's bytes
for any split of the records, lengths known first, located errors, no partial file."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc_mapper.errors import XptError
from cdisc_mapper.xpt import (
    XptAppender,
    XptVariable,
    XptWarning,
    char_lengths,
    longest,
    read_xpt,
    sized,
    write_xpt,
)
from cdisc_mapper.xpt.append import RecordsAppender, record_widths, write_records

VARIABLES = [
    XptVariable("USUBJID", "Unique Subject Identifier", "Char"),
    XptVariable("LBTESTCD", "Lab Test Short Name", "Char"),
    XptVariable("LBSEQ", "Sequence Number", "Num"),
    XptVariable("LBSTRESN", "Numeric Result", "Num"),
]


def appended(frames: list[pd.DataFrame], path: Path, variables=VARIABLES) -> bytes:
    lengths = longest(char_lengths(f, variables) for f in frames)
    with XptAppender(path, dataset="LB", label="Lab", variables=sized(variables, lengths)) as out:
        for frame in frames:
            out.append(frame)
    return path.read_bytes()


def whole(frame: pd.DataFrame, path: Path, variables=VARIABLES) -> bytes:
    write_xpt(frame, path, dataset="LB", label="Lab", variables=variables)
    return path.read_bytes()


def test_lengths_are_the_longest_value_without_trailing_blanks():
    frame = pd.DataFrame({"USUBJID": ["A-1", "A-10  "], "LBTESTCD": ["", ""]})
    frame["LBSEQ"] = [1.0, 2.0]
    frame["LBSTRESN"] = np.nan
    assert char_lengths(frame, VARIABLES) == {"USUBJID": 4, "LBTESTCD": 0}
    # combined: the longest of each, an all-blank (or record-less) column stored as 1 byte
    assert longest([{"USUBJID": 4, "LBTESTCD": 0}, {"USUBJID": 6, "LBTESTCD": 0}]) == {
        "USUBJID": 6,
        "LBTESTCD": 1,
    }
    declared = [XptVariable("USUBJID", "Unique Subject Identifier", "Char", length=20)]
    assert char_lengths(frame, declared) == {}  # declared lengths are kept


def test_two_blocks_write_the_bytes_worked_by_hand(tmp_path):
    first = pd.DataFrame({"USUBJID": ["A"], "LBTESTCD": ["ALT"], "LBSEQ": [1.0]})
    second = pd.DataFrame({"USUBJID": ["BB"], "LBTESTCD": ["K"], "LBSEQ": [np.nan]})
    variables = VARIABLES[:3]
    data = appended([first, second], tmp_path / "lb.xpt", variables)
    # observations after the 3 namestrs: 2 + 3 + 8 = 13 bytes a record, two records,
    # then blanks to the next multiple of 80
    obs = data[-80:]
    one = b"A " + b"ALT" + bytes.fromhex("4110000000000000")
    two = b"BB" + b"K  " + b"." + b"\x00" * 7  # SAS missing: '.' then zeros
    assert obs == one + two + b" " * (80 - 26)
    assert data == whole(
        pd.concat([first, second], ignore_index=True), tmp_path / "w.xpt", variables
    )


frames_strategy = st.lists(
    st.tuples(
        st.text(alphabet="AB-12 ", max_size=12),
        st.text(alphabet="XYZ ", max_size=9),
        st.one_of(st.none(), st.integers(-(10**6), 10**6)),
        st.one_of(st.none(), st.integers(-(10**8), 10**8).map(lambda x: x / 100)),
    ),
    max_size=40,
)


@settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=frames_strategy, cuts=st.lists(st.integers(0, 40), max_size=4), arrow=st.booleans())
def test_any_split_gives_the_whole_frame_bytes(tmp_path, rows, cuts, arrow):
    frame = pd.DataFrame(rows, columns=[v.name for v in VARIABLES])
    for name in ("USUBJID", "LBTESTCD"):
        frame[name] = frame[name].astype("str" if arrow else object)
    frame["LBSEQ"] = frame["LBSEQ"].astype(float)
    frame["LBSTRESN"] = frame["LBSTRESN"].astype(float)
    points = sorted({min(c, len(frame)) for c in cuts})
    bounds = [0, *points, len(frame)]
    blocks = [frame.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XptWarning)  # an all-blank last record
        expected = whole(frame, tmp_path / "whole.xpt")
        assert appended(blocks, tmp_path / "parts.xpt") == expected


def test_real_dataset_in_three_blocks_gives_the_written_bytes(demo_sdtm, tmp_path):
    out, _ = demo_sdtm
    for name in ("lb", "dm", "suppdm"):
        path = out / "sdtm" / f"{name}.xpt"
        if not path.exists():
            continue
        frame, meta = read_xpt(path)
        variables = [XptVariable(v.name, v.label, v.type, format=v.format) for v in meta.variables]
        third = max(len(frame) // 3, 1)
        blocks = [frame.iloc[:third], frame.iloc[third : 2 * third], frame.iloc[2 * third :]]
        lengths = longest(char_lengths(b, variables) for b in blocks)
        target = tmp_path / path.name
        with XptAppender(
            target, dataset=meta.dataset, label=meta.label, variables=sized(variables, lengths)
        ) as writer:
            for block in blocks:
                writer.append(block)
        # the header stamps: the reread file's are the same (SOURCE_DATE_EPOCH unset)
        assert target.read_bytes() == path.read_bytes(), name


def test_a_char_variable_without_length_is_refused(tmp_path):
    with pytest.raises(XptError, match="Char variables USUBJID, LBTESTCD have no length") as err:
        XptAppender(tmp_path / "lb.xpt", dataset="LB", label="Lab", variables=VARIABLES)
    assert "lb.xpt" in str(err.value)
    assert not list(tmp_path.iterdir())


def test_a_bad_value_in_the_second_block_names_its_record_and_leaves_no_file(tmp_path):
    variables = sized(VARIABLES[:2], {"USUBJID": 3, "LBTESTCD": 3})
    first = pd.DataFrame({"USUBJID": ["S1", "S2"], "LBTESTCD": ["A", "B"]})
    second = pd.DataFrame({"USUBJID": ["S3", "S4"], "LBTESTCD": ["C", "DDDD"]})
    target = tmp_path / "lb.xpt"
    target.write_bytes(b"old")
    writer = XptAppender(target, dataset="LB", label="Lab", variables=variables)
    with pytest.raises(XptError) as err, writer:
        writer.append(first)
        writer.append(second)
    text = str(err.value)
    assert "value 'DDDD' is 4 bytes, longer than the declared length 3" in text
    assert "record 4 (USUBJID S4)" in text  # counted from the dataset's first record
    assert target.read_bytes() == b"old"  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["lb.xpt"]  # no temporary file left


def test_columns_must_match_the_variables(tmp_path):
    variables = sized(VARIABLES[:2], {"USUBJID": 3, "LBTESTCD": 3})
    writer = XptAppender(tmp_path / "lb.xpt", dataset="LB", label="Lab", variables=variables)
    with pytest.raises(XptError, match="variables LBTESTCD are declared but not columns"), writer:
        writer.append(pd.DataFrame({"USUBJID": ["S1"]}))
    assert not list(tmp_path.iterdir())


def test_no_record_gives_the_empty_dataset_bytes(tmp_path):
    empty = pd.DataFrame({v.name: pd.Series([], dtype=object) for v in VARIABLES[:2]})
    assert appended([empty, empty], tmp_path / "a.xpt", VARIABLES[:2]) == whole(
        empty, tmp_path / "b.xpt", VARIABLES[:2]
    )


def test_an_all_blank_last_record_warns_once(tmp_path):
    # the blank record ends the first part; the second part adds none, so it is the file's
    # last record: one warning at close, not one per part, and the whole-frame bytes
    variables = sized(VARIABLES[:1], {"USUBJID": 2})
    parts = [
        pd.DataFrame({"USUBJID": ["S1", ""]}),
        pd.DataFrame({"USUBJID": pd.Series([], dtype=object)}),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with XptAppender(
            tmp_path / "lb.xpt", dataset="LB", label="Lab", variables=variables
        ) as out:
            for part in parts:
                out.append(part)
    blank = [
        w
        for w in caught
        if issubclass(w.category, XptWarning)
        and "last record of LB is entirely blank" in str(w.message)
    ]
    assert len(blank) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XptWarning)
        expected = whole(parts[0], tmp_path / "whole.xpt", variables)
    assert (tmp_path / "lb.xpt").read_bytes() == expected


# ------------------------------------------- records written apart, appended later
def records_appended(frames: list[pd.DataFrame], path: Path, variables=VARIABLES) -> bytes:
    """Each block's records written apart with its own lengths (as a part does), then
    appended to one file with the longest lengths."""
    own = [sized(variables, longest([char_lengths(f, variables)])) for f in frames]
    final = sized(variables, longest(char_lengths(f, variables) for f in frames))
    kept = []
    for k, (frame, block_variables) in enumerate(zip(frames, own, strict=True)):
        part = path.parent / f"part{k}.rec"
        with part.open("wb") as out:
            blank = write_records(out, frame, block_variables, path=path, dataset="LB")
        kept.append((part, len(frame), record_widths(block_variables), blank))
    with RecordsAppender(path, dataset="LB", label="Lab", variables=final) as out:
        for part, rows, widths, blank in kept:
            with part.open("rb") as source:
                out.append_records(source, rows, widths, blank)
    return path.read_bytes()


def test_records_of_shorter_values_are_padded_to_the_file_lengths_by_hand(tmp_path):
    first = pd.DataFrame({"USUBJID": ["A"], "LBTESTCD": ["ALT"], "LBSEQ": [1.0]})
    second = pd.DataFrame({"USUBJID": ["BB"], "LBTESTCD": ["K"], "LBSEQ": [np.nan]})
    data = records_appended([first, second], tmp_path / "lb.xpt", VARIABLES[:3])
    # the first part wrote USUBJID in 1 byte, the second LBTESTCD in 1: both padded
    one = b"A " + b"ALT" + bytes.fromhex("4110000000000000")
    two = b"BB" + b"K  " + b"." + b"\x00" * 7
    assert data[-80:] == one + two + b" " * (80 - 26)
    lengths = {"USUBJID": 2, "LBTESTCD": 3}
    assert record_widths(sized(VARIABLES[:3], lengths)) == [2, 3, 8]  # LBSEQ: a number's 8


@settings(
    deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=frames_strategy, cuts=st.lists(st.integers(0, 40), max_size=4), arrow=st.booleans())
def test_records_of_any_split_give_the_whole_frame_bytes(tmp_path, rows, cuts, arrow):
    frame = pd.DataFrame(rows, columns=[v.name for v in VARIABLES])
    for name in ("USUBJID", "LBTESTCD"):
        frame[name] = frame[name].astype("str" if arrow else object)
    frame["LBSEQ"] = frame["LBSEQ"].astype(float)
    frame["LBSTRESN"] = frame["LBSTRESN"].astype(float)
    points = sorted({min(c, len(frame)) for c in cuts})
    bounds = [0, *points, len(frame)]
    blocks = [frame.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XptWarning)  # an all-blank last record
        expected = whole(frame, tmp_path / "whole.xpt")
        assert records_appended(blocks, tmp_path / "parts.xpt") == expected


def test_records_wider_than_the_file_are_refused(tmp_path):
    frame = pd.DataFrame({"USUBJID": ["ABC"], "LBTESTCD": ["K"], "LBSEQ": [1.0]})
    variables = sized(VARIABLES[:3], {"USUBJID": 3, "LBTESTCD": 1})
    narrow = sized(VARIABLES[:3], {"USUBJID": 2, "LBTESTCD": 1})
    part = tmp_path / "part.rec"
    with part.open("wb") as out:
        write_records(out, frame, variables, path=tmp_path / "lb.xpt", dataset="LB")
    file = RecordsAppender(tmp_path / "lb.xpt", dataset="LB", label="Lab", variables=narrow)
    with file, part.open("rb") as source, pytest.raises(ValueError, match=r"widths \[3, 1, 8\]"):
        file.append_records(source, 1, record_widths(variables), False)


def test_a_bad_value_in_written_records_names_the_file_and_record(tmp_path):
    frame = pd.DataFrame({"USUBJID": ["A", "Bé"], "LBTESTCD": ["K", "K"], "LBSEQ": [1.0, 2.0]})
    variables = sized(VARIABLES[:3], {"USUBJID": 3, "LBTESTCD": 1})
    with (tmp_path / "part.rec").open("wb") as out, pytest.raises(XptError) as error:
        write_records(out, frame, variables, path=tmp_path / "lb.xpt", dataset="LB")
    assert "lb.xpt" in str(error.value)
    assert "record 2" in str(error.value)
