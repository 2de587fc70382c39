"""The tree of an arithmetic expression and its canonical text.

A formula is parsed (:mod:`cdisc_mapper.expression.parser`) into these nodes: numbers,
names, unary minus, the binary operators ``+ - * / **`` and function calls. Each node
remembers the 1-based column of the formula where it starts (for error messages); the
column is not part of a node's equality, so a formula and its canonical text
(:func:`render`) give equal trees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cdisc_mapper.errors import SpecError

BINARY_OPERATORS = ("+", "-", "*", "/", "**")


class ExpressionError(SpecError, ValueError):
    """A formula cannot be read or used: the message names the formula, the column and
    what is wrong (a ValueError too, so argument models report it at the spec line)."""


@dataclass(frozen=True)
class Number:
    """A numeric constant (never negative: ``-1`` is unary minus applied to ``1``)."""

    value: float
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Name:
    """A variable (in a parameter formula: a PARAMCD)."""

    name: str
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Negate:
    """Unary minus."""

    operand: Node
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    """``left op right`` with ``op`` one of :data:`BINARY_OPERATORS`."""

    op: str
    left: Node
    right: Node
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A function applied to its arguments (the function name in lower case)."""

    function: str
    args: tuple[Node, ...]
    column: int = field(default=0, compare=False)


Node = Number | Name | Negate | Binary | Call


def walk(node: Node) -> Iterator[Node]:
    """The node and every node below it (parents first)."""
    stack: list[Node] = [node]
    while stack:
        cur = stack.pop()
        yield cur
        if isinstance(cur, Negate):
            stack.append(cur.operand)
        elif isinstance(cur, Binary):
            stack.extend((cur.right, cur.left))
        elif isinstance(cur, Call):
            stack.extend(reversed(cur.args))


def names(node: Node) -> list[str]:
    """The variable names a tree uses, in order of first use."""
    seen: dict[str, None] = {}
    for n in walk(node):
        if isinstance(n, Name):
            seen.setdefault(n.name, None)
    return list(seen)


def functions(node: Node) -> list[str]:
    """The functions a tree calls, in order of first use."""
    seen: dict[str, None] = {}
    for n in walk(node):
        if isinstance(n, Call):
            seen.setdefault(n.function, None)
    return list(seen)


# --------------------------------------------------------------------------- canonical text
_LEVEL = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}
_UNARY_LEVEL = 3
_ATOM_LEVEL = 5


def _level(node: Node) -> int:
    if isinstance(node, Binary):
        return _LEVEL[node.op]
    if isinstance(node, Negate):
        return _UNARY_LEVEL
    return _ATOM_LEVEL


def _number_text(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _at_least(node: Node, level: int) -> str:
    text = render(node)
    return text if _level(node) >= level else f"({text})"


def render(node: Node) -> str:
    """The canonical text of a tree: single spaces around binary operators, parentheses
    only where the precedence rules need them (``**`` binds tighter than unary minus,
    and groups to the right)."""
    if isinstance(node, Number):
        return _number_text(node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Negate):
        return "-" + _at_least(node.operand, _UNARY_LEVEL)
    if isinstance(node, Call):
        return f"{node.function}({', '.join(render(a) for a in node.args)})"
    level = _LEVEL[node.op]
    if node.op == "**":
        return f"{_at_least(node.left, _ATOM_LEVEL)} ** {_at_least(node.right, _UNARY_LEVEL)}"
    return f"{_at_least(node.left, level)} {node.op} {_at_least(node.right, level + 1)}"
