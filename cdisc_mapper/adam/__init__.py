"""ADaM: analysis datasets from SDTM, driven by the study's ADaM specs.

::

    from cdisc_mapper.adam import run_adam, load_adam_specs

    result = run_adam(Path("mappings/als_msc"), Path("out/sdtm"), Path("out"))
    result.datasets["ADSL"].frame            # the records (dates as SAS day numbers)
    result.datasets["ADQS"].variables        # define.xml metadata per variable
    specs = load_adam_specs(Path("mappings/als_msc"))   # the specs alone (for define.xml)

``run_adam`` writes ``out_dir/adam/<dataset>.xpt`` (SAS XPORT v5, lower-case names) and the
reports of ``adam/reports.yaml`` (``out_dir/reports/<name>.csv``, ``.md`` and ``.html``), all
at once when everything is written (:mod:`cdisc_mapper.publish`; the stage owns every ``.xpt`` of
``adam/`` and its reports' files).

Layout: the specs are :mod:`cdisc_mapper.spec.adam` (models) and
:mod:`cdisc_mapper.spec.adam_loader` (loading and checks); :mod:`.derive` (pure
derivations, each citing ADaMIG v1.3), :mod:`.ops` (the registries binding spec names to
derivations), :mod:`.engine` (build order, records, variables, metadata), :mod:`.summary`
(reports), :mod:`.sdtm` (reading SDTM, through :func:`cdisc_mapper.xpt.read_xpt`),
:mod:`.stream` (``run_adam`` by parts of the subjects in bounded memory, each part reading
its SDTM rows and its datasets written part by part; the command's default; what the
parts keep on disk is :mod:`.kept`, the reports made by workers :mod:`.reporting`) and
:mod:`.partition` (``build_adam`` by parts in workers, the datasets merged in memory).

:mod:`.summary` is imported on first use, when a study's reports are built or written:
its report modules load scipy and matplotlib (about 1.3 s and 0.2 GB), which importing
this package for the specs, the metadata (``cdisc-mapper define``) or a part's
derivation (the workers of :mod:`.partition`) does not need.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Literal

import pandas as pd

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.engine import CLASSES, build_all, dataset_metadata, sdtm_needs
from cdisc_mapper.adam.kept import Streamed, report_needs, write_parts
from cdisc_mapper.adam.model import AdamDataset, AdamResult, AdamVariable, ValueLevel
from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.adam.partition import PART_SUBJECTS, WORKER_RECORDS, build_partitioned
from cdisc_mapper.adam.report.files import summary_files
from cdisc_mapper.adam.reporting import EarlyFigures, submit_reports
from cdisc_mapper.adam.sdtm import SdtmInput
from cdisc_mapper.adam.stream import NotStreamed, stream_parts
from cdisc_mapper.datasetjson import study_context, write_dataset
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.publish import Target, owning, scratch, staged
from cdisc_mapper.spec.adam import ProgressionSummarySpec
from cdisc_mapper.spec.adam_loader import AdamSpecs
from cdisc_mapper.spec.adam_loader import load_adam_specs as _load_adam_specs
from cdisc_mapper.standards import load_adamig
from cdisc_mapper.xpt import XptVariable

__all__ = [
    "PART_SUBJECTS",
    "AdamDataset",
    "AdamResult",
    "AdamSpecs",
    "AdamVariable",
    "ValueLevel",
    "adam_metadata",
    "build_adam",
    "load_adam_specs",
    "run_adam",
    "write_adam",
]

log = logging.getLogger(__name__)


def load_adam_specs(study_dir: Path) -> AdamSpecs:
    """Load and check a study's ADaM specs (``<study>/adam/*.yaml``) against the ADaM
    derivations and record builders; every problem is a SpecError at the spec line."""
    return _load_adam_specs(Path(study_dir), DERIVATIONS, RECORD_BUILDERS)


def adam_metadata(study_dir: Path | AdamSpecs) -> dict[str, AdamDataset]:
    """The datasets' define.xml metadata from the specs alone (no SDTM needed).

    Each :class:`AdamDataset` has an empty ``frame`` (its columns in order) and the
    variables' labels, types, formats, origins, methods and sources as :func:`run_adam`
    gives them (a variable whose type only the data can tell has ``type`` None here).
    """
    specs = study_dir if isinstance(study_dir, AdamSpecs) else load_adam_specs(Path(study_dir))
    metas = dataset_metadata(BuildContext(specs=specs))
    out: dict[str, AdamDataset] = {}
    for name in sorted(metas, key=lambda n: (n != "ADSL", n)):
        ds = specs.datasets[name]
        out[name] = AdamDataset(
            name=name,
            label=ds.label,
            structure=ds.structure,
            class_=ds.class_ or CLASSES[ds.structure],
            keys=list(ds.keys),
            frame=pd.DataFrame(columns=[v.name for v in metas[name]]),
            variables=metas[name],
            comment=ds.comment,
            spec_file=str(specs.documents[name].path),
        )
    return out


def build_adam(
    study_dir: Path,
    sdtm_dir: Path,
    progress: Callable[[str], None] | None = None,
    *,
    executor: Executor | None = None,
    parts: int = 1,
    part_subjects: int = PART_SUBJECTS,
    worker_records: int = WORKER_RECORDS,
) -> AdamResult:
    """Build every ADaM dataset of the study's specs from ``sdtm_dir`` (nothing written).

    With an ``executor`` (a process pool, or a Dask client's executor) and ``parts`` > 1,
    the datasets are derived on ``parts`` parts of the subjects (more when a part would
    have over ``part_subjects`` subjects) and merged: the same datasets
    (:mod:`cdisc_mapper.adam.partition`). When a part fails, the serial run reports it.
    A study of fewer than ``worker_records`` SDTM records is built here, no worker
    process started (:data:`~cdisc_mapper.adam.partition.WORKER_RECORDS`).
    Either way the datasets' text columns are pandas' ``str`` dtype (Arrow-backed with
    pyarrow; :func:`cdisc_mapper.adam.storage.stored_series`).

    Raises:
        SpecError: a spec is malformed (names the spec file and line).
        RawDataError: an SDTM domain or variable the specs need is missing (names it and
            the spec line that needs it).
        MappingError: the data contradicts the specs (e.g. duplicate keys).

    Progress goes to ``progress``, else to this package's logger (INFO).
    """
    say = progress or log.info
    specs = load_adam_specs(Path(study_dir))
    sdtm = SdtmInput(Path(sdtm_dir))
    sdtm.check(sdtm_needs(specs))
    datasets = None
    if executor is not None and parts > 1:
        datasets = _by_parts(specs, (Path(study_dir), Path(sdtm_dir)), say, executor,
                             (parts, part_subjects, worker_records))  # fmt: skip
    if datasets is None:
        datasets = build_all(BuildContext(specs=specs, sdtm=sdtm), say)
    result = AdamResult(datasets=datasets, specs=specs)
    for name, ds in datasets.items():
        log.debug("%s: %d records, %d variables", name, len(ds.frame), len(ds.variables))
    if specs.reports.progression_summaries:
        result.reports = _progression_summaries(specs, _frames(datasets))
    return result


def _progression_summaries(
    specs: AdamSpecs, frames: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """The tables of the progression summaries of ``adam/reports.yaml``, by name
    (:mod:`.summary`, imported here on first use: see the module docstring)."""
    from cdisc_mapper.adam.summary import progression_summary  # noqa: PLC0415

    return {
        rep.name: progression_summary(frames, rep) for rep in specs.reports.progression_summaries
    }


def _by_parts(
    specs: AdamSpecs,
    folders: tuple[Path, Path],
    say: Callable[[str], None],
    executor: Executor,
    sizes: tuple[int, int, int],
) -> dict[str, AdamDataset] | None:
    """The datasets built by parts of the subjects; None when the serial run must build
    them (the study cannot be split, or a part stopped: the serial run reports why)."""
    study_dir, sdtm_dir = folders
    try:
        return build_partitioned(study_dir, specs, sdtm_dir, say, executor, *sizes)
    except CdiscMapperError as exc:
        log.debug("stopped by parts (%s); deriving serially to report it", exc)
    except Exception as exc:  # the serial run is the reference: it raises, or agrees
        log.warning("deriving by parts failed (%r); deriving serially", exc)
    return None


def _frames(datasets: dict[str, AdamDataset]) -> dict[str, pd.DataFrame]:
    return {name: ds.frame for name, ds in datasets.items()}


def _settled(vtype: Literal["Char", "Num"] | None) -> Literal["Char", "Num"]:
    """A variable's type once its dataset is finished (the data settle any left open)."""
    if vtype is None:
        raise RuntimeError("a variable's type was not settled before writing")
    return vtype


def write_adam(
    result: AdamResult,
    specs: AdamSpecs | None,
    out_dir: Path,
    formats: tuple[str, ...] = ("xpt",),
) -> list[Path]:
    """Write the datasets as ``out_dir/adam/<name>.xpt`` and the reports as
    ``out_dir/reports/<name>.csv|.md|.html``, published together once all are written (the
    ``.xpt`` files of ``adam/`` that the result does not have are removed); return the
    files written. Each dataset is written in ``formats`` (``xpt``, ``json``, ``ndjson``)."""
    out_dir = Path(out_dir)
    summaries = (specs or result.specs).reports.progression_summaries
    targets = [Target(out_dir / "adam", owning(suffixes=[".xpt", ".json", ".ndjson"]))]
    if summaries:
        targets.append(Target(out_dir / "reports", owning(names=_report_files(summaries))))
    with staged(*targets) as stages:
        files = [stages[0].final(p) for p in _write_datasets(result, stages[0].path, formats)]
        if summaries:
            frames = _frames(result.datasets)
            written = _write_reports(result.reports, frames, specs or result.specs, stages[1].path)
            files += [stages[1].final(p) for p in written]
    return files


def _report_files(summaries: list[ProgressionSummarySpec]) -> list[str]:
    """The files the progression summaries write."""
    return [name for rep in summaries for name in summary_files(rep)]


def _write_reports(
    reports: dict[str, pd.DataFrame],
    frames: dict[str, pd.DataFrame],
    specs: AdamSpecs,
    folder: Path,
) -> list[Path]:
    """Write each progression summary's files into ``folder``, in the specs' order
    (:mod:`.summary`, imported on first use: see the module docstring)."""
    from cdisc_mapper.adam.summary import write_summary  # noqa: PLC0415

    month_days = specs.conventions.month_days
    written: list[Path] = []
    for rep in specs.reports.progression_summaries:
        written += write_summary(reports[rep.name], rep, folder, frames, month_days)
    return written


def _studyid(result: AdamResult) -> str:
    """The study's STUDYID, as the datasets hold it (the first value found)."""
    for ds in result.datasets.values():
        if "STUDYID" in ds.frame.columns:
            found = [str(v) for v in pd.unique(ds.frame["STUDYID"].dropna()) if str(v).strip()]
            if found:
                return found[0].strip()
    return "STUDY"


def _write_datasets(result: AdamResult, adam_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    study = None
    if formats != ("xpt",):
        study = study_context(_studyid(result), ("ADaMIG", load_adamig().version), None, "")
    files: list[Path] = []
    for name, ds in result.datasets.items():
        files += write_dataset(
            ds.frame,
            adam_dir,
            dataset=name,
            label=ds.label,
            variables=[
                XptVariable(v.name, v.label, _settled(v.type), v.length, v.format)
                for v in ds.variables
            ],
            formats=formats,
            study=study,
            keys=ds.keys,
        )
    return files


def run_adam(
    study_dir: Path,
    sdtm_dir: Path,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
    formats: tuple[str, ...] = ("xpt",),
    *,
    executor: Executor | None = None,
    parts: int = 1,
    part_subjects: int | None = None,
    worker_records: int = WORKER_RECORDS,
) -> AdamResult:
    """Build the study's ADaM datasets from ``sdtm_dir`` and write them to ``out_dir``.

    Writes ``out_dir/adam/<dataset>.xpt`` and ``out_dir/reports/<report>.csv``, ``.md``, ``.html``;
    returns the datasets (frames and define.xml metadata), the reports and the files.

    With ``part_subjects`` (at most so many subjects in a part), or an ``executor`` and
    ``parts`` > 1, the datasets are derived by parts of the subjects, read from the SDTM
    files a part at a time, kept on disk and written part by part
    (:mod:`cdisc_mapper.adam.stream`): memory is bounded by a part, the files are the same,
    and the result's datasets hold no records (they are in the files). When the study
    cannot be split, or the parts stop on an error, it is derived serially (which reports
    the error). A study of fewer than ``worker_records`` SDTM records is derived in this
    process, the executor unused (no worker process started). Errors as :func:`build_adam`.
    """
    say = progress or log.info
    if part_subjects or (executor is not None and parts > 1):
        execution = (executor, parts, part_subjects or 0, worker_records)
        streamed = _run_streamed(Path(study_dir), Path(sdtm_dir), Path(out_dir), say, formats,
                                 execution)  # fmt: skip
        if streamed is not None:
            return streamed
    result = build_adam(study_dir, sdtm_dir, say)
    say(f"writing {len(result.datasets)} ADaM datasets to {Path(out_dir) / 'adam'}")
    result.files = write_adam(result, result.specs, Path(out_dir), formats)
    return result


def _run_streamed(
    study_dir: Path,
    sdtm_dir: Path,
    out_dir: Path,
    say: Callable[[str], None],
    formats: tuple[str, ...],
    execution: tuple[Executor | None, int, int, int],
) -> AdamResult | None:
    """:func:`run_adam` by parts (:func:`~cdisc_mapper.adam.stream.stream_parts`), the
    parts kept in a private folder of ``out_dir`` (deleted at the end); None when the
    study is to be derived serially (the reason logged)."""
    specs = load_adam_specs(study_dir)
    SdtmInput(sdtm_dir).check(sdtm_needs(specs))
    with scratch(out_dir, "adam-parts") as folder:
        try:
            early = _early_figures(execution[0], study_dir, specs)
            streamed = stream_parts(study_dir, specs, sdtm_dir, folder, execution[:3], formats,
                                    execution[3], early)  # fmt: skip
        except NotStreamed as exc:
            (log.debug if "one part" in str(exc) else log.info)("deriving ADaM serially: %s", exc)
            return None
        except CdiscMapperError as exc:
            log.debug("stopped by parts (%s); deriving serially to report it", exc)
            return None
        except Exception as exc:  # the serial run is the reference: it raises, or agrees
            log.warning("deriving by parts failed (%r); deriving serially", exc)
            return None
        for message in streamed.messages:
            say(message)
        result = AdamResult(datasets=streamed.datasets, specs=specs)
        for name, pieces in streamed.parts.items():
            rows = sum(p.rows for p in pieces)
            log.debug(
                "%s: %d records, %d variables", name, rows, len(result.datasets[name].variables)
            )
        say(f"writing {len(result.datasets)} ADaM datasets to {out_dir / 'adam'}")
        reporter = (execution[0] if streamed.in_workers else None, study_dir, early)
        result.files, result.reports = _write_streamed(streamed, specs, out_dir, formats, reporter)
    return result


def _early_figures(
    executor: Executor | None, study_dir: Path, specs: AdamSpecs
) -> EarlyFigures | None:
    """What hands out the trajectory figures while the parts are derived by workers."""
    if executor is None or not specs.reports.progression_summaries:
        return None
    return EarlyFigures(executor, study_dir, specs, specs.conventions.missing_keys == "last")


def _write_streamed(
    streamed: Streamed,
    specs: AdamSpecs,
    out_dir: Path,
    formats: tuple[str, ...],
    reporter: tuple[Executor | None, Path, EarlyFigures | None],
) -> tuple[list[Path], dict[str, pd.DataFrame]]:
    """Write the datasets of ``streamed`` part by part and the reports from the records
    they read back (:func:`streamed_reports`), published together as :func:`write_adam`
    does; the files and the reports' tables. With an executor (``reporter``: it and the
    study folder), a worker makes the reports while the datasets are written here."""
    summaries = specs.reports.progression_summaries
    targets = [Target(out_dir / "adam", owning(suffixes=[".xpt", ".json", ".ndjson"]))]
    if summaries:
        targets.append(Target(out_dir / "reports", owning(names=_report_files(summaries))))
    study = None
    if formats != ("xpt",):
        study = study_context(streamed.studyid, ("ADaMIG", load_adamig().version), None, "")
    reports: dict[str, pd.DataFrame] = {}
    with staged(*targets) as stages:
        pending, (executor, study_dir, early) = None, reporter
        if summaries and executor is not None:
            drawn = early.drawn if early is not None else None
            pending = submit_reports(executor, study_dir, specs, streamed, stages[1].path, drawn)
        files = []
        for name in streamed.datasets:
            written = write_parts(streamed, name, stages[0].path, formats, study)
            files += [stages[0].final(p) for p in written]
        log.debug("datasets written")
        if summaries:
            made = pending.finish(specs, stages[1].path) if pending is not None else None
            reports, written = made or streamed_reports(specs, streamed, stages[1].path)
            files += [stages[1].final(p) for p in written]
    return files, reports


def streamed_reports(
    specs: AdamSpecs, streamed: Streamed, folder: Path
) -> tuple[dict[str, pd.DataFrame], list[Path]]:
    """The reports' tables and files (written into ``folder``) from the records of
    ``streamed`` they read back (:func:`~cdisc_mapper.adam.kept.report_needs`), here
    (:func:`~cdisc_mapper.adam.reporting.submit_reports` makes them in workers)."""
    needs = report_needs(specs).items()
    frames = {n: streamed.records(n, codes) for n, codes in needs if n in streamed.datasets}
    reports = _progression_summaries(specs, frames)
    return reports, _write_reports(reports, frames, specs, folder)
