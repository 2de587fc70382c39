"""Tests of cdisc_mapper.derive.results and .units: ORRES/STRESC/STRESN, units."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdisc_mapper.derive import (
    conversion_factors,
    derive_standard_result,
    normalise_unit,
    parse_numeric_result,
)
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.textops import format_number

# ------------------------------------------------------------------ parse_numeric_result


@pytest.mark.parametrize(
    ("raw", "orres", "value", "operator", "numeric"),
    [
        ("6.2", "6.2", 6.2, "", True),
        (" 6,2 ", "6,2", 6.2, "", True),
        ("4,5", "4,5", 4.5, "", True),
        ("3,45", "3,45", 3.45, "", True),
        ("+5", "+5", 5.0, "", True),
        ("-0.3", "-0.3", -0.3, "", True),
        (".5", ".5", 0.5, "", True),
        ("1e3", "1e3", 1000.0, "", True),
        ("<5", "<5", 5.0, "<", False),
        ("< 5", "< 5", 5.0, "<", False),
        (">1000", ">1000", 1000.0, ">", False),
        ("<=0,5", "<=0,5", 0.5, "<=", False),
        ("≥ 2", "≥ 2", 2.0, ">=", False),
        ("1,000", "1,000", 1.0, "", True),  # decision: a single comma is a decimal mark
        ("1,000.5", "1,000.5", math.nan, "", False),
        ("1,000,000", "1,000,000", math.nan, "", False),
        ("NEGATIVE", "NEGATIVE", math.nan, "", False),
        ("5 mg", "5 mg", math.nan, "", False),
        ("<", "<", math.nan, "", False),
        ("", "", math.nan, "", False),
    ],
)
def test_parse_numeric_result(raw, orres, value, operator, numeric) -> None:
    row = parse_numeric_result(pd.Series([raw])).iloc[0]
    assert row["orres"] == orres
    assert (math.isnan(row["value"]) and math.isnan(value)) or row["value"] == value
    assert row["operator"] == operator
    assert bool(row["numeric"]) is numeric


def test_parse_numeric_result_without_decimal_comma() -> None:
    out = parse_numeric_result(pd.Series(["4,5", "4.5"]), decimal_comma=False)
    assert out["numeric"].tolist() == [False, True]
    assert math.isnan(out["value"].iloc[0])


def test_parse_numeric_result_keeps_index_and_missing() -> None:
    out = parse_numeric_result(pd.Series(["1", None, np.nan], index=[5, 6, 7]))
    assert out.index.tolist() == [5, 6, 7]
    assert out["orres"].tolist() == ["1", "", ""]


# ------------------------------------------------------------------ derive_standard_result


def test_standard_result_identity_and_noise() -> None:
    raw = pd.Series(["6,2", "6.20", "44.0", "+5", "NEGATIVE", "", "<5", ">1000", "< 5"])
    out = derive_standard_result(raw, 1.0)
    assert out["stresc"].tolist() == ["6.2", "6.2", "44", "5", "NEGATIVE", "", "<5", ">1000", "<5"]
    stresn = out["stresn"].tolist()
    assert stresn[:4] == [6.2, 6.2, 44.0, 5.0]
    assert all(math.isnan(x) for x in stresn[4:])


def test_standard_result_conversion_sdtmig_example() -> None:
    # SDTMIG 3.4 section 4.5.1.3 example 1: <0.1 mg/dL bilirubin -> <1.71 umol/L
    out = derive_standard_result(pd.Series(["<0.1", "1.1", "0.3"]), 17.1)
    assert out["stresc"].tolist() == ["<1.71", "18.81", "5.13"]
    assert math.isnan(out["stresn"].iloc[0])
    assert out["stresn"].iloc[1] == 18.81


def test_standard_result_float_noise_removed() -> None:
    out = derive_standard_result(pd.Series(["0.1", "1.1"]), pd.Series([3.0, 88.4]))
    assert out["stresc"].tolist() == ["0.3", "97.24"]  # not 0.30000000000000004


def test_standard_result_offset_and_decimals() -> None:
    raw = pd.Series(["98.1", "6.0", "37", "x"], index=[10, 11, 12, 13])
    factor = pd.Series([5 / 9, 10.0, 1.0, np.nan], index=raw.index)
    offset = pd.Series([-160 / 9, 0.0, 0.0, np.nan], index=raw.index)
    decimals = pd.Series([1, 1, np.nan, np.nan], index=raw.index)
    out = derive_standard_result(raw, factor, offset=offset, decimals=decimals)
    assert out["stresc"].tolist() == ["36.7", "60.0", "37", "x"]
    assert out["stresn"].tolist()[:3] == [36.7, 60.0, 37.0]
    assert out.index.tolist() == [10, 11, 12, 13]


def test_standard_result_decimals_round_half_up() -> None:
    out = derive_standard_result(pd.Series(["2.675", "-2.675", "0.04"]), 1.0, decimals=2)
    assert out["stresc"].tolist() == ["2.68", "-2.68", "0.04"]
    assert derive_standard_result(pd.Series(["-0.04"]), 1.0, decimals=1)["stresc"][0] == "0.0"
    with pytest.raises(SpecError):
        derive_standard_result(pd.Series(["1"]), 1.0, decimals=-1)


def test_standard_result_missing_factor_for_number_raises() -> None:
    raw = pd.Series(["6.2", "POSITIVE", "<5"], index=[3, 4, 5])
    with pytest.raises(MappingError) as info:
        derive_standard_result(raw, pd.Series([np.nan] * 3, index=raw.index))
    assert info.value.rows == [3, 5]
    assert "row 3 '6.2'" in str(info.value)


@given(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
    st.floats(min_value=1e-6, max_value=1e6),
)
def test_stresn_equals_stresc_and_no_exponent(x: float, factor: float) -> None:
    out = derive_standard_result(pd.Series([repr(x)]), factor)
    stresc, stresn = out["stresc"].iloc[0], out["stresn"].iloc[0]
    assert "e" not in stresc.lower()
    assert float(stresc) == stresn
    assert stresn == pytest.approx(x * factor, rel=1e-11, abs=1e-300)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_format_number_is_plain_and_close(x: float) -> None:
    text = format_number(x)
    assert "e" not in text.lower() and text != "-0"
    assert float(text) == pytest.approx(x, rel=1e-11, abs=1e-300)


# ------------------------------------------------------------------ units

SYNONYMS = {
    "x10^9/l": "10^9/L",
    "10E9/L": "10^9/L",
    "µmol/L": "umol/L",
    "°C": "C",
    "Celsius": "C",
    "IU/L": "U/L",
    "g/dl": "g/dL",
    "mmol/l": "mmol/L",
    "kg": "kg",
    "lb": "LB",
}


@pytest.mark.parametrize(
    ("raw", "unit"),
    [
        ("10^9/L", "10^9/L"),
        ("x10^9/l", "10^9/L"),
        ("X10^9 / L", "10^9/L"),
        ("10E9/L", "10^9/L"),
        ("µmol/L", "umol/L"),  # micro sign
        ("μmol/L", "umol/L"),  # Greek mu
        ("umol/L", "umol/L"),
        ("°C", "C"),
        ("c", "C"),
        ("celsius", "C"),
        ("IU/L", "U/L"),
        ("U/L", "U/L"),
        ("G/DL", "g/dL"),
        ("KG", "kg"),
        ("Kg", "kg"),
        (" mmol/l ", "mmol/L"),
        ("", ""),
    ],
)
def test_normalise_unit(raw: str, unit: str) -> None:
    assert normalise_unit(pd.Series([raw]), SYNONYMS).iloc[0] == unit


def test_normalise_unit_unknown_lists_rows_and_hint() -> None:
    raw = pd.Series(["kg", "stone", "kg", "furlong"], index=[1, 2, 3, 4])
    with pytest.raises(MappingError) as info:
        normalise_unit(raw, SYNONYMS)
    text = str(info.value)
    assert "'stone'" in text and "'furlong'" in text
    assert "row 2 'stone'" in text and "row 4 'furlong'" in text
    assert "synonym" in text
    assert info.value.rows == [2, 4]


def test_normalise_unit_conflicting_synonyms() -> None:
    with pytest.raises(SpecError):
        normalise_unit(pd.Series(["MBq"]), {"MBq": "MBq", "mbq ": "mBq"})


TABLE = [
    {"test": "*", "from": "g/dL", "to": "g/L", "factor": 10},
    {"test": "CREAT", "from": "mg/dL", "to": "umol/L", "factor": 88.42},
    {"test": "*", "from": "mg/dL", "to": "umol/L", "factor": 1},  # loses to CREAT row
    {"test": "TEMP", "from": "F", "to": "C", "factor": "5/9", "offset": "-160/9"},
]


def test_conversion_factors() -> None:
    test = pd.Series(["HGB", "CREAT", "X", "TEMP", "ALT", "CRP"], index=[5, 6, 7, 8, 9, 10])
    frm = pd.Series(["g/dL", "mg/dL", "mg/dL", "F", "U/L", ""], index=test.index)
    to = pd.Series(["g/L", "umol/L", "umol/L", "C", "U/L", "mg/L"], index=test.index)
    factor, offset = conversion_factors(test, frm, to, TABLE)
    assert factor.tolist()[:5] == [10.0, 88.42, 1.0, pytest.approx(5 / 9), 1.0]
    assert math.isnan(factor.iloc[5])
    assert offset.tolist()[:5] == [0.0, 0.0, 0.0, pytest.approx(-160 / 9), 0.0]
    assert factor.index.equals(test.index)
    std = derive_standard_result(
        pd.Series(["98.1"]), factor.iloc[3], offset=offset.iloc[3], decimals=1
    )
    assert std["stresc"].iloc[0] == "36.7"


def test_conversion_factors_missing_names_test_units_rows() -> None:
    test = pd.Series(["CREAT", "ALT", "ALT"], index=[3, 4, 5])
    frm = pd.Series(["mmol/L", "IU/L", "IU/L"], index=test.index)
    to = pd.Series(["umol/L", "U/L", "U/L"], index=test.index)
    with pytest.raises(MappingError) as info:
        conversion_factors(test, frm, to, pd.DataFrame(TABLE))
    text = str(info.value)
    assert "CREAT: 'mmol/L' -> 'umol/L' (rows 3)" in text
    assert "ALT: 'IU/L' -> 'U/L' (rows 4, 5)" in text


@pytest.mark.parametrize(
    "table",
    [
        [{"from": "a", "to": "b"}],
        [{"from": "a", "to": "b", "factor": "x"}],
        [{"from": "a", "to": "b", "factor": 0}],
        [{"from": "a", "to": "b", "factor": 1}, {"from": "a", "to": "b", "factor": 2}],
    ],
)
def test_conversion_table_errors(table) -> None:
    s = pd.Series(["T"])
    with pytest.raises(SpecError):
        conversion_factors(s, pd.Series(["a"]), pd.Series(["b"]), table)
