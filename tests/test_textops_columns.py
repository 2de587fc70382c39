"""Text columns built in Arrow (:func:`cdisc_mapper.textops.text_column`,
:func:`cdisc_mapper.textops.take_text`): the same values as converting each value."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.textops import take_text, text_column


def _arrow(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow"


def test_object_text_with_missing_values_gives_blanks_in_arrow() -> None:
    values = np.array(["b", None, "a", np.nan, "b"], dtype=object)
    out = text_column(values)
    assert out.tolist() == ["b", "", "a", "", "b"]
    assert _arrow(out)
    assert out.index.equals(pd.RangeIndex(5))


def test_order_takes_the_values_in_that_order() -> None:
    values = pd.Series(["x", "y", None, "z"], index=[10, 11, 12, 13], dtype=object)
    out = text_column(values, np.array([3, 2, 0, 1]))
    assert out.tolist() == ["z", "", "x", "y"]
    assert out.index.equals(pd.RangeIndex(4))


def test_arrow_text_stays_arrow_with_blanks_for_missing() -> None:
    values = pd.Series(["p", None, "q"], index=[5, 6, 7])  # pandas' default str dtype
    assert _arrow(values)
    out = text_column(values, np.array([2, 1, 0]))
    assert out.tolist() == ["q", "", "p"]
    assert _arrow(out)


def test_values_that_are_not_all_text_are_written_as_str_writes_them() -> None:
    values = np.array([1, "a", 2.5, None, True], dtype=object)
    assert text_column(values).tolist() == ["1", "a", "2.5", "", "True"]


def test_one_and_one_point_zero_stay_apart() -> None:
    # equal as numbers (one hash), different as text: never merged by factorizing
    values = np.array([1, 1.0, "1"], dtype=object)
    assert text_column(values).tolist() == ["1", "1.0", "1"]


def test_empty_column() -> None:
    out = text_column(np.array([], dtype=object))
    assert out.tolist() == []
    assert _arrow(out)


def test_take_text_gives_the_value_of_each_code() -> None:
    out = take_text(["mg", "kg", ""], np.array([1, 0, 2, 1]))
    assert out.tolist() == ["kg", "mg", "", "kg"]
    assert _arrow(out)


@settings(deadline=None, max_examples=60)
@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["", " ", "A", "ab", "é", "µmol/L"]), st.text()),
        max_size=30,
    )
)
def test_same_as_converting_each_value(values: list[str | None]) -> None:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    expected = [v if v is not None else "" for v in values]
    assert text_column(arr).tolist() == expected
    order = np.arange(len(values))[::-1]
    assert text_column(arr, order).tolist() == expected[::-1]
