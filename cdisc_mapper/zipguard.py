"""A workbook inspected before any reader opens it, so that a small file never costs
huge resources.

An ``.xlsx`` file is a zip of XML parts. A 1.6 MB file can unpack to 1.5 GB (a zip
bomb), and a sheet of two cells, one at ``A1`` and one at ``XFD1048576``, makes pandas
build a grid of 17 billion cells. :func:`check_workbook`
reads only the zip's directory and streams each part once through an XML parser that
keeps nothing, and refuses, naming the workbook (and sheet) and the limit:

- more than :data:`MAX_PARTS` parts, or a part whose name is absolute or climbs out of
  the workbook (``/x``, ``C:x``, ``../x``);
- parts that unpack to more than :data:`MAX_UNPACKED_BYTES` in all, or a part over
  :data:`RATIO_GRACE_BYTES` that unpacks to more than :data:`MAX_RATIO` times its
  packed size (spreadsheet XML packs 5 to 20 times);
- a part that declares a DTD (no spreadsheet program writes one);
- a sheet whose used range (last row x last column, as openpyxl numbers them) passes
  Excel's :data:`MAX_SHEET_ROWS` or :data:`MAX_SHEET_COLUMNS`, or holds more than
  :data:`MAX_SHEET_CELLS` cells. The range is what the cells say, not the sheet's
  declared ``dimension``, which the readers do not trust (openpyxl pads every row to it
  and leaves out the cells outside it; pandas and ``xlsx.sheet.open_workbook`` reset it).

The limits are generous for real files: the bundled study's spec workbook unpacks to
0.5 MB (12 times its packed size; its largest sheet is 552 rows by 26 columns); a raw
form of 200,000 rows by 11 columns is 9.6 MB packed, 114 MB unpacked (12 times), and
takes pandas 27 s to read and this check about 3 s. A file that is not a zip is left to
the reader, which says so.

Readers open a workbook for the values Excel saved, so a formula without a saved value
(a workbook written by a program that does not compute formulas) would read as an empty
cell; :func:`unsaved_formulas` finds such cells for the readers to refuse.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from xml.parsers import expat

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter
from openpyxl.utils.exceptions import CellCoordinatesException

from cdisc_mapper.errors import CdiscMapperError

#: Most parts (zip entries) a workbook may have; a workbook of 100 sheets has about 300.
MAX_PARTS = 10_000
#: Most bytes all parts may unpack to: 1 GiB.
MAX_UNPACKED_BYTES = 1024**3
#: Most times a part may unpack to its packed size (real sheets: 5 to 20).
MAX_RATIO = 100
#: Parts up to this unpacked size are not held to :data:`MAX_RATIO` (1 MiB).
RATIO_GRACE_BYTES = 1024**2
#: Excel's own limits: rows and columns (``XFD``) of a sheet.
MAX_SHEET_ROWS = 1_048_576
MAX_SHEET_COLUMNS = 16_384
#: Most cells of a sheet's used range (rows x columns): 200,000 rows of 50 columns.
MAX_SHEET_CELLS = 10_000_000

_MB = 1024**2
_CHUNK = 1024**2
#: A cell reference as openpyxl reads it: column letters, then the row.
_CELL = re.compile(r"^[$]?([A-Za-z]{1,3})[$]?(\d+)$")
_RESAVE = "save the workbook again from a spreadsheet program"

Error = Callable[..., CdiscMapperError]
"""The error class of the caller's stage (``SpecError``, ``RawDataError``...)."""


def check_workbook(path: Path, error: Error = CdiscMapperError) -> None:
    """Refuse the workbook ``path`` (with ``error``) when opening it would cost more than
    the limits of this module allow; return quietly for a file that is not a zip."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # missing or not a workbook: the reader reports it
    with archive:
        parts = archive.infolist()
        _check_parts(path, parts, error)
        titles = sheet_titles(archive)
        for part in parts:
            if not part.is_dir():
                where = f"{path}: " + titles.get(part.filename, f"part {part.filename}")
                _check_sheet(archive, part, where, error)


def _check_parts(path: Path, parts: list[zipfile.ZipInfo], error: Error) -> None:
    """The zip's directory: number of parts, their names, sizes and packing ratios."""
    where = str(path)
    if len(parts) > MAX_PARTS:
        raise error(
            f"the workbook has {len(parts)} parts, more than the {MAX_PARTS} a workbook may have",
            where=where,
            hint="check that this is the right file",
        )
    for part in parts:
        if _outside(part.filename):
            raise error(
                f"the workbook holds a part named {part.filename!r}, outside the workbook "
                "(an absolute name or one with '..')",
                where=where,
                hint=f"spreadsheet programs never write such names: {_RESAVE}",
            )
        if part.file_size > RATIO_GRACE_BYTES and part.file_size > MAX_RATIO * max(
            part.compress_size, 1
        ):
            raise error(
                f"part {part.filename} unpacks to {part.file_size // _MB} MB from "
                f"{part.compress_size} bytes, more than {MAX_RATIO} times its size (a zip "
                "bomb or a damaged file)",
                where=where,
                hint=f"real workbooks pack 5 to 20 times; {_RESAVE}",
            )
    total = sum(part.file_size for part in parts)
    if total > MAX_UNPACKED_BYTES:
        raise error(
            f"the workbook unpacks to {total // _MB} MB, more than the "
            f"{MAX_UNPACKED_BYTES // _MB} MB a workbook may hold",
            where=where,
            hint="split it into smaller workbooks (raw data: export the forms as CSV)",
        )


def _outside(name: str) -> bool:
    """Whether a part name is absolute or climbs out of the workbook."""
    text = name.replace("\\", "/")
    return (
        text.startswith("/")
        or re.match(r"[A-Za-z]:", text) is not None
        or ".." in PurePosixPath(text).parts
    )


class _TooLarge(Exception):
    """The range read so far passes a limit (raised inside the XML parser)."""


class _HasDtd(Exception):
    """The part declares a DTD (raised inside the XML parser)."""


class _Extent:
    """The used range of a sheet part as openpyxl numbers its rows and cells: a row
    without ``r`` follows the one before, a cell without ``r`` the one before it. Its
    :meth:`start` sees every element of the part, so it is kept lean."""

    def __init__(self) -> None:
        self.row = 0
        self.column = 0
        self.rows = 0
        self.columns = 0
        self._known: dict[str, int] = {}
        """Column letters of a cell reference (``AB`` of ``AB12``) -> column number."""

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "c" or name.endswith(":c"):
            ref = attrs.get("r")
            self.column = self._column(ref) if ref else self.column + 1
            if self.column > self.columns:
                self.columns = self.column
                if self.column > MAX_SHEET_COLUMNS:
                    raise _TooLarge
        elif name == "row" or name.endswith(":row"):
            self.row = _row_number(attrs.get("r"), self.row + 1)
            self.column = 0
            if self.row > self.rows:
                self.rows = self.row
                if self.row > MAX_SHEET_ROWS:
                    raise _TooLarge

    def _column(self, ref: str) -> int:
        letters = ref.rstrip("0123456789")
        column = self._known.get(letters)
        if column is None:
            column = _column_number(ref, self.column + 1)
            if _CELL.match(ref):
                self._known[letters] = column
        return column

    def problem(self) -> str | None:
        """Why the range is too large, or None."""
        if self.rows > MAX_SHEET_ROWS:
            return f"row {self.rows} is past the last row a sheet has ({MAX_SHEET_ROWS})"
        if self.columns > MAX_SHEET_COLUMNS:
            return (
                f"column {self.columns} is past the last column a sheet has "
                f"({MAX_SHEET_COLUMNS}, XFD)"
            )
        if self.rows * self.columns > MAX_SHEET_CELLS:
            return (
                f"the used range is {self.rows} rows x {self.columns} columns "
                f"({self.rows * self.columns} cells), more than the {MAX_SHEET_CELLS} cells "
                "a sheet may have"
            )
        return None


def _row_number(text: str | None, following: int) -> int:
    """A row's ``r`` as openpyxl reads it (``12``, or a whole float such as ``1e6``)."""
    if not text:
        return following
    try:
        return int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            return following  # openpyxl refuses it: the reader reports it
        return int(value) if value.is_integer() else following


def _column_number(ref: str, following: int) -> int:
    """A cell's column from its reference (``B7`` -> 2), else the one after the last."""
    match = _CELL.match(ref)
    if match is None:
        return following  # openpyxl refuses it: the reader reports it
    number = 0
    for letter in match.group(1).upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _check_sheet(archive: zipfile.ZipFile, part: zipfile.ZipInfo, where: str, error: Error) -> None:
    """Stream one part through the XML parser openpyxl's sheet reader uses (expat):
    refuse a DTD, and a sheet's used range past the limits (as soon as the cells read so
    far pass them). A part that is not XML (an image) or not well formed is left to the
    reader."""
    extent = _Extent()
    parser = expat.ParserCreate()
    parser.StartElementHandler = extent.start
    parser.StartDoctypeDeclHandler = _has_dtd
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
                if extent.problem():
                    break
            else:
                parser.Parse(b"", True)
    except _HasDtd:
        raise error(
            f"part {part.filename} declares a DTD",
            where=where,
            hint=f"spreadsheet programs never write one: {_RESAVE}",
        ) from None
    except (_TooLarge, expat.ExpatError, zipfile.BadZipFile, EOFError, OSError):
        pass
    problem = extent.problem()
    if problem:
        raise error(
            problem,
            where=where,
            hint="delete the unused rows and columns (one cell far down or to the right "
            "makes the whole range count) or split the sheet; raw data: export it as CSV",
        )


def _has_dtd(*_: object) -> None:
    raise _HasDtd


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet title -> its part name, in the workbook's order (empty when the workbook
    cannot be read: its reader says why)."""
    try:
        with zipfile.ZipFile(path) as archive:
            titled = sheet_titles(archive)
    except (zipfile.BadZipFile, OSError):
        return {}
    return {title.removeprefix("sheet "): part for part, title in titled.items()}


def sheet_titles(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet part name -> ``sheet <title>`` in the workbook's order, from
    ``xl/workbook.xml`` and its relations (best effort: a part not found here is named as
    a part)."""
    names = {info.filename for info in archive.infolist()}
    ids = _attributes(archive, "xl/_rels/workbook.xml.rels", "Relationship", names)
    targets = {a.get("Id", ""): a.get("Target", "") for a in ids}
    sheets = _attributes(archive, "xl/workbook.xml", "sheet", names)
    out: dict[str, str] = {}
    for attrs in sheets:
        rid = next((v for k, v in attrs.items() if k.rpartition(":")[2] == "id"), "")
        target = targets.get(rid, "")
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        out[str(PurePosixPath(part))] = f"sheet {attrs.get('name', '?')}"
    return out


def _attributes(
    archive: zipfile.ZipFile, part: str, tag: str, names: set[str]
) -> list[dict[str, str]]:
    """The attributes of every ``tag`` element of ``part`` (none when it is missing or
    not XML)."""
    found: list[dict[str, str]] = []
    if part not in names:
        return found

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == tag:
            found.append(attrs)

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = _has_dtd  # the part's own check refuses it
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (_HasDtd, expat.ExpatError, zipfile.BadZipFile, EOFError, OSError):
        return []
    return found


# ------------------------------------------------------------------ formulas


#: A formula element (``<f>``, ``<x:f ...>``) somewhere in a sheet part's XML.
_FORMULA_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")


UNSAVED_HINT = (
    "open the workbook in a spreadsheet program and save it (that computes and saves the "
    "values), or enter the values"
)


def unsaved_message(refs: list[str]) -> str:
    """The error text for the cells :func:`unsaved_formulas` found (the first one is
    the error's location)."""
    also = ""
    if len(refs) > 1:
        also = f" (also {', '.join(refs[1:6])}{'...' if len(refs) > 6 else ''})"
    return f"the cell holds a formula whose value was never saved{also}"


def unsaved_formulas(path: Path, part: str) -> list[str]:
    """References (``C2``) of the cells of sheet ``part`` (:func:`sheet_parts`) that hold
    a formula without a saved value. A reader opening the workbook for the values Excel
    saved (openpyxl's ``data_only``) reads them as empty; a workbook written by a program
    that does not compute formulas (openpyxl, many report generators) has such cells. A
    sheet without any formula is only scanned for one; a missing part or XML the reader
    refuses has nothing to report here."""
    try:
        with zipfile.ZipFile(path) as archive:
            if part not in archive.namelist() or not _has_formula(archive, part):
                return []
            cells = _FormulaCells()
            parser = expat.ParserCreate()
            parser.StartElementHandler = cells.start
            parser.EndElementHandler = cells.end
            parser.CharacterDataHandler = cells.text
            with archive.open(part) as stream:
                while chunk := stream.read(_CHUNK):
                    parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (expat.ExpatError, zipfile.BadZipFile, EOFError, OSError):
        return []
    return cells.unsaved


def _has_formula(archive: zipfile.ZipFile, part: str) -> bool:
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(_CHUNK):
            if _FORMULA_ELEMENT.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


class _FormulaCells:
    """Cells with a formula and no saved value, by reference (a cell without ``r``
    follows the one before it, as openpyxl reads it). A value is saved when the cell has
    a ``<v>`` with text, or an empty ``<v>`` in a text cell (``t="str"``: a formula giving
    ``""``); openpyxl writes formulas with an empty ``<v>`` and no type."""

    def __init__(self) -> None:
        self.unsaved: list[str] = []
        self._row = 0
        self._column = 0
        self._text_cell = self._formula = self._value = self._in_value = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            row = attrs.get("r", "")
            self._row = int(row) if row.isdigit() else self._row + 1
            self._column = 0
        elif local == "c":
            self._column += 1
            # a bad reference counts as the next cell (openpyxl has refused it already)
            with contextlib.suppress(CellCoordinatesException, ValueError):
                letters, self._row = coordinate_from_string(attrs.get("r", ""))
                self._column = column_index_from_string(letters)
            self._text_cell = attrs.get("t") == "str"
            self._formula = self._value = False
        elif local == "f":
            self._formula = True
        elif local == "v":
            self._in_value = True
            self._value = self._value or self._text_cell

    def text(self, data: str) -> None:
        if self._in_value and data.strip():
            self._value = True

    def end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "v":
            self._in_value = False
        elif local == "c" and self._formula and not self._value:
            self.unsaved.append(f"{get_column_letter(self._column)}{self._row}")
