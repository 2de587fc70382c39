"""The ADaM derivations and record builders, registered by name.

Importing the package fills :data:`DERIVATIONS` (``derive:`` names, from :mod:`.columns`)
and :data:`RECORD_BUILDERS` (``records: - op:`` names, from :mod:`.records`); the spec
loader (:mod:`cdisc_mapper.spec.adam_loader`) checks a study's ADaM specs against them.
"""

from __future__ import annotations

from cdisc_mapper.adam.ops import columns as _columns  # noqa: F401  (registers)
from cdisc_mapper.adam.ops import records as _records  # noqa: F401  (registers)
from cdisc_mapper.adam.ops.base import (
    DERIVATIONS,
    RECORD_BUILDERS,
    Derivation,
    RecordBuilder,
    column_op,
    record_op,
)

__all__ = [
    "DERIVATIONS",
    "RECORD_BUILDERS",
    "Derivation",
    "RecordBuilder",
    "column_op",
    "record_op",
]
