"""An Excel sheet as the text its user sees, cell by cell.

A workbook stores numbers and dates as binary numbers plus a number format that says how
to show them; the EDC user read (and typed) the shown text, so that is the value:

* a text cell is its text; a TRUE/FALSE cell is ``TRUE``/``FALSE``;
* a date cell is an ISO 8601 date, ``2020-03-05``; a date with a time (one the number
  format shows, or one the cell holds) is ``2020-03-05T14:30`` (seconds when shown or
  not zero; milliseconds when not zero); a time-only cell is ``14:30``; an elapsed-time
  cell (``[h]:mm``) is ``26:30``;
* a number cell is its plain decimal text (``4``, ``4.1``, ``0.0000001``: no exponent, no
  float noise, no ``.0`` on whole numbers), padded with zeros to the decimals its number
  format shows (``4.10`` under ``0.00``; ``4.1`` under ``0.0#``), so a result keeps its
  precision. Decorations are not part of the value: thousands separators, currency
  symbols, colours, brackets (a negative number is written with ``-``).

Where the shown text cannot be known exactly, the cell's exact stored value is read rather
than a guess: when the format shows fewer decimals than the cell holds (Excel would round
``4.123`` to ``4.1``; the reader keeps ``4.123``), and for percent, scientific, fraction
and other formats that are not plain digits (``0.125`` for a cell shown as ``12.5%``).
A cell holding an Excel error (``#DIV/0!``, ``#N/A``...) is not data: reading fails.
Formula cells are read as the value Excel last computed and saved; a formula without a
saved value (a workbook written by a program that does not compute formulas) is an error
naming the cell, not an empty cell.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string

from cdisc_mapper.errors import Location, RawDataError
from cdisc_mapper.zipguard import UNSAVED_HINT, sheet_parts, unsaved_formulas, unsaved_message

# ------------------------------------------------------------------ number formats

_QUOTED = r'"[^"]*"'
_ESCAPED = r"\\."
_BRACKET = r"\[[^\]]*\]"
_SPACING = r"[_*]."  # _x leaves the width of x, *x fills with x
#: Parts of a number format that are shown as they are, never a digit of the value.
_LITERALS = re.compile(f"{_QUOTED}|{_ESCAPED}|{_BRACKET}|{_SPACING}")
#: Format letters of values that are not plain digits: percent, scientific, fraction,
#: text, dates and times.
_NOT_PLAIN = re.compile(r"[%Ee/@dDmMyYhHsS]")
#: A plain-digit format once literals are gone: digits, separators, one decimal point.
_PLAIN = re.compile(r"[^0#?.,]*?(?P<int>[0#?,]*)(?:\.(?P<frac>[0#?]*))?[^0#?.,]*")
_TIME_LETTERS = re.compile(r"[hHsS]")


@functools.lru_cache(maxsize=256)
def _sections(fmt: str) -> tuple[str, ...]:
    """The ``;``-separated sections of a number format (``;`` in quotes is literal)."""
    out: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in fmt:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return tuple(out)


def _section_for(fmt: str, value: float) -> str:
    """The section Excel shows ``value`` with: positive; negative; zero; text."""
    sections = _sections(fmt)
    if value < 0 and len(sections) > 1:
        return sections[1]
    if value == 0 and len(sections) > 2:
        return sections[2]
    return sections[0]


def format_decimals(fmt: str | None, value: float) -> int | None:
    """The decimals ``fmt`` always shows ``value`` with (``0.00`` -> 2, ``0.0#`` -> 1,
    ``General`` -> 0), or None when the format is not plain digits or scales the value
    (``0,`` shows thousands)."""
    if fmt is None:
        return 0
    return _section_decimals(_section_for(fmt, value))


@functools.lru_cache(maxsize=256)
def _section_decimals(section: str) -> int | None:
    shown = _LITERALS.sub("", section)
    if shown.strip().lower() in ("", "general"):
        return 0
    if _NOT_PLAIN.search(shown):
        return None
    match = _PLAIN.fullmatch(shown)
    if match is None or match["int"].endswith(","):
        return None
    return (match["frac"] or "").count("0")


def plain_number(value: int | float) -> str:
    """The exact stored number as plain decimal text: the shortest text that reads back
    as the same number, without exponent, without ``.0`` on whole numbers, ``0`` for -0."""
    if isinstance(value, int):
        return str(value)
    text = f"{Decimal(repr(value)):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def number_text(value: int | float, fmt: str | None) -> str:
    """A number cell as shown under ``fmt``, never rounded (see the module docstring)."""
    text = plain_number(value)
    decimals = format_decimals(fmt, value)
    have = len(text.partition(".")[2])
    if decimals is None or have >= decimals:  # more decimals than shown: the stored stay
        return text
    return text + ("" if have else ".") + "0" * (decimals - have)


# ------------------------------------------------------------------ dates and times


def _shows_time(fmt: str | None) -> bool:
    return bool(fmt) and bool(_TIME_LETTERS.search(_LITERALS.sub("", _sections(fmt)[0])))


def _shows_seconds(fmt: str | None) -> bool:
    return bool(fmt) and "s" in _LITERALS.sub("", _sections(fmt)[0]).lower()


def _clock(hours: int, minutes: int, seconds: int, micro: int, fmt: str | None) -> str:
    text = f"{hours:02d}:{minutes:02d}"
    if seconds or micro or _shows_seconds(fmt):
        text += f":{seconds:02d}"
    if micro:
        text += f".{micro:06d}".rstrip("0")
    return text


def date_text(value: dt.datetime | dt.date | dt.time | dt.timedelta, fmt: str | None) -> str:
    """A date, time or elapsed-time cell as ISO 8601 text (see the module docstring)."""
    if isinstance(value, dt.timedelta):
        micro = value // dt.timedelta(microseconds=1)
        sign = "-" if micro < 0 else ""
        seconds, micro = divmod(abs(micro), 1_000_000)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return sign + _clock(hours, minutes, seconds, micro, fmt)
    if isinstance(value, dt.time):
        return _clock(value.hour, value.minute, value.second, value.microsecond, fmt)
    day = value.date() if isinstance(value, dt.datetime) else value
    if not isinstance(value, dt.datetime) or (value.time() == dt.time() and not _shows_time(fmt)):
        return day.isoformat()
    clock = _clock(value.hour, value.minute, value.second, value.microsecond, fmt)
    return f"{day.isoformat()}T{clock}"


# ------------------------------------------------------------------ cells and sheets


def cell_text(cell: Any, path: Path) -> str:
    """The text a cell shows (``""`` when empty); RawDataError on an error value."""
    value = cell.value
    if value is None:
        return ""
    if cell.data_type == "e":
        where = Location(file=str(path), row=cell.row, column=get_column_letter(cell.column))
        raise RawDataError(
            f"the cell holds no value Excel can show ({value}), not data",
            where=where,
            hint="fix the formula or enter the value in the workbook",
        )
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return number_text(value, cell.number_format)
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        return date_text(value, cell.number_format)
    return str(value)


def _trimmed(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _first_sheet_rows(book: Any, path: Path) -> list[list[str]]:
    sheet = book.worksheets[0]
    sheet.reset_dimensions()  # some writers store a wrong size: read every cell
    return [_trimmed([cell_text(c, path) for c in row]) for row in sheet.iter_rows()]


def sheet_rows(path: Path) -> list[list[str]]:
    """Every row of the workbook's first sheet, from row 1, as the cells' text (rows are
    as long as their last non-empty cell; an empty row is ``[]``)."""
    with warnings.catch_warnings():
        # openpyxl warns about a date out of range and reads it as #VALUE!: rejected below
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            rows = _first_sheet_rows(book, path) if book.worksheets else []
        finally:
            book.close()
    while rows and not rows[-1]:
        rows.pop()
    unsaved = unsaved_formulas(path, next(iter(sheet_parts(path).values()), ""))
    if unsaved:
        column, row = coordinate_from_string(unsaved[0])
        raise RawDataError(
            unsaved_message(unsaved),
            where=Location(file=str(path), row=row, column=column),
            hint=UNSAVED_HINT,
        )
    return rows
