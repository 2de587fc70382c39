"""Analysis windows and record selection: AVISIT/AVISITN and the AW* variables
(``window``), or the nominal visit as AVISIT/AVISITN (``nominal_visit``), the
one-record-per-window flag ANLzzFL (``analysis_flag``) and the record
number ASEQ (``sequence``).

Rules implemented (ADaMIG v1.3, see :mod:`cdisc_mapper.adam.derive.windows`):

* Section 3.3.3 (Timing Variables for BDS Datasets): AVISIT/AVISITN by analysis day, or
  the visit as collected (SDTM VISIT, VISITNUM).

Which to choose: ``window`` when the analysis plan defines visits by study day (an
assessment counts for the visit its date falls in, unscheduled and out-of-window ones
included, and ``analysis_flag`` picks one per window); ``nominal_visit`` when the plan
analyses visits as scheduled and collected (admiral's ad_advs.R: AVISIT from VISIT),
unscheduled visits then having no AVISIT.
* Section 3.3.5 (Analysis Descriptor Variables): AWTARGET, AWTDIFF, AWLO, AWHI, AWRANGE,
  AWU.
* Section 3.3.8 (Indicator Variables for BDS Datasets) and section 4 (identification of
  the rows used for analysis): ANLzzFL.
* Section 3.3.1 (Identifier Variables for BDS Datasets): ASEQ, a record number within
  subject in a stated order.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    derive_analysis_flag,
    derive_analysis_window,
    derive_nominal_visit,
)
from cdisc_mapper.adam.derive._keys import group_codes, lexsort, sort_keys
from cdisc_mapper.adam.ops.base import column_op
from cdisc_mapper.adam.ops.common import column_of, where_mask
from cdisc_mapper.condition import Condition
from cdisc_mapper.condition import describe as describe_condition
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs

WINDOW_OUTPUTS = ("AVISIT", "AVISITN", "AWTARGET", "AWLO", "AWHI", "AWTDIFF", "AWRANGE", "AWU")


class WindowArgs(OpArgs):
    windows: str = Field(
        description="name of a list of analysis windows in the conventions' `windows` (e.g. "
        "standard)"
    )
    date: str = Field(
        default="ADT",
        description="numeric date variable of the record whose day, relative to each window's "
        "`reference`, picks the window",
    )
    output: Literal[WINDOW_OUTPUTS] = Field(  # type: ignore[valid-type]
        description="the variable to give: AVISIT(N) of the window, its target, limits, range "
        "text or unit, or the distance to target (AWTDIFF)"
    )

    def inputs(self) -> set[str]:
        return {self.date}

    def conventions_used(self) -> set[tuple[str, str | int]]:
        return {("window", self.windows)}


def _window_meta(a: WindowArgs, c: BuildContext | None) -> ColumnMeta:
    listing = ""
    if c is not None:
        ws = c.specs.conventions.windows.get(a.windows, [])
        listing = "; ".join(
            f"{w.avisit} ({w.avisitn:g}): days {w.lo} to {w.hi} from {w.reference} "
            f"(target {w.target})"
            for w in ws
        )
    rule = (
        f"AVISIT (and its number AVISITN) is the analysis window containing the day of "
        f"{a.date} relative to the window's reference date (the reference is day 1, the day "
        "before is -1); the first window listed that contains the day takes the record, "
        "whatever its nominal visit (unscheduled and out-of-window visits included); no "
        f"window: null. Windows '{a.windows}': {listing}."
    )
    texts = {
        "AVISIT": rule,  # one text for the pair: define.xml gives them one MethodDef
        "AVISITN": rule,
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


@column_op(
    "window",
    WindowArgs,
    _window_meta,
    example=Example(
        spec="AVISIT: {derive: window, windows: visits, output: AVISIT}",
        conventions={
            "windows": {
                "visits": [
                    {
                        "avisitn": 0,
                        "avisit": "BASELINE",
                        "reference": "TRTSDT",
                        "target": 1,
                        "lo": -30,
                        "hi": 1,
                    },
                    {
                        "avisitn": 1,
                        "avisit": "MONTH 1",
                        "reference": "TRTSDT",
                        "target": 31,
                        "lo": 2,
                        "hi": 45,
                    },
                ]
            }
        },
        domains={
            "ADSL": {
                "USUBJID": ["S1", "S2", "S3"],
                "TRTSDT": ["2020-02-01", "2020-02-15", None],
            }
        },
        records={
            "USUBJID": ["S1", "S1", "S1", "S1"],
            "ADT": ["2020-01-25", "2020-02-01", "2020-03-02", "2020-04-01"],
        },
        gives=["BASELINE", "BASELINE", "MONTH 1", ""],
        note="Days relative to TRTSDT: -7, 1, 31, 61 (outside every window: null). "
        "`output: AVISITN` gives 0, 0, 1, null; `AWTDIFF` the distance to the target day: 8, 0, "
        "0, null.",
    ),
)
def op_window(frame: pd.DataFrame, args: WindowArgs, ctx: BuildContext) -> pd.Series:
    """AVISIT/AVISITN and the AW* variables from the conventions' analysis windows (ADaMIG
    v1.3 sections 3.3.3 and 3.3.5): the first window listed whose days contain the record's
    day relative to the window's reference date takes the record, whatever its visit; no
    window: null. (For the visit as collected, see ``nominal_visit``.)"""
    key = ("window", args.windows, args.date)
    if key not in ctx.state.cache:
        windows = ctx.windows(args.windows)
        refs = {w.reference: column_of(frame, ctx, w.reference).astype("float64") for w in windows}
        ctx.state.cache[key] = derive_analysis_window(
            column_of(frame, ctx, args.date).astype("float64"), refs, windows
        )
    table: pd.DataFrame = ctx.state.cache[key]
    return table[args.output]


# --------------------------------------------------------------------------- nominal visits
class NominalVisitArgs(OpArgs):
    output: Literal["AVISIT", "AVISITN"] = Field(
        description="the variable to give: AVISIT (text) or AVISITN (its number)"
    )
    visit: str = Field(
        default="VISIT",
        description="variable of the record holding the visit's name (SDTM VISIT, kept by the "
        "record step)",
    )
    number: str = Field(
        default="VISITNUM",
        description="variable holding the visit's number: AVISITN when there is no `map`",
    )
    map: dict[str, str | float] = Field(
        default_factory=dict,
        description="visit name -> AVISIT text (output AVISIT) or AVISITN number (output "
        "AVISITN), e.g. {BASELINE: 0, WEEK 2: 2}; a visit not in it (unscheduled, screening) "
        "gets null; none: AVISIT is the visit name, AVISITN the visit number",
    )
    case: Literal["as_is", "title"] = Field(
        default="as_is",
        description="AVISIT without a `map`: the visit name `as_is` or in `title` case (WEEK 2 "
        "-> Week 2, as admiral's str_to_title)",
    )
    exclude: Condition | None = Field(
        default=None,
        description="condition on the record: where it holds the record has no analysis visit "
        "(null), e.g. {variable: VISIT, contains: UNSCHED}; none: no record excluded",
    )

    @model_validator(mode="after")
    def _consistent(self) -> NominalVisitArgs:
        if self.output == "AVISITN" and any(isinstance(v, str) for v in self.map.values()):
            raise ValueError("map values of AVISITN must be numbers")
        if self.output == "AVISIT" and any(not isinstance(v, str) for v in self.map.values()):
            raise ValueError("map values of AVISIT must be text (quote numbers)")
        if self.case != "as_is" and (self.output == "AVISITN" or self.map):
            raise ValueError("case applies to AVISIT without a map")
        return self

    def inputs(self) -> set[str]:
        read = self.number if self.output == "AVISITN" and not self.map else self.visit
        return {read} | (self.exclude.variables() if self.exclude else set())


def _nominal_visit_meta(a: NominalVisitArgs, c: BuildContext | None) -> ColumnMeta:
    if a.map:
        pairs = "; ".join(f"{k!r} -> {v if isinstance(v, str) else f'{v:g}'!r}"
                          for k, v in a.map.items())  # fmt: skip
        method = f"Nominal visit: from {a.visit}: {pairs}; any other visit: null"
    elif a.output == "AVISITN":
        method = f"Nominal visit number: {a.number}"
    else:
        method = f"Nominal visit: {a.visit}" + (" in title case" if a.case == "title" else "")
    if a.exclude is not None:
        method += f"; null where {describe_condition(a.exclude)}"
    source = a.number if a.output == "AVISITN" and not a.map else a.visit
    return ColumnMeta(
        source=source, method=method + ".", type="Num" if a.output == "AVISITN" else "Char"
    )


@column_op(
    "nominal_visit",
    NominalVisitArgs,
    _nominal_visit_meta,
    example=Example(
        spec="AVISITN: {derive: nominal_visit, output: AVISITN, map: {BASELINE: 0, WEEK 2: 2}}",
        records={
            "USUBJID": ["S1", "S1", "S1"],
            "VISIT": ["BASELINE", "WEEK 2", "UNSCHEDULED 1.1"],
            "VISITNUM": [3.0, 4.0, 4.1],
        },
        gives=[0.0, 2.0, None],
        note="`output: AVISIT, case: title` gives Baseline, Week 2, Unscheduled 1.1; without "
        "a map AVISITN is VISITNUM",
    ),
)
def op_nominal_visit(frame: pd.DataFrame, args: NominalVisitArgs, ctx: BuildContext) -> pd.Series:
    """AVISIT/AVISITN as the visit collected (ADaMIG v1.3 section 3.3.3: "may contain the
    visit names as observed (i.e., from SDTM VISIT)"), optionally renamed or numbered
    through a table; the alternative to analysis windows by study day (``window``)."""
    numeric = args.output == "AVISITN"
    if numeric and not args.map:
        out = column_of(frame, ctx, args.number).astype("float64")
    else:
        out = derive_nominal_visit(
            column_of(frame, ctx, args.visit),
            args.map or None,
            title=args.case == "title",
            numeric=numeric,
        )
    mask = where_mask(frame, ctx, args.exclude)
    if mask is None:
        return out
    drop = mask.fillna(False).astype(bool).to_numpy()
    return out.mask(drop, np.nan if numeric else "")


# ------------------------------------------------------------------ analysis flag, sequence
class AnalysisFlagArgs(OpArgs):
    by: list[str] = Field(
        default_factory=lambda: ["USUBJID", "PARAMCD"],
        description="variables of the groups within which one record per window is flagged",
    )
    window: str = Field(
        default="AVISITN",
        description="variable identifying the analysis window; records where it is missing "
        "are never flagged",
    )
    distance: str = Field(
        default="AWTDIFF",
        description="numeric variable of the distance to the window's target; the smallest wins",
    )
    date: str = Field(
        default="ADT", description="numeric date variable; on equal distance the later date wins"
    )
    prefer: str | None = Field(
        default="ABLFL",
        description="flag variable whose Y record is chosen first when the window has one "
        "(the baseline); none: no preference",
    )
    order_by: list[str] = Field(
        default_factory=list,
        description="variables breaking remaining ties, lowest first (e.g. [SRCSEQ]); then "
        "record order",
    )
    where: Condition | None = Field(
        default=None,
        description="condition choosing the records that may be flagged (e.g. `{variable: AVAL, "
        "present: true}`); "
        "none: all",
    )

    def inputs(self) -> set[str]:
        out = {*self.by, self.window, self.distance, self.date, *self.order_by}
        if self.prefer:
            out.add(self.prefer)
        if self.where:
            out |= self.where.variables()
        return out


def _analysis_flag_meta(a: AnalysisFlagArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
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
    )


@column_op(
    "analysis_flag",
    AnalysisFlagArgs,
    _analysis_flag_meta,
    example=Example(
        spec="ANL01FL: {derive: analysis_flag}",
        records={
            "USUBJID": ["S1", "S1", "S1", "S1", "S1"],
            "PARAMCD": ["SYSBP", "SYSBP", "SYSBP", "SYSBP", "SYSBP"],
            "AVISITN": [0, 0, 1, 1, None],
            "ADT": ["2020-02-01", "2020-01-28", "2020-02-28", "2020-03-05", "2020-05-01"],
            "AWTDIFF": [0, 4, 3, 3, None],
            "ABLFL": ["", "Y", "", "", ""],
        },
        gives=["", "Y", "", "Y", ""],
        note="Per subject, parameter and window: the baseline record (`prefer: ABLFL`), "
        "else the closest to the target, then the later date; no window: null.",
    ),
)
def op_analysis_flag(frame: pd.DataFrame, args: AnalysisFlagArgs, ctx: BuildContext) -> pd.Series:
    """ANLzzFL (ADaMIG v1.3 section 3.3.8): Y on one record per subject, parameter and
    analysis window (the ``prefer`` record, else the closest to the window's target, then
    the later date), null on the others."""
    eligible = where_mask(frame, ctx, args.where)
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
    by: list[str] = Field(
        default_factory=lambda: ["USUBJID"],
        description="variables within which records are numbered from 1",
    )
    order_by: list[str] = Field(
        min_length=1,
        description="variables that order the records before numbering (e.g. [PARAMN, ADT, "
        "SRCSEQ]); ties keep their record order",
    )

    def inputs(self) -> set[str]:
        return {*self.by, *self.order_by}


def _sequence_meta(a: SequenceArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=f"1, 2, ... within {', '.join(a.by)}, in the order of {', '.join(a.order_by)}.",
        type="Num",
    )


@column_op(
    "sequence",
    SequenceArgs,
    _sequence_meta,
    example=Example(
        spec="ASEQ: {derive: sequence, order_by: [PARAMCD, ADT]}",
        records={
            "USUBJID": ["S1", "S1", "S1", "S2"],
            "PARAMCD": ["SYSBP", "DIABP", "DIABP", "SYSBP"],
            "ADT": ["2020-02-01", "2020-03-01", "2020-02-01", "2020-02-15"],
        },
        gives=[3, 2, 1, 1],
    ),
)
def op_sequence(frame: pd.DataFrame, args: SequenceArgs, ctx: BuildContext) -> pd.Series:
    """ASEQ (ADaMIG v1.3 section 3.3.1): 1, 2, ... within each subject (``by``), in the
    order of ``order_by``."""
    g = group_codes(frame, args.by)
    o = lexsort([g, *sort_keys(frame, args.order_by)])
    gs = g[o]
    start = np.r_[True, gs[1:] != gs[:-1]] if len(o) else np.zeros(0, dtype=bool)
    run_start = np.maximum.accumulate(np.where(start, np.arange(len(o)), 0)) if len(o) else o
    out = np.empty(len(frame), dtype="float64")
    out[o] = np.arange(len(o)) - run_start + 1
    return pd.Series(out, index=frame.index)
