"""Data types define.xml gives variables (cdisc_mapper.define.datatypes), asked of a
column's values at once: the most decimals of its numbers, the narrowest ISO 8601 type of
its texts, and its values as define.xml writes them, each equal to asking value by value."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from cdisc_mapper.define.assemble import _Texts
from cdisc_mapper.define.datatypes import (
    ISO_ORDER,
    as_text,
    char_iso_type,
    decimals,
    fits,
    most_decimals,
    numeric_type,
    text_table,
)


def test_most_decimals_as_numbers_are_written_with_ten_decimals() -> None:
    # 1.25 -> "1.2500000000" (2); 0.1 + 0.2 = 0.30000000000000004 -> "0.3000000000" (1)
    assert most_decimals(np.array([1.25, 3.0, -0.5])) == 2
    assert most_decimals(np.array([0.1 + 0.2])) == 1
    # 0.123456789012 -> "0.1234567890": 9; 0.99999999999 -> "1.0000000000": 0
    assert most_decimals(np.array([0.123456789012])) == 9
    assert most_decimals(np.array([0.99999999999, 7.0])) == 0
    # a large number (counted one by one) and an empty column
    assert most_decimals(np.array([123456.789, 2.5])) == 3
    assert most_decimals(np.array([], dtype=float)) == 0


def test_numeric_type_of_whole_and_decimal_numbers() -> None:
    assert numeric_type(pd.Series([1.0, 2.0, np.nan])) == ("integer", None)
    assert numeric_type(pd.Series([1.0, 2.75, np.inf])) == ("float", 2)
    assert numeric_type(pd.Series(["10", "5.125", ""], dtype=object)) == ("float", 3)
    assert numeric_type(pd.Series([], dtype=float)) == ("integer", None)


numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e7, max_value=1e7)
ties = st.integers(min_value=0, max_value=10**8).map(lambda n: (n + 0.5) / 1e10)


@given(st.lists(numbers | ties, max_size=30))
def test_most_decimals_is_the_most_of_each_number(values: list[float]) -> None:
    want = max((decimals(v) for v in values), default=0)
    assert most_decimals(np.array(values, dtype=float)) == want


def test_char_iso_type_is_the_narrowest_type_every_value_fits() -> None:
    assert char_iso_type(["2020-01-01", "2021-12-31", ""]) == "date"
    assert char_iso_type(["2020-01-01", "2020-01"]) == "partialDate"
    assert char_iso_type(["2020-01-01T10:11:12", "2020-01-01T10:11"]) == "partialDatetime"
    assert char_iso_type(["2020---01", "2020-01-01"]) == "incompleteDatetime"
    assert char_iso_type(["P1D", "PT2H"]) == "durationDatetime"
    assert char_iso_type(["2020-01-01/2020-02-01"]) == "intervalDatetime"
    assert char_iso_type(["2020-01-01", "soon"]) is None
    assert char_iso_type(["", ""]) is None


def test_a_value_with_a_newline_is_no_date() -> None:
    # joined by newlines, "2020-01-01\n2020-01-02" would look like two dates
    assert char_iso_type(["2020-01-01\n2020-01-02"]) is None
    assert char_iso_type(["2020-01-01", "x\n2020-01-01"]) is None


iso_parts = st.sampled_from(
    ["2020", "-01", "-31", "T10", ":11", ":12", ".5", "-", "P", "1D", "T", "2H", "/", "W", "x"]
)
iso_like = st.lists(iso_parts, max_size=7).map("".join)


@given(st.lists(iso_like, max_size=6))
def test_char_iso_type_agrees_with_each_value_checked_alone(values: list[str]) -> None:
    distinct = {v for v in values if v != ""}
    want = next((t for t in ISO_ORDER if all(fits(v, t) for v in distinct)), None)
    assert char_iso_type(values) == (want if distinct else None)


def test_text_table_codes_each_value_as_define_xml_writes_it() -> None:
    codes, table = text_table(pd.Series(["A ", None, "B", "A", np.nan], dtype=object))
    assert table[codes].tolist() == ["A", "", "B", "A", ""]
    codes, table = text_table(pd.Series([1.0, np.nan, 2.5, 1.0]))
    assert table[codes].tolist() == ["1", "", "2.5", "1"]
    frame = pd.Series(["A ", None, "B"], dtype=object)
    assert as_text(frame).tolist() == ["A", "", "B"]
    assert as_text(pd.Series([], dtype=object)).tolist() == []


def test_blank_records_of_numbers_and_texts() -> None:
    texts = _Texts(
        pd.DataFrame(
            {
                "N": [1.0, np.nan, 0.0],
                "C": pd.Series(["x", "", None], dtype=object),  # as the XPT reader gives text
                "E": pd.Series([""] * 3, dtype=object),
            }
        )
    )
    assert texts.blank("N").tolist() == [False, True, False]
    assert texts.blank("C").tolist() == [False, True, True]
    assert texts.blank("E").tolist() == [True, True, True]
    assert texts["C"].tolist() == ["x", "", ""]
    assert texts.blank("C").tolist() == [False, True, True], "the same once the texts are made"
