"""Worker processes of this machine, started the same way by every stage that shares out
its work (sdtm and adam by parts of the subjects, define by dataset files, validate by
datasets).

A worker

- leaves Ctrl-C to the command's own process: a terminal sends it to the whole process
  group, and the command then ends its workers (a worker taking it too would print its
  own traceback, or go on with a task while the command waits for it);
- dies at once on SIGTERM, not through the handler the command sets for itself, which a
  forked worker inherits (:mod:`cdisc_mapper.cli.running`);
- ends by itself once the command's process is gone: a killed command (SIGKILL, the
  out-of-memory killer) would otherwise leave forked workers waiting for work for ever,
  each holding the task queue's pipe open itself.

On an error or an interrupt in the command, :func:`process_pool` cancels the tasks not
started and waits for the running ones (a part, a dataset file: seconds), since a worker
terminated while it sends its result can leave the pool's result pipe with half a
message, on which Python's pool then waits for ever at exit. :func:`end_at_once`
terminates them without waiting, for a pool whose workers send one small result at the
end (validate).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.process import BaseProcess
from typing import Any

WATCH_SECONDS = 0.5
"""How often a worker looks whether the process that started it is still there."""


def new_pool(
    processes: int,
    *,
    reuse: bool = True,
    spawn: bool = False,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
    warm: Callable[[], object] | None = None,
) -> ProcessPoolExecutor:
    """A pool of at most ``processes`` workers (started as tasks come), each set up as the
    module says, then by ``initializer(*initargs)``. ``reuse``: a worker runs task after
    task (forked where Python forks by default, e.g. Linux); otherwise each ends after one
    task, its memory given back, and is started with ``spawn`` (it imports what it
    needs), as with ``spawn`` set. Each worker is started now by a first task: ``warm``
    (e.g. loading what every task reads), else one that does nothing."""
    context = multiprocessing.get_context("spawn") if spawn or not reuse else None
    pool = ProcessPoolExecutor(
        processes,
        mp_context=context,
        initializer=start_worker,
        initargs=(initializer, initargs),
        max_tasks_per_child=None if reuse else 1,
    )
    # the workers are started now, with Ctrl-C ignored, so that they ignore it from their
    # first instruction (a process inherits an ignored signal, and Python keeps it
    # ignored), not only once start_worker runs: a loaded machine may run it late
    with _ctrl_c_ignored():
        for _ in range(processes):
            pool.submit(warm or _ready)
    return pool


def _ready() -> None:
    """A task that starts a worker process and does nothing in it."""


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """SIGINT ignored here for a moment (the main thread only may set it)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not this code's to set
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def start_worker(initializer: Callable[..., object] | None, initargs: tuple[Any, ...]) -> None:
    """A worker process's first step: Ctrl-C left to the parent, SIGTERM fatal at once,
    a watch for the parent's end; then ``initializer(*initargs)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_end_with, args=(os.getppid(),), daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _end_with(parent: int) -> None:
    """End this process once its parent process ``parent`` is gone (it is then adopted:
    its parent id changes)."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def end_at_once(pool: ProcessPoolExecutor, started: set[BaseProcess]) -> None:
    """Terminate the workers ``started`` now (tasks running or not) and shut ``pool``
    down with its queued tasks cancelled."""
    for process in started:
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in started:
        process.join(5)


@contextlib.contextmanager
def process_pool(
    processes: int,
    *,
    reuse: bool = True,
    spawn: bool = False,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[ProcessPoolExecutor]:
    """:func:`new_pool`, shut down at the end once its tasks are done; on an error or an
    interrupt (Ctrl-C, SIGTERM) in this process, its tasks not started are cancelled."""
    pool = new_pool(processes, reuse=reuse, spawn=spawn, initializer=initializer, initargs=initargs)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
