"""The command line says what it did before it became a package: every command's
``--help`` (options, defaults, texts) and ``--version`` equal the texts recorded in
tests/data/cli_help.txt, which were made from the single-module cli.py.

A deliberate change of a command's options or help is recorded again with
``python -m tests.test_cli_help`` (from the repository root), and the diff reviewed."""

from __future__ import annotations

import sys

import click
import pytest
from click.testing import CliRunner

from cdisc_mapper.cli import main
from tests.conftest import REPO

RECORDED = REPO / "tests" / "data" / "cli_help.txt"
HEAD = "=== cdisc-mapper {} ===\n"
"""The line before each recorded text, naming the arguments that printed it."""


def command_paths(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every command and group under ``group``, as its words (``spec export``)."""
    found = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        found.append(" ".join(path))
        if isinstance(command, click.Group):
            found.extend(command_paths(command, path))
    return found


def printed(arguments: str) -> str:
    """What ``cdisc-mapper ARGUMENTS`` prints, on an 80-column terminal."""
    result = CliRunner().invoke(
        main, arguments.split(), prog_name="cdisc-mapper", terminal_width=80
    )
    assert result.exit_code == 0, result.output
    return result.output


def every_argument_list() -> list[str]:
    """``--version``, the main help, and each command's help."""
    return ["--version", "--help", *(f"{path} --help" for path in command_paths())]


def current_texts() -> str:
    return "".join(
        HEAD.format(arguments) + printed(arguments) for arguments in every_argument_list()
    )


def recorded_texts() -> dict[str, str]:
    """The recorded texts by the arguments that printed them."""
    text = RECORDED.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    arguments = None
    for line in text.splitlines(keepends=True):
        if line.startswith("=== cdisc-mapper ") and line.endswith(" ===\n"):
            arguments = line.removeprefix("=== cdisc-mapper ").removesuffix(" ===\n")
            found[arguments] = ""
        elif arguments is not None:
            found[arguments] += line
    return found


def test_the_same_commands_as_recorded() -> None:
    assert every_argument_list() == list(recorded_texts())


@pytest.mark.parametrize("arguments", every_argument_list())
def test_each_command_prints_the_recorded_help(arguments: str) -> None:
    assert printed(arguments) == recorded_texts().get(arguments)


def test_the_recorded_help_names_every_command() -> None:
    """The record is not empty or cut short: the commands of the README are in it."""
    recorded = recorded_texts()
    for command in (
        "simulate", "sdtm", "adam", "define", "acrf", "validate", "demo", "deidentify",
        "spec", "spec export", "spec import", "spec reference",
    ):  # fmt: skip
        assert f"Usage: cdisc-mapper {command} [OPTIONS]" in recorded[f"{command} --help"]
    assert recorded["--version"].startswith("cdisc-mapper, version ")


if __name__ == "__main__":  # record the current texts (a deliberate change of the help)
    RECORDED.write_text(current_texts(), encoding="utf-8")
    sys.stdout.write(f"{RECORDED}\n")
