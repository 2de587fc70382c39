"""The dataset-scoped checks of a package in several processes, with the report of one.

:func:`cdisc_mapper.validate.engine.validate_package` runs the checks dataset by dataset
(a dataset's *turn*: its records held while its checks run). With ``workers`` > 1 and a
package of at least :data:`PROCESSES_FROM` bytes of dataset files, :class:`Workers`
share the turns out: this process and ``workers - 1`` processes started with ``spawn``
(:class:`~concurrent.futures.ProcessPoolExecutor`) each take the next dataset, the
largest files first, until none is left (:meth:`Shared.take`). Each process reads what
it needs through its own :class:`~cdisc_mapper.validate.frames.FrameStore` (the store's
budget split between the processes): the dataset whose turn it is, and the columns of
others its checks look up (DM, SE, ADSL, the VISITNUM of every SDTM dataset), as the
serial run does.

Every check's run on one dataset is recorded as a :class:`Block` (its findings, how many
it found per (check, dataset), whether it ran or skipped), and the blocks are merged in
the serial run's order: dataset by dataset in name order, each dataset's checks in
registry order; a check that skipped stops for the datasets after, its blocks on them
dropped; the findings kept per check and dataset are cut to the limit as the serial run
cuts them (:meth:`~cdisc_mapper.validate.context.Context.absorb`). The package-level
checks then run here, after the merge, as in the serial run. So the report is the serial
run's, byte for byte.

Memory: the datasets whose turn it is at once have files of at most
:data:`TOGETHER_BYTES` in total, a larger one alone (:class:`Shared`): a process takes
the next dataset that fits beside those running, and waits while none does. Files the
store reads whole when the package is read (at most its ``lazy_bytes``, 64 MiB by
default) do not count: their records are held within the store's budget anyway. A
turn's memory follows its file's size (about 0.75-0.8 of it at 10,000 subjects, e.g.
0.43 GB for the 0.59 GB ADQS; 5.12 GiB peak for its 5.9 GB at 100,000 subjects), so two
processes at once hold at most about what one holds for the largest file alone, plus a
process's imports and its share of the store.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from cdisc_mapper.errors import CdiscMapperError, Location
from cdisc_mapper.standards import load_adamig, load_sdtmig, load_terminology
from cdisc_mapper.validate.context import Context, PackageDefine
from cdisc_mapper.validate.frames import FrameStore, Source
from cdisc_mapper.validate.model import CheckSpec, Finding
from cdisc_mapper.validate.package import Dataset
from cdisc_mapper.validate.registry import registered_checks
from cdisc_mapper.validate.runs import Run, applies, run_on
from cdisc_mapper.validate.unreadable import Unreadable
from cdisc_mapper.workers import end_at_once, new_pool

PROCESSES_FROM = 300 * 10**6
"""Dataset files (bytes in all) from which ``workers`` > 1 starts processes; a smaller
package is checked here, in this process. Measured on 2 cores: a second process costs
about 1.3 s of CPU (0.9 s to start: imports, standards; the look-ups it reads again) and
saves wall time from about 300 MB of files (229 MB: 0.4 s slower; 341 MB: 0.35 s faster;
448 MB: 0.7 s faster; 2.3 GB: 9.6 -> 5.6 s)."""
TOGETHER_BYTES = 4 * 2**30
"""The most file bytes of the datasets whose checks run at once, across the processes
(files read whole with the package not counted); a dataset with a larger file runs
alone."""


@dataclass(frozen=True)
class Block:
    """What one check did on one dataset's turn, in the process that ran it.

    Attributes:
        check: the check's ID.
        ran: it ran (or crashed: a VX0001 finding among ``findings``).
        skipped: why it skipped (and stops for the datasets after), else None.
        findings: the findings it kept (the first of each (check, dataset) up to the limit).
        found: the findings it found per (check ID, dataset), kept or not.
    """

    check: str
    ran: bool
    skipped: str | None
    findings: tuple[Finding, ...]
    found: tuple[tuple[tuple[str, str], int], ...]


@dataclass(frozen=True)
class Failure:
    """An input error raised in a worker process (a file changed while the package was
    being validated), sent back whole so that it is raised here with its location."""

    kind: type[CdiscMapperError]
    message: str
    where: Location | str | None
    hint: str

    def error(self) -> CdiscMapperError:
        return self.kind(self.message, where=self.where, hint=self.hint)


@dataclass(frozen=True)
class Ref:
    """A dataset as sent to a worker process: all but its records, which the process
    reads itself (``source``, without its store)."""

    dataset: Dataset
    names: tuple[str, ...]
    count: int
    source: tuple[Path, str, str | None, bool, tuple[int, int] | None]

    @classmethod
    def of(cls, ds: Dataset) -> Ref:
        assert ds.source is not None, f"{ds.name}: no file to read it from"
        src = ds.source
        bare = replace(ds, frame=None, source=None, sdtmig=None, _ig_vars={}, _uniques={})
        return cls(
            bare,
            tuple(ds.columns),
            ds.n,
            (src.path, src.rel, src.encoding, src.chunked, src.screened),
        )

    def attached(self, store: FrameStore) -> Dataset:
        """The dataset, read through ``store``."""
        ds = replace(self.dataset, source=Source(*self.source[:4], store, self.source[4]))
        if ds.standard == "ADaM":
            ds.sdtmig = load_sdtmig()
        ds._names, ds._count = self.names, self.count  # the file's, not an empty frame's
        return ds


@dataclass(frozen=True)
class Job:
    """What each process needs to check datasets: the package (without records), the
    define.xml and reconciliation read, the checks, and the turns largest file first."""

    root: Path
    refs: tuple[Ref, ...]
    order: tuple[str, ...]
    sizes: tuple[int, ...]
    """The file bytes each turn counts against :data:`TOGETHER_BYTES` (in ``order``)."""
    checks: tuple[str, ...]
    define: PackageDefine | None
    define_paths: tuple[Path, ...]
    reconciliation: list[dict[str, object]] | None
    reconciliation_error: str | None
    limit: int
    unreadable: tuple[Unreadable, ...]
    budget: int

    def context(self, datasets: dict[str, Dataset]) -> Context:
        """A context as the serial run's, over ``datasets``."""
        return Context(
            self.root,
            datasets,
            sdtmig=load_sdtmig(),
            adamig=load_adamig(),
            terminology=load_terminology(),
            define=self.define,
            define_path=self.define_paths[0] if self.define_paths else None,
            define_paths=self.define_paths,
            reconciliation=self.reconciliation,
            reconciliation_error=self.reconciliation_error,
            limit=self.limit,
            unreadable=self.unreadable,
        )


class Shared:
    """The state the processes share: which turns are taken, and the file bytes of the
    turns running (at most :data:`TOGETHER_BYTES`, a larger one alone)."""

    def __init__(self, context: Any, together: int) -> None:
        self.together = together
        self._taken = context.RawArray("b", MAX_TURNS)
        self._running = context.RawValue("q", 0)
        self._stopped = context.RawValue("b", 0)
        self._condition = context.Condition()

    def take(self, sizes: Sequence[int], others: Callable[[], bool]) -> int | None:
        """The first turn not taken (of those whose files count ``sizes``) that fits
        beside the turns running, now counted as running (:meth:`done` when it ends):
        a process does not wait for a large file while a smaller one fits. Waits while
        none fits, as long as ``others()`` says the other processes still run (one
        killed in a turn would never end it); None once every turn is taken.

        A turn fits when nothing runs, when it counts 0 bytes (a small file, held within
        the store's budget), or when the bytes running and its own are at most
        :attr:`together`.

        Raises:
            CdiscMapperError: another process ended while this one waited for room.
        """
        with self._condition:
            while not self._stopped.value:
                untaken = [i for i in range(len(sizes)) if not self._taken[i]]
                if not untaken:
                    return None
                for index in untaken:
                    if self._fits(sizes[index]):
                        self._taken[index] = 1
                        self._running.value += sizes[index]
                        return index
                if not self._condition.wait(_LOOK_EVERY) and not others():
                    raise _ended()
            return None

    def _fits(self, size: int) -> bool:
        running = int(self._running.value)
        return not size or not running or running + size <= self.together

    def done(self, size: int) -> None:
        """A turn of ``size`` bytes (:meth:`take`) ended."""
        with self._condition:
            self._running.value -= size
            self._condition.notify_all()

    def stop(self) -> None:
        """No more turns are taken (a process failed, or the run was interrupted)."""
        with self._condition:
            self._stopped.value = 1
            self._condition.notify_all()


_LOOK_EVERY = 1.0
"""Seconds between looks at the other processes while a process waits for room."""


def _ended() -> CdiscMapperError:
    return CdiscMapperError(
        "a process of the validation ended abruptly",
        hint="it was killed, perhaps for lack of memory: run again with --workers 1",
    )


MAX_TURNS = 1 << 16
"""The most datasets a package checked in processes may have (one shared flag each)."""

_WORKER: dict[str, Shared] = {}
"""A worker process's :class:`Shared`, under ``"shared"`` (set by :func:`_start_worker`)."""


def _start_worker(shared: Shared) -> None:
    """A worker process: its shared state noted (it ignores Ctrl-C: :mod:`cdisc_mapper.workers`)."""
    _WORKER["shared"] = shared


def processes_for(files: Sequence[Path], workers: int, processes_from: int) -> int:
    """How many processes check the datasets of ``files``: ``workers`` (at most one per
    file) when the files hold at least ``processes_from`` bytes, else 1 (here)."""
    count = min(workers, len(files))
    if count < 2 or len(files) > MAX_TURNS or sum(_size(p) for p in files) < processes_from:
        return 1
    return count


def portable(specs: Sequence[CheckSpec]) -> bool:
    """Whether a new process has each of ``specs``: the checks this package registers
    (:mod:`cdisc_mapper.validate.checks`, imported with :mod:`cdisc_mapper.validate`);
    with a check registered elsewhere (a test, an application's own check) the run stays
    in this process."""
    return all(spec.func.__module__.startswith(_REGISTERED) for spec in specs)


_REGISTERED = "cdisc_mapper.validate."
"""The modules whose checks a new process registers by importing the validator."""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def job_of(ctx: Context, runs: Sequence[Run], budget: int, small: int) -> Job:
    """The :class:`Job` of the dataset-scoped ``runs`` over ``ctx``'s package, each
    process's store holding ``budget`` bytes; files of at most ``small`` bytes (read whole
    with the package) do not count against :data:`TOGETHER_BYTES`."""
    sizes = {name: _size(ds.path) for name, ds in ctx.datasets.items()}
    order = tuple(sorted(sizes, key=lambda name: (-sizes[name], name)))
    counted = {name: size if size > small else 0 for name, size in sizes.items()}
    return Job(
        ctx.root,
        tuple(Ref.of(ds) for ds in ctx.datasets.values()),
        order,
        tuple(counted[name] for name in order),
        tuple(run.spec.id for run in runs),
        ctx.define,
        ctx.define_paths,
        ctx.reconciliation,
        ctx.reconciliation_error,
        ctx.limit,
        ctx.unreadable,
        budget,
    )


class Workers:
    """``processes - 1`` worker processes, started (with ``spawn``) before the package is
    read so that their imports run meanwhile, and this process: they check the datasets
    (:meth:`check`). Ended with :meth:`close`; on an error or an interrupt here (Ctrl-C,
    SIGTERM) the workers are terminated at once."""

    def __init__(self, processes: int, together: int | None = None) -> None:
        self.processes = processes
        context = multiprocessing.get_context("spawn")
        self.shared = Shared(context, TOGETHER_BYTES if together is None else together)
        before = set(multiprocessing.active_children())
        self.pool = new_pool(
            processes - 1,
            spawn=True,
            initializer=_start_worker,
            initargs=(self.shared,),
            warm=_warm,
        )
        self.started: set[BaseProcess] = set(multiprocessing.active_children()) - before

    def check(self, ctx: Context, store: FrameStore, runs: list[Run]) -> None:
        """The dataset-scoped ``runs`` over ``ctx``'s package, shared out, merged into
        ``ctx`` and ``runs`` as the serial run leaves them.

        Raises:
            CdiscMapperError: as the serial run (a file changed while it was validated).
        """
        whole = store.budget
        job = job_of(ctx, runs, whole // self.processes, store.lazy_bytes)
        store.resize(whole // self.processes)
        try:
            futures = [self.pool.submit(check_share, job) for _ in range(self.processes - 1)]
            done = _share(job, self.shared, ctx.datasets, store, self._workers_run)
            for future in futures:
                share = _received(future)
                if isinstance(share, Failure):
                    raise share.error()
                done.update(share)
        finally:
            store.resize(whole)
        merge(ctx, runs, done)

    def _workers_run(self) -> bool:
        return all(process.is_alive() for process in self.started)

    def close(self, *, failed: bool) -> None:
        """End the workers: once they are idle, or at once when ``failed``."""
        if failed:
            self.shared.stop()
            end_at_once(self.pool, self.started)
        else:
            self.pool.shutdown()


def _received(future: Future[dict[str, tuple[Block, ...]] | Failure]) -> Any:
    """A worker's share of the turns.

    Raises:
        CdiscMapperError: the worker process ended abruptly (killed: out of memory?).
    """
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise _ended() from exc


@contextmanager
def workers_for(
    files: Sequence[Path], workers: int, processes_from: int = PROCESSES_FROM
) -> Iterator[Workers | None]:
    """:class:`Workers` for the datasets of ``files`` (:func:`processes_for`), or None
    when they are checked here; the workers end with the block."""
    processes = processes_for(files, workers, processes_from)
    if processes < 2:
        yield None
        return
    pool = Workers(processes)
    try:
        yield pool
    except BaseException:
        pool.close(failed=True)
        raise
    pool.close(failed=False)


def _warm() -> None:
    """A worker's first task, while the package is read: the standards loaded."""
    load_sdtmig(), load_adamig(), load_terminology()


def check_share(job: Job) -> dict[str, tuple[Block, ...]] | Failure:
    """A worker process's share of the turns (:func:`_share`), its datasets read
    through a store of its own; an input error comes back as a :class:`Failure`."""
    shared = _WORKER["shared"]  # check_share runs in a process started by check_datasets
    store = FrameStore(job.budget)
    datasets = {ref.dataset.name: ref.attached(store) for ref in job.refs}
    try:
        return _share(job, shared, datasets, store, _parent_runs)
    except CdiscMapperError as exc:
        shared.stop()
        return Failure(type(exc), exc.message, exc.where, exc.hint)


def _parent_runs() -> bool:
    """Whether the process that started this worker still runs."""
    parent = multiprocessing.parent_process()
    return parent is None or parent.is_alive()


def _share(
    job: Job,
    shared: Shared,
    datasets: dict[str, Dataset],
    store: FrameStore,
    others: Callable[[], bool],
) -> dict[str, tuple[Block, ...]]:
    """Turns taken one after the other until none is left: each dataset's checks, run
    as the serial run does but never stopped by a skip (the merge stops them)."""
    ctx = job.context(datasets)
    specs = {spec.id: spec for spec in registered_checks()}
    checks = [specs[check] for check in job.checks]
    internal = specs["VX0001"]
    done: dict[str, tuple[Block, ...]] = {}
    while (index := shared.take(job.sizes, others)) is not None:
        try:
            ds = datasets[job.order[index]]
            todo = [spec for spec in checks if applies(spec, ds)]
            if todo:
                with store.turn(ds):
                    done[ds.name] = tuple(_recorded(ctx, spec, ds, internal) for spec in todo)
                ctx.forget(ds.name)
        finally:
            shared.done(job.sizes[index])
    return done


def _recorded(ctx: Context, spec: CheckSpec, ds: Dataset, internal: CheckSpec) -> Block:
    """Check ``spec`` run on ``ds`` (:func:`~cdisc_mapper.validate.runs.run_on`), and
    what it reported taken out of ``ctx``."""
    start = len(ctx.findings)
    before = dict(ctx.found)
    run = Run(spec)
    run_on(ctx, run, ds, internal)
    found = tuple(
        (key, count - before.get(key, 0))
        for key, count in ctx.found.items()
        if count != before.get(key, 0)
    )
    findings = tuple(ctx.findings[start:])
    del ctx.findings[start:]
    return Block(spec.id, run.ran, run.notes[0] if run.notes else None, findings, found)


def merge(ctx: Context, runs: list[Run], done: dict[str, tuple[Block, ...]]) -> None:
    """The blocks of every turn into ``ctx`` and ``runs``, in the serial run's order:
    datasets in name order, a check that skipped stopped for the datasets after."""
    by_id = {run.spec.id: run for run in runs}
    for name in ctx.datasets:
        for block in done.get(name, ()):
            run = by_id[block.check]
            if run.stopped:
                continue
            ctx.absorb(block.findings, block.found)
            run.ran = run.ran or block.ran
            if block.skipped is not None:
                run.notes.append(block.skipped)
                run.stopped = True
