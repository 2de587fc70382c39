"""Larger end-to-end runs, left out of the default test run (``scripts/check -m slow``):
the whole chain on a few hundred subjects gives a package with no validation error, and
a rerun gives the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc_mapper.cli import main


def _demo(out: Path, subjects: int) -> None:
    result = CliRunner().invoke(
        main, ["-q", "demo", "--out", str(out), "--subjects", str(subjects), "--seed", "11"]
    )
    assert result.exit_code == 0, result.output
    assert ": 0 errors," in result.output


@pytest.mark.slow
def test_three_hundred_subjects_end_to_end_twice(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")
    first, second = tmp_path / "a" / "demo", tmp_path / "b" / "demo"
    _demo(first, 300)
    _demo(second, 300)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) > 40
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
