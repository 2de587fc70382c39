"""Value operations: raw columns and copies, constants, text templates, recodes by a
table, conditional values (``case``) and flags."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.ops._common import ColumnOrVariable, input_values
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import OpArgs


class ColumnArgs(OpArgs):
    column: str


@register(
    "column",
    ColumnArgs,
    method="The raw column's text, as collected.",
    origin="Collected",
    raw=True,
)
def op_column(frame: pd.DataFrame, args: ColumnArgs, ctx: OpContext) -> pd.Series:
    """The raw column's text, as collected."""
    assert ctx.raw is not None
    return ctx.raw[args.column]


class CopyArgs(OpArgs):
    variable: str

    def inputs(self) -> set[str]:
        return {self.variable}


@register(
    "copy",
    CopyArgs,
    method="The value of another variable of the same record.",
    origin="Derived",
    row_local=True,
)
def op_copy(frame: pd.DataFrame, args: CopyArgs, ctx: OpContext) -> pd.Series:
    """The value of another variable of the same record."""
    return frame[args.variable]


class ConstantArgs(OpArgs):
    value: str | float | int


@register(
    "constant",
    ConstantArgs,
    method="A value assigned by the sponsor, the same on every record.",
    origin="Assigned",
)
def op_constant(frame: pd.DataFrame, args: ConstantArgs, ctx: OpContext) -> pd.Series:
    """A value assigned by the sponsor, the same on every record."""
    return pd.Series([args.value] * len(frame), index=frame.index, dtype=object)


class StudyidArgs(OpArgs):
    pass


@register(
    "studyid", StudyidArgs, method="The study identifier from the study spec.", origin="Assigned"
)
def op_studyid(frame: pd.DataFrame, args: StudyidArgs, ctx: OpContext) -> pd.Series:
    """The study identifier from the study spec."""
    return pd.Series([ctx.study.studyid] * len(frame), index=frame.index, dtype=object)


class DomainArgs(OpArgs):
    pass


@register("domain", DomainArgs, method="The two-letter domain code.", origin="Assigned")
def op_domain(frame: pd.DataFrame, args: DomainArgs, ctx: OpContext) -> pd.Series:
    """The two-letter domain code."""
    return pd.Series([ctx.domain] * len(frame), index=frame.index, dtype=object)


class TemplateArgs(OpArgs):
    template: str

    @model_validator(mode="after")
    def _fields(self) -> TemplateArgs:
        for _, name, spec, conv in string.Formatter().parse(self.template):
            if name is not None and (spec or conv or not name.isidentifier()):
                raise ValueError(f"template fields are plain column names, got {{{name}}}")
        return self


@register(
    "template",
    TemplateArgs,
    method="Text built from raw columns, e.g. Injection {{INJ_NO}} (plain substitution).",
    origin="Derived",
    raw=True,
)
def op_template(frame: pd.DataFrame, args: TemplateArgs, ctx: OpContext) -> pd.Series:
    """Text built from raw columns, e.g. ``Injection {INJ_NO}`` (plain substitution)."""
    assert ctx.raw is not None
    parts = list(string.Formatter().parse(args.template))
    out = pd.Series([""] * len(ctx.raw), index=ctx.raw.index, dtype=object)
    for literal, name, _, _ in parts:
        out = out + literal
        if name is not None:
            if name not in ctx.raw.columns:
                raise MappingError(
                    f"{ctx.domain}.{ctx.variable}: template names unknown column {name}"
                )
            out = out + ctx.raw[name]
    return out


class MapArgs(ColumnOrVariable):
    values: dict[str, str | float | int]
    default: str | None = Field(
        default=None, description="value for unlisted inputs; none: unlisted is an error"
    )
    case_sensitive: bool = False
    keep_empty: bool = True


def _norm(s: pd.Series, case_sensitive: bool) -> pd.Series:
    s = s.fillna("").astype(str).str.strip().str.replace(r"\s+", " ", regex=True)
    return s if case_sensitive else s.str.upper()


@register(
    "map",
    MapArgs,
    method="Recode values by an explicit table in the spec (study-specific synonyms).",
    origin="Derived",
    row_local=True,
)
def op_map(frame: pd.DataFrame, args: MapArgs, ctx: OpContext) -> pd.Series:
    """Recode values by an explicit table in the spec (study-specific synonyms)."""
    src = input_values(frame, args, ctx)
    key = _norm(src, args.case_sensitive)
    table = {(k if args.case_sensitive else k.strip().upper()): v for k, v in args.values.items()}
    out = key.map(table)
    unmapped = out.isna()
    if args.keep_empty:
        empty = key == ""
        out = out.where(~empty, "")
        unmapped &= ~empty
    if args.default is not None:
        out = out.where(~unmapped, args.default)
    elif unmapped.any():
        holder = ctx.raw if args.column is not None else frame
        raise ctx.data_error(
            "value not in the spec's map (add it to values: or set default:)",
            holder,
            unmapped,
            value_of=src,
        )
    return out.astype(object)


class CaseItem(OpArgs):
    when: Condition
    value: str | float | int | None = None
    column: str | None = None
    variable: str | None = None


class CaseArgs(OpArgs):
    cases: list[CaseItem]
    default: str | float | int | None = ""

    def inputs(self) -> set[str]:
        found: set[str] = set()
        for case in self.cases:
            found |= case.when.variables()
            if case.variable:
                found.add(case.variable)
            if case.column:
                found.add(case.column)
        return found


@register(
    "case",
    CaseArgs,
    method="The first case whose condition holds gives the value; otherwise the default.",
    origin="Derived",
    row_local=True,
)
def op_case(frame: pd.DataFrame, args: CaseArgs, ctx: OpContext) -> pd.Series:
    """The first case whose condition holds gives the value; otherwise the default.

    Conditions test mapped variables (at domain level) or raw columns (in a source).
    """
    base = ctx.raw if ctx.raw is not None else frame
    view = base if ctx.raw is None else pd.concat([frame, base], axis=1)
    view = view.loc[:, ~view.columns.duplicated()]
    out = pd.Series([args.default] * len(frame), index=frame.index, dtype=object)
    done = pd.Series(False, index=frame.index)
    for case in args.cases:
        hit = evaluate(case.when, view) & ~done
        if case.column is not None:
            value = view[case.column]
        elif case.variable is not None:
            value = frame[case.variable]
        else:
            value = pd.Series([case.value] * len(frame), index=frame.index, dtype=object)
        out = out.where(~hit, value)
        done |= hit
    return out


class ConditionArgs(OpArgs):
    when: Condition
    value: str = "Y"

    def inputs(self) -> set[str]:
        return self.when.variables()


@register(
    "flag",
    ConditionArgs,
    method="Y (or the given value) where the condition holds, otherwise null.",
    origin="Derived",
    row_local=True,
)
def op_flag(frame: pd.DataFrame, args: ConditionArgs, ctx: OpContext) -> pd.Series:
    """``Y`` (or the given value) where the condition holds, otherwise null."""
    view = frame if ctx.raw is None else pd.concat([frame, ctx.raw], axis=1)
    view = view.loc[:, ~view.columns.duplicated()]
    hit = evaluate(args.when, view)
    return pd.Series(np.where(hit, args.value, ""), index=frame.index, dtype=object)
