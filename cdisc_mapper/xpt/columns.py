"""The columns of a plain XPORT v5 file's observations, for :mod:`cdisc_mapper.xpt.reader`.

Observations are stored record by record; a column is a narrow strided slice of them.
Copying one column at a time out of the whole file walks every record once per column,
and copying a 2-D slice costs a call per record; so the records are taken in blocks of
about :data:`BLOCK_BYTES` (a block stays in the CPU cache while each of its columns is
taken out), each column as one strided copy of a structured field. Each column's bytes
gather into one array (text zero padded as :func:`~cdisc_mapper.xpt.fastread.pad_rows`
lays it out, numbers as 8 bytes), converted once every block is read.

The blocks come from records in memory (:func:`memory_blocks`) or straight from an open
file (:func:`file_layout`, :func:`file_blocks`): read into one reused buffer, so the file
is never held whole in memory, and scanned for a second member on the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from cdisc_mapper.xpt.fastread import (
    MEMBER_HEADER,
    Bytes2D,
    Layout,
    LayoutError,
    Namestr,
    TextColumn,
    head_layout,
    observation_count,
    padded_text_column,
    padded_width,
    tail_offset,
)
from cdisc_mapper.xpt.ibm import ibm_to_ieee

BLOCK_BYTES = 1 << 21
"""Observation bytes read per block (a few times a core's L2 cache)."""
HEAD_BYTES = 1 << 21
"""Bytes of the file read for its header (every namestr of up to 9,999 variables)."""
_RECORD = 80

FastColumn = npt.NDArray[np.float64] | TextColumn
"""A column read by :func:`read_columns`: numbers (float64, NaN for missing) or text."""


def block_rows(record_length: int) -> int:
    """Records per block."""
    return max(1, BLOCK_BYTES // max(record_length, 1))


def memory_blocks(records: Bytes2D) -> Iterator[Bytes2D]:
    """``records`` (``(n, record_length)``) in blocks of :func:`block_rows` records."""
    step = block_rows(records.shape[1])
    for start in range(0, len(records), step):
        yield records[start : start + step]


def file_layout(handle: BinaryIO, size: int) -> tuple[Layout, int]:
    """The layout and the number of observations of the open file (``size`` bytes),
    read from its head and its last record, as :func:`~cdisc_mapper.xpt.fastread.parse_layout`
    and :func:`~cdisc_mapper.xpt.fastread.observations` give them (:func:`file_blocks`
    makes the last check, for a second member).

    Raises:
        LayoutError: the file is not a plain v5 file or its last observation is incomplete.
    """
    if size % _RECORD:
        raise LayoutError("size is not a multiple of 80")
    handle.seek(0)
    layout = head_layout(handle.read(min(size, HEAD_BYTES)))
    tail_at = tail_offset(layout, size)
    handle.seek(tail_at)
    return layout, observation_count(layout, size, handle.read(), tail_at)


def file_blocks(handle: BinaryIO, layout: Layout, size: int, rows: int) -> Iterator[Bytes2D]:
    """The first ``rows`` observations of the open file in blocks, each read into the same
    buffer (valid until the next block is asked for). Every byte after the OBS header is
    read and scanned for another member's header.

    Raises:
        LayoutError: a second member, or the file is shorter than ``size``.
    """
    record_length = layout.record_length
    buffer = bytearray(block_rows(record_length) * record_length)
    view = memoryview(buffer)
    array = np.frombuffer(buffer, dtype=np.uint8)
    handle.seek(layout.data_start)
    position, given, carry = layout.data_start, 0, b""
    while position < size:
        got = _fill(handle, view[: min(len(buffer), size - position)])
        seam = carry + bytes(view[: len(MEMBER_HEADER) - 1])
        if buffer.find(MEMBER_HEADER, 0, got) >= 0 or MEMBER_HEADER in seam:
            raise LayoutError("more than one member")
        carry = bytes(view[max(0, got - len(MEMBER_HEADER) + 1) : got])
        count = min(got // record_length, rows - given)
        if count > 0:
            yield array[: count * record_length].reshape(count, record_length)
            given += count
        position += got


def _fill(handle: BinaryIO, view: memoryview) -> int:
    """Read into the whole of ``view``.

    Raises:
        LayoutError: the file ends first (it changed while read).
    """
    done = 0
    while done < len(view):
        got = handle.readinto(view[done:])  # type: ignore[attr-defined]
        if not got:
            raise LayoutError("the file is shorter than its size")
        done += got
    return done


def read_columns(
    blocks: Iterable[Bytes2D], rows: int, variables: Sequence[Namestr], encoding: str
) -> dict[str, FastColumn]:
    """The ``variables`` (any subset, in the order wanted) of ``rows`` observation
    records given in consecutive blocks (each ``(k, record_length)``), by name.

    Raises:
        LayoutError: a value does not decode with ``encoding`` (or the codec is unknown).
    """
    stored = {v.name: np.zeros((rows, _stored_width(v)), dtype=np.uint8) for v in variables}
    targets = [_field(stored[v.name], v.length) for v in variables]
    fields: np.dtype[np.void] | None = None
    start = 0
    for block in blocks:
        if fields is None:
            fields = _fields_dtype(variables, block.shape[1])
        taken = np.ascontiguousarray(block).view(fields).reshape(len(block))
        stop = start + len(block)
        for i, target in enumerate(targets):
            target[start:stop] = taken[f"f{i}"]
        start = stop
    del targets
    out: dict[str, FastColumn] = {}
    for v in variables:  # each stored array is let go once converted
        column = stored.pop(v.name)
        if v.is_char:
            out[v.name] = padded_text_column(column, v.length, encoding)
        else:
            out[v.name] = ibm_to_ieee(column.view(">u8").ravel())
    return out


def _stored_width(variable: Namestr) -> int:
    """Bytes per record of a variable's stored array: text as :func:`pad_rows` lays it
    out, numbers as 8 bytes (a shorter IBM float is padded with zeros)."""
    return padded_width(variable.length) if variable.is_char else 8


def _fields_dtype(variables: Sequence[Namestr], record_length: int) -> np.dtype[np.void]:
    """A record as a structured dtype whose field ``f<i>`` is the raw bytes of
    ``variables[i]``: copying a field of many records is one strided copy."""
    return np.dtype(
        {
            "names": [f"f{i}" for i in range(len(variables))],
            "formats": [f"V{v.length}" for v in variables],
            "offsets": [v.position for v in variables],
            "itemsize": record_length,
        }
    )


def _field(stored: Bytes2D, length: int) -> npt.NDArray[np.void]:
    """The first ``length`` bytes of each row of ``stored`` as a 1-D array of ``V<length>``."""
    n, width = stored.shape
    dtype = np.dtype({"names": ["v"], "formats": [f"V{length}"], "offsets": [0], "itemsize": width})
    view: npt.NDArray[np.void] = stored.view(dtype).reshape(n)["v"]
    return view
