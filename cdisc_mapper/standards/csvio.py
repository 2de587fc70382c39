"""Reading the standards CSV files with line numbers for error messages."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from cdisc_mapper.errors import Location, StandardsError


def read_table(path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, row)`` for each data row of a UTF-8 CSV file.

    Raises :class:`StandardsError` naming the file when it is missing or lacks a column of
    ``required``. Cells are returned as written (the build writes them stripped).
    """
    if not path.is_file():
        raise StandardsError(
            "standards file not found",
            where=str(path),
            hint="rebuild with `python tools/build_specs.py --reference ../shared/reference "
            "--out specs` or check the specs folder",
        )
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise StandardsError("standards file is empty", where=str(path))
        missing = [c for c in required if c not in header]
        if missing:
            raise StandardsError(
                f"missing column(s) {', '.join(missing)}",
                where=Location(file=str(path), line=1),
                hint=f"found {', '.join(header)}",
            )
        width = len(header)
        for row in reader:
            line = reader.line_num
            if len(row) != width:
                raise StandardsError(
                    f"expected {width} cells, found {len(row)}",
                    where=Location(file=str(path), line=line),
                )
            yield line, dict(zip(header, row, strict=True))


def split_codes(cell: str) -> tuple[str, ...]:
    """Split a ``;``-separated cell into a tuple of stripped, non-empty items."""
    return tuple(item.strip() for item in cell.split(";") if item.strip())
