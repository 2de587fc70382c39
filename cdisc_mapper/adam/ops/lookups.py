"""Values taken as they are: a column the record steps made (``keep``), a copy of a
variable of this dataset, an SDTM domain or another ADaM dataset (``value``), a constant
(``constant``), and per-subject summaries of another dataset (``count``, ``exists``).

:class:`Lookup`, the ``source``/``where``/``select``/``order_by`` arguments naming a value
in this or another dataset, is shared with the derivations that transform such a value
(``date``, ``recode``).

Rules implemented (ADaMIG v1.3):

* Section 3.1.1 (General Variable Conventions): a variable copied from SDTM or ADSL keeps
  its name and values (define.xml origin "Predecessor"); a copy of one record among
  several (``where``, ``select``) is a derivation.
* Section 3.1.4 (Flag Variable Conventions): a subject-level flag (``exists``) is "Y"/"N"
  (or "Y"/null when the spec says so).
"""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    derive_flag,
)
from cdisc_mapper.adam.ops.base import column_op
from cdisc_mapper.adam.ops.common import column_of, where_mask
from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.condition import describe as describe_condition
from cdisc_mapper.errors import MappingError
from cdisc_mapper.spec.base import NAME_PATTERN, split_source
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs, Origin


# --------------------------------------------------------------------------- lookups
class Lookup(OpArgs):
    """A value: ``source`` = ``VAR`` (this dataset), ``DOMAIN.VAR`` (SDTM) or
    ``ADxxxx.VAR`` (an ADaM dataset); from another dataset one record per subject is
    taken: the only one where ``where`` holds, or the first/last by ``order_by``."""

    source: str = Field(
        description="the value to take: `VAR` (this dataset's variable or working column such "
        "as _DTC, else ADSL's), `DOMAIN.VAR` (SDTM) or `ADxxxx.VAR` (an earlier ADaM dataset)"
    )
    where: Condition | None = Field(
        default=None,
        description="condition on the other dataset's variables choosing the subject's records "
        "to take the value from (a source in another dataset only); none: all",
    )
    select: Literal["only", "first", "last"] = Field(
        default="only",
        description="which record when a subject has several: `only` (several is an error), "
        "or the `first` or `last` by `order_by`; subjects with none get null",
    )
    order_by: str | None = Field(
        default=None,
        description="variable of the other dataset that orders the subject's records for "
        "`select: first` or `last` (e.g. EXSTDTC)",
    )

    @model_validator(mode="after")
    def _check(self) -> Lookup:
        dom, var = split_source(self.source)
        if not re.match(NAME_PATTERN, var) and not (
            dom is None and re.match(r"^_[A-Z][A-Z0-9_]*$", var)
        ):
            raise ValueError(f"source {self.source!r}: {var!r} is not a variable name")
        if dom is None and (self.where is not None or self.select != "only" or self.order_by):
            raise ValueError("where/select/order_by apply to a source in another dataset (DOM.VAR)")
        if self.select != "only" and not self.order_by:
            raise ValueError(f"select: {self.select} needs order_by")
        return self

    def inputs(self) -> set[str]:
        dom, var = split_source(self.source)
        return {var} if dom is None else set()

    def lookups(self) -> set[tuple[str, str]]:
        dom, var = split_source(self.source)
        if dom is None:
            return set()
        extra = set(self.where.variables()) if self.where else set()
        if self.order_by:
            extra.add(self.order_by)
        return {(dom, v) for v in {var, "USUBJID", *extra}}

    def describe(self) -> str:
        dom, var = split_source(self.source)
        if dom is None:
            return var
        text = f"{dom}.{var}"
        if self.where is not None:
            text += f" where {describe_condition(self.where)}"
        if self.select != "only":
            text += f" ({self.select} by {self.order_by})"
        return text


def lookup(frame: pd.DataFrame, ctx: BuildContext, args: Lookup) -> pd.Series:
    """The value ``args`` names on the rows of ``frame``."""
    dom, var = split_source(args.source)
    if dom is None:
        return column_of(frame, ctx, var)
    per_subject = ctx.per_subject(
        dom, var, where=args.where, select=args.select, order_by=args.order_by
    )
    return ctx.to_rows(frame, per_subject)


def lookup_meta(
    args: Lookup, ctx: BuildContext | None, *, derived: bool = False, what: str = ""
) -> ColumnMeta:
    """Origin and source of a value taken with ``args``: a copy of another dataset's
    variable is "Predecessor" unless ``derived`` or one record is chosen among several; a
    working column (``_DTC``) is described by the source its record step gave it."""
    dom, var = split_source(args.source)
    if dom is None:
        prior = ctx.state.columns.get(var) if ctx is not None else None
        src = prior.source if prior is not None and var.startswith("_") else var
        return ColumnMeta(origin="Derived", source=src, method=what or None)
    origin: Origin = (
        "Derived" if derived or args.where is not None or args.select != "only" else "Predecessor"
    )
    return ColumnMeta(origin=origin, source=f"{dom}.{var}", method=what or None)


# --------------------------------------------------------------------------- keep, value, constant
class KeepArgs(OpArgs):
    column: str | None = Field(
        default=None,
        description="column made by the `records:` steps to take; none: the column with this "
        "variable's name",
    )


def _keep_meta(args: KeepArgs, ctx: BuildContext | None) -> ColumnMeta:
    return ColumnMeta()


@column_op(
    "keep",
    KeepArgs,
    _keep_meta,
    example=Example(
        spec="AVAL: {}",
        records={"USUBJID": ["S1", "S1"], "PARAMCD": ["WEIGHT", "HEIGHT"], "AVAL": [80, 175]},
        gives=[80, 175],
        note="`{}` is `{derive: keep}`: the column the `records:` steps made (here by "
        "`findings`), unchanged.",
    ),
)
def op_keep(frame: pd.DataFrame, args: KeepArgs, ctx: BuildContext) -> pd.Series:
    """The column as the ``records:`` steps made it, unchanged: the column of the same name
    (or the one ``column`` names), ADaMIG v1.3 section 3.1.1 (a variable keeps its name and
    values). A variable written ``{}`` in a spec is kept this way."""
    name = args.column or ctx.state.cache["__variable"]
    if name not in frame.columns:
        raise MappingError(f"{ctx.dataset}: the records have no column {name}")
    return frame[name]


class ValueArgs(Lookup):
    pass


def _value_meta(args: ValueArgs, ctx: BuildContext | None) -> ColumnMeta:
    text = f"Copied from {args.describe()}."
    meta = lookup_meta(
        args, ctx, what=text if args.where is not None or args.select != "only" else ""
    )
    return meta


@column_op(
    "value",
    ValueArgs,
    _value_meta,
    example=Example(
        spec="LDOSEDTC: {derive: value, source: EX.EXSTDTC, select: last, order_by: EXSTDTC}",
        domains={
            "EX": {
                "USUBJID": ["S1", "S1", "S2"],
                "EXSEQ": [1, 2, 1],
                "EXSTDTC": ["2020-02-01", "2020-03-02", "2020-02-15"],
            }
        },
        records={"USUBJID": ["S1", "S2", "S3"]},
        gives=["2020-03-02", "2020-02-15", ""],
        note="The subject's last EX record by EXSTDTC; S3 has none (null). Without "
        "`select`, a subject with several records is an error; `source: DM.AGE` copies DM's "
        "one record per subject.",
    ),
)
def op_value(frame: pd.DataFrame, args: ValueArgs, ctx: BuildContext) -> pd.Series:
    """A copy of another variable: this dataset's (or ADSL's), or, one record per subject,
    an SDTM domain's or an ADaM dataset's; null for a subject without one (ADaMIG v1.3
    section 3.1.1: a copied variable keeps its name and values)."""
    return lookup(frame, ctx, args)


class ConstantArgs(OpArgs):
    value: str | float = Field(
        description="the value set: text makes a character variable, a number a numeric one"
    )
    when: Condition | None = Field(
        default=None,
        description="condition on the record; where it does not hold the value is null; none: "
        "every record gets the value",
    )

    def inputs(self) -> set[str]:
        return self.when.variables() if self.when else set()


def _constant_meta(a: ConstantArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        origin="Assigned",
        method=f"Set to {a.value!r}"
        + (f" where {describe_condition(a.when)}; null otherwise." if a.when else "."),
        type="Num" if isinstance(a.value, int | float) else "Char",
    )


@column_op(
    "constant",
    ConstantArgs,
    _constant_meta,
    example=Example(
        spec="PARCAT1: {derive: constant, value: VITAL SIGNS, when: {variable: PARAMCD, "
        "in: [SYSBP, DIABP]}}",
        records={"USUBJID": ["S1", "S1", "S1"], "PARAMCD": ["SYSBP", "DIABP", "WEIGHT"]},
        gives=["VITAL SIGNS", "VITAL SIGNS", ""],
    ),
)
def op_constant(frame: pd.DataFrame, args: ConstantArgs, ctx: BuildContext) -> pd.Series:
    """The same value on every record (or on the records where ``when`` holds; null
    elsewhere): an assigned value, ADaMIG v1.3 section 3.1.1 (e.g. PARCATy, DTYPE)."""
    mask = where_mask(frame, ctx, args.when)
    if isinstance(args.value, int | float):
        number = pd.Series(float(args.value), index=frame.index)
        return number if mask is None else number.where(mask.fillna(False).astype(bool))
    text = pd.Series(args.value, index=frame.index, dtype=object)
    return text if mask is None else text.where(mask.fillna(False).astype(bool), "")


# ------------------------------------------------------------- summaries of another dataset
def _other_lookups(source: str, where: Condition | None) -> set[tuple[str, str]]:
    dom, var = split_source(source)
    extra = set(where.variables()) if where else set()
    return {(dom or "", v) for v in {var, "USUBJID", *extra}}


def _other_records(
    ctx: BuildContext, source: str, where: Condition | None
) -> tuple[pd.DataFrame, str]:
    """The records of ``source``'s dataset where ``where`` holds, and the variable."""
    dom, var = split_source(source)
    needed = list(dict.fromkeys(["USUBJID", var] + (sorted(where.variables()) if where else [])))
    other = ctx.table(dom or "", needed)[needed]  # only these columns are selected from
    if where is not None:
        other = other[evaluate(where, other).to_numpy()]
    return other, var


class CountArgs(OpArgs):
    source: str = Field(
        description="`DATASET.VAR` (an SDTM domain or an ADaM dataset built earlier) whose "
        "non-missing values are counted per subject, e.g. ADQS.AVAL"
    )
    where: Condition | None = Field(
        default=None,
        description="condition on that dataset's variables choosing the records counted; "
        "none: all of them",
    )
    distinct: bool = Field(
        default=False,
        description="true: count the distinct values of VAR; false: count the records that "
        "have a value",
    )

    def lookups(self) -> set[tuple[str, str]]:
        return _other_lookups(self.source, self.where)


def _count_meta(a: CountArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        origin="Derived",
        source=a.source,
        method=(
            f"Number of {'distinct ' if a.distinct else ''}{a.source} values per subject"
            + (f" where {describe_condition(a.where)}" if a.where else "")
            + "; 0 when none."
        ),
        type="Num",
    )


@column_op(
    "count",
    CountArgs,
    _count_meta,
    example=Example(
        spec="NUMINJ: {derive: count, source: EX.EXSTDTC, label: Number of Injections}",
        domains={
            "EX": {
                "USUBJID": ["S1", "S1", "S2"],
                "EXSEQ": [1, 2, 1],
                "EXSTDTC": ["2020-02-01", "2020-03-02", "2020-02-15"],
            }
        },
        records={"USUBJID": ["S1", "S2", "S3"]},
        gives=[2, 1, 0],
    ),
)
def op_count(frame: pd.DataFrame, args: CountArgs, ctx: BuildContext) -> pd.Series:
    """Number of records (or distinct values) per subject in another dataset that have a
    value, among those where ``where`` holds; 0 for a subject with none (a subject-level
    count, ADaMIG v1.3 section 3.2)."""
    other, var = _other_records(ctx, args.source, args.where)
    col = other[var]
    present = (
        col.notna() if pd.api.types.is_numeric_dtype(col) else col.astype(str).str.strip() != ""
    )
    other = other[present.to_numpy()]
    grouped = other.groupby("USUBJID")[var]
    counts = grouped.nunique() if args.distinct else grouped.size()
    return ctx.to_rows(frame, counts.astype("float64")).fillna(0.0)


class ExistsArgs(OpArgs):
    source: str = Field(
        description="`DATASET.VAR` naming the other dataset (e.g. CM.CMTRT); any record "
        "counts, whatever VAR holds"
    )
    where: Condition | None = Field(
        default=None,
        description="condition on that dataset's variables a record must meet; none: any "
        "record of the subject",
    )
    otherwise: Literal["N", ""] = Field(
        default="N",
        description='value for subjects without such a record: `N` (a Y/N flag) or `""` '
        "(null, a Y/null flag), ADaMIG v1.3 section 3.1.4",
    )

    def lookups(self) -> set[tuple[str, str]]:
        return _other_lookups(self.source, self.where)


def _exists_meta(a: ExistsArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        source=a.source,
        method=(
            f"'Y' if the subject has a {split_source(a.source)[0]} record"
            + (f" with {describe_condition(a.where)}" if a.where else "")
            + f"; otherwise {repr(a.otherwise) if a.otherwise else 'null'}."
        ),
        type="Char",
    )


@column_op(
    "exists",
    ExistsArgs,
    _exists_meta,
    example=Example(
        spec="RILUFL: {derive: exists, source: CM.CMTRT, where: {variable: CMDECOD, equals: "
        "RILUZOLE}, label: Riluzole Use Flag}",
        domains={
            "CM": {
                "USUBJID": ["S1", "S2", "S2"],
                "CMTRT": ["RILUTEK", "ASPIRIN", "RILUZOLE 50MG"],
                "CMDECOD": ["RILUZOLE", "ACETYLSALICYLIC ACID", "RILUZOLE"],
            }
        },
        records={"USUBJID": ["S1", "S2", "S3"]},
        gives=["Y", "Y", "N"],
    ),
)
def op_exists(frame: pd.DataFrame, args: ExistsArgs, ctx: BuildContext) -> pd.Series:
    """Y when the subject has a record in another dataset (where ``where`` holds), else N
    (or null): a subject-level flag, ADaMIG v1.3 section 3.1.4."""
    other, _ = _other_records(ctx, args.source, args.where)
    has = frame["USUBJID"].isin(pd.unique(other["USUBJID"]))  # no Python set of every record
    return derive_flag(has, false_value=args.otherwise)
