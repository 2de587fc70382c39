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

import codecs
import functools
import mmap
import struct
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper.xpt.ibm import ibm_to_ieee

_LIBRARY = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
MEMBER_HEADER = b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!"
_NAMESTR = b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!"
_OBS = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
_RECORD = 80
_NAMESTR_LEN = 140
_NAMESTR_FMT = struct.Struct(">hhhh8s40s8shhhh8shhl52s")
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_NUM_LENGTHS = range(2, 9)
BLANK_BYTE = 0x20

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
    member = _find_record(raw, MEMBER_HEADER, 2 * _RECORD)
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
    layout = head_layout(raw)
    if _find_windowed(raw, MEMBER_HEADER, layout.data_start) >= 0:
        raise LayoutError("more than one member")
    return layout


def head_layout(head: bytes) -> Layout:
    """The layout of the first member of a v5 file from its head (holding every namestr
    and the OBS header), without the checks that need the whole file (its size, a
    second member: see :func:`parse_layout`).

    Raises:
        LayoutError: the head is not that of a plain XPORT v5 file.
    """
    variables, names_end = parse_namestrs(head)
    obs = _find_record(head, _OBS, names_end)
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
    tail_at = tail_offset(layout, data.size)
    rows = observation_count(layout, data.size, data[tail_at:].tobytes(), tail_at)
    return data[start : start + rows * obs_len].reshape(rows, obs_len)


def tail_offset(layout: Layout, size: int) -> int:
    """Where the bytes that :func:`observation_count` needs start in a file of ``size``:
    the last 80 bytes, or from the start of an incomplete last observation if that is
    earlier (all of it is checked, however long the observation)."""
    start, obs_len = layout.data_start, layout.record_length
    whole_end = start + (max(size - start, 0) // obs_len) * obs_len
    return max(start, min(size - _RECORD, whole_end))


def observation_count(layout: Layout, size: int, tail: bytes, tail_at: int) -> int:
    """The number of observations of a file of ``size`` bytes whose bytes from ``tail_at``
    (:func:`tail_offset`) on are ``tail``: the whole records after the OBS header, less
    all-blank records within the last 80 bytes (padding, as readstat reads them).

    Raises:
        LayoutError: the last observation is incomplete.
    """
    start, obs_len = layout.data_start, layout.record_length
    rows, rest = divmod(size - start, obs_len)
    end = start + rows * obs_len
    if rest and tail[end - tail_at :].strip(b" \x00"):
        raise LayoutError("the last observation is incomplete")
    while rows and start + (rows - 1) * obs_len >= size - _RECORD:
        last = start + (rows - 1) * obs_len - tail_at
        if tail[last : last + obs_len].strip(b" "):
            break
        rows -= 1
    return rows


def numeric_column(block: Bytes2D) -> npt.NDArray[np.float64]:
    """IBM floats of 2-8 bytes (an ``(n, length)`` block) as float64, missing as NaN."""
    rows, length = block.shape
    padded = np.zeros((rows, 8), dtype=np.uint8)
    padded[:, :length] = block
    return ibm_to_ieee(padded.view(">u8").ravel())


def padded_width(width: int) -> int:
    """The row width in which :func:`padded_text_column` takes ``width``-byte text: 1, 2
    or 4 bytes (one unsigned integer per row) or a whole number of 8-byte words."""
    if width <= 2:
        return max(width, 1)
    if width <= 4:
        return 4
    return -(-width // 8) * 8


def pad_rows(block: Bytes2D) -> Bytes2D:
    """``block`` as a C-contiguous ``(n, padded_width(width))`` array, zero padded."""
    rows, width = block.shape
    wide = padded_width(width)
    if wide == width and block.flags.c_contiguous:
        return block
    padded = np.zeros((rows, wide), dtype=np.uint8)
    padded[:, :width] = block
    return padded


def _row_keys(padded: Bytes2D) -> npt.NDArray[np.unsignedinteger[Any]]:
    """One integer per row of a padded block: the row itself when it fits in 8 bytes,
    else a 64-bit hash of its words."""
    wide = padded.shape[1]
    if wide <= 8:
        keys: npt.NDArray[np.unsignedinteger[Any]] = padded.view(f"u{wide}").ravel()
        return keys
    words = padded.view(np.uint64)
    out: npt.NDArray[np.uint64] = words[:, 0].copy()
    for i in range(1, words.shape[1]):
        out *= _HASH_MULTIPLIER
        out += words[:, i]
    return out


def _hash_rows(block: Bytes2D) -> npt.NDArray[np.unsignedinteger[Any]]:
    """A 64-bit key per row of an ``(n, width)`` block (exact for width <= 8)."""
    return _row_keys(pad_rows(block))


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
    return padded_text_column(pad_rows(block), block.shape[1], encoding)


def padded_text_column(padded: Bytes2D, width: int, encoding: str) -> TextColumn:
    """:func:`text_column` of ``padded[:, :width]``, where ``padded`` is what
    :func:`pad_rows` gives (zero bytes after ``width``).

    Rows are factorized on an integer key (the row itself, or a hash of its words checked
    against the rows), the distinct rows decoded at once (:func:`decode_rows`), and
    distinct rows that decode to the same text (``"A\\x00"`` and ``"A"``: only a NUL byte
    can make two rows of the same width the same text) merged.

    Raises:
        LayoutError: a value does not decode with ``encoding`` (or the codec is unknown).
    """
    codes, uniques = pd.factorize(_row_keys(padded))
    first = _first_rows(codes, len(uniques))
    if padded.shape[1] > 8 and not _rows_match(padded, first, codes):
        # a hash collision (astronomically rare): factorize the bytes themselves
        as_bytes = padded.view(f"S{padded.shape[1]}").ravel().astype(object)
        codes, uniques = pd.factorize(as_bytes)
        first = _first_rows(codes, len(uniques))
    rows = padded[first, :width]
    texts = decode_rows(rows, encoding)
    if not (rows == 0).any():  # without NUL, distinct rows are distinct texts
        return TextColumn(codes.astype(np.int64, copy=False), texts)
    merged = TextColumn.from_texts(texts)
    if len(merged.values) == len(texts):
        return TextColumn(codes.astype(np.int64, copy=False), merged.values)
    return TextColumn(merged.codes[codes], merged.values)


def _rows_match(padded: Bytes2D, first: npt.NDArray[np.int64], codes: npt.NDArray[np.intp]) -> bool:
    """Whether every row equals the first row of its code (no two rows share a hash):
    compared word by word against the few distinct rows, which stay in the cache."""
    words = padded.view(np.uint64)
    distinct = words[first]
    return all(
        np.array_equal(distinct[:, i].take(codes), words[:, i]) for i in range(words.shape[1])
    )


def decode_rows(rows: Bytes2D, encoding: str) -> npt.NDArray[np.object_]:
    """Each row of fixed-width stored text as :func:`stored_text` decodes it, at once.

    With a codec that reads every ASCII byte as that character, rows of ASCII bytes are
    decoded by numpy (bytes after the value zeroed, then ``S`` -> ``U``); the others, and
    every row of any other codec, one by one.

    Raises:
        LayoutError: a value does not decode with ``encoding`` (or the codec is unknown).
    """
    count, width = rows.shape
    if not count:
        return np.empty(0, dtype=object)
    try:
        if not _ascii_compatible(encoding):
            return _decode_each(rows, encoding)
        kept = _value_mask(rows)
        cleaned = np.where(kept, rows, np.uint8(0))
        other = np.flatnonzero((cleaned >= 0x80).any(axis=1))
        cleaned[other] = 0
        texts = cleaned.view(f"S{width}").ravel().astype(f"U{width}").astype(object)
        texts[other] = _decode_each(rows[other], encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise LayoutError(f"text does not decode: {exc}") from exc
    return cast("npt.NDArray[np.object_]", texts)


def _decode_each(rows: Bytes2D, encoding: str) -> npt.NDArray[np.object_]:
    out = np.empty(len(rows), dtype=object)
    out[:] = [stored_text(row.tobytes(), encoding) for row in rows]
    return out


def _value_mask(rows: Bytes2D) -> npt.NDArray[np.bool_]:
    """Per byte of ``rows``, whether it belongs to the value as :func:`stored_text` reads
    it: before the last byte that is neither blank nor NUL, and before the first NUL."""
    width = rows.shape[1]
    significant = (rows != BLANK_BYTE) & (rows != 0)
    end = width - np.argmax(significant[:, ::-1], axis=1)
    end[~significant.any(axis=1)] = 0
    nul = rows == 0
    first_nul = np.where(nul.any(axis=1), np.argmax(nul, axis=1), width)
    end = np.minimum(end, first_nul)
    mask: npt.NDArray[np.bool_] = np.arange(width) < end[:, None]
    return mask


@functools.cache
def _ascii_compatible(encoding: str) -> bool:
    """Whether ``encoding`` reads each byte 1-127 on its own as that ASCII character.

    Raises:
        LookupError: the codec is unknown.
    """
    codecs.lookup(encoding)
    for byte in range(1, 128):
        try:
            if bytes([byte]).decode(encoding) != chr(byte):
                return False
        except UnicodeDecodeError:
            return False
    return True
