"""Dataset-JSON v1.1 reader: ``.json`` and ``.ndjson`` files to a frame and metadata.

The frame is what :func:`cdisc_mapper.xpt.read_xpt` gives for the same data, so the
rest of the tool reads either format alike: text as ``str`` (``""`` for null), numbers as
float64 (NaN for null), ISO 8601 values of a column with a ``targetDataType`` as SAS
numbers (days or seconds since 1960-01-01); text ISO 8601 columns stay text. Every
problem is a :class:`DatasetJsonError` naming the file, the row (1-based, as in the
file: for NDJSON the line) and the column, and saying what to do.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def _load(path: Path) -> tuple[dict[str, Any], list[Any], int]:
    """The header object, the rows and the file line of the first row (NDJSON; 0 for
    JSON, whose rows are numbered from 1)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DatasetJsonError(
            f"cannot read the file: {exc.strerror or exc}",
            where=str(path),
            hint="check the path and that the file is readable",
        ) from exc
    except UnicodeDecodeError as exc:
        raise _fail(path, f"the file is not UTF-8 (byte {exc.start + 1})") from None
    if SUFFIXES.get(path.suffix.lower()) == "ndjson":
        return _load_ndjson(path, text)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    if not isinstance(document, dict):
        raise _fail(path, "the file is not a JSON object")
    rows = document.get("rows", [])
    if not isinstance(rows, list):
        raise _fail(path, "rows is not an array")
    return document, rows, 0


def _load_ndjson(path: Path, text: str) -> tuple[dict[str, Any], list[Any], int]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    try:
        header = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError as exc:
        raise _fail(path, f"line 1 is not valid JSON: {exc.msg}", line=1) from None
    if not isinstance(header, dict):
        raise _fail(path, "line 1 is not the metadata object", line=1)
    try:
        rows = json.loads("[" + ",".join(lines[1:]) + "]")
    except json.JSONDecodeError:
        rows = [_ndjson_line(path, line, number) for number, line in enumerate(lines[1:], 2)]
    return header, rows, 1


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


def _metadata(path: Path, header: dict[str, Any], n_rows: int) -> DatasetJsonMetadata:
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
    records = header.get("records", n_rows)
    if records != n_rows:
        raise _fail(path, f"records says {records} but the file has {n_rows} rows")
    return DatasetJsonMetadata(
        name=str(header["name"]),
        label=str(header.get("label", "")),
        item_group_oid=str(header["itemGroupOID"]),
        columns=tuple(_column(path, c, i) for i, c in enumerate(raw_columns)),
        study=study,
        file_oid=header.get("fileOID"),
        records=n_rows,
        version=str(header["datasetJSONVersion"]),
        extra=tuple((k, v) for k, v in header.items() if k not in _NAMED),
    )


def _bad_value(path: Path, column: Column, values: Sequence[Any], row: int, what: str) -> None:
    for i, value in enumerate(values):
        if value is not None and not _fits(value, what):
            raise _fail(
                path,
                f"value {value!r} is not {what} (dataType {column.data_type})",
                row=row + i,
                column=column.name,
            )


def _fits(value: Any, what: str) -> bool:
    if what == "a string":
        return isinstance(value, str)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _column_values(path: Path, column: Column, values: Sequence[Any], first_row: int) -> Any:
    """One column's values as the frame holds them (see the module docstring)."""
    if column.target_data_type is not None:
        _bad_value(path, column, values, first_row, "a string")
        try:
            return iso_to_sas(values, column.data_type)
        except ValueError as exc:
            raise _fail(path, str(exc), column=column.name) from None
    if column.is_numeric:
        if column.data_type == "decimal":  # Dataset-JSON 1.1 allows decimals as text
            values = [float(v) if isinstance(v, str) else v for v in values]
        if column.data_type == "boolean":
            values = [float(v) if isinstance(v, bool) else v for v in values]
        _bad_value(path, column, values, first_row, "a number")
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    _bad_value(path, column, values, first_row, "a string")
    return pd.Series(["" if v is None else v for v in values], dtype=object)


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
    header, rows, line_offset = _load(path)
    meta = _metadata(path, header, len(rows))
    width = len(meta.columns)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            size = len(row) if isinstance(row, list) else "not an array"
            raise _fail(
                path,
                f"the row has {size} values; the columns are {width}",
                row=i + 1 + line_offset,
            )
    transposed: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else []
    data = {
        c.name: _column_values(path, c, transposed[k] if rows else [], 1 + line_offset)
        for k, c in enumerate(meta.columns)
    }
    frame = pd.DataFrame({k: pd.Series(v, copy=False) for k, v in data.items()}, columns=meta.names)
    return frame, meta
