"""Reading a large CSV/TXT form by parts of its subjects, in bounded memory.

:func:`~cdisc_mapper.raw.reader.read_form` holds every cell of a form as a Python string
at once (about 1.2 GB for the 10,000-subject ALS export, two thirds of it one lab file).
A study mapped by parts of its subjects reads its forms in three steps instead, none of
which holds more than a block of the file (:data:`BLOCK_BYTES`) or one part's records:

1. :func:`scan_subjects`: each line's subject, as a code into a :class:`Subjects` table
   shared by the forms (four bytes a line; the subject column is the only one turned
   into text), every line checked as the reader's fast path checks it;
2. :func:`route_lines`: the file's lines, read again by blocks, cut by the part of
   their subject: each part's lines are whole lines of the file, in file order, with
   their line numbers (the caller keeps them on disk);
3. :func:`parse_lines`: one part's lines read into the records
   :func:`~cdisc_mapper.raw.reader.read_form` gives for them (the same stripped text,
   the same row numbers, rows without any value dropped).

Only what the reader's fast path reads is read so: a UTF-8 file whose every record is
one line with the header's number of fields (blank lines allowed). For anything else (a
quoted value over several lines, a row cut short, text that is not UTF-8, another
encoding, a workbook) :func:`scan_subjects` gives None and the caller reads the file
whole with :func:`~cdisc_mapper.raw.reader.open_form`, which reads it, or names the
file, line and cause of its error, as it always does.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.errors import Location, RawDataError
from cdisc_mapper.raw.reader import (
    UTF8_COMMA,
    CsvDialect,
    quick_cells,
    quick_lines,
    records_only,
    text_table,
)

BLOCK_BYTES = 16 * 1024 * 1024
"""About this many bytes of a file are read at a time (some 200,000 lab records)."""

_BOM = "\ufeff".encode()


@dataclass
class Subjects:
    """The subject identifiers met so far (stripped), each with its code (its position)."""

    codes: dict[str, int] = field(default_factory=dict)

    def code(self, values: np.ndarray) -> np.ndarray:
        """The code of each (unstripped) identifier of ``values``, new ones added."""
        positions, distinct = pd.factorize(values)
        table = np.empty(len(distinct), dtype=np.int32)
        for i, value in enumerate(distinct):
            table[i] = self.codes.setdefault(str(value).strip(), len(self.codes))
        return table[positions]

    def values(self) -> np.ndarray:
        """The identifiers by code."""
        out = np.empty(len(self.codes), dtype=object)
        for value, code in self.codes.items():
            out[code] = value
        return out


@dataclass(frozen=True)
class FormLines:
    """A form file read by :func:`scan_subjects`: its header (row 1) and the code of the
    subject of each line after it (blank lines too: empty identifier)."""

    path: Path
    header: list[str]
    subjects: np.ndarray

    def counts(self, known: int) -> np.ndarray:
        """Lines per subject code (``known`` codes)."""
        return np.bincount(self.subjects, minlength=known)


def chunkable(path: Path, dialect: CsvDialect = UTF8_COMMA) -> bool:
    """Whether :func:`scan_subjects` may read ``path``: a CSV/TXT file in UTF-8 with an
    ASCII delimiter."""
    return (
        path.suffix.lower() in {".csv", ".txt"}
        and dialect.is_utf8
        and dialect.delimiter.isascii()
        and path.is_file()
    )


def line_blocks(path: Path, size: int = BLOCK_BYTES) -> Iterator[bytes]:
    """The file's bytes (without a UTF-8 byte order mark) in blocks of whole lines of
    about ``size`` bytes each (a longer line is a block of its own)."""
    with path.open("rb") as fh:
        head = fh.read(len(_BOM))
        rest = b"" if head == _BOM else head
        block = fh.read(size)
        while block:
            data = rest + block
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if cut:
                yield data[:cut]
            block = fh.read(size)
    if rest:
        yield rest


def _header(block: bytes, delimiter: str) -> tuple[list[str], int] | None:
    """The header's fields and the length of its line, if the block's first line is a
    header the fast path reads (a value in it, no repeated stripped name)."""
    end = block.find(b"\n") + 1 or len(block)
    lines = quick_lines(block[:end], delimiter)
    if lines is None:
        return None
    text = block[:end].decode("utf-8").rstrip("\r\n")
    header = lines.quoted.get(0) or text.split(delimiter)
    names = [v.strip() or f"Unnamed: {i}" for i, v in enumerate(header)]
    if not any(v.strip() for v in header) or len(set(names)) != len(names):
        return None
    return header, end


def _block_subjects(block: bytes, delimiter: str, width: int, position: int) -> np.ndarray | None:
    """The (unstripped) value of field ``position`` on each line of ``block``, the lines
    checked as :func:`~cdisc_mapper.raw.reader.quick_lines` checks them; None if they fail."""
    lines = quick_lines(block, delimiter, width)
    if lines is None:
        return None
    if not block.strip():  # blank lines only (pandas reads no field in them)
        return np.full(lines.count, "", dtype=object)
    try:
        block.decode("utf-8")  # the columns not turned into text are checked too
        table = pd.read_csv(
            io.BytesIO(block), header=None, names=range(width), usecols=[position], dtype=str,
            na_filter=False,
            sep=delimiter, skip_blank_lines=False, index_col=False, engine="c",
            encoding="utf-8",
        )  # fmt: skip
    except (UnicodeDecodeError, ValueError):
        return None
    if len(table) != lines.count:
        return None
    values = table[position].to_numpy(dtype=object)
    for line, row in lines.quoted.items():
        values[line] = row[position] if len(row) > position else ""
    return values


def scan_subjects(
    path: Path,
    column: str,
    subjects: Subjects,
    dialect: CsvDialect = UTF8_COMMA,
    size: int = BLOCK_BYTES,
) -> FormLines | None:
    """Each line's subject (field ``column``) of the form file ``path`` as a code of
    ``subjects`` (new identifiers added), reading one block at a time; None when the
    file is not :func:`chunkable`, lacks the column or a line needs the strict reader
    (read it whole: :func:`~cdisc_mapper.raw.reader.open_form`)."""
    if not chunkable(path, dialect):
        return None
    blocks = line_blocks(path, size)
    found = _header(next(blocks, b""), dialect.delimiter)
    if found is None:
        return None
    header, _ = found
    names = [v.strip() or f"Unnamed: {i}" for i, v in enumerate(header)]
    if column not in names:
        return None
    position = names.index(column)
    codes: list[np.ndarray] = []
    for block in _after_header(line_blocks(path, size)):
        values = _block_subjects(block, dialect.delimiter, len(header), position)
        if values is None:
            return None
        codes.append(subjects.code(values))
    joined = np.concatenate(codes) if codes else np.empty(0, dtype=np.int32)
    return FormLines(Path(path), header, joined)


def _after_header(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """The blocks of :func:`line_blocks` without the file's first line (the header)."""
    first = True
    for block in blocks:
        rest = block[block.find(b"\n") + 1 or len(block) :] if first else block
        first = False
        if rest:
            yield rest


def route_lines(
    form: FormLines, part_of: np.ndarray, size: int = BLOCK_BYTES
) -> Iterator[tuple[int, bytes, np.ndarray]]:
    """The lines of ``form`` after the header, a block at a time, cut by part (the part
    of each subject code: ``part_of``): ``(part, lines' bytes, their line numbers)`` for
    each part with lines in the block, the lines in file order. The file is read as
    :func:`scan_subjects` read it (the same blocks)."""
    line = 2  # the file line of the block's first line
    for block in _after_header(line_blocks(form.path, size)):
        octets = np.frombuffer(block, dtype=np.uint8)
        ends = (np.flatnonzero(octets == 10) + 1).astype(np.int32)
        starts = np.concatenate(([0], ends[ends < len(block)])).astype(np.int32)
        stops = np.concatenate((starts[1:], [len(block)])).astype(np.int32)
        parts = part_of[form.subjects[line - 2 : line - 2 + len(starts)]]
        order = np.argsort(parts, kind="stable")
        lengths = (stops - starts)[order]
        offsets = np.cumsum(lengths) - lengths
        gather = np.repeat(starts[order] - offsets, lengths)
        gather += np.arange(len(gather), dtype=np.int32)
        moved = octets[gather]
        numbers = np.arange(line, line + len(starts), dtype=np.int64)[order]
        bounds = np.searchsorted(parts[order], np.arange(int(part_of.max(initial=0)) + 2))
        for k in range(len(bounds) - 1):
            a, b = bounds[k], bounds[k + 1]
            if b > a:
                first, last = offsets[a], offsets[b - 1] + lengths[b - 1]
                yield k, moved[first:last].tobytes(), numbers[a:b]
        line += len(starts)


def parse_lines(
    path: Path, header: list[str], body: bytes, lines: np.ndarray, delimiter: str
) -> pd.DataFrame:
    """The records of whole lines of the form file ``path`` (``body``, checked by
    :func:`scan_subjects`; ``lines``: their line numbers), as
    :func:`~cdisc_mapper.raw.reader.read_form` reads them."""
    if not body:
        cells = np.empty((0, len(header)), dtype=object)
    else:
        found = quick_cells(body, delimiter, len(header))
        if found is None or len(found) != len(lines):
            raise RawDataError("the file changed while it was read", where=Location(file=str(path)))
        cells = found
    return records_only(text_table(path, header, cells, lines))
