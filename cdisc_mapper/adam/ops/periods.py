"""Periods and phases: ADSL period and phase dates (``period_date``) and treatments
(``period_treatment``), the period of each BDS/OCCDS record (``record_period``) and a
flag on the records within given periods (``in_periods``).

Rules implemented (ADaMIG v1.3, see :mod:`cdisc_mapper.adam.derive.periods`):

* Section 3.2.7 (ADSL Period, Subperiod, and Phase Timing Variables): APxxSDT/APxxEDT,
  PHwSDT/PHwEDT; section 3.2.4: TRTxxP/TRTxxA.
* Section 3.3.3 (Timing Variables for BDS Datasets): APERIOD, APERIODC, APHASE, the
  period and phase dates and TRTP/TRTA of the period containing the record's date.

A period's treatment is either one text per period in the conventions (a single-arm or
fixed-sequence design) or each subject's value (``source: DM.ARM``, randomised arms).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import DTypeLike
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    derive_record_period,
)
from cdisc_mapper.adam.ops.base import column_op
from cdisc_mapper.adam.ops.common import column_of, where_mask
from cdisc_mapper.adam.ops.lookups import Lookup, lookup, lookup_meta
from cdisc_mapper.condition import Condition
from cdisc_mapper.condition import describe as describe_condition
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs
from cdisc_mapper.textops import take_text

# The conventions and SDTM records of the period examples: two periods, from the first
# injection to the second (else the end of study), and from the second to the end.
_PERIODS = {
    "events": {
        "INJECTION": {"domain": "EX", "variable": "EXSTDTC"},
        "END": {"domain": "DM", "variable": "RFPENDTC"},
    },
    "periods": [
        {
            "aperiod": 1,
            "aperiodc": "DOSE 1",
            "start": {"event": "INJECTION", "occurrence": 1},
            "end": [{"event": "INJECTION", "occurrence": 2}, {"event": "END"}],
            "trtp": "DRUG A",
            "trta": "DRUG A",
        },
        {
            "aperiod": 2,
            "aperiodc": "DOSE 2",
            "start": {"event": "INJECTION", "occurrence": 2},
            "end": [{"event": "END"}],
            "trtp": "DRUG B",
            "trta": "DRUG B",
        },
    ],
    "phases": [],
}
_PERIOD_SDTM = {
    "DM": {
        "USUBJID": ["S1", "S2", "S3"],
        "RFPENDTC": ["2020-06-30", "2020-05-15", "2020-02-10"],
    },
    "EX": {
        "USUBJID": ["S1", "S1", "S2"],
        "EXSTDTC": ["2020-02-01", "2020-03-02", "2020-02-15"],
    },
}


# --------------------------------------------------------------------------- periods (ADSL)
class PeriodDateArgs(OpArgs):
    period: int | None = Field(
        default=None,
        description="APERIOD of a period in the conventions' `periods` (APxxSDT/APxxEDT); give "
        "`period` or `phase`",
    )
    phase: int | None = Field(
        default=None,
        description="APHASEN of a phase in the conventions' `phases` (PHwSDT/PHwEDT): its "
        "periods' earliest start or latest end",
    )
    bound: Literal["start", "end"] = Field(
        description="`start`: the date of the period's start event; `end`: of its first "
        "available end event"
    )

    @model_validator(mode="after")
    def _one(self) -> PeriodDateArgs:
        if (self.period is None) == (self.phase is None):
            raise ValueError("give exactly one of period, phase")
        return self

    def conventions_used(self) -> set[tuple[str, str | int]]:
        if self.period is not None:
            return {("period", self.period)}
        return {("phase", self.phase)} if self.phase is not None else set()


def _period_date_meta(a: PeriodDateArgs, c: BuildContext | None) -> ColumnMeta:
    if c is None:
        return ColumnMeta(type="Num", date=True)
    conv = c.specs.conventions
    if a.period is not None:
        p = conv.period(a.period)
        refs = [p.start] if a.bound == "start" else p.end
        events = " else ".join(
            f"{r.event} ({conv.events[r.event].domain}.{conv.events[r.event].variable}, "
            f"{'last' if r.occurrence == 'last' else 'occurrence ' + str(r.occurrence)})"
            for r in refs
        )
        method = f"{a.bound.title()} of period {a.period} ({p.aperiodc}): date of {events}."
        if a.bound == "start":
            method += " Null when the subject has no such event (the period did not happen)."
    else:
        ph = next(x for x in conv.phases if x.aphasen == a.phase)
        method = (
            f"{'Earliest start' if a.bound == 'start' else 'Latest end'} of the periods of phase "
            f"{a.phase} ({ph.aphase}): periods {', '.join(map(str, ph.periods))}."
        )
    return ColumnMeta(method=method, type="Num", date=True)


@column_op(
    "period_date",
    PeriodDateArgs,
    _period_date_meta,
    example=Example(
        spec="AP01EDT: {derive: period_date, period: 1, bound: end}",
        conventions=_PERIODS,
        domains=_PERIOD_SDTM,
        records={"USUBJID": ["S1", "S2", "S3"]},
        gives=["2020-03-02", "2020-05-15", None],
        note="Period 1 ends at the second injection, else at the end of study; S3 was never "
        "injected, so has no period 1.",
    ),
)
def op_period_date(frame: pd.DataFrame, args: PeriodDateArgs, ctx: BuildContext) -> pd.Series:
    """APxxSDT/APxxEDT or PHwSDT/PHwEDT (ADaMIG v1.3 section 3.2.7): the date of the event
    that starts or ends the period in the conventions, per subject; null when the subject
    has no such event (the period did not happen)."""
    table = ctx.period_table
    pair = table.periods[args.period] if args.period is not None else table.phases[args.phase]  # type: ignore[index]
    return ctx.to_rows(frame, pair[0] if args.bound == "start" else pair[1])


class PeriodTreatmentArgs(OpArgs):
    period: int = Field(description="APERIOD of the period (xx of TRTxxP/TRTxxA)")
    actual: bool = Field(
        default=False,
        description="false: planned (TRTxxP), for every subject; true: actual (TRTxxA), null "
        "for subjects who did not have the period (no APxxSDT; needs the period in the "
        "conventions' `periods`)",
    )
    source: str | None = Field(
        default=None,
        description="the subject's treatment instead of the period's `trtp`/`trta` text in the "
        "conventions: `DOMAIN.VAR` (e.g. DM.ARM for TRT01P, DM.ACTARM for TRT01A) or a variable "
        "of ADSL; none: the conventions' text (the period must be in `periods`)",
    )
    where: Condition | None = Field(
        default=None,
        description="with a `DOMAIN.VAR` source: condition its record must meet, else the "
        "subject gets null (e.g. {variable: ARM, not_in: [Screen Failure, Not Assigned]}); "
        "none: any record",
    )

    @model_validator(mode="after")
    def _source(self) -> PeriodTreatmentArgs:
        if self.where is not None and self.source is None:
            raise ValueError("where applies to a source (DOMAIN.VAR)")
        self.lookup()  # checks source and where
        return self

    def lookup(self) -> Lookup | None:
        """The subject's value ``source`` names, as ``derive: value`` reads it."""
        if self.source is None:
            return None
        return Lookup(source=self.source, where=self.where)

    def inputs(self) -> set[str]:
        found = self.lookup()
        return found.inputs() if found is not None else set()

    def lookups(self) -> set[tuple[str, str]]:
        found = self.lookup()
        return found.lookups() if found is not None else set()

    def conventions_used(self) -> set[tuple[str, str | int]]:
        return {("period", self.period)} if self.actual or self.source is None else set()


def _had_period(a: PeriodTreatmentArgs) -> str:
    return (
        f"; null for subjects who did not have period {a.period} (AP{a.period:02d}SDT missing)"
        if a.actual
        else ""
    )


def _period_trt_meta(a: PeriodTreatmentArgs, c: BuildContext | None) -> ColumnMeta:
    found = a.lookup()
    if found is not None:
        base = lookup_meta(found, c, derived=a.actual)
        what = "Actual" if a.actual else "Planned"
        method = f"{what} treatment of period {a.period}: {found.describe()}"
        if a.where is not None:
            method += "; null for subjects without such a record"
        return replace(base, method=method + _had_period(a) + ".", type="Char")
    if c is None:
        return ColumnMeta(type="Char")
    p = c.specs.conventions.period(a.period)
    text = p.trta if a.actual else p.trtp
    if a.actual:
        method = (
            f"{text!r} for subjects who had period {a.period} ({p.aperiodc}), i.e. "
            f"AP{a.period:02d}SDT is present; null otherwise."
        )
    else:
        method = (
            f"{text!r} for every subject (planned treatment of period {a.period}, {p.aperiodc})."
        )
    return ColumnMeta(origin="Assigned" if not a.actual else "Derived", method=method, type="Char")


@column_op(
    "period_treatment",
    PeriodTreatmentArgs,
    _period_trt_meta,
    example=Example(
        spec="TRT01P: {derive: period_treatment, period: 1, source: DM.ARM, where: {variable: ARM, "
        "not_in: [Screen Failure]}}",
        records={"USUBJID": ["S1", "S2", "S3"]},
        domains={
            "DM": {
                "USUBJID": ["S1", "S2", "S3"],
                "ARM": ["Placebo", "Xanomeline High Dose", "Screen Failure"],
            }
        },
        gives=["Placebo", "Xanomeline High Dose", ""],
        note="without `source` every subject gets the period's `trtp` of the conventions",
    ),
)
def op_period_treatment(
    frame: pd.DataFrame, args: PeriodTreatmentArgs, ctx: BuildContext
) -> pd.Series:
    """TRTxxP (every subject) or TRTxxA (subjects who had the period, i.e. have APxxSDT),
    ADaMIG v1.3 section 3.2.4: the subject's value of ``source`` (e.g. DM.ARM, DM.ACTARM)
    or, without one, the period's treatment text in the conventions."""
    found = args.lookup()
    if found is not None:
        text = lookup(frame, ctx, found)
        values = text.astype(object).where(text.notna(), "")
    else:
        p = ctx.conventions.period(args.period)
        constant = (p.trta if args.actual else p.trtp) or ""
        values = pd.Series(constant, index=frame.index, dtype=object)
    if not args.actual:
        return values
    start = ctx.to_rows(frame, ctx.period_table.periods[args.period][0])
    return pd.Series(np.where(start.notna(), values, ""), index=frame.index, dtype=object)


# --------------------------------------------------------------------------- record timing (BDS)
PERIOD_OUTPUTS = (
    "APERIOD",
    "APERIODC",
    "APHASE",
    "APHASEN",
    "APERSDT",
    "APEREDT",
    "PHSDT",
    "PHEDT",
    "TRTP",
    "TRTA",
)


class RecordPeriodArgs(OpArgs):
    date: str = Field(
        default="ADT",
        description="numeric date variable of the record placed in the subject's ADSL periods "
        "(e.g. ASTDT)",
    )
    output: Literal[PERIOD_OUTPUTS] = Field(  # type: ignore[valid-type]
        description="the variable to give: the period, its text, the phase, the period or "
        "phase dates, or TRTP/TRTA of that period"
    )
    boundary: Literal["end", "start"] = Field(
        default="end",
        description="a date on the day one period ends and the next starts belongs to the "
        "ending period (`end`) or the starting one (`start`)",
    )

    def inputs(self) -> set[str]:
        return {self.date}


def _record_period_meta(a: RecordPeriodArgs, c: BuildContext | None) -> ColumnMeta:
    rule = "a date shared by two periods (the day one ends and the next starts) belongs to the " + (
        "period that ends that day" if a.boundary == "end" else "period that starts that day"
    )
    # one text for the period and phase variables: define.xml gives them one MethodDef
    base = (
        f"APERIOD is the period whose ADSL APxxSDT..APxxEDT (inclusive) contains {a.date}; "
        f"{rule}; null when no period contains it. APERIODC is the period's name in the "
        "study conventions, APHASE the phase (ADSL APHASEw) containing the period and "
        "APHASEN the phase's number."
    )
    texts = {
        "APERIOD": base,
        "APERIODC": base,
        "APHASE": base,
        "APHASEN": base,
        "APERSDT": "ADSL APxxSDT of the record's APERIOD.",
        "APEREDT": "ADSL APxxEDT of the record's APERIOD.",
        "PHSDT": "ADSL PHwSDT of the record's phase.",
        "PHEDT": "ADSL PHwEDT of the record's phase.",
        "TRTP": "ADSL TRTxxP of the record's APERIOD.",
        "TRTA": "ADSL TRTxxA of the record's APERIOD.",
    }
    num = a.output in ("APERIOD", "APHASEN", "APERSDT", "APEREDT", "PHSDT", "PHEDT")
    return ColumnMeta(
        method=texts[a.output], type="Num" if num else "Char", date=a.output.endswith("DT")
    )


def _by_period(
    idx: np.ndarray, size: int, values: Mapping[int, object], fill: object, dtype: DTypeLike
) -> np.ndarray:
    """``values`` (by period number) on the rows whose period number is ``idx`` (``size -
    1`` for none, which gets ``fill``)."""
    arr = np.full(size, fill, dtype=dtype)
    for k, v in values.items():
        arr[k] = v
    return arr[idx]


def _text_by_period(idx: np.ndarray, size: int, values: Mapping[int, str]) -> pd.Series:
    """The text ``values`` (by period number) on the rows whose period number is ``idx``
    (``size - 1`` for none, which gets ``""``), built in Arrow from the period numbers: no
    Python string per row to convert."""
    table = [""] * size
    for k, v in values.items():
        table[k] = v
    return take_text(table, idx)


def _dates_by_number(
    frame: pd.DataFrame,
    ctx: BuildContext,
    number: np.ndarray,
    dates: Mapping[int, tuple[pd.Series, pd.Series]],
) -> tuple[np.ndarray, np.ndarray]:
    """The subject's start and end dates of the period (or phase) ``number`` of each row."""
    start = np.full(len(number), np.nan)
    end = np.full(len(number), np.nan)
    for n, (s, e) in dates.items():
        hit = number == n
        if hit.any():
            start[hit] = ctx.to_rows(frame, s).to_numpy()[hit]
            end[hit] = ctx.to_rows(frame, e).to_numpy()[hit]
    return start, end


def record_timing(
    frame: pd.DataFrame, ctx: BuildContext, date_col: str, boundary: Literal["end", "start"]
) -> pd.DataFrame:
    """Every :data:`PERIOD_OUTPUTS` column of the records by their ``date_col`` (cached
    for the dataset being built)."""
    key = ("period", date_col, boundary)
    if key in ctx.state.cache:
        cached: pd.DataFrame = ctx.state.cache[key]
        return cached
    conv = ctx.conventions
    table = ctx.period_table
    aperiod = derive_record_period(
        frame["USUBJID"], column_of(frame, ctx, date_col), table.periods, boundary=boundary
    )
    ap = aperiod.to_numpy()
    out = pd.DataFrame({"APERIOD": ap}, index=frame.index)
    names = {p.aperiod: p.aperiodc for p in conv.periods}
    trtp = {p.aperiod: p.trtp or "" for p in conv.periods}
    trta = {p.aperiod: p.trta or "" for p in conv.periods}
    phase_of = {n: ph for ph in conv.phases for n in ph.periods}
    # lookups by period number (small integers): arrays indexed by APERIOD, last = none
    top = max(names) + 1
    idx = np.where(np.isnan(ap), top, np.nan_to_num(ap, nan=top)).astype(np.int64)
    out["APERIODC"] = _text_by_period(idx, top + 1, names).array
    out["APHASE"] = _text_by_period(
        idx, top + 1, {n: ph.aphase for n, ph in phase_of.items()}
    ).array
    out["APHASEN"] = _by_period(
        idx, top + 1, {n: float(ph.aphasen) for n, ph in phase_of.items()}, np.nan, "float64"
    )
    out["TRTP"] = _text_by_period(idx, top + 1, trtp).array
    out["TRTA"] = _text_by_period(idx, top + 1, trta).array
    out["APERSDT"], out["APEREDT"] = _dates_by_number(frame, ctx, ap, table.periods)
    out["PHSDT"], out["PHEDT"] = _dates_by_number(
        frame, ctx, out["APHASEN"].to_numpy(), table.phases
    )
    ctx.state.cache[key] = out
    return out


@column_op(
    "record_period",
    RecordPeriodArgs,
    _record_period_meta,
    example=Example(
        spec="APERIOD: {derive: record_period, output: APERIOD}",
        conventions=_PERIODS,
        domains=_PERIOD_SDTM,
        records={
            "USUBJID": ["S1", "S1", "S1", "S2"],
            "ADT": ["2020-02-10", "2020-03-02", "2020-03-03", "2020-01-01"],
        },
        gives=[1, 1, 2, None],
        note="2020-03-02 ends period 1 and starts period 2: it belongs to period 1 "
        "(`boundary: end`). `output: TRTA` gives DRUG A, DRUG A, DRUG B, null.",
    ),
)
def op_record_period(frame: pd.DataFrame, args: RecordPeriodArgs, ctx: BuildContext) -> pd.Series:
    """APERIOD, APERIODC, APHASE(N), the period and phase dates or TRTP/TRTA of each record
    (ADaMIG v1.3 section 3.3.3): those of the ADSL period whose APxxSDT..APxxEDT (inclusive)
    contains the record's date; null when none does."""
    return record_timing(frame, ctx, args.date, args.boundary)[args.output]


# --------------------------------------------------------------------------- records within periods
class InPeriodsArgs(OpArgs):
    periods: list[int] = Field(
        min_length=1,
        description="APERIOD of the periods: a record is in them when its date lies from the "
        "earliest start to the latest end (both days included) of those the subject had",
    )
    fallback: list[int] = Field(
        default_factory=list,
        description="APERIOD of the periods used instead for a subject who had none of "
        "`periods` (same rule), as the `fallback` of the ADPROG interval whose records the "
        "flag marks; default: none (such a subject's records are not flagged)",
    )
    date: str = Field(default="ADT", description="numeric date variable of the record")
    where: Condition | None = Field(
        default=None,
        description="condition the record must also meet (e.g. the parameter and a present "
        "AVAL: the records a rate over these periods uses); none: any record",
    )

    @model_validator(mode="after")
    def _fallback_apart(self) -> InPeriodsArgs:
        both = sorted(set(self.periods) & set(self.fallback))
        if both:
            raise ValueError(f"period(s) {both} are in both `periods` and `fallback`")
        return self

    def inputs(self) -> set[str]:
        return {self.date} | (self.where.variables() if self.where else set())

    def conventions_used(self) -> set[tuple[str, str | int]]:
        return {("period", n) for n in (*self.periods, *self.fallback)}


def _in_periods_meta(a: InPeriodsArgs, c: BuildContext | None) -> ColumnMeta:
    cond = f" and {describe_condition(a.where)}" if a.where else ""
    other = (
        f", or, for a subject who had none of them, of periods "
        f"{', '.join(str(n) for n in a.fallback)}"
        if a.fallback
        else ""
    )
    return ColumnMeta(
        method=f"'Y' when {a.date} is from the start to the end (inclusive) of the subject's "
        f"periods {', '.join(str(n) for n in a.periods)}{other} (ADSL APxxSDT..APxxEDT, "
        f"earliest start to latest end){cond}; null otherwise.",
        type="Char",
    )


@column_op(
    "in_periods",
    InPeriodsArgs,
    _in_periods_meta,
    example=Example(
        spec="ANL02FL: {derive: in_periods, periods: [1], where: {variable: AVAL, present: "
        "true}, label: Analysis Flag 02 Rate Dose 1}",
        conventions=_PERIODS,
        domains=_PERIOD_SDTM,
        records={
            "USUBJID": ["S1", "S1", "S1", "S1", "S2"],
            "ADT": ["2020-01-20", "2020-02-01", "2020-03-02", "2020-03-03", "2020-03-01"],
            "AVAL": [40, 39, None, 37, 44],
        },
        gives=["", "Y", "", "", "Y"],
        note="Period 1 of S1 is 2020-02-01..2020-03-02 (both days in); the record of "
        "2020-03-02 has no AVAL; `periods: [1, 2]` would also flag 2020-03-03.",
    ),
)
def op_in_periods(frame: pd.DataFrame, args: InPeriodsArgs, ctx: BuildContext) -> pd.Series:
    """A Y/null flag (ADaMIG v1.3 section 3.3.8, e.g. ANLzzFL: the records used by an
    analysis) on the records dated within the subject's periods ``periods`` (section
    3.2.7 APxxSDT..APxxEDT, earliest start to latest end, both days included) and meeting
    ``where``: the records a rate over those periods uses. A subject who had none of
    them takes the periods ``fallback`` instead, by the same rule (one function) as the
    progression interval whose records the flag marks."""
    start, end = ctx.period_table.span(args.periods, args.fallback)
    d = column_of(frame, ctx, args.date).to_numpy(dtype="float64")
    s = ctx.to_rows(frame, start).to_numpy(dtype="float64")
    e = ctx.to_rows(frame, end).to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        inside = (d >= s) & (d <= e)
    mask = where_mask(frame, ctx, args.where)
    if mask is not None:
        inside &= mask.fillna(False).astype(bool).to_numpy()
    return pd.Series(np.where(inside, "Y", ""), index=frame.index, dtype=object)
