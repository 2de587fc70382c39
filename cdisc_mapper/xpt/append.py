"""An XPORT v5 file written block by block: the header once, then records appended part
by part, the last 80-byte record padded at the end; the same bytes as
:func:`~cdisc_mapper.xpt.writer.write_xpt` writes for all the records at once.

The header holds each variable's stored length before any record, so every ``Char``
variable needs its length when the file is opened. For the bytes of the whole-frame
writer, that is the length it would store: the longest value without trailing blanks, at
least 1 (:func:`char_lengths` over each block, combined by :func:`longest`). A declared
length is kept as declared (a longer value is an error, as in the whole-frame writer).

>>> with XptAppender(path, dataset="LB", label="Laboratory Test Results",
...                  variables=sized) as out:  # doctest: +SKIP
...     for part in parts:
...         out.append(part)

The file is written through a unique temporary name beside ``path`` and renamed when
:meth:`XptAppender.close` succeeds; a failure (or an exception in the ``with`` block)
deletes it and leaves ``path`` as it was. Errors name the record as counted from the
dataset's first record, whatever block it is in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
import pandas as pd

from cdisc_mapper.errors import XptError
from cdisc_mapper.publish import atomic_file
from cdisc_mapper.xpt.checks import check_xpt_metadata, variable_format
from cdisc_mapper.xpt.encode import BLANK, EncodedColumn, ErrorContext, encode_char, encode_num
from cdisc_mapper.xpt.model import NUM_LENGTH, XptVariable
from cdisc_mapper.xpt.writer import (
    _check_columns,
    build_header,
    header_timestamp,
    observation_padding,
    warn_last_row_blank,
    write_error,
    write_observations,
)


def char_lengths(frame: pd.DataFrame, variables: Sequence[XptVariable]) -> dict[str, int]:
    """Per ``Char`` variable without a declared length, the longest value of ``frame``
    without trailing blanks (0 when there is none): what the whole-frame writer measures.
    Characters are counted; a value that is not ASCII is an error when it is written."""
    out: dict[str, int] = {}
    for v in variables:
        if v.type != "Char" or v.length is not None:
            continue
        series = frame[v.name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if not len(series):
            out[v.name] = 0
            continue
        lengths = series.str.rstrip(" ").str.len().to_numpy(dtype=np.float64, na_value=0.0)
        out[v.name] = int(np.nanmax(lengths))
    return out


def longest(blocks: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The lengths of several blocks' :func:`char_lengths` combined: each variable's
    longest, at least 1 (the stored length of a column without a value)."""
    out: dict[str, int] = {}
    for lengths in blocks:
        for name, n in lengths.items():
            out[name] = max(out.get(name, 1), n, 1)
    return out


def sized(variables: Sequence[XptVariable], lengths: Mapping[str, int]) -> list[XptVariable]:
    """``variables`` with the ``Char`` lengths of ``lengths`` where none is declared."""
    return [
        replace(v, length=lengths[v.name])
        if v.type == "Char" and v.length is None and v.name in lengths
        else v
        for v in variables
    ]


class XptAppender:
    """An XPORT v5 file open for appending records (see the module docstring).

    Raises (when opened):
        XptError: invalid metadata, a ``Char`` variable without a length, or an OS error.
    """

    def __init__(
        self, path: str | Path, *, dataset: str, label: str, variables: Sequence[XptVariable]
    ) -> None:
        self.path = Path(path)
        self.dataset = dataset
        self.variables = tuple(variables)
        self.records = 0
        check_xpt_metadata(dataset, label, self.variables, path=self.path)
        unsized = [v.name for v in self.variables if v.type == "Char" and v.length is None]
        if unsized:
            raise XptError(
                f"Char variables {', '.join(unsized)} have no length; an appended file "
                "writes the lengths in its header before any record",
                where=f"{self.path} (dataset {dataset})",
                hint="give each Char variable its length (char_lengths over all the "
                "records, combined by longest)",
            )
        columns = [(v, variable_format(v), v.length or NUM_LENGTH) for v in self.variables]
        self._row_length = sum(length for _, _, length in columns)
        self._last_row_blank = False
        self._stack = contextlib.ExitStack()
        self._out: BinaryIO | None = None
        header = build_header(dataset, label, columns, header_timestamp())
        try:
            self._out = self._stack.enter_context(atomic_file(self.path))
            self._out.write(header)
        except OSError as exc:
            self._stack.close()
            raise write_error(self.path, dataset, exc) from exc

    def append(self, frame: pd.DataFrame) -> None:
        """Append ``frame``'s records (its columns exactly the variables, any order)."""
        if self._out is None:
            raise ValueError(f"{self.path} is closed")
        _check_columns(frame, self.variables, self.dataset, self.path)
        usubjid = frame["USUBJID"] if "USUBJID" in frame.columns else None
        ctx = ErrorContext(self.path, self.dataset, usubjid, first=self.records)
        encoded: list[EncodedColumn] = []
        for v in self.variables:
            series = frame[v.name]
            if v.type == "Char":
                encoded.append(encode_char(series, v, ctx))
            else:
                encoded.append(encode_num(series, v, variable_format(v), ctx))
        try:
            blank = write_observations(self._out, encoded, len(frame))
        except OSError as exc:
            raise write_error(self.path, self.dataset, exc) from exc
        if len(frame):
            self._last_row_blank = blank
        self.records += len(frame)

    def close(self) -> None:
        """Pad the last record and put the file in place."""
        if self._out is None:
            return
        try:
            self._out.write(observation_padding(self.records * self._row_length))
            self._out = None
            self._stack.close()
        except OSError as exc:
            self.abort()
            raise write_error(self.path, self.dataset, exc) from exc
        if self._last_row_blank:
            warn_last_row_blank(self.path, self.dataset)

    def abort(self) -> None:
        """Delete the temporary file; ``path`` stays as it was."""
        self._out = None
        self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> XptAppender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def write_records(
    out: BinaryIO,
    frame: pd.DataFrame,
    variables: Sequence[XptVariable],
    *,
    path: Path,
    dataset: str,
) -> bool:
    """Write ``frame``'s records to ``out`` as an XPORT v5 file stores them (each variable
    at its length, which every ``Char`` variable must have): the bytes
    :meth:`XptAppender.append` writes, without header or padding, to be appended later
    by :meth:`RecordsAppender.append_records`; whether the last record is entirely
    blank. Errors name ``path`` (the file the records are for) and the record as counted
    in ``frame``.

    Raises:
        XptError: as :meth:`XptAppender.append` (a column missing or extra, a value the
            type or the length cannot hold).
    """
    _check_columns(frame, variables, dataset, path)
    usubjid = frame["USUBJID"] if "USUBJID" in frame.columns else None
    ctx = ErrorContext(path, dataset, usubjid)
    encoded: list[EncodedColumn] = []
    for v in variables:
        if v.type == "Char":
            encoded.append(encode_char(frame[v.name], v, ctx))
        else:
            encoded.append(encode_num(frame[v.name], v, variable_format(v), ctx))
    return write_observations(out, encoded, len(frame)) if len(frame) else False


def record_widths(variables: Sequence[XptVariable]) -> list[int]:
    """Each variable's bytes in a record (its length; 8 for a number without one)."""
    return [v.length or NUM_LENGTH for v in variables]


#: Bytes of records copied or laid out at a time by :meth:`RecordsAppender.append_records`.
RECORDS_CHUNK = 8 << 20


class RecordsAppender(XptAppender):
    """An :class:`XptAppender` that also appends records :func:`write_records` wrote
    earlier (in another process, say), with variables at most as long as this file's:
    copied as they are when the lengths are this file's, else each value padded with
    blanks to its variable's length (the bytes the records would have had here)."""

    def append_records(
        self, source: BinaryIO, rows: int, widths: Sequence[int], last_blank: bool
    ) -> None:
        """Append ``rows`` records read from ``source``, whose variables have the
        ``widths`` (in this file's order); ``last_blank``: whether the last one is
        entirely blank (as :func:`write_records` said)."""
        if self._out is None:
            raise ValueError(f"{self.path} is closed")
        own = record_widths(self.variables)
        if len(widths) != len(own) or any(w > o for w, o in zip(widths, own, strict=True)):
            raise ValueError(f"{self.path}: records of widths {list(widths)} do not fit {own}")
        try:
            if list(widths) == own:
                _copy(source, self._out, rows * self._row_length)
            else:
                _laid_out(source, self._out, rows, list(widths), own)
        except OSError as exc:
            raise write_error(self.path, self.dataset, exc) from exc
        if rows:
            self._last_row_blank = last_blank
        self.records += rows


def _copy(source: BinaryIO, out: BinaryIO, size: int) -> None:
    """``size`` bytes of ``source`` written to ``out``."""
    left = size
    while left:
        block = source.read(min(left, RECORDS_CHUNK))
        if not block:
            raise OSError(f"the records end {left} bytes early")
        out.write(block)
        left -= len(block)


def _laid_out(
    source: BinaryIO, out: BinaryIO, rows: int, widths: list[int], own: list[int]
) -> None:
    """Records of ``widths`` read from ``source``, written with each variable padded with
    blanks to its width in ``own``."""
    width, row_length = sum(widths), sum(own)
    starts = np.cumsum([0, *widths[:-1]])
    targets = np.cumsum([0, *own[:-1]])
    per_chunk = max(1, RECORDS_CHUNK // max(row_length, 1))
    for first in range(0, rows, per_chunk):
        n = min(per_chunk, rows - first)
        data = source.read(n * width)
        if len(data) != n * width:
            raise OSError(f"the records end {n * width - len(data)} bytes early")
        read = np.frombuffer(data, dtype=np.uint8).reshape(n, width)
        chunk = np.full((n, row_length), BLANK, dtype=np.uint8)
        for w, start, target in zip(widths, starts, targets, strict=True):
            chunk[:, target : target + w] = read[:, start : start + w]
        out.write(chunk.data.cast("B"))
