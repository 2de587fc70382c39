"""The "required mess" of a real EDC export, injected at a rate with a guaranteed minimum.

Every messy feature is drawn at a realistic rate; ``at_least`` then tops the draw up so
that each one appears in the small default export too (docs/raw_forms.md, "Required
mess"). For large cohorts the rate dominates, so the mess scales proportionally.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .fmt import comma_decimal, label_variants

LABEL_VARIANT_RATE = 0.02


def at_least(
    rng: np.random.Generator, mask: np.ndarray, minimum: int = 1, where: np.ndarray | None = None
) -> np.ndarray:
    """Return ``mask`` with extra random picks among ``where`` until ``minimum`` are set."""
    mask = np.asarray(mask, dtype=bool).copy()
    allowed = np.ones(mask.size, dtype=bool) if where is None else np.asarray(where, dtype=bool)
    mask &= allowed
    short = minimum - int(mask.sum())
    free = np.flatnonzero(allowed & ~mask)
    if short > 0 and free.size:
        mask[rng.choice(free, size=min(short, free.size), replace=False)] = True
    return mask


def draw(
    rng: np.random.Generator,
    size: int,
    rate: float,
    minimum: int = 1,
    where: np.ndarray | None = None,
) -> np.ndarray:
    """Bernoulli(``rate``) mask of ``size`` with at least ``minimum`` set (within ``where``)."""
    return at_least(rng, rng.random(size) < rate, minimum, where)


def commas(rng: np.random.Generator, text: np.ndarray, rate: float, minimum: int = 1) -> np.ndarray:
    """Type some decimal numbers with a comma (``3,45``), at least ``minimum`` of them."""
    has_point = np.array(["." in t for t in text], dtype=bool)
    return comma_decimal(text, draw(rng, len(text), rate, minimum, where=has_point))


def visit_labels(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """Vary case and spacing of a few visit labels, as site staff type them."""
    mask = rng.random(len(labels)) < LABEL_VARIANT_RATE
    return label_variants(labels, mask, rng)


def duplicate_rows(rng: np.random.Generator, frame: pd.DataFrame, count: int) -> pd.DataFrame:
    """Repeat ``count`` random rows exactly, each right after its original (double entry)."""
    n = len(frame)
    repeats = np.ones(n, dtype=np.int64)
    if n and count > 0:
        repeats[rng.choice(n, size=min(count, n), replace=False)] = 2
    return frame.iloc[np.repeat(np.arange(n), repeats)].reset_index(drop=True)


def force_value(
    rng: np.random.Generator, values: np.ndarray, target: object, where: np.ndarray | None = None
) -> np.ndarray:
    """Make sure ``target`` occurs in ``values`` at least once (set one allowed cell)."""
    values = np.asarray(values, dtype=object).copy()
    present = values == target
    mask = at_least(rng, present, 1, where)
    values[mask & ~present] = target
    return values
