"""Vectorised encoding of DataFrame columns to XPORT v5 observation bytes.

Each encoder turns one column into a C-contiguous ``uint8`` matrix with one row per
record, checks every value, and reports the first bad value with its dataset, record
number (1-based), USUBJID and variable. Nothing is truncated or rounded silently.

* Char: ``None``/NaN/``pd.NA`` -> blanks (SAS missing). Values must be ``str``, ASCII,
  without NUL, at most 200 bytes and at most the declared length. Trailing blanks are
  not significant in SAS (it pads with blanks), so they are not counted in lengths.
* Num: int, float, nullable ``Int*``/``Float*`` columns; NaN/``pd.NA`` -> ``.``.
  Booleans are rejected. ``datetime64`` columns are converted when the format is a
  date (days since 1960-01-01), datetime (seconds since 1960-01-01T00:00) or time
  (seconds since midnight) format; ``timedelta64`` when it is a time format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from cdisc_mapper.errors import Location, XptError
from cdisc_mapper.xpt.ibm import IbmRangeError, ieee_to_ibm, truncation_loss
from cdisc_mapper.xpt.model import (
    MAX_CHAR_LENGTH,
    NUM_LENGTH,
    SasFormat,
    XptVariable,
    temporal_kind,
)

BLANK = 0x20
_SAS_EPOCH = np.datetime64("1960-01-01T00:00:00", "s")
_MAX_EXACT_INT = 2**53
_SHOW_MAX = 60


@dataclass(frozen=True)
class ErrorContext:
    """Where the data being written comes from, to make error messages point at it."""

    path: Path
    dataset: str
    usubjid: pd.Series | None = None
    first: int = 0
    """Records of the dataset before these (written by earlier appends)."""

    def where(self, variable: str, record: int | None = None) -> Location:
        """The location of ``variable`` in record ``record`` (0-based position among these
        records; the message counts from the dataset's first record)."""
        text = f"dataset {self.dataset}"
        if record is not None:
            text += f" record {self.first + record + 1}"
            if self.usubjid is not None:
                subject = self.usubjid.iloc[record]
                if not _is_na(subject):
                    text += f" (USUBJID {subject})"
        return Location(file=str(self.path), column=variable, record=text)

    def fail(
        self,
        variable: str,
        positions: np.ndarray | list[int],
        message: str,
        hint: str,
    ) -> XptError:
        """An error at the first of ``positions``, saying how many records are affected."""
        first = int(positions[0])
        count = len(positions)
        if count > 1:
            message += f" ({count} records affected; the first is shown)"
        return XptError(
            f"{self.dataset}.{variable}: {message}",
            where=self.where(variable, first),
            hint=hint,
        )


def show(value: object) -> str:
    """A short ``repr`` of an offending value for error messages."""
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= _SHOW_MAX else text[: _SHOW_MAX - 3] + "..."


def _is_na(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _first_where(values: np.ndarray, bad: Callable[[Any], bool]) -> list[int]:
    """Positions of ``values`` for which ``bad`` is true (Python loop: error path only)."""
    return [i for i, v in enumerate(values) if bad(v)]


# --------------------------------------------------------------------------- Char


@dataclass(frozen=True)
class EncodedColumn:
    """A column's bytes (``matrix``: records x width) and its storage ``length``.

    ``matrix`` may be narrower than ``length`` (the rest is blank) or wider (the extra
    bytes are trailing blanks).
    """

    matrix: np.ndarray
    length: int


def _char_objects(series: pd.Series) -> np.ndarray:
    """The column as an object array with every missing value replaced by ``""``."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    return series.to_numpy(dtype=object, na_value="")


def encode_char(series: pd.Series, variable: XptVariable, ctx: ErrorContext) -> EncodedColumn:
    """Encode a character column as blank-padded ASCII bytes.

    An Arrow-backed string column is encoded in one pass over its bytes
    (:func:`_arrow_char_matrix`); any other column, or one holding a value that needs a
    located error, goes through :func:`_checked_char_matrix`. Both give the same bytes.

    Raises:
        XptError: a value is not a string, has a non-ASCII or NUL character, is longer
            than 200 bytes or than the declared length.
    """
    fast = _arrow_char_matrix(series) if _is_arrow_string(series.dtype) else None
    matrix, trimmed = fast if fast is not None else _checked_char_matrix(series, variable, ctx)
    _check_char_lengths(series, trimmed, variable, ctx)
    n = len(trimmed)
    if variable.length is not None:
        length = variable.length
    else:
        length = max(int(trimmed.max()) if n else 0, 1)
    return EncodedColumn(matrix=matrix, length=length)


def _is_arrow_string(dtype: object) -> bool:
    """Whether ``dtype`` is pandas' Arrow-backed string dtype (``str`` or ``string``)."""
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _arrow_char_matrix(series: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(bytes matrix, lengths without trailing blanks) of an Arrow-backed string column.

    Arrow pads every value to the longest (``utf8_rpad``), so its data buffer *is* the
    blank-padded matrix: no Python string is created. ``None`` when a value is not
    plain ASCII without NUL (the checked path then names it) or the layout is unknown.
    """
    n = len(series)
    filled = series.fillna("")
    lengths = filled.str.len().to_numpy(dtype=np.int64)
    width = max(int(lengths.max()) if n else 0, 1)
    padded = filled.str.pad(width, side="right", fillchar=" ")
    arrow_backed: Any = padded.array  # ArrowStringArray: its data as pyarrow arrays
    array = arrow_backed.__arrow_array__().combine_chunks()
    offset_type = _ARROW_OFFSETS.get(str(array.type))
    _, offsets_buffer, data_buffer = array.buffers()
    if offset_type is None or n == 0 or data_buffer is None:
        return None
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[array.offset : array.offset + n + 1]
    start, stop = int(offsets[0]), int(offsets[-1])
    if stop - start != n * width:  # a multi-byte (non-ASCII) character
        return None
    data = np.frombuffer(data_buffer, dtype=np.uint8)[start:stop]
    if not data.all():  # a NUL byte
        return None
    matrix = data.reshape(n, width)
    return matrix, _trimmed_lengths(matrix, lengths, lambda i: str(filled.iloc[i]))


_ARROW_OFFSETS = {"string": np.int32, "large_string": np.int64}


def _trimmed_lengths(
    matrix: np.ndarray, lengths: np.ndarray, value: Callable[[int], str]
) -> np.ndarray:
    """``lengths`` without trailing blanks (padding in SAS), measured only where the
    last byte of a value is a blank; ``value(i)`` is the i-th value as text."""
    n = len(lengths)
    last = matrix[np.arange(n), np.maximum(lengths - 1, 0)]
    trailing = np.flatnonzero((last == BLANK) & (lengths > 0))
    if not len(trailing):
        return lengths
    trimmed = lengths.copy()
    trimmed[trailing] = [len(value(int(i)).rstrip(" ")) for i in trailing]
    return trimmed


def _checked_char_matrix(
    series: pd.Series, variable: XptVariable, ctx: ErrorContext
) -> tuple[np.ndarray, np.ndarray]:
    """(bytes matrix, lengths without trailing blanks) of any column of strings, checking
    each value: an error names the first that is not an ASCII string without NUL."""
    name = variable.name
    values = _char_objects(series)
    n = len(values)
    if ptypes.infer_dtype(values, skipna=False) not in ("string", "empty"):
        bad = _first_where(values, lambda v: not isinstance(v, str))
        raise ctx.fail(
            name,
            bad,
            f"Char variable holds a non-string value {show(values[bad[0]])} "
            f"({type(values[bad[0]]).__name__}; column dtype {series.dtype})",
            "convert the column to text deliberately (e.g. ISO 8601 strings for dates) "
            "or declare the variable Num",
        )
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
    width = max(int(lengths.max()) if n else 0, 1)
    try:
        encoded = values.astype(f"S{width}")
    except UnicodeEncodeError:
        bad = _first_where(values, lambda v: not v.isascii())
        first = values[bad[0]]
        position, char = next((i, c) for i, c in enumerate(first) if ord(c) > 127)
        raise ctx.fail(
            name,
            bad,
            f"value {show(first)} has non-ASCII character {char!r} (U+{ord(char):04X}) "
            f"at byte {position + 1}",
            "XPORT v5 submission files hold ASCII only: replace the character in the raw "
            "data or the mapping (e.g. 'e' for 'é', 'u' for 'µ')",
        ) from None
    matrix = encoded.view(np.uint8).reshape(n, width)
    zeros = matrix == 0
    if np.count_nonzero(zeros) != n * width - int(lengths.sum()):
        bad = _first_where(values, lambda v: "\x00" in v)
        raise ctx.fail(
            name,
            bad,
            f"value {show(values[bad[0]])} contains a NUL character (\\x00) at byte "
            f"{values[bad[0]].index(chr(0)) + 1}",
            "remove NUL characters from the source data; SAS cannot store them",
        )
    np.copyto(matrix, BLANK, where=zeros)
    del zeros
    return matrix, _trimmed_lengths(matrix, lengths, lambda i: str(values[i]))


def _check_char_lengths(
    series: pd.Series, trimmed: np.ndarray, variable: XptVariable, ctx: ErrorContext
) -> None:
    """No value longer than 200 bytes (XPORT v5) nor than the declared length."""
    name = variable.name
    too_long = np.flatnonzero(trimmed > MAX_CHAR_LENGTH)
    if len(too_long):
        value = series.iloc[too_long[0]]
        raise ctx.fail(
            name,
            too_long,
            f"value {show(value)} is {trimmed[too_long[0]]} bytes; XPORT v5 allows "
            f"{MAX_CHAR_LENGTH}",
            "per SDTMIG 4.5.3, keep the first 200 characters in the variable and put the "
            "rest in SUPP-- (e.g. QNAM AETERM1), or shorten the text at source",
        )
    if variable.length is not None:
        longer = np.flatnonzero(trimmed > variable.length)
        if len(longer):
            value = series.iloc[longer[0]]
            raise ctx.fail(
                name,
                longer,
                f"value {show(value)} is {trimmed[longer[0]]} bytes, longer than the "
                f"declared length {variable.length}",
                "increase the variable's length in the spec or correct the value; "
                "values are never truncated",
            )


# --------------------------------------------------------------------------- Num


def _datetime_to_sas(
    series: pd.Series, fmt: SasFormat | None, variable: XptVariable, ctx: ErrorContext
) -> np.ndarray:
    """SAS date/datetime/time numbers from a ``datetime64`` or ``timedelta64`` column."""
    name = variable.name
    kind = temporal_kind(fmt)
    fmt_text = str(fmt) if fmt else "no format"
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        raise ctx.fail(
            name,
            [0],
            f"column is timezone-aware ({series.dtype}); SAS dates have no time zone",
            "convert to local naive times first (e.g. .dt.tz_localize(None))",
        )
    values = series.to_numpy()
    missing = np.isnat(values)
    if ptypes.is_timedelta64_dtype(series.dtype):
        if kind != "time":
            raise ctx.fail(
                name,
                [0],
                f"column is timedelta64 but the format is {fmt_text}",
                "give a time format (e.g. TIME8.) or convert to numbers yourself",
            )
        seconds = values / np.timedelta64(1, "s")
        return np.where(missing, np.nan, seconds)
    if kind is None:
        raise ctx.fail(
            name,
            [0],
            f"column is datetime64 but the format is {fmt_text}, not a date, datetime or "
            "time format",
            "give DATE9., DATETIME20. or TIME8., or convert to SAS numbers "
            "(days/seconds since 1960-01-01) yourself",
        )
    delta = values - _SAS_EPOCH.astype(values.dtype)
    delta[missing] = np.timedelta64(0, "s")  # NaT would warn in the arithmetic below
    if kind == "date":
        day = np.timedelta64(1, "D").astype(delta.dtype)
        partial = np.flatnonzero(~missing & (delta % day != np.timedelta64(0, "s")))
        if len(partial):
            raise ctx.fail(
                name,
                partial,
                f"value {series.iloc[partial[0]]} has a time of day but the format "
                f"{fmt_text} stores whole days",
                "floor the values to dates (.dt.normalize()) or use a datetime format "
                "such as DATETIME20.",
            )
        result = (delta // day).astype(np.float64)
    elif kind == "datetime":
        result = delta / np.timedelta64(1, "s")
    else:
        day = np.timedelta64(1, "D").astype(delta.dtype)
        result = (delta % day) / np.timedelta64(1, "s")
    return np.where(missing, np.nan, result)


def _check_exact_ints(
    floats: np.ndarray, originals: np.ndarray, variable: XptVariable, ctx: ErrorContext
) -> None:
    """Reject integers that doubles cannot hold exactly (some beyond 2**53 in magnitude)."""
    big = np.flatnonzero(np.abs(floats) >= _MAX_EXACT_INT)
    if not len(big):
        return
    lossy = [
        int(i)
        for i in big
        if isinstance(originals[i], int | np.integer) and int(originals[i]) != int(floats[i])
    ]
    if lossy:
        raise ctx.fail(
            variable.name,
            lossy,
            f"integer {originals[lossy[0]]} cannot be stored exactly in SAS 8-byte "
            "floating point (|x| > 2**53)",
            "store such identifiers in a Char variable",
        )


def _numeric_float64(
    series: pd.Series, fmt: SasFormat | None, variable: XptVariable, ctx: ErrorContext
) -> np.ndarray:
    """The column as float64 with NaN for missing, or an error naming the first bad value."""
    name = variable.name
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        bad = np.flatnonzero(series.notna().to_numpy())
        raise ctx.fail(
            name,
            bad if len(bad) else [0],
            f"Num variable holds booleans (dtype {dtype})",
            "map flags to 'Y'/'N' (Char) or to 1/0 explicitly",
        )
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        return _datetime_to_sas(series, fmt, variable, ctx)
    if ptypes.is_integer_dtype(dtype):
        floats = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if len(floats) and np.nanmax(np.abs(floats), initial=0) >= _MAX_EXACT_INT:
            _check_exact_ints(floats, series.to_numpy(dtype=object), variable, ctx)
        return floats
    if ptypes.is_float_dtype(dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if ptypes.is_object_dtype(dtype):
        values = series.to_numpy(dtype=object, na_value=np.nan)
        if ptypes.infer_dtype(values, skipna=True) in (
            "integer",
            "floating",
            "mixed-integer-float",
            "empty",
        ):
            try:
                floats = values.astype(np.float64)
            except OverflowError:  # Python ints beyond the double range
                huge = _first_where(
                    values, lambda v: isinstance(v, int) and abs(v) > _MAX_EXACT_INT
                )
                raise ctx.fail(
                    name,
                    huge,
                    f"integer {values[huge[0]]} cannot be stored exactly in SAS 8-byte "
                    "floating point (|x| > 2**53)",
                    "store such identifiers in a Char variable",
                ) from None
            _check_exact_ints(floats, values, variable, ctx)
            return floats
    positions = _first_where(
        series.to_numpy(dtype=object),
        lambda v: (
            not _is_na(v)
            and (isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number))
        ),
    )
    if not positions:  # e.g. complex numbers
        positions = np.flatnonzero(series.notna().to_numpy()).tolist() or [0]
    value = series.iloc[positions[0]]
    raise ctx.fail(
        name,
        positions,
        f"Num variable holds a non-numeric value {show(value)} "
        f"({type(value).__name__}; column dtype {dtype})",
        "convert the column with pd.to_numeric (and fix values that fail) or declare the "
        "variable Char",
    )


def encode_num(
    series: pd.Series, variable: XptVariable, fmt: SasFormat | None, ctx: ErrorContext
) -> EncodedColumn:
    """Encode a numeric column as big-endian IBM floats (``.`` for missing).

    Raises:
        XptError: a value is not a number (or is boolean), is infinite or out of the
            IBM range, or does not fit exactly a declared length below 8.
    """
    floats = _numeric_float64(series, fmt, variable, ctx)
    try:
        ibm = ieee_to_ibm(floats)
    except IbmRangeError as exc:
        value = floats[exc.positions[0]]
        raise ctx.fail(
            variable.name,
            exc.positions,
            f"value {show(value)} cannot be stored in SAS (IBM) floating point, whose "
            "magnitude range is about 5.4e-79 to 7.2e75 (no infinities)",
            "set such values to missing or 0 deliberately in the derivation",
        ) from None
    length = variable.length or NUM_LENGTH
    lossy = np.flatnonzero(truncation_loss(ibm, length))
    if len(lossy):
        raise ctx.fail(
            variable.name,
            lossy,
            f"value {show(floats[lossy[0]])} does not fit exactly in the declared numeric "
            f"length {length}",
            "use length 8 (recommended for submissions) or round the values",
        )
    matrix = ibm.astype(">u8").view(np.uint8).reshape(len(ibm), 8)
    return EncodedColumn(matrix=matrix, length=length)
