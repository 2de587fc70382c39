"""The data profile define.xml is built from (cdisc_mapper.define.profile): representative
records read in chunks answer every question define.xml asks as the whole dataset does,
and define.xml made from profiles is byte-identical to define.xml made from whole frames."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.define import pipeline, profile
from cdisc_mapper.define.info import DatasetInfo, ValueLevelInfo, VarInfo
from cdisc_mapper.define.profile import (
    DataProfile,
    profile_dataset,
    representatives,
    uncovered,
)
from cdisc_mapper.define.writer import write_model
from cdisc_mapper.xpt import XptVariable, read_xpt, read_xpt_chunks, write_xpt

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"


def _lb(path: Path) -> Path:
    """A small LB-like file: 12 records, a test code with its decode, a result."""
    frame = pd.DataFrame(
        {
            "USUBJID": [f"S{i // 4}" for i in range(12)],
            "LBTESTCD": ["ALT", "AST", "ALT", "AST"] * 3,
            "LBTEST": ["Alanine", "Aspartate", "Alanine", "Aspartate"] * 3,
            "LBORRES": ["10", "20", "10", "NEG", "11", "20", "10", "20", "", "20", "10", "5.25"],
            "LBSTRESN": [10.0, 20, 10, np.nan, 11, 20, 10, 20, np.nan, 20, 10, 5.25],
        }
    )
    variables = [
        XptVariable("USUBJID", "Subject", "Char", 8),
        XptVariable("LBTESTCD", "Test code", "Char", 8),
        XptVariable("LBTEST", "Test", "Char", 40),
        XptVariable("LBORRES", "Result", "Char", 20),
        XptVariable("LBSTRESN", "Numeric result", "Num", 8),
    ]
    write_xpt(frame, path, dataset="LB", label="Laboratory", variables=variables)
    return path


def test_representatives_keep_the_first_record_of_each_combination() -> None:
    frame = pd.DataFrame({"A": ["x", "x", "y", "x"], "B": [1, 2, 1, 1], "C": ["p", "p", "p", "q"]})
    # groups {A}: records 0, 2; {A, B}: 0, 1, 2; {C}: 0, 3
    keep = representatives(frame, [frozenset("A"), frozenset("AB"), frozenset("C")])
    assert keep.tolist() == [True, True, True, True]
    keep = representatives(frame, [frozenset("A"), frozenset("C")])
    assert keep.tolist() == [True, False, True, True]


def test_groups_inside_a_wider_group_are_answered_by_it() -> None:
    a, ab, c, abc = frozenset("A"), frozenset("AB"), frozenset("C"), frozenset("ABC")
    assert profile.widest([a, ab, c, ab]) == [ab, c]
    assert profile.widest([a, ab, c, abc]) == [abc]
    # the first record of each A is among the first records of each (A, B): worked by hand
    frame = pd.DataFrame({"A": ["x", "x", "y", "x"], "B": [1, 2, 1, 1], "C": ["p", "p", "p", "q"]})
    assert representatives(frame, [a, ab]).tolist() == [True, True, True, False]


def test_chunks_are_the_whole_file(tmp_path: Path) -> None:
    path = _lb(tmp_path / "lb.xpt")
    meta, chunks = read_xpt_chunks(path, rows=5)
    parts = list(chunks)
    assert [len(p) for p in parts] == [5, 5, 2]
    whole, whole_meta = read_xpt(path)
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    assert meta == whole_meta


def test_chunks_of_a_file_without_records(tmp_path: Path) -> None:
    path = tmp_path / "ae.xpt"
    variables = [XptVariable("AETERM", "Term", "Char", 8)]
    write_xpt(pd.DataFrame({"AETERM": []}), path, dataset="AE", label="AE", variables=variables)
    meta, chunks = read_xpt_chunks(path, rows=5)
    assert [len(p) for p in chunks] == [0]
    assert meta.n_records == 0


def test_profile_read_in_chunks_answers_as_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profile, "CHUNK_ROWS", 5)
    path = _lb(tmp_path / "lb.xpt")
    found = profile_dataset(path, lambda columns: [{"LBTESTCD", "LBORRES"}])
    assert found.rows == 12
    frame = found.frame
    # worked out by hand from _lb: distinct results in file order, per test
    assert list(pd.unique(frame["LBORRES"])) == ["10", "20", "NEG", "11", "", "5.25"]
    alt = frame.loc[frame["LBTESTCD"] == "ALT", "LBORRES"]
    assert sorted(set(alt)) == ["", "10", "11"]
    ast = frame.loc[frame["LBTESTCD"] == "AST", "LBORRES"]
    assert sorted(set(ast)) == ["20", "5.25", "NEG"]
    assert sorted(frame["USUBJID"].unique()) == ["S0", "S1", "S2"]
    pairs = set(zip(frame["LBTESTCD"], frame["LBTEST"], strict=True))
    assert pairs == {("ALT", "Alanine"), ("AST", "Aspartate")}
    assert frame["LBSTRESN"].isna().sum() >= 1
    assert frame["LBORRES"].dtype == object and isinstance(frame["LBORRES"].iloc[0], str)


def test_a_value_level_the_profile_did_not_keep_together_is_named(tmp_path: Path) -> None:
    path = _lb(tmp_path / "lb.xpt")
    found = profile_dataset(path)
    level = ValueLevelInfo(where=(("LBTESTCD", "EQ", ("ALT",)),), origin=None)
    info = DatasetInfo(
        name="LB",
        path=path,
        frame=found.frame,
        meta=found.meta,
        domain="LB",
        structure="",
        class_="FINDINGS",
        purpose="Tabulation",
        keys=[],
        variables={"LBORRES": VarInfo("LBORRES", origin=None, value_levels=[level])},
    )
    assert uncovered(info, found) == [frozenset({"LBTESTCD", "LBORRES"})]
    kept = profile_dataset(path, lambda columns: [{"LBTESTCD", "LBORRES"}])
    assert uncovered(info, kept) == []


def _whole(path: Path, joint: object = None) -> DataProfile:
    """The old way: the whole dataset, every record."""
    frame, meta = read_xpt(path)
    return DataProfile(Path(path), meta, frame, len(frame), (frozenset(frame.columns),))


@pytest.fixture(scope="module")
def package(demo_sdtm, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("profile") / "out"
    (out / "sdtm").mkdir(parents=True)
    for xpt in (demo_sdtm[0] / "sdtm").glob("*.xpt"):
        shutil.copy(xpt, out / "sdtm" / xpt.name)
    from cdisc_mapper.adam import run_adam

    return out, run_adam(STUDY, out / "sdtm", out)


def _bytes(model: object, path: Path) -> bytes:
    return write_model(model, path).read_bytes()  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["sdtm", "adam"])
def test_define_from_profiles_is_define_from_whole_frames(
    package, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, adam = package
    monkeypatch.setattr(profile, "CHUNK_ROWS", 97)  # several chunks per large dataset

    def build(result: object) -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "sdtm":
                return pipeline.build_sdtm_model(STUDY, out / "sdtm")
            return pipeline.build_adam_model(STUDY, out / "adam", out / "sdtm", result)

    streamed = build(None)  # ADaM metadata from the specs, not rebuilt
    monkeypatch.setattr(pipeline, "profile_dataset", _whole)
    whole = build(adam)  # as before: whole frames, the ADaM run's metadata
    assert _bytes(streamed[0], tmp_path / "a.xml") == _bytes(whole[0], tmp_path / "b.xml")
    assert streamed[1] == whole[1]


def _distinct_subjects(path: Path, n: int) -> Path:
    """``n`` records, each with its own USUBJID (so every record is representative)."""
    frame = pd.DataFrame({"USUBJID": [f"S{i:03d}" for i in range(n)], "X": ["a"] * n})
    variables = [
        XptVariable("USUBJID", "Subject", "Char", 8),
        XptVariable("X", "Constant", "Char", 1),
    ]
    write_xpt(frame, path, dataset="XX", label="Distinct subjects", variables=variables)
    return path


def test_chunks_are_merged_when_they_double_the_records_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profile, "CHUNK_ROWS", 2)
    merged: list[int] = []
    real = profile._merged

    def counting(parts: list[pd.DataFrame], groups: object) -> pd.DataFrame:
        merged.append(sum(map(len, parts)))
        return real(parts, groups)  # type: ignore[arg-type]

    monkeypatch.setattr(profile, "_merged", counting)
    path = _distinct_subjects(tmp_path / "xx.xpt", 40)
    found = profile.profile_frames(path)  # the frame path (Dataset-JSON, not plain v5)
    # 20 chunks of 2 records: merged at 4, 8, 16 and 32 records held (twice those kept,
    # at least 2 x CHUNK_ROWS), then once at the end: 5 merges, not one per chunk
    assert merged == [4, 8, 16, 32, 40]
    assert found.frame["USUBJID"].tolist() == [f"S{i:03d}" for i in range(40)]
    assert found.rows == 40
