"""Record builders that add DTYPE records summarising or carrying forward a BDS
dataset's records: ``summary_record`` (admiral ``derive_summary_records`` and
``derive_extreme_records``: AVERAGE, LOV, MAXIMUM, MINIMUM...) and ``locf_record``
(admiral ``derive_locf_records``: LOCF).

Rules implemented (ADaMIG v1.3, see :mod:`cdisc_mapper.adam.derive.summary_records`):

* Section 3.3.6 (Analysis Descriptor Variables), DTYPE: a record derived within a
  parameter from other records of it (AVERAGE, LOV, LOCF, WOCF, MAXIMUM, MINIMUM are
  CDISC DTYPE terms); observed records have DTYPE null.
* Section 4.2 (Creation of Derived Rows): a value computed from several records is a new
  row, never a changed one.

Both may run after some of the dataset's variables (``after:``, see
:class:`~cdisc_mapper.spec.adam.RecordStep`), so that ``where`` can read e.g. ANL01FL.
The new records hold the ``by`` values, the summarised or carried value, DTYPE and the
``set`` values; every other column is blank (``keep``/``carry`` name columns copied from
the chosen record).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive.summary_records import derive_locf, derive_summary
from cdisc_mapper.adam.ops.base import record_op
from cdisc_mapper.adam.ops.common import append_records, records_of
from cdisc_mapper.condition import Condition, evaluate
from cdisc_mapper.condition import describe as describe_condition
from cdisc_mapper.errors import MappingError
from cdisc_mapper.spec.adam import Conventions
from cdisc_mapper.spec.base import NAME_PATTERN
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs

FUNCTION_TEXT = {
    "mean": "mean",
    "median": "median",
    "min": "minimum",
    "max": "maximum",
    "sum": "sum",
    "count": "number",
    "first": "first",
    "last": "last",
}
DTYPE_TEXT = (
    "DTYPE of the added records: a CDISC DTYPE term (AVERAGE, LOV, LOCF, WOCF, MAXIMUM, "
    "MINIMUM...) or a sponsor term"
)
DTYPE_PATTERN = r"^[A-Z][A-Z0-9_]*$"


class _DerivedRecordArgs(OpArgs):
    """Arguments shared by the DTYPE record builders."""

    value: str = Field(
        default="AVAL",
        pattern=NAME_PATTERN,
        description="numeric variable summarised or carried (records where it is missing "
        "are never used)",
    )
    where: Condition | None = Field(
        default=None,
        description="condition choosing the records used (e.g. ANL01FL = Y and DTYPE null); "
        "it may read variables derived before the step (see `after`) and ADSL variables; "
        "none: every record",
    )
    set_values: dict[str, str | float] = Field(
        default_factory=dict,
        alias="set",
        description="columns given a constant value on the added records (e.g. {AVISIT: "
        "END OF TREATMENT, AVISITN: 99, ATPT: ''}); they must exist on the records",
    )

    def _columns(self) -> set[str]:
        return {self.value, *self.set_values} | (self.where.variables() if self.where else set())


def _chosen(frame: pd.DataFrame, args: _DerivedRecordArgs, ctx: BuildContext) -> pd.DataFrame:
    """The records ``where`` chooses (all when there is none); an absent column is an error."""
    needed = sorted(args.inputs() - (args.where.variables() if args.where else set()))
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise MappingError(
            f"{ctx.dataset}: the records have no column {', '.join(missing)} when the DTYPE "
            "records are added; derive it before the step (after: ...)"
        )
    if args.where is None:
        return frame
    return frame[evaluate(args.where, records_of(frame, ctx)).to_numpy()]


def _append(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``rows`` added below (:func:`append_records`); DTYPE is made (blank
    on the old records) when the frame has none."""
    return append_records(frame if "DTYPE" in frame.columns else frame.assign(DTYPE=""), rows)


def _new_rows(
    source: pd.DataFrame, rows: np.ndarray, copy: list[str], values: dict[str, Any]
) -> pd.DataFrame:
    """Records of ``copy`` columns taken from ``source``'s ``rows`` (positions) with
    ``values`` (a constant or one value per record) set."""
    out = source.iloc[rows][copy].reset_index(drop=True)
    for col, val in values.items():
        out[col] = val if np.ndim(val) == 0 else np.asarray(val)
    return out


def _dtype_meta(dtype: str, method: str) -> dict[str, ColumnMeta]:
    """define.xml: DTYPE's value-level entry for ``dtype`` (its where clause DTYPE =
    ``dtype``), whose method says how the records and their value are derived."""
    return {
        "DTYPE": ColumnMeta(
            origin="Assigned",
            type="Char",
            codelist="DTYPE",
            method=method,
            value_level=(("DTYPE", dtype, "Assigned", None, method),),
        )
    }


def _set_text(values: dict[str, str | float]) -> str:
    return "; ".join(
        f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v:g}" for k, v in values.items()
    )


# --------------------------------------------------------------------------- summary
class SummaryRecordArgs(_DerivedRecordArgs):
    dtype: str = Field(max_length=20, pattern=DTYPE_PATTERN, description=DTYPE_TEXT)
    by: list[str] = Field(
        min_length=1,
        description="variables of the groups that each get one record, copied to it (e.g. "
        "[USUBJID, PARAMCD, AVISITN, AVISIT, ADT]); other columns are blank unless `set` or "
        "`carry` gives them",
    )
    function: Literal["mean", "median", "min", "max", "sum", "count", "first", "last"] = Field(
        description="the added record's value: mean, median, min, max, sum or count (of the "
        "non-missing values) of the group's records, or the value of its first or last "
        "record by `order_by`"
    )
    order_by: list[str] = Field(
        default_factory=list,
        description="with first/last: the order of the group's records (ties: record order), "
        "e.g. [ADT, AVAL]",
    )
    carry: list[str] = Field(
        default_factory=list,
        description="with first/last: more columns copied from the chosen record (e.g. "
        "[ADT, ADY, VISITNUM]), as admiral's derive_extreme_records copies the record",
    )

    @model_validator(mode="after")
    def _combinations(self) -> SummaryRecordArgs:
        picks = self.function in ("first", "last")
        if picks and not self.order_by:
            raise ValueError(
                f"function {self.function} needs order_by (which record is {self.function})"
            )
        if not picks and (self.order_by or self.carry):
            raise ValueError(f"order_by and carry are for first/last, not {self.function}")
        for name, cols in (("by", self.by), ("carry", self.carry), ("set", list(self.set_values))):
            if self.value in cols or "DTYPE" in cols:
                raise ValueError(f"{name} names {self.value} or DTYPE, which the step sets")
        overlap = (set(self.by) & set(self.set_values)) | (set(self.carry) & set(self.by))
        if overlap:
            raise ValueError(f"{', '.join(sorted(overlap))}: given twice (by, carry, set)")
        return self

    def inputs(self) -> set[str]:
        return {*self.by, *self.order_by, *self.carry} | self._columns()

    def describe(self) -> str:
        what = (
            f"the {self.value} of the {self.function} record by {', '.join(self.order_by)}"
            if self.function in ("first", "last")
            else f"the {FUNCTION_TEXT[self.function]} of the non-missing {self.value}"
        )
        where = f" where {describe_condition(self.where)}" if self.where else ""
        sets = f"; {_set_text(self.set_values)}" if self.set_values else ""
        return (
            f"One record per {', '.join(self.by)} of the records{where}: {self.value} is "
            f"{what} of those records{sets}; other variables as derived for the dataset."
        )


def _summary_columns(a: SummaryRecordArgs, conventions: Conventions) -> dict[str, ColumnMeta]:
    return _dtype_meta(a.dtype, f"{a.dtype!r}: " + a.describe())


@record_op(
    "summary_record",
    SummaryRecordArgs,
    _summary_columns,
    first=False,
    later=True,
    example=Example(
        spec="""records:
  - op: findings
    # ... (VS records as SYSBP, with AVISITN derived before this step)
  - op: summary_record
    after: AVISITN
    dtype: AVERAGE
    function: mean
    by: [USUBJID, PARAMCD, AVISITN]
    set: {ATPT: ""}""",
        records={
            "USUBJID": ["S1", "S1", "S1"],
            "PARAMCD": ["SYSBP", "SYSBP", "SYSBP"],
            "AVISITN": [1, 1, 1],
            "ATPT": ["LYING", "STANDING 1", "STANDING 3"],
            "AVAL": [120, 126, 129],
            "DTYPE": ["", "", ""],
        },
        makes={
            "USUBJID": ["S1", "S1", "S1", "S1"],
            "PARAMCD": ["SYSBP", "SYSBP", "SYSBP", "SYSBP"],
            "AVISITN": [1, 1, 1, 1],
            "ATPT": ["LYING", "STANDING 1", "STANDING 3", ""],
            "AVAL": [120, 126, 129, 125],
            "DTYPE": ["", "", "", "AVERAGE"],
        },
        note="The mean of the visit's time points is added after the earlier records, with "
        "DTYPE AVERAGE and ATPT blank.",
    ),
)
def rec_summary_record(
    frame: pd.DataFrame | None, args: SummaryRecordArgs, ctx: BuildContext
) -> pd.DataFrame:
    """DTYPE records summarising groups of records (ADaMIG v1.3 section 3.3.6; admiral
    ``derive_summary_records``, ``derive_extreme_records``): one per ``by`` group of the
    records ``where`` chooses that has a non-missing value, holding the ``by`` values,
    the mean, median, minimum, maximum, sum or count of the group's values or the value of
    its first/last record (with its ``carry`` columns), DTYPE and the ``set`` values."""
    assert frame is not None
    chosen = _chosen(frame, args, ctx)
    found = derive_summary(
        chosen, by=args.by, value=args.value, function=args.function, order_by=args.order_by
    )
    values: dict[str, Any] = {args.value: found["VALUE"].to_numpy(), "DTYPE": args.dtype}
    rows = _new_rows(
        chosen, found["ROW"].to_numpy(), [*args.by, *args.carry], {**values, **args.set_values}
    )
    return _append(frame, rows)


# --------------------------------------------------------------------------- LOCF
class ExpectedVisit(OpArgs):
    avisitn: float = Field(description="the expected visit's AVISITN")
    avisit: str = Field(min_length=1, max_length=200, description="the expected visit's AVISIT")


class LocfRecordArgs(_DerivedRecordArgs):
    dtype: str = Field(default="LOCF", max_length=20, pattern=DTYPE_PATTERN, description=DTYPE_TEXT)
    by: list[str] = Field(
        default_factory=lambda: ["USUBJID", "PARAMCD"],
        description="variables of the groups (subject and parameter) whose missing visits "
        "are filled, copied to the added records",
    )
    windows: str | None = Field(
        default=None,
        description="name of a list of analysis windows in the conventions' `windows` whose "
        "AVISITN/AVISIT are the expected visits (or give `visits`)",
    )
    visits: list[ExpectedVisit] = Field(
        default_factory=list,
        description="the expected visits, e.g. [{avisitn: 2, avisit: WEEK 2}] (or give `windows`)",
    )
    visit: str = Field(
        default="AVISITN",
        pattern=NAME_PATTERN,
        description="numeric variable of the analysis visit; visits are in its order",
    )
    visit_name: str | None = Field(
        default="AVISIT",
        pattern=NAME_PATTERN,
        description="variable given the expected visit's name on the added records; none: not set",
    )
    order_by: list[str] = Field(
        default_factory=list,
        description="within one visit, the order of its records: the last is carried "
        "(ties: record order), e.g. [ADT]",
    )
    keep: list[str] = Field(
        default_factory=list,
        description="more columns copied from the record carried (e.g. [PARAM, PARAMN]); "
        "other columns are blank unless `set` gives them",
    )

    @model_validator(mode="after")
    def _visits(self) -> LocfRecordArgs:
        if (self.windows is None) == (not self.visits):
            raise ValueError("give the expected visits as either `windows` or `visits`")
        given = [*self.by, *self.keep, self.visit, self.visit_name, *self.set_values]
        named = [c for c in given if c]
        if len(named) != len(set(named)) or self.value in named or "DTYPE" in named:
            raise ValueError(
                "by, keep, visit, visit_name and set must name different columns, "
                f"none of them {self.value} or DTYPE"
            )
        return self

    def inputs(self) -> set[str]:
        cols = {*self.by, *self.order_by, *self.keep, self.visit} | self._columns()
        return cols | ({self.visit_name} if self.visit_name else set())

    def conventions_used(self) -> set[tuple[str, str | int]]:
        return {("window", self.windows)} if self.windows else set()

    def expected(self, conventions: Conventions) -> list[tuple[float, str]]:
        """(AVISITN, AVISIT) of every expected visit."""
        if self.windows is not None:
            return [(w.avisitn, w.avisit) for w in conventions.windows.get(self.windows, [])]
        return [(v.avisitn, v.avisit) for v in self.visits]


def _locf_columns(a: LocfRecordArgs, conventions: Conventions) -> dict[str, ColumnMeta]:
    visits = ", ".join(f"{n:g} {name}" for n, name in a.expected(conventions))
    where = f" of the records where {describe_condition(a.where)}" if a.where else ""
    sets = f"; {_set_text(a.set_values)}" if a.set_values else ""
    method = (
        f"{a.dtype!r}: last observation carried forward. For each {', '.join(a.by)} and each "
        f"expected {a.visit} ({visits}) with no non-missing {a.value}{where}, a record with "
        f"the {a.value} of the last such record at an earlier {a.visit}"
        + (f" (last by {', '.join(a.order_by)})" if a.order_by else "")
        + f"{sets}; none before the first observed value."
    )
    return _dtype_meta(a.dtype, method)


@record_op(
    "locf_record",
    LocfRecordArgs,
    _locf_columns,
    first=False,
    later=True,
    example=Example(
        spec="""records:
  - op: findings
    # ... (VS records as DIABP, with AVISITN and AVISIT derived before this step)
  - op: locf_record
    after: [AVISITN, AVISIT]
    by: [USUBJID, PARAMCD]
    visits:
      - {avisitn: 0, avisit: BASELINE}
      - {avisitn: 2, avisit: WEEK 2}
      - {avisitn: 4, avisit: WEEK 4}""",
        records={
            "USUBJID": ["S1", "S1"],
            "PARAMCD": ["DIABP", "DIABP"],
            "AVISITN": [0, 2],
            "AVISIT": ["BASELINE", "WEEK 2"],
            "AVAL": [79, 80],
            "DTYPE": ["", ""],
        },
        makes={
            "USUBJID": ["S1", "S1", "S1"],
            "PARAMCD": ["DIABP", "DIABP", "DIABP"],
            "AVISITN": [0, 2, 4],
            "AVISIT": ["BASELINE", "WEEK 2", "WEEK 4"],
            "AVAL": [79, 80, 80],
            "DTYPE": ["", "", "LOCF"],
        },
        note="WEEK 4 has no value: a record carrying WEEK 2's is added, DTYPE LOCF.",
    ),
)
def rec_locf_record(
    frame: pd.DataFrame | None, args: LocfRecordArgs, ctx: BuildContext
) -> pd.DataFrame:
    """LOCF records (ADaMIG v1.3 section 3.3.6, DTYPE = LOCF; admiral
    ``derive_locf_records``): for each ``by`` group and each expected analysis visit at
    which the records ``where`` chooses have no non-missing value, a record carrying the
    value of the group's last record at an earlier visit, with the ``by`` and ``keep``
    values, the visit's AVISITN/AVISIT, DTYPE and the ``set`` values."""
    assert frame is not None
    chosen = _chosen(frame, args, ctx)
    expected = args.expected(ctx.specs.conventions)
    found = derive_locf(
        chosen,
        by=args.by,
        visit=args.visit,
        value=args.value,
        expected=[n for n, _ in expected],
        order_by=args.order_by,
    )
    pos = found["ROW"].to_numpy()
    values: dict[str, Any] = {
        args.value: chosen[args.value].to_numpy(dtype="float64")[pos],
        args.visit: found["VISIT"].to_numpy(),
        "DTYPE": args.dtype,
    }
    if args.visit_name:
        names = dict(expected)
        values[args.visit_name] = np.array([names[v] for v in values[args.visit]], dtype=object)
    rows = _new_rows(chosen, pos, [*args.by, *args.keep], {**values, **args.set_values})
    return _append(frame, rows)
