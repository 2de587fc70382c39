"""Operations that need other domains or the whole domain: reference dates, visits,
study days, epochs, sequence numbers and baseline flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from cdisc_mapper.derive import dates as ddates
from cdisc_mapper.derive import flags as dflags
from cdisc_mapper.derive import partial as dpartial
from cdisc_mapper.sdtm.conditions import evaluate
from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.registry import OpArgs, register
from cdisc_mapper.spec.models import Condition


def _subject_key(frame: pd.DataFrame) -> pd.Series:
    return frame["USUBJID"].astype(str)


# --------------------------------------------------------------------------- cross-domain
class SubjectAggArgs(OpArgs):
    domain: str
    variable: str
    where: Condition | None = None

    def inputs(self) -> set[str]:
        return {"USUBJID"}

    def external(self) -> set[tuple[str, str]]:
        needed = {(self.domain, self.variable), (self.domain, "USUBJID")}
        if self.where is not None:
            needed |= {(self.domain, c) for c in _cond_columns(self.where)}
        return needed


def _cond_columns(cond: Condition) -> set[str]:
    out = {cond.column} if cond.column else set()
    for sub in (cond.all or []) + (cond.any or []) + ([cond.not_] if cond.not_ else []):
        out |= _cond_columns(sub)
    return out


def _subject_agg(frame: pd.DataFrame, args: SubjectAggArgs, ctx: OpContext, how: str) -> pd.Series:
    other = ctx.domains[args.domain]
    if args.where is not None:
        other = other.loc[evaluate(args.where, other).to_numpy()]
    vals = other[["USUBJID", args.variable]].copy()
    vals[args.variable] = vals[args.variable].fillna("").astype(str)
    vals = vals[vals[args.variable] != ""].sort_values(["USUBJID", args.variable])
    keep = "first" if how == "min" else "last"
    agg = vals.drop_duplicates("USUBJID", keep=keep).set_index("USUBJID")[args.variable]
    return _subject_key(frame).map(agg).fillna("").astype(object)


@register("subject_first", SubjectAggArgs, origin="Derived", row_local=True)
def op_subject_first(frame: pd.DataFrame, args: SubjectAggArgs, ctx: OpContext) -> pd.Series:
    """The subject's earliest value of another domain's ISO 8601 variable (e.g. RFXSTDTC
    = first EXSTDTC, SDTMIG 3.4 DM). ISO 8601 text sorts chronologically."""
    return _subject_agg(frame, args, ctx, "min")


@register("subject_last", SubjectAggArgs, origin="Derived", row_local=True)
def op_subject_last(frame: pd.DataFrame, args: SubjectAggArgs, ctx: OpContext) -> pd.Series:
    """The subject's latest value of another domain's ISO 8601 variable (e.g. RFXENDTC)."""
    return _subject_agg(frame, args, ctx, "max")


class SubjectCountArgs(SubjectAggArgs):
    pass


@register("subject_value", SubjectAggArgs, origin="Derived", row_local=True)
def op_subject_value(frame: pd.DataFrame, args: SubjectAggArgs, ctx: OpContext) -> pd.Series:
    """The subject's single value of another domain's variable (more than one distinct
    value is an error)."""
    other = ctx.domains[args.domain]
    if args.where is not None:
        other = other.loc[evaluate(args.where, other).to_numpy()]
    vals = other[["USUBJID", args.variable]].astype(str)
    vals = vals[vals[args.variable] != ""].drop_duplicates()
    dup = vals["USUBJID"].duplicated(keep=False)
    if dup.any():
        subjects = sorted(vals.loc[dup, "USUBJID"].unique())[:20]
        from cdisc_mapper.errors import MappingError

        raise MappingError(
            f"{ctx.domain}.{ctx.variable}: {args.domain}.{args.variable} has more than one "
            f"value for subject(s) {', '.join(subjects)}",
            where=ctx.spec_where,
        )
    table = vals.set_index("USUBJID")[args.variable]
    return _subject_key(frame).map(table).fillna("").astype(object)


class MaxOfArgs(OpArgs):
    variables: list[str]

    def inputs(self) -> set[str]:
        return set(self.variables)


@register("latest_of", MaxOfArgs, origin="Derived", row_local=True)
def op_latest_of(frame: pd.DataFrame, args: MaxOfArgs, ctx: OpContext) -> pd.Series:
    """The latest of several ISO 8601 date variables of the same record (blanks ignored)."""
    sub = frame[args.variables].fillna("").astype(str).replace("", np.nan)
    return sub.max(axis=1, skipna=True).fillna("").astype(object)


# --------------------------------------------------------------------------- visits
class VisitnumArgs(OpArgs):
    label: str = Field(description="variable holding the EDC's visit label")
    date: str = Field(description="variable holding the visit's ISO 8601 date")

    def inputs(self) -> set[str]:
        return {self.label, self.date, "USUBJID"}

    def external(self) -> set[tuple[str, str]]:
        return {("*", "CALENDAR")}


@register("visitnum", VisitnumArgs, origin="Derived", row_local=True)
def op_visitnum(frame: pd.DataFrame, args: VisitnumArgs, ctx: OpContext) -> pd.Series:
    """VISITNUM from the schedule (nominal visit, also when out of window); unscheduled
    visits get the number of the subject's last scheduled visit on or before the date
    plus 0.01, 0.02, ... (SDTMIG 3.4 section 4.4.5 leaves the scheme to the sponsor;
    this is the common convention, applied over all domains via the visit calendar)."""
    assert ctx.calendar is not None
    from cdisc_mapper.sdtm.visits import lookup_visitnum

    return lookup_visitnum(
        frame, ctx.calendar, ctx.study, label=args.label, date=args.date, ctx=ctx
    )


class VisitArgs(OpArgs):
    visitnum: str = "VISITNUM"

    def inputs(self) -> set[str]:
        return {self.visitnum}


@register("visit", VisitArgs, origin="Derived", row_local=True)
def op_visit(frame: pd.DataFrame, args: VisitArgs, ctx: OpContext) -> pd.Series:
    """VISIT: the schedule's name for VISITNUM; unscheduled visits ``UNSCHEDULED n.nn``."""
    from cdisc_mapper.sdtm.visits import visit_names

    return visit_names(frame[args.visitnum], ctx.study)


# --------------------------------------------------------------------------- timing
class StudyDayArgs(OpArgs):
    dtc: str
    ref: str = "RFSTDTC"

    def inputs(self) -> set[str]:
        return {self.dtc, "USUBJID"}

    def external(self) -> set[tuple[str, str]]:
        return {("DM", self.ref), ("DM", "USUBJID")}


@register("study_day", StudyDayArgs, origin="Derived", row_local=True)
def op_study_day(frame: pd.DataFrame, args: StudyDayArgs, ctx: OpContext) -> pd.Series:
    """--DY relative to DM.RFSTDTC (SDTMIG 3.4 section 4.4.4): no day 0; missing when
    either date is partial."""
    dm = ctx.domains["DM"]
    ref = _subject_key(frame).map(dm.set_index("USUBJID")[args.ref]).fillna("")
    return ddates.derive_study_day(frame[args.dtc].fillna("").astype(str), ref.astype(str))


class SameDayArgs(OpArgs):
    dtc: str
    ref: str

    def inputs(self) -> set[str]:
        return {self.dtc, self.ref}


@register("study_day_of", SameDayArgs, origin="Derived", row_local=True)
def op_study_day_of(frame: pd.DataFrame, args: SameDayArgs, ctx: OpContext) -> pd.Series:
    """Study day of a date relative to a reference date held on the same record."""
    return ddates.derive_study_day(
        frame[args.dtc].fillna("").astype(str), frame[args.ref].fillna("").astype(str)
    )


class AgeArgs(OpArgs):
    birth: str = "BRTHDTC"
    ref: str = "RFICDTC"

    def inputs(self) -> set[str]:
        return {self.birth, self.ref}


@register("age", AgeArgs, origin="Derived", row_local=True)
def op_age(frame: pd.DataFrame, args: AgeArgs, ctx: OpContext) -> pd.Series:
    """AGE in completed years at the reference date (SDTMIG 3.4 DM). With a partial birth
    date, the age is given only when every possible birth day yields the same age."""
    return dpartial.derive_age_exact(
        frame[args.birth].fillna("").astype(str), frame[args.ref].fillna("").astype(str)
    ).astype(float)


class EpochArgs(OpArgs):
    dtc: str

    def inputs(self) -> set[str]:
        return {self.dtc, "USUBJID"}

    def external(self) -> set[tuple[str, str]]:
        return {("SE", "*")}


@register("epoch", EpochArgs, origin="Derived", row_local=True)
def op_epoch(frame: pd.DataFrame, args: EpochArgs, ctx: OpContext) -> pd.Series:
    """EPOCH of the record's date from the subject's elements in SE (SDTMIG 3.4 section
    4.1.3.1): the element whose start <= date < next start."""
    assert ctx.se is not None
    return dpartial.derive_epoch_exact(
        frame[args.dtc].fillna("").astype(str), _subject_key(frame), ctx.se
    ).astype(object)


class SeqArgs(OpArgs):
    order_by: list[str]

    def inputs(self) -> set[str]:
        return {"USUBJID", *self.order_by}


@register("seq", SeqArgs, origin="Derived", needs_all=True)
def op_seq(frame: pd.DataFrame, args: SeqArgs, ctx: OpContext) -> pd.Series:
    """--SEQ: 1..n within subject in the given order (SDTMIG 3.4 section 4.1.7: unique
    within USUBJID)."""
    return dflags.derive_seq(frame, by=["USUBJID"], order_by=args.order_by).astype(float)


class LobxflArgs(OpArgs):
    testcd: list[str] = Field(description="variables identifying a test, e.g. [LBTESTCD]")
    dtc: str
    result: str
    ref: str = "RFXSTDTC"

    def inputs(self) -> set[str]:
        return {"USUBJID", self.dtc, self.result, *self.testcd}

    def external(self) -> set[tuple[str, str]]:
        return {("DM", self.ref), ("DM", "USUBJID")}


@register("lobxfl", LobxflArgs, origin="Derived", needs_all=True)
def op_lobxfl(frame: pd.DataFrame, args: LobxflArgs, ctx: OpContext) -> pd.Series:
    """--LOBXFL: ``Y`` on the subject's last non-missing result per test on or before
    DM.RFXSTDTC (SDTMIG 3.4 section 4.5.9, Baseline Values)."""
    dm = ctx.domains["DM"]
    work = frame.copy()
    work["_REF"] = _subject_key(frame).map(dm.set_index("USUBJID")[args.ref]).fillna("")
    return dflags.derive_last_obs_before_exposure_flag(
        work,
        by=["USUBJID", *args.testcd],
        dtc=args.dtc,
        ref_dtc="_REF",
        value_present=args.result,
    ).astype(object)
