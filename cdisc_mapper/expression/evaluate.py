"""Evaluating a formula's tree, vectorised over the records of a frame.

Every name is looked up once and must give float64 values, one per record (dates as SAS
date numbers). Missing values propagate: an operation with a missing operand gives a
missing result (``coalesce`` excepted), and so does an operation without a real result
(``x / 0``, ``0 ** -1``, ``(-8) ** (1/3)``, an overflow): such results are missing, never
infinite, never an error, as SAS gives a missing value for a division by zero.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cdisc_mapper.expression.functions import FUNCTIONS, Array, Options, power
from cdisc_mapper.expression.model import Binary, Name, Negate, Node, Number, names

Values = Callable[[str], Array]
"""A name's values on the records (float64, one per record)."""


def _finite(values: Array) -> Array:
    """``values`` with infinities made missing."""
    bad = np.isinf(values)
    if bad.any():
        values = values.copy()
        values[bad] = np.nan
    return values


def _binary(op: str, left: Array, right: Array) -> Array:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return left / right
    return power(left, right)


def _eval(node: Node, env: dict[str, Array], size: int, options: Options) -> Array:
    if isinstance(node, Number):
        return np.full(size, node.value, dtype=np.float64)
    if isinstance(node, Name):
        return env[node.name]
    if isinstance(node, Negate):
        return -_eval(node.operand, env, size, options)
    if isinstance(node, Binary):
        left = _eval(node.left, env, size, options)
        right = _eval(node.right, env, size, options)
        return _finite(_binary(node.op, left, right))
    args = [_eval(a, env, size, options) for a in node.args]
    return _finite(FUNCTIONS[node.function].impl(args, options))


def evaluate(tree: Node, values: Values, size: int, options: Options | None = None) -> Array:
    """The formula's value on each of ``size`` records (float64, NaN = missing; a new
    array, never one of the inputs)."""
    env: dict[str, Array] = {}
    for name in names(tree):
        arr = np.asarray(values(name), dtype=np.float64)
        if arr.shape != (size,):
            raise ValueError(f"{name} has {arr.size} values for {size} records")
        env[name] = _finite(arr)
    with np.errstate(all="ignore"):
        result = _eval(tree, env, size, options or Options())
    return result + 0.0  # -0.0 (e.g. -A for A = 0) is written as 0
