"""Column derivations: one registered adapter per ``derive:`` name of the spec.

Each adapter reads its arguments (checked by its model when the spec is loaded), calls the
pure functions of :mod:`cdisc_mapper.adam.derive` and returns one column. Its ``meta``
function describes the result for define.xml (origin, source, method text, type).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    derive_analysis_day,
    derive_analysis_flag,
    derive_analysis_window,
    derive_base,
    derive_baseline_flag,
    derive_chg,
    derive_criterion_flag,
    derive_flag,
    derive_group,
    derive_imputed_date,
    derive_months,
    derive_numeric_date,
    derive_pchg,
    derive_percent_improvement,
    derive_recode,
    derive_record_period,
)
from cdisc_mapper.adam.derive._keys import group_codes, lexsort, sort_keys
from cdisc_mapper.adam.ops.base import column_op
from cdisc_mapper.condition import Condition, Records, evaluate
from cdisc_mapper.condition import describe as describe_condition
from cdisc_mapper.derive import derive_nrind
from cdisc_mapper.errors import MappingError
from cdisc_mapper.spec.base import NAME_PATTERN, split_source
from cdisc_mapper.spec.operations import ColumnMeta, OpArgs


def _ref(ctx: Any) -> str:
    """The conventions' analysis reference date (for method texts)."""
    return ctx.specs.conventions.reference_date if ctx is not None else "TRTSDT"


def _adsl_column(frame: pd.DataFrame, ctx: BuildContext, name: str) -> pd.Series | None:
    """The ADSL variable ``name`` on the rows of ``frame`` (None when there is none)."""
    if ctx.dataset != "ADSL" and "ADSL" in ctx.datasets and name in ctx.datasets["ADSL"].columns:
        return ctx.to_rows(frame, ctx.adsl(name))
    return None


def _col(frame: pd.DataFrame, ctx: BuildContext, name: str) -> pd.Series:
    """A column of the frame, or (when absent) the ADSL variable of the row's subject."""
    if name in frame.columns:
        return frame[name]
    found = _adsl_column(frame, ctx, name)
    if found is None:
        raise MappingError(f"{ctx.dataset}: variable {name} is needed but not derived yet")
    return found


def _records(frame: pd.DataFrame, ctx: BuildContext) -> Records:
    """The frame as conditions see it: its columns, and ADSL variables on its rows."""
    return Records(frame, fallback=lambda name: _adsl_column(frame, ctx, name))


def _where_mask(
    frame: pd.DataFrame, ctx: BuildContext, where: Condition | None
) -> pd.Series | None:
    return None if where is None else evaluate(where, _records(frame, ctx))


# --------------------------------------------------------------------------- lookups
class Lookup(OpArgs):
    """A value: ``source`` = ``VAR`` (this dataset), ``DOMAIN.VAR`` (SDTM) or
    ``ADxxxx.VAR`` (an ADaM dataset); from another dataset one record per subject is
    taken: the only one where ``where`` holds, or the first/last by ``order_by``."""

    source: str
    where: Condition | None = None
    select: Literal["only", "first", "last"] = "only"
    order_by: str | None = None

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
    dom, var = split_source(args.source)
    if dom is None:
        return _col(frame, ctx, var)
    per_subject = ctx.per_subject(
        dom, var, where=args.where, select=args.select, order_by=args.order_by
    )
    return ctx.to_rows(frame, per_subject)


def _lookup_meta(args: Lookup, ctx: Any, *, derived: bool = False, what: str = "") -> ColumnMeta:
    dom, var = split_source(args.source)
    if dom is None:
        prior = ctx.state.columns.get(var) if ctx is not None else None
        src = prior.source if prior is not None and var.startswith("_") else var
        return ColumnMeta(origin="Derived", source=src, method=what or None)
    origin = (
        "Derived" if derived or args.where is not None or args.select != "only" else "Predecessor"
    )
    return ColumnMeta(origin=origin, source=f"{dom}.{var}", method=what or None)


# --------------------------------------------------------------------------- keep, value
class KeepArgs(OpArgs):
    column: str | None = Field(default=None, description="records column (default: same name)")


def _keep_meta(args: KeepArgs, ctx: Any) -> ColumnMeta:
    return ColumnMeta()


@column_op("keep", KeepArgs, _keep_meta)
def op_keep(frame: pd.DataFrame, args: KeepArgs, ctx: BuildContext) -> pd.Series:
    """The column as the record builder made it."""
    name = args.column or ctx.state.cache["__variable"]
    if name not in frame.columns:
        raise MappingError(f"{ctx.dataset}: the records have no column {name}")
    return frame[name]


class ValueArgs(Lookup):
    pass


def _value_meta(args: ValueArgs, ctx: Any) -> ColumnMeta:
    text = f"Copied from {args.describe()}."
    meta = _lookup_meta(
        args, ctx, what=text if args.where is not None or args.select != "only" else ""
    )
    return meta


@column_op("value", ValueArgs, _value_meta)
def op_value(frame: pd.DataFrame, args: ValueArgs, ctx: BuildContext) -> pd.Series:
    """A copy of another variable (this dataset's, an SDTM domain's or an ADaM dataset's)."""
    return lookup(frame, ctx, args)


class ConstantArgs(OpArgs):
    value: str | float
    when: Condition | None = None

    def inputs(self) -> set[str]:
        return self.when.variables() if self.when else set()


@column_op(
    "constant",
    ConstantArgs,
    lambda a, c: ColumnMeta(
        origin="Assigned",
        method=f"Set to {a.value!r}"
        + (f" where {describe_condition(a.when)}; null otherwise." if a.when else "."),
        type="Num" if isinstance(a.value, int | float) else "Char",
    ),
)
def op_constant(frame: pd.DataFrame, args: ConstantArgs, ctx: BuildContext) -> pd.Series:
    """The same value on every record (or on the records where ``when`` holds)."""
    mask = _where_mask(frame, ctx, args.when)
    if isinstance(args.value, int | float):
        out = pd.Series(float(args.value), index=frame.index)
        return out if mask is None else out.where(mask.fillna(False).astype(bool))
    out = pd.Series(args.value, index=frame.index, dtype=object)
    return out if mask is None else out.where(mask.fillna(False).astype(bool), "")


# --------------------------------------------------------------------------- dates
class ImputeSpec(OpArgs):
    day: Literal["first", "mid", "last"]
    month: Literal["first", "mid", "last"]
    not_before: list[str] = Field(default_factory=list)
    not_after: list[str] = Field(default_factory=list)

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
    impute: ImputeSpec | None = None
    output: Literal["date", "flag"] = "date"

    def inputs(self) -> set[str]:
        out = super().inputs()
        if self.impute:
            out |= set(self.impute.not_before) | set(self.impute.not_after)
        return out


def _date_meta(args: DateArgs, ctx: Any) -> ColumnMeta:
    base = _lookup_meta(args, ctx, derived=True)
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


@column_op("date", DateArgs, _date_meta)
def op_date(frame: pd.DataFrame, args: DateArgs, ctx: BuildContext) -> pd.Series:
    """A numeric date from ISO 8601 text, optionally imputing partial dates (or its flag)."""
    text = lookup(frame, ctx, args)
    if args.impute is None:
        if args.output == "flag":
            return pd.Series("", index=frame.index, dtype=object)
        if pd.api.types.is_numeric_dtype(text):
            return text.astype("float64")
        return derive_numeric_date(text)
    before = [_col(frame, ctx, v).astype("float64") for v in args.impute.not_before]
    after = [_col(frame, ctx, v).astype("float64") for v in args.impute.not_after]
    date, flag = derive_imputed_date(
        text, day=args.impute.day, month=args.impute.month, not_before=before, not_after=after
    )
    return date if args.output == "date" else flag


class CountArgs(OpArgs):
    source: str = Field(description="DOMAIN.VAR counted per subject where present")
    where: Condition | None = None
    distinct: bool = False

    def lookups(self) -> set[tuple[str, str]]:
        dom, var = split_source(self.source)
        extra = set(self.where.variables()) if self.where else set()
        return {(dom or "", v) for v in {var, "USUBJID", *extra}}


@column_op(
    "count",
    CountArgs,
    lambda a, c: ColumnMeta(
        origin="Derived",
        source=a.source,
        method=(
            f"Number of {'distinct ' if a.distinct else ''}{a.source} values per subject"
            + (f" where {describe_condition(a.where)}" if a.where else "")
            + "; 0 when none."
        ),
        type="Num",
    ),
)
def op_count(frame: pd.DataFrame, args: CountArgs, ctx: BuildContext) -> pd.Series:
    """Number of records (or distinct values) per subject in another dataset."""
    dom, var = split_source(args.source)
    needed = ["USUBJID", var] + (sorted(args.where.variables()) if args.where else [])
    other = ctx.table(dom or "", needed)
    if args.where is not None:
        other = other[evaluate(args.where, other).to_numpy()]
    col = other[var]
    present = (
        col.notna() if pd.api.types.is_numeric_dtype(col) else col.astype(str).str.strip() != ""
    )
    other = other[present.to_numpy()]
    grouped = other.groupby("USUBJID")[var]
    counts = grouped.nunique() if args.distinct else grouped.size()
    return ctx.to_rows(frame, counts.astype("float64")).fillna(0.0)


class MonthsArgs(OpArgs):
    start: str
    end: str

    def inputs(self) -> set[str]:
        return {self.start, self.end}


@column_op(
    "months",
    MonthsArgs,
    lambda a, c: ColumnMeta(
        method=f"({a.end} - {a.start}) / {c.specs.conventions.month_days:g} (days per month)."
        if c is not None
        else f"({a.end} - {a.start}) / days per month.",
        type="Num",
    ),
)
def op_months(frame: pd.DataFrame, args: MonthsArgs, ctx: BuildContext) -> pd.Series:
    """Months between two dates with the study's days-per-month convention."""
    return derive_months(
        _col(frame, ctx, args.start), _col(frame, ctx, args.end), ctx.conventions.month_days
    )


class DeclineRateArgs(OpArgs):
    value: str
    maximum: float
    start: str
    end: str

    def inputs(self) -> set[str]:
        return {self.value, self.start, self.end}


@column_op(
    "decline_rate",
    DeclineRateArgs,
    lambda a, c: ColumnMeta(
        method=(
            f"({a.maximum:g} - {a.value}) / months from {a.start} to {a.end}, months = days / "
            f"{c.specs.conventions.month_days:g}; null when the interval is not positive."
            if c is not None
            else f"({a.maximum:g} - {a.value}) / months from {a.start} to {a.end}."
        ),
        type="Num",
    ),
)
def op_decline_rate(frame: pd.DataFrame, args: DeclineRateArgs, ctx: BuildContext) -> pd.Series:
    """Average decline per month from a maximum score (e.g. delta-FS: (48 - score) /
    months from symptom onset)."""
    months = derive_months(
        _col(frame, ctx, args.start), _col(frame, ctx, args.end), ctx.conventions.month_days
    )
    value = _col(frame, ctx, args.value).astype("float64")
    return ((args.maximum - value) / months).where(months > 0)


# --------------------------------------------------------------------------- groups, recodes, flags
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


@column_op(
    "group",
    GroupArgs,
    lambda a, c: ColumnMeta(method=a.describe(), type="Num" if a.output == "number" else "Char"),
)
def op_group(frame: pd.DataFrame, args: GroupArgs, ctx: BuildContext) -> pd.Series:
    """A grouping (``*GRy``) of a numeric variable, or its number (``*GRyN``)."""
    text, code = derive_group(
        _col(frame, ctx, args.source), [(g.label, g.lo, g.hi) for g in args.groups]
    )
    return code if args.output == "number" else text


class RecodeArgs(Lookup):
    map: dict[str, str] = Field(default_factory=dict)
    other: str | None = None
    missing: str = ""
    output_type: Literal["Char", "Num"] = "Char"


def _recode_meta(args: RecodeArgs, ctx: Any) -> ColumnMeta:
    parts = [f"{k!r} -> {v!r}" for k, v in args.map.items()]
    if args.other is not None:
        parts.append(f"any other value -> {args.other!r}")
    if args.missing:
        parts.append(f"missing -> {args.missing!r}")
    base = _lookup_meta(args, ctx, derived=True)
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


class FlagArgs(OpArgs):
    where: Condition
    otherwise: Literal["N", ""] = "N"

    def inputs(self) -> set[str]:
        return set(self.where.variables())


@column_op(
    "flag",
    FlagArgs,
    lambda a, c: ColumnMeta(
        method=f"'Y' if {describe_condition(a.where)}; "
        f"otherwise {repr(a.otherwise) if a.otherwise else 'null'}.",
        type="Char",
    ),
)
def op_flag(frame: pd.DataFrame, args: FlagArgs, ctx: BuildContext) -> pd.Series:
    """A Y/N (or Y/null) flag from a condition on this dataset's variables."""
    return derive_flag(evaluate(args.where, _records(frame, ctx)), false_value=args.otherwise)


class ExistsArgs(OpArgs):
    source: str
    where: Condition | None = None
    otherwise: Literal["N", ""] = "N"

    def lookups(self) -> set[tuple[str, str]]:
        dom, var = split_source(self.source)
        extra = set(self.where.variables()) if self.where else set()
        return {(dom or "", v) for v in {var, "USUBJID", *extra}}


@column_op(
    "exists",
    ExistsArgs,
    lambda a, c: ColumnMeta(
        source=a.source,
        method=(
            f"'Y' if the subject has a {split_source(a.source)[0]} record"
            + (f" with {describe_condition(a.where)}" if a.where else "")
            + f"; otherwise {repr(a.otherwise) if a.otherwise else 'null'}."
        ),
        type="Char",
    ),
)
def op_exists(frame: pd.DataFrame, args: ExistsArgs, ctx: BuildContext) -> pd.Series:
    """Y when the subject has a matching record in another dataset."""
    dom, var = split_source(args.source)
    needed = ["USUBJID", var] + (sorted(args.where.variables()) if args.where else [])
    other = ctx.table(dom or "", needed)
    if args.where is not None:
        other = other[evaluate(args.where, other).to_numpy()]
    has = frame["USUBJID"].isin(set(other["USUBJID"]))
    return derive_flag(has, false_value=args.otherwise)


# --------------------------------------------------------------------------- periods (ADSL)
class PeriodDateArgs(OpArgs):
    period: int | None = None
    phase: int | None = None
    bound: Literal["start", "end"]

    @model_validator(mode="after")
    def _one(self) -> PeriodDateArgs:
        if (self.period is None) == (self.phase is None):
            raise ValueError("give exactly one of period, phase")
        return self

    def conventions_used(self) -> set[tuple[str, str | int]]:
        if self.period is not None:
            return {("period", self.period)}
        return {("phase", self.phase)} if self.phase is not None else set()


def _period_date_meta(a: PeriodDateArgs, c: Any) -> ColumnMeta:
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


@column_op("period_date", PeriodDateArgs, _period_date_meta)
def op_period_date(frame: pd.DataFrame, args: PeriodDateArgs, ctx: BuildContext) -> pd.Series:
    """APxxSDT/APxxEDT or PHwSDT/PHwEDT from the conventions' events."""
    table = ctx.period_table
    pair = table.periods[args.period] if args.period is not None else table.phases[args.phase]  # type: ignore[index]
    return ctx.to_rows(frame, pair[0] if args.bound == "start" else pair[1])


class PeriodTreatmentArgs(OpArgs):
    period: int
    actual: bool = False

    def conventions_used(self) -> set[tuple[str, str | int]]:
        return {("period", self.period)}


def _period_trt_meta(a: PeriodTreatmentArgs, c: Any) -> ColumnMeta:
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


@column_op("period_treatment", PeriodTreatmentArgs, _period_trt_meta)
def op_period_treatment(
    frame: pd.DataFrame, args: PeriodTreatmentArgs, ctx: BuildContext
) -> pd.Series:
    """TRTxxP (every subject) or TRTxxA (subjects who had the period)."""
    p = ctx.conventions.period(args.period)
    text = (p.trta if args.actual else p.trtp) or ""
    if not args.actual:
        return pd.Series(text, index=frame.index, dtype=object)
    start = ctx.to_rows(frame, ctx.period_table.periods[args.period][0])
    return pd.Series(np.where(start.notna(), text, ""), index=frame.index, dtype=object)


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
    date: str = "ADT"
    output: Literal[PERIOD_OUTPUTS]  # type: ignore[valid-type]
    boundary: Literal["end", "start"] = "end"

    def inputs(self) -> set[str]:
        return {self.date}


def _record_period_meta(a: RecordPeriodArgs, c: Any) -> ColumnMeta:
    rule = "a date shared by two periods (the day one ends and the next starts) belongs to the " + (
        "period that ends that day" if a.boundary == "end" else "period that starts that day"
    )
    base = f"The period whose ADSL APxxSDT..APxxEDT (inclusive) contains {a.date}; {rule}"
    texts = {
        "APERIOD": f"{base}. Null when no period contains it.",
        "APERIODC": f"Text of APERIOD (the period's name in the study conventions). {base}.",
        "APHASE": f"The phase (ADSL APHASEw) containing APERIOD. {base}.",
        "APHASEN": f"Number of APHASE. {base}.",
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


def record_timing(
    frame: pd.DataFrame, ctx: BuildContext, date_col: str, boundary: str
) -> pd.DataFrame:
    key = ("period", date_col, boundary)
    if key in ctx.state.cache:
        return ctx.state.cache[key]
    conv = ctx.conventions
    table = ctx.period_table
    aperiod = derive_record_period(
        frame["USUBJID"],
        _col(frame, ctx, date_col),
        table.periods,
        boundary=boundary,  # type: ignore[arg-type]
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

    def table_of(values: dict, fill: object, dtype: object) -> np.ndarray:
        arr = np.full(top + 1, fill, dtype=dtype)
        for k, v in values.items():
            arr[k] = v
        return arr[idx]

    out["APERIODC"] = table_of(names, "", object)
    out["APHASE"] = table_of({n: ph.aphase for n, ph in phase_of.items()}, "", object)
    out["APHASEN"] = table_of(
        {n: float(ph.aphasen) for n, ph in phase_of.items()}, np.nan, "float64"
    )
    out["TRTP"] = table_of(trtp, "", object)
    out["TRTA"] = table_of(trta, "", object)
    sdt = np.full(len(ap), np.nan)
    edt = np.full(len(ap), np.nan)
    for n, (s, e) in table.periods.items():
        hit = ap == n
        if hit.any():
            sdt[hit] = ctx.to_rows(frame, s).to_numpy()[hit]
            edt[hit] = ctx.to_rows(frame, e).to_numpy()[hit]
    out["APERSDT"] = sdt
    out["APEREDT"] = edt
    phsdt = np.full(len(ap), np.nan)
    phedt = np.full(len(ap), np.nan)
    phn = out["APHASEN"].to_numpy()
    for n, (s, e) in table.phases.items():
        hit = phn == n
        if hit.any():
            phsdt[hit] = ctx.to_rows(frame, s).to_numpy()[hit]
            phedt[hit] = ctx.to_rows(frame, e).to_numpy()[hit]
    out["PHSDT"] = phsdt
    out["PHEDT"] = phedt
    ctx.state.cache[key] = out
    return out


@column_op("record_period", RecordPeriodArgs, _record_period_meta)
def op_record_period(frame: pd.DataFrame, args: RecordPeriodArgs, ctx: BuildContext) -> pd.Series:
    """APERIOD, APERIODC, APHASE, period/phase dates or TRTP/TRTA of each record by date."""
    return record_timing(frame, ctx, args.date, args.boundary)[args.output]


class AnalysisDayArgs(OpArgs):
    date: str = "ADT"
    reference: str | None = Field(default=None, description="default: conventions.reference_date")

    def inputs(self) -> set[str]:
        return {self.date}


@column_op(
    "analysis_day",
    AnalysisDayArgs,
    lambda a, c: ColumnMeta(
        method=(
            f"{a.date} - {a.reference or _ref(c)} + 1 "
            f"if {a.date} is on or after it, else {a.date} - "
            f"{a.reference or _ref(c)} (no day 0)."
        ),
        type="Num",
    ),
)
def op_analysis_day(frame: pd.DataFrame, args: AnalysisDayArgs, ctx: BuildContext) -> pd.Series:
    """ADY (or ASTDY, AENDY) relative to the analysis reference date."""
    ref = args.reference or ctx.conventions.reference_date
    return derive_analysis_day(
        _col(frame, ctx, args.date).astype("float64"), _col(frame, ctx, ref).astype("float64")
    )


WINDOW_OUTPUTS = ("AVISIT", "AVISITN", "AWTARGET", "AWLO", "AWHI", "AWTDIFF", "AWRANGE", "AWU")


class WindowArgs(OpArgs):
    windows: str
    date: str = "ADT"
    output: Literal[WINDOW_OUTPUTS]  # type: ignore[valid-type]

    def inputs(self) -> set[str]:
        return {self.date}

    def conventions_used(self) -> set[tuple[str, str | int]]:
        return {("window", self.windows)}


def _window_meta(a: WindowArgs, c: Any) -> ColumnMeta:
    listing = ""
    if c is not None:
        ws = c.specs.conventions.windows.get(a.windows, [])
        listing = "; ".join(
            f"{w.avisit} ({w.avisitn:g}): days {w.lo} to {w.hi} from {w.reference} "
            f"(target {w.target})"
            for w in ws
        )
    rule = (
        f"Analysis window by day of {a.date} relative to the window's reference date "
        "(the reference is day 1, the day before is -1); the first window listed that "
        "contains the day takes the record, whatever its nominal visit (unscheduled and "
        "out-of-window visits included); no window: null."
        f" Windows '{a.windows}': {listing}."
    )
    texts = {
        "AVISIT": rule,
        "AVISITN": "Number of AVISIT. " + rule,
        "AWTARGET": "Target day of the record's window.",
        "AWLO": "First day of the record's window.",
        "AWHI": "Last day of the record's window.",
        "AWTDIFF": "Absolute difference between the record's relative day and AWTARGET.",
        "AWRANGE": "Day range of the record's window and its reference date.",
        "AWU": "'DAYS' when the record is in a window.",
    }
    return ColumnMeta(
        method=texts[a.output], type="Char" if a.output in ("AVISIT", "AWRANGE", "AWU") else "Num"
    )


@column_op("window", WindowArgs, _window_meta)
def op_window(frame: pd.DataFrame, args: WindowArgs, ctx: BuildContext) -> pd.Series:
    """AVISIT/AVISITN and the AW* variables from the conventions' analysis windows."""
    key = ("window", args.windows, args.date)
    if key not in ctx.state.cache:
        windows = ctx.windows(args.windows)
        refs = {w.reference: _col(frame, ctx, w.reference).astype("float64") for w in windows}
        ctx.state.cache[key] = derive_analysis_window(
            _col(frame, ctx, args.date).astype("float64"), refs, windows
        )
    return ctx.state.cache[key][args.output]


# --------------------------------------------------------------------------- baseline, change
class BaselineFlagArgs(OpArgs):
    by: list[str] = Field(default_factory=lambda: ["USUBJID", "PARAMCD"])
    value: str = "AVAL"
    date: str = "ADT"
    reference: str | None = None
    order_by: list[str] = Field(default_factory=list)
    where: Condition | None = None

    def inputs(self) -> set[str]:
        out = {*self.by, self.value, self.date, *self.order_by}
        if self.where:
            out |= self.where.variables()
        return out


@column_op(
    "baseline_flag",
    BaselineFlagArgs,
    lambda a, c: ColumnMeta(
        method=(
            f"'Y' on the last record per {', '.join(a.by)} with a non-missing {a.value} and "
            f"{a.date} on or before {a.reference or _ref(c)}"
            + (f", among records where {describe_condition(a.where)}" if a.where else "")
            + (f"; ties on the date: the last by {', '.join(a.order_by)}" if a.order_by else "")
            + "; null otherwise."
        ),
        type="Char",
    ),
)
def op_baseline_flag(frame: pd.DataFrame, args: BaselineFlagArgs, ctx: BuildContext) -> pd.Series:
    """ABLFL: last non-missing value on or before the reference date."""
    ref = args.reference or ctx.conventions.reference_date
    work = frame
    if ref not in frame.columns:
        work = frame.assign(**{ref: _col(frame, ctx, ref)})
    eligible = _where_mask(work, ctx, args.where)
    return derive_baseline_flag(
        work,
        by=args.by,
        value=args.value,
        date=args.date,
        reference=ref,
        order_by=args.order_by,
        eligible=eligible,
    )


class BaseArgs(OpArgs):
    by: list[str] = Field(default_factory=lambda: ["USUBJID", "PARAMCD"])
    value: str = "AVAL"
    flag: str = "ABLFL"

    def inputs(self) -> set[str]:
        return {*self.by, self.value, self.flag}


@column_op(
    "base",
    BaseArgs,
    lambda a, c: ColumnMeta(
        method=f"{a.value} of the record with {a.flag} = 'Y' of the same {', '.join(a.by)}; "
        "null when there is none."
    ),
)
def op_base(frame: pd.DataFrame, args: BaseArgs, ctx: BuildContext) -> pd.Series:
    """BASE (or BASEC, BNRIND): the baseline record's value on every record."""
    return derive_base(frame, by=args.by, value=args.value, flag=args.flag)


class ChangeArgs(OpArgs):
    value: str = "AVAL"
    base: str = "BASE"
    where: Condition | None = None

    def inputs(self) -> set[str]:
        return {self.value, self.base} | (self.where.variables() if self.where else set())


def _change_meta(kind: str) -> Any:
    def meta(a: ChangeArgs, c: Any) -> ColumnMeta:
        formula = (
            f"{a.value} - {a.base}"
            if kind == "chg"
            else f"({a.value} - {a.base}) / {a.base} * 100 (null when {a.base} is 0)"
        )
        when = f" on records where {describe_condition(a.where)}" if a.where else ""
        return ColumnMeta(method=f"{formula}{when}; null when either is missing.", type="Num")

    return meta


@column_op("chg", ChangeArgs, _change_meta("chg"))
def op_chg(frame: pd.DataFrame, args: ChangeArgs, ctx: BuildContext) -> pd.Series:
    """CHG = AVAL - BASE."""
    return derive_chg(
        frame[args.value], frame[args.base], where=_where_mask(frame, ctx, args.where)
    )


@column_op("pchg", ChangeArgs, _change_meta("pchg"))
def op_pchg(frame: pd.DataFrame, args: ChangeArgs, ctx: BuildContext) -> pd.Series:
    """PCHG = (AVAL - BASE) / BASE * 100."""
    return derive_pchg(
        frame[args.value], frame[args.base], where=_where_mask(frame, ctx, args.where)
    )


class ImprovementArgs(ChangeArgs):
    direction: Literal["increase", "decrease"] = "increase"


@column_op(
    "percent_improvement",
    ImprovementArgs,
    lambda a, c: ColumnMeta(
        method=(
            f"100 * ({a.value} - {a.base}) / |{a.base}|"
            if a.direction == "increase"
            else f"100 * ({a.base} - {a.value}) / |{a.base}|"
        )
        + f" (a {'higher' if a.direction == 'increase' else 'lower'} value is better)"
        + (f" on records where {describe_condition(a.where)}" if a.where else "")
        + f"; null when {a.base} is 0 or either value is missing.",
        type="Num",
    ),
)
def op_percent_improvement(
    frame: pd.DataFrame, args: ImprovementArgs, ctx: BuildContext
) -> pd.Series:
    """Percent improvement of AVAL over BASE, sign-safe for negative BASE."""
    out = derive_percent_improvement(frame[args.value], frame[args.base], direction=args.direction)
    mask = _where_mask(frame, ctx, args.where)
    return out if mask is None else out.where(mask.fillna(False).astype(bool))


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


@column_op(
    "criterion",
    CriterionArgs,
    lambda a, c: ColumnMeta(
        method=(
            f"{a.text!r} on records where "
            f"{describe_condition(a.where) if a.where else 'the criterion applies'}."
            if a.output == "text"
            else f"'Y' if {a.source} {_SYM[a.op]} {a.threshold:g}, 'N' if not, "
            f"null when {a.source} is missing"
            + (f" or not ({describe_condition(a.where)})" if a.where else "")
            + "."
        ),
        type="Char",
    ),
)
def op_criterion(frame: pd.DataFrame, args: CriterionArgs, ctx: BuildContext) -> pd.Series:
    """CRITy (text) and CRITyFL (Y/N/null) for a threshold on a variable."""
    mask = _where_mask(frame, ctx, args.where)
    applies = (
        mask.fillna(False).astype(bool) if mask is not None else pd.Series(True, index=frame.index)
    )
    if args.output == "text":
        return pd.Series(np.where(applies, args.text, ""), index=frame.index, dtype=object)
    value = frame[args.source].astype("float64").where(applies)
    return derive_criterion_flag(value, op=args.op, threshold=args.threshold)


# --------------------------------------------------------------------------- ranges
class RangeArgs(OpArgs):
    bound: Literal["low", "high"]
    source: str | None = Field(default=None, description="records column with the limit")
    table: dict[str, list[float | None]] = Field(
        default_factory=dict, description="PARAMCD -> [low, high] when the data has none"
    )

    def inputs(self) -> set[str]:
        return {"PARAMCD"} | ({self.source} if self.source else set())


def _range_meta(a: RangeArgs, c: Any) -> ColumnMeta:
    parts = []
    if a.source:
        parts.append(f"{a.source}")
    if a.table:
        i = 0 if a.bound == "low" else 1
        listed = ", ".join(f"{k}: {v[i]:g}" for k, v in a.table.items() if v[i] is not None)
        parts.append(f"the study's analysis range by PARAMCD ({listed})")
    return ColumnMeta(method=f"{a.bound.title()} limit: " + ", else ".join(parts) + ".", type="Num")


@column_op("reference_range", RangeArgs, _range_meta)
def op_reference_range(frame: pd.DataFrame, args: RangeArgs, ctx: BuildContext) -> pd.Series:
    """ANRLO/ANRHI from the data, else from a per-parameter table in the spec."""
    out = (
        frame[args.source].astype("float64")
        if args.source
        else pd.Series(np.nan, index=frame.index)
    )
    if args.table:
        i = 0 if args.bound == "low" else 1
        fallback = frame["PARAMCD"].map(
            {k: (np.nan if v[i] is None else float(v[i])) for k, v in args.table.items()}
        )
        out = out.fillna(fallback.astype("float64"))
    return out


class NrindArgs(OpArgs):
    value: str = "AVAL"
    low: str = "ANRLO"
    high: str = "ANRHI"
    fallback: str | None = Field(default=None, description="e.g. LBNRIND, when AVAL is missing")

    def inputs(self) -> set[str]:
        return {self.value, self.low, self.high} | ({self.fallback} if self.fallback else set())


@column_op(
    "nrind",
    NrindArgs,
    lambda a, c: ColumnMeta(
        method=f"'LOW' if {a.value} < {a.low}, 'HIGH' if {a.value} > {a.high}, 'NORMAL' otherwise"
        + (
            f"; when {a.value} is missing (e.g. a result below a detection limit), {a.fallback}"
            if a.fallback
            else ""
        )
        + f"; null when {a.value} or both limits are missing.",
        type="Char",
        codelist="NRIND",
    ),
)
def op_nrind(frame: pd.DataFrame, args: NrindArgs, ctx: BuildContext) -> pd.Series:
    """ANRIND from AVAL and the analysis range (CT NRIND)."""
    out = derive_nrind(frame[args.value], frame[args.low], frame[args.high]).astype(object)
    if args.fallback:
        missing = frame[args.value].isna()
        out = out.where(~missing, frame[args.fallback].fillna("").astype(str))
    return out


# ------------------------------------------------------------------ analysis flag, sequence
class AnalysisFlagArgs(OpArgs):
    by: list[str] = Field(default_factory=lambda: ["USUBJID", "PARAMCD"])
    window: str = "AVISITN"
    distance: str = "AWTDIFF"
    date: str = "ADT"
    prefer: str | None = "ABLFL"
    order_by: list[str] = Field(default_factory=list)
    where: Condition | None = None

    def inputs(self) -> set[str]:
        out = {*self.by, self.window, self.distance, self.date, *self.order_by}
        if self.prefer:
            out.add(self.prefer)
        if self.where:
            out |= self.where.variables()
        return out


@column_op(
    "analysis_flag",
    AnalysisFlagArgs,
    lambda a, c: ColumnMeta(
        method=(
            f"'Y' on one record per {', '.join(a.by)} and {a.window}"
            + (f", among records where {describe_condition(a.where)}" if a.where else "")
            + ": "
            + (f"the {a.prefer} = 'Y' record if the window has it, else " if a.prefer else "")
            + f"the record closest to the window target (smallest {a.distance}), "
            f"then the later {a.date}"
            + (f", then the lowest {', '.join(a.order_by)}" if a.order_by else "")
            + "; null otherwise (and outside any window)."
        ),
        type="Char",
    ),
)
def op_analysis_flag(frame: pd.DataFrame, args: AnalysisFlagArgs, ctx: BuildContext) -> pd.Series:
    """ANLzzFL: one record per subject, parameter and analysis window."""
    eligible = _where_mask(frame, ctx, args.where)
    return derive_analysis_flag(
        frame,
        by=args.by,
        window=args.window,
        distance=args.distance,
        date=args.date,
        prefer=args.prefer,
        order_by=args.order_by,
        eligible=eligible,
    )


class SequenceArgs(OpArgs):
    by: list[str] = Field(default_factory=lambda: ["USUBJID"])
    order_by: list[str] = Field(min_length=1)

    def inputs(self) -> set[str]:
        return {*self.by, *self.order_by}


@column_op(
    "sequence",
    SequenceArgs,
    lambda a, c: ColumnMeta(
        method=f"1, 2, ... within {', '.join(a.by)}, in the order of {', '.join(a.order_by)}.",
        type="Num",
    ),
)
def op_sequence(frame: pd.DataFrame, args: SequenceArgs, ctx: BuildContext) -> pd.Series:
    """ASEQ: a record number within subject in a stated order."""
    g = group_codes(frame, args.by)
    o = lexsort([g, *sort_keys(frame, args.order_by)])
    gs = g[o]
    start = np.r_[True, gs[1:] != gs[:-1]] if len(o) else np.zeros(0, dtype=bool)
    run_start = np.maximum.accumulate(np.where(start, np.arange(len(o)), 0)) if len(o) else o
    out = np.empty(len(frame), dtype="float64")
    out[o] = np.arange(len(o)) - run_start + 1
    return pd.Series(out, index=frame.index)


# --------------------------------------------------------------------------- occurrences
class TreatmentEmergentArgs(OpArgs):
    start: str = "ASTDT"
    reference: str = "TRTSDT"
    end_reference: str | None = Field(default=None, description="e.g. EOSDT: not after it")
    missing_start: Literal["Y", ""] = "Y"

    def inputs(self) -> set[str]:
        return {self.start}


@column_op(
    "treatment_emergent",
    TreatmentEmergentArgs,
    lambda a, c: ColumnMeta(
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
    ),
)
def op_treatment_emergent(
    frame: pd.DataFrame, args: TreatmentEmergentArgs, ctx: BuildContext
) -> pd.Series:
    """TRTEMFL: started on or after first treatment."""
    s = _col(frame, ctx, args.start).to_numpy(dtype="float64")
    r = _col(frame, ctx, args.reference).to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        te = ~np.isnan(r) & (s >= r)
        if args.end_reference:
            e = _col(frame, ctx, args.end_reference).to_numpy(dtype="float64")
            te = te & (np.isnan(e) | (s <= e))
    if args.missing_start == "Y":
        te = te | (~np.isnan(r) & np.isnan(s))
    return pd.Series(np.where(te, "Y", "").astype(object), index=frame.index)


class DurationArgs(OpArgs):
    start: str = "ASTDT"
    end: str = "AENDT"

    def inputs(self) -> set[str]:
        return {self.start, self.end}


@column_op(
    "duration",
    DurationArgs,
    lambda a, c: ColumnMeta(
        method=f"{a.end} - {a.start} + 1 (days); null when either is missing.", type="Num"
    ),
)
def op_duration(frame: pd.DataFrame, args: DurationArgs, ctx: BuildContext) -> pd.Series:
    """ADURN in days, counting both end days."""
    return frame[args.end].astype("float64") - frame[args.start].astype("float64") + 1


class FirstOccurrenceArgs(OpArgs):
    by: list[str]
    order_by: list[str] = Field(min_length=1)
    where: Condition | None = None

    def inputs(self) -> set[str]:
        return {*self.by, *self.order_by} | (self.where.variables() if self.where else set())


@column_op(
    "first_occurrence",
    FirstOccurrenceArgs,
    lambda a, c: ColumnMeta(
        method=(
            f"'Y' on the first record per {', '.join(a.by)} in the order of {', '.join(a.order_by)}"
            + (f", among records where {describe_condition(a.where)}" if a.where else "")
            + "; null otherwise."
        ),
        type="Char",
    ),
)
def op_first_occurrence(
    frame: pd.DataFrame, args: FirstOccurrenceArgs, ctx: BuildContext
) -> pd.Series:
    """AOCCxxFL: first occurrence within a grouping."""
    mask = _where_mask(frame, ctx, args.where)
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


__all__ = ["PERIOD_OUTPUTS", "WINDOW_OUTPUTS", "Lookup", "lookup"]
