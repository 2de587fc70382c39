"""The shortcut for dates written in numbers (``_numeric_date``) reads exactly what the
general date grammar reads, and leaves everything else to it."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.derive.datetext import (
    DEFAULT_UNKNOWN_TOKENS,
    _compact_re,
    _numeric_date,
    _read_date,
    parse_partial_date,
)
from cdisc_mapper.errors import DateParseError

UNKNOWN = frozenset(DEFAULT_UNKNOWN_TOKENS)


@pytest.mark.parametrize(
    ("text", "order", "iso"),
    [
        ("05/04/2016", "DMY", "2016-04-05"),
        ("05/04/2016", "MDY", "2016-05-04"),
        ("5.4.2016", "DMY", "2016-04-05"),
        (" 2016-4-5 ", "DMY", "2016-04-05"),
        ("2016/04/05", "MDY", "2016-04-05"),
        ("29/02/2016", "DMY", "2016-02-29"),
    ],
)
def test_numeric_dates(text: str, order: str, iso: str) -> None:
    assert _numeric_date(text, order) == iso


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("31/02/2016", "DMY"),  # not in the calendar: the grammar names the error
        ("05/04/16", "DMY"),  # 2-digit year
        ("05/04-2016", "DMY"),  # mixed separators
        ("05/04/2016", "YMD"),  # 2-digit year first in YMD
        ("UN/04/2016", "DMY"),
        ("05/04/1899", "DMY"),
        ("05 APR 2016", "DMY"),
        ("", "DMY"),
    ],
)
def test_everything_else_is_left_to_the_grammar(text: str, order: str) -> None:
    assert _numeric_date(text, order) is None


def test_invalid_dates_are_still_errors_naming_the_row() -> None:
    raw = pd.Series(["05/04/2016", "31/02/2016"], index=[7, 8])
    with pytest.raises(DateParseError, match=r"row 8 '31/02/2016' \(no day 31 in 2016-02\)"):
        parse_partial_date(raw, order="DMY")


def test_a_digit_unknown_token_turns_the_shortcut_off() -> None:
    raw = pd.Series(["99/04/2016", "05/04/2016"])
    out = parse_partial_date(raw, order="DMY", unknown_tokens=["99"])
    assert out.tolist() == ["2016-04", "2016-04-05"]


@settings(deadline=None, max_examples=300)
@given(
    st.tuples(
        st.text("0123456789", min_size=1, max_size=5),
        st.sampled_from(["/", ".", "-", " "]),
        st.text("0123456789", min_size=1, max_size=3),
        st.sampled_from(["/", ".", "-"]),
        st.text("0123456789", min_size=1, max_size=5),
    ),
    st.sampled_from(["DMY", "MDY", "YMD"]),
)
def test_same_as_the_grammar(parts: tuple[str, ...], order: str) -> None:
    text = "".join(parts)
    quick = _numeric_date(text, order)
    if quick is not None:
        assert _read_date(text, order, UNKNOWN, _compact_re(UNKNOWN), []) == (quick, "")


@settings(deadline=None, max_examples=200)
@given(
    st.dates(),
    st.sampled_from(["/", ".", "-"]),
    st.sampled_from(["DMY", "MDY", "YMD"]),
    st.booleans(),
)
def test_calendar_dates_read_as_the_grammar_reads_them(
    day: object, sep: str, order: str, padded: bool
) -> None:
    y, m, d = day.year, day.month, day.day  # type: ignore[attr-defined]
    fmt = "{:02d}" if padded else "{}"
    first, second = (d, m) if order == "DMY" else (m, d)
    for text in (
        f"{fmt.format(first)}{sep}{fmt.format(second)}{sep}{y:04d}",
        f"{y:04d}{sep}{fmt.format(m)}{sep}{fmt.format(d)}",
    ):
        expected = _read_date(text, order, UNKNOWN, _compact_re(UNKNOWN), [])
        quick = _numeric_date(text, order)
        if quick is not None:
            assert (quick, "") == expected
        elif expected[1] == "":
            # only YMD with a day or month first is left to the grammar among valid dates
            assert order == "YMD" and not text.startswith(f"{y:04d}")
