"""How a command runs: the environment checked first, one-line errors (tracebacks with
--debug), SIGTERM ending the run as Ctrl-C does, one run per output folder, and the
SDTM mapping's execution (serial, processes or a Dask cluster)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import click

from cdisc_mapper.cli.progress import _note
from cdisc_mapper.epoch import source_date
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.publish import run_lock


def default_workers() -> int:
    """The number of worker processes when ``--workers`` is not given: the cores this
    process may run on (its CPU affinity, which containers and ``taskset`` narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def _execution(
    workers: int | None,
    scheduler: str | None,
    part_subjects: int | None = None,
    reuse_workers: bool = False,
) -> Iterator[Any]:
    """How the mapping runs (:class:`cdisc_mapper.sdtm.pipeline.Execution`): on a Dask
    cluster, in ``workers`` processes here, or here in parts of at most ``part_subjects``
    subjects written part by part (0: the study whole). ``reuse_workers``: a process maps
    part after part (the SDTM or ADaM parts, each read and kept on disk by its process)
    instead of ending after one."""
    from cdisc_mapper.sdtm.pipeline import PART_SUBJECTS, Execution
    from cdisc_mapper.workers import process_pool

    size = PART_SUBJECTS if part_subjects is None else part_subjects or None
    if scheduler is not None:
        with _dask_client(scheduler) as client:
            parts = workers or sum(client.nthreads().values())
            yield Execution(client.get_executor(), parts, size)
        return
    # default one process per core: the parts then map side by side (measured, issue 19:
    # 10,000 subjects on 2 cores, sdtm 34 -> 21 s and adam 35 -> 21 s wall); a study too
    # small to gain maps in this process all the same (sdtm.pipeline.WORKER_SUBJECTS,
    # adam.partition.WORKER_RECORDS)
    parts = workers or default_workers()
    if parts < 2:
        yield Execution(None, 1, size)
        return
    # reused: a process maps part after part (forked on Linux, Python's default there);
    # otherwise one part per process, which then ends, its memory freed before the
    # datasets are written (started with "spawn": it imports what it needs); when the run
    # fails or is interrupted the parts not started are cancelled (cdisc_mapper.workers)
    with process_pool(parts, reuse=reuse_workers) as pool:
        yield Execution(pool, parts, size)


def _dask_client(scheduler: str) -> Any:
    """A client of the Dask scheduler ``dask://HOST:PORT`` (or ``tcp://HOST:PORT``)."""
    host = scheduler.removeprefix("dask://").removeprefix("tcp://")
    if host == scheduler or ":" not in host:
        raise CdiscMapperError(
            f"{scheduler!r} is not a Dask scheduler address",
            where="--scheduler",
            hint="give it as dask://HOST:PORT, e.g. dask://10.0.0.5:8786",
        )
    try:
        from distributed import Client
    except ImportError:
        raise CdiscMapperError(
            "--scheduler needs Dask distributed, which is not installed",
            where="--scheduler",
            hint="pip install 'cdisc-mapper[dask]'",
        ) from None
    try:
        return Client(f"tcp://{host}", timeout="20s")
    except OSError as exc:
        raise CdiscMapperError(
            f"cannot reach the Dask scheduler at {host}: {exc}",
            where="--scheduler",
            hint="start it with `dask scheduler` and its workers with `dask worker "
            "tcp://HOST:PORT`, then give dask://HOST:PORT",
        ) from None


def _locked(out: Path, command: str, *, create: bool = True) -> AbstractContextManager[None]:
    """One run at a time per output folder (``OUT/.cdisc-mapper.lock``)."""
    return run_lock(out, command=command, note=_note, create=create)


def _terminated(signum: int, _frame: object) -> None:
    """SIGTERM (``kill``, a batch system's time limit) ends the run as Ctrl-C does: the
    staging folder and the lock are removed on the way out, the previous package kept."""
    click.echo("Terminated!", err=True)
    sys.exit(128 + signum)


@contextlib.contextmanager
def _sigterm_ends_the_run() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGTERM, _terminated)
    except ValueError:  # not the main thread (an embedding application): leave it be
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(fn: Callable[[], None], ctx: click.Context) -> None:
    """``fn`` with the environment checked first; a bad input ends the command with a
    one-line cause (exit 1), a bug with one line too (exit 2), unless ``--debug``."""
    debug = bool((ctx.obj or {}).get("debug"))
    try:
        with _sigterm_ends_the_run():
            _check_environment()
            fn()
    except CdiscMapperError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (OSError, MemoryError) as exc:
        if debug:
            raise
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # a bug: still one line, with a way to see more
        if debug:
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the "
            "traceback and report it)",
            err=True,
        )
        sys.exit(2)


def _check_environment() -> None:
    """Settings from the environment, checked before any stage is imported (numpy, through
    scipy, reads SOURCE_DATE_EPOCH too, and fails on a value that is not an integer)."""
    source_date()
