"""SOURCE_DATE_EPOCH is read in one place and checked before any command runs: a value
that is not a whole number of seconds (0 to year 9999) is an error naming the variable,
never an internal error (numpy's f2py, imported through scipy, reads it too)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from cdisc_mapper.epoch import LATEST_SECONDS, SOURCE_DATE_EPOCH, SourceDateError, source_date
from tests.conftest import REPO


def test_unset_is_none_and_digits_are_utc_seconds() -> None:
    assert source_date({}) is None
    assert source_date({SOURCE_DATE_EPOCH: "1700000000"}) == datetime(2023, 11, 14, 22, 13, 20)
    assert source_date({SOURCE_DATE_EPOCH: " 0\n"}) == datetime(1970, 1, 1)
    assert source_date({SOURCE_DATE_EPOCH: str(LATEST_SECONDS)}) == datetime(
        9999, 12, 31, 23, 59, 59
    )


@pytest.mark.parametrize(
    "value",
    ["abc", "", "  ", "-5", "1.5", "1e9", "+12", "1_000", "\u0661\u0662", str(LATEST_SECONDS + 1),
     "9" * 400],
)  # fmt: skip
def test_anything_else_names_the_variable_and_what_it_must_be(value: str) -> None:
    with pytest.raises(SourceDateError) as info:
        source_date({SOURCE_DATE_EPOCH: value})
    text = str(info.value)
    assert "environment variable SOURCE_DATE_EPOCH" in text
    assert "whole number of seconds since 1970-01-01" in text and "year 9999" in text
    assert len(text) < 400  # a huge value is shown cut short


def test_the_command_refuses_it_before_any_stage_runs(tmp_path: Path) -> None:
    """In a fresh process, as a user runs it: scipy (imported by the ADaM stage) loads
    numpy's f2py, which calls int() on the variable."""
    env = {**os.environ, SOURCE_DATE_EPOCH: "abc"}
    done = subprocess.run(
        [sys.executable, "-m", "cdisc_mapper.cli", "-q", "demo", "--out", str(tmp_path / "o")],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "environment variable SOURCE_DATE_EPOCH: SOURCE_DATE_EPOCH='abc' must be" in (
        done.stderr
    )
    assert "internal error" not in done.stderr
    assert not (tmp_path / "o").exists()
