"""Dataset records in bounded memory, so that a package larger than memory validates.

:func:`cdisc_mapper.validate.engine.read_package` reads every file of at most an eighth
of the budget (:attr:`FrameStore.lazy_bytes`) whole, as before: a file that cannot be
read is check SD0017's before any check runs. A larger XPT file is only *screened*: its
header is read by the reader's fast engine (:func:`cdisc_mapper.xpt.reader.read_fast`
with no columns: a plain single-member XPORT v5 file, complete) and one pass over its
bytes shows that its text is ASCII, so that it decodes in any ASCII-compatible encoding
and reading it cannot fail. Its records are read when a check first uses them
(:func:`read_records`: in row chunks, the memory-mapped pages let go once decoded, only
the columns asked for), giving the frame :func:`cdisc_mapper.xpt.read_xpt` gives. A
file that fails the screen is read whole at once.

A :class:`FrameStore` keeps the frames read within a budget (:data:`CACHE_BYTES`), the
least recently used let go first; the dataset whose checks are running is held apart
from the budget (:meth:`FrameStore.turn`). The engine runs the checks dataset by dataset,
so validation holds at most the largest dataset plus the budget's smaller ones (DM, SE,
TS, ADSL..., which other datasets' checks look up).
"""

from __future__ import annotations

import mmap
import os
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper.validate.errors import ValidationInputError
from cdisc_mapper.validate.unreadable import Unreadable, read_or_explain
from cdisc_mapper.xpt import XptMetadata
from cdisc_mapper.xpt.columns import (
    HEAD_BYTES,
    file_blocks,
    file_layout,
    memory_blocks,
    read_columns,
)
from cdisc_mapper.xpt.fastread import (
    Bytes2D,
    Layout,
    LayoutError,
    TextColumn,
    head_layout,
    observations,
    parse_layout,
)
from cdisc_mapper.xpt.reader import _fast_metadata, _metadata

CACHE_BYTES = 512 * 2**20
"""Memory the frames of datasets not being checked may hold (least recently used out)."""
CHUNK_ROWS = 65_536
"""Records decoded at a time when a screened file is read."""
_ASCII = bytes(range(128))


class Held(Protocol):
    """What the store needs of a dataset: its name, its frame (None when not held), and
    a way to let the frame go."""

    name: str

    @property
    def frame(self) -> pd.DataFrame | None: ...

    def release(self) -> None: ...


def frame_bytes(frame: pd.DataFrame) -> int:
    """Memory a frame holds (texts counted once per category)."""
    return int(frame.memory_usage(deep=True, index=False).sum())


class FrameStore:
    """The frames held between uses, within ``budget`` bytes; see the module docstring."""

    def __init__(self, budget: int = CACHE_BYTES) -> None:
        self.budget = budget
        self.lazy_bytes = budget // 8
        """XPT files larger than this are screened and read when used (64 MiB by default)."""
        self._held: OrderedDict[str, tuple[Held, int]] = OrderedDict()
        self._pinned: set[str] = set()
        self._looked_up: set[str] = set()

    def loaded(self, ds: Held) -> None:
        """``ds`` holds its frame now: counted, and the least recently used others let go
        while the frames not being checked hold more than the budget."""
        assert ds.frame is not None
        self._held[ds.name] = (ds, frame_bytes(ds.frame))
        self.used(ds)
        self._fit(keep=ds.name)

    def used(self, ds: Held) -> None:
        """``ds``'s frame was used: the last to be let go; a use by another dataset's
        checks makes it a look-up, kept after its own checks."""
        if ds.name in self._held:
            self._held.move_to_end(ds.name)
        if self._pinned and ds.name not in self._pinned:
            self._looked_up.add(ds.name)

    @contextmanager
    def turn(self, ds: Held) -> Iterator[None]:
        """Hold ``ds``'s frame apart from the budget while its checks run; then keep it
        only if other datasets' checks look it up (DM, SE, ADSL...) and it fits the
        budget: the others' records are not needed again."""
        self._pinned.add(ds.name)
        try:
            yield
        finally:
            self._pinned.discard(ds.name)
            entry = self._held.get(ds.name)
            if entry is not None and (ds.name not in self._looked_up or entry[1] > self.budget):
                self._let_go(ds.name)
            self._fit()

    def resize(self, budget: int) -> None:
        """Hold at most ``budget`` bytes from now on (the frames beyond it let go)."""
        self.budget = budget
        self._fit()

    @property
    def held_bytes(self) -> int:
        """Memory of the frames held, the dataset being checked included."""
        return sum(size for _, size in self._held.values())

    def _fit(self, keep: str = "") -> None:
        total = sum(s for name, (_, s) in self._held.items() if name not in self._pinned)
        for name in list(self._held):
            if total <= self.budget:
                return
            if name in self._pinned or name == keep:
                continue
            total -= self._held[name][1]
            self._let_go(name)

    def _let_go(self, name: str) -> None:
        ds, _ = self._held.pop(name)
        ds.release()


@dataclass(frozen=True)
class Source:
    """Where a dataset's records are read again from once let go.

    Attributes:
        path: the file; ``rel`` its path in the report.
        encoding: as given to the validator.
        chunked: the file passed :func:`screen`: read by :func:`read_records` (in parts,
            the columns asked for); else read whole as before
            (:func:`cdisc_mapper.validate.unreadable.read_or_explain`).
        store: the store that holds the frame and lets it go.
        screened: the file's :func:`stamp` taken before it was screened (a chunked
            file whose stamp is unchanged is not scanned again).
    """

    path: Path
    rel: str
    encoding: str | None
    chunked: bool
    store: FrameStore
    screened: tuple[int, int] | None = None

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The records (only ``columns`` when given, for a screened file).

        Raises:
            ValidationInputError: the file cannot be read any more (it changed while
                the package was being validated).
        """
        if self.chunked:
            try:
                return read_records(self.path, self.encoding, columns, self.screened)
            except (LayoutError, OSError, ValueError) as exc:
                raise self._changed(str(exc)) from exc
        read = read_or_explain(self.path, self.rel, self.encoding)
        if isinstance(read, Unreadable):
            raise self._changed(read.message)
        frame = read[0].reset_index(drop=True)
        return frame if columns is None else frame[columns]

    def read_rows(self, rows: Sequence[int], columns: Sequence[str]) -> pd.DataFrame:
        """The records at positions ``rows``, only ``columns`` (:func:`read_rows` for a
        screened file; else the whole file read, as :meth:`read`).

        Raises:
            ValidationInputError: as :meth:`read`.
        """
        if not self.chunked:
            frame = self.read()
            return frame.iloc[list(rows)][[c for c in columns if c in frame.columns]]
        try:
            return read_rows(self.path, self.encoding, rows, columns, self.screened)
        except (LayoutError, OSError, ValueError, IndexError) as exc:
            raise self._changed(str(exc)) from exc

    def _changed(self, reason: str) -> ValidationInputError:
        return ValidationInputError(
            f"the file was read at the start but cannot be read now: {reason}",
            where=self.rel,
            hint="do not change the package while it is being validated; run again",
        )


def screen(path: Path, encoding: str | None) -> XptMetadata | None:
    """The metadata of ``path`` when it can be read later in parts: a plain XPORT v5 file
    that the fast engine reads, with ASCII text only; None otherwise (read it whole).

    One pass over the file: the reader's block reader
    (:func:`~cdisc_mapper.xpt.columns.file_blocks`) checks that no second member follows
    while the blocks are screened for text bytes with bit 7 set."""
    if encoding is not None and _ASCII.decode(encoding, errors="replace") != _ASCII.decode():
        return None
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            layout, rows = file_layout(handle, size)
            if not _ascii_text(file_blocks(handle, layout, size, rows), layout):
                return None
        return _metadata(_fast_metadata(path, layout, encoding), rows)
    except (LayoutError, OSError):  # not plain v5, truncated, or unreadable: read whole
        return None


def stamp(path: Path) -> tuple[int, int]:
    """The size and modification time of ``path``: a screened file whose stamp is the same
    when it is read is the file screened (:func:`read_records` trusts its layout)."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def _ascii_text(blocks: Iterable[Bytes2D], layout: Layout) -> bool:
    """Whether every byte of the character variables is ASCII (bit 7 clear)."""
    char = np.zeros(layout.record_length, dtype=bool)
    for var in layout.variables:
        if var.is_char:
            char[var.position : var.position + var.length] = True
    seen = np.zeros(layout.record_length, dtype=np.uint8)
    for block in blocks:  # every block is read: file_blocks checks for a second member
        if char.any() and len(block):
            seen |= np.bitwise_or.reduce(block, axis=0)
    return not (seen[char] & 0x80).any()


def read_records(
    path: Path,
    encoding: str | None,
    columns: Sequence[str] | None = None,
    screened: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """The records of a file :func:`screen` accepted, as :func:`cdisc_mapper.xpt.read_xpt`
    gives them with ``text="category"`` (only ``columns``, in that order, when given),
    decoded :data:`CHUNK_ROWS` records at a time by the reader's block reader
    (:func:`cdisc_mapper.xpt.columns.read_columns`), so that the file is never all in
    memory. ``screened``: the file's :func:`stamp` when it was screened; when it is
    unchanged the file is not scanned again for a second member.

    Raises:
        LayoutError: the file changed since it was screened.
    """
    with _mapped(path, screened) as (mapped, layout):
        return _decoded(mapped, layout, encoding, columns)


@contextmanager
def _mapped(path: Path, screened: tuple[int, int] | None) -> Iterator[tuple[mmap.mmap, Layout]]:
    """``path`` mapped into memory and its layout: from its head alone when it was
    screened (``screened``, its :func:`stamp` then, must still be its stamp), else from
    the whole file (which is scanned for a second member).

    Raises:
        LayoutError: the file changed since it was screened.
    """
    with path.open("rb") as handle:
        if screened is not None and stamp(path) != screened:
            raise LayoutError("the file changed since it was screened")
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        raw = cast("bytes", mapped)
        yield mapped, head_layout(raw[:HEAD_BYTES]) if screened is not None else parse_layout(raw)
    finally:
        mapped.close()


def _decoded(
    mapped: mmap.mmap, layout: Layout, encoding: str | None, columns: Sequence[str] | None
) -> pd.DataFrame:
    records = observations(cast("bytes", mapped), layout)
    by_name = {v.name: v for v in layout.variables}
    names = (
        list(by_name) if columns is None else [c for c in dict.fromkeys(columns) if c in by_name]
    )
    wanted = [by_name[n] for n in names]
    rows = len(records)
    numbers = {n: np.empty(rows) for n in names if not by_name[n].is_char}
    texts: dict[str, list[_Texts]] = {n: [] for n in names if by_name[n].is_char}
    for start in range(0, max(rows, 1), CHUNK_ROWS):
        block = records[start : start + CHUNK_ROWS]
        columns_read = read_columns(memory_blocks(block), len(block), wanted, encoding or "utf-8")
        for name, column in columns_read.items():
            if isinstance(column, TextColumn):
                texts[name].append((_narrow(column.codes, len(column.values)), column.values))
            else:
                numbers[name][start : start + len(block)] = column
        del columns_read
        _release(mapped, layout.data_start + (start + CHUNK_ROWS) * layout.record_length)
    data = {n: numbers.pop(n) if n in numbers else _categorical(texts.pop(n)) for n in names}
    # the columns as they are: no copy of the numbers into one block
    return pd.DataFrame(data, index=pd.RangeIndex(rows), columns=names, copy=False)


def read_rows(
    path: Path,
    encoding: str | None,
    rows: Sequence[int],
    columns: Sequence[str],
    screened: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """The records at positions ``rows`` (0-based, in that order) of a file :func:`screen`
    accepted, only ``columns`` (those it has, in that order; text as ``str``): the values
    :func:`read_records` gives there, reading only those records.

    Raises:
        LayoutError: the file changed since it was screened.
    """
    with _mapped(path, screened) as (mapped, layout):
        by_name = {v.name: v for v in layout.variables}
        wanted = [by_name[c] for c in dict.fromkeys(columns) if c in by_name]
        picked = observations(cast("bytes", mapped), layout)[np.asarray(rows, dtype=np.intp)]
        data = read_columns([picked], len(picked), wanted, encoding or "utf-8")
    out = {
        name: column.values[column.codes] if isinstance(column, TextColumn) else column
        for name, column in data.items()
    }
    return pd.DataFrame(out, index=pd.RangeIndex(len(picked)), columns=list(out), copy=False)


_Texts = tuple[npt.NDArray[np.integer[Any]], npt.NDArray[np.object_]]
"""One chunk of a text column: codes (as narrow as its texts allow) and texts."""


def _narrow(codes: npt.NDArray[np.integer[Any]], count: int) -> npt.NDArray[np.integer[Any]]:
    """``codes`` (0 to count-1) in the narrowest integer type: the chunks of every text
    column are held until the column is joined."""
    return codes.astype(np.min_scalar_type(max(count - 1, 0)), copy=False)


def _categorical(parts: list[_Texts]) -> pd.Categorical:
    """A text column from its chunks, as the reader gives it for the whole file: a
    categorical whose categories are in order of first appearance."""
    # each chunk's texts are in order of first appearance: factorized together, they
    # are numbered in order of first appearance in the file
    order, texts = pd.factorize(np.concatenate([values for _, values in parts]))
    numbers = _narrow(order, len(texts))
    starts = np.cumsum([0] + [len(values) for _, values in parts])
    codes = np.concatenate([numbers[s:][c] for s, (c, _) in zip(starts, parts, strict=False)])
    categories = pd.Index(np.asarray(texts, dtype=object), dtype=object)
    return pd.Categorical.from_codes(codes, categories=categories)


def _release(mapped: mmap.mmap, upto: int) -> None:
    """Drop the pages of ``mapped`` before ``upto`` from memory (they are read)."""
    upto = min(upto, len(mapped))
    end = upto - upto % mmap.PAGESIZE
    if end > 0 and hasattr(mapped, "madvise"):
        mapped.madvise(mmap.MADV_DONTNEED, 0, end)
