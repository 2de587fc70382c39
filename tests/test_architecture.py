"""The import rule of ARCHITECTURE.md holds for the code: every package imports only what
its row allows, no modules import each other in a cycle (imports inside functions and
type-checking imports included), and no package reaches another through importlib."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "cdisc_mapper"
ROOT = "cdisc_mapper"
FACADE = (ROOT, "cdisc_mapper.api")
"""The package root re-exports the Python API, importing it on first use (when the root
is complete): the one import of the root, and not a cycle with the modules that import
``__version__`` from it."""


def allowed_imports() -> dict[str, set[str]]:
    """The "may import" table of ARCHITECTURE.md: package -> packages it may import."""
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## The import rule", 1)[1].split("\n## ", 1)[0]
    table: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("package", "") or set(cells[0]) <= {"-"}:
            continue
        table[cells[0]] = {c.strip() for c in cells[1].split(",") if c.strip()}
    return table


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """The project modules ``path`` imports (anywhere in the file), with line numbers."""
    name = module_name(path)
    base = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                module = ".".join([*parts, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            subs = [f"{module}.{a.name}" for a in node.names]
            targets = [s for s in subs if s in known] or [module]
        else:
            continue
        for target in targets:
            if target == ROOT or target.startswith(ROOT + "."):
                yield target, node.lineno


def package_of(module: str) -> str:
    """``cdisc_mapper.sdtm.ops.values`` -> ``sdtm``; ``cdisc_mapper.cli`` -> ``cli``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_table_names_every_package() -> None:
    table = allowed_imports()
    packages = {package_of(m) for m in modules()} - {""}
    assert packages == set(table), "ARCHITECTURE.md's import table and the packages differ"
    for row, allowed in table.items():
        assert allowed <= set(table), f"{row} names unknown packages {allowed - set(table)}"


def test_every_import_follows_the_table() -> None:
    table = allowed_imports()
    known = set(modules())
    wrong = []
    for name, path in modules().items():
        here = package_of(name)
        for target, line in imported(path, known):
            there = package_of(target)
            if there in ("", here) or there in table.get(here, set()):
                continue
            if (name, target) == FACADE:
                continue
            wrong.append(f"{path.relative_to(REPO)}:{line}: {here} imports {there} ({target})")
    assert not wrong, "imports against ARCHITECTURE.md:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    known = set(modules())
    graph = {
        name: {
            t for t, _ in imported(path, known) if t in known and t != name and (name, t) != FACADE
        }
        for name, path in modules().items()
    }
    cycles = strongly_connected(graph)
    assert not cycles, "modules importing each other: " + "; ".join(
        " <-> ".join(sorted(c)) for c in cycles
    )


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of more than one module that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.add(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [{"a", "b", "c"}]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_importlib_hooks() -> None:
    hooks = re.compile(r"\bimport_module\(|\b__import__\(|importlib\.util\.spec_from")
    found = [
        f"{path.relative_to(REPO)}:{i}"
        for path in PACKAGE.rglob("*.py")
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if hooks.search(line)
    ]
    assert not found, f"dynamic imports: {found}"


def test_property_tests_have_no_deadline() -> None:
    """A correct property test must pass on a loaded machine: no Hypothesis deadline."""
    from hypothesis import settings

    assert settings.default.deadline is None
    timed = [
        str(path.relative_to(REPO))
        for path in (REPO / "tests").rglob("*.py")
        if re.search(r"deadline\s*=\s*(?!None)", path.read_text(encoding="utf-8"))
    ]
    assert not timed, f"tests with a Hypothesis deadline: {timed}"


MOVES = {
    ("os", "rename"),
    ("os", "replace"),
    ("os", "link"),
    ("os", "symlink"),
    ("os", "remove"),
    ("os", "unlink"),
    ("os", "rmdir"),
    ("os", "removedirs"),
    ("shutil", "rmtree"),
    ("shutil", "move"),
}
PATH_MOVES = {"unlink", "rmdir", "hardlink_to", "symlink_to"}


def test_only_publish_moves_or_deletes_files() -> None:
    """Outputs are published in one place (ARCHITECTURE.md: one home per concept): only
    cdisc_mapper/publish renames, links or deletes files and folders."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent == PACKAGE / "publish":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if (owner, node.attr) in MOVES or node.attr in PATH_MOVES:
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.attr}")
    assert not found, f"files moved or deleted outside cdisc_mapper/publish: {found}"


def test_publish_is_in_the_foundation() -> None:
    """Every stage may use publish, and publish needs nothing but errors."""
    table = allowed_imports()
    assert table["publish"] == {"errors"}
    for stage in ("simulate", "xpt", "sdtm", "adam", "define", "validate", "cli"):
        assert "publish" in table[stage], stage
