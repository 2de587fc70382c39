"""What the mapping operations share: an input that is a raw column or a mapped
variable, and the record labels their error messages name."""

from __future__ import annotations

import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm.context import ROW, SRC, OpContext, as_text
from cdisc_mapper.spec.operations import OpArgs


class ColumnOrVariable(OpArgs):
    """An input that is a raw column (inside a source) or a mapped variable."""

    column: str | None = Field(
        default=None,
        description="raw column of the source's form to read (only inside a source's "
        "`variables`); give either `column` or `variable`",
    )
    variable: str | None = Field(
        default=None,
        description="variable of the same domain, mapped before this one, to read (any "
        "level); give either `column` or `variable`",
    )

    @model_validator(mode="after")
    def _one(self) -> ColumnOrVariable:
        if (self.column is None) == (self.variable is None):
            raise ValueError("give exactly one of column (raw) or variable (mapped)")
        return self

    def inputs(self) -> set[str]:
        return {self.variable} if self.variable else set()


def input_values(frame: pd.DataFrame, args: ColumnOrVariable, ctx: OpContext) -> pd.Series:
    if args.variable is not None:
        return as_text(frame[args.variable])  # a number as written: 1, not 1.0
    assert ctx.raw is not None, "raw column used outside a source"
    return ctx.raw[args.column]


def with_file(exc: MappingError, ctx: OpContext, column: str) -> MappingError:
    src = ""
    if ctx.raw is not None and "_SRC" in ctx.raw.columns and len(ctx.raw):
        src = str(ctx.raw["_SRC"].iloc[0])
    spec = f" [spec {ctx.spec_where}]" if ctx.spec_where else ""
    return type(exc)(f"{src}, column {column} (rows are file rows): {exc}{spec}")


def record_labels(frame: pd.DataFrame) -> pd.Series:
    """``file:row`` of each record, for error messages at domain level."""
    if SRC in frame.columns and ROW in frame.columns:
        return frame[SRC].astype(str) + ":" + frame[ROW].astype(str)
    return pd.Series(frame.index.astype(str), index=frame.index)


def by_record(frame: pd.DataFrame, series: pd.Series) -> pd.Series:
    """``series`` (on the records' index) indexed by each record's ``file:row``: the
    derivation functions list offending rows by index label, so that their errors then
    name the records."""
    return series.set_axis(record_labels(frame).to_numpy())


def in_variable(exc: MappingError, ctx: OpContext) -> MappingError:
    """``exc``, raised on :func:`by_record` input, naming the variable being derived."""
    return type(exc)(f"{ctx.domain}.{ctx.variable}: {exc}", where=ctx.spec_where)


def subject_key(frame: pd.DataFrame) -> pd.Series:
    return frame["USUBJID"].astype(str)
