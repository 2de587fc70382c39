"""Every ADaM derivation and record builder has a worked example in the reference
(``docs/operations.md``), every argument a description and every docstring an ADaMIG
citation; and every example that can run alone is run here, through its registry, against
the in-memory study of ``tests/adam_ops_context.py``:

* the example's spec entry is read as a dataset spec's would be (the operation's own model
  checks it);
* ``records`` are the dataset's columns so far (a record builder: the earlier steps'
  records), ``domains`` the SDTM domains (over the test study's DM and EX) and ADSL by name
  (ADSL is read only when the example shows it), ``conventions`` conventions.yaml sections
  over the test study's;
* a derivation must give exactly ``gives``; a record builder (the last step of its
  example's ``records:``) must make exactly the rows of ``makes`` (the columns it shows, in
  order).

Numeric dates (columns named ``*DT``) are written as ISO 8601 text in examples, as a
reader expects them, and run as SAS day numbers. So the reference cannot drift from the
code, and a new operation fails here until it is documented.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
from pydantic import BaseModel

from cdisc_mapper.adam.context import BuildContext
from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS
from cdisc_mapper.spec.adam import VariableSpec
from cdisc_mapper.spec.adam_loader import normalise_dataset
from cdisc_mapper.spec.operations import Example, Operation
from cdisc_mapper.spec.reference import _models_in, example_name, summary
from cdisc_mapper.spec.yamlio import load_yaml
from tests.adam_ops_context import CONVENTIONS, assert_table, col, context, day

DERIVATION_OPS = [DERIVATIONS.require(name) for name in DERIVATIONS.names()]
BUILDER_OPS = [RECORD_BUILDERS.require(name) for name in RECORD_BUILDERS.names()]
ALL = DERIVATION_OPS + BUILDER_OPS
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_date_column(name: str) -> bool:
    """A numeric date by the ADaM naming rule (``*DT``: ADT, TRTSDT, AP01SDT)."""
    return name.lstrip("→ ").endswith("DT")


def _value(name: str, value: Any) -> Any:
    if _is_date_column(name) and isinstance(value, str) and ISO_DATE.match(value):
        return day(value)
    return value


def _column(name: str, values: list[Any]) -> pd.Series:
    return col(*(_value(name, v) for v in values))


def _frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    return pd.DataFrame({name: _column(name, values) for name, values in columns.items()})


def _context(example: Example) -> BuildContext:
    domains = {name: _frame(cols) for name, cols in example.domains.items()}
    adam = {name: frame for name, frame in domains.items() if name.startswith("AD")}
    sdtm = {name: frame for name, frame in domains.items() if not name.startswith("AD")}
    ctx = context(
        "ADXX",
        sdtm=sdtm,
        datasets=adam,
        conventions={**CONVENTIONS, **example.conventions},
    )
    ctx.state.cache["__variable"] = example_name(example)
    return ctx


def _variable(example: Example) -> VariableSpec:
    data = load_yaml(example.spec)
    assert isinstance(data, dict) and len(data) == 1, "an example defines one variable"
    body = normalise_dataset({"variables": data})["variables"][example_name(example)]
    return VariableSpec.model_validate(body)


def _step(example: Example) -> dict[str, Any]:
    data = load_yaml(example.spec)
    assert isinstance(data, dict) and list(data) == ["records"], "an example has `records:`"
    steps = normalise_dataset(data)["records"]
    step: dict[str, Any] = steps[-1]  # earlier steps made the example's `records`
    return step


def run_derivation(op: Operation) -> list[Any]:
    example = op.example
    assert example is not None
    entry = _variable(example)
    assert entry.derive == op.name, f"the example of {op.name} uses {entry.derive}"
    args = op.args_model.model_validate(entry.args)
    rows = len(example.gives or [])
    records = _frame(example.records) if example.records else pd.DataFrame(index=range(rows))
    return list(op.fn(records, args, _context(example)))


def run_builder(op: Operation) -> pd.DataFrame:
    example = op.example
    assert example is not None
    step = _step(example)
    assert step["op"] == op.name, f"the example of {op.name} uses op {step['op']}"
    args = op.args_model.model_validate(step["args"])
    records = _frame(example.records) if example.records else None
    made = op.fn(records, args, _context(example))
    shown = list(example.makes or {})
    assert set(shown) <= set(made.columns), f"{op.name} makes no {set(shown) - set(made)}"
    return made[shown]


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float | int) and not isinstance(expected, bool):
        return isinstance(actual, float | int) and float(actual) == float(expected)
    if expected is None:
        return actual is None or actual == "" or pd.isna(actual)
    return bool(actual == expected)


RUNNABLE_DERIVATIONS = [op for op in DERIVATION_OPS if op.example and op.example.gives is not None]
RUNNABLE_BUILDERS = [op for op in BUILDER_OPS if op.example and op.example.makes is not None]


@pytest.mark.parametrize("op", RUNNABLE_DERIVATIONS, ids=lambda op: op.name)
def test_the_derivation_gives_what_the_reference_shows(op: Operation) -> None:
    assert op.example is not None and op.example.gives is not None
    name = example_name(op.example)
    expected = [_value(name, v) for v in op.example.gives]
    actual = run_derivation(op)
    assert len(actual) == len(expected), actual
    assert all(_same(a, e) for a, e in zip(actual, expected, strict=True)), actual


@pytest.mark.parametrize("op", RUNNABLE_BUILDERS, ids=lambda op: op.name)
def test_the_builder_makes_what_the_reference_shows(op: Operation) -> None:
    assert op.example is not None and op.example.makes is not None
    assert_table(run_builder(op), _frame(op.example.makes))


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_every_operation_has_a_worked_example(op: Operation) -> None:
    assert op.example is not None, f"ADaM operation {op.name} has no worked example"
    if op in BUILDER_OPS:
        assert _step(op.example)["op"] == op.name
        assert op.example.gives is None, "a record builder shows what it makes in `makes`"
    else:
        assert _variable(op.example).derive == op.name


def _undocumented(model: type[BaseModel], seen: set[str]) -> list[str]:
    missing = []
    for name, info in model.model_fields.items():
        if not (info.description or "").strip():
            missing.append(f"{model.__name__}.{name}")
        for nested in _models_in(info.annotation):
            if nested.__name__ not in seen:
                seen.add(nested.__name__)
                missing += _undocumented(nested, seen)
    return missing


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_every_argument_is_described_for_a_spec_author(op: Operation) -> None:
    assert _undocumented(op.args_model, {op.args_model.__name__}) == []


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_every_docstring_says_what_it_gives_and_cites_its_rule(op: Operation) -> None:
    text = summary(op)
    assert re.search(r"ADaMIG v1\.3|ADaM OCCDS v1\.1", text), text


def test_most_examples_run_alone() -> None:
    """An example without ``gives``/``makes`` is shown but not run; keep those rare."""
    shown_only = sorted(
        op.name for op in ALL if op not in RUNNABLE_DERIVATIONS and op not in RUNNABLE_BUILDERS
    )
    assert len(shown_only) <= len(ALL) // 6, shown_only
