"""The ``cdisc-mapper`` command line."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import click

from cdisc_mapper import __version__
from cdisc_mapper.epoch import source_date
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.publish import run_lock
from cdisc_mapper.standards.paths import STUDY_PARTS, bundled_path

DEMO_PARTS = ("raw", "sdtm", "adam", "reports")
"""The folders of a demo output (the demo replaces them whole)."""


def _study_or_bundled(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """``--study`` as given, else the bundled example study (mappings/als_msc)."""
    if value is not None:
        return value
    try:
        return bundled_path(*STUDY_PARTS)
    except CdiscMapperError as exc:
        if (ctx.obj or {}).get("debug"):
            raise
        click.echo(f"error: {exc}", err=True)
        ctx.exit(1)


study_option = click.option(
    "--study",
    type=click.Path(path_type=Path),
    default=None,
    callback=_study_or_bundled,
    show_default="mappings/als_msc",
    help="Study spec folder, or a spec workbook (.xlsx) made by `spec export`.",
)


LIBRARY = logging.getLogger("cdisc_mapper")
"""The library's loggers' parent (``cdisc_mapper.sdtm.pipeline``, ``cdisc_mapper.adam`` ...)."""
log = logging.getLogger(__name__)


def _formats(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """``--format`` values (``xpt,json`` or repeated) in preference order."""
    from cdisc_mapper.datasetjson import parse_formats

    try:
        return parse_formats(value or ("xpt",))
    except CdiscMapperError as exc:
        raise click.BadParameter(f"{exc.message}; {exc.hint}") from None


format_option = click.option(
    "--format",
    "formats",
    multiple=True,
    callback=_formats,
    metavar="xpt|json|ndjson",
    help="Dataset format(s): xpt (SAS XPORT v5, the default), json or ndjson (CDISC "
    "Dataset-JSON v1.1); several as xpt,json or repeated. define.xml names the first of "
    "xpt, json, ndjson written; each other format gets define-<format>.xml.",
)


def parallel_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--workers``, ``--scheduler`` and ``--part-subjects``: how the SDTM mapping is
    split by subjects."""
    fn = click.option(
        "--part-subjects",
        type=click.IntRange(0),
        default=None,
        help="At most this many subjects in a part of the SDTM mapping; the datasets are "
        "then written part by part, so memory is bounded by a part, not by the study "
        "(default 2000; 0: map the study whole). The output is the same.",
    )(fn)
    fn = click.option(
        "--scheduler",
        default=None,
        metavar="dask://HOST:PORT",
        help="Map the parts of the subjects on this Dask distributed cluster (needs "
        "cdisc-mapper[dask] on this machine and on the workers; the raw records are sent "
        "to them). Parts: --workers, else the cluster's threads.",
    )(fn)
    return click.option(
        "--workers",
        type=click.IntRange(1),
        default=None,
        help="Map the SDTM records in this many parts of the subjects, each in its own "
        "process (default 1: the parts one after the other in this process; on a Dask "
        "cluster, its threads). The output is the same (docs/performance.md).",
    )(fn)


@contextlib.contextmanager
def _execution(
    workers: int | None, scheduler: str | None, part_subjects: int | None = None
) -> Iterator[Any]:
    """How the mapping runs (:class:`cdisc_mapper.sdtm.pipeline.Execution`): on a Dask
    cluster, in ``workers`` processes here, or here in parts of at most ``part_subjects``
    subjects written part by part (0: the study whole)."""
    from concurrent.futures import ProcessPoolExecutor

    from cdisc_mapper.sdtm.pipeline import PART_SUBJECTS, Execution

    size = PART_SUBJECTS if part_subjects is None else part_subjects or None
    if scheduler is not None:
        with _dask_client(scheduler) as client:
            parts = workers or sum(client.nthreads().values())
            yield Execution(client.get_executor(), parts, size)
        return
    # default one process: on 2 cores worker processes cost more CPU than they save
    # wall time (measured, issue 19); the parts bound memory
    parts = workers or 1
    if parts < 2:
        yield Execution(None, 1, size)
        return
    # one part per process, which then ends (its memory freed before the datasets are
    # written); a new process imports what it needs (Python starts it with "spawn")
    with ProcessPoolExecutor(parts, max_tasks_per_child=1) as pool:
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


class _Progress(logging.Handler):
    """The library's log records on stderr with the elapsed time, so long runs show where
    they are: progress (INFO) by default, warnings only with -q, details (DEBUG) too with
    -v or --debug. Called with a message, it logs the command's own step (INFO)."""

    def __init__(self) -> None:
        super().__init__()
        self.start = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        elapsed = time.perf_counter() - self.start
        kind = "warning: " if record.levelno == logging.WARNING else ""
        if record.levelno >= logging.ERROR:
            kind = "error: "
        click.echo(f"[{elapsed:6.1f}s] {kind}{record.getMessage()}", err=True)

    def __call__(self, message: str) -> None:
        log.info(message)


def _log_level(flags: dict[str, Any]) -> int:
    """-v/--debug: DEBUG; -q: WARNING; else INFO (given together, -v wins)."""
    if flags.get("verbose") or flags.get("debug"):
        return logging.DEBUG
    return logging.WARNING if flags.get("quiet") else logging.INFO


def _attach_progress(ctx: click.Context) -> _Progress:
    """Show the library's log records for the run (detached when the command ends)."""
    handler = _Progress()
    level = LIBRARY.level
    LIBRARY.addHandler(handler)
    LIBRARY.setLevel(_log_level(ctx.obj))

    def detach() -> None:
        LIBRARY.removeHandler(handler)
        LIBRARY.setLevel(level)

    ctx.call_on_close(detach)
    return handler


def _note(message: str) -> None:
    click.echo(f"note: {message}", err=True)


def _locked(out: Path, command: str, *, create: bool = True) -> AbstractContextManager[None]:
    """One run at a time per output folder (``OUT/.cdisc-mapper.lock``)."""
    return run_lock(out, command=command, note=_note, create=create)


force_option = click.option(
    "--force",
    is_flag=True,
    help="Write into a non-empty folder this command did not create, replacing the "
    "files it writes (other files are kept).",
)


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


def _set_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--debug``, ``-q`` or ``-v``: noted, and the log level of a running command set."""
    if value:
        ctx.ensure_object(dict)[str(param.name)] = True
        if ctx.obj.get("progress") is not None:
            LIBRARY.setLevel(_log_level(ctx.obj))


def run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--debug``, ``-q/--quiet`` and ``-v/--verbose`` on a command: given before the
    subcommand (``-q sdtm``) or after it (``sdtm -q``), they mean the same. They are read
    first (eager), so that every other option's callback sees them."""
    fn = click.option(
        "--verbose",
        "-v",
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=_set_flag,
        help="Details too (e.g. records per dataset).",
    )(fn)
    fn = click.option(
        "--quiet",
        "-q",
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=_set_flag,
        help="No progress messages (warnings still shown).",
    )(fn)
    return click.option(
        "--debug",
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=_set_flag,
        help="Show tracebacks instead of one-line errors, and details as -v does.",
    )(fn)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cdisc-mapper")
@run_options
@click.pass_context
def main(ctx: click.Context) -> None:
    """Raw clinical-trial records to CDISC SDTM/ADaM (SAS XPORT v5), Define-XML 2.1
    and a validation report, driven by one mapping spec.

    --debug, -q/--quiet and -v/--verbose may be given before the command or after it."""
    ctx.ensure_object(dict)
    ctx.obj.setdefault("debug", False)
    ctx.obj["progress"] = _attach_progress(ctx)


def _check_environment() -> None:
    """Settings from the environment, checked before any stage is imported (numpy, through
    scipy, reads SOURCE_DATE_EPOCH too, and fails on a value that is not an integer)."""
    source_date()


@main.command()
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for the raw CSV forms and manifest.json.",
)
@click.option(
    "--subjects", default=20, show_default=True, type=click.IntRange(1), help="Number of subjects."
)
@click.option("--seed", default=None, type=int, help="Random seed (default: the study's).")
@click.option(
    "--effect",
    type=click.Choice(["paper", "none"]),
    default="paper",
    show_default=True,
    help="Treatment effect of the simulated cohort: calibrated to the paper, or none "
    "(a null cohort whose progression never changes).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "redcap", "odm"]),
    default="csv",
    show_default=True,
    help="One CSV per form, or the same forms as a REDCap export (records + data "
    "dictionary) or a CDISC ODM 1.3.2 file (metadata + ClinicalData).",
)
@force_option
@click.pass_context
@run_options
def simulate(
    ctx: click.Context,
    out: Path,
    subjects: int,
    seed: int | None,
    effect: str,
    force: bool,
    fmt: str,
) -> None:
    """Write the synthetic raw EDC export of the bundled ALS-MSC study (into a new or
    empty folder, or one simulate wrote; --force for any other)."""

    def go() -> None:
        from cdisc_mapper.simulate import simulate as sim

        ctx.obj["progress"](f"simulating {subjects} subjects into {out}")
        kwargs = {} if seed is None else {"seed": seed}
        with _locked(out, "simulate"):
            manifest = sim(out, subjects, force=force, effect=effect, fmt=fmt, **kwargs)
        for name, info in sorted(manifest["forms"].items()):
            click.echo(f"{out / name}  ({info['rows']} rows)")

    _run(go, ctx)


def _sdtm(
    ctx: click.Context, study: Path, raw: Path, out: Path, formats: tuple[str, ...], execution: Any
) -> None:
    from cdisc_mapper.sdtm.pipeline import run_sdtm

    result = run_sdtm(study, raw, out, formats=formats, execution=execution)
    for path in result.files:
        click.echo(str(path))


@main.command()
@study_option
@click.option(
    "--raw", type=click.Path(path_type=Path), required=True, help="Folder of raw form files."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder; datasets go to OUT/sdtm.",
)
@format_option
@parallel_options
@click.pass_context
@run_options
def sdtm(
    ctx: click.Context,
    study: Path,
    raw: Path,
    out: Path,
    formats: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    part_subjects: int | None,
) -> None:
    """Map raw forms to SDTM: OUT/sdtm/<domain>.xpt and reconciliation.csv."""

    def go() -> None:
        from cdisc_mapper.xlsx import spec_folder

        with (
            _locked(out, "sdtm"),
            spec_folder(study) as folder,
            _execution(workers, scheduler, part_subjects) as execution,
        ):
            _sdtm(ctx, folder, raw, out, formats, execution)

    _run(go, ctx)


@main.command()
@study_option
@click.option(
    "--sdtm",
    "sdtm_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder of SDTM .xpt files (OUT/sdtm).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder; datasets go to OUT/adam, reports to OUT/reports.",
)
@format_option
@click.pass_context
@run_options
def adam(
    ctx: click.Context, study: Path, sdtm_dir: Path, out: Path, formats: tuple[str, ...]
) -> None:
    """Derive ADaM datasets from SDTM: OUT/adam/<dataset>.xpt and the progression summary."""

    def go() -> None:
        from cdisc_mapper.adam import run_adam
        from cdisc_mapper.xlsx import spec_folder

        with _locked(out, "adam"), spec_folder(study) as folder:
            result = run_adam(folder, sdtm_dir, out, formats=formats)
        for path in result.files:
            click.echo(str(path))

    _run(go, ctx)


@main.command()
@click.option(
    "--study",
    type=click.Path(path_type=Path),
    default=None,
    callback=_study_or_bundled,
    show_default="mappings/als_msc",
    help="Study spec folder, a spec workbook (.xlsx) made by `spec export`, or "
    "define-generator metadata alone: a Pinnacle 21 layout workbook or the metadata.yaml "
    "`spec import` made of one.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Existing folder whose sdtm/ and adam/ hold the .xpt datasets to describe (as the "
    "sdtm and adam commands wrote them); define.xml, define.html and define2-1.xsl are "
    "written into each.",
)
@click.option(
    "--raw",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of raw form files: the generated annotated CRF then lists every raw "
    "column (those not mapped as NOT SUBMITTED).",
)
@click.pass_context
@run_options
def define(ctx: click.Context, study: Path, out: Path, raw: Path | None) -> None:
    """Write Define-XML 2.1 (with define.html and the define2-1.xsl stylesheet) for the
    datasets of OUT/sdtm and OUT/adam; a folder without .xpt files is skipped. Without an
    annotated CRF of your own in define.yaml, also OUT/sdtm/acrf.pdf, which define.xml
    cites. The ADaM define.xml carries the Analysis Results Metadata of
    adam/reports.yaml. With datasets in several formats, define.xml names the XPT files
    and define-json.xml / define-ndjson.xml the Dataset-JSON ones."""

    def go() -> None:
        from cdisc_mapper.define import write_define
        from cdisc_mapper.xlsx import spec_folder
        from cdisc_mapper.xlsx.folder import METADATA, spec_kind

        with _locked(out, "define", create=False), _define_warnings_logged():
            if spec_kind(study) == METADATA:
                written = _define_from_metadata(ctx, study, out)
            else:
                with spec_folder(study) as folder:
                    written = write_define(folder, out, raw_dir=raw)
        for path in written:
            click.echo(str(path))

    _run(go, ctx)


@main.command()
@study_option
@click.option(
    "--raw",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of raw form files: every raw column is shown (those not mapped as NOT "
    "SUBMITTED); without it, the columns the specs read.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder to write acrf.pdf into (define writes it to OUT/sdtm).",
)
@click.pass_context
@run_options
def acrf(ctx: click.Context, study: Path, raw: Path | None, out: Path) -> None:
    """Write the annotated CRF generated from the SDTM specs: OUT/acrf.pdf, a page or
    more per raw form, each field with the SDTM variables it feeds."""

    def go() -> None:
        from cdisc_mapper.acrf import write_acrf
        from cdisc_mapper.xlsx import spec_folder

        with _locked(out, "acrf"), spec_folder(study) as folder:
            click.echo(str(write_acrf(folder, out, raw)))

    _run(go, ctx)


@contextlib.contextmanager
def _define_warnings_logged() -> Iterator[None]:
    """define.xml warnings reach the user once, through the log handler: the library also
    issues each as a Python DefineWarning (for callers without logging), which the
    command silences here."""
    from cdisc_mapper.define import DefineWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DefineWarning)
        yield


def _define_from_metadata(ctx: click.Context, study: Path, out: Path) -> list[Path]:
    """define.xml from define-generator metadata alone (a P21 workbook without mapping
    columns, or the metadata.yaml `spec import` made of one)."""
    from cdisc_mapper.define.describe_metadata import write_define_from_metadata
    from cdisc_mapper.spec.metadata import load_metadata
    from cdisc_mapper.xlsx import is_workbook
    from cdisc_mapper.xlsx.p21 import read_define_workbook

    say = ctx.obj["progress"]
    if is_workbook(study):
        meta, warnings = read_define_workbook(study)
        for warning in warnings:
            say(f"warning: {warning}")  # one channel, silenced by -q
    else:
        meta = load_metadata(study)
    return write_define_from_metadata(meta, out, progress=say)


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--define",
    "define_paths",
    type=click.Path(path_type=Path),
    multiple=True,
    help="define.xml to check the data against (repeatable; default: DIRECTORY/sdtm/"
    "define.xml and DIRECTORY/adam/define.xml when they exist).",
)
@click.option(
    "--encoding", default=None, help="Text encoding of the XPT files (e.g. WINDOWS-1252)."
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default="error",
    show_default=True,
    help="Exit non-zero when findings of this severity exist.",
)
@click.option(
    "--format",
    "dataset_format",
    type=click.Choice(["xpt", "json", "ndjson"]),
    default=None,
    help="Dataset files to read where a folder holds several formats (default: xpt, "
    "else json, else ndjson); the default define is the one naming that format's files.",
)
@click.pass_context
@run_options
def validate(
    ctx: click.Context,
    directory: Path,
    define_paths: tuple[Path, ...],
    encoding: str | None,
    fail_on: str,
    dataset_format: str | None,
) -> None:
    """Check the SDTM/ADaM datasets under DIRECTORY; write DIRECTORY/reports/validation.*"""

    def go() -> None:
        from cdisc_mapper.datasetjson import define_file, formats_in
        from cdisc_mapper.validate import validate_package, write_reports

        def default_define(folder: Path) -> Path:
            present = formats_in(folder)
            if dataset_format is None or dataset_format not in present:
                return folder / "define.xml"
            return folder / define_file(dataset_format, present)

        ctx.obj["progress"](f"validating {directory}")
        with _locked(directory, "validate", create=False):
            defines = list(define_paths) or [
                p
                for p in (default_define(directory / "sdtm"), default_define(directory / "adam"))
                if p.exists()
            ]
            report = validate_package(
                directory, define=defines or None, encoding=encoding, dataset_format=dataset_format
            )
            files = write_reports(report, directory / "reports")
        for path in files:
            click.echo(str(path))
        click.echo(report.summary_line())
        code = report.exit_code(fail_on)
        if code:
            sys.exit(code)

    _run(go, ctx)


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Output folder.",
)
@click.option(
    "--subjects",
    default=20,
    show_default=True,
    type=click.IntRange(1),
    help="Number of simulated subjects.",
)
@click.option("--seed", default=None, type=int, help="Random seed (default: the study's).")
@click.option(
    "--effect",
    type=click.Choice(["paper", "none"]),
    default="paper",
    show_default=True,
    help="Treatment effect of the simulated cohort: calibrated to the paper, or none "
    "(a null cohort whose progression never changes).",
)
@force_option
@format_option
@parallel_options
@click.pass_context
@run_options
def demo(
    ctx: click.Context,
    out: Path,
    subjects: int,
    seed: int | None,
    effect: str,
    force: bool,
    formats: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    part_subjects: int | None,
) -> None:
    """Simulate the bundled study, then run every conversion stage into OUT:
    raw forms, SDTM, ADaM and its reports, define.xml and the validation report.

    Everything is made in a working folder and published at the end, replacing OUT's
    raw/, sdtm/, adam/ and reports/ whole; OUT must be new, empty or a demo output
    (--force for any other)."""

    def go() -> None:
        from cdisc_mapper.publish import publish_folders, scratch

        say = ctx.obj["progress"]
        with _locked(out, "demo"):
            if not force:
                _check_demo_folder(out)
            with (
                scratch(out, "demo") as work,
                _execution(workers, scheduler, part_subjects) as execution,
            ):
                cohort = (subjects, seed, effect)
                lines = _demo_stages(work, out, cohort, say, formats, execution)
                say(f"publishing {', '.join(DEMO_PARTS)} into {out}")
                publish_folders({out / part: work / part for part in DEMO_PARTS})
        for line in lines:
            click.echo(line)

    _run(go, ctx)


@main.command()
@click.argument("package", type=click.Path(path_type=Path))
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(path_type=Path),
    default=None,
    help="De-identification spec (YAML); default: the PHUSE-based defaults.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output package.")
@click.option(
    "--key-out",
    "key_out",
    type=click.Path(path_type=Path),
    required=True,
    help="Key file (old and new identifiers, date offsets, the secret): outside the package.",
)
@click.option(
    "--secret-file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="File whose text seeds identifiers and offsets (default: a random secret, "
    "stored in the key).",
)
@click.pass_context
@run_options
def deidentify(
    ctx: click.Context,
    package: Path,
    spec_path: Path | None,
    out: Path,
    key_out: Path,
    secret_file: Path | None,
) -> None:
    """De-identify the SDTM/ADaM package PACKAGE (sdtm/, adam/) into OUT, with an updated
    define.xml and OUT/reports/deidentification.*; the key goes to --key-out."""

    def go() -> None:
        from cdisc_mapper.deid import run_deidentify

        secret = secret_file.read_text(encoding="utf-8").strip() if secret_file else None
        with _locked(out, "deidentify"):
            result = run_deidentify(
                package, out, key_out, spec_path=spec_path, secret=secret,
                progress=ctx.obj["progress"],
            )  # fmt: skip
        for path in result.files:
            click.echo(str(path))
        click.echo(f"key: {result.key}")

    _run(go, ctx)


def _check_demo_folder(out: Path) -> None:
    """Refuse a non-empty ``out`` that is not a demo output: anything but the demo's
    folders, or a raw/ that is not an unchanged simulated export."""
    from cdisc_mapper.publish import OutputFolderError, folder_entries
    from cdisc_mapper.simulate.writer import foreign_entries

    names = folder_entries(out)
    if not names:
        return
    foreign = [name for name in names if name not in DEMO_PARTS]
    if not (out / "raw").is_dir() or foreign_entries(out / "raw"):
        foreign.append("raw/ missing or not a simulated export")
    if foreign:
        raise OutputFolderError(
            f"the folder is not empty and is not a demo output ({', '.join(foreign[:3])}); "
            "demo replaces raw/, sdtm/, adam/ and reports/ there",
            where=str(out),
            hint="choose a new or empty folder, or pass --force to replace those four "
            "folders and keep the rest",
        )


def _demo_stages(
    work: Path,
    out: Path,
    cohort: tuple[int, int | None, str],
    say: Callable[[str], None],
    formats: tuple[str, ...] = ("xpt",),
    execution: Any = None,
) -> list[str]:
    """Every stage of the demo into ``work``; the lines to print (naming ``out``)."""
    from dataclasses import replace

    from cdisc_mapper.adam import run_adam
    from cdisc_mapper.define import write_define
    from cdisc_mapper.sdtm.pipeline import SERIAL, run_sdtm
    from cdisc_mapper.simulate import simulate as sim
    from cdisc_mapper.validate import validate_package, write_reports

    def shown(paths: list[Path]) -> str:
        return ", ".join(str(out / p.relative_to(work)) for p in paths)

    subjects, seed, effect = cohort
    study = bundled_path(*STUDY_PARTS)
    say(f"simulating {subjects} subjects into {out / 'raw'}")
    if seed is None:
        sim(work / "raw", subjects, effect=effect)
    else:
        sim(work / "raw", subjects, seed, effect=effect)
    lines = [f"raw forms:   {out / 'raw'}"]
    result = run_sdtm(study, work / "raw", work, formats=formats, execution=execution or SERIAL)
    lines.append(
        f"SDTM:        {out / 'sdtm'} ({len(result.datasets)} datasets: "
        f"{', '.join(sorted(result.datasets))}; reconciliation.csv)"
    )
    say("deriving ADaM")
    adam_result = run_adam(study, work / "sdtm", work, formats=formats)
    lines.append(
        f"ADaM:        {out / 'adam'} ({len(adam_result.datasets)} datasets: "
        f"{', '.join(sorted(adam_result.datasets))})"
    )
    say("writing define.xml")
    with _define_warnings_logged():
        written = write_define(study, work, adam_result=adam_result, raw_dir=work / "raw")
    lines.append("define.xml:  " + shown(written))
    say("validating")
    defines = [p for p in written if p.name == "define.xml"]
    report = replace(validate_package(work, define=defines), package=str(out))
    lines.append("reports:     " + shown(write_reports(report, work / "reports")))
    lines.append(f"validation:  {report.summary_line()}")
    return lines


@main.group()
@run_options
def spec() -> None:
    """Study specs as an Excel workbook (Pinnacle 21 define layout plus mapping columns)."""


@spec.command("export")
@study_option
@click.option("--xlsx", type=click.Path(path_type=Path), required=True, help="Workbook to write.")
@click.option(
    "--define",
    "defines",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    multiple=True,
    help="define.xml of the study's datasets (repeatable, e.g. OUT/sdtm/define.xml and "
    "OUT/adam/define.xml): fills the Variables sheet's Length and Significant Digits, "
    "which only the data decide.",
)
@click.pass_context
@run_options
def spec_export(ctx: click.Context, study: Path, xlsx: Path, defines: tuple[Path, ...]) -> None:
    """Write the study's specs (SDTM, ADaM, define.yaml) to one reviewable workbook."""

    def go() -> None:
        from cdisc_mapper.xlsx import export_workbook

        export_workbook(study, xlsx, defines)
        click.echo(str(xlsx))

    _run(go, ctx)


@spec.command("import")
@click.option("--xlsx", type=click.Path(path_type=Path), required=True, help="Workbook to read.")
@click.option(
    "--study",
    type=click.Path(path_type=Path),
    required=True,
    help="Study spec folder to write (study.yaml, sdtm/, adam/, define.yaml).",
)
@click.pass_context
@run_options
def spec_import(ctx: click.Context, xlsx: Path, study: Path) -> None:
    """Write spec files back from a workbook made by `spec export`.

    A define-generator workbook made by another tool (Pinnacle 21 layout, no mapping
    columns) becomes DIR/metadata.yaml, which only `define` can use; its unknown columns
    and sheets are ignored with a warning."""

    def go() -> None:
        from cdisc_mapper.xlsx import import_workbook
        from cdisc_mapper.xlsx.folder import METADATA, spec_kind

        if spec_kind(xlsx) == METADATA:  # a define-generator workbook made by another tool
            from cdisc_mapper.xlsx.p21 import import_define_workbook

            for warning in import_define_workbook(xlsx, study):
                ctx.obj["progress"](f"warning: {warning}")  # one channel, silenced by -q
            click.echo(str(Path(study) / "metadata.yaml"))
            return
        import_workbook(xlsx, study)
        click.echo(str(study))

    _run(go, ctx)


def reference_text() -> str:
    """The operations reference (``docs/operations.md``) of the SDTM and ADaM registries."""
    from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
    from cdisc_mapper.sdtm import OPERATIONS
    from cdisc_mapper.spec.adam import Conventions, DatasetSpec, ReportsSpec
    from cdisc_mapper.spec.reference import ModelSection, Section, operations_markdown
    from cdisc_mapper.spec.sdtm import SourceSpec
    from cdisc_mapper.spec.study import StudySpec

    def sdtm_traits(op: Any) -> str:
        where = "raw columns: in a source's `variables` only" if op.raw else "any level"
        extra = "; runs after the domain's other variables" if op.needs_all else ""
        return f"Default origin: {op.origin}; reads {where}{extra}."

    def builder_traits(op: Any) -> str:
        if op.first and op.later:
            return "May start a dataset or add records to earlier steps'."
        return "Starts a dataset's records." if op.first else "Adds records to earlier steps'."

    return operations_markdown(
        [
            Section(
                "SDTM mapping operations (`op:`)",
                "The operation of a variable in `sdtm/<domain>.yaml`, at domain level or in "
                "a source. Its other keys are the arguments below.",
                OPERATIONS,
                sdtm_traits,
            ),
            ModelSection(
                "SDTM sources (`sources:`)",
                "Each raw form a domain is made from, in `sdtm/<domain>.yaml`: which file, "
                "which rows, how a wide form becomes one record per test, and the "
                "variables mapped from it (operations above).",
                SourceSpec,
                skip=("VariableSpec",),
            ),
            ModelSection(
                "The study (`study.yaml`)",
                "What every domain spec shares: the study, how subjects are identified, "
                "the trial design (arms, elements, visits: TA, TE, TV, and each subject's "
                "SE), units and number conventions.",
                StudySpec,
            ),
            ModelSection(
                "ADaM dataset specs (`adam/<dataset>.yaml`)",
                "One file per ADaM dataset: its name, label, structure and keys, the steps "
                "that make its records (record builders below) and its variables in output "
                "order, each with its derivation (derivations below) and define.xml "
                "metadata. A variable's derivation arguments sit beside `derive` "
                "(`ABLFL: {derive: baseline_flag, order_by: [SRCSEQ]}`), a step's beside "
                "`op`; every example below runs in the tests.",
                DatasetSpec,
            ),
            ModelSection(
                "ADaM conventions (`adam/conventions.yaml`)",
                "What every ADaM dataset spec shares: days per month, the analysis "
                "reference date, the subject events that bound the analysis periods and "
                "phases, and the analysis windows.",
                Conventions,
            ),
            ModelSection(
                "ADaM reports (`adam/reports.yaml`, optional)",
                "Summary reports drawn from the built ADaM datasets.",
                ReportsSpec,
            ),
            Section(
                "ADaM record builders (`records: - op:`)",
                "The steps that make a dataset's records, in `adam/<dataset>.yaml`.",
                RECORD_BUILDERS,
                builder_traits,
            ),
            Section(
                "ADaM derivations (`derive:`)",
                "The derivation of a variable in `adam/<dataset>.yaml`; `{}` keeps a "
                "column the record steps made.",
                DERIVATIONS,
            ),
        ]
    )


@spec.command("reference")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="File to write (default: print it).",
)
@click.pass_context
@run_options
def spec_reference(ctx: click.Context, out: Path | None) -> None:
    """Write the reference of every operation and its arguments (docs/operations.md)."""

    def go() -> None:
        text = reference_text()
        if out is None:
            click.echo(text, nl=False)
        else:
            Path(out).write_text(text, encoding="utf-8")
            click.echo(str(out))

    _run(go, ctx)


if __name__ == "__main__":  # pragma: no cover
    main()
