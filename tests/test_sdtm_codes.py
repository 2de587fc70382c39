"""Key columns factorized once (:mod:`cdisc_mapper.sdtm.codes`), the engine's row-local
shortcut built on them, and columns set without conversion (``put_column``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.errors import MappingError
from cdisc_mapper.sdtm import codes as codes_module
from cdisc_mapper.sdtm.codes import ColumnCodes, first_positions
from cdisc_mapper.sdtm.context import put_column, shared_text
from cdisc_mapper.sdtm.engine import compute_distinct


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": ["S2", "S1", "S2", None, "S1", "S2"],
            "TESTCD": ["HR", "HR", "BP", "HR", "HR", "HR"],
        }
    )


def test_codes_are_pandas_codes() -> None:
    frame = _frame()
    found = ColumnCodes().of(frame, "USUBJID")
    # S2 first seen at 0, S1 at 1, missing -1 (worked out by hand)
    assert found.codes.tolist() == [0, 1, 0, -1, 1, 0]
    assert found.count == 2
    codes, uniques = pd.factorize(frame["USUBJID"])
    assert found.codes.tolist() == codes.tolist()
    assert found.count == len(uniques)


def test_a_column_is_factorized_once() -> None:
    frame = _frame()
    codes = ColumnCodes()
    first = codes.of(frame, "TESTCD")
    assert codes.of(frame, "TESTCD") is first


def test_forget_and_another_frame_factorize_again() -> None:
    frame = _frame()
    codes = ColumnCodes()
    before = codes.of(frame, "TESTCD")
    frame["TESTCD"] = ["BP", "BP", "BP", "HR", "HR", "HR"]
    codes.forget(frame, "TESTCD")
    after = codes.of(frame, "TESTCD")
    assert after is not before
    assert after.codes.tolist() == [0, 0, 0, 1, 1, 1]
    other = frame.copy()
    assert codes.of(other, "TESTCD") is not after


def test_distinct_rows_are_made_once_until_a_column_is_replaced() -> None:
    frame = _frame()
    codes = ColumnCodes()
    inverse, records = codes.distinct_rows(frame, ["USUBJID", "TESTCD"], ["USUBJID", "TESTCD"])
    # (S2,HR) (S1,HR) (S2,BP) (None,HR): records 0-3, then (S1,HR) again and (S2,HR)
    assert inverse.tolist() == [0, 1, 2, 3, 1, 0]
    assert records["TESTCD"].tolist() == ["HR", "HR", "BP", "HR"]
    records.loc[0, "TESTCD"] = "changed"  # an operation changing its records
    again_inverse, again = codes.distinct_rows(frame, ["USUBJID", "TESTCD"], ["USUBJID", "TESTCD"])
    assert again_inverse is inverse  # shared, not made again
    assert again["TESTCD"].tolist() == ["HR", "HR", "BP", "HR"]  # its own copy unchanged
    frame["TESTCD"] = ["BP", "BP", "BP", "BP", "BP", "BP"]
    codes.forget(frame, "TESTCD")
    _, after = codes.distinct_rows(frame, ["USUBJID", "TESTCD"], ["USUBJID", "TESTCD"])
    assert after["USUBJID"].fillna("-").tolist() == [
        "S2",
        "S1",
        "-",
    ]  # made again: (S2,BP) (S1,BP) ...


def test_distinct_rows_beyond_the_records_held_are_dropped(monkeypatch) -> None:
    monkeypatch.setattr(codes_module, "ROWS_HELD", 8)  # 6 records a frame: one at a time
    codes = ColumnCodes()
    frame = _frame()
    first, _ = codes.distinct_rows(frame, ["USUBJID"], ["USUBJID"])
    codes.distinct_rows(frame, ["TESTCD"], ["TESTCD"])
    again, _ = codes.distinct_rows(frame, ["USUBJID"], ["USUBJID"])
    assert again is not first and again.tolist() == first.tolist()


def test_combined_gives_first_records_and_each_records_combination() -> None:
    frame = _frame()
    first, inverse = ColumnCodes().combined(frame, ["USUBJID", "TESTCD"])
    # combinations in order of first appearance: (S2,HR) (S1,HR) (S2,BP) (None,HR)
    assert first.tolist() == [0, 1, 2, 3]
    assert inverse.tolist() == [0, 1, 2, 3, 1, 0]


def test_first_positions() -> None:
    assert first_positions(np.array([0, 0, 1, 0, 2, 1], dtype=np.intp)).tolist() == [0, 2, 4]
    assert first_positions(np.array([], dtype=np.intp)).tolist() == []


def test_compute_distinct_spreads_each_combinations_result() -> None:
    frame = pd.DataFrame(
        {"A": ["x", "y", "x", "y", "x"], "B": [1, 1, 1, 2, 1], "_SRC": "f.csv", "_ROW": range(5)}
    )
    calls: list[int] = []

    def fn(records: pd.DataFrame, args: object, ctx: object) -> pd.Series:
        calls.append(len(records))
        return records["A"] + records["B"].astype(str)

    out = compute_distinct(fn, frame, ["A", "B"], None, None, ColumnCodes())
    assert calls == [3]  # (x,1) (y,1) (y,2)
    assert list(out) == ["x1", "y1", "x1", "y2", "x1"]


def test_compute_distinct_reruns_on_every_record_for_the_error() -> None:
    frame = pd.DataFrame({"A": ["x", "x", "bad"], "_SRC": "f.csv", "_ROW": [2, 3, 4]})
    seen: list[int] = []

    def fn(records: pd.DataFrame, args: object, ctx: object) -> pd.Series:
        seen.append(len(records))
        if (records["A"] == "bad").any():
            raise MappingError(f"bad in {len(records)} records")
        return records["A"]

    with pytest.raises(MappingError, match="bad in 3 records"):
        compute_distinct(fn, frame, ["A"], None, None)
    assert seen == [2, 3]


def test_put_column_keeps_object_and_arrow_text_as_they_are() -> None:
    frame = pd.DataFrame(index=[7, 8])
    put_column(frame, "OBJ", pd.Series(["a", "b"], index=[0, 1], dtype=object))
    put_column(frame, "STR", pd.Series(["c", None], index=[0, 1]))
    put_column(frame, "NUM", pd.Series([1.5, 2.0]))
    assert frame["OBJ"].dtype == object
    assert isinstance(frame["STR"].dtype, pd.StringDtype)
    assert frame["NUM"].dtype == np.float64
    assert frame["OBJ"].tolist() == ["a", "b"]
    assert frame["STR"].tolist()[0] == "c"
    assert pd.isna(frame["STR"].tolist()[1])
    assert frame.index.tolist() == [7, 8]


def test_shared_text_holds_each_distinct_value_once() -> None:
    arr = np.array(["".join(["A", "B"]) for _ in range(3)] + ["C"], dtype=object)
    assert arr[0] is not arr[1]  # three equal strings, three objects
    out = shared_text(arr)
    assert out.tolist() == ["AB", "AB", "AB", "C"]
    assert out[0] is out[1] is out[2]
    mixed = np.array(["1", 1, None], dtype=object)
    assert shared_text(mixed) is mixed  # not all text: as it is
