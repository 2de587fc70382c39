"""Reading SAS transport (XPORT) files back, with their metadata: the one reader.

:func:`read_xpt` takes the vectorised path (:mod:`cdisc_mapper.xpt.fastread`) for plain
single-member XPORT v5 files, which is what this project and SAS write, and falls back to
pyreadstat (readstat) for anything else (XPORT v8, several members, text that does not
decode). Both give the same frame and metadata: labels, formats and header dates always
come from pyreadstat, and the values follow readstat's rules. :func:`read_xpt_names` reads
the variable names from the header only. Never ``pandas.read_sas``: it misreads IBM zero
and may drop trailing blank records.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyreadstat

from cdisc_mapper.errors import Location, XptError
from cdisc_mapper.xpt.columns import file_blocks, file_layout, memory_blocks, read_columns
from cdisc_mapper.xpt.fastread import (
    Layout,
    LayoutError,
    Namestr,
    TextColumn,
    observations,
    parse_layout,
    parse_namestrs,
)
from cdisc_mapper.xpt.model import XptMetadata, XptVariable, canonical_format

TextMode = Literal["object", "str", "category"]
"""How character columns come back: ``"object"`` (numpy object arrays of ``str``),
``"str"`` (pandas' ``str`` dtype where pandas infers it) or ``"category"`` (categoricals
whose categories are in order of first appearance; cheapest for large files)."""

_OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
_HEAD_BYTES = 1 << 20
_NOT_XPT_HINT = "check that it is an XPORT file; pass encoding= if it is not UTF-8/ASCII"
_TRUNCATED_HINT = "the file was cut short; regenerate or copy it again"

Column = npt.NDArray[np.float64] | npt.NDArray[np.object_] | TextColumn
"""A column read: numbers (float64), texts (object array of ``str``) or a TextColumn."""


class XptTruncatedError(XptError):
    """The file ends inside an observation or in the middle of an 80-byte record."""


def read_xpt(
    path: str | Path,
    *,
    encoding: str | None = None,
    columns: Iterable[str] | None = None,
    text: TextMode = "object",
) -> tuple[pd.DataFrame, XptMetadata]:
    """Read a SAS transport (XPORT v5 or v8) file and its metadata.

    Numbers are returned as float64 (NaN for SAS missing values), SAS dates and
    datetimes unconverted (days / seconds since 1960-01-01); character values as
    ``str`` with ``""`` for blank (SAS missing), trailing blanks removed.

    Args:
        path: the ``.xpt`` file.
        encoding: character encoding of the values and labels (e.g. ``"WINDOWS-1252"``
            for files written by SAS on Windows); ``None`` reads UTF-8/ASCII.
        columns: the variables to return, in this order (names the file does not have
            are left out); ``None`` for all, in file order. The metadata always
            describes every variable of the file.
        text: how character columns come back (see :data:`TextMode`).

    Returns:
        The records and an :class:`XptMetadata` whose variables carry the stored lengths
        and canonical formats (``DATE9.``), suitable for :func:`write_xpt`.

    Raises:
        XptError: the file is missing or is not a readable transport file
            (:class:`XptTruncatedError` when it is cut short); the message names it.
    """
    path = Path(path)
    wanted = None if columns is None else list(dict.fromkeys(columns))
    try:
        with path.open("rb") as handle:
            return read_open(path, handle, encoding=encoding, columns=wanted, text=text)
    except LayoutError:
        pass
    except OSError as exc:
        raise _open_error(path, exc) from exc
    frame, metadata = read_readstat(path, encoding=encoding, columns=wanted, text=text)
    problem = truncation_problem(path, metadata)
    if problem:
        raise XptTruncatedError(problem, where=_where(path), hint=_TRUNCATED_HINT)
    return frame, metadata


def read_xpt_chunks(
    path: str | Path,
    *,
    rows: int = 100_000,
    encoding: str | None = None,
    text: TextMode = "object",
) -> tuple[XptMetadata, Iterator[pd.DataFrame]]:
    """The metadata of an XPORT file and its records in frames of at most ``rows`` records
    (at least one frame, empty for a file without records), each as :func:`read_xpt`
    returns them with ``text`` (index from 0 in each frame). The fast path reads a memory map of the
    file and releases each part once read, so memory is bounded by ``rows``; any other
    file is read whole by :func:`read_xpt` and given as one frame.

    Raises:
        XptError: as :func:`read_xpt`.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        layout = parse_layout(cast("bytes", mapped))
        meta = pyreadstat.read_xport(str(path), metadataonly=True, encoding=encoding)[1]
        _check_agreement(layout, meta)
        records = observations(cast("bytes", mapped), layout)
    except (LayoutError, ValueError, OSError, pyreadstat.ReadstatError):
        frame, whole = read_xpt(path, encoding=encoding, text=text)
        return whole, iter([frame])
    metadata = _metadata(meta, len(records))
    _release(mapped, len(mapped))  # the layout checks read the whole file

    def frames() -> Iterator[pd.DataFrame]:
        for start in range(0, max(len(records), 1), rows):
            block = records[start : start + rows]
            try:
                data = _columns(block, layout, encoding)
            except LayoutError as exc:
                raise XptError(str(exc), where=_where(path), hint=_NOT_XPT_HINT) from exc
            yield _frame(data, len(block), text)
            _release(mapped, layout.data_start + start * layout.record_length)

    return metadata, frames()


def _columns(block: Any, layout: Layout, encoding: str | None) -> dict[str, Column]:
    return dict(read_columns([block], len(block), layout.variables, encoding or "utf-8"))


def _release(mapped: mmap.mmap, upto: int) -> None:
    """Drop the pages of ``mapped`` before ``upto`` from memory (they are read)."""
    end = upto - upto % mmap.PAGESIZE
    if end > 0 and hasattr(mapped, "madvise"):
        mapped.madvise(mmap.MADV_DONTNEED, 0, end)


def read_xpt_names(path: str | Path, *, encoding: str | None = None) -> list[str]:
    """Variable names of an XPORT file in file order, from its header only.

    Raises:
        XptError: the file is missing or is not a readable transport file.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
        return [v.name for v in parse_namestrs(head)[0]]
    except LayoutError:
        pass
    except OSError as exc:
        raise _open_error(path, exc) from exc
    return list(_readstat_metadata(path, encoding).column_names)


def read_fast(
    path: Path,
    raw: bytes,
    *,
    encoding: str | None,
    columns: list[str] | None,
    text: TextMode,
) -> tuple[pd.DataFrame, XptMetadata]:
    """The vectorised engine: ``raw`` is the content of the file at ``path``.

    Its layout checks cover truncation (an incomplete observation is a LayoutError).

    Raises:
        LayoutError: the file is not plain single-member v5, pyreadstat cannot read its
            header, the two disagree, or text does not decode.
    """
    layout = parse_layout(raw)
    meta = _fast_metadata(path, layout, encoding)
    records = observations(raw, layout)
    wanted = _wanted(layout, columns)
    data = read_columns(memory_blocks(records), len(records), wanted, encoding or "utf-8")
    return _frame(dict(data), len(records), text), _metadata(meta, len(records))


def read_open(
    path: Path,
    handle: BinaryIO,
    *,
    encoding: str | None,
    columns: list[str] | None,
    text: TextMode,
) -> tuple[pd.DataFrame, XptMetadata]:
    """:func:`read_fast` of the file open as ``handle``, read block by block (never held
    whole in memory).

    Raises:
        LayoutError: as :func:`read_fast`.
        OSError: the file cannot be read.
    """
    size = os.fstat(handle.fileno()).st_size
    layout, rows = file_layout(handle, size)
    meta = _fast_metadata(path, layout, encoding)
    blocks = file_blocks(handle, layout, size, rows)
    data = read_columns(blocks, rows, _wanted(layout, columns), encoding or "utf-8")
    return _frame(dict(data), rows, text), _metadata(meta, rows)


def _fast_metadata(path: Path, layout: Layout, encoding: str | None) -> Any:
    """pyreadstat's metadata of the file, checked against its layout.

    Raises:
        LayoutError: pyreadstat cannot read the header, or the two disagree.
    """
    try:
        meta = pyreadstat.read_xport(str(path), metadataonly=True, encoding=encoding)[1]
    except Exception as exc:  # pyreadstat raises several unrelated exception types
        raise LayoutError(f"pyreadstat cannot read the metadata: {exc}") from exc
    _check_agreement(layout, meta)
    return meta


def _wanted(layout: Layout, columns: list[str] | None) -> list[Namestr]:
    """The variables to read, in the order asked (names the file does not have left out)."""
    if columns is None:
        return list(layout.variables)
    by_name = {v.name: v for v in layout.variables}
    return [by_name[n] for n in columns if n in by_name]


def read_readstat(
    path: Path, *, encoding: str | None, columns: list[str] | None, text: TextMode
) -> tuple[pd.DataFrame, XptMetadata]:
    """The pyreadstat engine, for any file readstat reads (no truncation check).

    Raises:
        XptError: pyreadstat cannot read the file.
    """
    meta = _readstat_metadata(path, encoding)
    names = list(meta.column_names)
    present = set(names)
    selected = names if columns is None else [c for c in columns if c in present]
    try:
        df, _ = pyreadstat.read_xport(
            str(path),
            encoding=encoding,
            usecols=None if columns is None else selected,
            disable_datetime_conversion=True,
        )
    except Exception as exc:  # pyreadstat raises several unrelated exception types
        raise XptError(
            f"cannot read as SAS transport file: {exc}", where=_where(path), hint=_NOT_XPT_HINT
        ) from exc
    types = meta.readstat_variable_types
    data: dict[str, Column] = {}
    for name in selected:
        if types[name] == "string":
            values = df[name].astype(object)
            data[name] = values.where(values.notna(), "").to_numpy(dtype=object)
        else:
            data[name] = df[name].to_numpy(dtype=np.float64)
    return _frame(data, len(df), text), _metadata(meta, len(df))


def truncation_problem(path: Path, meta: XptMetadata) -> str | None:
    """Why a transport file looks truncated, or None.

    A v5 file is a sequence of 80-byte records; the observations are fixed-length records
    after the ``OBS`` header, padded with blanks to a multiple of 80 bytes. readstat reads
    a truncated file silently (dropping the incomplete observation), so check the layout.
    """
    size = path.stat().st_size
    if size % 80:
        return f"file size {size} bytes is not a multiple of 80 (the file is truncated)"
    obs_len = sum(v.length or 8 for v in meta.variables)
    with path.open("rb") as handle:
        head = handle.read(min(size, _HEAD_BYTES))
        start = head.find(_OBS_HEADER)
        if start < 0 or obs_len <= 0:
            return None  # v8 or an unusual writer: nothing more to verify
        start += 80
        full, rest = divmod(size - start, obs_len)
        if not rest:
            return None
        handle.seek(start + full * obs_len)
        tail = handle.read(rest)
    if tail.strip(b" \x00"):
        return (
            f"the last observation is incomplete ({rest} of {obs_len} bytes): the file is truncated"
        )
    return None


def _where(path: Path) -> Location:
    return Location(file=str(path))


def _open_error(path: Path, exc: OSError) -> XptError:
    if isinstance(exc, FileNotFoundError):
        return XptError("file not found", where=_where(path), hint="check the path")
    return XptError(f"cannot open the file: {exc.strerror or exc}", where=_where(path))


def _readstat_metadata(path: Path, encoding: str | None) -> Any:
    """pyreadstat's metadata of the file (header only)."""
    try:
        return pyreadstat.read_xport(str(path), metadataonly=True, encoding=encoding)[1]
    except FileNotFoundError as exc:
        raise _open_error(path, exc) from exc
    except Exception as exc:  # pyreadstat raises several unrelated exception types
        raise XptError(
            f"cannot read as SAS transport file: {exc}", where=_where(path), hint=_NOT_XPT_HINT
        ) from exc


def _check_agreement(layout: Layout, meta: Any) -> None:
    """LayoutError unless the namestrs and pyreadstat agree on names, types and lengths."""
    names = [v.name for v in layout.variables]
    types, widths = meta.readstat_variable_types, meta.variable_storage_width
    if names != list(meta.column_names) or any(
        widths[v.name] != v.length or (types[v.name] == "string") != v.is_char
        for v in layout.variables
    ):
        raise LayoutError("namestrs disagree with pyreadstat")


def _frame(data: dict[str, Column], rows: int, text: TextMode) -> pd.DataFrame:
    """The records as a DataFrame (index 0..rows-1) with text as ``text`` asks; the
    columns are taken as they are (no copy into blocks of one dtype)."""
    out: dict[str, Any] = {}
    inferred = _inferred_text_dtype() if text == "str" else None
    for name, column in data.items():
        if isinstance(column, TextColumn):
            out[name] = _text(column, text, inferred)
        elif column.dtype == object:
            out[name] = _text(cast("npt.NDArray[np.object_]", column), text, inferred)
        else:
            out[name] = column
    return pd.DataFrame(out, index=pd.RangeIndex(rows), columns=list(data), copy=False)


def _inferred_text_dtype() -> Any:
    """The dtype pandas infers for a column of ``str`` (``str``: Arrow-backed when pyarrow
    is installed, under pandas 3; ``object`` under pandas 2 by default)."""
    return pd.Series(np.array(["a"], dtype=object)).dtype


def _text(column: TextColumn | npt.NDArray[np.object_], text: TextMode, inferred: Any) -> Any:
    """A character column as ``text`` asks: categorical, object Series, or the ``str``
    column pandas infers from an object array of ``str`` (made directly when it is
    Arrow-backed: each distinct value converted once, then one Arrow ``take``)."""
    if text == "category":
        if not isinstance(column, TextColumn):
            column = TextColumn.from_texts(column)
        categories = pd.CategoricalDtype(pd.Index(column.values, dtype=object))
        return pd.Categorical.from_codes(column.codes, dtype=categories, validate=False)
    if isinstance(column, TextColumn):
        if text == "str" and len(column.codes) and _is_arrow_text(inferred):
            return pd.array(column.values, dtype=inferred).take(column.codes)
        column = column.values[column.codes]
    return column if text == "str" else pd.Series(column, dtype=object, copy=False)


def _is_arrow_text(dtype: Any) -> bool:
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _metadata(meta: Any, n_records: int) -> XptMetadata:
    """An XptMetadata from pyreadstat's metadata."""
    labels = meta.column_names_to_labels or {}
    formats = meta.original_variable_types or {}
    variables = tuple(
        XptVariable(
            name=name,
            label=labels.get(name) or "",
            type="Char" if meta.readstat_variable_types[name] == "string" else "Num",
            length=int(meta.variable_storage_width[name]),
            format=canonical_format(formats.get(name)),
        )
        for name in meta.column_names
    )
    return XptMetadata(
        dataset=meta.table_name or "",
        label=meta.file_label or "",
        variables=variables,
        n_records=n_records,
        created=meta.creation_time,
        modified=meta.modification_time,
    )
