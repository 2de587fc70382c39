"""Helpers shared by the derivation families.

A derivation reads variables of the dataset being built; a variable it does not have is
taken from ADSL for the row's subject (ADSL variables may be used in any dataset). The
same holds for the variables a condition (``where``, ``when``) names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.storage import is_arrow_text
from cdisc_mapper.condition import Condition, Records, evaluate
from cdisc_mapper.errors import MappingError


def reference_text(ctx: BuildContext | None) -> str:
    """The conventions' analysis reference date (for method texts; TRTSDT, the default,
    when only the specs' arguments are known)."""
    return ctx.specs.conventions.reference_date if ctx is not None else "TRTSDT"


def adsl_column(frame: pd.DataFrame, ctx: BuildContext, name: str) -> pd.Series | None:
    """The ADSL variable ``name`` on the rows of ``frame`` (None when there is none)."""
    if ctx.dataset != "ADSL" and "ADSL" in ctx.datasets and name in ctx.datasets["ADSL"].columns:
        return ctx.to_rows(frame, ctx.adsl(name))
    return None


def column_of(frame: pd.DataFrame, ctx: BuildContext, name: str) -> pd.Series:
    """A column of the frame, or (when absent) the ADSL variable of the row's subject."""
    if name in frame.columns:
        return frame[name]
    found = adsl_column(frame, ctx, name)
    if found is None:
        raise MappingError(f"{ctx.dataset}: variable {name} is needed but not derived yet")
    return found


def records_of(frame: pd.DataFrame, ctx: BuildContext) -> Records:
    """The frame as conditions see it: its columns, and ADSL variables on its rows."""
    return Records(frame, fallback=lambda name: adsl_column(frame, ctx, name))


def where_mask(frame: pd.DataFrame, ctx: BuildContext, where: Condition | None) -> pd.Series | None:
    """Where ``where`` holds on the rows of ``frame`` (None when there is no condition)."""
    return None if where is None else evaluate(where, records_of(frame, ctx))


def append_records(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``rows`` added below (the record builders that add records): columns
    the new rows lack are blank (numbers NaN, text ``""``), a missing text value is ``""``."""
    rows = rows.copy()
    for c in frame.columns:
        if c not in rows.columns:
            rows[c] = np.nan if pd.api.types.is_numeric_dtype(frame[c]) else ""
    rows = rows[list(frame.columns)]
    for c in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[c]):
            continue
        if is_arrow_text(rows[c]):
            rows[c] = rows[c].fillna("")  # stays Arrow text
        else:
            col = rows[c].to_numpy(dtype=object)
            miss = pd.isna(col)
            if miss.any():
                col = col.copy()
                col[miss] = ""
            rows[c] = col
    return pd.concat([frame, rows], ignore_index=True)
