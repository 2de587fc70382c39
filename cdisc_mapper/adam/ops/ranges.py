"""Reference ranges: the analysis range limits ANRLO/ANRHI (``reference_range``) and the
range indicator ANRIND (``nrind``).

Rules implemented (ADaMIG v1.3):

* Section 3.3.7 (Toxicity and Range Variables for BDS Datasets): ANRLO/ANRHI, the analysis
  normal range; ANRIND, where AVAL falls with respect to it (CT NRIND: LOW, NORMAL, HIGH).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.ops.base import column_op
from cdisc_mapper.derive import derive_nrind
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs


# --------------------------------------------------------------------------- ANRLO, ANRHI
class RangeArgs(OpArgs):
    bound: Literal["low", "high"] = Field(
        description="`low`: the lower limit (ANRLO); `high`: the upper limit (ANRHI)"
    )
    source: str | None = Field(
        default=None,
        description="numeric variable of this dataset holding the limit (e.g. LBSTNRLO kept "
        "from SDTM); none: `table` only",
    )
    table: dict[str, Annotated[list[float | None], Field(min_length=2, max_length=2)]] = Field(
        default_factory=dict,
        description="PARAMCD -> [low, high] (null for no limit), used where `source` is "
        "missing or not given",
    )

    def inputs(self) -> set[str]:
        return {"PARAMCD"} | ({self.source} if self.source else set())


def _range_meta(a: RangeArgs, c: BuildContext | None) -> ColumnMeta:
    parts = []
    if a.source:
        parts.append(f"{a.source}")
    if a.table:
        i = 0 if a.bound == "low" else 1
        listed = ", ".join(f"{k}: {v[i]:g}" for k, v in a.table.items() if v[i] is not None)
        parts.append(f"the study's analysis range by PARAMCD ({listed})")
    return ColumnMeta(method=f"{a.bound.title()} limit: " + ", else ".join(parts) + ".", type="Num")


@column_op(
    "reference_range",
    RangeArgs,
    _range_meta,
    example=Example(
        spec="ANRLO: {derive: reference_range, bound: low, source: LBSTNRLO, table: {ALB: "
        "[35, 50]}}",
        records={
            "USUBJID": ["S1", "S1", "S1"],
            "PARAMCD": ["ALB", "ALB", "CREAT"],
            "LBSTNRLO": [34, None, None],
        },
        gives=[34, 35, None],
        note="The record's own limit, else the table's for its PARAMCD, else null.",
    ),
)
def op_reference_range(frame: pd.DataFrame, args: RangeArgs, ctx: BuildContext) -> pd.Series:
    """ANRLO/ANRHI (ADaMIG v1.3 section 3.3.7): the limit from the data, else from a
    per-parameter table in the spec; null when neither has one."""
    out = (
        frame[args.source].astype("float64")
        if args.source
        else pd.Series(np.nan, index=frame.index)
    )
    if args.table:
        i = 0 if args.bound == "low" else 1
        limits = {k: v[i] for k, v in args.table.items()}
        fallback = frame["PARAMCD"].map(
            {k: (np.nan if v is None else float(v)) for k, v in limits.items()}
        )
        out = out.fillna(fallback.astype("float64"))
    return out


# --------------------------------------------------------------------------- ANRIND
class NrindArgs(OpArgs):
    value: str = Field(default="AVAL", description="numeric variable compared with the range")
    low: str = Field(
        default="ANRLO", description="numeric variable of the lower limit; missing: no lower limit"
    )
    high: str = Field(
        default="ANRHI", description="numeric variable of the upper limit; missing: no upper limit"
    )
    fallback: str | None = Field(
        default=None,
        description="variable copied where `value` is missing (e.g. LBNRIND for a result "
        "below a detection limit); none: null there",
    )

    def inputs(self) -> set[str]:
        return {self.value, self.low, self.high} | ({self.fallback} if self.fallback else set())


def _nrind_meta(a: NrindArgs, c: BuildContext | None) -> ColumnMeta:
    return ColumnMeta(
        method=f"'LOW' if {a.value} < {a.low}, 'HIGH' if {a.value} > {a.high}, 'NORMAL' otherwise"
        + (
            f"; when {a.value} is missing (e.g. a result below a detection limit), {a.fallback}"
            if a.fallback
            else ""
        )
        + f"; null when {a.value} or both limits are missing.",
        type="Char",
        codelist="NRIND",
    )


@column_op(
    "nrind",
    NrindArgs,
    _nrind_meta,
    example=Example(
        spec="ANRIND: {derive: nrind}",
        records={
            "USUBJID": ["S1", "S1", "S1", "S1", "S1"],
            "AVAL": [30, 40, 60, None, 70],
            "ANRLO": [35, 35, 35, 35, 35],
            "ANRHI": [50, 50, 50, 50, None],
        },
        gives=["LOW", "NORMAL", "HIGH", "", "NORMAL"],
        note="A missing limit is no limit; a missing AVAL gives null (or `fallback`).",
    ),
)
def op_nrind(frame: pd.DataFrame, args: NrindArgs, ctx: BuildContext) -> pd.Series:
    """ANRIND from AVAL and the analysis range (ADaMIG v1.3 section 3.3.7, CT NRIND): LOW
    below ANRLO, HIGH above ANRHI, NORMAL otherwise; null when AVAL or both limits are
    missing."""
    out = derive_nrind(frame[args.value], frame[args.low], frame[args.high]).astype(object)
    if args.fallback:
        missing = frame[args.value].isna()
        out = out.where(~missing, frame[args.fallback].fillna("").astype(str))
    return out
