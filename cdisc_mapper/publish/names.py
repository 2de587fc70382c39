"""Names, errors and small file operations shared by :mod:`.folders` and :mod:`.lock`.

Every temporary name says who made it: ``.<name>.cdisc-mapper-<host>-<pid>-<token>.<kind>``
(kind ``new``: a staging folder, ``old``: a replaced folder, ``none``: there was no
folder, ``tmp``: a file being written or scratch space), so that the next run can tell
a dead run's debris (same host, process gone) from a live run's.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cdisc_mapper.errors import CdiscMapperError

LOCK_FILE = ".cdisc-mapper.lock"
"""The lock file of an output folder."""
HOST = hashlib.sha256(socket.gethostname().encode("utf-8")).hexdigest()[:8]
"""This machine, as temporary names record it."""

_PRIVATE = re.compile(
    r"^\.(?P<base>.+)\.cdisc-mapper-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-(?P<token>[0-9a-f]{8})"
    r"\.(?P<kind>new|old|none|tmp)$",
    re.DOTALL,
)
_LEGACY_TMP = re.compile(r"^\..+\.xpt\.tmp$", re.DOTALL)
"""The temporary name of the XPT writer of earlier versions (``.lb.xpt.tmp``)."""


class OutputFolderError(CdiscMapperError):
    """An output folder cannot be used: not a folder, not writable, a mount point, or
    holding files the command did not write."""


class RunLockedError(OutputFolderError):
    """Another run is using the output folder."""


@dataclass(frozen=True)
class Private:
    """A temporary name taken apart: the target's name, who made it and what it is."""

    base: str
    host: str
    pid: int
    group: str
    kind: str


def new_group() -> str:
    """A run's unique part of temporary names: host, pid and a random token."""
    return f"{HOST}-{os.getpid()}-{secrets.token_hex(4)}"


def private_name(base: str, group: str, kind: str) -> str:
    """``.<base>.cdisc-mapper-<group>.<kind>``."""
    return f".{base}.cdisc-mapper-{group}.{kind}"


def parse_name(name: str) -> Private | None:
    """``name`` taken apart, when it is a temporary name of this version."""
    match = _PRIVATE.match(name)
    if match is None:
        return None
    group = f"{match['host']}-{match['pid']}-{match['token']}"
    return Private(match["base"], match["host"], int(match["pid"]), group, match["kind"])


def is_temporary(name: str) -> bool:
    """A staging folder, replaced folder or temporary file of some run (this version's
    names and the earlier XPT writer's ``.<file>.xpt.tmp``)."""
    return _PRIVATE.match(name) is not None or _LEGACY_TMP.match(name) is not None


def is_bookkeeping(name: str) -> bool:
    """The lock file or a temporary name: nothing a user wrote."""
    return name == LOCK_FILE or is_temporary(name)


def temp_path(path: Path) -> Path:
    """A unique temporary name beside ``path`` for writing it."""
    path = Path(path)
    return path.with_name(private_name(path.name, new_group(), "tmp"))


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (unknown counts as running)."""
    if os.name == "nt":  # pragma: no cover - os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's process
        return True
    return True


def is_dead(entry: Private) -> bool:
    """Made by a process of this machine that is gone."""
    return entry.host == HOST and not pid_alive(entry.pid)


def remove(path: Path) -> None:
    """Delete a file, link or folder tree; gone already is fine."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` through a unique temporary file beside it, renamed into place when
    the block succeeds; on any failure (or interrupt) the temporary file is deleted and
    ``path`` is untouched."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def os_error(action: str, path: Path, exc: OSError) -> OutputFolderError:
    """An OSError while publishing, as a located error saying what to check."""
    return OutputFolderError(
        f"cannot {action}: {exc.strerror or exc}",
        where=str(path),
        hint="check that the folder and its parent are writable and have free space",
    )


def folder_entries(folder: Path) -> list[str]:
    """The names in ``folder`` a user or a stage wrote (bookkeeping left out)."""
    if not Path(folder).is_dir():
        return []
    return sorted(p.name for p in Path(folder).iterdir() if not is_bookkeeping(p.name))
