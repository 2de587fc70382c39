"""One run per output folder: ``OUT/.cdisc-mapper.lock``, created exclusively, holds
the pid, host and command of the run; a second run stops with a message naming them; a
lock whose process is gone (same host) is stale and taken over, with a note."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cdisc_mapper.publish.folders import recover, resolved
from cdisc_mapper.publish.names import (
    LOCK_FILE,
    OutputFolderError,
    RunLockedError,
    os_error,
    pid_alive,
    temp_path,
)


@dataclass(frozen=True)
class _Holder:
    """Who holds a lock, as its file says (``pid`` None: the file says nothing usable)."""

    text: str
    pid: int | None
    host: str
    command: str
    started: str

    @property
    def stale(self) -> bool:
        return (
            self.pid is not None and self.host == socket.gethostname() and not pid_alive(self.pid)
        )

    def describe(self) -> str:
        if self.pid is None:
            return "run (its lock file names no readable owner)"
        what = f"`{self.command}` " if self.command else ""
        return f"run {what}(pid {self.pid} on {self.host}, since {self.started})"


def _read_holder(lock: Path) -> _Holder | None:
    """The lock's owner; None when the lock is gone."""
    try:
        text = lock.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        pid = data["pid"]
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise ValueError(pid)
        return _Holder(
            text, pid, str(data["host"]), str(data.get("command", "")), str(data["started"])
        )
    except (ValueError, KeyError, TypeError):
        return _Holder(text, None, "", "", "")


def _create_lock(lock: Path, text: str) -> bool:
    """Create ``lock`` holding ``text`` if it does not exist (it appears complete)."""
    tmp = temp_path(lock)
    try:
        tmp.write_text(text, encoding="utf-8")
        try:
            os.link(tmp, lock)
        except FileExistsError:
            return False
        except OSError:  # no hard links here: plain exclusive creation
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _take_over(lock: Path, holder: _Holder) -> bool:
    """Remove a stale lock, unless someone replaced it meanwhile."""
    aside = temp_path(lock)
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return False
    try:
        if aside.read_text(encoding="utf-8", errors="replace") == holder.text:
            return True
        with contextlib.suppress(OSError):  # a live run's lock made meanwhile: put it back
            os.link(aside, lock)
        return False
    finally:
        aside.unlink(missing_ok=True)


def _locked_error(folder: Path, lock: Path, holder: _Holder) -> RunLockedError:
    return RunLockedError(
        f"the output folder is in use by another {holder.describe()}",
        where=str(folder),
        hint=f"wait for it to finish; if no such run is alive, delete {lock}",
    )


def _acquire(folder: Path, lock: Path, command: str, note: Callable[[str], None]) -> str:
    started = datetime.now(UTC).replace(microsecond=0).isoformat()
    text = json.dumps(
        {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "started": started}
    )
    for _ in range(5):
        if _create_lock(lock, text):
            return text
        holder = _read_holder(lock)
        if holder is None:
            continue
        if not holder.stale:
            raise _locked_error(folder, lock, holder)
        if _take_over(lock, holder):
            note(f"{lock}: took over the stale lock of {holder.describe()}; that process is gone")
    holder = _read_holder(lock)
    raise _locked_error(folder, lock, holder or _Holder("", None, "", "", ""))


@contextlib.contextmanager
def run_lock(
    folder: Path,
    *,
    command: str = "",
    note: Callable[[str], None] = lambda _m: None,
    create: bool = True,
) -> Iterator[None]:
    """Hold ``folder/.cdisc-mapper.lock`` while the block runs (``folder`` is created
    unless ``create`` is False: then a missing folder, or a file, is not locked), and
    settle what dead runs left in and beside ``folder`` first.

    Raises:
        RunLockedError: another live run holds the lock.
        OutputFolderError: ``folder`` is not a folder or cannot be written.
    """
    shown = Path(folder)
    folder = Path(os.path.abspath(shown))  # by name: once swapped, the new folder
    if not folder.is_dir():
        if not create:
            yield
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise OutputFolderError(
                "is not a folder", where=str(shown), hint="remove it or choose another --out"
            ) from exc
        except OSError as exc:
            raise os_error("create the output folder", shown, exc) from exc
    lock = folder / LOCK_FILE
    try:
        mine = _acquire(shown, lock, command, note)
    except OSError as exc:
        raise os_error("create the lock file", lock, exc) from exc
    try:
        real = resolved(folder)
        recover(real)
        recover(real.parent, {real.name})
        yield
    finally:
        holder = _read_holder(lock)
        if holder is not None and holder.text == mine:
            lock.unlink(missing_ok=True)
