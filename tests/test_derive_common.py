"""Per-distinct results taken to the rows in Arrow (:func:`text_by_code`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.derive._common import take, text_by_code, text_series


def test_text_by_code_is_text_series_of_take() -> None:
    index = pd.Index([10, 11, 12, 13], name="row")
    codes = np.array([1, -1, 0, 1])
    out = text_by_code(["2016-04-05", "2016-04"], codes, index, "VSDTC")
    assert out.tolist() == ["2016-04", "", "2016-04-05", "2016-04"]
    assert out.index.equals(index)
    assert out.name == "VSDTC"
    assert isinstance(out.dtype, pd.StringDtype)
    expected = text_series(take(["2016-04-05", "2016-04"], codes, ""), index, "VSDTC")
    pd.testing.assert_series_equal(out, expected)


def test_results_that_are_not_text_take_the_value_by_value_path() -> None:
    index = pd.RangeIndex(3)
    out = text_by_code([1, "a"], np.array([0, 1, 0]), index, None)
    assert out.tolist() == ["1", "a", "1"]
