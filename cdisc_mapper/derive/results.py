"""Findings results: raw result text to --ORRES, --STRESC and --STRESN.

SDTMIG 3.4 section 4.5.1.1 (Original and Standardized Results): --ORRES holds "the result
of the measurement or finding as originally received or collected"; "When --ORRES is
populated, --STRESC must also be populated"; --STRESC is filled "by the conversion of
values in --ORRES to values with standard units, or by the assignment of the value of
--ORRES"; numeric --STRESC values "are converted to numeric type and written to --STRESN";
a value with "a greater than (>) or less than (<) sign attached ... should be moved to the
--STRESC variable, and --STRESN should be null" (its example converts ``<0.1`` mg/dL to
``<1.71`` umol/L).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_mapper.derive._common import (
    as_series,
    factorize_text,
    raise_for_rows,
    take,
    text_by_code,
    text_series,
)
from cdisc_mapper.derive.numbers import NumberConvention, read_numbers
from cdisc_mapper.errors import MappingError, SpecError
from cdisc_mapper.textops import format_number

__all__ = ["derive_standard_result", "parse_numeric_result"]

_CONVENTION_HINT = (
    "state the number convention that is true of the data: decimal_mark and thousands_separator"
)


def _convention(
    convention: NumberConvention | None, decimal_comma: bool | None
) -> NumberConvention:
    """``convention``, or the older ``decimal_comma`` switch (True: a comma may be a
    decimal mark as well as a point; False: only a point is); default: either mark, no
    thousands separator."""
    if convention is not None and decimal_comma is not None:
        raise SpecError("give a number convention or decimal_comma, not both")
    if decimal_comma is not None:
        return NumberConvention(decimal_mark="either" if decimal_comma else ".")
    return convention or NumberConvention()


def parse_numeric_result(
    raw: pd.Series,
    *,
    convention: NumberConvention | None = None,
    decimal_comma: bool | None = None,
) -> pd.DataFrame:
    """Read raw results as numbers where they are numbers (SDTMIG 3.4 section 4.5.1.1).

    Returns a DataFrame on the index of ``raw`` with columns:

    * ``orres`` (str): the raw text with surrounding spaces removed, for --ORRES ("as
      originally received or collected": ``4,5`` stays ``4,5``); ``""`` for an empty cell.
    * ``canonical`` (str): ``orres`` with a number written with a decimal point and no
      thousands separator (``4,5`` -> ``4.5``, ``< 0,5`` -> ``< 0.5``), operator and digits
      as typed; other texts unchanged.
    * ``value`` (float): the number read, also for a result with an operator (``<5`` -> 5);
      NaN when no number was read.
    * ``operator`` (str): ``"<"``, ``">"``, ``"<="``, ``">="`` or ``""`` (``≤``, ``=<`` are
      written ``<=``).
    * ``numeric`` (bool): True when the result is exactly a number (no operator), i.e. when
      --STRESN may be populated.

    Accepted numbers: optional operator and spaces (``< 5``), optional sign, digits with
    separators, optional exponent (``6.2``, ``+5``, ``.5``, ``1e3``). The separators are
    read by ``convention`` (:mod:`cdisc_mapper.derive.numbers`; ``decimal_comma`` is the
    older switch: True is ``decimal_mark: either``, False ``decimal_mark: "."``; default:
    either mark, no thousands separator). Texts that are no number in any convention
    (``NEGATIVE``) are kept as text.

    Raises:
        MappingError: listing the rows whose number is ambiguous (``1,000`` when a comma may
            be a decimal mark) or not a number under the convention (``250,000`` without a
            thousands separator), each with the value every reading gives.
    """
    conv = _convention(convention, decimal_comma)
    codes, texts = factorize_text(raw)
    readings = read_numbers(texts, conv)
    bad = [s in ("ambiguous", "unreadable") for s in readings.status]
    if any(bad):
        rows_bad = np.append(np.asarray(bad, dtype=bool), False)[codes]
        raise_for_rows(
            MappingError,
            f"number not readable under the number convention ({conv.describe()})",
            raw.index,
            rows_bad,
            take(readings.canonical, codes, ""),
            reasons=take(readings.reason, codes, ""),
            hint=_CONVENTION_HINT,
        )
    value_rows = np.append(readings.value, np.nan)[codes]
    no_operator = np.append(np.array([op == "" for op in readings.operator], dtype=bool), True)
    orres = [t.strip() for t in texts]  # as collected
    return pd.DataFrame(
        {
            "orres": text_by_code(orres, codes, raw.index, None),
            "canonical": text_by_code(readings.canonical, codes, raw.index, None),
            "value": value_rows,
            "operator": text_by_code(readings.operator, codes, raw.index, None),
            "numeric": ~np.isnan(value_rows) & no_operator[codes],
        },
        index=raw.index,
    )


_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "": ""}


def _format_many(values: np.ndarray, decimals: np.ndarray, significant: int) -> np.ndarray:
    """:func:`format_number` per row, computed once per distinct (value, decimals)."""
    v_codes, v_uniq = pd.factorize(values)  # -1 for NaN
    d_codes, d_uniq = pd.factorize(decimals)
    width = len(d_uniq) + 1
    pair_codes, pairs = pd.factorize((v_codes.astype(np.int64) + 1) * width + d_codes + 1)
    texts = []
    for pair in pairs:
        vc, dc = divmod(int(pair), width)
        v = float(v_uniq[vc - 1]) if vc > 0 else float("nan")
        d = int(d_uniq[dc - 1]) if dc > 0 else None
        texts.append(format_number(v, d, significant))
    return take(texts, pair_codes, "")


def _decimals_array(decimals: int | pd.Series | None, index: pd.Index) -> np.ndarray:
    if decimals is None:
        return np.full(len(index), np.nan)
    if isinstance(decimals, pd.Series):
        if not decimals.index.equals(index):
            raise ValueError("decimals: index differs from the index of orres")
        arr = pd.to_numeric(decimals, errors="coerce").astype(float).to_numpy()
    else:
        arr = np.full(len(index), float(decimals))
    ok = np.isnan(arr) | ((arr >= 0) & (arr == np.round(arr)))
    if not ok.all():
        raise SpecError("decimals must be whole numbers >= 0")
    return arr


def _numbers(values: pd.Series) -> pd.Series:
    """``values`` as float64 (NaN where not a number)."""
    return pd.Series(pd.to_numeric(values.astype(object), errors="coerce"), dtype="float64")


def derive_standard_result(
    orres: pd.Series,
    factor: pd.Series | float = 1.0,
    *,
    offset: pd.Series | float = 0.0,
    decimals: int | pd.Series | None = None,
    convention: NumberConvention | None = None,
    decimal_comma: bool | None = None,
    significant: int = 12,
) -> pd.DataFrame:
    """--STRESC and --STRESN from --ORRES, per SDTMIG 3.4 section 4.5.1.1.

    "The variable --STRESC is populated either by the conversion of values in --ORRES to
    values with standard units, or by the assignment of the value of --ORRES"; numeric
    values go to --STRESN; an inequality keeps its sign in --STRESC with --STRESN null.

    Per row (``orres`` is the raw result text, read with :func:`parse_numeric_result`):

    * exact number ``v``: standard value ``s = v * factor + offset`` (``offset`` serves
      e.g. F to C: factor 5/9, offset -160/9); STRESC is ``s`` formatted (see below) and
      STRESN is ``float(STRESC)``, so the two always agree;
    * inequality (``<5``): STRESC is the operator and the converted bound (``<0.1`` mg/dL
      with factor 17.1 -> ``<1.71``; a negative factor flips the operator), STRESN NaN;
    * anything else (``NEGATIVE``): STRESC is the stripped text, STRESN NaN;
    * empty: ``""`` and NaN.

    Formatting: with ``decimals`` (an int, or a per-row Series with NaN meaning "not set")
    the value is rounded half away from zero and printed with exactly that many decimals
    (``60.0``); otherwise integers print without ``.0`` and other values are rounded to
    ``significant`` significant digits with trailing zeros dropped (``6.2``, not
    ``6.200000000000001``). Exponent notation is never used. The spec should set
    ``decimals`` for converted tests (e.g. temperature), since without it a conversion
    keeps up to 12 significant digits.

    ``factor``/``offset``: scalars or Series on the index of ``orres`` (as returned by
    :func:`cdisc_mapper.derive.units.conversion_factors`). ``convention``/``decimal_comma``:
    how ``orres`` writes numbers, as for :func:`parse_numeric_result`.

    Returns:
        DataFrame on the index of ``orres`` with ``stresc`` (str) and ``stresn`` (float).

    Raises:
        MappingError: listing rows with a numeric result but no conversion factor (NaN).
    """
    parsed = parse_numeric_result(orres, convention=convention, decimal_comma=decimal_comma)
    idx = orres.index
    fac = _numbers(as_series(factor, idx, "factor"))
    off = _numbers(as_series(offset, idx, "offset"))
    fac_a, off_a = fac.to_numpy(), off.fillna(0.0).to_numpy()
    value = parsed["value"].to_numpy()
    has_value = ~np.isnan(value)
    missing = has_value & np.isnan(fac_a)
    raise_for_rows(
        MappingError,
        "numeric result without a unit conversion factor",
        idx,
        missing,
        parsed["orres"].to_numpy(dtype=object),
        hint="give the result's unit, or add the conversion to the spec",
    )
    std = np.where(has_value, value * np.where(has_value, fac_a, 1.0) + off_a, np.nan)
    dec = _decimals_array(decimals, idx)

    formatted = _format_many(std, dec, significant)
    operator = parsed["operator"].to_numpy(dtype=object)
    negative = has_value & (fac_a < 0)
    if negative.any():
        flipped = pd.Series(operator).map(_FLIP).to_numpy(dtype=object)
        operator = np.where(negative, flipped, operator)
    numeric = parsed["numeric"].to_numpy()
    stresc = np.where(
        has_value, operator + formatted, parsed["orres"].to_numpy(dtype=object)
    ).astype(object)
    stresn = np.full(len(idx), np.nan)
    if numeric.any():
        stresn[numeric] = pd.to_numeric(pd.Series(formatted[numeric])).to_numpy(dtype=float)
    return pd.DataFrame({"stresc": text_series(stresc, idx), "stresn": stresn}, index=idx)
