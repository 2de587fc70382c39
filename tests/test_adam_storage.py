"""Finished ADaM text columns as the XPT file stores them (:mod:`cdisc_mapper.adam.storage`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.adam.storage import is_arrow_text, stored_length, stored_series


def test_all_text_becomes_arrow_text() -> None:
    out = stored_series(np.array(["Y", "", "N"], dtype=object), "Char")
    assert is_arrow_text(out)
    assert out.tolist() == ["Y", "", "N"]


def test_a_value_that_is_not_text_stays_for_the_writer_to_name() -> None:
    arr = np.array(["Y", 3, None], dtype=object)
    out = stored_series(arr, "Char")
    assert out.dtype == object
    assert out.tolist() == ["Y", 3, None]


def test_numbers_stay_numbers() -> None:
    out = stored_series(np.array([1.0, np.nan]), "Num")
    assert out.dtype == np.float64


def test_is_arrow_text() -> None:
    assert is_arrow_text(pd.Series(["a"]))
    assert not is_arrow_text(pd.Series(["a"], dtype=object))
    assert not is_arrow_text(pd.Series([1.0]))


def test_stored_length_is_the_same_for_arrow_and_object_text() -> None:
    values = ["é", "abc  ", "", "ab"]
    # "é" is 2 bytes, "abc  " 3 without trailing blanks: 3
    assert stored_length(pd.Series(values), "Char") == 3
    assert stored_length(pd.Series(values, dtype=object), "Char") == 3
    assert stored_length(pd.Series(values), "Char", declared=8) == 8
