"""Dataset-JSON v1.1 writer and reader (cdisc_mapper.datasetjson).

Expected values are worked out by hand: SAS day numbers from Python's ``date``
arithmetic, JSON text from the standard, OIDs from define.xml's rule as documented.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.datasetjson import (
    DatasetJsonError,
    dataset_metadata,
    define_file,
    parse_formats,
    read_dataset,
    read_dataset_json,
    study_context,
    write_dataset,
    write_dataset_json,
)
from cdisc_mapper.xpt import XptVariable, read_xpt, write_xpt

VARIABLES = [
    XptVariable("STUDYID", "Study Identifier", "Char"),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", 12),
    XptVariable("AESTDTC", "Start Date/Time of Adverse Event", "Char"),
    XptVariable("AVAL", "Analysis Value", "Num", format="8.3"),
    XptVariable("AGE", "Age", "Num"),
    XptVariable("ADT", "Analysis Date", "Num", format="DATE9."),
]


def frame() -> pd.DataFrame:
    adt = float((date(2014, 1, 2) - date(1960, 1, 1)).days)  # 19725
    return pd.DataFrame(
        {
            "STUDYID": ["S1", "S1", "S1"],
            "USUBJID": ["S1-001", "S1-002", ""],
            "AESTDTC": ["2014-01-02", "2014-02-03", ""],
            "AVAL": [0.1 + 0.2, np.nan, -1.5e-7],
            "AGE": [34.0, 61.0, np.nan],
            "ADT": [adt, np.nan, 0.0],
        }
    )


def test_ndjson_bytes_worked_out_by_hand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20 UTC
    study = study_context("S1", ("ADaMIG", "1.3"), "ACME", "define.xml")
    meta = dataset_metadata(
        frame(), "ADAE", "AE Analysis", VARIABLES, study=study, keys=["USUBJID"]
    )
    path = write_dataset_json(frame(), meta, tmp_path / "adae.ndjson")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["datasetJSONCreationDateTime"] == "2023-11-14T22:13:20"
    assert header["datasetJSONVersion"] == "1.1.0"
    assert header["studyOID"] == "STDY.S1"
    assert header["metaDataVersionOID"] == "MDV.S1.ADaMIG.1.3"
    assert header["metaDataRef"] == "define.xml"
    assert header["originator"] == "ACME"
    assert header["sourceSystem"]["name"] == "cdisc_mapper"
    assert header["itemGroupOID"] == "IG.ADAE"
    assert header["records"] == 3
    assert header["columns"] == [
        {"itemOID": "IT.ADAE.STUDYID", "name": "STUDYID", "label": "Study Identifier",
         "dataType": "string", "length": 2},
        {"itemOID": "IT.ADAE.USUBJID", "name": "USUBJID", "label": "Unique Subject Identifier",
         "dataType": "string", "length": 12, "keySequence": 1},
        {"itemOID": "IT.ADAE.AESTDTC", "name": "AESTDTC",
         "label": "Start Date/Time of Adverse Event", "dataType": "date", "length": 10},
        {"itemOID": "IT.ADAE.AVAL", "name": "AVAL", "label": "Analysis Value",
         "dataType": "double", "displayFormat": "8.3"},
        {"itemOID": "IT.ADAE.AGE", "name": "AGE", "label": "Age", "dataType": "integer"},
        {"itemOID": "IT.ADAE.ADT", "name": "ADT", "label": "Analysis Date", "dataType": "date",
         "targetDataType": "integer", "displayFormat": "DATE9."},
    ]  # fmt: skip
    assert lines[1:] == [
        '["S1","S1-001","2014-01-02",0.30000000000000004,34,"2014-01-02"]',
        '["S1","S1-002","2014-02-03",null,61,null]',
        '["S1",null,null,-1.5e-07,null,"1960-01-01"]',
    ]


def test_json_form_and_reader(tmp_path: Path) -> None:
    meta = dataset_metadata(frame(), "ADAE", "AE Analysis", VARIABLES)
    path = write_dataset_json(frame(), meta, tmp_path / "adae.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["rows"][2] == ["S1", None, None, -1.5e-07, None, "1960-01-01"]
    back, read_meta = read_dataset_json(path)
    assert list(back.columns) == ["STUDYID", "USUBJID", "AESTDTC", "AVAL", "AGE", "ADT"]
    assert back["USUBJID"].tolist() == ["S1-001", "S1-002", ""]
    assert back["AVAL"].iloc[0] == 0.1 + 0.2  # full precision
    assert np.isnan(back["AVAL"].iloc[1])
    assert back["ADT"].iloc[0] == 19725.0
    assert back["ADT"].iloc[2] == 0.0
    assert read_meta.columns == meta.columns


def test_xpt_to_dataset_json_to_xpt_is_byte_identical(tmp_path: Path) -> None:
    write_xpt(frame(), tmp_path / "a.xpt", dataset="ADAE", label="AE Analysis", variables=VARIABLES)
    df, xmeta = read_xpt(tmp_path / "a.xpt")
    for suffix in (".json", ".ndjson"):
        meta = dataset_metadata(df, xmeta.dataset, xmeta.label, xmeta.variables)
        write_dataset_json(df, meta, tmp_path / f"a{suffix}")
        back, jmeta = read_dataset_json(tmp_path / f"a{suffix}")
        xm = jmeta.xpt_metadata()
        write_xpt(back, tmp_path / "b.xpt", dataset=xm.dataset, label=xm.label,
                  variables=xm.variables)  # fmt: skip
        assert (tmp_path / "b.xpt").read_bytes() == (tmp_path / "a.xpt").read_bytes()


def test_reruns_are_byte_identical(tmp_path: Path) -> None:
    meta = dataset_metadata(frame(), "ADAE", "AE Analysis", VARIABLES)
    first = write_dataset_json(frame(), meta, tmp_path / "a.ndjson").read_bytes()
    second = write_dataset_json(frame(), meta, tmp_path / "b.ndjson").read_bytes()
    assert first == second
    assert json.loads(first.splitlines()[0])["datasetJSONCreationDateTime"] in (
        "2000-01-01T00:00:00",  # SOURCE_DATE_EPOCH unset
        json.loads(second.splitlines()[0])["datasetJSONCreationDateTime"],
    )


def test_partial_dates_and_non_ascii_text_stay_strings(tmp_path: Path) -> None:
    df = pd.DataFrame({"MHSTDTC": ["2014-01", "2014-01-02"], "MHTERM": ["頭痛", "fièvre"]})
    variables = [XptVariable("MHSTDTC", "Start", "Char"), XptVariable("MHTERM", "Term", "Char")]
    meta = dataset_metadata(df, "MH", "Medical History", variables)
    assert [c.data_type for c in meta.columns] == ["string", "string"]
    assert [c.length for c in meta.columns] == [10, 7]  # UTF-8 bytes of "fièvre"
    path = write_dataset_json(df, meta, tmp_path / "mh.ndjson")
    assert path.read_text(encoding="utf-8").splitlines()[1] == '["2014-01","頭痛"]'
    back, _ = read_dataset_json(path)
    assert back["MHTERM"].tolist() == ["頭痛", "fièvre"]


def test_write_dataset_writes_each_format_and_names_its_define(tmp_path: Path) -> None:
    files = write_dataset(frame(), tmp_path, dataset="ADAE", label="AE Analysis",
                          variables=VARIABLES, formats=("ndjson", "xpt", "json"))  # fmt: skip
    assert [p.name for p in files] == ["adae.xpt", "adae.json", "adae.ndjson"]
    refs = [read_dataset_json(p)[1].study.metadata_ref for p in files[1:]]
    assert refs == ["define-json.xml", "define-ndjson.xml"]
    xpt_frame, xpt_meta = read_dataset(files[0], text="category")
    for path in files[1:]:
        json_frame, json_meta = read_dataset(path, text="category")
        pd.testing.assert_frame_equal(json_frame, xpt_frame)
        assert json_meta.variables == xpt_meta.variables


def test_formats_and_define_names() -> None:
    assert parse_formats(["json,xpt"]) == ("xpt", "json")
    assert parse_formats(["ndjson", "json"]) == ("json", "ndjson")
    assert define_file("json", ("xpt", "json")) == "define-json.xml"
    assert define_file("json", ("json",)) == "define.xml"
    with pytest.raises(DatasetJsonError, match="unknown dataset format"):
        parse_formats(["xpt,sas7bdat"])


# ------------------------------------------------------------------ errors name the place


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


HEADER = (
    '{"datasetJSONCreationDateTime":"2024-01-01T00:00:00","datasetJSONVersion":"1.1.0",'
    '"itemGroupOID":"IG.DM","records":2,"name":"DM","label":"Demographics","columns":['
    '{"itemOID":"IT.DM.USUBJID","name":"USUBJID","label":"Subject","dataType":"string"},'
    '{"itemOID":"IT.DM.AGE","name":"AGE","label":"Age","dataType":"integer"}]}'
)


def test_short_row_names_the_line(tmp_path: Path) -> None:
    path = _write_text(tmp_path / "dm.ndjson", HEADER + '\n["A",1]\n["B"]\n')
    with pytest.raises(DatasetJsonError) as info:
        read_dataset_json(path)
    assert "dm.ndjson" in str(info.value) and "row 3" in str(info.value)
    assert "1 values; the columns are 2" in str(info.value)


def test_wrong_type_names_row_and_column(tmp_path: Path) -> None:
    path = _write_text(tmp_path / "dm.ndjson", HEADER + '\n["A",1]\n["B","forty"]\n')
    with pytest.raises(DatasetJsonError) as info:
        read_dataset_json(path)
    assert "row 3" in str(info.value) and "AGE" in str(info.value)
    assert "'forty' is not a number" in str(info.value)


def test_record_count_mismatch_and_bad_json(tmp_path: Path) -> None:
    path = _write_text(tmp_path / "dm.ndjson", HEADER + '\n["A",1]\n')
    with pytest.raises(DatasetJsonError, match="records says 2 but the file has 1 rows"):
        read_dataset_json(path)
    path = _write_text(tmp_path / "dm.json", '{"name": ')
    with pytest.raises(DatasetJsonError, match="not valid JSON") as info:
        read_dataset_json(path)
    assert "dm.json" in str(info.value)


def test_unknown_suffix_and_column_mismatch(tmp_path: Path) -> None:
    meta = dataset_metadata(frame(), "ADAE", "AE Analysis", VARIABLES)
    with pytest.raises(DatasetJsonError, match="unknown Dataset-JSON suffix"):
        write_dataset_json(frame(), meta, tmp_path / "adae.txt")
    with pytest.raises(DatasetJsonError, match="AGE are declared but not in the DataFrame"):
        write_dataset_json(frame().drop(columns="AGE"), meta, tmp_path / "adae.json")
    assert not (tmp_path / "adae.json").exists()


def test_infinity_is_refused_with_the_column(tmp_path: Path) -> None:
    df = frame().assign(AVAL=[1.0, np.inf, 2.0])
    meta = dataset_metadata(df, "ADAE", "AE Analysis", VARIABLES)
    with pytest.raises(DatasetJsonError, match="JSON has no infinities") as info:
        write_dataset_json(df, meta, tmp_path / "adae.json")
    assert "AVAL" in str(info.value)


def test_non_text_in_a_text_column_is_refused(tmp_path: Path) -> None:
    df = frame().astype({"USUBJID": object})
    df.loc[1, "USUBJID"] = 7
    with pytest.raises(DatasetJsonError, match="non-text value 7") as info:
        dataset_metadata(df, "ADAE", "AE Analysis", VARIABLES)
    assert "USUBJID" in str(info.value) and "ADAE" in str(info.value)


def test_version_1_0_is_refused(tmp_path: Path) -> None:
    path = _write_text(tmp_path / "dm.json", HEADER.replace('"1.1.0"', '"1.0.0"'))
    with pytest.raises(DatasetJsonError, match=r"reads Dataset-JSON 1\.1 only") as info:
        read_dataset_json(path)
    assert "dm.json" in str(info.value)


def test_validate_reports_an_unreadable_dataset_json(tmp_path: Path) -> None:
    from cdisc_mapper.validate.engine import read_package

    sdtm = tmp_path / "sdtm"
    sdtm.mkdir()
    _write_text(sdtm / "dm.ndjson", HEADER + '\n["A"]\n["B",2]\n')
    package = read_package(tmp_path)  # what check SD0017 reports
    assert package.datasets == {}
    [unreadable] = package.unreadable
    assert unreadable.file == "sdtm/dm.ndjson" and unreadable.name == "DM"
    assert "row 2" in unreadable.message and "1 values; the columns are 2" in unreadable.message


# ------------------------------------------------------------------ property: round trip

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53).map(float)
)


@settings(deadline=None, max_examples=60)
@given(
    texts=st.lists(st.one_of(text, st.none()), min_size=1, max_size=8),
    values=st.lists(st.one_of(numbers, st.none()), min_size=8, max_size=8),
    suffix=st.sampled_from([".json", ".ndjson"]),
)
def test_any_values_read_back_as_written(
    tmp_path_factory: pytest.TempPathFactory, texts: list, values: list, suffix: str
) -> None:
    n = len(texts)
    df = pd.DataFrame(
        {
            "TXT": pd.Series(texts, dtype=object),
            "NUM": pd.Series(values[:n], dtype=float),
        }
    )
    variables = [XptVariable("TXT", "Text", "Char"), XptVariable("NUM", "Number", "Num")]
    meta = dataset_metadata(df, "XX", "Anything", variables)
    path = write_dataset_json(df, meta, tmp_path_factory.mktemp("p") / f"xx{suffix}")
    back, _ = read_dataset_json(path)
    assert back["TXT"].tolist() == [(t or "").rstrip(" ") for t in texts]
    want = df["NUM"].to_numpy()
    got = back["NUM"].to_numpy()
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(got[~np.isnan(got)], want[~np.isnan(want)])


def test_cli_refuses_an_unknown_format(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cdisc_mapper.cli import main

    result = CliRunner().invoke(
        main, ["sdtm", "--raw", str(tmp_path), "--out", str(tmp_path), "--format", "xpt,sas"]
    )
    assert result.exit_code == 2
    assert "--format" in result.output and "unknown dataset format(s) sas" in result.output
    assert not (tmp_path / "sdtm").exists()
