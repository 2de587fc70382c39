"""Registered ADaM derivations and record builders, and the load-time spec checks.

``COLUMN_OPS`` (``derive:`` names) and ``RECORD_OPS`` (``records: - op:`` names) are
filled by importing :mod:`.columns` and :mod:`.records`. :func:`check_dataset_spec`
validates a dataset spec against them when the specs are loaded: unknown names, bad
arguments, variables used before they are derived, periods, windows and datasets that do
not exist, labels given for ADaMIG variables or missing for sponsor variables. Every error
points at the spec line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cdisc_mapper.adam.ops import columns as _columns  # noqa: F401  (registers)
from cdisc_mapper.adam.ops import records as _records  # noqa: F401  (registers)
from cdisc_mapper.adam.ops.base import (
    COLUMN_OPS,
    RECORD_OPS,
    BuildState,
    ColumnMeta,
    ColumnOp,
    OpArgs,
    RecordOp,
    is_adam,
    split_source,
)
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.loader import validate_model

__all__ = [
    "COLUMN_OPS",
    "RECORD_OPS",
    "BuildState",
    "ColumnMeta",
    "ColumnOp",
    "OpArgs",
    "RecordOp",
    "check_dataset_spec",
    "check_reports",
    "copied_from",
    "record_columns",
    "split_source",
    "stage_of",
    "variable_order",
]


def record_columns(specs: Any, name: str) -> dict[str, ColumnMeta]:
    """The columns the dataset's record steps make, with their metadata."""
    ds = specs.datasets[name]
    out: dict[str, ColumnMeta] = {}
    for i, step in enumerate(ds.records):
        out.update(RECORD_OPS[step.op].columns(specs.record_args[(name, i)]))
    return out


def _standard_names(structure: str) -> Callable[[str], Any]:
    from cdisc_mapper.standards import load_adamig

    std = load_adamig()
    return lambda var: std.variable(structure, var)


def check_dataset_spec(specs: Any, name: str, ds: Any, doc: Any) -> None:
    """Check one dataset spec's record steps and variables (see the module docstring)."""
    rec_known = ", ".join(sorted(RECORD_OPS))
    for i, step in enumerate(ds.records):
        op = RECORD_OPS.get(step.op)
        where = doc.where(("records", i, "op"))
        if op is None:
            raise SpecError(
                f"records[{i}]: unknown record builder {step.op!r}; known: {rec_known}", where=where
            )
        if i == 0 and not op.first:
            raise SpecError(
                f"records[0]: {step.op!r} adds rows to earlier records; it cannot come first",
                where=where,
            )
        if i > 0 and not op.later:
            raise SpecError(
                f"records[{i}]: {step.op!r} makes a dataset's records; it must come first",
                where=where,
            )
        specs.record_args[(name, i)] = validate_model(
            op.args_model, step.args, doc, prefix=("records", i)
        )
    if ds.structure == "ADSL" and ds.records[0].op != "subjects":
        raise SpecError(
            "ADSL records must start with op: subjects", where=doc.where(("records", 0, "op"))
        )
    known_cols = set(record_columns(specs, name))
    col_known = ", ".join(sorted(COLUMN_OPS))
    std = _standard_names(ds.structure)
    for var, vspec in ds.variables.items():
        loc = ("variables", var)
        op = COLUMN_OPS.get(vspec.derive)
        if op is None:
            raise SpecError(
                f"{var}: unknown derivation {vspec.derive!r}; known: {col_known}",
                where=doc.where((*loc, "derive")),
            )
        args = validate_model(op.args_model, vspec.args, doc, prefix=loc)
        specs.op_args[(name, var)] = args
        if vspec.derive == "keep":
            col = args.column or var
            if col not in known_cols:
                raise SpecError(
                    f"{var}: the records have no column {col} (made: "
                    f"{', '.join(sorted(c for c in known_cols if not c.startswith('_')))})",
                    where=doc.where(loc),
                    hint="give it a derivation (derive: ...) or keep it in the record step",
                )
    defined = known_cols | set(ds.variables)
    for var, vspec in ds.variables.items():
        loc = ("variables", var)
        _check_refs(specs, name, ds, var, specs.op_args[(name, var)], defined, doc, loc)
        _check_label(specs, name, vspec, var, std, doc, loc)
    variable_order(specs, name)


def variable_order(specs: Any, name: str) -> list[str]:
    """The dataset's variables in an order where each comes after the variables it uses
    (spec order otherwise). Raises SpecError on a cycle."""
    ds = specs.datasets[name]
    own = list(ds.variables)
    deps = {}
    for var in own:
        refs = specs.op_args[(name, var)].refs()
        deps[var] = {r for r in refs if r in ds.variables and r != var}
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


def _check_refs(
    specs: Any, name: str, ds: Any, var: str, args: OpArgs, defined: set[str], doc: Any, loc: tuple
) -> None:
    adsl = specs.datasets.get("ADSL")
    for ref in sorted(args.refs()):
        if ref in defined:
            continue
        if name != "ADSL" and adsl is not None and ref in adsl.variables:
            continue
        raise SpecError(
            f"{var}: uses {ref}, which is neither a record column nor one of the variables"
            + ("" if name == "ADSL" else " (nor an ADSL variable)"),
            where=doc.where(loc),
            hint="add the variable it needs to 'variables'",
        )
    for dom, v in sorted(args.lookups()):
        if not dom:
            raise SpecError(f"{var}: source must be DOMAIN.VARIABLE", where=doc.where(loc))
        if is_adam(dom):
            other = specs.datasets.get(dom)
            if other is None:
                raise SpecError(
                    f"{var}: reads dataset {dom}, which has no spec", where=doc.where(loc)
                )
            if dom == name:
                raise SpecError(
                    f"{var}: a dataset cannot look itself up; use the variable name",
                    where=doc.where(loc),
                )
            if v not in other.variables and v != "USUBJID":
                raise SpecError(
                    f"{var}: {dom} has no variable {v} in its spec", where=doc.where(loc)
                )
    conv = specs.conventions
    for n in sorted(args.periods_used()):
        if n not in {p.aperiod for p in conv.periods}:
            raise SpecError(f"{var}: period {n} is not in conventions.yaml", where=doc.where(loc))
    for w in sorted(args.windows_used()):
        if w not in conv.windows:
            raise SpecError(
                f"{var}: window set {w!r} is not in conventions.yaml", where=doc.where(loc)
            )
    phase = getattr(args, "phase", None)
    if isinstance(phase, int) and phase not in {p.aphasen for p in conv.phases}:
        raise SpecError(f"{var}: phase {phase} is not in conventions.yaml", where=doc.where(loc))


def copied_from(specs: Any, name: str, var: str) -> tuple[str, str] | None:
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


def _check_label(
    specs: Any, name: str, vspec: Any, var: str, std: Callable[[str], Any], doc: Any, loc: tuple
) -> None:
    meta = std(var)
    if meta is None and vspec.label is None:
        copy = copied_from(specs, name, var)
        ok = False
        if copy is not None:
            dom, src = copy
            if is_adam(dom):
                ok = True
            else:
                from cdisc_mapper.standards import load_sdtmig

                sdtmig = load_sdtmig()
                ok = sdtmig.has_dataset(dom) and sdtmig.variable(dom, src) is not None
        if not ok:
            raise SpecError(
                f"{var}: a sponsor variable (not in ADaMIG {specs.datasets[name].structure} "
                "metadata, nor a copied SDTM variable) needs a 'label' (at most 40 characters)",
                where=doc.where(loc),
            )
    if meta is not None and vspec.label is not None:
        raise SpecError(
            f"{var}: ADaMIG defines this variable; its label is {meta.label!r} and cannot be set",
            where=doc.where((*loc, "label")),
            hint="remove 'label' (only sponsor variables take a label from the spec)",
        )
    if meta is not None and vspec.type is not None and vspec.type != meta.type:
        raise SpecError(
            f"{var}: ADaMIG type is {meta.type}, not {vspec.type}", where=doc.where((*loc, "type"))
        )


def stage_of(specs: Any, name: str) -> dict[str, int]:
    """Per variable of dataset ``name``: 1 when computable from SDTM and earlier variables
    alone, 2 when it (or a variable it uses) reads another ADaM dataset."""
    stage: dict[str, int] = {}
    for var in variable_order(specs, name):
        args = specs.op_args[(name, var)]
        s = 1
        if any(is_adam(d) and d != name for d, _ in args.lookups()):
            s = 2
        if any(stage.get(r, 1) == 2 for r in args.refs()):
            s = 2
        stage[var] = s
    return stage


def check_reports(specs: Any) -> None:
    doc = specs.documents.get("reports")
    for i, rep in enumerate(specs.reports.progression_summaries):
        ds = specs.datasets.get(rep.dataset)
        if ds is None:
            raise SpecError(
                f"report {rep.name}: dataset {rep.dataset} has no spec",
                where=doc.where(("progression_summaries", i, "dataset")) if doc else None,
            )
        wanted = {rep.population, rep.responder_flag, rep.improvement, *rep.extra_flags}
        for row in rep.rows:
            wanted |= row.where.variables()
        for v in sorted(wanted):
            if v not in ds.variables:
                raise SpecError(
                    f"report {rep.name}: {rep.dataset} has no variable {v}",
                    where=doc.where(("progression_summaries", i)) if doc else None,
                )
