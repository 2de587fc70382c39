"""How the raw files write their values: numbers (decimal mark, thousands separator) and
CSV/TXT files (delimiter, text encoding), as ``numbers:`` and ``csv:`` in study.yaml give
them. The study spec (:mod:`cdisc_mapper.spec.study`) holds them.
"""

from __future__ import annotations

import codecs
from typing import Literal

from pydantic import Field, field_validator, model_validator

from cdisc_mapper.spec.base import Strict

DecimalMark = Literal[".", ",", "either"]
ThousandsSeparator = Literal["none", ",", ".", " ", "'"]


class NumberFormat(Strict):
    """How the raw forms write numbers (``numbers:`` in study.yaml, in a source, or as
    arguments of the ``result``, ``number`` and ``stresc`` operations). A setting left out
    is taken from the level above: operation, then source, then study."""

    decimal_mark: DecimalMark | None = Field(
        default=None,
        description="'.', ',' or either (sites type 72.5 and 72,5; then a mark followed by "
        "exactly three digits, as in 1,000, is ambiguous and an error)",
    )
    thousands_separator: ThousandsSeparator | None = Field(
        default=None,
        description="none, ',', '.', ' ' or \"'\": the character that groups thousands "
        "(250,000), or none when numbers are typed without one",
    )

    @model_validator(mode="after")
    def _distinct(self) -> NumberFormat:
        if self.decimal_mark is not None and self.decimal_mark == self.thousands_separator:
            raise ValueError(
                f"{self.decimal_mark!r} cannot be both the decimal mark and the thousands separator"
            )
        return self

    def over(self, base: NumberFormat) -> NumberFormat:
        """These settings, each left out taken from ``base`` (not checked: the user of the
        result checks the two together, where it can name the spec line)."""
        return NumberFormat.model_construct(
            decimal_mark=self.decimal_mark or base.decimal_mark,
            thousands_separator=self.thousands_separator or base.thousands_separator,
        )


#: What a study that states no ``numbers`` gets: sites may type a decimal point or a
#: decimal comma (72,5), nobody groups thousands, and any value that would read
#: differently under another convention (1,000; 250,000; 1.234,5) is an error.
DEFAULT_NUMBERS = NumberFormat(decimal_mark="either", thousands_separator="none")


Delimiter = Literal[",", ";", "\t", "tab", "|"]


class CsvFormat(Strict):
    """How CSV/TXT raw files are written (``csv:`` in study.yaml, and per file under
    ``csv: files:``). A setting left out is taken from the study's ``csv:``, then the
    default: comma separated UTF-8."""

    delimiter: Delimiter | None = Field(
        default=None,
        description="the field delimiter: ',' (default), ';' (usual where the decimal mark "
        "is a comma), tab (or \"\\t\") or '|'",
    )
    encoding: str | None = Field(
        default=None,
        description="the text encoding: utf-8 (default; a byte order mark is allowed), or "
        "the export's legacy one, e.g. windows-1252, latin-1, utf-16",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            info = codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown text encoding {v!r} (e.g. utf-8, windows-1252)") from None
        if not getattr(info, "_is_text_encoding", True):
            raise ValueError(f"{v!r} is not a text encoding (e.g. utf-8, windows-1252)")
        return v


class CsvSpec(CsvFormat):
    """``csv:`` in study.yaml: the raw CSV/TXT files' delimiter and encoding, and the
    files written otherwise (``files:``, by the name the sources give)."""

    files: dict[str, CsvFormat] = Field(
        default_factory=dict,
        description="file (as a source's file or form names it, e.g. labs.txt) -> its own "
        "delimiter and/or encoding",
    )

    def for_file(self, file: str) -> tuple[str, str]:
        """(delimiter, encoding) of raw file ``file``."""
        own = self.files.get(file, CsvFormat())
        delimiter = own.delimiter or self.delimiter or ","
        return ("\t" if delimiter == "tab" else delimiter, own.encoding or self.encoding or "utf-8")
