"""Record builders that add derived rows to a BDS dataset's records: questionnaire
scores as new parameters (``scores``) and best-of-several records within a parameter
(``best_record``).

Rules implemented (ADaMIG v1.3, see :mod:`cdisc_mapper.adam.derive.scores` and
:mod:`cdisc_mapper.adam.derive.flags`):

* Section 4.2 (Creation of Derived Columns Versus Creation of Derived Rows): a value
  computed from several records is a new row; a total across items is a new parameter
  (its own PARAMCD, DTYPE null).
* Section 3.3.5 (Analysis Descriptor Variables), DTYPE: a derived record within a
  parameter that has observed records (e.g. "MAXIMUM", the best of several efforts).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive import (
    SCORE_RULES,
    derive_best_record,
    derive_score,
)
from cdisc_mapper.adam.derive._keys import group_codes
from cdisc_mapper.adam.ops.base import ValueLevel, record_op
from cdisc_mapper.adam.ops.common import append_records
from cdisc_mapper.errors import MappingError
from cdisc_mapper.spec.adam import Conventions
from cdisc_mapper.spec.base import NAME_PATTERN
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs


# --------------------------------------------------------------------------- scores
class ScoreSpec(OpArgs):
    paramcd: str = Field(
        pattern=NAME_PATTERN, description="PARAMCD of the score's records (unique in the step)"
    )
    param: str = Field(min_length=1, max_length=200, description="PARAM of the score's records")
    paramn: float = Field(description="PARAMN of the score's records")
    parcat1: str | None = Field(
        default=None,
        description="PARCAT1 of the score's records (used when the records have a PARCAT1 column)",
    )
    items: list[str] = Field(
        min_length=2, description="PARAMCD of the item records whose AVAL are summed"
    )
    rule: str = Field(
        default="all_items",
        description="missing items: `all_items` (the score is missing when any item is) or "
        "`prorate` (mean of the answered items times their number)",
    )
    max_missing: int = Field(
        default=0,
        ge=0,
        description="with `prorate`, the most items that may be missing (0 with `all_items`)",
    )

    @model_validator(mode="after")
    def _rule(self) -> ScoreSpec:
        if self.rule not in SCORE_RULES:
            raise ValueError(f"unknown rule {self.rule!r}; known: {', '.join(SCORE_RULES)}")
        if self.rule == "all_items" and self.max_missing:
            raise ValueError("rule all_items allows no missing item: max_missing must be 0")
        if self.max_missing >= len(self.items):
            raise ValueError("max_missing must be less than the number of items")
        return self

    def describe(self, by: list[str]) -> str:
        rule = (
            "missing when any item is missing"
            if self.rule == "all_items"
            else f"with at most {self.max_missing} item(s) missing, the mean of the answered items "
            f"times {len(self.items)}; missing otherwise"
        )
        return (
            f"Sum of the AVAL of {', '.join(self.items)} of the same assessment "
            f"({', '.join(by)}); {rule}."
        )


class ScoresArgs(OpArgs):
    by: list[str] = Field(
        default_factory=lambda: ["USUBJID", "VISITNUM", "_DTC"],
        description="columns identifying one assessment, whose items make one score record",
    )
    carry: list[str] = Field(
        default_factory=lambda: ["VISIT"],
        description="other columns copied to the score record from the assessment's first "
        "item record",
    )
    scores: list[ScoreSpec] = Field(min_length=1, description="the scores (new parameters) to add")

    @model_validator(mode="after")
    def _unique(self) -> ScoresArgs:
        codes = [x.paramcd for x in self.scores]
        if len(codes) != len(set(codes)):
            raise ValueError("scores: paramcd values must be unique")
        return self

    def inputs(self) -> set[str]:
        return {*self.by, *self.carry, "PARAMCD", "AVAL"}


def _scores_columns(a: ScoresArgs, conventions: Conventions) -> dict[str, ColumnMeta]:
    vl: tuple[ValueLevel, ...] = tuple(
        ("PARAMCD", x.paramcd, "Derived", None, x.describe(a.by)) for x in a.scores
    )
    return {"AVAL": ColumnMeta(origin="Derived", type="Num", value_level=vl)}


def _score_rows(
    items: pd.DataFrame,
    groups: np.ndarray,
    x: ScoreSpec,
    args: ScoresArgs,
    ctx: BuildContext,
    parcat1: bool,
) -> pd.DataFrame:
    """The rows of score ``x``: one per assessment with any of its items (``groups``, the
    assessment of each item row)."""
    try:
        scores = derive_score(
            items,
            by=args.by,
            item="PARAMCD",
            value="AVAL",
            item_codes=x.items,
            rule=x.rule,
            max_missing=x.max_missing,
            groups=groups,
        )
    except ValueError as exc:
        raise MappingError(f"{ctx.dataset}: score {x.paramcd}: {exc}") from None
    rows = scores[[*args.by, "AVAL"]].copy()
    for c in args.carry:
        rows[c] = items[c].to_numpy()[scores["ROW"].to_numpy()]
    rows["PARAMCD"] = x.paramcd
    rows["PARAM"] = x.param
    rows["PARAMN"] = float(x.paramn)
    if parcat1:
        rows["PARCAT1"] = x.parcat1 or ""
    return rows


@record_op(
    "scores",
    ScoresArgs,
    _scores_columns,
    first=False,
    later=True,
    example=Example(
        spec="""records:
  - op: findings
    # ... (QS items Q1, Q2 as parameters)
  - op: scores
    by: [USUBJID, VISITNUM]
    carry: [VISIT]
    scores:
      - {paramcd: TOTAL, param: Total Score, paramn: 9, items: [Q1, Q2]}""",
        records={
            "USUBJID": ["S1", "S1", "S2"],
            "VISITNUM": [1, 1, 1],
            "VISIT": ["WEEK 1", "WEEK 1", "WEEK 1"],
            "PARAMCD": ["Q1", "Q2", "Q1"],
            "PARAM": ["Item 1", "Item 2", "Item 1"],
            "PARAMN": [1, 2, 1],
            "AVAL": [3, 4, 2],
        },
        makes={
            "USUBJID": ["S1", "S1", "S2", "S1", "S2"],
            "VISITNUM": [1, 1, 1, 1, 1],
            "PARAMCD": ["Q1", "Q2", "Q1", "TOTAL", "TOTAL"],
            "AVAL": [3, 4, 2, 7, None],
        },
        note="The step adds one TOTAL record per assessment after the earlier steps' "
        "records (S2 misses Q2: `rule: all_items` gives null).",
    ),
)
def rec_scores(frame: pd.DataFrame | None, args: ScoresArgs, ctx: BuildContext) -> pd.DataFrame:
    """Derived parameters (totals, subscores) added as new records, one per assessment
    with any of the items (ADaMIG v1.3 section 4.2): AVAL is the sum of the items' AVAL
    under the score's missing-item rule; the records have the ``by`` and ``carry`` columns
    and their parameter, other columns are blank."""
    assert frame is not None
    missing = [c for c in [*args.by, *args.carry] if c not in frame.columns]
    if missing:
        raise MappingError(f"{ctx.dataset}: scores need columns {', '.join(missing)}")
    known = set(frame["PARAMCD"].unique())
    all_items = sorted({i for x in args.scores for i in x.items})
    used = list(dict.fromkeys([*args.by, *args.carry, "PARAMCD", "AVAL"]))
    items = frame[used][frame["PARAMCD"].isin(all_items).to_numpy()]  # only the used columns
    groups = group_codes(items, args.by)
    pieces = []
    for x in args.scores:
        if not set(x.items) & known:
            raise MappingError(
                f"{ctx.dataset}: score {x.paramcd}: none of its items is in the data"
            )
        pieces.append(_score_rows(items, groups, x, args, ctx, "PARCAT1" in frame.columns))
    rows = pd.concat(pieces, ignore_index=True)
    rows["SRCDOM"] = ""
    rows["SRCVAR"] = ""
    rows["SRCSEQ"] = np.nan
    rows["DTYPE"] = ""
    return append_records(frame, rows)


# --------------------------------------------------------------------------- best of several
class BestRecordArgs(OpArgs):
    parameters: list[str] = Field(
        min_length=1, description="PARAMCD values whose observed records (DTYPE null) compete"
    )
    function: Literal["maximum", "minimum"] = Field(
        default="maximum", description="the best record has the highest or the lowest AVAL"
    )
    dtype: str = Field(
        default="MAXIMUM",
        max_length=20,
        description="DTYPE of the added records (CT DTYPE, e.g. MAXIMUM, MINIMUM)",
    )
    by: list[str] = Field(
        default_factory=lambda: ["USUBJID", "PARAMCD", "_DTC"],
        description="columns of the groups that each get one added record (e.g. the efforts "
        "of one visit)",
    )
    order_by: list[str] = Field(
        default_factory=list,
        description="columns breaking ties on AVAL: the first in their order wins, then "
        "record order",
    )
    clear: list[str] = Field(
        default_factory=list,
        description="columns blanked on the added records (e.g. [REREPNUM], the copied "
        "effort's repetition number)",
    )

    def inputs(self) -> set[str]:
        return {*self.by, *self.order_by, *self.clear, "PARAMCD", "AVAL"}


def _best_columns(a: BestRecordArgs, conventions: Conventions) -> dict[str, ColumnMeta]:
    how = "highest" if a.function == "maximum" else "lowest"
    return {
        "DTYPE": ColumnMeta(
            origin="Assigned",
            method=f"{a.dtype!r} on the record added per {', '.join(a.by)} for "
            f"{', '.join(a.parameters)}: a copy "
            f"of the record with the {how} AVAL"
            + (f" (ties: the first by {', '.join(a.order_by)})" if a.order_by else "")
            + "; null on observed records.",
            type="Char",
            codelist="DTYPE",
        ),
    }


@record_op(
    "best_record",
    BestRecordArgs,
    _best_columns,
    first=False,
    later=True,
    example=Example(
        spec="""records:
  - op: findings
    # ... (RE efforts as FVC records)
  - op: best_record
    parameters: [FVC]
    by: [USUBJID, PARAMCD, VISITNUM]""",
        records={
            "USUBJID": ["S1", "S1", "S1"],
            "PARAMCD": ["FVC", "FVC", "FVC"],
            "VISITNUM": [1, 1, 1],
            "AVAL": [3.1, 3.4, 3.2],
            "DTYPE": ["", "", ""],
        },
        makes={
            "USUBJID": ["S1", "S1", "S1", "S1"],
            "PARAMCD": ["FVC", "FVC", "FVC", "FVC"],
            "VISITNUM": [1, 1, 1, 1],
            "AVAL": [3.1, 3.4, 3.2, 3.4],
            "DTYPE": ["", "", "", "MAXIMUM"],
        },
        note="A copy of the best effort is added after the earlier steps' records, with DTYPE "
        "MAXIMUM.",
    ),
)
def rec_best_record(
    frame: pd.DataFrame | None, args: BestRecordArgs, ctx: BuildContext
) -> pd.DataFrame:
    """A DTYPE record per group (ADaMIG v1.3 section 3.3.5): a copy of the observed record
    with the best AVAL (e.g. the best FVC effort of a visit), added beside the originals."""
    assert frame is not None
    cand = frame[frame["PARAMCD"].isin(args.parameters) & frame["DTYPE"].eq("")]
    pos = derive_best_record(
        cand, by=args.by, value="AVAL", function=args.function, order_by=args.order_by
    )
    rows = cand.iloc[pos.to_numpy()].copy()
    rows["DTYPE"] = args.dtype
    for c in args.clear:
        rows[c] = np.nan if pd.api.types.is_numeric_dtype(rows[c]) else ""
    return append_records(frame, rows.reset_index(drop=True))
