"""The datasets' profiles (:mod:`.profile`) read in worker processes, several at a time.

Reading the records is most of define's work, and each dataset is read alone: so with
``workers`` of 2 or more, the XPORT files of both folders are handed to a pool of
processes as soon as the specs tell which columns each needs kept together, largest file
first (so the long ones do not come last), while this process goes on with the rest (the
aCRF, the descriptions, the assembly of the first define.xml). Each result is taken in
the serial order, so the define.xml files are byte-identical to a run in one process.

A package under :data:`PARALLEL_BYTES` of XPORT files is read here, without starting any
process: a worker costs its start and imports (measured, see the constant). Whatever a
worker cannot do (a file that is not plain XPORT v5, an error, a worker that died) is
done again here, the serial way, which reads it or reports the located error exactly as a
run in one process does. The workers leave Ctrl-C to this process; on it, on SIGTERM or
on an error the files not started are cancelled, and the workers end by themselves if
this process is killed (:mod:`cdisc_mapper.workers`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from pathlib import Path

from cdisc_mapper.datasetjson import dataset_files, format_of
from cdisc_mapper.define.profile import DataProfile, Joint, profile_dataset, profile_xpt
from cdisc_mapper.workers import process_pool
from cdisc_mapper.xpt import read_xpt_names

PARALLEL_BYTES = 128 * 2**20
"""XPORT bytes (both folders) from which ``workers`` > 1 starts worker processes. Reading
the files takes about 2.5 ms of CPU per MB (5.9 s for the 2.35 GB of the 10,000-subject
package) and is what the workers take off this process; a pool of 2 costs 0.15-0.3 s of
CPU more in all (forked workers touching the parent's pages, results pickled; spawned
ones also import about 0.7 s of CPU each). The break-even is thus about 60-120 MB: below
128 MB there is at most 0.3 s to gain, so such a package (the demo, 7 MB; every test
study) is read here."""

log = logging.getLogger(__name__)


def package_bytes(folders: Iterable[Path]) -> int:
    """The size of the XPORT files of ``folders`` (the datasets define reads)."""
    return sum(
        p.stat().st_size
        for folder in folders
        for p in dataset_files(Path(folder))
        if format_of(p) == "xpt"
    )


class Profiler:
    """Profiles of dataset files: read by ``executor``'s processes when one is given
    (:meth:`start`), else here on demand. While it waits for a worker's file, this
    process reads a file no worker has started (the smallest first), as a serial run
    would, rather than wait idle."""

    def __init__(self, executor: Executor | None = None) -> None:
        self.executor = executor
        self._futures: dict[Path, Future[DataProfile]] = {}
        self._joints: dict[Path, Joint] = {}
        self._read: dict[Path, DataProfile | Exception] = {}

    @property
    def parallel(self) -> bool:
        """Whether files are read by worker processes."""
        return self.executor is not None

    def start(self, folder: Path, joint: Callable[[Path], Joint]) -> None:
        """Hand every XPORT file of ``folder`` to the workers, largest first, with the
        groups ``joint`` gives for its columns. A file whose names or groups cannot be
        told here is left to :meth:`profile` (the serial way)."""
        if self.executor is None:
            return
        files = [p for p in dataset_files(Path(folder)) if format_of(p) == "xpt"]
        for path in sorted(files, key=lambda p: (-p.stat().st_size, p.name)):
            try:
                columns = read_xpt_names(path)
                groups = [sorted(g) for g in joint(path)(columns)]
            except Exception:  # read here later, which reports it
                continue
            self._joints[path] = joint(path)
            self._futures[path] = self.executor.submit(profile_xpt, path, columns, groups)

    def profile(self, path: Path, joint: Joint | None) -> DataProfile:
        """The profile of ``path``: the worker's, or read here (as a serial run does)
        when no worker read it or the worker failed. An error met reading a file here
        ahead of its turn is raised in its turn."""
        path = Path(path)
        future = self._futures.pop(path, None)
        if future is not None and not future.cancel():  # started: wait, reading others
            while not future.done() and self._read_one_queued():
                pass
            try:
                return future.result()
            except Exception as exc:  # the serial way reports it, or reads it
                log.debug("%s: read by a worker failed (%r); reading it here", path, exc)
        elif future is None and path in self._read:
            found = self._read.pop(path)
            if isinstance(found, Exception):
                raise found
            return found
        return profile_dataset(path, joint)

    def _read_one_queued(self) -> bool:
        """Read here the last (smallest) file handed to the workers that none has started
        (False: there is none): the workers take the large ones first, this process
        fills its waits with small ones, so it is soon free again for its own work and
        holds little more than its profiles."""
        for path, future in reversed(self._futures.items()):
            if future.cancel():
                del self._futures[path]
                try:
                    self._read[path] = profile_dataset(path, self._joints[path])
                except Exception as exc:  # raised in its turn, as a serial run does
                    self._read[path] = exc
                return True
        return False


@contextlib.contextmanager
def profiler(
    workers: int, folders: Iterable[Path], *, parallel_bytes: int = PARALLEL_BYTES
) -> Iterator[Profiler]:
    """A :class:`Profiler` with a pool of ``workers`` processes when ``workers`` > 1 and
    the XPORT files of ``folders`` are at least ``parallel_bytes``, else one that reads
    here. On an error or interrupt the files not yet started are cancelled
    (:mod:`cdisc_mapper.workers`)."""
    if workers < 2 or package_bytes(folders) < parallel_bytes:
        yield Profiler()
        return
    with process_pool(workers) as pool:
        yield Profiler(pool)
