"""Files of a package that cannot be read as datasets, said so that people can act.

One bad file must not hide the rest of the package: :func:`read_or_explain` reads a file
with :func:`cdisc_mapper.xpt.read_xpt` and, when it cannot, returns an
:class:`Unreadable` that check SD0017 reports while the other files are checked. When
the cause is text that does not decode (a Windows ``’``, byte 0x92, in a UTF-8 read),
the finding names the byte, its offset in the file, the record and variable (or the
label) that holds it, and the ``--encoding`` option that reads it.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.datasetjson import format_of, read_dataset
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.validate.errors import ValidationInputError
from cdisc_mapper.xpt import XptMetadata, XptTruncatedError, read_xpt
from cdisc_mapper.xpt.fastread import (
    LayoutError,
    Namestr,
    observations,
    parse_layout,
    parse_namestrs,
)

_NAMESTR_LEN = 140
_LIBRARY = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
_OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
#: Text fields of a namestr record: (offset, length, what it is).
_NAMESTR_TEXT = ((8, 8, "name"), (16, 40, "label"), (56, 8, "format"), (72, 8, "informat"))
_DEFAULT_ENCODING = "utf-8"
_ENCODING_HINT = (
    "if the file was written in another encoding, give it with --encoding, e.g. "
    "--encoding WINDOWS-1252 (encoding= in Python)"
)


@dataclass(frozen=True)
class Unreadable:
    """A file of the package that was not checked, and why (check SD0017).

    Attributes:
        file: path relative to the package folder.
        name: the dataset name the file stands for (its name without ``.xpt``).
        message: what is wrong and what to do.
        variable: the variable whose text does not decode, when that is the cause.
        record: the 1-based record holding that text.
    """

    file: str
    name: str
    message: str
    variable: str = ""
    record: int | None = None


@dataclass(frozen=True)
class BadByte:
    """The first stored text that does not decode: where it is in the file."""

    offset: int
    byte: int
    where: str
    variable: str = ""
    record: int | None = None


def check_encoding(encoding: str | None) -> None:
    """Raises ValidationInputError when ``encoding`` is not a known codec name."""
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValidationInputError(
            f"unknown encoding {encoding!r}",
            hint="give a codec name such as WINDOWS-1252, LATIN-1 or UTF-8",
        ) from None


def read_or_explain(
    path: Path, rel: str, encoding: str | None
) -> tuple[pd.DataFrame, XptMetadata] | Unreadable:
    """The file's records and metadata, or why they cannot be read."""
    if format_of(path) in ("json", "ndjson"):
        try:
            return read_dataset(path, text="category")
        except CdiscMapperError as exc:
            return Unreadable(rel, _name(path), f"{exc} (regenerate the file)")
    try:
        return read_xpt(path, encoding=encoding, text="category")
    except XptTruncatedError as exc:
        return Unreadable(rel, _name(path), f"{exc.message} ({exc.hint})")
    except CdiscMapperError as exc:
        return explain(path, rel, encoding, exc.message)


def explain(path: Path, rel: str, encoding: str | None, reason: str) -> Unreadable:
    """An :class:`Unreadable` for a file the reader refused with ``reason``."""
    codec = encoding or _DEFAULT_ENCODING
    try:
        raw = path.read_bytes()
    except OSError:
        raw = None
    bad = first_undecodable(raw, codec) if raw is not None else None
    hint = _ENCODING_HINT if encoding is None else "is --encoding the file's encoding?"
    if bad is None and "can't decode" in reason:  # not laid out as v5: no offset to give
        return Unreadable(rel, _name(path), f"{reason}; the dataset was not checked: {hint}")
    if bad is None:
        layout = not_xport(raw) if raw is not None else None
        return Unreadable(
            rel,
            _name(path),
            f"{reason}: {layout}"
            if layout
            else f"{reason} (is it a SAS XPORT file? regenerate it, or remove it from the folder)",
        )
    return Unreadable(
        rel,
        _name(path),
        f"byte 0x{bad.byte:02X} at offset {bad.offset} ({bad.where}) is not "
        f"{codec.upper()} text, so the dataset was not checked: {hint}",
        variable=bad.variable,
        record=bad.record,
    )


def not_xport(raw: bytes) -> str | None:
    """Why ``raw`` is not a complete XPORT v5 file, said for people: empty, not XPORT at
    all (with its first bytes), or an XPORT file cut short inside its header records;
    None when its layout is sound (the cause is elsewhere)."""
    if not raw:
        return "the file is empty (0 bytes); regenerate it, or remove it from the folder"
    if not raw.startswith(_LIBRARY):
        return (
            f"it does not start with the SAS XPORT library header (it starts {raw[:24]!r}), so "
            "it is not a SAS transport file although it is named .xpt; regenerate it, or "
            "remove it from the folder"
        )
    try:
        parse_layout(raw)
    except LayoutError as exc:
        if _OBS_HEADER not in raw:
            return (
                f"the file ends at byte {len(raw)} inside its header records ({exc}): it was "
                "cut short; regenerate or copy it again"
            )
        return f"its layout is not XPORT v5 ({exc}); regenerate it"
    return None


def first_undecodable(raw: bytes, encoding: str) -> BadByte | None:
    """The first text of an XPORT v5 file (header, namestr names/labels/formats, then
    the character values in file order) that does not decode with ``encoding``; None
    when all does, or when the file is not laid out as XPORT v5."""
    try:
        variables, names_end = parse_namestrs(raw)
    except LayoutError:
        return None
    first_namestr = names_end - len(variables) * _NAMESTR_LEN
    bad = _bad_in(raw[:first_namestr], encoding)
    if bad is not None:
        return BadByte(bad[0], bad[1], "file header: dataset name or label")
    for i, var in enumerate(variables):
        start = first_namestr + i * _NAMESTR_LEN
        for at, length, what in _NAMESTR_TEXT:
            bad = _bad_in(raw[start + at : start + at + length], encoding)
            if bad is not None:
                where = f"{what} of variable {var.name}"
                return BadByte(start + at + bad[0], bad[1], where, variable=var.name)
    return _first_bad_value(raw, variables, encoding)


def _first_bad_value(raw: bytes, variables: tuple[Namestr, ...], encoding: str) -> BadByte | None:
    """The first character value, in file order, that does not decode."""
    try:
        layout = parse_layout(raw)
        records = observations(raw, layout)
    except LayoutError:
        return None
    found: list[tuple[int, int, Namestr]] = []  # (file offset, byte, variable)
    for var in (v for v in variables if v.is_char and v.length > 0):
        block = np.ascontiguousarray(records[:, var.position : var.position + var.length])
        uniques, first_rows = np.unique(block.view(f"S{var.length}").ravel(), return_index=True)
        for value, row in zip(uniques.tolist(), first_rows.tolist(), strict=True):
            bad = _bad_in(value.rstrip(b" \x00").split(b"\x00", 1)[0], encoding)
            if bad is not None:
                offset = layout.data_start + row * layout.record_length + var.position + bad[0]
                found.append((offset, bad[1], var))
    if not found:
        return None
    offset, byte, var = min(found, key=lambda f: f[0])
    row = (offset - layout.data_start) // layout.record_length
    return BadByte(
        offset, byte, f"record {row + 1}, variable {var.name}", variable=var.name, record=row + 1
    )


def _bad_in(data: bytes, encoding: str) -> tuple[int, int] | None:
    """(position, byte) of the first byte of ``data`` that does not decode, or None."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return exc.start, data[exc.start]
    return None


def _name(path: Path) -> str:
    return path.stem.strip().upper()
