"""A study's loaded ADaM specs and the questions the stage asks of them.

:class:`AdamSpecs` holds the checked specs with the documents they came from (for error
locations); the functions here read it: the columns the record steps make, the variables
derived before a record step, the order and stage variables are derived in, and which
variables are same-name copies of another dataset's. Loading and checking live in
:mod:`cdisc_mapper.spec.adam_loader`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam import Conventions, DatasetSpec, ReportsSpec
from cdisc_mapper.spec.base import is_adam, split_source
from cdisc_mapper.spec.operations import ColumnMeta, Registry
from cdisc_mapper.spec.yamlio import SpecDocument


@dataclass
class AdamSpecs:
    """A study's ADaM specs with the documents they came from (for error locations)."""

    root: Path
    conventions: Conventions
    datasets: dict[str, DatasetSpec]
    reports: ReportsSpec
    derivations: Registry[Any]
    builders: Registry[Any]
    documents: dict[str, SpecDocument] = field(default_factory=dict)
    op_args: dict[tuple[str, str], Any] = field(default_factory=dict)
    record_args: dict[tuple[str, int], Any] = field(default_factory=dict)

    def where(self, dataset: str, loc: tuple[str | int, ...]) -> str:
        doc = self.documents.get(dataset)
        return str(doc.where(loc)) if doc is not None else dataset

    def args(self, dataset: str, variable: str) -> Any:
        return self.op_args[(dataset, variable)]


def record_columns(specs: AdamSpecs, name: str) -> dict[str, ColumnMeta]:
    """The columns the dataset's record steps make, with their metadata."""
    ds = specs.datasets[name]
    out: dict[str, ColumnMeta] = {}
    for i, step in enumerate(ds.records):
        builder = specs.builders.require(step.op)
        out.update(builder.columns(specs.record_args[(name, i)], specs.conventions))
    return out


def _used_variables(specs: AdamSpecs, name: str, names: set[str]) -> set[str]:
    """The variables among ``names`` and, transitively, every variable they use."""
    ds = specs.datasets[name]
    seen: set[str] = set()
    todo = [n for n in names if n in ds.variables]
    while todo:
        var = todo.pop()
        if var not in seen:
            seen.add(var)
            todo += [r for r in specs.op_args[(name, var)].inputs() if r in ds.variables]
    return seen


def step_variables(specs: AdamSpecs, name: str, i: int) -> set[str]:
    """The variables derived before record step ``i`` runs (see
    :class:`~cdisc_mapper.spec.adam.RecordStep`): for each step up to ``i`` with
    ``after``, the variables it names and those its arguments read, with every variable
    they use; empty when no step so far has ``after``."""
    ds = specs.datasets[name]
    out: set[str] = set()
    for j, step in enumerate(ds.records[: i + 1]):
        if step.after:
            reads = specs.record_args[(name, j)].inputs() & set(ds.variables)
            out |= _used_variables(specs, name, set(step.after) | reads)
    return out


def variable_order(specs: AdamSpecs, name: str) -> list[str]:
    """The dataset's variables in an order where each comes after the variables it uses
    (spec order otherwise). Raises SpecError on a cycle."""
    ds = specs.datasets[name]
    own = list(ds.variables)
    deps = {}
    for var in own:
        used = specs.op_args[(name, var)].inputs()
        deps[var] = {r for r in used if r in ds.variables and r != var}
    done: list[str] = []
    placed: set[str] = set()
    todo = list(own)
    while todo:
        for var in todo:
            if deps[var] <= placed:
                done.append(var)
                placed.add(var)
                todo.remove(var)
                break
        else:
            doc = specs.documents[name]
            raise SpecError(
                f"variables use each other in a cycle: {', '.join(todo)}",
                where=doc.where(("variables", todo[0])),
            )
    return done


def copied_from(specs: AdamSpecs, name: str, var: str) -> tuple[str, str] | None:
    """(domain or dataset, variable) when ``var`` is a same-name copy of another dataset's
    variable (an SDTM variable kept by a record step, or ``derive: value`` of X.var)."""
    vspec = specs.datasets[name].variables[var]
    args = specs.op_args[(name, var)]
    if vspec.derive == "keep":
        meta = record_columns(specs, name).get(args.column or var)
        if meta is not None and meta.origin == "Predecessor" and meta.source:
            dom, src = split_source(meta.source)
            if dom and src == var:
                return dom, src
        return None
    if vspec.derive == "value":
        dom, src = split_source(args.source)
        if dom and src == var:
            return dom, src
    return None


def stage_of(specs: AdamSpecs, name: str) -> dict[str, int]:
    """Per variable of dataset ``name``: 1 when computable from SDTM and earlier variables
    alone, 2 when it (or a variable it uses) reads another ADaM dataset."""
    stage: dict[str, int] = {}
    for var in variable_order(specs, name):
        args = specs.op_args[(name, var)]
        s = 1
        if any(is_adam(d) and d != name for d, _ in args.lookups()):
            s = 2
        if any(stage.get(r, 1) == 2 for r in args.inputs()):
            s = 2
        stage[var] = s
    return stage
