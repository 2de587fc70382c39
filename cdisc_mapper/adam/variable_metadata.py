"""define.xml metadata of an ADaM dataset's variables, from the specs and standards alone.

:func:`variable_metadata` settles each written variable's label, type, code list, core,
standard, display format, origin, method and source by precedence (ADaMIG for its own
variables; the source for a variable carried under its own name; an ADaMIG rule's for a
variable it names; the spec for the rest). The engine (:mod:`cdisc_mapper.adam.engine`)
calls it for every dataset before building any.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.model import AdamVariable, ValueLevel
from cdisc_mapper.adam.ops import DERIVATIONS
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam_labels import adamig_variable, sdtm_variable
from cdisc_mapper.spec.adam_specs import copied_from
from cdisc_mapper.spec.base import is_adam, split_source
from cdisc_mapper.spec.operations import ColumnMeta
from cdisc_mapper.standards import load_sdtmig


def _supp_source(source: str | None, sdtmig) -> str | None:
    """``MH.MHONSITE`` -> ``SUPPMH.QVAL (QNAM = MHONSITE)`` when SDTMIG has no such
    MH variable (the value is a supplemental qualifier merged into its parent)."""
    if not source or "," in source:
        return source
    dom, var = split_source(source)
    if not dom or is_adam(dom) or var.startswith("_") or not sdtmig.has_dataset(dom):
        return source
    if sdtmig.variable(dom, var) is None:
        return f"SUPP{dom}.QVAL (QNAM = {var})"
    return source


@dataclass
class _Attributes:
    """Label, type, code list, core and standard of one variable, as they are settled."""

    label: str | None
    type: Literal["Char", "Num"] | None
    codelist: str | None
    core: str | None = None
    standard: str = "sponsor"


def _attributes(
    ctx: BuildContext,
    name: str,
    var: str,
    meta: ColumnMeta,
    done: dict[str, list[AdamVariable]],
) -> _Attributes:
    """Label, type, code list, core and standard of ``name.var``, by precedence (rules:
    :func:`~cdisc_mapper.spec.adam_labels.adamig_variable`): ADaMIG for its own variables;
    the source for a variable carried under its own name (an SDTM variable keeps its
    SDTMIG metadata, an ADaM one its dataset's); an ADaMIG rule's for a variable it names;
    the spec for the rest. A spec label replaces a rule's or a source's."""
    specs = ctx.specs
    vspec = specs.datasets[name].variables[var]
    out = _Attributes(vspec.label, vspec.type or meta.type, vspec.codelist or meta.codelist)
    std = adamig_variable(specs, name, var)
    if std is not None:
        out.label = vspec.label or std.label
        out.type, out.core, out.standard = std.type, std.core, "ADaMIG 1.3"
        if std.codelist_codes and not out.codelist:
            out.codelist = std.codelist_codes[0]
        return out
    copy = copied_from(specs, name, var)
    if copy is not None:
        _carry(out, copy, vspec, done)
    return out


def _carry(
    out: _Attributes,
    copy: tuple[str, str],
    vspec: Any,
    done: dict[str, list[AdamVariable]],
) -> None:
    """Settle ``out`` from the variable a same-name copy carries (what the spec states
    wins): an ADaM dataset's variable as that dataset has it, an SDTM one as SDTMIG
    (or the SDTM model) defines it; a variable neither knows keeps the spec's label and
    the type its data have."""
    dom, src = copy
    if is_adam(dom):
        other = next((v for v in done.get(dom, ()) if v.name == src), None)
        if other is None:
            return
        label, vtype, standard, codelist = other.label, other.type, other.standard, other.codelist
    else:
        sv = sdtm_variable(dom, src)
        if sv is None:
            return
        label, vtype, standard, codelist = sv.label, sv.type, "SDTMIG 3.4", None
    out.label = vspec.label or label
    out.type = vspec.type or vtype
    out.standard = standard
    out.codelist = out.codelist or codelist


def _copied_type(args: Any) -> Literal["Char", "Num"] | None:
    """The type of the SDTM variable a ``value``/``recode`` derivation copies (a
    supplemental qualifier, not in SDTMIG, has a character QVAL)."""
    dom, src = split_source(args.source)
    if not dom or is_adam(dom):
        return None
    sdtmig = load_sdtmig()
    sv = sdtmig.variable(dom, src) if sdtmig.has_dataset(dom) else None
    return sv.type if sv is not None else "Char"


def _format(
    ctx: BuildContext,
    name: str,
    var: str,
    meta: ColumnMeta,
    attrs: _Attributes,
    done: dict[str, list[AdamVariable]],
) -> str | None:
    """The display format: the spec's, DATE9. for numeric dates, or the copied variable's
    (whose type also settles a type nothing else stated)."""
    ds = ctx.specs.datasets[name]
    vspec = ds.variables[var]
    if vspec.format is not None:
        return vspec.format
    is_ig = attrs.standard == "ADaMIG 1.3"
    if attrs.type == "Num" and meta.format:
        return meta.format
    if attrs.type == "Num" and (meta.date or (var.endswith("DT") and is_ig)):
        return "DATE9."
    if vspec.derive != "value":
        return None
    dom, src = split_source(ctx.specs.op_args[(name, var)].source)
    if dom not in done:
        return None
    other = next(v for v in done[dom] if v.name == src)
    if attrs.type is None:
        attrs.type = other.type
    return other.format if other.type == attrs.type else None


def variable_metadata(
    ctx: BuildContext, name: str, done: dict[str, list[AdamVariable]]
) -> list[AdamVariable]:
    """define.xml metadata of a dataset's variables, from the specs and standards alone
    (``done`` holds the metadata of datasets it copies variables from). A type nothing
    states (rare) is left empty and taken from the data when the dataset is finished."""
    specs = ctx.specs
    ds = specs.datasets[name]
    out: list[AdamVariable] = []
    for var, vspec in ds.variables.items():
        if vspec.working(var):
            continue  # derived for later derivations, never written
        args = specs.op_args[(name, var)]
        if vspec.derive == "keep":
            meta = ctx.state.columns.get(args.column or var, ColumnMeta())
        else:
            meta = DERIVATIONS.require(vspec.derive).meta(args, ctx)
        attrs = _attributes(ctx, name, var, meta, done)
        if attrs.label is None:
            raise SpecError(f"{name}.{var}: no label", where=specs.where(name, ("variables", var)))
        if attrs.type is None and vspec.derive in ("value", "recode"):
            attrs.type = _copied_type(args)
        fmt = _format(ctx, name, var, meta, attrs, done)
        out.append(
            AdamVariable(
                name=var,
                label=attrs.label,
                type=attrs.type,
                format=fmt,
                origin=vspec.origin or meta.origin,
                method=vspec.method or meta.method,
                source=_supp_source(meta.source, load_sdtmig()),
                comment=vspec.comment,
                codelist=attrs.codelist,
                core=attrs.core,
                standard=attrs.standard,
                value_level=tuple(
                    ValueLevel(where={k: v}, origin=o, source=s, method=m)
                    for k, v, o, s, m in meta.value_level
                ),
            )
        )
    return out
