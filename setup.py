"""Build hook: ship the repository's ``specs/`` and ``mappings/`` as package data.

All metadata is in ``pyproject.toml``. ``specs/`` (standards metadata) and ``mappings/``
(the bundled study specs) stay at the top of the repository, their one committed copy;
``build_py`` copies them into ``cdisc_mapper/_data/`` of the build tree only, so that a
wheel (built from the checkout or from the sdist, which carries both folders through
``MANIFEST.in``) holds them and ``cdisc_mapper.standards.paths.bundled_path`` finds them
there. An editable install copies nothing (a strict one links the files through
``get_output_mapping``); the default editable install reads the folders in the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Top-level folders copied into the package, and where they go in it.
BUNDLED_DIRS = ("specs", "mappings")
DATA_DIR = Path("cdisc_mapper") / "_data"


def _shipped(path: Path) -> bool:
    """A file to ship: no hidden files, caches or bytecode."""
    return (
        path.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in path.parts)
        and path.suffix not in (".pyc", ".pyo")
    )


class BuildPyWithData(build_py):
    """``build_py`` that also copies ``specs/`` and ``mappings/`` to ``cdisc_mapper/_data/``."""

    def _data_mapping(self) -> dict[str, str]:
        """Build-tree file -> repository file, for every bundled file."""
        target = Path(self.build_lib) / DATA_DIR
        mapping: dict[str, str] = {}
        for name in BUNDLED_DIRS:
            source = ROOT / name
            if not source.is_dir():
                raise FileNotFoundError(
                    f"{source}: bundled folder missing (an sdist must carry it: see MANIFEST.in)"
                )
            for path in sorted(source.rglob("*")):
                if _shipped(path.relative_to(ROOT)):
                    mapping[str(target / path.relative_to(ROOT))] = str(path)
        return mapping

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        # start afresh, so that a file removed from specs/ leaves no stale copy behind
        shutil.rmtree(Path(self.build_lib) / DATA_DIR, ignore_errors=True)
        for built, source in self._data_mapping().items():
            Path(built).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, built)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), *self._data_mapping()]

    def get_output_mapping(self) -> dict[str, str]:
        return {**super().get_output_mapping(), **self._data_mapping()}


setup(cmdclass={"build_py": BuildPyWithData})
