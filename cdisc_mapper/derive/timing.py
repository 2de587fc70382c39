"""Visit and epoch timing: unscheduled VISITNUM/VISIT and EPOCH from Subject Elements."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.derive._common import raise_for_rows, text_series
from cdisc_mapper.derive.dates import _dtc_parts
from cdisc_mapper.derive.flags import require_columns
from cdisc_mapper.errors import MappingError
from cdisc_mapper.textops import format_number

__all__ = ["derive_epoch", "derive_visitnum_unscheduled"]


def _decimals(x: float) -> int:
    text = format_number(x)
    return len(text.split(".")[1]) if "." in text else 0


def derive_visitnum_unscheduled(
    df: pd.DataFrame,
    *,
    usubjid: str = "USUBJID",
    visitnum: str = "VISITNUM",
    visit: str | None = "VISIT",
    dtc: str = "SVSTDTC",
    step: float = 0.01,
    label: str = "UNSCHEDULED",
) -> pd.DataFrame:
    """VISITNUM and VISIT for unscheduled visits (SDTMIG 3.4 section 4.4.5).

    SDTMIG 3.4 section 4.4.5 (Clinical Encounters and Visits): "VISITNUM should generally be
    populated, even for unplanned visits"; "Sponsor practices for populating visit
    variables for unplanned visits may vary"; methods "that assign VISITNUM values that
    sort chronologically ... must be applied after all of a subject's unplanned visits are
    known" (its example numbers an unscheduled visit after visit 3 as 3.1).

    Convention implemented (common practice): rows with a missing ``visitnum`` are
    unscheduled. An unscheduled visit is numbered from the last scheduled visit of the same
    subject on or before its date (by date; on a date with several scheduled visits, the
    highest VISITNUM): ``base + step * k`` for the k-th unscheduled date after that visit
    (5.01, 5.02, ...), or from 0 (0.01...) when it precedes every scheduled visit. VISIT is
    ``"<label> <VISITNUM>"`` with the step's decimals (``UNSCHEDULED 5.01``). Unscheduled rows
    of the same subject and date are one visit and share the number, so call this once on
    the records of all domains (e.g. when building SV) and merge the result back, so that
    the numbers agree across domains. Scheduled rows are returned unchanged.

    Returns:
        DataFrame on the index of ``df`` with ``VISITNUM`` (float) and ``VISIT`` (str).

    Raises:
        MappingError: an unscheduled row has no complete date; or the numbers would reach
            the next scheduled VISITNUM (too many unscheduled visits for ``step``).
    """
    cols = [usubjid, visitnum, dtc] + ([visit] if visit else [])
    require_columns(df, cols, "derive_visitnum_unscheduled")
    vn = pd.to_numeric(df[visitnum], errors="coerce").astype(float).to_numpy()
    unsched = np.isnan(vn)
    rec_d, _ = _dtc_parts(df[dtc])
    raise_for_rows(
        MappingError,
        "unscheduled visit without a complete date (cannot be numbered)",
        df.index,
        unsched & np.isnat(rec_d),
        df[dtc].fillna("").astype(str).to_numpy(dtype=object),
    )
    subj = df[usubjid].fillna("").astype(str).to_numpy(dtype=object)
    out_vn = vn.copy()
    out_visit = (
        df[visit].fillna("").astype(str).to_numpy(dtype=object)
        if visit
        else np.full(len(df), "", dtype=object)
    )
    if unsched.any():
        sched = ~unsched & ~np.isnat(rec_d)
        anchors = (
            pd.DataFrame({"subj": subj[sched], "date": rec_d[sched], "base": vn[sched]})
            .groupby(["subj", "date"])["base"]
            .max()
            .reset_index()
            .sort_values("date", kind="stable")
        )
        visits = (
            pd.DataFrame({"subj": subj[unsched], "date": rec_d[unsched]})
            .drop_duplicates()
            .sort_values("date", kind="stable")
        )
        # same key dtype on both sides, also when no scheduled visit has a date
        anchors = anchors.astype({"subj": visits["subj"].dtype})
        visits = pd.merge_asof(visits, anchors, on="date", by="subj", direction="backward")
        visits["base"] = visits["base"].fillna(0.0)
        visits = visits.sort_values(["subj", "base", "date"], kind="stable")
        k = visits.groupby(["subj", "base"]).cumcount().to_numpy() + 1
        base = visits["base"].to_numpy()
        number = np.round(base + k * step, 10)
        levels = np.unique(vn[~unsched])
        nxt = np.searchsorted(levels, base, side="right")
        limit = np.append(levels, np.inf)[nxt]  # no next scheduled visit: no limit
        overflow = number >= limit
        if overflow.any():
            shown = [
                f"{s} {pd.Timestamp(d).date()} after VISITNUM {format_number(b)}"
                for s, d, b in zip(
                    visits["subj"][overflow], visits["date"][overflow], base[overflow], strict=True
                )
            ]
            raise MappingError(
                f"too many unscheduled visits for step {step}: {'; '.join(shown[:20])}",
                hint="use a smaller step",
            )
        dec = _decimals(step)
        visits["VISITNUM"] = number
        visits["VISIT"] = [
            f"{label} {format_number(n, max(dec, _decimals(b)))}"
            for n, b in zip(number, base, strict=True)
        ]
        rows = pd.DataFrame({"subj": subj[unsched], "date": rec_d[unsched]})
        rows = rows.merge(visits[["subj", "date", "VISITNUM", "VISIT"]], how="left")
        out_vn[unsched] = rows["VISITNUM"].to_numpy()
        out_visit[unsched] = rows["VISIT"].to_numpy(dtype=object)
    return pd.DataFrame(
        {"VISITNUM": out_vn, "VISIT": text_series(out_visit, df.index)}, index=df.index
    )


def _ge(a_d: np.ndarray, a_dt: np.ndarray, b_d: np.ndarray, b_dt: np.ndarray) -> np.ndarray:
    timed = ~np.isnat(a_dt) & ~np.isnat(b_dt)
    return np.where(timed, a_dt >= b_dt, a_d >= b_d)


def _lt(a_d: np.ndarray, a_dt: np.ndarray, b_d: np.ndarray, b_dt: np.ndarray) -> np.ndarray:
    timed = ~np.isnat(a_dt) & ~np.isnat(b_dt)
    return np.where(timed, a_dt < b_dt, a_d < b_d)


def _le(a_d: np.ndarray, a_dt: np.ndarray, b_d: np.ndarray, b_dt: np.ndarray) -> np.ndarray:
    timed = ~np.isnat(a_dt) & ~np.isnat(b_dt)
    return np.where(timed, a_dt <= b_dt, a_d <= b_d)


def derive_epoch(dtc: pd.Series, usubjid: pd.Series, se: pd.DataFrame) -> pd.Series:
    """EPOCH of each record from the subject's Subject Elements (SE).

    SDTMIG 3.4 section 4.1.3.1 (EPOCH Variable Guidance): for Findings EPOCH "should be
    based on the --DTC variable", for Interventions and Events "on the --STDTC variable";
    "Sponsors should not impute EPOCH values"; "If it is not possible to determine the
    epoch of an observation, then EPOCH should be null". Section 5.3 (SE): one record per
    actual element per subject, with SESTDTC, SEENDTC and EPOCH.

    ``se`` has USUBJID, SESTDTC, SEENDTC and EPOCH. Each element covers
    ``SESTDTC <= date < SEENDTC`` (its end is the next element's start; an element without
    SEENDTC ends where the next one starts, and the last one without SEENDTC is open); the
    subject's last element includes its end date. Comparisons use date and time when both
    sides have at least hh:mm, else dates only: a record without time on the day an element
    starts belongs to the new element. If elements overlap, the one that starts later wins.

    Returns:
        Character Series on the index of ``dtc``: the EPOCH, or ``""`` when the date is
        partial or missing, the subject has no SE, or the date is before the first element
        or after the last.

    Raises:
        MappingError: an SE record lacks a complete SESTDTC.
    """
    require_columns(se, ["USUBJID", "SESTDTC", "SEENDTC", "EPOCH"], "derive_epoch")
    if not usubjid.index.equals(dtc.index):
        raise ValueError("derive_epoch: usubjid index differs from dtc index")
    s_d, s_dt = _dtc_parts(se["SESTDTC"])
    e_d, e_dt = _dtc_parts(se["SEENDTC"])
    raise_for_rows(
        MappingError,
        "subject element (SE) without a complete SESTDTC",
        se.index,
        np.isnat(s_d),
        se["SESTDTC"].fillna("").astype(str).to_numpy(dtype=object),
    )
    el = pd.DataFrame(
        {
            "subj": se["USUBJID"].fillna("").astype(str).to_numpy(dtype=object),
            "s_d": s_d,
            "s_dt": s_dt,
            "e_d": e_d,
            "e_dt": e_dt,
            "key": se["SESTDTC"].astype(str).to_numpy(dtype=object),
            "epoch": se["EPOCH"].fillna("").astype(str).to_numpy(dtype=object),
        }
    ).sort_values(["subj", "s_d", "key"], kind="stable")
    grouped = el.groupby("subj", sort=False)
    el["n_d"] = grouped["s_d"].shift(-1)
    el["n_dt"] = grouped["s_dt"].shift(-1)
    el["k"] = grouped.cumcount()
    last = el["n_d"].isna().to_numpy()
    has_end = el["e_d"].notna().to_numpy()
    # end bound: SEENDTC if given, else the next start; inclusive only for the last element
    el["b_d"] = np.where(has_end, el["e_d"], el["n_d"])
    el["b_dt"] = np.where(has_end, el["e_dt"], el["n_dt"])
    el["incl"] = last & has_end
    el["open"] = last & ~has_end

    rec_d, rec_dt = _dtc_parts(dtc)
    # each distinct subject is looked up once per element number, then taken to its records
    codes, subjects = pd.factorize(usubjid.fillna("").astype(str))
    distinct = pd.Index(np.asarray(subjects, dtype=object))
    out = np.full(len(dtc), "", dtype=object)
    for k in range(int(el["k"].max()) + 1 if len(el) else 0):
        ek = el[el["k"] == k].set_index("subj")
        pos = np.asarray(ek.index.get_indexer(distinct))[codes]
        has = pos >= 0
        p = np.where(has, pos, 0)

        def col(name: str, ek: pd.DataFrame = ek, p: np.ndarray = p) -> np.ndarray:
            return np.asarray(ek[name].to_numpy()[p])

        b_d = col("b_d").astype("datetime64[ns]")
        b_dt = col("b_dt").astype("datetime64[ns]")
        start_ok = _ge(rec_d, rec_dt, col("s_d"), col("s_dt"))
        end_ok = np.where(
            col("open").astype(bool),
            True,
            np.where(
                col("incl").astype(bool),
                _le(rec_d, rec_dt, b_d, b_dt),
                _lt(rec_d, rec_dt, b_d, b_dt),
            ),
        )
        hit = has & ~np.isnat(rec_d) & start_ok & end_ok
        out[hit] = col("epoch")[hit]
    return text_series(out, dtc.index, "EPOCH")
