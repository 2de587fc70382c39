"""ADaM checks (AD): ADSL, BDS keys, baseline and change, flags, numeric dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.validate.checks.results import distinct_codes
from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import ERROR, scope
from cdisc_mapper.validate.package import (
    ADSL,
    BDS,
    TTE,
    Dataset,
    blank,
    distinct,
    duplicated,
    group_keys,
)
from cdisc_mapper.validate.registry import check
from cdisc_mapper.xpt.model import parse_format, temporal_kind

_BDS = scope("ADaM", classes=(BDS, TTE))


@check(
    "AD0001",
    ERROR,
    "adam",
    "ADSL has more than one record for a subject",
    scope=scope("ADaM", classes=(ADSL,)),
    explanation="ADSL has one record per subject.",
    reference="ADaMIG v1.3 §3.1",
)
def adsl_one_per_subject(ctx: Context, ds: Dataset) -> None:
    if "USUBJID" in ds.df.columns:
        dup = ds.df.duplicated("USUBJID", keep=False).to_numpy()
        ctx.flag(ds, dup, "subject has more than one ADSL record", variable="USUBJID")


def bds_keys(ctx: Context, ds: Dataset) -> tuple[list[str], str]:
    """The natural key of a BDS dataset and where it comes from (define.xml or default)."""
    if ctx.define is not None:
        meta = ctx.define.dataset(ds.name)
        if meta is not None and meta.keys and all(k in ds.df.columns for k in meta.keys):
            return list(meta.keys), "define.xml"
    cols = set(ds.columns)
    keys = ["USUBJID", "PARAMCD"]
    if ds.class_ == TTE:
        return [k for k in keys if k in cols], "default"
    for options in (
        ("BASETYPE",),
        ("APERIOD",),
        ("AVISITN", "AVISIT"),
        ("ATPTN", "ATPT"),
        ("ADTM", "ADT", "ASTDTM", "ASTDT"),
        ("DTYPE",),
    ):
        found = next((o for o in options if o in cols), None)
        if found:
            keys.append(found)
    # replicate measurements carried from SDTM (--REPNUM) and the source record
    keys += [c for c in ds.columns if c.endswith("REPNUM") and len(c) == 8]
    if "SRCSEQ" in cols:
        keys.append("SRCSEQ")
    return [k for k in keys if k in cols], "default"


@check(
    "AD0002",
    ERROR,
    "adam",
    "BDS records are not unique by their key variables",
    scope=_BDS,
    explanation="BDS has one record per subject, parameter and analysis timepoint: the "
    "keys are define.xml's KeySequence when given, else USUBJID, PARAMCD, BASETYPE, "
    "APERIOD, AVISITN, ATPTN, ADTM/ADT, DTYPE, --REPNUM and SRCSEQ (those present; "
    "TTE: USUBJID, PARAMCD). ASEQ, when present, must be unique per subject (ID0001).",
    reference="ADaMIG v1.3 §3.3",
)
def bds_unique(ctx: Context, ds: Dataset) -> None:
    keys, source = bds_keys(ctx, ds)
    if len(keys) < 2:
        return
    dup = duplicated(ds.df, keys)
    ctx.flag(
        ds,
        dup,
        f"another record has the same key ({', '.join(keys)}; {source})",
        variable=keys[-1],
    )


def _baseline_groups(ds: Dataset) -> list[str]:
    return [c for c in ("USUBJID", "PARAMCD", "BASETYPE") if c in ds.df.columns]


def _baseline(ctx: Context, ds: Dataset) -> tuple[pd.Series, np.ndarray] | None:
    """(per-record AVAL of the group's ABLFL record, multiple-baseline mask) or None."""
    key = ("baseline", ds.name)
    if key in ctx.cache:
        return ctx.cache[key]
    result = None
    if ds.has("USUBJID", "PARAMCD", "ABLFL") and ds.has_numeric("AVAL"):
        coded = [distinct_codes(ds.df[g]) for g in _baseline_groups(ds)]
        group = group_keys([(codes, len(values)) for codes, values in coded], ds.n)
        is_base = (ds.df["ABLFL"] == "Y").to_numpy(dtype=bool)
        counts = np.bincount(group[is_base], minlength=int(group.max(initial=-1)) + 1)
        multi = is_base & (counts[group] > 1)
        single = is_base & (counts[group] == 1)
        aval = np.full(len(counts), np.nan)
        aval[group[single]] = ds.df["AVAL"].to_numpy(dtype=float)[single]
        result = (pd.Series(aval[group], index=ds.df.index), multi)
    ctx.cache[key] = result
    return result


@check(
    "AD0003",
    ERROR,
    "adam",
    "BASE differs from AVAL of the baseline (ABLFL = 'Y') record",
    scope=_BDS,
    explanation="BASE is the AVAL of the record flagged ABLFL = 'Y' for the same subject, "
    "parameter and BASETYPE.",
    reference="ADaMIG v1.3 §3.3.5",
)
def base_is_baseline(ctx: Context, ds: Dataset) -> None:
    status = _baseline(ctx, ds)
    if status is None or not ds.has_numeric("BASE"):
        return
    want, _ = status
    have = ds.df["BASE"].to_numpy(dtype=float)
    want_values = want.to_numpy(dtype=float)
    bad = ~np.isnan(have) & ~np.isnan(want_values) & ~np.isclose(have, want_values, rtol=1e-9)
    ctx.flag(
        ds,
        bad,
        lambda rows: [
            f"BASE differs from the baseline record's AVAL {want_values[r]:g}" for r in rows
        ],
        variable="BASE",
    )


@check(
    "AD0004",
    ERROR,
    "adam",
    "More than one baseline record (ABLFL = 'Y') per subject and parameter",
    scope=_BDS,
    explanation="Only one record per USUBJID, PARAMCD and BASETYPE can be the baseline.",
    reference="ADaMIG v1.3 §3.3.5",
)
def one_baseline(ctx: Context, ds: Dataset) -> None:
    status = _baseline(ctx, ds)
    if status is not None:
        ctx.flag(
            ds, status[1], "another baseline record exists for this parameter", variable="ABLFL"
        )


@check(
    "AD0005",
    ERROR,
    "adam",
    "CHG is not AVAL - BASE",
    scope=_BDS,
    explanation="CHG = AVAL - BASE wherever all three are populated (tolerance 1e-9 relative).",
    reference="ADaMIG v1.3 §3.3.5",
)
def change(ctx: Context, ds: Dataset) -> None:
    if not ds.has_numeric("CHG", "AVAL", "BASE"):
        return
    aval, base, chg = (ds.df[c].to_numpy(dtype=float) for c in ("AVAL", "BASE", "CHG"))
    want = aval - base
    bad = ~np.isnan(chg) & ~np.isnan(want) & ~np.isclose(chg, want, rtol=1e-9, atol=1e-9)
    ctx.flag(
        ds,
        bad,
        lambda rows: [f"CHG is not AVAL - BASE = {want[r]:g}" for r in rows],
        variable="CHG",
    )


@check(
    "AD0006",
    ERROR,
    "adam",
    "PCHG is not (AVAL - BASE) / BASE * 100",
    scope=_BDS,
    explanation="PCHG = (AVAL - BASE) / BASE * 100 wherever BASE is non-zero (tolerance "
    "1e-6 relative, allowing for rounding of the stored value).",
    reference="ADaMIG v1.3 §3.3.5",
)
def percent_change(ctx: Context, ds: Dataset) -> None:
    if not ds.has_numeric("PCHG", "AVAL", "BASE"):
        return
    aval, base, pchg = (ds.df[c].to_numpy(dtype=float) for c in ("AVAL", "BASE", "PCHG"))
    with np.errstate(divide="ignore", invalid="ignore"):
        want = (aval - base) / base * 100
    bad = ~np.isnan(pchg) & np.isfinite(want) & ~np.isclose(pchg, want, rtol=1e-6, atol=1e-6)
    ctx.flag(ds, bad, "PCHG differs from (AVAL - BASE) / BASE * 100", variable="PCHG")


def _flag_values(ctx: Context, ds: Dataset, col: str) -> tuple[set[str], bool]:
    """Allowed values of flag ``col`` and whether the IG fixes them."""
    meta = ds.ig_variable(ctx.adamig, col)
    if meta is not None and meta.value_list:
        return set(meta.value_list), True
    if col.endswith("FN"):
        return {"1", "0"}, False
    return {"Y", "N"}, False


@check(
    "AD0007",
    ERROR,
    "adam",
    "Flag variable has a value other than its allowed values",
    scope=scope("ADaM"),
    explanation="ADaM flags (*FL) are 'Y' or null for record-level flags the ADaMIG "
    "defines that way (ABLFL, ANLzzFL, ONTRTFL, TRTEMFL...), 'Y'/'N' for population flags "
    "(SAFFL, ITTFL...) and CRITyFL; other *FL variables 'Y', 'N' or null; *FN 1/0.",
    reference="ADaMIG v1.3 §3.1.4 (flags), §3.3.8",
)
def flag_values(ctx: Context, ds: Dataset) -> None:
    for col in ds.columns:
        if not (col.endswith("FL") or col.endswith("FN")) or len(col) < 4:
            continue
        column = ds.df[col]
        allowed, from_ig = _flag_values(ctx, ds, col)
        if col.endswith("FN"):
            if column.dtype.kind not in "fiub":
                continue
            numbers = column.to_numpy(dtype=float)
            bad = ~np.isnan(numbers) & ~np.isin(numbers, [float(a) for a in allowed])
        elif column.dtype.kind in "fiub":
            continue
        else:
            bad = ~blank(column) & ~column.isin(allowed).to_numpy()
        source = "ADaMIG" if from_ig else "ADaM flag convention"
        ctx.flag(
            ds,
            bad,
            f"{col} must be {' or '.join(sorted(allowed, reverse=True))} or null ({source})",
            variable=col,
        )


@check(
    "AD0008",
    ERROR,
    "adam",
    "*DT/*DTM/*TM variable is not numeric with a date/datetime/time format",
    scope=scope("ADaM"),
    explanation="ADaM timing variables ending in DT are numeric SAS dates, DTM numeric "
    "datetimes and TM numeric times, each with a matching display format (DATE9., "
    "DATETIME20., TIME8.).",
    reference="ADaMIG v1.3 §3.1.4 (timing variable conventions)",
)
def numeric_dates(ctx: Context, ds: Dataset) -> None:
    for var in ds.meta.variables:
        name = var.name
        kind = (
            "datetime"
            if name.endswith("DTM")
            else "date"
            if name.endswith("DT")
            else "time"
            if name.endswith("TM") and len(name) > 3
            else None
        )
        if kind is None:
            continue
        meta = ds.ig_variable(ctx.adamig, name)
        if meta is not None and not ctx.adamig.has_dataset(meta.dataset):
            continue  # an SDTM variable carried under its own name (VSELTM, VSDTC)
        if kind == "time" and meta is None:
            continue  # *TM is too common a suffix to assume outside the IG
        if var.type != "Num":
            ctx.note(
                f"{name} is {var.type}; a {kind} variable is numeric",
                dataset=ds.name,
                variable=name,
                value=var.type,
            )
            continue
        try:
            fmt_kind = temporal_kind(parse_format(var.format)) if var.format else None
        except ValueError:
            fmt_kind = None
        if fmt_kind != kind:
            ctx.note(
                f"{name} has format {var.format or 'none'}; expected a {kind} format",
                dataset=ds.name,
                variable=name,
                value=var.format or "",
            )


@check(
    "AD0009",
    ERROR,
    "adam",
    "USUBJID is not in ADSL",
    scope=scope("ADaM"),
    explanation="Every subject of an ADaM dataset has its ADSL record.",
    reference="ADaMIG v1.3 §3.1",
)
def subject_in_adsl(ctx: Context, ds: Dataset) -> None:
    adsl = ctx.get("ADSL")
    if adsl is None or "USUBJID" not in adsl.df.columns:
        ctx.skip("no ADSL dataset")
    assert adsl is not None
    if ds.name == "ADSL" or "USUBJID" not in ds.df.columns:
        return
    subjects = set(distinct(adsl.df["USUBJID"]))
    missing = ~ds.df["USUBJID"].isin(subjects).to_numpy() & ~blank(ds.df["USUBJID"])
    ctx.flag(ds, missing, "USUBJID has no ADSL record", variable="USUBJID")


@check(
    "AD0010",
    ERROR,
    "adam",
    "BDS dataset has neither AVAL nor AVALC",
    scope=_BDS,
    explanation="A BDS dataset holds the analysis value in AVAL (numeric) and/or AVALC "
    "(character); at least one must be present.",
    reference="ADaMIG v1.3 §3.3.4",
)
def analysis_value(ctx: Context, ds: Dataset) -> None:
    if "AVAL" not in ds.df.columns and "AVALC" not in ds.df.columns:
        ctx.note("neither AVAL nor AVALC is present", dataset=ds.name, variable="AVAL")
