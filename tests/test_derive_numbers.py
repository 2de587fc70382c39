"""Tests of cdisc_mapper.derive.numbers: numbers read by a stated convention, never
changed silently."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdisc_mapper.derive.numbers import CANONICAL, NumberConvention, read_number
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
