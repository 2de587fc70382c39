"""Dataset-JSON v1.1 reader: ``.json`` and ``.ndjson`` files to a frame and metadata.

The frame is what :func:`cdisc_mapper.xpt.read_xpt` gives for the same data, so the
rest of the tool reads either format alike: text as ``str`` (``""`` for null), numbers as
float64 (NaN for null), ISO 8601 values of a column with a ``targetDataType`` as SAS
numbers (days or seconds since 1960-01-01); text ISO 8601 columns stay text. Every
problem is a :class:`DatasetJsonError` naming the file, the row (1-based, as in the
file: for NDJSON the line) and the column, and saying what to do.
"""

from __future__ import annotations

import gc
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from cdisc_mapper.datasetjson.convert import iso_to_sas
from cdisc_mapper.datasetjson.model import (
    DATA_TYPES,
    SUFFIXES,
    Column,
    DatasetJsonError,
    DatasetJsonMetadata,
    StudyContext,
)
from cdisc_mapper.errors import Location

_NAMED = {
    "datasetJSONCreationDateTime",
    "datasetJSONVersion",
    "fileOID",
    "dbLastModifiedDateTime",
    "originator",
    "sourceSystem",
    "studyOID",
    "metaDataVersionOID",
    "metaDataRef",
    "itemGroupOID",
    "records",
    "name",
    "label",
    "columns",
    "rows",
}
_REQUIRED = ("datasetJSONVersion", "itemGroupOID", "name", "columns")
_FIX = "check that it is a Dataset-JSON v1.1 file (.json or .ndjson) and regenerate it"


def _fail(path: Path, message: str, **where: Any) -> DatasetJsonError:
    return DatasetJsonError(message, where=Location(file=str(path), **where), hint=_FIX)


CHUNK_ROWS = 100_000
"""Rows parsed and converted at a time (bounds the memory of Python objects)."""

Chunks = Iterator[tuple[int, list[Any]]]
"""(file row or line number of the first row, rows) pieces of a file's rows."""


def _read_error(path: Path, exc: OSError) -> DatasetJsonError:
    return DatasetJsonError(
        f"cannot read the file: {exc.strerror or exc}",
        where=str(path),
        hint="check the path and that the file is readable",
    )


def _open(path: Path) -> tuple[dict[str, Any], Chunks]:
    """The header object and the rows in chunks (NDJSON: numbered by file line, from 2;
    JSON: by position in ``rows``, from 1)."""
    try:
        if SUFFIXES.get(path.suffix.lower()) == "ndjson":
            handle = path.open(encoding="utf-8-sig")
            header = _ndjson_header(path, handle.readline())
            return header, _ndjson_chunks(path, handle)
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise _read_error(path, exc) from exc
    except UnicodeDecodeError as exc:
        raise _fail(path, f"the file is not UTF-8 (byte {exc.start + 1})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    del text
    if not isinstance(document, dict):
        raise _fail(path, "the file is not a JSON object")
    rows = document.pop("rows", [])
    if not isinstance(rows, list):
        raise _fail(path, "rows is not an array")
    chunks = ((i + 1, rows[i : i + CHUNK_ROWS]) for i in range(0, len(rows), CHUNK_ROWS))
    return document, chunks


def _ndjson_header(path: Path, line: str) -> dict[str, Any]:
    try:
        header = json.loads(line) if line.strip() else None
    except json.JSONDecodeError as exc:
        raise _fail(path, f"line 1 is not valid JSON: {exc.msg}", line=1) from None
    if not isinstance(header, dict):
        raise _fail(path, "line 1 is not the metadata object", line=1)
    return header


def _ndjson_chunks(path: Path, handle: TextIO) -> Chunks:
    """The rows of an open NDJSON file after its header, CHUNK_ROWS lines at a time."""
    number = 2
    with handle:
        while True:
            try:
                lines = list(itertools.islice(handle, CHUNK_ROWS))
            except UnicodeDecodeError:
                raise _fail(path, f"the file is not UTF-8 (near line {number})") from None
            if not lines:
                return
            try:
                rows = json.loads("[" + ",".join(lines) + "]")
            except json.JSONDecodeError:
                rows = [_ndjson_line(path, x, number + i) for i, x in enumerate(lines)]
            if len(rows) != len(lines):  # a blank line: locate it
                rows = [_ndjson_line(path, x, number + i) for i, x in enumerate(lines)]
            yield number, rows
            number += len(lines)


def _ndjson_line(path: Path, line: str, number: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not valid JSON: {exc.msg}", line=number) from None


def _column(path: Path, raw: Any, position: int) -> Column:
    where = {"record": f"columns[{position}]"}
    if not isinstance(raw, dict):
        raise _fail(path, "a column is not an object", **where)
    missing = [k for k in ("itemOID", "name", "label", "dataType") if k not in raw]
    if missing:
        raise _fail(path, f"the column lacks {', '.join(missing)}", **where)
    if raw["dataType"] not in DATA_TYPES:
        raise _fail(path, f"unknown dataType {raw['dataType']!r}", column=str(raw["name"]))
    return Column(
        item_oid=str(raw["itemOID"]),
        name=str(raw["name"]),
        label=str(raw["label"]),
        data_type=raw["dataType"],
        target_data_type=raw.get("targetDataType"),
        length=raw.get("length"),
        display_format=raw.get("displayFormat"),
        key_sequence=raw.get("keySequence"),
    )


def _metadata(path: Path, header: dict[str, Any]) -> DatasetJsonMetadata:
    missing = [k for k in _REQUIRED if k not in header]
    if missing:
        raise _fail(path, f"the metadata lacks {', '.join(missing)}")
    version = str(header["datasetJSONVersion"])
    if not version.startswith("1.1"):
        raise _fail(
            path,
            f"datasetJSONVersion is {version}; this reader reads Dataset-JSON 1.1 only "
            "(1.0 files nest the data under clinicalData/referenceData)",
        )
    raw_columns = header["columns"]
    if not isinstance(raw_columns, list):
        raise _fail(path, "columns is not an array")
    source = header.get("sourceSystem")
    study = StudyContext(
        study_oid=header.get("studyOID"),
        metadata_version_oid=header.get("metaDataVersionOID"),
        metadata_ref=header.get("metaDataRef"),
        originator=header.get("originator"),
        source_system=(
            (str(source.get("name", "")), str(source.get("version", "")))
            if isinstance(source, dict)
            else None
        ),
        created=str(header.get("datasetJSONCreationDateTime", "")),
        db_last_modified=header.get("dbLastModifiedDateTime"),
    )
    return DatasetJsonMetadata(
        name=str(header["name"]),
        label=str(header.get("label", "")),
        item_group_oid=str(header["itemGroupOID"]),
        columns=tuple(_column(path, c, i) for i, c in enumerate(raw_columns)),
        study=study,
        file_oid=header.get("fileOID"),
        version=str(header["datasetJSONVersion"]),
        extra=tuple((k, v) for k, v in header.items() if k not in _NAMED),
    )


def _first_bad(values: Sequence[Any], ok: Callable[[Any], bool]) -> int:
    return next(i for i, v in enumerate(values) if v is not None and not ok(v))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "empty"})
_TEXT_KINDS = frozenset({"string", "empty"})


def _column_values(path: Path, column: Column, values: Sequence[Any], first_row: int) -> Any:
    """One column's values as the frame holds them (see the module docstring); checked
    with vectorised type inference, the first bad value located only when there is one."""
    array = np.array(values, dtype=object)
    kind = pd.api.types.infer_dtype(array, skipna=True)

    def fail(what: str, ok: Callable[[Any], bool]) -> DatasetJsonError:
        i = _first_bad(values, ok)
        return _fail(
            path,
            f"value {values[i]!r} is not {what} (dataType {column.data_type})",
            row=first_row + i,
            column=column.name,
        )

    if column.target_data_type is not None:
        if kind not in _TEXT_KINDS:
            raise fail("a string", lambda v: isinstance(v, str))
        try:
            return iso_to_sas(array, column.data_type)
        except ValueError as exc:
            raise _fail(path, str(exc), column=column.name) from None
    if column.is_numeric:
        if column.data_type == "decimal" and kind in ("string", "mixed"):
            array = np.array([float(v) if isinstance(v, str) else v for v in values], dtype=object)
            kind = pd.api.types.infer_dtype(array, skipna=True)
        if column.data_type == "boolean" and kind == "boolean":
            kind = "integer"
        if kind not in _NUMBER_KINDS and not (column.data_type == "boolean" and kind == "mixed"):
            raise fail("a number", _is_number)
        return array.astype(np.float64)  # None -> NaN
    if kind not in _TEXT_KINDS:
        raise fail("a string", lambda v: isinstance(v, str))
    array[pd.isna(array)] = ""
    return array


def read_dataset_json(path: str | Path) -> tuple[pd.DataFrame, DatasetJsonMetadata]:
    """Read a Dataset-JSON v1.1 file (``.json`` or ``.ndjson``) and its metadata.

    Returns:
        The records (text as ``str`` with ``""`` for null, numbers as float64 with NaN
        for null, ISO 8601 values of columns with a ``targetDataType`` as SAS numbers)
        and the :class:`DatasetJsonMetadata` (its ``xpt_metadata()`` describes the data
        as :func:`cdisc_mapper.xpt.read_xpt` would).

    Raises:
        DatasetJsonError: the file is missing, not JSON, not Dataset-JSON, or a row or
            value does not match the columns; the message names the file, row and column.

    >>> frame, meta = read_dataset_json("dm.ndjson")  # doctest: +SKIP
    >>> meta.name, meta.columns[0].item_oid  # doctest: +SKIP
    ('DM', 'IT.DM.STUDYID')
    """
    path = Path(path)
    with _gc_paused():
        return _read(path)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows are parsed: each chunk makes
    millions of lists, and collections triggered by them would walk every object the
    process holds, again and again (several times slower on a large file). Nothing
    parsed is cyclic, so nothing is kept longer."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read(path: Path) -> tuple[pd.DataFrame, DatasetJsonMetadata]:
    header, chunks = _open(path)
    meta = _metadata(path, header)
    parts: list[list[Any]] = [[] for _ in meta.columns]
    n_rows = 0
    for first, rows in chunks:
        _check_rows(path, rows, len(meta.columns), first)
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in meta.columns]
        for k, column in enumerate(meta.columns):
            parts[k].append(_column_values(path, column, columns[k], first))
        n_rows += len(rows)
    if header.get("records", n_rows) != n_rows:
        raise _fail(path, f"records says {header['records']} but the file has {n_rows} rows")
    data = {
        c.name: pd.Series(_joined(c, parts[k]), dtype=np.float64 if c.is_numeric else object)
        for k, c in enumerate(meta.columns)
    }
    return pd.DataFrame(data, columns=meta.names), replace(meta, records=n_rows)


def _joined(column: Column, parts: list[Any]) -> Any:
    if parts:
        return np.concatenate(parts)
    return np.array([], dtype=np.float64 if column.is_numeric else object)


def _check_rows(path: Path, rows: list[Any], width: int, first: int) -> None:
    """Every row is an array of ``width`` values, or a located error."""
    if all(type(r) is list for r in rows) and set(map(len, rows)) <= {width}:
        return
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            size = len(row) if isinstance(row, list) else "not an array"
            raise _fail(path, f"the row has {size} values; the columns are {width}", row=first + i)
