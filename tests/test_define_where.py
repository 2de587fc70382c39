"""Where-clause evaluation (Define-XML 2.1 def:WhereClauseDef / ODM RangeCheck), shared by
the define.xml builder and its consistency check through the one condition evaluator:
checked against a plain-Python reading of each comparator."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.condition import Records
from cdisc_mapper.define.where import COMPARATORS, clause_mask
from cdisc_mapper.errors import SpecError


def condition_mask(column: pd.Series, comparator: str, values: list) -> np.ndarray:
    return clause_mask(Records(pd.DataFrame({"X": column})), [("X", comparator, values)])


_PY = {
    "EQ": lambda x, v: x == v[0],
    "NE": lambda x, v: x != v[0],
    "IN": lambda x, v: x in v,
    "NOTIN": lambda x, v: x not in v,
    "LT": lambda x, v: x < v[0],
    "LE": lambda x, v: x <= v[0],
    "GT": lambda x, v: x > v[0],
    "GE": lambda x, v: x >= v[0],
}
_ORDER = ("LT", "LE", "GT", "GE")


def _expected(values: list, comparator: str, check: list, missing) -> list[bool]:
    out = []
    for x in values:
        if missing(x):
            out.append(comparator in ("NE", "NOTIN"))  # a missing value is only ever "not"
        else:
            out.append(_PY[comparator](x, check))
    return out


@settings(deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(-5, 5).map(float)), max_size=30),
    st.sampled_from(COMPARATORS),
    st.lists(st.integers(-5, 5), min_size=1, max_size=3),
)
def test_numbers(values: list, comparator: str, check: list) -> None:
    if comparator not in ("IN", "NOTIN"):
        check = check[:1]
    column = pd.Series([np.nan if v is None else v for v in values], dtype=float)
    got = condition_mask(column, comparator, [str(c) for c in check])
    numbers = [None if v is None else v for v in values]
    assert got.tolist() == _expected(numbers, comparator, [float(c) for c in check],
                                     lambda x: x is None or math.isnan(x))  # fmt: skip


@settings(deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(["", "A", "B", "AB", "2024-01-05"])),
             max_size=30),
    st.sampled_from(COMPARATORS),
    st.lists(st.sampled_from(["A", "B", "AB", "2024-01"]), min_size=1, max_size=3),
)  # fmt: skip
def test_texts(values: list, comparator: str, check: list) -> None:
    if comparator not in ("IN", "NOTIN"):
        check = check[:1]
    column = pd.Series(values, dtype=object)
    got = condition_mask(column, comparator, check)
    assert got.tolist() == _expected(values, comparator, check, lambda x: x in (None, ""))


def test_text_is_compared_stripped_and_numbers_as_numbers() -> None:
    assert condition_mask(pd.Series(["A  ", "B"], dtype=object), "EQ", ["A"]).tolist() == [
        True,
        False,
    ]
    assert condition_mask(pd.Series([1.0, 2.5]), "IN", ["1", "2.50"]).tolist() == [True, True]


@pytest.mark.parametrize(
    ("comparator", "values", "message"),
    [("LIKE", ["A"], "unsupported comparator"), ("GT", ["1", "2"], "GT takes one value")],
)  # fmt: skip
def test_bad_conditions(comparator: str, values: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        condition_mask(pd.Series([1.0]), comparator, values)


def test_a_number_column_compared_with_text_is_an_error() -> None:
    with pytest.raises(SpecError, match="compares X as a number with 'x', which is not a number"):
        condition_mask(pd.Series([1.0]), "LT", ["x"])
