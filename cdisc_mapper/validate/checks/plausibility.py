"""Plausibility of dates (TM): no date after the package's last plausible date (its data
cut-off, else its last end of participation), none before the subject's birth.

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
from cdisc_mapper.validate.checks.results import distinct_codes
from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.model import WARNING
from cdisc_mapper.validate.package import Dataset
from cdisc_mapper.validate.registry import check

_SAS_EPOCH = np.datetime64("1960-01-01T00:00:00", "s")
_BIRTH = frozenset({"BRTHDTC", "BRTHDT", "BRTHDTM"})
_CUTOFF_PARAMETER = "DCUTDTC"


@dataclass(frozen=True)
class DateColumn:
    """One date variable of a dataset as intervals, by distinct value: each record's
    position ``codes`` in the tables of the earliest and latest instant (SAS seconds; NaN
    when blank, invalid or without a year) and of the text; the last entry of each table
    is that of a missing value."""

    name: str
    codes: np.ndarray
    lows: np.ndarray
    highs: np.ndarray
    texts: np.ndarray

    @property
    def low(self) -> np.ndarray:
        """The earliest instant of each record."""
        return self.lows[self.codes]

    @property
    def high(self) -> np.ndarray:
        """The latest instant of each record."""
        return self.highs[self.codes]

    def text(self, row: int) -> str:
        """The value of record ``row`` as text."""
        return str(self.texts[self.codes[row]])

    def texts_at(self, rows: np.ndarray) -> np.ndarray:
        """The values of records ``rows`` as text."""
        return self.texts[self.codes[rows]]


@dataclass(frozen=True)
class Horizon:
    """The package's last plausible instant (SAS seconds) and what it is."""

    latest: float
    source: str


def date_columns(ctx: Context, ds: Dataset) -> Iterator[DateColumn]:
    """The dataset's date variables: character ``--DTC``, ADaM numeric ``*DT``/``*DTM``
    (read once per run: TM0011 and TM0012 share them)."""
    key = ("date-columns", ds.name)
    if key not in ctx.cache:
        ctx.cache[key] = [c for c in (date_column(ds, col) for col in ds.columns) if c]
    found: list[DateColumn] = ctx.cache[key]
    yield from found


def date_column(ds: Dataset, col: str) -> DateColumn | None:
    """Variable ``col`` as a date column, or None when it is absent or not a date."""
    if col not in ds.df.columns:
        return None
    values = ds.df[col]
    numeric = values.dtype.kind in "fiu"
    if col.endswith("DTC") and not numeric:
        codes, uniques = distinct_codes(values)
        texts = np.empty(len(uniques) + 1, dtype=object)
        texts[:-1], texts[-1] = list(uniques), ""
        low, high = iso.bounds(pd.Series(texts, dtype=object))
        return DateColumn(col, np.where(codes >= 0, codes, len(uniques)), low, high, texts)
    if ds.standard == "ADaM" and numeric and col.endswith(("DT", "DTM")):
        codes, uniques = pd.factorize(values.to_numpy(dtype=float))
        number = np.append(np.asarray(uniques, dtype=float), np.nan)
        seconds = number if col.endswith("DTM") else number * iso.SECONDS_PER_DAY
        width = 0 if col.endswith("DTM") else iso.SECONDS_PER_DAY - 1
        texts = _as_text(seconds, col)
        return DateColumn(
            col, np.where(codes >= 0, codes, len(uniques)), seconds, seconds + width, texts
        )
    return None


def _as_text(seconds: np.ndarray, col: str) -> np.ndarray:
    """ISO 8601 text of SAS seconds (a date for ``*DT``, a date-time for ``*DTM``); ``""``
    for NaN."""
    table = np.full(len(seconds), "", dtype=object)
    known = ~np.isnan(seconds)
    stamps = (_SAS_EPOCH + seconds[known].astype("int64").astype("timedelta64[s]")).astype(str)
    table[known] = stamps if col.endswith("DTM") else [s[:10] for s in stamps]
    return table


#: Where a package states its last plausible date, in order: (dataset, variable, what it
#: is); TS holds the cut-off as the TSVAL of parameter DCUTDTC.
_HORIZONS = (
    ("TS", "TSVAL", "the data cut-off"),
    ("ADSL", "DCUTDT", "the data cut-off"),
    ("DM", "RFPENDTC", "the last end of participation"),
    ("ADSL", "RFPENDT", "the last end of participation"),
)


def horizon(ctx: Context) -> Horizon | None:
    """The package's last plausible date: its data cut-off (TS parameter DCUTDTC, else
    ADSL.DCUTDT), else the latest end of participation (DM.RFPENDTC, else ADSL.RFPENDT);
    None when it states none of them."""
    if ("horizon",) not in ctx.cache:
        ctx.cache[("horizon",)] = next(
            (h for h in (_stated(ctx, *source) for source in _HORIZONS) if h is not None), None
        )
    found: Horizon | None = ctx.cache[("horizon",)]
    return found


def _stated(ctx: Context, name: str, variable: str, what: str) -> Horizon | None:
    """The latest instant ``name.variable`` may stand for, as a :class:`Horizon`."""
    ds = ctx.get(name)
    if ds is None:
        return None
    column = _cutoff_parameter(ds) if name == "TS" else date_column(ds, variable)
    if column is None or np.isnan(column.high).all():
        return None
    row = int(np.nanargmax(column.high))
    where = f"TS {_CUTOFF_PARAMETER}" if name == "TS" else f"{name}.{variable}"
    return Horizon(float(column.high[row]), f"{what} {column.text(row)} ({where})")


def _cutoff_parameter(ts: Dataset) -> DateColumn | None:
    """The TSVAL of the DCUTDTC records of TS (an ISO 8601 date), or None."""
    if not ts.has("TSPARMCD", "TSVAL"):
        return None
    rows = (ts.df["TSPARMCD"] == _CUTOFF_PARAMETER).to_numpy(dtype=bool)
    values = ts.df["TSVAL"][rows].astype(object).to_numpy()
    low, high = iso.bounds(pd.Series(values, dtype=object))
    return DateColumn("TSVAL", np.arange(len(values)), low, high, values)


@check(
    "TM0011",
    WARNING,
    "timing",
    "Date is after the package's last plausible date (data cut-off or last RFPENDTC)",
    explanation="No collected date can be later than the data cut-off (TS parameter "
    "DCUTDTC, or ADSL.DCUTDT) or, without one, than the last subject's end of "
    "participation (the latest DM.RFPENDTC, or ADSL.RFPENDT): such a date is usually a "
    "typo (2099 for 2019). The limit is taken from the package, never from the day of the "
    "run, so that reruns give the same report; a partial date is flagged only when all of "
    "it is later. Skipped when the package states none of these.",
    reference="SDTMIG v3.4 §5.1 (DM: RFPENDTC), Appendix C1 (TS: DCUTDTC); ADaMIG v1.3 §3.2",
)
def after_last_plausible_date(ctx: Context, ds: Dataset) -> None:
    limit = horizon(ctx)
    if limit is None:
        ctx.skip(
            "the package states no data cut-off (TS DCUTDTC, ADSL.DCUTDT) nor end of "
            "participation (DM.RFPENDTC, ADSL.RFPENDT)"
        )
    assert limit is not None
    for column in date_columns(ctx, ds):
        later_value = column.lows > limit.latest  # NaN compares False
        if later_value.any():
            later = later_value[column.codes]

            def after(rows: np.ndarray, column: DateColumn = column) -> list[str]:
                return [f"{column.name} {t} is after {limit.source}" for t in column.texts_at(rows)]

            ctx.flag(ds, later, after, variable=column.name)


def _births(ctx: Context) -> pd.DataFrame | None:
    """Earliest instant (``low``) and text of each subject's birth, by USUBJID, from
    DM.BRTHDTC (else ADSL.BRTHDT); None when the package has neither."""
    if ("births",) not in ctx.cache:
        ctx.cache[("births",)] = next(
            (b for b in (_birth_dates(ctx, n, v) for n, v in _BIRTHS) if b is not None), None
        )
    found: pd.DataFrame | None = ctx.cache[("births",)]
    return found


_BIRTHS = (("DM", "BRTHDTC"), ("ADSL", "BRTHDT"))


def _birth_dates(ctx: Context, name: str, variable: str) -> pd.DataFrame | None:
    ds = ctx.get(name)
    column = date_column(ds, variable) if ds is not None else None
    if ds is None or column is None or "USUBJID" not in ds.df.columns:
        return None
    frame = pd.DataFrame(
        {
            "low": column.low,
            "text": [f"{t} ({name}.{variable})" for t in column.texts_at(np.arange(ds.n))],
            "subject": ds.df["USUBJID"].astype(object).to_numpy(),
        }
    )
    frame = frame[~np.isnan(frame["low"])].drop_duplicates("subject")
    return frame.set_index("subject")


@check(
    "TM0012",
    WARNING,
    "timing",
    "Date is before the subject's birth (DM.BRTHDTC or ADSL.BRTHDT)",
    explanation="No date of a subject's records can precede the subject's birth (DM.BRTHDTC, "
    "or ADSL.BRTHDT in a package without DM); such a date, or the birth date, is wrong. "
    "Partial dates are compared as intervals: 1960 for the birth and 1960-03 for a record "
    "is not a finding, 1959-12-31 is.",
    reference="SDTMIG v3.4 §5.1 (DM: BRTHDTC); ADaMIG v1.3 §3.2 (ADSL: BRTHDT)",
)
def before_birth(ctx: Context, ds: Dataset) -> None:
    births = _births(ctx)
    if births is None:
        ctx.skip("no DM.BRTHDTC nor ADSL.BRTHDT")
    assert births is not None
    if births.empty or "USUBJID" not in ds.df.columns:
        return
    born = ctx.per_record(ds, births["low"])
    born_text = ctx.per_record(ds, births["text"], missing="")
    for column in date_columns(ctx, ds):
        if column.name in _BIRTH:
            continue
        earlier = column.high < born  # NaN compares False
        if earlier.any():

            def before(rows: np.ndarray, column: DateColumn = column) -> list[str]:
                return [
                    f"{column.name} {column.text(r)} is before the subject's birth {born_text[r]}"
                    for r in rows
                ]

            ctx.flag(ds, earlier, before, variable=column.name)
