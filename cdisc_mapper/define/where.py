"""Which records a where clause selects (Define-XML 2.1 def:WhereClauseDef, section
5.3.13: the RangeChecks of a clause are ANDed; ODM 1.3.2 RangeCheck comparators).

One evaluation for every part of the tool that needs it: the assembler (which where
clauses exist), the stated and workbook value-level metadata, and the consistency check
of a define.xml against its data. A numeric column is compared as numbers, a text column
as its text (stripped, as define.xml writes values). The order comparators (LT, LE, GT,
GE) take one value and never select a missing value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cdisc_mapper.define.datatypes import as_text
from cdisc_mapper.define.model import oid_part

COMPARATORS = ("EQ", "NE", "IN", "NOTIN", "LT", "LE", "GT", "GE")
ONE_VALUE = ("EQ", "NE", "LT", "LE", "GT", "GE")


Condition = tuple[str, str, Sequence[str]]  # (variable, comparator, values)


def clause_oid_part(where: Sequence[Condition]) -> str:
    """``VAR.CMP.VALUES`` for each condition, dot-joined (the define.xml OID of a where
    clause is ``WC.<dataset>.`` followed by this)."""
    return ".".join(
        f"{oid_part(v)}.{c}.{'_'.join(oid_part(x) for x in values)}" for v, c, values in where
    )


def is_numeric(column: pd.Series) -> bool:
    return column.dtype != object and pd.api.types.is_numeric_dtype(column)


def condition_mask(
    column: pd.Series,
    comparator: str,
    values: Sequence[str],
    text: pd.Series | None = None,
) -> np.ndarray:
    """The records of ``column`` for which ``column <comparator> values`` holds.

    ``text`` may give ``as_text(column)`` when the caller has it. Raises ValueError for
    an unknown comparator, or a number comparison with a value that is not a number.
    """
    if comparator not in COMPARATORS:
        raise ValueError(f"unsupported comparator {comparator!r}")
    if comparator in ONE_VALUE and len(values) != 1:
        raise ValueError(f"{comparator} takes one value, not {len(values)}")
    if is_numeric(column):
        left = column.astype(float).to_numpy()
        try:
            right = [float(v) for v in values]
        except ValueError:
            raise ValueError(f"a number column compared with {list(values)}") from None
        present = ~np.isnan(left)
    else:
        left = (as_text(column) if text is None else text).to_numpy()
        right = [str(v) for v in values]
        present = left != ""
    if comparator in ("IN", "NOTIN", "EQ", "NE"):
        hit = np.isin(left, right)
        return hit if comparator in ("IN", "EQ") else ~hit
    first = right[0]
    with np.errstate(invalid="ignore"):
        compared = {
            "LT": lambda: left < first,
            "LE": lambda: left <= first,
            "GT": lambda: left > first,
            "GE": lambda: left >= first,
        }[comparator]()
    return np.asarray(compared, dtype=bool) & present
