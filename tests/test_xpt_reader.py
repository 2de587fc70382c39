"""The XPT reader: the vectorised path and the pyreadstat fallback give the same frames and
metadata (written files, the demo, the CDISC pilot), columns/text options, and clear errors
that name the file."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc_mapper.errors import XptError
from cdisc_mapper.xpt import (
    XptMetadata,
    XptTruncatedError,
    XptVariable,
    read_xpt,
    read_xpt_names,
    write_xpt,
)
from cdisc_mapper.xpt.fastread import LayoutError, parse_layout
from cdisc_mapper.xpt.reader import TextMode, read_fast, read_readstat
from cdisc_mapper.xpt.rows import XptRows
from tests.conftest import SHARED

PILOT = SHARED / "reference" / "cdisc-pilot-msg2"
needs_pilot = pytest.mark.skipif(not PILOT.is_dir(), reason="CDISC pilot package not present")
MODES: tuple[TextMode, ...] = ("object", "str", "category")


def both_engines(
    path: Path,
    *,
    encoding: str | None = None,
    columns: list[str] | None = None,
    text: TextMode = "object",
) -> tuple[tuple[pd.DataFrame, XptMetadata], tuple[pd.DataFrame, XptMetadata]]:
    """(vectorised, pyreadstat) results for one file."""
    fast = read_fast(path, path.read_bytes(), encoding=encoding, columns=columns, text=text)
    slow = read_readstat(path, encoding=encoding, columns=columns, text=text)
    return fast, slow


def assert_same(path: Path, modes: tuple[TextMode, ...] = MODES, **kwargs) -> pd.DataFrame:
    """Both engines and read_xpt give identical frames (values, dtypes, categories, index)
    and metadata, in each text mode; returns the object-mode frame."""
    out = None
    for text in modes:
        (fast, fast_meta), (slow, slow_meta) = both_engines(path, text=text, **kwargs)
        pd.testing.assert_frame_equal(fast, slow, check_exact=True)
        assert fast_meta == slow_meta
        again, again_meta = read_xpt(path, text=text, **kwargs)
        pd.testing.assert_frame_equal(again, fast, check_exact=True)
        assert again_meta == fast_meta
        if text == "object":
            out = fast
    assert out is not None
    return out


def write(path: Path, df: pd.DataFrame, variables: list[XptVariable]) -> Path:
    write_xpt(df, path, dataset="T", label="Reader test", variables=variables)
    return path


def patch_cells(path: Path, cells: dict[tuple[int, str], bytes]) -> None:
    """Overwrite the stored bytes of (row, variable) cells (blank-padded to the length)."""
    raw = bytearray(path.read_bytes())
    layout = parse_layout(bytes(raw))
    by_name = {v.name: v for v in layout.variables}
    for (row, name), value in cells.items():
        var = by_name[name]
        assert len(value) <= var.length
        start = layout.data_start + row * layout.record_length + var.position
        raw[start : start + var.length] = value.ljust(var.length, b" ")
    path.write_bytes(bytes(raw))


# ------------------------------------------------------------ fast path == fallback
ASCII = string.ascii_letters + string.digits + " .,-/()"
NON_ASCII = {None: "éüß€中", "UTF-8": "éüß€中", "WINDOWS-1252": "éüß€Æ"}
MISSING = [b".", b"A", b"Z", b"_"]


@st.composite
def stored_frames(draw):
    """A frame to write, the encoding to read it with, and cells to patch afterwards:
    non-ASCII text (written as ASCII stand-ins of the same byte length) and special
    missing values ``.A``-``.Z``, ``._``."""
    encoding = draw(st.sampled_from([None, "UTF-8", "WINDOWS-1252"]))
    alphabet = ASCII + NON_ASCII[encoding]
    n = draw(st.integers(0, 12))
    n_char = draw(st.integers(1, 3))
    columns: dict[str, list] = {}
    variables = []
    wanted: dict[tuple[int, str], str] = {}
    patches: dict[tuple[int, str], bytes] = {}
    for i in range(n_char):
        name = f"C{i}"
        length = draw(st.sampled_from([1, 8, 9, 40, 200]))
        texts = st.text(alphabet=alphabet, max_size=length).filter(
            lambda t, length=length: len(t.encode(encoding or "utf-8")) <= length
        )
        values = draw(st.lists(st.one_of(texts, st.just(""), st.none()), min_size=n, max_size=n))
        stand_ins = []
        for row, value in enumerate(values):
            stored = (value or "").encode(encoding or "utf-8")
            stand_ins.append(stored.decode("ascii", "replace").replace("\ufffd", "x"))
            if not stored.isascii():
                patches[(row, name)] = stored
            wanted[(row, name)] = (value or "").rstrip(" ")
        columns[name] = stand_ins
        variables.append(XptVariable(name, f"char {i}", "Char", length=length))
    numbers = st.one_of(
        st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).filter(
            lambda x: x == 0 or abs(x) > 1e-60
        ),
        st.integers(-(2**53), 2**53).map(float),
        st.just(np.nan),
    )
    columns["N"] = draw(st.lists(numbers, min_size=n, max_size=n))  # no record is all blank
    variables.append(XptVariable("N", "number", "Num", format="8.2"))
    for row in range(n):
        if draw(st.booleans()) and draw(st.booleans()):
            patches[(row, "N")] = draw(st.sampled_from(MISSING)).ljust(8, b"\x00")
            columns["N"][row] = np.nan
    order = draw(st.permutations(variables))
    frame = pd.DataFrame(columns, columns=[v.name for v in order])
    frame = frame.astype({v.name: object for v in order if v.type == "Char"})
    return frame, list(order), encoding, patches, wanted


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stored_frames())
def test_fast_path_and_fallback_agree_on_written_files(tmp_path, case):
    frame, variables, encoding, patches, wanted = case
    path = write(tmp_path / "t.xpt", frame, variables)
    patch_cells(path, patches)
    got = assert_same(path, encoding=encoding)
    assert list(got.columns) == [v.name for v in variables]
    assert len(got) == len(frame)
    for (row, name), text in wanted.items():
        assert got.at[row, name] == text
    np.testing.assert_array_equal(got["N"].to_numpy(), frame["N"].to_numpy(dtype=float))
    assert got["N"].dtype == np.float64


def test_empty_dataset_long_text_and_missing_numbers(tmp_path):
    variables = [
        XptVariable("LONG", "200 bytes", "Char", length=200),
        XptVariable("NUM", "number", "Num"),
    ]
    empty = write(tmp_path / "empty.xpt", pd.DataFrame({"LONG": [], "NUM": []}), variables)
    got = assert_same(empty)
    assert got.empty and list(got.columns) == ["LONG", "NUM"]
    assert got["NUM"].dtype == np.float64 and got["LONG"].dtype == object
    long_text = "x" * 199 + "y"
    full = write(
        tmp_path / "full.xpt",
        pd.DataFrame({"LONG": [long_text, " lead", None], "NUM": [np.nan, 1.5, 0.0]}),
        variables,
    )
    patch_cells(full, {(2, "NUM"): b"B" + bytes(7)})
    got = assert_same(full)
    assert got["LONG"].tolist() == [long_text, " lead", ""]
    np.testing.assert_array_equal(got["NUM"].to_numpy(), [np.nan, 1.5, np.nan])


def test_non_ascii_text_with_an_encoding(tmp_path):
    variables = [XptVariable("TERM", "term", "Char", length=12)]
    path = write(tmp_path / "t.xpt", pd.DataFrame({"TERM": ["cafe", "naive"]}), variables)
    patch_cells(path, {(0, "TERM"): "café".encode("cp1252"), (1, "TERM"): "naïve".encode("cp1252")})
    got = assert_same(path, encoding="WINDOWS-1252")
    assert got["TERM"].tolist() == ["café", "naïve"]
    # without the encoding the bytes are not UTF-8: the fast path declines, readstat fails
    with pytest.raises(LayoutError):
        read_fast(path, path.read_bytes(), encoding=None, columns=None, text="object")
    with pytest.raises(XptError, match="cannot read as SAS transport file") as info:
        read_xpt(path)
    assert str(path) in str(info.value)


def test_nul_bytes_follow_readstat(tmp_path):
    variables = [XptVariable("C", "c", "Char", length=8), XptVariable("N", "n", "Num")]
    frame = pd.DataFrame({"C": ["a"] * 4, "N": [1.0] * 4})
    path = write(tmp_path / "t.xpt", frame, variables)
    patch_cells(
        path, {(0, "C"): b"ab \x00x", (1, "C"): b"\x00abc", (2, "C"): b" \x00", (3, "C"): b"ab\x00"}
    )
    assert assert_same(path)["C"].tolist() == ["ab ", "", "", "ab"]


def test_columns_and_text_modes(tmp_path):
    variables = [
        XptVariable("A", "a", "Char", length=4),
        XptVariable("N", "n", "Num"),
        XptVariable("B", "b", "Char", length=4),
    ]
    frame = pd.DataFrame({"A": ["y", "x", "y", ""], "N": [1.0, 2.0, 3.0, 4.0], "B": list("pqrs")})
    path = write(tmp_path / "t.xpt", frame, variables)
    got, meta = read_xpt(path, columns=["B", "NOPE", "A", "B"])
    assert list(got.columns) == ["B", "A"]  # requested order; unknown names left out
    assert meta.names == ["A", "N", "B"]  # the metadata describes the whole file
    assert_same(path, columns=["B", "NOPE", "A"])
    assert read_xpt(path)[0]["A"].dtype == object
    assert read_xpt(path, text="str")[0]["A"].dtype == "str"
    category = read_xpt(path, text="category")[0]["A"]
    assert category.cat.categories.tolist() == ["y", "x", ""]  # first appearance
    assert category.astype(object).tolist() == ["y", "x", "y", ""]


def test_xport_v8_and_other_writers_fall_back(tmp_path):
    v8 = tmp_path / "v8.xpt"
    frame = pd.DataFrame({"LONGERNAME": ["x", "y"], "N": [1.0, np.nan]})
    pyreadstat.write_xport(frame, str(v8), file_format_version=8, table_name="V8")
    with pytest.raises(LayoutError):
        read_fast(v8, v8.read_bytes(), encoding=None, columns=None, text="object")
    got, meta = read_xpt(v8, columns=["N", "LONGERNAME"], text="category")
    slow, slow_meta = read_readstat(v8, encoding=None, columns=["N", "LONGERNAME"], text="category")
    pd.testing.assert_frame_equal(got, slow, check_exact=True)
    assert meta == slow_meta and meta.dataset == "V8"
    assert got["LONGERNAME"].astype(object).tolist() == ["x", "y"]
    assert read_xpt_names(v8) == ["LONGERNAME", "N"]
    v5 = tmp_path / "v5.xpt"  # another tool's v5 writer: the fast path reads it
    pyreadstat.write_xport(
        frame.rename(columns={"LONGERNAME": "SHORT"}), str(v5), file_format_version=5
    )
    assert_same(v5)
    assert read_xpt_names(v5) == ["SHORT", "N"]


# ----------------------------------------------------------------- real packages
def real_files(demo_sdtm) -> list[tuple[Path, str | None]]:
    out, _ = demo_sdtm
    files: list[tuple[Path, str | None]] = [(p, None) for p in sorted(out.glob("sdtm/*.xpt"))]
    if PILOT.is_dir():
        files += [(p, "WINDOWS-1252") for p in sorted(PILOT.glob("*/*.xpt"))]
    return files


def test_demo_and_pilot_read_the_same_both_ways(demo_sdtm):
    files = real_files(demo_sdtm)
    assert len(files) > 10
    for path, encoding in files:
        got = assert_same(path, ("object",), encoding=encoding)  # the modes share one builder
        meta = read_xpt(path, encoding=encoding)[1]
        assert meta.n_records == len(got) and meta.dataset
        assert read_xpt_names(path) == meta.names == list(got.columns)


@needs_pilot
def test_pilot_values_and_metadata():
    df, meta = read_xpt(PILOT / "sdtm" / "dm.xpt", encoding="WINDOWS-1252")
    assert (meta.dataset, meta.label) == ("DM", "Demographics")
    assert meta.variable("AGE").type == "Num" and df["AGE"].dtype == np.float64
    assert df["DOMAIN"].eq("DM").all() and len(df) == meta.n_records
    expected, _ = pyreadstat.read_xport(str(PILOT / "sdtm" / "dm.xpt"), encoding="WINDOWS-1252")
    assert df["USUBJID"].tolist() == expected["USUBJID"].tolist()


# ------------------------------------------------------------------------ errors
def test_a_file_that_is_not_xpt_names_the_file(tmp_path):
    path = tmp_path / "dm.xpt"
    path.write_text("STUDYID,DOMAIN\nS,DM\n")
    for read in (read_xpt, read_xpt_names):
        with pytest.raises(XptError, match="cannot read as SAS transport file") as info:
            read(path)
        assert str(path) in str(info.value)
    with pytest.raises(XptError, match="file not found") as info:
        read_xpt(tmp_path / "nope.xpt")
    assert "nope.xpt" in str(info.value)
    with pytest.raises(XptError, match="file not found"):
        read_xpt_names(tmp_path / "nope.xpt")


@pytest.mark.parametrize("cut", ["odd", "record"])
def test_a_truncated_file_names_the_file(tmp_path, cut):
    variables = [XptVariable("C", "c", "Char", length=30), XptVariable("N", "n", "Num")]
    frame = pd.DataFrame({"C": [f"value {i}" for i in range(50)], "N": np.arange(50.0)})
    path = write(tmp_path / "lb.xpt", frame, variables)
    data = path.read_bytes()
    layout = parse_layout(data)
    keep = len(data) - 37 if cut == "odd" else (len(data) // 2) // 80 * 80
    while cut == "record" and (keep - layout.data_start) % layout.record_length == 0:
        keep += 80  # end inside an observation
    path.write_bytes(data[:keep])
    with pytest.raises(XptTruncatedError, match="truncated") as info:
        read_xpt(path)
    assert str(path) in str(info.value) and "cut short" in str(info.value)


def test_a_long_observation_cut_at_an_80_byte_boundary_is_an_error(tmp_path):
    # observations of 200 bytes, the file cut 160 bytes into the third one, where the
    # file ends on an 80-byte boundary: the first 80 of those bytes hold "zzz...", the
    # last 80 are blanks (padding of the value). Reading only the last 80 bytes would
    # take the cut record for the file's padding and silently drop it.
    variables = [XptVariable("A", "a", "Char", length=200)]
    frame = pd.DataFrame({"A": ["x" * 10, "y" * 10, "z" * 10]})
    path = write(tmp_path / "cut.xpt", frame, variables)
    data = path.read_bytes()
    keep = parse_layout(data).data_start + 2 * 200 + 160
    assert keep % 80 == 0 and data[keep - 80 : keep] == b" " * 80
    path.write_bytes(data[:keep])
    with pytest.raises(XptTruncatedError, match="incomplete") as info:
        read_xpt(path)
    assert str(path) in str(info.value)
    with pytest.raises(LayoutError, match="incomplete"):
        XptRows.open(path)
