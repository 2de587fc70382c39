"""cdisc_mapper.adam.ops (package and base): every operation registered once, in the
stated order (the order of the spec workbook's lists), from its family module."""

from __future__ import annotations

import pytest

from cdisc_mapper.adam.ops import (
    DERIVATION_ORDER,
    DERIVATIONS,
    RECORD_BUILDER_ORDER,
    RECORD_BUILDERS,
    Derivation,
)
from cdisc_mapper.adam.ops.base import PendingOps
from cdisc_mapper.spec.operations import OpArgs, Registry

FAMILIES = {
    "lookups": ["keep", "value", "constant", "count", "exists"],
    "dates": ["date", "months", "decline_rate", "analysis_day", "duration"],
    "flags": ["group", "recode", "flag", "criterion", "treatment_emergent", "first_occurrence"],
    "periods": ["period_date", "period_treatment", "record_period"],
    "windows": ["window", "analysis_flag", "sequence"],
    "baseline": ["baseline_flag", "base", "chg", "pchg", "percent_improvement"],
    "ranges": ["reference_range", "nrind"],
    "records": ["subjects", "findings", "occurrences"],
    "derived_rows": ["scores", "best_record"],
    "progression": ["progression"],
}


def test_registration_order_is_the_stated_order() -> None:
    assert [op.name for op in DERIVATIONS] == list(DERIVATION_ORDER) == [
        "keep", "value", "constant", "date", "count", "months", "decline_rate", "group",
        "recode", "flag", "exists", "period_date", "period_treatment", "record_period",
        "analysis_day", "window", "baseline_flag", "base", "chg", "pchg",
        "percent_improvement", "criterion", "reference_range", "nrind", "analysis_flag",
        "sequence", "treatment_emergent", "duration", "first_occurrence",
    ]  # fmt: skip
    assert [op.name for op in RECORD_BUILDERS] == list(RECORD_BUILDER_ORDER) == [
        "subjects", "findings", "scores", "best_record", "occurrences", "progression"
    ]  # fmt: skip


def test_each_operation_lives_in_its_family_module() -> None:
    found: dict[str, list[str]] = {}
    for op in [*DERIVATIONS, *RECORD_BUILDERS]:
        family = op.fn.__module__.removeprefix("cdisc_mapper.adam.ops.")
        found.setdefault(family, []).append(op.name)
    assert {k: sorted(v) for k, v in found.items()} == {k: sorted(v) for k, v in FAMILIES.items()}


def _op(name: str) -> Derivation:
    return Derivation(name=name, fn=lambda frame, args, ctx: frame, args_model=OpArgs)


def test_pending_operations_are_registered_in_the_order_given() -> None:
    registry: Registry[Derivation] = Registry("derivation")
    pending = PendingOps(registry)
    for name in ("b", "c", "a"):
        pending.add(_op(name))
    assert len(registry) == 0  # held until the package has imported every family
    pending.register_in_order(["a", "b", "c"])
    assert [op.name for op in registry] == ["a", "b", "c"]
    pending.add(_op("d"))  # defined later (a plugin, a test): registered at once, last
    assert [op.name for op in registry] == ["a", "b", "c", "d"]
    with pytest.raises(RuntimeError, match="registered twice"):
        pending.add(_op("a"))


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (["a"], "^derivation order: not listed: b$"),
        (["a", "b", "x"], "^derivation order: not defined: x$"),
        (["a", "b", "a"], "^derivation order: listed twice: a$"),
    ],
)
def test_the_order_names_every_pending_operation_once(order: list[str], message: str) -> None:
    pending = PendingOps(Registry[Derivation]("derivation"))
    pending.add(_op("a"))
    pending.add(_op("b"))
    with pytest.raises(RuntimeError, match=message):
        pending.register_in_order(order)
    with pytest.raises(RuntimeError, match="registered twice"):
        pending.add(_op("a"))
