"""Value operations: raw columns and copies, constants, text templates, recodes by a
table, conditional values (``case``) and flags."""

from __future__ import annotations

import re
import string

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.ops._common import ColumnOrVariable, input_values
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import Example, OpArgs
from cdisc_mapper.textops import map_unique


class ColumnArgs(OpArgs):
    column: str = Field(description="raw column of the source's form whose text is copied")


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
    variable: str = Field(description="variable of the same domain whose value is copied")

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
    value: str | float | int = Field(description="the value every record gets (text or a number)")


@register(
    "constant",
    ConstantArgs,
    method="A value assigned by the sponsor, the same on every record.",
    origin="Assigned",
    example=Example(
        spec="VSCAT: {op: constant, value: VITAL SIGNS}",
        records={"VSTESTCD": ["SYSBP", "PULSE"]},
        gives=["VITAL SIGNS", "VITAL SIGNS"],
    ),
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
    """The study identifier from the study spec (study.yaml ``studyid``)."""
    return pd.Series([ctx.study.studyid] * len(frame), index=frame.index, dtype=object)


class DomainArgs(OpArgs):
    pass


@register("domain", DomainArgs, method="The two-letter domain code.", origin="Assigned")
def op_domain(frame: pd.DataFrame, args: DomainArgs, ctx: OpContext) -> pd.Series:
    """The two-letter domain code."""
    return pd.Series([ctx.domain] * len(frame), index=frame.index, dtype=object)


class TemplateArgs(OpArgs):
    template: str = Field(
        description="text in which each `{NAME}` is replaced by raw column NAME's text, e.g. "
        "`Injection {INJ_NO}`; `{{` and `}}` write a brace"
    )

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
    values: dict[str, str | float | int] = Field(
        description="input value -> output value; inputs are compared with blanks trimmed and "
        "repeated spaces collapsed, ignoring case unless `case_sensitive`"
    )
    default: str | None = Field(
        default=None,
        description="output for a non-blank input not in `values`; none: such an input is an "
        "error listing its records",
    )
    case_sensitive: bool = Field(
        default=False,
        description="true: an input matches a key of `values` only in the same case; false: "
        "case is ignored",
    )
    keep_empty: bool = Field(
        default=True,
        description="true: a blank input gives blank; false: a blank input is looked up like "
        'any other (key `""`, else `default`, else an error)',
    )

    @model_validator(mode="after")
    def _distinct_keys(self) -> MapArgs:
        seen: dict[str, str] = {}
        for key in self.values:
            norm = _key(key, self.case_sensitive)
            if norm in seen:
                raise ValueError(f"values: keys {seen[norm]!r} and {key!r} are the same input")
            seen[norm] = key
        return self

    def table(self) -> dict[str, str | float | int]:
        """``values`` with each key as inputs are compared."""
        return {_key(k, self.case_sensitive): v for k, v in self.values.items()}


def _key(text: str, case_sensitive: bool) -> str:
    """An input as it is compared: blanks trimmed, repeated spaces collapsed, and upper
    case unless case-sensitive."""
    norm = re.sub(r"\s+", " ", text.strip())
    return norm if case_sensitive else norm.upper()


def _norm(s: pd.Series, case_sensitive: bool) -> pd.Series:
    return map_unique(s.fillna(""), lambda u: u.astype(str).map(lambda t: _key(t, case_sensitive)))


@register(
    "map",
    MapArgs,
    method="Recode values by an explicit table in the spec (study-specific synonyms).",
    origin="Derived",
    row_local=True,
)
def op_map(frame: pd.DataFrame, args: MapArgs, ctx: OpContext) -> pd.Series:
    """Recode values by an explicit table in the spec (study-specific synonyms), e.g.
    ``{Not related: NOT RELATED}``; a value not in the table takes the default, or is an
    error listing its records."""
    src = input_values(frame, args, ctx)
    key = _norm(src, args.case_sensitive)
    out = key.map(args.table())
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
    when: Condition = Field(
        description="condition on the record (variables of the domain, or raw columns inside "
        "a source) that selects this case"
    )
    value: str | float | int | None = Field(
        default=None,
        description="constant given where `when` holds (none of value, column, variable: null)",
    )
    column: str | None = Field(
        default=None,
        description="column whose value is given where `when` holds: a raw column inside a "
        "source, a variable of the domain at domain level",
    )
    variable: str | None = Field(
        default=None,
        description="variable of the domain whose value is given where `when` holds",
    )

    @model_validator(mode="after")
    def _one_value(self) -> CaseItem:
        given = [k for k in ("value", "column", "variable") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of value, column or variable, not {' and '.join(given)}")
        return self


class CaseArgs(OpArgs):
    cases: list[CaseItem] = Field(
        description="the cases in order; a record takes the value of the first case whose "
        "`when` holds"
    )
    default: str | float | int | None = Field(
        default="", description="value of the records no case selects (default blank)"
    )

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
    Conditions test the domain's variables, and inside a source also its raw columns."""
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
    when: Condition = Field(
        description="condition on the record (variables of the domain, or raw columns inside "
        "a source) under which the value is set"
    )
    value: str = Field(
        default="Y", description="value set where `when` holds (e.g. Y, ONGOING); null elsewhere"
    )

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
