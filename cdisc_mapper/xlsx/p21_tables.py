"""Reading the sheets of a define-generator workbook made by another tool into tables:
each sheet found by name (:mod:`.p21_layout`), its columns by title, its rows as text by
column key with their Excel row numbers. A sheet or column that is not read is a warning;
a misspelt or missing required one, or one given twice, is a :class:`SpecError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from cdisc_mapper.errors import SpecError
from cdisc_mapper.xlsx.p21_layout import (
    SHEETS,
    SILENT_SHEETS,
    UNUSED_COLUMNS,
    SheetSpec,
    close_name,
    sheet_key,
)
from cdisc_mapper.xlsx.sheet import RowSource, cell_text, open_workbook, sheet_rows

#: A data row: column key -> the cell as stripped text (empty cells left out).
Row = dict[str, str]


def cell(value: Any) -> str | None:
    """A cell as text (``12.0`` -> ``12``), stripped; None when empty."""
    if value is None:
        return None
    text = cell_text(value).strip()
    return text or None


class Table:
    """The rows of one sheet, by column key, each with its Excel row number."""

    def __init__(
        self, xlsx: Path, spec: SheetSpec, title: str, ws: RowSource, warnings: list[str]
    ) -> None:
        self.xlsx = xlsx
        self.spec = spec
        self.title = title
        self.letters: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        cells = sheet_rows(xlsx, title, ws)
        header = [cell(v) for v in (cells[0] if cells else ())]
        by_name = {sheet_key(t): col for col in spec.columns for t in col.titles}
        index: dict[str, int] = {}
        unknown: list[tuple[str, str]] = []
        for i, text in enumerate(header):
            if text is None:
                continue
            letter = get_column_letter(i + 1)
            col = by_name.get(sheet_key(text))
            if col is None:
                unknown.append((text, letter))
            elif col.key in index:
                first = self.headers[col.key]
                if sheet_key(first) == sheet_key(text):
                    raise SpecError(
                        f"column {text!r} given twice (first in column {self.letters[col.key]})",
                        where=self.where(1, None, text, letter),
                    )
                warnings.append(
                    f"{self.where(1, None, text, letter)}: column not read: {first!r} "
                    f"(column {self.letters[col.key]}) gives the same"
                )
            else:
                index[col.key] = i
                self.letters[col.key] = letter
                self.headers[col.key] = text
        missing = [col for col in spec.columns if col.key not in index]
        wanted = {sheet_key(t): col.title for col in missing for t in col.titles}
        for text, letter in unknown:
            if sheet_key(text) in UNUSED_COLUMNS:
                warnings.append(
                    f"{self.where(1, None, text, letter)}: not read (define.xml has no place "
                    "for it)"
                )
                continue
            close = close_name(sheet_key(text), wanted)
            if close is not None:
                raise SpecError(
                    f"unknown column {text!r}, and column {close!r} is missing",
                    where=self.where(1, None, text, letter),
                    hint=f"did you mean {close!r}? (rename the column)",
                )
            warnings.append(f"{self.where(1, None, text, letter)}: unknown column, not read")
        required = [col.title for col in missing if col.required]
        if required:
            raise SpecError(
                "missing column(s): " + ", ".join(required),
                where=self.where(1),
                hint="expected columns: " + ", ".join(c.title for c in spec.columns),
            )
        self.rows: list[tuple[int, Row]] = []
        for r, values in enumerate(cells[1:], start=2):
            row = {}
            for key, i in index.items():
                text = cell(values[i]) if i < len(values) else None
                if text is not None:
                    row[key] = text
            if row:
                self.rows.append((r, row))

    def where(
        self, row: int, key: str | None = None, text: str | None = None, letter: str | None = None
    ) -> str:
        out = f"{self.xlsx}: sheet {self.title}, row {row}"
        if key is not None:
            text = self.headers.get(key, key)
            letter = self.letters.get(key, "?")
        if text is not None:
            out += f", column {text} ({letter})"
        return out

    def error(self, message: str, row: int, key: str | None, hint: str = "") -> SpecError:
        return SpecError(message, where=self.where(row, key), hint=hint)


def open_tables(xlsx: Path, warnings: list[str]) -> dict[str, Table]:
    wb = open_workbook(xlsx, "define workbook")
    try:
        by_key = {sheet_key(n): spec for spec in SHEETS for n in spec.names}
        found: dict[str, str] = {}
        unknown: list[str] = []
        for title in wb.sheetnames:
            spec = by_key.get(sheet_key(title))
            if spec is None:
                if title not in SILENT_SHEETS:
                    unknown.append(title)
            elif spec.name in found:
                raise SpecError(
                    f"sheets {found[spec.name]!r} and {title!r} are both the {spec.name} sheet",
                    where=f"{xlsx}: sheet {title}",
                )
            else:
                found[spec.name] = title
        missing = [spec for spec in SHEETS if spec.name not in found]
        wanted = {sheet_key(n): spec.name for spec in missing for n in spec.names}
        for title in unknown:
            close = close_name(sheet_key(title), wanted)
            if close is not None:
                raise SpecError(
                    f"unknown sheet {title!r}, and sheet {close!r} is missing",
                    where=f"{xlsx}: sheet {title}",
                    hint=f"did you mean {close!r}? (rename the sheet)",
                )
            warnings.append(f"{xlsx}: sheet {title}: unknown sheet, not read")
        required = [spec.name for spec in missing if spec.required]
        if required:
            raise SpecError(
                "missing sheet(s): " + ", ".join(required),
                where=str(xlsx),
                hint="a define-generator workbook has sheets "
                + ", ".join(spec.name for spec in SHEETS),
            )
        return {
            name: Table(xlsx, next(s for s in SHEETS if s.name == name), title, wb[title], warnings)
            for name, title in found.items()
        }
    finally:
        wb.close()
