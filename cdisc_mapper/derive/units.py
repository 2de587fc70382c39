"""Units: raw unit spellings to CDISC UNIT terms, and conversion to standard units.

SDTMIG 3.4 section 4.5.1.1 (Original and Standardized Results): --STRESC/--STRESN hold
"the conversion of values in --ORRES to values with standard units"; --ORRESU and
--STRESU take values from the CDISC UNIT codelist (C71620, via the --ORRESU/--STRESU
codelists), section 4.3 (Coding and Controlled Terminology Assumptions).

Synonym and conversion tables come from the study or standard specs; nothing here is
study-specific.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.derive._common import (
    MAX_LISTED,
    factorize_text,
    raise_for_rows,
    take,
    text_by_code,
)
from cdisc_mapper.errors import MappingError, SpecError

__all__ = ["conversion_factors", "normalise_unit", "unit_key"]


def unit_key(text: str) -> str:
    """Matching key of a unit spelling: NFKC-normalised, case-folded, without whitespace.

    ``"µmol/L"`` (micro sign) and ``"μmol/l"`` (Greek mu) give the same key, and so do
    ``"x10^9 / l"`` and ``"X10^9/L"``.
    """
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def normalise_unit(raw: pd.Series, synonyms: Mapping[str, str]) -> pd.Series:
    """Map raw unit spellings to CDISC UNIT submission values (SDTMIG 3.4 section 4.3).

    ``synonyms`` maps a raw spelling to its submission value, e.g. ``{"x10^9/l": "10^9/L",
    "10E9/L": "10^9/L", "µmol/L": "umol/L", "°C": "C", "Celsius": "C", "IU/L": "U/L"}``.
    Matching is case-insensitive and ignores whitespace (see :func:`unit_key`); every
    submission value (the mapping's values) also matches itself, so ``KG`` -> ``kg`` needs
    only ``kg`` to appear as a target. An empty cell gives ``""``.

    Raises:
        SpecError: two synonyms with the same key map to different submission values.
        MappingError: listing every row and value of an unknown unit.
    """
    table: dict[str, str] = {}
    pairs = [(t, t) for t in synonyms.values()] + list(synonyms.items())
    for spelling, target in pairs:
        key = unit_key(spelling)
        if table.setdefault(key, target) != target:
            raise SpecError(
                f"unit spelling {spelling!r} matches both {table[key]!r} and {target!r} "
                "(spellings are compared ignoring case and spaces)"
            )
    table[""] = ""
    codes, texts = factorize_text(raw)
    mapped = [table.get(unit_key(t)) for t in texts]
    unknown = np.array([i for i, m in enumerate(mapped) if m is None], dtype=np.intp)
    if len(unknown):
        names = ", ".join(repr(texts[i]) for i in unknown[:MAX_LISTED])
        raise_for_rows(
            MappingError,
            f"unknown unit {names}" if len(unknown) <= MAX_LISTED else "unknown units",
            raw.index,
            np.isin(codes, unknown),
            take(texts, codes, ""),
            hint="add the spelling to the unit synonyms of the spec",
        )
    return text_by_code(mapped, codes, raw.index, raw.name)


def _number(value: Any, what: str) -> float:
    """A factor or offset from a spec: a number, or text such as ``"5/9"`` or ``"1e-3"``."""
    try:
        if isinstance(value, str):
            text = value.strip()
            return float(Fraction(text)) if "/" in text else float(text)
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        raise SpecError(f"unit conversion {what} {value!r} is not a number") from None


def _blank(value: Any) -> bool:
    """A cell left empty: absent, None, NaN (a blank cell of a DataFrame) or blank text."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _conversion_table(
    table: pd.DataFrame | Iterable[Mapping[str, Any]],
) -> dict[tuple[str, str, str], tuple[float, float]]:
    rows: list[Mapping[str, Any]] = (
        [{str(k): v for k, v in r.items()} for r in table.to_dict("records")]
        if isinstance(table, pd.DataFrame)
        else list(table)
    )
    out: dict[tuple[str, str, str], tuple[float, float]] = {}
    for i, row in enumerate(rows):
        missing = {k for k in ("from", "to", "factor") if _blank(row.get(k))}
        if missing:
            raise SpecError(f"unit conversion {i + 1} lacks {', '.join(sorted(missing))}")
        test = row.get("test")
        key = (
            "*" if _blank(test) else str(test),
            unit_key(str(row["from"])),
            unit_key(str(row["to"])),
        )
        factor = _number(row["factor"], "factor")
        offset = row.get("offset")
        value = (factor, 0.0 if _blank(offset) else _number(offset, "offset"))
        if not np.isfinite(value[0]) or value[0] == 0 or not np.isfinite(value[1]):
            raise SpecError(f"unit conversion {key}: factor must be finite and non-zero")
        if key in out and out[key] != value:
            raise SpecError(f"unit conversion {key} is given twice with different values")
        out[key] = value
    return out


def conversion_factors(
    test: pd.Series,
    from_unit: pd.Series,
    to_unit: pd.Series,
    table: pd.DataFrame | Iterable[Mapping[str, Any]],
) -> tuple[pd.Series, pd.Series]:
    """Per-row factor and offset from original to standard unit (SDTMIG 3.4 4.5.1.1).

    The standard value is ``value * factor + offset``. Units are CDISC submission values
    (output of :func:`normalise_unit`); ``test`` is the --TESTCD of each row. A row of
    ``table`` has ``test`` (a --TESTCD, or ``"*"`` for any test; default ``"*"``),
    ``from``, ``to``, ``factor`` and optional ``offset`` (default 0); factors and offsets
    may be written as fractions (``"5/9"``). A test-specific row wins over ``"*"``. The
    tables come from the specs, for example (YAML)::

        unit_conversions:
          - {test: "*", from: "g/dL", to: "g/L", factor: 10}
          - {test: "*", from: "mmol/L", to: "mmol/L", factor: 1}   # (implicit anyway)
          - {test: CREAT, from: "mg/dL", to: "umol/L", factor: 88.42}
          - {test: TEMP, from: "F", to: "C", factor: "5/9", offset: "-160/9"}
          - {test: WEIGHT, from: "LB", to: "kg", factor: 0.45359237}

    Units are compared as :func:`unit_key` compares them (case and spaces ignored: a
    table row ``from: MG`` converts ``mg``). Identity (factor 1, offset 0) when ``from``
    and ``to`` are the same unit, including both empty. A row with an
    empty ``from`` and a non-empty ``to`` (a result without a unit, e.g. not done or
    non-numeric) gets NaN: :func:`derive_standard_result` then raises only if that row
    has a numeric result.

    Returns:
        ``(factor, offset)``: float Series on the index of ``test``.

    Raises:
        SpecError: a table row is malformed or contradicts another one.
        MappingError: naming each (test, from, to) without a conversion and its rows.
    """
    conv = _conversion_table(table)
    idx = test.index
    for name, s in (("from_unit", from_unit), ("to_unit", to_unit)):
        if not s.index.equals(idx):
            raise ValueError(f"conversion_factors: {name} index differs from test index")
    keys = pd.DataFrame(
        {
            "t": test.fillna("").astype(str).to_numpy(dtype=object),
            "f": from_unit.fillna("").astype(str).to_numpy(dtype=object),
            "u": to_unit.fillna("").astype(str).to_numpy(dtype=object),
        }
    )
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(keys))
    factors, offsets, missing = [], [], []
    for t, f, u in uniques:
        fk, uk = unit_key(f), unit_key(u)
        if fk == uk:
            found: tuple[float, float] | None = (1.0, 0.0)
        elif f == "":
            found = (np.nan, np.nan)
        else:
            found = conv.get((t, fk, uk)) or conv.get(("*", fk, uk))
        if found is None:
            missing.append((t, f, u))
            found = (np.nan, np.nan)
        factors.append(found[0])
        offsets.append(found[1])
    if missing:
        parts = []
        for t, f, u in missing[:MAX_LISTED]:
            rows = list(idx[codes == uniques.get_loc((t, f, u))])
            shown = ", ".join(str(r) for r in rows[:MAX_LISTED])
            more = f" and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
            parts.append(f"{t}: {f!r} -> {u!r} (rows {shown}{more})")
        if len(missing) > MAX_LISTED:
            parts.append(f"and {len(missing) - MAX_LISTED} more conversions")
        err = MappingError(
            f"no unit conversion for {len(missing)} test/unit pairs: " + "; ".join(parts),
            hint="add the conversion to the spec's unit conversions",
        )
        err.missing = missing  # type: ignore[attr-defined]
        raise err
    factor = pd.Series(np.asarray(factors, dtype=float)[codes], index=idx, name="factor")
    offset = pd.Series(np.asarray(offsets, dtype=float)[codes], index=idx, name="offset")
    return factor, offset
