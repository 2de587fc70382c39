"""The registries of ADaM derivations (``derive:`` names) and record builders
(``records: - op:`` names).

Both follow the shared operation contract (:mod:`cdisc_mapper.spec.operations`): an
argument model checked when the specs are loaded, what the operation reads, and its
define.xml description given when it is registered. A derivation's description is a
function of its arguments (and the build context, or None when only the specs are known)
returning the :class:`~cdisc_mapper.spec.operations.ColumnMeta` of the column it makes; a
record builder's gives the metadata of every column it makes.

The operations live in family modules (one ADaMIG concept each); importing the package
(:mod:`cdisc_mapper.adam.ops`) registers them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cdisc_mapper.spec.adam import Conventions
from cdisc_mapper.spec.operations import ColumnMeta, Example, OpArgs, Operation, Origin, Registry

ColumnFunc = Callable[[pd.DataFrame, Any, Any], pd.Series]
RecordFunc = Callable[[pd.DataFrame | None, Any, Any], pd.DataFrame]
ValueLevel = tuple[str, str, Origin, str | None, str | None]
"""One value-level entry of :attr:`ColumnMeta.value_level`: (variable, value, origin,
source, method)."""


@dataclass(frozen=True)
class Derivation(Operation):
    """A column derivation: ``fn(frame, args, ctx) -> Series``."""

    meta: Callable[[Any, Any], ColumnMeta] = lambda args, ctx: ColumnMeta()


@dataclass(frozen=True)
class RecordBuilder(Operation):
    """A record builder: ``fn(frame_or_None, args, ctx) -> DataFrame``."""

    columns: Callable[[Any, Conventions], dict[str, ColumnMeta]] = lambda args, conv: {}
    first: bool = True
    """May start a dataset (else it adds rows to the records made by an earlier step)."""
    later: bool = False
    """May follow an earlier step."""


DERIVATIONS: Registry[Derivation] = Registry("derivation")
RECORD_BUILDERS: Registry[RecordBuilder] = Registry("record builder")


def column_op(
    name: str,
    args: type[OpArgs],
    meta: Callable[[Any, Any], ColumnMeta],
    *,
    example: Example | None = None,
) -> Callable[[ColumnFunc], ColumnFunc]:
    """Register ``fn(frame, args, ctx) -> Series`` as the derivation ``name``; ``meta``
    describes the column it makes for define.xml, ``example`` is its worked example."""

    def deco(fn: ColumnFunc) -> ColumnFunc:
        DERIVATIONS.add(Derivation(name=name, fn=fn, args_model=args, meta=meta, example=example))
        return fn

    return deco


def record_op(
    name: str,
    args: type[OpArgs],
    columns: Callable[[Any, Conventions], dict[str, ColumnMeta]],
    *,
    first: bool = True,
    later: bool = False,
    example: Example | None = None,
) -> Callable[[RecordFunc], RecordFunc]:
    """Register ``fn(frame_or_None, args, ctx) -> DataFrame`` as the record builder
    ``name``; ``columns(args, conventions)`` describes the columns it makes for define.xml,
    ``example`` is its worked example."""

    def deco(fn: RecordFunc) -> RecordFunc:
        RECORD_BUILDERS.add(
            RecordBuilder(
                name=name,
                fn=fn,
                args_model=args,
                columns=columns,
                first=first,
                later=later,
                example=example,
            )
        )
        return fn

    return deco
