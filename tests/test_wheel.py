"""The package installs and runs on its own, away from the source tree.

The standards (``specs/``) and the bundled study (``mappings/``) live at the top of the
repository; ``setup.py`` copies them into the wheel's ``cdisc_mapper/_data/`` and
``MANIFEST.in`` puts them in the sdist. These tests build an sdist, a wheel from it and
a wheel from the tree, offline (no build isolation: setuptools and wheel come with the
``test`` extra), install the wheel with ``--no-deps`` into a fresh venv that sees this
interpreter's packages, and run ``cdisc-mapper demo`` there from a folder outside the
source tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from cdisc_mapper import __version__
from cdisc_mapper.standards import paths
from cdisc_mapper.standards.paths import (
    STUDY_PARTS,
    PackageDataError,
    bundled_path,
    resolve_specs_dir,
)

REPO = Path(__file__).resolve().parents[1]
NAME_VERSION = f"cdisc_mapper-{__version__}"
#: Environment of every subprocess: no index (so no network), nothing pointing back
#: into the source tree, no standards override.
ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", paths.SPECS_ENV)},
    "PIP_NO_INDEX": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


def _version(dist: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in re.findall(r"\d+", metadata.version(dist))[:2])
    except metadata.PackageNotFoundError:
        return None


def _build_requirements_missing() -> str:
    """Why this interpreter cannot build a wheel offline, or ''."""
    setuptools = _version("setuptools")
    if setuptools is None or setuptools < (68,):
        return "setuptools>=68 is not installed"
    if setuptools < (70, 1) and _version("wheel") is None:
        return "wheel is not installed (setuptools < 70.1 needs it)"
    return ""


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(str(c) for c in cmd)} exited {result.returncode}\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def _bundled_files() -> set[str]:
    """The repository's specs/ and mappings/ files, as paths relative to the top."""
    return {
        p.relative_to(REPO).as_posix()
        for name in paths.BUNDLED_DIRS
        for p in (REPO / name).rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and not p.name.startswith(".")
        and p.suffix not in (".pyc", ".pyo")
    }


def _checkout_copy(target: Path) -> Path:
    """The source tree as a fresh checkout has it, copied to ``target``: builds write
    build/ and *.egg-info next to setup.py, and a test leaves nothing in the repository
    (nor do stale files of an earlier build in build/lib reach the wheel)."""
    skip = shutil.ignore_patterns(
        ".*", "__pycache__", "*.egg-info", "build", "dist", "demo-output", "out"
    )
    shutil.copytree(REPO, target, ignore=skip)
    return target


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """sdist, wheel built from the sdist, wheel built from the source tree (a copy)."""
    missing = _build_requirements_missing()
    if missing:
        pytest.skip(f"cannot build offline: {missing} (pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("dist")
    tree = _checkout_copy(out / "tree")
    backend = "import sys; from setuptools import build_meta; build_meta.build_sdist(sys.argv[1])"
    _run([sys.executable, "-c", backend, out / "sdist"], cwd=tree)
    (sdist,) = (out / "sdist").glob("*.tar.gz")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    _run([*pip_wheel, "-w", out / "from_sdist", sdist], cwd=out)
    _run([*pip_wheel, "-w", out / "from_tree", tree], cwd=out)
    (from_sdist,) = (out / "from_sdist").glob("*.whl")
    (from_tree,) = (out / "from_tree").glob("*.whl")
    return {"sdist": sdist, "from_sdist": from_sdist, "from_tree": from_tree}


def test_sdist_carries_specs_and_mappings(dists: dict[str, Path]) -> None:
    with tarfile.open(dists["sdist"]) as tar:
        names = {m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()}
    assert _bundled_files() <= names
    assert {"setup.py", "MANIFEST.in", "pyproject.toml"} <= names
    assert not any(n.startswith("cdisc_mapper/_data/") for n in names)  # built, not shipped


@pytest.mark.parametrize("which", ["from_sdist", "from_tree"])
def test_wheel_carries_specs_and_mappings(dists: dict[str, Path], which: str) -> None:
    with zipfile.ZipFile(dists[which]) as whl:
        names = set(whl.namelist())
    data = {n.removeprefix("cdisc_mapper/_data/") for n in names if "/_data/" in n}
    assert data == _bundled_files()
    assert "cdisc_mapper/py.typed" in names
    assert {n.split("/")[0] for n in names} == {"cdisc_mapper", f"{NAME_VERSION}.dist-info"}


def test_installed_wheel_runs_demo(dists: dict[str, Path], tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", venv], tmp_path)
    python = venv / "bin" / "python"
    venv_site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path
        ).stdout.strip()
    )
    if sys.prefix != sys.base_prefix:
        # Run from a venv: the new venv sees the base interpreter's site-packages only, so
        # list this venv's too (plain path lines: its editable-install hooks do not run).
        own = [p for p in site.getsitepackages() if Path(p).is_relative_to(sys.prefix)]
        (venv_site / "_test_parent_env.pth").write_text("".join(f"{p}\n" for p in own))
    _run([python, "-m", "pip", "install", "-q", "--no-deps", dists["from_sdist"]], tmp_path)

    work = tmp_path / "work"  # outside the source tree, so '' on sys.path is no way back
    work.mkdir()
    where = _run(
        [
            python,
            "-c",
            "import cdisc_mapper, cdisc_mapper.standards as s; print(cdisc_mapper.__file__); "
            "print(s.bundled_path('specs')); print(s.bundled_path('mappings', 'als_msc'))",
        ],
        work,
    ).stdout.splitlines()
    assert len(where) == 3
    for found in where:
        assert Path(found).resolve().is_relative_to(venv_site.resolve()), where
    assert Path(where[1]).parts[-2:] == ("_data", "specs")

    result = _run([venv / "bin" / "cdisc-mapper", "demo", "--subjects", "5", "--out", "out"], work)
    assert re.search(r"^validation: .*: 0 errors,", result.stdout, re.MULTILINE), result.stdout
    summary = json.loads((work / "out" / "reports" / "validation.json").read_text())["summary"]
    assert summary["error"] == 0
    assert {p.name for p in (work / "out" / "sdtm").glob("*.xpt")} >= {"dm.xpt", "ae.xpt"}
    assert (work / "out" / "adam" / "adsl.xpt").is_file()


def test_source_checkout_uses_the_top_level_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.SPECS_ENV, raising=False)
    assert bundled_path("specs") == REPO / "specs"
    assert bundled_path(*STUDY_PARTS) == REPO / "mappings" / "als_msc"
    assert resolve_specs_dir() == REPO / "specs"
    with pytest.raises(ValueError, match="not a bundled folder"):
        bundled_path("tests")


def test_missing_bundled_data_names_what_and_where(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "site-packages" / "cdisc_mapper"
    package.mkdir(parents=True)
    monkeypatch.setattr(paths, "_PACKAGE", package)
    monkeypatch.delenv(paths.SPECS_ENV, raising=False)
    with pytest.raises(PackageDataError, match=r"bundled mappings/als_msc not found") as err:
        bundled_path(*STUDY_PARTS)
    assert str(package / "_data" / "mappings" / "als_msc") in str(err.value)
    with pytest.raises(PackageDataError, match=r"_data/specs: bundled specs not found"):
        resolve_specs_dir()
    # a wheel's copy is found when there
    (package / "_data" / "specs").mkdir(parents=True)
    assert resolve_specs_dir() == package / "_data" / "specs"
