"""Evaluating conditions on records, vectorised: which rows of a frame a condition holds for.

Nothing is evaluated as code. Each column is converted once (to text, numbers or date
intervals) per distinct value and cached in a :class:`Records` view, so that many
conditions on a large frame (value-level where clauses, flags) stay cheap. The rules are
those of :mod:`cdisc_mapper.condition.model`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from cdisc_mapper import iso8601
from cdisc_mapper.condition.model import ORDER, Condition, Scalar, VariableRef
from cdisc_mapper.errors import SpecError
from cdisc_mapper.textops import format_number

Mask = npt.NDArray[np.bool_]
Numbers = npt.NDArray[np.float64]
Values = npt.NDArray[np.object_]
Codes = npt.NDArray[np.intp]
SECONDS_PER_DAY = 86_400.0


def is_numeric(column: pd.Series) -> bool:
    """Whether a column holds numbers (a numeric dtype, not an object column)."""
    return column.dtype != object and pd.api.types.is_numeric_dtype(column)


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return format_number(float(value))
    return str(value).strip()


def constant_text(value: Scalar) -> str:
    """A constant of a condition as the text it is compared as (``2`` and ``2.0``: ``2``)."""
    return _cell_text(value)


def _as_number(value: Scalar) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value.strip())
    except ValueError:
        return None


class Records:
    """A frame seen by conditions: its columns converted once per distinct value.

    ``fallback(name)`` may supply a column the frame lacks (e.g. an ADSL variable on
    the rows of a BDS dataset); without it a missing column is a SpecError that lists
    the columns there are.
    """

    def __init__(
        self, frame: pd.DataFrame, fallback: Callable[[str], pd.Series | None] | None = None
    ) -> None:
        self.frame = frame
        self.fallback = fallback
        self._columns: dict[str, pd.Series] = {}
        self._texts: dict[tuple[str, bool], Values] = {}
        self._coded: dict[tuple[str, bool], tuple[Codes, Values]] = {}
        self._numbers: dict[str, Numbers] = {}
        self._instants: dict[tuple[str, str], tuple[Numbers, Numbers]] = {}

    def __len__(self) -> int:
        return len(self.frame)

    def column(self, name: str, kind: str = "variable") -> pd.Series:
        if name in self.frame.columns:
            return self.frame[name]
        if name not in self._columns:
            found = self.fallback(name) if self.fallback is not None else None
            if found is None:
                known = ", ".join(str(c) for c in self.frame.columns if not str(c).startswith("_"))
                raise SpecError(
                    f"condition names {kind} {name!r}, which is not there; available: {known}"
                )
            self._columns[name] = found
        return self._columns[name]

    def numeric(self, name: str) -> bool:
        return is_numeric(self.column(name))

    def text(self, name: str, case_sensitive: bool = True) -> Values:
        """Stripped text of each value (``""`` when missing; numbers as plain decimals)."""
        key = (name, case_sensitive)
        if key not in self._texts:
            codes, table = self.text_codes(name, case_sensitive)
            self._texts[key] = table[codes]
        return self._texts[key]

    def text_codes(self, name: str, case_sensitive: bool = True) -> tuple[Codes, Values]:
        """:meth:`text` as each row's position in a table of texts, and the table (one
        entry per distinct value of the column, and ``""`` for missing; two entries may
        hold the same text, ``"A"`` and ``" A"`` both ``"A"``): the column is factorized
        once, and a test of the text is made once per entry."""
        key = (name, case_sensitive)
        if key not in self._coded:
            if case_sensitive:
                self._coded[key] = _per_distinct(self.column(name), _cell_text)
            else:
                codes, table = self.text_codes(name)
                self._coded[key] = (codes, _upper(table))
        return self._coded[key]

    def numbers(self, name: str) -> Numbers:
        """Each value as a number (NaN when missing or not a number)."""
        if name not in self._numbers:
            col = self.column(name)
            if is_numeric(col):
                self._numbers[name] = col.to_numpy(dtype="float64", na_value=np.nan)
            else:
                numbers = pd.to_numeric(pd.Series(self.text(name)), errors="coerce")
                self._numbers[name] = numbers.to_numpy(dtype="float64")
        return self._numbers[name]

    def instants(self, name: str, unit: str) -> tuple[Numbers, Numbers]:
        """Earliest and latest day (``unit="date"``) or second (``"datetime"``) each
        value can stand for; numeric values are day numbers (SAS dates)."""
        key = (name, unit)
        if key not in self._instants:
            col = self.column(name)
            if is_numeric(col):
                days = col.to_numpy(dtype="float64", na_value=np.nan)
                lo, hi = days * SECONDS_PER_DAY, days * SECONDS_PER_DAY + SECONDS_PER_DAY - 1
            else:
                lo, hi = iso8601.bounds(pd.Series(self.text(name), index=col.index))
            self._instants[key] = _at_resolution(lo, hi, unit)
        return self._instants[key]


def _per_distinct(column: pd.Series, fn: Callable[[Any], str]) -> tuple[Codes, Values]:
    """``fn`` of each distinct value, as (codes, table): the last entry of the table,
    ``""``, is that of a missing value. A categorical column is read through its codes
    (no factorizing) unless it has more categories than rows."""
    if isinstance(column.dtype, pd.CategoricalDtype) and len(column.cat.categories) <= len(column):
        codes = np.asarray(column.cat.codes.to_numpy(), dtype=np.intp)
        uniques: Any = column.cat.categories
    else:
        factorized, uniques = pd.factorize(column, use_na_sentinel=True)
        codes = np.asarray(factorized, dtype=np.intp)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:] = [fn(u) for u in uniques] + [""]
    return np.where(codes >= 0, codes, len(uniques)), table


def _upper(table: Values) -> Values:
    out = np.empty(len(table), dtype=object)
    out[:] = [str(t).upper() for t in table]
    return out


def _at_resolution(lo: np.ndarray, hi: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    if unit == "date":
        return np.floor(lo / SECONDS_PER_DAY), np.floor(hi / SECONDS_PER_DAY)
    return lo, hi


# --------------------------------------------------------------------------- evaluation
def evaluate(cond: Condition, records: pd.DataFrame | Records) -> pd.Series:
    """A boolean Series on the frame's index: where ``cond`` holds for each record."""
    view = records if isinstance(records, Records) else Records(records)
    return pd.Series(mask(cond, view), index=view.frame.index, dtype=bool)


def mask(cond: Condition, view: Records) -> Mask:
    """Where ``cond`` holds, as a boolean array over ``view``'s rows."""
    if cond.all is not None:
        out = np.ones(len(view), dtype=bool)
        for part in cond.all:
            out &= mask(part, view)
        return out
    if cond.any is not None:
        out = np.zeros(len(view), dtype=bool)
        for part in cond.any:
            out |= mask(part, view)
        return out
    if cond.not_ is not None:
        return ~mask(cond.not_, view)
    return _leaf(cond, view)


def _leaf(cond: Condition, view: Records) -> Mask:
    name = cond.subject
    view.column(name, "column" if cond.column is not None else "variable")
    test = cond.test
    if test in ("present", "empty"):
        has = _present(view, name)
        wanted = cond.present if test == "present" else not cond.empty
        return has if wanted else ~has
    if test in ("contains", "startswith", "matches"):
        return _text_test(cond, view)
    if test in ("in", "not_in"):
        values = cond.in_ if test == "in" else cond.not_in
        hit = _member(cond, view, values or [])
        return hit if test == "in" else ~hit
    return _compare(cond, view)


def _present(view: Records, name: str) -> Mask:
    if view.numeric(name):
        return np.asarray(~np.isnan(view.numbers(name)), dtype=bool)
    codes, table = view.text_codes(name)
    return np.asarray(table != "", dtype=bool)[codes]


def _text_test(cond: Condition, view: Records) -> Mask:
    """contains, startswith, matches: tested once per distinct value."""
    codes, table = view.text_codes(cond.subject, cond.case_sensitive)
    if not len(codes):
        return np.zeros(0, dtype=bool)
    distinct = pd.Series(table, dtype=object)
    pattern = str(cond.operand)
    if cond.test == "matches":
        flags = 0 if cond.case_sensitive else re.IGNORECASE
        hit = distinct.str.fullmatch(pattern, flags=flags)
    elif cond.test == "startswith":
        hit = distinct.str.startswith(pattern if cond.case_sensitive else pattern.upper())
    else:
        needle = pattern if cond.case_sensitive else pattern.upper()
        hit = distinct.str.contains(needle, regex=False)
    return np.asarray(hit.to_numpy(dtype=bool)[codes], dtype=bool)


def _mode(cond: Condition, view: Records, operand: Any) -> str:
    """How a comparison compares: text, number, date or datetime (``as`` or inferred)."""
    if cond.as_ != "auto":
        return cond.as_
    if view.numeric(cond.subject):
        if isinstance(operand, VariableRef):
            return "number" if view.numeric(operand.variable) else "text"
        return "number"
    if isinstance(operand, VariableRef):
        return "text"
    if cond.test in ORDER and isinstance(operand, int | float):
        return "number"
    return "text"


def _member(cond: Condition, view: Records, values: list[Scalar]) -> Mask:
    """Whether each value equals one of ``values`` (missing never does, unless ``""``)."""
    name = cond.subject
    mode = _mode(cond, view, values[0])
    if mode == "number":
        nums = [_number_operand(cond, v) for v in values if not _is_blank(v)]
        hit = np.isin(view.numbers(name), np.array(nums, dtype="float64"))
        if any(_is_blank(v) for v in values):
            hit |= ~_present(view, name)
        return hit
    if mode in ("date", "datetime"):
        out = np.zeros(len(view), dtype=bool)
        for value in values:
            out |= _dates(cond, view, "equals", value, mode)
        return out
    wanted = {constant_text(v) for v in values}
    if not cond.case_sensitive:
        wanted = {w.upper() for w in wanted}
    return _isin_text(*view.text_codes(name, cond.case_sensitive), wanted)


def _is_blank(value: Scalar) -> bool:
    return isinstance(value, str) and value.strip() == ""


def _isin_text(codes: Codes, table: Values, wanted: set[str]) -> Mask:
    """Membership tested once per entry of the table, then taken to the rows."""
    hit = np.fromiter((t in wanted for t in table), dtype=bool, count=len(table))
    return hit[codes]


def _compare(cond: Condition, view: Records) -> Mask:
    test, operand = cond.test, cond.operand
    mode = _mode(cond, view, operand)
    if mode in ("date", "datetime"):
        return _dates(cond, view, test, operand, mode)
    if test in ("equals", "not_equals") and not isinstance(operand, VariableRef):
        hit = _member(cond, view, [operand])  # type: ignore[list-item]
        return hit if test == "equals" else ~hit
    left, right, known = _operands(cond, view, operand, mode)
    with np.errstate(invalid="ignore"):
        if test == "not_equals":
            return ~(_apply("equals", left, right) & known)
        return _apply(test, left, right) & known


def _operands(cond: Condition, view: Records, operand: Any, mode: str) -> tuple[Any, Any, Mask]:
    """Left and right values of a comparison, and where both are present."""
    if mode == "number":
        numbers = view.numbers(cond.subject)
        if isinstance(operand, VariableRef):
            other = view.numbers(operand.variable)
        else:
            other = np.full(len(view), _number_operand(cond, operand))
        return numbers, other, ~np.isnan(numbers) & ~np.isnan(other)
    left = view.text(cond.subject, cond.case_sensitive)
    if isinstance(operand, VariableRef):
        right = view.text(operand.variable, cond.case_sensitive)
    else:
        text = constant_text(operand)
        right = np.full(len(view), text if cond.case_sensitive else text.upper(), dtype=object)
    return left, right, (left != "") & (right != "")


def _number_operand(cond: Condition, value: Scalar) -> float:
    number = _as_number(value)
    if number is None:
        raise SpecError(
            f"condition compares {cond.subject} as a number with {value!r}, which is not a number",
            hint="give a number, or 'as: text' to compare text",
        )
    return number


def _apply(test: str, left: Any, right: Any) -> Mask:
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "equals": lambda a, b: a == b,
        "not_equals": lambda a, b: a != b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
    }
    return np.asarray(ops[test](left, right), dtype=bool)


def _dates(cond: Condition, view: Records, test: str, operand: Any, unit: str) -> Mask:
    """A date comparison of intervals (partial values) under the condition's rule."""
    alo, ahi = view.instants(cond.subject, unit)
    if isinstance(operand, VariableRef):
        blo, bhi = view.instants(operand.variable, unit)
    else:
        lo, hi = iso8601.bounds(pd.Series([constant_text(operand)], dtype=object))
        clo, chi = _at_resolution(lo, hi, unit)
        blo, bhi = np.full(len(view), clo[0]), np.full(len(view), chi[0])
    known = ~np.isnan(alo) & ~np.isnan(blo)
    with np.errstate(invalid="ignore"):
        hit = _interval_compare(test, cond.partial or "certain", alo, ahi, blo, bhi)
    if test == "not_equals":
        return hit | ~known
    return hit & known


def _interval_compare(
    test: str, rule: str, alo: Numbers, ahi: Numbers, blo: Numbers, bhi: Numbers
) -> Mask:
    """``A test B`` for intervals [alo, ahi] and [blo, bhi] under a partial-date rule."""
    if rule in ("earliest", "latest"):
        a, b = (alo, blo) if rule == "earliest" else (ahi, bhi)
        return _apply(test, a, b)
    exact = (alo == ahi) & (blo == bhi) & (alo == blo)
    overlap = (alo <= bhi) & (blo <= ahi)
    certain = rule == "certain"
    table: dict[str, Callable[[], Any]] = {
        "equals": lambda: exact if certain else overlap,
        "not_equals": lambda: ~overlap if certain else ~exact,
        "lt": lambda: ahi < blo if certain else alo < bhi,
        "le": lambda: ahi <= blo if certain else alo <= bhi,
        "gt": lambda: alo > bhi if certain else ahi > blo,
        "ge": lambda: alo >= bhi if certain else ahi >= blo,
    }
    return np.asarray(table[test](), dtype=bool)
