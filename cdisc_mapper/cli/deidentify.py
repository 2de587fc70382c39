"""``deidentify``: an SDTM/ADaM package de-identified for sharing, its key kept apart."""

from __future__ import annotations

from pathlib import Path

import click

from cdisc_mapper.cli.group import main
from cdisc_mapper.cli.options import run_options
from cdisc_mapper.cli.running import _locked, _run


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
