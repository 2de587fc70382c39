"""define's datasets read in worker processes (cdisc_mapper.define.parallel): the files
written are byte-identical to a run in one process, a small package is read without
starting any process, whatever a worker fails at is done again here (so an error names
its file as in a serial run), and Ctrl-C or SIGTERM ends the run with its workers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from cdisc_mapper.define import parallel, pipeline
from cdisc_mapper.define.parallel import Profiler, package_bytes, profiler
from cdisc_mapper.define.profile import profile_dataset
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.publish import LOCK_FILE
from tests.conftest import STUDY

WRITTEN = ("define.xml", "define.html", "define2-1.xsl")


@pytest.fixture(scope="module")
def datasets(demo_sdtm: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's SDTM and ADaM datasets (no define.xml), in a folder of this module."""
    from cdisc_mapper.adam import run_adam

    out = tmp_path_factory.mktemp("parallel") / "out"
    (out / "sdtm").mkdir(parents=True)
    for xpt in (demo_sdtm[0] / "sdtm").glob("*.xpt"):
        shutil.copy(xpt, out / "sdtm" / xpt.name)
    run_adam(STUDY, out / "sdtm", out)
    return out


def _copy(datasets: Path, to: Path) -> Path:
    for kind in ("sdtm", "adam"):
        (to / kind).mkdir(parents=True)
        for xpt in (datasets / kind).glob("*.xpt"):
            shutil.copy(xpt, to / kind / xpt.name)
    return to


def _define(out: Path, **kwargs: Any) -> list[Path]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pipeline.write_define(STUDY, out, **kwargs)


@pytest.fixture(scope="module")
def serial(datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package with its define.xml files written in one process."""
    out = _copy(datasets, tmp_path_factory.mktemp("serial") / "out")
    _define(out, workers=1)
    return out


def test_two_workers_write_the_same_bytes_as_one_process(
    datasets: Path, serial: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the threshold lowered by its parameter, so that this small package is read by
    # workers; the files handed to them are counted (what they return is not replaced)
    handed: list[str] = []
    start = Profiler.start

    def counted(self: Profiler, folder: Path, joint: Any) -> None:
        start(self, folder, joint)
        handed.extend(p.name for p in self._futures if p.parent == folder)

    monkeypatch.setattr(Profiler, "start", counted)
    out = _copy(datasets, tmp_path / "out")
    _define(out, workers=2, parallel_bytes=0)
    files = sorted(p.name for p in (datasets / "sdtm").glob("*.xpt"))
    files += sorted(p.name for p in (datasets / "adam").glob("*.xpt"))
    assert sorted(handed) == sorted(files), "every dataset handed to the workers"
    for kind in ("sdtm", "adam"):
        names = sorted(p.name for p in (serial / kind).iterdir())
        assert sorted(p.name for p in (out / kind).iterdir()) == names
        for name in names:
            assert (out / kind / name).read_bytes() == (serial / kind / name).read_bytes(), name
    assert "acrf.pdf" in os.listdir(out / "sdtm")


def test_a_package_under_the_threshold_is_read_here(datasets: Path) -> None:
    folders = [datasets / "sdtm", datasets / "adam"]
    size = sum(os.path.getsize(p) for f in folders for p in f.glob("*.xpt"))
    assert package_bytes(folders) == size
    assert size < parallel.PARALLEL_BYTES, "the demo is below the threshold"
    with profiler(2, folders) as reader:
        assert not reader.parallel and reader.executor is None
    with profiler(1, folders, parallel_bytes=0) as reader:
        assert not reader.parallel, "one worker: no process either"
    with profiler(2, folders, parallel_bytes=size) as reader:
        assert reader.parallel, "at the threshold: workers"


def test_a_small_run_with_the_default_workers_starts_no_process(
    datasets: Path, serial: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a process pool was started")

    monkeypatch.setattr(parallel, "process_pool", refused)
    out = _copy(datasets, tmp_path / "out")
    _define(out, workers=2)
    for kind in ("sdtm", "adam"):
        for name in WRITTEN:
            assert (out / kind / name).read_bytes() == (serial / kind / name).read_bytes()


def _cut(path: Path) -> None:
    """The last observation of an XPT file cut short (80 bytes off its end)."""
    data = path.read_bytes()
    path.write_bytes(data[:-80])


def test_an_error_in_a_worker_names_the_file_as_a_serial_run_does(
    datasets: Path, tmp_path: Path
) -> None:
    messages = []
    for workers, threshold in ((1, parallel.PARALLEL_BYTES), (2, 0)):
        out = _copy(datasets, tmp_path / f"out{workers}")
        _cut(out / "adam" / "adae.xpt")
        with pytest.raises(CdiscMapperError) as caught:
            _define(out, workers=workers, parallel_bytes=threshold)
        messages.append(str(caught.value).replace(str(out), "OUT"))
        assert not (out / "adam" / "define.xml").exists(), "nothing published"
    assert "adae.xpt" in messages[0]
    assert messages[1] == messages[0]


class _FailingExecutor(Executor):
    """An executor whose every task fails as a worker that died would."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(RuntimeError("worker died"))
        return future


def test_what_a_worker_fails_at_is_read_here(datasets: Path) -> None:
    path = datasets / "adam" / "adsl.xpt"
    reader = Profiler(_FailingExecutor())
    reader.start(datasets / "adam", lambda _path: lambda _columns: [])
    assert path in reader._futures
    got = reader.profile(path, None)
    want = profile_dataset(path, None)
    assert got.rows == want.rows and got.groups == want.groups
    assert got.frame.equals(want.frame)
    assert not reader._futures.get(path), "taken once"


class _OneWorker(Executor):
    """A pool whose one worker starts the first file handed to it and finishes it after
    ``delay`` seconds; the other files wait in its queue (none is started)."""

    def __init__(self, delay: float) -> None:
        self.delay, self.started = delay, False

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        if not self.started:
            self.started = True
            future.set_running_or_notify_cancel()
            finish = threading.Timer(self.delay, lambda: future.set_result(fn(*args)))
            finish.start()
        return future


def test_while_waiting_for_a_worker_this_process_reads_the_queued_files(
    datasets: Path, tmp_path: Path
) -> None:
    adam = _copy(datasets, tmp_path / "out") / "adam"
    _cut(adam / "adae.xpt")
    reader = Profiler(_OneWorker(delay=1.0))
    reader.start(adam, lambda _path: lambda _columns: [])
    first = next(iter(reader._futures))  # the largest, started by the worker
    assert first.name == max(adam.glob("*.xpt"), key=lambda p: p.stat().st_size).name
    got = reader.profile(first, None)
    assert got.frame.equals(profile_dataset(first, None).frame)
    assert reader._read, "queued files read here while the worker read the first"
    assert set(reader._read) | set(reader._futures) == set(adam.glob("*.xpt")) - {first}
    adsl = adam / "adsl.xpt"
    assert reader.profile(adsl, None).frame.equals(profile_dataset(adsl, None).frame)
    # the cut file's error, met ahead of its turn, is raised in its turn, as here
    with pytest.raises(CdiscMapperError) as here:
        profile_dataset(adam / "adae.xpt", None)
    with pytest.raises(CdiscMapperError) as ahead:
        reader.profile(adam / "adae.xpt", None)
    assert str(ahead.value) == str(here.value) and "adae.xpt" in str(ahead.value)


def test_an_interrupt_cancels_the_files_not_started(datasets: Path) -> None:
    # the pool is shut down, not left running, when the run is interrupted
    with pytest.raises(KeyboardInterrupt), profiler(2, [datasets / "adam"], parallel_bytes=0) as r:
        r.start(datasets / "adam", lambda _path: lambda _columns: [])
        pool = r.executor
        raise KeyboardInterrupt
    assert isinstance(pool, ProcessPoolExecutor)
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(print)


WAITING_DEFINE = """
import sys, time
from pathlib import Path
from cdisc_mapper.define import parallel
parallel.PARALLEL_BYTES = 0  # before the pipeline is imported: the demo read by workers
from cdisc_mapper.cli import main

profile = parallel.Profiler.profile


def profile_then_wait(self, path, joint):
    found = profile(self, path, joint)
    Path(sys.argv[1]).write_text(" ".join(str(p.pid) for p in self.executor._processes.values()))
    time.sleep(600)  # the test's signal arrives here, with the workers started
    return found


parallel.Profiler.profile = profile_then_wait
main(sys.argv[2:], prog_name="cdisc-mapper")
"""


def _gone(pids: list[int]) -> bool:
    give_up_at = time.monotonic() + 30
    while time.monotonic() < give_up_at:
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C", "SIGKILL"])
def test_a_run_signalled_while_workers_read_ends_with_them(
    serial: Path, tmp_path: Path, how: str
) -> None:
    out = tmp_path / "out"
    shutil.copytree(serial, out)
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    started = tmp_path / "started"
    command = [sys.executable, "-c", WAITING_DEFINE, str(started), "define", "--workers", "2"]
    proc = subprocess.Popen(
        [*command, "--study", str(STUDY), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a command
    )
    give_up_at = time.monotonic() + 120
    while not started.exists() or not started.read_text():
        if proc.poll() is not None or time.monotonic() > give_up_at:
            proc.kill()
            pytest.fail(f"the run ended first ({proc.returncode}): {proc.stderr.read()}")  # type: ignore[union-attr]
        time.sleep(0.01)
    workers = [int(pid) for pid in started.read_text().split()]
    assert len(workers) == 2
    if how == "SIGKILL":  # the workers end by themselves; the next run settles the rest
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
        assert _gone(workers), "no worker left behind by a killed run"
        assert (out / "sdtm" / "define.xml").read_bytes() == before[out / "sdtm" / "define.xml"]
        return
    if how == "SIGTERM":
        proc.send_signal(signal.SIGTERM)
    else:  # Ctrl-C reaches the whole process group: the workers too
        os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if how == "SIGTERM":
        assert proc.returncode == 128 + signal.SIGTERM and "Terminated" in err, err
    else:
        assert proc.returncode == 1 and "Aborted" in err, err
    assert "Traceback" not in err, "no worker reports the interrupt"
    assert _gone(workers), "the workers ended with the run"
    after = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert after == before, "the package as it was: no staging folder, no lock"
    assert not (out / LOCK_FILE).exists()
