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

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

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
from cdisc_mapper.spec.operations import ColumnMeta, OpArgs


# --------------------------------------------------------------------------- groups, recodes
class GroupItem(OpArgs):
    label: str
    lo: float | None = None
    hi: float | None = None


class GroupArgs(OpArgs):
    source: str
    groups: list[GroupItem] = Field(min_length=1)
    output: Literal["text", "number"] = "text"

    def inputs(self) -> set[str]:
        return {self.source}

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
        return "; ".join(parts) + "."


def _group_meta(a: GroupArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(method=a.describe(), type="Num" if a.output == "number" else "Char")


@column_op("group", GroupArgs, _group_meta)
def op_group(frame: pd.DataFrame, args: GroupArgs, ctx: BuildContext) -> pd.Series:
    """A grouping (``*GRy``) of a numeric variable, or its number (``*GRyN``)."""
    text, code = derive_group(
        column_of(frame, ctx, args.source), [(g.label, g.lo, g.hi) for g in args.groups]
    )
    return code if args.output == "number" else text


class RecodeArgs(Lookup):
    map: dict[str, str] = Field(default_factory=dict)
    other: str | None = None
    missing: str = ""
    output_type: Literal["Char", "Num"] = "Char"


def _recode_meta(args: RecodeArgs, ctx: BuildContext | None) -> ColumnMeta:
    parts = [f"{k!r} -> {v!r}" for k, v in args.map.items()]
    if args.other is not None:
        parts.append(f"any other value -> {args.other!r}")
    if args.missing:
        parts.append(f"missing -> {args.missing!r}")
    base = lookup_meta(args, ctx, derived=True)
    return ColumnMeta(
        origin="Derived",
        source=base.source,
        method=f"From {args.describe()}: " + "; ".join(parts) + ".",
        type=args.output_type,
    )


@column_op("recode", RecodeArgs, _recode_meta)
def op_recode(frame: pd.DataFrame, args: RecodeArgs, ctx: BuildContext) -> pd.Series:
    """Values mapped through a table (e.g. DS.DSDECOD -> EOSSTT, AEREL -> AREL)."""
    out = derive_recode(lookup(frame, ctx, args), args.map, other=args.other, missing=args.missing)
    if args.output_type == "Num":
        return pd.to_numeric(out.replace("", np.nan), errors="coerce").astype("float64")
    return out


# --------------------------------------------------------------------------- flags, criteria
class FlagArgs(OpArgs):
    where: Condition
    otherwise: Literal["N", ""] = "N"

    def inputs(self) -> set[str]:
        return set(self.where.variables())


def _flag_meta(a: FlagArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=f"'Y' if {describe_condition(a.where)}; "
        f"otherwise {repr(a.otherwise) if a.otherwise else 'null'}.",
        type="Char",
    )


@column_op("flag", FlagArgs, _flag_meta)
def op_flag(frame: pd.DataFrame, args: FlagArgs, ctx: BuildContext) -> pd.Series:
    """A Y/N (or Y/null) flag from a condition on this dataset's variables."""
    return derive_flag(evaluate(args.where, records_of(frame, ctx)), false_value=args.otherwise)


class CriterionArgs(OpArgs):
    source: str
    op: Literal["ge", "gt", "le", "lt"]
    threshold: float
    text: str = Field(min_length=1, max_length=200)
    output: Literal["text", "flag"]
    where: Condition | None = None

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


@column_op("criterion", CriterionArgs, _criterion_meta)
def op_criterion(frame: pd.DataFrame, args: CriterionArgs, ctx: BuildContext) -> pd.Series:
    """CRITy (text) and CRITyFL (Y/N/null) for a threshold on a variable."""
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
    start: str = "ASTDT"
    reference: str = "TRTSDT"
    end_reference: str | None = Field(default=None, description="e.g. EOSDT: not after it")
    missing_start: Literal["Y", ""] = "Y"

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


@column_op("treatment_emergent", TreatmentEmergentArgs, _treatment_emergent_meta)
def op_treatment_emergent(
    frame: pd.DataFrame, args: TreatmentEmergentArgs, ctx: BuildContext
) -> pd.Series:
    """TRTEMFL: started on or after first treatment."""
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
    by: list[str]
    order_by: list[str] = Field(min_length=1)
    where: Condition | None = None

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


@column_op("first_occurrence", FirstOccurrenceArgs, _first_occurrence_meta)
def op_first_occurrence(
    frame: pd.DataFrame, args: FirstOccurrenceArgs, ctx: BuildContext
) -> pd.Series:
    """AOCCxxFL: first occurrence within a grouping."""
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
