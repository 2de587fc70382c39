"""The registries of ADaM derivations (``derive:`` names) and record builders
(``records: - op:`` names).

Both follow the shared operation contract (:mod:`cdisc_mapper.spec.operations`): an
argument model checked when the specs are loaded, what the operation reads, and its
define.xml description given when it is registered. A derivation's description is a
function of its arguments (and the build context, or None when only the specs are known)
returning the :class:`~cdisc_mapper.spec.operations.ColumnMeta` of the column it makes; a
record builder's gives the metadata of every column it makes.

The operations live in family modules (one ADaMIG concept each). Their order in a
registry is the order the spec workbook lists them in, so it is stated, not left to the
order the families are imported in: the decorators hold each operation until the package
(:mod:`cdisc_mapper.adam.ops`) has imported every family and registers them all in the
order it names (:func:`register_in_order`). An operation defined after that (a plugin, a
test) is registered at once, after the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pandas as pd

from cdisc_mapper.spec.operations import ColumnMeta, OpArgs, Operation, Origin, Registry

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

    columns: Callable[[Any], dict[str, ColumnMeta]] = lambda args: {}
    first: bool = True
    """May start a dataset (else it adds rows to the records made by an earlier step)."""
    later: bool = False
    """May follow an earlier step."""


OpT = TypeVar("OpT", bound=Operation)


class PendingOps(Generic[OpT]):
    """Operations defined by the family modules, held until :func:`register_in_order`
    adds them to their registry (afterwards, a new operation is added at once)."""

    def __init__(self, registry: Registry[OpT]) -> None:
        self.registry = registry
        self.ops: dict[str, OpT] = {}
        self.registered = False

    def add(self, op: OpT) -> None:
        if self.registered:
            self.registry.add(op)
            return
        if op.name in self.ops:
            raise RuntimeError(f"{self.registry.kind} {op.name!r} registered twice")
        self.ops[op.name] = op

    def register_in_order(self, order: Sequence[str]) -> None:
        """Add the held operations to the registry in ``order``, which must name each of
        them exactly once."""
        if self.registered:
            raise RuntimeError(f"the {self.registry.kind} operations are registered already")
        named = list(order)
        problems = []
        missing = sorted(set(self.ops) - set(named))
        if missing:
            problems.append(f"not listed: {', '.join(missing)}")
        unknown = sorted(set(named) - set(self.ops))
        if unknown:
            problems.append(f"not defined: {', '.join(unknown)}")
        twice = sorted({n for n in named if named.count(n) > 1})
        if twice:
            problems.append(f"listed twice: {', '.join(twice)}")
        if problems:
            raise RuntimeError(f"{self.registry.kind} order: {'; '.join(problems)}")
        for name in named:
            self.registry.add(self.ops.pop(name))
        self.registered = True


DERIVATIONS: Registry[Derivation] = Registry("derivation")
RECORD_BUILDERS: Registry[RecordBuilder] = Registry("record builder")
PENDING_DERIVATIONS: PendingOps[Derivation] = PendingOps(DERIVATIONS)
PENDING_RECORD_BUILDERS: PendingOps[RecordBuilder] = PendingOps(RECORD_BUILDERS)


def column_op(
    name: str, args: type[OpArgs], meta: Callable[[Any, Any], ColumnMeta]
) -> Callable[[ColumnFunc], ColumnFunc]:
    """Register ``fn(frame, args, ctx) -> Series`` as the derivation ``name``; ``meta``
    describes the column it makes for define.xml."""

    def deco(fn: ColumnFunc) -> ColumnFunc:
        PENDING_DERIVATIONS.add(Derivation(name=name, fn=fn, args_model=args, meta=meta))
        return fn

    return deco


def record_op(
    name: str,
    args: type[OpArgs],
    columns: Callable[[Any], dict[str, ColumnMeta]],
    *,
    first: bool = True,
    later: bool = False,
) -> Callable[[RecordFunc], RecordFunc]:
    """Register ``fn(frame_or_None, args, ctx) -> DataFrame`` as the record builder
    ``name``; ``columns`` describes the columns it makes for define.xml."""

    def deco(fn: RecordFunc) -> RecordFunc:
        PENDING_RECORD_BUILDERS.add(
            RecordBuilder(
                name=name, fn=fn, args_model=args, columns=columns, first=first, later=later
            )
        )
        return fn

    return deco
