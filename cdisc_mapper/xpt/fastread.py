"""The vectorised engine of :func:`cdisc_mapper.xpt.read_xpt`, for plain SAS XPORT v5 files.

readstat (pyreadstat) converts values one at a time into Python objects; a 1.2-million-record
LB takes ~15 s. This module maps the fixed-width observation records of a single-member
XPORT v5 file onto a numpy array and converts whole columns at once: numbers through
:func:`cdisc_mapper.xpt.ibm.ibm_to_ieee` (SAS missing values ``.``, ``.A``-``.Z``, ``._``
become NaN), text by decoding each distinct value once (rows are hashed and factorized).
Text follows readstat's rules, so both engines give the same values: trailing blanks and
NULs are removed, then the value ends at its first NUL.

Anything it does not recognise (XPORT v8, VAX namestrs, several members, an incomplete last
observation, text that does not decode) raises :class:`LayoutError`; ``read_xpt`` then
reads the file with pyreadstat. Nothing here reads labels, formats or dates: those come
from pyreadstat in both engines.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper.xpt.ibm import ibm_to_ieee

_LIBRARY = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
_MEMBER = b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"
_NAMESTR = b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!"
_OBS = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
_RECORD = 80
_NAMESTR_LEN = 140
_NAMESTR_FMT = struct.Struct(">hhhh8s40s8shhhh8shhl52s")
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_NUM_LENGTHS = range(2, 9)

Bytes2D = npt.NDArray[np.uint8]


class LayoutError(Exception):
    """The file is not a plain single-member XPORT v5 file (read it with pyreadstat)."""


@dataclass(frozen=True)
class Namestr:
    """What the reader needs of one namestr record: name, type, length and position."""

    name: str
    is_char: bool
    length: int
    position: int


@dataclass(frozen=True)
class Layout:
    """The variables of a single-member v5 file and where its observations start."""

    variables: tuple[Namestr, ...]
    data_start: int

    @property
    def record_length(self) -> int:
        """Bytes per observation."""
        return sum(v.length for v in self.variables)


@dataclass(frozen=True)
class TextColumn:
    """A decoded character column: ``values[codes]`` are the texts, row by row.

    ``values`` holds each distinct text once (``str``, object array), in the order of
    first appearance; ``codes`` is an ``int64`` index into it per row.
    """

    codes: npt.NDArray[np.int64]
    values: npt.NDArray[np.object_]

    @classmethod
    def from_texts(cls, texts: npt.NDArray[np.object_]) -> TextColumn:
        """Factorize an object array of ``str`` (as pyreadstat returns it)."""
        codes, values = pd.factorize(texts)
        return cls(np.asarray(codes, dtype=np.int64), np.asarray(values, dtype=object))


def _find_record(raw: bytes, marker: bytes, start: int) -> int:
    """Offset of the 80-byte record starting with ``marker`` at or after ``start``."""
    pos = start
    while True:
        pos = raw.find(marker, pos)
        if pos < 0:
            raise LayoutError(f"no {marker[20:28]!r} header")
        if pos % _RECORD == 0:
            return pos
        pos += 1


def parse_namestrs(raw: bytes) -> tuple[tuple[Namestr, ...], int]:
    """The first member's variables and the offset just after its namestr records.

    ``raw`` may be the head of the file only, as long as it holds every namestr.

    Raises:
        LayoutError: not an XPORT v5 library, or namestrs that are not 140 bytes.
    """
    if raw[:48] != _LIBRARY:
        raise LayoutError("not an XPORT v5 library header")
    member = _find_record(raw, _MEMBER, 2 * _RECORD)
    if raw[member + 75 : member + 78] != b"140":
        raise LayoutError("namestr records are not 140 bytes")
    names_at = _find_record(raw, _NAMESTR, member + _RECORD)
    first = names_at + _RECORD
    try:
        count = int(raw[names_at + 54 : names_at + 58])
        variables = []
        for i in range(count):
            fields = _NAMESTR_FMT.unpack_from(raw, first + i * _NAMESTR_LEN)
            ntype, length, name, position = fields[0], fields[2], fields[4], fields[14]
            variables.append(Namestr(name.decode("ascii").strip(), ntype == 2, length, position))
    except (ValueError, struct.error) as exc:  # UnicodeDecodeError is a ValueError
        raise LayoutError(f"unreadable namestr records: {exc}") from exc
    return tuple(variables), first + count * _NAMESTR_LEN


def parse_layout(raw: bytes) -> Layout:
    """The layout of a whole single-member v5 file.

    Raises:
        LayoutError: the file is not a plain single-member XPORT v5 file.
    """
    if len(raw) % _RECORD:
        raise LayoutError("size is not a multiple of 80")
    variables, names_end = parse_namestrs(raw)
    obs = _find_record(raw, _OBS, names_end)
    if _find_windowed(raw, _MEMBER, obs + _RECORD) >= 0:
        raise LayoutError("more than one member")
    layout = Layout(variables, obs + _RECORD)
    if layout.record_length <= 0:
        raise LayoutError("no variables")
    if any(not v.is_char and v.length not in _NUM_LENGTHS for v in variables):
        raise LayoutError("a numeric variable is not 2-8 bytes long")
    return layout


def _find_windowed(raw: bytes, marker: bytes, start: int) -> int:
    """``raw.find(marker, start)`` in windows; a memory-mapped file's pages are let go
    after each window, so that scanning a large file does not keep it in memory."""
    window = 1 << 26
    for pos in range(start, max(len(raw), start + 1), window):
        end = min(len(raw), pos + window + len(marker))
        hit = raw.find(marker, pos, end)
        if isinstance(raw, mmap.mmap) and hasattr(raw, "madvise"):
            low = pos - pos % mmap.PAGESIZE
            raw.madvise(mmap.MADV_DONTNEED, low, end - low)
        if hit >= 0:
            return hit
    return -1


def observations(raw: bytes, layout: Layout) -> Bytes2D:
    """The observation records as an ``(n, record_length)`` view of ``raw``.

    The last 80-byte record is padded with blanks, which can look like all-blank
    observations: those are not counted (as readstat does).

    Raises:
        LayoutError: the last observation is incomplete.
    """
    data = np.frombuffer(raw, dtype=np.uint8)
    start, obs_len = layout.data_start, layout.record_length
    rows, rest = divmod(data.size - start, obs_len)
    if rest and data[start + rows * obs_len :].tobytes().strip(b" \x00"):
        raise LayoutError("the last observation is incomplete")
    records = data[start : start + rows * obs_len].reshape(rows, obs_len)
    while (
        rows
        and start + (rows - 1) * obs_len >= data.size - _RECORD
        and not records[rows - 1].tobytes().strip(b" ")
    ):
        rows -= 1
    return records[:rows]


def numeric_column(block: Bytes2D) -> npt.NDArray[np.float64]:
    """IBM floats of 2-8 bytes (an ``(n, length)`` block) as float64, missing as NaN."""
    rows, length = block.shape
    padded = np.zeros((rows, 8), dtype=np.uint8)
    padded[:, :length] = block
    return ibm_to_ieee(padded.view(">u8").ravel().astype(np.uint64))


def _hash_rows(block: Bytes2D) -> npt.NDArray[np.uint64]:
    """A 64-bit hash per row of an ``(n, width)`` block (exact for width <= 8)."""
    n, width = block.shape
    words = -(-width // 8)
    padded = np.zeros((n, words * 8), dtype=np.uint8)
    padded[:, :width] = block
    as_words = padded.view(">u8").astype(np.uint64)
    out: npt.NDArray[np.uint64] = as_words[:, 0].copy()
    for i in range(1, words):
        out = out * _HASH_MULTIPLIER + as_words[:, i]
    return out


def _first_rows(codes: npt.NDArray[np.intp], count: int) -> npt.NDArray[np.int64]:
    """The first row of each code (codes numbered by first appearance)."""
    first = np.full(count, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def stored_text(value: bytes, encoding: str) -> str:
    """One stored value as readstat returns it: trailing blanks and NULs removed, the
    rest up to the first NUL, decoded."""
    return value.rstrip(b" \x00").split(b"\x00", 1)[0].decode(encoding)


def text_column(block: Bytes2D, encoding: str) -> TextColumn:
    """Decode an ``(n, width)`` block of fixed-width text, each distinct value once.

    Raises:
        LayoutError: a value does not decode with ``encoding`` (or the codec is unknown).
    """
    width = block.shape[1]
    codes, uniques = pd.factorize(_hash_rows(block))
    first = _first_rows(codes, len(uniques))
    if width > 8 and not np.array_equal(block, block[first[codes]]):
        # a hash collision (astronomically rare): factorize the bytes themselves
        as_bytes = np.ascontiguousarray(block).view(f"S{width}").ravel().astype(object)
        codes, uniques = pd.factorize(as_bytes)
        first = _first_rows(codes, len(uniques))
    try:
        texts = [stored_text(block[row].tobytes(), encoding) for row in first]
    except (UnicodeDecodeError, LookupError) as exc:
        raise LayoutError(f"text does not decode: {exc}") from exc
    merged = TextColumn.from_texts(np.asarray(texts, dtype=object))
    return TextColumn(merged.codes[codes], merged.values)
