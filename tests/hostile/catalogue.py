"""The hostile-input catalogue: damaged raw files, hostile specs and workbooks, hostile
define.xml, interrupted runs, each a table row run through the command line.

A :class:`Case` states the input (how to damage a copy of the bundled study, its raw
export or a finished package), the command, the expected exit code, a fragment the
message must contain, text it must never show (e.g. the content of a file outside the
study), and what must be on disk afterwards. Each area's cases live in a
``tests/hostile/test_<area>.py`` file as a ``CASES`` table: :func:`run_case` runs one
and returns every way the tool's behaviour differs from the row (none: ``[]``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc_mapper.cli import main
from tests.conftest import STUDY


@dataclass
class Workspace:
    """A case's own copies: ``study`` (the bundled spec folder), ``raw`` (a small
    simulated export), ``out`` (an output folder, empty unless the case fills it) and
    ``tmp`` (anything else)."""

    tmp: Path
    study: Path
    raw: Path
    out: Path

    def fill(self, text: str) -> str:
        return text.format(tmp=self.tmp, study=self.study, raw=self.raw, out=self.out)


@dataclass(frozen=True)
class Case:
    """One hostile input and what the tool must do with it."""

    id: str
    command: Sequence[str]
    """Command-line arguments after ``cdisc-mapper``; ``{study}``, ``{raw}``, ``{out}``,
    ``{tmp}`` are the workspace's folders."""
    prepare: Callable[[Workspace], None] = lambda ws: None
    """Damage the inputs (or build the package) before the command runs."""
    exit_code: int = 1
    message: str = ""
    """A fragment the command's output must contain."""
    never: Sequence[str] = ()
    """Texts the output must not contain (foreign file content, a traceback...)."""
    after: Callable[[Workspace], None] | None = None
    """Assertions on the disk afterwards."""
    env: dict[str, str] = field(default_factory=dict)


def make_workspace(tmp: Path, raw_source: Path) -> Workspace:
    """Fresh copies of the bundled study and of ``raw_source`` under ``tmp``."""
    study = tmp / "study"
    raw = tmp / "raw"
    shutil.copytree(STUDY, study)
    shutil.copytree(raw_source, raw)
    out = tmp / "out"
    return Workspace(tmp=tmp, study=study, raw=raw, out=out)


def run_case(case: Case, ws: Workspace) -> list[str]:
    """Run ``case`` in ``ws``; every difference from the case's expectations: exit code,
    message, forbidden texts (and tracebacks) in the output, disk state afterwards."""
    case.prepare(ws)
    args = ["-q", *(ws.fill(a) for a in case.command)]
    result = CliRunner().invoke(main, args, env=case.env or None)
    output = result.output
    problems = []
    if result.exit_code != case.exit_code:
        problems.append(f"{case.id}: exit {result.exit_code}, expected {case.exit_code}\n{output}")
    if case.message not in output:
        problems.append(f"{case.id}: {case.message!r} not in:\n{output}")
    problems += [
        f"{case.id}: {text!r} in:\n{output}"
        for text in (*case.never, "Traceback", "internal error")
        if text in output
    ]
    if case.after is not None:
        try:
            case.after(ws)
        except (AssertionError, pytest.fail.Exception) as exc:
            problems.append(f"{case.id}: afterwards: {exc}")
    return problems
