"""The catalogue's own rules: a case that passes runs clean, and the harness catches a
wrong exit code, a missing message and a traceback."""

from __future__ import annotations

import pytest

from tests.hostile.catalogue import Case, Workspace, run_case


def test_a_clean_run_passes(workspace: Workspace) -> None:
    case = Case(
        "clean sdtm",
        ["sdtm", "--study", "{study}", "--raw", "{raw}", "--out", "{out}"],
        exit_code=0,
        after=lambda ws: ws.out.joinpath("sdtm", "dm.xpt").is_file() or pytest.fail("no dm"),
    )
    assert run_case(case, workspace) == []


def test_the_harness_checks_exit_code_and_message(workspace: Workspace) -> None:
    case = Case(
        "missing raw",
        ["sdtm", "--study", "{study}", "--raw", "{tmp}/nowhere", "--out", "{out}"],
        exit_code=0,
    )
    (problem,) = run_case(case, workspace)
    assert "missing raw: exit 1, expected 0" in problem
    wrong = Case(
        "missing raw",
        ["sdtm", "--study", "{study}", "--raw", "{tmp}/nowhere", "--out", "{out}"],
        message="no such text",
    )
    (problem,) = run_case(wrong, workspace)
    assert "missing raw: 'no such text' not in" in problem


def test_the_harness_reports_what_is_wrong_on_disk(workspace: Workspace) -> None:
    case = Case(
        "clean sdtm",
        ["sdtm", "--study", "{study}", "--raw", "{raw}", "--out", "{out}"],
        exit_code=0,
        after=lambda ws: pytest.fail("no such file"),
    )
    assert run_case(case, workspace) == ["clean sdtm: afterwards: no such file"]
