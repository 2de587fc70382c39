"""Define-XML data types: which one a variable's values have, and whether values fit one.

Define-XML 2.1 (section 4.4, ODM 1.3.2 data types) names character ISO 8601 values by
their shape: ``date`` (YYYY-MM-DD), ``datetime`` (YYYY-MM-DDThh:mm:ss), ``partialDate``
and ``partialDatetime`` (right-truncated), ``incompleteDatetime`` (a missing component
in the middle, written ``-``), ``durationDatetime`` (PnYnMnD...) and ``intervalDatetime``
(``a/b``). Numbers are ``integer`` or ``float`` (with ``SignificantDigits``). Other text
is ``text``. The same functions choose the type when define.xml is written and check the
data against it when define.xml is compared with the datasets, so both agree by design.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME_FULL = r"\d{2}:\d{2}:\d{2}(?:\.\d+)?"
_PATTERNS: dict[str, re.Pattern[str]] = {
    "date": re.compile(rf"^{_DATE}$"),
    "datetime": re.compile(rf"^{_DATE}T{_TIME_FULL}$"),
    "time": re.compile(rf"^{_TIME_FULL}$"),
    "partialDate": re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$"),
    "partialTime": re.compile(r"^\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    "partialDatetime": re.compile(
        r"^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?)?)?$"
    ),
    "incompleteDatetime": re.compile(
        r"^(?:\d{4}|-)(?:-(?:\d{2}|-)(?:-(?:\d{2}|-)(?:T(?:\d{2}|-)(?::(?:\d{2}|-)"
        r"(?::(?:\d{2}(?:\.\d+)?|-))?)?)?)?)?$"
    ),
    "durationDatetime": re.compile(
        r"^-?P(?:\d+(?:\.\d+)?W|(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?"
        r"(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?)$"
    ),
}
#: ISO 8601 character types from the narrowest to the broadest; the first that fits every
#: value is chosen.
ISO_ORDER = (
    "date",
    "datetime",
    "partialDate",
    "partialDatetime",
    "incompleteDatetime",
    "durationDatetime",
    "intervalDatetime",
)
ISO_TYPES = frozenset(ISO_ORDER) | {"time", "partialTime"}
CHAR_TYPES = ISO_TYPES | {"text", "URI"}
NUM_TYPES = frozenset({"integer", "float"})
#: Define-XML data types that carry a Length (Define-XML 2.1 section 5.3.11: Length is
#: given for text, integer and float; ISO 8601 types are described by their format).
LENGTH_TYPES = frozenset({"text", "integer", "float"})


def _interval_ok(value: str) -> bool:
    parts = value.split("/")
    if len(parts) != 2:
        return False
    return all(
        p == "" or fits(p, "partialDatetime") or fits(p, "durationDatetime") for p in parts
    ) and any(parts)


def fits(value: str, data_type: str) -> bool:
    """Whether one non-empty text value has the shape of ``data_type``."""
    if data_type in ("text", "URI"):
        return True
    if data_type == "intervalDatetime":
        return _interval_ok(value)
    if data_type in ("integer", "float"):
        try:
            number = float(value)
        except ValueError:
            return False
        return data_type == "float" or (math.isfinite(number) and number == int(number))
    pattern = _PATTERNS.get(data_type)
    return True if pattern is None else bool(pattern.match(value))


#: Each anchored pattern of :data:`_PATTERNS` repeated over lines: a text of values
#: joined by newlines matches it exactly when every value fits (no pattern matches a
#: newline), so a column's values are checked in one pass.
_EVERY_LINE = {
    name: re.compile(rf"(?:{p.pattern[1:-1]})(?:\n(?:{p.pattern[1:-1]}))*")
    for name, p in _PATTERNS.items()
}


def _all_fit(values: list[str], data_type: str) -> bool:
    """Whether every value (none holding a newline) fits ``data_type``."""
    pattern = _EVERY_LINE.get(data_type)
    if pattern is None:
        return all(fits(v, data_type) for v in values)
    return pattern.fullmatch("\n".join(values)) is not None


def char_iso_type(values: Iterable[str]) -> str | None:
    """The narrowest ISO 8601 data type every value fits, or None (empty or not ISO)."""
    distinct = list({v for v in values if v != ""})
    if not distinct:
        return None
    if any("\n" in v for v in distinct):  # one by one: ``$`` also matches before a newline
        return next((t for t in ISO_ORDER if all(fits(v, t) for v in distinct)), None)
    return next((t for t in ISO_ORDER if _all_fit(distinct, t)), None)


def decimals(number: float) -> int:
    """Digits after the decimal point of a number as written with 10 decimals at most."""
    text = f"{number:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


#: Numbers below this (in absolute value) have their decimals counted on their value
#: times 1e10 in float64, which is within 1/128 of the exact product below 1e14 (half a
#: unit in the last place of 2**47); larger ones, and those whose scaled value is within
#: :data:`_TIE_MARGIN` of a rounding tie, one by one.
_SCALED_BELOW = 1e4
_TIE_MARGIN = 0.01


def most_decimals(numbers: npt.NDArray[np.float64]) -> int:
    """The most :func:`decimals` of finite ``numbers`` (0 for none), vectorised: each
    number times 1e10 rounded to an integer is its 10-decimal text without the point, and
    its trailing zeros are the decimals it lacks. A scaled value within
    :data:`_TIE_MARGIN` of a rounding tie, or a number too large to scale exactly, is
    counted by :func:`decimals` itself, so the result is always :func:`decimals`'s."""
    values = np.unique(np.abs(numbers))
    small = values < _SCALED_BELOW
    scaled = values[small] * 1e10
    tie = np.abs(scaled - np.floor(scaled) - 0.5) < _TIE_MARGIN
    exact = [decimals(float(x)) for x in (*values[~small], *values[small][tie])]
    whole = np.rint(scaled[~tie]).astype(np.int64)
    zeros = np.zeros(len(whole), dtype=np.int64)
    for power in range(1, 11):
        zeros[whole % 10**power == 0] = power
    return max(0, *exact, int((10 - zeros).max(initial=0)))


def numeric_type(values: pd.Series) -> tuple[str, int | None]:
    """``("integer", None)`` when every value is whole (or there is none), else
    ``("float", significant digits)`` where the digits are the most decimals used."""
    nums = np.asarray(pd.to_numeric(values, errors="coerce"), dtype=np.float64)
    nums = nums[np.isfinite(nums)]
    if not len(nums) or bool((nums == np.round(nums)).all()):
        return "integer", None
    return "float", max(1, most_decimals(nums))


def misfits(values: Iterable[str], data_type: str) -> list[str]:
    """Distinct non-empty values that do not fit ``data_type``, sorted."""
    return sorted({v for v in values if v != "" and not fits(v, data_type)})


def _number_text(x: float) -> str:
    if math.isnan(x):
        return ""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def text_table(series: pd.Series) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """:func:`as_text` as a table of texts and each value's code in it (missing values
    are the empty text), so that a question about the texts is asked once per table row."""
    if series.dtype == object:
        codes, uniques = pd.factorize(series)  # missing values: -1, the table's last row
        table = np.array([*(str(u).rstrip() for u in uniques), ""], dtype=object)
        return np.where(codes < 0, len(uniques), codes), table
    codes, uniques = pd.factorize(series.astype(float), use_na_sentinel=False)
    return codes, np.array([_number_text(float(u)) for u in uniques], dtype=object)


def as_text(series: pd.Series) -> pd.Series:
    """Values as define.xml writes them: text stripped, whole numbers without ``.0``.
    Computed once per distinct value (columns repeat a few values many times)."""
    codes, table = text_table(series)
    return pd.Series(table[codes] if len(codes) else [], index=series.index, dtype=object)


def is_term(value: str, terms: set[str], numeric: bool) -> bool:
    """Whether ``value`` is one of ``terms``; for a numeric variable, also when it is the
    same number written differently (``1`` and ``1.0``)."""
    if value in terms:
        return True
    if not numeric:
        return False
    try:
        number = float(value)
    except ValueError:
        return False
    return any(_same_number(t, number) for t in terms)


#: Relative tolerance of :func:`same_number`: four units in the last place of a double,
#: above the rounding of a decimal computed or read back from an XPT file
#: (``1.2000000000000002`` for 1.2, ``0.30000000000000004`` for 0.3), below any real
#: difference (whole numbers up to 2**50 stay apart).
NUMBER_TOLERANCE = 2.0**-50


def same_number(a: float, b: float) -> bool:
    """Whether two numbers are the same value up to binary rounding (the one comparison
    of a data value with a code list term or stated value)."""
    return math.isclose(a, b, rel_tol=NUMBER_TOLERANCE, abs_tol=0.0)


def _same_number(text: str, number: float) -> bool:
    try:
        return same_number(float(text), number)
    except ValueError:
        return False
