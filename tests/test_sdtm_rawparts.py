"""The raw forms cut into parts of the subjects without reading a form whole
(cdisc_mapper.sdtm.rawparts): each part's forms are those of the forms read whole and cut."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdisc_mapper.errors import RawDataError
from cdisc_mapper.raw import RawFrames
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.sdtm.engine import read_forms
from cdisc_mapper.sdtm.partition import split_forms, subject_ranges
from cdisc_mapper.sdtm.pipeline import Execution, run_sdtm
from cdisc_mapper.sdtm.rawparts import cut_forms, scan_forms, subject_starts
from cdisc_mapper.standards import load_terminology
from tests.conftest import STUDY


@pytest.fixture(scope="module")
def bundle():
    return load_study(STUDY)


def whole_forms(bundle, raw):
    return read_forms(bundle, bundle.terminology(load_terminology()), raw)


def assert_same_parts(loaded: list[dict], expected: list[dict]) -> None:
    assert len(loaded) == len(expected)
    for got, want in zip(loaded, expected, strict=True):
        assert sorted(got) == sorted(want)
        for key, form in want.items():
            assert (got[key].name, got[key].path, got[key].file) == (
                form.name,
                form.path,
                form.file,
            )
            pd.testing.assert_frame_equal(got[key].data, form.data)


def test_the_parts_of_a_raw_folder_are_those_of_the_forms_read_whole(bundle, demo_raw, tmp_path):
    scanned = scan_forms(bundle, demo_raw)
    assert scanned is not None
    starts = subject_starts(scanned, 3, None)
    forms = whole_forms(bundle, demo_raw)
    assert starts == subject_ranges(forms, "PT_ID", 3)  # the same balance by records
    assert len(starts) == 2
    parts = cut_forms(bundle, scanned, starts, tmp_path)
    assert parts.parts == 3
    assert all(files.lines for files in parts.forms)  # every CSV form read by blocks
    assert_same_parts([parts.load(k) for k in range(3)], split_forms(forms, "PT_ID", 3))


def test_parts_of_at_most_n_subjects(bundle, demo_raw):
    scanned = scan_forms(bundle, demo_raw)
    assert scanned is not None
    assert len(scanned.counts()) == 20  # the demo's subjects
    assert len(subject_starts(scanned, 1, 6)) == 3  # 20 subjects, 6 a part: 4 parts
    assert subject_starts(scanned, 1, None) == []  # one part: the study whole


def test_forms_given_in_memory_are_cut_whole(bundle, demo_raw, tmp_path):
    frames = RawFrames(
        {p.name: pd.read_csv(p, dtype=str, keep_default_na=False) for p in demo_raw.glob("*.csv")}
    )
    scanned = scan_forms(bundle, frames)
    assert scanned is not None
    starts = subject_starts(scanned, 2, None)
    parts = cut_forms(bundle, scanned, starts, tmp_path)
    assert not any(files.lines for files in parts.forms)
    expected = split_forms(whole_forms(bundle, frames), "PT_ID", 2)
    assert_same_parts([parts.load(k) for k in range(2)], expected)


def test_a_form_without_the_subject_column_maps_the_study_whole(bundle, demo_raw, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in demo_raw.iterdir():
        (raw / path.name).write_bytes(path.read_bytes())
    labs = Path(raw / "labs.csv")
    labs.write_text(labs.read_text().replace("PT_ID", "PATIENT", 1))
    assert scan_forms(bundle, raw) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("S99,x\n", "vitals.csv:"),  # a row cut short: 2 fields
        ('01,020,"two\nlines\n', "vitals.csv:"),  # a quoted value never closed
    ],
)
def test_a_bad_raw_line_reads_as_serially_when_mapping_by_parts(demo_raw, tmp_path, line, expected):
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in demo_raw.iterdir():
        (raw / path.name).write_bytes(path.read_bytes())
    vitals = raw / "vitals.csv"
    vitals.write_text(vitals.read_text() + line)
    with pytest.raises(RawDataError) as serial:
        run_sdtm(STUDY, raw, tmp_path / "serial", lambda _: None)
    with pytest.raises(RawDataError) as parted:
        run_sdtm(
            STUDY, raw, tmp_path / "parts", lambda _: None, execution=Execution(part_subjects=4)
        )
    assert str(parted.value) == str(serial.value)
    assert expected in str(parted.value) and "line" in str(parted.value)
    assert not (tmp_path / "parts" / "sdtm").exists()
