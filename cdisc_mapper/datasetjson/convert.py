"""Between a frame with XPT metadata and Dataset-JSON columns and values.

The frame is the one :func:`cdisc_mapper.xpt.read_xpt` returns (and the stages write):
text as ``str`` (``""`` for missing), numbers as float64 (NaN for missing) with SAS dates,
datetimes and times as days / seconds since 1960-01-01. The rules, from Dataset-JSON
v1.1 (section 2.2 "Column attributes", data types and ``targetDataType``):

- a text variable is ``string``, except a ``--DTC`` variable whose every value is a
  complete ISO 8601 date (``date``) or date-time (``datetime``): partial values keep
  ``string``, as Define-XML's ``partialDate`` types map to ``string``;
- a number is ``integer`` when every value is whole (and exact in a double), else
  ``double`` (8-byte IEEE, written with every digit: full precision);
- a number with a SAS date, datetime or time format whose values are all whole is written
  as ISO 8601 text with ``dataType`` date/datetime/time, ``targetDataType`` integer and
  the format as ``displayFormat``; otherwise it stays a number (nothing is rounded);
- text values lose their trailing blanks (SAS padding, as in XPT), missing values are
  ``null``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_mapper.datasetjson.model import Column, DatasetJsonError, DataType
from cdisc_mapper.errors import Location
from cdisc_mapper.oids import item_oid
from cdisc_mapper.xpt import XptVariable, parse_format
from cdisc_mapper.xpt.model import temporal_kind

SAS_EPOCH = np.datetime64("1960-01-01T00:00:00", "s")
"""Day 0 of SAS dates and second 0 of SAS datetimes."""
MAX_EXACT = float(2**53)
"""Whole numbers beyond this are not exact in a double: written as ``double``."""

_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FULL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


def text_table(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A text column factorised: ``(codes, table)`` with ``table[codes]`` its values as
    ``str``, missing -> ``""`` and trailing blanks removed (what an XPT file stores). The
    table may repeat a value (``"A"`` and ``"A "`` both give ``"A"``).

    Raises:
        ValueError: a value is neither text nor missing (nothing is converted silently).
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        uniques = series.cat.categories.to_numpy(dtype=object)
    else:
        codes, uniques = pd.factorize(series.to_numpy(dtype=object))
    bad = next((u for u in uniques if not isinstance(u, str)), None)
    if bad is not None:
        raise ValueError(f"text column holds a non-text value {bad!r} ({type(bad).__name__})")
    table = np.array([str(u).rstrip(" ") for u in uniques] + [""], dtype=object)
    codes = np.where(codes < 0, len(table) - 1, codes)
    return codes, table


def number_values(series: pd.Series) -> np.ndarray:
    """A numeric column as float64 with NaN for missing."""
    return pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)


def text_data_type(name: str, table: np.ndarray) -> DataType:
    """``date``/``datetime`` for a ``--DTC`` variable of complete ISO 8601 values, else
    ``string`` (``table``: the column's distinct values)."""
    if not name.upper().endswith("DTC"):
        return "string"
    present = [v for v in table if v != ""]
    if not present:
        return "string"
    if all(_FULL_DATE.match(v) for v in present):
        return "date"
    if all(_FULL_DATETIME.match(v) for v in present):
        return "datetime"
    return "string"


def _all_whole(floats: np.ndarray) -> bool:
    finite = floats[~np.isnan(floats)]
    return bool(np.all(finite == np.floor(finite)) and np.all(np.abs(finite) <= MAX_EXACT))


def number_data_type(floats: np.ndarray, fmt: str | None) -> tuple[DataType, str | None]:
    """``(dataType, targetDataType)`` of a numeric column (see the module rules)."""
    whole = _all_whole(floats)
    kind = temporal_kind(parse_format(fmt)) if fmt else None
    if kind is not None and whole:
        return kind, "integer"
    return ("integer" if whole else "double"), None


def text_length(table: np.ndarray) -> int:
    """The XPT length of a text column: the longest value in UTF-8 bytes, at least 1
    (``table``: the column's distinct values)."""
    return max([1, *(len(str(v).encode("utf-8")) for v in table)])


def columns_for(
    frame: pd.DataFrame,
    dataset: str,
    variables: Sequence[XptVariable],
    keys: Sequence[str] = (),
) -> tuple[Column, ...]:
    """The Dataset-JSON columns of ``frame`` described by ``variables`` (XPT metadata):
    OIDs as define.xml makes them, data types from the values (module rules), the XPT
    length of text, the SAS format as ``displayFormat`` and ``keys``' positions."""
    key_positions = {k: i for i, k in enumerate((k for k in keys if k in frame.columns), 1)}
    columns = []
    for v in variables:
        target = None
        if v.type == "Char":
            try:
                codes, table = text_table(frame[v.name])
            except ValueError as exc:
                raise DatasetJsonError(
                    str(exc),
                    where=Location(record=f"dataset {dataset}", column=v.name),
                    hint="convert the column to text deliberately or declare it numeric",
                ) from None
            used = table[np.unique(codes)] if len(codes) else table[:0]
            data_type = text_data_type(v.name, used)
            length: int | None = v.length or text_length(used)
        else:
            data_type, target = number_data_type(number_values(frame[v.name]), v.format)
            length = None
        columns.append(
            Column(
                item_oid=item_oid(dataset, v.name),
                name=v.name,
                label=v.label,
                data_type=data_type,
                target_data_type=target,
                length=length,
                display_format=str(parse_format(v.format)) if v.format else None,
                key_sequence=key_positions.get(v.name),
            )
        )
    return tuple(columns)


# ------------------------------------------------------------------ SAS numbers <-> ISO


def sas_to_iso(floats: np.ndarray, kind: str) -> np.ndarray:
    """Whole SAS dates (days), datetimes (seconds) or times (seconds) as ISO 8601 text
    (``2014-01-02``, ``2014-01-02T10:11:12``, ``10:11:12``); NaN -> None."""
    out = np.full(len(floats), None, dtype=object)
    present = ~np.isnan(floats)
    whole = floats[present].astype(np.int64)
    if kind == "date":
        texts = np.datetime_as_string(SAS_EPOCH.astype("datetime64[D]") + whole, unit="D")
    elif kind == "datetime":
        texts = np.datetime_as_string(SAS_EPOCH + whole, unit="s")
    else:
        texts = np.array([_clock(int(s)) for s in whole], dtype=object)
    out[present] = texts
    return out


def _clock(seconds: int) -> str:
    """A SAS time (seconds since midnight, may exceed a day) as ``hh:mm:ss``."""
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


_SHAPES = {"date": _FULL_DATE, "datetime": _FULL_DATETIME}
_UNITS = {
    "date": ("datetime64[D]", np.timedelta64(1, "D")),
    "datetime": ("datetime64[us]", np.timedelta64(1, "s")),
}


def iso_to_sas(texts: Sequence[str | None] | np.ndarray, kind: str) -> np.ndarray:
    """ISO 8601 text back to SAS numbers (the inverse of :func:`sas_to_iso`); None or
    ``""`` -> NaN. Dates must be complete (``YYYY-MM-DD``), date-times complete to the
    minute at least: a partial value has no single SAS number.

    Raises:
        ValueError: a value is not ISO 8601 of the kind; the message names it.
    """
    array = np.asarray(texts, dtype=object)
    out = np.full(len(array), np.nan)
    present = ~(pd.isna(array) | np.equal(array, ""))
    values = array[present]
    if kind in _SHAPES:
        shape = _SHAPES[kind]
        bad = [v for v in pd.unique(values) if not isinstance(v, str) or not shape.match(v)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not a complete ISO 8601 {kind}")
        unit, step = _UNITS[kind]
        try:
            stamps = values.astype(unit)
        except ValueError:
            bad_one = next(v for v in values if not _parses(v, unit))
            raise ValueError(f"{bad_one!r} is not an ISO 8601 {kind}") from None
        out[present] = (stamps - SAS_EPOCH.astype(unit)) / step
        return out
    out[present] = [_clock_number(str(v)) for v in values]
    return out


def _parses(text: str, unit: str) -> bool:
    try:
        np.datetime64(text).astype(unit)
    except ValueError:
        return False
    return True


def _clock_number(text: str) -> float:
    """``hh:mm[:ss]`` (maybe negative, hours past 24) as SAS seconds."""
    try:
        sign = -1 if text.startswith("-") else 1
        parts = [float(p) for p in text.lstrip("-").split(":")]
        if len(parts) not in (2, 3):
            raise ValueError
        return sign * (parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time") from None


def number_text(value: float, integer: bool) -> str:
    """A number as JSON text: whole numbers of an ``integer`` column without a decimal
    point, others with the shortest text that reads back as the same double."""
    if integer:
        return str(int(value))
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return repr(float(value))
