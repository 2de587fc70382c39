"""Reading a sheet of a spec workbook: its rows as dicts by header, each with its Excel
row number, and the cell helpers every reader of the workbook shares (a cell as text, a
JSON or YAML cell, a comma-separated list, a validation error at its cell).

Every error is a :class:`SpecError` naming the workbook, sheet, row and column.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from pydantic import ValidationError

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.yamlio import load_yaml
from cdisc_mapper.xlsx import layout as L
from cdisc_mapper.zipguard import (
    UNSAVED_HINT,
    check_workbook,
    sheet_parts,
    unsaved_formulas,
    unsaved_message,
)

#: A data row of a sheet: column title -> cell value (None for an empty cell).
Row = dict[str, Any]

#: Variables-sheet column of each key of an SDTM variable's ``supp`` (for error locations).
SUPP_COLUMNS = {"label": "Supp Label", "qorig": "Supp QORIG", "qeval": "Supp QEVAL",
                "idvar": "Supp IDVAR"}  # fmt: skip


class RowSource(Protocol):
    """A worksheet as :class:`Sheet` reads it (openpyxl's, read-only or not)."""

    def iter_rows(self, *, values_only: Literal[True]) -> Iterator[tuple[Any, ...]]: ...


class Sheet:
    """The rows of one sheet as dicts by header, each with its Excel row number.

    The header must be the one :data:`layout.SHEETS` gives the sheet (columns may be left
    out, except :data:`layout.REQUIRED_COLUMNS`); empty rows are skipped.
    """

    def __init__(self, xlsx: Path, name: str, ws: RowSource) -> None:
        self.xlsx = xlsx
        self.name = name
        header = L.SHEETS[name]
        cells = sheet_rows(xlsx, name, ws)
        found = [cell_text(v) for v in (cells[0] if cells else ())]
        while found and found[-1] == "":
            found.pop()
        self.letters: dict[str, str] = {}
        for i, title in enumerate(found):
            letter = get_column_letter(i + 1)
            if not title.strip():
                raise SpecError(
                    "a column without a title, between titled ones",
                    where=f"{self.where(1, None)}, column {letter}",
                    hint="give it its title; a merged header cell keeps only its first title",
                )
            if title not in header:
                close = difflib.get_close_matches(title, header, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "expected: " + ", ".join(header)
                raise SpecError(
                    f"unknown column {title!r}", where=self.where(1, title, letter), hint=hint
                )
            if title in self.letters:
                raise SpecError(f"column {title!r} given twice", where=self.where(1, title, letter))
            self.letters[title] = letter
        missing = [h for h in L.REQUIRED_COLUMNS[name] if h not in self.letters]
        if missing:
            raise SpecError(
                "missing column(s): " + ", ".join(missing), where=self.where(1, None, None)
            )
        self.rows: list[tuple[int, Row]] = []
        for r, values in enumerate(cells[1:], start=2):
            row = {title: values[i] if i < len(values) else None for i, title in enumerate(found)}
            row = {k: (None if v is None or (isinstance(v, str) and v == "") else v)
                   for k, v in row.items()}  # fmt: skip
            if any(v is not None for v in row.values()):
                self.rows.append((r, row))

    def where(self, row: int, column: str | None, letter: str | None = None) -> str:
        text = f"{self.xlsx}: sheet {self.name}, row {row}"
        if column:
            letter = letter or self.letters.get(column, "?")
            text += f", column {column} ({letter})"
        return text

    def error(self, message: str, row: int, column: str | None, hint: str = "") -> SpecError:
        return SpecError(message, where=self.where(row, column), hint=hint)


def open_workbook(xlsx: Path, what: str) -> Workbook:
    """The workbook, read-only with cell values; a SpecError naming the file when it is
    missing, not a workbook, or larger than :func:`cdisc_mapper.zipguard.check_workbook`
    allows (checked before openpyxl opens it).

    The sheets' declared dimensions are not trusted (openpyxl would pad every row to
    them, and ignore cells outside them): rows are read as the cells give them.
    """
    check_workbook(xlsx, SpecError)
    try:
        wb = load_workbook(xlsx, read_only=True, data_only=True)
    except FileNotFoundError:
        raise SpecError(f"{what} not found", where=str(xlsx)) from None
    except Exception as exc:  # openpyxl raises many kinds on a file that is not xlsx
        raise SpecError(f"cannot read the workbook: {exc}", where=str(xlsx)) from None
    for ws in wb.worksheets:
        if isinstance(ws, ReadOnlyWorksheet):
            ws.reset_dimensions()
    return wb


def sheet_rows(xlsx: Path, title: str, ws: RowSource) -> list[tuple[Any, ...]]:
    """The rows of a sheet as values; a SpecError naming the sheet when openpyxl cannot
    read its XML (a damaged or hand-made workbook), or the cell of a formula without a
    saved value (:func:`cdisc_mapper.zipguard.unsaved_formulas`)."""
    try:
        rows = list(ws.iter_rows(values_only=True))
    except Exception as exc:  # openpyxl raises many kinds on damaged sheet XML
        raise SpecError(
            f"cannot read the sheet: {exc}",
            where=f"{xlsx}: sheet {title}",
            hint="save the workbook again from a spreadsheet program",
        ) from None
    unsaved = unsaved_formulas(xlsx, sheet_parts(xlsx).get(title, ""))
    if unsaved:
        letter, row = coordinate_from_string(unsaved[0])
        raise SpecError(
            unsaved_message(unsaved),
            where=f"{xlsx}: sheet {title}, row {row}, column {letter}",
            hint=UNSAVED_HINT,
        )
    return rows


def cell_text(value: Any) -> str:
    """A cell's value as text ('' for an empty cell; a whole float without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def cell_str(row: Row, column: str) -> str | None:
    """The cell of ``column`` as text, None when it is empty."""
    value = row.get(column)
    return None if value is None else cell_text(value)


def split_list(text: str | None) -> list[str]:
    """A comma-separated cell as its items (blanks around them removed, empty ones left out)."""
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def parse_cell(sheet: Sheet, r: int, column: str, text: str, how: Literal["json", "yaml"]) -> Any:
    """A JSON or YAML cell's value; a SpecError at the cell when it does not parse."""
    try:
        return json.loads(text) if how == "json" else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0]
        raise sheet.error(f"cannot read this {how.upper()} value: {first}", r, column) from None


def validation_error(
    sheet: Sheet,
    r: int,
    exc: ValidationError,
    columns: Mapping[Any, str],
    default: str | None = None,
    name: str | None = None,
) -> SpecError:
    """The first problem of a pydantic error, at the column (``columns``: spec key ->
    column, else ``default``) of row ``r``; an unknown key is put first. ``name`` starts
    the key path in the message."""
    err = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    loc = tuple(err["loc"])
    column = columns.get(loc[0], default) if loc else default
    if loc and loc[0] == "supp" and len(loc) > 1:
        column = SUPP_COLUMNS.get(str(loc[1]), column)
    path = ".".join(str(x) for x in (name, *loc) if x is not None) or "(row)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling)"
    elif err["type"] == "missing":
        msg = "required key missing"
    return sheet.error(f"{path}: {msg}", r, column)


def close_hint(name: str, known: Iterable[str], otherwise: str = "") -> str:
    """``did you mean 'X'?`` for the known name closest to ``name``, else ``otherwise``."""
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean {close[0]!r}?" if close else otherwise
