"""Shared fixtures: one simulated default study mapped to SDTM, reused by many tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def demo_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cdisc_mapper.simulate import simulate

    raw = tmp_path_factory.mktemp("demo") / "raw"
    simulate(raw, 20)
    return raw


@pytest.fixture(scope="session")
def demo_sdtm(demo_raw: Path):
    """(output folder, SdtmResult) of the default 20-subject demo."""
    from cdisc_mapper.sdtm.pipeline import run_sdtm

    out = demo_raw.parent / "out"
    result = run_sdtm(STUDY, demo_raw, out)
    return out, result
