"""``validate``: the conformance checks over a package, and its reports."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cdisc_mapper.cli.group import main
from cdisc_mapper.cli.options import run_options, workers_option
from cdisc_mapper.cli.running import _locked, _run, default_workers


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
@workers_option("Check the datasets of a package of 300 MB or more")
@click.pass_context
@run_options
def validate(
    ctx: click.Context,
    directory: Path,
    define_paths: tuple[Path, ...],
    encoding: str | None,
    fail_on: str,
    dataset_format: str | None,
    workers: int | None,
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
                directory,
                define=defines or None,
                encoding=encoding,
                dataset_format=dataset_format,
                workers=default_workers() if workers is None else workers,
            )
            files = write_reports(report, directory / "reports")
        for path in files:
            click.echo(str(path))
        click.echo(report.summary_line())
        code = report.exit_code(fail_on)
        if code:
            sys.exit(code)

    _run(go, ctx)
