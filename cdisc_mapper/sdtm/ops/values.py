"""Value operations: raw columns and copies, constants, text templates, recodes by a
table, conditional values (``case``) and flags.

Conditions of ``case`` and ``flag`` read the record's variables (inside a source also
its raw columns) and, at domain level, ``DM.VAR``: the subject's value of DM variable
VAR (e.g. ``{variable: AESTDTC, ge: {variable: DM.RFXSTDTC}, as: date}``).
"""

from __future__ import annotations

import math
import re
import string
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.condition import Condition, Records, evaluate, is_numeric
from cdisc_mapper.errors import SpecError
from cdisc_mapper.sdtm.context import OpContext, as_text
from cdisc_mapper.sdtm.ops._common import (
    ColumnOrVariable,
    input_records,
    input_values,
    record_view,
    split_subject_names,
)
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import Example, OpArgs
from cdisc_mapper.textops import map_unique

#: How conditions compare text, for the descriptions of ``case`` and ``flag``.
CONDITION_TEXT = (
    "Text is compared with surrounding blanks removed, inner spacing and case as they are "
    "(`case_sensitive: false` ignores case); a numeric variable is compared as a number. "
    "At domain level a condition may name `DM.VAR`, the subject's value of DM variable VAR "
    "(e.g. `{variable: AESTDTC, ge: {variable: DM.RFXSTDTC}, as: date}`)"
)


class ColumnArgs(OpArgs):
    column: str = Field(description="raw column of the source's form whose text is copied")


@register(
    "column",
    ColumnArgs,
    method="Raw {column} as collected.",
    origin="Collected",
    raw=True,
    example=Example(
        spec="AETERM: {op: column, column: AE_TERM}",
        raw={"AE_TERM": ["Headache", "nausea ", ""]},
        gives=["Headache", "nausea ", ""],
    ),
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
    method="Equal to {variable} of the same record.",
    origin="Derived",
    row_local=True,
    example=Example(
        spec="EXENDTC: {op: copy, variable: EXSTDTC}",
        records={"EXSTDTC": ["2016-07-01T10:00", ""]},
        gives=["2016-07-01T10:00", ""],
    ),
)
def op_copy(frame: pd.DataFrame, args: CopyArgs, ctx: OpContext) -> pd.Series:
    """The value of another variable of the same record."""
    return frame[args.variable]


class ConstantArgs(OpArgs):
    value: str | float | int = Field(description="the value every record gets (text or a number)")


@register(
    "constant",
    ConstantArgs,
    method="{value} on every record (assigned by the sponsor).",
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
    "studyid",
    StudyidArgs,
    method="The study identifier from the study spec.",
    origin="Assigned",
    example=Example(
        spec="STUDYID: {op: studyid}",
        records={"USUBJID": ["0208-16-HMO-01-001", "0208-16-HMO-01-002"]},
        gives=["0208-16-HMO", "0208-16-HMO"],
        note="The bundled study's study.yaml has `studyid: 0208-16-HMO`.",
    ),
)
def op_studyid(frame: pd.DataFrame, args: StudyidArgs, ctx: OpContext) -> pd.Series:
    """The study identifier from the study spec (study.yaml ``studyid``)."""
    return pd.Series([ctx.study.studyid] * len(frame), index=frame.index, dtype=object)


class DomainArgs(OpArgs):
    pass


@register(
    "domain",
    DomainArgs,
    method="The two-letter domain code.",
    origin="Assigned",
    example=Example(
        spec="DOMAIN: {op: domain}",
        records={"USUBJID": ["0208-16-HMO-01-001", "0208-16-HMO-01-002"]},
        gives=["DM", "DM"],
        note="In the DM spec (`domain: DM`).",
    ),
)
def op_domain(frame: pd.DataFrame, args: DomainArgs, ctx: OpContext) -> pd.Series:
    """The two-letter domain code."""
    return pd.Series([ctx.domain] * len(frame), index=frame.index, dtype=object)


# ------------------------------------------------------------------ template
class TemplateArgs(OpArgs):
    template: str = Field(
        description="text in which each `{NAME}` is replaced by the record's value of NAME: "
        "a variable of the record (at domain level any variable of the domain; inside a "
        "source one defined above in the same source's `variables`), else raw column NAME "
        "of the source's form, e.g. `Injection {INJ_NO}`, `PATIENT {VSPOS}`; a number is "
        "written as it reads (1, not 1.0); `{{` and `}}` write a brace"
    )
    when_blank: Literal["keep", "blank"] | None = Field(
        default=None,
        description="`keep` (the default): a blank field is written as empty text; `blank`: "
        "the result is blank when any field is blank (e.g. no `PATIENT ` without a position)",
    )

    @model_validator(mode="after")
    def _fields(self) -> TemplateArgs:
        for _, name, spec, conv in string.Formatter().parse(self.template):
            if name is not None and (spec or conv or not name.isidentifier()):
                raise ValueError(f"template fields are plain column names, got {{{name}}}")
        return self

    def fields(self) -> list[str]:
        """The ``{NAME}`` fields, in order."""
        return [name for _, name, _, _ in string.Formatter().parse(self.template) if name]

    def inputs(self) -> set[str]:
        return set(self.fields())


def _template_field(frame: pd.DataFrame, name: str, ctx: OpContext) -> pd.Series:
    """Field ``name`` of each record: the variable's value as text, else the raw text."""
    if name in frame.columns:
        return pd.Series(as_text(frame[name]).to_numpy(), index=frame.index, dtype=object)
    if ctx.raw is not None and name in ctx.raw.columns:
        return pd.Series(ctx.raw[name].fillna("").to_numpy(), index=frame.index, dtype=object)
    known = (
        f"no variable of {ctx.domain}"
        if ctx.raw is None
        else "neither a variable defined above it in the source nor a raw column of the form"
    )
    raise SpecError(
        f"{ctx.domain}.{ctx.variable}: template field {{{name}}} names {known}",
        where=ctx.spec_where,
    )


@register(
    "template",
    TemplateArgs,
    method="The text {template}, each {{COLUMN}} replaced by that raw column's value.",
    origin="Derived",
    row_local=True,
    example=Example(
        spec="VSTPTREF: {op: template, template: 'PATIENT {VSPOS}', when_blank: blank}",
        records={"VSPOS": ["SUPINE", "STANDING", ""]},
        gives=["PATIENT SUPINE", "PATIENT STANDING", ""],
    ),
)
def op_template(frame: pd.DataFrame, args: TemplateArgs, ctx: OpContext) -> pd.Series:
    """Text built from the record's variables or raw columns, e.g. ``Injection
    {INJ_NO}`` (plain substitution); blank when a field is blank with ``when_blank:
    blank``."""
    out = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    blank = pd.Series(False, index=frame.index)
    for literal, name, _, _ in string.Formatter().parse(args.template):
        out = out + literal
        if name is not None:
            value = _template_field(frame, name, ctx)
            out = out + value
            blank |= value.str.strip() == ""
    if args.when_blank == "blank":
        out = out.where(~blank, "")
    return out


# ------------------------------------------------------------------ map
class MapArgs(ColumnOrVariable):
    values: dict[str | int | float, str | float | int] = Field(
        description="input value -> output value. An input and a key match when they are "
        "the same text once both have surrounding blanks removed and each run of inner "
        "whitespace (spaces, tabs, non-breaking spaces) made one space, ignoring case unless "
        "`case_sensitive`: `Not  related ` matches the key `Not related`. When the input is a "
        "numeric variable (e.g. VISITNUM) keys are compared as numbers: `1`, `'1'` and "
        "`'1.0'` all match 1 (as conditions compare); a key that is not a number is then an "
        'error. Key `""` is the blank input (with `keep_empty: false`)'
    )
    default: str | None = Field(
        default=None,
        description="output for a non-blank input not in `values`; none: such an input is an "
        "error listing its records (or kept, with `keep_unlisted`)",
    )
    keep_unlisted: bool = Field(
        default=False,
        description="true: a non-blank input not in `values` stays as it is (exactly as read, "
        "not trimmed nor case-changed; a number as written, 1 not 1.0), so `values` lists "
        "only the values to change; not together with `default`",
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
        seen: dict[str, str | int | float] = {}
        for key in self.values:
            norm = _key(str(key), self.case_sensitive)
            if norm in seen:
                raise ValueError(f"values: keys {seen[norm]!r} and {key!r} are the same input")
            seen[norm] = key
        if self.keep_unlisted and self.default is not None:
            raise ValueError(
                "give default (the output of every unlisted input) or keep_unlisted: true "
                "(unlisted inputs stay as they are), not both"
            )
        return self

    def table(self) -> dict[str, str | float | int]:
        """``values`` with each key as text inputs are compared."""
        return {_key(str(k), self.case_sensitive): v for k, v in self.values.items()}


def _key(text: str, case_sensitive: bool) -> str:
    """An input or key as it is compared: surrounding blanks removed, each run of inner
    whitespace one space, and upper case unless case-sensitive."""
    norm = re.sub(r"\s+", " ", text.strip())
    return norm if case_sensitive else norm.upper()


def _norm(s: pd.Series, case_sensitive: bool) -> pd.Series:
    return map_unique(s.fillna(""), lambda u: u.astype(str).map(lambda t: _key(t, case_sensitive)))


def _number_key(key: str | int | float, args: MapArgs, ctx: OpContext) -> float:
    """A key of ``values`` as the number it is compared as (the input is numeric)."""
    number: float | None = None
    if isinstance(key, int | float) and not isinstance(key, bool):
        number = float(key)
    else:
        try:
            number = float(str(key).strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise SpecError(
            f"{ctx.domain}.{ctx.variable}: values key {key!r} is not a number, but "
            f"{args.variable} is numeric, so keys are compared as numbers",
            where=ctx.spec_where,
            hint="give the key as a number, or map a text variable",
        )
    return number


def _number_table(args: MapArgs, ctx: OpContext) -> tuple[dict[float, object], object]:
    """``values`` by number, and the output of the blank key ``""`` (None without one)."""
    table: dict[float, object] = {}
    seen: dict[float, str | int | float] = {}
    blank: object = None
    for key, value in args.values.items():
        if isinstance(key, str) and key.strip() == "":
            blank = value
            continue
        number = _number_key(key, args, ctx)
        if number in seen:
            raise SpecError(
                f"{ctx.domain}.{ctx.variable}: values keys {seen[number]!r} and {key!r} are "
                f"the same number ({args.variable} is numeric)",
                where=ctx.spec_where,
            )
        seen[number] = key
        table[number] = value
    return table, blank


def _lookup(frame: pd.DataFrame, args: MapArgs, ctx: OpContext) -> tuple[pd.Series, pd.Series]:
    """Each record's output (missing where its input is not in ``values``) and where its
    input is blank; a blank input is looked up as the key ``""``."""
    if args.variable is not None and is_numeric(frame[args.variable]):
        numbers = frame[args.variable].astype("float64")
        table, blank_value = _number_table(args, ctx)
        out = numbers.map(table)
        blank = numbers.isna()
        if blank_value is not None:
            out = out.astype(object).where(~blank, blank_value)
        return out, blank
    key = _norm(input_values(frame, args, ctx), args.case_sensitive)
    return key.map(args.table()), key == ""


@register(
    "map",
    MapArgs,
    method=(
        "[Raw {column}][{variable}] recoded: {values}[; any other value: {default}][; "
        "values not listed are kept as they are{keep_unlisted}]."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="AEREL: {op: map, column: REL, values: {Not related: NOT RELATED, "
        "Possible: POSSIBLY RELATED}, keep_unlisted: true}",
        raw={"REL": ["Not  related", "POSSIBLE", "Unknown", ""]},
        gives=["NOT RELATED", "POSSIBLY RELATED", "Unknown", ""],
    ),
)
def op_map(frame: pd.DataFrame, args: MapArgs, ctx: OpContext) -> pd.Series:
    """Recode values by an explicit table in the spec (study-specific synonyms), e.g.
    ``{Not related: NOT RELATED}``; a value not in the table takes the default, stays as
    it is (``keep_unlisted``), or is an error listing its records."""
    out, blank = _lookup(frame, args, ctx)
    unmapped = out.isna()
    if args.keep_empty:
        out = out.where(~blank, "")
        unmapped &= ~blank
    if args.default is not None:
        out = out.where(~unmapped, args.default)
    elif args.keep_unlisted:
        out = out.where(~unmapped, input_values(frame, args, ctx))
    elif unmapped.any():
        raise ctx.data_error(
            "value not in the spec's map (add it to values: or set default: or "
            "keep_unlisted: true)",
            input_records(frame, args, ctx),
            unmapped,
            value_of=input_values(frame, args, ctx),
        )
    return out.astype(object)


# ------------------------------------------------------------------ conditions
def _holds(cond: Condition, view: Records, ctx: OpContext) -> pd.Series:
    """Where ``cond`` holds; a name it reads that is not there is an error at the spec
    line of the variable being mapped."""
    try:
        return evaluate(cond, view)
    except SpecError as exc:
        if exc.where is not None:
            raise
        raise SpecError(
            f"{ctx.domain}.{ctx.variable}: {exc.message}", where=ctx.spec_where, hint=exc.hint
        ) from None


def _column_of(view: Records, name: str, ctx: OpContext) -> pd.Series:
    """The values of variable (or raw column, or ``DM.VAR``) ``name`` in ``view``."""
    try:
        return view.column(name)
    except SpecError as exc:
        if exc.where is not None:
            raise
        raise SpecError(
            f"{ctx.domain}.{ctx.variable}: case gives {name!r}, which is not there",
            where=ctx.spec_where,
        ) from None


class CaseItem(OpArgs):
    when: Condition = Field(
        description="condition on the record (variables of the domain, inside a source also "
        "its raw columns; at domain level `DM.VAR` too) that selects this case"
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
        description="variable of the domain whose value is given where `when` holds (at "
        "domain level also `DM.VAR`, the subject's DM value)",
    )

    @model_validator(mode="after")
    def _one_value(self) -> CaseItem:
        given = [k for k in ("value", "column", "variable") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of value, column or variable, not {' and '.join(given)}")
        return self

    def names(self) -> set[str]:
        """Every name the case reads: its condition's and the variable it gives."""
        return self.when.variables() | {n for n in (self.variable, self.column) if n}


class CaseArgs(OpArgs):
    cases: list[CaseItem] = Field(
        description="the cases in order; a record takes the value of the first case whose "
        f"`when` holds. {CONDITION_TEXT}"
    )
    default: str | float | int | None = Field(
        default="", description="value of the records no case selects (default blank)"
    )

    def _names(self) -> set[str]:
        return set().union(*(case.names() for case in self.cases))

    def inputs(self) -> set[str]:
        return split_subject_names(self._names())[0]

    def lookups(self) -> set[tuple[str, str]]:
        return split_subject_names(self._names())[1]


@register(
    "case",
    CaseArgs,
    method="{cases}.",
    origin="Derived",
    row_local=True,
    example=Example(
        spec="""AGE:
  op: case
  cases:
    - {when: {variable: _AGEDRV, present: true}, variable: _AGEDRV}
    - {when: {variable: _AGECRF, present: true}, variable: _AGECRF}""",
        records={"_AGEDRV": [55.0, None, None], "_AGECRF": [54.0, 61.0, None]},
        gives=[55.0, 61.0, ""],
    ),
)
def op_case(frame: pd.DataFrame, args: CaseArgs, ctx: OpContext) -> pd.Series:
    """The first case whose condition holds gives the value; otherwise the default.
    Conditions test the domain's variables, inside a source also its raw columns, and at
    domain level ``DM.VAR``, the subject's DM value."""
    view = record_view(frame, ctx)
    out = pd.Series([args.default] * len(frame), index=frame.index, dtype=object)
    done = pd.Series(False, index=frame.index)
    for case in args.cases:
        hit = _holds(case.when, view, ctx) & ~done
        name = case.column if case.column is not None else case.variable
        if name is not None:
            value = pd.Series(_column_of(view, name, ctx).to_numpy(), index=frame.index)
        else:
            value = pd.Series([case.value] * len(frame), index=frame.index, dtype=object)
        out = out.where(~hit, value)
        done |= hit
    return out


class ConditionArgs(OpArgs):
    when: Condition = Field(
        description="condition on the record (variables of the domain, inside a source also "
        f"its raw columns) under which the value is set. {CONDITION_TEXT}"
    )
    value: str = Field(
        default="Y", description="value set where `when` holds (e.g. Y, ONGOING); null elsewhere"
    )

    def inputs(self) -> set[str]:
        return split_subject_names(self.when.variables())[0]

    def lookups(self) -> set[tuple[str, str]]:
        return split_subject_names(self.when.variables())[1]


@register(
    "flag",
    ConditionArgs,
    method="{value} when {when}; otherwise null.",
    origin="Derived",
    row_local=True,
    example=Example(
        spec="AETRTEM: {op: flag, when: {variable: AESTDTC, ge: {variable: DM.RFXSTDTC}, "
        "as: date}}",
        domains={"DM": {"USUBJID": ["701-1015", "701-1023"], "RFXSTDTC": ["2014-01-02", ""]}},
        records={
            "USUBJID": ["701-1015", "701-1015", "701-1023"],
            "AESTDTC": ["2014-01-03", "2013-12-28", "2014-01-05"],
        },
        gives=["Y", "", ""],
        note="A subject without RFXSTDTC (not treated) has no treatment-emergent event: a "
        "comparison with a blank never holds.",
    ),
)
def op_flag(frame: pd.DataFrame, args: ConditionArgs, ctx: OpContext) -> pd.Series:
    """``Y`` (or the given value) where the condition holds, otherwise null. At domain
    level the condition may compare with the subject's DM value (``DM.VAR``), e.g. a
    treatment-emergent flag: AESTDTC on or after DM.RFXSTDTC."""
    hit = _holds(args.when, record_view(frame, ctx), ctx)
    return pd.Series(np.where(hit, args.value, ""), index=frame.index, dtype=object)
