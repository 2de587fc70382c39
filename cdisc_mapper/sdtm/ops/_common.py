"""What the mapping operations share: an input that is a raw column or a mapped
variable, the records conditions see (with the subject's DM values), and the record
labels their error messages name."""

from __future__ import annotations

import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.condition import Records
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.sdtm.context import ROW, SRC, OpContext, as_text
from cdisc_mapper.spec.operations import OpArgs

#: The domain whose subject-level values a domain-level condition may name as ``DM.VAR``.
SUBJECT_DOMAIN = "DM"


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
    """The input's values as text: a raw column's text as read, a variable's value as
    text (a number as written: 1, not 1.0)."""
    if args.variable is not None:
        return as_text(frame[args.variable])
    if ctx.raw is None:
        raise SpecError(
            f"{ctx.domain}.{ctx.variable}: column {args.column} is a raw column, which only "
            "a source's variables read",
            where=ctx.spec_where,
            hint="at domain level give variable: (a variable of the domain) instead",
        )
    return ctx.raw[args.column]


def input_records(frame: pd.DataFrame, args: ColumnOrVariable, ctx: OpContext) -> pd.DataFrame:
    """The records the input's values belong to, for :meth:`OpContext.data_error`: the
    raw rows for a raw column, else the records (their form and row; inside a source,
    the raw rows')."""
    return ctx.raw if args.column is not None and ctx.raw is not None else frame


# ------------------------------------------------------------------ the subject's DM values
def subject_variable(name: str) -> str | None:
    """``RFXSTDTC`` for the name ``DM.RFXSTDTC`` (the subject's DM value), else None."""
    prefix = f"{SUBJECT_DOMAIN}."
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else None


def split_subject_names(names: set[str]) -> tuple[set[str], set[tuple[str, str]]]:
    """``names`` a condition reads as (variables of the record, ``(DM, VAR)`` lookups);
    naming a DM value also reads the record's USUBJID, which joins it."""
    local = {n for n in names if subject_variable(n) is None}
    lookups = {(SUBJECT_DOMAIN, v) for n in names if (v := subject_variable(n)) is not None}
    if lookups:
        local.add("USUBJID")
        lookups.add((SUBJECT_DOMAIN, "USUBJID"))
    return local, lookups


def record_view(frame: pd.DataFrame, ctx: OpContext) -> Records:
    """The records as conditions see them: the variables, inside a source also its raw
    columns (a variable mapped earlier hides a raw column of the same name), and at
    domain level ``DM.VAR``, the subject's value of DM variable VAR (by USUBJID)."""
    view = frame if ctx.raw is None else pd.concat([frame, ctx.raw], axis=1)
    view = view.loc[:, ~view.columns.duplicated()]
    return Records(view, fallback=lambda name: subject_values(frame, ctx, name))


def subject_values(frame: pd.DataFrame, ctx: OpContext, name: str) -> pd.Series | None:
    """Each record's subject's value of DM variable VAR for ``name`` ``DM.VAR`` (missing
    for a subject without one); None when ``name`` does not name a DM value."""
    var = subject_variable(name)
    if var is None:
        return None
    if ctx.raw is not None:
        raise SpecError(
            f"{ctx.domain}.{ctx.variable}: {name} (the subject's DM value) can be read only "
            "by a variable at domain level, mapped after the sources",
            where=ctx.spec_where,
            hint="move this variable to the domain's variables:",
        )
    dm = ctx.domains.get(SUBJECT_DOMAIN)
    if dm is None or var not in dm.columns or "USUBJID" not in dm.columns:
        raise SpecError(
            f"{ctx.domain}.{ctx.variable}: {name} names a DM variable the DM spec does not map",
            where=ctx.spec_where,
        )
    table = pd.Series(dm[var].to_numpy(), index=dm["USUBJID"].astype(str).to_numpy())
    table = table[~table.index.duplicated()]
    return pd.Series(subject_key(frame).map(table).to_numpy(), index=frame.index)


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
