"""cdisc_mapper.adam.ops (package and base): every operation registered once, from its
family module."""

from __future__ import annotations

import pytest

from cdisc_mapper.adam.ops import DERIVATIONS, RECORD_BUILDERS, Derivation
from cdisc_mapper.spec.operations import OpArgs, Registry

FAMILIES = {
    "lookups": ["keep", "value", "constant", "count", "exists"],
    "across": ["coalesce", "latest_date", "earliest_date"],
    "dates": [
        "date",
        "datetime",
        "datetime_part",
        "months",
        "decline_rate",
        "analysis_day",
        "duration",
    ],
    "flags": ["group", "recode", "flag", "criterion", "treatment_emergent", "first_occurrence"],
    "periods": ["period_date", "period_treatment", "record_period", "in_periods"],
    "windows": ["window", "nominal_visit", "analysis_flag", "sequence"],
    "baseline": ["baseline_flag", "base", "chg", "pchg", "percent_improvement"],
    "ranges": ["reference_range", "nrind"],
    "records": ["subjects", "findings", "occurrences"],
    "derived_rows": ["scores", "best_record"],
    "progression": ["progression"],
    "summary_records": ["summary_record", "locf_record"],
    "computed": ["compute", "derived_parameter"],
}


def test_every_operation_is_registered() -> None:
    every = sorted(name for names in FAMILIES.values() for name in names)
    assert sorted([*DERIVATIONS.names(), *RECORD_BUILDERS.names()]) == every
    assert len(DERIVATIONS) == 37
    assert RECORD_BUILDERS.names() == [
        "best_record", "derived_parameter", "findings", "locf_record", "occurrences",
        "progression", "scores", "subjects", "summary_record",
    ]  # fmt: skip


def test_each_operation_lives_in_its_family_module() -> None:
    found: dict[str, list[str]] = {}
    for op in [*DERIVATIONS, *RECORD_BUILDERS]:
        family = op.fn.__module__.removeprefix("cdisc_mapper.adam.ops.")
        found.setdefault(family, []).append(op.name)
    assert {k: sorted(v) for k, v in found.items()} == {k: sorted(v) for k, v in FAMILIES.items()}


def _op(name: str) -> Derivation:
    return Derivation(name=name, fn=lambda frame, args, ctx: frame, args_model=OpArgs)


def test_a_name_registered_twice_is_refused() -> None:
    registry: Registry[Derivation] = Registry("derivation")
    registry.add(_op("a"))
    with pytest.raises(RuntimeError, match="derivation 'a' registered twice"):
        registry.add(_op("a"))
    assert [op.name for op in registry] == ["a"]
