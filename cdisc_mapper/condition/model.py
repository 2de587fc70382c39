"""The condition model: one record-level test language for every spec.

A condition is data, never code. It is either a *test* on one variable (or raw column)
or a combination of other conditions::

    {variable: AESEV, equals: SEVERE}                  # compare with a constant
    {column: CRIT_ID, startswith: INCL}                # a raw column (SDTM sources)
    {variable: ADY, ge: 2}                             # order comparison
    {variable: AESTDTC, ge: {variable: RFXSTDTC}, as: date, partial: possible}
    {variable: CMTRT, in: [Riluzole, RILUZOLE]}
    {variable: AETERM, contains: headache, case_sensitive: false}
    {variable: LBORRES, matches: "<\\s*\\d+"}           # the whole value matches
    {variable: DTHDTC, present: true}                  # or empty: true
    {all: [...]}  {any: [...]}  {not: {...}}

The subject is ``variable`` (a variable of the records) or ``column`` (the same, spelled
as SDTM sources name raw columns); give one. Exactly one test: ``equals``,
``not_equals``, ``lt``, ``le``, ``gt``, ``ge`` (a constant, or ``{variable: NAME}`` to
compare with another variable of the same record), ``in``, ``not_in`` (constants),
``contains``, ``startswith``, ``matches`` (text), ``present`` or ``empty`` (true/false).

How values compare (``as``): ``auto`` (default) compares numbers when the variable is
numeric or the constant is a number, else text; ``text``, ``number``, ``date`` (ISO 8601
dates and datetimes compared by calendar day; numeric ADaM dates are day numbers) and
``datetime`` (compared to the second) force one. Text is compared with surrounding
blanks removed, and ignoring case with ``case_sensitive: false``. A partial date stands
for an interval (``2020-03`` is any day of March 2020); ``partial`` states how such an
interval compares: ``certain`` (default: the comparison holds for every completion of
both values), ``possible`` (it holds for some completion), ``earliest`` or ``latest``
(each value taken as its first or last possible day or second).

Missing values: ``equals``/``in`` never select a missing value (except the text
constant ``""``), ``not_equals``/``not_in`` are their negation and so select it, and an
order comparison never holds for a missing value; test for it with ``present``/``empty``.
"""

from __future__ import annotations

import re
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cdisc_mapper import iso8601

Scalar = str | int | float
Mode = Literal["auto", "text", "number", "date", "datetime"]
PartialRule = Literal["certain", "possible", "earliest", "latest"]

#: Tests that compare the subject with one operand (a constant or another variable).
COMPARISONS = ("equals", "not_equals", "lt", "le", "gt", "ge")
#: Order comparisons (never hold for a missing value).
ORDER = ("lt", "le", "gt", "ge")
#: Tests on the text of the subject.
TEXT_TESTS = ("contains", "startswith", "matches")
#: Every test a leaf condition may give, in the order they are documented.
TESTS = (*COMPARISONS, "in_", "not_in", *TEXT_TESTS, "present", "empty")


class VariableRef(BaseModel):
    """The operand ``{variable: NAME}``: the value of another variable of the record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variable: str = Field(min_length=1)


Operand = VariableRef | Scalar


class Condition(BaseModel):
    """A record condition (see the module docstring for the language)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    variable: str | None = None
    column: str | None = None
    equals: Operand | None = None
    not_equals: Operand | None = None
    lt: Operand | None = None
    le: Operand | None = None
    gt: Operand | None = None
    ge: Operand | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    not_in: list[Scalar] | None = None
    contains: str | None = None
    startswith: str | None = None
    matches: str | None = None
    present: bool | None = None
    empty: bool | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")
    as_: Mode = Field(default="auto", alias="as")
    partial: PartialRule | None = None
    case_sensitive: bool = True

    @model_validator(mode="after")
    def _well_formed(self) -> Condition:
        combos = [x for x in (self.all, self.any, self.not_) if x is not None]
        if combos:
            _check_combination(self, len(combos))
        else:
            _check_test(self)
        return self

    # ------------------------------------------------------------------ reading
    @property
    def subject(self) -> str:
        """The variable (or raw column) a test reads; ``""`` for a combination."""
        return self.variable or self.column or ""

    @property
    def test(self) -> str:
        """The name of a leaf's test (``equals``, ``in``, ``present``...)."""
        for name in TESTS:
            if getattr(self, name) is not None:
                return "in" if name == "in_" else name
        return ""

    @property
    def operand(self) -> Operand | list[Scalar] | bool | None:
        """What a leaf's test compares with (a constant, a list, a VariableRef, a flag)."""
        for name in TESTS:
            value = getattr(self, name)
            if value is not None:
                return value  # type: ignore[no-any-return]
        return None

    @property
    def parts(self) -> list[Condition]:
        """The conditions a combination combines (``[]`` for a leaf)."""
        if self.not_ is not None:
            return [self.not_]
        return list(self.all or self.any or [])

    def variables(self) -> set[str]:
        """Every variable or column the condition reads, operands included."""
        out: set[str] = set()
        for part in self.parts:
            out |= part.variables()
        if self.subject:
            out.add(self.subject)
        if isinstance(self.operand, VariableRef):
            out.add(self.operand.variable)
        return out


def _check_combination(cond: Condition, count: int) -> None:
    leaf_keys = [n for n in (*TESTS, "variable", "column") if getattr(cond, n) is not None]
    if leaf_keys or cond.partial is not None or cond.as_ != "auto" or not cond.case_sensitive:
        raise ValueError("use either all/any/not or a variable test, not both")
    if count != 1:
        raise ValueError("give exactly one of all, any, not")
    if (cond.all is not None and not cond.all) or (cond.any is not None and not cond.any):
        raise ValueError("all/any need at least one condition")


def _check_test(cond: Condition) -> None:
    if (cond.variable is None) == (cond.column is None):
        raise ValueError("a condition needs 'variable' (or 'column'), or all/any/not")
    given = [n for n in TESTS if getattr(cond, n) is not None]
    if len(given) != 1:
        names = ", ".join("in" if n == "in_" else n for n in TESTS)
        raise ValueError(f"give exactly one test: {names}")
    test = given[0]
    if test in TEXT_TESTS and cond.as_ not in ("auto", "text"):
        raise ValueError(f"{test} compares text; 'as: {cond.as_}' does not apply")
    if cond.partial is not None and cond.as_ not in ("date", "datetime"):
        raise ValueError("'partial' applies to date comparisons: add 'as: date' (or datetime)")
    if test in ("present", "empty") and cond.as_ != "auto":
        raise ValueError(f"{test} tests for a value; 'as' does not apply")
    if test == "matches":
        try:
            re.compile(cond.matches or "")
        except re.error as exc:
            raise ValueError(f"matches: not a regular expression ({exc})") from None
    if test in ("in_", "not_in") and not getattr(cond, test):
        raise ValueError(f"{'in' if test == 'in_' else test} needs at least one value")
    if cond.as_ in ("date", "datetime"):
        _check_date_constants(cond, test)
    if cond.as_ == "number":
        _check_number_constants(cond, test)


def _constants(cond: Condition, test: str) -> list[str]:
    value = getattr(cond, test)
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if not isinstance(v, VariableRef | bool)]


def _check_number_constants(cond: Condition, test: str) -> None:
    """A number comparison's constants must be numbers."""
    for text in _constants(cond, test):
        try:
            float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number (as: number)") from None


def _check_date_constants(cond: Condition, test: str) -> None:
    """A date comparison's constants must be ISO 8601 dates (complete or partial)."""
    texts = _constants(cond, test)
    if not texts:
        return
    problems = iso8601.problems(pd.Series(texts, dtype=object))
    for text, problem in zip(texts, problems, strict=True):
        if problem or text.strip() == "":
            raise ValueError(f"{text!r} is not an ISO 8601 date ({problem or 'blank'})")


Condition.model_rebuild()
