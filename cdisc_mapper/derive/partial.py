"""Derivations that stay exact with partial dates: the value is given only when every
complete date the partial date could stand for gives the same answer (nothing is
imputed; SDTMIG 3.4 section 4.4.2 forbids inventing date parts)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper import iso8601
from cdisc_mapper.derive.dates import derive_age
from cdisc_mapper.derive.timing import derive_epoch


def partial_date_bounds(dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The earliest and latest complete dates an ISO 8601 (possibly partial) date allows.

    The first and last day of :func:`cdisc_mapper.iso8601.bounds` (``Parsed.day_bounds``):
    ``2014-03`` -> (``2014-03-01``, ``2014-03-31``); ``2013`` -> (``2013-01-01``,
    ``2013-12-31``).
    Values with a complete date (with or without a time) are returned unchanged, and so
    are values that are not valid ISO 8601 dates with a year (the derivations reading the
    result report them); blanks stay blank.
    """
    parsed = iso8601.parse(dtc)
    partial = parsed.valid_date_time & np.isnan(parsed.sas_dates)
    ends = []
    for days in parsed.day_bounds:
        text = parsed.text.copy()
        text[partial] = iso8601.from_sas_date(pd.Series(days)).to_numpy(dtype=object)[partial]
        ends.append(pd.Series(parsed.rows(text), index=dtc.index, dtype=object))
    return ends[0], ends[1]


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
