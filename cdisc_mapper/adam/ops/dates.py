"""Analysis dates and durations: numeric dates from ISO 8601 text with imputation and its
flag (``date``), numeric datetimes with their date and time imputation flags
(``datetime``) and their date or time part (``datetime_part``), months between dates
(``months``), a decline rate per month (``decline_rate``), analysis relative days
(``analysis_day``) and durations (``duration``).

Rules implemented (ADaMIG v1.3, see :mod:`cdisc_mapper.adam.derive.dates`):

* Section 3.1.2 (Timing Variable Conventions): ``*DT`` from ``--DTC``; the imputation flag
  ``*DTF`` ("D" day imputed, "M" month and day imputed, null when not imputed).
* Sections 3.1.2 and 3.1.3: ``*DTM`` from ``--DTC`` (SAS datetime, ``DATETIME20.``), its
  ``*DTF`` and time imputation flag ``*TMF`` ("H", "M", "S"); ``*DT`` and ``*TM`` as the
  date and time parts of ``*DTM``.
* Section 3.3.3 (Timing Variables for BDS Datasets), ADY: ``ADT - reference + 1`` on or
  after the reference date, ``ADT - reference`` before it (no day 0).
* ADaM OCCDS v1.1, ADURN: the analysis duration (here in days, both end days counted).
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    datetime_date,
    datetime_time,
    derive_analysis_day,
    derive_imputed_date,
    derive_imputed_datetime,
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


# --------------------------------------------------------------------------- datetimes (*DTM)
class DatetimeImputeSpec(OpArgs):
    time: Literal["first", "last"] = Field(
        default="first",
        description="a missing hour, minute or second becomes the `first` (00:00:00, :00) or "
        "`last` (23:59:59, :59) of its span; the flag *TMF is then H, M or S",
    )
    day: Literal["first", "mid", "last"] | None = Field(
        default=None,
        description="also impute a missing day: the `first`, `mid` (15th) or `last` day of the "
        "month (*DTF D); none: a date without its day gives null",
    )
    month: Literal["first", "mid", "last"] | None = Field(
        default=None,
        description="also impute a missing month and day (needs `day`): `first` (1 January), "
        "`mid` (1 July) or `last` (31 December) (*DTF M); none: a date without its month "
        "gives null",
    )
    not_before: list[str] = Field(
        default_factory=list,
        description="numeric datetime variables (e.g. [TRTSDTM]) used instead of an imputed "
        "datetime they follow, when they fall within the partial value's range",
    )
    not_after: list[str] = Field(
        default_factory=list,
        description="numeric datetime variables (e.g. [DTHDTM]) used instead of an imputed "
        "datetime they precede, when they fall within the partial value's range",
    )
    ignore_seconds: bool = Field(
        default=False,
        description="true: seconds are not collected, so a time given to the minute is not "
        "flagged (*TMF null rather than S); the seconds are still imputed",
    )

    @model_validator(mode="after")
    def _levels(self) -> DatetimeImputeSpec:
        if self.month is not None and self.day is None:
            raise ValueError("impute: month needs day (a missing month implies a missing day)")
        return self

    def describe(self) -> str:
        clock = "00:00:00" if self.time == "first" else "23:59:59"
        text = f"A missing time (or its missing part) is imputed from {clock}"
        if self.day is not None:
            day = {"first": "the 1st", "mid": "the 15th", "last": "the last day of the month"}
            text += f"; a missing day as {day[self.day]}"
        if self.month is not None:
            month = {"first": "1 January", "mid": "1 July", "last": "31 December"}[self.month]
            text += f"; a missing month and day as {month}"
        for names, rel in ((self.not_before, "after"), (self.not_after, "before")):
            if names:
                text += (
                    f"; if {' or '.join(names)} falls within the partial value's range and "
                    f"{rel} the imputed datetime, it is used instead"
                )
        missing = "month" if self.month else "day" if self.day else "date part"
        return text + f"; a value missing its {'year' if self.month else missing} gives null."


class DatetimeArgs(Lookup):
    impute: DatetimeImputeSpec | None = Field(
        default=None,
        description="how partial values are completed (ADaMIG v1.3 section 3.1.3, admiral "
        "derive_vars_dtm); none: only a complete date and time (with seconds) gives a value",
    )
    output: Literal["datetime", "date_flag", "time_flag"] = Field(
        default="datetime",
        description="`datetime`: the numeric datetime (*DTM, DATETIME20.); `date_flag`: its "
        "date imputation flag (*DTF: D, M); `time_flag`: its time imputation flag (*TMF: H, M, "
        "S); a flag is null when nothing was imputed",
    )

    def inputs(self) -> set[str]:
        out = super().inputs()
        if self.impute:
            out |= set(self.impute.not_before) | set(self.impute.not_after)
        return out


def _datetime_meta(args: DatetimeArgs, ctx: BuildContext | None) -> ColumnMeta:
    src = lookup_meta(args, ctx, derived=True).source or args.source
    if args.output == "date_flag":
        method = (
            f"Date imputation flag of the datetime from {src}: 'D' when the day was imputed, "
            "'M' when month and day were imputed, null otherwise."
        )
        return ColumnMeta(source=src, method=method, type="Char", codelist="DATEFL")
    if args.output == "time_flag":
        method = (
            f"Time imputation flag of the datetime from {src}: 'H' when the whole time was "
            "imputed, 'M' minutes and seconds, 'S' seconds"
            + (
                " (not flagged: seconds are not collected)"
                if args.impute and args.impute.ignore_seconds
                else ""
            )
            + "; null when the time was complete."
        )
        return ColumnMeta(source=src, method=method, type="Char", codelist="TIMEFL")
    if args.impute is None:
        method = f"{src} as a datetime when it has a complete date and time; null otherwise."
    else:
        method = f"{src} as a datetime. {args.impute.describe()}"
    if args.where is not None or args.select != "only":
        method += f" Record: {args.describe()}."
    return ColumnMeta(source=src, method=method, type="Num", format="DATETIME20.")


@column_op(
    "datetime",
    DatetimeArgs,
    _datetime_meta,
    example=Example(
        spec="TRTSDTM: {derive: datetime, source: EX.EXSTDTC, select: first, order_by: "
        "EXSTDTC, impute: {time: first}}",
        records={"USUBJID": ["S1", "S2", "S3"]},
        domains={
            "EX": {
                "USUBJID": ["S1", "S1", "S2"],
                "EXSTDTC": ["2020-02-01", "2020-03-02T09:30:00", "2020-02-15T08:05"],
            }
        },
        gives=[1896134400.0, 1897373100.0, None],
        note="S1 2020-02-01T00:00:00 (TRTSTMF H), S2 2020-02-15T08:05:00 (TRTSTMF S), S3 "
        "none; values are SAS datetimes (seconds since 1960-01-01)",
    ),
)
def op_datetime(frame: pd.DataFrame, args: DatetimeArgs, ctx: BuildContext) -> pd.Series:
    """A numeric datetime (*DTM: TRTSDTM, ADTM, ASTDTM) from ISO 8601 text, with partial
    values imputed by the ``impute`` rule, or its date (*DTF) or time (*TMF) imputation
    flag, ADaMIG v1.3 sections 3.1.2-3.1.3 (admiral derive_vars_dtm: ``time`` alone is
    highest_imputation "h", with ``day`` "D", with ``month`` "M")."""
    text = lookup(frame, ctx, args)
    imp = args.impute or DatetimeImputeSpec()
    before = [column_of(frame, ctx, v).astype("float64") for v in imp.not_before]
    after = [column_of(frame, ctx, v).astype("float64") for v in imp.not_after]
    value, dtf, tmf = derive_imputed_datetime(
        text.astype(object).where(text.notna(), ""),
        time=imp.time if args.impute else None,
        day=imp.day,
        month=imp.month,
        not_before=before,
        not_after=after,
        ignore_seconds=imp.ignore_seconds,
    )
    return {"datetime": value, "date_flag": dtf, "time_flag": tmf}[args.output]


class DatetimePartArgs(OpArgs):
    source: str = Field(
        description="numeric datetime variable of this dataset (or ADSL's), e.g. TRTSDTM"
    )
    part: Literal["date", "time"] = Field(
        default="date",
        description="`date`: its date (*DT, DATE9.); `time`: its time of day (*TM, TIME8.)",
    )

    def inputs(self) -> set[str]:
        return {self.source}


def _datetime_part_meta(a: DatetimePartArgs, c: BuildContext | None) -> ColumnMeta:
    if a.part == "date":
        return ColumnMeta(
            source=a.source, method=f"Date part of {a.source}.", type="Num", date=True
        )
    return ColumnMeta(
        source=a.source, method=f"Time part of {a.source}.", type="Num", format="TIME8."
    )


@column_op(
    "datetime_part",
    DatetimePartArgs,
    _datetime_part_meta,
    example=Example(
        spec="TRTSDT: {derive: datetime_part, source: TRTSDTM}",
        records={"USUBJID": ["S1", "S2"], "TRTSDTM": [1896134400.0, 1897373100.0]},
        gives=[21946.0, 21960.0],
        note="2020-02-01 and 2020-02-15 as SAS dates; `part: time` gives 0 and 29100 (08:05)",
    ),
)
def op_datetime_part(frame: pd.DataFrame, args: DatetimePartArgs, ctx: BuildContext) -> pd.Series:
    """The date (*DT) or time (*TM) part of a numeric datetime (*DTM), e.g. TRTSDT from
    TRTSDTM (ADaMIG v1.3 section 3.1.2; admiral derive_vars_dtm_to_dt and _to_tm); the
    imputation flags of the datetime apply to its parts."""
    value = column_of(frame, ctx, args.source).astype("float64")
    return datetime_date(value) if args.part == "date" else datetime_time(value)


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
