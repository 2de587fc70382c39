"""Staging folders and their publication: a stage's target folders are replaced whole,
all of them or none, and what a dead run left is settled by the next one.

A target folder is replaced whole, so nobody ever lists a mix of two runs' files of one
stage: the entries of the target the stage does not own (e.g. define.xml in ``sdtm/``
for the ``sdtm`` stage) are carried over into the staging folder first, as hard links
(copies where the filesystem has none); the ones it owns (:class:`Target`) are dropped,
so a dataset the stage no longer makes does not linger from an older run.

Why whole folders: renaming one directory is atomic; renaming N files one by one is not,
and a reader between two renames (or a kill between them) would see a mix. POSIX has
no atomic "replace a non-empty directory", so a folder is swapped in two renames
(``T`` -> ``.T.<run>.old``, ``.T.<run>.new`` -> ``T``): between them ``T`` is briefly
absent, never mixed. A stage with two folders (``adam``: ``adam/`` and ``reports/``)
swaps them one after the other, every old folder kept until all are in place; if any
staging folder of a dead run had not been moved in yet, the next run
(:func:`recover`) rolls its swaps back, else it deletes the old folders.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from cdisc_mapper.errors import CdiscMapperError, Location
from cdisc_mapper.publish.names import (
    OutputFolderError,
    Private,
    is_dead,
    is_temporary,
    new_group,
    os_error,
    parse_name,
    private_name,
    remove,
)


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


def resolved(folder: Path) -> Path:
    """The real folder (a symlinked output folder is replaced where it points)."""
    return Path(os.path.realpath(folder))


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
    here = resolved(Path.cwd())
    if folder == here or folder in here.parents:
        raise OutputFolderError(
            "holds the current folder; outputs are published by renaming their folder, "
            "which would leave this shell in a folder that no longer exists",
            where=str(shown),
            hint="run the command from outside it, e.g. from its parent folder",
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
    folders = [resolved(t.folder) for t in targets]
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
            raise os_error("create a staging folder", parent, exc) from exc
        yield tuple(stagings)
        try:
            for folder, target, staging in zip(folders, targets, stagings, strict=True):
                _carry_over(folder, staging.path, target.owns)
        except OSError as exc:
            raise os_error("carry the other files over", parent, exc) from exc
    except BaseException as exc:
        for staging in stagings:
            remove(staging.path)
        _name_published(exc, {s.path: s.target for s in stagings})
        raise
    _commit(parent, group, [(f.name, s.path) for f, s in zip(folders, stagings, strict=True)])


def publish_folders(prepared: Mapping[Path, Path]) -> None:
    """Move prepared folders (values) to their targets (keys, distinct folders of one
    parent, on the same filesystem) as one publication; each target is replaced whole."""
    folders = {resolved(target): Path(source) for target, source in prepared.items()}
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
            remove(new)
        if isinstance(exc, OSError):
            raise os_error("move the outputs into place", parent, exc) from exc
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
            raise os_error("move the outputs into place", parent, exc) from exc
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
    parent = resolved(parent)
    recover(parent, {name})
    path = parent / private_name(name, new_group(), "tmp")
    try:
        path.mkdir(parents=True)
    except OSError as exc:
        raise os_error("create a working folder", parent, exc) from exc
    try:
        yield path
    except BaseException as exc:
        _name_published(exc, {path: shown})
        raise
    finally:
        remove(path)


def _group_entries(parent: Path, group: str) -> dict[str, dict[str, Path]]:
    """The temporary entries of ``group`` in ``parent``: base name -> kind -> path."""
    found: dict[str, dict[str, Path]] = {}
    for path in parent.iterdir():
        entry = parse_name(path.name)
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
            remove(path)


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
    groups: dict[str, list[Private]] = {}
    for path in parent.iterdir():
        entry = parse_name(path.name)
        if entry is not None and is_dead(entry):
            groups.setdefault(entry.group, []).append(entry)
    for group, members in sorted(groups.items()):
        if bases is None or any(m.base in bases for m in members):
            _settle(parent, _group_entries(parent, group))


# ---------------------------------------------------------------------------- the lock
