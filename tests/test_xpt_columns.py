"""The block-wise column reader of plain XPORT v5 files (cdisc_mapper.xpt.columns) and the
text decoding it uses: values against pyreadstat (an independent reader) on random files
with text of many widths, trailing blanks, NUL bytes, non-ASCII text in the declared
encoding and SAS special missing numbers, read in small blocks; the checks it makes on
the way (a second member across a block seam, a file cut short); the hash-collision path.
"""

from __future__ import annotations

import io
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc_mapper.xpt import XptVariable, fastread, read_xpt, write_xpt
from cdisc_mapper.xpt import columns as columns_module
from cdisc_mapper.xpt.columns import file_blocks, file_layout, memory_blocks, read_columns
from cdisc_mapper.xpt.fastread import (
    LayoutError,
    decode_rows,
    observations,
    padded_width,
    parse_layout,
)
from cdisc_mapper.xpt.ibm import ibm_to_ieee

MODES = ("object", "str", "category")
ASCII = string.ascii_letters + string.digits + " .-/"
NON_ASCII = {"UTF-8": "éß€中", "WINDOWS-1252": "éüÆ€"}
MISSING = [b".", b"A", b"Z", b"_"]
WIDTHS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 40, 200]


def stored_cells(path: Path, cells: dict[tuple[int, str], bytes]) -> None:
    """Overwrite the stored bytes of (row, variable) cells (as given, padded with blanks)."""
    raw = bytearray(path.read_bytes())
    layout = parse_layout(bytes(raw))
    by_name = {v.name: v for v in layout.variables}
    for (row, name), value in cells.items():
        var = by_name[name]
        start = layout.data_start + row * layout.record_length + var.position
        raw[start : start + var.length] = value.ljust(var.length, b" ")
    path.write_bytes(bytes(raw))


@st.composite
def stored_text(draw, length: int, encoding: str) -> bytes:
    """The stored bytes of one value: text in ``encoding``, maybe with trailing blanks or
    NULs, a NUL inside, or all blank."""
    alphabet = ASCII + NON_ASCII[encoding]
    text = draw(st.text(alphabet=alphabet, max_size=length))
    value = text.encode(encoding)[:length]
    while value:  # cutting may split a character: drop the broken end
        try:
            value.decode(encoding)
            break
        except UnicodeDecodeError:
            value = value[:-1]
    tail = draw(st.sampled_from([b"", b" ", b"\x00", b" \x00 ", b"\x00x"]))
    if len(value) + len(tail) <= length:
        value += tail
    return value


@st.composite
def xpt_files(draw):
    """(frame to write, variables, encoding, cells to patch): 0-40 records of a few text
    columns of various widths and a number column with special missing values."""
    encoding = draw(st.sampled_from(["UTF-8", "WINDOWS-1252"]))
    n = draw(st.integers(0, 40))
    variables, frame, cells = [], {}, {}
    for i in range(draw(st.integers(1, 3))):
        name, length = f"C{i}", draw(st.sampled_from(WIDTHS))
        pool = draw(st.lists(stored_text(length, encoding), min_size=1, max_size=5))
        for row in range(n):  # few distinct values, as in real columns
            cells[(row, name)] = draw(st.sampled_from(pool))
        variables.append(XptVariable(name, f"text {i}", "Char", length=length))
        frame[name] = ["x"] * n
    numbers = st.one_of(
        st.floats(min_value=-1e15, max_value=1e15, allow_nan=False).filter(
            lambda x: x == 0 or abs(x) > 1e-70
        ),
        st.just(np.nan),
    )
    frame["N"] = draw(st.lists(numbers, min_size=n, max_size=n))
    variables.append(XptVariable("N", "number", "Num"))
    for row in range(n):
        if draw(st.integers(0, 3)) == 0:
            cells[(row, "N")] = draw(st.sampled_from(MISSING)).ljust(8, b"\x00")
    order = draw(st.permutations(variables))
    return pd.DataFrame(frame)[[v.name for v in order]], order, encoding, cells


def pyreadstat_values(path: Path, encoding: str) -> pd.DataFrame:
    """The file as pyreadstat reads it, blank text as ``""`` (as read_xpt returns it)."""
    frame, meta = pyreadstat.read_xport(str(path), encoding=encoding)
    for name, kind in meta.readstat_variable_types.items():
        if kind == "string":
            values = frame[name].astype(object)
            frame[name] = values.where(values.notna(), "")
    return frame


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(xpt_files(), st.sampled_from([80, 200, 1 << 21]))
def test_read_xpt_equals_pyreadstat_in_any_block_size(tmp_path, monkeypatch, case, block):
    frame, variables, encoding, cells = case
    monkeypatch.setattr(columns_module, "BLOCK_BYTES", block)
    path = tmp_path / "t.xpt"
    write_xpt(frame, path, dataset="T", label="Columns test", variables=variables)
    stored_cells(path, cells)
    expected = pyreadstat_values(path, encoding)
    for text in MODES:
        got, meta = read_xpt(path, encoding=encoding, text=text)
        assert meta.n_records == len(expected)
        assert list(got.columns) == list(expected.columns)
        for name in got.columns:
            values = got[name]
            if values.dtype == np.float64:
                np.testing.assert_array_equal(values.to_numpy(), expected[name].to_numpy())
            else:
                assert values.astype(object).tolist() == expected[name].tolist(), name
        if text == "str" and len(got):
            assert all(got[v.name].dtype == "str" for v in variables if v.type == "Char")


# ---------------------------------------------------------------- decoding by hand
def test_decode_rows_follows_readstat_rules():
    rows = np.frombuffer(
        b"ab  " + b"ab\x00 " + b"a\x00b " + b"\x00abc" + b"    " + b"caf\xc3" + b"\xc3\xa9  ",
        dtype=np.uint8,
    ).reshape(7, 4)
    got = decode_rows(rows[[0, 1, 2, 3, 4, 6]], "utf-8")
    assert got.tolist() == ["ab", "ab", "a", "", "", "é"]
    with pytest.raises(LayoutError, match="does not decode"):
        decode_rows(rows[[5]], "utf-8")  # "caf" and half a UTF-8 character
    assert decode_rows(rows[[5]], "windows-1252").tolist() == ["cafÃ"]
    with pytest.raises(LayoutError, match="does not decode"):
        decode_rows(rows[[0]], "no-such-codec")


def test_decode_rows_of_a_codec_that_is_not_ascii_compatible():
    # EBCDIC (cp500) reads byte 0x6C ("l" in ASCII) as "%" and 0xC1 as "A": each row is
    # decoded by the codec itself; blanks (0x20) and NULs are stripped first
    rows = np.frombuffer(b"l\xc1  " + b"\xc1\x00l ", dtype=np.uint8).reshape(2, 4)
    assert decode_rows(rows, "cp500").tolist() == ["%A", "A"]


def test_padded_width():
    assert [padded_width(w) for w in (1, 2, 3, 4, 5, 8, 9, 16, 17, 200)] == [
        1,
        2,
        4,
        4,
        8,
        8,
        16,
        16,
        24,
        200,
    ]


def test_ibm_to_ieee_known_patterns():
    patterns = np.array(
        [
            0x4110000000000000,  # 1.0
            0xC264000000000000,  # -100.0
            0x4080000000000000,  # 0.5
            0x0000000000000000,  # 0
            0x8000000000000000,  # -0
            0x2E00000000000000,  # .
            0x4100000000000000,  # .A
            0x5F00000000000000,  # ._
            0x4100000000000001,  # not missing: 16**-13
        ],
        dtype=np.uint64,
    )
    got = ibm_to_ieee(patterns)
    np.testing.assert_array_equal(got[:5], [1.0, -100.0, 0.5, 0.0, -0.0])
    assert np.signbit(got[4]) and not np.signbit(got[3])
    assert np.isnan(got[5:8]).all()
    assert got[8] == 16.0**-13


# ------------------------------------------------------------ the file, in blocks
def lb_file(tmp_path: Path, rows: int = 30) -> Path:
    variables = [
        XptVariable("USUBJID", "subject", "Char", length=20),
        XptVariable("LBSTRESN", "result", "Num"),
        XptVariable("LBTESTCD", "test", "Char", length=8),
    ]
    frame = pd.DataFrame(
        {
            "USUBJID": [f"S-{i % 7:03d}" for i in range(rows)],
            "LBSTRESN": np.arange(rows) / 4,
            "LBTESTCD": ["ALT", "AST", "HGB"] * (rows // 3),
        }
    )
    path = tmp_path / "lb.xpt"
    write_xpt(frame, path, dataset="LB", label="Labs", variables=variables)
    return path


def test_file_blocks_give_the_records_in_memory(tmp_path, monkeypatch):
    path = lb_file(tmp_path)
    raw = path.read_bytes()
    records = observations(raw, parse_layout(raw))
    monkeypatch.setattr(columns_module, "BLOCK_BYTES", 7 * records.shape[1])
    with path.open("rb") as handle:
        layout, rows = file_layout(handle, len(raw))
        blocks = [b.copy() for b in file_blocks(handle, layout, len(raw), rows)]
    assert rows == 30 and [len(b) for b in blocks] == [7, 7, 7, 7, 2]
    np.testing.assert_array_equal(np.concatenate(blocks), records)
    data = read_columns(memory_blocks(records), rows, list(layout.variables), "utf-8")
    assert data["LBTESTCD"].values.tolist() == ["ALT", "AST", "HGB"]
    assert data["USUBJID"].codes[:8].tolist() == [0, 1, 2, 3, 4, 5, 6, 0]
    np.testing.assert_array_equal(data["LBSTRESN"], np.arange(30) / 4)


def test_a_second_member_across_a_block_seam_falls_back(tmp_path, monkeypatch):
    path = lb_file(tmp_path)
    raw = path.read_bytes()
    layout = parse_layout(raw)
    length = layout.record_length
    monkeypatch.setattr(columns_module, "BLOCK_BYTES", 2 * length)
    seam = layout.data_start + 2 * length  # the first block ends here
    marker = fastread.MEMBER_HEADER
    patched = raw[: seam - 10] + marker + raw[seam - 10 + len(marker) :]
    with io.BytesIO(patched) as handle, pytest.raises(LayoutError, match="more than one member"):
        found, rows = file_layout(handle, len(patched))
        list(file_blocks(handle, found, len(patched), rows))


def test_a_file_shorter_than_its_size_is_a_layout_error(tmp_path):
    path = lb_file(tmp_path)
    raw = path.read_bytes()
    with io.BytesIO(raw) as handle:
        layout, rows = file_layout(handle, len(raw))
        with pytest.raises(LayoutError, match="shorter"):
            list(file_blocks(handle, layout, len(raw) + 80, rows))


def test_a_hash_collision_is_caught_and_factorized_exactly(tmp_path, monkeypatch):
    path = lb_file(tmp_path)
    expected = read_xpt(path)[0]
    real = fastread._row_keys

    def colliding(padded):  # every row of a wide column gets the same key
        keys = real(padded)
        return np.zeros_like(keys) if padded.shape[1] > 8 else keys

    monkeypatch.setattr(fastread, "_row_keys", colliding)
    got = read_xpt(path)[0]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got["USUBJID"].nunique() == 7
