"""Tests of cdisc_mapper.derive.numbers: numbers read by a stated convention, never
changed silently."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.derive.numbers import (
    CANONICAL,
    NumberConvention,
    NumberReading,
    read_number,
    read_numbers,
)
from cdisc_mapper.errors import SpecError

DEFAULT = NumberConvention()
US = NumberConvention(".", ",")
POINT = NumberConvention(".", "none")
EU = NumberConvention(",", "none")
EU_GROUPED = NumberConvention(",", ".")
SWISS = NumberConvention(".", "'")
FRENCH = NumberConvention(",", " ")
ALL = [
    NumberConvention(mark, sep)  # type: ignore[arg-type]
    for mark, sep in itertools.product([".", ",", "either"], ["none", ",", ".", " ", "'"])
    if mark != sep
]


@pytest.mark.parametrize(
    ("text", "convention", "status", "value"),
    [
        # a platelet count as US laboratories write it
        ("250,000", US, "number", 250000.0),
        ("250,000", POINT, "unreadable", math.nan),
        ("250,000", DEFAULT, "ambiguous", math.nan),
        ("250,000", EU, "number", 250.0),  # stated: the comma is the decimal mark
        ("1,000", US, "number", 1000.0),
        ("1,000", POINT, "unreadable", math.nan),
        ("1,000", DEFAULT, "ambiguous", math.nan),
        ("1,000", EU, "number", 1.0),
        ("1.234", DEFAULT, "ambiguous", math.nan),
        ("1.234", POINT, "number", 1.234),
        ("1.234", EU_GROUPED, "number", 1234.0),
        ("1.234,5", POINT, "unreadable", math.nan),
        ("1.234,5", DEFAULT, "unreadable", math.nan),
        ("1.234,5", EU_GROUPED, "number", 1234.5),
        ("1,000.5", US, "number", 1000.5),
        ("1,000.5", DEFAULT, "unreadable", math.nan),
        ("1,000,000", US, "number", 1e6),
        ("1'000.5", SWISS, "number", 1000.5),
        ("250 000,5", FRENCH, "number", 250000.5),
        ("250\u00a0000", FRENCH, "number", 250000.0),
        ("72,5", DEFAULT, "number", 72.5),
        ("72,5", US, "unreadable", math.nan),
        ("0,500", DEFAULT, "number", 0.5),  # a thousands group never starts with 0
        ("1234,567", DEFAULT, "number", 1234.567),  # nor has four digits
        ("< 0,5", DEFAULT, "number", 0.5),
        ("NEGATIVE", DEFAULT, "text", math.nan),
        ("12.03.2021", DEFAULT, "text", math.nan),
        ("1,,5", DEFAULT, "text", math.nan),
        ("", DEFAULT, "empty", math.nan),
    ],
)
def test_read_number(text: str, convention: NumberConvention, status: str, value: float) -> None:
    out = read_number(text, convention)
    assert out.status == status
    assert (math.isnan(out.value) and math.isnan(value)) or out.value == value


def test_errors_give_each_reading_and_its_setting() -> None:
    assert read_number("250,000", DEFAULT).reason == (
        "ambiguous: 250 if ',' is the decimal mark, 250000 if ',' separates thousands"
    )
    assert read_number("1.234,5", POINT).reason == (
        "not a number under decimal_mark '.', thousands_separator none; it is 1234.5 if "
        "',' is the decimal mark and '.' separates thousands"
    )


@pytest.mark.parametrize(
    ("text", "convention", "canonical"),
    [
        ("72,5", DEFAULT, "72.5"),
        ("<= 0,50", DEFAULT, "<= 0.50"),
        ("250,000", US, "250000"),
        ("1.234,5", EU_GROUPED, "1234.5"),
        ("6.20", DEFAULT, "6.20"),  # nothing to rewrite: as typed
        ("≥ 2", DEFAULT, "≥ 2"),
    ],
)
def test_canonical_text_has_a_decimal_point_and_no_grouping(
    text: str, convention: NumberConvention, canonical: str
) -> None:
    assert read_number(text, convention).canonical == canonical


def test_a_character_cannot_be_both_marks() -> None:
    with pytest.raises(SpecError, match="both the decimal mark and the thousands separator"):
        NumberConvention(",", ",")


_BODY = st.text(alphabet="0123456789.,' ", min_size=1, max_size=12)


@given(_BODY)
def test_the_default_reads_only_what_every_convention_reads_alike(text: str) -> None:
    # a study that states nothing never gets a value another convention would change
    out = read_number(text, DEFAULT)
    if out.status != "number":
        return
    for convention in ALL:
        other = read_number(text, convention)
        if other.status == "number":
            assert other.value == out.value, (text, convention)


@given(_BODY, st.sampled_from(ALL))
def test_a_number_read_is_its_canonical_text_read_back(
    text: str, convention: NumberConvention
) -> None:
    out = read_number(text, convention)
    if out.status == "number":
        again = read_number(out.canonical, CANONICAL)
        assert again.status == "number" and again.value == out.value


# ------------------------------------------------------------------ read_numbers


def _each(texts: list[str], convention: NumberConvention) -> list[NumberReading]:
    """The reference: :func:`read_number` once per text."""
    return [read_number(t, convention) for t in texts]


def _assert_same_readings(texts: list[str], convention: NumberConvention) -> None:
    many = read_numbers(texts, convention)
    ref = _each(texts, convention)
    assert many.status == [r.status for r in ref]
    assert many.canonical == [r.canonical for r in ref]
    assert many.operator == [r.operator for r in ref]
    assert many.reason == [r.reason for r in ref]
    expected = np.array([r.value for r in ref], dtype=float)
    assert many.value.dtype == np.float64
    assert np.array_equal(many.value, expected, equal_nan=True)
    assert (np.signbit(many.value) == np.signbit(expected)).all()  # -0 stays -0


# plain numbers (the fast path), numbers with separators, operators, exponents, blanks
# (ASCII and Unicode), Unicode digits and minus, letters
_CHARS = st.sampled_from([*"0123456789" * 2, *"..,' +-<>=eE", *"\u00a0\u2212\u2264\u0663\t\x1f\nA"])
_TEXTS = st.lists(st.text(alphabet=_CHARS, max_size=10), max_size=20)
_PLAIN_TEXTS = st.lists(st.from_regex(r"\A\s?[+-]?[0-9]{1,5}(\.[0-9]{1,4})?\s?\Z"), max_size=20)


@settings(deadline=None, max_examples=300)
@given(_TEXTS, st.sampled_from(ALL))
def test_read_numbers_equals_read_number_per_text(
    texts: list[str], convention: NumberConvention
) -> None:
    _assert_same_readings(texts, convention)


@settings(deadline=None, max_examples=300)
@given(_PLAIN_TEXTS, st.sampled_from(ALL))
def test_read_numbers_equals_read_number_on_plain_numbers(
    texts: list[str], convention: NumberConvention
) -> None:
    _assert_same_readings(texts, convention)


@settings(deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=20))
def test_read_numbers_reads_every_float_text_exactly(values: list[float]) -> None:
    # repr gives the shortest text that reads back to the float, incl. 1e-05 and -0.0
    texts = [repr(v) for v in values]
    _assert_same_readings(texts, DEFAULT)
    assert read_numbers(texts, POINT).value.tolist() == values


@pytest.mark.parametrize(
    ("text", "convention", "status", "value", "canonical"),
    [
        ("6.2", DEFAULT, "number", 6.2, "6.2"),
        (" 06.20 ", DEFAULT, "number", 6.2, "06.20"),  # leading zeros kept as typed
        ("-0.3", POINT, "number", -0.3, "-0.3"),
        ("+5", EU, "number", 5.0, "+5"),  # an integer reads alike in every convention
        ("6.2", EU, "unreadable", math.nan, "6.2"),  # the point is no decimal mark
        ("1.000", DEFAULT, "ambiguous", math.nan, "1.000"),  # 1 or 1000
        ("1.000", POINT, "number", 1.0, "1.000"),
        ("1.000", EU_GROUPED, "number", 1000.0, "1000"),
        ("0.500", DEFAULT, "number", 0.5, "0.500"),  # 0 never starts a thousands group
        ("1" * 400, DEFAULT, "text", math.nan, "1" * 400),  # too large for a float
        ("1e3", DEFAULT, "number", 1000.0, "1e3"),
        ("4,5", DEFAULT, "number", 4.5, "4.5"),
        ("<5", DEFAULT, "number", 5.0, "<5"),
        ("\u0663", DEFAULT, "text", math.nan, "\u0663"),  # an Arabic-Indic 3 is no digit here
        ("\u00a05\u00a0", DEFAULT, "number", 5.0, "5"),  # blanks of any kind are trimmed
        ("  ", DEFAULT, "empty", math.nan, ""),
    ],
)
def test_read_numbers_by_hand(
    text: str, convention: NumberConvention, status: str, value: float, canonical: str
) -> None:
    out = read_numbers(["", text], convention)
    assert out.status == ["empty", status]
    assert out.canonical == ["", canonical]
    got = float(out.value[1])
    assert (math.isnan(got) and math.isnan(value)) or got == value
