"""Distinct values and combinations of an XPORT file's columns, straight from its bytes.

Some readers of a dataset ask only *which* values, or combinations of values of a group of
columns, occur (define.xml: code list terms, value-level items, data types, lengths),
never how often. :func:`distinct_records` answers them without building the dataset: it
keeps the *representative records*, for every group of columns the first record of each
distinct combination of their values, in file order, and decodes only those.

Values are compared as :func:`cdisc_mapper.xpt.read_xpt` reads them, so the records kept
are exactly the first records of each combination of the values read: text by readstat's
rules (``"A "`` and ``"A\\0"`` are both ``"A"``), numbers as float64 with every SAS
missing value (``.``, ``.A``-``.Z``, ``._``) one NaN and ``-0.0`` equal to ``0.0`` (as
pandas compares them). The work is done on the fixed-width bytes of one part of the file
at a time (:data:`CHUNK_ROWS` records):

- each column's rows are split into *runs* of identical bytes (a record repeating the
  value of the record before it is never the first of a combination), and the run starts
  are factorized once (exact 8-byte words for numbers; for text a 64-bit hash of the
  bytes, checked against the bytes themselves), then only the distinct byte strings are
  decoded and equal values merged: :func:`column_codes`;
- a group's combinations are the distinct rows of its columns' code matrix, looked at only
  on the records where one of its columns starts a run: :func:`first_of_groups`.

The parts' representative records are kept as bytes and merged as :mod:`the define
profile <cdisc_mapper.define.profile>` merges frames (the first of a combination in two
consecutive parts is the first in the first part that has it).
"""

from __future__ import annotations

import codecs
import mmap
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyreadstat

from cdisc_mapper.xpt.fastread import (
    MEMBER_HEADER,
    Bytes2D,
    Layout,
    LayoutError,
    Namestr,
    head_layout,
    numeric_column,
    observations,
    stored_text,
    text_column,
)
from cdisc_mapper.xpt.model import XptMetadata
from cdisc_mapper.xpt.reader import _check_agreement, _metadata

CHUNK_ROWS = 50_000
_RECORD = 80
"""Records looked at a time: memory is bounded by this and by the records kept."""

Codes = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_WIDEST_KEY = 1 << 62


class Records:
    """Fixed-width records in one buffer, with 8 spare bytes at the end so that any
    column's bytes can be read as 64-bit words in place (one word per row and 8 bytes)."""

    def __init__(self, parts: list[Bytes2D], width: int) -> None:
        """The records of ``parts`` (each ``(n, width)``), one after the other; ``parts``
        is emptied as they are copied, so that each one's memory can go at once."""
        self.rows, self.width = sum(len(p) for p in parts), width
        self.buffer = np.zeros(self.rows * width + 8, dtype=np.uint8)
        at = 0
        parts.reverse()
        while parts:
            part = parts.pop()
            self.buffer[at : at + part.size] = part.reshape(-1)
            at += part.size

    @property
    def matrix(self) -> Bytes2D:
        """The records as an ``(n, record length)`` array (a view)."""
        return self.buffer[: self.rows * self.width].reshape(self.rows, self.width)

    def words(self, var: Namestr) -> npt.NDArray[np.uint64]:
        """A column's bytes as little-endian 64-bit words, a ``(words, n)`` array (the
        last word masked to the column's bytes): two rows have equal words exactly when
        they have equal bytes."""
        out = np.empty((-(-var.length // 8), self.rows), dtype=np.uint64)
        for word in range(len(out)):
            view = np.ndarray(
                (self.rows,),
                dtype="<u8",
                buffer=self.buffer,
                offset=var.position + 8 * word,
                strides=(self.width,),
            )
            mask = np.uint64((1 << 8 * min(8, var.length - 8 * word)) - 1)
            np.bitwise_and(view, mask, out=out[word])
        return out


@dataclass(frozen=True)
class Runs:
    """One column's values as runs of equal records: ``starts`` are the rows where the
    bytes differ from the row before, ``codes`` the value of each run (equal exactly when
    the values read are equal, numbered by first appearance)."""

    starts: npt.NDArray[np.intp]
    codes: Codes
    rows: int

    def per_row(self) -> Codes:
        """The value code of every row."""
        lengths = np.diff(np.append(self.starts, self.rows))
        return np.repeat(self.codes, lengths)

    def first_rows(self) -> npt.NDArray[np.int64]:
        """The row where each value first appears."""
        count = int(self.codes.max()) + 1 if len(self.codes) else 0
        return self.starts[_first_rows(self.codes, count)]


def run_starts(words: npt.NDArray[np.uint64]) -> Mask:
    """Whether each row's bytes differ from the row before it (the first row: True)."""
    rows = words.shape[1]
    starts = np.ones(rows, dtype=bool)
    if rows > 1:
        changed = starts[1:]
        changed[:] = False
        for word in words:
            changed |= word[1:] != word[:-1]
    return starts


def _first_rows(codes: npt.NDArray[np.integer[Any]], count: int) -> npt.NDArray[np.int64]:
    """The first position of each code (codes numbered by first appearance)."""
    first = np.full(count, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _byte_codes(words: npt.NDArray[np.uint64]) -> tuple[npt.NDArray[np.intp], int]:
    """Codes of distinct byte strings (columns of ``words``, one word per row), by first
    appearance: the word itself for 8 bytes or fewer, else a hash checked against the
    bytes."""
    if len(words) == 1:
        codes, uniques = pd.factorize(words[0])
        return codes, len(uniques)
    key = words[0].copy()
    for word in words[1:]:
        key = key * _MULTIPLIER + word
    codes, uniques = pd.factorize(key)
    first = _first_rows(codes, len(uniques))[codes]
    if not np.array_equal(words, words[:, first]):  # a hash collision (very rare)
        exact = np.ascontiguousarray(words.T).view(f"V{8 * len(words)}").ravel()
        codes, uniques = pd.factorize(exact.astype(object))
    return codes, len(uniques)


def _value_codes(values: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    """Codes of equal values (NaN equal to NaN, ``-0.0`` to ``0.0``), by first appearance."""
    codes, _ = pd.factorize(values, use_na_sentinel=False)
    return codes


def _plain_utf8(distinct: Bytes2D, encoding: str) -> bool:
    """Whether distinct stored byte strings are distinct texts without decoding them: in
    UTF-8 (one byte string per text) without NULs, two stored values of one column give
    the same text only when they are the same bytes (only trailing blanks are removed).
    Whether they decode at all is checked when the records kept are read."""
    return codecs.lookup(encoding).name == "utf-8" and not bool((distinct == 0).any())


def runs_of(records: Records, var: Namestr, encoding: str) -> Runs:
    """The runs of ``var``; only the distinct byte strings are decoded.

    Raises:
        LayoutError: a text does not decode with ``encoding`` (or the codec is unknown).
    """
    words = records.words(var)
    starts = np.flatnonzero(run_starts(words))
    run_codes, count = _byte_codes(words[:, starts])
    del words
    rows = starts[_first_rows(run_codes, count)]
    distinct = records.matrix[rows, var.position : var.position + var.length]
    if var.is_char and _plain_utf8(distinct, encoding):
        return Runs(starts, run_codes.astype(np.int64), records.rows)
    if var.is_char:
        try:
            texts = [stored_text(row.tobytes(), encoding) for row in distinct]
        except (UnicodeDecodeError, LookupError) as exc:
            raise LayoutError(f"text does not decode: {exc}") from exc
        merged = _value_codes(np.asarray(texts, dtype=object))
    else:
        merged = _value_codes(numeric_column(distinct))
    return Runs(starts, merged.astype(np.int64)[run_codes], records.rows)


def column_runs(records: Records, variables: Sequence[Namestr], encoding: str) -> dict[str, Runs]:
    """:func:`runs_of` every variable.

    Raises:
        LayoutError: a text does not decode with ``encoding`` (or the codec is unknown).
    """
    return {v.name: runs_of(records, v, encoding) for v in variables}


def column_codes(records: Bytes2D, var: Namestr, encoding: str = "utf-8") -> Codes:
    """A code per record of ``(n, record length)`` records for the values of ``var``,
    equal exactly when the values read are equal, numbered by first appearance.

    Raises:
        LayoutError: a text does not decode with ``encoding`` (or the codec is unknown).
    """
    buffered = Records([records], records.shape[1])
    return column_runs(buffered, [var], encoding)[var.name].per_row()


def _combined(codes: Sequence[Codes]) -> Codes:
    """One code per row for the combination of several code columns (equal exactly when
    every column's code is equal; not numbered by appearance)."""
    key = codes[0].copy()
    size = int(key.max()) + 1 if len(key) else 1
    for column in codes[1:]:
        width = int(column.max()) + 1 if len(column) else 1
        if size * width >= _WIDEST_KEY:
            refactored, uniques = pd.factorize(key)
            key, size = refactored.astype(np.int64), len(uniques)
        key = key * width + column
        size *= width
    return key


def first_of_groups(runs: dict[str, Runs], groups: Iterable[Collection[str]]) -> Mask:
    """The rows that are the first of a distinct combination of the columns of some group
    (``runs``: each column's :class:`Runs`)."""
    rows = next(iter(runs.values())).rows if runs else 0
    keep = np.zeros(rows, dtype=bool)
    per_row: dict[str, Codes] = {}
    for group in groups:
        names = sorted(group)
        if not names or not rows:
            continue
        if len(names) == 1:
            keep[runs[names[0]].first_rows()] = True
            continue
        changed = np.zeros(rows, dtype=bool)
        for name in names:
            changed[runs[name].starts] = True
        where = np.flatnonzero(changed)
        for name in names:
            if name not in per_row:
                per_row[name] = runs[name].per_row()
        key = _combined([per_row[name][where] for name in names])
        keep[where[~pd.Series(key).duplicated().to_numpy()]] = True
    return keep


def _representatives(
    records: Records, variables: Sequence[Namestr], groups: list[list[str]], encoding: str
) -> Mask:
    """The records that are the first of a distinct combination of some group."""
    return first_of_groups(column_runs(records, variables, encoding), groups)


def decode(
    records: Bytes2D, variables: Sequence[Namestr], encoding: str, rows: Mask | None = None
) -> pd.DataFrame:
    """Records (those ``rows`` selects, or all) as :func:`cdisc_mapper.xpt.read_xpt`
    gives them: text as ``str`` objects, numbers as float64, index from 0.

    Raises:
        LayoutError: a text does not decode with ``encoding``.
    """
    data: dict[str, Any] = {}
    for var in variables:
        block = records[:, var.position : var.position + var.length]
        block = np.ascontiguousarray(block if rows is None else block[rows])
        if var.is_char:
            column = text_column(block, encoding)
            data[var.name] = pd.Series(column.values[column.codes], dtype=object, copy=False)
        else:
            data[var.name] = numeric_column(block)
    count = len(records) if rows is None else int(rows.sum())
    return pd.DataFrame(data, index=pd.RangeIndex(count), columns=[v.name for v in variables])


class _Kept:
    """The representative records found so far, as bytes (parts merged as they grow)."""

    def __init__(self, layout: Layout, groups: list[list[str]], encoding: str) -> None:
        self.layout, self.groups, self.encoding = layout, groups, encoding
        self.parts: list[Bytes2D] = []
        self.kept_rows = 0

    def representatives(self, records: Records) -> Mask:
        """Which of ``records`` are representative records."""
        return _representatives(records, self.layout.variables, self.groups, self.encoding)

    def add(self, records: Records, chunk_rows: int) -> None:
        """Keep the representatives of the next records (merged with the records kept
        once there are as many new ones as kept ones)."""
        self.parts.append(records.matrix[self.representatives(records)])
        if sum(map(len, self.parts)) >= 2 * max(self.kept_rows, chunk_rows):
            merged, mask = self.merged()
            self.parts = [merged if mask is None else merged[mask]]
            self.kept_rows = len(self.parts[0])

    def merged(self) -> tuple[Bytes2D, Mask | None]:
        """The representative records of the parts taken together (each part the
        representatives of consecutive records, in file order): records and which of
        them (None: all)."""
        if len(self.parts) <= 1:
            width = self.layout.record_length
            return (self.parts[0] if self.parts else np.zeros((0, width), np.uint8)), None
        records = Records(self.parts, self.layout.record_length)
        return records.matrix, self.representatives(records)


def _release(mapped: mmap.mmap, upto: int) -> None:
    """Let go of the pages of ``mapped`` before ``upto`` (they are read)."""
    end = upto - upto % mmap.PAGESIZE
    if end > 0 and hasattr(mapped, "madvise"):
        mapped.madvise(mmap.MADV_DONTNEED, 0, end)


@dataclass(frozen=True)
class Distinct:
    """What :func:`distinct_records` found in a file: its metadata, its representative
    records (``frame``) and how many records it has."""

    meta: XptMetadata
    frame: pd.DataFrame
    rows: int


def distinct_records(
    path: str | Path,
    groups: Iterable[Collection[str]],
    *,
    encoding: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Distinct:
    """The metadata of a plain XPORT v5 file, its representative records for every
    column alone and every group of ``groups`` (names the file lacks are left out), and
    its number of records. Memory is bounded by ``chunk_rows`` and the records kept.

    Raises:
        LayoutError: not a plain single-member v5 file, header and pyreadstat disagree,
            or text does not decode: read it with :func:`cdisc_mapper.xpt.read_xpt`
            (which reads any XPORT file or says what is wrong with it).
        OSError: the file cannot be read.
    """
    path = Path(path)
    with path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    layout = _head_layout(mapped)
    try:
        meta = pyreadstat.read_xport(str(path), metadataonly=True, encoding=encoding)[1]
    except Exception as exc:  # pyreadstat raises several unrelated exception types
        raise LayoutError(f"pyreadstat cannot read the metadata: {exc}") from exc
    _check_agreement(layout, meta)
    records = observations(cast("bytes", mapped), layout)
    names = [v.name for v in layout.variables]
    asked = [[c] for c in names] + [[c for c in g if c in names] for g in groups]
    kept = _Kept(layout, _widest(asked), encoding or "utf-8")
    starts = range(0, len(records), chunk_rows)
    for start in starts:
        at = layout.data_start + start * layout.record_length
        end = at + chunk_rows * layout.record_length if start + chunk_rows < len(records) else None
        _one_member(mapped, at, end)
        chunk = Records([records[start : start + chunk_rows]], layout.record_length)
        _release(mapped, layout.data_start + (start + chunk_rows) * layout.record_length)
        kept.add(chunk, chunk_rows)
    if not starts:
        _one_member(mapped, layout.data_start, None)
    merged, mask = kept.merged()
    frame = decode(merged, layout.variables, encoding or "utf-8", mask)
    return Distinct(_metadata(meta, len(records)), frame, len(records))


def _head_layout(mapped: mmap.mmap) -> Layout:
    """:func:`cdisc_mapper.xpt.fastread.parse_layout` but for its scan of the
    observations for a second member, which :func:`_one_member` does part by part as the
    records are read (so each page of the file is read once, not twice)."""
    if len(mapped) % _RECORD:
        raise LayoutError("size is not a multiple of 80")
    return head_layout(cast("bytes", mapped))


def _one_member(mapped: mmap.mmap, start: int, end: int | None) -> None:
    """Raise LayoutError if a member header starts in ``mapped[start:end]`` (``end``
    None: the end of the file), as :func:`~cdisc_mapper.xpt.fastread.parse_layout`
    does for a file with more than one member."""
    stop = len(mapped) if end is None else min(len(mapped), end + len(MEMBER_HEADER) - 1)
    if mapped.find(MEMBER_HEADER, start, stop) >= 0:
        raise LayoutError("more than one member")


def _widest(groups: Iterable[Iterable[str]]) -> list[list[str]]:
    """The distinct non-empty groups not inside another (the first record of each value
    of a group is the first of its combination with the columns of a wider group)."""
    unique = list(dict.fromkeys(frozenset(g) for g in groups if g))
    return [sorted(g) for g in unique if not any(g < other for other in unique)]
