"""The condition language: one model, one evaluator and one describer for every spec.

SDTM sources and variables, ADaM records and derivations, and define.xml value-level
metadata all state record conditions with :class:`Condition` (see
:mod:`cdisc_mapper.condition.model` for the language); :func:`evaluate` finds the records
a condition holds for; :func:`describe` writes it in words for define.xml, and
:func:`range_checks` / :func:`from_range_checks` translate to and from Define-XML where
clauses. Conditions are data: nothing in a spec is ever run as code.
"""

from cdisc_mapper.condition.describe import (
    RangeCheck,
    describe,
    from_range_checks,
    range_checks,
)
from cdisc_mapper.condition.evaluate import Records, constant_text, evaluate, is_numeric, mask
from cdisc_mapper.condition.model import Condition, VariableRef

__all__ = [
    "Condition",
    "RangeCheck",
    "Records",
    "VariableRef",
    "constant_text",
    "describe",
    "evaluate",
    "from_range_checks",
    "is_numeric",
    "mask",
    "range_checks",
]
