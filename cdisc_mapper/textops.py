"""Fast text operations for large frames: work once per distinct value.

Clinical data repeat the same few strings millions of times (visit labels, units, test
codes), so string functions run on the distinct values and the results are taken back
by position (``pd.factorize``). This is what keeps a 10,000-subject study within its
time budget.
"""

from __future__ import annotations

from collections.abc import Callable

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
