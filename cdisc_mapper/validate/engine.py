"""Running the registered checks over a package: :func:`validate_package`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cdisc_mapper.define.reader import DefineReadError, read_define
from cdisc_mapper.standards import load_adamig, load_sdtmig, load_terminology
from cdisc_mapper.validate import checks as _checks  # noqa: F401  (registers the checks)
from cdisc_mapper.validate.context import Context, PackageDefine, SkipCheck
from cdisc_mapper.validate.errors import ValidationInputError
from cdisc_mapper.validate.frames import CACHE_BYTES, FrameStore
from cdisc_mapper.validate.model import (
    ERROR,
    CheckResult,
    CheckSpec,
    DatasetSummary,
    ValidationReport,
)
from cdisc_mapper.validate.package import Dataset, discover, iter_files, read_dataset
from cdisc_mapper.validate.parallel import PROCESSES_FROM, portable, workers_for
from cdisc_mapper.validate.recon import find_reconciliation, read_reconciliation
from cdisc_mapper.validate.registry import check, registered_checks
from cdisc_mapper.validate.rowcontext import row_contexts
from cdisc_mapper.validate.runs import Run, applies, report_crash, run_on
from cdisc_mapper.validate.unreadable import Unreadable, check_encoding

DEFAULT_LIMIT = 1000
"""Findings kept per check and dataset; the rest are counted."""


@check(
    "VX0001",
    ERROR,
    "validator",
    "A check failed with an internal error",
    explanation="A bug in the validator, not necessarily in the data: the check was "
    "interrupted on this dataset. Please report it with the message.",
)
def _internal_error(ctx: Context, ds: Dataset) -> None:  # pragma: no cover - placeholder
    """Findings of this ID are produced by the runner when a check raises."""


@dataclass(frozen=True)
class Package:
    """What :func:`read_package` found: the folder, the datasets read (by name, in name
    order), the files that could not be read (reported by SD0017), and the store that
    holds the datasets' records within the memory budget (:mod:`.frames`)."""

    root: Path
    datasets: dict[str, Dataset]
    unreadable: tuple[Unreadable, ...] = ()
    store: FrameStore = field(default_factory=FrameStore)


def read_package(
    path: Path,
    *,
    encoding: str | None = None,
    dataset_format: str | None = None,
    cache_bytes: int = CACHE_BYTES,
) -> Package:
    """Find and read every dataset of the package; a file that cannot be read (not XPORT,
    truncated, text not in ``encoding``, a second file of one dataset) is set aside with
    the reason, and the others are read.

    Large files are read when used, and records are let go beyond ``cache_bytes``
    (:mod:`cdisc_mapper.validate.frames`): memory stays bounded by the largest dataset.

    Raises:
        ValidationInputError: the folder is missing or holds no ``.xpt`` file, or
            ``encoding`` is not a known codec.
    """
    check_encoding(encoding)
    root, files = discover(Path(path), dataset_format)
    sdtmig, adamig = load_sdtmig(), load_adamig()
    datasets: dict[str, Dataset] = {}
    unreadable: list[Unreadable] = []
    store = FrameStore(cache_bytes)
    for file in iter_files(root, files):
        ds = read_dataset(root, file, encoding=encoding, sdtmig=sdtmig, adamig=adamig, store=store)
        if isinstance(ds, Unreadable):
            unreadable.append(ds)
        elif ds.name in datasets:
            unreadable.append(
                Unreadable(
                    ds.file,
                    ds.name,
                    f"holds dataset {ds.name}, already read from {datasets[ds.name].file}; "
                    "this file was not checked (validate one package at a time: remove the "
                    "copy)",
                )
            )
        else:
            datasets[ds.name] = ds
            if ds.frame is not None:
                store.loaded(ds)
    return Package(root, dict(sorted(datasets.items())), tuple(unreadable), store)


def load_package(path: Path, *, encoding: str | None = None) -> tuple[Path, dict[str, Dataset]]:
    """Find and read every dataset of the package, all or nothing.

    Raises:
        ValidationInputError: as :func:`read_package`, and for the first file that cannot
            be read (:func:`validate_package` reports those as SD0017 findings instead).
    """
    package = read_package(path, encoding=encoding)
    if package.unreadable:
        first = package.unreadable[0]
        raise ValidationInputError(first.message, where=first.file)
    return package.root, package.datasets


def validate_package(
    path: Path,
    *,
    define: Path | Sequence[Path] | None = None,
    encoding: str | None = None,
    limit: int = DEFAULT_LIMIT,
    checks: list[str] | None = None,
    dataset_format: str | None = None,
    cache_bytes: int = CACHE_BYTES,
    workers: int = 1,
    processes_from: int = PROCESSES_FROM,
) -> ValidationReport:
    """Validate the datasets under ``path`` and return the report.

    Args:
        path: a package folder (``path/sdtm`` and/or ``path/adam``, or ``.xpt`` files
            directly in ``path``), or one ``.xpt`` file.
        define: a define.xml to compare with the datasets (DD checks), or several (one
            per standard, e.g. ``[out/sdtm/define.xml, out/adam/define.xml]``); a define
            is compared with the datasets of the standard it describes. None skips them.
        encoding: character encoding of the XPT files (e.g. ``"WINDOWS-1252"``); None
            lets readstat decide.
        limit: findings kept per check and dataset (the rest are counted, not listed).
        checks: IDs of the checks to run (default: all registered).
        dataset_format: read the ``xpt``, ``json`` or ``ndjson`` files of each folder;
            None reads the preferred format present (XPT before Dataset-JSON).
        cache_bytes: memory the records of the datasets not being checked may hold
            (:mod:`cdisc_mapper.validate.frames`); the report does not depend on it.
        workers: check the datasets in this many processes (this one among them) when
            their files hold at least ``processes_from`` bytes and every check run is
            one of this package's (:func:`~.parallel.portable`); the report does not
            depend on it. The processes are started with ``spawn``: a script
            calling this with ``workers`` > 1 needs the ``if __name__ == "__main__":``
            guard.

    A file that cannot be read (not XPORT, truncated, text not in ``encoding``) is an
    SD0017 finding naming the file (and, for text, the byte offset), and the rest of the
    package is checked.

    Raises:
        ValidationInputError: the folder is missing or holds no ``.xpt`` file,
            ``encoding`` is not a known codec, or a ``define`` file is missing (one that
            is not Define-XML is a DD0008 finding).
    """
    define_paths = _define_paths(define)
    define_meta = _read_defines(define_paths) if define_paths else None
    specs = _selected(checks)
    internal = next(s for s in specs if s.id == "VX0001")
    runs = [Run(spec) for spec in specs if spec.id != "VX0001"]
    by_dataset = [r for r in runs if not r.spec.scope.package]
    _, files = discover(Path(path), dataset_format)
    processes = workers if portable(specs) else 1
    with workers_for(files, processes, processes_from) as pool:  # started while reading
        package = read_package(
            Path(path), encoding=encoding, dataset_format=dataset_format, cache_bytes=cache_bytes
        )
        ctx = _context(package, define_meta, define_paths, limit)
        if pool is None:
            _run_by_dataset(ctx, package.store, by_dataset, internal)
        else:
            pool.check(ctx, package.store, by_dataset)
    root, datasets, terminology = package.root, package.datasets, ctx.terminology
    recon_rows = ctx.reconciliation
    for run in runs:
        if run.spec.scope.package:
            _run_package_check(ctx, run, internal)
    results = [_outcome(ctx, run) for run in runs]
    results.append(_result(ctx, internal, "failed" if ctx.counts[internal.id] else "passed", ""))
    results.sort(key=lambda r: r.spec.id)
    findings = sorted(ctx.findings, key=lambda f: f.sort_key())
    report = ValidationReport(
        package=str(root),
        datasets=[_summary(ds) for ds in datasets.values()],
        findings=findings,
        checks=results,
        reconciliation=recon_rows,
        define=", ".join(p.name for p in define_paths) if define_paths else None,
        standards={
            "SDTMIG": ctx.sdtmig.version,
            "ADaMIG": ctx.adamig.version,
            **{f"CT {k}": v for k, v in sorted(terminology.versions.items())},
        },
    )
    report.contexts = row_contexts(datasets, report.groups)
    return report


def _selected(checks: list[str] | None) -> list[CheckSpec]:
    """The checks to run (with VX0001, which reports crashes): all, or those named.

    Raises:
        ValidationInputError: an ID names no check.
    """
    specs = registered_checks()
    if checks is not None:
        unknown = sorted(set(checks) - {s.id for s in specs})
        if unknown:
            raise ValidationInputError(f"unknown check IDs: {', '.join(unknown)}")
        specs = [s for s in specs if s.id in checks or s.id == "VX0001"]
    return specs


def _context(
    package: Package, define: PackageDefine | None, define_paths: tuple[Path, ...], limit: int
) -> Context:
    """What every check sees of ``package``: the standards, the define.xml files read,
    and the reconciliation rows beside the datasets."""
    recon_path = find_reconciliation(package.root)
    recon_rows, recon_error = (
        read_reconciliation(recon_path) if recon_path is not None else (None, None)
    )
    return Context(
        package.root,
        package.datasets,
        sdtmig=load_sdtmig(),
        adamig=load_adamig(),
        terminology=load_terminology(),
        define=define,
        define_path=define_paths[0] if define_paths else None,
        define_paths=define_paths,
        reconciliation=recon_rows,
        reconciliation_error=recon_error,
        limit=limit,
        unreadable=package.unreadable,
    )


def _run_by_dataset(ctx: Context, store: FrameStore, runs: list[Run], internal: CheckSpec) -> None:
    """The dataset-scoped checks, dataset by dataset: each dataset's records are read
    once and held while its checks run, then let go unless other datasets' checks look
    them up (:meth:`FrameStore.turn`), with what the checks cached about it. Each check
    still meets the datasets in name order, so its findings are those it gives running
    alone, and a check that skips stops for the datasets after."""
    for ds in ctx.datasets.values():
        todo = [run for run in runs if not run.stopped and applies(run.spec, ds)]
        if not todo:
            continue
        with store.turn(ds):
            for run in todo:
                run_on(ctx, run, ds, internal)
        ctx.forget(ds.name)


def _read_defines(paths: tuple[Path, ...]) -> PackageDefine:
    """Read every define.xml given; one that exists but is not Define-XML (not XML, not
    ODM) is set aside with the reason, which DD0008 reports, and the others are used.

    Raises:
        ValidationInputError: a file is missing, or two describe the same dataset.
    """
    documents = []
    unreadable: list[tuple[Path, str]] = []
    for path in paths:
        try:
            documents.append(read_define(path))
        except DefineReadError as exc:
            if path.is_file():
                line = getattr(exc.where, "line", None)
                unreadable.append(
                    (path, exc.message if line is None else f"line {line}: {exc.message}")
                )
                continue
            raise ValidationInputError(
                exc.message,
                where=exc.where,
                hint="give the path of an existing define.xml, or leave --define out",
            ) from exc
    return PackageDefine.of(documents, unreadable=tuple(unreadable))


def _define_paths(define: Path | Sequence[Path] | None) -> tuple[Path, ...]:
    if define is None:
        return ()
    if isinstance(define, str | Path):
        return (Path(define),)
    return tuple(Path(p) for p in define)


def _run_package_check(ctx: Context, run: Run, internal: CheckSpec) -> None:
    spec = run.spec
    ctx.current = spec
    applicable = spec.scope.standard == "any" or any(
        d.standard == spec.scope.standard for d in ctx.datasets.values()
    )
    if not applicable:
        return
    try:
        spec.func(ctx)
        run.ran = True
    except SkipCheck as skip:
        run.notes.append(str(skip))
    except Exception as exc:  # a validator bug must not hide the other checks
        report_crash(ctx, internal, spec, None, exc)
        run.ran = True


def _outcome(ctx: Context, run: Run) -> CheckResult:
    spec, notes = run.spec, run.notes
    if notes and not run.ran:
        return _result(ctx, spec, "skipped", notes[0])
    if not run.ran and not notes:
        return _result(ctx, spec, "not applicable", "")
    status = "failed" if ctx.counts[spec.id] else "passed"
    return _result(ctx, spec, status, notes[0] if notes else "")


def _result(ctx: Context, spec: CheckSpec, status: str, note: str) -> CheckResult:
    return CheckResult(
        spec=spec,
        findings=ctx.counts[spec.id],
        suppressed=ctx.suppressed[spec.id],
        status=status,  # type: ignore[arg-type]
        note=note,
        by_dataset={ds: n for (cid, ds), n in sorted(ctx.found.items()) if cid == spec.id},
    )


def _summary(ds: Dataset) -> DatasetSummary:
    if ds.ig_name is None:
        metadata = "none"
    elif ds.standard == "ADaM":
        metadata = f"ADaMIG 1.3 {ds.ig_name}"
    else:
        metadata = f"SDTMIG 3.4 {ds.ig_name}"
    return DatasetSummary(
        name=ds.name,
        file=ds.file,
        standard=ds.standard,
        domain=ds.domain,
        class_=ds.class_,
        label=ds.meta.label,
        records=ds.n,
        variables=len(ds.columns),
        metadata=metadata,
    )
