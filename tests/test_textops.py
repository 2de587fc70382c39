"""The spreadsheet-formula rule of CSV reports (:func:`cdisc_mapper.textops.neutralise_formula`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdisc_mapper.textops import FORMULA_STARTS, neutralise_formula, restore_formula


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("+1+1", "'+1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("'=quoted", "''=quoted"),
        ("''@x", "'''@x"),
        ("'ALSFRS-R' is not in codelist", "'ALSFRS-R' is not in codelist"),
        ("'-3", "'-3"),
        ("'", "'"),
        ("-", "'-"),
        ("-3", "-3"),
        ("+1.5", "+1.5"),
        ("-2e3", "-2e3"),
        ("-.5", "-.5"),
        ("-\u0663", "'-\u0663"),  # an Arabic-Indic digit is no number to a spreadsheet
        ("ALSFRS-R", "ALSFRS-R"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formula_starts_are_neutralised(value: str, written: str) -> None:
    assert neutralise_formula(value) == written
    assert restore_formula(written) == value


@pytest.mark.parametrize("value", [None, 3, -3, 2.5, -1.5])
def test_values_that_are_not_text_are_unchanged(value: object) -> None:
    assert neutralise_formula(value) == value


@given(st.text())
def test_restore_gives_back_the_original(value: str) -> None:
    written = neutralise_formula(value)
    assert restore_formula(written) == value
    if written and written[0] in FORMULA_STARTS:
        float(written)  # only a plain number keeps its sign or its '+'
