"""Tests of cdisc_mapper.derive.results and .units: ORRES/STRESC/STRESN, units."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.derive import (
    conversion_factors,
    derive_standard_result,
    normalise_unit,
    parse_numeric_result,
)
from cdisc_mapper.derive._common import factorize_text, raise_for_rows, take, text_series
from cdisc_mapper.derive.numbers import CANONICAL, NumberConvention, read_number
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
        ("0,500", "0,500", 0.5, "", True),  # a leading 0 never starts a thousands group
        ("12.03.2021", "12.03.2021", math.nan, "", False),  # no number in any convention
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


def test_parse_numeric_result_without_decimal_comma_a_comma_number_is_an_error() -> None:
    with pytest.raises(MappingError, match=r"row 0 '4,5' \(not a number under decimal_mark"):
        parse_numeric_result(pd.Series(["4,5", "4.5"]), decimal_comma=False)
    out = parse_numeric_result(pd.Series(["4.5", "NEGATIVE"]), decimal_comma=False)
    assert out["value"].iloc[0] == 4.5


@pytest.mark.parametrize("text", ["1,000", "250,000", "1.234", "1,000.5", "1,000,000"])
def test_parse_numeric_result_by_default_refuses_a_number_a_convention_would_change(
    text: str,
) -> None:
    with pytest.raises(MappingError, match="number not readable under the number convention"):
        parse_numeric_result(pd.Series(["4.5", text]))


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
    three = pd.Series(["2.675", "-2.675", "0.04"])  # 2.675 could group thousands: say "."
    out = derive_standard_result(three, 1.0, decimals=2, convention=CANONICAL)
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


# ------------------------------------------------------------------ SDTMIG 3.4 4.5.1.1 rules
# (added with the unit tests of raw/timing/units: one rule per test, table in -> table out)


def _std(orres: list[str], factor=1.0, index=None, **kw) -> pd.DataFrame:
    return derive_standard_result(pd.Series(orres, index=index), factor, **kw)


def _std_expected(stresc: list[str], stresn: list[float], index=None) -> pd.DataFrame:
    index = pd.RangeIndex(len(stresc)) if index is None else pd.Index(index)
    return pd.DataFrame(
        {"stresc": pd.Series(stresc, index=index, dtype=str), "stresn": stresn}, index=index
    )


def test_stresc_text_results_take_the_value_of_orres_with_null_stresn() -> None:
    # "--STRESC is populated ... by the assignment of the value of --ORRES"; only numeric
    # values go to --STRESN
    out = _std(
        ["NEGATIVE", " Trace ", "1+", "5 mg", "12.03.2021", "ABNORMAL, CS"], index=range(2, 8)
    )
    expected = _std_expected(
        ["NEGATIVE", "Trace", "1+", "5 mg", "12.03.2021", "ABNORMAL, CS"],
        [np.nan] * 6,
        index=range(2, 8),
    )
    pd.testing.assert_frame_equal(out, expected)


def test_stresc_numbers_in_standard_format_and_stresn_is_their_value() -> None:
    out = _std(["007", "+5", "5.", ".50", "-0", "1e3", "2,50", "−3"])
    expected = _std_expected(
        ["7", "5", "5", "0.5", "0", "1000", "2.5", "-3"],
        [7.0, 5.0, 5.0, 0.5, 0.0, 1000.0, 2.5, -3.0],
    )
    pd.testing.assert_frame_equal(out, expected)


def test_stresc_inequality_keeps_its_sign_and_stresn_is_null() -> None:
    # "a greater than (>) or less than (<) sign attached ... should be moved to the
    # --STRESC variable, and --STRESN should be null"; operator spellings standardised
    out = _std(["<5", "> 10", "=<0.5", "≤0.5", "=>2", "≥2", "<=1,5"])
    expected = _std_expected(["<5", ">10", "<=0.5", "<=0.5", ">=2", ">=2", "<=1.5"], [np.nan] * 7)
    pd.testing.assert_frame_equal(out, expected)


def test_stresc_inequality_converted_and_rounded_like_a_number() -> None:
    # SDTMIG 3.4 4.5.1.3 example: <0.1 mg/dL -> <1.71 umol/L; with decimals=1 -> <1.7
    out = _std(["<0.1", "0.13"], 17.1, decimals=1)
    pd.testing.assert_frame_equal(out, _std_expected(["<1.7", "2.2"], [np.nan, 2.2]))


def test_stresc_negative_factor_flips_the_inequality() -> None:
    # a bound multiplied by a negative factor reverses the order: <5 -> >-5
    out = _std(["<5", "<=5", ">5", ">=5", "5"], -1.0)
    expected = _std_expected([">-5", ">=-5", "<-5", "<=-5", "-5"], [np.nan] * 4 + [-5.0])
    pd.testing.assert_frame_equal(out, expected)


def test_stresc_without_decimal_comma_a_comma_number_is_an_error() -> None:
    with pytest.raises(MappingError, match=r"'<4,5' \(not a number under decimal_mark '\.'"):
        _std(["4.5", "<4,5"], 10.0, decimal_comma=False)
    out = _std(["4.5", "A,B"], 10.0, decimal_comma=False)
    pd.testing.assert_frame_equal(out, _std_expected(["45", "A,B"], [45.0, np.nan]))


def test_stresc_text_and_empty_results_need_no_conversion_factor() -> None:
    index = [11, 12, 13]
    factor = pd.Series([np.nan, np.nan, 2.0], index=index)
    out = derive_standard_result(pd.Series(["NOT DONE", "", "3"], index=index), factor)
    pd.testing.assert_frame_equal(
        out, _std_expected(["NOT DONE", "", "6"], [np.nan, np.nan, 6.0], index=index)
    )


def test_standard_result_factor_index_must_match() -> None:
    with pytest.raises(ValueError, match="factor: index differs"):
        derive_standard_result(pd.Series(["1"], index=[1]), pd.Series([1.0], index=[2]))


@settings(deadline=None)
@given(
    st.lists(st.text(max_size=8), min_size=1, max_size=6),
    st.sampled_from([1.0, 17.1, -2.0, 0.001]),
)
def test_stresc_populated_whenever_orres_is(raw: list[str], factor: float) -> None:
    # "When --ORRES is populated, --STRESC must also be populated"; STRESN only for a
    # plain number, and then equal to STRESC read as a number
    out = derive_standard_result(pd.Series(raw), factor)
    for text, stresc, stresn in zip(raw, out["stresc"], out["stresn"], strict=True):
        assert (stresc != "") == (text.strip() != "")
        if not math.isnan(stresn):
            assert float(stresc) == stresn
            assert stresc[0] not in "<>"


def test_parse_numeric_result_orres_keeps_the_text_as_collected() -> None:
    # parse_numeric_result: orres is "the raw text with surrounding spaces removed, for
    # --ORRES" (as originally collected): a Unicode minus sign is read as a sign for the
    # number, but stays as written in orres
    out = parse_numeric_result(pd.Series([" −3 ", "Rh−", "-3"]))
    expected = pd.DataFrame(
        {
            "orres": pd.Series(["−3", "Rh−", "-3"], dtype=str),
            "canonical": pd.Series(["−3", "Rh−", "-3"], dtype=str),
            "value": [-3.0, np.nan, -3.0],
            "operator": pd.Series(["", "", ""], dtype=str),
            "numeric": [True, False, True],
        }
    )
    pd.testing.assert_frame_equal(out, expected)


# ------------------------------------------------- parse_numeric_result against per value


def _parse_per_value(raw: pd.Series, conv: NumberConvention) -> pd.DataFrame:
    """The reference: parse_numeric_result as it was, read_number once per distinct text."""
    codes, texts = factorize_text(raw)
    readings = [read_number(t, conv) for t in texts]
    bad = [r.status in ("ambiguous", "unreadable") for r in readings]
    if any(bad):
        rows_bad = np.append(np.asarray(bad, dtype=bool), False)[codes]
        raise_for_rows(
            MappingError,
            f"number not readable under the number convention ({conv.describe()})",
            raw.index,
            rows_bad,
            take([r.canonical for r in readings], codes, ""),
            reasons=take([r.reason for r in readings], codes, ""),
            hint="state the number convention that is true of the data: decimal_mark and "
            "thousands_separator",
        )
    value_rows = np.append(np.array([r.value for r in readings], dtype=float), np.nan)[codes]
    op_rows = take([r.operator for r in readings], codes, "")
    return pd.DataFrame(
        {
            "orres": text_series(take([t.strip() for t in texts], codes, ""), raw.index),
            "canonical": text_series(take([r.canonical for r in readings], codes, ""), raw.index),
            "value": value_rows,
            "operator": text_series(op_rows, raw.index),
            "numeric": ~np.isnan(value_rows) & (op_rows == ""),
        },
        index=raw.index,
    )


def _outcome(fn, raw: pd.Series, conv: NumberConvention) -> pd.DataFrame | tuple[str, str, list]:
    try:
        return fn(raw, conv)
    except MappingError as exc:
        return (exc.message, exc.hint, exc.rows)  # type: ignore[attr-defined]


_RESULTS = st.lists(
    st.one_of(
        st.none(),
        st.from_regex(r"\A\s?[<>]?=?\s?[+-]?[0-9]{0,4}[.,]?[0-9]{0,4}(e-?[0-9])?\s?\Z"),
        st.sampled_from(["NEGATIVE", "1,000", "1.000", "250,000", "1.234,5", "", " ", "-0"]),
    ),
    max_size=30,
)
_CONVENTIONS = st.sampled_from(
    [NumberConvention(), CANONICAL, NumberConvention(",", "."), NumberConvention(".", ",")]
)


@settings(deadline=None, max_examples=300)
@given(_RESULTS, _CONVENTIONS, st.integers(min_value=0, max_value=100))
def test_parse_numeric_result_equals_the_per_value_path(
    raw: list[str | None], conv: NumberConvention, start: int
) -> None:
    series = pd.Series(raw, index=range(start, start + len(raw)), dtype=object)
    new = _outcome(lambda r, c: parse_numeric_result(r, convention=c), series, conv)
    old = _outcome(_parse_per_value, series, conv)
    if isinstance(old, pd.DataFrame):
        assert isinstance(new, pd.DataFrame)
        pd.testing.assert_frame_equal(new, old)
        assert (np.signbit(new["value"]) == np.signbit(old["value"])).all()
    else:
        assert new == old  # the same message, rows, values and readings


def test_parse_numeric_result_plain_and_other_shapes_by_hand() -> None:
    raw = pd.Series([" 06.20", "-0.5", "<0,5", "1e3", None, "NEGATIVE", "06.20"], index=[7] * 7)
    out = parse_numeric_result(raw)
    assert out["orres"].tolist() == ["06.20", "-0.5", "<0,5", "1e3", "", "NEGATIVE", "06.20"]
    assert out["canonical"].tolist() == ["06.20", "-0.5", "<0.5", "1e3", "", "NEGATIVE", "06.20"]
    np.testing.assert_array_equal(out["value"], [6.2, -0.5, 0.5, 1000.0, np.nan, np.nan, 6.2])
    assert out["operator"].tolist() == ["", "", "<", "", "", "", ""]
    assert out["numeric"].tolist() == [True, True, False, True, False, False, True]


def test_parse_numeric_result_a_plain_point_number_under_a_comma_convention_is_located() -> None:
    raw = pd.Series(["6,2", "6.2", "7"], index=[10, 11, 12])
    with pytest.raises(MappingError, match=r"in 1 row: row 11 '6\.2' \(not a number under"):
        parse_numeric_result(raw, convention=NumberConvention(",", "none"))
