"""Several raw columns of a record to one value: flag columns, one per choice (a one-hot
export: ``Race_Asian``, ``Race_Caucasian``...), to the choice that is set, MULTIPLE when
several are (SDTMIG 3.4 DM assumption 6 for RACE) and the n-th of several for SUPPDM
RACE1..n; and the best of several efforts (``Subject_Liters_Trial_1..3``: the largest
FVC), for a derived record (--DRVFL)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.ops.results import NumberSettings, read_numbers
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import Example, OpArgs


class OneHotArgs(OpArgs):
    columns: dict[str, str] = Field(
        min_length=1,
        description="raw column -> the value it stands for (e.g. {Race_Asian: ASIAN, "
        "Race_Caucasian: WHITE}), in the order RACE1, RACE2... list them",
    )
    set_values: list[str] = Field(
        default=["1", "Y", "YES", "TRUE", "X"],
        description="cell values meaning the choice is made (case ignored); a blank cell, "
        "or one of `unset_values`, means it is not; any other value is an error",
    )
    unset_values: list[str] = Field(
        default=["0", "N", "NO", "FALSE"],
        description="cell values meaning the choice is not made (case ignored), besides blank",
    )
    multiple: str = Field(
        default="MULTIPLE",
        description="the value when several choices are made (RACE: MULTIPLE, SDTMIG 3.4 "
        "DM assumption 6)",
    )
    nth: int | None = Field(
        default=None,
        ge=1,
        description="give the n-th choice made (in `columns` order) of a record with "
        "several, blank otherwise: SUPPDM RACE1, RACE2... (DM assumption 6); none: the "
        "one choice made, `multiple` for several, blank for none",
    )

    @field_validator("set_values", "unset_values")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        return [x.strip().upper() for x in v]


@register(
    "one_hot",
    OneHotArgs,
    method=(
        "The value of the one flag column set among {columns}[, {multiple} when several "
        "are set][; the {nth}-th of several set, in that order]."
    ),
    origin="Collected",
    raw=True,
    example=Example(
        spec="RACE: {op: one_hot, columns: {Race_Asian: ASIAN, Race_Caucasian: WHITE}}",
        raw={"Race_Asian": ["1", "", "1", ""], "Race_Caucasian": ["", "1", "1", "0"]},
        gives=["ASIAN", "WHITE", "MULTIPLE", ""],
        note="With `nth: 2` (SUPPDM RACE2) the same rows give blank, blank, WHITE, blank.",
    ),
)
def op_one_hot(frame: pd.DataFrame, args: OneHotArgs, ctx: OpContext) -> pd.Series:
    """One value from several flag columns, one per choice: the choice whose column is
    set, ``multiple`` (MULTIPLE) when several are, blank when none (SDTMIG 3.4 DM
    assumption 6: RACE is MULTIPLE and each race goes to SUPPDM as RACE1, RACE2...;
    with ``nth`` the n-th race set, in ``columns`` order, of a subject with several). A
    cell that is neither blank nor one of ``set_values``/``unset_values`` is an error
    listing its records."""
    assert ctx.raw is not None
    raw = ctx.raw
    made = np.zeros((len(raw), len(args.columns)), dtype=bool)
    for j, column in enumerate(args.columns):
        cells = raw[column].fillna("").astype(str).str.strip().str.upper()
        odd = (cells != "") & ~cells.isin(args.set_values) & ~cells.isin(args.unset_values)
        if odd.any():
            raise ctx.data_error(
                f"raw {column}: a flag that is neither set ({', '.join(args.set_values)}) "
                f"nor unset (blank, {', '.join(args.unset_values)})",
                raw,
                odd,
                value_of=raw[column],
            )
        made[:, j] = cells.isin(args.set_values).to_numpy()
    values = np.array(list(args.columns.values()), dtype=object)
    count = made.sum(axis=1)
    out = np.full(len(raw), "", dtype=object)
    if args.nth is None:
        one = count == 1
        out[one] = values[made[one].argmax(axis=1)]
        out[count > 1] = args.multiple
    else:
        several = np.flatnonzero(count > 1)
        for row in several:
            chosen = values[made[row]]
            if len(chosen) >= args.nth:
                out[row] = chosen[args.nth - 1]
    return pd.Series(out, index=raw.index, dtype=object)


class BestOfArgs(NumberSettings):
    columns: list[str] = Field(
        min_length=2,
        description="raw columns holding the efforts' numeric results (e.g. "
        "[Subject_Liters_Trial_1, Subject_Liters_Trial_2, Subject_Liters_Trial_3])",
    )
    pick: Literal["max", "min"] = Field(
        default="max",
        description="max: the largest result (FVC: the best effort), min: the smallest",
    )


@register(
    "best_of",
    BestOfArgs,
    method="The {pick} of the results of {columns} (blank efforts ignored), as written.",
    origin="Derived",
    raw=True,
    example=Example(
        spec="REORRES: {op: best_of, columns: [Trial_1, Trial_2, Trial_3]}",
        raw={
            "Trial_1": ["3.30", "2.9", ""],
            "Trial_2": ["4.32", "", ""],
            "Trial_3": ["2.53", "3.05", ""],
        },
        gives=["4.32", "3.05", ""],
        note="Give the record REDRVFL Y (a derived record, the SDTM Findings class's "
        "--DRVFL) in a second source over the same form.",
    ),
)
def op_best_of(frame: pd.DataFrame, args: BestOfArgs, ctx: OpContext) -> pd.Series:
    """The best of several efforts of one record (``pick``: the largest, as the best FVC
    of three manoeuvres, or the smallest), as the raw text of that effort (``4.32`` stays
    ``4.32``); blank when every effort is blank. Numbers are read as ``result`` reads
    them (the source's and study's ``numbers``); a result that is not a plain number
    (``<1``, text) is an error listing its records. The record it goes on is a derived
    record: give it --DRVFL Y (the SDTM Findings class's Derived Flag, e.g. REDRVFL) and
    no --REPNUM."""
    assert ctx.raw is not None
    numbers, texts = [], []
    for column in args.columns:
        parsed = read_numbers(frame, ctx.raw[column], args, ctx, column=column)
        odd = (parsed["orres"] != "") & ~parsed["numeric"]
        if odd.any():
            raise ctx.data_error(
                f"raw {column}: an effort's result that is not a number",
                ctx.raw,
                odd,
                value_of=parsed["orres"],
            )
        numbers.append(parsed["value"].to_numpy(dtype=float))
        texts.append(parsed["orres"].to_numpy(dtype=object))
    stacked = np.vstack(numbers).T
    known = ~np.isnan(stacked)
    filler = -np.inf if args.pick == "max" else np.inf
    filled = np.where(known, stacked, filler)
    best = filled.argmax(axis=1) if args.pick == "max" else filled.argmin(axis=1)
    table = np.vstack(texts).T
    out = table[np.arange(len(table)), best]
    out = np.where(known.any(axis=1), out, "")
    return pd.Series(out, index=ctx.raw.index, dtype=object)
