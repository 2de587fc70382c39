"""``define`` (Define-XML 2.1 from the datasets, or from define-generator metadata alone)
and ``acrf`` (the annotated CRF define.xml cites)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path

import click

from cdisc_mapper.cli.group import main
from cdisc_mapper.cli.options import _study_or_bundled, run_options, study_option, workers_option
from cdisc_mapper.cli.running import _locked, _run, default_workers


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
@workers_option("Read the datasets")
@click.pass_context
@run_options
def define(
    ctx: click.Context, study: Path, out: Path, raw: Path | None, workers: int | None
) -> None:
    """Write Define-XML 2.1 (with define.html and the define2-1.xsl stylesheet) for the
    datasets of OUT/sdtm and OUT/adam; a folder without .xpt files is skipped. Without an
    annotated CRF of your own in define.yaml, also OUT/sdtm/acrf.pdf, which define.xml
    cites. The ADaM define.xml carries the Analysis Results Metadata of
    adam/reports.yaml. With datasets in several formats, define.xml names the XPT files
    and define-json.xml / define-ndjson.xml the Dataset-JSON ones. With --workers 2 or
    more (the default on a machine with several cores), a package of 128 MB of XPT files
    or more is read in that many processes; a smaller one here."""

    def go() -> None:
        from cdisc_mapper.define import write_define
        from cdisc_mapper.xlsx import spec_folder
        from cdisc_mapper.xlsx.folder import METADATA, spec_kind

        with _locked(out, "define", create=False), _define_warnings_logged():
            if spec_kind(study) == METADATA:
                written = _define_from_metadata(ctx, study, out)
            else:
                with spec_folder(study) as folder:
                    n = workers or default_workers()
                    written = write_define(folder, out, raw_dir=raw, workers=n)
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
