"""Real `cdisc-mapper sdtm` runs, killed (SIGKILL), interrupted (Ctrl-C) or terminated
(SIGTERM) while writing, or started twice on one --out: the previous package stays
byte-identical with nothing partial in it, a second run is refused by the lock, and the
next run settles what a killed one left (its staging folder and its stale lock)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdisc_mapper.cli import main
from cdisc_mapper.publish import LOCK_FILE, is_temporary
from cdisc_mapper.sdtm.pipeline import _raise_if_interrupted
from cdisc_mapper.simulate import simulate
from tests.conftest import STUDY

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")

SUBJECTS = 150
"""Enough for the run to write for a while (23 datasets, about 10 MB)."""


@pytest.fixture(scope="module")
def big_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("big") / "raw"
    simulate(raw, SUBJECTS)
    return raw


@pytest.fixture
def out(tmp_path: Path, demo_sdtm) -> Path:  # type: ignore[no-untyped-def]
    """An output folder holding a previous package (SDTM of 20 subjects, a define.xml)."""
    out = tmp_path / "out"
    shutil.copytree(demo_sdtm[0] / "sdtm", out / "sdtm")
    (out / "sdtm" / "define.xml").write_text("<previous define/>", encoding="utf-8")
    return out


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(root).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


PAUSED_AFTER_THE_FIRST_DATASET = """
import sys
import time

import cdisc_mapper.sdtm.pipeline as pipeline
from cdisc_mapper.cli import main



def then_wait(write):
    def write_then_wait(*args, **kwargs):
        files = write(*args, **kwargs)
        time.sleep(600)  # the test's signal arrives here, mid-writing, and ends the sleep
        return files

    return write_then_wait


# the whole study's datasets and the trial design's are written by write_dataset; a
# study mapped by parts writes the others from its spilled parts (write_spilled)
pipeline.write_dataset = then_wait(pipeline.write_dataset)
pipeline.write_spilled = then_wait(pipeline.write_spilled)
main(sys.argv[1:], prog_name="cdisc-mapper")
"""
"""``cdisc-mapper`` that waits after writing its first dataset: the test signals the run
while it waits in the middle of writing, however loaded the machine (a run left to
itself could finish writing between the test seeing the first dataset and the signal,
or take the signal while Python runs a finalizer, which ignores it)."""


def start_sdtm(raw: Path, out: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", PAUSED_AFTER_THE_FIRST_DATASET, "sdtm", "--study", str(STUDY)]
    return subprocess.Popen(
        [*command, "--raw", str(raw), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(proc: subprocess.Popen[str], found: Callable[[], Path | None]) -> Path:
    give_up_at = time.monotonic() + 120
    while time.monotonic() < give_up_at:
        path = found()
        if path is not None:
            return path
        if proc.poll() is not None:
            pytest.fail(f"the run ended first ({proc.returncode}): {proc.stderr.read()}")  # type: ignore[union-attr]
        time.sleep(0.002)
    proc.kill()
    pytest.fail("the run did not start writing")


def first_dataset_staged(out: Path) -> Callable[[], Path | None]:
    """The staging folder once it holds a finished dataset (the run is mid-writing)."""

    def found() -> Path | None:
        for staging in out.glob(".sdtm.cdisc-mapper-*.new"):
            if any(staging.glob("*.xpt")):
                return staging
        return None

    return found


def rerun(raw: Path, out: Path) -> str:
    args = ["-q", "sdtm", "--study", str(STUDY), "--raw", str(raw), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_run_killed_while_writing_leaves_the_previous_package(
    big_raw: Path, out: Path, demo_raw: Path
) -> None:
    before = snapshot(out / "sdtm")
    proc = start_sdtm(big_raw, out)
    staging = wait_for(proc, first_dataset_staged(out))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert len(list(staging.glob("*.xpt"))) < 23, "killed in the middle of writing"
    assert snapshot(out / "sdtm") == before, "the package is byte-identical"
    assert sorted(os.listdir(out)) == sorted([LOCK_FILE, "sdtm", staging.name])
    # the next run takes over the stale lock and removes the dead run's staging folder
    output = rerun(demo_raw, out)
    assert f"took over the stale lock of run `sdtm` (pid {proc.pid}" in output
    assert os.listdir(out) == ["sdtm"]
    assert (out / "sdtm" / "define.xml").read_text() == "<previous define/>"
    assert not [p for p in (out / "sdtm").iterdir() if is_temporary(p.name)]


def test_a_run_interrupted_while_writing_leaves_the_previous_package(
    big_raw: Path, out: Path
) -> None:
    before = snapshot(out)
    proc = start_sdtm(big_raw, out)
    wait_for(proc, first_dataset_staged(out))
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "Aborted" in err, err
    assert snapshot(out) == before, "package as it was; no staging folder, no lock"


def test_a_run_terminated_while_writing_cleans_up_after_itself(big_raw: Path, out: Path) -> None:
    # SIGTERM (kill, a batch system's time limit) left the staging folder and the lock
    # for the next run to settle
    before = snapshot(out)
    proc = start_sdtm(big_raw, out)
    wait_for(proc, first_dataset_staged(out))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM and "Terminated" in err, err
    assert snapshot(out) == before, "package as it was; no staging folder, no lock"


def test_a_second_run_on_the_same_out_is_refused(big_raw: Path, out: Path) -> None:
    before = snapshot(out / "sdtm")
    proc = start_sdtm(big_raw, out)
    try:
        wait_for(proc, lambda: out / LOCK_FILE if (out / LOCK_FILE).exists() else None)
        args = ["-q", "sdtm", "--study", str(STUDY), "--raw", str(big_raw), "--out", str(out)]
        second = CliRunner().invoke(main, args)
        assert proc.poll() is None, "the first run still holds the folder"
    finally:
        proc.kill()
        proc.communicate()
    assert second.exit_code == 1, second.output
    assert f"in use by another run `sdtm` (pid {proc.pid} on" in second.output
    assert f"delete {out.resolve() / LOCK_FILE}" in second.output
    assert snapshot(out / "sdtm") == before


def test_an_error_raised_while_cleaning_up_after_an_interrupt_ends_the_run() -> None:
    # an error whose cause or context is Ctrl-C (raised while the parts were cleaned up)
    # raises the interrupt instead of starting the serial run; other errors do not
    def cleanup_error_after(interrupt: BaseException) -> OSError:
        try:
            try:
                raise interrupt
            finally:
                raise OSError("cannot remove the working folder")
        except OSError as exc:
            return exc

    with pytest.raises(KeyboardInterrupt):
        _raise_if_interrupted(cleanup_error_after(KeyboardInterrupt()))
    with pytest.raises(SystemExit):
        _raise_if_interrupted(cleanup_error_after(SystemExit(143)))
    plain = ValueError("a part failed")
    plain.__context__ = OSError("unrelated")
    assert _raise_if_interrupted(plain) is None
