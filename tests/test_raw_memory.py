"""Raw forms given in memory (cdisc_mapper.raw.memory): found by file or form name, read
as text with rows numbered from 1, unused frames listed, and located errors."""

from __future__ import annotations

import pandas as pd
import pytest

from cdisc_mapper.errors import RawDataError
from cdisc_mapper.raw import RawFrames


def test_typed_values_become_text_as_sas7bdat_values_do():
    frame = pd.DataFrame({" AGE ": [34.0, None, 7.5], "SITE": [" 01", "02 ", None]})
    form = RawFrames({"f": frame}).open("f", "f.csv")
    assert list(form.data.columns) == ["AGE", "SITE"]
    assert form.data.to_dict("list") == {"AGE": ["34", "", "7.5"], "SITE": ["01", "02", ""]}
    assert list(form.data.index) == [1, 2, 3]
    assert (form.name, form.file, str(form.path)) == ("f", "raw['f']", "raw['f']")


def test_a_row_without_any_value_is_not_a_record():
    frame = pd.DataFrame({"A": ["x", "", None, "y"], "B": ["", " ", None, ""]})
    form = RawFrames({"f.csv": frame}).open("f", "f.csv")
    assert list(form.data.index) == [1, 4]  # rows keep their numbers


@pytest.mark.parametrize(
    ("key", "expected"),
    [("vitals.csv", "vitals.csv"), ("vitals", "vitals"), ("vs_form", "vs_form")],
)
def test_a_frame_is_found_by_file_name_stem_or_form(key, expected):
    frames = RawFrames({key: pd.DataFrame({"A": ["1"]})})
    assert frames.key("vs_form", "vitals.csv") == expected
    assert frames.open("vs_form", "vitals.csv").file == f"raw[{expected!r}]"


def test_the_file_name_wins_over_the_form_name():
    frames = RawFrames({"vs_form": pd.DataFrame({"A": ["form"]}), "vitals.csv": pd.DataFrame()})
    assert frames.key("vs_form", "vitals.csv") == "vitals.csv"


def test_a_missing_frame_names_the_form_the_spec_line_and_what_was_given():
    frames = RawFrames({"labs": pd.DataFrame(), "ae": pd.DataFrame()})
    with pytest.raises(RawDataError) as info:
        frames.open("vitals", "vitals.csv", where="sdtm/vs.yaml:4")
    text = str(info.value)
    assert "raw form 'vitals' (file 'vitals.csv') is not among the DataFrames given" in text
    assert "(given: 'ae', 'labs')" in text and "sdtm/vs.yaml:4" in text
    assert "raw={'vitals': DataFrame, ...}" in text


def test_duplicate_columns_after_stripping_are_an_error_naming_the_frame():
    frame = pd.DataFrame([["1", "2"]], columns=["A", " A"])
    with pytest.raises(RawDataError, match=r"raw\['f'\].*duplicate column names \['A'\]"):
        RawFrames({"f": frame}).open("f", "f.csv")


def test_unused_frames_in_name_order():
    frames = RawFrames({"b": pd.DataFrame({"X": ["1", ""]}), "a": pd.DataFrame({"X": ["2"]})})
    unused = frames.unused(["raw['a']"])
    assert [(f.name, f.file, len(f.data)) for f in unused] == [("b", "raw['b']", 1)]


def test_a_value_that_is_not_a_frame_is_refused():
    with pytest.raises(RawDataError, match="not so for vitals"):
        RawFrames({"vitals": [1, 2]})  # type: ignore[dict-item]
