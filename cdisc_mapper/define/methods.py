"""One MethodDef per method text: variables derived the same way share it.

The describers give each derived variable its own method text; the assembler makes a
MethodDef per variable (``MT.<dataset>.<variable>``). Where several variables (of one or
several datasets, value-level items included) have the same text, type, document and
formal expression, define.xml says it once (Define-XML 2.1 section 5.3.11: a MethodDef
is referenced by every ItemRef it applies to), so a reviewer reads each rule once and a
rule repeated in every BDS dataset (the analysis windows of AVISIT and AVISITN) is one
MethodDef.

The shared MethodDef's OID is made from what it serves, so that reruns give the same
document: ``MT.<variable>`` when all its users are one variable name (``MT.USUBJID``),
``MT.<name1>.<name2>...`` (sorted) when several (``MT.AVISIT.AVISITN``), or, when that OID is
taken, the OID of its first user. Only generated methods are shared: a method the spec
names (``M-<ID>``, a workbook's method) keeps its own OID.
"""

from __future__ import annotations

from collections.abc import Iterator

from cdisc_mapper.define.model import DefineModel, ItemRef, Method, oid_part


def _refs(model: DefineModel) -> Iterator[tuple[ItemRef, str]]:
    """Every ItemRef with a method and the name of the variable it serves, in document
    order (datasets, then each variable's value-level items)."""
    lists = {item.valuelist_oid: item for item in model.items.values() if item.valuelist_oid}
    for ds in model.datasets:
        for ref in ds.item_refs:
            item = model.items[ref.item_oid]
            if ref.method_oid:
                yield ref, item.name
            vl = model.value_lists.get(item.valuelist_oid or "")
            if vl is None or lists.get(vl.oid) is not item:
                continue
            for level in vl.item_refs:
                if level.method_oid:
                    yield level, model.items[level.item_oid].name


def _key(method: Method) -> tuple:
    return (method.description, method.type, method.document, method.expression)


def share_methods(model: DefineModel, generated: set[str]) -> None:
    """Merge the ``generated`` MethodDefs of ``model`` that say the same (see the module
    docstring); the ItemRefs are pointed at the shared one."""
    users: dict[str, list[str]] = {}  # method OID -> the variable names it serves
    refs: list[ItemRef] = []
    for ref, name in _refs(model):
        refs.append(ref)
        users.setdefault(ref.method_oid or "", []).append(name)
    groups: dict[tuple, list[str]] = {}
    for oid in users:
        if oid in generated and oid in model.methods:
            groups.setdefault(_key(model.methods[oid]), []).append(oid)
    rename: dict[str, str] = {}
    for oids in groups.values():
        if len(oids) < 2:
            continue
        names = sorted({n for oid in oids for n in users[oid]})
        shared = "MT." + ".".join(oid_part(n) for n in names)
        if shared in model.methods and shared not in oids:
            shared = oids[0]
        first = model.methods[oids[0]]
        for oid in oids:
            del model.methods[oid]
            rename[oid] = shared
        model.methods[shared] = Method(
            oid=shared,
            name=f"Algorithm to derive {', '.join(names)}",
            description=first.description,
            type=first.type,
            document=first.document,
            expression=first.expression,
        )
    for ref in refs:
        if ref.method_oid in rename:
            ref.method_oid = rename[ref.method_oid]
