"""Conditions in words (define.xml method text) and as Define-XML where clauses.

:func:`describe` writes what a reviewer reads in define.html, e.g. ``AESEV = 'SEVERE' and
AESTDY >= 1``. :func:`range_checks` turns a condition into the RangeChecks of a
def:WhereClauseDef (Define-XML 2.1 section 5.3.13: the checks of one clause are ANDed,
each compares one variable with constants: EQ, NE, LT, LE, GT, GE, IN, NOTIN);
:func:`from_range_checks` is the way back, so that where clauses of define.yaml, of a
define-generator workbook and of a define.xml are evaluated by the one evaluator.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdisc_mapper.condition.evaluate import constant_text
from cdisc_mapper.condition.model import Condition, Scalar, VariableRef

#: One RangeCheck: (variable, comparator, values).
RangeCheck = tuple[str, str, tuple[str, ...]]

_SYMBOLS = {"equals": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_COMPARATORS = {
    "equals": "EQ",
    "not_equals": "NE",
    "lt": "LT",
    "le": "LE",
    "gt": "GT",
    "ge": "GE",
    "in": "IN",
    "not_in": "NOTIN",
}
_TESTS = {v: k for k, v in _COMPARATORS.items()}
_PRESENCE = {
    ("present", True): "is present",
    ("present", False): "is missing",
    ("empty", True): "is empty",
    ("empty", False): "is not empty",
}


def _value(value: Scalar | VariableRef) -> str:
    if isinstance(value, VariableRef):
        return value.variable
    if isinstance(value, str):
        return f"'{value}'"
    return constant_text(value)


def _paren(cond: Condition, text: str) -> str:
    return f"({text})" if len(cond.parts) > 1 else text


def describe(cond: Condition) -> str:
    """The condition in words, e.g. ``SAFFL = 'Y' and (ADY >= 2 or DTYPE is missing)``."""
    if cond.all is not None:
        return " and ".join(_paren(c, describe(c)) for c in cond.all)
    if cond.any is not None:
        return " or ".join(_paren(c, describe(c)) for c in cond.any)
    if cond.not_ is not None:
        return f"not ({describe(cond.not_)})"
    return _leaf_text(cond) + _qualifiers(cond)


def _leaf_text(cond: Condition) -> str:
    name, test, operand = cond.subject, cond.test, cond.operand
    if test in ("present", "empty"):
        return f"{name} {_PRESENCE[(test, bool(operand))]}"
    if test in ("in", "not_in"):
        values = (cond.in_ if test == "in" else cond.not_in) or []
        listed = ", ".join(_value(v) for v in values)
        return f"{name} {'in' if test == 'in' else 'not in'} ({listed})"
    if test == "not_equals":
        return f"{name} is not {_value(operand)}"  # type: ignore[arg-type]
    if test == "contains":
        return f"{name} contains '{operand}'"
    if test == "startswith":
        return f"{name} starts with '{operand}'"
    if test == "matches":
        return f"{name} matches /{operand}/"
    return f"{name} {_SYMBOLS[test]} {_value(operand)}"  # type: ignore[arg-type]


def _qualifiers(cond: Condition) -> str:
    notes = []
    if cond.as_ in ("date", "datetime"):
        text = "as dates" if cond.as_ == "date" else "as date/times"
        if cond.partial not in (None, "certain"):
            text += f", partial dates: {cond.partial}"
        notes.append(text)
    elif cond.as_ in ("text", "number"):
        notes.append(f"as {cond.as_}s")
    if not cond.case_sensitive:
        notes.append("any case")
    return f" ({'; '.join(notes)})" if notes else ""


# --------------------------------------------------------------------------- where clauses
def range_checks(cond: Condition) -> tuple[RangeCheck, ...] | None:
    """The condition as the ANDed RangeChecks of one where clause, or None when a where
    clause cannot say it (``any``, ``not``, text tests, presence, variable operands, date
    rules, case-insensitive tests)."""
    leaves = cond.all if cond.all is not None else [cond]
    out: list[RangeCheck] = []
    for leaf in leaves:
        check = _range_check(leaf)
        if check is None:
            return None
        out.append(check)
    return tuple(out)


def _range_check(leaf: Condition) -> RangeCheck | None:
    comparator = _COMPARATORS.get(leaf.test)
    if (
        comparator is None
        or leaf.as_ not in ("auto", "text", "number")
        or not leaf.case_sensitive
        or isinstance(leaf.operand, VariableRef)
    ):
        return None
    operand = leaf.operand
    values = operand if isinstance(operand, list) else [operand]
    return leaf.subject, comparator, tuple(constant_text(v) for v in values)  # type: ignore[arg-type]


def from_range_checks(checks: Sequence[tuple[str, str, Sequence[str]]]) -> Condition:
    """The condition of a where clause's RangeChecks (one leaf, or ``all`` of several).

    Raises ValueError for an unknown comparator or a one-value comparator given several.
    """
    leaves = [_from_check(variable, comparator, values) for variable, comparator, values in checks]
    if len(leaves) == 1:
        return leaves[0]
    return Condition.model_validate({"all": leaves})


def _from_check(variable: str, comparator: str, values: Sequence[str]) -> Condition:
    test = _TESTS.get(comparator)
    if test is None:
        raise ValueError(f"unsupported comparator {comparator!r}")
    if test in ("in", "not_in"):
        return Condition.model_validate({"variable": variable, test: list(values)})
    if len(values) != 1:
        raise ValueError(f"{comparator} takes one value, not {len(values)}")
    return Condition.model_validate({"variable": variable, test: values[0]})
