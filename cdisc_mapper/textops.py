"""Fast text operations for large frames: work once per distinct value.

Clinical data repeat the same few strings millions of times (visit labels, units, test
codes), so string functions run on the distinct values and the results are taken back
by position (``pd.factorize``). This is what keeps a 10,000-subject study within its
time budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd


def map_unique(series: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn`` applied to the distinct values of ``series`` (missing values become ``""``
    first), spread back over every row; the result is an object Series on the same index."""
    codes, uniques = pd.factorize(series.astype(object).where(series.notna(), ""), sort=False)
    if len(uniques) == 0:
        return pd.Series([], index=series.index, dtype=object)
    done = fn(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    values = np.asarray(done.to_numpy(dtype=object), dtype=object)
    return pd.Series(values[codes], index=series.index, dtype=object)


def strip_text(series: pd.Series) -> pd.Series:
    """Values as stripped text (``""`` for missing)."""
    return map_unique(series, lambda u: u.astype(str).str.strip())


def format_number(x: float, decimals: int | None = None, significant: int = 12) -> str:
    """Format a float as plain decimal text, without float noise and without exponent.

    * ``decimals=None``: integers print without ``.0`` (``44``); other values are rounded
      to ``significant`` significant digits, then trailing zeros dropped
      (``6.200000000000001`` -> ``6.2``).
    * ``decimals=d``: rounded half away from zero to ``d`` decimals and printed with
      exactly ``d`` decimals (``36.65`` -> ``36.7``, ``60`` -> ``60.0`` for ``d=1``).

    NaN and infinities give ``""``; ``-0`` prints as ``0``.
    """
    if x is None or not math.isfinite(x):
        return ""
    if x == int(x) and abs(x) < 2**53:
        text = str(int(x))
    else:
        text = np.format_float_positional(
            x, precision=significant, unique=True, fractional=False, trim="-"
        )
    if decimals is not None:
        q = Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        text = f"{q:f}"
    if text.startswith("-") and Decimal(text) == 0:
        text = text[1:]
    return text
