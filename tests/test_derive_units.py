"""Unit tests of cdisc_mapper.derive.units: unit spellings and conversion factors.

SDTMIG 3.4 section 4.5.1.1: --ORRESU/--STRESU hold CDISC UNIT (C71620) submission values
and --STRESC/--STRESN hold --ORRES converted to the standard unit; section 4.3 (controlled
terminology). Each test is one rule: a small input table and the table expected back.
(tests/test_derive_results.py also has a few unit cases; these add the rest.)
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.derive import (
    conversion_factors,
    derive_standard_result,
    normalise_unit,
    unit_key,
)
from cdisc_mapper.errors import MappingError, SpecError

# ------------------------------------------------------------------ unit_key


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("mg/dL", "mg/dl"),  # case-folded
        ("MG/DL", "mg/dl"),
        (" mg / dL ", "mg/dl"),  # every whitespace removed, not only at the ends
        ("mg\t/\ndL", "mg/dl"),
        ("mg\u00a0/dL", "mg/dl"),  # no-break space (NFKC -> space, then removed)
        ("\u00b5mol/L", "\u03bcmol/l"),  # micro sign -> Greek mu (NFKC)
        ("\u039cmol/L", "\u03bcmol/l"),  # capital Greek mu -> case-folded
        ("\uff4d\uff47/\uff44\uff4c", "mg/dl"),  # full-width letters (NFKC)
        ("", ""),
        ("   ", ""),
    ],
)
def test_unit_key_nfkc_casefold_no_whitespace(spelling: str, key: str) -> None:
    assert unit_key(spelling) == key


@settings(deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + "^/%.*-_ \t", max_size=12))
def test_unit_key_ignores_case_and_whitespace(text: str) -> None:
    key = unit_key(text)
    assert unit_key(text.upper()) == unit_key(text.lower()) == key
    assert unit_key(" ".join(text)) == key
    assert not any(ch.isspace() for ch in key)


# ------------------------------------------------------------------ normalise_unit

LB_SYNONYMS = {
    "x10^9/l": "10^9/L",
    "10E9/L": "10^9/L",
    "\u00b5mol/L": "umol/L",
    "IU/L": "U/L",
    "g/dl": "g/dL",
    "Celsius": "C",
}


def test_normalise_unit_synonyms_to_submission_values() -> None:
    raw = pd.DataFrame(
        {
            "LBORRESU": [
                "x10^9/L",  # synonym, other case
                "10e9/l",  # synonym, other case
                "\u03bcmol/L",  # Greek mu matches the micro-sign synonym
                "iu / l",  # spaces inside
                "G/DL",
                "CELSIUS",
                "U/L",  # a submission value matches itself
                "umol/l",  # ... also in another case
                "",  # no unit
            ]
        },
        index=range(2, 11),  # raw row numbers
    )
    expected = pd.Series(
        ["10^9/L", "10^9/L", "umol/L", "U/L", "g/dL", "C", "U/L", "umol/L", ""],
        index=raw.index,
        name="LBORRESU",
        dtype=str,
    )
    pd.testing.assert_series_equal(normalise_unit(raw["LBORRESU"], LB_SYNONYMS), expected)


def test_normalise_unit_missing_cell_is_blank() -> None:
    raw = pd.Series(["g/dl", None, np.nan], index=[7, 8, 9], dtype=object)
    expected = pd.Series(["g/dL", "", ""], index=[7, 8, 9], dtype=str)
    pd.testing.assert_series_equal(normalise_unit(raw, LB_SYNONYMS), expected)


def test_normalise_unit_unknown_names_each_unit_and_every_row() -> None:
    raw = pd.Series(["g/dL", "mg%", "furlong", "mg%", "U/L"], index=[12, 13, 14, 15, 16])
    with pytest.raises(MappingError) as info:
        normalise_unit(raw, LB_SYNONYMS)
    err = info.value
    assert err.rows == [13, 14, 15]
    assert err.values == ["mg%", "furlong", "mg%"]
    assert str(err).startswith("unknown unit 'mg%', 'furlong' in 3 rows: row 13 'mg%'")
    assert "row 14 'furlong', row 15 'mg%'" in str(err)


def test_normalise_unit_unknown_beyond_listing_limit_counts_the_rest() -> None:
    raw = pd.Series([f"u{i}" for i in range(25)], index=range(100, 125))
    with pytest.raises(MappingError) as info:
        normalise_unit(raw, {"kg": "kg"})
    text = str(info.value)
    assert text.startswith("unknown units in 25 rows: row 100 'u0'")
    assert "row 119 'u19'; and 5 more rows" in text
    assert "u20" not in text
    assert info.value.rows == list(range(100, 125))


def test_normalise_unit_same_target_twice_is_fine() -> None:
    # two spellings with the same key and the same target do not conflict
    out = normalise_unit(pd.Series(["MG/DL"]), {"mg/dl": "mg/dL", "MG/DL": "mg/dL"})
    assert out.tolist() == ["mg/dL"]


def test_normalise_unit_case_only_different_targets_conflict() -> None:
    # targets are compared ignoring case too: two CDISC units differing only in case
    # cannot be told apart by this matching, so the spec is refused rather than guessed
    with pytest.raises(SpecError, match="matches both 'MBq' and 'mBq'"):
        normalise_unit(pd.Series(["MBq"]), {"megabecquerel": "MBq", "millibecquerel": "mBq"})


# ------------------------------------------------------------------ conversion_factors

CONVERSIONS = [
    {"test": "*", "from": "g/dL", "to": "g/L", "factor": 10},
    {"test": "GLUC", "from": "mg/dL", "to": "mmol/L", "factor": 0.0555},
    {"test": "CHOL", "from": "mg/dL", "to": "mmol/L", "factor": 0.02586},
    {"test": "*", "from": "mg/dL", "to": "mmol/L", "factor": 0.1},  # any other test
    {"test": "TEMP", "from": "F", "to": "C", "factor": "5/9", "offset": "-160/9"},
    {"test": "TEMP", "from": "K", "to": "C", "factor": 1, "offset": -273.15},
    {"from": "LB", "to": "kg", "factor": "0.45359237"},  # test defaults to "*"
]


def _factors(rows: pd.DataFrame, table) -> pd.DataFrame:
    factor, offset = conversion_factors(rows["TESTCD"], rows["FROM"], rows["TO"], table)
    return pd.DataFrame({"factor": factor, "offset": offset})


def test_conversion_factor_and_offset_per_row() -> None:
    rows = pd.DataFrame(
        {
            "TESTCD": ["HGB", "ALB", "TEMP", "TEMP", "WEIGHT"],
            "FROM": ["g/dL", "g/dL", "F", "K", "LB"],
            "TO": ["g/L", "g/L", "C", "C", "kg"],
        },
        index=[20, 21, 22, 23, 24],
    )
    expected = pd.DataFrame(
        {
            "factor": [10.0, 10.0, 5 / 9, 1.0, 0.45359237],
            "offset": [0.0, 0.0, -160 / 9, -273.15, 0.0],
        },
        index=rows.index,
    )
    pd.testing.assert_frame_equal(_factors(rows, CONVERSIONS), expected)


def test_conversion_test_specific_row_wins_over_star() -> None:
    rows = pd.DataFrame(
        {
            "TESTCD": ["GLUC", "CHOL", "TRIG"],
            "FROM": ["mg/dL"] * 3,
            "TO": ["mmol/L"] * 3,
        }
    )
    expected = pd.DataFrame(
        {"factor": [0.0555, 0.02586, 0.1], "offset": [0.0, 0.0, 0.0]}, index=rows.index
    )
    pd.testing.assert_frame_equal(_factors(rows, CONVERSIONS), expected)


def test_conversion_identity_when_units_equal_and_nan_without_original_unit() -> None:
    rows = pd.DataFrame(
        {
            "TESTCD": ["ALT", "SPGRAV", "CRP", "CRP"],
            "FROM": ["U/L", "", "", None],
            "TO": ["U/L", "", "mg/L", "mg/L"],
        }
    )
    expected = pd.DataFrame(
        {"factor": [1.0, 1.0, np.nan, np.nan], "offset": [0.0, 0.0, np.nan, np.nan]},
        index=rows.index,
    )
    pd.testing.assert_frame_equal(_factors(rows, []), expected)


def test_conversion_factors_feed_standard_result_f_to_c() -> None:
    # SDTMIG 3.4 section 4.5.1.1: STRESC is ORRES converted to the standard unit
    rows = pd.DataFrame(
        {
            "TESTCD": ["TEMP"] * 4,
            "ORRES": ["98.6", "212", "-40", "<95"],
            "FROM": ["F"] * 4,
            "TO": ["C"] * 4,
        }
    )
    factor, offset = conversion_factors(rows["TESTCD"], rows["FROM"], rows["TO"], CONVERSIONS)
    out = derive_standard_result(rows["ORRES"], factor, offset=offset, decimals=1)
    expected = pd.DataFrame(
        {
            "stresc": pd.Series(["37.0", "100.0", "-40.0", "<35.0"], dtype=str),
            "stresn": [37.0, 100.0, -40.0, np.nan],
        }
    )
    pd.testing.assert_frame_equal(out, expected)


def test_conversion_missing_pair_names_test_units_and_rows() -> None:
    rows = pd.DataFrame(
        {
            "TESTCD": ["HGB", "GLUC", "GLUC", "TEMP"],
            "FROM": ["g/dL", "mg/dL", "mg/dL", "F"],
            "TO": ["mmol/L", "umol/L", "umol/L", "C"],
        },
        index=[31, 32, 33, 34],
    )
    with pytest.raises(MappingError) as info:
        _factors(rows, CONVERSIONS)
    text = str(info.value)
    assert text.startswith("no unit conversion for 2 test/unit pairs: ")
    assert "HGB: 'g/dL' -> 'mmol/L' (rows 31)" in text
    assert "GLUC: 'mg/dL' -> 'umol/L' (rows 32, 33)" in text
    assert "TEMP" not in text
    assert info.value.missing == [("HGB", "g/dL", "mmol/L"), ("GLUC", "mg/dL", "umol/L")]


def test_conversion_star_does_not_apply_to_the_reverse_direction() -> None:
    rows = pd.DataFrame({"TESTCD": ["HGB"], "FROM": ["g/L"], "TO": ["g/dL"]})
    with pytest.raises(MappingError, match="'g/L' -> 'g/dL'"):
        _factors(rows, CONVERSIONS)


def test_conversion_table_as_dataframe() -> None:
    table = pd.DataFrame(
        {
            "test": ["*", "TEMP"],
            "from": ["g/dL", "F"],
            "to": ["g/L", "C"],
            "factor": ["10", "5/9"],
            "offset": [np.nan, "-160/9"],  # a blank offset cell reads as NaN: 0
        }
    )
    rows = pd.DataFrame({"TESTCD": ["HGB", "TEMP"], "FROM": ["g/dL", "F"], "TO": ["g/L", "C"]})
    expected = pd.DataFrame({"factor": [10.0, 5 / 9], "offset": [0.0, -160 / 9]})
    pd.testing.assert_frame_equal(_factors(rows, table), expected)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([{"from": "a", "to": "b"}], "lacks factor"),
        ([{"to": "b", "factor": 1}], "lacks from"),
        ([{"from": "a", "to": "b", "factor": "ten"}], "factor 'ten' is not a number"),
        ([{"from": "a", "to": "b", "factor": "1/0"}], "factor '1/0' is not a number"),
        ([{"from": "a", "to": "b", "factor": 1, "offset": "x"}], "offset 'x' is not a number"),
        ([{"from": "a", "to": "b", "factor": 0}], "factor must be finite and non-zero"),
        ([{"from": "a", "to": "b", "factor": "inf"}], "factor must be finite and non-zero"),
        (
            [
                {"test": "T", "from": "a", "to": "b", "factor": 2},
                {"test": "T", "from": "a", "to": "b", "factor": 3},
            ],
            "given twice with different values",
        ),
    ],
)
def test_conversion_table_malformed_row_is_a_spec_error(table, message: str) -> None:
    s = pd.Series(["T"])
    with pytest.raises(SpecError, match=message):
        conversion_factors(s, pd.Series(["a"]), pd.Series(["b"]), table)


def test_conversion_table_same_row_twice_is_fine() -> None:
    table = [
        {"from": "a", "to": "b", "factor": 2},
        {"test": "*", "from": "a", "to": "b", "factor": "2"},
    ]
    factor, offset = conversion_factors(pd.Series(["T"]), pd.Series(["a"]), pd.Series(["b"]), table)
    assert factor.tolist() == [2.0]
    assert offset.tolist() == [0.0]


def test_conversion_factors_index_must_agree() -> None:
    with pytest.raises(ValueError, match="from_unit index differs"):
        conversion_factors(
            pd.Series(["T"], index=[1]),
            pd.Series(["a"], index=[2]),
            pd.Series(["a"], index=[1]),
            [],
        )


def test_conversion_table_blank_cells_take_the_documented_defaults() -> None:
    # a table read from a sheet has NaN (or "") in blank cells: a blank test is "*" and a
    # blank offset is 0, as when the key is left out
    table = pd.DataFrame(
        {
            "test": ["TEMP", np.nan, ""],
            "from": ["F", "g/dL", "LB"],
            "to": ["C", "g/L", "kg"],
            "factor": ["5/9", 10, 0.45359237],
            "offset": ["-160/9", "", None],
        }
    )
    rows = pd.DataFrame(
        {"TESTCD": ["TEMP", "HGB", "WEIGHT"], "FROM": ["F", "g/dL", "LB"], "TO": ["C", "g/L", "kg"]}
    )
    expected = pd.DataFrame(
        {"factor": [5 / 9, 10.0, 0.45359237], "offset": [-160 / 9, 0.0, 0.0]}, index=rows.index
    )
    pd.testing.assert_frame_equal(_factors(rows, table), expected)


@pytest.mark.parametrize("column", ["from", "to", "factor"])
def test_conversion_table_blank_required_cell_is_a_spec_error(column: str) -> None:
    table = pd.DataFrame({"test": ["*"], "from": ["a"], "to": ["b"], "factor": [2.0]})
    table[column] = [np.nan]
    with pytest.raises(SpecError, match=f"unit conversion 1 lacks {column}"):
        conversion_factors(pd.Series(["T"]), pd.Series(["a"]), pd.Series(["b"]), table)


def test_conversion_units_compare_ignoring_case() -> None:
    # the spec writes MG/DL and UMOL/L; the records hold the UNIT codelist's mg/dL, umol/L
    table = [{"test": "CREAT", "from": "MG/DL", "to": "UMOL/L", "factor": 88.42}]
    rows = pd.DataFrame(
        {"TESTCD": ["CREAT", "CREAT"], "FROM": ["mg/dL", "umol/L"], "TO": ["umol/L", "UMOL/L"]}
    )
    got = _factors(rows, table)
    assert got["factor"].tolist() == [88.42, 1.0]  # umol/L to UMOL/L is the same unit
    assert got["offset"].tolist() == [0.0, 0.0]
