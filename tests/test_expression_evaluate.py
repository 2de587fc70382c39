"""cdisc_mapper.expression.evaluate and .functions: a formula's values over records.

Expected values are computed by hand or by an independent scalar Python evaluator
(``reference``, written here with the math module), which Hypothesis compares with the
vectorised evaluation on generated formulas and values, missing values included.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.expression import Options, compile_formula, describe, evaluate
from cdisc_mapper.expression.model import Binary, Call, Name, Negate, Node, Number

NAN = float("nan")
EPOCH = dt.date(1960, 1, 1)


def run(text: str, options: Options | None = None, **columns: list[float | None]) -> list[float]:
    """The formula's values on records whose variables are ``columns``."""
    arrays = {k: np.array([NAN if v is None else v for v in vs]) for k, vs in columns.items()}
    size = len(next(iter(arrays.values()))) if arrays else 1
    out = evaluate(compile_formula(text).tree, arrays.__getitem__, size, options)
    return [None if math.isnan(v) else float(v) for v in out]  # type: ignore[misc]


def day(text: str) -> float:
    return float((dt.date.fromisoformat(text) - EPOCH).days)


# --------------------------------------------------------------------------- arithmetic
def test_arithmetic_and_missing_values() -> None:
    """Any missing operand gives missing; so does a result without a real value (x / 0,
    0 ** -1, a negative number to a fractional power, an overflow): never infinite."""
    assert run("(SYSBP + 2 * DIABP) / 3", SYSBP=[121, 141, None], DIABP=[51, 61, 80]) == [
        pytest.approx(74.333333333),
        pytest.approx(87.666666667),
        None,
    ]
    assert run("A / B", A=[1, 0, -1, 4], B=[0, 0, 0, 2]) == [None, None, None, 2.0]
    assert run("A ** B", A=[0, -8, 2, 10], B=[-1, 1 / 3, 10, 400]) == [None, None, 1024.0, None]
    assert run("-A ** 2", A=[3]) == [-9.0]
    assert run("2 ** 3 ** 2", A=[0]) == [512.0]
    assert run("A * 0", A=[None]) == [None]
    assert run("A ** 0 + 1 ** A + pow(A, 0)", A=[None, 2]) == [None, 3.0]  # not IEEE's 1


def test_dates_are_day_numbers() -> None:
    """TRTEDT - TRTSDT + 1: the treatment duration in days, both ends counted."""
    assert run("TRTEDT - TRTSDT + 1", TRTSDT=[day("2014-01-02")], TRTEDT=[day("2014-03-27")]) == [
        85.0
    ]


@pytest.mark.parametrize(
    ("text", "x", "expected"),
    [
        ("sqrt(X)", [16, -1, None], [4.0, None, None]),
        ("log(X)", [math.e, 0, -1], [1.0, None, None]),
        ("log10(X)", [1000, 0], [3.0, None]),
        ("exp(X)", [0, 1000], [1.0, None]),
        ("abs(X)", [-2.5, 3], [2.5, 3.0]),
        ("floor(X)", [-2.5, 2.5], [-3.0, 2.0]),
        ("ceil(X)", [-2.5, 2.5], [-2.0, 3.0]),
        ("round(X)", [2.5, -2.5, 0.49999, None], [3.0, -3.0, 0.0, None]),
        ("round(X, 2)", [2.675, -1.005, 1.234], [2.68, -1.01, 1.23]),
        ("round(X, -2)", [1250, 1249], [1300.0, 1200.0]),
        ("pow(X, 2)", [3, None], [9.0, None]),
    ],
)
def test_functions_of_one_value(text: str, x: list[float | None], expected: list[float]) -> None:
    """round: halves away from zero, as SAS ROUND (2.675 to 2 decimals is 2.68, not the
    2.67 of binary floating point)."""
    assert run(text, X=x) == [None if e is None else pytest.approx(e) for e in expected]


def test_functions_of_several_values() -> None:
    a, b = [1, None, 5, None], [2, 3, 4, None]
    assert run("min(A, B)", A=a, B=b) == [1.0, None, 4.0, None]
    assert run("max(A, B, 3)", A=a, B=b) == [3.0, None, 5.0, None]
    assert run("mean(A, B)", A=a, B=b) == [1.5, None, 4.5, None]
    assert run("coalesce(A, B)", A=a, B=b) == [1.0, 3.0, 5.0, None]
    assert run("coalesce(A, B, 0)", A=a, B=b) == [1.0, 3.0, 5.0, 0.0]


def test_date_functions() -> None:
    """whole_years: completed years (an age; a 29 February anniversary is reached on 1
    March); months, years, weeks with the conventions' month length."""
    start = [day(s) for s in ("2000-02-29", "2000-02-29", "1950-05-17", "2014-01-02")]
    end = [day(s) for s in ("2001-02-28", "2001-03-01", "2014-05-16", "2013-01-03")]
    assert run("whole_years(S, E)", S=start, E=end) == [0.0, 1.0, 63.0, 0.0]
    assert run("whole_years(E, S)", S=start, E=end) == [0.0, -1.0, -63.0, 0.0]
    assert math.copysign(1, run("-A", A=[0])[0]) == 1  # no negative zero
    assert run("whole_years(S, E)", S=[None, 0], E=[0, None]) == [None, None]
    assert run("months(S, E)", S=[0], E=[61]) == [pytest.approx(61 / 30.4375)]
    assert run("months(S, E)", Options(month_days=30), S=[0], E=[60]) == [2.0]
    assert run("years(S, E)", S=[0], E=[365.25]) == [1.0]
    assert run("weeks(S, E)", S=[0], E=[14]) == [2.0]


def _completed_years(s: dt.date, e: dt.date) -> int:
    """The SAS idiom for an age: completed months (less one when the day of the month is
    not reached) over 12, signed."""
    if e < s:
        return -_completed_years(e, s)
    months = (e.year - s.year) * 12 + e.month - s.month - (e.day < s.day)
    return months // 12


@settings(deadline=None, max_examples=300)
@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), st.dates(dt.date(1900, 1, 1)))
def test_whole_years_is_the_age_in_completed_years(s: dt.date, e: dt.date) -> None:
    got = run("whole_years(S, E)", S=[(s - EPOCH).days], E=[(e - EPOCH).days])
    assert got == [float(_completed_years(s, e))]


# --------------------------------------------------------------------------- admiral values
BSA = {
    "Mosteller": ("sqrt(HEIGHT * WEIGHT / 3600)", [1.882, 2.151]),
    "DuBois-DuBois": ("0.007184 * HEIGHT ** 0.725 * WEIGHT ** 0.425", [1.864, 2.141]),
    "Haycock": ("0.024265 * HEIGHT ** 0.3964 * WEIGHT ** 0.5378", [1.895, 2.161]),
    "Gehan-George": ("0.0235 * HEIGHT ** 0.42246 * WEIGHT ** 0.51456", [1.897, 2.16]),
    "Boyd": (
        "0.0003207 * HEIGHT ** 0.3 * (1000 * WEIGHT) ** (0.7285 - 0.0188 * log10(1000 * WEIGHT))",
        [1.905, 2.158],
    ),
    "Fujimoto": ("0.008883 * HEIGHT ** 0.663 * WEIGHT ** 0.444", [1.819, 2.086]),
    "Takahira": ("0.007241 * HEIGHT ** 0.725 * WEIGHT ** 0.425", [1.878, 2.158]),
}


@pytest.mark.parametrize("method", list(BSA))
def test_bsa_formulas_give_admirals_published_values(method: str) -> None:
    """admiral's compute_bsa tests (height 170 and 185 cm, weight 75 and 90 kg, rounded
    to 3 decimals); a missing height or weight gives missing."""
    formula, expected = BSA[method]
    assert run(f"round({formula}, 3)", HEIGHT=[170, 185], WEIGHT=[75, 90]) == expected
    assert run(formula, HEIGHT=[None, 185], WEIGHT=[75, None]) == [None, None]


def test_bmi_and_map_formulas_give_admirals_published_values() -> None:
    """admiral's compute_bmi and compute_map tests."""
    assert run("round(WEIGHT / (HEIGHT / 100) ** 2, 3)", HEIGHT=[180, 200], WEIGHT=[75, 100]) == [
        23.148,
        25.0,
    ]
    assert run("round((2 * DIABP + SYSBP) / 3, 3)", DIABP=[51, 61], SYSBP=[121, 141]) == [
        74.333,
        87.667,
    ]
    hr = "round(DIABP + 0.01 * exp(4.14 - 40.74 / PULSE) * (SYSBP - DIABP), 3)"
    assert run(hr, DIABP=[51, 91], SYSBP=[121, 101], PULSE=[59, 62]) == [73.039, 94.255]


# --------------------------------------------------------------------------- describe
def test_describe_states_the_formula_its_functions_and_the_missing_rule() -> None:
    f = compile_formula("round(months(TRTSDT,TRTEDT),1)")
    assert describe(f, Options(month_days=30.4375)) == (
        "round(months(TRTSDT, TRTEDT), 1); where round(x, n) is x rounded to n decimals (n a "
        "whole number, default 0; negative: tens, hundreds...), halves away from zero; "
        "months(start, end) is (end - start) / 30.4375 between two dates. Missing when any "
        "value it uses is missing or it has no real value."
    )


def test_values_of_the_wrong_length_are_an_error() -> None:
    with pytest.raises(ValueError, match="A has 2 values for 3 records"):
        evaluate(compile_formula("A + 1").tree, lambda n: np.zeros(2), 3)


# --------------------------------------------------------------------------- property
def _finite(x: float) -> float:
    return NAN if math.isinf(x) else x


def _binary(op: str, a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b):
        return NAN
    try:
        value = {
            "+": lambda: a + b,
            "-": lambda: a - b,
            "*": lambda: a * b,
            "/": lambda: a / b,
            "**": lambda: math.pow(a, b),
        }[op]()
    except (ZeroDivisionError, ValueError, OverflowError):
        return NAN
    return _finite(value)


def _call(name: str, xs: list[float]) -> float:
    if name == "coalesce":
        return next((x for x in xs if not math.isnan(x)), NAN)
    if any(math.isnan(x) for x in xs):
        return NAN
    if name == "sqrt":
        return math.sqrt(xs[0]) if xs[0] >= 0 else NAN
    if name == "abs":
        return abs(xs[0])
    if name == "min":
        return min(xs)
    if name == "max":
        return max(xs)
    return _finite(sum(xs) / len(xs))  # mean


def reference(node: Node, env: dict[str, float]) -> float:
    """A scalar evaluation of a tree with Python floats and the math module."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        return env[node.name]
    if isinstance(node, Negate):
        return -reference(node.operand, env)
    if isinstance(node, Binary):
        return _binary(node.op, reference(node.left, env), reference(node.right, env))
    assert isinstance(node, Call)
    return _call(node.function, [reference(a, env) for a in node.args])


VALUES = st.one_of(st.just(NAN), st.integers(-20, 20).map(float), st.floats(-100, 100))
LEAVES = st.one_of(
    st.sampled_from(["A", "B", "C"]).map(Name),
    st.one_of(st.integers(0, 9), st.floats(0, 10)).map(lambda v: Number(float(v))),
)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        children.map(Negate),
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/", "**"]), children, children),
        st.builds(lambda f, x: Call(f, (x,)), st.sampled_from(["sqrt", "abs"]), children),
        st.builds(
            lambda f, xs: Call(f, tuple(xs)),
            st.sampled_from(["min", "max", "mean", "coalesce"]),
            st.lists(children, min_size=2, max_size=3),
        ),
    )


@settings(deadline=None, max_examples=300)
@given(
    st.recursive(LEAVES, _extend, max_leaves=12),
    st.lists(st.tuples(VALUES, VALUES, VALUES), min_size=1, max_size=5),
)
def test_evaluation_equals_an_independent_python_computation(
    tree: Node, rows: list[tuple[float, float, float]]
) -> None:
    columns = {k: np.array([r[i] for r in rows]) for i, k in enumerate("ABC")}
    got = evaluate(tree, columns.__getitem__, len(rows))
    for i, row in enumerate(rows):
        want = reference(tree, dict(zip("ABC", row, strict=True)))
        if math.isnan(want):
            assert math.isnan(got[i]), (i, want, got[i])
        else:
            assert got[i] == pytest.approx(want, rel=1e-9, abs=1e-12), (i, want, got[i])
