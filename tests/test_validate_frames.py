"""Validating in bounded memory (cdisc_mapper.validate.frames and the engine's run order):
large files are screened and read when used, in row chunks, giving the reader's own
frame; frames are let go beyond a budget; and the report is the same whatever the budget
(``cache_bytes=0`` lets every frame go after its checks and reads every file lazily)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_mapper.validate import ERROR, read_package, scope, validate_package, write_reports
from cdisc_mapper.validate import frames as frames_module
from cdisc_mapper.validate import registry as registry_module
from cdisc_mapper.validate.errors import ValidationInputError
from cdisc_mapper.validate.frames import FrameStore, read_records, read_rows, screen, stamp
from cdisc_mapper.validate.registry import check
from cdisc_mapper.xpt import read_xpt
from cdisc_mapper.xpt.fastread import LayoutError
from tests.validate_pkg import write_dataset

# texts first seen in a different order in each 2-record chunk: the file's order is
# B, A, "", C (what read_xpt gives), not the order of any one chunk
TERMS = ["B", "A", "A", "", "C", "B", "A"]


def _lb(folder: Path) -> Path:
    return write_dataset(
        folder,
        "LB",
        {
            "STUDYID": ["ST"] * 7,
            "USUBJID": ["S-1", "S-1", "S-2", "S-2", "S-2", "S-3", "S-3"],
            "LBSEQ": [1.0, 2.0, 1.0, 2.0, 3.0, 1.0, None],
            "LBTESTCD": TERMS,
        },
    )


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames_module, "CHUNK_ROWS", 2)


def test_read_records_in_chunks_gives_the_readers_frame(tmp_path, small_chunks):
    path = _lb(tmp_path)
    expected, _ = read_xpt(path, text="category")
    got = read_records(path, None)
    pd.testing.assert_frame_equal(got, expected)
    assert list(got["LBTESTCD"].cat.categories) == ["B", "A", "", "C"]
    assert got["LBTESTCD"].cat.codes.tolist() == [0, 1, 1, 2, 3, 0, 1]
    assert np.isnan(got["LBSEQ"].iloc[6]) and got["LBSEQ"].iloc[4] == 3.0


def test_read_records_reads_only_the_columns_asked_in_that_order(tmp_path, small_chunks):
    got = read_records(_lb(tmp_path), None, ["LBTESTCD", "NOSUCH", "USUBJID"])
    assert list(got.columns) == ["LBTESTCD", "USUBJID"]
    assert got["USUBJID"].astype(str).tolist()[-2:] == ["S-3", "S-3"]


def test_screen_gives_the_header_of_a_plain_ascii_file(tmp_path):
    path = _lb(tmp_path)
    _, meta = read_xpt(path, text="category")
    assert screen(path, None) == meta
    assert screen(path, "WINDOWS-1252") == meta  # ASCII reads alike in it
    assert screen(path, "UTF-16") is None  # not ASCII-compatible: read whole


def test_screen_refuses_what_must_be_read_whole(tmp_path):
    accented = write_dataset(tmp_path, "AE", {"USUBJID": ["S-1"], "AETERM": ["CAFEX"]})
    accented.write_bytes(accented.read_bytes().replace(b"CAFEX", "CAFÉ".encode()))
    assert read_xpt(accented)[0]["AETERM"].tolist() == ["CAFÉ"]  # readable, but
    assert screen(accented, None) is None  # non-ASCII text may not decode: read whole
    empty = tmp_path / "empty.xpt"
    empty.write_bytes(b"")
    assert screen(empty, None) is None
    text = tmp_path / "text.xpt"
    text.write_bytes(b"not a transport file\n" * 8)
    assert screen(text, None) is None


class _Holder:
    """A stand-in dataset: a frame of ``size`` one-byte numbers."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.frame: pd.DataFrame | None = pd.DataFrame({"x": np.zeros(size, dtype=np.uint8)})

    def release(self) -> None:
        self.frame = None


def test_store_lets_the_least_recently_used_frames_go_beyond_its_budget():
    store = FrameStore(budget=100)
    a, b, c = _Holder("A", 40), _Holder("B", 40), _Holder("C", 40)
    store.loaded(a)
    store.loaded(b)
    store.used(a)  # B is now the least recently used
    store.loaded(c)  # 120 > 100: B goes
    assert (a.frame is not None, b.frame is None, c.frame is not None) == (True, True, True)
    assert store.held_bytes == 80


def test_store_holds_the_dataset_being_checked_apart_from_its_budget():
    store = FrameStore(budget=100)
    small, large, lookup = _Holder("DM", 30), _Holder("LB", 500), _Holder("SE", 60)
    store.loaded(small)
    with store.turn(large):
        store.loaded(large)  # held apart: DM stays
        store.loaded(lookup)  # 30 + 60 fit the budget beside LB
        store.used(small)  # LB's checks look DM up
        assert small.frame is not None and large.frame is not None
    assert large.frame is None  # larger than the budget: let go after its checks
    assert small.frame is not None and lookup.frame is not None
    with store.turn(small):
        pass
    assert small.frame is not None  # looked up by another dataset and fits: kept


def test_store_lets_a_dataset_nobody_looks_up_go_after_its_checks():
    store = FrameStore(budget=100)
    ae, dm = _Holder("AE", 30), _Holder("DM", 30)
    store.loaded(ae)
    store.loaded(dm)
    with store.turn(ae):
        store.used(ae)
    assert ae.frame is None and dm.frame is not None


def test_a_frame_larger_than_the_budget_read_for_a_look_up_stays_until_the_next_read():
    store = FrameStore(budget=100)
    small, large = _Holder("DM", 30), _Holder("QS", 500)
    store.loaded(small)
    store.loaded(large)
    assert small.frame is None and large.frame is not None
    store.loaded(_Holder("TS", 10))
    assert large.frame is None


def test_a_large_file_is_classified_from_its_header_and_read_when_used(tmp_path, small_chunks):
    _lb(tmp_path / "sdtm")
    package = read_package(tmp_path, cache_bytes=0)  # every file is "large"
    lb = package.datasets["LB"]
    assert (
        lb.frame is None and lb.n == 7 and lb.columns == ["STUDYID", "USUBJID", "LBSEQ", "LBTESTCD"]
    )
    assert (lb.class_, lb.seq_var, lb.has("LBTESTCD"), lb.var("TESTCD")) == (
        "Findings",
        "LBSEQ",
        True,
        "LBTESTCD",
    )
    picked = lb.select(["LBTESTCD"])
    assert lb.frame is None and list(picked.columns) == ["LBTESTCD"]  # only that column read
    expected, _ = read_xpt(tmp_path / "sdtm" / "lb.xpt", text="category")
    pd.testing.assert_frame_equal(lb.df, expected)


def _reports(root: Path, out: Path, **kwargs) -> dict[str, bytes]:
    report = validate_package(root, **kwargs)
    write_reports(report, out)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_the_report_does_not_depend_on_the_memory_budget(demo_sdtm, tmp_path):
    out, _ = demo_sdtm
    default = _reports(out, tmp_path / "default")
    lazy = _reports(out, tmp_path / "lazy", cache_bytes=0)
    assert default.keys() == {
        "validation.csv",
        "validation.html",
        "validation.json",
        "validation.xlsx",
    }
    assert lazy == default


def test_checks_run_dataset_by_dataset_as_each_would_alone(tmp_path, monkeypatch):
    """A check that skips on its second dataset keeps its first finding and stops there;
    one that crashes on AE is VX0001 on AE only; both meet the datasets in name order."""
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))
    sdtm = tmp_path / "pkg" / "sdtm"
    for name in ("AE", "CM", "DM"):
        write_dataset(sdtm, name, {"STUDYID": ["ST"], "DOMAIN": [name], "USUBJID": ["S-1"]})
    seen: list[str] = []

    @check("ZZ9998", ERROR, "test", "skips on its second dataset", scope=scope("SDTM"))
    def skips(ctx, ds):
        seen.append(ds.name)
        if len(seen) == 2:
            ctx.skip("second dataset")
        ctx.note("ran", dataset=ds.name)

    @check("ZZ9999", ERROR, "test", "crashes on AE", scope=scope("SDTM"))
    def crashes(ctx, ds):
        if ds.name == "AE":
            raise RuntimeError("boom")
        ctx.note("ran", dataset=ds.name)

    report = validate_package(tmp_path / "pkg", checks=["ZZ9998", "ZZ9999"], cache_bytes=0)
    assert seen == ["AE", "CM"]
    assert [(f.check_id, f.dataset) for f in report.findings] == [
        ("VX0001", "AE"),
        ("ZZ9998", "AE"),
        ("ZZ9999", "CM"),
        ("ZZ9999", "DM"),
    ]
    status = {r.spec.id: (r.status, r.note) for r in report.checks}
    assert status["ZZ9998"] == ("failed", "second dataset")
    assert status["ZZ9999"] == ("failed", "")


def test_a_file_that_does_not_decode_is_still_sd0017_with_any_budget(tmp_path):
    sdtm = tmp_path / "pkg" / "sdtm"
    write_dataset(sdtm, "DM", {"STUDYID": ["ST"], "DOMAIN": ["DM"], "USUBJID": ["S-1"]})
    path = write_dataset(sdtm, "AE", {"USUBJID": ["S-1"], "AETERM": ["QUOTE"]})
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"QUOTE", b"QUOT\x92"))  # Windows-1252 quote, not UTF-8

    def sd0017(**kwargs) -> list[tuple[str, str]]:
        report = validate_package(tmp_path / "pkg", **kwargs)
        assert [d.name for d in report.datasets] == ["DM"]
        return [(f.dataset, f.message) for f in report.by_check("SD0017")]

    found = sd0017(cache_bytes=0)
    assert len(found) == 1 and found[0][0] == "AE" and "byte 0x92 at offset" in found[0][1]
    assert found == sd0017()


def test_a_file_changed_after_it_was_screened_is_a_located_error(tmp_path):
    path = _lb(tmp_path / "sdtm")
    lb = read_package(tmp_path, cache_bytes=0).datasets["LB"]
    path.write_bytes(b"not a transport file any more\n" * 8)
    with pytest.raises(ValidationInputError) as caught:
        lb.df  # noqa: B018  (reading the records is the point)
    assert caught.value.where == "sdtm/lb.xpt"
    assert "was read at the start but cannot be read now" in caught.value.message


def test_a_screened_file_touched_since_is_not_trusted(tmp_path):
    path = _lb(tmp_path)
    before = stamp(path)
    assert screen(path, None) is not None
    os.utime(path, ns=(before[1] + 10**9, before[1] + 10**9))  # same bytes, newer
    with pytest.raises(LayoutError, match="changed since it was screened"):
        read_records(path, None, screened=before)
    assert read_records(path, None, screened=stamp(path))["LBSEQ"].iloc[4] == 3.0


def test_screen_refuses_a_file_with_a_second_member(tmp_path):
    path = _lb(tmp_path)
    raw = path.read_bytes()
    member = raw.index(b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!")
    path.write_bytes(raw + raw[member:])  # a second copy of the member
    assert screen(path, None) is None  # read whole (readstat) instead


def test_read_rows_reads_only_the_records_asked(tmp_path, small_chunks):
    path = _lb(tmp_path)
    got = read_rows(path, None, [5, 0, 3], ["LBTESTCD", "NOSUCH", "LBSEQ"], stamp(path))
    assert list(got.columns) == ["LBTESTCD", "LBSEQ"]
    assert got["LBTESTCD"].tolist() == ["B", "B", ""] and got["LBSEQ"].tolist() == [1.0, 1.0, 2.0]
    assert all(isinstance(v, str) for v in got["LBTESTCD"].tolist())  # texts as str


def test_a_dataset_gives_the_records_asked_held_or_not(tmp_path, small_chunks):
    _lb(tmp_path / "sdtm")
    lazy = read_package(tmp_path, cache_bytes=0).datasets["LB"]
    held = read_package(tmp_path).datasets["LB"]
    assert lazy.frame is None and held.frame is not None
    for ds in (lazy, held):
        rows = ds.rows([6, 1], ["USUBJID", "LBTESTCD"])
        assert rows.astype(object).values.tolist() == [["S-3", "A"], ["S-1", "A"]]
    assert lazy.frame is None  # only those records were read
