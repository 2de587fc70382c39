"""Shared fixtures: one simulated default study mapped to SDTM, reused by many tests.

scripts/check runs the tests in several processes (pytest-xdist), each test file whole in
one of them: each process makes the session fixtures once (the demo's raw export and
SDTM: about 2 s of CPU, against some 11 s to collect the tests), which costs less than
sharing them between processes would (a lock, the SDTM result pickled, a folder that no
test may then change)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests never fail on time: a correct test must pass on a loaded machine, so no
# profile has a deadline. CI runs them with a fixed seed sequence, so that a run is
# reproducible; locally they explore new examples each time.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", derandomize=True, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# Outputs carry a creation time (define.xml CreationDateTime, XPT headers): the tests
# compare reruns byte for byte, so they fix it as a reproducible build does (a test of
# the clock's path unsets it with monkeypatch).
os.environ.setdefault("SOURCE_DATE_EPOCH", "946684800")

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"
SHARED = REPO.parent / "shared"


def report_text(path: Path) -> str:
    """A report file's text; a workbook's (validation.xlsx) is that of its XML parts."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return "".join(book.read(name).decode("utf-8") for name in book.namelist())
    return path.read_text(encoding="utf-8")


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
