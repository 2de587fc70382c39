"""Where the standards files (``specs/``) are."""

from __future__ import annotations

import os
from pathlib import Path

from cdisc_mapper.errors import StandardsError

#: Environment variable that overrides the default ``specs/`` folder.
SPECS_ENV = "CDISC_MAPPER_SPECS"

#: The repository's ``specs/`` folder, next to the ``cdisc_mapper`` package.
DEFAULT_SPECS_DIR = Path(__file__).resolve().parents[2] / "specs"


def resolve_specs_dir(specs_dir: Path | str | None = None) -> Path:
    """Return the absolute standards folder: ``specs_dir``, else ``$CDISC_MAPPER_SPECS``,
    else the repository's ``specs/``.

    Raises :class:`StandardsError` when the folder does not exist.
    """
    if specs_dir is None:
        env = os.environ.get(SPECS_ENV, "").strip()
        chosen = Path(env) if env else DEFAULT_SPECS_DIR
        how = f"${SPECS_ENV}" if env else "default"
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
