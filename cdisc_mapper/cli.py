"""The ``cdisc-mapper`` command line."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cdisc_mapper import __version__
from cdisc_mapper.epoch import source_date
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


class _Progress:
    """Step messages on stderr with the elapsed time, so long runs show where they are."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.perf_counter() - self.start
            click.echo(f"[{elapsed:6.1f}s] {message}", err=True)


def _run(fn: Callable[[], None], debug: bool) -> None:
    try:
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
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.pass_context
def main(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Raw clinical-trial records to CDISC SDTM/ADaM (SAS XPORT v5), Define-XML 2.1
    and a validation report, driven by one mapping spec."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["progress"] = _Progress(quiet)
    _run(_check_environment, debug)


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
@click.pass_context
def simulate(ctx: click.Context, out: Path, subjects: int, seed: int | None) -> None:
    """Write the synthetic raw EDC export of the bundled ALS-MSC study."""

    def go() -> None:
        from cdisc_mapper.simulate import simulate as sim

        ctx.obj["progress"](f"simulating {subjects} subjects into {out}")
        kwargs = {} if seed is None else {"seed": seed}
        manifest = sim(out, subjects, **kwargs)
        for name, info in sorted(manifest["forms"].items()):
            click.echo(f"{out / name}  ({info['rows']} rows)")

    _run(go, ctx.obj["debug"])


def _sdtm(ctx: click.Context, study: Path, raw: Path, out: Path) -> None:
    from cdisc_mapper.sdtm.pipeline import run_sdtm

    result = run_sdtm(study, raw, out, ctx.obj["progress"])
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
@click.pass_context
def sdtm(ctx: click.Context, study: Path, raw: Path, out: Path) -> None:
    """Map raw forms to SDTM: OUT/sdtm/<domain>.xpt and reconciliation.csv."""

    def go() -> None:
        from cdisc_mapper.xlsx import spec_folder

        with spec_folder(study) as folder:
            _sdtm(ctx, folder, raw, out)

    _run(go, ctx.obj["debug"])


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
@click.pass_context
def adam(ctx: click.Context, study: Path, sdtm_dir: Path, out: Path) -> None:
    """Derive ADaM datasets from SDTM: OUT/adam/<dataset>.xpt and the progression summary."""

    def go() -> None:
        from cdisc_mapper.adam import run_adam
        from cdisc_mapper.xlsx import spec_folder

        with spec_folder(study) as folder:
            result = run_adam(folder, sdtm_dir, out, ctx.obj["progress"])
        for path in result.files:
            click.echo(str(path))

    _run(go, ctx.obj["debug"])


@main.command()
@study_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder holding sdtm/ and adam/; define.xml goes beside the data.",
)
@click.pass_context
def define(ctx: click.Context, study: Path, out: Path) -> None:
    """Write Define-XML 2.1 (and define.html) for OUT/sdtm and OUT/adam."""

    def go() -> None:
        from cdisc_mapper.define import write_define
        from cdisc_mapper.xlsx import spec_folder
        from cdisc_mapper.xlsx.folder import METADATA, spec_kind

        if spec_kind(study) == METADATA:
            written = _define_from_metadata(ctx, study, out)
        else:
            with spec_folder(study) as folder:
                written = write_define(folder, out, progress=ctx.obj["progress"])
        for path in written:
            click.echo(str(path))

    _run(go, ctx.obj["debug"])


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
            click.echo(f"warning: {warning}", err=True)
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
@click.pass_context
def validate(
    ctx: click.Context,
    directory: Path,
    define_paths: tuple[Path, ...],
    encoding: str | None,
    fail_on: str,
) -> None:
    """Check the SDTM/ADaM datasets under DIRECTORY; write DIRECTORY/reports/validation.*"""

    def go() -> None:
        from cdisc_mapper.validate import validate_package, write_reports

        defines = list(define_paths) or [
            p
            for p in (directory / "sdtm" / "define.xml", directory / "adam" / "define.xml")
            if p.exists()
        ]
        ctx.obj["progress"](f"validating {directory}")
        report = validate_package(directory, define=defines or None, encoding=encoding)
        for path in write_reports(report, directory / "reports"):
            click.echo(str(path))
        click.echo(report.summary_line())
        code = report.exit_code(fail_on)
        if code:
            sys.exit(code)

    _run(go, ctx.obj["debug"])


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Output folder.",
)
@click.option("--subjects", default=20, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=None, type=int, help="Random seed (default: the study's).")
@click.pass_context
def demo(ctx: click.Context, out: Path, subjects: int, seed: int | None) -> None:
    """Simulate the bundled study, then run every conversion stage into OUT:
    raw forms, SDTM, ADaM, define.xml and the validation report."""

    def go() -> None:
        from cdisc_mapper.adam import run_adam
        from cdisc_mapper.define import write_define
        from cdisc_mapper.sdtm.pipeline import run_sdtm
        from cdisc_mapper.simulate import simulate as sim
        from cdisc_mapper.validate import validate_package, write_reports

        say = ctx.obj["progress"]
        study = bundled_path(*STUDY_PARTS)
        raw = out / "raw"
        say(f"simulating {subjects} subjects into {raw}")
        kwargs = {} if seed is None else {"seed": seed}
        sim(raw, subjects, **kwargs)
        click.echo(f"raw forms:   {raw}")
        result = run_sdtm(study, raw, out, say)
        click.echo(
            f"SDTM:        {out / 'sdtm'} ({len(result.datasets)} datasets: "
            f"{', '.join(sorted(result.datasets))}; reconciliation.csv)"
        )
        say("deriving ADaM")
        adam_result = run_adam(study, out / "sdtm", out, say)
        click.echo(
            f"ADaM:        {out / 'adam'} ({len(adam_result.datasets)} datasets: "
            f"{', '.join(sorted(adam_result.datasets))})"
        )
        say("writing define.xml")
        written = write_define(study, out, progress=say, adam_result=adam_result)
        defines = [p for p in written if p.name == "define.xml"]
        click.echo("define.xml:  " + ", ".join(str(p) for p in written))
        say("validating")
        report = validate_package(out, define=defines)
        files = write_reports(report, out / "reports")
        click.echo("reports:     " + ", ".join(str(p) for p in files))
        click.echo(f"validation:  {report.summary_line()}")

    _run(go, ctx.obj["debug"])


@main.group()
def spec() -> None:
    """Study specs as an Excel workbook (Pinnacle 21 define layout plus mapping columns)."""


@spec.command("export")
@study_option
@click.option("--xlsx", type=click.Path(path_type=Path), required=True, help="Workbook to write.")
@click.pass_context
def spec_export(ctx: click.Context, study: Path, xlsx: Path) -> None:
    """Write the study's specs (SDTM, ADaM, define.yaml) to one reviewable workbook."""

    def go() -> None:
        from cdisc_mapper.xlsx import export_workbook

        export_workbook(study, xlsx)
        click.echo(str(xlsx))

    _run(go, ctx.obj["debug"])


@spec.command("import")
@click.option("--xlsx", type=click.Path(path_type=Path), required=True, help="Workbook to read.")
@click.option(
    "--study",
    type=click.Path(path_type=Path),
    required=True,
    help="Study spec folder to write (study.yaml, sdtm/, adam/, define.yaml).",
)
@click.pass_context
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
                click.echo(f"warning: {warning}", err=True)
            click.echo(str(Path(study) / "metadata.yaml"))
            return
        import_workbook(xlsx, study)
        click.echo(str(study))

    _run(go, ctx.obj["debug"])


def reference_text() -> str:
    """The operations reference (``docs/operations.md``) of the SDTM and ADaM registries."""
    from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
    from cdisc_mapper.sdtm import OPERATIONS
    from cdisc_mapper.spec.reference import Section, operations_markdown

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
def spec_reference(ctx: click.Context, out: Path | None) -> None:
    """Write the reference of every operation and its arguments (docs/operations.md)."""

    def go() -> None:
        text = reference_text()
        if out is None:
            click.echo(text, nl=False)
        else:
            Path(out).write_text(text, encoding="utf-8")
            click.echo(str(out))

    _run(go, ctx.obj["debug"])


if __name__ == "__main__":  # pragma: no cover
    main()
