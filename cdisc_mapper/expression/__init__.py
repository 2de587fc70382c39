"""The formula language: arithmetic on numbers and dates, read without ever running Python.

A formula such as ``(SYSBP + 2 * DIABP) / 3`` or ``DTHDT - TRTEDT + 1`` is read by a
hand-written parser (:mod:`.parser`: numbers, names, ``+ - * / **``, unary minus,
parentheses and the functions of :mod:`.functions`) into a tree (:mod:`.model`) that is
evaluated vectorised over a frame's records (:mod:`.evaluate`). Missing values
propagate; a result without a real value (a division by 0) is missing. Dates are SAS
date numbers, so the difference of two dates is a number of days.

:func:`compile_formula` gives a :class:`Formula` (its tree, the names it uses);
:func:`describe` writes it for define.xml. Errors are :class:`ExpressionError` (a
:class:`~cdisc_mapper.errors.SpecError` and a ValueError) naming the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cdisc_mapper.expression.evaluate import Values, evaluate
from cdisc_mapper.expression.functions import FUNCTIONS, USES_MONTH_DAYS, Function, Options
from cdisc_mapper.expression.model import ExpressionError, Node, functions, names, render
from cdisc_mapper.expression.parser import MAX_LENGTH, parse


@dataclass(frozen=True)
class Formula:
    """A formula read: its text as written, its tree, the names and functions it uses."""

    text: str
    tree: Node
    names: tuple[str, ...]
    functions: tuple[str, ...]

    @property
    def canonical(self) -> str:
        """The formula in canonical form (see :func:`render`)."""
        return render(self.tree)


@lru_cache(maxsize=512)
def compile_formula(text: str) -> Formula:
    """The formula ``text`` read (cached: specs name the same formulas again)."""
    tree = parse(text)
    return Formula(text, tree, tuple(names(tree)), tuple(functions(tree)))


def function_notes(formula: Formula, options: Options | None = None) -> list[str]:
    """What each function the formula calls computes (``"sqrt(x) is the square root..."``),
    with the conventions' month length filled in when ``options`` are known."""
    notes = []
    for name in formula.functions:
        fn = FUNCTIONS[name]
        doc = fn.doc
        if name in USES_MONTH_DAYS and options is not None:
            doc = doc.replace("the conventions' month_days", f"{options.month_days:g}")
        notes.append(f"{fn.signature} is {doc}")
    return notes


def describe(formula: Formula, options: Options | None = None) -> str:
    """define.xml's text for a formula: its canonical form, what its functions compute
    and the rule for missing values."""
    text = formula.canonical
    notes = function_notes(formula, options)
    if notes:
        text += "; where " + "; ".join(notes)
    return text + ". Missing when any value it uses is missing or it has no real value."


def language_summary() -> str:
    """The formula language in one paragraph, for the reference (generated from the
    function table, so it cannot drift)."""
    listed = "; ".join(f"`{f.signature}`: {f.doc}" for f in FUNCTIONS.values())
    return (
        "numbers, names, `+ - * /`, `**` (or `^`; binds tighter than unary minus and groups "
        "to the right), unary minus, parentheses and the functions (any case) "
        f"{listed}. At most {MAX_LENGTH} characters. A missing value gives a missing "
        "result (coalesce excepted), and so does a result with no real value (a division "
        "by 0, the square root of a negative number): never an error. Dates are SAS day "
        "numbers: `DTHDT - TRTEDT` is a number of days"
    )


__all__ = [
    "FUNCTIONS",
    "MAX_LENGTH",
    "ExpressionError",
    "Formula",
    "Function",
    "Node",
    "Options",
    "Values",
    "compile_formula",
    "describe",
    "evaluate",
    "function_notes",
    "language_summary",
    "parse",
    "render",
]
