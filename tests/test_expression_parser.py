"""cdisc_mapper.expression.parser and .model: reading formulas, their canonical text and
the errors that name the column.

Hypothesis checks that a generated tree's canonical text reads back as the same tree,
and that no text makes the parser fail other than with an ExpressionError.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_mapper.errors import SpecError
from cdisc_mapper.expression import ExpressionError, compile_formula, parse, render
from cdisc_mapper.expression.model import Binary, Call, Name, Negate, Node, Number
from cdisc_mapper.expression.parser import MAX_DEPTH, MAX_LENGTH, MAX_NESTING, depth

A, B, C = Name("A"), Name("B"), Name("C")


def n(value: float) -> Number:
    return Number(value)


# --------------------------------------------------------------------------- precedence
@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("A + B * C", Binary("+", A, Binary("*", B, C))),
        ("A - B - C", Binary("-", Binary("-", A, B), C)),
        ("A / B / C", Binary("/", Binary("/", A, B), C)),
        ("(A + B) * C", Binary("*", Binary("+", A, B), C)),
        ("-A ** 2", Negate(Binary("**", A, n(2)))),
        ("A ** B ** C", Binary("**", A, Binary("**", B, C))),
        ("A ^ -B", Binary("**", A, Negate(B))),
        ("- -A", Negate(Negate(A))),
        ("+A", A),
        ("2 * -A", Binary("*", n(2), Negate(A))),
        (".5e1 + 1.", Binary("+", n(5), n(1))),
        ("SQRT(A)", Call("sqrt", (A,))),
        ("pow(A, 2)", Call("pow", (A, n(2)))),
        ("round(A, -1)", Call("round", (A, Negate(n(1))))),
        ("min(A, B, C)", Call("min", (A, B, C))),
        ("(SYSBP +\n 2 * DIABP) / 3", Binary("/", Binary("+", Name("SYSBP"),
                                         Binary("*", n(2), Name("DIABP"))), n(3))),
    ],
)  # fmt: skip
def test_precedence_and_grouping(text: str, tree: Node) -> None:
    """``**`` binds tighter than unary minus and groups to the right; the other binary
    operators group to the left, ``* /`` before ``+ -``; ``^`` is ``**``; functions in any
    case."""
    assert parse(text) == tree


def test_canonical_text() -> None:
    assert render(parse("(A+B)*C")) == "(A + B) * C"
    assert render(parse("A-(B-C)")) == "A - (B - C)"
    assert render(parse("(A**B)**C")) == "(A ** B) ** C"
    assert render(parse("(-A)^2")) == "(-A) ** 2"
    assert render(parse("WEIGHT / (HEIGHT/100)**2")) == "WEIGHT / (HEIGHT / 100) ** 2"
    assert render(parse("Round(A, 1.0) + 0.25")) == "round(A, 1) + 0.25"


def test_names_and_functions_in_order_of_use() -> None:
    f = compile_formula("whole_years(BRTHDT, RFICDT) + BRTHDT * sqrt(X)")
    assert f.names == ("BRTHDT", "RFICDT", "X")
    assert f.functions == ("whole_years", "sqrt")


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SYSBP + * DIABP", "formula 'SYSBP + * DIABP': unexpected '*' at column 9"),
        ("A $ B", "unexpected character '$' at column 3"),
        ("A B", "unexpected 'B' at column 3"),
        ("A +", "the formula ends at column 4 where a number, a name or '(' is due"),
        ("(A + B", "the '(' at column 1 is not closed"),
        ("A + B)", "unexpected ')' at column 6"),
        ("sqrt(A", "the '(' of sqrt at column 1 is not closed"),
        ("sqrt(A B)", "unexpected 'B' at column 8"),
        ("A(1)", "unknown function 'A' at column 1; known: abs, ceil, coalesce"),
        ("sqrt(A, B)", "sqrt at column 1 takes 1 argument(s), not 2 (write sqrt(x))"),
        ("1 + max(A)", "max at column 5 takes at least 2 argument(s), not 1"),
        ("round(A, 1, 2)", "round at column 1 takes 1 to 2 argument(s), not 3"),
        ("round(A, B)", "argument 2 of round at column 1 must be a whole number from -15"),
        ("round(A, 0.5)", "argument 2 of round at column 1 must be a whole number"),
        ("A * 1e999", "the number 1e999 at column 5 is too large"),
        ("A,B", "unexpected ',' at column 2"),
        ("()", "unexpected ')' at column 2"),
        ("", "the formula is empty"),
        ("   ", "the formula is empty"),
    ],
)
def test_errors_name_the_column(text: str, message: str) -> None:
    """Columns are 1-based, as an editor counts them."""
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert message in str(info.value)
    assert isinstance(info.value, SpecError) and isinstance(info.value, ValueError)


def test_limits_bound_length_nesting_and_depth() -> None:
    with pytest.raises(ExpressionError, match=f"at most {MAX_LENGTH} are allowed"):
        parse("A + " * 300 + "A")
    with pytest.raises(ExpressionError, match=f"nested more than {MAX_NESTING} levels deep"):
        parse("(" * (MAX_NESTING + 1) + "A" + ")" * (MAX_NESTING + 1))
    with pytest.raises(ExpressionError, match=f"nested more than {MAX_NESTING} levels deep"):
        parse("-" * (MAX_NESTING + 1) + "A")
    with pytest.raises(ExpressionError, match=f"more than {MAX_DEPTH} levels of operations"):
        parse("+".join(["A"] * (MAX_DEPTH + 1)))
    assert depth(parse("(" * MAX_NESTING + "A" + ")" * MAX_NESTING)) == 1
    assert depth(parse("+".join(["A"] * MAX_DEPTH))) == MAX_DEPTH


def test_a_formula_is_text() -> None:
    with pytest.raises(ExpressionError, match="a formula must be text, not int"):
        parse(12)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties
NAMES = st.sampled_from(["A", "B", "SYSBP", "x_1", "_W"]).map(Name)
NUMBERS = st.one_of(
    st.integers(0, 10**6).map(float),
    st.floats(0, 1e9, allow_nan=False, allow_infinity=False),
    st.floats(1e-12, 1e-3),
).map(Number)


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    ops = st.sampled_from(["+", "-", "*", "/", "**"])
    return st.one_of(
        children.map(Negate),
        st.builds(Binary, ops, children, children),
        st.builds(lambda f, x: Call(f, (x,)), st.sampled_from(["sqrt", "log", "abs"]), children),
        st.builds(
            lambda f, xs: Call(f, tuple(xs)),
            st.sampled_from(["min", "max", "mean", "coalesce"]),
            st.lists(children, min_size=2, max_size=3),
        ),
        st.builds(lambda x, d: Call("round", (x, Number(d))), children, st.integers(0, 4)),
        st.builds(lambda a, b: Call("whole_years", (a, b)), children, children),
    )


TREES = st.recursive(st.one_of(NAMES, NUMBERS), _extend, max_leaves=25)


@settings(deadline=None, max_examples=300)
@given(TREES)
def test_canonical_text_reads_back_as_the_same_tree(tree: Node) -> None:
    text = render(tree)
    assert parse(text) == tree
    assert render(parse(text)) == text


@settings(deadline=None, max_examples=300)
@given(st.text(alphabet="AB12.e+-*/^(), sqrtmin_", max_size=40))
def test_any_text_reads_or_fails_with_an_expression_error(text: str) -> None:
    try:
        tree = parse(text)
    except ExpressionError as exc:
        assert "formula" in str(exc)
    else:
        assert parse(render(tree)) == tree
