"""Dates: raw text to ISO 8601 --DTC (SDTMIG 3.4 section 4.4), the latest of several
dates, study days (section 4.4.4) and AGE."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from cdisc_mapper.derive import dates as ddates
from cdisc_mapper.derive import partial as dpartial
from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.ops._common import by_record, in_variable, subject_key, with_file
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import OpArgs


class DateArgs(OpArgs):
    column: str = Field(
        description="raw column holding the date as typed (e.g. 12/03/2021, 05-APR-2016, "
        "UN/03/2016), read in the study's `subjects.date_order` (study.yaml)"
    )
    time_column: str | None = Field(
        default=None,
        description="raw column holding the time of day (e.g. 14:30), added to the date as "
        "ISO 8601 date-time; none: the date only",
    )


@register(
    "date",
    DateArgs,
    method="ISO 8601 date (and time when recorded) from raw text in the study's date order.",
    origin="Collected",
    raw=True,
)
def op_date(frame: pd.DataFrame, args: DateArgs, ctx: OpContext) -> pd.Series:
    """ISO 8601 --DTC from a raw date as typed, read in the study's date order, with the
    time when a time column is given. Partial dates stay partial (SDTMIG 3.4 section 4.4.2:
    right truncation): no day or month is invented."""
    assert ctx.raw is not None
    try:
        date = ddates.parse_partial_date(ctx.raw[args.column], order=ctx.study.subjects.date_order)
    except MappingError as exc:
        raise with_file(exc, ctx, args.column) from None
    if not args.time_column:
        return date
    try:
        time = ddates.parse_time(ctx.raw[args.time_column])
    except MappingError as exc:
        raise with_file(exc, ctx, args.time_column) from None
    try:
        return ddates.combine_dtc(date, time)
    except MappingError as exc:
        raise with_file(exc, ctx, f"{args.column} with {args.time_column}") from None


class MaxOfArgs(OpArgs):
    variables: list[str] = Field(
        description="ISO 8601 date variables of the same record (e.g. [EXENDTC, EXSTDTC]); the "
        "latest non-blank value is taken, compared as text"
    )

    def inputs(self) -> set[str]:
        return set(self.variables)


@register(
    "latest_of",
    MaxOfArgs,
    method="The latest of several ISO 8601 date variables of the same record (blanks ignored).",
    origin="Derived",
    row_local=True,
)
def op_latest_of(frame: pd.DataFrame, args: MaxOfArgs, ctx: OpContext) -> pd.Series:
    """The latest of several ISO 8601 date variables of the same record (blanks ignored)."""
    sub = frame[args.variables].fillna("").astype(str).replace("", np.nan)
    return sub.max(axis=1, skipna=True).fillna("").astype(object)


class StudyDayArgs(OpArgs):
    dtc: str = Field(
        description="ISO 8601 date variable of the record (e.g. AESTDTC) whose study day is given"
    )
    ref: str = Field(
        default="RFSTDTC",
        description="DM variable holding the subject's reference date, study day 1 (SDTMIG 3.4 "
        "section 4.4.4 uses RFSTDTC)",
    )

    def inputs(self) -> set[str]:
        return {self.dtc, "USUBJID"}

    def lookups(self) -> set[tuple[str, str]]:
        return {("DM", self.ref), ("DM", "USUBJID")}


@register(
    "study_day",
    StudyDayArgs,
    method=(
        "--DY relative to DM.RFSTDTC (SDTMIG 3.4 section 4.4.4): no day 0; missing when "
        "either date is partial."
    ),
    origin="Derived",
    row_local=True,
)
def op_study_day(frame: pd.DataFrame, args: StudyDayArgs, ctx: OpContext) -> pd.Series:
    """--DY: the study day of a date relative to the subject's DM reference date
    (RFSTDTC unless ``ref`` names another), SDTMIG 3.4 section 4.4.4: the reference date is
    day 1, the day before it -1 (no day 0); missing when either date is partial."""
    dm = ctx.domains["DM"]
    ref = subject_key(frame).map(dm.set_index("USUBJID")[args.ref]).fillna("")
    return _study_day(frame, frame[args.dtc], ref, ctx)


def _study_day(frame: pd.DataFrame, dtc: pd.Series, ref: pd.Series, ctx: OpContext) -> pd.Series:
    """--DY of each record; a value that is not ISO 8601 is an error naming its record."""
    try:
        days = ddates.derive_study_day(
            by_record(frame, dtc.fillna("").astype(str)), by_record(frame, ref.astype(str))
        )
    except MappingError as exc:
        raise in_variable(exc, ctx) from None
    return days.set_axis(frame.index)


class SameDayArgs(OpArgs):
    dtc: str = Field(description="ISO 8601 date variable of the record whose study day is given")
    ref: str = Field(
        description="ISO 8601 date variable of the same record taken as day 1 (e.g. a "
        "reference date mapped into this domain)"
    )

    def inputs(self) -> set[str]:
        return {self.dtc, self.ref}


@register(
    "study_day_of",
    SameDayArgs,
    method="Study day of a date relative to a reference date held on the same record.",
    origin="Derived",
    row_local=True,
)
def op_study_day_of(frame: pd.DataFrame, args: SameDayArgs, ctx: OpContext) -> pd.Series:
    """Study day of a date relative to a reference date held on the same record, counted
    as --DY (SDTMIG 3.4 section 4.4.4: no day 0; missing when either date is partial)."""
    return _study_day(frame, frame[args.dtc], frame[args.ref].fillna(""), ctx)


class AgeArgs(OpArgs):
    birth: str = Field(
        default="BRTHDTC", description="variable holding the ISO 8601 birth date (may be partial)"
    )
    ref: str = Field(
        default="RFICDTC",
        description="variable holding the ISO 8601 date at which the age is taken (default: "
        "informed consent, RFICDTC)",
    )

    def inputs(self) -> set[str]:
        return {self.birth, self.ref}


@register(
    "age",
    AgeArgs,
    method=(
        "AGE in completed years at the reference date (SDTMIG 3.4 DM). With a partial "
        "birth date, the age is given only when every possible birth day yields the same "
        "age."
    ),
    origin="Derived",
    row_local=True,
)
def op_age(frame: pd.DataFrame, args: AgeArgs, ctx: OpContext) -> pd.Series:
    """AGE in completed years at the reference date (SDTMIG 3.4 DM). With a partial birth
    date, the age is given only when every possible birth day yields the same age."""
    birth = by_record(frame, frame[args.birth].fillna("").astype(str))
    ref = by_record(frame, frame[args.ref].fillna("").astype(str))
    try:
        age = dpartial.derive_age_exact(birth, ref)
    except MappingError as exc:
        raise in_variable(exc, ctx) from None
    return age.set_axis(frame.index).astype(float)
