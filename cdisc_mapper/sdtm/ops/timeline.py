"""Relative-day data (study.yaml ``timeline``): study days (--DY) and pseudo dates
(--DTC) from whole-day offsets, as pooled registries such as PRO-ACT give every time."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

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
from cdisc_mapper.spec.operations import Example
from cdisc_mapper.spec.study import TimelineSpec

_TIMELINE = {"day0": "Trial onset (first dose)", "kind": "relative_days"}


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
        "timeline day0 event (study.yaml timeline): offsets counted as elapsed days (0 on "
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
        "Pseudo date, not a real calendar date: the study's timeline anchor (study.yaml "
        "timeline.anchor, the pseudo date given to the day0 event, study day 1) plus the "
        "offset in days of [raw {column}][{variable}]. Study days made from it equal "
        "those made from the offset."
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
