"""Derivations that stay exact with partial dates: the value is given only when every
complete date the partial date could stand for gives the same answer (nothing is
imputed; SDTMIG 3.4 section 4.4.2 forbids inventing date parts)."""

from __future__ import annotations

import calendar

import pandas as pd

from cdisc_mapper.derive.dates import derive_age
from cdisc_mapper.derive.timing import derive_epoch
from cdisc_mapper.textops import map_unique


def _bounds_one(text: str) -> tuple[str, str]:
    date = text[:10]
    if len(date) == 10 or not date:
        return text, text
    if len(date) == 7:  # YYYY-MM
        year, month = int(date[:4]), int(date[5:7])
        last = calendar.monthrange(year, month)[1]
        return f"{date}-01", f"{date}-{last:02d}"
    if len(date) == 4:  # YYYY
        return f"{date}-01-01", f"{date}-12-31"
    return "", ""


def partial_date_bounds(dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The earliest and latest complete dates an ISO 8601 (possibly partial) date allows.

    ``2014-03`` -> (``2014-03-01``, ``2014-03-31``); ``2013`` -> (``2013-01-01``,
    ``2013-12-31``); complete values are returned unchanged; blanks stay blank.
    """
    lo = map_unique(dtc, lambda u: u.map(lambda v: _bounds_one(str(v))[0]))
    hi = map_unique(dtc, lambda u: u.map(lambda v: _bounds_one(str(v))[1]))
    return lo, hi


def derive_age_exact(birth_dtc: pd.Series, ref_dtc: pd.Series) -> pd.Series:
    """AGE in completed years (SDTMIG 3.4 DM AGE), also from a partial birth date when
    every possible birth day gives the same age (e.g. born 1961-03, consent 2016-08-29:
    55 whatever the day); otherwise missing."""
    lo, hi = partial_date_bounds(birth_dtc)
    ref = ref_dtc.fillna("").astype(str)
    oldest = derive_age(lo, ref)
    youngest = derive_age(hi, ref)
    same = oldest.notna() & youngest.notna() & (oldest == youngest)
    return oldest.where(same.fillna(False).astype(bool))


def derive_epoch_exact(dtc: pd.Series, usubjid: pd.Series, se: pd.DataFrame) -> pd.Series:
    """EPOCH (SDTMIG 3.4 section 4.1.3.1) from the subject's elements, also for a partial
    date when its whole range lies in one epoch; otherwise null ("If it is not possible to
    determine the epoch of an observation, then EPOCH should be null")."""
    text = dtc.fillna("").astype(str)
    out = derive_epoch(text, usubjid, se)
    partial = (text != "") & (text.str.len() < 10)
    if partial.any():
        lo, hi = partial_date_bounds(text[partial])
        first = derive_epoch(lo, usubjid[partial], se)
        last = derive_epoch(hi, usubjid[partial], se)
        out[partial] = first.where(first == last, "")
    return out
