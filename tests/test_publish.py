"""cdisc_mapper.publish: a stage's folders are published all at once (or not at all), a
run killed at any point is settled by the next one, temporary names are unique, and one
run at a time holds an output folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdisc_mapper.errors import CdiscMapperError
from cdisc_mapper.publish import (
    HOST,
    LOCK_FILE,
    OutputFolderError,
    RunLockedError,
    Target,
    atomic_file,
    folders,
    is_temporary,
    names,
    owning,
    private_name,
    recover,
    run_lock,
    staged,
    temp_path,
)

XPT = owning(suffixes=[".xpt"])


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every entry under ``root`` (hidden ones too): file bytes, None for a folder."""
    return {
        p.relative_to(root).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def fill(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def temporaries(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if is_temporary(p.name)]


# ---------------------------------------------------------------------------- staged


def test_a_stage_replaces_its_own_files_and_keeps_the_rest(tmp_path: Path) -> None:
    sdtm = tmp_path / "out" / "sdtm"
    fill(sdtm, {"dm.xpt": "old dm", "ae.xpt": "old ae", "define.xml": "define"})
    define_inode = (sdtm / "define.xml").stat().st_ino
    before = snapshot(tmp_path)
    with staged(Target(sdtm, XPT)) as (stage,):
        fill(stage.path, {"dm.xpt": "new dm", "lb.xpt": "new lb"})
        assert snapshot(tmp_path / "out" / "sdtm") == {
            k.removeprefix("out/sdtm/"): v for k, v in before.items() if k.startswith("out/sdtm/")
        }, "nothing changes in the target before the stage is done"
    assert stage.final(stage.path / "dm.xpt") == sdtm / "dm.xpt"
    assert snapshot(sdtm) == {"define.xml": b"define", "dm.xpt": b"new dm", "lb.xpt": b"new lb"}
    assert (sdtm / "define.xml").stat().st_ino == define_inode, "carried as a hard link"
    assert os.listdir(tmp_path / "out") == ["sdtm"]


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()])
def test_a_failed_or_interrupted_stage_leaves_the_target_as_it_was(
    tmp_path: Path, error: BaseException
) -> None:
    sdtm = tmp_path / "sdtm"
    fill(sdtm, {"dm.xpt": "old dm", "reconciliation.csv": "old"})
    before = snapshot(tmp_path)
    with pytest.raises(type(error)), staged(Target(sdtm, XPT)) as (stage,):
        fill(stage.path, {"dm.xpt": "half"})
        raise error
    assert snapshot(tmp_path) == before


def test_a_first_publication_creates_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "new" / "reports"
    with staged(Target(target, owning(names=["a.csv"]))) as (stage,):
        fill(stage.path, {"a.csv": "a"})
    assert snapshot(tmp_path / "new") == {"reports": None, "reports/a.csv": b"a"}


def test_two_folders_of_one_stage_are_published_together(tmp_path: Path) -> None:
    fill(tmp_path / "adam", {"adsl.xpt": "old"})
    fill(tmp_path / "reports", {"summary.csv": "old", "validation.json": "kept"})
    with staged(
        Target(tmp_path / "adam", XPT), Target(tmp_path / "reports", owning(["summary.csv"]))
    ) as (adam, reports):
        fill(adam.path, {"adsl.xpt": "new"})
        fill(reports.path, {"summary.csv": "new"})
    assert snapshot(tmp_path) == {
        "adam": None,
        "adam/adsl.xpt": b"new",
        "reports": None,
        "reports/summary.csv": b"new",
        "reports/validation.json": b"kept",
    }


def test_a_symlinked_output_folder_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "disk" / "sdtm"
    fill(real, {"dm.xpt": "old"})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sdtm").symlink_to(real)
    with staged(Target(tmp_path / "out" / "sdtm", XPT)) as (stage,):
        fill(stage.path, {"dm.xpt": "new"})
    assert (tmp_path / "out" / "sdtm").is_symlink()
    assert (real / "dm.xpt").read_text() == "new"


def test_errors_name_the_published_place_not_the_staging_folder(tmp_path: Path) -> None:
    with pytest.raises(CdiscMapperError) as caught, staged(Target(tmp_path / "sdtm", XPT)) as s:
        raise CdiscMapperError("cannot write", where=str(s[0].path / "lb.xpt"))
    assert str(caught.value).startswith(f"{tmp_path / 'sdtm' / 'lb.xpt'}: cannot write")
    assert caught.value.where == str(tmp_path / "sdtm" / "lb.xpt")
    assert ".cdisc-mapper-" not in str(caught.value)


def test_a_target_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sdtm").write_text("a file")
    with (
        pytest.raises(OutputFolderError, match="is not a folder"),
        staged(Target(tmp_path / "sdtm", XPT)),
    ):
        pass
    assert (tmp_path / "sdtm").read_text() == "a file"


@pytest.mark.skipif(not os.path.ismount("/proc"), reason="needs a mount point")
def test_a_mount_point_is_refused() -> None:
    with pytest.raises(OutputFolderError, match="mount point"), staged(Target(Path("/proc"), XPT)):
        pass


@pytest.mark.parametrize("inside", ["", "sub"])
def test_a_target_holding_the_current_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inside: str
) -> None:
    # `simulate --out .` swapped the folder the shell was in: the shell was left in a
    # removed folder that listed nothing
    target = tmp_path / "raw"
    (target / "sub").mkdir(parents=True)
    (target / "a.xpt").write_text("old")
    monkeypatch.chdir(target / inside)
    with (
        pytest.raises(OutputFolderError, match="holds the current folder"),
        staged(Target(Path(".." if inside else "."), XPT)),
    ):
        pass
    assert (target / "a.xpt").read_text() == "old"
    assert os.path.samefile(Path.cwd(), target / inside)


# ---------------------------------------------------------------------------- killed runs


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs in the killed process."""


def _rename_killing_after(n: int):  # type: ignore[no-untyped-def]
    real = os.rename
    done = [0]

    def rename(src, dst):  # type: ignore[no-untyped-def]
        if done[0] == n:
            raise Killed
        done[0] += 1
        real(src, dst)

    return rename


def _killed(n: int) -> ExitStack:
    """Patches making the process 'die' before its n-th rename: no handler runs."""
    stack = ExitStack()
    stack.enter_context(mock.patch.object(os, "rename", _rename_killing_after(n)))
    stack.enter_context(mock.patch.object(folders, "_settle", lambda *a: None))
    return stack


OLD = {"adam": {"adsl.xpt": "old adsl", "define.xml": "define"}, "reports": {"s.csv": "old s"}}
NEW = {"adam": {"adsl.xpt": "new adsl"}, "reports": {"s.csv": "new s"}}


@given(
    exists=st.tuples(st.booleans(), st.booleans()),
    kill_at=st.integers(0, 4),
    kill_recovery_at=st.none() | st.integers(0, 3),
)
def test_a_run_killed_at_any_point_is_settled_by_the_next(
    exists: tuple[bool, bool], kill_at: int, kill_recovery_at: int | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        for (name, files), present in zip(OLD.items(), exists, strict=True):
            if present:
                fill(out / name, files)
        old = snapshot(out)
        targets = [Target(out / "adam", XPT), Target(out / "reports", owning(["s.csv"]))]
        renames = sum(exists) + 2
        try:
            with _killed(kill_at), staged(*targets) as stages:
                for stage, files in zip(stages, NEW.values(), strict=True):
                    fill(stage.path, files)
        except Killed:
            pass
        with mock.patch.object(names, "pid_alive", lambda pid: False):
            if kill_recovery_at is not None:
                try:
                    with mock.patch.object(os, "rename", _rename_killing_after(0)):
                        recover(out)
                except Killed:
                    pass
            recover(out)
        if kill_at < renames:
            assert snapshot(out) == old, "the previous package comes back"
        else:
            new = {"adam": None, "adam/adsl.xpt": b"new adsl", "reports": None}
            new["reports/s.csv"] = b"new s"
            if exists[0]:
                new["adam/define.xml"] = b"define"
            assert snapshot(out) == new, "the finished publication stays"


def test_live_runs_and_other_hosts_are_left_alone(tmp_path: Path) -> None:
    mine = f"{HOST}-{os.getpid()}-0badc0de"
    other = f"{'0' * 8 if HOST != '0' * 8 else '1' * 8}-{dead_pid()}-0badc0de"
    for group in (mine, other):
        fill(tmp_path / private_name("sdtm", group, "new"), {"dm.xpt": "x"})
    before = snapshot(tmp_path)
    recover(tmp_path)
    assert snapshot(tmp_path) == before


def test_a_dead_runs_staging_and_temporary_files_are_cleaned(tmp_path: Path) -> None:
    dead = f"{HOST}-{dead_pid()}-0badc0de"
    sdtm = tmp_path / "sdtm"
    fill(sdtm, {"dm.xpt": "old", ".lb.xpt.tmp": "half", f".ae.xpt.cdisc-mapper-{dead}.tmp": "h"})
    fill(tmp_path / private_name("sdtm", dead, "new"), {"dm.xpt": "half"})
    with staged(Target(sdtm, XPT)) as (stage,):
        fill(stage.path, {"dm.xpt": "new"})
    assert snapshot(tmp_path) == {"sdtm": None, "sdtm/dm.xpt": b"new"}


# ---------------------------------------------------------------------------- temp files


def test_temporary_names_are_unique_and_recognisable(tmp_path: Path) -> None:
    names = {temp_path(tmp_path / "dm.xpt").name for _ in range(50)}
    assert len(names) == 50
    assert all(is_temporary(n) and n.startswith(".dm.xpt.") for n in names)
    assert not is_temporary("dm.xpt") and not is_temporary(LOCK_FILE)


def test_two_writers_of_one_file_do_not_collide(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    with atomic_file(path) as first, atomic_file(path) as second:
        first.write(b"first")
        second.write(b"second")
    assert path.read_bytes() == b"first"  # the outer block finished last
    assert sorted(os.listdir(tmp_path)) == ["dm.xpt"]


def test_an_interrupted_write_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "dm.xpt"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_file(path) as handle:
        handle.write(b"half")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["dm.xpt"]


# ---------------------------------------------------------------------------- the lock


def write_lock(folder: Path, pid: int, host: str | None = None) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(
        {
            "pid": pid,
            "host": host or socket.gethostname(),
            "command": "sdtm",
            "started": "2024-01-01T00:00:00+00:00",
        }
    )
    (folder / LOCK_FILE).write_text(text)
    return text


def test_the_lock_is_held_during_the_run_and_removed_after(tmp_path: Path) -> None:
    with run_lock(tmp_path / "out", command="sdtm"):
        held = json.loads((tmp_path / "out" / LOCK_FILE).read_text())
        assert held["pid"] == os.getpid() and held["command"] == "sdtm"
        with pytest.raises(RunLockedError, match=f"pid {os.getpid()}"), run_lock(tmp_path / "out"):
            pass
    assert os.listdir(tmp_path / "out") == []


def test_a_live_runs_lock_stops_a_second_run(tmp_path: Path) -> None:
    text = write_lock(tmp_path, os.getppid())
    with pytest.raises(RunLockedError) as caught, run_lock(tmp_path):
        pass
    message = str(caught.value)
    assert f"pid {os.getppid()} on {socket.gethostname()}" in message
    assert "`sdtm`" in message and str(tmp_path / LOCK_FILE) in message
    assert (tmp_path / LOCK_FILE).read_text() == text


def test_a_stale_lock_is_taken_over_with_a_note(tmp_path: Path) -> None:
    pid = dead_pid()
    write_lock(tmp_path, pid)
    notes: list[str] = []
    with run_lock(tmp_path, note=notes.append):
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert len(notes) == 1 and f"stale lock of run `sdtm` (pid {pid}" in notes[0]
    assert not (tmp_path / LOCK_FILE).exists()


@pytest.mark.parametrize("host", ["elsewhere", None])
def test_a_lock_that_cannot_be_judged_is_respected(tmp_path: Path, host: str | None) -> None:
    """A dead pid on another host, or a lock without a readable owner, is not stale."""
    if host:
        text = write_lock(tmp_path, dead_pid(), host)
    else:
        text = "not json"
        (tmp_path / LOCK_FILE).write_text(text)
    with pytest.raises(RunLockedError, match="in use by another") as caught, run_lock(tmp_path):
        pass
    assert (host or "no readable owner") in str(caught.value)
    assert (tmp_path / LOCK_FILE).read_text() == text


def test_a_lock_replaced_meanwhile_is_not_removed(tmp_path: Path) -> None:
    with run_lock(tmp_path):
        other = write_lock(tmp_path, os.getppid())
    assert (tmp_path / LOCK_FILE).read_text() == other


def test_no_folder_is_made_to_lock_when_not_asked(tmp_path: Path) -> None:
    with run_lock(tmp_path / "missing", create=False):
        pass
    assert not (tmp_path / "missing").exists()
