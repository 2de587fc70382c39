"""Plausibility of dates (TM): no date after the package's last plausible date, none
before the subject's birth.

Dates are the character ``--DTC`` variables of SDTM and ADaM datasets and the numeric
ADaM dates (``*DT`` in days, ``*DTM`` in seconds since 1960-01-01). Partial ISO 8601
dates are intervals (:func:`cdisc_mapper.iso8601.bounds`: ``2019`` is every instant of
2019), and a record is flagged only when the whole interval is on the wrong side: a
partial date that may be right is not a finding.

Neither check depends on the day it runs (a rule such as "after today" would give
another report tomorrow for the same package): the last plausible date comes from the
package itself, so reruns give byte-identical reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cdisc_mapper import iso8601 as iso
from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import WARNING
from cdisc_mapper.validate.package import Dataset
from cdisc_mapper.validate.registry import check

_SAS_EPOCH = np.datetime64("1960-01-01T00:00:00", "s")
_BIRTH = frozenset({"BRTHDTC", "BRTHDT", "BRTHDTM"})
_CUTOFF_PARAMETER = "DCUTDTC"


@dataclass(frozen=True)
class DateColumn:
    """One date variable of a dataset as intervals: earliest and latest instant of each
    record (SAS seconds; NaN when blank, invalid or without a year) and its text."""

    name: str
    low: np.ndarray
    high: np.ndarray
    text: pd.Series


@dataclass(frozen=True)
class Horizon:
    """The package's last plausible instant (SAS seconds) and what it is."""

    latest: float
    source: str


def date_columns(ds: Dataset) -> Iterator[DateColumn]:
    """The dataset's date variables: character ``--DTC``, ADaM numeric ``*DT``/``*DTM``."""
    for col in ds.columns:
        values = ds.df[col]
        numeric = values.dtype.kind in "fiu"
        if col.endswith("DTC") and not numeric:
            low, high = iso.bounds(values)
            yield DateColumn(col, low, high, values.astype(object))
        elif ds.standard == "ADaM" and numeric and col.endswith(("DT", "DTM")):
            number = values.to_numpy(dtype=float)
            seconds = number if col.endswith("DTM") else number * iso.SECONDS_PER_DAY
            width = 0 if col.endswith("DTM") else iso.SECONDS_PER_DAY - 1
            yield DateColumn(col, seconds, seconds + width, _as_text(seconds, col))


def _as_text(seconds: np.ndarray, col: str) -> pd.Series:
    """ISO 8601 text of SAS seconds (a date for ``*DT``, a date-time for ``*DTM``)."""
    out = np.full(len(seconds), "", dtype=object)
    ok = ~np.isnan(seconds)
    stamps = (_SAS_EPOCH + seconds[ok].astype("int64").astype("timedelta64[s]")).astype(str)
    out[ok] = stamps if col.endswith("DTM") else [s[:10] for s in stamps]
    return pd.Series(out, dtype=object)


def _latest(values: pd.Series) -> tuple[float, int] | None:
    """The latest instant any of the values may stand for, and the row that has it."""
    high = iso.bounds(values)[1]
    if np.isnan(high).all():
        return None
    row = int(np.nanargmax(high))
    return float(high[row]), row


def horizon(ctx: Context) -> Horizon | None:
    """The data cut-off (TS TSPARMCD DCUTDTC) when the package states one, else the
    latest end of participation in DM (RFPENDTC); None when it has neither."""
    if ("horizon",) in ctx.cache:
        cached: Horizon | None = ctx.cache[("horizon",)]
        return cached
    found = None
    ts, dm = ctx.get("TS"), ctx.get("DM")
    if ts is not None and ts.has("TSPARMCD", "TSVAL"):
        cutoff = ts.df.loc[(ts.df["TSPARMCD"] == _CUTOFF_PARAMETER).to_numpy(), "TSVAL"]
        latest = _latest(cutoff.astype(object).reset_index(drop=True))
        if latest is not None:
            value = cutoff.iloc[latest[1]]
            found = Horizon(latest[0], f"the data cut-off {value} (TS {_CUTOFF_PARAMETER})")
    if found is None and dm is not None and dm.has("RFPENDTC"):
        latest = _latest(dm.df["RFPENDTC"])
        if latest is not None:
            value = dm.df["RFPENDTC"].iloc[latest[1]]
            found = Horizon(latest[0], f"the last end of participation {value} (DM.RFPENDTC)")
    ctx.cache[("horizon",)] = found
    return found


@check(
    "TM0011",
    WARNING,
    "timing",
    "Date is after the package's last plausible date (data cut-off or last RFPENDTC)",
    explanation="No collected date can be later than the data cut-off (TS parameter "
    "DCUTDTC) or, without one, than the last subject's end of participation (the latest "
    "DM.RFPENDTC): such a date is usually a typo (2099 for 2019). The limit is taken from "
    "the package, never from the day of the run, so that reruns give the same report; a "
    "partial date is flagged only when all of it is later. Skipped when the package has "
    "neither DCUTDTC nor RFPENDTC.",
    reference="SDTMIG v3.4 §5.1 (DM: RFPENDTC), Appendix C1 (TS: DCUTDTC)",
)
def after_last_plausible_date(ctx: Context, ds: Dataset) -> None:
    limit = horizon(ctx)
    if limit is None:
        ctx.skip("the package has no data cut-off (TS DCUTDTC) nor DM.RFPENDTC")
    assert limit is not None
    for column in date_columns(ds):
        later = column.low > limit.latest  # NaN compares False
        if later.any():
            text = column.text

            def after(
                rows: np.ndarray, col: str = column.name, text: pd.Series = text
            ) -> list[str]:
                return [f"{col} {text.iloc[r]} is after {limit.source}" for r in rows]

            ctx.flag(ds, later, after, variable=column.name)


def _births(ctx: Context) -> pd.DataFrame | None:
    """Earliest instant of each subject's birth (DM.BRTHDTC), by USUBJID; None without."""
    if ("births",) not in ctx.cache:
        dm = ctx.get("DM")
        births = None
        if dm is not None and dm.has("USUBJID", "BRTHDTC"):
            frame = pd.DataFrame(
                {
                    "low": iso.bounds(dm.df["BRTHDTC"])[0],
                    "text": dm.df["BRTHDTC"].astype(object).to_numpy(),
                    "subject": dm.df["USUBJID"].astype(object).to_numpy(),
                }
            )
            frame = frame[~np.isnan(frame["low"])].drop_duplicates("subject")
            births = frame.set_index("subject")
        ctx.cache[("births",)] = births
    found: pd.DataFrame | None = ctx.cache[("births",)]
    return found


@check(
    "TM0012",
    WARNING,
    "timing",
    "Date is before the subject's birth (DM.BRTHDTC)",
    explanation="No date of a subject's records can precede the subject's birth; such a "
    "date, or the birth date, is wrong. Partial dates are compared as intervals: 1960 for "
    "the birth and 1960-03 for a record is not a finding, 1959-12-31 is.",
    reference="SDTMIG v3.4 §5.1 (DM: BRTHDTC)",
)
def before_birth(ctx: Context, ds: Dataset) -> None:
    births = _births(ctx)
    if births is None:
        ctx.skip("no DM.BRTHDTC")
    assert births is not None
    if births.empty or "USUBJID" not in ds.df.columns:
        return
    born = ctx.per_record(ds, births["low"])
    born_text = ctx.per_record(ds, births["text"], missing="")
    for column in date_columns(ds):
        if column.name in _BIRTH:
            continue
        earlier = column.high < born  # NaN compares False
        if earlier.any():

            def before(
                rows: np.ndarray, col: str = column.name, text: pd.Series = column.text
            ) -> list[str]:
                return [
                    f"{col} {text.iloc[r]} is before the subject's birth {born_text[r]} "
                    "(DM.BRTHDTC)"
                    for r in rows
                ]

            ctx.flag(ds, earlier, before, variable=column.name)
