"""Dates: raw text to ISO 8601 --DTC (SDTMIG 3.4 section 4.4), the latest of several
dates, study days (section 4.4.4) and AGE."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.derive import dates as ddates
from cdisc_mapper.derive import partial as dpartial
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.sdtm.context import SRC, OpContext, as_text
from cdisc_mapper.sdtm.ops._common import by_record, in_variable, subject_key
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import Example, OpArgs


class DateArgs(OpArgs):
    column: str | None = Field(
        default=None,
        description="raw column of the source's form holding the date as typed (e.g. "
        "12/03/2021, 05-APR-2016, Jan 2, 2014, UN/03/2016; only inside a source's "
        "`variables`); give `column` or `variable`",
    )
    variable: str | None = Field(
        default=None,
        description="variable of the same record holding the date as text, e.g. one made "
        "from parts of a raw value by another operation; give `column` or `variable`",
    )
    time_column: str | None = Field(
        default=None,
        description="raw column holding the time of day (e.g. 14:30, 2:30 PM), added to the "
        "date as ISO 8601 date-time; none (and no `time_variable`): the date only",
    )
    time_variable: str | None = Field(
        default=None,
        description="variable of the same record holding the time of day as text; give "
        "`time_column` or `time_variable`, not both",
    )
    order: Literal["DMY", "MDY", "YMD"] | None = Field(
        default=None,
        description="order of day, month and year in dates written with numbers only: DMY "
        "(05/04/2016 is 5 April), MDY (04/05/2016 is 5 April) or YMD; none: the source's "
        "`date_order`, else study.yaml `subjects.date_order`",
    )
    formats: list[str] = Field(
        default_factory=list,
        description="extra `datetime.strptime` patterns for complete dates the reader "
        'above does not recognise (e.g. ["%Y%m%d"] for 20140102): %Y (4-digit year) '
        "with %m, %b or %B and %d, or with %j, and literal text; a value must be written "
        "exactly as its pattern writes it (leading zeros aside); one read differently by "
        "`order` and a pattern is an error; none: no other form is read",
    )

    @model_validator(mode="after")
    def _one_of_each(self) -> DateArgs:
        if (self.column is None) == (self.variable is None):
            raise ValueError("give exactly one of column (raw) or variable (mapped)")
        if self.time_column is not None and self.time_variable is not None:
            raise ValueError("give time_column or time_variable, not both")
        ddates.check_formats(self.formats)
        return self

    def inputs(self) -> set[str]:
        return {v for v in (self.variable, self.time_variable) if v is not None}


@register(
    "date",
    DateArgs,
    method=(
        "ISO 8601 date[ of raw {column}][ of {variable}][, with the time of raw "
        "{time_column}][, with the time of {time_variable}], read in the study's date "
        "order."
    ),
    origin="Collected",
    example=Example(
        spec="VSDTC: {op: date, column: VS_DATE, time_column: VS_TIME}",
        raw={
            "VS_DATE": ["05/04/2016", "05-Apr-2016", "Apr 5, 2016", "2016-04-05", "UN/04/2016"],
            "VS_TIME": ["14:30", "2:30 PM", "", "0830", ""],
        },
        gives=["2016-04-05T14:30", "2016-04-05T14:30", "2016-04-05", "2016-04-05T08:30", "2016-04"],
        note="Numeric dates are read day first: the bundled study's `subjects.date_order` is DMY.",
    ),
)
def op_date(frame: pd.DataFrame, args: DateArgs, ctx: OpContext) -> pd.Series:
    """ISO 8601 --DTC (SDTMIG 3.4 section 4.4.1) from a date as typed, with the time of day
    when a time is given; partial dates stay partial (section 4.4.2: right truncation), no
    day, month or time is invented, and a value that is not one date is an error listing
    its records. Dates: case-insensitive, surrounding spaces ignored. (1) Numbers separated
    by one kind of separator, `/`, `.`, `-` or spaces (`05/04/2016`, `5.4.2016`,
    `05 04 2016`), read in the `order` (DMY, MDY or YMD: the argument, else the source's
    `date_order`, else study.yaml `subjects.date_order`); a 4-digit first number is always
    the year, followed by month and day (`2016-04-05`, `2016/4/5`). (2) A month name, English,
    abbreviated or full (`APR`, `April`, `Sept`), fixes the month whatever the order: day
    first (`05-APR-2016`, `5 April 2016`, `05APR2016` without separators), month first
    (`Apr-05-2016`, `April 5 2016`, `Jan 2, 2014`, `January 02, 2014`: a comma only after the
    day of a month-first date) or year first (`2016-Apr-05`). (3) Partial dates: month and
    year (`04/2016`, `2016-04`, `APR-2016`, `APR2016`), a year alone (`2016`), and `UN`,
    `UNK`, `UNKN`, `??` or `XX` for an unknown day or month (`UN/04/2016` gives `2016-04`,
    `UN-UNK-2016` gives `2016`; a known day with an unknown month gives the year only); an
    unknown year with a known month or day is an error. (4) An ISO 8601 date-time,
    `2016-04-05T14:30` (how an XLSX date-time cell is read), keeps its time; with a time
    column as well, a record may have its time in only one of them. (5) `formats`: the
    `strptime` patterns given, for values nothing above reads. Refused: 2-digit years
    (`05/04/16`: which century?), years outside 1900-2100, dates not in the calendar
    (`31/02/2016`), mixed separators (`05/04-2016`). Times: `H:MM`, `HH:MM`, `HH:MM:SS` or
    `HHMM` on the 24-hour clock (`14:30`, `9:05`, `14:30:05`, `1430`), or followed by `AM`
    or `PM` on the 12-hour clock (`2:30 PM`, `02:30pm`, `12:05 a.m.` is 00:05); an unknown
    trailing part is truncated (`14:UN` gives `14`); a time with a partial or missing date
    is an error, since ISO 8601 cannot write it. Refused: hours past 23 (or 12 with AM/PM),
    minutes or seconds past 59, fractions of seconds, time zones, an hour alone."""
    order = args.order or ctx.date_order or ctx.study.subjects.date_order
    text, name = _text(frame, args.column, args.variable, ctx)
    date_text, time_text = ddates.split_date_time(text)
    date = _read(ctx, frame, name, _dates_in(order, args.formats), date_text)
    time = _read(ctx, frame, name, ddates.parse_time, time_text)
    if args.time_column is not None or args.time_variable is not None:
        separate, time_name = _text(frame, args.time_column, args.time_variable, ctx)
        parsed = _read(ctx, frame, time_name, ddates.parse_time, separate)
        both = f"{name} with {time_name.split(' ', 1)[1]}"
        time = _read(ctx, frame, both, ddates.one_time, time, parsed)
        return _read(ctx, frame, both, ddates.combine_dtc, date, time)
    return _read(ctx, frame, name, ddates.combine_dtc, date, time)


def _dates_in(order: str, formats: list[str]) -> Callable[[pd.Series], pd.Series]:
    def read(text: pd.Series) -> pd.Series:
        return ddates.parse_partial_date(text, order=order, formats=formats)

    return read


def _text(
    frame: pd.DataFrame, column: str | None, variable: str | None, ctx: OpContext
) -> tuple[pd.Series, str]:
    """The text an input holds and its name for messages (``column X``/``variable X``)."""
    if variable is not None:
        return as_text(frame[variable]), f"variable {variable}"
    if ctx.raw is None:
        raise SpecError(
            f"{ctx.domain}.{ctx.variable}: reads raw column {column}, which only a source's "
            "variables can; at domain level give `variable`",
            where=ctx.spec_where,
        )
    return ctx.raw[column], f"column {column}"


def _read(
    ctx: OpContext, frame: pd.DataFrame, name: str, fn: Callable[..., pd.Series], *inputs
) -> pd.Series:
    """``fn(*inputs)``, its errors naming the records: inside a source, the form and its
    rows; at domain level, each record's form and row."""
    if ctx.raw is not None:
        try:
            return fn(*inputs)
        except MappingError as exc:
            src = str(ctx.raw[SRC].iloc[0]) if SRC in ctx.raw.columns and len(ctx.raw) else ""
            spec = f" [spec {ctx.spec_where}]" if ctx.spec_where else ""
            raise type(exc)(f"{src}, {name} (rows are file rows): {exc}{spec}") from None
    try:
        out = fn(*(by_record(frame, s) for s in inputs))
    except MappingError as exc:
        raise in_variable(exc, ctx) from None
    return out.set_axis(frame.index)


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
    method="The latest of {variables} (ISO 8601 dates; blanks ignored).",
    origin="Derived",
    row_local=True,
    example=Example(
        spec="EXENDTC: {op: latest_of, variables: [_END_DATE, EXSTDTC]}",
        records={
            "_END_DATE": ["2016-04-07", "", "2016-04"],
            "EXSTDTC": ["2016-04-05", "2016-04-05T10:00", "2016-04-05"],
        },
        gives=["2016-04-07", "2016-04-05T10:00", "2016-04-05"],
        note="Compared as text: a partial date sorts before the complete dates it contains.",
    ),
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
        "Study day of {dtc}: {dtc} - DM.{ref} + 1 when on or after DM.{ref}, else {dtc} "
        "- DM.{ref} (no day 0); null when either date is partial (SDTMIG 3.4 section "
        "4.4.4)."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="VSDY: {op: study_day, dtc: VSDTC}",
        records={
            "USUBJID": ["S-001", "S-001", "S-001", "S-002", "S-003"],
            "VSDTC": ["2016-04-04", "2016-04-05T14:30", "2016-04-20", "2016-05", "2016-04-10"],
        },
        domains={
            "DM": {
                "USUBJID": ["S-001", "S-002", "S-003"],
                "RFSTDTC": ["2016-04-05", "2016-05-02", ""],
            }
        },
        gives=[-1, 1, 16, None, None],
    ),
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
    method=(
        "Study day of {dtc} relative to {ref} of the same record: {dtc} - {ref} + 1 "
        "when on or after it, else {dtc} - {ref} (no day 0)."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="CMSTDY: {op: study_day_of, dtc: CMSTDTC, ref: _RFSTDTC}",
        records={
            "CMSTDTC": ["2016-03-30", "2016-04-05", "2016-04"],
            "_RFSTDTC": ["2016-04-05", "2016-04-05", "2016-04-05"],
        },
        gives=[-6, 1, None],
    ),
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
        "Completed years from {birth} to {ref} (SDTMIG 3.4 DM); with a partial birth "
        "date, the age is given only when every possible birth day yields the same age."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="AGE: {op: age}",
        records={
            "BRTHDTC": ["1960-04-06", "1960-04-05", "1960-01", "1960-04", ""],
            "RFICDTC": ["2016-04-05", "2016-04-05", "2016-04-05", "2016-04-05", "2016-04-05"],
        },
        gives=[55, 56, 56, None, None],
        note="A birth month of April 1960 allows 55 or 56 at 2016-04-05, so AGE is null.",
    ),
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
