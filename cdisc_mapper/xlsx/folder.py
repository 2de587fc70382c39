"""``--study SPEC.xlsx``: a spec workbook used wherever a spec folder is."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.yamlio import register_provenance


def is_workbook(path: Path) -> bool:
    return Path(path).suffix.lower() == ".xlsx"


@contextmanager
def spec_folder(path: Path) -> Iterator[Path]:
    """The spec folder ``path``, or for a workbook a temporary folder of the spec files it
    holds (removed on exit). While the context is open, an error about one of those files
    names the workbook's sheet, row and column instead of the temporary file and line."""
    path = Path(path)
    if not is_workbook(path):
        yield path
        return
    if not path.is_file():
        raise SpecError("spec workbook not found", where=str(path))
    from cdisc_mapper.xlsx.reader import read_workbook

    with tempfile.TemporaryDirectory(prefix="cdisc-mapper-spec-") as tmp:
        folder = Path(tmp)
        written, locator = read_workbook(path, folder)
        for rel in written:
            register_provenance(folder / rel, partial(locator.locate, rel))
        try:
            yield folder
        finally:
            for rel in written:
                register_provenance(folder / rel, None)
