"""Files that cannot be read (cdisc_mapper.validate.unreadable): each is one SD0017
finding naming the file and what is wrong with it, and the other datasets are checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_mapper.validate import validate_package
from cdisc_mapper.validate.unreadable import not_xport
from tests.validate_pkg import write_dataset


def _package(tmp_path: Path) -> Path:
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(sdtm, "DM", {"STUDYID": ["ST"], "DOMAIN": ["DM"], "USUBJID": ["S-1"]})
    write_dataset(
        sdtm,
        "AE",
        {
            "STUDYID": ["ST"] * 3,
            "DOMAIN": ["AE"] * 3,
            "USUBJID": ["S-1"] * 3,
            "AESEQ": [1.0, 2.0, 3.0],
            "AETERM": ["HEADACHE", "NAUSEA", "RASH"],
        },
    )
    return sdtm.parent


def _sd0017(root: Path) -> list[tuple[str, str, str]]:
    report = validate_package(root)
    assert report.count("VX0001") == 0
    assert {"DM"} <= {d.name for d in report.datasets}  # the rest was checked
    return [(f.dataset, f.value, f.message) for f in report.by_check("SD0017")]


def test_clean_package_has_no_unreadable_file(tmp_path):
    assert _sd0017(_package(tmp_path)) == []


def test_an_empty_file_is_said_to_be_empty(tmp_path):
    root = _package(tmp_path)
    (root / "sdtm" / "ae.xpt").write_bytes(b"")
    ((dataset, file, message),) = _sd0017(root)
    assert (dataset, file) == ("AE", "sdtm/ae.xpt")
    assert message.endswith(
        "the file is empty (0 bytes); regenerate it, or remove it from the folder"
    )


@pytest.mark.parametrize("keep", [80, 400, 560])
def test_a_file_cut_inside_its_headers_is_said_to_be_cut_short(tmp_path, keep):
    root = _package(tmp_path)
    path = root / "sdtm" / "ae.xpt"
    path.write_bytes(path.read_bytes()[:keep])
    ((dataset, file, message),) = _sd0017(root)
    assert (dataset, file) == ("AE", "sdtm/ae.xpt")
    assert f"the file ends at byte {keep} inside its header records (" in message
    assert message.endswith("it was cut short; regenerate or copy it again")


def test_a_text_file_named_xpt_is_said_not_to_be_xport(tmp_path):
    root = _package(tmp_path)
    (root / "sdtm" / "ae.xpt").write_text("STUDYID,USUBJID\nST,S-1\n")
    ((dataset, _, message),) = _sd0017(root)
    assert dataset == "AE"
    assert (
        "it does not start with the SAS XPORT library header (it starts "
        "b'STUDYID,USUBJID\\nST,S-1\\n'), so it is not a SAS transport file although it is "
        "named .xpt" in message
    )


def test_a_byte_that_is_not_utf8_in_a_value_names_record_and_variable(tmp_path):
    root = _package(tmp_path)
    path = root / "sdtm" / "ae.xpt"
    data = bytearray(path.read_bytes())
    offset = data.index(b"NAUSEA") + 1
    data[offset] = 0x92
    path.write_bytes(bytes(data))
    report = validate_package(root)
    (finding,) = report.by_check("SD0017")
    assert (finding.dataset, finding.record, finding.variable) == ("AE", 2, "AETERM")
    assert finding.message.startswith(f"byte 0x92 at offset {offset} (record 2, variable AETERM)")
    assert {"DM"} == {d.name for d in report.datasets}


def test_not_xport_is_silent_on_a_sound_file(tmp_path):
    root = _package(tmp_path)
    assert not_xport((root / "sdtm" / "ae.xpt").read_bytes()) is None
