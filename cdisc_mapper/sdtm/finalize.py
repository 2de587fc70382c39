"""From working frames to submission datasets: standard variable order, labels and
types from SDTMIG metadata, Expected variables present, SUPP-- split, key order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.sdtm.context import MAX_LISTED, ROW, SRC, as_text
from cdisc_mapper.spec.sdtm import DomainSpec, VariableSpec
from cdisc_mapper.spec.sdtm_loader import StudyBundle
from cdisc_mapper.textops import text_column

#: Key variables of the domains built from the study spec (SDTMIG 3.4 chapter 7, 5.3).
DESIGN_KEYS: dict[str, list[str]] = {
    "TA": ["STUDYID", "ARMCD", "TAETORD"],
    "TE": ["STUDYID", "ETCD"],
    "TV": ["STUDYID", "VISITNUM", "ARMCD"],
    "TI": ["STUDYID", "IETESTCD", "TIVERS"],
    "TS": ["STUDYID", "TSPARMCD", "TSSEQ"],
    "SE": ["STUDYID", "USUBJID", "ETCD", "SESTDTC"],
    "SV": ["STUDYID", "USUBJID", "VISITNUM"],
}
SUPP_KEYS = ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"]


@dataclass
class Dataset:
    """A finished dataset: its records and, per variable, the standard metadata."""

    name: str
    label: str
    frame: pd.DataFrame
    variables: list[Any]  # VariableMeta from the standard, in output order
    keys: list[str]
    origin: pd.DataFrame | None = None
    """Per record (same order as ``frame``), the raw form and row it came from (``_SRC``,
    ``_ROW``), when the working frame had them: for errors found after finalizing."""


def _all_variables(spec: DomainSpec) -> dict[str, VariableSpec]:
    out: dict[str, VariableSpec] = {}
    for src in spec.sources:
        out.update(src.variables)
    out.update(spec.variables)
    return out


def check_against_standard(bundle: StudyBundle, standard: Any) -> None:
    """Every spec variable is a variable of the domain in the IG, or a declared
    supplemental qualifier; keys exist. Errors point at the spec line."""
    for code, spec in bundle.domains.items():
        standard.dataset(code)
        known = {v.name for v in standard.allowed_variables(code)}
        for loc_prefix, variables in [
            *[(("sources", i, "variables"), s.variables) for i, s in enumerate(spec.sources)],
            (("variables",), spec.variables),
        ]:
            for name, var in variables.items():
                if name.startswith("_") or name in known:
                    continue
                if var.supp is None:
                    raise SpecError(
                        f"{name} is not a variable of {code} in SDTMIG 3.4 nor of its "
                        "SDTM observation class",
                        where=bundle.where(code, (*loc_prefix, name)),
                        hint="fix the name, or declare it a supplemental qualifier with supp:",
                    )
                if len(name) > 8 or not name.isalnum() or not name[0].isalpha():
                    raise SpecError(
                        f"supplemental qualifier name {name!r} is not a valid QNAM "
                        "(<= 8 letters/digits, starting with a letter)",
                        where=bundle.where(code, (*loc_prefix, name)),
                    )
        all_vars = _all_variables(spec)
        for key in spec.keys:
            if key not in known or (key not in all_vars and key not in ("STUDYID",)):
                raise SpecError(
                    f"key variable {key} is not a mapped {code} variable",
                    where=bundle.where(code, ("keys",)),
                )


def _typed(series: pd.Series, kind: str, order: np.ndarray | None = None) -> pd.Series:
    """A working column as its dataset type (numbers, or text with ``""`` for missing),
    taken in ``order`` (positions) when given; on a fresh RangeIndex."""
    if kind == "Num":
        values = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
        return pd.Series(values if order is None else values[order])
    return text_column(series, order)


def _in_order(typed: pd.Series, order: np.ndarray) -> pd.Series:
    """A typed column (:func:`_typed`) taken in ``order``, on a fresh RangeIndex: what
    typing it in that order gives."""
    return typed.take(order).reset_index(drop=True)


def _key_order(
    frame: pd.DataFrame, chosen: list[Any], keys: list[str]
) -> tuple[np.ndarray, pd.DataFrame]:
    """The positions of ``frame``'s records sorted by the typed ``keys`` (stable), as
    sorting the finished dataset by them gives, and the typed keys (in ``frame``'s order:
    the finished dataset takes them in the sorted order instead of typing them again); a
    key the frame lacks is blank."""
    types = {v.name: v.type for v in chosen}
    if any(k not in types for k in keys):
        missing = [k for k in keys if k not in types]
        raise KeyError(missing[0])
    index = pd.RangeIndex(len(frame))
    typed = pd.DataFrame(
        {
            k: _typed(frame[k], types[k])
            if k in frame.columns
            else pd.Series(np.nan if types[k] == "Num" else "", index=index)
            for k in dict.fromkeys(keys)
        },
        index=index,
    )
    return typed.sort_values(keys, kind="stable").index.to_numpy(), typed


def check_numeric(code: str, name: str, frame: pd.DataFrame) -> None:
    """A variable that is numeric in the IG must hold numbers: text (``MISSING``) is an
    error naming the variable and each record (file, row) with its value."""
    if pd.api.types.is_numeric_dtype(frame[name].dtype):
        return
    text = as_text(frame[name]).str.strip()
    bad = (text != "") & pd.to_numeric(text, errors="coerce").isna()
    if not bad.any():
        return
    src = frame[SRC] if SRC in frame.columns else pd.Series("?", index=frame.index)
    row = frame[ROW] if ROW in frame.columns else pd.Series("?", index=frame.index)
    places = [f"{s} row {r}: {v!r}" for s, r, v in zip(src[bad], row[bad], text[bad], strict=True)]
    more = f"; and {len(places) - MAX_LISTED} more" if len(places) > MAX_LISTED else ""
    raise MappingError(
        f"{code}.{name} is numeric (SDTMIG 3.4) but holds text in {len(places)} record(s): "
        + "; ".join(places[:MAX_LISTED])
        + more,
        hint="map it with op number, which reads numbers by the study's convention, or "
        "correct the raw data",
    )


def finalize(
    code: str,
    frame: pd.DataFrame,
    standard: Any,
    keys: list[str],
    spec: DomainSpec | None = None,
) -> tuple[Dataset, Dataset | None]:
    """Shape a working frame into ``code`` and, when it has qualifiers, ``SUPP<code>``."""
    meta = standard.allowed_variables(code)
    by_name = {v.name: v for v in meta}
    spec_vars = _all_variables(spec) if spec else {}
    chosen = []
    for v in meta:
        if v.name in frame.columns:
            if v.type == "Num":
                check_numeric(code, v.name, frame)
        elif v.core in ("Exp", "Req"):
            if v.core == "Req" and len(frame):
                raise SpecError(
                    f"{code}.{v.name} is required by SDTMIG 3.4 but the spec does not map it"
                )
        else:
            continue
        chosen.append(v)
    order, typed_keys = _key_order(frame, chosen, keys)
    index = pd.RangeIndex(len(frame))
    out = pd.DataFrame(
        {
            v.name: _in_order(typed_keys[v.name], order)
            if v.name in typed_keys.columns and v.name in frame.columns
            else _typed(frame[v.name], v.type, order)
            if v.name in frame.columns
            else pd.Series(np.nan if v.type == "Num" else "", index=index)
            for v in chosen
        },
        index=index,
    )
    origin = None
    if SRC in frame.columns and ROW in frame.columns:
        origin = frame[[SRC, ROW]].take(order).reset_index(drop=True)
    label = standard.dataset(code).label
    main = Dataset(code, label, out, chosen, keys, origin)
    supp_names = [n for n, s in spec_vars.items() if s.supp is not None and n not in by_name]
    if not supp_names:
        return main, None
    # SUPP-- records are sorted by their own keys below (unique, else an error), so the
    # order they are gathered in does not matter
    work = frame
    rows = []
    for name in supp_names:
        supp = spec_vars[name].supp
        assert supp is not None
        idvar = supp.idvar or (f"{code}SEQ" if code != "DM" else "")
        vals = as_text(work[name])
        keep = vals != ""
        if not keep.any():
            continue
        sub = work.loc[keep]
        if idvar:
            idval = sub[idvar]
            idval = idval.map(lambda x: f"{x:.0f}" if isinstance(x, float) else str(x))
        else:
            idval = pd.Series([""] * len(sub), index=sub.index)
        rows.append(
            pd.DataFrame(
                {
                    "STUDYID": sub["STUDYID"].to_numpy(),
                    "RDOMAIN": code,
                    "USUBJID": sub["USUBJID"].to_numpy(),
                    "IDVAR": idvar,
                    "IDVARVAL": idval.to_numpy(),
                    "QNAM": name,
                    "QLABEL": supp.label,
                    "QVAL": vals[keep].to_numpy(),
                    "QORIG": supp.qorig,
                    "QEVAL": supp.qeval,
                }
            )
        )
    if not rows:
        return main, None
    supp_frame = pd.concat(rows, ignore_index=True)
    supp_name = f"SUPP{code}"
    supp_meta = standard.variables(supp_name)
    supp_frame = supp_frame[[v.name for v in supp_meta if v.name in supp_frame.columns]]
    supp_frame = supp_frame.sort_values(SUPP_KEYS, kind="stable").reset_index(drop=True)
    supp_vars = [v for v in supp_meta if v.name in supp_frame.columns]
    dup = supp_frame.duplicated(SUPP_KEYS)
    if dup.any():
        raise MappingError(f"{supp_name}: duplicate qualifier records for keys {SUPP_KEYS}")
    return main, Dataset(
        supp_name, f"Supplemental Qualifiers for {code}", supp_frame, supp_vars, SUPP_KEYS
    )


def check_unique_keys(ds: Dataset, where: str | None = None) -> None:
    """Records must be unique by the dataset's key variables (SDTMIG 3.4 section 3.2.1.1).
    The error lists the records sharing keys with their raw form and row (when known) and
    names the spec's ``keys`` line (``where``)."""
    keys = [k for k in ds.keys if k in ds.frame.columns]
    dup = ds.frame.duplicated(keys, keep=False)
    if not dup.any():
        return
    shared = ds.frame.loc[dup, keys].sort_values(keys, kind="stable").head(MAX_LISTED)
    places = []
    for i, rec in shared.iterrows():
        values = ", ".join(f"{k}={rec[k]!r}" for k in keys)
        if ds.origin is not None:
            values = f"{ds.origin.at[i, SRC]!s} row {ds.origin.at[i, ROW]!s}: {values}"
        places.append(values)
    count = int(dup.sum())
    more = f"; and {count - MAX_LISTED} more" if count > MAX_LISTED else ""
    raise MappingError(
        f"{ds.name}: {count} records share key values {keys}: " + "; ".join(places) + more,
        where=where,
        hint="add a distinguishing key variable to the spec's keys or fix duplicates",
    )
