"""The ADaM derivations and record builders, registered by name.

Importing the package fills :data:`DERIVATIONS` (``derive:`` names) and
:data:`RECORD_BUILDERS` (``records: - op:`` names) from the family modules, one ADaMIG
concept each:

* derivations: :mod:`.lookups` (keep, value, constant, count, exists), :mod:`.dates`
  (date, months, decline_rate, analysis_day, duration), :mod:`.flags` (flag, group,
  recode, criterion, treatment_emergent, first_occurrence), :mod:`.periods`
  (period_date, period_treatment, record_period, in_periods), :mod:`.windows` (window,
  analysis_flag, sequence), :mod:`.baseline` (baseline_flag, base, chg, pchg,
  percent_improvement), :mod:`.ranges` (reference_range, nrind), :mod:`.across`
  (coalesce, latest_date, earliest_date: over several sources), :mod:`.computed`
  (compute: formulas); shared helpers in :mod:`.common`;
* record builders: :mod:`.records` (subjects, findings, occurrences: a dataset's
  records), :mod:`.derived_rows` (scores, best_record), :mod:`.computed`
  (derived_parameter), :mod:`.summary_records` (summary_record, locf_record: DTYPE
  records) and :mod:`.progression` (progression).

The spec loader (:mod:`cdisc_mapper.spec.adam_loader`) checks a study's ADaM specs
against them.
"""

from __future__ import annotations

from cdisc_mapper.adam.ops import (  # noqa: F401  (each family defines its operations)
    across,
    baseline,
    computed,
    dates,
    derived_rows,
    flags,
    lookups,
    periods,
    progression,
    ranges,
    records,
    summary_records,
    windows,
)
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
