"""ADaM in bounded memory: the subjects cut into parts, each part's SDTM records read from
the files (its rows only), its datasets built and kept on disk as their XPT files store
the records (:mod:`cdisc_mapper.adam.kept`), each dataset then written by appending the
parts in key order.

Why the parts give the serial run's bytes is :mod:`cdisc_mapper.adam.partition`'s
argument: every derivation works within one subject, a part holds all the records of its
subjects, and each dataset's keys start with USUBJID (or a constant before it), so the
parts' finished datasets, each sorted by its keys, follow one another in key order (checked
at every boundary). What crosses subjects is done here on all the parts:

* the storage lengths: each part measures its values (at least the SDTM length a carried
  variable declares: :func:`~cdisc_mapper.adam.storage.stored_length`), the file takes the
  longest of any part, as :func:`~cdisc_mapper.xpt.write_xpt` would measure the whole;
* the types only the data tell: the parts that have records must agree;
* the Dataset-JSON column metadata (a ``--DTC`` column's data type from its distinct
  values, integer or double from whether every number is whole): each part's profile,
  joined;
* the reports (``adam/reports.yaml``): they read back the records they need from the
  kept parts (:func:`~cdisc_mapper.adam.kept.report_needs`: ADSL and the summarised
  dataset whole, the source parameters of the clinical change and the trajectories only),
  with the row labels of the whole dataset; with workers, each table and figure is a task
  of its own (:mod:`cdisc_mapper.adam.reporting`).

A spec whose groupings cross subjects (a ``by`` without USUBJID), SDTM that is not plain
XPORT v5, parts that disagree, and a part that stops on an error make the caller derive
serially, which reports any error as it always does (:func:`~cdisc_mapper.adam.run_adam`).

Each part reads its rows of the SDTM files the specs need (:mod:`cdisc_mapper.xpt.rows`:
the subjects' boundaries are found once, by reading the USUBJID bytes of each file, and
a part's rows are read at their offsets), so a part's memory is that of its subjects.
The trial design (no USUBJID) is read whole by every part; a SUPP-- file by its rows, with
the QNAMs of the whole file. With an executor (processes, or a Dask cluster), each worker
reads its own rows and keeps its datasets in the run's working folder: only the plan (row
ranges) and a summary (lengths, first and last keys, profiles) travel, so the workers
need the SDTM folder and the output folder at the same paths (a shared file system on a
cluster).

The critical path with workers: the executor's processes are started first (they import
while this process plans the parts: the boundary scans), the parts are handed out at most
``parts`` ahead, the trajectory figures as soon as the leading parts hold their subjects;
once the last part is done, the tables and the other figures are drawn by the workers
while this process appends the parts' records to the files (a byte copy, unless a part's
values were shorter: :class:`~cdisc_mapper.xpt.append.RecordsAppender`). A study too
small to gain from workers (:data:`~cdisc_mapper.adam.partition.WORKER_RECORDS`) starts
none.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path

import pandas as pd

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.engine import build_all, sdtm_needs
from cdisc_mapper.adam.kept import (
    Keeping,
    PartDataset,
    Profile,
    Streamed,
    kept_dataset,
    report_needs,
)
from cdisc_mapper.adam.model import AdamDataset
from cdisc_mapper.adam.partition import (
    WORKER_RECORDS,
    PartsDisagree,
    crossing_groupings,
    in_key_order,
    merged_variables,
    worker_specs,
    worth_workers,
)
from cdisc_mapper.adam.sdtm import SdtmInput
from cdisc_mapper.datasetjson import parse_formats
from cdisc_mapper.parts import balanced_starts, part_numbers
from cdisc_mapper.spec.adam_loader import AdamSpecs
from cdisc_mapper.xpt.fastread import LayoutError
from cdisc_mapper.xpt.rows import SubjectRuns, XptRows

SUBJECT = "USUBJID"


log = logging.getLogger(__name__)


class NotStreamed(Exception):
    """The study is derived serially (the message says why)."""


# ------------------------------------------------------------------------------ the plan
@dataclass(frozen=True)
class FilePart:
    """What a part reads of one SDTM file: its row ranges (None: the whole file) and its
    columns (None: all)."""

    file: XptRows
    ranges: tuple[tuple[int, int], ...] | None
    columns: tuple[str, ...] | None

    def records(self) -> pd.DataFrame:
        ranges = self.ranges if self.ranges is not None else ((0, self.file.rows),)
        return self.file.read(ranges, self.columns)


@dataclass(frozen=True)
class PartJob:
    """One part of the subjects: where the study and SDTM are, what it reads, where it
    keeps its datasets."""

    index: int
    study_dir: Path
    sdtm_dir: Path
    files: tuple[FilePart, ...]
    qnams: dict[str, dict[str, str]]
    folder: Path
    keep: Keeping = field(default_factory=Keeping)
    records: int = 0
    """The SDTM records of its subjects (what the parts are balanced by)."""


@dataclass(frozen=True)
class _SdtmFile:
    file: XptRows
    columns: tuple[str, ...] | None
    runs: SubjectRuns | None
    counted: bool
    """Whether its records count toward the balance of the parts (not SUPP--)."""


def _open(path: Path) -> XptRows:
    try:
        return XptRows.open(path)
    except LayoutError as exc:
        raise NotStreamed(f"{path.name} is not plain XPORT v5 ({exc})") from exc


def _sdtm_files(sdtm: SdtmInput, needs: dict[str, dict[str, str]]) -> list[_SdtmFile]:
    """The SDTM files the specs read, each opened and its subjects' runs found: a
    domain's variables the specs name (with USUBJID and --SEQ, in file order), its
    SUPP-- whole."""
    out: list[_SdtmFile] = []
    for domain in sorted(needs):
        for path, supp in ((sdtm.path(domain), False), (sdtm.path(f"SUPP{domain}"), True)):
            if not sdtm.has(path):
                continue
            if path.suffix.lower() != ".xpt":
                raise NotStreamed(f"{path.name} is not an XPORT file")
            file = _open(path)
            names = [v.name for v in file.metadata.variables]
            wanted = None if supp else {SUBJECT, f"{domain}SEQ", *needs[domain]}
            columns = None if wanted is None else tuple(c for c in names if c in wanted)
            runs = file.subject_runs(SUBJECT) if SUBJECT in names else None
            out.append(_SdtmFile(file, columns, runs, counted=not supp))
    return out


def _subject_counts(files: list[_SdtmFile]) -> pd.Series:
    """Records per subject over the (non-SUPP--) files, indexed in sorted order."""
    counts = [
        pd.Series(f.runs.stops - f.runs.starts, index=f.runs.values)
        for f in files
        if f.runs is not None and f.counted
    ]
    if not counts:
        return pd.Series(dtype="int64")
    total = pd.concat(counts).groupby(level=0, sort=False).sum()
    return total.reindex(sorted(total.index, key=str))


def _supp_qnams(sdtm: SdtmInput, needs: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Each SUPP-- file's QNAMs and QLABELs, as the whole file gives them."""
    return {domain: sdtm.supp_qnams(domain) for domain in sorted(needs)}


def plan_parts(
    study_dir: Path,
    specs: AdamSpecs,
    sdtm_dir: Path,
    folder: Path,
    sizes: tuple[int, int],
    keep: Keeping | None = None,
) -> list[PartJob]:
    """The parts of the subjects (``sizes``: at least so many parts, and none of more
    than so many subjects unless 0), balanced by the records the specs read.

    Raises:
        NotStreamed: the study must be derived serially (one part, groupings across
            subjects, SDTM that is not plain XPORT v5).
    """
    crossing = crossing_groupings(specs)
    if crossing:
        raise NotStreamed(f"a grouping across subjects at {crossing[0]}")
    needs = sdtm_needs(specs)
    sdtm = SdtmInput(sdtm_dir)
    files = _sdtm_files(sdtm, needs)
    counts = _subject_counts(files)
    parts, most = sizes
    starts = balanced_starts(counts, max(parts, math.ceil(len(counts) / most)) if most else parts)
    if not starts:
        raise NotStreamed("one part of the subjects")
    qnams = _supp_qnams(sdtm, needs)
    of = part_numbers(pd.Series(counts.index, dtype=object), starts)
    jobs = []
    for k in range(len(starts) + 1):
        pieces = []
        for f in files:
            ranges = None
            if f.runs is not None:
                chosen = part_numbers(pd.Series(f.runs.values, dtype=object), starts) == k
                ranges = tuple(f.runs.rows_of(chosen))
            pieces.append(FilePart(f.file, ranges, f.columns))
        records = int(counts[of == k].sum())
        jobs.append(PartJob(k, study_dir, sdtm_dir, tuple(pieces), qnams, folder,
                            keep or Keeping(), records))  # fmt: skip
    return jobs


# ------------------------------------------------------------------------- one part
@dataclass
class PartDone:
    """What a part sends back: its datasets (on disk), STUDYID, progress messages."""

    datasets: dict[str, PartDataset]
    studyid: str | None
    messages: list[str]


def _studyid(frame: pd.DataFrame) -> str | None:
    if "STUDYID" not in frame.columns:
        return None
    found = [str(v) for v in pd.unique(frame["STUDYID"].dropna()) if str(v).strip()]
    return found[0].strip() if found else None


def run_part(job: PartJob, specs: AdamSpecs | None = None) -> PartDone:
    """Build every dataset of one part's subjects (here or in a worker) and keep each in
    ``job.folder``."""
    specs = specs or worker_specs(job.study_dir)
    records = {f.file.path.name: (f.records(), list(f.file.metadata.variables)) for f in job.files}
    sdtm = SdtmInput(job.sdtm_dir, records, qnams=job.qnams)
    sdtm.check(sdtm_needs(specs))  # each domain read with what every spec place needs of it
    del records
    said: list[str] = []
    built = build_all(BuildContext(specs=specs, sdtm=sdtm), said.append)
    del sdtm
    kept: dict[str, PartDataset] = {}
    studyid = None
    for name in list(built):
        ds = built.pop(name)
        studyid = studyid or _studyid(ds.frame)
        kept[name] = kept_dataset(ds, job.folder, job.index, job.keep)
        del ds
    return PartDone(kept, studyid, said)


# ------------------------------------------------------------------------ all the parts
def _merged(name: str, pieces: list[PartDataset], missing_last: bool) -> AdamDataset:
    """The dataset's metadata over its parts, checked to follow in key order.

    Raises:
        PartsDisagree: the parts' types differ, or they are not in key order.
    """
    filled = [p for p in pieces if p.rows] or pieces[:1]
    first = filled[0].dataset
    for before, after in pairwise(filled):
        if not in_key_order(before.last, after.first, first.keys, missing_last):
            raise PartsDisagree(f"{name}: the parts are not in the order of the keys")
    variables = merged_variables(name, [p.dataset.variables for p in filled])
    lengths = {v.name: max(p.dataset.variable(v.name).length or 0 for p in pieces)
               for v in variables}  # fmt: skip
    variables = [replace(v, length=lengths[v.name]) for v in variables]
    return replace(first, variables=variables)


def collect(done: Iterator[PartDone], missing_last: bool) -> Streamed:
    """The parts (in part order) as one study's datasets on disk."""
    parts: dict[str, list[PartDataset]] = {}
    studyid: str | None = None
    messages: list[str] | None = None
    for part in done:
        messages = part.messages if messages is None else messages
        studyid = studyid or part.studyid
        if parts and list(part.datasets) != list(parts):
            raise PartsDisagree("the parts built different datasets")
        for name, piece in part.datasets.items():
            parts.setdefault(name, []).append(piece)
    datasets = {name: _merged(name, pieces, missing_last) for name, pieces in parts.items()}
    profiles = {}
    for name, pieces in parts.items():
        profiles[name] = Profile()
        for piece in pieces:
            profiles[name].join(piece.profile)
    return Streamed(datasets, parts, profiles, studyid or "STUDY", messages or [])


def run_parts(
    jobs: list[PartJob], specs: AdamSpecs, executor: Executor | None, window: int
) -> Iterator[PartDone]:
    """Each part built, in part order: here one after the other, or by ``executor`` with
    at most ``window`` parts handed out ahead."""
    if executor is None:
        for job in jobs:
            yield run_part(job, specs)
        return
    pending: deque[Future[PartDone]] = deque()
    for job in jobs:
        pending.append(executor.submit(run_part, job))
        if len(pending) >= window:
            yield _done(pending.popleft())
    while pending:
        yield _done(pending.popleft())


def _watched(done: Iterator[PartDone], on_part: Callable[[PartDone], None]) -> Iterator[PartDone]:
    for part in done:
        on_part(part)
        yield part


def _started() -> None:
    """Nothing: a worker that runs it has started and imported this module."""


def _done(future: Future[PartDone]) -> PartDone:
    part = future.result()
    log.debug("part done")
    return part


def stream_parts(
    study_dir: Path,
    specs: AdamSpecs,
    sdtm_dir: Path,
    folder: Path,
    execution: tuple[Executor | None, int, int],
    formats: tuple[str, ...] = ("xpt",),
    worker_records: int = WORKER_RECORDS,
    on_part: Callable[[PartDone], None] | None = None,
) -> Streamed:
    """Every dataset built by parts of the subjects and kept in ``folder``
    (``execution``: the executor or None for this process, the parts at least, the
    subjects of a part at most, 0 for no limit; ``formats``: the files to be written,
    whose records each part keeps as they need). A study of fewer than
    ``worker_records`` SDTM records is derived here, the executor unused
    (:func:`~cdisc_mapper.adam.partition.worth_workers`); else the workers are started
    while the parts are planned, and ``on_part`` is called with each part done, in part
    order (to hand out more work while the workers derive).

    Raises:
        NotStreamed: derive serially (the reason); PartsDisagree: the parts do not merge;
        and any error of a part.
    """
    executor, parts, most = execution
    if executor is not None and not worth_workers(executor, specs, sdtm_dir, parts,
                                                  worker_records):  # fmt: skip
        executor, parts = None, 1
    if executor is not None:
        for _ in range(parts):  # the workers start (and import) while the parts are planned
            executor.submit(_started)
    written = parse_formats(formats)
    needs = report_needs(specs) if specs.reports.progression_summaries else {}
    keep = Keeping(frames=any(f != "xpt" for f in written), records="xpt" in written,
                   reports=needs)  # fmt: skip
    jobs = plan_parts(study_dir, specs, sdtm_dir, folder, (parts, most), keep)
    log.debug("deriving %d parts of the subjects", len(jobs))
    done = run_parts(jobs, specs, executor, max(parts, 1))
    if executor is not None and on_part is not None:
        done = _watched(done, on_part)
    streamed = collect(done, specs.conventions.missing_keys == "last")
    streamed.in_workers = executor is not None
    return streamed
