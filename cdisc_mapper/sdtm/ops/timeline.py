"""Relative-day data (study.yaml ``timeline``): study days (--DY) and pseudo dates
(--DTC) from whole-day offsets, as pooled registries such as PRO-ACT give every time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cdisc_mapper.derive import relative as drelative
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.ops._common import (
    ColumnOrVariable,
    by_record,
    in_variable,
    input_values,
    with_file,
)
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import Example, OpArgs
from cdisc_mapper.spec.study import TimelineSpec

_TIMELINE = {"day0": "Trial onset (first dose)", "kind": "relative_days"}
_WINDOWS = [
    {"visitnum": n, "visit": name, "raw_labels": [], "visitdy": day, "window_before": w,
     "window_after": w, "start_rule": f"Day {day}"}
    for n, name, day, w in ((1, "BASELINE", 1, 7), (2, "MONTH 3", 92, 14), (3, "MONTH 6", 183, 14))
]  # fmt: skip


#: The OID of define.xml's comment on the timeline (``timeline_comment``): on every date
#: and study-day variable of a study with a timeline, and on DM and TS.
TIMELINE_COMMENT_OID = "COM.TIMELINE"


def timeline_comment(timeline: TimelineSpec) -> str:
    """What define.xml says of a study's relative-day data: how study day 1 is defined
    and, with an anchor, that every date is a pseudo date; without one, that there are
    no dates. TS has no parameter for it: the TSPARMCD codelist (C66738) is extensible,
    but none of its terms fits and a made-up parameter would be no standard one, so
    define.xml (this comment, on TS, DM, and each --DTC and study day) is where it is
    said."""
    counted = "elapsed days, 0 on that day" if timeline.offsets == "elapsed" else "study days"
    days = (
        "The raw export gives every time as whole days from the event of each subject the "
        f"timeline counts from ({timeline.day0}), counted as {counted}, not as calendar "
        "dates. Study day 1 is that event's day and the day before it day -1 (no day 0, "
        "SDTMIG 3.4 section 4.4.4)."
    )
    if timeline.anchor is None:
        return (
            f"{days} There are no dates: every --DTC and DM's reference dates (RFSTDTC, "
            "RFXSTDTC...) are null, and the study days (--DY, --STDY, --ENDY) stand in for "
            "them."
        )
    return (
        f"{days} Pseudo dates, not real calendar dates: that event is given the made-up "
        f"date {timeline.anchor}, and every --DTC (DM's reference dates included) "
        f"is {timeline.anchor} plus the offset in days. Study days are exact; the "
        "calendar dates are not."
    )


class OffsetArgs(ColumnOrVariable):
    """An offset in days from the timeline's day0 event: a raw column or a variable."""


def _timeline(ctx: OpContext) -> TimelineSpec:
    if ctx.study.timeline is None:
        raise SpecError(
            f"{ctx.domain}.{ctx.variable}: the study has no timeline, so offsets count "
            "from nothing",
            where=ctx.spec_where,
            hint="add `timeline: {kind: relative_days, day0: <event>}` to study.yaml",
        )
    return ctx.study.timeline


def _days(
    frame: pd.DataFrame,
    args: OffsetArgs,
    ctx: OpContext,
    then: Callable[[pd.Series], pd.Series],
) -> pd.Series:
    """``then`` of the offsets as float days (NaN where blank), on the records' index; an
    error names the raw file, column and rows, or the records."""
    values = input_values(frame, args, ctx)
    raw = ctx.raw is not None and args.column is not None
    try:
        if raw:
            return then(drelative.offset_days(values))
        return then(drelative.offset_days(by_record(frame, values))).set_axis(frame.index)
    except MappingError as exc:
        if raw and args.column is not None:
            raise with_file(exc, ctx, args.column) from None
        raise in_variable(exc, ctx) from None


@register(
    "relative_day",
    OffsetArgs,
    method=(
        "Study day of the offset in days of [raw {column}][{variable}] from the study's "
        "day 0 event (the event the offsets count from): offsets counted as elapsed days (0 on "
        "the event's day) give offset + 1 from 0 on and the offset below 0; offsets "
        "counted as study days are the study day (SDTMIG 3.4 section 4.4.4: no day 0)."
    ),
    origin="Derived",
    example=Example(
        spec="FTDY: {op: relative_day, column: ALSFRS_Delta}",
        raw={"ALSFRS_Delta": ["-7", "0", "1", "91", ""]},
        gives=[-7, 1, 2, 92, None],
        study={"timeline": _TIMELINE},
        note="With `timeline: {kind: relative_days, day0: Trial onset (first dose)}` "
        "(offsets: elapsed, as PRO-ACT counts its deltas: 0 is the day of trial onset).",
    ),
)
def op_relative_day(frame: pd.DataFrame, args: OffsetArgs, ctx: OpContext) -> pd.Series:
    """--DY from a whole-day offset from study.yaml ``timeline.day0`` (SDTMIG 3.4 section
    4.4.4, no day 0). With ``offsets: elapsed`` (the default; PRO-ACT's deltas, 0 on the
    event's day) offset 0 is study day 1, 91 is day 92 and -7 is day -7; with ``offsets:
    study_day`` the offset is the study day and 0 is an error. Blank stays null; an
    offset that is not a whole number is an error listing its records."""
    timeline = _timeline(ctx)
    return _days(
        frame, args, ctx, lambda days: drelative.study_days_of_offsets(days, timeline.offsets)
    )


@register(
    "relative_date",
    OffsetArgs,
    method=(
        "Pseudo date, not a real calendar date: the made-up date given to the event the "
        "offsets count from (study day 1) plus the offset in days of [raw {column}]"
        "[{variable}]. Study days made from it equal those made from the offset."
    ),
    origin="Derived",
    example=Example(
        spec="FTDTC: {op: relative_date, column: ALSFRS_Delta}",
        raw={"ALSFRS_Delta": ["-7", "0", "91", ""]},
        gives=["1999-12-25", "2000-01-01", "2000-04-01", ""],
        study={"timeline": {**_TIMELINE, "anchor": "2000-01-01"}},
        note="With `timeline: {kind: relative_days, day0: Trial onset (first dose), "
        "anchor: 2000-01-01}`: 2000 is a leap year, so offset 91 is 1 April.",
    ),
)
def op_relative_date(frame: pd.DataFrame, args: OffsetArgs, ctx: OpContext) -> pd.Series:
    """A pseudo ISO 8601 date from a whole-day offset: study.yaml ``timeline.anchor`` (the
    made-up date of the day0 event) plus the offset. define.xml says it is a pseudo date
    (this method text) and so must TS (the study's comment). Blank stays blank; a study
    without an anchor is an error at the spec line: give study days with
    ``relative_day`` instead, or an anchor."""
    timeline = _timeline(ctx)
    if timeline.anchor is None:
        raise SpecError(
            f"{ctx.domain}.{ctx.variable}: relative_date needs a pseudo date for the day0 "
            "event, and the study's timeline has no anchor",
            where=ctx.spec_where,
            hint="add timeline.anchor (e.g. 2000-01-01) to study.yaml, or leave --DTC out "
            "and give --DY with op relative_day",
        )
    anchor = timeline.anchor
    return _days(
        frame, args, ctx, lambda days: drelative.pseudo_dates(days, anchor, timeline.offsets)
    ).astype(object)


class VisitWindowArgs(OpArgs):
    dy: str = Field(description="variable holding the record's study day (--DY)")
    outside: Literal["error", "blank"] = Field(
        default="error",
        description="a study day in no visit's window: error (listing the records) or "
        "blank (no VISITNUM)",
    )

    def inputs(self) -> set[str]:
        return {self.dy}


@register(
    "visit_window",
    VisitWindowArgs,
    method=(
        "The scheduled visit whose window (its planned study day VISITDY less the days it "
        "may be early, to VISITDY plus the days it may be late) holds the study day {dy}; in "
        "two windows, the visit whose VISITDY is nearer (the earlier on a tie)."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="VISITNUM: {op: visit_window, dy: QSDY}",
        records={"QSDY": [1, 80, 100, 185, None]},
        gives=[1.0, 2.0, 2.0, 3.0, None],
        study={"visits": _WINDOWS},
        note="With visits BASELINE (day 1 ± 7), MONTH 3 (day 92 ± 14), MONTH 6 (183 ± 14).",
    ),
)
def op_visit_window(frame: pd.DataFrame, args: VisitWindowArgs, ctx: OpContext) -> pd.Series:
    """VISITNUM from the record's study day and the schedule's windows (study.yaml
    ``visits``: ``visitdy``, ``window_before``, ``window_after``; a visit without a
    window takes its day alone), for data that records days rather than visit labels
    (PRO-ACT's deltas): the visit whose window holds the day, the nearer ``visitdy``
    when two windows do (the earlier visit on a tie). A blank day gives a blank
    VISITNUM; a day in no window is an error listing the records, or blank with
    ``outside: blank``. Visits without ``visitdy`` are never chosen."""
    planned = [v for v in ctx.study.visits if v.visitdy is not None]
    days = pd.to_numeric(frame[args.dy], errors="coerce").to_numpy(dtype=float)
    best = np.full(len(frame), np.nan)
    distance = np.full(len(frame), np.inf)
    for visit in sorted(planned, key=lambda v: (v.visitdy or 0, v.visitnum)):
        assert visit.visitdy is not None
        low = visit.visitdy - (visit.window_before or 0)
        high = visit.visitdy + (visit.window_after or 0)
        gap = np.abs(days - visit.visitdy)
        inside = (days >= low) & (days <= high) & (gap < distance)
        best[inside] = visit.visitnum
        distance[inside] = gap[inside]
    outside = ~np.isnan(days) & np.isnan(best)
    if outside.any() and args.outside == "error":
        raise ctx.data_error(
            f"study day {args.dy} in no visit's window (study.yaml visits)",
            frame,
            pd.Series(outside, index=frame.index),
            value_of=frame[args.dy],
        )
    return pd.Series(best, index=frame.index, dtype=float)
