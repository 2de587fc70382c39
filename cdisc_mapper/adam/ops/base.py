"""The registries of ADaM derivations (column ops) and record builders (record ops).

A spec names a derivation for each variable (``derive: baseline_flag``) and record builders
for the rows (``records: [{op: findings, ...}]``). Each name maps to a small adapter,
registered here with a pydantic model of its arguments, that calls the pure functions of
:mod:`cdisc_mapper.adam.derive`. The argument models also declare what an operation reads
(so that a spec is checked before any data is read, and datasets are built in dependency
order) and describe the derivation for define.xml.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from cdisc_mapper.adam.common import BuildState, ColumnMeta, Origin, is_adam, split_source

__all__ = [
    "COLUMN_OPS",
    "RECORD_OPS",
    "BuildState",
    "ColumnMeta",
    "ColumnOp",
    "OpArgs",
    "Origin",
    "RecordOp",
    "column_op",
    "is_adam",
    "record_op",
    "split_source",
]


class OpArgs(BaseModel):
    """Base of every operation's argument model (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def refs(self) -> set[str]:
        """Variables of the dataset being built that must exist before this runs."""
        return set()

    def lookups(self) -> set[tuple[str, str]]:
        """(SDTM domain or ADaM dataset, variable) pairs read from other datasets."""
        return set()

    def periods_used(self) -> set[int]:
        """Periods of the conventions this operation names."""
        return set()

    def windows_used(self) -> set[str]:
        """Window sets of the conventions this operation names."""
        return set()


@dataclass(frozen=True)
class ColumnOp:
    name: str
    fn: Callable[[pd.DataFrame, Any, Any], pd.Series]
    args_model: type[OpArgs]
    meta: Callable[[Any, Any], ColumnMeta]
    doc: str = ""


@dataclass(frozen=True)
class RecordOp:
    name: str
    fn: Callable[[pd.DataFrame | None, Any, Any], pd.DataFrame]
    args_model: type[OpArgs]
    columns: Callable[[Any], dict[str, ColumnMeta]]
    first: bool = True
    """May start a dataset (else it adds rows to the records made by an earlier step)."""
    later: bool = False
    """May follow an earlier step."""
    doc: str = ""


COLUMN_OPS: dict[str, ColumnOp] = {}
RECORD_OPS: dict[str, RecordOp] = {}


def column_op(
    name: str, args: type[OpArgs], meta: Callable[[Any, Any], ColumnMeta]
) -> Callable[[Callable], Callable]:
    """Register ``fn(frame, args, ctx) -> Series`` as the derivation ``name``."""

    def deco(fn: Callable) -> Callable:
        if name in COLUMN_OPS:
            raise RuntimeError(f"derivation {name!r} registered twice")
        COLUMN_OPS[name] = ColumnOp(name, fn, args, meta, (fn.__doc__ or "").strip())
        return fn

    return deco


def record_op(
    name: str,
    args: type[OpArgs],
    columns: Callable[[Any], dict[str, ColumnMeta]],
    *,
    first: bool = True,
    later: bool = False,
) -> Callable[[Callable], Callable]:
    """Register ``fn(frame_or_None, args, ctx) -> DataFrame`` as the record builder ``name``."""

    def deco(fn: Callable) -> Callable:
        if name in RECORD_OPS:
            raise RuntimeError(f"record builder {name!r} registered twice")
        RECORD_OPS[name] = RecordOp(
            name, fn, args, columns, first, later, (fn.__doc__ or "").strip()
        )
        return fn

    return deco
