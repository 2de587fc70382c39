"""Data model of a SAS XPORT v5 dataset: variables, formats and read-back metadata.

The limits are those of the SAS transport format version 5 (SAS TS-140) as required for
FDA submissions: names up to 8 characters, labels up to 40, character values up to 200
bytes, numbers stored as 8-byte IBM floating point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

VarType = Literal["Char", "Num"]

MAX_NAME_LENGTH = 8
"""Longest dataset or variable name (bytes) in XPORT v5."""
MAX_LABEL_LENGTH = 40
"""Longest dataset or variable label (bytes) in XPORT v5."""
MAX_CHAR_LENGTH = 200
"""Longest character value (bytes) in XPORT v5."""
MAX_FORMAT_NAME_LENGTH = 8
"""Longest format name (including a leading ``$``) that fits the namestr ``nform`` field."""
MAX_VARIABLES = 9999
"""The NAMESTR header record holds the variable count in 4 digits."""
NUM_LENGTH = 8
"""Storage length of a numeric variable unless a shorter one (3-7) is declared."""
MIN_NUM_LENGTH = 3
"""Shortest numeric storage length SAS accepts."""


class XptWarning(UserWarning):
    """A file was written correctly but common readers may misread it."""


@dataclass(frozen=True)
class XptVariable:
    """One variable of an XPORT dataset, in the order it is written.

    Attributes:
        name: SAS name, 1-8 characters: an uppercase letter, then uppercase letters,
            digits or underscores.
        label: up to 40 ASCII characters.
        type: ``"Char"`` or ``"Num"``.
        length: storage length in bytes. For ``Char``, 1-200; ``None`` means the longest
            value (trailing blanks ignored, at least 1). For ``Num``, ``None`` or 8; 3-7
            are accepted only when every value fits exactly (SAS truncates the IBM
            mantissa).
        format: SAS display format such as ``"DATE9."``, ``"$20."`` or ``"8.2"``;
            ``None`` for none.
    """

    name: str
    label: str
    type: VarType
    length: int | None = None
    format: str | None = None


@dataclass(frozen=True)
class XptMetadata:
    """What an XPORT file says about itself, as returned by :func:`read_xpt`.

    ``variables`` always carry the stored length and the canonical format text
    (see :class:`SasFormat`), so they can be passed back to :func:`write_xpt`.
    """

    dataset: str
    label: str
    variables: tuple[XptVariable, ...]
    n_records: int
    created: datetime | None = None
    modified: datetime | None = None

    @property
    def names(self) -> list[str]:
        """Variable names in file order."""
        return [v.name for v in self.variables]

    def variable(self, name: str) -> XptVariable:
        """The variable called ``name`` (case-insensitive); ``KeyError`` if absent."""
        for v in self.variables:
            if v.name.upper() == name.upper():
                return v
        raise KeyError(name)


# A format is NAME + optional width + "." + optional decimals. A format name may contain
# digits (E8601DA) but never ends with one, so the trailing digits are the width.
_FORMAT_RE = re.compile(
    r"^(?P<name>\$?(?:[A-Z_](?:[A-Z0-9_]*[A-Z_])?)?)(?P<width>\d*)(?:\.(?P<decimals>\d*))?$"
)


@dataclass(frozen=True)
class SasFormat:
    """A parsed SAS format: the namestr fields ``nform``, ``nfl`` and ``nfd``.

    ``str()`` gives the canonical text: ``DATE9.``, ``$20.``, ``8.2``, ``BEST.``.
    """

    name: str
    width: int = 0
    decimals: int = 0

    @property
    def is_char(self) -> bool:
        """Whether this is a character (``$``) format."""
        return self.name.startswith("$")

    def __str__(self) -> str:
        width = str(self.width) if self.width else ""
        decimals = str(self.decimals) if self.decimals else ""
        return f"{self.name}{width}.{decimals}"


def parse_format(text: str) -> SasFormat:
    """Parse SAS format text (``"date9."``, ``"$20."``, ``"8.2"``, ``"DATE9"``).

    The trailing dot may be omitted (readers such as pyreadstat report ``DATE9``);
    names are case-insensitive and returned uppercase.

    Raises:
        ValueError: the text is not a SAS format, or the name is longer than 8
            characters or the width/decimals do not fit the namestr's 2-byte fields.
    """
    stripped = text.strip().upper()
    match = _FORMAT_RE.match(stripped)
    if not stripped or match is None:
        raise ValueError(f"{text!r} is not a SAS format (expected e.g. DATE9., $20., 8.2)")
    name = match["name"]
    width = int(match["width"]) if match["width"] else 0
    decimals = int(match["decimals"]) if match["decimals"] else 0
    if not name and not width:
        raise ValueError(f"{text!r} is not a SAS format (a format needs a name or a width)")
    if len(name) > MAX_FORMAT_NAME_LENGTH:
        raise ValueError(
            f"format name {name!r} is {len(name)} characters; XPORT v5 stores at most "
            f"{MAX_FORMAT_NAME_LENGTH}"
        )
    if width > 32767 or decimals > 32767:
        raise ValueError(f"format {text!r} has a width or decimals above 32767")
    return SasFormat(name=name, width=width, decimals=decimals)


def canonical_format(text: str | None) -> str | None:
    """The canonical form of format text (``"date9"`` -> ``"DATE9."``); ``None``/blank -> None."""
    if text is None or not str(text).strip():
        return None
    return str(parse_format(str(text)))


# Format families used to convert datetime64 columns to SAS numbers.
# fmt: off
_DATE_FORMATS = frozenset(
    {
        "DATE", "DAY", "DOWNAME", "E8601DA", "B8601DA", "IS8601DA", "JULDAY", "JULIAN",
        "MMYY", "MONNAME", "MONTH", "MONYY", "QTR", "WEEKDATE", "WEEKDATX", "WEEKDAY",
        "WORDDATE", "WORDDATX", "YEAR", "YYMM", "YYMON", "YYQ", "NLDATE",
    }
)
_DATE_FORMAT_RE = re.compile(r"^(DDMMYY|MMDDYY|YYMMDD)[BCDNPS]?$")
_DATETIME_FORMATS = frozenset(
    {
        "DATETIME", "DATEAMPM", "DTDATE", "DTMONYY", "DTWKDATX", "DTYEAR", "DTYYQC",
        "E8601DT", "B8601DT", "IS8601DT", "E8601DN", "B8601DN", "MDYAMPM", "NLDATM",
    }
)
_TIME_FORMATS = frozenset(
    {"TIME", "TIMEAMPM", "TOD", "HHMM", "HOUR", "MMSS", "E8601TM", "B8601TM", "IS8601TM"}
)
# fmt: on

TemporalKind = Literal["date", "datetime", "time"]


def temporal_kind(fmt: SasFormat | None) -> TemporalKind | None:
    """Whether a numeric format displays SAS dates, datetimes or times (else ``None``)."""
    if fmt is None:
        return None
    if fmt.name in _DATE_FORMATS or _DATE_FORMAT_RE.match(fmt.name):
        return "date"
    if fmt.name in _DATETIME_FORMATS:
        return "datetime"
    if fmt.name in _TIME_FORMATS:
        return "time"
    return None
