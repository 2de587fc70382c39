"""Fixtures of the hostile-input catalogue: a small raw export made once, and a fresh
workspace (study, raw, out) for each case."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_mapper.simulate import simulate
from tests.hostile.catalogue import Workspace, make_workspace


@pytest.fixture(scope="session")
def hostile_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5-subject raw export of the bundled study, made once."""
    raw = tmp_path_factory.mktemp("hostile") / "raw"
    simulate(raw, 5)
    return raw


@pytest.fixture
def workspace(tmp_path: Path, hostile_raw: Path) -> Workspace:
    return make_workspace(tmp_path, hostile_raw)
