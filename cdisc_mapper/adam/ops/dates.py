"""Analysis dates and durations: numeric dates from ISO 8601 text with imputation and its
flag (``date``), months between dates (``months``), a decline rate per month
(``decline_rate``), analysis relative days (``analysis_day``) and durations
(``duration``).

Rules implemented (ADaMIG v1.3, see :mod:`cdisc_mapper.adam.derive.dates`):

* Section 3.1.2 (Timing Variable Conventions): ``*DT`` from ``--DTC``; the imputation flag
  ``*DTF`` ("D" day imputed, "M" month and day imputed, null when not imputed).
* Section 3.3.3 (Timing Variables for BDS Datasets), ADY: ``ADT - reference + 1`` on or
  after the reference date, ``ADT - reference`` before it (no day 0).
* ADaM OCCDS v1.1, ADURN: the analysis duration (here in days, both end days counted).
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    derive_analysis_day,
    derive_imputed_date,
    derive_months,
    derive_numeric_date,
)
from cdisc_mapper.adam.ops.base import column_op
from cdisc_mapper.adam.ops.common import column_of, reference_text
from cdisc_mapper.adam.ops.lookups import Lookup, lookup, lookup_meta
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs


# --------------------------------------------------------------------------- dates (*DT, *DTF)
class ImputeSpec(OpArgs):
    day: Literal["first", "mid", "last"] = Field(
        description="a missing day becomes the `first` (1st), `mid` (15th) or `last` day of "
        "the month; the flag is then D"
    )
    month: Literal["first", "mid", "last"] = Field(
        description="a missing month and day become `first` (1 January), `mid` (1 July) or "
        "`last` (31 December); the flag is then M"
    )
    not_before: list[str] = Field(
        default_factory=list,
        description="numeric date variables (e.g. [TRTSDT]) used instead of an imputed date "
        "they follow, when they fall within the partial date's range",
    )
    not_after: list[str] = Field(
        default_factory=list,
        description="numeric date variables (e.g. [DTHDT, EOSDT]) used instead of an imputed "
        "date they precede, when they fall within the partial date's range",
    )

    def describe(self) -> str:
        day = {"first": "the 1st", "mid": "the 15th", "last": "the last day of the month"}[self.day]
        month = {"first": "1 January", "mid": "1 July", "last": "31 December"}[self.month]
        text = f"A missing day is imputed as {day}; a missing month and day as {month}"
        if self.not_before:
            text += (
                f"; if {' or '.join(self.not_before)} falls within the partial date's range and "
                "after the imputed date, that date is used instead"
            )
        if self.not_after:
            text += (
                f"; if {' or '.join(self.not_after)} falls within the range and before the "
                "imputed date, that date is used instead"
            )
        return text + "; a missing year is not imputed."


class DateArgs(Lookup):
    impute: ImputeSpec | None = Field(
        default=None,
        description="how partial dates are completed (ADaMIG v1.3 section 3.1.2); none: a "
        "partial date gives null",
    )
    output: Literal["date", "flag"] = Field(
        default="date",
        description="`date`: the numeric date (*DT); `flag`: its imputation flag (*DTF: D, M, "
        "or null when nothing was imputed)",
    )

    def inputs(self) -> set[str]:
        out = super().inputs()
        if self.impute:
            out |= set(self.impute.not_before) | set(self.impute.not_after)
        return out


def _date_meta(args: DateArgs, ctx: BuildContext | None) -> ColumnMeta:
    base = lookup_meta(args, ctx, derived=True)
    src = base.source or args.source
    if args.output == "flag":
        method = (
            f"Imputation flag of the date from {src}: 'D' when the day was imputed, 'M' when "
            "month and day were imputed, null when the date was complete."
        )
        return ColumnMeta(
            origin="Derived", source=src, method=method, type="Char", codelist="DATEFL"
        )
    if args.impute is None:
        method = f"Date part of {src} when it is a complete date; null otherwise (no imputation)."
    else:
        method = f"Date part of {src}. {args.impute.describe()}"
    if args.where is not None or args.select != "only":
        method += f" Record: {args.describe()}."
    return ColumnMeta(origin="Derived", source=src, method=method, type="Num", date=True)


@column_op(
    "date",
    DateArgs,
    _date_meta,
    example=Example(
        spec="ASTDT: {derive: date, source: AESTDTC, impute: {day: first, month: first, "
        "not_before: [TRTSDT]}}",
        records={
            "USUBJID": ["S1", "S1", "S1", "S2", "S2"],
            "AESTDTC": ["2020-02-10T08:30", "2020-03", "2019", "2020-02", ""],
            "TRTSDT": ["2020-02-01", "2020-02-01", "2020-02-01", "2020-02-15", "2020-02-15"],
        },
        gives=["2020-02-10", "2020-03-01", "2019-01-01", "2020-02-15", None],
        note="2020-02 would be 2020-02-01, but TRTSDT (2020-02-15) falls in February 2020 "
        "after it, so TRTSDT is used (admiral's `min_dates`). With `output: flag` the same "
        "entry gives ASTDTF: null, D, M, D, null.",
    ),
)
def op_date(frame: pd.DataFrame, args: DateArgs, ctx: BuildContext) -> pd.Series:
    """A numeric date (*DT) from ISO 8601 text (the date part of a date-time), with partial
    dates imputed by the ``impute`` rule, or that rule's imputation flag (*DTF), ADaMIG
    v1.3 section 3.1.2. Without ``impute`` a partial date gives null."""
    text = lookup(frame, ctx, args)
    if args.impute is None:
        if args.output == "flag":
            return pd.Series("", index=frame.index, dtype=object)
        if pd.api.types.is_numeric_dtype(text):
            return text.astype("float64")
        return derive_numeric_date(text)
    before = [column_of(frame, ctx, v).astype("float64") for v in args.impute.not_before]
    after = [column_of(frame, ctx, v).astype("float64") for v in args.impute.not_after]
    date, flag = derive_imputed_date(
        text, day=args.impute.day, month=args.impute.month, not_before=before, not_after=after
    )
    return date if args.output == "date" else flag


# --------------------------------------------------------------------------- months, rates
class MonthsArgs(OpArgs):
    start: str = Field(description="numeric date variable the interval starts at (e.g. ONSDT)")
    end: str = Field(
        description="numeric date variable the interval ends at (e.g. TRTSDT); months = (end - "
        "start) / conventions `month_days`"
    )

    def inputs(self) -> set[str]:
        return {self.start, self.end}


def _months_meta(a: MonthsArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=f"({a.end} - {a.start}) / {c.specs.conventions.month_days:g} (days per month)."
        if c is not None
        else f"({a.end} - {a.start}) / days per month.",
        type="Num",
    )


@column_op(
    "months",
    MonthsArgs,
    _months_meta,
    example=Example(
        spec="DURDIAG: {derive: months, start: DIAGDT, end: TRTSDT, label: Months Since Diagnosis}",
        records={
            "USUBJID": ["S1", "S2"],
            "DIAGDT": ["2018-10-02", None],
            "TRTSDT": ["2020-02-01", "2020-02-15"],
        },
        gives=[16.0, None],
        note="487 days / 30.4375 (the conventions' `month_days`) = 16 months.",
    ),
)
def op_months(frame: pd.DataFrame, args: MonthsArgs, ctx: BuildContext) -> pd.Series:
    """Months between two dates: (end - start) / the conventions' ``month_days`` (days per
    month); null when either date is missing (a derived timing variable, ADaMIG v1.3
    section 3.1.2)."""
    return derive_months(
        column_of(frame, ctx, args.start),
        column_of(frame, ctx, args.end),
        ctx.conventions.month_days,
    )


class DeclineRateArgs(OpArgs):
    value: str = Field(
        description="variable holding the score at `end` (e.g. the ALSFRS-R total at screening)"
    )
    maximum: float = Field(
        description="the score's maximum (e.g. 48), taken as the score at `start`"
    )
    start: str = Field(
        description="numeric date variable the decline starts at (e.g. ONSDT, symptom onset)"
    )
    end: str = Field(
        description="numeric date variable of the score (e.g. SCRALSDT); no rate when it is "
        "not after `start`"
    )

    def inputs(self) -> set[str]:
        return {self.value, self.start, self.end}


def _decline_rate_meta(a: DeclineRateArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=(
            f"({a.maximum:g} - {a.value}) / months from {a.start} to {a.end}, months = days / "
            f"{c.specs.conventions.month_days:g}; null when the interval is not positive."
            if c is not None
            else f"({a.maximum:g} - {a.value}) / months from {a.start} to {a.end}."
        ),
        type="Num",
    )


@column_op(
    "decline_rate",
    DeclineRateArgs,
    _decline_rate_meta,
    example=Example(
        spec="DFSR: {derive: decline_rate, value: SCRALS, maximum: 48, start: ONSDT, end: "
        "SCRALSDT, label: Delta-FS}",
        records={
            "USUBJID": ["S1", "S2"],
            "SCRALS": [36, 40],
            "ONSDT": ["2018-10-02", "2020-02-15"],
            "SCRALSDT": ["2020-02-01", "2020-02-15"],
        },
        gives=[0.75, None],
        note="(48 - 36) / 16 months (487 days / 30.4375); S2's interval is 0 days: null.",
    ),
)
def op_decline_rate(frame: pd.DataFrame, args: DeclineRateArgs, ctx: BuildContext) -> pd.Series:
    """Average decline per month from a maximum score: (maximum - score) / months from
    start to end (e.g. delta-FS: (48 - ALSFRS-R total) / months from symptom onset); null
    when the interval is not positive (a derived subject-level value, ADaMIG v1.3 section
    3.2)."""
    months = derive_months(
        column_of(frame, ctx, args.start),
        column_of(frame, ctx, args.end),
        ctx.conventions.month_days,
    )
    value = column_of(frame, ctx, args.value).astype("float64")
    return ((args.maximum - value) / months).where(months > 0)


# --------------------------------------------------------------------------- days, durations
class AnalysisDayArgs(OpArgs):
    date: str = Field(
        default="ADT", description="numeric date variable whose relative day is given (e.g. ASTDT)"
    )
    reference: str | None = Field(
        default=None,
        description="numeric date variable of day 1; none: the conventions' `reference_date` "
        "(TRTSDT unless the conventions say otherwise)",
    )

    def inputs(self) -> set[str]:
        return {self.date} | ({self.reference} if self.reference else set())


def _analysis_day_meta(a: AnalysisDayArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=(
            f"{a.date} - {a.reference or reference_text(c)} + 1 "
            f"if {a.date} is on or after it, else {a.date} - "
            f"{a.reference or reference_text(c)} (no day 0)."
        ),
        type="Num",
    )


@column_op(
    "analysis_day",
    AnalysisDayArgs,
    _analysis_day_meta,
    example=Example(
        spec="ADY: {derive: analysis_day}",
        domains={
            "ADSL": {
                "USUBJID": ["S1", "S2", "S3"],
                "TRTSDT": ["2020-02-01", "2020-02-15", None],
            }
        },
        records={
            "USUBJID": ["S1", "S1", "S1", "S3"],
            "ADT": ["2020-01-31", "2020-02-01", "2020-02-10", "2020-02-01"],
        },
        gives=[-1, 1, 10, None],
        note="TRTSDT (the conventions' `reference_date`) comes from ADSL; S3 was never "
        "treated: null.",
    ),
)
def op_analysis_day(frame: pd.DataFrame, args: AnalysisDayArgs, ctx: BuildContext) -> pd.Series:
    """ADY (or ASTDY, AENDY): the day of a date relative to the analysis reference date,
    which is day 1, the day before it -1 (no day 0), ADaMIG v1.3 section 3.3.3."""
    ref = args.reference or ctx.conventions.reference_date
    return derive_analysis_day(
        column_of(frame, ctx, args.date).astype("float64"),
        column_of(frame, ctx, ref).astype("float64"),
    )


class DurationArgs(OpArgs):
    start: str = Field(
        default="ASTDT", description="numeric date variable of this dataset where it starts"
    )
    end: str = Field(
        default="AENDT", description="numeric date variable of this dataset where it ends"
    )

    def inputs(self) -> set[str]:
        return {self.start, self.end}


def _duration_meta(a: DurationArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=f"{a.end} - {a.start} + 1 (days); null when either is missing.", type="Num"
    )


@column_op(
    "duration",
    DurationArgs,
    _duration_meta,
    example=Example(
        spec="ADURN: {derive: duration}",
        records={
            "USUBJID": ["S1", "S2"],
            "ASTDT": ["2020-02-10", "2020-02-20"],
            "AENDT": ["2020-02-12", None],
        },
        gives=[3, None],
    ),
)
def op_duration(frame: pd.DataFrame, args: DurationArgs, ctx: BuildContext) -> pd.Series:
    """ADURN: the duration in days, counting both end days (end - start + 1); null when
    either date is missing (ADaM OCCDS v1.1)."""
    return frame[args.end].astype("float64") - frame[args.start].astype("float64") + 1
