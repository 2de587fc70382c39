"""Values computed by formula: a variable (``derive: compute``) and a derived parameter's
records (``records: - op: derived_parameter``), both in the formula language of
:mod:`cdisc_mapper.expression` (arithmetic on numbers and dates; never Python).

Rules implemented (ADaMIG v1.3):

* Section 4.2 (Creation of Derived Columns Versus Creation of Derived Rows): a value
  computed from variables of the same record is a new column (e.g. ADSL's AAGE,
  section 3.2, or elapsed days such as LDDTHELD), its define.xml method the formula
  itself; a value computed from other parameters of the same time point (MAP from
  SYSBP and DIABP, BMI from WEIGHT and HEIGHT) is a new row of a new parameter, its own
  PARAMCD, with DTYPE null (DTYPE marks derived rows within a parameter, section
  3.3.5), as admiral's derive_param_computed makes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.derive._keys import group_codes
from cdisc_mapper.adam.ops.base import column_op, record_op
from cdisc_mapper.adam.ops.common import append_records, column_of, where_mask
from cdisc_mapper.condition import Condition
from cdisc_mapper.errors import Location, MappingError
from cdisc_mapper.expression import (
    MAX_LENGTH,
    Formula,
    Options,
    compile_formula,
    describe,
    evaluate,
    function_notes,
    language_summary,
)
from cdisc_mapper.spec.adam import Conventions
from cdisc_mapper.spec.base import NAME_PATTERN
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs


def _checked_formula(text: str) -> str:
    compile_formula(text)  # raises ExpressionError (a ValueError) naming the column
    return text


def _options(conventions: Conventions | None) -> Options | None:
    return None if conventions is None else Options(month_days=conventions.month_days)


def _show(value: Any) -> str:
    """A key value in a message (whole numbers without ``.0``, blanks as ``""``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return '""' if value == "" else str(value)


def _are(names: list[str]) -> str:
    return f"{', '.join(names)} {'is' if len(names) == 1 else 'are'}"


# --------------------------------------------------------------------------- compute
class ComputeArgs(OpArgs):
    formula: str = Field(
        min_length=1,
        max_length=MAX_LENGTH,
        description="the value of each record, from the record's variables (ADSL variables "
        "too, in other datasets), e.g. `DTHDT - TRTEDT` or `whole_years(BRTHDT, RFICDT)`. "
        "The formula language: " + language_summary() + ".",
    )
    date: bool = Field(
        default=False,
        description="`true`: the result is a date (e.g. `TRTSDT + 27`), a SAS date number "
        "written with a date format; `false`: a number",
    )

    @field_validator("formula")
    @classmethod
    def _readable(cls, text: str) -> str:
        return _checked_formula(text)

    @property
    def compiled(self) -> Formula:
        return compile_formula(self.formula)

    def inputs(self) -> set[str]:
        return set(self.compiled.names)


def _compute_meta(a: ComputeArgs, c: BuildContext | None) -> ColumnMeta:
    options = _options(c.specs.conventions if c is not None else None)
    return ColumnMeta(
        origin="Derived", method=describe(a.compiled, options), type="Num", date=a.date
    )


def numeric_values(frame: pd.DataFrame, ctx: BuildContext, name: str) -> np.ndarray:
    """The numeric values of a variable used by a formula (its records' or ADSL's); a text
    variable is an error."""
    values = column_of(frame, ctx, name)
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        sample = next((v for v in values if isinstance(v, str) and v), "")
        raise MappingError(
            f"{ctx.dataset}: the formula uses {name}, which is text"
            + (f" (e.g. {sample!r})" if sample else "")
            + "; a formula computes with numbers and dates only"
        )
    return values.to_numpy(dtype="float64")


@column_op(
    "compute",
    ComputeArgs,
    _compute_meta,
    example=Example(
        spec='LDDTHELD: {derive: compute, formula: "DTHDT - TRTEDT"}',
        records={"TRTEDT": [19809, 19809, None], "DTHDT": [19904, None, 19904]},
        gives=[95, None, None],
        note="Dates are SAS day numbers (19809 is 2014-03-27, 19904 is 2014-06-30): their "
        "difference is a number of days; a missing date gives a missing result.",
    ),
)
def op_compute(frame: pd.DataFrame, args: ComputeArgs, ctx: BuildContext) -> pd.Series:
    """A number (or date) computed by a formula from the record's variables, e.g.
    LDDTHELD = DTHDT - TRTEDT, AAGE = whole_years(BRTHDT, RFICDT), a ratio or a
    unit conversion (a derived column, ADaMIG v1.3 section 4.2); missing where a value
    it uses is missing or the result has no real value (a division by 0)."""
    formula = args.compiled
    result = evaluate(
        formula.tree,
        lambda name: numeric_values(frame, ctx, name),
        len(frame),
        _options(ctx.conventions),
    )
    return pd.Series(result, index=frame.index)


# --------------------------------------------------------------------------- derived parameter
class DerivedParameterArgs(OpArgs):
    paramcd: str = Field(pattern=NAME_PATTERN, description="PARAMCD of the new records")
    param: str = Field(min_length=1, max_length=200, description="PARAM of the new records")
    paramn: float = Field(description="PARAMN of the new records")
    parcat1: str | None = Field(
        default=None,
        description="PARCAT1 of the new records (used when the records have a PARCAT1 column)",
    )
    formula: str = Field(
        min_length=1,
        max_length=MAX_LENGTH,
        description="the new AVAL, in the formula language of `derive: compute`, whose names "
        "are PARAMCD values standing for their records' AVAL, e.g. `(SYSBP + 2 * DIABP) / 3`",
    )
    by: list[str] = Field(
        default_factory=lambda: ["VISITNUM", "_DTC"],
        description="record columns that, with USUBJID, identify one time point: each "
        "subject and time point where every parameter of the formula has a value gets one "
        "record, with these columns copied (record steps run before the variables: name "
        "record columns such as VISITNUM, _DTC, not ADT)",
    )
    constant_parameters: list[str] = Field(
        default_factory=list,
        description="parameters of the formula measured once per `constant_by` group (e.g. "
        "[HEIGHT] for BMI): their value is used at every time point",
    )
    constant_by: list[str] = Field(
        default_factory=lambda: ["USUBJID"],
        description="columns identifying a constant parameter's record (USUBJID and `by` "
        "columns only)",
    )
    where: Condition | None = Field(
        default=None,
        description="condition choosing the records the formula reads (e.g. observed "
        "records only: DTYPE null); none: all records of its parameters",
    )
    keep_missing: bool = Field(
        default=False,
        description="`true`: a record is also made when the formula has no value (a "
        "division by 0), with AVAL missing; `false`: no record then (admiral's keep_nas)",
    )

    @field_validator("formula")
    @classmethod
    def _readable(cls, text: str) -> str:
        return _checked_formula(text)

    @property
    def compiled(self) -> Formula:
        return compile_formula(self.formula)

    @property
    def group(self) -> list[str]:
        """USUBJID and the ``by`` columns."""
        return ["USUBJID", *[b for b in self.by if b != "USUBJID"]]

    @property
    def measured(self) -> list[str]:
        """The formula's parameters measured at each time point."""
        return [n for n in self.compiled.names if n not in self.constant_parameters]

    @model_validator(mode="after")
    def _consistent(self) -> DerivedParameterArgs:
        names = self.compiled.names
        if self.paramcd in names:
            raise ValueError(f"formula: {self.paramcd} cannot be computed from itself")
        stray = [c for c in self.constant_parameters if c not in names]
        if stray:
            raise ValueError(f"constant_parameters: {', '.join(stray)} not in the formula")
        if not self.measured:
            raise ValueError(
                "formula: it names only constant parameters; at least one must be measured "
                "at the time points"
            )
        bad = [b for b in self.by if b in ("PARAMCD", "PARAM", "PARAMN", "AVAL")]
        if bad:
            raise ValueError(f"by: {', '.join(bad)} cannot group the parameters' records")
        outside = [c for c in self.constant_by if c not in self.group]
        if outside:
            raise ValueError(
                f"constant_by: {', '.join(outside)} is not USUBJID or one of the by columns"
            )
        return self

    def inputs(self) -> set[str]:
        out = {*self.group, *self.constant_by, "PARAMCD", "AVAL"}
        return out | (self.where.variables() if self.where else set())

    def parameters_read(self) -> set[str]:
        return set(self.compiled.names)

    def describe(self, conventions: Conventions | None) -> str:
        f = self.compiled
        text = (
            f"{f.canonical}, where {_are(self.measured)} the AVAL of the parameter's record "
            f"with the same {', '.join(self.group)}"
        )
        if self.constant_parameters:
            text += (
                f" and {_are(self.constant_parameters)} the AVAL of the parameter's record "
                f"with the same {', '.join(self.constant_by)}"
            )
        notes = function_notes(f, _options(conventions))
        if notes:
            text += "; " + "; ".join(notes)
        return (
            text
            + "; one record per "
            + ", ".join(self.group)
            + " where each has a value"
            + ("" if self.keep_missing else " and the formula has a value")
            + "."
        )


def _derived_parameter_columns(
    a: DerivedParameterArgs, conventions: Conventions
) -> dict[str, ColumnMeta]:
    method = a.describe(conventions)
    return {
        "AVAL": ColumnMeta(
            origin="Derived",
            type="Num",
            value_level=(("PARAMCD", a.paramcd, "Derived", None, method),),
        )
    }


def _step_where(ctx: BuildContext, args: OpArgs) -> Location | str | None:
    """The spec line of the record step with these arguments (None when not from a spec)."""
    ds = ctx.specs.datasets.get(ctx.dataset)
    for i in range(len(ds.records) if ds is not None else 0):
        if ctx.specs.record_args.get((ctx.dataset, i)) is args:
            return ctx.specs.where(ctx.dataset, ("records", i))
    return None


def _error(
    ctx: BuildContext, args: DerivedParameterArgs, message: str, hint: str = ""
) -> MappingError:
    return MappingError(
        f"{ctx.dataset}: derived parameter {args.paramcd}: {message}",
        where=_step_where(ctx, args),
        hint=hint,
    )


def _check_one_per_group(
    rows: pd.DataFrame,
    groups: np.ndarray,
    keys: list[str],
    param: str,
    ctx: BuildContext,
    args: DerivedParameterArgs,
) -> None:
    """A parameter has at most one record per group; otherwise an error listing them."""
    dup = pd.Series(groups).duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    several = rows.loc[dup, keys].drop_duplicates()
    listed = "; ".join(
        ", ".join(f"{k} {_show(v)}" for k, v in zip(keys, row, strict=True))
        for row in several.head(5).itertuples(index=False)
    )
    raise _error(
        ctx,
        args,
        f"{param} has several records in {len(several)} group(s): {listed}",
        hint="add to 'by' the columns that tell them apart, or choose records with 'where'",
    )


def _constant_values(
    cand: pd.DataFrame,
    table: pd.DataFrame,
    name: str,
    ctx: BuildContext,
    args: DerivedParameterArgs,
) -> np.ndarray:
    """The AVAL of constant parameter ``name`` for each group of ``table``."""
    keys = list(args.constant_by)
    rows = cand[(cand["PARAMCD"] == name).to_numpy()]
    _check_one_per_group(rows, group_codes(rows, keys), keys, name, ctx, args)
    right = rows[[*keys, "AVAL"]].rename(columns={"AVAL": "__value"})
    merged = table[keys].merge(right, on=keys, how="left", sort=False)
    return merged["__value"].to_numpy(dtype="float64")


@record_op(
    "derived_parameter",
    DerivedParameterArgs,
    _derived_parameter_columns,
    first=False,
    later=True,
    example=Example(
        spec="""records:
  - op: findings
    # ... (VS records as SYSBP and DIABP)
  - op: derived_parameter
    paramcd: MAP
    param: "Mean Arterial Pressure (mmHg)"
    paramn: 8
    formula: "(SYSBP + 2 * DIABP) / 3"
    by: [VISITNUM, _DTC]""",
        records={
            "USUBJID": ["S1", "S1", "S1", "S1", "S2"],
            "VISITNUM": [1, 1, 2, 2, 1],
            "_DTC": ["2020-01-01", "2020-01-01", "2020-02-01", "2020-02-01", "2020-01-10"],
            "PARAMCD": ["SYSBP", "DIABP", "SYSBP", "DIABP", "SYSBP"],
            "PARAMN": [1, 2, 1, 2, 1],
            "AVAL": [120, 81, 131, None, 118],
        },
        makes={
            "USUBJID": ["S1", "S1", "S1", "S1", "S2", "S1"],
            "VISITNUM": [1, 1, 2, 2, 1, 1],
            "PARAMCD": ["SYSBP", "DIABP", "SYSBP", "DIABP", "SYSBP", "MAP"],
            "PARAMN": [1, 2, 1, 2, 1, 8],
            "AVAL": [120, 81, 131, None, 118, 94],
        },
        note="One MAP record is added: S1's visit 2 DIABP has no value and S2 has no DIABP.",
    ),
)
def rec_derived_parameter(
    frame: pd.DataFrame | None, args: DerivedParameterArgs, ctx: BuildContext
) -> pd.DataFrame:
    """A new parameter computed by formula from other parameters at the same time point
    (ADaMIG v1.3 section 4.2; admiral's derive_param_computed): one record per subject and
    ``by`` group where every parameter of the formula has a value, with the ``by`` columns,
    PARAMCD, PARAM, PARAMN and AVAL (DTYPE null, other columns blank), added to the
    earlier steps' records; a parameter with several records in one group is an error."""
    assert frame is not None
    needed = [*args.group, *args.constant_by, "PARAMCD", "AVAL"]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        made = ", ".join(c for c in frame.columns if not c.startswith("__"))
        raise _error(
            ctx,
            args,
            f"the records have no column {', '.join(missing)} (they have: {made})",
            hint="record steps run before the variables: group by record columns",
        )
    cand = frame[frame["PARAMCD"].isin(args.compiled.names).to_numpy()]
    mask = where_mask(cand, ctx, args.where)
    if mask is not None:
        cand = cand[mask.to_numpy(dtype=bool)]
    rows = cand[cand["PARAMCD"].isin(args.measured).to_numpy()]
    groups = group_codes(rows, args.group)
    first = np.unique(groups, return_index=True)[1]
    table = rows.iloc[first][args.group].reset_index(drop=True)
    values: dict[str, np.ndarray] = {}
    aval = rows["AVAL"].to_numpy(dtype="float64")
    codes = rows["PARAMCD"].to_numpy()
    for name in args.measured:
        sel = codes == name
        _check_one_per_group(rows[sel], groups[sel], args.group, name, ctx, args)
        values[name] = np.full(len(table), np.nan)
        values[name][groups[sel]] = aval[sel]
    for name in args.constant_parameters:
        values[name] = _constant_values(cand, table, name, ctx, args)
    have = np.logical_and.reduce([~np.isnan(v) for v in values.values()])
    result = evaluate(args.compiled.tree, values.__getitem__, len(table), _options(ctx.conventions))
    keep = have & (args.keep_missing | ~np.isnan(result))
    out = table[keep].reset_index(drop=True)
    out["PARAMCD"] = args.paramcd
    out["PARAM"] = args.param
    out["PARAMN"] = float(args.paramn)
    if "PARCAT1" in frame.columns:
        out["PARCAT1"] = args.parcat1 or ""
    out["AVAL"] = result[keep]
    return append_records(frame, out)
