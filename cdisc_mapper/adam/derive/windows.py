"""Analysis windows (AVISIT/AVISITN, AW* variables) and the one-record-per-window flag.

Rules implemented (ADaMIG v1.3):

* Section 3.3.3, Timing Variables for BDS Datasets, AVISIT/AVISITN: "The analysis visit
  description; may contain the visit names as observed (i.e., from SDTM VISIT), derived
  visit names, time window names, conceptual descriptions (such as Average, Endpoint,
  etc.)"; windows are assigned by analysis day, so an out-of-window or unscheduled
  assessment lands in the window its date falls in, whatever its nominal visit.
* Section 3.3.5, Analysis Descriptor Variables: AWRANGE "Analysis Window Valid Relative
  Range", AWTARGET "Analysis Window Target", AWTDIFF "Analysis Window Diff from Target"
  (absolute difference), AWLO/AWHI "Analysis Window Beginning/Ending Timepoint", AWU
  "Analysis Window Unit".
* Section 3.3.8, Indicator Variables for BDS Datasets, ANLzzFL: "Indicator that the record
  was used for analysis"; and section 4.4 (Identification of Rows Used for Analysis):
  when several records fall in a window, a flag identifies the one analysed.
* Section 3.3.3 also allows the nominal visit: AVISIT "from SDTM VISIT", here optionally
  renamed through a table (and AVISITN numbered through one, or VISITNUM).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_mapper.adam.derive._keys import group_codes, lexsort, sort_keys
from cdisc_mapper.textops import take_text

__all__ = [
    "Window",
    "derive_analysis_flag",
    "derive_analysis_window",
    "derive_nominal_visit",
    "derive_relative_day",
]


@dataclass(frozen=True)
class Window:
    """One analysis window: days ``lo``..``hi`` relative to ``reference`` (day 1)."""

    avisitn: float
    avisit: str
    reference: str
    target: int
    lo: int
    hi: int


def derive_relative_day(date: pd.Series, reference: pd.Series) -> pd.Series:
    """Relative day to a window's reference date, as ADY (ADaMIG v1.3 section 3.3.3):
    the reference date is day 1, the day before is day -1 (no day 0)."""
    diff = date.to_numpy(dtype="float64") - reference.to_numpy(dtype="float64")
    return pd.Series(np.where(diff >= 0, diff + 1, diff), index=date.index)


def derive_analysis_window(
    date: pd.Series, references: Mapping[str, pd.Series], windows: Sequence[Window]
) -> pd.DataFrame:
    """AVISITN, AVISIT, AWTARGET, AWLO, AWHI, AWTDIFF, AWRANGE, AWU per record.

    ADaMIG v1.3 sections 3.3.3 and 3.3.5. ``date`` is the analysis date (ADT) and
    ``references`` the per-record reference dates the windows name (e.g. ``RFICDT``,
    ``TRTSDT``). The first window, in the given order, whose ``lo``..``hi`` contains the
    record's relative day to the window's reference takes the record; records in no
    window (or without a date or reference) get null AVISIT/AVISITN. AWTDIFF is
    ``|day - target|``, AWU ``DAYS``.
    """
    n = len(date)
    days = {name: derive_relative_day(date, ref).to_numpy() for name, ref in references.items()}
    for w in windows:
        if w.reference not in days:
            raise KeyError(f"window {w.avisit}: no reference date {w.reference}")
    # per reference, the window (spec position) containing each record's day: windows of
    # one reference sorted by start; overlapping ones are resolved by spec order below
    best = np.full(n, len(windows), dtype=np.int64)
    for ref in dict.fromkeys(w.reference for w in windows):
        mine = [(i, w) for i, w in enumerate(windows) if w.reference == ref]
        mine.sort(key=lambda iw: iw[1].lo)
        los = np.array([w.lo for _, w in mine], dtype="float64")
        his = np.array([w.hi for _, w in mine], dtype="float64")
        overlapping = bool(np.any(los[1:] <= his[:-1]))
        day = days[ref]
        if overlapping:  # rare: test each window
            for i, w in mine:
                with np.errstate(invalid="ignore"):
                    hit = (day >= w.lo) & (day <= w.hi)
                best = np.where(hit & (i < best), i, best)
            continue
        k = np.searchsorted(los, np.where(np.isnan(day), -np.inf, day), side="right") - 1
        kk = np.maximum(k, 0)
        with np.errstate(invalid="ignore"):
            hit = (k >= 0) & ~np.isnan(day) & (day <= his[kk])
        pos = np.array([i for i, _ in mine], dtype=np.int64)[kk]
        best = np.where(hit & (pos < best), pos, best)
    found = best < len(windows)
    table = {
        "avisitn": np.array([w.avisitn for w in windows] + [np.nan], dtype="float64"),
        "avisit": np.array([w.avisit for w in windows] + [""], dtype=object),
        "target": np.array([w.target for w in windows] + [np.nan], dtype="float64"),
        "lo": np.array([w.lo for w in windows] + [np.nan], dtype="float64"),
        "hi": np.array([w.hi for w in windows] + [np.nan], dtype="float64"),
        "range": np.array(
            [f"DAY {w.lo} TO {w.hi} FROM {w.reference}" for w in windows] + [""], dtype=object
        ),
    }
    avisitn = table["avisitn"][best]
    avisit = take_text(list(table["avisit"]), best).array
    target = table["target"][best]
    lo = table["lo"][best]
    hi = table["hi"][best]
    rng = take_text(list(table["range"]), best).array
    ref_of = np.array([w.reference for w in windows])
    day_used = np.full(n, np.nan)
    for ref in dict.fromkeys(ref_of):
        sel = found & (ref_of[np.minimum(best, len(windows) - 1)] == ref)
        day_used[sel] = days[ref][sel]
    diff = np.abs(day_used - target)
    awu = take_text(["DAYS", ""], np.isnan(avisitn).astype(np.intp)).array
    return pd.DataFrame(
        {
            "AVISITN": avisitn,
            "AVISIT": avisit,
            "AWTARGET": target,
            "AWLO": lo,
            "AWHI": hi,
            "AWTDIFF": diff,
            "AWRANGE": rng,
            "AWU": awu,
        },
        index=date.index,
    )


def derive_analysis_flag(
    df: pd.DataFrame,
    *,
    by: Sequence[str],
    window: str = "AVISITN",
    distance: str = "AWTDIFF",
    date: str = "ADT",
    prefer: str | None = "ABLFL",
    order_by: Sequence[str] = (),
    eligible: pd.Series | None = None,
) -> pd.Series:
    """ANLzzFL (ADaMIG v1.3 section 3.3.8 and section 4.4): "Y" on one record per ``by``
    group (e.g. USUBJID, PARAMCD) and analysis window.

    Among eligible records (``eligible``, e.g. non-missing AVAL and DTYPE as wanted) in a
    window, the chosen record is: a ``prefer`` record (ABLFL = "Y") if there is one, else
    the one closest to the window target (smallest ``distance``), then the later date, then
    the lowest ``order_by`` values (e.g. SRCSEQ), then row order. Records outside any
    window get no flag.

    Returns:
        ``"Y"``/``""`` Series on the index of ``df``.
    """
    by, order_by = list(by), list(order_by)
    cols = [*by, window, distance, date, *order_by] + ([prefer] if prefer else [])
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"derive_analysis_flag: no column {', '.join(missing)}")
    ok = df[window].notna().to_numpy()
    if eligible is not None:
        if not eligible.index.equals(df.index):
            raise ValueError("derive_analysis_flag: eligible has a different index")
        ok = ok & eligible.fillna(False).to_numpy(dtype=bool)
    idx = np.flatnonzero(ok)
    g = group_codes(df, [*by, window])[idx]
    pref = (
        (~df[prefer].eq("Y").to_numpy(dtype=bool, na_value=False)[idx]).astype(np.int64)
        if prefer
        else np.zeros(len(idx), dtype=np.int64)
    )
    dist = df[distance].to_numpy(dtype="float64")[idx]
    negdate = -df[date].to_numpy(dtype="float64")[idx]
    keys = [g, pref, dist, negdate, *[k[idx] for k in sort_keys(df, order_by)]]
    o = lexsort(keys)
    gs = g[o]
    first = idx[o[np.r_[True, gs[1:] != gs[:-1]]]] if len(o) else idx[:0]
    out = np.full(len(df), "", dtype=object)
    out[first] = "Y"
    return pd.Series(out, index=df.index, name="ANL01FL")


def derive_nominal_visit(
    visit: pd.Series,
    mapping: Mapping[str, str | float] | None = None,
    *,
    title: bool = False,
    numeric: bool = False,
) -> pd.Series:
    """AVISIT or AVISITN as the record's nominal visit (ADaMIG v1.3 section 3.3.3: "may
    contain the visit names as observed (i.e., from SDTM VISIT)").

    With ``mapping`` (visit name, blanks trimmed -> AVISIT text or AVISITN number) a visit
    not in it gives null (unscheduled, screening visits); without one, the visit itself,
    in title case with ``title`` (``WEEK 2`` -> ``Week 2``, admiral's ``str_to_title``).
    ``numeric``: the result is float64 (NaN missing), else text (``""`` missing). Computed
    once per distinct visit.
    """
    text = visit.astype(object).where(visit.notna(), "")
    codes, uniques = pd.factorize(text.map(lambda v: str(v).strip()), use_na_sentinel=False)
    missing: object = np.nan if numeric else ""
    if mapping is not None:
        out = [mapping.get(name, missing) if name else missing for name in uniques]
    elif numeric:
        raise ValueError("a numeric nominal visit needs a mapping (else use VISITNUM)")
    else:
        out = [name.title() if title else name for name in uniques]
    table = np.array(out, dtype="float64" if numeric else object)
    return pd.Series(table[codes] if len(codes) else table[:0], index=visit.index)
