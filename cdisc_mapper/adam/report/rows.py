"""The records a summary row summarises (shared by the table and the figures)."""

from __future__ import annotations

import pandas as pd

from cdisc_mapper.condition import evaluate
from cdisc_mapper.spec.adam import ProgressionSummarySpec, ReportRow


def row_records(frame: pd.DataFrame, spec: ProgressionSummarySpec, row: ReportRow) -> pd.DataFrame:
    """The population's records (``spec.population`` = 'Y') of ``frame`` that ``row``'s
    condition chooses."""
    pop = frame[frame[spec.population].astype(str).eq("Y")]
    return pop[evaluate(row.where, pop).to_numpy()]
