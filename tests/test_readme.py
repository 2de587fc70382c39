"""The docs stay true: the operations reference is what the registries generate, and CI
runs exactly the README's test command."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.cli import reference_text
from cdisc_mapper.condition.model import Condition, VariableRef
from cdisc_mapper.sdtm import OPERATIONS
from cdisc_mapper.spec.sdtm import SourceSpec
from cdisc_mapper.spec.study import StudySpec
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


def _argument_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """``model`` and the argument models nested in its fields' types (items of lists,
    values of mappings, unions...), not the condition language's own models."""
    found: list[type[BaseModel]] = []

    def walk(annotation: Any) -> None:
        if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
            if annotation not in (Condition, VariableRef) and annotation not in found:
                found.append(annotation)
                for info in annotation.model_fields.values():
                    walk(info.annotation)
            return
        for arg in typing.get_args(annotation):
            walk(arg)

    walk(model)
    return found


def test_every_argument_of_every_operation_is_described():
    """Each argument a spec author can write has a Field(description=...), so that the
    reference says what it is (nested models included, e.g. the items of ``case``)."""
    missing = []
    for registry in (OPERATIONS, DERIVATIONS, RECORD_BUILDERS):
        for op in registry:
            for model in _argument_models(op.args_model):
                for name, info in model.model_fields.items():
                    if not (info.description or "").strip():
                        missing.append(f"{op.name}: {model.__name__}.{name}")
    assert not missing, "arguments without a description: " + ", ".join(missing)


@pytest.mark.parametrize(
    ("title", "model"),
    [("## SDTM sources (`sources:`)", SourceSpec), ("## The study (`study.yaml`)", StudySpec)],
)
def test_the_reference_documents_every_key_of_the_spec_files(
    title: str, model: type[BaseModel]
) -> None:
    """A domain spec's `sources:` entries (file, exclusions, melt with its items' columns
    and not-done records, per-form numbers and date order) and study.yaml's keys (subject
    pattern, arms and elements, visits, unscheduled visits, units) are in the reference,
    each described, so that a study's spec can be written from the docs alone."""
    text = reference_text()
    assert title in text
    missing = []
    for nested in _argument_models(model):
        if nested.__name__ in ("VariableSpec", "SuppSpec"):
            continue  # a variable's entry: the operations
        for name, info in nested.model_fields.items():
            assert f"| `{info.alias or name}` |" in text, (nested.__name__, name)
            if not (info.description or "").strip():
                missing.append(f"{nested.__name__}.{name}")
    assert not missing, "spec keys without a description: " + ", ".join(missing)


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
