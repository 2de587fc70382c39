"""The ``cdisc-mapper`` command group, which every command module adds its commands to."""

from __future__ import annotations

import click

from cdisc_mapper import __version__
from cdisc_mapper.cli.options import run_options
from cdisc_mapper.cli.progress import _attach_progress


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
