"""Record-level flags and identifiers: --SEQ, --NRIND, --LOBXFL."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper.derive._common import raise_for_rows, text_series
from cdisc_mapper.derive.dates import _dtc_parts
from cdisc_mapper.errors import MappingError, SpecError

__all__ = [
    "derive_last_obs_before_exposure_flag",
    "derive_nrind",
    "derive_seq",
    "last_on_or_before_day",
]


def require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise SpecError naming the columns of ``columns`` missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SpecError(f"{what}: no column {', '.join(missing)} in the data")


def _blank_as_missing(column: pd.Series) -> pd.Series:
    """A text column with blank values as missing (so that they sort last); each distinct
    value is looked at once."""
    if column.dtype == object or pd.api.types.is_string_dtype(column):
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        blank = np.array([not str(u).strip() for u in uniques] + [False], dtype=bool)
        return column.where(~blank[codes])
    return column


def _rank_within(groups: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
    """0, 1, 2, ... of each position among the earlier positions of its group (what
    ``groupby(...).cumcount()`` gives), from the groups' integer codes."""
    n = len(groups)
    by_group = np.argsort(groups, kind="stable")
    sorted_groups = groups[by_group]
    starts = np.ones(n, dtype=bool)
    starts[1:] = sorted_groups[1:] != sorted_groups[:-1]
    position = np.arange(n)
    group_start = np.maximum.accumulate(np.where(starts, position, 0)) if n else position
    rank = np.empty(n, dtype=np.int64)
    rank[by_group] = position - group_start
    return rank


def derive_seq(
    df: pd.DataFrame,
    *,
    by: Sequence[str] = ("USUBJID",),
    order_by: Sequence[str] = (),
) -> pd.Series:
    """--SEQ: 1..n within each ``by`` group, in a deterministic order (SDTM v2.0 3.1.4).

    SDTM v2.0 section 3.1.4 (Identifiers for All Classes): --SEQ is a "Sequence number given
    to ensure uniqueness of subject records within a domain"; SDTMIG 3.4 section 4.1.7:
    "--SEQ must be unique within USUBJID for all records" of a domain (split or not).

    Records are numbered in the order of ``order_by`` (ascending, missing last: a blank
    text counts as missing), ties kept in their current row order (stable sort), so the
    same input always gives the same numbers. Pass typed columns (numeric VISITNUM, ISO
    --DTC text) so that they sort as intended.

    Returns:
        ``int64`` Series on the index of ``df`` (any index, duplicates allowed).
    """
    by, order_by = list(by), list(order_by)
    require_columns(df, by + order_by, "derive_seq")
    order = np.arange(len(df))
    if order_by:
        keys = df[order_by].reset_index(drop=True).apply(_blank_as_missing)
        order = keys.sort_values(order_by, kind="stable", na_position="last").index.to_numpy()
    # one integer code per by-group (missing values a group of their own, as groupby with
    # dropna=False), numbered in the sorted order
    groups = np.zeros(len(df), dtype=np.int64)
    for name in by:
        codes, uniques = pd.factorize(df[name], use_na_sentinel=True)
        groups = np.asarray(pd.factorize(groups * (len(uniques) + 1) + (codes + 1))[0])
    seq = _rank_within(groups[order].astype(np.intp)) + 1
    out = np.empty(len(df), dtype=np.int64)
    out[order] = seq
    return pd.Series(out, index=df.index, name="SEQ")


def derive_nrind(
    value: pd.Series,
    low: pd.Series,
    high: pd.Series,
    *,
    operator: pd.Series | None = None,
) -> pd.Series:
    """--NRIND (CDISC CT NRIND, C78736) from a numeric result and its normal range.

    SDTMIG 3.4 Findings domains, --NRIND: "Indicates where the value falls with respect to
    reference range defined by --ORNRLO and --ORNRHI, --STNRLO and --STNRHI, or by
    --STNRC" (only the numeric ranges are handled here). Per row:
    ``"LOW"`` below ``low``, ``"HIGH"`` above ``high``, ``"NORMAL"`` within the limits given
    (a range with only one limit is open on the other side), ``""`` when the value or both
    limits are missing. Compare values and limits in the same units (original with
    ORNRLO/ORNRHI, or standard with STNRLO/STNRHI).

    With ``operator`` (from :func:`parse_numeric_result`) an inequality uses its bound as the
    value, except on a limit, where the operator decides: ``<5`` with low 5 is LOW,
    ``>1000`` with high 1000 is HIGH (``<v`` is read as just below v, ``>v`` just above).

    Raises:
        MappingError: listing rows whose low limit is above the high limit.
    """
    idx = value.index
    for name, s in (("low", low), ("high", high), ("operator", operator)):
        if s is not None and not s.index.equals(idx):
            raise ValueError(f"derive_nrind: {name} index differs from value index")
    v = pd.to_numeric(value, errors="coerce").astype(float).to_numpy()
    lo = pd.to_numeric(low, errors="coerce").astype(float).to_numpy()
    hi = pd.to_numeric(high, errors="coerce").astype(float).to_numpy()
    bad = lo > hi
    raise_for_rows(
        MappingError,
        "normal range low limit above high limit",
        idx,
        bad,
        [f"{a} - {b}" for a, b in zip(lo, hi, strict=True)] if bad.any() else [],
    )
    op = (
        operator.fillna("").astype(str).to_numpy(dtype=object)
        if operator is not None
        else np.full(len(idx), "", dtype=object)
    )
    with np.errstate(invalid="ignore"):
        is_low = np.where(op == "<", v <= lo, v < lo)
        is_high = np.where(op == ">", v >= hi, v > hi)
    known = ~np.isnan(v) & ~(np.isnan(lo) & np.isnan(hi))
    out = np.full(len(idx), "", dtype=object)
    out[known] = "NORMAL"
    out[known & is_high] = "HIGH"
    out[known & is_low] = "LOW"
    return text_series(out, idx, "NRIND")


def _present(col: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col):
        return col.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(col):
        return col.notna().to_numpy()
    return (col.notna() & (col.astype(str).str.strip() != "")).to_numpy()


def derive_last_obs_before_exposure_flag(
    df: pd.DataFrame,
    *,
    by: Sequence[str],
    dtc: str,
    ref_dtc: str,
    value_present: str,
    order_by: Sequence[str] = (),
) -> pd.Series:
    """--LOBXFL, per SDTMIG 3.4 section 4.5.9 (Baseline Values) and the Findings models.

    SDTMIG 3.4: --LOBXFL is an "Operationally derived indicator used to identify the last
    non-missing value prior to RFXSTDTC. Should be "Y" or null."

    ``df`` has the ``by`` columns (e.g. ``["USUBJID", "LBTESTCD"]``, plus --CAT, --SPEC,
    --LOC... as the domain needs), the record date ``dtc``, the subject's RFXSTDTC merged
    on each row ``ref_dtc``, and ``value_present``: a bool column, or a result column
    (non-missing, non-blank counts as present).

    Eligible records have a result and a complete date on or before the reference,
    compared at the precision both have: date and time when both have at least hh:mm,
    otherwise the dates only, so a record without time on the reference date counts as
    before exposure (pre-dose assessments on day 1). Records with a partial date, and
    subjects without a complete RFXSTDTC (never exposed), get no flag.

    The flag goes to one record per ``by`` group: the latest by --DTC text (for the same
    date, a record with a time sorts after one without), then by ``order_by`` columns,
    then by row order (last row wins on a complete tie, e.g. an exact duplicate).

    Returns:
        Character Series on the index of ``df``: ``"Y"`` or ``""``.
    """
    by, order_by = list(by), list(order_by)
    require_columns(df, [*by, dtc, ref_dtc, value_present, *order_by], "derive_lobxfl")
    rec_d, rec_dt = _dtc_parts(df[dtc])
    ref_d, ref_dt = _dtc_parts(df[ref_dtc])
    timed = ~np.isnat(rec_dt) & ~np.isnat(ref_dt)
    on_or_before = np.where(timed, rec_dt <= ref_dt, rec_d <= ref_d)
    eligible = on_or_before & ~np.isnat(rec_d) & ~np.isnat(ref_d) & _present(df[value_present])

    work = df[by + order_by].reset_index(drop=True)
    work["__dtc"] = df[dtc].fillna("").astype(str).to_numpy(dtype=object)
    work["__pos"] = np.arange(len(df))
    work = work[eligible]
    work = work.sort_values(["__dtc", *order_by, "__pos"], kind="stable")
    last = work.drop_duplicates(subset=by, keep="last")["__pos"].to_numpy()
    out = np.full(len(df), "", dtype=object)
    out[last] = "Y"
    return text_series(out, df.index, "LOBXFL")


def last_on_or_before_day(
    keys: pd.DataFrame, day: pd.Series, present: pd.Series, ref_day: int
) -> pd.Series:
    """--LOBXFL for relative-day data without dates (SDTMIG 3.4 section 4.5.9): ``"Y"`` on
    the last record per ``keys`` row (subject and test) with ``present`` true and a study
    ``day`` on or before ``ref_day`` (the study day of first exposure), ``""`` elsewhere;
    on the same day the later record in row order wins. Records without a day never
    qualify."""
    n = len(keys)
    candidate = (present.to_numpy(dtype=bool) & (day.to_numpy(dtype=float) <= ref_day)).astype(bool)
    out = np.full(n, "", dtype=object)
    if candidate.any():
        frame = keys.reset_index(drop=True).astype(str)
        frame["_DAY"] = day.to_numpy(dtype=float)
        frame["_POS"] = np.arange(n)
        chosen = frame[candidate].sort_values(["_DAY", "_POS"], kind="stable")
        last = chosen.groupby(list(keys.columns), sort=False)["_POS"].last()
        out[last.to_numpy(dtype=int)] = "Y"
    return pd.Series(out, index=keys.index, dtype=object)
