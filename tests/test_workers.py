"""cdisc_mapper.workers: how every stage's worker processes start and end."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cdisc_mapper.workers import end_at_once, new_pool, process_pool

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")

_NOTED: dict[str, str] = {}


def _note(value: str) -> None:
    _NOTED["value"] = value


def _noted() -> str:
    return _NOTED.get("value", "")


def _handlers() -> tuple[object, object]:
    return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _gone(pid: int, seconds: float = 20) -> bool:
    give_up_at = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < give_up_at:
        time.sleep(0.02)
    return not _alive(pid)


@pytest.mark.parametrize("reuse", [True, False])
def test_a_worker_leaves_ctrl_c_to_the_parent_dies_on_sigterm_then_runs_the_initializer(
    reuse: bool,
) -> None:
    with process_pool(1, reuse=reuse, initializer=_note, initargs=("set up",)) as pool:
        assert pool.submit(_handlers).result() == (signal.SIG_IGN, signal.SIG_DFL)
        assert pool.submit(_noted).result() == "set up"


def test_a_pool_not_reused_starts_a_process_per_task() -> None:
    with process_pool(1, reuse=False) as pool:
        first, second = pool.submit(os.getpid).result(), pool.submit(os.getpid).result()
    assert first != second
    with process_pool(1) as pool:
        assert pool.submit(os.getpid).result() == pool.submit(os.getpid).result()


def test_an_error_here_cancels_the_tasks_not_started() -> None:
    with pytest.raises(KeyboardInterrupt), process_pool(1) as pool:
        running = pool.submit(time.sleep, 0.5)
        while not running.running():
            time.sleep(0.01)
        queued = [pool.submit(os.getpid) for _ in range(5)]
        raise KeyboardInterrupt
    assert running.done() and running.exception() is None, "the running task ended first"
    # the pool moves up to its workers + 1 tasks into its call queue ahead (no longer
    # cancellable): at least 3 of the 5 were cancelled
    assert sum(future.cancelled() for future in queued) >= 3
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(os.getpid)


def test_end_at_once_terminates_a_busy_worker() -> None:
    before = set(multiprocessing.active_children())
    pool = new_pool(1)
    worker = pool.submit(os.getpid).result()
    pool.submit(time.sleep, 600)
    started = time.monotonic()
    end_at_once(pool, set(multiprocessing.active_children()) - before)
    assert _gone(worker), "terminated, not waited for"
    assert time.monotonic() - started < 60


def test_a_pool_ends_its_workers_once_its_tasks_are_done() -> None:
    with process_pool(2) as pool:
        pids = {pool.submit(os.getpid).result() for _ in range(4)}
        done = pool.submit(sum, [1, 2, 3])
    assert done.result() == 6
    assert all(_gone(pid) for pid in pids)


KILLED_PARENT = """
import sys, time
from cdisc_mapper.workers import new_pool
import os

pool = new_pool(1)
print(pool.submit(os.getpid).result(), flush=True)
time.sleep(600)  # the test kills this process here
"""


def test_a_worker_ends_by_itself_when_its_parent_is_killed() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_PARENT], stdout=subprocess.PIPE, text=True
    )
    try:
        worker = int(proc.stdout.readline())  # type: ignore[union-attr]
        assert _alive(worker)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # adopted by init (or a subreaper), it sees its parent id change and ends
        assert _gone(worker), "no worker left waiting for work for ever"
    finally:
        proc.kill()
        proc.communicate()


def test_new_pool_runs_tasks_in_another_process() -> None:
    pool = new_pool(3)
    try:
        assert pool.submit(os.getpid).result() != os.getpid()
    finally:
        pool.shutdown()
