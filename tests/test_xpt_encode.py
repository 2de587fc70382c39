"""Tests of the Char encoders of cdisc_mapper.xpt.encode: the one-pass Arrow path gives the
same bytes (and the same located errors) as the checked path for object columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.errors import XptError
from cdisc_mapper.xpt import XptVariable, write_xpt
from cdisc_mapper.xpt.encode import ErrorContext, encode_char

pytest.importorskip("pyarrow")

ARROW = pd.StringDtype("pyarrow")
CTX = ErrorContext(path=Path("x.xpt"), dataset="LB")


def _bytes(values: list[object], dtype: object, length: int | None = None) -> list[bytes]:
    """Each record's stored bytes as the writer copies them (``length`` wide)."""
    column = encode_char(pd.Series(values, dtype=dtype), XptVariable("V", "V", "Char", length), CTX)
    width = column.length
    rows = []
    for row in column.matrix:
        stored = bytes(row[:width])
        rows.append(stored + b" " * (width - len(stored)))
    return rows


@pytest.mark.parametrize("dtype", [ARROW, object, "string", "str"])
def test_bytes_worked_by_hand(dtype: object) -> None:
    # longest value without trailing blanks: "ab" (2); "c  " is "c" plus padding
    assert _bytes(["ab", None, "c  ", ""], dtype) == [b"ab", b"  ", b"c ", b"  "]


@pytest.mark.parametrize("dtype", [ARROW, object])
def test_declared_length_pads(dtype: object) -> None:
    assert _bytes(["x", None], dtype, length=4) == [b"x   ", b"    "]


@pytest.mark.parametrize("dtype", [ARROW, object])
def test_all_missing_is_one_blank(dtype: object) -> None:
    assert _bytes([None, None, None], dtype) == [b" ", b" ", b" "]


def test_empty_column_has_length_one() -> None:
    column = encode_char(pd.Series([], dtype=ARROW), XptVariable("V", "V", "Char"), CTX)
    assert column.length == 1
    assert column.matrix.shape[0] == 0


def test_200_byte_value_kept_201_refused() -> None:
    longest = "A" * 199 + "Z"
    assert _bytes([longest, "b"], ARROW) == [longest.encode(), b"b" + b" " * 199]
    with pytest.raises(XptError, match=r"LB\.V: value 'AAAA.* is 201 bytes") as err:
        encode_char(pd.Series(["a", "A" * 201], dtype=ARROW), XptVariable("V", "V", "Char"), CTX)
    assert "record 2" in str(err.value)


def test_longer_than_declared_refused_with_record() -> None:
    with pytest.raises(XptError, match="longer than the declared length 2") as err:
        encode_char(pd.Series(["ab", "abc"], dtype=ARROW), XptVariable("V", "V", "Char", 2), CTX)
    assert "record 2" in str(err.value)


@pytest.mark.parametrize("dtype", [ARROW, object])
def test_non_ascii_refused_naming_record_and_subject(dtype: object) -> None:
    usubjid = pd.Series(["S-1", "S-2", "S-3"])
    ctx = ErrorContext(path=Path("lb.xpt"), dataset="LB", usubjid=usubjid)
    series = pd.Series(["ok", None, "caf\u00e9"], dtype=dtype)
    with pytest.raises(XptError) as err:
        encode_char(series, XptVariable("LBORRES", "Result", "Char"), ctx)
    text = str(err.value)
    assert "non-ASCII character 'é' (U+00E9) at byte 4" in text
    assert "record 3 (USUBJID S-3)" in text
    assert "lb.xpt" in text


def test_nul_refused_on_arrow_path() -> None:
    series = pd.Series(["ok", "a\x00b"], dtype=ARROW)
    with pytest.raises(XptError, match=r"NUL character \(\\x00\) at byte 2") as err:
        encode_char(series, XptVariable("V", "V", "Char"), CTX)
    assert "record 2" in str(err.value)


def _write(df: pd.DataFrame, path: Path) -> bytes:
    variables = [XptVariable(str(c), f"Label {c}", "Char") for c in df.columns]
    write_xpt(df, path, dataset="LB", label="Labs", variables=variables)
    return path.read_bytes()


def test_file_bytes_equal_for_arrow_and_object_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n = 3000
    distinct = [f"V{i:05d}" + "x" * int(rng.integers(0, 30)) for i in range(n)]
    frame = {
        "MANY": distinct,  # many distinct values of varying lengths
        "MISS": [None] * n,  # all missing
        "EMPTY": [""] * n,
        "LONG": ["L" * 200 if i % 7 == 0 else None for i in range(n)],
        "TRAIL": ["a  " if i % 2 else "bb" for i in range(n)],
    }
    arrow = pd.DataFrame({k: pd.Series(v, dtype=ARROW) for k, v in frame.items()})
    objects = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in frame.items()})
    a = _write(arrow, tmp_path / "a.xpt")
    b = _write(objects, tmp_path / "b.xpt")
    assert a == b
    # record length: 5 + 1 + 1 + 200 + 2 = 209 bytes (MANY is 'V' + 5 digits + up to 29 x)
    assert len(a) % 80 == 0


def test_chunked_arrow_column_encodes_like_one_chunk(tmp_path: Path) -> None:
    first = pd.Series(["a", "bb"], dtype=ARROW)
    second = pd.Series([None, "ccc"], dtype=ARROW)
    chunked = pd.concat([first, second], ignore_index=True)
    assert _bytes(list(chunked), object) == [b"a  ", b"bb ", b"   ", b"ccc"]
    column = encode_char(chunked, XptVariable("V", "V", "Char"), CTX)
    assert [bytes(r[:3]) for r in column.matrix] == [b"a  ", b"bb ", b"   ", b"ccc"]
