"""Metadata checks for XPORT v5, one concern each (names, labels, formats, lengths).

Each ``*_problem`` function returns ``None`` when the value is fine, else a sentence
saying what is wrong. :func:`metadata_problems` runs them all over a dataset's
metadata and :func:`check_xpt_metadata` raises one :class:`~cdisc_mapper.errors.XptError`
listing every problem, so that a spec can be fixed in one go.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cdisc_mapper.errors import Location, XptError
from cdisc_mapper.xpt.model import (
    MAX_CHAR_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_VARIABLES,
    MIN_NUM_LENGTH,
    NUM_LENGTH,
    SasFormat,
    XptVariable,
    parse_format,
)

_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def name_problem(name: object) -> str | None:
    """What is wrong with a dataset or variable name, or ``None``.

    XPORT v5 names are 1-8 characters: an uppercase letter, then uppercase letters,
    digits or underscores.
    """
    if not isinstance(name, str):
        return f"name {name!r} is not a string"
    if not name:
        return "name is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"name {name!r} is {len(name)} characters; XPORT v5 allows {MAX_NAME_LENGTH}"
    if not _NAME_RE.match(name):
        return (
            f"name {name!r} is invalid; use an uppercase letter followed by uppercase "
            "letters, digits or underscores"
        )
    return None


def ascii_problem(text: str) -> str | None:
    """Where the first non-ASCII character of ``text`` is (1-based byte position), or ``None``."""
    if text.isascii():
        return None
    pos, char = next((i, c) for i, c in enumerate(text) if ord(c) > 127)
    # Every character before the first non-ASCII one is one byte, so pos+1 is its byte.
    return f"non-ASCII character {char!r} (U+{ord(char):04X}) at byte {pos + 1}"


def label_problem(label: object) -> str | None:
    """What is wrong with a dataset or variable label, or ``None`` (ASCII, <= 40 chars)."""
    if not isinstance(label, str):
        return f"label {label!r} is not a string"
    problem = ascii_problem(label)
    if problem:
        return f"label {label!r} has a {problem}"
    if "\x00" in label:
        return f"label {label!r} contains a NUL character"
    if len(label) > MAX_LABEL_LENGTH:
        return f"label {label!r} is {len(label)} characters; XPORT v5 allows {MAX_LABEL_LENGTH}"
    return None


def format_problem(variable: XptVariable) -> str | None:
    """What is wrong with a variable's format, or ``None`` (see :func:`variable_format`)."""
    try:
        variable_format(variable)
    except ValueError as exc:
        return str(exc)
    return None


def variable_format(variable: XptVariable) -> SasFormat | None:
    """The parsed format of ``variable``, checked against its type.

    Raises:
        ValueError: the format is not valid SAS format text, or a ``$`` format is given
            to a numeric variable or a numeric format to a character variable.
    """
    if variable.format is None or not str(variable.format).strip():
        return None
    if not isinstance(variable.format, str):
        raise ValueError(f"format {variable.format!r} is not a string")
    fmt = parse_format(variable.format)
    if variable.type == "Char" and not fmt.is_char:
        raise ValueError(
            f"format {variable.format!r} is numeric but the variable is Char; "
            "character formats start with '$' (e.g. $20.)"
        )
    if variable.type == "Num" and fmt.is_char:
        raise ValueError(
            f"format {variable.format!r} is a character format but the variable is Num"
        )
    return fmt


def length_problem(variable: XptVariable) -> str | None:
    """What is wrong with a variable's declared length, or ``None``."""
    length = variable.length
    if length is None:
        return None
    if isinstance(length, bool) or not isinstance(length, int):
        return f"length {length!r} is not an integer"
    if variable.type == "Char" and not 1 <= length <= MAX_CHAR_LENGTH:
        return f"Char length {length} is outside 1-{MAX_CHAR_LENGTH}"
    if variable.type == "Num" and not MIN_NUM_LENGTH <= length <= NUM_LENGTH:
        return f"Num length {length} is outside {MIN_NUM_LENGTH}-{NUM_LENGTH}"
    return None


def type_problem(variable: XptVariable) -> str | None:
    """What is wrong with a variable's type, or ``None`` (must be ``Char`` or ``Num``)."""
    if variable.type not in ("Char", "Num"):
        return f"type {variable.type!r} is neither 'Char' nor 'Num'"
    return None


@dataclass(frozen=True)
class MetadataProblem:
    """One problem found in dataset metadata; ``variable`` is ``None`` for the dataset."""

    variable: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.variable}: {self.message}" if self.variable else self.message


def metadata_problems(
    dataset: str, label: str, variables: Sequence[XptVariable]
) -> list[MetadataProblem]:
    """Every problem with a dataset's name, label and variable metadata (empty if none)."""
    problems: list[MetadataProblem] = []
    for what, problem in (
        ("dataset name", name_problem(dataset)),
        ("dataset label", label_problem(label)),
    ):
        if problem:
            problems.append(MetadataProblem(None, f"{what}: {problem}"))
    if not variables:
        problems.append(MetadataProblem(None, "no variables to write"))
    if len(variables) > MAX_VARIABLES:
        problems.append(
            MetadataProblem(None, f"{len(variables)} variables; XPORT v5 allows {MAX_VARIABLES}")
        )
    seen: set[str] = set()
    for i, var in enumerate(variables, start=1):
        if not isinstance(var, XptVariable):
            problems.append(MetadataProblem(f"variable #{i}", f"{var!r} is not an XptVariable"))
            continue
        who = var.name if isinstance(var.name, str) and var.name else f"variable #{i}"
        if isinstance(var.name, str):
            if var.name in seen:
                problems.append(MetadataProblem(who, "name is given twice"))
            seen.add(var.name)
        for problem in (
            name_problem(var.name),
            label_problem(var.label),
            type_problem(var),
            length_problem(var),
            None if type_problem(var) else format_problem(var),
        ):
            if problem:
                problems.append(MetadataProblem(who, problem))
    return problems


def check_xpt_metadata(
    dataset: str,
    label: str,
    variables: Sequence[XptVariable],
    *,
    path: str | Path | None = None,
) -> None:
    """Raise :class:`XptError` listing every metadata problem; return if there is none.

    Checks the dataset name (<= 8 chars, uppercase letter then letters/digits/_), the
    dataset label (ASCII, <= 40 chars), and for each variable its name, label, type,
    declared length and format, and that no name is given twice.
    """
    problems = metadata_problems(dataset, label, variables)
    if not problems:
        return
    file = str(path) if path is not None else None
    dataset_text = f"dataset {dataset}" if isinstance(dataset, str) else None
    if len(problems) == 1:
        (problem,) = problems
        where = Location(file=file, column=problem.variable, record=dataset_text)
        message = problem.message
    else:
        where = Location(file=file, record=dataset_text)
        message = f"{len(problems)} metadata problems: " + "; ".join(map(str, problems))
    raise XptError(
        message,
        where=where,
        hint="fix the dataset/variable metadata (names, labels, lengths, formats) in the spec; "
        "nothing was written",
    )
