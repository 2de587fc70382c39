"""Errors that say where the problem is and what to do about it.

Every error raised on bad input is a :class:`CdiscMapperError`. Its message names the
place (raw file, row, column; spec file and line; dataset, record, variable) so that
the command line can print it as a one-line cause.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, and optionally a line/row, a column and a record."""

    file: str | None = None
    line: int | None = None
    row: int | None = None
    column: str | None = None
    record: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file + (f":{self.line}" if self.line is not None else ""))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        if self.record:
            parts.append(self.record)
        return ", ".join(parts)


class CdiscMapperError(Exception):
    """Base class of every error caused by bad input (data, specs, options)."""

    def __init__(self, message: str, *, where: Location | str | None = None, hint: str = ""):
        self.message = message
        self.where = where
        self.hint = hint
        text = message
        if where:
            text = f"{where}: {message}"
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)


class SpecError(CdiscMapperError):
    """A mapping spec is malformed or names something that does not exist."""


class RawDataError(CdiscMapperError):
    """A raw input file is missing, unreadable or lacks a needed column."""


class MappingError(CdiscMapperError):
    """A raw value cannot be mapped (unknown CT term, unparseable date, orphan record...)."""


class XptError(CdiscMapperError):
    """A dataset cannot be written as SAS XPORT v5 without losing information."""


class StandardsError(CdiscMapperError):
    """Standards metadata or controlled terminology is missing or inconsistent."""


class UnknownCodelistError(StandardsError):
    """A codelist code or name is not in the loaded terminology."""


class DateParseError(MappingError):
    """A raw date or time cannot be read in the declared format."""
