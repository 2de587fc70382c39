"""Text operations on one input (a raw column inside a source, or a variable of the
record): case (``upper``, ``lower``), blanks (``strip``, ``squish``) and regular
expressions (``extract``, ``replace``), as sdtm.oak and stringr name them.

Each is one small pure function of the value, computed once per distinct value
(:func:`cdisc_mapper.textops.map_unique`). A blank input (empty, or only blanks) gives
blank. Patterns are Python regular expressions (``re`` syntax), checked when the spec is
loaded; they are data, never run as code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import pandas as pd
from pydantic import Field, field_validator, model_validator

from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.ops._common import ColumnOrVariable, input_records, input_values
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import Example
from cdisc_mapper.textops import map_unique


class TextArgs(ColumnOrVariable):
    """The input of a text operation: a raw column or a variable."""


def per_value(
    frame: pd.DataFrame, args: ColumnOrVariable, ctx: OpContext, fn: Callable[[str], str]
) -> pd.Series:
    """``fn`` of each non-blank input value, once per distinct value; blank gives ``""``."""
    src = input_values(frame, args, ctx)
    return map_unique(src, lambda u: u.map(lambda t: fn(str(t)) if str(t).strip() else ""))


def squish_text(text: str) -> str:
    """``text`` without surrounding blanks, each run of inner whitespace one space."""
    return " ".join(text.split())


@register(
    "upper",
    TextArgs,
    method="[Raw {column}][{variable}] in upper case.",
    origin="Collected",
    row_local=True,
    example=Example(
        spec="AETERM: {op: upper, column: AE_TERM}",
        raw={"AE_TERM": ["Application Site Erythema", "dizziness", ""]},
        gives=["APPLICATION SITE ERYTHEMA", "DIZZINESS", ""],
    ),
)
def op_upper(frame: pd.DataFrame, args: TextArgs, ctx: OpContext) -> pd.Series:
    """The text in upper case (e.g. AETERM from a title-cased CRF term); blanks and other
    characters as they are."""
    return per_value(frame, args, ctx, str.upper)


@register(
    "lower",
    TextArgs,
    method="[Raw {column}][{variable}] in lower case.",
    origin="Collected",
    row_local=True,
    example=Example(
        spec="_POS: {op: lower, column: POSITION}",
        raw={"POSITION": ["SUPINE", "Standing", ""]},
        gives=["supine", "standing", ""],
    ),
)
def op_lower(frame: pd.DataFrame, args: TextArgs, ctx: OpContext) -> pd.Series:
    """The text in lower case; blanks and other characters as they are."""
    return per_value(frame, args, ctx, str.lower)


@register(
    "strip",
    TextArgs,
    method="[Raw {column}][{variable}] without surrounding blanks.",
    origin="Collected",
    row_local=True,
    example=Example(
        spec="CMTRT: {op: strip, column: MED_NAME}",
        raw={"MED_NAME": ["  Riluzole ", "Vitamin  D", "   "]},
        gives=["Riluzole", "Vitamin  D", ""],
    ),
)
def op_strip(frame: pd.DataFrame, args: TextArgs, ctx: OpContext) -> pd.Series:
    """The text without surrounding blanks (spaces, tabs, line breaks); inner spacing as
    it is."""
    return per_value(frame, args, ctx, str.strip)


@register(
    "squish",
    TextArgs,
    method=(
        "[Raw {column}][{variable}] without surrounding blanks, each run of inner "
        "whitespace one space."
    ),
    origin="Collected",
    row_local=True,
    example=Example(
        spec="CMTRT: {op: squish, column: MED_NAME}",
        raw={"MED_NAME": ["  Riluzole ", "Vitamin  D", "   "]},
        gives=["Riluzole", "Vitamin D", ""],
    ),
)
def op_squish(frame: pd.DataFrame, args: TextArgs, ctx: OpContext) -> pd.Series:
    """The text without surrounding blanks, each run of inner whitespace (spaces, tabs,
    line breaks) one space (stringr's ``str_squish``)."""
    return per_value(frame, args, ctx, squish_text)


# ------------------------------------------------------------------ regular expressions
_PATTERN_TEXT = (
    "Python regular expression (`re` syntax), searched anywhere in the value (its "
    "surrounding blanks removed) unless anchored with `^` or `$`; `(?i)` at its start "
    "ignores case. Quote it in YAML, e.g. `'-(\\d+)$'`"
)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled, or ValueError saying why it is not a regular expression."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"pattern {pattern!r} is not a regular expression ({exc})") from None


class ExtractArgs(ColumnOrVariable):
    pattern: str = Field(description=f"{_PATTERN_TEXT}: the part of the value to take")
    group: int | str | None = Field(
        default=None,
        description="the group of `pattern` that gives the value: its number (0: the whole "
        "match) or name (`(?P<name>...)`); none: group 1 when the pattern has a group, "
        "else the whole match. An optional group that took no part in the match gives blank",
    )
    unmatched: Literal["error", "blank", "keep"] = Field(
        default="error",
        description="a non-blank value the pattern does not match: `error` (an error listing "
        "each such record's file, row and value), `blank` (gives blank) or `keep` (gives the "
        "value as it is)",
    )

    @field_validator("group", mode="before")
    @classmethod
    def _group_number(cls, v: object) -> object:
        return int(v) if isinstance(v, str) and v.strip().isdigit() else v

    @model_validator(mode="after")
    def _group_exists(self) -> ExtractArgs:
        compiled = compile_pattern(self.pattern)
        group = self.group
        if isinstance(group, bool) or (
            isinstance(group, int) and not 0 <= group <= compiled.groups
        ):
            raise ValueError(
                f"group {group}: pattern {self.pattern!r} has {compiled.groups} group(s)"
            )
        if isinstance(group, str) and group not in compiled.groupindex:
            named = ", ".join(compiled.groupindex) or "none"
            raise ValueError(
                f"group {group!r}: pattern {self.pattern!r} has no group of that name "
                f"(named groups: {named})"
            )
        return self

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    def which(self) -> int | str:
        """The group that gives the value."""
        if self.group is not None:
            return self.group
        return 1 if self.compiled().groups else 0


def _extracted(text: str, regex: re.Pattern[str], group: int | str) -> str | None:
    """The group's text in ``text`` (surrounding blanks removed); None when it does not
    match, ``""`` when the group took no part."""
    found = regex.search(text.strip())
    if found is None:
        return None
    return found.group(group) or ""


@register(
    "extract",
    ExtractArgs,
    method=(
        "The part of [raw {column}][{variable}] that the regular expression {pattern} captures."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec=r"SUBJID: {op: extract, column: PATNUM, pattern: '-(\d+)$'}",
        raw={"PATNUM": ["701-1015", "701-1023", ""]},
        gives=["1015", "1023", ""],
    ),
)
def op_extract(frame: pd.DataFrame, args: ExtractArgs, ctx: OpContext) -> pd.Series:
    """The part of the value a regular expression captures (e.g. SUBJID `1015` from
    `701-1015` with `-(\\d+)$`, or the minutes `5` of "After Lying Down For 5 Minutes" with
    `(\\d+) Minutes`); a value it does not match is an error listing the records, or gives
    blank or the value as it is (`unmatched`)."""
    regex, group = args.compiled(), args.which()
    src = input_values(frame, args, ctx)
    found = map_unique(
        src, lambda u: u.map(lambda t: _extracted(str(t), regex, group) if str(t).strip() else "")
    )
    unmatched = found.isna()
    if not unmatched.any():
        return found
    if args.unmatched == "error":
        raise ctx.data_error(
            f"value not matched by the pattern {args.pattern!r} (fix the value or the "
            "pattern, or set unmatched: blank or keep)",
            input_records(frame, args, ctx),
            unmatched,
            value_of=src,
        )
    kept = src if args.unmatched == "keep" else ""
    return found.where(~unmatched, kept).astype(object)


def check_replacement(regex: re.Pattern[str], replacement: str) -> None:
    """ValueError unless ``replacement``'s group references (``\\1``, ``\\g<name>``) are
    groups of ``regex``: it is expanded against an empty match with the same groups."""
    names = {index: name for name, index in regex.groupindex.items()}
    same_groups = "".join(
        f"(?P<{names[i]}>)" if i in names else "()" for i in range(1, regex.groups + 1)
    )
    empty = re.fullmatch(same_groups, "")
    assert empty is not None
    try:
        empty.expand(replacement)
    except (re.error, IndexError) as exc:
        raise ValueError(
            f"with: {replacement!r} is not a replacement for the pattern ({exc})"
        ) from None


class ReplaceArgs(ColumnOrVariable):
    pattern: str = Field(description=f"{_PATTERN_TEXT}: every match is replaced")
    with_: str = Field(
        alias="with",
        description="the text each match is replaced by; `\\1` or `\\g<name>` writes what "
        'a group of the pattern matched, `\\\\` a backslash; `""` deletes the matches',
    )

    @model_validator(mode="after")
    def _valid(self) -> ReplaceArgs:
        check_replacement(compile_pattern(self.pattern), self.with_)
        return self


@register(
    "replace",
    ReplaceArgs,
    method=(
        "[Raw {column}][{variable}] with every match of the regular expression "
        "{pattern} replaced by {with_}."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec=r"VSTPT: {op: replace, column: TPT, pattern: '(?i)^after lying down for (\d+) "
        r"minutes?$', with: 'AFTER LYING DOWN \1 MIN'}",
        raw={"TPT": ["After Lying Down For 5 Minutes", "After Standing For 1 Minute", ""]},
        gives=["AFTER LYING DOWN 5 MIN", "After Standing For 1 Minute", ""],
    ),
)
def op_replace(frame: pd.DataFrame, args: ReplaceArgs, ctx: OpContext) -> pd.Series:
    """The value (its surrounding blanks removed) with every match of a regular
    expression replaced (``\\1``, ``\\g<name>`` write what a group matched); a value
    without a match stays as it is, blanks removed."""
    regex = re.compile(args.pattern)
    return per_value(frame, args, ctx, lambda t: regex.sub(args.with_, t.strip()))
