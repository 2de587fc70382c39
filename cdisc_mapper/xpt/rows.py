"""Part of a plain XPORT v5 file: the records of row ranges (or of a range of subjects, in a
file sorted by them), only the named columns, without reading the rest of the file.

The observations of a single-member v5 file are fixed-width records after the ``OBS``
header, so record ``i`` starts at ``data_start + i * record_length``: a row range is one
read at a known offset. The subjects' boundaries are found by reading only the bytes of
their column (:func:`subject_runs`), a window of records at a time, so memory stays
bounded whatever the file's size. The values are converted by the whole-file reader's own
converters (:mod:`cdisc_mapper.xpt.fastread`: each distinct text decoded once, IBM floats
vectorised), so the frame of some rows is the frame :func:`~cdisc_mapper.xpt.read_xpt`
gives for the file, sliced to those rows (index from 0) and columns; the metadata is
:func:`~cdisc_mapper.xpt.read_xpt`'s (from pyreadstat's reading of the header).

Anything but a plain single-member v5 file (v8, several members, an incomplete last
observation, namestrs pyreadstat reads otherwise) raises
:class:`~cdisc_mapper.xpt.fastread.LayoutError`: read such a file whole with
:func:`~cdisc_mapper.xpt.read_xpt`.

>>> part = XptRows.open("lb.xpt")  # doctest: +SKIP
>>> runs = part.subject_runs("USUBJID")  # doctest: +SKIP
>>> frame = part.read([(0, runs.stops[9])], ["USUBJID", "LBTESTCD"])  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper.errors import XptError
from cdisc_mapper.xpt.columns import file_layout
from cdisc_mapper.xpt.fastread import (
    MEMBER_HEADER,
    Bytes2D,
    Layout,
    LayoutError,
    Namestr,
    numeric_column,
    stored_text,
    text_column,
)
from cdisc_mapper.xpt.model import XptMetadata
from cdisc_mapper.xpt.reader import (
    Column,
    TextMode,
    _fast_metadata,
    _frame,
    _metadata,
    _open_error,
)

_RECORD = 80
WINDOW_BYTES = 1 << 24
"""Bytes read at a time when scanning a column (16 MiB)."""

RowRanges = Sequence[tuple[int, int]]
"""Row ranges ``[start, stop)`` of the observations, in file order."""


@dataclass(frozen=True)
class SubjectRuns:
    """The runs of equal values of a column, in file order: ``values[i]`` (as
    :func:`~cdisc_mapper.xpt.read_xpt` reads it) holds rows ``starts[i]`` to
    ``stops[i]``; consecutive runs differ. In a file sorted by the column each value has
    one run."""

    values: list[str]
    starts: npt.NDArray[np.int64]
    stops: npt.NDArray[np.int64]

    def rows_of(self, wanted: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
        """The row ranges of the runs ``wanted`` chooses (a flag per run), adjacent runs
        joined."""
        out: list[tuple[int, int]] = []
        for start, stop in zip(self.starts[wanted], self.stops[wanted], strict=True):
            if out and out[-1][1] == start:
                out[-1] = (out[-1][0], int(stop))
            else:
                out.append((int(start), int(stop)))
        return out


@dataclass(frozen=True)
class XptRows:
    """A plain single-member XPORT v5 file opened for reading parts of it."""

    path: Path
    layout: Layout
    rows: int
    metadata: XptMetadata
    encoding: str | None = None

    @classmethod
    def open(cls, path: str | Path, *, encoding: str | None = None) -> XptRows:
        """Read the header (and the last records, to count the observations as the
        whole-file reader does).

        Raises:
            XptError: the file is missing or unreadable.
            LayoutError: not a plain single-member v5 file (read it whole).
        """
        path = Path(path)
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                layout, rows = file_layout(handle, size)
                _check_one_member(handle, layout.data_start)
        except OSError as exc:
            raise _open_error(path, exc) from exc
        meta = _fast_metadata(path, layout, encoding)
        return cls(path, layout, rows, _metadata(meta, rows), encoding)

    def variable(self, name: str) -> Namestr:
        for var in self.layout.variables:
            if var.name == name:
                return var
        raise KeyError(name)

    def _blocks(self, ranges: RowRanges) -> Iterator[Bytes2D]:
        """The records of ``ranges`` as ``(n, record_length)`` blocks of at most about
        :data:`WINDOW_BYTES`, in order."""
        width = self.layout.record_length
        step = max(1, WINDOW_BYTES // width)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for start, stop in ranges:
                if not 0 <= start <= stop <= self.rows:
                    raise IndexError(f"rows {start}:{stop} outside 0:{self.rows} of {self.path}")
                for first in range(start, stop, step):
                    count = min(step, stop - first)
                    offset = self.layout.data_start + first * width
                    data = os.pread(fd, count * width, offset)
                    if len(data) != count * width:
                        raise LayoutError(f"{self.path} changed while it was read")
                    yield np.frombuffer(data, dtype=np.uint8).reshape(count, width)
        finally:
            os.close(fd)

    def subject_runs(self, column: str) -> SubjectRuns:
        """The runs of equal values of ``column`` (:class:`SubjectRuns`), reading only
        that column's bytes of each record, a window of records at a time.

        Raises:
            XptError: the file has no such column, or it is not text.
        """
        var = self._text_variable(column)
        lo, hi = var.position, var.position + var.length
        starts: list[npt.NDArray[np.int64]] = []
        firsts: list[bytes] = []
        previous: Bytes2D | None = None
        done = 0
        for block in self._blocks([(0, self.rows)]):
            values = block[:, lo:hi]
            edge = np.flatnonzero(np.any(values[1:] != values[:-1], axis=1)) + 1
            if previous is None or not np.array_equal(previous, values[0]):
                edge = np.r_[0, edge]
            starts.append(edge.astype(np.int64) + done)
            firsts += [values[i].tobytes() for i in edge]
            previous = values[-1].copy()
            done += len(block)
        begin = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        stops = np.r_[begin[1:], self.rows].astype(np.int64) if len(begin) else begin
        texts = self._decoded(firsts)
        return SubjectRuns(texts, begin, stops)

    def _text_variable(self, column: str) -> Namestr:
        try:
            var = self.variable(column)
        except KeyError:
            raise XptError(
                f"no variable {column}", where=str(self.path), hint="name a variable it has"
            ) from None
        if not var.is_char:
            raise XptError(
                f"{column} is numeric; subjects are found in a text column", where=str(self.path)
            )
        return var

    def _decoded(self, values: list[bytes]) -> list[str]:
        try:
            return [stored_text(v, self.encoding or "utf-8") for v in values]
        except (UnicodeDecodeError, LookupError) as exc:
            raise LayoutError(f"text does not decode: {exc}") from exc

    def read(
        self, ranges: RowRanges, columns: Iterable[str] | None = None, text: TextMode = "str"
    ) -> pd.DataFrame:
        """The records of ``ranges`` (in that order, index from 0): the ``columns`` the
        file has, in that order (all when None), as :func:`~cdisc_mapper.xpt.read_xpt`
        reads them with ``text``.

        Raises:
            LayoutError: text that does not decode (read the file whole).
        """
        by_name = {v.name: v for v in self.layout.variables}
        names = list(by_name) if columns is None else list(dict.fromkeys(columns))
        chosen = [by_name[n] for n in names if n in by_name]
        pieces: dict[str, list[Bytes2D]] = {v.name: [] for v in chosen}
        rows = 0
        for block in self._blocks(ranges):
            rows += len(block)
            for var in chosen:
                pieces[var.name].append(block[:, var.position : var.position + var.length])
        data: dict[str, Column] = {}
        for var in chosen:
            block = _stacked(pieces.pop(var.name), var.length)
            data[var.name] = (
                text_column(block, self.encoding or "utf-8")
                if var.is_char
                else numeric_column(block)
            )
        return _frame(data, rows, text)


def _stacked(blocks: list[Bytes2D], width: int) -> Bytes2D:
    if not blocks:
        return np.zeros((0, width), dtype=np.uint8)
    return np.ascontiguousarray(np.concatenate(blocks) if len(blocks) > 1 else blocks[0])


def _check_one_member(handle: BinaryIO, start: int) -> None:
    """LayoutError when a member header follows the observations (at an 80-byte record),
    reading the file a window at a time."""
    handle.seek(start)
    base, carry = start, b""
    while True:
        data = handle.read(WINDOW_BYTES)
        if not data:
            return
        chunk = carry + data
        hit = chunk.find(MEMBER_HEADER)
        while hit >= 0:
            if (base + hit) % _RECORD == 0:
                raise LayoutError("more than one member")
            hit = chunk.find(MEMBER_HEADER, hit + 1)
        carry = chunk[-len(MEMBER_HEADER) :]
        base += len(chunk) - len(carry)
