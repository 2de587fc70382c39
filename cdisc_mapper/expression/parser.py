"""Reading a formula: a hand-written tokenizer and recursive-descent parser.

The grammar (``**`` binds tighter than unary minus and groups to the right, so
``-2 ** 2`` is -4 and ``2 ** 3 ** 2`` is 512; ``^`` is the same as ``**``)::

    formula := sum
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := ("-" | "+") unary | power
    power   := atom (("**" | "^") unary)?
    atom    := NUMBER | NAME | NAME "(" sum ("," sum)* ")" | "(" sum ")"

A NUMBER is ``12``, ``1.5``, ``.5`` or ``1e-3``; a NAME is a letter or ``_`` followed by
letters, digits and ``_``; a NAME followed by ``(`` is a function (any case, see
:data:`~cdisc_mapper.expression.functions.FUNCTIONS`). A formula is at most
:data:`MAX_LENGTH` characters, nested at most :data:`MAX_NESTING` levels (parentheses,
signs and powers) and its tree at most :data:`MAX_DEPTH` deep, so that reading and
evaluating it takes bounded time and stack. Nothing is ever run as Python.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from cdisc_mapper.expression.functions import FUNCTIONS
from cdisc_mapper.expression.model import (
    Binary,
    Call,
    ExpressionError,
    Name,
    Negate,
    Node,
    Number,
    walk,
)

MAX_LENGTH = 1000
MAX_NESTING = 40
MAX_DEPTH = 120
MAX_DIGITS = 15

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),])"
)


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", "op" or "end"
    text: str
    column: int  # 1-based


def _quote(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` (blanks dropped), ending with an ``end`` token."""
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(
                f"formula {_quote(text)!r}: unexpected character {text[pos]!r} at column {pos + 1}"
            )
        kind = m.lastgroup or ""
        if kind != "space":
            tok = m.group()
            out.append(Token(kind, "**" if tok == "^" else tok, pos + 1))
        pos = m.end()
    out.append(Token("end", "", len(text) + 1))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.nesting = 0

    # ------------------------------------------------------------------ helpers
    def error(self, message: str) -> ExpressionError:
        return ExpressionError(f"formula {_quote(self.text)!r}: {message}")

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def at(self, *texts: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in texts

    def unexpected(self, expected: str) -> ExpressionError:
        tok = self.tok
        if tok.kind == "end":
            return self.error(f"the formula ends at column {tok.column} where {expected} is due")
        return self.error(f"unexpected {tok.text!r} at column {tok.column}")

    def deeper(self, column: int) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.error(f"nested more than {MAX_NESTING} levels deep at column {column}")

    # ------------------------------------------------------------------ grammar
    def formula(self) -> Node:
        node = self.sum()
        if self.tok.kind != "end":
            raise self.unexpected("the end")
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.at("+", "-"):
            op = self.take()
            node = Binary(op.text, node, self.product(), op.column)
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.at("*", "/"):
            op = self.take()
            node = Binary(op.text, node, self.unary(), op.column)
        return node

    def unary(self) -> Node:
        if self.at("-", "+"):
            op = self.take()
            self.deeper(op.column)
            operand = self.unary()
            self.nesting -= 1
            return Negate(operand, op.column) if op.text == "-" else operand
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        if self.at("**"):
            op = self.take()
            self.deeper(op.column)
            node = Binary("**", node, self.unary(), op.column)
            self.nesting -= 1
        return node

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.take()
            value = float(tok.text)
            if math.isinf(value):
                raise self.error(f"the number {tok.text} at column {tok.column} is too large")
            return Number(value, tok.column)
        if tok.kind == "name":
            self.take()
            if self.at("("):
                return self.call(tok)
            return Name(tok.text, tok.column)
        if self.at("("):
            self.take()
            self.deeper(tok.column)
            node = self.sum()
            self.nesting -= 1
            if not self.at(")"):
                if self.tok.kind == "end":
                    raise self.error(f"the '(' at column {tok.column} is not closed")
                raise self.unexpected("')'")
            self.take()
            return node
        raise self.unexpected("a number, a name or '('")

    def call(self, name: Token) -> Node:
        fn = FUNCTIONS.get(name.text.lower())
        if fn is None:
            raise self.error(
                f"unknown function {name.text!r} at column {name.column}; known: "
                + ", ".join(sorted(FUNCTIONS))
            )
        self.deeper(name.column)
        self.take()  # "("
        args = [self.sum()]
        while self.at(","):
            self.take()
            args.append(self.sum())
        if not self.at(")"):
            if self.tok.kind == "end":
                raise self.error(f"the '(' of {name.text} at column {name.column} is not closed")
            raise self.unexpected("',' or ')'")
        self.take()
        self.nesting -= 1
        if len(args) < fn.least or (fn.most is not None and len(args) > fn.most):
            want = (
                f"{fn.least}"
                if fn.least == fn.most
                else f"at least {fn.least}"
                if fn.most is None
                else f"{fn.least} to {fn.most}"
            )
            raise self.error(
                f"{fn.name} at column {name.column} takes {want} argument(s), not {len(args)} "
                f"(write {fn.signature})"
            )
        for i in fn.constant_args:
            if i < len(args) and not _whole_constant(args[i]):
                raise self.error(
                    f"argument {i + 1} of {fn.name} at column {name.column} must be a whole "
                    f"number from -{MAX_DIGITS} to {MAX_DIGITS} (write {fn.signature}, e.g. "
                    f"{fn.name}(AVAL, 1))"
                )
        return Call(fn.name, tuple(args), name.column)


def _whole_constant(node: Node) -> bool:
    if isinstance(node, Negate):
        node = node.operand
    return isinstance(node, Number) and node.value == int(node.value) and node.value <= MAX_DIGITS


def depth(node: Node) -> int:
    """The number of levels of a tree (a number or name alone: 1)."""
    levels: dict[int, int] = {}
    order = list(walk(node))
    for n in reversed(order):  # children before parents
        kids: tuple[Node, ...] = ()
        if isinstance(n, Negate):
            kids = (n.operand,)
        elif isinstance(n, Binary):
            kids = (n.left, n.right)
        elif isinstance(n, Call):
            kids = n.args
        levels[id(n)] = 1 + max((levels[id(k)] for k in kids), default=0)
    return levels[id(node)]


def parse(text: str) -> Node:
    """The tree of a formula; an :class:`ExpressionError` naming the column otherwise."""
    if not isinstance(text, str):
        raise ExpressionError(f"a formula must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the formula is {len(text)} characters long; at most {MAX_LENGTH} are allowed"
        )
    if not text.strip():
        raise ExpressionError("the formula is empty")
    tree = _Parser(text).formula()
    if depth(tree) > MAX_DEPTH:
        raise ExpressionError(
            f"formula {_quote(text)!r} has more than {MAX_DEPTH} levels of operations; "
            "split it into several variables"
        )
    return tree
