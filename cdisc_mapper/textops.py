"""Fast text operations for large frames: work once per distinct value.

Clinical data repeat the same few strings millions of times (visit labels, units, test
codes), so string functions run on the distinct values and the results are taken back
by position (``pd.factorize``). This is what keeps a 10,000-subject study within its
time budget.

It is also the one home of :func:`neutralise_formula`, the rule every CSV report the
project writes for people follows (validation.csv, reconciliation.csv): a text cell that
a spreadsheet would run as a formula is written with a leading ``'``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

T = TypeVar("T")

#: First characters that make Excel, LibreOffice or Google Sheets read a cell as a
#: formula (OWASP "CSV Injection": ``=``, ``+``, ``-``, ``@``, tab, carriage return), and
#: their full-width forms, which some Excel locales also accept.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
_QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z", re.ASCII)


def map_unique(series: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn`` applied to the distinct values of ``series`` (missing values become ``""``
    first), spread back over every row; the result is an object Series on the same index."""
    codes, found = pd.factorize(series, sort=False, use_na_sentinel=True)
    if len(codes) == 0:
        return pd.Series([], index=series.index, dtype=object)
    uniques = np.asarray(found, dtype=object)
    if codes.min() < 0:  # missing values are "" (Arrow text is factorized as it is)
        uniques = np.append(uniques, np.array([""], dtype=object))
        codes = np.where(codes < 0, len(uniques) - 1, codes)
    done = fn(pd.Series(uniques, dtype=object))
    values = np.asarray(done.to_numpy(dtype=object), dtype=object)
    return pd.Series(values[codes], index=series.index, dtype=object)


def text_column(
    values: pd.Series | npt.NDArray[np.object_], order: npt.NDArray[np.intp] | None = None
) -> pd.Series:
    """``values`` as pandas' ``str`` dtype with ``""`` for missing (what
    ``values.astype(object).where(values.notna(), "").astype(str)`` gives), taken in
    ``order`` (positions) when given; on a fresh RangeIndex.

    Text already in Arrow stays there (Arrow ``fill_null`` and ``take``). An object array
    of text is factorized once and the Arrow text built by one ``take`` of its distinct
    values: clinical columns repeat a few values millions of times, and converting each
    Python string to Arrow costs more than hashing it. Anything else (numbers, mixed
    values) goes through ``astype(str)``, value by value, as before."""
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        out = series.fillna("").reset_index(drop=True)
        return out if order is None else out.take(order).reset_index(drop=True)
    arr = series.to_numpy(dtype=object)
    if order is not None:
        arr = arr[order]
    if pd.api.types.infer_dtype(arr, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        return take_text([*uniques, ""], np.where(codes < 0, len(uniques), codes))
    plain = pd.Series(arr, dtype=object)
    return plain.where(plain.notna(), "").astype(str)


def take_text(per_unique: Sequence[str | None], codes: npt.NDArray[np.integer]) -> pd.Series:
    """The text ``per_unique[code]`` of each code (codes >= 0), in pandas' ``str`` dtype
    (Arrow-backed when pyarrow is installed: one Arrow ``take``); on a RangeIndex."""
    table = pd.array(list(per_unique), dtype="str")
    return pd.Series(table.take(np.asarray(codes, dtype=np.intp)))


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


def neutralise_formula(value: T) -> T | str:
    """A cell value that no spreadsheet runs as a formula (OWASP CSV-injection rule).

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return (or a full-width
    ``=+-@``) gets a leading ``'``, so ``=HYPERLINK(...)`` or ``-2+3+cmd|' /C calc'!A0``
    stays text when the CSV is opened in Excel. So does text whose leading quotes are
    followed by such a character (``'=x`` is written ``''=x``), so that
    :func:`restore_formula` gives back exactly the original; other text starting with a
    quote (``'ALSFRS-R' is not in ...``) is left as it is. Plain numbers (``-3``, ``+1.5``,
    ``-2e3``) are kept: a spreadsheet reads them as numbers, never as formulas. Anything
    that is not text (counts, None) is returned unchanged.

    Only reports for people use it; the data (XPT) and JSON reports keep the values as
    they are.
    """
    if isinstance(value, str) and _is_formula(value.lstrip(_QUOTE)):
        return _QUOTE + value
    return value


def restore_formula(text: str) -> str:
    """The original of a value written by :func:`neutralise_formula` (read back from a
    CSV the project wrote): the leading ``'`` it added removed."""
    if text.startswith(_QUOTE) and _is_formula(text.lstrip(_QUOTE)):
        return text[1:]
    return text


def _is_formula(text: str) -> bool:
    """Whether a spreadsheet may run ``text`` as a formula."""
    return bool(text) and text[0] in FORMULA_STARTS and not _PLAIN_NUMBER.match(text)
