"""Baseline and change from baseline: ABLFL (``baseline_flag``), BASE/BASEC/BNRIND
(``base``), CHG (``chg``), PCHG (``pchg``) and a sign-safe percent improvement
(``percent_improvement``).

Rules implemented (ADaMIG v1.3, see :mod:`cdisc_mapper.adam.derive.baseline`):

* Section 3.3.8 (Indicator Variables for BDS Datasets): ABLFL, "Y" on the baseline record
  of each subject and parameter, at most one.
* Section 3.3.4 (Analysis Parameter Variables for BDS Datasets): BASE, the baseline
  record's AVAL on every record; CHG = AVAL - BASE; PCHG = (AVAL - BASE) / BASE * 100.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import pandas as pd
from pydantic import Field, field_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    base_declines,
    derive_base,
    derive_baseline_flag,
    derive_chg,
    derive_improvement_reason,
    derive_pchg,
    derive_percent_improvement,
)
from cdisc_mapper.adam.ops.base import column_op
from cdisc_mapper.adam.ops.common import column_of, reference_text, where_mask
from cdisc_mapper.condition import Condition
from cdisc_mapper.condition import describe as describe_condition
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs


# --------------------------------------------------------------------------- baseline flag
class BaselineFlagArgs(OpArgs):
    by: list[str] = Field(
        default_factory=lambda: ["USUBJID", "PARAMCD"],
        description="variables of the groups that each get at most one baseline record",
    )
    value: str = Field(
        default="AVAL",
        description="variable that must be non-missing (non-blank text) on the baseline "
        "record (e.g. AVALC for character results)",
    )
    date: str = Field(
        default="ADT",
        description="numeric date variable of the record; the latest one on or before "
        "`reference` wins",
    )
    reference: str | None = Field(
        default=None,
        description="numeric date variable the baseline must not be after (this dataset's or "
        "ADSL's); none: the conventions' `reference_date`",
    )
    order_by: list[str] = Field(
        default_factory=list,
        description="variables breaking ties on the date: the last record in their order "
        "wins (e.g. [SRCSEQ]); then record order",
    )
    where: Condition | None = Field(
        default=None,
        description="condition choosing the candidate records (e.g. `{variable: DTYPE, empty: "
        "true}`); none: all "
        "records",
    )

    def inputs(self) -> set[str]:
        out = {*self.by, self.value, self.date, *self.order_by}
        if self.reference:
            out.add(self.reference)
        if self.where:
            out |= self.where.variables()
        return out


def _baseline_flag_meta(a: BaselineFlagArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=(
            f"'Y' on the last record per {', '.join(a.by)} with a non-missing {a.value} and "
            f"{a.date} on or before {a.reference or reference_text(c)}"
            + (f", among records where {describe_condition(a.where)}" if a.where else "")
            + (f"; ties on the date: the last by {', '.join(a.order_by)}" if a.order_by else "")
            + "; null otherwise."
        ),
        type="Char",
    )


@column_op(
    "baseline_flag",
    BaselineFlagArgs,
    _baseline_flag_meta,
    example=Example(
        spec="ABLFL: {derive: baseline_flag, order_by: [SRCSEQ]}",
        domains={
            "ADSL": {
                "USUBJID": ["S1", "S2", "S3"],
                "TRTSDT": ["2020-02-01", "2020-02-15", None],
            }
        },
        records={
            "USUBJID": ["S1", "S1", "S1", "S1", "S1"],
            "PARAMCD": ["SYSBP", "SYSBP", "SYSBP", "SYSBP", "DIABP"],
            "SRCSEQ": [1, 2, 3, 4, 5],
            "ADT": ["2020-01-15", "2020-01-28", "2020-02-01", "2020-03-01", "2020-02-01"],
            "AVAL": [130, 125, None, 118, 80],
        },
        gives=["", "Y", "", "", "Y"],
        note="The last record with a value on or before TRTSDT (from ADSL, the conventions' "
        "`reference_date`), per subject and parameter: SYSBP's record of 2020-02-01 has no "
        "value, so the one of 2020-01-28 is the baseline.",
    ),
)
def op_baseline_flag(frame: pd.DataFrame, args: BaselineFlagArgs, ctx: BuildContext) -> pd.Series:
    """ABLFL (ADaMIG v1.3 section 3.3.8): Y on the last record with a non-missing value
    dated on or before the reference date (e.g. TRTSDT: pre-dose assessments on the day of
    first treatment count), per subject and parameter; null on the others and for subjects
    without a reference date."""
    ref = args.reference or ctx.conventions.reference_date
    work = frame
    if ref not in frame.columns:
        work = frame.assign(**{ref: column_of(frame, ctx, ref)})
    eligible = where_mask(work, ctx, args.where)
    return derive_baseline_flag(
        work,
        by=args.by,
        value=args.value,
        date=args.date,
        reference=ref,
        order_by=args.order_by,
        eligible=eligible,
    )


# --------------------------------------------------------------------------- BASE, change
class BaseArgs(OpArgs):
    by: list[str] = Field(
        default_factory=lambda: ["USUBJID", "PARAMCD"],
        description="variables of the groups whose records all get their baseline record's value",
    )
    value: str = Field(
        default="AVAL",
        description="variable copied from the baseline record: AVAL for BASE, AVALC for BASEC, "
        "ANRIND for BNRIND",
    )
    flag: str = Field(
        default="ABLFL",
        description="variable whose Y marks the baseline record; two in a group is an error",
    )

    def inputs(self) -> set[str]:
        return {*self.by, self.value, self.flag}


def _base_meta(a: BaseArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=f"{a.value} of the record with {a.flag} = 'Y' of the same {', '.join(a.by)}; "
        "null when there is none."
    )


@column_op(
    "base",
    BaseArgs,
    _base_meta,
    example=Example(
        spec="BASE: {derive: base}",
        records={
            "USUBJID": ["S1", "S1", "S1", "S2"],
            "PARAMCD": ["SYSBP", "SYSBP", "SYSBP", "SYSBP"],
            "AVAL": [130, 125, 118, 140],
            "ABLFL": ["", "Y", "", ""],
        },
        gives=[125, 125, 125, None],
        note="With `value: AVALC` it gives BASEC; with `value: ANRIND`, BNRIND.",
    ),
)
def op_base(frame: pd.DataFrame, args: BaseArgs, ctx: BuildContext) -> pd.Series:
    """BASE (or BASEC, BNRIND), ADaMIG v1.3 section 3.3.4: the baseline record's value on
    every record of its subject and parameter; null where there is no baseline record."""
    return derive_base(frame, by=args.by, value=args.value, flag=args.flag)


class ChangeArgs(OpArgs):
    value: str = Field(default="AVAL", description="numeric variable of the analysis value")
    base: str = Field(default="BASE", description="numeric variable of the baseline value")
    where: Condition | None = Field(
        default=None,
        description="condition on the record choosing where the result is given (e.g. "
        "`{variable: ADY, ge: 2}`, post-baseline); null elsewhere; none: every record",
    )

    def inputs(self) -> set[str]:
        return {self.value, self.base} | (self.where.variables() if self.where else set())


def _change_meta(
    kind: Literal["chg", "pchg"],
) -> Callable[[ChangeArgs, BuildContext | None], ColumnMeta]:
    def meta(a: ChangeArgs, c: BuildContext | None) -> ColumnMeta:
        formula = (
            f"{a.value} - {a.base}"
            if kind == "chg"
            else f"({a.value} - {a.base}) / {a.base} * 100 (null when {a.base} is 0)"
        )
        when = f" on records where {describe_condition(a.where)}" if a.where else ""
        return ColumnMeta(method=f"{formula}{when}; null when either is missing.", type="Num")

    return meta


@column_op(
    "chg",
    ChangeArgs,
    _change_meta("chg"),
    example=Example(
        spec="CHG: {derive: chg, where: {variable: ADY, gt: 1}}",
        records={
            "USUBJID": ["S1", "S1", "S1", "S1"],
            "ADY": [-12, 1, 30, 60],
            "AVAL": [130, 125, 118, None],
            "BASE": [125, 125, 125, 125],
        },
        gives=[None, None, -7, None],
    ),
)
def op_chg(frame: pd.DataFrame, args: ChangeArgs, ctx: BuildContext) -> pd.Series:
    """CHG = AVAL - BASE (ADaMIG v1.3 section 3.3.4); null when either is missing or
    ``where`` does not hold."""
    return derive_chg(frame[args.value], frame[args.base], where=where_mask(frame, ctx, args.where))


@column_op(
    "pchg",
    ChangeArgs,
    _change_meta("pchg"),
    example=Example(
        spec="PCHG: {derive: pchg}",
        records={
            "USUBJID": ["S1", "S1", "S2", "S3"],
            "AVAL": [90, 150, 4, 5],
            "BASE": [120, 120, 0, None],
        },
        gives=[-25, 25, None, None],
    ),
)
def op_pchg(frame: pd.DataFrame, args: ChangeArgs, ctx: BuildContext) -> pd.Series:
    """PCHG = (AVAL - BASE) / BASE * 100 (ADaMIG v1.3 section 3.3.4); null when either is
    missing, BASE is 0 or ``where`` does not hold."""
    return derive_pchg(
        frame[args.value], frame[args.base], where=where_mask(frame, ctx, args.where)
    )


class ImprovementArgs(ChangeArgs):
    direction: Literal["increase", "decrease"] = Field(
        default="increase",
        description="`increase`: a higher value is better, 100 * (AVAL - BASE) / |BASE|; "
        "`decrease`: a lower value is better",
    )
    min_base_decline: dict[str, float] = Field(
        default_factory=dict,
        description="by PARAMCD, the least worsening BASE must show for the improvement to "
        "be computed: with `increase`, BASE <= -value (e.g. a run-in slope declining by at "
        "least 0.25 points/month); with `decrease`, BASE >= value. Otherwise the result is "
        "null and `output: reason` gives `no_decline_reason`. A PARAMCD not listed: only "
        "BASE = 0 is excluded",
    )
    output: Literal["value", "reason"] = Field(
        default="value",
        description="`value`: the percent improvement; `reason`: why it is null (a sponsor "
        "reason variable beside it), on the records where `where` holds",
    )
    missing_reason: str = Field(
        default="AVAL OR BASE MISSING",
        min_length=1,
        max_length=200,
        description="with `output: reason`, the text when AVAL or BASE is missing",
    )
    no_decline_reason: str = Field(
        default="BASE NOT A DECLINE BEYOND THE THRESHOLD",
        min_length=1,
        max_length=200,
        description="with `output: reason`, the text when BASE is 0 or does not worsen by at "
        "least `min_base_decline` (those subjects are then reported apart)",
    )

    @field_validator("min_base_decline")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if v < 0]
        if bad:
            raise ValueError(f"min_base_decline must be 0 or more (PARAMCD {', '.join(bad)})")
        return value

    def inputs(self) -> set[str]:
        return super().inputs() | ({"PARAMCD"} if self.min_base_decline else set())


def _limit(frame: pd.DataFrame, a: ImprovementArgs) -> pd.Series:
    """Each record's ``min_base_decline`` (NaN when its PARAMCD has none)."""
    if not a.min_base_decline:
        return pd.Series(float("nan"), index=frame.index)
    return frame["PARAMCD"].map(a.min_base_decline).astype("float64")


def _threshold_text(a: ImprovementArgs) -> str:
    if not a.min_base_decline:
        return ""
    sign = "<= -" if a.direction == "increase" else ">= "
    each = ", ".join(f"{k}: {a.base} {sign}{v:g}" for k, v in a.min_base_decline.items())
    return f"; null unless {each}"


def _percent_improvement_meta(a: ImprovementArgs, c: BuildContext | None) -> ColumnMeta:
    where = f" on records where {describe_condition(a.where)}" if a.where else ""
    if a.output == "reason":
        return ColumnMeta(
            method=f"Why the percent improvement is null{where}: {a.missing_reason!r} when "
            f"{a.value} or {a.base} is missing; {a.no_decline_reason!r} when {a.base} is 0"
            + (_threshold_text(a).replace("; null unless", " or does not meet") or "")
            + "; null when it is computed.",
            type="Char",
        )
    return ColumnMeta(
        method=(
            f"100 * ({a.value} - {a.base}) / |{a.base}|"
            if a.direction == "increase"
            else f"100 * ({a.base} - {a.value}) / |{a.base}|"
        )
        + f" (a {'higher' if a.direction == 'increase' else 'lower'} value is better)"
        + where
        + f"; null when {a.base} is 0 or either value is missing{_threshold_text(a)}.",
        type="Num",
    )


@column_op(
    "percent_improvement",
    ImprovementArgs,
    _percent_improvement_meta,
    example=Example(
        spec="PIMPR: {derive: percent_improvement, direction: decrease, label: Percent "
        "Improvement}",
        records={
            "USUBJID": ["S1", "S1", "S2"],
            "AVAL": [90, 150, 4],
            "BASE": [120, 120, None],
        },
        gives=[25, -25, None],
        note="A lower value is better (`direction: decrease`): 90 from 120 is a 25% "
        "improvement. With `min_base_decline: {SLOPE: 0.25}` (direction increase) a record "
        "of PARAMCD SLOPE whose BASE is -0.1 gets null, and `output: reason` gives "
        "`no_decline_reason` on it.",
    ),
)
def op_percent_improvement(
    frame: pd.DataFrame, args: ImprovementArgs, ctx: BuildContext
) -> pd.Series:
    """Percent improvement of AVAL over BASE (a derived BDS variable, ADaMIG v1.3 section
    3.3.4, like PCHG): 100 * change / |BASE|, the change signed so
    that improvement is positive (also for a negative BASE); null when BASE is 0, either
    value is missing or BASE does not worsen by ``min_base_decline``; or, with ``output:
    reason``, why it is null."""
    mask = where_mask(frame, ctx, args.where)
    applies = (
        mask.fillna(False).astype(bool) if mask is not None else pd.Series(True, index=frame.index)
    )
    aval, base, limit = frame[args.value], frame[args.base], _limit(frame, args)
    if args.output == "reason":
        why = derive_improvement_reason(
            aval,
            base,
            limit,
            direction=args.direction,
            missing=args.missing_reason,
            no_decline=args.no_decline_reason,
        )
        return why.where(applies, "")
    out = derive_percent_improvement(aval, base, direction=args.direction)
    out = out.where(base_declines(base, limit, direction=args.direction))
    return out.where(applies)
