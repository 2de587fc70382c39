"""SAS transport (XPORT) version 5 writer, as FDA submissions require (SAS TS-140).

File layout, every record 80 bytes (ASCII, blank padded):

1. ``HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!000000000000000000000000000000``
2. ``SAS     SAS     SASLIB  9.4     <os>`` + 24 blanks + created ``ddMMMyy:hh:mm:ss``
3. modified ``ddMMMyy:hh:mm:ss``
4. ``HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!000000000000000001600000000140``
   (160: descriptor size, 140: namestr size)
5. ``HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!000000000000000000000000000000``
6. ``SAS     <dataset>SASDATA 9.4     <os>`` + 24 blanks + created
7. modified + 16 blanks + dataset label (40) + dataset type (8, blank)
8. ``HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000<nvar:4>00000000000000000000``
9. one 140-byte namestr per variable, blank padded to a multiple of 80 bytes
10. ``HEADER RECORD*******OBS     HEADER RECORD!!!!!!!000000000000000000000000000000``
11. the observations back to back (char: blank-padded ASCII; num: big-endian IBM
    double, possibly truncated to the declared length), blank padded to a multiple
    of 80 bytes.

Determinism: the created/modified stamps come from the ``SOURCE_DATE_EPOCH``
environment variable (seconds since 1970-01-01 UTC, see :mod:`cdisc_mapper.epoch`) when
set, else the constant :data:`DEFAULT_TIMESTAMP` (01JAN2000:00:00:00). Nothing else
depends on the machine, the clock or the Python/numpy version, so the same inputs give
byte-identical files.

Padding note: a reader cannot tell the final blank padding from observations that are
entirely blank; pyreadstat (readstat) drops trailing all-blank observations and pandas
counts 8-byte blank words in the last record as padding. A :class:`XptWarning` is
issued when the last observation is all blanks; datasets with a non-missing STUDYID
never hit this.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from cdisc_mapper.epoch import SOURCE_DATE_EPOCH, source_date
from cdisc_mapper.errors import Location, XptError
from cdisc_mapper.publish import atomic_file
from cdisc_mapper.xpt.checks import check_xpt_metadata, variable_format
from cdisc_mapper.xpt.encode import BLANK, EncodedColumn, ErrorContext, encode_char, encode_num
from cdisc_mapper.xpt.model import SasFormat, XptVariable, XptWarning

RECORD_LENGTH = 80
NAMESTR_LENGTH = 140
SAS_VERSION = "9.4"
"""SAS release written in the library and member headers (what SAS 9.4 writes)."""
OS_NAME = "PYTHON"
"""Operating system field of the headers (8 characters); constant for determinism."""
DEFAULT_TIMESTAMP = datetime(2000, 1, 1, 0, 0, 0)
"""Header created/modified stamp when ``SOURCE_DATE_EPOCH`` is not set: 01JAN2000:00:00:00."""
CHUNK_BYTES = 8 * 1024 * 1024
"""Observation bytes assembled per write (bounds the extra memory of the writer)."""

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_NAMESTR = struct.Struct(">hhhh8s40s8shhh2s8shhl52s")
_HEADER = "HEADER RECORD*******{name:<8}HEADER RECORD!!!!!!!{numbers}"


def _record(text: str) -> bytes:
    """One 80-byte header record: ``text`` blank padded."""
    if len(text) > RECORD_LENGTH:  # pragma: no cover - guarded by the metadata checks
        raise AssertionError(f"header record longer than 80 bytes: {text!r}")
    return text.ljust(RECORD_LENGTH).encode("ascii")


def _header_record(name: str, numbers: str = "0" * 30) -> bytes:
    return _record(_HEADER.format(name=name, numbers=numbers))


def header_timestamp(environ: Mapping[str, str] | None = None) -> str:
    """The ``ddMMMyy:hh:mm:ss`` stamp written as created/modified date.

    Taken from ``SOURCE_DATE_EPOCH`` (UTC, read by :func:`cdisc_mapper.epoch.source_date`)
    if set, else :data:`DEFAULT_TIMESTAMP`.

    Raises:
        SourceDateError: ``SOURCE_DATE_EPOCH`` is not a whole number of seconds.
        XptError: ``SOURCE_DATE_EPOCH`` is outside 1960-2059 (the two-digit years of the
            format cover only that century).
    """
    stamp = source_date(environ)
    if stamp is None:
        stamp = DEFAULT_TIMESTAMP
    elif not 1960 <= stamp.year <= 2059:
        raise XptError(
            f"{SOURCE_DATE_EPOCH}={stamp:%Y-%m-%dT%H:%M:%S} is in {stamp.year}; XPORT stamps "
            "have two-digit years read as 1960-2059",
            where=f"environment variable {SOURCE_DATE_EPOCH}",
            hint=f"use a date between 1970 and 2059 or unset {SOURCE_DATE_EPOCH}",
        )
    return (
        f"{stamp.day:02d}{_MONTHS[stamp.month - 1]}{stamp.year % 100:02d}:"
        f"{stamp.hour:02d}:{stamp.minute:02d}:{stamp.second:02d}"
    )


def _namestr(
    number: int, variable: XptVariable, fmt: SasFormat | None, length: int, position: int
) -> bytes:
    """The 140-byte namestr of one variable (SAS writes 1-based ``nvar0``)."""
    return _NAMESTR.pack(
        2 if variable.type == "Char" else 1,  # ntype
        0,  # nhfun
        length,  # nlng
        number,  # nvar0
        variable.name.ljust(8).encode("ascii"),  # nname
        variable.label.ljust(40).encode("ascii"),  # nlabel
        (fmt.name if fmt else "").ljust(8).encode("ascii"),  # nform
        fmt.width if fmt else 0,  # nfl
        fmt.decimals if fmt else 0,  # nfd
        0,  # nfj: left justification
        b"\x00\x00",  # nfill
        b" " * 8,  # niform: no informat
        0,  # nifl
        0,  # nifd
        position,  # npos
        b"\x00" * 52,  # rest
    )


def build_header(
    dataset: str,
    label: str,
    columns: Sequence[tuple[XptVariable, SasFormat | None, int]],
    timestamp: str,
) -> bytes:
    """Every header record up to and including the OBS header.

    ``columns`` holds, per variable in file order, its format and storage length.
    """
    parts = [
        _header_record("LIBRARY"),
        _record(f"{'SAS':<8}{'SAS':<8}{'SASLIB':<8}{SAS_VERSION:<8}{OS_NAME:<8}{'':24}{timestamp}"),
        _record(timestamp),
        _header_record("MEMBER", "000000000000000001600000000140"),
        _header_record("DSCRPTR"),
        _record(
            f"{'SAS':<8}{dataset:<8}{'SASDATA':<8}{SAS_VERSION:<8}{OS_NAME:<8}{'':24}{timestamp}"
        ),
        _record(f"{timestamp}{'':16}{label:<40}{'':8}"),
        _header_record("NAMESTR", f"000000{len(columns):04d}{'0' * 20}"),
    ]
    namestrs = bytearray()
    position = 0
    for number, (variable, fmt, length) in enumerate(columns, start=1):
        namestrs += _namestr(number, variable, fmt, length, position)
        position += length
    namestrs += b" " * (-len(namestrs) % RECORD_LENGTH)
    parts.append(bytes(namestrs))
    parts.append(_header_record("OBS"))
    return b"".join(parts)


def _check_columns(
    df: pd.DataFrame, variables: Sequence[XptVariable], dataset: str, path: Path
) -> None:
    """``df`` must have exactly the variables' columns, each once."""
    names = [v.name for v in variables]
    columns = list(df.columns)
    duplicated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    missing = [n for n in names if n not in set(columns)]
    extra = [str(c) for c in columns if c not in set(names)]
    where = Location(file=str(path), record=f"dataset {dataset}")
    if duplicated:
        raise XptError(
            f"the DataFrame has duplicate columns {', '.join(duplicated)}",
            where=where,
            hint="drop or rename the duplicates before writing",
        )
    if missing:
        raise XptError(
            f"variables {', '.join(missing)} are declared but not columns of the DataFrame",
            where=where,
            hint="derive the missing variables or remove them from the variable metadata",
        )
    if extra:
        raise XptError(
            f"DataFrame columns {', '.join(extra)} are not declared variables and would be dropped",
            where=where,
            hint="declare them (XptVariable) or drop them from the DataFrame explicitly",
        )


def write_xpt(
    df: pd.DataFrame,
    path: str | Path,
    *,
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
) -> None:
    """Write ``df`` as a SAS transport (XPORT) version 5 file with one dataset.

    Args:
        df: the records; its columns must be exactly the ``variables`` (any order).
        path: the ``.xpt`` file to create or replace. It is written to a temporary file
            (a unique name) in the same folder and renamed, so a failed or interrupted
            write leaves no partial file and concurrent writers do not collide.
        dataset: dataset name (e.g. ``"DM"``), <= 8 characters.
        label: dataset label, ASCII, <= 40 characters.
        variables: variable metadata in output order; see :class:`XptVariable`.

    Raises:
        XptError: invalid metadata, a column mismatch, or a value that cannot be stored
            without loss; the message names the dataset, record (1-based), USUBJID when
            present, the variable and the value, and says what to do.
    """
    path = Path(path)
    variables = tuple(variables)
    check_xpt_metadata(dataset, label, variables, path=path)
    _check_columns(df, variables, dataset, path)
    timestamp = header_timestamp()
    ctx, encoded, columns = _encode(df, variables, dataset, path)
    header = build_header(dataset, label, columns, timestamp)
    _write_file(path, header, encoded, len(df), ctx)


def _encode(
    df: pd.DataFrame, variables: Sequence[XptVariable], dataset: str, path: Path
) -> tuple[ErrorContext, list[EncodedColumn], list[tuple[XptVariable, SasFormat | None, int]]]:
    """Each variable's column encoded as stored, with its format and stored length."""
    usubjid = df["USUBJID"] if "USUBJID" in df.columns else None
    ctx = ErrorContext(path=path, dataset=dataset, usubjid=usubjid)
    encoded: list[EncodedColumn] = []
    columns: list[tuple[XptVariable, SasFormat | None, int]] = []
    for variable in variables:
        fmt = variable_format(variable)
        series = df[variable.name]
        if variable.type == "Char":
            column = encode_char(series, variable, ctx)
        else:
            column = encode_num(series, variable, fmt, ctx)
        encoded.append(column)
        columns.append((variable, fmt, column.length))
    return ctx, encoded, columns


def stored_variables(
    df: pd.DataFrame,
    *,
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
) -> tuple[XptVariable, ...]:
    """``variables`` as :func:`write_xpt` would store ``df``: each with its stored length
    (a ``Char`` variable's longest value when none is declared, a ``Num``'s 8 unless
    declared). Checked as :func:`write_xpt` checks them, with the same errors (naming the
    file ``<dataset>.xpt``); nothing is written."""
    path = Path(f"{dataset.lower()}.xpt")
    variables = tuple(variables)
    check_xpt_metadata(dataset, label, variables, path=path)
    _check_columns(df, variables, dataset, path)
    _, _, columns = _encode(df, variables, dataset, path)
    return tuple(replace(v, length=length) for v, _, length in columns)


def _write_file(
    path: Path, header: bytes, encoded: Sequence[EncodedColumn], n: int, ctx: ErrorContext
) -> None:
    """Assemble the observations chunk by chunk and write the file atomically."""
    try:
        with atomic_file(path) as out:
            out.write(header)
            last_row_blank = write_observations(out, encoded, n)
            out.write(observation_padding(n * sum(c.length for c in encoded)))
    except OSError as exc:
        raise write_error(path, ctx.dataset, exc) from exc
    if last_row_blank:
        warn_last_row_blank(path, ctx.dataset)


def write_observations(out: BinaryIO, encoded: Sequence[EncodedColumn], n: int) -> bool:
    """Write ``n`` observations of the encoded columns, assembled chunk by chunk; whether
    the last one is entirely blank (False when there is none)."""
    row_length = sum(c.length for c in encoded)
    rows_per_chunk = max(1, CHUNK_BYTES // max(row_length, 1))
    last_row_blank = False
    for start in range(0, n, rows_per_chunk):
        stop = min(start + rows_per_chunk, n)
        chunk = np.empty((stop - start, row_length), dtype=np.uint8)
        offset = 0
        for column in encoded:
            width = min(column.matrix.shape[1], column.length)
            chunk[:, offset : offset + width] = column.matrix[start:stop, :width]
            if width < column.length:
                chunk[:, offset + width : offset + column.length] = BLANK
            offset += column.length
        out.write(chunk.data.cast("B"))
        if stop == n:
            last_row_blank = bool((chunk[-1] == BLANK).all())
    return last_row_blank


def observation_padding(observation_bytes: int) -> bytes:
    """The blanks that fill the last 80-byte record after ``observation_bytes``."""
    return b" " * (-observation_bytes % RECORD_LENGTH)


def write_error(path: Path, dataset: str, exc: OSError) -> XptError:
    """An OS error while writing ``path``, located, saying what to check."""
    return XptError(
        f"cannot write the file: {exc.strerror or exc}",
        where=Location(file=str(path), record=f"dataset {dataset}"),
        hint="check that the folder exists, is writable and has free space",
    )


def warn_last_row_blank(path: Path, dataset: str) -> None:
    """Warn that readers may drop the entirely blank last record of ``dataset``."""
    warnings.warn(
        f"{path}: the last record of {dataset} is entirely blank; readers take "
        "trailing blank records for padding and may drop it",
        XptWarning,
        stacklevel=4,
    )
