"""Helpers of cdisc_mapper.validate.package that checks share to find equal values on codes
rather than on per-record objects: distinct values, duplicated keys, combined group keys,
numbers as keys (long columns rounded once per distinct value), text equality."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.validate.package import (
    distinct,
    duplicated,
    equals_text,
    group_keys,
    integer_codes,
    key_codes,
    numeric_key,
    row_keys,
)

NOISY = 9.299999999999999  # 9.3 written through binary floating point


def test_distinct_of_a_categorical_lists_used_categories_in_category_order_then_missing():
    column = pd.Series(
        pd.Categorical(["B", None, "A", "B"], categories=["A", "UNUSED", "B"]), dtype="category"
    )
    values = distinct(column)
    assert values[:2].tolist() == ["A", "B"]
    assert len(values) == 3 and pd.isna(values[2])
    assert distinct(pd.Series(pd.Categorical(["X"]))).tolist() == ["X"]


def test_numeric_key_of_a_long_column_rounds_each_value_as_a_short_one():
    # longer than the per-distinct threshold (10,000): the same keys, value by value
    block = [NOISY, 9.3, np.nan, -0.0, 0.0, 1e20, -2.5, np.inf]
    keys = numeric_key(np.array(block * 2_000))
    assert keys.shape == (16_000,)
    assert keys[:2].tolist() == [9.3, 9.3]
    assert np.isnan(keys[2])
    assert np.signbit(keys[3]) and not np.signbit(keys[4])  # a zero keeps its sign
    assert keys[5:8].tolist() == [1e20, -2.5, np.inf]
    np.testing.assert_array_equal(keys[8:16], keys[:8])
    np.testing.assert_array_equal(keys[-8:], keys[:8])


def test_key_codes_number_categories_texts_and_float_noise():
    codes, count = key_codes(pd.Series([NOISY, 9.3, np.nan, 1.0]))
    assert codes.tolist() == [0, 0, -1, 1] and count == 2
    codes, count = key_codes(pd.Series(["b", None, "b", "a"], dtype=object))
    assert codes.tolist() == [0, -1, 0, 1] and count == 2
    codes, count = key_codes(pd.Series(pd.Categorical(["y", "x", None], categories=["x", "y"])))
    assert codes.tolist() == [1, 0, -1] and count == 2


def test_duplicated_compares_numbers_as_keys_and_missing_values_as_equal():
    frame = pd.DataFrame(
        {
            "USUBJID": pd.Categorical(["S1", "S1", "S1", "S2", "S2", None, None]),
            "SEQ": [NOISY, 9.3, 1.0, 1.0, np.nan, np.nan, np.nan],
        }
    )
    # rows 0/1 (9.3 twice), rows 5/6 (missing subject, missing number)
    assert duplicated(frame, ["USUBJID", "SEQ"]).tolist() == [
        True,
        True,
        False,
        False,
        False,
        True,
        True,
    ]
    assert duplicated(frame.iloc[:0], ["USUBJID", "SEQ"]).tolist() == []


def test_duplicated_renumbers_before_the_combined_key_overflows():
    # five columns of 10,000 distinct values: 10,001**5 > 2**62 keys; rows 0 and 9,999
    # are made equal in every column, rows 1 and 2 differ in the last column only
    n = 10_000
    columns = {f"C{i}": np.arange(n, dtype=float) for i in range(5)}
    frame = pd.DataFrame(columns)
    frame.iloc[n - 1] = frame.iloc[0]
    frame.iloc[2, :4] = frame.iloc[1, :4]
    flags = duplicated(frame, list(frame.columns))
    assert np.flatnonzero(flags).tolist() == [0, n - 1]


def test_group_keys_are_equal_exactly_for_equal_codes_and_stay_dense():
    a = (np.array([0, 1, 0, -1, -1]), 2)
    b = (np.array([3, 3, 3, 0, 0]), 4)
    keys = group_keys([a, b], 5)
    assert keys[0] == keys[2] and keys[3] == keys[4]
    assert len({keys[0], keys[1], keys[3]}) == 3
    assert keys.max() < 4 * 5 + 1024
    assert group_keys([], 3).tolist() == [0, 0, 0]


def test_equals_text_on_categories_objects_and_numbers():
    flag = pd.Series(pd.Categorical(["Y", None, "N", "Y"]))
    assert equals_text(flag, "Y").tolist() == [True, False, False, True]
    assert equals_text(pd.Series(pd.Categorical(["N", ""])), "Y").tolist() == [False, False]
    assert equals_text(pd.Series(["Y", None], dtype=object), "Y").tolist() == [True, False]
    assert equals_text(pd.Series([1.0, np.nan]), "Y").tolist() == [False, False]


def test_row_keys_match_number_pairs_missing_ones_included():
    left, right = row_keys(
        [pd.Series(pd.Categorical(["S1", "S1", "S2"])), pd.Series([NOISY, np.nan, 2.0])],
        [pd.Series(["S1", "S1", "S2"], dtype=object), pd.Series([9.3, np.nan, 3.0])],
    )
    assert left[0] == right[0]  # 9.3 against float noise
    assert left[1] == right[1]  # a missing VISITNUM matches a missing one, as in an index
    assert left[2] not in right.tolist()


def test_integer_codes_of_whole_numbers_in_a_narrow_range():
    codes, width = integer_codes(pd.Series([21915.0, np.nan, 21917.0, 21915.0, -0.0 + 21916]))
    assert codes.tolist() == [0, -1, 2, 0, 1] and width == 3
    codes, width = integer_codes(pd.Series([3, 1, 2], dtype=np.int64))
    assert codes.tolist() == [2, 0, 1] and width == 3
    # anything else is left to hashing: fractions, wide ranges, huge or infinite values,
    # a column without numbers
    for values in ([1.5, 2.0], [0.0, 1e6], [2e9, 2e9 + 1], [1.0, np.inf], [np.nan, np.nan]):
        assert integer_codes(pd.Series(values)) is None, values


def test_key_codes_of_whole_numbers_equal_those_of_hashing():
    # the arithmetic path (whole numbers) and the hashing path (one fraction added) find
    # the same equal values
    whole = pd.Series([5.0, 3.0, np.nan, 5.0, 4.0])
    fractional = pd.Series([5.0, 3.0, np.nan, 5.0, 4.0, 0.5])
    a, _ = key_codes(whole)
    b, _ = key_codes(fractional)
    same = lambda c: [[i for i in range(5) if c[i] == c[j]] for j in range(5)]  # noqa: E731
    assert same(a) == same(b[:5]) == [[0, 3], [1], [2], [0, 3], [4]]
    assert a[2] == -1 and b[2] == -1
