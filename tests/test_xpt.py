"""Tests of the SAS XPORT v5 writer: files are read back with pyreadstat and pandas."""

from __future__ import annotations

import re
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc_mapper.epoch import SourceDateError
from cdisc_mapper.errors import XptError
from cdisc_mapper.xpt import (
    XptVariable,
    XptWarning,
    check_xpt_metadata,
    metadata_problems,
    parse_format,
    read_xpt,
    write_xpt,
)
from cdisc_mapper.xpt.ibm import IbmRangeError, ibm_to_ieee, ieee_to_ibm
from cdisc_mapper.xpt.writer import header_timestamp

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "cdisc-pilot-msg2"

# pandas' XPORT reader (pandas 3.1) decodes IBM zero as 16**-65 = 5.397605e-79; it does
# so for SAS-written files too (e.g. CNSR=0 in the CDISC pilot ADTTE), so it is mapped
# back to 0 when comparing with what was written.
PANDAS_ZERO = 5.397605346934028e-79

DM_VARIABLES = [
    XptVariable("STUDYID", "Study Identifier", "Char"),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", length=20),
    XptVariable("AGE", "Age", "Num", format="8."),
    XptVariable("HEIGHT", "Height (cm)", "Num", format="8.2"),
    XptVariable("TRTSDT", "Date of First Exposure to Treatment", "Num", format="date9."),
    XptVariable("SEX", "Sex", "Char", format="$1."),
    XptVariable("COUNT", "Count", "Num"),
    XptVariable("NOTE", "Free Text", "Char"),
]


def dm_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "STUDYID": ["ALS-01", "ALS-01", "ALS-01", "ALS-01"],
            "USUBJID": ["ALS-01-001", "ALS-01-002", None, "ALS-01-004"],
            "AGE": [34, 71, np.nan, 0],
            "HEIGHT": [172.5, np.nan, 160.25, -0.125],
            "TRTSDT": [22646.0, 22700.0, np.nan, -1.0],
            "SEX": pd.array(["M", "F", pd.NA, "F"], dtype="string"),
            "COUNT": pd.array([1, None, 3, 2**53], dtype="Int64"),
            "NOTE": ["", "two  words", "trailing  ", np.nan],
        }
    )


def write(tmp_path: Path, df: pd.DataFrame, variables, dataset="DM", label="Demographics"):
    path = tmp_path / f"{dataset.lower()}.xpt"
    write_xpt(df, path, dataset=dataset, label=label, variables=variables)
    return path


def expected_char(values) -> list[str]:
    """What readers return for a written char column: blanks for missing, no trailing blanks."""
    return ["" if v is None or pd.isna(v) else str(v).rstrip(" ") for v in values]


def expected_num(values) -> np.ndarray:
    return pd.Series(values, dtype=object).astype("Float64").to_numpy(np.float64, na_value=np.nan)


def read_pandas(path: Path, n_records: int):
    """pandas.read_sas, bypassing its guess of the record count.

    pandas counts every all-blank 8-byte word of the last 80-byte record as padding,
    so it undercounts when the last records hold 8 aligned blanks (blank char values);
    the count is therefore set to the number of records written.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = pd.read_sas(path, format="xport", encoding="ascii", iterator=True)
    reader.nobs = n_records
    with reader:
        df = reader.read() if n_records else pd.DataFrame(columns=reader.columns)
    for field in reader.fields:
        if field["ntype"] == "numeric" and len(df):
            name = field["name"].decode()
            df[name] = df[name].astype(float).replace(PANDAS_ZERO, 0.0)
    return df, reader.fields, reader.member_info


def assert_frames_match(got: pd.DataFrame, df: pd.DataFrame, variables) -> None:
    assert list(got.columns) == [v.name for v in variables]
    assert len(got) == len(df)
    for v in variables:
        if v.type == "Char":
            assert list(got[v.name]) == expected_char(df[v.name]), v.name
        else:
            np.testing.assert_array_equal(
                got[v.name].to_numpy(np.float64), expected_num(df[v.name]), err_msg=v.name
            )


# ------------------------------------------------------------------ round trips


def test_round_trip_pyreadstat_and_pandas(tmp_path):
    df = dm_frame()
    path = write(tmp_path, df, DM_VARIABLES)
    data, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    assert meta.table_name == "DM"
    assert meta.file_label == "Demographics"
    assert meta.column_names == [v.name for v in DM_VARIABLES]
    assert meta.column_labels == [v.label for v in DM_VARIABLES]
    assert meta.readstat_variable_types == {
        v.name: "string" if v.type == "Char" else "double" for v in DM_VARIABLES
    }
    assert meta.variable_storage_width == {
        "STUDYID": 6, "USUBJID": 20, "AGE": 8, "HEIGHT": 8, "TRTSDT": 8, "SEX": 1,
        "COUNT": 8, "NOTE": 10,
    }  # fmt: skip
    # pyreadstat >= 1.3 reports the format with its period (DATE9.), older ones without
    formats = {k: v and v.rstrip(".") for k, v in meta.original_variable_types.items()}
    assert formats == {
        "STUDYID": None, "USUBJID": None, "AGE": "8", "HEIGHT": "8.2", "TRTSDT": "DATE9",
        "SEX": "$1", "COUNT": None, "NOTE": None,
    }  # fmt: skip
    assert_frames_match(data, df, DM_VARIABLES)

    got, fields, member = read_pandas(path, len(df))
    assert_frames_match(got, df, DM_VARIABLES)
    assert (member["set_name"], member["label"]) == ("DM", "Demographics")
    assert [f["label"].decode() for f in fields] == [v.label for v in DM_VARIABLES]
    assert [(f["nform"], f["nfl"], f["num_decimals"]) for f in fields] == [
        (b"", 0, 0), (b"", 0, 0), (b"", 8, 0), (b"", 8, 2), (b"DATE", 9, 0), (b"$", 1, 0),
        (b"", 0, 0), (b"", 0, 0),
    ]  # fmt: skip
    assert [f["field_length"] for f in fields] == [6, 20, 8, 8, 8, 1, 8, 10]


def test_read_xpt_returns_writable_metadata(tmp_path):
    df = dm_frame()
    path = write(tmp_path, df, DM_VARIABLES)
    data, meta = read_xpt(path)
    assert meta.dataset == "DM" and meta.label == "Demographics"
    assert meta.n_records == 4
    assert meta.variable("trtsdt").format == "DATE9."
    assert [(v.name, v.type, v.length, v.format) for v in meta.variables] == [
        ("STUDYID", "Char", 6, None), ("USUBJID", "Char", 20, None), ("AGE", "Num", 8, "8."),
        ("HEIGHT", "Num", 8, "8.2"), ("TRTSDT", "Num", 8, "DATE9."), ("SEX", "Char", 1, "$1."),
        ("COUNT", "Num", 8, None), ("NOTE", "Char", 10, None),
    ]  # fmt: skip
    (tmp_path / "again").mkdir()
    again = write(tmp_path / "again", data, meta.variables)
    assert again.read_bytes() == path.read_bytes()


def test_pandas_record_count_unaided_for_typical_dataset(tmp_path):
    df = dm_frame().iloc[:3]
    path = write(tmp_path, df, DM_VARIABLES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = pd.read_sas(path, format="xport", encoding="ascii")
    assert len(got) == 3


def test_same_values_as_pyreadstat_writer(tmp_path):
    df = dm_frame().drop(columns=["COUNT", "SEX"])
    variables = [
        XptVariable(v.name, v.label, v.type, format=v.format)  # lengths from the data
        for v in DM_VARIABLES
        if v.name not in ("COUNT", "SEX")
    ]
    theirs = tmp_path / "theirs.xpt"
    pyreadstat.write_xport(
        df,
        str(theirs),
        file_format_version=5,
        table_name="DM",
        file_label="Demographics",
        column_labels=[v.label for v in variables],
        variable_format={v.name: str(parse_format(v.format)) for v in variables if v.format},
    )
    ours = write(tmp_path, df, variables)
    a, meta_a = pyreadstat.read_xport(str(ours), disable_datetime_conversion=True)
    b, meta_b = pyreadstat.read_xport(str(theirs), disable_datetime_conversion=True)
    pd.testing.assert_frame_equal(a, b)
    assert meta_a.column_labels == meta_b.column_labels
    assert meta_a.original_variable_types == meta_b.original_variable_types
    assert meta_a.file_label == meta_b.file_label and meta_a.table_name == meta_b.table_name
    assert meta_a.variable_storage_width == meta_b.variable_storage_width


def test_observation_bytes_equal_pyreadstat(tmp_path):
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "A": rng.normal(0, 1e6, 200).round(3),
            "B": [f"v{i % 13}" * (i % 5) for i in range(200)],
            "C": rng.integers(-(10**9), 10**9, 200).astype(float),
        }
    )
    df.loc[::17, "A"] = np.nan
    variables = [XptVariable("A", "a", "Num"), XptVariable("B", "b", "Char"),
                 XptVariable("C", "c", "Num")]  # fmt: skip
    ours = write(tmp_path, df, variables, dataset="T", label="t")
    theirs = tmp_path / "theirs.xpt"
    pyreadstat.write_xport(df, str(theirs), file_format_version=5, table_name="T")
    a, b = ours.read_bytes(), theirs.read_bytes()
    obs = b"HEADER RECORD*******OBS     "
    assert a[a.index(obs) :] == b[b.index(obs) :]


@st.composite
def frames(draw):
    n = draw(st.integers(0, 25))
    text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
    realistic = st.one_of(
        st.floats(min_value=-1e15, max_value=1e15, allow_nan=False),
        st.floats(min_value=-1e-6, max_value=1e-6),
    ).filter(lambda x: x == 0 or abs(x) > 1e-70)  # IBM floats stop at ~5.4e-79
    numbers = st.one_of(realistic, st.integers(-(2**53), 2**53).map(float), st.just(np.nan))
    n_char = draw(st.integers(0, 3))
    n_num = draw(st.integers(1, 3))  # a number (even missing) keeps every record non-blank
    columns: dict[str, list] = {}
    variables = []
    for i in range(n_char):
        values = draw(st.lists(st.one_of(text, st.none()), min_size=n, max_size=n))
        name = f"C{i}"
        columns[name] = values
        declared = draw(st.one_of(st.none(), st.integers(40, 200)))
        variables.append(XptVariable(name, f"char {i}", "Char", length=declared))
    for i in range(n_num):
        columns[f"N{i}"] = draw(st.lists(numbers, min_size=n, max_size=n))
        fmt = draw(st.sampled_from([None, "8.", "8.2", "DATE9.", "BEST12."]))
        variables.append(XptVariable(f"N{i}", f"num {i}", "Num", format=fmt))
    order = draw(st.permutations(variables))
    return pd.DataFrame(columns, columns=[v.name for v in order]).astype(
        {v.name: object for v in order if v.type == "Char"}
    ), list(order)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames())
def test_round_trip_property(tmp_path, frame):
    df, variables = frame
    path = write(tmp_path, df, variables, dataset="PROP", label="Property test")
    data, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True)
    assert_frames_match(data, df, variables)
    for v in variables:
        if v.type == "Char":
            longest = max((len(s) for s in expected_char(df[v.name])), default=0)
            assert meta.variable_storage_width[v.name] == (v.length or max(longest, 1))
        else:
            assert meta.variable_storage_width[v.name] == 8
    got, fields, _ = read_pandas(path, len(df))
    assert_frames_match(got, df, variables)
    assert [f["label"].decode() for f in fields] == [v.label for v in variables]


@given(
    st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda x: x == 0 or 5.4e-79 < abs(x) < 7.2e75
    )
)
def test_ieee_to_ibm_is_exact(x):
    assert ibm_to_ieee(ieee_to_ibm(np.array([x])))[0] == x


def test_ibm_known_patterns_and_range():
    bits = ieee_to_ibm(np.array([1.0, -118.625, 0.0, -0.0, np.nan, 100.0]))
    assert [f"{int(b):016X}" for b in bits] == [
        "4110000000000000", "C276A00000000000", "0000000000000000", "0000000000000000",
        "2E00000000000000", "4264000000000000",
    ]  # fmt: skip
    with pytest.raises(IbmRangeError) as info:
        ieee_to_ibm(np.array([1.0, np.inf, 1e-80, 8e75, -np.inf, 5e-324]))
    assert list(info.value.positions) == [1, 2, 3, 4, 5]


def test_empty_dataframe(tmp_path):
    variables = [
        XptVariable("STUDYID", "Study Identifier", "Char"),
        XptVariable("AETERM", "Reported Term", "Char", length=200),
        XptVariable("AESEQ", "Sequence Number", "Num"),
    ]
    df = pd.DataFrame({"STUDYID": pd.Series([], dtype=object), "AETERM": [], "AESEQ": []})
    path = write(tmp_path, df, variables, dataset="AE", label="Adverse Events")
    assert path.stat().st_size % 80 == 0
    data, meta = pyreadstat.read_xport(str(path))
    assert len(data) == 0 and meta.column_names == ["STUDYID", "AETERM", "AESEQ"]
    assert meta.variable_storage_width == {"STUDYID": 1, "AETERM": 200, "AESEQ": 8}
    got, fields, _ = read_pandas(path, 0)
    assert len(got) == 0 and [f["field_length"] for f in fields] == [1, 200, 8]


def test_trailing_blanks_are_padding(tmp_path):
    df = pd.DataFrame({"X": ["AB   ", " C", None], "N": [1.0, 2.0, 3.0]})
    variables = [XptVariable("X", "x", "Char", length=2), XptVariable("N", "n", "Num")]
    path = write(tmp_path, df, variables, dataset="T", label="t")
    data, meta = pyreadstat.read_xport(str(path))
    assert list(data.X) == ["AB", " C", ""]
    assert meta.variable_storage_width["X"] == 2


def test_numeric_inputs(tmp_path):
    df = pd.DataFrame(
        {
            "I": np.array([1, -2, 3], dtype=np.int32),
            "U": np.array([0, 7, 2**53], dtype=np.uint64),
            "F": np.array([0.5, np.nan, 1e10], dtype=np.float32),
            "NI": pd.array([1, None, -5], dtype="Int64"),
            "NF": pd.array([0.25, None, 2.5], dtype="Float64"),
            "O": pd.Series([1, 2.5, None], dtype=object),
            "ALLNA": pd.Series([None, None, None], dtype=object),
            "C": pd.Series([np.nan, np.nan, np.nan]),  # an all-missing column is blank text
        }
    )
    variables = [XptVariable(c, c.lower(), "Char" if c == "C" else "Num") for c in df.columns]
    path = write(tmp_path, df, variables, dataset="T", label="t")
    data, _ = pyreadstat.read_xport(str(path))
    assert data.I.tolist() == [1.0, -2.0, 3.0]
    assert data.U.tolist() == [0.0, 7.0, float(2**53)]
    assert data.F.tolist()[::2] == [0.5, 1e10] and np.isnan(data.F[1])
    assert data.NI.tolist()[::2] == [1.0, -5.0] and np.isnan(data.NI[1])
    assert data.NF.tolist()[::2] == [0.25, 2.5] and np.isnan(data.NF[1])
    assert data.O.tolist()[:2] == [1.0, 2.5] and np.isnan(data.O[2])
    assert data.ALLNA.isna().all()
    assert data.C.tolist() == ["", "", ""]


def test_short_numeric_length_only_when_exact(tmp_path):
    df = pd.DataFrame({"N": [1.0, 250.0, np.nan, 65535.0]})
    path = write(tmp_path, df, [XptVariable("N", "n", "Num", length=4)], dataset="T", label="t")
    data, meta = pyreadstat.read_xport(str(path))
    assert meta.variable_storage_width["N"] == 4
    np.testing.assert_array_equal(data.N, df.N)
    with pytest.raises(XptError, match=r"record 2.*0\.1.*declared numeric length 4"):
        write(tmp_path, pd.DataFrame({"N": [1.0, 0.1]}),
              [XptVariable("N", "n", "Num", length=4)], dataset="T", label="t")  # fmt: skip


def test_datetime_columns_are_converted(tmp_path):
    df = pd.DataFrame(
        {
            "ADT": pd.to_datetime(["1960-01-01", "2022-01-01", None, "1959-12-31"]),
            "ADTM": pd.to_datetime(["1960-01-01 00:00:01", "2022-01-01 08:30:00", None, None]),
            "ATM": pd.to_datetime(["2022-01-01 08:30:15", None, None, None]),
            "DUR": pd.to_timedelta(["01:00:00", None, "00:00:30", None]),
        }
    )
    variables = [
        XptVariable("ADT", "Analysis Date", "Num", format="DATE9."),
        XptVariable("ADTM", "Analysis Datetime", "Num", format="DATETIME20."),
        XptVariable("ATM", "Analysis Time", "Num", format="TIME8."),
        XptVariable("DUR", "Duration", "Num", format="TIME8."),
    ]
    path = write(tmp_path, df, variables, dataset="T", label="t")
    data, _ = read_xpt(path)
    np.testing.assert_array_equal(data.ADT, [0.0, 22646.0, np.nan, -1.0])
    np.testing.assert_array_equal(data.ADTM, [1.0, 22646 * 86400 + 8.5 * 3600, np.nan, np.nan])
    np.testing.assert_array_equal(data.ATM, [8.5 * 3600 + 15, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(data.DUR, [3600.0, np.nan, 30.0, np.nan])
    converted, _ = pyreadstat.read_xport(str(path))
    assert converted.ADT[1] == pd.Timestamp("2022-01-01").date()


# ------------------------------------------------------------------ determinism and layout


def test_byte_identical_and_fixed_timestamp(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = write(tmp_path, dm_frame(), DM_VARIABLES).read_bytes()
    second = write(tmp_path, dm_frame(), DM_VARIABLES).read_bytes()
    assert first == second
    assert first[144:160] == b"01JAN00:00:00:00"
    _, meta = read_xpt(tmp_path / "dm.xpt")
    assert meta.created == pd.Timestamp("2000-01-01").to_pydatetime()

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    stamped = write(tmp_path, dm_frame(), DM_VARIABLES).read_bytes()
    assert stamped[144:160] == b"14NOV23:22:13:20"
    assert stamped.count(b"14NOV23:22:13:20") == 4  # created + modified, library + member
    assert stamped.replace(b"14NOV23:22:13:20", b"01JAN00:00:00:00") == first


def test_bad_source_date_epoch():
    with pytest.raises(SourceDateError, match="SOURCE_DATE_EPOCH"):
        header_timestamp({"SOURCE_DATE_EPOCH": "yesterday"})
    with pytest.raises(XptError, match="2100"):
        header_timestamp({"SOURCE_DATE_EPOCH": "4102444800"})


def test_header_records_follow_ts140(tmp_path):
    raw = write(tmp_path, dm_frame(), DM_VARIABLES).read_bytes()
    records = [raw[i : i + 80] for i in range(0, len(raw), 80)]
    assert len(raw) % 80 == 0
    assert records[0] == (
        b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!000000000000000000000000000000  "
    )
    assert records[1].startswith(b"SAS     SAS     SASLIB  9.4     ")
    assert records[3] == (
        b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!000000000000000001600000000140  "
    )
    assert records[4].startswith(b"HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!0000")
    assert records[5].startswith(b"SAS     DM      SASDATA 9.4     ")
    assert records[6][32:72] == b"Demographics".ljust(40)
    assert records[7] == (
        b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000000800000000000000000000  "
    )
    namestrs = raw[640 : 640 + 8 * 140]
    first = struct.unpack(">hhhh8s40s8shhh2s8shhl52s", namestrs[:140])
    assert first[:5] == (2, 0, 6, 1, b"STUDYID ")
    fifth = struct.unpack(">hhhh8s40s8shhh2s8shhl52s", namestrs[4 * 140 : 5 * 140])
    assert fifth[0] == 1 and fifth[6:9] == (b"DATE    ", 9, 0) and fifth[14] == 6 + 20 + 8 + 8
    obs_at = 640 + 1120  # 8 namestrs = 1120 bytes, already a multiple of 80
    assert raw[obs_at : obs_at + 80] == (
        b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!000000000000000000000000000000  "
    )
    row_length = 6 + 20 + 8 + 8 + 8 + 1 + 8 + 10
    data = raw[obs_at + 80 :]
    assert len(data) == 4 * row_length + (-4 * row_length) % 80
    assert data[4 * row_length :].strip(b" ") == b""


def test_atomic_write_keeps_previous_file(tmp_path):
    path = write(tmp_path, dm_frame(), DM_VARIABLES)
    before = path.read_bytes()
    bad = dm_frame().assign(NOTE=["ok", "naïve", "", ""])
    with pytest.raises(XptError):
        write(tmp_path, bad, DM_VARIABLES)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["dm.xpt"]


def test_warns_when_last_record_is_blank(tmp_path):
    df = pd.DataFrame({"X": ["a", ""]})
    with pytest.warns(XptWarning, match="last record of T is entirely blank") as caught:
        write(tmp_path, df, [XptVariable("X", "x", "Char")], dataset="T", label="t")
    assert len([w for w in caught if issubclass(w.category, XptWarning)]) == 1


# ------------------------------------------------------------------ errors


def bad_write(tmp_path, column: str, values, **var_changes) -> XptError:
    df = dm_frame()
    df[column] = values
    variables = [
        XptVariable(**{**v.__dict__, **var_changes}) if v.name == column else v
        for v in DM_VARIABLES
    ]
    with pytest.raises(XptError) as info:
        write(tmp_path, df, variables)
    assert not (tmp_path / "dm.xpt").exists()
    return info.value


@pytest.mark.parametrize(
    ("column", "values", "changes", "expected"),
    [
        ("NOTE", ["ok", "x", "caf\u00e9", "fine"], {},
         r"column NOTE, dataset DM record 3: DM\.NOTE: value 'café' has non-ASCII character "
         r"'é' \(U\+00E9\) at byte 4"),
        ("NOTE", ["ok", "x" * 201, "", ""], {},
         r"column NOTE, dataset DM record 2 \(USUBJID ALS-01-002\): .*is 201 bytes; XPORT v5 "
         r"allows 200"),
        ("USUBJID", ["ALS-01-001", "ALS-01-002-TOO-LONG-ID", "x", "y"], {},
         r"record 2 \(USUBJID ALS-01-002-TOO-LONG-ID\).*22 bytes, longer than the declared "
         r"length 20"),
        ("NOTE", ["a", 5, 6, "b"], {},
         r"record 2 \(USUBJID ALS-01-002\).*DM\.NOTE: Char variable holds a non-string value 5 "
         r"\(int.*2 records affected"),
        ("NOTE", ["a", "b\x00", "", ""], {}, r"record 2.*NUL character"),
        ("AGE", [1, "12 years", 3, 4], {},
         r"record 2 \(USUBJID ALS-01-002\).*DM\.AGE: Num variable holds a non-numeric value "
         r"'12 years'"),
        ("AGE", pd.array(["1", "2", None, "3"], dtype="str"), {},
         r"record 1 \(USUBJID ALS-01-001\).*non-numeric value '1'"),
        ("AGE", [True, False, True, True], {}, r"record 1.*DM\.AGE: Num variable holds booleans"),
        ("AGE", [1.0, np.inf, 2.0, 3.0], {}, r"record 2.*value inf cannot be stored"),
        ("AGE", [1.0, 2.0, 1e-100, 3.0], {}, r"record 3: DM\.AGE: value 1e-100 cannot be stored"),
        ("AGE", [1, 2, 3, 2**53 + 1], {}, r"record 4.*integer 9007199254740993 cannot be stored"),
        ("AGE", pd.to_datetime(["2020-01-01 10:00", None, None, None]), {"format": "DATE9."},
         r"record 1.*has a time of day but the format DATE9\. stores whole days"),
        ("AGE", pd.to_datetime(["2020-01-01", None, None, None]), {"format": "8."},
         r"column is datetime64 but the format is 8\."),
    ],
)  # fmt: skip
def test_value_errors_name_the_place(tmp_path, column, values, changes, expected):
    error = bad_write(tmp_path, column, values, **changes)
    assert re.search(expected, str(error)), str(error)
    assert str(error).startswith(str(tmp_path / "dm.xpt"))
    assert error.hint


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "TOOLONGNM"}, r"TOOLONGNM.*9 characters; XPORT v5 allows 8"),
        ({"name": "bad-name"}, r"name 'bad-name' is invalid"),
        ({"name": "1ABC"}, r"name '1ABC' is invalid"),
        ({"label": "L" * 41}, r"column NOTE, dataset DM: label 'L+' is 41 characters"),
        ({"label": "Température"}, r"label 'Température' has a non-ASCII character 'é'"),
        ({"format": "$20."}, None),
        ({"format": "DATE9."}, r"format 'DATE9\.' is numeric but the variable is Char"),
        ({"format": "VERYLONGFMT12."}, r"format name 'VERYLONGFMT' is 11 characters"),
        ({"format": "not a format"}, r"is not a SAS format"),
        ({"length": 201}, r"Char length 201 is outside 1-200"),
        ({"length": 0}, r"Char length 0 is outside 1-200"),
        ({"type": "Text"}, r"type 'Text' is neither 'Char' nor 'Num'"),
    ],
)
def test_metadata_errors(tmp_path, changes, expected):
    df = dm_frame()
    name = changes.get("name", "NOTE")
    df = df.rename(columns={"NOTE": name})
    variables = [
        XptVariable(**{**v.__dict__, **changes}) if v.name == "NOTE" else v for v in DM_VARIABLES
    ]
    if expected is None:
        write(tmp_path, df, variables)
        return
    with pytest.raises(XptError) as info:
        write(tmp_path, df, variables)
    assert re.search(expected, str(info.value)), str(info.value)
    assert "dataset DM" in str(info.value)
    assert not (tmp_path / "dm.xpt").exists()


@pytest.mark.parametrize(
    ("dataset", "label", "expected"),
    [
        ("DEMOGRAPHICS", "Demographics", r"dataset name: name 'DEMOGRAPHICS' is 12 characters"),
        ("dm", "Demographics", r"dataset name: name 'dm' is invalid"),
        ("DM", "D" * 41, r"dataset label: label 'D+' is 41 characters"),
        ("DM", "Démographie", r"dataset label: .*non-ASCII"),
    ],
)
def test_dataset_metadata_errors(tmp_path, dataset, label, expected):
    with pytest.raises(XptError, match=expected):
        write_xpt(dm_frame(), tmp_path / "x.xpt", dataset=dataset, label=label,
                  variables=DM_VARIABLES)  # fmt: skip


def test_column_mismatch_errors(tmp_path):
    with pytest.raises(XptError, match=r"dataset DM: variables AGE are declared but not columns"):
        write(tmp_path, dm_frame().drop(columns="AGE"), DM_VARIABLES)
    with pytest.raises(XptError, match=r"columns EXTRA are not declared variables and would be "
                       r"dropped"):  # fmt: skip
        write(tmp_path, dm_frame().assign(EXTRA=1), DM_VARIABLES)
    with pytest.raises(XptError, match="duplicate columns AGE"):
        write(tmp_path, pd.concat([dm_frame(), dm_frame()[["AGE"]]], axis=1), DM_VARIABLES)


def test_record_numbers_are_positions_not_index_labels(tmp_path):
    df = dm_frame().set_index(pd.Index([10, 20, 30, 40]))
    df["NOTE"] = ["a", "b", "c", "d\u00b5"]
    with pytest.raises(XptError, match=r"record 4 \(USUBJID ALS-01-004\).*U\+00B5"):
        write(tmp_path, df, DM_VARIABLES)


def test_unwritable_path_is_an_xpt_error(tmp_path):
    with pytest.raises(XptError, match="cannot write the file"):
        write_xpt(dm_frame(), tmp_path / "missing" / "dm.xpt", dataset="DM",
                  label="Demographics", variables=DM_VARIABLES)  # fmt: skip


def test_check_xpt_metadata_lists_every_problem():
    variables = [
        XptVariable("OK", "fine", "Num"),
        XptVariable("WAYTOOLONG", "x" * 41, "Num", format="$5."),
        XptVariable("OK", "dup", "Char", length=300),
    ]
    problems = metadata_problems("DM", "Demographics", variables)
    assert [p.variable for p in problems] == ["WAYTOOLONG"] * 3 + ["OK", "OK"]
    expected = r"^dataset DM: 5 metadata problems: WAYTOOLONG: name 'WAYTOOLONG'"
    with pytest.raises(XptError, match=expected):
        check_xpt_metadata("DM", "Demographics", variables)
    check_xpt_metadata("DM", "Demographics", variables[:1])


@pytest.mark.parametrize(
    ("text", "name", "width", "decimals", "canonical"),
    [
        ("DATE9.", "DATE", 9, 0, "DATE9."),
        ("date9", "DATE", 9, 0, "DATE9."),
        ("$20.", "$", 20, 0, "$20."),
        ("8.2", "", 8, 2, "8.2"),
        ("BEST.", "BEST", 0, 0, "BEST."),
        ("E8601DA10.", "E8601DA", 10, 0, "E8601DA10."),
        ("$CHAR200.", "$CHAR", 200, 0, "$CHAR200."),
    ],
)
def test_parse_format(text, name, width, decimals, canonical):
    fmt = parse_format(text)
    assert (fmt.name, fmt.width, fmt.decimals, str(fmt)) == (name, width, decimals, canonical)


# ------------------------------------------------------------------ a SAS-written file


@pytest.mark.skipif(not (REFERENCE / "sdtm" / "dm.xpt").exists(), reason="reference data absent")
def test_sas_written_dm_round_trip(tmp_path):
    original = REFERENCE / "sdtm" / "dm.xpt"
    df, meta = read_xpt(original, encoding="WINDOWS-1252")
    assert meta.dataset == "DM" and meta.label == "Demographics" and len(df) == meta.n_records
    path = tmp_path / "dm.xpt"
    write_xpt(df, path, dataset=meta.dataset, label=meta.label, variables=meta.variables)
    again, meta_again = read_xpt(path, encoding="WINDOWS-1252")
    pd.testing.assert_frame_equal(again, df)
    assert meta_again.variables == meta.variables
    assert (meta_again.dataset, meta_again.label) == (meta.dataset, meta.label)
    # Beyond the header stamps and SAS version/OS, the file is what SAS wrote, byte for byte.
    sas, ours = original.read_bytes(), path.read_bytes()
    assert sas[0x280:] == ours[0x280:]
