"""The stage commands: ``simulate`` (the raw export), ``sdtm`` and ``adam``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cdisc_mapper.cli.group import main
from cdisc_mapper.cli.options import (
    adam_part_subjects_option,
    effect_option,
    force_option,
    format_option,
    parallel_options,
    part_subjects_option,
    run_options,
    seed_option,
    study_option,
)
from cdisc_mapper.cli.running import _execution, _locked, _run


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
@seed_option
@effect_option
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
@part_subjects_option
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
            _execution(workers, scheduler, part_subjects, reuse_workers=True) as execution,
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
@parallel_options
@adam_part_subjects_option
@click.pass_context
@run_options
def adam(
    ctx: click.Context,
    study: Path,
    sdtm_dir: Path,
    out: Path,
    formats: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    part_subjects: int | None,
) -> None:
    """Derive ADaM datasets from SDTM: OUT/adam/<dataset>.xpt and the progression summary."""

    def go() -> None:
        from cdisc_mapper.adam import PART_SUBJECTS, run_adam
        from cdisc_mapper.xlsx import spec_folder

        with (
            _locked(out, "adam"),
            spec_folder(study) as folder,
            _execution(workers, scheduler, reuse_workers=True) as run,
        ):
            size = PART_SUBJECTS if part_subjects is None else part_subjects
            result = run_adam(
                folder, sdtm_dir, out, formats=formats, executor=run.executor, parts=run.parts,
                part_subjects=size,
            )  # fmt: skip
        for path in result.files:
            click.echo(str(path))

    _run(go, ctx)
