"""Subject-partitioned mapping: the raw records split by subject, each part mapped on its
own (in worker processes, or on a Dask cluster), the parts merged back.

Every SDTM mapping operation works within one subject (SDTMIG 3.4 section 4.1.7: --SEQ is
unique within USUBJID; the visit calendar, SE and SV are each subject's; lookups join on
USUBJID), so a part holding all the records of its subjects maps them as the whole study
would. The steps across subjects run once, on the merged records: sorting by the keys,
SUPP--, the trial design, the key checks (:func:`~cdisc_mapper.sdtm.pipeline.build_datasets`)
and the reconciliation totals.

The parts are contiguous ranges of the sorted subject identifiers, balanced by records,
so the same input always gives the same parts. Merged records are sorted by their unique
keys, so the datasets are byte for byte those of the serial run. An error in any part
(or in the merge) reruns the serial mapping, which raises the error as it always does:
the same message, file, row and value, whatever part the record fell in.

The work is handed to a :class:`concurrent.futures.Executor`: a process pool on one
machine, or ``distributed.Client.get_executor()`` past it. When the datasets are written
part by part (:func:`spill_parts`), a process of this machine reads its part's raw
records from the working folder (:mod:`cdisc_mapper.sdtm.rawparts`) and keeps its
finished datasets there, so nothing large travels between processes; a Dask worker gets
the records themselves and sends its datasets back, so a cluster needs no shared file
system. Workers need ``cdisc-mapper`` installed (the same version).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from cdisc_mapper.parts import balanced_starts, concat_parts, part_numbers
from cdisc_mapper.raw import RawForm
from cdisc_mapper.sdtm.engine import (
    RawInput,
    SdtmRun,
    log_source,
    map_forms,
    read_forms,
    run_mapping,
)
from cdisc_mapper.sdtm.finalize import DESIGN_KEYS, Dataset, check_unique_keys, finalize
from cdisc_mapper.sdtm.rawparts import RawParts, part_total
from cdisc_mapper.sdtm.sources import SourceResult
from cdisc_mapper.sdtm.spill import Kept, Spill, keep_dataset
from cdisc_mapper.sdtm.subject_design import starts_on_study_days
from cdisc_mapper.spec.sdtm_loader import StudyBundle
from cdisc_mapper.standards import load_sdtmig, load_terminology

Progress = Callable[[str], None]
Forms = dict[str, RawForm]

log = logging.getLogger(__name__)


def subject_ranges(forms: Forms, column: str, parts: int) -> list[str]:
    """The first subject identifier of each part after the first: the sorted identifiers
    of every form cut into at most ``parts`` contiguous ranges of about equal records
    (:func:`~cdisc_mapper.parts.balanced_starts`)."""
    counts: pd.Series = (
        pd.concat([form.data[column].value_counts() for form in forms.values()])
        .groupby(level=0, sort=True)
        .sum()
    )
    return balanced_starts(counts, parts)


def subject_count(forms: Forms, column: str) -> int:
    """The subjects of every form that has ``column``."""
    named = [form.data[column] for form in forms.values() if column in form.data.columns]
    return len(pd.concat(named).unique()) if named else 0


def part_count(forms: Forms, column: str, workers: int, part_subjects: int | None) -> int:
    """How many parts: ``workers``, or more so that none has over ``part_subjects``
    subjects (the subjects of every form that has ``column``), a multiple of ``workers``
    (:func:`~cdisc_mapper.sdtm.rawparts.part_total`)."""
    if not part_subjects:
        return workers
    return part_total(subject_count(forms, column), workers, part_subjects)


def split_forms(forms: Forms, column: str, parts: int, consume: bool = False) -> list[Forms]:
    """The forms cut into parts by subject (:func:`subject_ranges`): each part has every
    form, with the records of its subjects in file order (row numbers kept). One part
    (the forms as given) when there are fewer than two subjects or a form lacks
    ``column`` (the serial run then reports it). ``consume`` takes each form out of
    ``forms`` once it is cut (the records are then held once, not twice)."""
    starts = part_starts(forms, column, parts)
    if not starts:
        return [forms]
    split: list[Forms] = [{} for _ in range(len(starts) + 1)]
    for key, pieces in form_pieces(forms if consume else dict(forms), column, starts):
        for target, piece in zip(split, pieces, strict=True):
            target[key] = piece
    return split


def part_starts(forms: Forms, column: str, parts: int) -> list[str]:
    """:func:`subject_ranges`, none when there are fewer than two parts or a form lacks
    ``column`` (the serial run then reports it)."""
    if parts < 2 or any(column not in form.data.columns for form in forms.values()):
        return []
    return subject_ranges(forms, column, parts)


def form_pieces(
    forms: Forms, column: str, starts: list[str]
) -> Iterator[tuple[str, list[RawForm]]]:
    """Each form, taken out of ``forms``, cut into one piece per part (the subjects from
    each of ``starts``: :func:`~cdisc_mapper.parts.part_numbers`), records in file order
    with their row numbers."""
    for key in list(forms):
        form = forms.pop(key)
        part_of = part_numbers(form.data[column], starts)
        yield key, [replace(form, data=form.data.loc[part_of == k]) for k in range(len(starts) + 1)]


def map_part(bundle: StudyBundle, forms: Forms) -> tuple[SdtmRun, list[str]]:
    """Map one part's records (in a worker): the run and its progress messages."""
    said: list[str] = []
    run = map_forms(bundle, bundle.terminology(load_terminology()), forms, said.append)
    return run, said


def _merge_source(results: list[SourceResult]) -> SourceResult:
    first = results[0]
    excluded: dict[str, int] = {}
    for res in results:
        for reason, n in res.excluded.items():
            excluded[reason] = excluded.get(reason, 0) + n
    return SourceResult(
        frame=concat_parts([r.frame for r in results]),
        form=first.form,
        file=first.file,
        rows_read=sum(r.rows_read for r in results),
        rows_mapped=sum(r.rows_mapped for r in results),
        excluded=excluded,
        values_not_recorded=sum(r.values_not_recorded for r in results),
    )


def _optional(frames: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    given = [f for f in frames if f is not None]
    return concat_parts(given) if given else None


def merge_runs(runs: list[SdtmRun]) -> SdtmRun:
    """The parts' runs as one: each domain's records, SE and SV in part order, and each
    source's counts summed (every part maps the same sources in the same order). The
    parts' records are taken out of ``runs`` as they are merged (one domain at a time is
    held twice, not the study)."""
    first = runs[0]
    domains = {
        code: concat_parts([r.domains.pop(code) for r in runs]) for code in list(first.domains)
    }
    sources = []
    for i, (code, _) in enumerate(first.sources):
        sources.append((code, _merge_source([r.sources[i][1] for r in runs])))
        for r in runs:
            r.sources[i] = (code, replace(r.sources[i][1], frame=r.sources[i][1].frame.iloc[:0]))
    return SdtmRun(
        domains=domains,
        sources=sources,
        se=_optional([r.se for r in runs]),
        sv=_optional([r.sv for r in runs]),
    )


def map_partitioned(
    bundle: StudyBundle,
    terminology: Any,
    raw: RawInput,
    progress: Progress,
    executor: Executor,
    parts: int,
    small: Callable[[int], bool] = lambda subjects: False,
) -> SdtmRun:
    """:func:`~cdisc_mapper.sdtm.engine.run_mapping` on up to ``parts`` parts of the
    subjects, run by ``executor`` (the serial run when there are fewer than two, or when
    the study's subjects are too few to gain from it: ``small``). An error of a part is
    raised as the part raised it: the caller reruns the serial mapping to report it as
    the serial run does (:mod:`cdisc_mapper.sdtm.partition`)."""
    forms = read_forms(bundle, terminology, raw)
    column = bundle.study.subjects.subject_column
    if small(subject_count(forms, column)):
        parts = 1
    split = split_forms(forms, column, parts)
    del forms
    if len(split) < 2:
        return run_mapping(bundle, terminology, raw, progress)
    log.debug("mapping %d parts of the subjects", len(split))
    done = list(executor.map(map_part, [bundle] * len(split), split))
    del split
    messages = done[0][1]
    run = merge_runs([r for r, _ in done])
    del done
    for message in messages:
        progress(message)
    for code, res in run.sources:
        log_source(code, res)
    return run


# ---------------------------------------------------------------- parts finished and spilled


def subject_datasets(bundle: StudyBundle, run: SdtmRun, standard: Any) -> dict[str, Dataset]:
    """The datasets a run's records finish into, before the trial design: each mapped
    domain and its SUPP--, then SE and SV (unless a spec maps them), sorted by keys."""
    return {ds.name: ds for ds in finished_datasets(bundle, run, standard)}


def finished_datasets(
    bundle: StudyBundle, run: SdtmRun, standard: Any, consume: bool = False
) -> Iterator[Dataset]:
    """:func:`subject_datasets` one at a time; ``consume`` takes each domain's working
    records out of ``run`` once finished (a part then holds one finished dataset, not
    all of them twice)."""
    made: set[str] = set()
    for code in list(run.domains):
        frame = run.domains.pop(code) if consume else run.domains[code]
        spec = bundle.domains[code]
        main, supp = finalize(code, frame, standard, spec.keys, spec)
        del frame
        for ds in (main, supp):
            if ds is not None:
                made.add(ds.name)
                yield ds
    # SE on study days serves EPOCH only (SESTDTC is Required: SE_NOT_WRITTEN)
    se = None if starts_on_study_days(bundle.study) else run.se
    for code, design in (("SE", se), ("SV", run.sv)):
        if design is not None and code not in made:
            yield finalize(code, design, standard, DESIGN_KEYS[code])[0]


@dataclass
class FinishedPart:
    """A part's finished datasets (keys checked), each source's counts (its records
    counted, not kept) and the progress messages."""

    datasets: dict[str, Dataset]
    sources: list[tuple[str, SourceResult]]
    messages: list[str]


def _counted(res: SourceResult) -> SourceResult:
    """``res`` with a frame of as many records and no columns (what the totals need)."""
    return replace(res, frame=pd.DataFrame(index=pd.RangeIndex(len(res.frame))))


def finish_part(bundle: StudyBundle, forms: Forms) -> FinishedPart:
    """Map and finish one part's records (in a worker)."""
    datasets: dict[str, Dataset] = {}
    sources, said = _finish_each(bundle, forms, lambda ds: datasets.__setitem__(ds.name, ds))
    return FinishedPart(datasets, sources, said)


def _finish_each(
    bundle: StudyBundle, forms: Forms, keep: Callable[[Dataset], None]
) -> tuple[list[tuple[str, SourceResult]], list[str]]:
    """Map one part's records (taken out of ``forms``) and hand each finished dataset
    (keys checked) to ``keep`` as it is finished; each source's counts and the progress
    messages."""
    run, said = map_part(bundle, forms)
    for ds in finished_datasets(bundle, run, load_sdtmig(), consume=True):
        spec_line = bundle.where(ds.name, ("keys",)) if ds.name in bundle.domains else None
        check_unique_keys(ds, spec_line)
        ds.origin = None
        keep(ds)
    return [(code, _counted(res)) for code, res in run.sources], said


@dataclass
class KeptPart:
    """A part finished where its datasets were kept on disk (:func:`finish_kept`)."""

    kept: list[Kept]
    sources: list[tuple[str, SourceResult]]
    messages: list[str]


def finish_kept(
    bundle: StudyBundle, raw: RawParts, part: int, folder: Path, profiled: bool
) -> KeptPart:
    """Map and finish part ``part`` (in a worker process on this machine, or here): its
    forms read from ``raw``'s files, its datasets written into ``folder``, so neither its
    records nor its datasets travel between processes."""
    kept: list[Kept] = []
    sources, said = _finish_each(
        bundle, raw.load(part), lambda ds: kept.append(keep_dataset(folder, part, ds, profiled))
    )
    return KeptPart(kept, sources, said)


def ready() -> None:
    """Nothing: a worker process running it has imported this module (pandas, the
    mapping) and loaded the standards, so its first part starts at once."""
    load_sdtmig()
    load_terminology()


def warm_up(executor: Executor | None, workers: int) -> None:
    """Start the ``workers`` processes of a process pool of this machine now (each
    imports the mapping), so that they are ready when the parts are; other executors,
    and pools whose processes end after a task, are left as they are."""
    # a pool whose processes end after one task would end them on this one
    reused = getattr(executor, "_max_tasks_per_child", None) is None
    if isinstance(executor, ProcessPoolExecutor) and reused:
        for _ in range(workers):
            executor.submit(ready)


def _finished(
    bundle: StudyBundle, raw: RawParts, spill: Spill, executor: Executor | None, window: int
) -> Iterator[KeptPart]:
    """Each part finished, in part order: here one after the other, by worker processes
    of this machine (each reading its part's forms and keeping its datasets on disk
    itself: all parts handed out at once, so no worker waits for an earlier part to be
    received), or by another executor (a Dask cluster: records sent both ways), with at
    most ``window`` parts handed out ahead."""
    if executor is None:
        for k in range(raw.parts):
            yield finish_kept(bundle, raw, k, spill.folder, spill.profiled)
        return
    local = isinstance(executor, ProcessPoolExecutor)
    window = raw.parts if local else window
    pending: deque[tuple[int, Future[Any]]] = deque()
    try:
        for k in range(raw.parts):
            job: Future[Any]
            if local:
                job = executor.submit(finish_kept, bundle, raw, k, spill.folder, spill.profiled)
            else:
                job = executor.submit(finish_part, bundle, raw.load(k))
            pending.append((k, job))
            if len(pending) >= window:
                yield _received(*pending.popleft(), spill)
        while pending:
            yield _received(*pending.popleft(), spill)
    finally:
        _settle([job for _, job in pending])


def _settle(jobs: list[Future[Any]]) -> None:
    """Parts handed out and not received (a part failed): cancelled, or waited for, so
    that no worker still writes into the working folder once it is removed."""
    for job in jobs:
        if not job.cancel():
            job.exception()


def _received(part: int, job: Future[Any], spill: Spill) -> KeptPart:
    """A finished part: as the worker kept it, or its datasets kept here."""
    done = job.result()
    if isinstance(done, KeptPart):
        return done
    kept = [keep_dataset(spill.folder, part, ds, spill.profiled) for ds in done.datasets.values()]
    return KeptPart(kept, done.sources, done.messages)


def spill_parts(
    bundle: StudyBundle,
    raw: RawParts,
    spill: Spill,
    execution: tuple[Executor | None, int],
) -> tuple[SdtmRun, list[str]]:
    """Map the subjects by parts (``raw``: each part's forms on disk,
    :func:`~cdisc_mapper.sdtm.rawparts.cut_forms`; ``execution``: the executor or None
    for this process, and the workers) and keep each part's finished datasets in
    ``spill``; the run's sources (counts summed) and the progress messages. While
    mapping, a process holds one part's records."""
    executor, workers = execution
    log.debug("mapping %d parts of the subjects", raw.parts)
    sources: list[list[tuple[str, SourceResult]]] = []
    messages: list[str] | None = None
    for k, part in enumerate(_finished(bundle, raw, spill, executor, max(workers, 1))):
        messages = part.messages if messages is None else messages
        for kept in part.kept:
            spill.register(k, kept)
        sources.append(part.sources)
        del part
    merged = [
        (code, _merge_source([s[i][1] for s in sources])) for i, (code, _) in enumerate(sources[0])
    ]
    return SdtmRun(domains={}, sources=merged), messages or []
