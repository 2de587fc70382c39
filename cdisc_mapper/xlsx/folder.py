"""``--study SPEC.xlsx``: a spec workbook used wherever a spec folder is."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.yamlio import register_provenance
from cdisc_mapper.xlsx.importer import read_workbook
from cdisc_mapper.xlsx.sheet import open_workbook

#: What a spec folder or workbook holds: mapping specs, or define.xml metadata only.
MAPPING, METADATA = "mapping", "metadata"
#: A Variables column only a mapping workbook has.
_MAPPING_COLUMN = "Operation"


def is_workbook(path: Path) -> bool:
    return Path(path).suffix.lower() == ".xlsx"


def spec_kind(path: Path) -> str:
    """:data:`MAPPING` for a spec folder with ``study.yaml`` or a workbook made by
    ``spec export``; :data:`METADATA` for a folder holding only ``metadata.yaml`` (from
    ``spec import`` of a define-generator workbook) or such a workbook (its Variables sheet
    has no mapping columns)."""
    path = Path(path)
    if not is_workbook(path):
        if not (path / "study.yaml").is_file() and (path / "metadata.yaml").is_file():
            return METADATA
        return MAPPING
    if not path.is_file():
        return MAPPING  # the reader reports the missing file
    try:
        wb = open_workbook(path, "spec workbook")
    except SpecError:  # not a workbook, or a hostile one: the reader reports it
        return MAPPING
    try:
        names = {n.strip().casefold(): n for n in wb.sheetnames}
        sheet = names.get("variables")
        if sheet is None:
            return MAPPING
        header = next(wb[sheet].iter_rows(max_row=1, values_only=True), ())
        titles = {str(v).strip().casefold() for v in header if v is not None}
    finally:
        wb.close()
    return MAPPING if _MAPPING_COLUMN.casefold() in titles else METADATA


def metadata_only_error(path: Path) -> SpecError:
    return SpecError(
        "this spec holds define.xml metadata only (a define-generator workbook without "
        "mapping columns): only `cdisc-mapper define` can use it",
        where=str(path),
        hint="for mapping, use a spec folder or a workbook made by `cdisc-mapper spec export`",
    )


@contextmanager
def spec_folder(path: Path) -> Iterator[Path]:
    """The spec folder ``path``, or for a workbook a temporary folder of the spec files it
    holds (removed on exit). While the context is open, an error about one of those files
    names the workbook's sheet, row and column instead of the temporary file and line."""
    path = Path(path)
    if spec_kind(path) == METADATA:
        raise metadata_only_error(path)
    if not is_workbook(path):
        yield path
        return
    if not path.is_file():
        raise SpecError("spec workbook not found", where=str(path))
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
