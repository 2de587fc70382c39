"""The docs stay true: the operations reference is what the registries generate, and CI
runs exactly the README's test command."""

from __future__ import annotations

from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.cli import reference_text
from cdisc_mapper.sdtm import OPERATIONS
from tests.conftest import REPO


def test_the_operations_reference_is_current():
    """docs/operations.md is regenerated with `cdisc-mapper spec reference --out ...`."""
    text = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    assert text == reference_text(), (
        "docs/operations.md is stale: run cdisc-mapper spec reference --out docs/operations.md"
    )


def test_the_reference_lists_every_operation_with_each_argument():
    text = reference_text()
    for registry in (OPERATIONS, DERIVATIONS, RECORD_BUILDERS):
        for op in registry:
            assert f"### `{op.name}`" in text
            for name, info in op.args_model.model_fields.items():
                assert f"| `{info.alias or name}` |" in text, (op.name, name)


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    command = 'python -m pip install -q -e ".[test]" && scripts/check'
    assert command in readme
    assert command in ci.splitlines()


def test_the_check_script_runs_lint_format_types_and_tests():
    script = (REPO / "scripts" / "check").read_text()
    steps = [
        " ".join(line.split()[2:4]) for line in script.splitlines() if line.startswith("python -m")
    ]
    assert steps == ["ruff check", "ruff format", "mypy", "pytest -q"]
    assert "ruff format --check" in script
