"""Terminology checks (CT): codelist values, code/decode pairs, Y/null flags."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.standards import Codelist
from cdisc_mapper.validate.checks.results import distinct_codes
from cdisc_mapper.validate.context import Context, DefineTerms, fmt_value
from cdisc_mapper.validate.model import ERROR, WARNING, scope
from cdisc_mapper.validate.package import Dataset, blank, is_char, row_keys
from cdisc_mapper.validate.registry import check


def _codelists(ctx: Context, ds: Dataset, col: str) -> list[Codelist]:
    meta = ds.ig_variable(ctx.standard_for(ds), col)
    if meta is None or not meta.codelist_codes:
        return []
    found = (ctx.terminology.find(code) for code in meta.codelist_codes)
    return [cl for cl in found if cl is not None]


_NUMERIC_RESULT = re.compile(r"^(?:[<>]=?|=)?\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


def _numeric_result_variable(ds: Dataset, col: str) -> bool:
    """--ORRES/--STRESC: their codelist (e.g. LBSTRESC C102580) covers text results only."""
    return ds.standard == "SDTM" and col[2:] in ("ORRES", "STRESC")


#: The value SDTMIG lets a non-result qualifier hold when several values were collected
#: (the individual values go to SUPP--): §4.2.8.3, and DM RACE ("MULTIPLE") by the DM
#: assumptions. Not a CDISC CT term, so it is accepted here rather than reported.
MULTIPLE = "MULTIPLE"
_MULTIPLE_ROLES = frozenset({"Record Qualifier", "Variable Qualifier"})


def _ig_permitted(ctx: Context, ds: Dataset, col: str) -> frozenset[str]:
    """Values outside CT that the SDTMIG itself permits for ``col``: MULTIPLE for a
    record or variable qualifier (RACE, AELOC, CMROUTE...)."""
    if ds.standard != "SDTM":
        return frozenset()
    meta = ds.ig_variable(ctx.sdtmig, col)
    return (
        frozenset({MULTIPLE}) if meta is not None and meta.role in _MULTIPLE_ROLES else frozenset()
    )


def _outside(ctx: Context, ds: Dataset, extensible: bool) -> None:
    """Flag values outside the variable's codelists, for extensible or strict lists."""
    for col in ds.columns:
        lists = _codelists(ctx, ds, col)
        if not lists or ds.df[col].dtype.kind in "fiub":
            continue
        is_extensible = any(cl.extensible for cl in lists)
        if is_extensible != extensible:
            continue
        skip_numbers = _numeric_result_variable(ds, col)
        permitted = _ig_permitted(ctx, ds, col)
        bad = [
            v
            for v in ds.uniques(col)
            if isinstance(v, str)
            and v
            and v not in permitted
            and not any(v in cl for cl in lists)
            and not (skip_numbers and _NUMERIC_RESULT.match(v))
        ]
        if not bad:
            continue
        declared = ctx.define.terms_of(ds.name, col) if ctx.define is not None else None
        if extensible and declared is not None:
            other = _other_cdisc_terms(ctx, declared, {cl.code for cl in lists})
            bad = [v for v in bad if v not in declared.extended and v not in other]
        if not bad:
            continue
        names = " or ".join(f"{cl.short_name} ({cl.code or 'sponsor'})" for cl in lists)
        kind = "extensible" if extensible else "non-extensible"
        messages: dict[str, str] = {}
        for value in bad:
            text = f"{value!r} is not in {kind} codelist {names}"
            hint = next((t for cl in lists if (t := cl.match(value)) is not None), None)
            if hint is not None:
                text += f"; the CDISC submission value is {hint.submission_value!r}"
            elif extensible:
                text += _undeclared(value, declared)
            messages[value] = text
        ctx.flag_values(ds, col, messages)


def _other_cdisc_terms(ctx: Context, declared: DefineTerms, ig_codes: set[str | None]) -> set[str]:
    """Terms of another CDISC codelist that define.xml ties the variable to, where the
    SDTMIG lets the codelist depend on the record (RSTESTCD: ONCRTSCD for oncology, the
    instrument's clinical-classification codelist such as HAMD1TC otherwise): the CT
    terms of that codelist when CT here holds it, else the terms define.xml lists for it
    (not marked extended)."""
    terms: set[str] = set()
    for code, listed in declared.cdisc:
        if code in ig_codes:
            continue
        codelist = ctx.terminology.find(code)
        terms.update(listed if codelist is None else {v for v in listed if v in codelist})
    return terms


def _undeclared(value: str, declared: DefineTerms | None) -> str:
    """What to do about a sponsor term that define.xml does not declare as one."""
    if declared is not None and value in declared.listed:
        return ' (define.xml lists it without def:ExtendedValue="Yes": mark it so)'
    if declared is not None:
        return ' (sponsor extension not in define.xml: add it with def:ExtendedValue="Yes")'
    return " (sponsor extension: declare it in define.xml)"


@check(
    "CT0001",
    ERROR,
    "terminology",
    "Value is not in the variable's non-extensible CDISC codelist",
    explanation="Values of a variable controlled by a non-extensible codelist (e.g. SEX, "
    "NY, AGEU) must be submission values of that codelist, exactly (case-sensitive). "
    "'MULTIPLE' in a record or variable qualifier (RACE, AELOC...) is accepted: SDTMIG "
    "puts it there when several values were collected, the values themselves in SUPP--.",
    reference="SDTMIG v3.4 §4.3, §4.2.8.3, DM assumptions (RACE); CDISC CT 2025-03-28; P21 CT2001",
)
def non_extensible(ctx: Context, ds: Dataset) -> None:
    _outside(ctx, ds, extensible=False)


@check(
    "CT0002",
    WARNING,
    "terminology",
    "Value is not in the variable's extensible CDISC codelist (sponsor extension)",
    explanation="Extensible CDISC codelists may be extended with sponsor terms when no "
    "CDISC term fits (e.g. QSCAT 'ALSFRS-R': SDTM CT has no ALSFRS-R terminology, so the "
    "study uses sponsor-defined lists from specs/sponsor/codelists.yaml). Each extension "
    "must be declared in define.xml; check that no value is a misspelt CDISC term (the "
    "message names the CDISC term when one matches). With --define, a term the "
    "variable's define.xml codelist (or value-level codelist) marks "
    'def:ExtendedValue="Yes" is a declared extension and not reported.',
    reference="SDTMIG v3.4 §4.3.2; Define-XML v2.1 CodeListItem def:ExtendedValue; P21 CT2002",
)
def extensible(ctx: Context, ds: Dataset) -> None:
    _outside(ctx, ds, extensible=True)


def _pairs(ds: Dataset) -> list[tuple[str, str]]:
    cols = set(ds.columns)
    out: list[tuple[str, str]] = []
    if ds.standard == "SDTM":
        for col in ds.columns:
            if (col.endswith("TESTCD") or col.endswith("PARMCD")) and col[:-2] in cols:
                out.append((col, col[:-2]))
        for code, decode in (("ETCD", "ELEMENT"), ("ARMCD", "ARM"), ("ACTARMCD", "ACTARM")):
            if code in cols and decode in cols:
                out.append((code, decode))
        if ds.is_supp and {"QNAM", "QLABEL"} <= cols:
            out.append(("QNAM", "QLABEL"))
    else:
        if {"PARAMCD", "PARAM"} <= cols:
            out.append(("PARAMCD", "PARAM"))
        for col in ds.columns:
            numeric = col + "N"
            if numeric in cols and is_char(ds.df[col]) and ds.df[numeric].dtype.kind == "f":
                out.append((numeric, col))
    return out


def _distinct_pairs(a: pd.Series, b: pd.Series, keep: np.ndarray) -> pd.DataFrame:
    """The distinct (a, b) value pairs of the records ``keep`` selects (columns ``c`` and
    ``d``, objects), found on the columns' codes."""
    code_a, values_a = distinct_codes(a)
    code_b, values_b = distinct_codes(b)
    width = len(values_b) + 1
    pairs = code_a[keep].astype(np.int64) * width + code_b[keep]
    if len(values_a) * width <= 4 * len(pairs) + 1024:  # dense: mark the pairs present
        seen = np.zeros(len(values_a) * width, dtype=bool)
        seen[pairs] = True
        pair = np.flatnonzero(seen)
    else:
        pair = pd.unique(pairs)
    return pd.DataFrame({"c": values_a[pair // width], "d": values_b[pair % width]}, dtype=object)


@check(
    "CT0003",
    ERROR,
    "terminology",
    "Code and decode are not one-to-one (--TESTCD/--TEST, PARAMCD/PARAM, ...)",
    explanation="Within a dataset each --TESTCD has exactly one --TEST and vice versa; "
    "likewise TSPARMCD/TSPARM, ARMCD/ARM, ETCD/ELEMENT, QNAM/QLABEL and in ADaM "
    "PARAMCD/PARAM and every variable/its numeric version (AVISIT/AVISITN, TRTP/TRTPN).",
    reference="SDTMIG v3.4 §4.5.3.1; ADaMIG v1.3 §3.3.4",
)
def code_decode(ctx: Context, ds: Dataset) -> None:
    for code, decode in _pairs(ds):
        a, b = ds.df[code], ds.df[decode]
        keep = ~(blank(a) | blank(b))
        if not keep.any():
            continue
        pairs = _distinct_pairs(a, b, keep)
        per_code = pairs.groupby("c", sort=True)["d"].agg(lambda s: sorted(map(fmt_value, s)))
        per_decode = pairs.groupby("d", sort=True)["c"].agg(lambda s: sorted(map(fmt_value, s)))
        bad_codes = per_code[per_code.map(len) > 1]
        bad_decodes = per_decode[per_decode.map(len) > 1]
        if bad_codes.empty and bad_decodes.empty:
            continue
        code_text = {
            value: f"{code} {fmt_value(value)!r} has {len(decodes)} {decode} values: "
            + ", ".join(repr(d) for d in decodes)
            for value, decodes in bad_codes.items()
        }
        decode_text = {
            value: f"{decode} {fmt_value(value)!r} has {len(codes)} {code} values: "
            + ", ".join(repr(c) for c in codes)
            for value, codes in bad_decodes.items()
        }
        mask = keep & (
            a.isin(list(code_text)).to_numpy(dtype=bool)
            | b.isin(list(decode_text)).to_numpy(dtype=bool)
        )

        def conflict(
            rows: np.ndarray,
            a: pd.Series = a,
            b: pd.Series = b,
            code_text: dict[Any, str] = code_text,
            decode_text: dict[Any, str] = decode_text,
        ) -> list[str]:
            return [code_text.get(a.iloc[r]) or decode_text[b.iloc[r]] for r in rows]

        ctx.flag(ds, mask, conflict, variable=code)


@check(
    "CT0004",
    ERROR,
    "terminology",
    "--TEST is not the CDISC decode of --TESTCD",
    scope=scope("SDTM"),
    explanation="Where --TESTCD and --TEST both use CDISC codelists (LBTESTCD/LBTEST, "
    "VSTESTCD/VSTEST, TSPARMCD/TSPARM...), the pair must share the NCI concept code.",
    reference="CDISC CT: paired test code / test name codelists",
)
def ct_pairing(ctx: Context, ds: Dataset) -> None:
    for code, decode in _pairs(ds):
        code_lists = _codelists(ctx, ds, code)
        decode_lists = _codelists(ctx, ds, decode)
        if len(code_lists) != 1 or len(decode_lists) != 1:
            continue
        code_cl, decode_cl = code_lists[0], decode_lists[0]
        by_nci = {t.code: t.submission_value for t in decode_cl.terms if t.code}
        expected: dict[str, str] = {}
        for value in ds.uniques(code):
            term = code_cl.term(value) if isinstance(value, str) else None
            if term is not None and term.code in by_nci:
                expected[value] = by_nci[term.code]
        if not expected:
            continue
        pair_codes, pairs_known = row_keys(
            [ds.df[code], ds.df[decode]],
            [pd.Series(list(expected)), pd.Series(list(expected.values()))],
        )
        checked = ds.df[code].isin(list(expected)).to_numpy()
        mask = checked & ~np.isin(pair_codes, pairs_known) & ~blank(ds.df[decode])
        codes = ds.df[code]

        def expected_decode(
            rows: np.ndarray,
            codes: pd.Series = codes,
            expected: dict[str, str] = expected,
            code: str = code,
            decode: str = decode,
        ) -> list[str]:
            return [
                f"expected {decode} {expected[codes.iloc[r]]!r} for {code} {codes.iloc[r]}"
                for r in rows
            ]

        ctx.flag(ds, mask, expected_decode, variable=decode)


_Y_NULL_SUFFIXES = ("LOBXFL", "BLFL", "DRVFL", "PRESP")


@check(
    "CT0005",
    ERROR,
    "terminology",
    "Flag must be Y or null",
    scope=scope("SDTM"),
    explanation="--LOBXFL, --BLFL, --DRVFL, --PRESP and DTHFL take only 'Y' or null (never 'N').",
    reference="SDTMIG v3.4 §4.5.9, DM assumptions",
)
def y_or_null(ctx: Context, ds: Dataset) -> None:
    for col in ds.columns:
        if not (col == "DTHFL" or (len(col) > 4 and col[2:] in _Y_NULL_SUFFIXES)):
            continue
        column = ds.df[col]
        if column.dtype.kind in "fiub":
            continue
        mask = ~blank(column) & (column != "Y").to_numpy(dtype=bool)
        ctx.flag(ds, mask, f"{col} must be 'Y' or null", variable=col)
