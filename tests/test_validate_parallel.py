"""Validating in several processes (cdisc_mapper.validate.parallel): the report is the
serial run's byte for byte, a small package is checked in this process, a skip or the
findings limit merge as the serial run applies them, the memory rule, and an input error
met by a process is raised with its location."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

import pytest

from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.publish import LOCK_FILE
from cdisc_mapper.validate import (
    ERROR,
    Finding,
    ValidationInputError,
    read_package,
    validate_package,
    write_reports,
)
from cdisc_mapper.validate import parallel as parallel_module
from cdisc_mapper.validate.context import Context
from cdisc_mapper.validate.engine import _context, _selected
from cdisc_mapper.validate.parallel import (
    Block,
    Shared,
    Workers,
    check_share,
    merge,
    portable,
    processes_for,
)
from cdisc_mapper.validate.registry import get_check
from cdisc_mapper.validate.runs import Run
from tests.conftest import SHARED
from tests.validate_pkg import write_dataset

PILOT = SHARED / "reference" / "cdisc-pilot-msg2"
needs_pilot = pytest.mark.skipif(not PILOT.is_dir(), reason="CDISC pilot package not present")


def _reports(report, folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in write_reports(report, folder)}


def _package(root: Path) -> Path:
    """Three datasets with findings: DM, AE (a duplicate key, blank terms) and LB."""
    subjects = [f"S-{i}" for i in range(1, 9)]
    write_dataset(
        root / "sdtm",
        "DM",
        {
            "STUDYID": ["ST"] * 8,
            "DOMAIN": ["DM"] * 8,
            "USUBJID": subjects,
            "SUBJID": [s[2:] for s in subjects],
            "RFSTDTC": ["2020-01-01"] * 7 + ["2020-13-01"],
            "SEX": ["M", "F", "X", "M", "F", "M", "F", "U"],
        },
    )
    write_dataset(
        root / "sdtm",
        "AE",
        {
            "STUDYID": ["ST"] * 6,
            "DOMAIN": ["AE"] * 6,
            "USUBJID": ["S-1", "S-1", "S-2", "S-9", "S-3", "S-3"],
            "AESEQ": [1.0, 1.0, 1.0, 1.0, 1.0, 2.0],
            "AETERM": ["HEADACHE", "", "NAUSEA", "RASH", "", "FEVER"],
            "AESTDTC": ["2020-01-05", "2020-02-30", "2020-01-07", "2020", "x", "2020-01-09"],
        },
    )
    write_dataset(
        root / "sdtm",
        "LB",
        {
            "STUDYID": ["ST"] * 5,
            "DOMAIN": ["LB"] * 5,
            "USUBJID": ["S-1", "S-1", "S-2", "S-2", "S-10"],
            "LBSEQ": [1.0, 2.0, 1.0, 1.0, 1.0],
            "LBTESTCD": ["ALT", "ALT", "AST", "BAD CODE", "ALT"],
            "LBORRES": ["10", "", "12", "13", "9"],
        },
    )
    return root


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of processes of each :class:`Workers` started (so that a test of the
    run in processes cannot pass by running here)."""
    counts: list[int] = []
    start = Workers.__init__

    def counted(self, processes, *args, **kwargs):
        counts.append(processes)
        start(self, processes, *args, **kwargs)

    monkeypatch.setattr(Workers, "__init__", counted)
    return counts


def test_two_processes_give_the_serial_report_byte_for_byte(tmp_path, started):
    root = _package(tmp_path / "pkg")
    (root / "sdtm" / "xx.xpt").write_text("not a transport file\n" * 4)  # SD0017
    serial = validate_package(root, workers=1)
    assert serial.count("VX0001") == 0 and len(serial.findings) > 5  # something to merge
    assert serial.count("SD0017") == 1
    parallel = validate_package(root, workers=2, processes_from=0)
    assert started == [2]
    assert _reports(parallel, tmp_path / "two") == _reports(serial, tmp_path / "one")


def test_the_findings_limit_cuts_as_in_the_serial_run(tmp_path, started):
    root = _package(tmp_path / "pkg")
    serial = validate_package(root, limit=1, cache_bytes=0)
    assert any(r.suppressed for r in serial.checks)  # the limit cut some findings
    parallel = validate_package(root, limit=1, cache_bytes=0, workers=3, processes_from=0)
    assert started == [3]
    assert _reports(parallel, tmp_path / "two") == _reports(serial, tmp_path / "one")


@needs_pilot
def test_the_pilot_gives_the_serial_report_in_two_processes(tmp_path, started):
    defines = [PILOT / "sdtm" / "define.xml", PILOT / "adam" / "define.xml"]
    args = {"define": defines, "encoding": "WINDOWS-1252"}
    serial = validate_package(PILOT, **args)
    # every file read lazily too (screened, read in chunks, row contexts by read_rows)
    parallel = validate_package(PILOT, workers=2, processes_from=0, cache_bytes=0, **args)
    assert started == [2]
    assert serial.count("ID0002") > 1000  # beyond the limit: counted, not all listed
    assert _reports(parallel, tmp_path / "two") == _reports(serial, tmp_path / "one")


def test_a_small_package_is_checked_here_without_a_process(tmp_path, monkeypatch):
    root = _package(tmp_path / "pkg")

    def no_process(*args, **kwargs):
        raise AssertionError("a process was started for a small package")

    monkeypatch.setattr(parallel_module, "new_pool", no_process)
    report = validate_package(root, workers=2)  # 3 small files, far below PROCESSES_FROM
    assert report.datasets and multiprocessing.active_children() == []


def test_processes_for_counts_the_files_bytes(tmp_path):
    files = []
    for name, size in (("a", 300), ("b", 500), ("c", 200)):
        path = tmp_path / f"{name}.xpt"
        path.write_bytes(b" " * size)
        files.append(path)
    assert processes_for(files, 2, 1000) == 2  # 1000 bytes: enough
    assert processes_for(files, 2, 1001) == 1  # one byte short: here
    assert processes_for(files, 8, 0) == 3  # at most one process per file
    assert processes_for(files[:1], 2, 0) == 1
    assert processes_for(files, 1, 0) == 1


def test_a_check_registered_outside_the_validator_keeps_the_run_here():
    def local(ctx, ds):  # a new process would not have it
        pass

    spec = get_check("SD0002")
    assert portable([spec])
    assert not portable([spec, replace(spec, func=local)])


def _finding(check: str, dataset: str, record: int) -> Finding:
    return Finding(check, dataset, record, "X", "bad", ERROR)


def _ctx(tmp_path: Path, limit: int) -> Context:
    root = _package(tmp_path / "pkg")
    return _context(read_package(root), None, (), limit)


def test_absorb_keeps_what_the_limit_leaves_room_for(tmp_path):
    ctx = _ctx(tmp_path, limit=2)
    ctx.absorb([_finding("SD0002", "AE", 1)], [(("SD0002", "AE"), 1)])
    # another run found 3 more; only one fits under the limit of 2
    more = [_finding("SD0002", "AE", r) for r in (4, 5, 6)]
    ctx.absorb(more, [(("SD0002", "AE"), 3)])
    assert [f.record for f in ctx.findings] == [1, 4]
    assert (ctx.counts["SD0002"], ctx.suppressed["SD0002"], ctx.found[("SD0002", "AE")]) == (
        4,
        2,
        4,
    )


def test_merge_stops_a_check_after_a_skip_as_the_serial_run_does(tmp_path):
    ctx = _ctx(tmp_path, limit=10)
    run = Run(get_check("SD0002"))
    on_lb = Block("SD0002", True, None, (_finding("SD0002", "LB", 2),), ((("SD0002", "LB"), 1),))
    on_ae = Block("SD0002", True, None, (_finding("SD0002", "AE", 1),), ((("SD0002", "AE"), 1),))
    skip_dm = Block("SD0002", False, "no metadata", (), ())
    # name order AE, DM, LB: AE's finding counts, DM's skip stops the check before LB
    merge(ctx, [run], {"LB": (on_lb,), "DM": (skip_dm,), "AE": (on_ae,)})
    assert [(f.dataset, f.record) for f in ctx.findings] == [("AE", 1)]
    assert (run.ran, run.notes, run.stopped, ctx.counts["SD0002"]) == (
        True,
        ["no metadata"],
        True,
        1,
    )


def test_turns_whose_files_pass_the_allowance_wait_for_each_other():
    shared = Shared(multiprocessing.get_context("spawn"), together=10)
    sizes = [25, 6, 6, 3]
    running: list[int] = []
    most: list[int] = []
    taken: list[int] = []

    def process() -> None:
        while (index := shared.take(sizes, _running)) is not None:
            taken.append(index)
            running.append(sizes[index])
            most.append(sum(running))
            time.sleep(0.05)
            running.remove(sizes[index])
            shared.done(sizes[index])

    threads = [threading.Thread(target=process) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # each turn once; 25 (over the allowance) alone; 6 + 6 (or 6 + 6 + 3) never at once
    assert sorted(taken) == [0, 1, 2, 3] and taken[0] == 0
    assert max(m for m in most if m != 25) <= 10 and 25 in most


def _running() -> bool:
    return True


def test_a_turn_that_fits_is_taken_before_an_earlier_one_that_does_not():
    shared = Shared(multiprocessing.get_context("spawn"), together=10)
    sizes = [8, 6, 1, 0]
    assert shared.take(sizes, _running) == 0  # 8 running
    assert shared.take(sizes, _running) == 2  # 6 would pass 10: the 1 fits
    assert shared.take(sizes, _running) == 3  # a small file counts 0: always fits
    shared.done(8)
    assert shared.take(sizes, _running) == 1  # room now
    assert shared.take(sizes, _running) is None  # all taken


def test_a_process_waiting_for_room_stops_when_another_ended(monkeypatch):
    monkeypatch.setattr(parallel_module, "_LOOK_EVERY", 0.01)
    shared = Shared(multiprocessing.get_context("spawn"), together=10)
    assert shared.take([8, 6], _running) == 0  # a process killed in this turn never ends it
    with pytest.raises(CdiscMapperError, match="ended abruptly"):
        shared.take([8, 6], lambda: False)


def test_one_at_a_time_gives_the_same_report(tmp_path, monkeypatch, started):
    root = _package(tmp_path / "pkg")
    serial = validate_package(root)
    monkeypatch.setattr(parallel_module, "TOGETHER_BYTES", 0)
    # cache_bytes=0: every file counts against the allowance (none is read whole first)
    parallel = validate_package(root, workers=2, processes_from=0, cache_bytes=0)
    assert started == [2]
    assert _reports(parallel, tmp_path / "two") == _reports(serial, tmp_path / "one")


def test_the_turns_go_largest_file_first_and_small_files_do_not_count(tmp_path):
    ctx = _ctx(tmp_path, limit=10)
    sizes = {p.stem.upper(): p.stat().st_size for p in (ctx.root / "sdtm").glob("*.xpt")}
    job = parallel_module.job_of(ctx, [], 0, small=sizes["AE"])
    assert list(job.order) == sorted(sizes, key=lambda name: (-sizes[name], name))
    assert dict(zip(job.order, job.sizes, strict=True)) == {
        name: size if size > sizes["AE"] else 0 for name, size in sizes.items()
    }


def _changed_package(tmp_path: Path):
    """A package read lazily (every file screened), whose files then changed."""
    root = _package(tmp_path / "pkg")
    package = read_package(root, cache_bytes=0)
    for path in (root / "sdtm").glob("*.xpt"):
        os.utime(path, ns=(1, 1))
    ctx = _context(package, None, (), 1000)
    runs = [Run(s) for s in _selected(None) if not s.scope.package and s.id != "VX0001"]
    return package, ctx, runs


def test_a_worker_sends_back_an_input_error_with_its_location(tmp_path, monkeypatch):
    _, ctx, runs = _changed_package(tmp_path)
    shared = Shared(multiprocessing.get_context("spawn"), together=2**40)
    monkeypatch.setitem(parallel_module._WORKER, "shared", shared)
    job = parallel_module.job_of(ctx, runs, 0, 0)
    failure = check_share(job)  # as a worker process runs it
    assert isinstance(failure, parallel_module.Failure)
    error = failure.error()
    assert isinstance(error, ValidationInputError)
    assert str(error.where).startswith("sdtm/") and "cannot be read now" in error.message


def test_an_input_error_in_the_processes_ends_the_run_located_and_the_workers(tmp_path):
    package, ctx, runs = _changed_package(tmp_path)
    workers = Workers(2)
    with pytest.raises(ValidationInputError) as caught:
        try:
            workers.check(ctx, package.store, runs)
        except BaseException:
            workers.close(failed=True)
            raise
    assert str(caught.value.where).startswith("sdtm/")
    for process in workers.started:
        process.join(10)
        assert not process.is_alive()


PAUSED_WHILE_CHECKING = """
import multiprocessing
import sys
import time
from pathlib import Path

import cdisc_mapper.validate.engine as engine
import cdisc_mapper.validate.parallel as parallel
from cdisc_mapper.cli import main


def share_then_wait(*args, **kwargs):
    if multiprocessing.parent_process() is None:  # the main process notes the workers
        pids = [str(p.pid) for p in multiprocessing.active_children()]
        # written whole, then renamed: the test never reads a file still being written
        Path(sys.argv[-1], "workers.tmp").write_text(" ".join(pids))
        Path(sys.argv[-1], "workers.tmp").replace(Path(sys.argv[-1], "workers.txt"))
    time.sleep(600)  # the test's signal arrives here, while every process checks


# run as a file, so that the worker processes (spawned) run this too, as __mp_main__
parallel._share = share_then_wait
if __name__ == "__main__":
    engine.validate_package.__kwdefaults__["processes_from"] = 0  # a tiny package
    main(sys.argv[1:-1], prog_name="cdisc-mapper")
"""
"""``cdisc-mapper validate`` in processes whose shares of the checks wait (the main
process's after noting the worker processes' ids) for the test's signal."""


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize(
    ("signum", "code", "said"), [(signal.SIGINT, 1, "Aborted"), (signal.SIGTERM, 143, "Terminated")]
)
def test_an_interrupted_run_ends_its_workers_and_writes_nothing(tmp_path, signum, code, said):
    root = _package(tmp_path / "pkg")
    script = tmp_path / "paused.py"
    script.write_text(PAUSED_WHILE_CHECKING, encoding="utf-8")
    command = [sys.executable, str(script), "validate", str(root)]
    proc = subprocess.Popen(
        [*command, "--workers", "2", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C signals the whole group, as a terminal does
    )
    try:
        noted = tmp_path / "workers.txt"
        give_up_at = time.monotonic() + 120
        while not noted.exists() and proc.poll() is None and time.monotonic() < give_up_at:
            time.sleep(0.01)
        assert noted.exists(), proc.stderr.read()  # type: ignore[union-attr]
        workers = [int(pid) for pid in noted.read_text().split()]
        assert workers and all(_alive(pid) for pid in workers)
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == code and said in err, err
        assert "Traceback" not in err, err  # the workers ignore Ctrl-C: no noise from them
        give_up_at = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < give_up_at:
            time.sleep(0.01)
        assert not any(_alive(pid) for pid in workers)
    finally:
        if proc.poll() is None:  # a failed test leaves no process behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert not (root / "reports").exists() and not (root / LOCK_FILE).exists()


def test_a_worker_killed_ends_the_run_with_what_to_do():
    killed: Future[object] = Future()
    killed.set_exception(BrokenProcessPool("a process terminated abruptly"))
    with pytest.raises(CdiscMapperError) as caught:
        parallel_module._received(killed)  # type: ignore[arg-type]
    assert "ended abruptly" in caught.value.message and "--workers 1" in caught.value.hint
