"""Loading and checking a study's ADaM specs (``<study>/adam/*.yaml``).

:func:`load_adam_specs` reads ``conventions.yaml``, ``reports.yaml`` and one file per
dataset, validates each against its model, and checks them against the ADaM registries
the stage passes in: unknown derivation or record-builder names, bad arguments, variables
used before they are derived, periods, windows and datasets that do not exist, labels
given for ADaMIG variables or missing where nothing else gives one (a sponsor variable,
or a variable named by an ADaMIG rule whose label is a placeholder such as ``{Date}``);
:func:`~cdisc_mapper.spec.adam_labels.adamig_variable` says which ADaMIG definition, if
any, settles a variable. Every error is a :class:`~cdisc_mapper.errors.SpecError` at the
spec line, before any data is read. The loaded specs and the questions asked of them are
in :mod:`~cdisc_mapper.spec.adam_specs`, the label checks in
:mod:`~cdisc_mapper.spec.adam_labels`, the report checks in
:mod:`~cdisc_mapper.spec.adam_reports`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam import (
    ADAM_FOLDER,
    CONVENTIONS_FILE,
    REPORTS_FILE,
    Conventions,
    DatasetSpec,
    EventRef,
    ReportsSpec,
    VariableSpec,
)
from cdisc_mapper.spec.adam_labels import (
    adamig_definitions,
    adamig_variable,
    check_label,
    sdtm_variable,
    suggested_label,
)
from cdisc_mapper.spec.adam_reports import check_reports, report_sources
from cdisc_mapper.spec.adam_specs import (
    AdamSpecs,
    copied_from,
    record_columns,
    stage_of,
    step_variables,
    variable_order,
)
from cdisc_mapper.spec.base import is_adam, validate_model
from cdisc_mapper.spec.operations import OpArgs, Registry
from cdisc_mapper.spec.yamlio import SpecDocument, load_spec_yaml

# Re-exported: their homes are adam_specs, adam_labels and adam_reports; importers of
# this module keep working.
__all__ = [
    "VARIABLE_META",
    "AdamSpecs",
    "adamig_definitions",
    "adamig_variable",
    "check_dataset_spec",
    "check_reports",
    "copied_from",
    "load_adam_specs",
    "normalise_dataset",
    "record_columns",
    "report_sources",
    "sdtm_variable",
    "stage_of",
    "step_variables",
    "suggested_label",
    "variable_order",
]

#: The keys of a variable entry that are not its derivation's arguments.
VARIABLE_META = set(VariableSpec.model_fields) - {"args"}


def _check_conventions(conv: Conventions, doc: SpecDocument) -> None:
    """Cross-references of conventions.yaml, reported at the line that names them."""
    numbers = [p.aperiod for p in conv.periods]
    if len(numbers) != len(set(numbers)) or numbers != sorted(numbers):
        raise SpecError(
            "periods: aperiod values must be unique and in increasing order",
            where=doc.where(("periods",)),
        )
    for i, p in enumerate(conv.periods):
        refs: list[tuple[tuple[str | int, ...], EventRef]] = [(("start",), p.start)]
        refs += [(("end", j), e) for j, e in enumerate(p.end)]
        for loc, ref in refs:
            if ref.event not in conv.events:
                path = ("periods", i, *loc)
                raise SpecError(
                    f"period {p.aperiod} names event {ref.event!r}; "
                    f"known: {', '.join(conv.events)}",
                    where=doc.where(path),
                )
    seen: set[int] = set()
    for i, ph in enumerate(conv.phases):
        for n in ph.periods:
            if n not in numbers:
                raise SpecError(
                    f"phase {ph.aphase} names period {n}, not in periods",
                    where=doc.where(("phases", i)),
                )
            if n in seen:
                raise SpecError(f"period {n} is in two phases", where=doc.where(("phases", i)))
            seen.add(n)
    for name, windows in conv.windows.items():
        nums = [w.avisitn for w in windows]
        if len(nums) != len(set(nums)):
            raise SpecError(
                f"windows {name}: avisitn values must be unique", where=doc.where(("windows", name))
            )


def _split_meta(body: Any, meta_keys: set[str]) -> Any:
    if not isinstance(body, dict):
        return body
    meta = {k: v for k, v in body.items() if k in meta_keys}
    args = {k: v for k, v in body.items() if k not in meta_keys}
    return {**meta, "args": args}


def normalise_dataset(data: Any) -> Any:
    """``{VAR: {derive: x, arg: y, label: ...}}`` -> VariableSpec input (args nested)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    variables = data.get("variables")
    if isinstance(variables, dict):
        data["variables"] = {
            name: ({} if body is None else _split_meta(body, VARIABLE_META))
            for name, body in variables.items()
        }
    records = data.get("records")
    if isinstance(records, list):
        data["records"] = [_split_meta(r, {"op", "after"}) for r in records]
    return data


def load_adam_specs(
    study_dir: Path, derivations: Registry[Any], builders: Registry[Any]
) -> AdamSpecs:
    """Load and check the ADaM specs of a study folder (``<study_dir>/adam/*.yaml``).

    Checks every file against its model, every derivation name and its arguments against
    the registries (``cdisc_mapper.adam.load_adam_specs`` passes the stage's), and the
    names each derivation refers to (variables computed before it, periods, windows).
    Raises :class:`SpecError` at the spec line.
    """
    root = Path(study_dir)
    folder = root / ADAM_FOLDER
    if not folder.is_dir():
        raise SpecError(
            "ADaM spec folder not found", where=str(folder), hint="expected <study>/adam/"
        )
    conv_doc = load_spec_yaml(folder / CONVENTIONS_FILE)
    conventions = validate_model(Conventions, conv_doc.data, conv_doc)
    _check_conventions(conventions, conv_doc)
    documents = {"conventions": conv_doc}
    reports = ReportsSpec()
    if (folder / REPORTS_FILE).is_file():
        rep_doc = load_spec_yaml(folder / REPORTS_FILE)
        reports = validate_model(ReportsSpec, rep_doc.data, rep_doc)
        documents["reports"] = rep_doc
    specs = AdamSpecs(
        root=root,
        conventions=conventions,
        datasets={},
        reports=reports,
        derivations=derivations,
        builders=builders,
        documents=documents,
    )
    files = sorted(
        p for p in folder.glob("*.yaml") if p.name not in {CONVENTIONS_FILE, REPORTS_FILE}
    )
    if not files:
        raise SpecError(
            "no ADaM dataset specs found (expected adam/<dataset>.yaml)", where=str(folder)
        )
    for path in files:
        doc = load_spec_yaml(path)
        ds = validate_model(DatasetSpec, normalise_dataset(doc.data), doc)
        if ds.dataset.lower() != path.stem.lower():
            raise SpecError(
                f"file declares dataset {ds.dataset} but is named {path.name}",
                where=doc.where(("dataset",)),
                hint=f"name it {ds.dataset.lower()}.yaml",
            )
        specs.datasets[ds.dataset] = ds
        specs.documents[ds.dataset] = doc
    if "ADSL" not in specs.datasets:
        raise SpecError("no adsl.yaml: every ADaM study needs ADSL", where=str(folder))
    for name, ds in specs.datasets.items():
        check_dataset_spec(specs, name, ds, specs.documents[name])
    check_reports(specs)
    return specs


def _check_records(specs: AdamSpecs, name: str, ds: DatasetSpec, doc: SpecDocument) -> None:
    made: set[str] = set()  # PARAMCD values the steps so far make
    for i, step in enumerate(ds.records):
        where = doc.where(("records", i, "op"))
        op = specs.builders.require(step.op, where, f"records[{i}]: ")
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
        args = validate_model(op.args_model, step.args, doc, prefix=("records", i))
        specs.record_args[(name, i)] = args
        _check_conventions_used(specs, f"records[{i}]", args, doc, ("records", i))
        unknown = sorted(args.parameters_read() - made)
        if unknown:
            raise SpecError(
                f"records[{i}]: no earlier step makes the parameter(s) {', '.join(unknown)} "
                f"(made: {', '.join(sorted(made)) or 'none'})",
                where=doc.where(("records", i)),
            )
        for meta in op.columns(args, specs.conventions).values():
            made |= {value for var, value, *_ in meta.value_level if var == "PARAMCD"}
    if ds.structure == "ADSL" and ds.records[0].op != "subjects":
        raise SpecError(
            "ADSL records must start with op: subjects", where=doc.where(("records", 0, "op"))
        )


def check_dataset_spec(specs: AdamSpecs, name: str, ds: DatasetSpec, doc: SpecDocument) -> None:
    """Check one dataset spec's record steps and variables (see the module docstring)."""
    _check_records(specs, name, ds, doc)
    known_cols = set(record_columns(specs, name))
    for var, vspec in ds.variables.items():
        loc = ("variables", var)
        op = specs.derivations.require(vspec.derive, doc.where((*loc, "derive")), f"{var}: ")
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
        _check_refs(specs, name, var, specs.op_args[(name, var)], defined, doc, loc)
        _check_conventions_used(specs, var, specs.op_args[(name, var)], doc, loc)
        if vspec.working(var):
            continue  # never written: no label, type or define.xml metadata
        check_label(specs, name, vspec, var, adamig_variable(specs, name, var), doc, loc)
    variable_order(specs, name)
    _check_step_order(specs, name, ds, doc)


def _check_step_order(specs: AdamSpecs, name: str, ds: DatasetSpec, doc: SpecDocument) -> None:
    """Each record step reads only columns earlier steps made, variables derived before it
    (``after``) and ADSL variables; the variables derived before it read only those too;
    steps with ``after`` come last; a step marking records with DTYPE needs a DTYPE
    variable."""
    adsl_spec = specs.datasets.get("ADSL")
    adsl = set(adsl_spec.variables) if adsl_spec is not None and name != "ADSL" else set()
    made: set[str] = set()
    for i, step in enumerate(ds.records):
        what = f"records[{i}] ({step.op})"
        if step.after and name == "ADSL":
            raise SpecError(
                f"{what}: ADSL steps cannot run after variables", where=doc.where(("records", i))
            )
        if not step.after and i and ds.records[i - 1].after:
            raise SpecError(
                f"{what}: follows a step with 'after' (steps run in order); give it 'after' too",
                where=doc.where(("records", i)),
            )
        unknown = [v for v in step.after if v not in ds.variables]
        if unknown:
            raise SpecError(
                f"{what}: after names {', '.join(unknown)}, not a variable of {name}",
                where=doc.where(("records", i, "after")),
            )
        before = step_variables(specs, name, i)
        args = specs.record_args[(name, i)]
        for var in sorted(before):
            late = sorted(specs.op_args[(name, var)].inputs() - set(ds.variables) - made - adsl)
            if late:
                raise SpecError(
                    f"{what}: runs after {var}, which uses {', '.join(late)}, made by this or a "
                    "later record step",
                    where=doc.where(("records", i)),
                )
        for ref in sorted(args.inputs() - made - before - adsl):
            why = (
                f"a variable derived after this step; add 'after: {ref}' to the step"
                if ref in ds.variables
                else "which no earlier record step makes"
            )
            raise SpecError(f"{what}: reads {ref}, {why}", where=doc.where(("records", i)))
        if "dtype" in type(args).model_fields and "DTYPE" not in ds.variables:
            raise SpecError(
                f"{what}: marks its records with DTYPE, which is not among the variables",
                where=doc.where(("records", i)),
                hint="add  DTYPE: {}  to the variables",
            )
        made |= set(specs.builders.require(step.op).columns(args, specs.conventions))


def _check_refs(
    specs: AdamSpecs,
    name: str,
    var: str,
    args: OpArgs,
    defined: set[str],
    doc: SpecDocument,
    loc: tuple[str, str],
) -> None:
    adsl = specs.datasets.get("ADSL")
    for ref in sorted(args.inputs()):
        if ref in defined:
            continue
        if name != "ADSL" and adsl is not None and ref in adsl.variables:
            _check_not_working(var, "ADSL", ref, adsl.variables[ref], doc, loc)
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
        if not is_adam(dom):
            continue
        other = specs.datasets.get(dom)
        if other is None:
            raise SpecError(f"{var}: reads dataset {dom}, which has no spec", where=doc.where(loc))
        if dom == name:
            raise SpecError(
                f"{var}: a dataset cannot look itself up; use the variable name",
                where=doc.where(loc),
            )
        if v not in other.variables and v != "USUBJID":
            raise SpecError(f"{var}: {dom} has no variable {v} in its spec", where=doc.where(loc))
        if v in other.variables:
            _check_not_working(var, dom, v, other.variables[v], doc, loc)


def _check_not_working(
    var: str, dom: str, used: str, spec: VariableSpec, doc: SpecDocument, loc: tuple[str, str]
) -> None:
    """A working variable of another dataset is not kept: it cannot be read."""
    if spec.working(used):
        raise SpecError(
            f"{var}: uses {dom}.{used}, a working variable of {dom} (not kept once {dom} is built)",
            where=doc.where(loc),
            hint=f"keep it in {dom} (a name without a leading _, no 'keep: false'), or derive "
            "it again here",
        )


def _check_conventions_used(
    specs: AdamSpecs, var: str, args: OpArgs, doc: SpecDocument, loc: tuple[str | int, ...]
) -> None:
    conv = specs.conventions
    known: dict[str, set[Any]] = {
        "period": {p.aperiod for p in conv.periods},
        "phase": {p.aphasen for p in conv.phases},
        "window": set(conv.windows),
    }
    for kind, value in sorted(args.conventions_used(), key=str):
        if value not in known[kind]:
            what = f"window set {value!r}" if kind == "window" else f"{kind} {value}"
            raise SpecError(f"{var}: {what} is not in conventions.yaml", where=doc.where(loc))
