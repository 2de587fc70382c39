"""`cdisc-mapper sdtm`: specs + raw forms -> SDTM XPT files and a reconciliation.

The stage owns every ``.xpt`` file and ``reconciliation.csv`` of ``OUT/sdtm`` and
publishes them at once (:mod:`cdisc_mapper.publish`): a failed or interrupted run leaves
the previous package as it was; other files there (define.xml) are kept."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Container
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from cdisc_mapper.datasetjson import (
    SUFFIX,
    DatasetJsonAppender,
    StudyContext,
    dataset_metadata,
    define_file,
    parse_formats,
    study_context,
    write_dataset,
)
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.publish import Target, owning, scratch, staged
from cdisc_mapper.raw import RawFrames, open_form
from cdisc_mapper.sdtm import load_study
from cdisc_mapper.sdtm.engine import (
    RawInput,
    SdtmRun,
    check_csv_files,
    csv_dialect,
    edc_settings,
    log_source,
    map_forms,
    read_forms,
    run_mapping,
)
from cdisc_mapper.sdtm.finalize import (
    DESIGN_KEYS,
    Dataset,
    check_against_standard,
    check_unique_keys,
    finalize,
)
from cdisc_mapper.sdtm.partition import (
    map_partitioned,
    spill_parts,
    subject_datasets,
    warm_up,
)
from cdisc_mapper.sdtm.rawparts import cut_forms, scan_forms, subject_starts
from cdisc_mapper.sdtm.spill import Spill
from cdisc_mapper.sdtm.subject_design import SE_NOT_WRITTEN, starts_on_study_days
from cdisc_mapper.sdtm.trial_design import build_trial_design
from cdisc_mapper.spec.sdtm_loader import StudyBundle
from cdisc_mapper.spec.study import StudySpec
from cdisc_mapper.standards import load_sdtmig, load_terminology
from cdisc_mapper.textops import neutralise_formula
from cdisc_mapper.xpt import XptAppender, XptVariable, longest, sized

RECONCILIATION_FILE = "reconciliation.csv"
OWNED = owning(names=[RECONCILIATION_FILE], suffixes=[".xpt", ".json", ".ndjson"])
"""The files of ``OUT/sdtm`` the stage replaces (a dataset it no longer makes goes too)."""

log = logging.getLogger(__name__)


@dataclass
class SdtmResult:
    """The finished datasets, the mapping run, the reconciliation rows (one per raw form
    and domain, as ``reconciliation.csv`` holds them) and the files written."""

    datasets: dict[str, Dataset]
    run: SdtmRun
    files: list[Path] = field(default_factory=list)
    reconciliation: list[dict] = field(default_factory=list)
    study: StudyContext | None = None
    """What Dataset-JSON files say of the study (OIDs, sponsor)."""


def build_datasets(bundle: StudyBundle, run: SdtmRun, standard, terminology) -> dict[str, Dataset]:
    """Finished datasets (parents and SUPP--) in name order."""
    out = subject_datasets(bundle, run, standard)
    if run.se is not None and starts_on_study_days(bundle.study):
        log.warning(SE_NOT_WRITTEN)
    dm = out["DM"].frame if "DM" in out else None
    for name, ds in trial_design(bundle, terminology, dm, standard, out).items():
        out[name] = ds
    for name, ds in out.items():
        spec_line = bundle.where(name, ("keys",)) if name in bundle.domains else None
        check_unique_keys(ds, spec_line)
    return dict(sorted(out.items()))


def trial_design(
    bundle: StudyBundle, terminology, dm: pd.DataFrame | None, standard, made: Container[str]
) -> dict[str, Dataset]:
    """The trial design datasets built from the study spec (and DM) that no spec maps
    (``made``: the names of the datasets mapped)."""
    out = {}
    for code, frame in build_trial_design(bundle.study, terminology, dm).items():
        if code not in made:
            out[code] = finalize(code, frame, standard, DESIGN_KEYS[code])[0]
    return out


def _raise_if_interrupted(exc: BaseException) -> None:
    """Raise the interrupt (Ctrl-C, SIGTERM's exit) behind ``exc``, if any: an error
    raised while the parts were being cleaned up after an interrupt must end the run, not
    start the serial run that reports errors."""
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        if not isinstance(seen, Exception):
            raise seen
        visited.add(id(seen))
        seen = seen.__cause__ or seen.__context__


def write_datasets(
    datasets: dict[str, Dataset],
    out_dir: Path,
    formats: tuple[str, ...] = ("xpt",),
    study: StudyContext | None = None,
) -> list[Path]:
    """Each dataset as ``<name>.xpt`` / ``.json`` / ``.ndjson`` in ``formats``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for name, ds in datasets.items():
        files += write_dataset(
            ds.frame,
            out_dir,
            dataset=name,
            label=ds.label,
            variables=[XptVariable(v.name, v.label, v.type) for v in ds.variables],
            formats=formats,
            study=study,
            keys=ds.keys,
        )
    return files


def reconciliation_rows(run: SdtmRun, raw: RawInput, study: StudySpec) -> list[dict]:
    """Per form and domain: rows read = rows mapped + rows excluded (with reasons); each
    file as the spec names it, relative to the raw folder.

    Raw files that no spec reads are listed too, all records excluded, so nothing is lost
    without a word. They are read as the used ones are, strictly and only inside the raw
    folder (given in memory: the frames no spec read)."""
    rows = []
    for code, res in run.sources:
        excluded = sum(res.excluded.values())
        rows.append(
            {
                "domain": code,
                "form": res.form,
                "file": res.file,
                "rows_read": res.rows_read,
                "rows_mapped": res.rows_mapped,
                "rows_excluded": excluded,
                "exclusion_reasons": "; ".join(
                    f"{k}: {v}" for k, v in sorted(res.excluded.items())
                ),
                "records_written": len(res.frame),
                "empty_items_not_recorded": res.values_not_recorded,
            }
        )
    for form, file, n, reason in _unused_forms(run, raw, study):
        rows.append(
            {
                "domain": "",
                "form": form,
                "file": file,
                "rows_read": n,
                "rows_mapped": 0,
                "rows_excluded": n,
                "exclusion_reasons": f"{reason}: {n}",
                "records_written": 0,
                "empty_items_not_recorded": 0,
            }
        )
    return rows


UNUSED = "form not used by any domain spec"


def _unused_forms(run: SdtmRun, raw: RawInput, study: StudySpec) -> list[tuple[str, str, int, str]]:
    """(form, file, records, reason) of each raw file (or frame, or form of an EDC
    export) that no spec reads, and of an export's records that are no form's."""
    if isinstance(raw, RawFrames):
        forms = raw.unused(res.file for _, res in run.sources)
        return [(form.name, form.file, len(form.data), UNUSED) for form in forms]
    if run.export is not None:
        export = run.export
        out = [
            (f.name, f.file, len(f.data), UNUSED)
            for f in export.unused(r.file for _, r in run.sources)
        ]
        return out + [(x.label, export.file, x.rows, x.reason) for x in export.leftovers]
    raw_dir = Path(raw)
    used = {(raw_dir / res.file).resolve() for _, res in run.sources}
    out = []
    for path in sorted(raw_dir.iterdir()):
        if path.suffix.lower() not in {".csv", ".xlsx", ".sas7bdat"} or path.resolve() in used:
            continue
        dialect = csv_dialect(study, path.name)
        n = len(open_form(path.stem, raw_dir, path.name, dialect=dialect).data)
        out.append((path.stem, path.name, n, UNUSED))
    return out


def write_reconciliation(rows: list[dict], path: Path) -> None:
    fields = [
        "domain",
        "form",
        "file",
        "rows_read",
        "rows_mapped",
        "rows_excluded",
        "exclusion_reasons",
        "records_written",
        "empty_items_not_recorded",
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: neutralise_formula(v) for k, v in row.items()} for row in rows)


PART_SUBJECTS = 2000
"""The most subjects in a part by default (``--part-subjects``): measured in
docs/performance.md."""

WORKER_SUBJECTS = 500
"""The fewest subjects per worker process for which a process pool of this machine maps
the study: a smaller study maps in this process, starting no worker. The pool costs 1.2
to 2.4 s more CPU whatever the size (starting and importing each worker, the parts
written to disk and read back): measured on 2 cores (issue 19), 250 subjects 1.7 s CPU
here against 3.4 s with 2 workers, 500 2.2 against 4.1, 1,000 4.0 against 5.0, 2,000
7.5 against 9.9. Below about 600 subjects 2 workers are slower even on an idle machine;
below 1,000 they would save under a second for a third more CPU."""


@dataclass(frozen=True)
class Execution:
    """How the mapping runs: serially (``executor`` None), or on up to ``parts`` parts of
    the subjects handed to ``executor`` (a process pool, or a Dask client's executor:
    :mod:`cdisc_mapper.sdtm.partition`)."""

    executor: Executor | None = None
    parts: int = 1
    part_subjects: int | None = None
    """At most this many subjects in a part: the datasets are then written part by part
    (:func:`stream_sdtm`), so memory is bounded by a part, not by the study."""
    worker_subjects: int = WORKER_SUBJECTS
    """A study of fewer than this many subjects per worker maps in this process when
    ``executor`` is a process pool of this machine (:meth:`for_subjects`)."""

    @property
    def streamed(self) -> bool:
        """Whether the run maps by parts and writes the files part by part."""
        return bool(self.part_subjects) or (self.executor is not None and self.parts > 1)

    def for_subjects(self, subjects: int) -> Execution:
        """This execution for a study of ``subjects`` subjects: without its process pool
        (one process, no worker started) when the study has fewer than
        :attr:`worker_subjects` per worker; a Dask cluster's workers (already running,
        asked for) are always used."""
        local = isinstance(self.executor, ProcessPoolExecutor)
        if local and subjects < self.worker_subjects * max(self.parts, 1):
            return replace(self, executor=None, parts=1)
        return self


SERIAL = Execution()


def map_and_build(
    bundle: StudyBundle,
    raw: RawInput,
    progress: Callable[[str], None] | None,
    execution: Execution = SERIAL,
) -> tuple[SdtmRun, dict[str, Dataset]]:
    """The mapping run and the finished datasets, serially or by parts of the subjects;
    when a part (or their merge) stops on an error, the serial run reports it, so an error
    reads the same however the run is split."""
    standard = load_sdtmig()
    terminology = bundle.terminology(load_terminology())
    if execution.executor is not None and execution.parts > 1:
        say = progress or logging.getLogger("cdisc_mapper.sdtm.engine").info
        try:
            run = map_partitioned(
                bundle, terminology, raw, say, execution.executor, execution.parts,
                small=lambda subjects: execution.for_subjects(subjects).executor is None,
            )  # fmt: skip
            return run, build_datasets(bundle, run, standard, terminology)
        except CdiscMapperError as exc:
            _raise_if_interrupted(exc)
            log.debug("stopped by parts (%s); mapping serially to report it", exc)
        except Exception as exc:  # the serial run is the reference: it raises, or agrees
            _raise_if_interrupted(exc)
            log.warning("mapping by parts failed (%r); mapping serially", exc)
    run = run_mapping(bundle, terminology, raw, progress)
    return run, build_datasets(bundle, run, standard, terminology)


def build_sdtm(
    study: Path | StudyBundle,
    raw: Path | RawFrames,
    progress: Callable[[str], None] | None = None,
    execution: Execution = SERIAL,
) -> SdtmResult:
    """Map the raw forms (the raw folder, or DataFrames given as
    :class:`~cdisc_mapper.raw.RawFrames`) with the study's specs (its folder, or the
    :class:`StudyBundle` loaded from it) to finished SDTM datasets and the
    reconciliation rows; nothing is written. Progress goes to ``progress``, else to this
    module's logger (INFO). ``execution`` splits the work by subjects (the same result)."""
    bundle = study if isinstance(study, StudyBundle) else load_study(Path(study))
    standard = load_sdtmig()
    check_against_standard(bundle, standard)
    raw = raw if isinstance(raw, RawFrames) else Path(raw)
    run, datasets = map_and_build(bundle, raw, progress, execution)
    return _result(bundle, run, datasets, raw, standard)


def _result(
    bundle: StudyBundle, run: SdtmRun, datasets: dict[str, Dataset], raw: RawInput, standard
) -> SdtmResult:
    """The result of a mapping run whose datasets are finished (nothing written)."""
    rows = reconciliation_rows(run, raw, bundle.study)
    for name, ds in datasets.items():
        log.debug("%s: %d records, %d variables", name, len(ds.frame), len(ds.variables))
    study_ctx = study_context(
        bundle.study.studyid, ("SDTMIG", standard.version), bundle.study.sponsor, ""
    )
    return SdtmResult(datasets=datasets, run=run, reconciliation=rows, study=study_ctx)


def write_sdtm(
    result: SdtmResult, out_dir: Path, formats: tuple[str, ...] = ("xpt",)
) -> list[Path]:
    """Write the datasets (each in ``formats``: ``xpt``, ``json``, ``ndjson``,
    :mod:`cdisc_mapper.datasetjson`) and ``reconciliation.csv`` into ``out_dir/sdtm``, all
    at once (the dataset files there that the result has not are removed); return the
    files."""
    sdtm_dir = Path(out_dir) / "sdtm"
    with staged(Target(sdtm_dir, OWNED)) as (stage,):
        written = write_datasets(result.datasets, stage.path, formats, result.study)
        write_reconciliation(result.reconciliation, stage.path / RECONCILIATION_FILE)
    return [stage.final(p) for p in written] + [sdtm_dir / RECONCILIATION_FILE]


def run_sdtm(
    study_dir: Path,
    raw_dir: Path,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
    formats: tuple[str, ...] = ("xpt",),
    execution: Execution = SERIAL,
) -> SdtmResult:
    """Map ``raw_dir`` with the specs in ``study_dir`` and write ``out_dir/sdtm`` (all
    files at once, only when the whole stage succeeded), each dataset in ``formats``
    (``xpt``, ``json``, ``ndjson``: :mod:`cdisc_mapper.datasetjson`); ``execution``
    splits the mapping by subjects and writes the datasets part by part (the same files:
    :func:`stream_sdtm`). When the parts stop on an error, the serial run reports it, so
    an error reads the same however the run is split."""
    say = progress or log.info
    if execution.streamed:
        try:
            streamed = stream_sdtm(study_dir, raw_dir, out_dir, progress, formats, execution)
            if streamed is not None:
                return streamed
        except CdiscMapperError as exc:
            _raise_if_interrupted(exc)
            log.debug("stopped by parts (%s); mapping serially to report it", exc)
        except Exception as exc:  # the serial run is the reference: it raises, or agrees
            _raise_if_interrupted(exc)
            log.warning("mapping by parts failed (%r); mapping serially", exc)
    result = build_sdtm(study_dir, raw_dir, progress)
    say(f"writing {len(result.datasets)} datasets to {Path(out_dir) / 'sdtm'}")
    result.files = write_sdtm(result, out_dir, formats)
    return result


def stream_sdtm(
    study_dir: Path | StudyBundle,
    raw_dir: Path | RawFrames,
    out_dir: Path,
    progress: Callable[[str], None] | None,
    formats: tuple[str, ...],
    execution: Execution,
) -> SdtmResult | None:
    """:func:`run_sdtm` by parts of the subjects (:func:`~cdisc_mapper.sdtm.partition.spill_parts`):
    each part's finished datasets are kept in a private folder of ``out_dir`` (deleted at
    the end) and each dataset is written from them in key order, its files appended part
    by part (:class:`~cdisc_mapper.xpt.XptAppender`,
    :class:`~cdisc_mapper.datasetjson.DatasetJsonAppender`). The result's datasets hold
    no records (they are in the files). With one part, the study is mapped whole from the
    forms read; None for an EDC export (mapped serially, nothing written)."""
    bundle = study_dir if isinstance(study_dir, StudyBundle) else load_study(Path(study_dir))
    standard = load_sdtmig()
    check_against_standard(bundle, standard)
    raw = raw_dir if isinstance(raw_dir, RawFrames) else Path(raw_dir)
    say = progress or logging.getLogger("cdisc_mapper.sdtm.engine").info
    if edc_settings(bundle.study) is not None:
        return None  # an EDC export is read (and reported) whole: the serial run maps it
    terminology = bundle.terminology(load_terminology())
    check_csv_files(bundle, raw)
    scanned = scan_forms(bundle, raw)
    if scanned is not None:
        execution = execution.for_subjects(len(scanned.counts()))
    starts = subject_starts(scanned, execution.parts, execution.part_subjects) if scanned else []
    if scanned is None or not starts:
        del scanned
        return _whole(bundle, terminology, raw, out_dir, progress, formats)
    warm_up(execution.executor, execution.parts)  # the workers import while the forms are cut
    with scratch(Path(out_dir), "sdtm-parts") as folder:
        raw_parts = cut_forms(bundle, scanned, starts, folder)
        del scanned
        formats = parse_formats(formats)
        spill = Spill(folder, profiled=formats != ("xpt",))
        run, messages = spill_parts(bundle, raw_parts, spill, (execution.executor, execution.parts))
        if bundle.study.elements and starts_on_study_days(bundle.study):
            log.warning(SE_NOT_WRITTEN)
        for message in messages:
            say(message)
        for code, res in run.sources:
            log_source(code, res)
        dm = spill.whole("DM").frame if "DM" in spill else None
        design = trial_design(bundle, terminology, dm, standard, spill)
        del dm
        for ds in design.values():
            check_unique_keys(ds)
        names = sorted([*spill.datasets, *design])
        rows = reconciliation_rows(run, raw, bundle.study)
        for name in names:
            n = spill.datasets[name].rows if name in spill else len(design[name].frame)
            shape = spill.datasets[name].variables if name in spill else design[name].variables
            log.debug("%s: %d records, %d variables", name, n, len(shape))
        (progress or log.info)(f"writing {len(names)} datasets to {Path(out_dir) / 'sdtm'}")
        study_ctx = study_context(
            bundle.study.studyid, ("SDTMIG", standard.version), bundle.study.sponsor, ""
        )
        sdtm_dir = Path(out_dir) / "sdtm"
        with staged(Target(sdtm_dir, OWNED)) as (stage,):
            writing = (stage.path, formats, study_ctx)
            written = _write_all(spill, design, names, writing, execution.executor)
            write_reconciliation(rows, stage.path / RECONCILIATION_FILE)
        datasets = {n: design[n] if n in design else spill.datasets[n].empty() for n in names}
    result = SdtmResult(datasets=datasets, run=run, reconciliation=rows, study=study_ctx)
    result.files = [stage.final(p) for p in written] + [sdtm_dir / RECONCILIATION_FILE]
    return result


def _whole(
    bundle: StudyBundle,
    terminology: Any,
    raw: RawInput,
    out_dir: Path,
    progress: Callable[[str], None] | None,
    formats: tuple[str, ...],
) -> SdtmResult:
    """The study mapped whole (one part) from the forms read, and written."""
    say = progress or logging.getLogger("cdisc_mapper.sdtm.engine").info
    forms = read_forms(bundle, terminology, raw)
    run = map_forms(bundle, terminology, forms, say)
    del forms
    for code, res in run.sources:
        log_source(code, res)
    standard = load_sdtmig()
    datasets = build_datasets(bundle, run, standard, terminology)
    result = _result(bundle, run, datasets, raw, standard)
    (progress or log.info)(f"writing {len(datasets)} datasets to {Path(out_dir) / 'sdtm'}")
    result.files = write_sdtm(result, out_dir, formats)
    return result


def _write_all(
    spill: Spill,
    design: dict[str, Dataset],
    names: list[str],
    writing: tuple[Path, tuple[str, ...], StudyContext],
    executor: Executor | None,
) -> list[Path]:
    """The files of each dataset of ``names`` (in ``writing``: folder, formats, study),
    in name order: the trial design's here; the spilled ones here, or by the worker
    processes of this machine when there are (each reads its dataset's blocks), the
    largest first."""
    folder, formats, study = writing
    jobs: dict[str, Future[list[Path]]] = {}
    if isinstance(executor, ProcessPoolExecutor):
        for name in sorted(spill.datasets, key=lambda n: -spill.datasets[n].rows):
            jobs[name] = executor.submit(write_spilled, spill.only(name), name, *writing)
    written: list[Path] = []
    try:
        for name in names:
            if name in design:
                written += write_datasets({name: design[name]}, folder, formats, study)
            elif name in jobs:
                written += jobs[name].result()
            else:
                written += write_spilled(spill, name, folder, formats, study)
    finally:
        for job in jobs.values():
            if not job.cancel():
                job.exception()
    return written


def write_spilled(
    spill: Spill, name: str, folder: Path, formats: tuple[str, ...], study: StudyContext
) -> list[Path]:
    """Dataset ``name`` of ``spill`` in each of ``formats``, appended a part at a time
    (each file's header from all the parts: XPT lengths, Dataset-JSON column metadata)."""
    spilled = spill.datasets[name]
    variables = spilled.xpt_variables
    files = []
    for fmt in formats:
        path = folder / f"{name.lower()}{SUFFIX[fmt]}"
        writer: XptAppender | DatasetJsonAppender
        if fmt == "xpt":
            lengths = sized(variables, longest(spilled.lengths))
            writer = XptAppender(path, dataset=name, label=spilled.label, variables=lengths)
        else:
            context = replace(study, metadata_ref=define_file(fmt, formats))
            meta = dataset_metadata(
                spilled.profile_frame(), name, spilled.label, variables, study=context,
                keys=spilled.keys,
            )  # fmt: skip
            writer = DatasetJsonAppender(path, meta, spilled.rows)
        with writer:
            for frame in spill.frames(name):
                writer.append(frame)
        files.append(path)
    return files
