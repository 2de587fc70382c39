"""Date columns of the plausibility checks (cdisc_mapper.validate.checks.plausibility): each
date variable read once per distinct value, as intervals of SAS seconds with its text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.validate.checks.plausibility import date_column
from cdisc_mapper.validate.package import Dataset
from cdisc_mapper.xpt import XptMetadata

DAY = 86_400.0
JAN1_2020 = 21_915.0  # 2020-01-01 as a SAS date (60 * 365 + 15 leap days after 1960)


def _dataset(standard: str, frame: pd.DataFrame) -> Dataset:
    meta = XptMetadata("X", "X", [], len(frame))
    return Dataset("X", "x.xpt", Path("x.xpt"), frame, meta, standard, "X", "", None, None)


def test_a_character_date_column_is_read_per_distinct_value():
    values = ["2020-01-01", None, "2020-02", "2020-01-01", "bad"]
    ds = _dataset("SDTM", pd.DataFrame({"AESTDTC": pd.Categorical(values)}))
    column = date_column(ds, "AESTDTC")
    assert column is not None
    start = JAN1_2020 * DAY
    np.testing.assert_array_equal(column.low, [start, np.nan, start + 31 * DAY, start, np.nan])
    # 2020-02 ends on the 29th (a leap year), at 23:59:59
    assert column.high[2] == start + (31 + 29) * DAY - 1
    assert column.texts_at(np.array([0, 2, 4])).tolist() == ["2020-01-01", "2020-02", "bad"]
    assert column.text(1) == ""


def test_adam_numeric_dates_and_datetimes_with_their_text():
    frame = pd.DataFrame(
        {"ADT": [JAN1_2020, np.nan, JAN1_2020 + 1], "ADTM": [JAN1_2020 * DAY + 3661, np.nan, 0.0]}
    )
    ds = _dataset("ADaM", frame)
    adt = date_column(ds, "ADT")
    assert adt is not None
    np.testing.assert_array_equal(adt.low, [JAN1_2020 * DAY, np.nan, (JAN1_2020 + 1) * DAY])
    assert adt.high[0] == (JAN1_2020 + 1) * DAY - 1
    assert [adt.text(r) for r in range(3)] == ["2020-01-01", "", "2020-01-02"]
    adtm = date_column(ds, "ADTM")
    assert adtm is not None
    assert adtm.high[0] == adtm.low[0] == JAN1_2020 * DAY + 3661
    assert [adtm.text(r) for r in range(3)] == ["2020-01-01T01:01:01", "", "1960-01-01T00:00:00"]
    assert date_column(_dataset("SDTM", frame), "ADT") is None  # numeric dates: ADaM only
