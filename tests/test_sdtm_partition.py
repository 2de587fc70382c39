"""Mapping by parts of the subjects (cdisc_mapper.sdtm.partition): the parts, and the
same bytes and the same errors as the serial run, in processes and on Dask."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cdisc_mapper.cli import main
from cdisc_mapper.errors import MappingError
from cdisc_mapper.raw import RawForm
from cdisc_mapper.sdtm.partition import part_count, split_forms, subject_ranges
from cdisc_mapper.sdtm.pipeline import Execution, build_sdtm, run_sdtm
from cdisc_mapper.sdtm.rawparts import part_total
from tests.conftest import STUDY


def form(name: str, subjects: list[str], rows: list[int] | None = None) -> RawForm:
    index = rows if rows is not None else list(range(2, 2 + len(subjects)))
    data = pd.DataFrame({"PT_ID": subjects, "X": [f"x{i}" for i in index]}, index=index)
    return RawForm(name=name, path=Path(f"{name}.csv"), data=data, written=f"{name}.csv")


def same_files(a: Path, b: Path) -> list[str]:
    """The files of folder ``a`` whose bytes differ in ``b`` (or that ``b`` lacks)."""
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    return [n for n in names if (a / n).read_bytes() != (b / n).read_bytes()]


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2) as executor:
        yield executor


# ------------------------------------------------------------------------------ the parts


def test_parts_are_sorted_subject_ranges_balanced_by_records():
    # records per subject: A 3, B 1, C 2, D 2 (8 in all): half is 4, reached after B
    forms = {
        "a.csv": form("a", ["C", "A", "A", "D"]),
        "b.csv": form("b", ["A", "B", "D", "C"]),
    }
    assert subject_ranges(forms, "PT_ID", 2) == ["C"]
    first, second = split_forms(forms, "PT_ID", 2)
    assert list(first["a.csv"].data["PT_ID"]) == ["A", "A"]
    assert list(first["a.csv"].data.index) == [3, 4]  # file row numbers kept
    assert list(second["a.csv"].data["PT_ID"]) == ["C", "D"]
    assert list(second["a.csv"].data.index) == [2, 5]
    assert list(first["b.csv"].data["PT_ID"]) == ["A", "B"]
    assert list(second["b.csv"].data["PT_ID"]) == ["D", "C"]  # file order within a part
    assert second["b.csv"].file == "b.csv"


def test_more_parts_than_subjects_gives_one_part_per_subject():
    forms = {"a.csv": form("a", ["S2", "S1", "S1"])}
    parts = split_forms(forms, "PT_ID", 8)
    assert [list(p["a.csv"].data["PT_ID"]) for p in parts] == [["S1", "S1"], ["S2"]]


def test_parts_hold_at_most_the_given_subjects():
    forms = {"a.csv": form("a", ["S1", "S2", "S3", "S3"]), "b.csv": form("b", ["S4", "S1"])}
    assert part_count(forms, "PT_ID", 1, None) == 1
    assert part_count(forms, "PT_ID", 1, 2) == 2  # 4 subjects, 2 a part
    assert part_count(forms, "PT_ID", 1, 3) == 2  # 4 / 3 rounded up
    assert part_count(forms, "PT_ID", 3, 2) == 3  # never fewer than the workers
    assert part_count(forms, "PT_ID", 2, 1) == 4  # 4 a part of 1: a multiple of 2 workers
    assert part_count(forms, "PT_ID", 3, 1) == 6  # 4, rounded up to 2 rounds of 3 workers


def test_parts_are_a_multiple_of_the_workers():
    # 10,000 subjects of at most 2,000 a part: 5 parts, 6 on 2 workers (3 rounds of 2)
    assert part_total(10_000, 1, 2000) == 5
    assert part_total(10_000, 2, 2000) == 6
    assert part_total(10_000, 4, 2000) == 8
    assert part_total(10_000, 2, None) == 2
    assert part_total(3, 2, 2000) == 2


def test_consumed_forms_are_cut_once():
    forms = {"a.csv": form("a", ["S1", "S2"]), "b.csv": form("b", ["S2", "S1"])}
    parts = split_forms(forms, "PT_ID", 2, consume=True)
    assert forms == {}  # each form taken out as it was cut
    assert [list(p["b.csv"].data["PT_ID"]) for p in parts] == [["S1"], ["S2"]]


def test_one_subject_or_a_form_without_the_subject_column_is_one_part():
    one = {"a.csv": form("a", ["S1", "S1"])}
    assert split_forms(one, "PT_ID", 2) == [one]
    no_column = {"a.csv": form("a", ["S1", "S2"]), "b.csv": form("b", ["S1", "S2"])}
    no_column["b.csv"].data.columns = ["SUBJ", "X"]
    assert split_forms(no_column, "PT_ID", 2) == [no_column]


# ------------------------------------------------------------------ same bytes, same errors


def test_two_processes_write_the_serial_bytes(demo_sdtm, demo_raw, pool, tmp_path, caplog):
    serial_out, _ = demo_sdtm
    with caplog.at_level(logging.DEBUG, logger="cdisc_mapper.sdtm"):
        run_sdtm(
            STUDY,
            demo_raw,
            tmp_path,
            lambda _: None,
            execution=Execution(pool, 2, worker_subjects=0),
        )
    messages = [r.getMessage() for r in caplog.records]
    assert "mapping 2 parts of the subjects" in messages
    assert not [m for m in messages if "serially" in m]  # no fallback: the parts ran
    assert same_files(serial_out / "sdtm", tmp_path / "sdtm") == []


def test_parts_of_three_subjects_here_write_the_serial_bytes(demo_sdtm, demo_raw, tmp_path, caplog):
    serial_out, _ = demo_sdtm
    with caplog.at_level(logging.DEBUG, logger="cdisc_mapper.sdtm"):
        result = run_sdtm(
            STUDY, demo_raw, tmp_path, lambda _: None, execution=Execution(part_subjects=3)
        )
    messages = [r.getMessage() for r in caplog.records]
    assert "mapping 7 parts of the subjects" in messages  # 20 subjects, 3 a part
    assert not [m for m in messages if "serially" in m]
    assert same_files(serial_out / "sdtm", tmp_path / "sdtm") == []
    assert [p.name for p in tmp_path.iterdir()] == ["sdtm"]  # the parts' folder is gone
    assert sorted(result.datasets) == sorted(demo_sdtm[1].datasets)
    assert result.reconciliation == demo_sdtm[1].reconciliation
    assert result.files == [tmp_path / "sdtm" / p.name for p in demo_sdtm[1].files]


def test_progress_by_parts_reads_as_the_serial_run(demo_raw, tmp_path):
    serial: list[str] = []
    parted: list[str] = []
    run_sdtm(STUDY, demo_raw, tmp_path / "a", serial.append)
    run_sdtm(STUDY, demo_raw, tmp_path / "b", parted.append, execution=Execution(part_subjects=5))
    assert [m.replace(str(tmp_path / "b"), "OUT") for m in parted] == [
        m.replace(str(tmp_path / "a"), "OUT") for m in serial
    ]


def test_progress_reads_as_the_serial_run(demo_raw, pool, tmp_path):
    said: list[str] = []
    run_sdtm(
        STUDY, demo_raw, tmp_path, said.append, execution=Execution(pool, 2, worker_subjects=0)
    )
    assert said[0] == "AE: reading adverse_events"
    assert "DM: reading enrollment" in said and "SE: subject elements" in said
    assert said.count("DM: reading enrollment") == 1


@pytest.fixture()
def raw_copy(demo_raw: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "raw"
    shutil.copytree(demo_raw, dst)
    return dst


def bad_gender(raw: Path, rows: list[int]) -> None:
    """GENDER 'Mle' (not in codelist SEX) on the given 0-based data rows of enrollment."""
    path = raw / "enrollment.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[rows, "GENDER"] = "Mle"
    df.to_csv(path, index=False, lineterminator="\n")


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # the last subject (020) is in the second part: file row 21 (header is row 1)
        ([19], "in 1 record(s): enrollment.csv row 21: 'Mle'"),
        ([0, 19], "in 2 record(s): enrollment.csv row 2: 'Mle'; enrollment.csv row 21: 'Mle'"),
    ],
)
def test_a_bad_value_in_the_second_part_reads_as_serially(raw_copy, pool, tmp_path, rows, expected):
    bad_gender(raw_copy, rows)
    with pytest.raises(MappingError) as serial:
        run_sdtm(STUDY, raw_copy, tmp_path / "serial", lambda _: None)
    for execution in (Execution(pool, 2, worker_subjects=0), Execution(part_subjects=4)):
        out = tmp_path / f"parts{execution.parts}"
        with pytest.raises(MappingError) as parted:
            run_sdtm(STUDY, raw_copy, out, lambda _: None, execution=execution)
        assert str(parted.value) == str(serial.value)
        assert "DM.SEX" in str(parted.value) and expected in str(parted.value)
        assert "dm.yaml" in str(parted.value)  # the spec line
        assert not (out / "sdtm").exists()
        assert not list(out.iterdir()) if out.exists() else True  # nor the parts' folder


class BrokenExecutor(Executor):
    """An executor whose workers are gone (as a crashed process pool's are)."""

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        raise RuntimeError("worker lost")

    def submit(self, fn, /, *args, **kwargs):
        raise RuntimeError("worker lost")


def test_a_failed_executor_falls_back_to_the_serial_run(demo_sdtm, demo_raw, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="cdisc_mapper.sdtm"):
        broken = Execution(BrokenExecutor(), 2)
        run_sdtm(STUDY, demo_raw, tmp_path, lambda _: None, execution=broken)
    assert [r.getMessage() for r in caplog.records] == [
        "mapping by parts failed (RuntimeError('worker lost')); mapping serially"
    ]
    assert same_files(demo_sdtm[0] / "sdtm", tmp_path / "sdtm") == []


class NoProcesses(ProcessPoolExecutor):
    """A process pool that must not be used: handing it any work fails the test."""

    def submit(self, fn, /, *args, **kwargs):
        raise AssertionError("a worker process was asked for")

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        raise AssertionError("a worker process was asked for")


def test_a_small_study_maps_here_starting_no_process(demo_sdtm, demo_raw, tmp_path, caplog):
    # the demo's 20 subjects on 2 workers: under WORKER_SUBJECTS (500) per worker
    pool = NoProcesses(2)
    try:
        with caplog.at_level(logging.DEBUG, logger="cdisc_mapper.sdtm"):
            run_sdtm(STUDY, demo_raw, tmp_path / "a", lambda _: None, execution=Execution(pool, 2))
            built = build_sdtm(STUDY, demo_raw, lambda _: None, execution=Execution(pool, 2))
        assert pool._processes == {}  # none started
    finally:
        pool.shutdown()
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "parts of the subjects" in m or "serially" in m]
    assert same_files(demo_sdtm[0] / "sdtm", tmp_path / "a" / "sdtm") == []
    assert sorted(built.datasets) == sorted(demo_sdtm[1].datasets)


def test_the_pool_is_used_from_the_given_subjects_per_worker():
    pool = NoProcesses(2)
    try:
        given = Execution(pool, 2, 2000)
        assert given.for_subjects(999) == Execution(None, 1, 2000)  # 500 a worker needed
        assert given.for_subjects(1000) is given
        assert Execution(pool, 2, worker_subjects=10).for_subjects(20).executor is pool
        assert Execution(pool, 2, worker_subjects=10).for_subjects(19).executor is None
    finally:
        pool.shutdown()
    dask_like = BrokenExecutor()  # any other executor (a Dask cluster) is always used
    assert Execution(dask_like, 2).for_subjects(3).executor is dask_like


@pytest.mark.slow
def test_three_hundred_subjects_in_small_parts_write_the_serial_bytes(pool, tmp_path):
    from cdisc_mapper.simulate import simulate

    simulate(tmp_path / "raw", 300)
    run_sdtm(STUDY, tmp_path / "raw", tmp_path / "serial", lambda _: None)
    for name, parts in {
        "here": Execution(part_subjects=40),
        "pool": Execution(pool, 2, 60, worker_subjects=0),
    }.items():
        run_sdtm(STUDY, tmp_path / "raw", tmp_path / name, lambda _: None, execution=parts)
        assert same_files(tmp_path / "serial" / "sdtm", tmp_path / name / "sdtm") == []


# ------------------------------------------------------------------------ command line, Dask


def test_cli_workers_two_writes_the_serial_bytes(demo_sdtm, demo_raw, tmp_path):
    res = CliRunner().invoke(
        main, ["-q", "sdtm", "--raw", str(demo_raw), "--out", str(tmp_path), "--workers", "2"]
    )
    assert res.exit_code == 0, res.output
    assert same_files(demo_sdtm[0] / "sdtm", tmp_path / "sdtm") == []


def test_cli_scheduler_must_be_a_dask_address(demo_raw, tmp_path):
    args = ["sdtm", "--raw", str(demo_raw), "--out", str(tmp_path), "--scheduler", "host:8786"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1
    assert "--scheduler: 'host:8786' is not a Dask scheduler address" in res.stderr
    assert "dask://HOST:PORT" in res.stderr


def test_dask_local_cluster_writes_the_serial_bytes(demo_sdtm, demo_raw, tmp_path, caplog):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, caplog.at_level(logging.DEBUG, logger="cdisc_mapper.sdtm"):
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        args = ["sdtm", "--raw", str(demo_raw), "--out", str(tmp_path), "--scheduler", address]
        res = CliRunner().invoke(main, ["-q", *args])
    assert res.exit_code == 0, res.output
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("cdisc_mapper")]
    assert "mapping 2 parts of the subjects" in messages  # the cluster's 2 threads
    assert not [m for m in messages if "serially" in m]
    assert same_files(demo_sdtm[0] / "sdtm", tmp_path / "sdtm") == []


def test_dask_one_worker_in_small_parts_writes_the_serial_bytes(
    demo_sdtm, demo_raw, tmp_path, caplog
):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, caplog.at_level(logging.DEBUG, logger="cdisc_mapper.sdtm"):
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        args = ["sdtm", "--raw", str(demo_raw), "--out", str(tmp_path), "--scheduler", address]
        res = CliRunner().invoke(main, ["-q", *args, "--part-subjects", "6"])
    assert res.exit_code == 0, res.output
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("cdisc_mapper")]
    assert "mapping 4 parts of the subjects" in messages  # 20 subjects, 6 a part
    assert not [m for m in messages if "serially" in m]
    assert same_files(demo_sdtm[0] / "sdtm", tmp_path / "sdtm") == []


def test_dataset_json_by_parts_gives_the_serial_bytes(demo_raw, tmp_path, caplog):
    formats = ("xpt", "json", "ndjson")
    run_sdtm(STUDY, demo_raw, tmp_path / "serial", lambda _: None, formats=formats)
    parts = Execution(part_subjects=6)
    with caplog.at_level(logging.DEBUG, logger="cdisc_mapper.sdtm"):
        run_sdtm(STUDY, demo_raw, tmp_path / "parts", lambda _: None, formats, parts)
    assert not [r for r in caplog.records if "serially" in r.getMessage()]
    assert same_files(tmp_path / "serial" / "sdtm", tmp_path / "parts" / "sdtm") == []
    assert len(list((tmp_path / "parts" / "sdtm").glob("*.ndjson"))) > 10
