"""Every SDTM mapping operation has a worked example in the reference
(``docs/operations.md``), and every example that can run alone is run here: its spec
entry is read as a spec file's would be (the operation's own model checks it) and the
operation, given the example's raw columns, records and other domains, must give exactly
the example's values. So the reference cannot drift from the code."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cdisc_mapper.sdtm import OPERATIONS
from cdisc_mapper.sdtm.context import ROW, SRC
from cdisc_mapper.spec.operations import Example
from cdisc_mapper.spec.reference import example_name
from cdisc_mapper.spec.sdtm import VariableSpec
from cdisc_mapper.spec.sdtm_loader import normalise_domain
from cdisc_mapper.spec.study import StudySpec
from cdisc_mapper.spec.yamlio import load_yaml
from cdisc_mapper.standards import load_sdtmig
from tests.sdtm_ops_helpers import make_ctx, study, values

ALL = [OPERATIONS.require(name) for name in OPERATIONS.names()]
SDTMIG = load_sdtmig()
RUNNABLE = [op for op in ALL if op.example is not None and op.example.gives is not None]


def _entry(example: Example) -> VariableSpec:
    data = load_yaml(example.spec)
    assert isinstance(data, dict) and len(data) == 1, "an example defines one variable"
    name = example_name(example)
    body = normalise_domain({"variables": data})["variables"][name]
    return VariableSpec.model_validate(body)


def _frame(columns: dict[str, list[Any]], first: int = 2) -> pd.DataFrame:
    """Columns as the engine holds them, each record from example.csv row 2, 3..."""
    frame = pd.DataFrame(columns)
    frame.index = pd.RangeIndex(first, first + len(frame))
    frame[SRC] = "example.csv"
    frame[ROW] = frame.index
    return frame


def _study(example: Example) -> StudySpec:
    """The bundled study, with the example's study.yaml sections instead of its own."""
    bundled = study().model_dump(by_alias=True, exclude_none=True)
    return StudySpec.model_validate({**bundled, **example.study})


def domain_of(variable: str) -> str:
    """The domain an example's variable belongs to: the SDTMIG dataset named by its first
    two letters when that dataset has it (VSSTRESU: VS), else DM (STUDYID, AGE)."""
    prefix = variable[:2]
    if SDTMIG.has_dataset(prefix) and SDTMIG.variable(prefix, variable) is not None:
        return prefix
    return "DM"


def run_example(example: Example, op_name: str) -> list[Any]:
    entry = _entry(example)
    assert entry.op == op_name, f"the example of {op_name} uses op {entry.op}"
    op = OPERATIONS.require(entry.op)
    given = dict(entry.args)
    if entry.codelist is not None and "codelist" in op.args_model.model_fields:
        given.setdefault("codelist", entry.codelist)  # as the spec loader passes it
    args = op.args_model.model_validate(given)
    raw = _frame(example.raw) if example.raw or op.raw else None
    records = _frame(example.records) if example.records else None
    if records is None:
        index = raw.index if raw is not None else pd.RangeIndex(len(example.gives or []))
        records = pd.DataFrame(index=index)
    elif raw is not None:
        records.index = raw.index
    domains = {code: _frame(cols).reset_index(drop=True) for code, cols in example.domains.items()}
    name = example_name(example)
    ctx = make_ctx(domain_of(name), variable=name, raw=raw, domains=domains, spec=_study(example))
    return values(op.fn(records, args, ctx))


@pytest.mark.parametrize("op", RUNNABLE, ids=lambda op: op.name)
def test_the_example_gives_what_the_reference_shows(op) -> None:  # type: ignore[no-untyped-def]
    assert run_example(op.example, op.name) == list(op.example.gives)


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.name)
def test_every_operation_has_a_worked_example(op) -> None:  # type: ignore[no-untyped-def]
    assert op.example is not None, f"operation {op.name} has no worked example"
    entry = _entry(op.example)
    assert entry.op == op.name, f"the example of {op.name} uses op {entry.op}"


def test_most_examples_run_alone() -> None:
    """An example without ``gives`` is shown but not run; keep those the exception
    (operations needing a whole study: visits from the calendar, SE elements)."""
    shown_only = sorted(op.name for op in ALL if op not in RUNNABLE)
    assert len(shown_only) <= len(ALL) // 4, shown_only
