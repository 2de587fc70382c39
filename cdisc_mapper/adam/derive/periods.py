"""Subject event dates, period and phase dates (ADSL) and record-level periods (BDS).

Rules implemented (ADaMIG v1.3):

* Section 3.2.7 (ADSL Period, Subperiod, and Phase Timing Variables): APxxSDT/APxxEDT,
  "Period xx Start/End Date"; PHwSDT/PHwEDT, "Phase w Start/End Date"; TRTxxP/TRTxxA
  (section 3.2.4) name the treatment of period xx.
* Section 3.3.3 (Timing Variables for BDS Datasets): APERIOD "Period": "the period of the
  record", assigned from ADSL APxxSDT/APxxEDT by the record's date; APERIODC its text;
  APHASE the phase containing the period; APERSDT/APEREDT the record's period dates.

Periods may share a boundary day (a period ends on the day of the next injection, which
starts the next period). Which period a record on that day belongs to is the caller's
rule: ``boundary="end"`` gives it to the period that ends that day (pre-dose assessments),
``boundary="start"`` to the one that starts it (events after dosing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "derive_nth_date",
    "derive_period_dates",
    "derive_record_period",
]


def derive_nth_date(
    usubjid: pd.Series, date: pd.Series, occurrence: int | Literal["last"]
) -> pd.Series:
    """The ``occurrence``-th distinct date (1-based, in date order) of each subject's
    records, or the last one; indexed by USUBJID. Missing dates are ignored. The dated
    events (e.g. the n-th injection) that bound periods and phases (ADaMIG v1.3 section
    3.2.7, APxxSDT/APxxEDT)."""
    if occurrence != "last" and occurrence < 1:
        raise ValueError("occurrence must be 1 or more, or 'last'")
    frame = pd.DataFrame({"USUBJID": usubjid.to_numpy(), "d": date.to_numpy(dtype="float64")})
    frame = frame.dropna(subset=["d"]).drop_duplicates().sort_values(["USUBJID", "d"])
    if occurrence == "last":
        picked = frame.groupby("USUBJID", sort=True)["d"].last()
    else:
        frame["n"] = frame.groupby("USUBJID", sort=False).cumcount() + 1
        picked = frame[frame["n"] == occurrence].set_index("USUBJID")["d"]
    picked.name = None
    return picked.astype("float64")


def derive_period_dates(
    start: pd.Series, ends: Sequence[pd.Series], *, closed: bool = False
) -> tuple[pd.Series, pd.Series]:
    """APxxSDT/APxxEDT (ADaMIG v1.3 section 3.2.7) of one period for every subject.

    ``start`` and each of ``ends`` are per-subject dates on the same index (USUBJID). The
    end is the first of ``ends`` that is present (e.g. the next injection, else the end of
    participation). A period without a start does not exist for the subject (both NaN);
    with ``closed``, neither does one without an end (e.g. injection k to injection k+1
    for a subject with k injections).
    """
    s = start.astype("float64")
    e = pd.Series(np.nan, index=s.index)
    for cand in ends:
        if not cand.index.equals(s.index):
            raise ValueError("derive_period_dates: ends must share the index of start")
        e = e.fillna(cand.astype("float64"))
    if closed:
        s = s.where(e.notna())
    e = e.where(s.notna())
    return s, e


def derive_record_period(
    usubjid: pd.Series,
    date: pd.Series,
    periods: Mapping[int, tuple[pd.Series, pd.Series]],
    *,
    boundary: Literal["end", "start"] = "end",
) -> pd.Series:
    """APERIOD of each record (ADaMIG v1.3 section 3.3.3): the period whose
    APxxSDT..APxxEDT (inclusive) contains the record's ``date``; NaN when none does.

    ``periods`` maps APERIOD to per-subject (start, end) Series indexed by USUBJID. On a
    day shared by two periods, ``boundary`` decides: ``"end"`` = the earlier period,
    ``"start"`` = the later one.
    """
    d = date.to_numpy(dtype="float64")
    out = np.full(len(d), np.nan)
    order = sorted(periods)
    if boundary == "start":
        order = order[::-1]
    # each distinct subject is looked up once per period, then taken to its records
    codes, subjects = pd.factorize(usubjid, use_na_sentinel=True)
    codes = np.asarray(codes)
    for aperiod in order:
        s, e = periods[aperiod]
        found = s.index.get_indexer(pd.Index(subjects))
        pos = np.where(codes >= 0, np.append(found, -1)[codes], -1)
        ok = pos >= 0
        sv = np.where(ok, s.to_numpy(dtype="float64")[pos], np.nan)
        ev = np.where(ok, e.to_numpy(dtype="float64")[pos], np.nan)
        with np.errstate(invalid="ignore"):
            hit = np.isnan(out) & (d >= sv) & (d <= ev)
        out[hit] = aperiod
    return pd.Series(out, index=date.index, name="APERIOD")
