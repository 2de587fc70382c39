"""The options several commands share, each defined once: --study, --format, --workers and
--scheduler, --force, --seed and --effect, and --debug, -q and -v."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cdisc_mapper.cli.progress import LIBRARY, _log_level
from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.standards.paths import STUDY_PARTS, bundled_path


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
    """``--workers`` and ``--scheduler``: how the SDTM mapping and the ADaM derivation
    are split by subjects."""
    fn = click.option(
        "--scheduler",
        default=None,
        metavar="dask://HOST:PORT",
        help="Map or derive the parts of the subjects on this Dask distributed cluster (needs "
        "cdisc-mapper[dask] on this machine and on the workers; the raw records are sent "
        "to them; the ADaM workers read the study's specs at the same path). Parts: "
        "--workers, else the cluster's threads.",
    )(fn)
    return click.option(
        "--workers",
        type=click.IntRange(1),
        default=None,
        help="Map the SDTM records (or derive the ADaM ones) in this many parts of the "
        "subjects at a time, each in its own process (default: the number of cores this "
        "process may use; 1 for one process; on a Dask cluster, its threads). A study too "
        "small to gain maps in one process. The output is the same (docs/performance.md).",
    )(fn)


def workers_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--workers`` of a command that splits ``what`` over processes (define, validate);
    resolved with :func:`cdisc_mapper.cli.running.default_workers` when not given."""
    return click.option(
        "--workers",
        type=click.IntRange(1),
        default=None,
        help=f"{what} in this many processes (default: the number of cores this process "
        "may use). The output is the same.",
    )


part_subjects_option = click.option(
    "--part-subjects",
    type=click.IntRange(0),
    default=None,
    help="At most this many subjects in a part of the SDTM mapping; the datasets are "
    "then written part by part, so memory is bounded by a part, not by the study "
    "(default 2000; 0: map the study whole). The output is the same.",
)
"""``--part-subjects``: the size of the SDTM mapping's parts (sdtm, demo)."""

adam_part_subjects_option = click.option(
    "--part-subjects",
    type=click.IntRange(0),
    default=None,
    help="At most this many subjects in a part of the ADaM derivation; each part reads "
    "its subjects' SDTM records and the datasets are written part by part, so memory is "
    "bounded by a part, not by the study (default 1250; 0: derive the study whole, or in "
    "one part per worker with --workers). The output is the same.",
)
"""``--part-subjects``: the size of the ADaM derivation's parts (adam)."""


seed_option = click.option(
    "--seed", default=None, type=int, help="Random seed (default: the study's)."
)
"""``--seed`` of the simulated cohort (simulate, demo)."""

effect_option = click.option(
    "--effect",
    type=click.Choice(["paper", "none"]),
    default="paper",
    show_default=True,
    help="Treatment effect of the simulated cohort: calibrated to the paper, or none "
    "(a null cohort whose progression never changes).",
)
"""``--effect`` of the simulated cohort (simulate, demo)."""


force_option = click.option(
    "--force",
    is_flag=True,
    help="Write into a non-empty folder this command did not create, replacing the "
    "files it writes (other files are kept).",
)


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
