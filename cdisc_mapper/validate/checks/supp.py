"""SUPPQUAL checks (SP): parent records, QNAM, duplicates."""

from __future__ import annotations

import re
from typing import Any, cast

import numpy as np
import pandas as pd

from cdisc_mapper.validate.context import Context, fmt_value
from cdisc_mapper.validate.model import ERROR, WARNING, scope
from cdisc_mapper.validate.package import Dataset, distinct, row_keys
from cdisc_mapper.validate.registry import check

_QNAM = re.compile(r"^[A-Z_][A-Z0-9_]{0,7}$")
_SUPP = scope("SDTM", classes=("Relationship",))


def _is_supp(ds: Dataset) -> bool:
    return ds.is_supp and ds.has("RDOMAIN", "USUBJID")


def _as_parent_type(values: pd.Series, numeric: bool) -> pd.Series:
    """IDVARVAL text as the parent variable's type: float for numeric IDVARs."""
    text = values.astype(object).astype(str).str.strip()
    if not numeric:
        return text
    return pd.to_numeric(text, errors="coerce").astype(object).where(lambda v: v.notna(), text)


@check(
    "SP0001",
    ERROR,
    "suppqual",
    "SUPP-- record points at no parent record",
    scope=_SUPP,
    explanation="RDOMAIN, USUBJID, IDVAR and IDVARVAL identify the parent record(s); the "
    "parent dataset must exist, IDVAR must be one of its variables and some record of the "
    "subject must have IDVAR = IDVARVAL (with IDVAR null: the subject must have a record "
    "in RDOMAIN).",
    reference="SDTMIG v3.4 §8.4.1",
)
def parent_exists(ctx: Context, ds: Dataset) -> None:
    if not _is_supp(ds):
        return
    df = ds.df
    idvar = df["IDVAR"] if "IDVAR" in df.columns else pd.Series("", index=df.index)
    idvarval = df["IDVARVAL"] if "IDVARVAL" in df.columns else pd.Series("", index=df.index)
    messages = np.full(len(df), "", dtype=object)
    groups = (
        pd.DataFrame(
            {"r": df["RDOMAIN"].astype(object).astype(str), "v": idvar.astype(object).astype(str)}
        )
        .groupby(["r", "v"], sort=True)
        .indices
    )
    for key, rows in groups.items():
        rdomain, var = (str(k) for k in cast(tuple[Any, Any], key))
        parents = [p for p in ctx.domain(rdomain) if p.has("USUBJID")]
        if not parents:
            messages[rows] = f"parent dataset {rdomain} is not in the package"
            continue
        subj = df["USUBJID"].iloc[rows].astype(object)
        if var == "":
            known = set().union(
                *(set(map(str, distinct(p.select(["USUBJID"])["USUBJID"]))) for p in parents)
            )
            bad = ~subj.astype(str).isin(known).to_numpy()
            messages[rows[bad]] = f"subject has no {rdomain} record"
            continue
        # the parents' two columns only: a parent (LB, QS) may be the largest dataset
        holders = [p.select(["USUBJID", var]) for p in parents if p.has(var)]
        if not holders:
            messages[rows] = f"IDVAR {var} is not a variable of {rdomain}"
            continue
        numeric = all(p[var].dtype.kind in "fiub" for p in holders)
        values = _as_parent_type(idvarval.iloc[rows], numeric).reset_index(drop=True)
        wanted = [subj.reset_index(drop=True), values]
        found = np.zeros(len(rows), dtype=bool)
        for parent in holders:
            parent_values = parent[var] if numeric else parent[var].astype(object)
            keys, parent_keys = row_keys(wanted, [parent["USUBJID"], parent_values])
            found |= np.isin(keys, parent_keys)
        bad = ~found
        texts = [
            f"no {rdomain} record of the subject has {var} = {fmt_value(v)!r}" for v in values[bad]
        ]
        messages[rows[bad]] = np.array(texts, dtype=object)
    ctx.flag(ds, messages != "", messages, variable="IDVARVAL")


@check(
    "SP0002",
    ERROR,
    "suppqual",
    "QNAM is not a valid qualifier name",
    scope=_SUPP,
    explanation="QNAM is a variable name: 1-8 characters, a letter or underscore first, "
    "then letters, digits or underscores (it becomes a column when SUPP-- is transposed).",
    reference="SDTMIG v3.4 §8.4.1",
)
def qnam_valid(ctx: Context, ds: Dataset) -> None:
    if not ds.is_supp or "QNAM" not in ds.df.columns:
        return
    bad = {v for v in ds.uniques("QNAM") if isinstance(v, str) and v and not _QNAM.match(v)}
    if bad:
        ctx.flag(
            ds,
            ds.df["QNAM"].isin(bad).to_numpy(),
            "QNAM must be 1-8 characters: letter or underscore, then letters, digits, underscores",
            variable="QNAM",
        )


@check(
    "SP0003",
    ERROR,
    "suppqual",
    "Duplicate SUPP-- record (same parent and QNAM)",
    scope=_SUPP,
    explanation="A qualifier (QNAM) has one value per parent record: STUDYID, RDOMAIN, "
    "USUBJID, IDVAR, IDVARVAL, QNAM is unique.",
    reference="SDTMIG v3.4 §8.4.1",
)
def supp_unique(ctx: Context, ds: Dataset) -> None:
    if not ds.is_supp:
        return
    key = [
        c
        for c in ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM")
        if c in ds.df.columns
    ]
    if "QNAM" not in key:
        return
    dup = ds.df.duplicated(key, keep=False).to_numpy()
    ctx.flag(ds, dup, "another record has the same parent and QNAM", variable="QNAM")


@check(
    "SP0004",
    ERROR,
    "suppqual",
    "RDOMAIN does not match the SUPP-- dataset name",
    scope=_SUPP,
    explanation="SUPPxx holds qualifiers of domain xx only (RDOMAIN = xx); the combined "
    "SUPPQUAL dataset may hold several domains.",
    reference="SDTMIG v3.4 §8.4.2",
)
def rdomain_matches(ctx: Context, ds: Dataset) -> None:
    if not ds.is_supp or ds.name == "SUPPQUAL" or "RDOMAIN" not in ds.df.columns:
        return
    expected = ds.name[4:]
    rdomain = ds.df["RDOMAIN"]
    # a split parent (SUPPQSPH for QSPH) still has RDOMAIN = QS
    ok = (rdomain == expected) | (rdomain == expected[:2])
    ctx.flag(ds, ~ok.to_numpy(), f"RDOMAIN must be {expected[:2]}", variable="RDOMAIN")


@check(
    "SP0005",
    WARNING,
    "suppqual",
    "QNAM is a standard variable of the parent domain",
    scope=_SUPP,
    explanation="A qualifier that the SDTMIG defines for the parent domain belongs in the "
    "parent dataset as that variable, not in SUPP--.",
    reference="SDTMIG v3.4 §8.4",
)
def qnam_not_standard(ctx: Context, ds: Dataset) -> None:
    if not ds.has("QNAM", "RDOMAIN") or not ds.is_supp:
        return
    messages = pd.Series("", index=ds.df.index, dtype=object)
    keys = ds.df[["RDOMAIN", "QNAM"]].astype(object)
    for key, rows in keys.groupby(["RDOMAIN", "QNAM"], sort=True).indices.items():
        rdomain, qnam = cast(tuple[Any, Any], key)
        if not isinstance(rdomain, str) or not isinstance(qnam, str):
            continue
        if not ctx.sdtmig.has_dataset(rdomain):
            continue
        if ctx.sdtmig.variable(rdomain, qnam) is not None:
            messages.iloc[rows] = f"{qnam} is an SDTMIG {rdomain} variable"
    ctx.flag(ds, (messages != "").to_numpy(), messages, variable="QNAM")
