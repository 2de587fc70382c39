"""What a standard-specific builder tells the assembler about each dataset and variable.

:mod:`.describe_sdtm` (from the SDTM mapping specs) and :mod:`.describe_adam` (from the ADaM
package's metadata) describe datasets with these records; :mod:`.assemble` turns them,
together with the data, into the :class:`~cdisc_mapper.define.model.DefineModel`. Data
types, lengths and the terms of code lists are never given here: they come from the
written datasets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cdisc_mapper.define.model import DocRef, Origin
from cdisc_mapper.define.stated_item import StatedItem
from cdisc_mapper.xpt import XptMetadata


@dataclass(frozen=True)
class CodelistRef:
    """A variable's code list: a loaded Codelist, or an external dictionary by name."""

    codelist: Any | None = None  # cdisc_mapper.standards.Codelist
    dictionary: str | None = None
    where: str = ""  # spec location, for errors
    explicit: bool = True
    """False for a list taken from the IG by default: it is used only when every value
    in the data is one of its terms (the IG's lists for results, e.g. LBSTRESC, describe
    the qualitative results only)."""
    extend: bool = False
    """For a list taken from the IG by default that is the variable's only one: text
    values outside it, when it is extensible, are sponsor terms added to it."""


@dataclass(frozen=True)
class MethodInfo:
    """A derivation: text, or a named method shared by several variables."""

    description: str
    oid: str | None = None  # given for a named (shared) method
    name: str | None = None
    type: str = "Computation"
    document: DocRef | None = None
    expression: tuple[str, str] | None = None  # (context, code): def:FormalExpression


@dataclass(frozen=True)
class CommentInfo:
    text: str
    oid: str | None = None  # given for a named (shared) comment
    document: DocRef | None = None


@dataclass(frozen=True)
class ValueLevelInfo:
    """Metadata of a variable on the records where every ``(variable, comparator,
    values)`` condition holds."""

    where: tuple[tuple[str, str, tuple[str, ...]], ...]
    origin: Origin | None
    method: MethodInfo | None = None
    codelist: CodelistRef | None = None
    label: str | None = None
    name: str | None = None  # ItemDef Name (default: the variable's name)
    comment: CommentInfo | None = None
    stated: StatedItem | None = None  # a workbook's attributes, kept over the data's


@dataclass
class VarInfo:
    name: str
    origin: Origin | None
    method: MethodInfo | None = None
    comment: CommentInfo | None = None
    codelist: CodelistRef | None = None
    role: str | None = None
    mandatory: bool = False
    non_standard: bool = False
    display_format: str | None = None
    iso8601: bool = False  # a character ISO 8601 date/time/duration variable
    value_levels: list[ValueLevelInfo] = field(default_factory=list)
    stated: StatedItem | None = None  # a workbook's attributes, kept over the data's


@dataclass
class DatasetInfo:
    """A dataset described; ``frame`` holds its records or, from :mod:`.profile`, its
    representative records (the same distinct values and combinations, fewer records)."""

    name: str
    path: Path
    frame: pd.DataFrame
    meta: XptMetadata
    domain: str | None
    structure: str
    class_: str
    purpose: str
    keys: list[str]
    variables: dict[str, VarInfo]
    subclass: str | None = None
    repeating: bool = True
    reference_data: bool = False
    comment: CommentInfo | None = None
    non_standard: bool = False
    domain_description: str | None = None
