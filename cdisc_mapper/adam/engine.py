"""Building the ADaM datasets from their specs: plan, records, variables, metadata.

The plan follows the data: ADSL variables that need only SDTM come first (stage 1); then
the datasets that need only those; then the ADSL variables that read other ADaM datasets
(stage 2, e.g. baseline ALSFRS-R from ADQS, the efficacy population flag); then the datasets
that need those (e.g. ADPROG, which carries EFFFL). A cycle is a spec error. Each
variable's define.xml metadata is settled in :mod:`cdisc_mapper.adam.variable_metadata`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from cdisc_mapper.adam.context import BuildContext, BuildState
from cdisc_mapper.adam.derive._keys import lexsort, sort_keys
from cdisc_mapper.adam.model import AdamDataset, AdamVariable
from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.adam.storage import (
    Misfit,
    adjacent_duplicates,
    is_arrow_text,
    key_sample,
    misfit_error,
    stored_length,
    stored_series,
    typed_values,
)
from cdisc_mapper.adam.variable_metadata import variable_metadata
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.spec.adam_loader import (
    AdamSpecs,
    adamig_variable,
    copied_from,
    record_columns,
    stage_of,
    step_variables,
    variable_order,
)
from cdisc_mapper.spec.base import is_adam
from cdisc_mapper.spec.operations import ColumnMeta
from cdisc_mapper.textops import text_column

CLASSES = {
    "ADSL": "SUBJECT LEVEL ANALYSIS DATASET",
    "BDS": "BASIC DATA STRUCTURE",
    "OCCDS": "OCCURRENCE DATA STRUCTURE",
}


# --------------------------------------------------------------------------- planning
def sdtm_needs(specs: AdamSpecs) -> dict[str, dict[str, str]]:
    """SDTM domain -> {variable: the spec place that needs it}."""
    needs: dict[str, dict[str, str]] = {}

    def add(dom: str, var: str, where: str) -> None:
        if dom and not is_adam(dom):
            needs.setdefault(dom, {}).setdefault(var, where)

    add("DM", "USUBJID", specs.where("ADSL", ("records",)))
    for name, ev in specs.conventions.events.items():
        where = specs.where("conventions", ("events", name))
        add(ev.domain, "USUBJID", where)
        add(ev.domain, ev.variable, where)
        for v in ev.where.variables() if ev.where else ():
            add(ev.domain, v, where)
    for name, ds in specs.datasets.items():
        for i, _step in enumerate(ds.records):
            where = specs.where(name, ("records", i))
            for dom, var in specs.record_args[(name, i)].lookups():
                add(dom, var, where)
        for var in ds.variables:
            where = specs.where(name, ("variables", var))
            for dom, v in specs.op_args[(name, var)].lookups():
                add(dom, v, where)
    return needs


def _dataset_deps(specs: AdamSpecs, name: str) -> set[str]:
    ds = specs.datasets[name]
    deps: set[str] = set()
    for i in range(len(ds.records)):
        deps |= {d for d, _ in specs.record_args[(name, i)].lookups() if is_adam(d)}
    for var in ds.variables:
        deps |= {d for d, _ in specs.op_args[(name, var)].lookups() if is_adam(d)}
    deps.discard(name)
    return deps


def _adsl_vars_used(specs: AdamSpecs, name: str) -> set[str]:
    """ADSL variables a (non-ADSL) dataset reads, by lookup or by name."""
    ds = specs.datasets[name]
    own = set(record_columns(specs, name)) | set(ds.variables)
    used: set[str] = set()
    for var in ds.variables:
        args = specs.op_args[(name, var)]
        used |= {v for d, v in args.lookups() if d == "ADSL"}
        used |= {r for r in args.inputs() if r not in own}
    for i in range(len(ds.records)):
        used |= {v for d, v in specs.record_args[(name, i)].lookups() if d == "ADSL"}
    return used


def plan(specs: AdamSpecs) -> list[tuple[str, int]]:
    """Build order: (dataset, stage) pairs; ADSL appears as stage 1 and (if needed) 2."""
    adsl_stage = stage_of(specs, "ADSL")
    late_vars = {v for v, s in adsl_stage.items() if s == 2}
    others = [n for n in specs.datasets if n != "ADSL"]
    deps = {n: _dataset_deps(specs, n) - {"ADSL"} for n in others}
    late = {n for n in others if _adsl_vars_used(specs, n) & late_vars}
    # a dataset that needs a late dataset is late too
    changed = True
    while changed:
        changed = False
        for n in others:
            if n not in late and deps[n] & late:
                late.add(n)
                changed = True
    adsl2_deps: set[str] = set()
    for var, s in adsl_stage.items():
        if s == 2:
            adsl2_deps |= {
                d for d, _ in specs.op_args[("ADSL", var)].lookups() if is_adam(d) and d != "ADSL"
            }
    cyc = adsl2_deps & late
    if cyc:
        raise SpecError(
            f"ADSL reads {', '.join(sorted(cyc))}, which in turn needs ADSL variables derived "
            "from other datasets: a cycle",
            where=specs.where("ADSL", ("variables",)),
        )

    def topo(names: set[str]) -> list[str]:
        out: list[str] = []
        todo = sorted(names)
        while todo:
            ready = [n for n in todo if not (deps[n] & (set(todo) - {n}))]
            if not ready:
                raise SpecError(f"datasets depend on each other in a cycle: {', '.join(todo)}")
            out.append(ready[0])
            todo.remove(ready[0])
        return out

    early = set(others) - late
    order: list[tuple[str, int]] = [("ADSL", 1)]
    order += [(n, 0) for n in topo(early)]
    if late_vars:
        order.append(("ADSL", 2))
    order += [(n, 0) for n in topo(late)]
    return order


# --------------------------------------------------------------------------- building
def _merge_meta(old: ColumnMeta | None, new: ColumnMeta) -> ColumnMeta:
    """Metadata of a column made by several record steps (value-level entries joined)."""
    if old is None:
        return new
    vl = old.value_level + new.value_level
    origin = old.origin if old.origin == new.origin else "Derived"
    return replace(old, origin=origin, value_level=vl, type=old.type or new.type)


def _run_step(ctx: BuildContext, name: str, i: int, frame: pd.DataFrame | None) -> pd.DataFrame:
    """Run record step ``i``; collect its columns' metadata in ``ctx.state``."""
    op = RECORD_BUILDERS.require(ctx.specs.datasets[name].records[i].op)
    args = ctx.specs.record_args[(name, i)]
    out = op.fn(frame, args, ctx)
    for col, meta in op.columns(args, ctx.specs.conventions).items():
        ctx.state.columns[col] = _merge_meta(ctx.state.columns.get(col), meta)
    return out


def build_records(ctx: BuildContext, name: str) -> pd.DataFrame:
    """Run the dataset's record steps (those without ``after``); collect their columns'
    metadata in ``ctx.state``."""
    specs = ctx.specs
    ds = specs.datasets[name]
    frame: pd.DataFrame | None = None
    for i, step in enumerate(ds.records):
        if not step.after:  # steps with 'after' run among the variables (build_dataset)
            frame = _run_step(ctx, name, i, frame)
    assert frame is not None
    # put the records in (roughly) their final order now, while the frame is narrow, so
    # that the final sort by the keys moves little memory
    keys = [k for k in ds.keys if k in frame.columns] + (
        ["_DTC"] if "_DTC" in frame.columns else []
    )
    order = lexsort(sort_keys(frame, keys, missing_last=_missing_last(specs)))
    if not np.array_equal(order, np.arange(len(frame))):
        frame = frame.take(order)
    return frame.reset_index(drop=True)


def derive_variables(
    ctx: BuildContext, name: str, frame: pd.DataFrame, variables: list[str]
) -> pd.DataFrame:
    """Derive ``variables`` (in that order, see :func:`variable_order`) into ``frame``.

    A derivation failing on the data is reported as a MappingError at its spec line.
    """
    specs = ctx.specs
    ds = specs.datasets[name]
    ctx.state.cache["__frame"] = frame
    for var in variables:
        vspec = ds.variables[var]
        op = DERIVATIONS.require(vspec.derive)
        args = specs.op_args[(name, var)]
        ctx.state.cache["__variable"] = var
        try:
            values = op.fn(frame, args, ctx)
        except (KeyError, ValueError) as exc:
            raise MappingError(
                f"{name}.{var}: {exc}", where=specs.where(name, ("variables", var))
            ) from exc
        if len(values) != len(frame):
            raise MappingError(
                f"{name}.{var}: derivation returned {len(values)} values for {len(frame)} records"
            )
        if isinstance(values, pd.Series) and is_arrow_text(values):
            frame[var] = values.set_axis(frame.index)  # Arrow text stays Arrow
            continue
        arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
        if arr.dtype == object:  # keep object (no string-dtype inference over every value)
            frame[var] = pd.Series(arr, index=frame.index, dtype=object, copy=False)
        else:
            frame[var] = arr
    return frame


def build_dataset(ctx: BuildContext, name: str) -> pd.DataFrame:
    """A non-ADSL dataset's records and variables. A record step with ``after`` runs once
    the variables it waits for (:func:`step_variables`) are derived on the records made so
    far; the per-record caches are then dropped, and the remaining variables are derived
    on all records, old and new."""
    specs = ctx.specs
    order = variable_order(specs, name)
    frame = build_records(ctx, name)
    done: set[str] = set()
    for i, step in enumerate(specs.datasets[name].records):
        if step.after:
            before = step_variables(specs, name, i)
            frame = derive_variables(ctx, name, frame, [v for v in order if v in before - done])
            done |= before
            frame = _run_step(ctx, name, i, frame)
            ctx.state.cache.clear()
    return derive_variables(ctx, name, frame, [v for v in order if v not in done])


# --------------------------------------------------------------------------- finishing
def finish(
    ctx: BuildContext, name: str, frame: pd.DataFrame, variables: list[AdamVariable]
) -> pd.DataFrame:
    """The dataset's variables, typed as declared (a type nothing stated is the data's),
    sorted by its keys; a value that does not fit its type and duplicate keys are errors
    (rules: :mod:`cdisc_mapper.adam.storage`)."""
    ds = ctx.specs.datasets[name]
    order = lexsort(sort_keys(frame, ds.keys, missing_last=_missing_last(ctx.specs)))
    identity = np.array_equal(order, np.arange(len(frame)))
    cols: dict[str, pd.Series] = {}
    for i, declared in enumerate(variables):
        col = frame[declared.name]
        v = declared
        if v.type is None:
            v = replace(v, type="Num" if pd.api.types.is_numeric_dtype(col) else "Char")
            variables[i] = v
        assert v.type is not None
        if v.type == "Char" and is_arrow_text(col):
            cols[v.name] = text_column(col, None if identity else order)  # stays in Arrow
            continue
        arr, misfits = typed_values(col, v.type)
        if len(misfits):
            why, hint = _type_origin(ctx, name, v.name, v.type)
            raise misfit_error(
                Misfit(name, v.name, v.type, why, misfits),
                frame,
                ds.keys,
                order,
                ctx.specs.where(name, ("variables", v.name)),
                hint,
            )
        if not identity:
            arr = arr[order]
        cols[v.name] = stored_series(arr, v.type)
    out = pd.DataFrame(cols, copy=False)
    dup = adjacent_duplicates(out, ds.keys)  # sorted by the keys: duplicates are adjacent
    if dup.any():
        sample = key_sample(out.loc[dup, ds.keys].head(2), variables)
        raise MappingError(
            f"{name}: {int(dup.sum())} records share key values {ds.keys}, e.g. {sample}",
            where=ctx.specs.where(name, ("keys",)),
            hint="add a distinguishing variable to the keys, or fix the derivation",
        )
    return out


def _missing_last(specs: AdamSpecs) -> bool:
    """Whether missing key values sort last (conventions ``missing_keys: last``)."""
    return specs.conventions.missing_keys == "last"


def _type_origin(ctx: BuildContext, name: str, var: str, vtype: str) -> tuple[str, str]:
    """What declared ``name.var``'s type, and what to do when its values do not fit it."""
    specs = ctx.specs
    other = "Char" if vtype == "Num" else "Num"
    if specs.datasets[name].variables[var].type is not None:
        return "the spec's 'type'", f"change 'type' to {other}, or derive {vtype} values"
    std = adamig_variable(specs, name, var)
    if std is not None:
        rule = f"rule {std.template}" if std.template else "variable"
        return (
            f"ADaMIG {std.dataset} {rule}",
            f"ADaMIG reserves this name for {vtype} values: derive {vtype} values, or "
            "give the variable a name no ADaMIG rule covers, with a 'label' and a 'type'",
        )
    copy = copied_from(specs, name, var)
    if copy is not None:
        return (
            f"as {copy[0]}.{copy[1]}",
            f"{copy[0]}.{copy[1]} should be {vtype}: correct {copy[0]}, or state 'type'",
        )
    return "its derivation's type", "state the variable's 'type' in the spec"


def _declared_length(ctx: BuildContext, name: str, var: str) -> int | None:
    """The length the SDTM file declares for the text variable ``var`` carries under its
    own name (None when it carries none, or a number)."""
    copy = copied_from(ctx.specs, name, var)
    if copy is None or is_adam(copy[0]) or ctx.sdtm is None:
        return None
    declared = ctx.sdtm.declared(*copy)
    return declared.length if declared is not None and declared.type == "Char" else None


def static_columns(specs: AdamSpecs, name: str) -> dict[str, ColumnMeta]:
    """The metadata the record steps give their columns (as :func:`build_records` merges it)."""
    out: dict[str, ColumnMeta] = {}
    ds = specs.datasets[name]
    for i, step in enumerate(ds.records):
        builder = RECORD_BUILDERS.require(step.op)
        for col, meta in builder.columns(specs.record_args[(name, i)], specs.conventions).items():
            out[col] = _merge_meta(out.get(col), meta)
    return out


def _domains_used(specs: AdamSpecs, name: str) -> set[str]:
    ds = specs.datasets[name]
    doms = set()
    for i in range(len(ds.records)):
        doms |= {d for d, _ in specs.record_args[(name, i)].lookups() if d and not is_adam(d)}
    for var in ds.variables:
        doms |= {d for d, _ in specs.op_args[(name, var)].lookups() if d and not is_adam(d)}
    return doms


def dataset_metadata(ctx: BuildContext) -> dict[str, list[AdamVariable]]:
    """Every dataset's variable metadata, from the specs and standards alone (no data)."""
    specs = ctx.specs
    names = ["ADSL"] + [n for n, _ in plan(specs) if n != "ADSL"]
    metas: dict[str, list[AdamVariable]] = {}
    for name in [*names, "ADSL"]:  # ADSL again: its copies of other datasets' variables
        ctx.dataset = name
        ctx.state = BuildState(columns=static_columns(specs, name))
        metas[name] = variable_metadata(ctx, name, metas)
    ctx.state = BuildState()
    return metas


def build_all(ctx: BuildContext, say: Callable[[str], None]) -> dict[str, AdamDataset]:
    """Build every dataset in plan order. Each is finished (variables chosen, typed,
    sorted by its keys, keys checked) as soon as it is built, and SDTM domains are released
    after their last use, so that peak memory stays near the largest dataset."""
    specs = ctx.specs
    order = plan(specs)
    adsl_stage = stage_of(specs, "ADSL")
    metas = dataset_metadata(ctx)
    last_use: dict[str, int] = {}
    for i, (name, _) in enumerate(order):
        for dom in _domains_used(specs, name):
            last_use[dom] = i
    done: dict[str, AdamDataset] = {}
    adsl_state = BuildState()

    def complete(name: str, frame: pd.DataFrame) -> None:
        ds = specs.datasets[name]
        variables = list(metas[name])
        finished = finish(ctx, name, frame, variables)
        variables[:] = [
            replace(
                v,
                length=stored_length(finished[v.name], v.type, _declared_length(ctx, name, v.name)),
            )
            for v in variables
        ]
        done[name] = AdamDataset(
            name=name,
            label=ds.label,
            structure=ds.structure,
            class_=ds.class_ or CLASSES[ds.structure],
            keys=list(ds.keys),
            frame=finished,
            variables=variables,
            comment=ds.comment,
            spec_file=str(specs.documents[name].path),
        )
        ctx.datasets[name] = finished

    for i, (name, stage) in enumerate(order):
        ctx.dataset = name
        if name == "ADSL":
            vars_ = [v for v in variable_order(specs, name) if adsl_stage[v] == stage]
            if stage == 1:
                ctx.state = adsl_state
                say(f"ADSL: subjects and SDTM-derived variables ({len(vars_)})")
                frame = build_records(ctx, name)
            else:
                ctx.state = adsl_state
                say(f"ADSL: variables from other ADaM datasets ({len(vars_)})")
                frame = ctx.datasets[name]
            frame = derive_variables(ctx, name, frame, vars_)
            ctx.datasets[name] = frame
            if stage == 2 or not any(s == 2 for s in adsl_stage.values()):
                complete(name, frame)
        else:
            ctx.state = BuildState()
            say(f"{name}: building")
            frame = build_dataset(ctx, name)
            complete(name, frame)
            del frame
        ctx.state = BuildState()
        for dom, last in last_use.items():
            if last == i:
                ctx.sdtm.release(dom)
    return {n: done[n] for n in sorted(done, key=lambda n: (n != "ADSL", n))}
