"""``demo``: the bundled study simulated and run through every stage into a working folder,
published at the end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cdisc_mapper.cli.define import _define_warnings_logged
from cdisc_mapper.cli.group import main
from cdisc_mapper.cli.options import (
    effect_option,
    force_option,
    format_option,
    parallel_options,
    part_subjects_option,
    run_options,
    seed_option,
)
from cdisc_mapper.cli.running import _execution, _locked, _run
from cdisc_mapper.standards.paths import STUDY_PARTS, bundled_path

DEMO_PARTS = ("raw", "sdtm", "adam", "reports")
"""The folders of a demo output (the demo replaces them whole)."""


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
@seed_option
@effect_option
@force_option
@format_option
@parallel_options
@part_subjects_option
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
    run = execution or SERIAL
    adam_result = run_adam(
        study, work / "sdtm", work, formats=formats, executor=run.executor, parts=run.parts,
        part_subjects=run.part_subjects,
    )  # fmt: skip
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
