"""Reading XPORT files back (through pyreadstat) with their metadata."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

from cdisc_mapper.errors import Location, XptError
from cdisc_mapper.xpt.model import XptMetadata, XptVariable, canonical_format


def read_xpt(path: str | Path, *, encoding: str | None = None) -> tuple[pd.DataFrame, XptMetadata]:
    """Read a SAS transport (XPORT v5 or v8) file and its metadata.

    Numbers are returned as float64 (NaN for SAS missing values), SAS dates and
    datetimes unconverted (days / seconds since 1960-01-01); character values as
    ``str`` with ``""`` for blank (SAS missing), trailing blanks removed.

    Args:
        path: the ``.xpt`` file.
        encoding: character encoding of the values and labels (e.g. ``"WINDOWS-1252"``
            for files written by SAS on Windows); ``None`` lets readstat decide.

    Returns:
        The records and an :class:`XptMetadata` whose variables carry the stored lengths
        and canonical formats (``DATE9.``), suitable for :func:`write_xpt`.

    Raises:
        XptError: the file is missing or is not a readable transport file.
    """
    path = Path(path)
    try:
        df, meta = pyreadstat.read_xport(
            str(path), encoding=encoding, disable_datetime_conversion=True
        )
    except FileNotFoundError:
        raise XptError(
            "file not found", where=Location(file=str(path)), hint="check the path"
        ) from None
    except Exception as exc:  # pyreadstat raises several unrelated exception types
        raise XptError(
            f"cannot read as SAS transport file: {exc}",
            where=Location(file=str(path)),
            hint="check that it is an XPORT file; pass encoding= if it is not UTF-8/ASCII",
        ) from exc

    labels = meta.column_names_to_labels or {}
    formats = meta.original_variable_types or {}
    variables = []
    for name in meta.column_names:
        is_char = meta.readstat_variable_types[name] == "string"
        variables.append(
            XptVariable(
                name=name,
                label=labels.get(name) or "",
                type="Char" if is_char else "Num",
                length=int(meta.variable_storage_width[name]),
                format=canonical_format(formats.get(name)),
            )
        )
        if is_char:
            df[name] = df[name].astype(object).where(df[name].notna(), "")
    metadata = XptMetadata(
        dataset=meta.table_name or "",
        label=meta.file_label or "",
        variables=tuple(variables),
        n_records=len(df),
        created=meta.creation_time,
        modified=meta.modification_time,
    )
    return df, metadata
