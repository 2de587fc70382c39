"""Re-identification risk on the declared quasi-identifiers of the subject-level data
(DM, ADSL): k-anonymity and the share of unique records, as statistical disclosure
control tools (sdcMicro's ``fk``, ARX's risk model) report them.

Records with the same values of every quasi-identifier form an equivalence class; the
package is k-anonymous for k = the size of its smallest class, and a record alone in
its class (k = 1) is unique: whoever knows those facts about a person finds them.
Missing values form their own value (an empty cell is as telling as any other).
Small categories of a quasi-identifier are grouped by :func:`rare_values`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class RiskFigures:
    """The risk of one dataset on its quasi-identifiers."""

    dataset: str
    quasi_identifiers: tuple[str, ...]
    records: int
    classes: int
    k_anonymity: int
    unique_records: int

    @property
    def unique_share(self) -> float:
        """Unique records / records (0 for an empty dataset)."""
        return self.unique_records / self.records if self.records else 0.0


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def risk_figures(frame: pd.DataFrame, dataset: str, quasi: tuple[str, ...]) -> RiskFigures:
    """k-anonymity and unique records of ``frame`` on the quasi-identifiers it has."""
    present = tuple(q for q in quasi if q in frame.columns)
    rows = zip(*(frame[q].tolist() for q in present), strict=True) if present else ()
    sizes = Counter(tuple(_cell(v) for v in row) for row in rows)
    if not present and len(frame):
        sizes = Counter({(): len(frame)})
    counts = list(sizes.values())
    return RiskFigures(
        dataset=dataset,
        quasi_identifiers=present,
        records=len(frame),
        classes=len(counts),
        k_anonymity=min(counts) if counts else 0,
        unique_records=sum(1 for c in counts if c == 1),
    )


def rare_values(frame: pd.DataFrame, variable: str, k: int) -> set[str]:
    """Values of ``variable`` held by fewer than ``k`` subjects (USUBJID) of ``frame``."""
    if variable not in frame.columns:
        return set()
    subjects = frame["USUBJID"] if "USUBJID" in frame.columns else frame.index.to_series()
    pairs = {(_cell(v), s) for v, s in zip(frame[variable], subjects, strict=True)}
    per_value = Counter(v for v, _ in pairs if v != "")
    return {v for v, n in per_value.items() if n < k}
