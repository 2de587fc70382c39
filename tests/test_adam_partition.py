"""Deriving ADaM by parts of the subjects (cdisc_mapper.adam.partition): what can be split,
the merge, and the same bytes and the same errors as the serial run, in processes and on
Dask."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cdisc_mapper.adam import build_adam, load_adam_specs, run_adam, write_adam
from cdisc_mapper.adam.engine import sdtm_needs
from cdisc_mapper.adam.model import AdamDataset, AdamVariable
from cdisc_mapper.adam.partition import (
    PartsDisagree,
    crossing_groupings,
    merge_dataset,
    read_needed,
    sdtm_records,
    split_records,
    worker_specs,
)
from cdisc_mapper.adam.sdtm import SdtmInput
from cdisc_mapper.cli import main
from cdisc_mapper.errors import MappingError
from cdisc_mapper.xpt import read_xpt, write_xpt
from tests.conftest import STUDY


def differing(a: Path, b: Path) -> list[str]:
    """The files of folder ``a`` whose bytes differ in ``b`` (or that ``b`` lacks)."""
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    return [n for n in names if (a / n).read_bytes() != (b / n).read_bytes()]


def same_outputs(serial: Path, parts: Path) -> None:
    for folder in ("adam", "reports"):
        assert differing(serial / folder, parts / folder) == [], folder


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def sdtm_dir(demo_sdtm) -> Path:
    return demo_sdtm[0] / "sdtm"


FORMATS = ("xpt", "ndjson")
SAID: list[str] = []
"""The serial run's progress messages."""


@pytest.fixture(scope="module")
def serial(sdtm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("adam_serial")
    SAID[:] = []
    run_adam(STUDY, sdtm_dir, out, progress=SAID.append, formats=FORMATS)
    return out


# ------------------------------------------------------------------ what can be split
def test_the_bundled_specs_group_within_subjects():
    assert crossing_groupings(load_adam_specs(STUDY)) == []


def test_a_grouping_without_usubjid_is_named_at_its_spec_line():
    specs = load_adam_specs(STUDY)
    aseq = specs.op_args[("ADQS", "ASEQ")]
    specs.op_args[("ADQS", "ASEQ")] = aseq.model_copy(update={"by": ["PARAMCD"]})
    found = crossing_groupings(specs)
    assert len(found) == 1 and found[0].endswith("adqs.yaml:66")


def test_a_part_gets_its_subjects_records_and_the_trial_design_whole(sdtm_dir):
    needs = {"DM": {"SEX": "adsl.yaml:1"}, "QS": {"QSTESTCD": "adqs.yaml:1"}, "TS": {}}
    records = read_needed(sdtm_dir, needs)
    assert list(records["dm.xpt"][0].columns) == ["USUBJID", "SEX"]  # what the specs read
    assert list(records["qs.xpt"][0].columns) == ["USUBJID", "QSSEQ", "QSTESTCD"]
    ids = sorted(records["dm.xpt"][0]["USUBJID"])
    qs = len(records["qs.xpt"][0])
    ts = len(records["ts.xpt"][0])
    first, second = split_records(records, [ids[5]])
    assert records == {}  # taken out as they are cut
    assert list(first["dm.xpt"][0]["USUBJID"]) == ids[:5]
    assert list(second["dm.xpt"][0]["USUBJID"]) == ids[5:]
    assert set(first["qs.xpt"][0]["USUBJID"]) == set(ids[:5])
    assert len(first["qs.xpt"][0]) + len(second["qs.xpt"][0]) == qs
    assert list(second["qs.xpt"][0].index) == list(range(len(second["qs.xpt"][0])))
    assert len(first["ts.xpt"][0]) == len(second["ts.xpt"][0]) == ts
    # a worker reads them as files of the folder; a file not given is not there
    part = SdtmInput(sdtm_dir, second)
    assert list(part.frame("DM", ["USUBJID"])["USUBJID"]) == ids[5:]
    assert part.declared("DM", "USUBJID").label == "Unique Subject Identifier"
    assert part.supp_qnams("AE") == {}
    assert not part.has(sdtm_dir / "ae.xpt")


# ------------------------------------------------------------------------- the merge
def part(ids: list[str], seq: list[float], length: int, vtype: str = "Char") -> AdamDataset:
    frame = pd.DataFrame(
        {"USUBJID": pd.Series(ids, dtype=object), "ASEQ": np.array(seq, dtype="float64")}
    )
    return AdamDataset(
        name="ADXX",
        label="X",
        structure="BDS",
        class_="BASIC DATA STRUCTURE",
        keys=["USUBJID", "ASEQ"],
        frame=frame,
        variables=[
            AdamVariable("USUBJID", "Unique Subject Identifier", vtype, length=length),  # type: ignore[arg-type]
            AdamVariable("ASEQ", "Analysis Sequence Number", "Num", length=8),
        ],
    )


def test_parts_in_key_order_are_concatenated_with_the_longest_length():
    empty = part([], [], 1)
    merged = merge_dataset([part(["A", "A"], [1, 2], 1), empty, part(["B10"], [1], 3)], False)
    assert merged.frame["USUBJID"].tolist() == ["A", "A", "B10"]
    assert merged.frame["ASEQ"].tolist() == [1.0, 2.0, 1.0]
    assert [v.length for v in merged.variables] == [3, 8]


def test_parts_out_of_key_order_or_sharing_a_key_or_a_type_do_not_merge():
    with pytest.raises(PartsDisagree, match="ADXX: the parts are not in the order of the keys"):
        merge_dataset([part(["B"], [1], 1), part(["A"], [1], 1)], False)
    with pytest.raises(PartsDisagree, match="not in the order of the keys"):
        merge_dataset([part(["A"], [1], 1), part(["A"], [1], 1)], False)
    with pytest.raises(PartsDisagree, match="ADXX: the parts' variables differ"):
        merge_dataset([part(["A"], [1], 1), part(["B"], [1], 1, vtype="Num")], False)


# ------------------------------------------------------------------ same bytes, same errors
def test_three_parts_in_two_processes_write_the_serial_bytes(
    sdtm_dir, serial, pool, tmp_path, caplog
):
    said: list[str] = []
    with caplog.at_level(logging.DEBUG, logger="cdisc_mapper.adam"):
        run_adam(STUDY, sdtm_dir, tmp_path, said.append, FORMATS, executor=pool, parts=3,
                 worker_records=0)  # fmt: skip
    messages = [r.getMessage() for r in caplog.records]
    assert "deriving 3 parts of the subjects" in messages
    assert not [m for m in messages if "serially" in m]
    same_outputs(serial, tmp_path)
    # progress reads as the serial run's
    assert [m.replace(str(tmp_path), "OUT") for m in said] == [
        m.replace(str(serial), "OUT") for m in SAID
    ]
    assert said[0].startswith("ADSL: subjects and SDTM-derived variables")
    assert said.count("ADQS: building") == 1


def duplicate_last_subject(sdtm: Path) -> str:
    """DM with its last record twice; the duplicated USUBJID."""
    frame, meta = read_xpt(sdtm / "dm.xpt")
    frame = pd.concat([frame, frame.iloc[-1:]], ignore_index=True)
    write_xpt(frame, sdtm / "dm.xpt", dataset="DM", label=meta.label, variables=meta.variables)
    return str(frame["USUBJID"].iloc[-1])


def test_an_error_in_the_last_part_reads_as_serially(sdtm_dir, pool, tmp_path):
    copy = tmp_path / "sdtm"
    shutil.copytree(sdtm_dir, copy)
    who = duplicate_last_subject(copy)
    with pytest.raises(MappingError) as alone:
        build_adam(STUDY, copy, lambda _: None)
    with pytest.raises(MappingError) as parted:
        build_adam(STUDY, copy, lambda _: None, executor=pool, parts=2, worker_records=0)
    assert str(parted.value) == str(alone.value)
    assert f"DM has 1 duplicate USUBJID values, e.g. {who}" in str(parted.value)
    assert "dm.xpt" in str(parted.value)


class BrokenExecutor(Executor):
    """An executor whose workers are gone (as a crashed process pool's are)."""

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        raise RuntimeError("worker lost")

    def submit(self, fn, /, *args, **kwargs):
        raise RuntimeError("worker lost")


def test_a_failed_executor_falls_back_to_the_serial_run(sdtm_dir, serial, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="cdisc_mapper.adam"):
        broken = BrokenExecutor()
        run_adam(STUDY, sdtm_dir, tmp_path, lambda _: None, FORMATS, executor=broken, parts=2)
    assert [r.getMessage() for r in caplog.records] == [
        "deriving by parts failed (RuntimeError('worker lost')); deriving serially"
    ]
    same_outputs(serial, tmp_path)


@pytest.mark.slow
def test_three_hundred_subjects_in_parts_of_sixty_write_the_serial_bytes(pool, tmp_path, caplog):
    from cdisc_mapper.sdtm.pipeline import run_sdtm
    from cdisc_mapper.simulate import simulate

    simulate(tmp_path / "raw", 300)
    run_sdtm(STUDY, tmp_path / "raw", tmp_path, lambda _: None)
    run_adam(STUDY, tmp_path / "sdtm", tmp_path / "serial", lambda _: None)
    with caplog.at_level(logging.DEBUG, logger="cdisc_mapper.adam"):
        result = build_adam(
            STUDY,
            tmp_path / "sdtm",
            lambda _: None,
            executor=pool,
            parts=2,
            part_subjects=60,
            worker_records=0,
        )
    write_adam(result, None, tmp_path / "parts")
    assert "deriving 5 parts of the subjects" in [r.getMessage() for r in caplog.records]
    same_outputs(tmp_path / "serial", tmp_path / "parts")


# ------------------------------------------------------------------------ command line, Dask
# (`--workers N` takes the process pool the sdtm command's tests cover)
def test_dask_local_cluster_writes_the_serial_bytes(sdtm_dir, serial, tmp_path, caplog):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    )
    with cluster, caplog.at_level(logging.DEBUG, logger="cdisc_mapper.adam"):
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        args = ["adam", "--sdtm", str(sdtm_dir), "--out", str(tmp_path), "--scheduler", address]
        args += ["--format", "xpt,ndjson"]
        res = CliRunner().invoke(main, ["-q", *args])
    assert res.exit_code == 0, res.output
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("cdisc_mapper")]
    assert "deriving 2 parts of the subjects" in messages  # the cluster's 2 threads
    assert not [m for m in messages if "serially" in m]
    same_outputs(serial, tmp_path)


# ------------------------------------------------------------- small studies: no workers
class PoolThatMustNotStart(ProcessPoolExecutor):
    """A process pool whose processes must not start: a task handed to it fails."""

    def submit(self, fn, /, *args, **kwargs):
        raise AssertionError("a worker process was started")


def test_sdtm_records_count_the_domains_read_that_have_subjects(sdtm_dir):
    needs = sdtm_needs(load_adam_specs(STUDY))
    # counted independently: every record of each domain read that has USUBJID
    expected = 0
    for domain in needs:
        path = sdtm_dir / f"{domain.lower()}.xpt"
        if path.is_file():
            frame, _ = read_xpt(path)
            expected += len(frame) if "USUBJID" in frame.columns else 0
    assert expected > 1000  # the demo's 20 subjects
    assert sdtm_records(sdtm_dir, needs) == expected


def test_a_small_study_derives_in_this_process_without_starting_a_worker(
    sdtm_dir, serial, tmp_path, caplog
):
    pool = PoolThatMustNotStart(2)
    with pool, caplog.at_level(logging.DEBUG, logger="cdisc_mapper.adam"):
        run_adam(STUDY, sdtm_dir, tmp_path / "run", lambda _: None, FORMATS, executor=pool,
                 parts=2)  # fmt: skip
        build_adam(STUDY, sdtm_dir, lambda _: None, executor=pool, parts=2)
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "failed" in m]
    assert [m for m in messages if "fewer than 1000000: deriving in this process" in m]
    same_outputs(serial, tmp_path / "run")


def test_a_study_at_the_threshold_hands_its_parts_to_the_pool(sdtm_dir, tmp_path, caplog):
    records = sdtm_records(sdtm_dir, sdtm_needs(load_adam_specs(STUDY)))
    pool = PoolThatMustNotStart(2)
    with pool, caplog.at_level(logging.WARNING, logger="cdisc_mapper.adam"):
        run_adam(STUDY, sdtm_dir, tmp_path, lambda _: None, executor=pool, parts=2,
                 worker_records=records)  # fmt: skip
    # the pool was used (and failed here, so the serial run derived the study)
    assert [r.getMessage() for r in caplog.records] == [
        "deriving by parts failed (AssertionError('a worker process was started')); "
        "deriving serially"
    ]


# ------------------------------------------------- figures drawn while parts are derived
def test_trajectories_drawn_from_the_leading_parts_are_the_serial_ones(
    sdtm_dir, pool, tmp_path, caplog
):
    # the figures draw the first 3 subjects of the population: the first of 4 parts
    # (5 subjects each) holds them, so they are drawn while the other parts are derived
    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    reports = study / "adam" / "reports.yaml"
    text = reports.read_text(encoding="utf-8")
    reports.write_text(text.replace("    figures:\n", "    figures:\n      max_subjects: 3\n"),
                       encoding="utf-8")  # fmt: skip
    run_adam(study, sdtm_dir, tmp_path / "serial", lambda _: None)
    with caplog.at_level(logging.DEBUG, logger="cdisc_mapper.adam"):
        run_adam(study, sdtm_dir, tmp_path / "parts", lambda _: None, executor=pool,
                 parts=2, part_subjects=5, worker_records=0)  # fmt: skip
    messages = [r.getMessage() for r in caplog.records]
    assert "deriving 4 parts of the subjects" in messages
    early = [m for m in messages if "trajectories drawn from the first" in m]
    assert early and early[0].startswith("progression_summary: ")
    assert int(early[0].split("first ")[1].split()[0]) < 4  # before the last part
    same_outputs(tmp_path / "serial", tmp_path / "parts")


def test_a_worker_loads_the_specs_once_and_again_when_a_file_changes(tmp_path):
    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    first = worker_specs(study)
    assert worker_specs(study) is first  # loaded once
    reports = study / "adam" / "reports.yaml"
    text = reports.read_text(encoding="utf-8")
    old = 'title: "Monthly progression rate: treatment intervals versus run-in"'
    assert old in text
    reports.write_text(text.replace(old, 'title: "Changed"'), encoding="utf-8")
    again = worker_specs(study)
    assert again is not first
    assert again.reports.progression_summaries[0].title == "Changed"
