"""Flags and categories: a Y/N flag from a condition (``flag``), groupings of a numeric
variable (``group``), recoded values (``recode``), analysis criteria (``criterion``), and
the OCCDS flags ``treatment_emergent`` (TRTEMFL) and ``first_occurrence`` (AOCCzzFL).

Rules implemented (ADaMIG v1.3, see :mod:`cdisc_mapper.adam.derive.flags`):

* Section 3.1.4 (Flag Variable Conventions): population flags "Y"/"N"; other flags
  "Y"/"N"/null or "Y"/null.
* Section 3.1.1 (General Variable Conventions): grouping variables ``*GRy`` and their
  numeric ``*GRyN``, one to one.
* Section 3.3.4 (Analysis Parameter Variables for BDS Datasets): CRITy, the text of a
  criterion, and CRITyFL, "Y"/"N", null when it cannot be evaluated.
* ADaM OCCDS v1.1: TRTEMFL "Y" on treatment-emergent records; AOCCzzFL "Y" on the first
  occurrence within a grouping.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    derive_criterion_flag,
    derive_flag,
    derive_group,
    derive_recode,
)
from cdisc_mapper.adam.derive._keys import group_codes, lexsort, sort_keys
from cdisc_mapper.adam.ops.base import column_op
from cdisc_mapper.adam.ops.common import column_of, records_of, where_mask
from cdisc_mapper.adam.ops.lookups import Lookup, lookup, lookup_meta
from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.condition import describe as describe_condition
from cdisc_mapper.spec.adam import WORKING_PATTERN
from cdisc_mapper.spec.base import NAME_PATTERN, split_source
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs


# --------------------------------------------------------------------------- groups, recodes
class GroupItem(OpArgs):
    label: str = Field(description="the group's text (e.g. <65), given to values in its range")
    lo: float | None = Field(
        default=None, description="lowest value of the group (included); none: no lower bound"
    )
    hi: float | None = Field(
        default=None,
        description="upper bound of the group (excluded: lo <= value < hi); none: no upper bound",
    )


class GroupArgs(OpArgs):
    source: str = Field(description="numeric variable to group (e.g. AGE)")
    groups: list[GroupItem] = Field(
        min_length=1,
        description="the groups in order, numbered 1, 2, ...; a value takes the first group "
        "whose range holds it, else null",
    )
    output: Literal["text", "number"] = Field(
        default="text",
        description="`text`: the group's label (*GRy); `number`: its position in `groups` (*GRyN)",
    )
    where: Condition | None = Field(
        default=None,
        description="condition on the record choosing the records grouped (e.g. `{variable: "
        "PARAMCD, equals: HEIGHT}` for one parameter's AVALCAT1); elsewhere null; none: every "
        "record",
    )

    def inputs(self) -> set[str]:
        return {self.source} | (self.where.variables() if self.where else set())

    def describe(self) -> str:
        parts = []
        for i, g in enumerate(self.groups, start=1):
            cond = " and ".join(
                x
                for x in (
                    f">= {g.lo:g}" if g.lo is not None else "",
                    f"< {g.hi:g}" if g.hi is not None else "",
                )
                if x
            )
            parts.append(f"{g.label!r} ({i}) if {self.source} {cond}")
        text = "; ".join(parts) + "."
        if self.where is not None:
            text += f" Only where {describe_condition(self.where)}; null elsewhere."
        return text


def _group_meta(a: GroupArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(method=a.describe(), type="Num" if a.output == "number" else "Char")


@column_op(
    "group",
    GroupArgs,
    _group_meta,
    example=Example(
        spec="""AGEGR1:
  derive: group
  source: AGE
  groups: [{label: <65, hi: 65}, {label: 65-80, lo: 65, hi: 81}, {label: ">80", lo: 81}]""",
        records={"USUBJID": ["S1", "S2", "S3", "S4"], "AGE": [61, 65, 81, None]},
        gives=["<65", "65-80", ">80", ""],
        note="With `output: number` the same groups give AGEGR1N: 1, 2, 3, null.",
    ),
)
def op_group(frame: pd.DataFrame, args: GroupArgs, ctx: BuildContext) -> pd.Series:
    """A grouping (``*GRy``) of a numeric variable, or its number (``*GRyN``), one to one
    (ADaMIG v1.3 section 3.1.1); missing or ungrouped values give null."""
    text, code = derive_group(
        column_of(frame, ctx, args.source), [(g.label, g.lo, g.hi) for g in args.groups]
    )
    return _only_where(
        code if args.output == "number" else text, where_mask(frame, ctx, args.where)
    )


def _only_where(values: pd.Series, mask: pd.Series | None) -> pd.Series:
    """``values`` where ``mask`` holds (all when None); null (NaN, or "" for text) elsewhere."""
    if mask is None:
        return values
    keep = mask.fillna(False).astype(bool).to_numpy()
    if pd.api.types.is_numeric_dtype(values):
        return values.where(keep)
    return pd.Series(
        np.where(keep, values.to_numpy(dtype=object), ""), index=values.index, dtype=object
    )


class RecodeArgs(Lookup):
    """As :class:`Lookup`, except that ``where`` also applies to a variable of this
    dataset: it then chooses the records recoded (null elsewhere)."""

    map: dict[str, str] = Field(
        default_factory=dict,
        description="value -> new value (e.g. {COMPLETED: COMPLETED}); values are compared as "
        "text, blanks trimmed, case significant",
    )
    other: str | None = Field(
        default=None,
        description="new value for a non-blank value not in `map`; none: such a value is kept "
        "as it is",
    )
    missing: str = Field(
        default="", description='new value for a blank or missing value (default `""`, null)'
    )
    output_type: Literal["Char", "Num"] = Field(
        default="Char",
        description="`Char`: text; `Num`: the new values read as numbers (text that is not a "
        "number gives null)",
    )

    where: Condition | None = Field(
        default=None,
        description="a source in another dataset: condition on its variables choosing the "
        "subject's records to read; a variable of this dataset: condition on the record "
        "choosing the records recoded (e.g. `{variable: PARAMCD, equals: HEIGHT}`), null "
        "elsewhere; none: all",
    )

    @model_validator(mode="after")
    def _check(self) -> RecodeArgs:  # replaces Lookup's: `where` also fits this dataset
        dom, var = split_source(self.source)
        if not re.match(NAME_PATTERN, var) and not (dom is None and re.match(WORKING_PATTERN, var)):
            raise ValueError(f"source {self.source!r}: {var!r} is not a variable name")
        if dom is None and (self.select != "only" or self.order_by):
            raise ValueError("select/order_by apply to a source in another dataset (DOM.VAR)")
        if self.select != "only" and not self.order_by:
            raise ValueError(f"select: {self.select} needs order_by")
        return self

    @property
    def record_where(self) -> Condition | None:
        """The condition on this dataset's records (``where`` with a source of this dataset)."""
        return self.where if split_source(self.source)[0] is None else None

    def inputs(self) -> set[str]:
        extra = self.record_where.variables() if self.record_where else set()
        return super().inputs() | extra


def _recode_meta(args: RecodeArgs, ctx: BuildContext | None) -> ColumnMeta:
    parts = [f"{k!r} -> {v!r}" for k, v in args.map.items()]
    if args.other is not None:
        parts.append(f"any other value -> {args.other!r}")
    if args.missing:
        parts.append(f"missing -> {args.missing!r}")
    base = lookup_meta(args, ctx, derived=True)
    only = (
        f" Only where {describe_condition(args.record_where)}; null elsewhere."
        if args.record_where is not None
        else ""
    )
    return ColumnMeta(
        origin="Derived",
        source=base.source,
        method=f"From {args.describe()}: " + "; ".join(parts) + "." + only,
        type=args.output_type,
    )


@column_op(
    "recode",
    RecodeArgs,
    _recode_meta,
    example=Example(
        spec="""EOSSTT:
  derive: recode
  source: DS.DSDECOD
  where: {variable: DSCAT, equals: DISPOSITION EVENT}
  map: {COMPLETED: COMPLETED}
  other: DISCONTINUED
  missing: ONGOING""",
        domains={
            "DS": {
                "USUBJID": ["S1", "S1", "S2"],
                "DSCAT": ["PROTOCOL MILESTONE", "DISPOSITION EVENT", "DISPOSITION EVENT"],
                "DSDECOD": ["INFORMED CONSENT OBTAINED", "COMPLETED", "ADVERSE EVENT"],
            }
        },
        records={"USUBJID": ["S1", "S2", "S3"]},
        gives=["COMPLETED", "DISCONTINUED", "ONGOING"],
    ),
)
def op_recode(frame: pd.DataFrame, args: RecodeArgs, ctx: BuildContext) -> pd.Series:
    """Values mapped through a table (e.g. DS.DSDECOD -> EOSSTT, AEREL -> AREL), ADaMIG
    v1.3 section 3.1.1 (a derived variable from a predecessor): the value is read as
    ``derive: value`` reads ``source``; a value not in the table becomes ``other``, or
    stays as it is."""
    out = derive_recode(lookup(frame, ctx, args), args.map, other=args.other, missing=args.missing)
    mask = where_mask(frame, ctx, args.record_where)
    if args.output_type == "Num":
        number = pd.to_numeric(out.replace("", np.nan), errors="coerce").astype("float64")
        return _only_where(number, mask)
    return _only_where(out, mask)


# --------------------------------------------------------------------------- flags, criteria
class FlagArgs(OpArgs):
    where: Condition = Field(
        description="condition on the record (this dataset's variables, or ADSL's) under "
        "which the flag is Y"
    )
    otherwise: Literal["N", ""] = Field(
        default="N",
        description="value where `where` does not hold: `N` (Y/N, e.g. population flags) or "
        '`""` (null, Y/null flags), ADaMIG v1.3 section 3.1.4',
    )

    def inputs(self) -> set[str]:
        return set(self.where.variables())


def _flag_meta(a: FlagArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=f"'Y' if {describe_condition(a.where)}; "
        f"otherwise {repr(a.otherwise) if a.otherwise else 'null'}.",
        type="Char",
    )


@column_op(
    "flag",
    FlagArgs,
    _flag_meta,
    example=Example(
        spec="SAFFL: {derive: flag, where: {variable: TRTSDT, present: true}}",
        records={"USUBJID": ["S1", "S2", "S3"], "TRTSDT": ["2020-02-01", "2020-02-15", None]},
        gives=["Y", "Y", "N"],
        note='`otherwise: ""` makes a Y/null flag (S3: null).',
    ),
)
def op_flag(frame: pd.DataFrame, args: FlagArgs, ctx: BuildContext) -> pd.Series:
    """A Y/N (or Y/null) flag from a condition on this dataset's variables (or ADSL's),
    ADaMIG v1.3 section 3.1.4."""
    return derive_flag(evaluate(args.where, records_of(frame, ctx)), false_value=args.otherwise)


class CriterionArgs(OpArgs):
    source: str = Field(description="numeric variable of this dataset compared (e.g. AVAL, PCHG)")
    op: Literal["ge", "gt", "le", "lt"] = Field(
        description="comparison `source` op `threshold`: `ge` (>=), `gt` (>), `le` (<=) or `lt` (<)"
    )
    threshold: float = Field(description="the number `source` is compared with")
    text: str = Field(
        min_length=1,
        max_length=200,
        description="the criterion in words, e.g. AVAL >= 50, given as CRITy",
    )
    output: Literal["text", "flag"] = Field(
        description="`text`: CRITy (the `text` where the criterion applies); `flag`: CRITyFL "
        "(Y, N, or null when `source` is missing)"
    )
    where: Condition | None = Field(
        default=None,
        description="condition on the record choosing where the criterion applies; elsewhere "
        "both CRITy and CRITyFL are null",
    )

    def inputs(self) -> set[str]:
        return {self.source} | (self.where.variables() if self.where else set())


_SYM = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _criterion_meta(a: CriterionArgs, c: BuildContext | None) -> ColumnMeta:
    if a.output == "text":
        applies = describe_condition(a.where) if a.where else "the criterion applies"
        return ColumnMeta(method=f"{a.text!r} on records where {applies}.", type="Char")
    method = (
        f"'Y' if {a.source} {_SYM[a.op]} {a.threshold:g}, 'N' if not, "
        f"null when {a.source} is missing"
        + (f" or not ({describe_condition(a.where)})" if a.where else "")
        + "."
    )
    return ColumnMeta(method=method, type="Char")


@column_op(
    "criterion",
    CriterionArgs,
    _criterion_meta,
    example=Example(
        spec="""CRIT1FL:
  derive: criterion
  source: PCHG
  op: ge
  threshold: 50
  text: PCHG >= 50
  output: flag
  where: {variable: ADY, gt: 1}""",
        records={
            "USUBJID": ["S1", "S1", "S1", "S1"],
            "ADY": [1, 30, 60, 90],
            "PCHG": [None, 55, 20, None],
        },
        gives=["", "Y", "N", ""],
        note="With `output: text` the same entry gives CRIT1: null, then `PCHG >= 50` on "
        "the three records after day 1.",
    ),
)
def op_criterion(frame: pd.DataFrame, args: CriterionArgs, ctx: BuildContext) -> pd.Series:
    """CRITy (text) and CRITyFL (Y/N/null) for a threshold on a variable, ADaMIG v1.3
    section 3.3.4: Y when the value meets the threshold, N when not, null when the value is
    missing or the criterion does not apply."""
    mask = where_mask(frame, ctx, args.where)
    applies = (
        mask.fillna(False).astype(bool) if mask is not None else pd.Series(True, index=frame.index)
    )
    if args.output == "text":
        return pd.Series(np.where(applies, args.text, ""), index=frame.index, dtype=object)
    value = frame[args.source].astype("float64").where(applies)
    return derive_criterion_flag(value, op=args.op, threshold=args.threshold)


# --------------------------------------------------------------------------- occurrences (OCCDS)
class TreatmentEmergentArgs(OpArgs):
    start: str = Field(
        default="ASTDT", description="numeric start date variable of the record (e.g. ASTDT)"
    )
    reference: str = Field(
        default="TRTSDT",
        description="numeric date variable of first treatment (this dataset's or ADSL's); "
        "no flag where it is missing",
    )
    end_reference: str | None = Field(
        default=None,
        description="numeric date variable the start must be on or before (e.g. EOSDT); none, "
        "or missing for the subject: no upper limit",
    )
    missing_start: Literal["Y", ""] = Field(
        default="Y",
        description="`Y`: a record without a start date is treatment-emergent (conservative); "
        '`""`: it is not',
    )

    def inputs(self) -> set[str]:
        return {self.start, self.reference} | (
            {self.end_reference} if self.end_reference else set()
        )


def _treatment_emergent_meta(a: TreatmentEmergentArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=(
            f"'Y' if {a.start} is on or after {a.reference}"
            + (f" and on or before {a.end_reference}" if a.end_reference else "")
            + (
                f"; also 'Y' when {a.start} is missing and {a.reference} is present (conservative)"
                if a.missing_start == "Y"
                else ""
            )
            + f"; null otherwise (always null when {a.reference} is missing: never treated)."
        ),
        type="Char",
    )


@column_op(
    "treatment_emergent",
    TreatmentEmergentArgs,
    _treatment_emergent_meta,
    example=Example(
        spec="TRTEMFL: {derive: treatment_emergent, end_reference: EOSDT}",
        domains={
            "ADSL": {
                "USUBJID": ["S1", "S2", "S3"],
                "TRTSDT": ["2020-02-01", "2020-02-15", None],
                "EOSDT": ["2020-06-30", "2020-05-15", "2020-02-10"],
            }
        },
        records={
            "USUBJID": ["S1", "S1", "S1", "S2", "S3"],
            "ASTDT": ["2020-01-20", "2020-02-01", "2020-07-02", None, "2020-02-01"],
        },
        gives=["", "Y", "", "Y", ""],
        note="TRTSDT and EOSDT come from ADSL. A missing start counts as emergent "
        "(`missing_start: Y`); S3 was never treated.",
    ),
)
def op_treatment_emergent(
    frame: pd.DataFrame, args: TreatmentEmergentArgs, ctx: BuildContext
) -> pd.Series:
    """TRTEMFL (ADaM OCCDS v1.1): Y on records that start on or after the first treatment
    date (and not after ``end_reference``, when given); null otherwise."""
    s = column_of(frame, ctx, args.start).to_numpy(dtype="float64")
    r = column_of(frame, ctx, args.reference).to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        te = ~np.isnan(r) & (s >= r)
        if args.end_reference:
            e = column_of(frame, ctx, args.end_reference).to_numpy(dtype="float64")
            te = te & (np.isnan(e) | (s <= e))
    if args.missing_start == "Y":
        te = te | (~np.isnan(r) & np.isnan(s))
    return pd.Series(np.where(te, "Y", "").astype(object), index=frame.index)


class FirstOccurrenceArgs(OpArgs):
    by: list[str] = Field(
        description="variables of the grouping, one flag per group (e.g. [USUBJID, AEDECOD])"
    )
    order_by: list[str] = Field(
        min_length=1,
        description="variables ordering the records within a group; the first record is "
        "flagged (e.g. [ASTDT, AESEQ])",
    )
    where: Condition | None = Field(
        default=None,
        description="condition choosing the records that may be flagged (e.g. `{variable: "
        'TRTEMFL, equals: "Y"}`); none: all',
    )

    def inputs(self) -> set[str]:
        return {*self.by, *self.order_by} | (self.where.variables() if self.where else set())


def _first_occurrence_meta(a: FirstOccurrenceArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=(
            f"'Y' on the first record per {', '.join(a.by)} in the order of {', '.join(a.order_by)}"
            + (f", among records where {describe_condition(a.where)}" if a.where else "")
            + "; null otherwise."
        ),
        type="Char",
    )


@column_op(
    "first_occurrence",
    FirstOccurrenceArgs,
    _first_occurrence_meta,
    example=Example(
        spec="""AOCCPFL:
  derive: first_occurrence
  by: [USUBJID, AEDECOD]
  order_by: [ASTDT, AESEQ]
  where: {variable: TRTEMFL, equals: "Y"}""",
        records={
            "USUBJID": ["S1", "S1", "S1", "S1"],
            "AEDECOD": ["HEADACHE", "HEADACHE", "HEADACHE", "NAUSEA"],
            "AESEQ": [1, 2, 3, 4],
            "ASTDT": ["2020-01-20", "2020-02-10", "2020-02-05", "2020-02-10"],
            "TRTEMFL": ["", "Y", "Y", "Y"],
        },
        gives=["", "", "Y", "Y"],
        note="The first treatment-emergent HEADACHE is AESEQ 3 (by ASTDT).",
    ),
)
def op_first_occurrence(
    frame: pd.DataFrame, args: FirstOccurrenceArgs, ctx: BuildContext
) -> pd.Series:
    """AOCCzzFL (ADaM OCCDS v1.1): Y on the first record of each ``by`` group in the order
    of ``order_by``, among the records where ``where`` holds; null otherwise."""
    mask = where_mask(frame, ctx, args.where)
    ok = (
        np.ones(len(frame), dtype=bool) if mask is None else mask.fillna(False).to_numpy(dtype=bool)
    )
    idx = np.flatnonzero(ok)
    g = group_codes(frame, args.by)[idx]
    o = lexsort([g, *[k[idx] for k in sort_keys(frame, args.order_by)]])
    gs = g[o]
    first = idx[o[np.r_[True, gs[1:] != gs[:-1]]]] if len(o) else idx[:0]
    out = np.full(len(frame), "", dtype=object)
    out[first] = "Y"
    return pd.Series(out, index=frame.index)
