"""Every runtime dependency pyproject.toml declares is used by the package (imported, or
its files read through importlib.resources), and nothing the package imports is missing
from the list."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

from tests.conftest import REPO

#: Distribution name -> the module it installs, where the two differ.
MODULES = {"pyyaml": "yaml"}
#: Modules installed by a declared dependency (pydantic's own core).
PROVIDED = {"pydantic_core"}
#: Optional extras -> the modules they install (imported only when a user asks for them,
#: e.g. `--scheduler dask://` imports distributed).
EXTRAS = {"dask": {"dask", "distributed"}}


def optional() -> set[str]:
    """Modules of the optional extras pyproject.toml declares (the test extra aside)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = set(project.get("optional-dependencies", {})) - {"test"}
    assert extras <= set(EXTRAS), f"say which modules the extras {extras - set(EXTRAS)} install"
    return set().union(*(EXTRAS[e] for e in extras))


def declared() -> dict[str, str]:
    """Module name -> the requirement as pyproject.toml writes it."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    out = {}
    for requirement in project["dependencies"]:
        name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower()
        out[MODULES.get(name, name.replace("-", "_"))] = requirement
    return out


def used() -> set[str]:
    """Top-level modules the package imports or reads resources of."""
    found: set[str] = set()
    for path in (REPO / "cdisc_mapper").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
        found |= set(re.findall(r"resources\.files\(\"([\w]+)\"\)", text))
    return found


def test_every_dependency_is_used() -> None:
    unused = sorted(req for module, req in declared().items() if module not in used())
    assert not unused, f"declared in pyproject.toml but never used: {unused}"


def test_every_third_party_import_is_declared() -> None:
    third_party = used() - set(sys.stdlib_module_names) - {"cdisc_mapper"} - PROVIDED
    assert third_party - set(declared()) - optional() == set()


def test_the_check_finds_an_unused_dependency() -> None:
    """The seeded defect: tqdm was declared and never imported."""
    assert "tqdm" not in used()
    assert "tqdm" not in declared()
    assert {"pandas", "yaml", "defineutils", "click"} <= used() & set(declared())
