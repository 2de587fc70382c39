"""Which standard settles an ADaM variable's label and type, and the checks of labels.

:func:`adamig_variable` says which ADaMIG v1.3 definition, if any, settles a variable;
:func:`sdtm_variable` gives SDTMIG 3.4 metadata of a copied SDTM variable;
:func:`check_label` reports a label given for an ADaMIG variable or missing where nothing
else gives one (a sponsor variable, or a variable named by an ADaMIG rule whose label is a
placeholder such as ``{Date}``), as a :class:`~cdisc_mapper.errors.SpecError` at the spec
line.
"""

from __future__ import annotations

import difflib

from cdisc_mapper.errors import Location, SpecError
from cdisc_mapper.spec.adam import VariableSpec
from cdisc_mapper.spec.adam_specs import AdamSpecs, copied_from
from cdisc_mapper.spec.base import is_adam
from cdisc_mapper.spec.yamlio import SpecDocument
from cdisc_mapper.standards import VariableMeta, load_adamig, load_sdtmig
from cdisc_mapper.standards.metadata import label_placeholders


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
    the spec must replace (see :func:`check_label`).
    """
    found = adamig_definitions(specs.datasets[name].structure, var)
    if not found:
        return None
    if found[0].template is not None and copied_from(specs, name, var) is not None:
        return None
    return found[0]


def check_label(
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
