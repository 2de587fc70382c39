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

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    derive_rate,
)
from cdisc_mapper.adam.ops.base import ValueLevel, record_op
from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.condition import describe as describe_condition
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
        "null); give `periods`, `phases` or both",
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
        if not self.periods and not self.phases:
            raise ValueError("give periods and/or phases")
        return self

    def lookups(self) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        for p in self.parameters:
            names = {"USUBJID", "PARAMCD", self.date, self.value}
            if p.where:
                names |= p.where.variables()
            out |= {(p.source, n) for n in names}
        return out

    def conventions_used(self) -> set[tuple[str, str | int]]:
        periods: set[tuple[str, str | int]] = {("period", n) for n in self.periods}
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
            method=f"{a.date} of the first assessment used.", type="Num", date=True
        ),
        "AENDT": ColumnMeta(method=f"{a.date} of the last assessment used.", type="Num", date=True),
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


@dataclass(frozen=True)
class _Span:
    """A period (or a whole phase, ``aperiod`` NaN) with its per-subject dates."""

    aperiod: float
    aperiodc: str
    aphasen: float
    aphase: str
    start: pd.Series
    end: pd.Series


def _spans(args: ProgressionArgs, ctx: BuildContext) -> list[_Span]:
    """The periods, then the whole phases, the rates cover."""
    conv = ctx.conventions
    table = ctx.period_table
    spans: list[_Span] = []
    for n in args.periods:
        ph = conv.phase_of(n)
        s, e = table.periods[n]
        spans.append(
            _Span(
                float(n),
                conv.period(n).aperiodc,
                float(ph.aphasen) if ph else np.nan,
                ph.aphase if ph else "",
                s,
                e,
            )
        )
    for n in args.phases:
        phase = next(x for x in conv.phases if x.aphasen == n)
        s, e = table.phases[n]
        spans.append(_Span(np.nan, "", float(n), phase.aphase, s, e))
    return spans


def _assessments(p: RateParameter, args: ProgressionArgs, ctx: BuildContext) -> pd.DataFrame:
    """USUBJID, date and value of the parameter's dated assessments, one per subject and
    day (values of the same day averaged)."""
    src = ctx.table(p.source, sorted(n for d, n in args.lookups() if d == p.source))
    sel = src["PARAMCD"].eq(p.source_paramcd)
    if p.where is not None:
        sel = sel & evaluate(p.where, src)
    a = src.loc[sel.to_numpy(), ["USUBJID", args.date, args.value]]
    a = a[a[args.date].notna() & a[args.value].notna()]
    return a.groupby(["USUBJID", args.date], sort=True)[args.value].mean().reset_index()


def _rate_rows(
    a: pd.DataFrame, span: _Span, p: RateParameter, args: ProgressionArgs, ctx: BuildContext
) -> pd.DataFrame:
    """One row per subject who has the period (or phase) ``span``: the rate over the
    assessments ``a`` dated within it."""
    month_days = ctx.conventions.month_days
    s, e = span.start, span.end
    subj = s.index[s.notna().to_numpy()]
    rows = pd.DataFrame({"USUBJID": np.asarray(subj, dtype=object)})
    start = s.reindex(subj).to_numpy(dtype="float64")
    end = e.reindex(subj).to_numpy(dtype="float64")
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
    # whole days back from months (exact after rounding)
    rows["ASTDT"] = np.rint(start + rows["XFIRST"].to_numpy() * month_days)
    rows["AENDT"] = np.rint(start + rows["XLAST"].to_numpy() * month_days)
    rows["PARAMCD"] = p.paramcd
    rows["PARAM"] = p.param
    rows["PARAMN"] = float(p.paramn)
    _add_timing(rows, span, subj, start, end, ctx)
    rows["SRCDOM"] = p.source
    rows["SRCVAR"] = args.value
    return rows.drop(columns=["N", "XFIRST", "XLAST"])


def _add_timing(
    rows: pd.DataFrame,
    span: _Span,
    subj: pd.Index,
    start: np.ndarray,
    end: np.ndarray,
    ctx: BuildContext,
) -> None:
    """APERIOD, APERIODC, APHASEN, APHASE and the period and phase dates of ``span``."""
    rows["APERIOD"] = span.aperiod
    rows["APERIODC"] = span.aperiodc
    rows["APHASEN"] = span.aphasen
    rows["APHASE"] = span.aphase
    is_period = not np.isnan(span.aperiod)
    rows["APERSDT"] = start if is_period else np.nan
    rows["APEREDT"] = end if is_period else np.nan
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
    spans = _spans(args, ctx)
    pieces: list[pd.DataFrame] = []
    for p in args.parameters:
        a = _assessments(p, args, ctx)
        pieces.extend(_rate_rows(a, span, p, args, ctx) for span in spans)
    return pd.concat(pieces, ignore_index=True)
