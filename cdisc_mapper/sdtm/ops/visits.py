"""Visits and epochs: VISITNUM/VISIT from the schedule and the visit calendar (SDTMIG
3.4 section 4.4.5), the planned visit's attributes (VISITDY) from the schedule (TV), and
EPOCH from the subject's elements (section 4.1.3.1)."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.derive import partial as dpartial
from cdisc_mapper.derive import relative as drelative
from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.ops._common import by_record, in_variable, subject_key
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.sdtm.visits import build_calendar, lookup_visitnum, visit_entries, visit_names
from cdisc_mapper.spec.operations import Example, OpArgs


class VisitnumArgs(OpArgs):
    label: str = Field(
        description="variable holding the EDC's visit label, matched to a visit's `raw_labels` "
        "(or name), to `unscheduled.raw_labels` or to `unscheduled.pattern` in study.yaml"
    )
    date: str = Field(
        description="variable holding the visit's ISO 8601 date; an unscheduled visit whose "
        "label holds no number is numbered after the subject's last scheduled visit on or "
        "before it"
    )

    def inputs(self) -> set[str]:
        return {self.label, self.date, "USUBJID"}

    def lookups(self) -> set[tuple[str, str]]:
        return {("*", "CALENDAR")}


@register(
    "visitnum",
    VisitnumArgs,
    method=(
        "The number of the scheduled visit {label} names (the nominal visit, also when "
        "out of window); an unscheduled visit gets the number of the subject's last "
        "scheduled visit on or before {date} plus 0.01, 0.02, ... (SDTMIG 3.4 section "
        "4.4.5 leaves the scheme to the sponsor; this is the common convention, applied "
        "over all domains through the visit calendar)."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="VISITNUM: {op: visitnum, label: _VISITLABEL, date: VSDTC}",
        records={
            "USUBJID": ["S-1", "S-1", "S-1", "S-1"],
            "_VISITLABEL": ["Screening", "Unscheduled", "Month 2", "Unscheduled 2.5"],
            "VSDTC": ["2016-01-05", "2016-01-20", "2016-03-05", "2016-03-20"],
        },
        study={
            "unscheduled": {
                "raw_labels": ["Unscheduled"],
                "pattern": "Unscheduled (?P<number>\\d+(\\.\\d+)?)",
                "step": 0.01,
            }
        },
        gives=[1, 1.01, 2, 2.5],
        note="Runs over the visit calendar of every domain with visits; here it holds "
        "these records alone. The bundled study's schedule: Screening is visit 1, Month 2 "
        "visit 2.",
    ),
)
def op_visitnum(frame: pd.DataFrame, args: VisitnumArgs, ctx: OpContext) -> pd.Series:
    """VISITNUM (SDTMIG 3.4 section 4.4.5): a scheduled visit's number from its EDC label
    (study.yaml ``visits``: a visit's ``raw_labels`` or name; nominal, also when out of
    window). An unscheduled visit (``unscheduled.raw_labels``, or a label that
    ``unscheduled.pattern`` matches) has the number its label holds when the pattern's
    ``number`` group matched (Unscheduled 8.2 -> 8.2), else the calendar's: the subject's
    last scheduled visit on or before its date + ``step``, + 2 x ``step``... (one number per
    date, the same in every domain; numbers the subject's labels hold are skipped). A
    label in neither, an unscheduled number that is a scheduled visit's, and a
    calendar-numbered visit without a complete date are errors naming the records."""
    calendar = ctx.calendar
    if calendar is None:  # run alone: the calendar of these records
        calendar = build_calendar([visit_entries(frame, args.label, args.date)], ctx.study)
    return lookup_visitnum(frame, calendar, ctx.study, label=args.label, date=args.date, ctx=ctx)


class VisitArgs(OpArgs):
    visitnum: str = Field(
        default="VISITNUM", description="variable holding the visit number whose name is given"
    )

    def inputs(self) -> set[str]:
        return {self.visitnum}


@register(
    "visit",
    VisitArgs,
    method=("The schedule's visit name of {visitnum}; an unscheduled visit is UNSCHEDULED n.nn."),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="VISIT: {op: visit}",
        records={"VISITNUM": [1, 10, 2.01, 2.5, None]},
        gives=["SCREENING", "INJECTION 1", "UNSCHEDULED 2.01", "UNSCHEDULED 2.50", ""],
        note="The bundled study's schedule and `unscheduled: {label_prefix: UNSCHEDULED, "
        "step: 0.01}`.",
    ),
)
def op_visit(frame: pd.DataFrame, args: VisitArgs, ctx: OpContext) -> pd.Series:
    """VISIT (SDTMIG 3.4 section 4.4.5): the schedule's name for VISITNUM (study.yaml
    ``visits``); an unscheduled visit's is ``unscheduled.label_prefix``, a space and its
    number with the decimals of ``unscheduled.step`` (0.1: UNSCHEDULED 8.1; 0.01: 8.10;
    0.001: 1.001), or more when the number has more, so that each VISITNUM has one name
    and each name one VISITNUM."""
    return visit_names(frame[args.visitnum], ctx.study)


class ScheduleArgs(OpArgs):
    visitnum: str = Field(
        default="VISITNUM",
        description="variable holding the record's visit number (mapped with op visitnum)",
    )
    field: Literal["visit", "visitdy", "window_before", "window_after"] = Field(
        description="what to give of the scheduled visit (study.yaml `visits`): `visitdy` "
        "(the planned study day, VISITDY, a number), `visit` (its name), `window_before` "
        "or `window_after` (days, numbers); null for an unscheduled visit, or when the "
        "visit does not state it"
    )

    def inputs(self) -> set[str]:
        return {self.visitnum}

    def lookups(self) -> set[tuple[str, str]]:
        return {("*", "CALENDAR")}


@register(
    "schedule",
    ScheduleArgs,
    method=(
        "The planned {field} of the record's scheduled visit (VISITNUM) from the trial "
        "visits (TV; SDTMIG 3.4 section 4.4.5); null for unscheduled visits."
    ),
    origin="Protocol",
    row_local=True,
    example=Example(
        spec="VISITDY: {op: schedule, visitnum: VISITNUM, field: visitdy}",
        records={"VISITNUM": [1, 10, 11, None]},
        gives=[-180, 1, None, None],
        note="The bundled study's schedule: visit 1 (SCREENING) is planned on day -180, "
        "visit 10 (INJECTION 1) on day 1, and visit 11 states no day.",
    ),
)
def op_schedule(frame: pd.DataFrame, args: ScheduleArgs, ctx: OpContext) -> pd.Series:
    """An attribute of the record's scheduled visit from study.yaml ``visits`` (TV): with
    ``field: visitdy``, VISITDY, the planned study day of the visit (SDTMIG 3.4 section
    4.4.5, TV.VISITDY; a timing variable of every general-observation domain); also the
    visit's name (``visit``) or window (``window_before``, ``window_after``, days). Null for an
    unscheduled visit (one the visit calendar numbered, or whose label held its number),
    a record without VISITNUM, or a visit that does not state the attribute; a number
    that is neither scheduled nor unscheduled is an error naming the records."""
    visitnum = pd.to_numeric(frame[args.visitnum], errors="coerce").astype(float)
    table = {float(v.visitnum): getattr(v, args.field) for v in ctx.study.visits}
    unscheduled = set() if ctx.calendar is None else set(ctx.calendar["VISITNUM"].astype(float))
    unknown = visitnum.notna() & ~visitnum.isin(list(table)) & ~visitnum.isin(list(unscheduled))
    if unknown.any():
        raise ctx.data_error(
            "visit number neither in the study's schedule (study.yaml visits) nor an "
            "unscheduled visit's",
            frame,
            unknown,
            value_of=frame[args.visitnum],
        )
    out = visitnum.map(table)
    if args.field == "visit":
        return out.where(out.notna(), None).astype(object)
    return pd.to_numeric(out, errors="coerce").astype(float)


class EpochArgs(OpArgs):
    dtc: str | None = Field(
        default=None,
        description="ISO 8601 date variable of the record (e.g. AESTDTC) placed among the "
        "subject's SE elements. Give `dtc` or, for relative-day data without dates, `dy`",
    )
    dy: str | None = Field(
        default=None,
        description="study day variable of the record (e.g. AESTDY), for relative-day data "
        "without dates (study.yaml timeline without an anchor): placed among the subject's "
        "SE elements by SESTDY and SEENDY",
    )

    @model_validator(mode="after")
    def _date_or_day(self) -> EpochArgs:
        if (self.dtc is None) == (self.dy is None):
            raise ValueError("give exactly one of dtc (dates) or dy (study days)")
        return self

    def inputs(self) -> set[str]:
        return {self.dtc or self.dy or "", "USUBJID"}

    def lookups(self) -> set[tuple[str, str]]:
        return {("SE", "*")}


@register(
    "epoch",
    EpochArgs,
    method=(
        "The EPOCH of the subject's element (SE) in which [{dtc}][study day {dy}] falls: "
        "the element whose start is on or before [{dtc}][study day {dy}] and whose next "
        "element starts after it (SDTMIG 3.4 section 4.1.3.1)."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="EPOCH: {op: epoch, dtc: VSDTC}",
        records={"USUBJID": ["S-1", "S-1", "S-1"], "VSDTC": ["2016-03-01", "2016-07-12", ""]},
        note="Needs SE, the subject elements built from study.yaml `elements`, so it does "
        "not run alone. With S-1's run-in (RUN-IN) from 2016-01-05 and first injection "
        "(TREATMENT) from 2016-07-12 it gives RUN-IN, TREATMENT and null (no date). With "
        "`dy: VSDY` on study days, the same with SESTDY and SEENDY (no day 0).",
    ),
)
def op_epoch(frame: pd.DataFrame, args: EpochArgs, ctx: OpContext) -> pd.Series:
    """EPOCH of the record's date from the subject's elements in SE (SDTMIG 3.4 section
    4.1.3.1): the element whose start <= date < next start. With ``dy`` (relative-day
    data without dates) the same on study days: SESTDY <= day < the next SESTDY (the
    last element up to its SEENDY); study day 1 follows day -1 (no day 0)."""
    assert ctx.se is not None
    subjects = by_record(frame, subject_key(frame))
    try:
        if args.dy is not None:
            days = by_record(frame, frame[args.dy])
            epoch = drelative.epoch_of_study_days(days, subjects, ctx.se)
        else:
            assert args.dtc is not None
            dtc = by_record(frame, frame[args.dtc].fillna("").astype(str))
            epoch = dpartial.derive_epoch_exact(dtc, subjects, ctx.se)
    except MappingError as exc:
        raise in_variable(exc, ctx) from None
    return epoch.set_axis(frame.index).astype(object)
