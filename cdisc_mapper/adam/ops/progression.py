"""Record builder of progression rates (``progression``): one record per subject, rate
parameter and period (or whole phase), its AVAL the monthly rate of change over the
period's assessments (least-squares slope or two-point rate).

Rules implemented (ADaMIG v1.3, see :mod:`cdisc_mapper.adam.derive.progression`):

* Section 4.2 (Creation of Derived Columns Versus Creation of Derived Rows): a rate
  computed from many records is a new row of a new parameter.
* Section 3.3.3 (Timing Variables for BDS Datasets): APERIOD, APHASE and the period and
  phase dates of the period the rate covers; ASTDT/AENDT the first and last assessment
  used.
* Section 3.3.9 (Datapoint Traceability Variables): SRCDOM/SRCVAR name the dataset and
  variable of the assessments.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    derive_rate,
)
from cdisc_mapper.adam.ops.base import ValueLevel, record_op
from cdisc_mapper.adam.ops.periods import InPeriodsArgs
from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.condition import describe as describe_condition
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam import Conventions
from cdisc_mapper.spec.base import NAME_PATTERN
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs


# --------------------------------------------------------------------------- progression
class RateParameter(OpArgs):
    paramcd: str = Field(pattern=NAME_PATTERN, description="PARAMCD of the rate's records")
    param: str = Field(
        min_length=1,
        max_length=200,
        description="PARAM of the rate's records, with its unit (e.g. points/month)",
    )
    paramn: float = Field(description="PARAMN of the rate's records")
    source: str = Field(
        pattern=r"^AD[A-Z0-9]{1,6}$",
        description="BDS dataset of the assessments, built before this one (e.g. ADQS)",
    )
    source_paramcd: str = Field(description="PARAMCD of the assessments in `source` (e.g. ALSRTOT)")
    method: Literal["slope", "two_point"] = Field(
        description="`slope`: least-squares slope of the value on time; `two_point`: (last - "
        "first value) / time between them"
    )
    where: Condition | None = Field(
        default=None,
        description="condition on `source`'s variables narrowing the assessments (e.g. "
        '`{variable: ANL01FL, equals: "Y"}`); '
        "none: all of the parameter's",
    )


class RateInterval(OpArgs):
    avisitn: float = Field(description="AVISITN of the interval's rate records (unique per step)")
    avisit: str = Field(
        min_length=1,
        max_length=200,
        description="AVISIT of the interval's records: say exactly what the interval holds "
        "(e.g. INJECTION 1 TO LAST INJECTION)",
    )
    periods: list[int] = Field(
        min_length=1,
        description="APERIOD of the periods it spans: it runs from the earliest start to the "
        "latest end of those the subject had; a subject with none (and none of `fallback`) "
        "has no record. One period and no `fallback`: the record gets APERIOD; otherwise "
        "APERIOD null (APHASE when all, `fallback` included, are in one phase)",
    )
    fallback: list[int] = Field(
        default_factory=list,
        description="APERIOD of the periods the interval spans instead for a subject who had "
        "none of `periods` (same rule: earliest start to latest end of those the subject "
        "had), e.g. `periods: [2], fallback: [5]`: injection 1 to injection 2, else, for a "
        "subject with one injection, injection 1 to the end of follow-up; say it in "
        "`avisit`. A `flag` derived by `in_periods` must give the same `periods` and "
        "`fallback` (checked when the dataset is built). "
        "Default: none (a subject without `periods` has no record)",
    )
    flag: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="flag variable of the source datasets (e.g. ANL02FL) marking with Y the "
        "records this interval's rate uses; the rate then takes only those records (within "
        "the interval's dates); none: every assessment dated within the interval",
    )

    @model_validator(mode="after")
    def _fallback_apart(self) -> RateInterval:
        both = sorted(set(self.periods) & set(self.fallback))
        if both:
            raise ValueError(f"period(s) {both} are in both `periods` and `fallback`")
        return self


class ProgressionArgs(OpArgs):
    date: str = Field(
        default="ADT", description="numeric date variable of the assessments in the sources"
    )
    value: str = Field(
        default="AVAL", description="numeric variable of the assessments whose rate is taken"
    )
    parameters: list[RateParameter] = Field(
        min_length=1, description="the rate parameters, each with its source assessments"
    )
    periods: list[int] = Field(
        default_factory=list,
        description="APERIOD of the periods that each get a rate record (ADSL APxxSDT..APxxEDT)",
    )
    phases: list[int] = Field(
        default_factory=list,
        description="APHASEN of the phases that each get a whole-phase rate record (APERIOD "
        "null); give `periods`, `phases`, `intervals` or several",
    )
    intervals: list[RateInterval] = Field(
        default_factory=list,
        description="labelled intervals, each a run of periods, that each get a rate record "
        "with AVISIT/AVISITN (e.g. injection 1 to the last injection: the closed "
        "inter-injection periods); the dataset's records then carry AVISIT/AVISITN",
    )
    min_assessments: int = Field(
        default=2,
        ge=2,
        description="fewest assessment days a rate needs; with fewer, AVAL is null and "
        "`reason_variable` says why",
    )
    reason: str = Field(
        default="FEWER THAN 2 ASSESSMENTS IN THE PERIOD",
        max_length=200,
        description="text put in `reason_variable` when there are too few assessments (state "
        "`min_assessments` in it)",
    )
    count_variable: str = Field(
        default="NASMT",
        pattern=NAME_PATTERN,
        description="name of the column counting the assessment days used",
    )
    reason_variable: str = Field(
        default="AVALREAS",
        pattern=NAME_PATTERN,
        description="name of the column giving why AVAL is null",
    )

    @model_validator(mode="after")
    def _some(self) -> ProgressionArgs:
        if not self.periods and not self.phases and not self.intervals:
            raise ValueError("give periods, phases and/or intervals")
        numbers = [i.avisitn for i in self.intervals]
        if len(set(numbers)) != len(numbers):
            raise ValueError("two intervals have the same avisitn")
        return self

    def lookups(self) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        for p in self.parameters:
            names = {"USUBJID", "PARAMCD", self.date, self.value}
            if p.where:
                names |= p.where.variables()
            names |= {i.flag for i in self.intervals if i.flag}
            out |= {(p.source, n) for n in names}
        return out

    def conventions_used(self) -> set[tuple[str, str | int]]:
        used = {n for i in self.intervals for n in (*i.periods, *i.fallback)} | set(self.periods)
        periods: set[tuple[str, str | int]] = {("period", n) for n in used}
        return periods | {("phase", n) for n in self.phases}


def _method_text(a: ProgressionArgs, p: RateParameter, month_days: str) -> str:
    rule = (
        "the ordinary least-squares slope of AVAL on time"
        if p.method == "slope"
        else "(AVAL at the last assessment - AVAL at the first) / (time between them)"
    )
    sel = f" where {describe_condition(p.where)}" if p.where else ""
    return (
        f"{rule}, time in months = (ADT - period start) / {month_days}, over the {p.source} "
        f"PARAMCD = {p.source_paramcd!r}{sel} assessments with non-missing {a.value} dated within "
        f"the period (start and end days included; values on the same day averaged). Null, with "
        f"{a.reason_variable} = {a.reason!r}, when fewer than {a.min_assessments} assessments."
    )


def _progression_columns(a: ProgressionArgs, conventions: Conventions) -> dict[str, ColumnMeta]:
    vl: tuple[ValueLevel, ...] = tuple(
        (
            "PARAMCD",
            p.paramcd,
            "Derived",
            f"{p.source}.{a.value}",
            _method_text(a, p, f"{conventions.month_days:g} days"),
        )
        for p in a.parameters
    )
    sources = sorted({p.source for p in a.parameters})
    return {
        "USUBJID": ColumnMeta(origin="Predecessor", source="ADSL.USUBJID"),
        "PARAMCD": ColumnMeta(
            origin="Assigned", method="One code per rate parameter.", type="Char"
        ),
        "PARAM": ColumnMeta(origin="Assigned", method="The parameter's description.", type="Char"),
        "PARAMN": ColumnMeta(origin="Assigned", method="The parameter's number.", type="Num"),
        "APERIOD": ColumnMeta(
            method="The period the rate covers (ADSL APxxSDT..APxxEDT); "
            "null on whole-phase records.",
            type="Num",
        ),
        "APERIODC": ColumnMeta(method="Text of APERIOD.", type="Char"),
        "APHASE": ColumnMeta(
            method="The phase of the period, or the phase a whole-phase record covers.", type="Char"
        ),
        "APHASEN": ColumnMeta(method="Number of APHASE.", type="Num"),
        "APERSDT": ColumnMeta(method="ADSL APxxSDT of APERIOD.", type="Num", date=True),
        "APEREDT": ColumnMeta(method="ADSL APxxEDT of APERIOD.", type="Num", date=True),
        "PHSDT": ColumnMeta(method="ADSL PHwSDT of APHASE.", type="Num", date=True),
        "PHEDT": ColumnMeta(method="ADSL PHwEDT of APHASE.", type="Num", date=True),
        "AVAL": ColumnMeta(
            origin="Derived",
            source=", ".join(f"{x}.{a.value}" for x in sources),
            type="Num",
            value_level=vl,
        ),
        "ASTDT": ColumnMeta(
            method="Start of the period, phase or interval the rate covers (time 0 of the rate).",
            type="Num",
            date=True,
        ),
        "AENDT": ColumnMeta(
            method="End of the period, phase or interval the rate covers.", type="Num", date=True
        ),
        "TRTP": ColumnMeta(
            method="TRTxxP of the period(s) the rate covers (the conventions' `trtp`; null "
            "when they differ).",
            type="Char",
        ),
        "TRTA": ColumnMeta(
            method="TRTxxA of the period(s) the rate covers (the conventions' `trta`; null "
            "when they differ).",
            type="Char",
        ),
        **_interval_columns(a),
        a.count_variable: ColumnMeta(
            method="Number of assessments (distinct days) in the period.", type="Num"
        ),
        a.reason_variable: ColumnMeta(
            method=f"{a.reason!r} when AVAL is null for that reason; null otherwise.", type="Char"
        ),
        "SRCDOM": ColumnMeta(
            origin="Assigned",
            method="The dataset of the assessments: "
            + ", ".join(f"{p.paramcd}: '{p.source}'" for p in a.parameters)
            + ".",
            type="Char",
        ),
        "SRCVAR": ColumnMeta(origin="Assigned", method=f"'{a.value}'.", type="Char"),
    }


def _interval_columns(a: ProgressionArgs) -> dict[str, ColumnMeta]:
    if not a.intervals:
        return {}
    names = "; ".join(f"{i.avisitn:g} = {i.avisit!r} ({_periods_text(i)})" for i in a.intervals)
    return {
        "AVISITN": ColumnMeta(method=f"The interval of the rate: {names}.", type="Num"),
        "AVISIT": ColumnMeta(method="Text of AVISITN (the interval the rate covers).", type="Char"),
    }


def _periods_text(i: RateInterval) -> str:
    """The periods of an interval in words, with its fallback."""
    text = f"periods {i.periods}"
    if i.fallback:
        text += f", else, for a subject with none of them, periods {i.fallback}"
    return text


@dataclass(frozen=True)
class _Span:
    """A period, a whole phase or an interval of periods (``aperiod`` NaN unless one
    period) with its per-subject dates."""

    aperiod: float
    aperiodc: str
    aphasen: float
    aphase: str
    start: pd.Series
    end: pd.Series
    trtp: str
    trta: str
    avisitn: float = np.nan
    avisit: str = ""
    flag: str | None = None


def _common(values: list[str | None]) -> str:
    """The one value all give, else empty."""
    found = {v or "" for v in values}
    return found.pop() if len(found) == 1 else ""


def _interval_span(
    periods: list[int], ctx: BuildContext, single: bool, fallback: list[int] | None = None
) -> _Span:
    """The span from the earliest start to the latest end of ``periods`` a subject had
    (else of ``fallback``: ``PeriodTable.span``, the rule of ``in_periods`` too)."""
    conv = ctx.conventions
    every = [*periods, *(fallback or [])]
    specs = [conv.period(n) for n in every]
    phases = {ph.aphasen: ph for n in every if (ph := conv.phase_of(n)) is not None}
    ph = next(iter(phases.values())) if len(phases) == 1 else None
    start, end = ctx.period_table.span(periods, fallback)
    return _Span(
        float(periods[0]) if single else np.nan,
        specs[0].aperiodc if single else "",
        float(ph.aphasen) if ph else np.nan,
        ph.aphase if ph else "",
        start,
        end,
        _common([p.trtp for p in specs]),
        _common([p.trta for p in specs]),
    )


def _spans(args: ProgressionArgs, ctx: BuildContext) -> list[_Span]:
    """The periods, then the whole phases, then the intervals the rates cover."""
    conv = ctx.conventions
    spans = [_interval_span([n], ctx, True) for n in args.periods]
    for n in args.phases:
        phase = next(x for x in conv.phases if x.aphasen == n)
        span = _interval_span(phase.periods, ctx, False)
        s, e = ctx.period_table.phases[n]
        spans.append(replace(span, start=s, end=e))
    for i in args.intervals:
        single = len(i.periods) == 1 and not i.fallback
        span = _interval_span(i.periods, ctx, single, i.fallback)
        spans.append(replace(span, avisitn=i.avisitn, avisit=i.avisit, flag=i.flag))
    return spans


def _check_flag_rules(args: ProgressionArgs, ctx: BuildContext) -> None:
    """An interval's flag derived by ``in_periods`` must span the interval's own periods
    and fallback: otherwise the rate would silently lose (or a reviewer's recomputation
    from the flags gain) the records of the subjects where the two rules differ."""
    for i in args.intervals:
        for source in sorted({p.source for p in args.parameters}):
            flag = ctx.specs.op_args.get((source, i.flag or ""))
            if i.flag is None or not isinstance(flag, InPeriodsArgs):
                continue
            if (sorted(flag.periods), sorted(flag.fallback)) != (
                sorted(i.periods),
                sorted(i.fallback),
            ):
                raise SpecError(
                    f"{source}.{i.flag} (in_periods: periods {flag.periods}, fallback "
                    f"{flag.fallback}) marks the records of {ctx.dataset or 'the'} interval "
                    f"AVISITN {i.avisitn:g}, which spans periods {i.periods} with fallback "
                    f"{i.fallback}: give the flag the interval's `periods` and `fallback`",
                    where=ctx.specs.where(source, ("variables", i.flag)),
                )


def _assessments(p: RateParameter, args: ProgressionArgs, ctx: BuildContext) -> pd.DataFrame:
    """USUBJID, date, value and the intervals' flags of the parameter's dated assessments
    (the rate averages the values of a day)."""
    src = ctx.table(p.source, sorted(n for d, n in args.lookups() if d == p.source))
    sel = src["PARAMCD"].eq(p.source_paramcd)
    if p.where is not None:
        sel = sel & evaluate(p.where, src)
    flags = sorted({i.flag for i in args.intervals if i.flag})
    a = src.loc[sel.to_numpy(), ["USUBJID", args.date, args.value, *flags]]
    return a[a[args.date].notna() & a[args.value].notna()]


def _rate_rows(
    a: pd.DataFrame, span: _Span, p: RateParameter, args: ProgressionArgs, ctx: BuildContext
) -> pd.DataFrame:
    """One row per subject who has the period (or phase, or interval) ``span``: the rate
    over the assessments ``a`` dated within it (and flagged, with the span's flag)."""
    month_days = ctx.conventions.month_days
    s, e = span.start, span.end
    subj = s.index[s.notna().to_numpy()]
    rows = pd.DataFrame({"USUBJID": np.asarray(subj, dtype=object)})
    start = s.reindex(subj).to_numpy(dtype="float64")
    end = e.reindex(subj).to_numpy(dtype="float64")
    if span.flag is not None:
        a = a[a[span.flag].eq("Y").to_numpy()]
    a = a.groupby(["USUBJID", args.date], sort=True)[args.value].mean().reset_index()
    astart = ctx.to_rows(a, s).to_numpy()
    aend = ctx.to_rows(a, e).to_numpy()
    d = a[args.date].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        inside = (d >= astart) & (d <= aend)
    part = a[inside]
    x = (part[args.date] - pd.Series(astart[inside], index=part.index)) / month_days
    rate = derive_rate(p.method, part[["USUBJID"]], x, part[args.value])
    rows = rows.merge(rate, on="USUBJID", how="left", sort=False)
    n_used = rows["N"].fillna(0).to_numpy()
    too_few = n_used < args.min_assessments
    rows["AVAL"] = rows["AVAL"].where(~too_few)
    rows[args.count_variable] = n_used.astype("float64")
    rows[args.reason_variable] = np.where(too_few, args.reason, "").astype(object)
    rows["ASTDT"] = start
    rows["AENDT"] = end
    rows["PARAMCD"] = p.paramcd
    rows["PARAM"] = p.param
    rows["PARAMN"] = float(p.paramn)
    _add_timing(rows, span, subj, ctx)
    if args.intervals:
        rows["AVISITN"] = span.avisitn
        rows["AVISIT"] = span.avisit
    rows["SRCDOM"] = p.source
    rows["SRCVAR"] = args.value
    return rows.drop(columns=["N", "XFIRST", "XLAST"])


def _add_timing(rows: pd.DataFrame, span: _Span, subj: pd.Index, ctx: BuildContext) -> None:
    """APERIOD, APERIODC, APHASEN, APHASE, TRTP, TRTA and the period and phase dates of
    ``span``."""
    rows["APERIOD"] = span.aperiod
    rows["APERIODC"] = span.aperiodc
    rows["APHASEN"] = span.aphasen
    rows["APHASE"] = span.aphase
    rows["TRTP"] = span.trtp
    rows["TRTA"] = span.trta
    is_period = not np.isnan(span.aperiod)
    rows["APERSDT"] = rows["ASTDT"] if is_period else np.nan
    rows["APEREDT"] = rows["AENDT"] if is_period else np.nan
    if not np.isnan(span.aphasen):
        ps, pe = ctx.period_table.phases[int(span.aphasen)]
        rows["PHSDT"] = ps.reindex(subj).to_numpy(dtype="float64")
        rows["PHEDT"] = pe.reindex(subj).to_numpy(dtype="float64")
    else:
        rows["PHSDT"] = np.nan
        rows["PHEDT"] = np.nan


@record_op(
    "progression",
    ProgressionArgs,
    _progression_columns,
    example=Example(
        spec="""records:
  - op: progression
    periods: [1, 2]
    parameters:
      - paramcd: ALSRATE
        param: ALSFRS-R Total Rate (points/month)
        paramn: 1
        source: ADQS
        source_paramcd: ALSRTOT
        method: two_point""",
        conventions={
            "month_days": 30,
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
                },
                {
                    "aperiod": 2,
                    "aperiodc": "DOSE 2",
                    "start": {"event": "INJECTION", "occurrence": 2},
                    "end": [{"event": "END"}],
                },
            ],
            "phases": [],
        },
        domains={
            "DM": {
                "USUBJID": ["S1", "S2", "S3"],
                "RFPENDTC": ["2020-06-30", "2020-05-15", "2020-02-10"],
            },
            "EX": {
                "USUBJID": ["S1", "S1", "S2"],
                "EXSTDTC": ["2020-02-01", "2020-03-02", "2020-02-15"],
            },
            "ADQS": {
                "USUBJID": ["S1", "S1", "S1", "S2"],
                "PARAMCD": ["ALSRTOT", "ALSRTOT", "ALSRTOT", "ALSRTOT"],
                "ADT": ["2020-02-01", "2020-03-02", "2020-05-01", "2020-02-15"],
                "AVAL": [40, 38, 35, 45],
            },
        },
        makes={
            "USUBJID": ["S1", "S2", "S1"],
            "PARAMCD": ["ALSRATE", "ALSRATE", "ALSRATE"],
            "APERIOD": [1, 1, 2],
            "AVAL": [-2.0, None, -1.5],
            "NASMT": [2, 1, 2],
            "AVALREAS": ["", "FEWER THAN 2 ASSESSMENTS IN THE PERIOD", ""],
        },
        note="Period 1 runs from the first injection to the second (else the end of study), "
        "period 2 from the second to the end; a month is 30 days here. S1: (38 - 40) / 1 "
        "month in period 1, (35 - 38) / 2 months in period 2 (the assessment on 2020-03-02 "
        "ends period 1 and starts period 2); S2 has one assessment; S3 had no period. "
        "`method: slope` takes the least-squares slope instead; `phases` adds whole-phase "
        "records (APERIOD null).",
    ),
)
def rec_progression(
    frame: pd.DataFrame | None, args: ProgressionArgs, ctx: BuildContext
) -> pd.DataFrame:
    """One record per subject, rate parameter and period (or whole phase) the subject had
    (a BDS parameter derived from another dataset's records, ADaMIG v1.3 section 4.2): AVAL
    is the monthly rate of change over the assessments dated within it (both ends
    included; same-day values averaged), time in months from its start (the conventions'
    ``month_days``); ASTDT/AENDT are the first and last assessment used."""
    _check_flag_rules(args, ctx)
    spans = _spans(args, ctx)
    pieces: list[pd.DataFrame] = []
    for p in args.parameters:
        a = _assessments(p, args, ctx)
        pieces.extend(_rate_rows(a, span, p, args, ctx) for span in spans)
    return pd.concat(pieces, ignore_index=True)
