"""Publishing a stage's outputs all at once, and one run per output folder.

A stage (``sdtm``, ``adam``, ``define``, ``validate``, ``simulate``, ``demo``) never
writes into the folders a reader sees. :func:`staged` gives it a staging folder beside
each target folder (same parent, so the same filesystem); the stage writes its files
there, and only when all of them are written are the staging folders moved into place
(:func:`publish_folders` does the same for folders prepared elsewhere). A target folder
is replaced whole, so nobody ever lists a mix of two runs' files of one stage: the
files of the target that the stage does not own (e.g. define.xml in ``sdtm/`` for the
``sdtm`` stage) are carried over into the staging folder first, as hard links (copies
where the filesystem has none); the files it owns (:class:`Target`) are dropped, so a
dataset the stage no longer makes does not linger from an older run.

Why whole folders: renaming one directory is atomic; renaming N files one by one is not,
and a reader between two renames (or a kill between them) would see a mix. POSIX has
no atomic "replace a non-empty directory", so a folder is swapped in two renames
(``T`` -> ``.T.<run>.old``, ``.T.<run>.new`` -> ``T``): between them ``T`` is briefly
absent, never mixed. A stage with two folders (``adam``: ``adam/`` and ``reports/``)
swaps them one after the other; every old folder is kept until all are in place.

Every temporary name says who made it: ``.<name>.cdisc-mapper-<host>-<pid>-<token>.<kind>``
(kind ``new``: staging, ``old``: a replaced folder, ``none``: there was no folder,
``tmp``: a file being written or scratch space). The next run (:func:`recover`) settles
what a run that died left behind (same host, process gone): if any of its staging
folders had not been moved in yet, its swaps are rolled back (the previous package
comes back), else its old folders are deleted. Live runs' and other hosts' names are
left alone.

:func:`run_lock` allows one run per output folder: ``OUT/.cdisc-mapper.lock`` is
created exclusively and holds the pid, host and command; a second run stops with a
message naming them; a lock whose process is gone (same host) is stale and taken over,
with a note.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from cdisc_mapper.errors import CdiscMapperError, Location

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
class Target:
    """A folder a stage replaces, and which of its entries (by name) the stage owns."""

    folder: Path
    owns: Callable[[str], bool]


@dataclass(frozen=True)
class Staging:
    """Where a stage writes the new content of ``target`` (``path``)."""

    path: Path
    target: Path

    def final(self, path: Path) -> Path:
        """Where ``path`` (inside the staging folder) will be once published."""
        return self.target / Path(path).relative_to(self.path)


def owning(names: Iterable[str] = (), suffixes: Iterable[str] = ()) -> Callable[[str], bool]:
    """Ownership by exact names and by (case-insensitive) name endings."""
    exact = frozenset(names)
    ends = tuple(s.lower() for s in suffixes)

    def owns(name: str) -> bool:
        return name in exact or (bool(ends) and name.lower().endswith(ends))

    return owns


def owns_all(name: str) -> bool:
    """Ownership of a folder the stage makes whole (e.g. the demo's ``raw/``)."""
    return True


# ---------------------------------------------------------------------------- names


@dataclass(frozen=True)
class _Private:
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


def _parse(name: str) -> _Private | None:
    match = _PRIVATE.match(name)
    if match is None:
        return None
    group = f"{match['host']}-{match['pid']}-{match['token']}"
    return _Private(match["base"], match["host"], int(match["pid"]), group, match["kind"])


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


def _dead(entry: _Private) -> bool:
    return entry.host == HOST and not pid_alive(entry.pid)


# ---------------------------------------------------------------------------- files


def _remove(path: Path) -> None:
    """Delete a file, link or folder tree; gone already is fine."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def _link_or_copy_file(src: str, dst: str) -> str:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)
    return dst


def _carry(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst``: hard links where possible (no bytes copied)."""
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy_file)
    else:
        _link_or_copy_file(str(src), str(dst))


def _carry_over(target: Path, staging: Path, owns: Callable[[str], bool]) -> None:
    """Bring the entries of ``target`` the stage does not own into ``staging``
    (temporary names of other runs are left behind)."""
    if not target.is_dir():
        return
    for entry in sorted(target.iterdir()):
        name = entry.name
        if owns(name) or is_temporary(name) or os.path.lexists(staging / name):
            continue
        _carry(entry, staging / name)


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


# ---------------------------------------------------------------------------- folders


def _resolved(folder: Path) -> Path:
    """The real folder (a symlinked output folder is replaced where it points)."""
    return Path(os.path.realpath(folder))


def _os_error(action: str, path: Path, exc: OSError) -> OutputFolderError:
    return OutputFolderError(
        f"cannot {action}: {exc.strerror or exc}",
        where=str(path),
        hint="check that the folder and its parent are writable and have free space",
    )


def _check_target(folder: Path, shown: Path) -> None:
    if os.path.lexists(folder) and not folder.is_dir():
        raise OutputFolderError(
            "is not a folder", where=str(shown), hint="remove it or choose another --out"
        )
    if folder.is_dir() and os.path.ismount(folder):
        raise OutputFolderError(
            "is a mount point; outputs are published by renaming their folder, which a "
            "mount point does not allow",
            where=str(shown),
            hint="write into a subfolder of it",
        )


def _common_parent(folders: list[Path]) -> Path:
    parents = {f.parent for f in folders}
    if len(parents) != 1 or len({f.name for f in folders}) != len(folders):
        raise ValueError(f"targets must be distinct folders of one parent: {folders}")
    return parents.pop()


@contextlib.contextmanager
def staged(*targets: Target) -> Iterator[tuple[Staging, ...]]:
    """Staging folders for ``targets`` (distinct folders of one parent), published when
    the block succeeds and deleted when it fails or is interrupted.

    On success each target becomes its staging folder plus the entries of the old target
    it does not own; the targets are swapped in one after the other, and a failure among
    them rolls every swap back.
    """
    folders = [_resolved(t.folder) for t in targets]
    parent = _common_parent(folders)
    recover(parent, {f.name for f in folders})
    for folder, target in zip(folders, targets, strict=True):
        _check_target(folder, target.folder)
    group = new_group()
    stagings: list[Staging] = []
    try:
        try:
            parent.mkdir(parents=True, exist_ok=True)
            for folder, target in zip(folders, targets, strict=True):
                path = parent / private_name(folder.name, group, "new")
                path.mkdir()
                stagings.append(Staging(path, Path(target.folder)))
        except OSError as exc:
            raise _os_error("create a staging folder", parent, exc) from exc
        yield tuple(stagings)
        try:
            for folder, target, staging in zip(folders, targets, stagings, strict=True):
                _carry_over(folder, staging.path, target.owns)
        except OSError as exc:
            raise _os_error("carry the other files over", parent, exc) from exc
    except BaseException as exc:
        for staging in stagings:
            _remove(staging.path)
        _name_published(exc, {s.path: s.target for s in stagings})
        raise
    _commit(parent, group, [(f.name, s.path) for f, s in zip(folders, stagings, strict=True)])


def publish_folders(prepared: Mapping[Path, Path]) -> None:
    """Move prepared folders (values) to their targets (keys, distinct folders of one
    parent, on the same filesystem) as one publication; each target is replaced whole."""
    folders = {_resolved(target): Path(source) for target, source in prepared.items()}
    parent = _common_parent(list(folders))
    recover(parent, {f.name for f in folders})
    for folder, shown in zip(folders, prepared, strict=True):
        _check_target(folder, shown)
    group = new_group()
    moved: list[tuple[str, Path]] = []
    try:
        for folder, source in folders.items():
            new = parent / private_name(folder.name, group, "new")
            os.rename(source, new)
            moved.append((folder.name, new))
    except BaseException as exc:
        for _, new in moved:
            _remove(new)
        if isinstance(exc, OSError):
            raise _os_error("move the outputs into place", parent, exc) from exc
        raise
    _commit(parent, group, moved)


def _commit(parent: Path, group: str, swaps: list[tuple[str, Path]]) -> None:
    """Swap each staging folder in (the old folder aside as ``.old``, or a ``.none``
    marker when there was none), then delete the old folders. Any failure rolls back."""
    try:
        for base, new in swaps:
            target = parent / base
            if os.path.lexists(target):
                os.rename(target, parent / private_name(base, group, "old"))
            else:
                (parent / private_name(base, group, "none")).touch()
            os.rename(new, target)
    except BaseException as exc:
        _settle(parent, _group_entries(parent, group))
        if isinstance(exc, OSError):
            raise _os_error("move the outputs into place", parent, exc) from exc
        raise
    _settle(parent, _group_entries(parent, group))


def _name_published(exc: BaseException, places: Mapping[Path, Path]) -> None:
    """Make an error raised while writing a staging folder name the published place."""
    if not isinstance(exc, CdiscMapperError):
        return

    def named(text: str) -> str:
        for private, public in places.items():
            text = text.replace(str(private), str(public))
        return text

    exc.args = tuple(named(a) if isinstance(a, str) else a for a in exc.args)
    if isinstance(exc.where, str):
        exc.where = named(exc.where)
    elif isinstance(exc.where, Location) and exc.where.file:
        exc.where = replace(exc.where, file=named(exc.where.file))


@contextlib.contextmanager
def scratch(parent: Path, name: str) -> Iterator[Path]:
    """A private working folder in ``parent`` (e.g. a whole demo before it is published),
    deleted when the block ends; a dead run's is deleted by :func:`recover`. Errors
    raised in the block name ``parent`` instead of it."""
    shown = Path(parent)
    parent = _resolved(parent)
    recover(parent, {name})
    path = parent / private_name(name, new_group(), "tmp")
    try:
        path.mkdir(parents=True)
    except OSError as exc:
        raise _os_error("create a working folder", parent, exc) from exc
    try:
        yield path
    except BaseException as exc:
        _name_published(exc, {path: shown})
        raise
    finally:
        _remove(path)


# ---------------------------------------------------------------------------- recovery


def _group_entries(parent: Path, group: str) -> dict[str, dict[str, Path]]:
    """The temporary entries of ``group`` in ``parent``: base name -> kind -> path."""
    found: dict[str, dict[str, Path]] = {}
    for path in parent.iterdir():
        entry = _parse(path.name)
        if entry is not None and entry.group == group:
            found.setdefault(entry.base, {})[entry.kind] = path
    return found


def _settle(parent: Path, entries: dict[str, dict[str, Path]]) -> None:
    """Bring a group's swaps to a consistent end: while any staging folder (``new``) is
    left, the publication did not finish and every swapped folder goes back; else the
    old folders are deleted. Safe to repeat after an interruption at any point."""
    unfinished = any("new" in kinds for kinds in entries.values())
    for base, kinds in sorted(entries.items()):
        if unfinished:
            _roll_back(parent / base, kinds)
        for path in kinds.values():
            _remove(path)


def _roll_back(target: Path, kinds: dict[str, Path]) -> None:
    """Put the folder aside for ``target`` back (``kinds`` loses what it used)."""
    aside = kinds.get("old") or kinds.get("none")
    if aside is None:
        return
    if "new" not in kinds and os.path.lexists(target):  # the new folder was moved in
        back = aside.with_name(aside.name.rsplit(".", 1)[0] + ".new")
        os.rename(target, back)
        kinds["new"] = back
    old = kinds.get("old")
    if old is not None:
        try:
            os.rename(old, target)
        except OSError as exc:
            raise OutputFolderError(
                f"cannot put the previous folder back ({exc.strerror or exc}); it is kept at {old}",
                where=str(target),
                hint=f"move {old.name} back to {target.name} by hand",
            ) from exc
        del kinds["old"]


def recover(parent: Path, bases: set[str] | None = None) -> None:
    """Settle what dead runs (this host, process gone) left in ``parent``: every group of
    temporary names with an entry for one of ``bases`` (all when None)."""
    parent = Path(parent)
    if not parent.is_dir():
        return
    groups: dict[str, list[_Private]] = {}
    for path in parent.iterdir():
        entry = _parse(path.name)
        if entry is not None and _dead(entry):
            groups.setdefault(entry.group, []).append(entry)
    for group, members in sorted(groups.items()):
        if bases is None or any(m.base in bases for m in members):
            _settle(parent, _group_entries(parent, group))


# ---------------------------------------------------------------------------- the lock


@dataclass(frozen=True)
class _Holder:
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
            return "a run that left no readable owner in the lock"
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
            raise _os_error("create the output folder", shown, exc) from exc
    lock = folder / LOCK_FILE
    try:
        mine = _acquire(shown, lock, command, note)
    except OSError as exc:
        raise _os_error("create the lock file", lock, exc) from exc
    try:
        real = _resolved(folder)
        recover(real)
        recover(real.parent, {real.name})
        yield
    finally:
        holder = _read_holder(lock)
        if holder is not None and holder.text == mine:
            lock.unlink(missing_ok=True)


def folder_entries(folder: Path) -> list[str]:
    """The names in ``folder`` a user or a stage wrote (bookkeeping left out)."""
    if not Path(folder).is_dir():
        return []
    return sorted(p.name for p in Path(folder).iterdir() if not is_bookkeeping(p.name))
