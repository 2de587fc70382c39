"""Controlled terminology: raw terms to CDISC submission values, code/decode pairs,
units and the study's standard units."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cdisc_mapper.derive import units as dunits
from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm import ctutil
from cdisc_mapper.sdtm.context import OpContext
from cdisc_mapper.sdtm.ops._common import (
    ColumnOrVariable,
    by_record,
    in_variable,
    input_values,
    with_file,
)
from cdisc_mapper.sdtm.registry import register
from cdisc_mapper.spec.operations import Example, OpArgs
from cdisc_mapper.standards import Codelist


class CtArgs(ColumnOrVariable):
    codelist: str = Field(
        description="codelist whose submission values are the output, by short name or NCI "
        "code (e.g. SEX, AESEV, C66769, or a sponsor codelist of specs/sponsor)"
    )
    synonyms: dict[str, str] = Field(
        default_factory=dict,
        description="the study's raw term -> submission value (e.g. {Possibly Related: "
        "POSSIBLE}), tried before the codelist; keys compared as raw terms are (case, "
        "surrounding and repeated spaces ignored). A target must be a term of the codelist "
        "unless the codelist is extensible (then it adds a sponsor term)",
    )


def _term_key(text: str) -> str:
    """How a raw term and a study synonym's key are compared: upper case, surrounding
    spaces removed, repeated spaces as one."""
    return re.sub(r"\s+", " ", text.strip()).upper()


@register(
    "ct",
    CtArgs,
    method=(
        "[Raw {column}][{variable}] as its submission value in codelist {codelist}[ "
        "(study synonyms: {synonyms})]."
    ),
    origin="Collected",
    row_local=True,
    example=Example(
        spec="AESEV: {op: ct, column: IT.AESEV, codelist: AESEV, synonyms: {Light: MILD}}",
        raw={"IT.AESEV": ["Mild Adverse Event", "moderate", " SEVERE ", "Grade 1", "light", ""]},
        gives=["MILD", "MODERATE", "SEVERE", "MILD", "MILD", ""],
        note="Mild Adverse Event is MILD's NCI preferred term, Grade 1 its CDISC synonym; "
        "Light is the study's synonym.",
    ),
)
def op_ct(frame: pd.DataFrame, args: CtArgs, ctx: OpContext) -> pd.Series:
    """A raw term as its codelist's submission value (SDTMIG 3.4 section 4.3, controlled
    terminology). Tried in order, the first step with exactly one term wins: the study's
    ``synonyms``; the submission value exactly; then, ignoring case, surrounding spaces and
    repeated inner spaces, the submission value (``female`` -> F), a CDISC synonym
    (``Grade 1`` -> MILD) and the NCI preferred term (``Mild Adverse Event`` -> MILD,
    ``Black Or African American`` -> BLACK OR AFRICAN AMERICAN). A term matching two terms
    in one step is no match. Blank stays blank. Any other term is an error listing every
    occurrence (file and row), also for an extensible codelist: a sponsor's own term goes
    in ``synonyms`` (``{Once Daily: QD}``, or ``{Investigator Decision: INVESTIGATOR
    DECISION}`` to extend the list). Nothing is passed through unmapped."""
    src = input_values(frame, args, ctx)
    codelist = ctx.terminology.get(args.codelist)
    syn = {_term_key(k): v for k, v in args.synonyms.items()}
    for target in syn.values():
        if codelist.term(target) is None and not codelist.extensible:
            raise MappingError(
                f"{ctx.domain}.{ctx.variable}: synonym target {target!r} is not a term of "
                f"non-extensible codelist {args.codelist}",
                where=ctx.spec_where,
            )
    uniq = pd.unique(src)
    lookup: dict[str, str | None] = {}
    for raw in uniq:
        text = str(raw).strip()
        if text == "":
            lookup[raw] = ""
            continue
        key = _term_key(text)
        if key in syn:
            lookup[raw] = syn[key]
            continue
        term = codelist.match(text)
        lookup[raw] = term.submission_value if term is not None else None
    out = _looked_up(src, lookup)
    bad = out.isna()
    if bad.any():
        holder = ctx.raw if args.column is not None else frame
        raise ctx.data_error(
            f"term not in codelist {args.codelist} (add a synonym in the spec, or correct "
            "the raw data)",
            holder,
            bad,
            value_of=src,
        )
    return out.astype(object)


def _looked_up(src: pd.Series, lookup: dict[Any, str | None]) -> pd.Series:
    """``src.map(lookup)`` for text values, looked up once per distinct value and taken to
    the rows by position (an object Series on ``src``'s index)."""
    codes, uniques = pd.factorize(src, use_na_sentinel=True)
    if len(codes) and codes.min() < 0:  # a missing value: as pandas maps it
        return src.map(lookup)
    per_unique = np.empty(len(uniques), dtype=object)
    per_unique[:] = [lookup.get(u) for u in uniques]
    return pd.Series(per_unique[codes], index=src.index, dtype=object)


class DecodeArgs(OpArgs):
    variable: str = Field(description="variable holding the coded value (e.g. LBTESTCD)")
    codelist: str = Field(description="codelist of the coded value (e.g. LBTESTCD)")
    target: str = Field(description="paired codelist whose term is given (e.g. LBTEST)")

    def inputs(self) -> set[str]:
        return {self.variable}


@register(
    "ct_decode",
    DecodeArgs,
    method=(
        "The term of codelist {target} paired with the {codelist} term in {variable} "
        "(same NCI code; for a sponsor list, the term's decode)."
    ),
    origin="Derived",
    row_local=True,
    example=Example(
        spec="VSTEST: {op: ct_decode, variable: VSTESTCD, codelist: VSTESTCD, target: VSTEST}",
        records={"VSTESTCD": ["SYSBP", "TEMP", "HEIGHT", ""]},
        gives=["Systolic Blood Pressure", "Temperature", "Height", ""],
    ),
)
def op_ct_decode(frame: pd.DataFrame, args: DecodeArgs, ctx: OpContext) -> pd.Series:
    """The paired codelist's term for a coded value (--TESTCD -> --TEST, e.g. VSTESTCD
    SYSBP -> VSTEST Systolic Blood Pressure; SDTMIG 3.4 section 4.3): the term of
    ``target`` with the same NCI code; for a sponsor list (``target`` the same list), the
    term's decode. Blank stays blank; a value that is not a term of ``codelist``, or has no
    pair, is an error naming every record."""
    src = frame[args.variable].fillna("").astype(str)
    code_list = ctx.terminology.get(args.codelist)
    target = ctx.terminology.get(args.target)
    table: dict[str, str] = {"": ""}
    for value in pd.unique(src):
        if value == "":
            continue
        term = code_list.term(value)
        decoded = None
        if term is not None:
            decoded = ctutil.decode(code_list, target, term)
        if decoded is None:
            raise ctx.data_error(
                f"no {args.target} term pairs with {args.codelist} value",
                frame,
                src == value,
                value_of=src,
            )
        table[value] = decoded
    return src.map(table).astype(object)


class UnitArgs(OpArgs):
    column: str | None = Field(
        default=None,
        description="raw column holding the unit as typed (only inside a source's "
        "`variables`); give one of `column`, `variable` or `value`",
    )
    variable: str | None = Field(
        default=None, description="variable of the same domain holding the unit as typed"
    )
    value: str | None = Field(
        default=None,
        description="one unit for every record (e.g. kg) when the unit is not collected",
    )
    codelist: str = Field(
        default="UNIT",
        description="codelist the unit must be a submission value of; a non-extensible one "
        "rejects any other unit",
    )

    @model_validator(mode="after")
    def _one_source(self) -> UnitArgs:
        given = [k for k in ("column", "variable", "value") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of column (raw), variable (mapped) or value")
        return self

    def inputs(self) -> set[str]:
        return {self.variable} if self.variable else set()


@register(
    "unit",
    UnitArgs,
    method=(
        "[Raw {column}][{variable}] as a submission value of codelist {codelist}, "
        "through the study's unit synonyms."
    ),
    origin="Collected",
    example=Example(
        spec="LBORRESU: {op: unit, column: UNIT}",
        raw={"UNIT": ["g/L", "mg/dl", "X10^9 / L", "°C", "Milligram", "BEATS/MIN", ""]},
        gives=["g/L", "mg/dL", "10^9/L", "C", "mg", "beats/min", ""],
        note="mg/dl, x10^9/l and °C are spellings in the bundled study's `units.synonyms`; "
        "beats/min is one of its standard units; Milligram is the NCI preferred term of mg.",
    ),
)
def op_unit(frame: pd.DataFrame, args: UnitArgs, ctx: OpContext) -> pd.Series:
    """A unit as a submission value of the UNIT codelist (--ORRESU, --DOSU; SDTMIG 3.4
    section 4.5.1.1). Tried in order: the submission value exactly (``mg``); a spelling of
    study.yaml ``units.synonyms`` or one of its standard units (``units.standard``),
    ignoring case and all spaces (``X10^9 / L`` matches the synonym ``x10^9/l``;
    ``BEATS/MIN`` the standard unit beats/min); then, ignoring case and repeated spaces,
    the codelist's submission value, a CDISC synonym or the NCI preferred term
    (``Milligram`` -> mg, ``Degree Celsius`` -> C), unless the spelling names two terms
    (``pa``: Pa or PA). Blank stays blank. Any other spelling is an error listing every
    record: add it to ``units.synonyms``. With ``codelist`` a non-extensible list (AGEU),
    a unit outside it is an error. A study synonym from one submission value to another
    (``IU/L: U/L``) is the study's decision and wins over the exact match, and the
    study's own spellings (standard units, ``value``) are taken as the codelist writes
    them (``MG`` is mg)."""
    if args.value is not None:
        src = pd.Series([args.value] * len(frame), index=frame.index, dtype=object)
    elif args.variable is not None:
        src = frame[args.variable].fillna("").astype(str)
    else:
        assert ctx.raw is not None
        src = ctx.raw[args.column]
    codelist = ctx.terminology.get(args.codelist)
    synonyms = dict(ctx.study.units.synonyms)
    for table in ctx.study.units.standard.values():
        for unit in table.values():
            synonyms.setdefault(unit, canonical_unit(unit, codelist))
    if args.value is not None:
        synonyms.setdefault(args.value, canonical_unit(args.value, codelist))
    src = src.fillna("").astype(str).str.strip()
    renamed = set(_renamed(synonyms))
    submission = set(codelist.submission_values)
    exact_units = [
        u for u in pd.unique(src) if u in submission and dunits.unit_key(u) not in renamed
    ]
    exact = src.isin(exact_units)  # decided once per distinct spelling
    synonyms.update(_codelist_spellings(pd.unique(src[~exact]), synonyms, codelist))
    out = src.copy()
    try:
        if (~exact).any():
            todo = src[~exact] if ctx.raw is not None else by_record(frame, src)[~exact.to_numpy()]
            out[~exact] = dunits.normalise_unit(todo, synonyms).to_numpy()
    except MappingError as exc:
        if ctx.raw is None:
            raise in_variable(exc, ctx) from None
        raise with_file(exc, ctx, args.column or args.variable or "unit") from None
    if not codelist.extensible:
        bad = (out != "") & ~out.isin(list(codelist.submission_values))
        if bad.any():
            raise ctx.data_error(f"unit not in codelist {args.codelist}", frame, bad, value_of=out)
    return out


def canonical_unit(unit: str, codelist: Codelist) -> str:
    """A unit the study spec writes, as the codelist writes it: a submission value as it
    is, else the one term it names ignoring case (``MG`` -> ``mg``, ``Milligram`` -> mg),
    else as written (the unit operation then reports it where a record uses it)."""
    if unit in codelist:
        return unit
    term = codelist.match(unit)
    return term.submission_value if term is not None else unit


def _renamed(synonyms: dict[str, str]) -> list[str]:
    """The spellings (as :func:`~cdisc_mapper.derive.units.unit_key` keys them) the study
    maps to another unit (``IU/L: U/L``): an exact match of the codelist must not keep
    them."""
    keys = {dunits.unit_key(k): dunits.unit_key(v) for k, v in synonyms.items()}
    return [k for k, v in keys.items() if k != v]


def _codelist_spellings(
    spellings: Iterable[str], synonyms: dict[str, str], codelist: Codelist
) -> dict[str, str]:
    """The spellings the study's table does not know that name one term of the unit
    codelist (its submission value in another case, a CDISC synonym or the NCI preferred
    term, e.g. ``Milligram`` -> ``mg``); a spelling naming two terms (``pa``: ``Pa`` or
    ``PA``) is left out, so it stays unknown."""
    known = {dunits.unit_key(k) for k in synonyms} | {dunits.unit_key(v) for v in synonyms.values()}
    found: dict[str, str] = {}
    for spelling in spellings:
        if spelling and dunits.unit_key(spelling) not in known:
            term = codelist.match(spelling)
            if term is not None:
                found[spelling] = term.submission_value
    return found


class StdUnitArgs(OpArgs):
    testcd: str = Field(
        description="variable holding the test code (--TESTCD), looked up in study.yaml "
        "`units.standard` under this domain"
    )
    result: str | None = Field(
        default=None,
        description="variable holding the result (e.g. LBORRES): the unit stays blank where it "
        "is blank; none: every record gets its test's unit",
    )

    def inputs(self) -> set[str]:
        return {self.testcd} | ({self.result} if self.result else set())


@register(
    "standard_unit",
    StdUnitArgs,
    method=(
        "The standard unit the study declares for the test in {testcd}[, blank where "
        "{result} is blank]."
    ),
    origin="Assigned",
    row_local=True,
    example=Example(
        spec="VSSTRESU: {op: standard_unit, testcd: VSTESTCD, result: VSORRES}",
        records={
            "VSTESTCD": ["TEMP", "WEIGHT", "HEIGHT", "SYSBP", "FRMSIZE"],
            "VSORRES": ["98.6", "150", "", "120", "MEDIUM"],
        },
        gives=["C", "kg", "", "mmHg", ""],
        note="The bundled study's `units.standard` for VS: TEMP C, WEIGHT kg, HEIGHT cm, "
        "SYSBP mmHg; FRMSIZE has none.",
    ),
)
def op_standard_unit(frame: pd.DataFrame, args: StdUnitArgs, ctx: OpContext) -> pd.Series:
    """--STRESU, the standard unit the study declares for the record's test (study.yaml
    ``units.standard``, under the domain being mapped, by test code; SDTMIG 3.4 section
    4.5.1.1); blank for a test without one and, with ``result``, where the result is
    blank (a test not done has no unit). ``stresc`` then converts the result to it. A
    unit declared in another case (``MG``) is the UNIT codelist's (``mg``)."""
    units = ctx.terminology.get("UNIT")
    declared = ctx.study.units.standard.get(ctx.domain, {})
    table = {test: canonical_unit(unit, units) for test, unit in declared.items()}
    tests = frame[args.testcd].fillna("").astype(str)
    out = tests.map(table).fillna("")
    if args.result:
        out = out.where(frame[args.result].fillna("").astype(str) != "", "")
    return out.astype(object)
