"""The condition language (cdisc_mapper.condition): model, evaluator and describer, one case
per rule of the language (see cdisc_mapper/condition/model.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cdisc_mapper.condition import (
    Condition,
    Records,
    describe,
    evaluate,
    from_range_checks,
    range_checks,
)
from cdisc_mapper.errors import SpecError

RECORDS = pd.DataFrame(
    {
        "SEX": ["F", " M ", "", None, "f"],
        "AGE": [30.0, 45.0, np.nan, 61.0, 18.0],
        "AGEC": ["30", "45", "", "61", "18"],
        "TERM": ["Headache", "HEADACHE severe", "nausea", "", "Back pain"],
        "START": ["2020-03", "2020-03-15", "", "2020-03-15T10:00", "2021"],
        "REF": ["2020-03-15", "2020-03-15", "2020-03-15", "2020-03-14", ""],
        "ADT": [21989.0, 21989.0, np.nan, 21990.0, 22280.0],  # SAS dates: 2020-03-15...
    }
)


def holds(spec: dict) -> list[bool]:
    return evaluate(Condition.model_validate(spec), RECORDS).tolist()


# --------------------------------------------------------------------------- text tests
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"variable": "SEX", "equals": "F"}, [True, False, False, False, False]),
        ({"column": "SEX", "equals": "M"}, [False, True, False, False, False]),  # stripped
        ({"variable": "SEX", "equals": "F", "case_sensitive": False}, [1, 0, 0, 0, 1]),
        ({"variable": "SEX", "not_equals": "F"}, [False, True, True, True, True]),
        ({"variable": "SEX", "in": ["F", "M"]}, [True, True, False, False, False]),
        ({"variable": "SEX", "in": ["F", ""]}, [True, False, True, True, False]),
        ({"variable": "SEX", "not_in": ["F", "M"]}, [False, False, True, True, True]),
        ({"variable": "SEX", "present": True}, [True, True, False, False, True]),
        ({"variable": "SEX", "present": False}, [False, False, True, True, False]),
        ({"variable": "SEX", "empty": True}, [False, False, True, True, False]),
        ({"variable": "SEX", "empty": False}, [True, True, False, False, True]),
        ({"variable": "TERM", "contains": "ache"}, [True, False, False, False, False]),
        ({"variable": "TERM", "contains": "ache", "case_sensitive": False}, [1, 1, 0, 0, 0]),
        ({"variable": "TERM", "startswith": "HEAD"}, [False, True, False, False, False]),
        ({"variable": "TERM", "matches": "[A-Z][a-z]+"}, [True, False, False, False, False]),
        ({"variable": "TERM", "matches": "head.*", "case_sensitive": False}, [1, 1, 0, 0, 0]),
    ],
)
def test_text_tests(spec: dict, expected: list) -> None:
    assert holds(spec) == [bool(x) for x in expected]


# --------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"variable": "AGE", "ge": 45}, [False, True, False, True, False]),
        ({"variable": "AGE", "lt": 45}, [True, False, False, False, True]),
        ({"variable": "AGE", "equals": 30}, [True, False, False, False, False]),
        ({"variable": "AGE", "equals": "30"}, [True, False, False, False, False]),
        ({"variable": "AGE", "not_equals": 30}, [False, True, True, True, True]),
        ({"variable": "AGE", "in": [18, "45"]}, [False, True, False, False, True]),
        ({"variable": "AGE", "present": False}, [False, False, True, False, False]),
        # a text column compared with a number is compared as numbers
        ({"variable": "AGEC", "gt": 20}, [True, True, False, True, False]),
        # ... and with text as text (lexicographic), unless 'as: number'
        ({"variable": "AGEC", "gt": "20", "as": "number"}, [True, True, False, True, False]),
        ({"variable": "AGEC", "gt": "20"}, [True, True, False, True, False]),
        ({"variable": "AGEC", "lt": "5"}, [True, True, False, False, True]),
    ],
)
def test_number_tests(spec: dict, expected: list) -> None:
    assert holds(spec) == expected


def test_a_missing_value_never_satisfies_an_order_comparison() -> None:
    frame = pd.DataFrame({"N": [np.nan, 1.0], "T": ["", "b"]})
    for test in ("lt", "le", "gt", "ge"):
        got = evaluate(Condition.model_validate({"variable": "N", test: 1}), frame).tolist()
        assert got[0] is False
        got = evaluate(Condition.model_validate({"variable": "T", test: "a"}), frame).tolist()
        assert got[0] is False


def test_a_number_column_compared_with_text_that_is_no_number_is_an_error() -> None:
    with pytest.raises(SpecError, match="compares AGE as a number with 'old'"):
        holds({"variable": "AGE", "ge": "old"})


# --------------------------------------------------------------------------- variables
def test_compare_with_another_variable() -> None:
    frame = pd.DataFrame({"A": [1.0, 2.0, np.nan, 3.0], "B": [1.0, 1.0, 1.0, np.nan]})
    gt = Condition.model_validate({"variable": "A", "gt": {"variable": "B"}})
    eq = Condition.model_validate({"variable": "A", "equals": {"variable": "B"}})
    ne = Condition.model_validate({"variable": "A", "not_equals": {"variable": "B"}})
    assert evaluate(gt, frame).tolist() == [False, True, False, False]
    assert evaluate(eq, frame).tolist() == [True, False, False, False]
    assert evaluate(ne, frame).tolist() == [False, True, True, True]
    assert gt.variables() == {"A", "B"}


def test_text_variables_compare_as_text() -> None:
    frame = pd.DataFrame({"A": ["x", "y", ""], "B": ["x", "x", ""]})
    eq = Condition.model_validate({"variable": "A", "equals": {"variable": "B"}})
    assert evaluate(eq, frame).tolist() == [True, False, False]  # two blanks are not equal


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # START: 2020-03 | 2020-03-15 | "" | 2020-03-15T10:00 | 2021 ; REF 2020-03-15 ... ""
        ("certain", [False, True, False, True, False]),
        ("possible", [True, True, False, True, False]),
        ("earliest", [False, True, False, True, False]),
        ("latest", [True, True, False, True, False]),
    ],
)
def test_on_or_after_with_partial_dates(rule: str, expected: list) -> None:
    spec = {"variable": "START", "ge": {"variable": "REF"}, "as": "date", "partial": rule}
    assert holds(spec) == expected


def test_dates_compare_by_day_and_datetimes_to_the_second() -> None:
    frame = pd.DataFrame({"A": ["2020-03-15T10:00"], "B": ["2020-03-15T09:00"]})
    by_day = {"variable": "A", "equals": {"variable": "B"}, "as": "date"}
    by_time = {"variable": "A", "gt": {"variable": "B"}, "as": "datetime"}
    assert evaluate(Condition.model_validate(by_day), frame).tolist() == [True]
    assert evaluate(Condition.model_validate(by_time), frame).tolist() == [True]


def test_numeric_dates_are_day_numbers() -> None:
    spec = {"variable": "ADT", "le": "2020-03-15", "as": "date"}
    assert holds(spec) == [True, True, False, False, False]
    spec = {"variable": "START", "le": {"variable": "ADT"}, "as": "date", "partial": "possible"}
    assert holds(spec) == [True, True, False, True, False]


def test_a_partial_date_equals_under_each_rule() -> None:
    frame = pd.DataFrame({"A": ["2020-03", "2020-03-15"], "B": ["2020-03-15", "2020-03-15"]})
    for rule, expected in (("certain", [False, True]), ("possible", [True, True])):
        cond = {"variable": "A", "equals": {"variable": "B"}, "as": "date", "partial": rule}
        assert evaluate(Condition.model_validate(cond), frame).tolist() == expected


# --------------------------------------------------------------------------- combinations
def test_all_any_not() -> None:
    spec = {
        "all": [
            {"variable": "SEX", "present": True},
            {"any": [{"variable": "AGE", "lt": 20}, {"not": {"variable": "SEX", "equals": "F"}}]},
        ]
    }
    assert holds(spec) == [False, True, False, False, True]


def test_a_missing_variable_is_an_error_naming_what_there_is() -> None:
    with pytest.raises(SpecError, match=r"condition names column 'SEXX'.*available: SEX, AGE"):
        holds({"column": "SEXX", "equals": "F"})


def test_a_fallback_supplies_missing_columns() -> None:
    frame = pd.DataFrame({"A": [1.0, 2.0]})
    records = Records(frame, fallback=lambda n: pd.Series([5.0, 1.0]) if n == "B" else None)
    cond = Condition.model_validate({"variable": "A", "lt": {"variable": "B"}})
    assert evaluate(cond, records).tolist() == [True, False]


def test_a_categorical_column_is_tested_once_per_category_with_the_same_results() -> None:
    # a categorical (as the XPT reader gives text) with an unused category, a value
    # that is blank once stripped, a missing value and one differing only by blanks
    values = ["A", " A", None, "b", "  ", "A"]
    frame = pd.DataFrame({"X": pd.Categorical(values, categories=["A", " A", "b", "  ", "UNUSED"])})
    records = Records(frame)
    codes, table = records.text_codes("X")
    assert table[codes].tolist() == ["A", "A", "", "b", "", "A"]
    assert len(table) == 6  # five categories and the entry of a missing value
    cases = [
        ({"variable": "X", "in": ["A"]}, [True, True, False, False, False, True]),
        ({"variable": "X", "equals": "B", "case_sensitive": False}, [0, 0, 0, 1, 0, 0]),
        ({"variable": "X", "not_in": ["b", ""]}, [True, True, False, False, False, True]),
        ({"variable": "X", "present": True}, [True, True, False, True, False, True]),
        ({"variable": "X", "startswith": "a", "case_sensitive": False}, [1, 1, 0, 0, 0, 1]),
    ]
    for spec, expected in cases:
        cond = Condition.model_validate(spec)
        assert evaluate(cond, records).tolist() == [bool(e) for e in expected], spec
        # the same column as plain objects gives the same records
        plain = Records(pd.DataFrame({"X": pd.Series(values, dtype=object)}))
        assert evaluate(cond, plain).tolist() == [bool(e) for e in expected], spec


def test_rows_of_a_categorical_with_more_categories_than_rows() -> None:
    # two rows of a column with 1,000 categories: factorized, not read per category
    column = pd.Categorical(["C7", "C9"], categories=[f"C{i}" for i in range(1000)])
    records = Records(pd.DataFrame({"X": column}))
    codes, table = records.text_codes("X")
    assert table[codes].tolist() == ["C7", "C9"] and len(table) == 3
    cond = Condition.model_validate({"variable": "X", "in": ["C9"]})
    assert evaluate(cond, records).tolist() == [False, True]


# --------------------------------------------------------------------------- the model
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"variable": "A"}, "give exactly one test"),
        ({"variable": "A", "equals": 1, "in": [1]}, "give exactly one test"),
        ({"equals": 1}, "needs 'variable'"),
        ({"variable": "A", "column": "A", "equals": 1}, "needs 'variable'"),
        ({"all": []}, "at least one condition"),
        ({"all": [{"variable": "A", "equals": 1}], "variable": "A"}, "not both"),
        ({"all": [{"variable": "A", "equals": 1}], "any": []}, "exactly one of all, any"),
        ({"variable": "A", "matches": "("}, "not a regular expression"),
        ({"variable": "A", "equals": "x", "partial": "possible"}, "add 'as: date'"),
        ({"variable": "A", "contains": "x", "as": "number"}, "compares text"),
        ({"variable": "A", "in": []}, "at least one value"),
        ({"variable": "A", "equal": 1}, "Extra inputs"),
        ({"variable": "A", "equals": {"column": "B"}}, "equals"),
        ({"variable": "A", "ge": "2020-13", "as": "date"}, "not an ISO 8601 date"),
        ({"variable": "A", "in": ["2020", "soon"], "as": "date"}, "'soon' is not an ISO 8601"),
        ({"variable": "A", "lt": "ten", "as": "number"}, "'ten' is not a number"),
    ],
)
def test_malformed_conditions_are_rejected(spec: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Condition.model_validate(spec)


# --------------------------------------------------------------------------- describe
@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ({"variable": "AESEV", "equals": "SEVERE"}, "AESEV = 'SEVERE'"),
        ({"variable": "APHASEN", "equals": 2}, "APHASEN = 2"),
        ({"variable": "X", "not_equals": "A"}, "X is not 'A'"),
        ({"variable": "ADY", "ge": 2}, "ADY >= 2"),
        ({"variable": "X", "in": ["A", "B"]}, "X in ('A', 'B')"),
        ({"variable": "X", "not_in": ["A"]}, "X not in ('A')"),
        ({"variable": "X", "present": True}, "X is present"),
        ({"variable": "X", "present": False}, "X is missing"),
        ({"variable": "X", "empty": True}, "X is empty"),
        ({"variable": "X", "empty": False}, "X is not empty"),
        ({"column": "ID", "startswith": "INCL"}, "ID starts with 'INCL'"),
        ({"variable": "T", "contains": "ache", "case_sensitive": False},
         "T contains 'ache' (any case)"),
        ({"variable": "T", "matches": "a+"}, "T matches /a+/"),
        (
            {"variable": "S", "ge": {"variable": "R"}, "as": "date", "partial": "possible"},
            "S >= R (as dates, partial dates: possible)",
        ),
        (
            {"all": [{"variable": "A", "equals": "Y"},
                     {"any": [{"variable": "B", "lt": 1}, {"variable": "C", "empty": True}]}]},
            "A = 'Y' and (B < 1 or C is empty)",
        ),
        ({"not": {"variable": "A", "equals": "Y"}}, "not (A = 'Y')"),
    ],
)  # fmt: skip
def test_describe(spec: dict, text: str) -> None:
    assert describe(Condition.model_validate(spec)) == text


# --------------------------------------------------------------------------- where clauses
def test_range_checks_round_trip() -> None:
    checks = (
        ("PARAMCD", "EQ", ("FVC",)),
        ("DTYPE", "NE", ("MAXIMUM",)),
        ("AVISITN", "IN", ("1", "2")),
    )
    cond = from_range_checks(checks)
    assert range_checks(cond) == checks
    assert range_checks(from_range_checks(checks[:1])) == checks[:1]


@pytest.mark.parametrize(
    "spec",
    [
        {"any": [{"variable": "A", "equals": "1"}, {"variable": "B", "equals": "2"}]},
        {"variable": "A", "present": True},
        {"variable": "A", "contains": "x"},
        {"variable": "A", "equals": {"variable": "B"}},
        {"variable": "A", "equals": "x", "case_sensitive": False},
        {"variable": "A", "ge": "2020", "as": "date"},
    ],
)
def test_what_a_where_clause_cannot_say(spec: dict) -> None:
    assert range_checks(Condition.model_validate(spec)) is None


@settings(deadline=None, max_examples=60)
@given(
    st.lists(st.sampled_from(["A", "B", "C", "", "A "]), min_size=1, max_size=20),
    st.sampled_from(["equals", "not_equals", "in", "not_in"]),
    st.lists(st.sampled_from(["A", "B", "Z"]), min_size=1, max_size=3),
)
def test_membership_matches_plain_python(values: list, test: str, wanted: list) -> None:
    operand = wanted if test in ("in", "not_in") else wanted[0]
    cond = Condition.model_validate({"variable": "X", test: operand})
    got = evaluate(cond, pd.DataFrame({"X": values})).tolist()
    pool = set(wanted) if test in ("in", "not_in") else {wanted[0]}
    hit = [v.strip() in pool for v in values]
    assert got == (hit if test in ("equals", "in") else [not h for h in hit])
