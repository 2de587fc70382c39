"""Tests of cdisc_mapper.raw.redcap: a REDCap flat export and its data dictionary as one
table per instrument, decoded, every row accounted for; malformed exports give located
errors. The real exports are REDCapR's test projects in ../shared/reference/redcap/;
expected counts are computed here from the CSV files with the csv module."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.errors import RawDataError
from cdisc_mapper.raw.edc import EdcSettings
from cdisc_mapper.raw.redcap import parse_choices, read_redcap, validated

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "redcap"
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared absent")
LONG = EdcSettings(records="data.csv", dictionary="dictionary.csv", events="event.csv")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _field_forms(folder: Path) -> dict[str, tuple[str, str]]:
    """field -> (form, type) from the dictionary, read with the csv module."""
    return {
        r["Variable / Field Name"]: (r["Form Name"], r["Field Type"])
        for r in _rows(folder / "dictionary.csv")
    }


def _expected_values(folder: Path) -> dict[str, int]:
    """Per instrument: the non-empty cells of its fields (a checkbox: the ticked boxes),
    the record id apart."""
    fields = _field_forms(folder)
    record_id = next(iter(fields))
    out: dict[str, int] = {}
    for row in _rows(folder / "data.csv"):
        for col, value in row.items():
            base = col.rpartition("___")[0] if "___" in col else col
            if base not in fields or base == record_id:
                continue
            form, kind = fields[base]
            counted = value == "1" if kind == "checkbox" else bool(value.strip())
            out[form] = out.get(form, 0) + int(counted)
    return out


@needs_reference
def test_longitudinal_export_read_back_completely() -> None:
    folder = REFERENCE / "longitudinal"
    export = read_redcap(folder, LONG)
    expected = _expected_values(folder)
    fields = _field_forms(folder)
    for form, table in export.forms.items():
        own = [
            c for c in table.data.columns
            if (c.rpartition("___")[0] if "___" in c else c) in fields and c != "study_id"
        ]  # fmt: skip
        assert int((table.data[own] != "").to_numpy().sum()) == expected.get(form, 0), form
    # every one of the 18 rows is some instrument's record or listed as a leftover
    claimed = set().union(*(set(t.data.index) for t in export.forms.values()))
    assert len(claimed) + sum(x.rows for x in export.leftovers) == 18
    assert sum(x.rows for x in export.leftovers) == 2


@needs_reference
def test_longitudinal_values_decode_through_the_dictionary() -> None:
    export = read_redcap(REFERENCE / "longitudinal", LONG)
    demo = export.forms["demographics"].data
    first = demo.loc[2]  # line 2: record 100, enrollment_arm_1
    assert first["redcap_event_label"] == "Enrollment"
    assert first["sex"] == "Male"  # 1, Male
    assert first["race"] == "White"  # 4, White
    assert first["ethnicity"] == "Hispanic or Latino"
    assert first["gym___0"] == "Monday" and first["gym___1"] == ""  # ticked / not ticked
    assert first["meds___2"] == "Celexa"
    assert first["dob"] == "1983-09-23"
    assert first["demographics_complete"] == "Complete"
    assert list(demo.columns[:3]) == ["study_id", "redcap_event_name", "redcap_event_label"]


@needs_reference
def test_repeating_instrument_rows_and_instances() -> None:
    folder = REFERENCE / "repeating-instruments-sparse"
    export = read_redcap(folder, EdcSettings(records="data.csv", dictionary="dictionary.csv"))
    bp = export.forms["bp"].data
    assert list(bp.index) == [3, 4, 5, 7]  # the file lines of the 4 bp rows
    assert list(bp["redcap_repeat_instance"]) == ["1", "2", "3", "1"]
    assert list(bp["bp_systolic"]) == ["110", "111", "112", "114"]
    demo = export.forms["demographics"].data
    assert list(demo.index) == [2, 6, 8, 9, 10]  # records 3 to 5 have first_name only
    assert list(demo["sex"]) == ["Female", "Male", "", "", ""]
    assert export.leftovers == []
    assert export.forms["bp"].system_columns == ("redcap_repeat_instance",)


# ------------------------------------------------------------------ malformed exports

DICTIONARY = (
    '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Field Note",'
    '"Text Validation Type OR Show Slider Number"\n'
    "record_id,demo,,text,ID,,,\n"
    'sex,demo,,radio,Sex,"1, Male | 2, Female",,\n'
    "visit_date,visit,,text,Date,,,{validation}\n"
)


def _project(tmp_path: Path, records: str, validation: str = "date_ymd") -> Path:
    (tmp_path / "dictionary.csv").write_text(DICTIONARY.format(validation=validation))
    (tmp_path / "records.csv").write_text(records)
    (tmp_path / "events.csv").write_text(
        "event_name,arm_num,unique_event_name\nBaseline,1,baseline_arm_1\n"
    )
    return tmp_path


SETTINGS = EdcSettings(records="records.csv", dictionary="dictionary.csv", events="events.csv")


def test_column_missing_from_the_dictionary(tmp_path: Path) -> None:
    _project(tmp_path, "record_id,redcap_event_name,sex,weight\n1,baseline_arm_1,1,70\n")
    with pytest.raises(
        RawDataError, match=r"records.csv:1, column weight: column 'weight' is not a field"
    ):
        read_redcap(tmp_path, SETTINGS)


def test_unknown_event(tmp_path: Path) -> None:
    records = "record_id,redcap_event_name,sex\n1,baseline_arm_1,1\n2,week_9_arm_1,2\n"
    _project(tmp_path, records)
    with pytest.raises(
        RawDataError, match=r"records.csv:3, column redcap_event_name: event 'week_9_arm_1'"
    ):
        read_redcap(tmp_path, SETTINGS)


def test_code_not_among_the_choices(tmp_path: Path) -> None:
    _project(tmp_path, "record_id,sex\n1,1\n2,3\n")
    with pytest.raises(RawDataError, match=r"records.csv:3, column sex: '3' is not a code") as err:
        read_redcap(tmp_path, EdcSettings(records="records.csv", dictionary="dictionary.csv"))
    assert "dictionary (line 3) gives 1 = Male, 2 = Female" in str(err.value)


@pytest.mark.parametrize(
    ("validation", "bad"),
    [
        ("date_ymd", "2015-13-02"),
        ("date_dmy", "31-02-2015"),
        ("date_mdy", "2015/01/01"),
        ("datetime_ymd", "2015-01-01"),
        ("datetime_seconds_ymd", "2015-01-01 10:00"),
        ("integer", "3.5"),
        ("number", "abc"),
    ],
)
def test_bad_value_for_its_validation_type(tmp_path: Path, validation: str, bad: str) -> None:
    _project(tmp_path, f"record_id,visit_date\n1,\n2,{bad}\n", validation)
    with pytest.raises(
        RawDataError,
        match=rf"records.csv:3, column visit_date: '{bad}' is not a valid {validation}",
    ):
        read_redcap(tmp_path, EdcSettings(records="records.csv", dictionary="dictionary.csv"))


@pytest.mark.parametrize(
    ("validation", "text", "iso"),
    [
        ("date_ymd", "2015-03-02", "2015-03-02"),
        ("date_dmy", "02-03-2015", "2015-03-02"),
        ("date_dmy", "2015-03-02", "2015-03-02"),  # REDCap's raw export: year first
        ("date_mdy", "03/02/2015", "2015-03-02"),
        ("datetime_dmy", "02-03-2015 14:05", "2015-03-02T14:05"),
        ("datetime_seconds_ymd", "2015-03-02 14:05:09", "2015-03-02T14:05:09"),
        ("integer", "+7", "7"),
        ("number", "-.5", "-.5"),
        ("number_1dp_comma_decimal", "3,5", "3.5"),
        ("email", "a@b.org", "a@b.org"),
    ],
)
def test_validation_types_give_iso_dates_and_numbers(validation: str, text: str, iso: str) -> None:
    assert validated(text, validation) == iso


def test_clean_project_and_leftover_rows(tmp_path: Path) -> None:
    records = (
        "record_id,redcap_event_name,sex,visit_date\n1,baseline_arm_1,2,\n1,baseline_arm_1,,\n"
    )
    _project(tmp_path, records, "date_dmy")
    export = read_redcap(tmp_path, SETTINGS)
    assert export.forms["demo"].data.to_dict("records") == [
        {"record_id": "1", "redcap_event_name": "baseline_arm_1",
         "redcap_event_label": "Baseline", "sex": "Female"}
    ]  # fmt: skip
    assert len(export.forms["visit"].data) == 0
    assert [(x.rows, x.reason) for x in export.leftovers] == [
        (1, "export row with no value in any instrument's field")
    ]


def test_upper_case_columns_without_the_form_prefix(tmp_path: Path) -> None:
    (tmp_path / "dictionary.csv").write_text(DICTIONARY.format(validation="").replace(
        "visit_date,visit", "visit_vdate,visit"))  # fmt: skip
    (tmp_path / "records.csv").write_text("record_id,visit_vdate\n7,2020-01-02\n")
    settings = EdcSettings(
        records="records.csv", dictionary="dictionary.csv", column_case="upper",
        strip_form_prefix=True,
    )  # fmt: skip
    table = read_redcap(tmp_path, settings).forms["visit"].data
    assert list(table.columns) == ["RECORD_ID", "VDATE"]


LABEL_CHARS = st.characters(blacklist_characters="|\n\r", blacklist_categories=("Cs",))


@settings(deadline=None, max_examples=50)
@given(
    st.dictionaries(
        st.from_regex(r"[0-9a-z_]{1,4}", fullmatch=True),
        st.text(LABEL_CHARS, max_size=12).map(str.strip),
        min_size=1, max_size=6,
    )
)  # fmt: skip
def test_choices_read_back(choices: dict[str, str]) -> None:
    text = " | ".join(f"{k}, {v}" for k, v in choices.items())
    assert parse_choices(text) == {k: v for k, v in choices.items()}
