"""Datasets.metadata's stored lengths (cdisc_mapper.api._stored): taken on the first
record of each value, they are the lengths write_xpt stores for the whole frame, and a
value write_xpt refuses is named at its record in the whole frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper import api
from cdisc_mapper.errors import XptError
from cdisc_mapper.xpt import XptVariable

VARIABLES = (
    XptVariable("USUBJID", "Subject", "Char", None),
    XptVariable("AETERM", "Term", "Char", None),
    XptVariable("AESEQ", "Sequence", "Num", None),
)


def _frame(terms: list[object]) -> pd.DataFrame:
    n = len(terms)
    return pd.DataFrame(
        {
            "USUBJID": [f"S-{i % 2}" for i in range(n)],
            "AETERM": terms,
            "AESEQ": np.arange(1, n + 1, dtype=float),
        }
    )


def test_lengths_are_the_longest_values_without_trailing_blanks() -> None:
    # AETERM: "HEADACHE" (8), "NAUSEA   " (6 without its blanks), "" -> 8; USUBJID 3
    frame = _frame(["HEADACHE", "NAUSEA   ", "", "HEADACHE", "NAUSEA"])
    stored = api._stored(frame, "AE", "Adverse Events", VARIABLES)
    assert [(v.name, v.length) for v in stored] == [("USUBJID", 3), ("AETERM", 8), ("AESEQ", 8)]


def test_arrow_text_gives_the_same_lengths() -> None:
    frame = _frame(["PAIN", "A LONGER TERM", "PAIN"]).astype({"AETERM": "str"})
    stored = api._stored(frame, "AE", "Adverse Events", VARIABLES)
    assert stored[1].length == 13


def test_a_refused_value_is_named_at_its_record_in_the_whole_frame() -> None:
    # the non-ASCII term is held by records 3 and 5 (1-based); the first is named
    frame = _frame(["PAIN", "PAIN", "CAFÉ", "PAIN", "CAFÉ"])
    with pytest.raises(XptError) as caught:
        api._stored(frame, "AE", "Adverse Events", VARIABLES)
    assert "record 3" in str(caught.value.where)
    assert "2 records affected" in caught.value.message


def test_an_object_column_of_mixed_kinds_is_checked_whole() -> None:
    # 1 and True are one value to a hash table; True (record 2) is refused in a Num
    frame = _frame(["A", "B"])
    frame["AESEQ"] = pd.Series([1, True], dtype=object)
    with pytest.raises(XptError) as caught:
        api._stored(frame, "AE", "Adverse Events", VARIABLES)
    assert "record 2" in str(caught.value.where)
