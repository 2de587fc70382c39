"""SDTM value-level metadata: where one variable's metadata differs between its records.

* Findings by test code: the result variables (``--ORRES``, ``--ORRESU``, ``--STRESC``,
  ``--STRESN``, ``--STRESU``) by ``--TESTCD`` when the tests differ in type, units or
  origin (a melted CRF form gives each test its own column); where every test looks the
  same (e.g. IE) there is none.
* By source form: a variable that several forms fill differently (origin or code list),
  where one variable is a different constant in each form (e.g. DSCAT, PRTRT) and so tells
  their records apart.
* SUPP-- QVAL by QNAM, each qualifier described by its parent-domain spec entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
import pandas as pd

from cdisc_mapper.define import datatypes
from cdisc_mapper.define.assemble import as_text, pair_decodes
from cdisc_mapper.define.datatypes import text_table
from cdisc_mapper.define.info import CodelistRef, MethodInfo, ValueLevelInfo, VarInfo
from cdisc_mapper.define.model import DocRef, Origin
from cdisc_mapper.sdtm.sources import MELT_UNIT, MELT_VALUE
from cdisc_mapper.spec.sdtm import DomainSpec, SourceSpec
from cdisc_mapper.spec.sdtm_loader import StudyBundle


class SdtmDescriber(Protocol):
    """What the value-level builders ask of the SDTM describer
    (:class:`cdisc_mapper.define.describe_sdtm.SdtmDescriber`)."""

    bundle: StudyBundle

    def part(self, code: str, source: int | None, name: str, depth: int = 0) -> Any: ...

    def merge(self, parts: list[Any]) -> tuple[Origin | None, MethodInfo | None]: ...

    def test_code(self, code: str, source: int, test: str) -> str: ...

    def raw_file(self, src: SourceSpec) -> str: ...

    def crf_doc(
        self, src: SourceSpec | None, columns: list[str] | None = None
    ) -> DocRef | None: ...


RESULT_SUFFIXES = ("ORRES", "ORRESU", "STRESC", "STRESN", "STRESU")
SUPP_QORIG = {"CRF": "Collected", "eDT": "Collected", "Derived": "Derived"}


def shape(values: pd.Series) -> tuple[str, ...]:
    present = sorted(v for v in values.unique() if v != "")
    if not present:
        return ("empty",)
    if all(datatypes.fits(v, "float") for v in present):
        return datatypes.numeric_type(pd.Series(present, dtype=object))[0], ""
    if len(present) <= 3:
        return ("text", *present)
    return ("text",)


def list_key(ref: CodelistRef | None) -> str | None:
    if ref is None:
        return None
    return ref.dictionary or getattr(ref.codelist, "short_name", None)


def entries(spec: DomainSpec | None):
    """(loc, source index or None, name, VariableSpec) of every spec variable entry."""
    if spec is None:
        return
    for i, src in enumerate(spec.sources):
        for name, var in src.variables.items():
            yield ("sources", i, "variables", name), i, name, var
    for name, var in spec.variables.items():
        yield ("variables", name), None, name, var


def qval_levels(
    d: SdtmDescriber, name: str, frame: pd.DataFrame
) -> tuple[list[ValueLevelInfo], set[str]]:
    """SUPP-- QVAL by QNAM: each qualifier's origin from its parent-domain spec entry
    (the ``supp:`` QORIG decides between Collected and Assigned/Protocol); also the set of
    origin types found."""
    parent = name[4:]
    spec = d.bundle.domains.get(parent)
    levels = []
    kinds = set()
    for qnam in sorted(as_text(frame["QNAM"]).unique()):
        found = [e for e in entries(spec) if e[2] == qnam]
        if not found:
            continue
        parts = [d.part(parent, src, qnam) for _, src, _, _ in found]
        origin, method = d.merge(parts)
        supp = found[0][3].supp
        if origin is not None and supp is not None and supp.qorig in SUPP_QORIG:
            wanted = SUPP_QORIG[supp.qorig]
            if wanted not in (origin.type, "Derived"):
                origin = Origin(wanted, "Investigator", origin.text, origin.document)
        kinds.add(origin.type if origin else "")
        levels.append(
            ValueLevelInfo(
                where=(("QNAM", "EQ", (qnam,)),),
                origin=origin,
                method=method,
                codelist=next((p.codelist for p in parts if p.codelist), None),
                label=supp.label if supp is not None else None,
                name=qnam,
                comment=next((p.comment for p in parts if p.comment), None),
            )
        )
    return levels, kinds


def discriminator(
    d: SdtmDescriber, code: str, spec: DomainSpec, columns: Iterable[str]
) -> tuple[str, list[str]] | None:
    """A variable (of ``columns``) every source sets to its own constant (e.g. DSCAT,
    PRTRT): it tells the records of each source apart. ``(name, constant of each
    source)``."""
    if len(spec.sources) < 2:
        return None
    for column in columns:
        if column in spec.variables:
            continue
        values = []
        for i, src in enumerate(spec.sources):
            var = src.variables.get(column)
            if var is None or var.op != "constant":
                break
            value = d.bundle.op_args[(code, i, column)].value
            values.append(as_text(pd.Series([value], dtype=object))[0])
        else:
            if len(set(values)) == len(values):
                return column, values
    return None


def source_levels(
    d: SdtmDescriber,
    code: str,
    spec: DomainSpec,
    frame: pd.DataFrame,
    variables: dict[str, VarInfo],
    labels: dict[str, str],
) -> None:
    """Value-level metadata by source form, for variables whose sources differ in
    origin or code list, where a discriminator variable tells the sources apart."""
    found = discriminator(d, code, spec, frame.columns)
    if found is None:
        return
    disc, constants = found
    for var, info in variables.items():
        if info.value_levels or var == disc:
            continue
        parts = {
            i: d.part(code, i, var) for i, src in enumerate(spec.sources) if var in src.variables
        }
        signatures = {(p.type, p.text, list_key(p.codelist)) for p in parts.values()}
        if len(parts) < 2 or len(signatures) < 2:
            continue
        levels = []
        for i, part in sorted(parts.items()):
            origin, method = d.merge([part])
            levels.append(
                ValueLevelInfo(
                    where=((disc, "EQ", (constants[i],)),),
                    origin=origin,
                    method=method,
                    codelist=part.codelist,
                    label=f"{labels.get(var, var)} ({disc} = {constants[i]})",
                    comment=part.comment,
                )
            )
        info.value_levels = levels


def findings_levels(
    d: SdtmDescriber,
    code: str,
    spec: DomainSpec,
    frame: pd.DataFrame,
    variables: dict[str, VarInfo],
    labels: dict[str, str],
) -> None:
    """Value-level metadata of the result variables by test code, when the tests
    differ in how their results are typed, measured or collected."""
    testcd = f"{code}TESTCD"
    if testcd not in frame.columns:
        return
    tests = [t for t in pd.unique(as_text(frame[testcd])) if t != ""]
    if len(tests) < 2:
        return
    tests = sorted(tests)
    decodes = pair_decodes(frame, testcd)
    test_codes, test_texts = text_table(frame[testcd])
    records = {t: np.isin(test_codes, np.flatnonzero(test_texts == t)) for t in tests}
    per_var: dict[str, list[ValueLevelInfo]] = {}
    differs = False
    for suffix in RESULT_SUFFIXES:
        var = f"{code}{suffix}"
        if var not in frame.columns or var not in variables:
            continue
        info = variables[var]
        values = as_text(frame[var])
        if (values == "").all():
            continue
        levels, signatures = [], set()
        for test in tests:
            origin, method = test_origin(d, code, spec, var, test, info)
            subset = values[records[test]]
            signatures.add((origin, shape(subset)))
            label = f"{labels.get(var, var)} ({decodes.get(test, test)})"
            levels.append(
                ValueLevelInfo(
                    where=((testcd, "EQ", (test,)),),
                    origin=origin,
                    method=method,
                    label=label,
                )
            )
        differs = differs or len(signatures) > 1
        per_var[var] = levels
    if differs:
        for var, levels in per_var.items():
            variables[var].value_levels = levels


def test_origin(
    d: SdtmDescriber, code: str, spec: DomainSpec, var: str, test: str, info: VarInfo
) -> tuple[Origin | None, MethodInfo | None]:
    """The origin of ``var`` on the records of one test (the melted item's column)."""
    for i, src in enumerate(spec.sources):
        if src.melt is None or var not in src.variables:
            continue
        args = d.bundle.op_args[(code, i, var)]
        column = getattr(args, "column", None)
        for item in src.melt.items:
            if d.test_code(code, i, item.test) != test:
                continue
            file = d.raw_file(src)
            if column == MELT_VALUE:
                return Origin(
                    "Collected",
                    "Investigator",
                    f"{file} {item.value}",
                    d.crf_doc(src, [item.value]),
                ), None
            if column == MELT_UNIT and item.unit_column:
                return Origin(
                    "Collected",
                    "Investigator",
                    f"{file} {item.unit_column}",
                    d.crf_doc(src, [item.unit_column]),
                ), None
            if column == MELT_UNIT:
                return Origin("Assigned", "Sponsor", f"Assigned: {item.unit}"), None
    return info.origin, info.method
