"""Parts of the subjects: contiguous ranges of the sorted subject identifiers, balanced by
records, and the parts' records put back together in part order.

A stage that works within each subject (SDTM mapping, ADaM derivation) runs on such parts
in parallel; the same records always give the same parts, so a partitioned run is
reproducible. The ranges are those of Python's ``sorted`` (code point order), the order
in which the stages sort subjects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def balanced_starts(counts: pd.Series, parts: int) -> list[str]:
    """The first subject of each part after the first: ``counts`` (records per subject,
    indexed by the subject identifiers in sorted order) cut into at most ``parts``
    contiguous ranges of about equal records. Empty for fewer than two subjects or parts."""
    if len(counts) < 2 or parts < 2:
        return []
    cumulative = counts.to_numpy().cumsum()
    total = int(cumulative[-1])
    starts = []
    for k in range(1, parts):
        pos = int(np.searchsorted(cumulative, total * k / parts, side="left")) + 1
        if pos < len(counts):
            starts.append(str(counts.index[pos]))
    return sorted(set(starts))


def part_numbers(ids: pd.Series, starts: list[str]) -> np.ndarray:
    """The part of each identifier: 0 before ``starts[0]``, k from ``starts[k-1]`` on (code
    point order); a missing identifier counts as blank, which sorts first."""
    text = ids.astype(object).where(ids.notna(), "").to_numpy(dtype=object)
    return np.searchsorted(np.asarray(starts, dtype=object), text, side="right")


def concat_parts(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts' records in part order (parts without records add none; the first part
    is returned when none has records, so the columns and their types stay)."""
    full = [f for f in frames if len(f)]
    if not full:
        return frames[0]
    if len(full) == 1:
        return full[0]
    return pd.concat(full, ignore_index=True, sort=False)
