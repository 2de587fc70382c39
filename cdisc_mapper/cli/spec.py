"""``spec``: the study's specs as one workbook (``export``, ``import``) and the reference of
every operation (``reference``, docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cdisc_mapper.cli.group import main
from cdisc_mapper.cli.options import run_options, study_option
from cdisc_mapper.cli.running import _run


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
