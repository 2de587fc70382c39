"""The functions a formula may call, each vectorised over float64 arrays.

Every function follows the language's rule for missing values: a missing argument gives
a missing result (``coalesce`` excepted, which exists to replace missing values), and a
result that has no real value (the square root of a negative number, the logarithm of 0
or less, an overflow) is missing too. Dates are SAS date numbers (days since 1960-01-01),
so the date functions take two dates and give the time between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
SAS_EPOCH = np.datetime64("1960-01-01", "D")
_MAX_DAYS = 3_000_000.0  # about the year 10173: later "dates" are not dates


@dataclass(frozen=True)
class Options:
    """What the functions take from the study's conventions."""

    month_days: float = 30.4375
    """Days per month (ADaM conventions ``month_days``) for ``months`` and ``years``."""


Impl = Callable[[list[Array], Options], Array]


@dataclass(frozen=True)
class Function:
    """A function of the language: its name and how it is written, how many arguments
    it takes (``most`` None: any number), which arguments must be whole-number constants,
    what it computes and what it says in the reference and in define.xml."""

    name: str
    signature: str
    least: int
    most: int | None
    impl: Impl
    doc: str
    constant_args: tuple[int, ...] = ()


def _round(args: list[Array], opts: Options) -> Array:
    """Half away from zero (as SAS ROUND and admiral's round), after removing the binary
    representation error of the scaled value (2.675 to 2 decimals is 2.68)."""
    x = args[0]
    digits = args[1][0] if len(args) > 1 and len(args[1]) else 0.0
    scale = 10.0 ** float(digits)
    scaled = np.round(np.abs(x) * scale, 9)
    return np.asarray(np.sign(x) * np.floor(scaled + 0.5) / scale, dtype=np.float64)


def _reduce(fn: Callable[[Array, Array], Array]) -> Impl:
    def impl(args: list[Array], opts: Options) -> Array:
        out = args[0]
        for a in args[1:]:
            out = fn(out, a)
        return out

    return impl


def _mean(args: list[Array], opts: Options) -> Array:
    total = args[0]
    for a in args[1:]:
        total = total + a
    return np.asarray(total / len(args), dtype=np.float64)


def _coalesce(args: list[Array], opts: Options) -> Array:
    out = args[0].copy()
    for a in args[1:]:
        gap = np.isnan(out)
        out[gap] = a[gap]
    return out


def _ymd(days: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], ...]:
    """Year, month, day of SAS date numbers."""
    dates = SAS_EPOCH + days.astype("timedelta64[D]")
    months = dates.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _whole_years(args: list[Array], opts: Options) -> Array:
    """Completed calendar years from start to end (an age on a date: the birthday must
    have been reached; 29 February counts as reached on 1 March); negative when end is
    before start."""
    start, end = args
    out = np.full(len(start), np.nan)
    ok = np.abs(start) < _MAX_DAYS
    ok &= np.abs(end) < _MAX_DAYS  # NaN compares False: missing stays missing
    s = np.floor(start[ok]).astype(np.int64)
    e = np.floor(end[ok]).astype(np.int64)
    lo_y, lo_m, lo_d = _ymd(np.minimum(s, e))
    hi_y, hi_m, hi_d = _ymd(np.maximum(s, e))
    before = (hi_m < lo_m) | ((hi_m == lo_m) & (hi_d < lo_d))
    years = (hi_y - lo_y - before.astype(np.int64)).astype(np.float64)
    out[ok] = np.where(e >= s, years, -years)
    return out


def _per(days: Callable[[Options], float]) -> Impl:
    def impl(args: list[Array], opts: Options) -> Array:
        return np.asarray((args[1] - args[0]) / days(opts), dtype=np.float64)

    return impl


def _unary(fn: Callable[[Array], Array]) -> Impl:
    def impl(args: list[Array], opts: Options) -> Array:
        return np.asarray(fn(args[0]), dtype=np.float64)

    return impl


def power(base: Array, exponent: Array) -> Array:
    """``base ** exponent``, missing when either is (IEEE gives ``NaN ** 0 == 1`` and
    ``1 ** NaN == 1``: a missing value must not disappear)."""
    out = np.asarray(np.power(base, exponent), dtype=np.float64)
    return np.where(np.isnan(base) | np.isnan(exponent), np.nan, out)


def _pow(args: list[Array], opts: Options) -> Array:
    return power(args[0], args[1])


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("sqrt", "sqrt(x)", 1, 1, _unary(np.sqrt), "the square root (missing for x < 0)"),
        Function(
            "log", "log(x)", 1, 1, _unary(np.log), "the natural logarithm (missing for x <= 0)"
        ),
        Function(
            "log10",
            "log10(x)",
            1,
            1,
            _unary(np.log10),
            "the base-10 logarithm (missing for x <= 0)",
        ),
        Function("exp", "exp(x)", 1, 1, _unary(np.exp), "e to the power x"),
        Function("abs", "abs(x)", 1, 1, _unary(np.abs), "the absolute value"),
        Function("floor", "floor(x)", 1, 1, _unary(np.floor), "the largest whole number <= x"),
        Function("ceil", "ceil(x)", 1, 1, _unary(np.ceil), "the smallest whole number >= x"),
        Function(
            "round",
            "round(x, n)",
            1,
            2,
            _round,
            "x rounded to n decimals (n a whole number, default 0; negative: tens, "
            "hundreds...), halves away from zero",
            constant_args=(1,),
        ),
        Function("pow", "pow(x, y)", 2, 2, _pow, "x to the power y (the same as x ** y)"),
        Function(
            "min", "min(a, b, ...)", 2, None, _reduce(np.minimum), "the smallest of the values"
        ),
        Function(
            "max", "max(a, b, ...)", 2, None, _reduce(np.maximum), "the largest of the values"
        ),
        Function("mean", "mean(a, b, ...)", 2, None, _mean, "the mean of the values"),
        Function(
            "coalesce",
            "coalesce(a, b, ...)",
            2,
            None,
            _coalesce,
            "the first of the values that is not missing (missing when all are)",
        ),
        Function(
            "whole_years",
            "whole_years(start, end)",
            2,
            2,
            _whole_years,
            "completed calendar years from the start date to the end date (an age: "
            "the anniversary must be reached; 29 February's on 1 March), negative when "
            "end is before start",
        ),
        Function(
            "years",
            "years(start, end)",
            2,
            2,
            _per(lambda o: 12 * o.month_days),
            "(end - start) / (12 x the conventions' month_days) between two dates",
        ),
        Function(
            "months",
            "months(start, end)",
            2,
            2,
            _per(lambda o: o.month_days),
            "(end - start) / the conventions' month_days between two dates",
        ),
        Function(
            "weeks",
            "weeks(start, end)",
            2,
            2,
            _per(lambda o: 7.0),
            "(end - start) / 7 between two dates",
        ),
    )
}
"""The functions by name (formulas write them in any case; the tree holds lower case)."""

USES_MONTH_DAYS = frozenset({"years", "months"})
"""Functions whose result depends on the conventions' month length."""
