"""Dataset-JSON v1.1 writer: ``.json`` (one object on one line, as CDISC's examples) and
``.ndjson`` (the metadata on line 1, then one row per line), streamed in chunks with
deterministic bytes.

Each column is encoded once per distinct value (columns repeat a few values many
times): text with :func:`json.dumps` (UTF-8, not escaped), numbers as their shortest
round-trip text, SAS dates as ISO 8601 text, missing as ``null``. A row is then its
cells joined by commas (``str.join`` over ``zip`` of the columns, in C), written a chunk
at a time, so memory stays bounded. The standard library's ``json`` is used: encoding
happens once per distinct value, so a faster encoder (orjson) would not show.

Determinism: the header's creation time is ``SOURCE_DATE_EPOCH``'s when set (see
:func:`creation_stamp`); everything else depends on the inputs only, so reruns give
byte-identical files. The file is written under a temporary name and renamed into place
(:func:`cdisc_mapper.publish.atomic_file`): a failed write leaves no partial file.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from cdisc_mapper.datasetjson.convert import (
    number_text,
    number_values,
    sas_to_iso,
    text_table,
)
from cdisc_mapper.datasetjson.model import SUFFIXES, Column, DatasetJsonError, DatasetJsonMetadata
from cdisc_mapper.epoch import source_date
from cdisc_mapper.errors import Location
from cdisc_mapper.publish import atomic_file
from cdisc_mapper.xpt.writer import DEFAULT_TIMESTAMP

CHUNK_ROWS = 50_000
"""Rows assembled per write (bounds the writer's extra memory)."""


def creation_stamp(environ: Mapping[str, str] | None = None) -> str:
    """``datasetJSONCreationDateTime``: ``SOURCE_DATE_EPOCH`` (UTC) when set, else the XPT
    writer's constant stamp (2000-01-01T00:00:00), so reruns give the same bytes."""
    stamp = source_date(environ) or DEFAULT_TIMESTAMP
    return stamp.strftime("%Y-%m-%dT%H:%M:%S")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _encode_column(series: pd.Series, column: Column, where: Location) -> np.ndarray:
    """The column's values as JSON texts (object array of ``str``)."""
    if not column.is_numeric:
        try:
            codes, texts = text_table(series)
        except ValueError as exc:
            raise DatasetJsonError(
                str(exc),
                where=where,
                hint="convert the column to text deliberately (e.g. ISO 8601 strings for "
                "dates) or declare it numeric",
            ) from None
        table = np.array([_dumps(u) if u != "" else "null" for u in texts], dtype=object)
        taken: np.ndarray = table[codes]
        return taken
    try:
        floats = number_values(series)
    except (ValueError, TypeError) as exc:
        raise DatasetJsonError(
            f"numeric column holds a value that is not a number ({exc})",
            where=where,
            hint="convert the column with pd.to_numeric (and fix values that fail) or "
            "declare it as text",
        ) from None
    codes, uniques = pd.factorize(floats, use_na_sentinel=False)
    if column.target_data_type is not None:
        iso = sas_to_iso(np.asarray(uniques, dtype=np.float64), column.data_type)
        table = np.array(["null" if t is None else f'"{t}"' for t in iso], dtype=object)
    else:
        integer = column.data_type == "integer"
        numbers: list[str] = []
        for u in uniques:
            if np.isnan(u):
                numbers.append("null")
                continue
            try:
                numbers.append(number_text(float(u), integer))
            except ValueError as exc:
                raise DatasetJsonError(
                    f"{exc}; JSON has no infinities",
                    where=where,
                    hint="set such values to missing deliberately in the derivation",
                ) from None
        table = np.array(numbers, dtype=object)
    return table[codes] if len(codes) else np.array([], dtype=object)


def _row_lines(encoded: list[np.ndarray], start: int, stop: int, sep: str) -> str:
    """Rows ``start:stop`` as ``[a,b,...]`` texts joined by ``sep`` (the brackets are in
    the first and last columns' texts: see :func:`_bracketed`)."""
    if not encoded:
        return sep.join(["[]"] * (stop - start))
    columns = [column[start:stop].tolist() for column in encoded]
    return sep.join(map(",".join, zip(*columns, strict=True)))


def _bracketed(encoded: list[np.ndarray]) -> list[np.ndarray]:
    """The columns' texts with ``[`` before the first column's and ``]`` after the last
    column's, so a row is its cells joined by commas (all in C: :func:`_row_lines`)."""
    if not encoded:
        return encoded
    out = list(encoded)
    out[0] = "[" + out[0]
    out[-1] = out[-1] + "]"
    return out


def _chunks(encoded: list[np.ndarray], n: int, sep: str) -> Iterator[str]:
    for start in range(0, n, CHUNK_ROWS):
        yield _row_lines(encoded, start, min(start + CHUNK_ROWS, n), sep)


def _check_frame(frame: pd.DataFrame, metadata: DatasetJsonMetadata, path: Path) -> None:
    names = metadata.names
    where = Location(file=str(path), record=f"dataset {metadata.name}")
    missing = [n for n in names if n not in frame.columns]
    extra = [str(c) for c in frame.columns if c not in set(names)]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    problem = (
        f"columns {', '.join(duplicated)} are declared twice"
        if duplicated
        else f"columns {', '.join(missing)} are declared but not in the DataFrame"
        if missing
        else f"DataFrame columns {', '.join(extra)} are not declared and would be dropped"
        if extra
        else None
    )
    if problem:
        raise DatasetJsonError(
            problem, where=where, hint="make the DataFrame's columns and the metadata agree"
        )


def write_dataset_json(
    frame: pd.DataFrame, metadata: DatasetJsonMetadata, path: str | Path
) -> Path:
    """Write ``frame`` as a Dataset-JSON v1.1 file: ``.json`` or ``.ndjson`` by suffix.

    Args:
        frame: the records, as :func:`read_dataset_json` or
            :func:`cdisc_mapper.xpt.read_xpt` return them: text as ``str``, numbers
            (SAS dates as days since 1960-01-01) as floats, NaN/None for missing. Its
            columns must be exactly the metadata's (any order).
        metadata: the header and columns (:func:`dataset_metadata` makes them from XPT
            metadata); ``records`` is counted from ``frame``.
        path: the file to create or replace (``.json`` or ``.ndjson``).

    Returns:
        The path written.

    Raises:
        DatasetJsonError: an unknown suffix, columns that do not match, a value that
            cannot be written (the message names the file, dataset and column), or an
            OS error.

    >>> write_dataset_json(frame, dataset_metadata(frame, "DM", "Demographics",
    ...     variables), "dm.ndjson")  # doctest: +SKIP
    """
    path = Path(path)
    form = SUFFIXES.get(path.suffix.lower())
    if form is None:
        raise DatasetJsonError(
            f"unknown Dataset-JSON suffix {path.suffix!r}",
            where=str(path),
            hint="name the file .json or .ndjson",
        )
    _check_frame(frame, metadata, path)
    encoded = _bracketed(
        [
            _encode_column(
                frame[c.name], c, Location(file=str(path), column=c.name, record=metadata.name)
            )
            for c in metadata.columns
        ]
    )
    header = metadata.header(len(frame))
    try:
        with atomic_file(path) as out:
            if form == "ndjson":
                out.write((_dumps(header) + "\n").encode("utf-8"))
                for text in _chunks(encoded, len(frame), "\n"):
                    out.write((text + "\n").encode("utf-8"))
            else:
                out.write((_dumps(header)[:-1] + ',"rows":[').encode("utf-8"))
                for i, text in enumerate(_chunks(encoded, len(frame), ",")):
                    out.write((("," if i else "") + text).encode("utf-8"))
                out.write(b"]}")
    except OSError as exc:
        raise DatasetJsonError(
            f"cannot write the file: {exc.strerror or exc}",
            where=str(path),
            hint="check that the folder exists, is writable and has free space",
        ) from exc
    return path


class DatasetJsonAppender:
    """A Dataset-JSON file written block by block: the header (``records`` of all the
    blocks, the columns' metadata of all of them) when opened, the rows appended, the
    closing brackets at :meth:`close`; the bytes :func:`write_dataset_json` writes for
    the blocks' records at once. Written through a temporary file renamed at close; a
    failure (or an exception in the ``with`` block) leaves no file."""

    def __init__(self, path: str | Path, metadata: DatasetJsonMetadata, records: int) -> None:
        self.path = Path(path)
        self.metadata = metadata
        self.form = SUFFIXES.get(self.path.suffix.lower())
        if self.form is None:
            raise DatasetJsonError(
                f"unknown Dataset-JSON suffix {self.path.suffix!r}",
                where=str(self.path),
                hint="name the file .json or .ndjson",
            )
        self.records = records
        self.written = 0
        self._stack = contextlib.ExitStack()
        header = _dumps(metadata.header(records))
        start = header + "\n" if self.form == "ndjson" else header[:-1] + ',"rows":['
        self._out: BinaryIO | None = None
        self._guarded(lambda: self._open(start))

    def _open(self, start: str) -> None:
        self._out = self._stack.enter_context(atomic_file(self.path))
        self._out.write(start.encode("utf-8"))

    def _guarded(self, write: Callable[[], object]) -> None:
        try:
            write()
        except OSError as exc:
            self.abort()
            raise DatasetJsonError(
                f"cannot write the file: {exc.strerror or exc}",
                where=str(self.path),
                hint="check that the folder exists, is writable and has free space",
            ) from exc

    def append(self, frame: pd.DataFrame) -> None:
        """Append ``frame``'s rows (its columns exactly the metadata's, any order)."""
        out = self._out
        if out is None:
            raise ValueError(f"{self.path} is closed")
        _check_frame(frame, self.metadata, self.path)
        encoded = _bracketed(
            [
                _encode_column(
                    frame[c.name],
                    c,
                    Location(file=str(self.path), column=c.name, record=self.metadata.name),
                )
                for c in self.metadata.columns
            ]
        )
        sep = "\n" if self.form == "ndjson" else ","
        for text in _chunks(encoded, len(frame), sep):
            lead = "" if self.form == "ndjson" or not self.written else ","
            chunk = lead + text + ("\n" if self.form == "ndjson" else "")
            self._guarded(functools.partial(out.write, chunk.encode("utf-8")))
            self.written += 1

    def close(self) -> None:
        """Close the rows and put the file in place."""
        out = self._out
        if out is None:
            return

        def finish() -> None:
            if self.form == "json":
                out.write(b"]}")
            self._out = None
            self._stack.close()

        self._guarded(finish)

    def abort(self) -> None:
        """Delete the temporary file; ``path`` stays as it was."""
        self._out = None
        self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)

    def __enter__(self) -> DatasetJsonAppender:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()
