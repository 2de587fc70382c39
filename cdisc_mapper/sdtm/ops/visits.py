"""Visits and epochs: VISITNUM/VISIT from the schedule and the visit calendar (SDTMIG
3.4 section 4.4.5) and EPOCH from the subject's elements (section 4.1.3.1)."""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from cdisc_mapper.derive import partial as dpartial
from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.ops._common import by_record, in_variable, subject_key
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.sdtm.visits import lookup_visitnum, visit_names
from cdisc_mapper.spec.operations import OpArgs


class VisitnumArgs(OpArgs):
    label: str = Field(
        description="variable holding the EDC's visit label, matched to a visit's `raw_labels` "
        "or `unscheduled.raw_labels` in study.yaml"
    )
    date: str = Field(
        description="variable holding the visit's ISO 8601 date; an unscheduled visit is "
        "numbered after the subject's last scheduled visit on or before it"
    )

    def inputs(self) -> set[str]:
        return {self.label, self.date, "USUBJID"}

    def lookups(self) -> set[tuple[str, str]]:
        return {("*", "CALENDAR")}


@register(
    "visitnum",
    VisitnumArgs,
    method=(
        "VISITNUM from the schedule (nominal visit, also when out of window); unscheduled "
        "visits get the number of the subject's last scheduled visit on or before the "
        "date plus 0.01, 0.02, ... (SDTMIG 3.4 section 4.4.5 leaves the scheme to the "
        "sponsor; this is the common convention, applied over all domains via the visit "
        "calendar)."
    ),
    origin="Derived",
    row_local=True,
)
def op_visitnum(frame: pd.DataFrame, args: VisitnumArgs, ctx: OpContext) -> pd.Series:
    """VISITNUM from the schedule (nominal visit, also when out of window); unscheduled
    visits get the number of the subject's last scheduled visit on or before the date
    plus 0.01, 0.02, ... (SDTMIG 3.4 section 4.4.5 leaves the scheme to the sponsor;
    this is the common convention, applied over all domains via the visit calendar)."""
    assert ctx.calendar is not None
    return lookup_visitnum(
        frame, ctx.calendar, ctx.study, label=args.label, date=args.date, ctx=ctx
    )


class VisitArgs(OpArgs):
    visitnum: str = Field(
        default="VISITNUM", description="variable holding the visit number whose name is given"
    )

    def inputs(self) -> set[str]:
        return {self.visitnum}


@register(
    "visit",
    VisitArgs,
    method="VISIT: the schedule's name for VISITNUM; unscheduled visits UNSCHEDULED n.nn.",
    origin="Derived",
    row_local=True,
)
def op_visit(frame: pd.DataFrame, args: VisitArgs, ctx: OpContext) -> pd.Series:
    """VISIT: the schedule's name for VISITNUM (study.yaml ``visits``); unscheduled visits
    ``UNSCHEDULED n.nn``."""
    return visit_names(frame[args.visitnum], ctx.study)


class EpochArgs(OpArgs):
    dtc: str = Field(
        description="ISO 8601 date variable of the record (e.g. AESTDTC) placed among the "
        "subject's SE elements"
    )

    def inputs(self) -> set[str]:
        return {self.dtc, "USUBJID"}

    def lookups(self) -> set[tuple[str, str]]:
        return {("SE", "*")}


@register(
    "epoch",
    EpochArgs,
    method=(
        "EPOCH of the record's date from the subject's elements in SE (SDTMIG 3.4 section "
        "4.1.3.1): the element whose start <= date < next start."
    ),
    origin="Derived",
    row_local=True,
)
def op_epoch(frame: pd.DataFrame, args: EpochArgs, ctx: OpContext) -> pd.Series:
    """EPOCH of the record's date from the subject's elements in SE (SDTMIG 3.4 section
    4.1.3.1): the element whose start <= date < next start."""
    assert ctx.se is not None
    dtc = by_record(frame, frame[args.dtc].fillna("").astype(str))
    try:
        epoch = dpartial.derive_epoch_exact(dtc, by_record(frame, subject_key(frame)), ctx.se)
    except MappingError as exc:
        raise in_variable(exc, ctx) from None
    return epoch.set_axis(frame.index).astype(object)
