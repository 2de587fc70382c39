"""Loading and checking a study's ADaM specs (``<study>/adam/*.yaml``).

:func:`load_adam_specs` reads ``conventions.yaml``, ``reports.yaml`` and one file per
dataset, validates each against its model, and checks them against the ADaM registries
the stage passes in: unknown derivation or record-builder names, bad arguments, variables
used before they are derived, periods, windows and datasets that do not exist, labels
given for ADaMIG variables or missing where nothing else gives one (a sponsor variable,
or a variable named by an ADaMIG rule whose label is a placeholder such as ``{Date}``);
:func:`adamig_variable` says which ADaMIG definition, if any, settles a variable. Every error is a
:class:`~cdisc_mapper.errors.SpecError` at the spec line, before any data is read.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdisc_mapper.errors import Location, SpecError
from cdisc_mapper.spec.adam import (
    ADAM_FOLDER,
    CONVENTIONS_FILE,
    REPORTS_FILE,
    Conventions,
    DatasetSpec,
    EventRef,
    ProgressionSummarySpec,
    ReportsSpec,
    VariableSpec,
)
from cdisc_mapper.spec.base import is_adam, split_source, validate_model
from cdisc_mapper.spec.operations import ColumnMeta, OpArgs, Registry
from cdisc_mapper.spec.yamlio import SpecDocument, load_spec_yaml
from cdisc_mapper.standards import VariableMeta, load_adamig, load_sdtmig
from cdisc_mapper.standards.metadata import label_placeholders

#: The keys of a variable entry that are not its derivation's arguments.
VARIABLE_META = set(VariableSpec.model_fields) - {"args"}


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


def record_columns(specs: AdamSpecs, name: str) -> dict[str, ColumnMeta]:
    """The columns the dataset's record steps make, with their metadata."""
    ds = specs.datasets[name]
    out: dict[str, ColumnMeta] = {}
    for i, step in enumerate(ds.records):
        builder = specs.builders.require(step.op)
        out.update(builder.columns(specs.record_args[(name, i)], specs.conventions))
    return out


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
        _check_label(specs, name, vspec, var, adamig_variable(specs, name, var), doc, loc)
    variable_order(specs, name)
    _check_step_order(specs, name, ds, doc)


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


def sdtm_variable(domain: str, name: str) -> VariableMeta | None:
    """SDTMIG 3.4 metadata of ``domain.name``: the domain's IG variable or, for a general
    observation class domain, an SDTM model class variable it may hold (``--STDY``); None
    for an unknown domain or a variable the standard does not define (a sponsor variable,
    a supplemental qualifier)."""
    sdtmig = load_sdtmig()
    if not sdtmig.has_dataset(domain):
        return None
    return sdtmig.variable_allowed(domain, name)


def adamig_definitions(structure: str, var: str) -> list[VariableMeta]:
    """The ADaMIG v1.3 definitions of ``var`` in a dataset of ``structure``, the one that
    wins first: the variable of that exact name in the structure (``ADT`` in BDS); outside
    ADSL, the ADSL variable of that exact name (a BDS or OCCDS dataset may hold any ADSL
    variable, ADaMIG v1.3 section 3.3.1 and OCCDS v1.1, so ``TRTSDT`` is "Date of First
    Exposure to Treatment", not the ``*DT`` rule's placeholder ``{Date}``); then generic
    names, named ones before suffix rules and the structure's own before ADSL's
    (``TRT01P`` -> ``TRTxxP``; ``DTHADY`` -> ``*ADY``)."""
    adamig = load_adamig()
    found = adamig.matches(structure, var)
    if structure != "ADSL":
        found += adamig.matches("ADSL", var)
    return sorted(found, key=lambda m: (m.template is not None, m.is_suffix_template))


def adamig_variable(specs: AdamSpecs, name: str, var: str) -> VariableMeta | None:
    """The ADaMIG definition that settles ``name.var``'s label and type, or None.

    The first of :func:`adamig_definitions`, except that a generic name never settles a
    variable carried under its own name from SDTM or another ADaM dataset
    (:func:`copied_from`): that keeps its source's label and type (``VSELTM``, SDTM text,
    is not the ``*TM`` rule's numeric time). A generic name's label may be a placeholder
    the spec must replace (see :func:`_check_label`).
    """
    found = adamig_definitions(specs.datasets[name].structure, var)
    if not found:
        return None
    if found[0].template is not None and copied_from(specs, name, var) is not None:
        return None
    return found[0]


def _check_label(
    specs: AdamSpecs,
    name: str,
    vspec: VariableSpec,
    var: str,
    meta: VariableMeta | None,
    doc: SpecDocument,
    loc: tuple[str, str],
) -> None:
    """A variable's label comes from exactly one place: ADaMIG for its own variables, the
    spec or ADaMIG for a variable named by an ADaMIG rule (the spec's when the rule's
    label is a placeholder), the source or the spec for a copied variable, the spec for
    a sponsor variable."""
    structure = specs.datasets[name].structure
    if meta is None:
        if vspec.label is None and not _copied_standard(specs, name, var):
            raise _label_needed(specs, name, var, doc.where(loc))
        return
    if meta.template is None and vspec.label is not None:
        raise SpecError(
            f"{var}: ADaMIG defines this variable; its label is {meta.label!r} and cannot be set",
            where=doc.where((*loc, "label")),
            hint="remove 'label' (only sponsor variables take a label from the spec)",
        )
    placeholders = label_placeholders(meta.label)
    if placeholders and vspec.label is None:
        raise SpecError(
            f"{var}: ADaMIG {structure} names it by the rule {meta.template}, which gives no "
            f"label of its own (only a pattern: {_pattern_text(meta.label)}); give it a "
            f"'label' (at most 40 characters), e.g.  label: {suggested_label(var, meta)}",
            where=doc.where(loc),
            hint=f"the label says which {' and '.join(p.lower() for p in placeholders)} "
            f"{var} holds",
        )
    if vspec.type is not None and vspec.type != meta.type:
        rule = f" (rule {meta.template})" if meta.template else ""
        raise SpecError(
            f"{var}: ADaMIG type{rule} is {meta.type}, not {vspec.type}",
            where=doc.where((*loc, "type")),
            hint="remove 'type', or name the variable so that no ADaMIG rule covers it",
        )


def _pattern_text(label: str) -> str:
    """An ADaMIG rule's label with its placeholders in words (``{Relative End Day}`` ->
    ``<Relative End Day>``), so that a message never shows the braces as a label."""
    return label.replace("{", "<").replace("}", ">")


def suggested_label(var: str, meta: VariableMeta) -> str:
    """A label to propose for ``var``, named by the ADaMIG rule of ``meta`` whose label is a
    placeholder: the rule's words, after the part of the name the rule's ``*`` stands for
    (``TRTEDY`` by ``*EDY`` -> ``TRT Relative End Day``)."""
    words = " ".join(meta.label.replace("{", " ").replace("}", " ").split())
    template = meta.template or ""
    stem = ""
    if template.startswith("*") and var.endswith(template[1:]):
        stem = var[: len(var) - len(template) + 1]
    text = f"{stem} {words}".strip() if stem else words
    return text[:40]


def _misspelt_source(specs: AdamSpecs, name: str, var: str) -> SpecError | None:
    """The error for a variable that reads an SDTM variable SDTMIG 3.4 does not define for
    its domain while one of the domain's standard names is close (``DM.RFICDT`` for
    ``DM.RFICDTC``): most likely a misspelt source, not a sponsor variable."""
    sdtmig = load_sdtmig()
    for dom, v in sorted(specs.op_args[(name, var)].lookups()):
        if not dom or is_adam(dom) or not sdtmig.has_dataset(dom) or v == "USUBJID":
            continue
        if sdtm_variable(dom, v) is not None:
            continue
        known = [m.name for m in sdtmig.allowed_variables(dom) if "-" not in m.name]
        close = difflib.get_close_matches(v, known, n=3, cutoff=0.75)
        if close:
            return SpecError(
                f"{var}: {dom} has no variable {v} in SDTMIG 3.4 (close: {', '.join(close)})",
                where=specs.where(name, ("variables", var)),
                hint=f"correct the source (e.g. {dom}.{close[0]}); if {dom}.{v} is a sponsor "
                f"or supplemental variable of your SDTM, give {var} a 'label'",
            )
    return None


def _label_needed(specs: AdamSpecs, name: str, var: str, where: Location) -> SpecError:
    """The error for a variable nothing gives a label: a sponsor variable, or a copy of an
    SDTM variable SDTMIG does not define (a supplemental qualifier, a sponsor variable);
    a source misspelling a standard SDTM name is reported as such."""
    misspelt = _misspelt_source(specs, name, var)
    if misspelt is not None:
        return misspelt
    copy = copied_from(specs, name, var)
    if copy is None:
        return SpecError(
            f"{var}: a sponsor variable (not in ADaMIG {specs.datasets[name].structure} "
            "metadata, nor a copied SDTM variable) needs a 'label' (at most 40 characters)",
            where=where,
        )
    return SpecError(
        f"{var}: copies {copy[0]}.{copy[1]}, which SDTMIG 3.4 does not define, so it needs a "
        "'label' (at most 40 characters)",
        where=where,
        hint=f"give the label {copy[0]} has for it, so that SDTM and ADaM agree",
    )


def _copied_standard(specs: AdamSpecs, name: str, var: str) -> bool:
    """Whether ``var`` copies an ADaM variable or an SDTMIG variable of the same name."""
    copy = copied_from(specs, name, var)
    if copy is None:
        return False
    dom, src = copy
    return is_adam(dom) or sdtm_variable(dom, src) is not None


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


def check_reports(specs: AdamSpecs) -> None:
    """Every report names a dataset with a spec and variables that dataset has."""
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
        if rep.figures is not None and rep.figures.markers is not None:
            wanted |= rep.figures.markers.variables() | {"APERSDT"}
        labels = [row.label for row in rep.rows]
        if rep.figures is not None and rep.figures.row not in labels:
            raise SpecError(
                f"report {rep.name}: figures: row {rep.figures.row!r} is not the label of a "
                f"row (rows: {', '.join(repr(x) for x in labels)})",
                where=doc.where(("progression_summaries", i, "figures", "row")) if doc else None,
            )
        needs = {rep.dataset: wanted} | report_sources(rep)
        for name, variables in needs.items():
            _check_report_variables(specs, doc, i, rep.name, name, variables)


def report_sources(rep: ProgressionSummarySpec) -> dict[str, set[str]]:
    """The other datasets a report reads and the variables it reads from each."""
    needs: dict[str, set[str]] = {}
    cc = rep.clinical_change
    if cc is not None:
        where = cc.where.variables() if cc.where is not None else set()
        needs.setdefault(cc.dataset, set()).update({"PARAMCD", "AVAL", cc.date} | where)
        needs.setdefault("ADSL", set()).update({rep.population, cc.reference})
    for traj in rep.figures.trajectories if rep.figures is not None else []:
        where = traj.where.variables() if traj.where is not None else set()
        needs.setdefault(traj.dataset, set()).update({"PARAMCD", "AVAL", "ADT"} | where)
        if traj.fit_where is not None:
            needs.setdefault(rep.dataset, set()).update(traj.fit_where.variables())
    return needs


def _check_report_variables(
    specs: AdamSpecs, doc: SpecDocument | None, i: int, report: str, name: str, wanted: set[str]
) -> None:
    ds = specs.datasets.get(name)
    if ds is None:
        raise SpecError(
            f"report {report}: dataset {name} has no spec",
            where=doc.where(("progression_summaries", i)) if doc else None,
        )
    for v in sorted(wanted):
        if v not in ds.variables:
            raise SpecError(
                f"report {report}: {name} has no variable {v}",
                where=doc.where(("progression_summaries", i)) if doc else None,
            )
