"""Where the bundled files are: the standards (``specs/``) and the example study (``mappings/``).

``specs/`` and ``mappings/`` live once, at the top of the repository. A source checkout
(an editable install) reads them there, beside the ``cdisc_mapper`` package; a built
wheel carries a copy of both as package data in ``cdisc_mapper/_data/``, made at build
time by ``setup.py`` (never committed). :func:`bundled_path` is the one place that knows
this.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from cdisc_mapper.errors import CdiscMapperError, StandardsError

#: Environment variable that overrides the default ``specs/`` folder.
SPECS_ENV = "CDISC_MAPPER_SPECS"

#: The folders bundled with the package, as they are named at the repository's top.
BUNDLED_DIRS = ("specs", "mappings")
#: The standards folder and the built-in example study, as :func:`bundled_path` parts.
SPECS_PARTS = ("specs",)
STUDY_PARTS = ("mappings", "als_msc")
#: Package-data folder of a built wheel that holds the copies of :data:`BUNDLED_DIRS`.
DATA_DIR = "_data"

#: The installed ``cdisc_mapper`` package folder.
_PACKAGE = Path(str(resources.files("cdisc_mapper")))


class PackageDataError(CdiscMapperError):
    """A file that ships with cdisc_mapper is missing: the installation is incomplete."""


def _candidates(parts: tuple[str, ...]) -> list[Path]:
    """``<checkout>/<parts>`` when the package sits in a source checkout (its parent
    folder holds ``pyproject.toml``), then ``cdisc_mapper/_data/<parts>`` (a wheel)."""
    found = [_PACKAGE.joinpath(DATA_DIR, *parts)]
    if (_PACKAGE.parent / "pyproject.toml").is_file():
        found.insert(0, _PACKAGE.parent.joinpath(*parts))
    return found


def bundled_path(*parts: str) -> Path:
    """The bundled file or folder ``parts``: ``bundled_path(*SPECS_PARTS)`` is the
    standards folder, ``bundled_path(*STUDY_PARTS)`` the example study's spec folder.

    Raises :class:`PackageDataError` naming what is missing and where it looked.
    """
    if not parts or parts[0] not in BUNDLED_DIRS:
        raise ValueError(f"not a bundled folder: {'/'.join(parts)!r} (one of {BUNDLED_DIRS})")
    candidates = _candidates(parts)
    for path in candidates:
        if path.exists():
            return path.resolve()
    raise PackageDataError(
        f"bundled {'/'.join(parts)} not found",
        where=" or ".join(str(p) for p in candidates),
        hint="reinstall cdisc-mapper: a wheel must carry specs/ and mappings/ in "
        "cdisc_mapper/_data/ (setup.py copies them there), a source checkout has them "
        "at its top",
    )


def resolve_specs_dir(specs_dir: Path | str | None = None) -> Path:
    """Return the absolute standards folder: ``specs_dir``, else ``$CDISC_MAPPER_SPECS``,
    else the bundled ``specs/`` (:func:`bundled_path`).

    Raises :class:`StandardsError` when a given folder does not exist, and
    :class:`PackageDataError` when the bundled one is missing.
    """
    if specs_dir is None:
        env = os.environ.get(SPECS_ENV, "").strip()
        if not env:
            return bundled_path(*SPECS_PARTS)
        chosen, how = Path(env), f"${SPECS_ENV}"
    else:
        chosen, how = Path(specs_dir), "specs_dir argument"
    path = chosen.expanduser().resolve()
    if not path.is_dir():
        raise StandardsError(
            f"standards folder not found ({how})",
            where=str(path),
            hint=f"pass specs_dir or set {SPECS_ENV} to the project's specs/ folder",
        )
    return path
