"""Where clauses of define.xml (def:WhereClauseDef, Define-XML 2.1 section 5.3.13): their
OIDs and the records they select.

The RangeChecks of a clause are ANDed; which records they select is decided by the one
condition evaluator (:mod:`cdisc_mapper.condition`), the same for the assembler (which
where clauses exist), the stated and workbook value-level metadata, and the consistency
check of a define.xml against its data: a numeric column is compared as numbers, a text
column as its text with blanks trimmed; the order comparators (LT, LE, GT, GE) never
select a missing value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cdisc_mapper.condition import Records, from_range_checks, mask
from cdisc_mapper.define.model import RangeCheckDef, WhereClause, oid_part
from cdisc_mapper.oids import item_oid

#: Comparators a where clause can use (ODM 1.3.2 RangeCheck).
COMPARATORS = ("EQ", "NE", "IN", "NOTIN", "LT", "LE", "GT", "GE")

Check = tuple[str, str, Sequence[str]]  # (variable, comparator, values)


def clause_oid_part(where: Sequence[Check]) -> str:
    """``VAR.CMP.VALUES`` for each condition, dot-joined (the define.xml OID of a where
    clause is ``WC.<dataset>.`` followed by this)."""
    return ".".join(
        f"{oid_part(v)}.{c}.{'_'.join(oid_part(x) for x in values)}" for v, c, values in where
    )


def where_clause(dataset: str, where: Sequence[Check]) -> WhereClause:
    """The def:WhereClauseDef of ``where`` on ``dataset``'s variables (OID
    ``WC.<dataset>.`` + :func:`clause_oid_part`)."""
    return WhereClause(
        oid=f"WC.{oid_part(dataset)}.{clause_oid_part(where)}",
        checks=tuple(RangeCheckDef(item_oid(dataset, v), c, tuple(vals)) for v, c, vals in where),
    )


def clause_mask(records: Records, where: Sequence[Check]) -> np.ndarray:
    """The records every range check of ``where`` selects.

    Raises ValueError for an unknown comparator or a one-value comparator given several
    values, and SpecError for a number column compared with a value that is not a number.
    """
    return mask(from_range_checks(where), records)
