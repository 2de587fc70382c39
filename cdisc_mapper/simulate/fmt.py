"""Vectorised text formatting: random streams, dates, times, numbers and site spellings.

All functions return numpy ``object`` arrays of ``str`` so that repeated values share
one string object (the forms repeat dates and labels many times).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence

import numpy as np

EPOCH = dt.date(2016, 1, 1)
DAYS_PER_MONTH = 365.25 / 12


def stream(seed: int, name: str) -> np.random.Generator:
    """Return the independent random stream ``name`` of the generator for ``seed``.

    Each form draws from its own stream so that a change in one form does not shift
    the random numbers of another.
    """
    return np.random.default_rng([seed, zlib.crc32(name.encode("ascii"))])


def choose(
    rng: np.random.Generator, options: Sequence[str], size: int, p: Sequence[float] | None = None
) -> np.ndarray:
    """Draw ``size`` spellings from ``options`` (object array)."""
    table = np.array(list(options), dtype=object)
    if p is not None:
        probs = np.asarray(p, dtype=float)
        return table[rng.choice(len(table), size=size, p=probs / probs.sum())]
    return table[rng.integers(0, len(table), size=size)]


def _date_text(ordinal: int) -> str:
    """One proleptic Gregorian ordinal as ``dd/mm/yyyy``."""
    d = dt.date.fromordinal(ordinal)
    return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"


def dates(days: np.ndarray) -> np.ndarray:
    """Day offsets from 2016-01-01 to ``dd/mm/yyyy`` text."""
    days = np.asarray(days, dtype=np.int64)
    if days.size == 0:
        return np.empty(0, dtype=object)
    uniq, inv = np.unique(days, return_inverse=True)
    base = EPOCH.toordinal()
    table = np.array([_date_text(base + int(d)) for d in uniq], dtype=object)
    return table[inv.reshape(-1)]


def partial_dates(days: np.ndarray, mode: np.ndarray) -> np.ndarray:
    """Dates with a partial form: mode 0 full, 1 ``UN/mm/yyyy``, 2 ``UN/UNK/yyyy``."""
    text = dates(days)
    mode = np.asarray(mode)
    out = text.copy()
    for i in np.flatnonzero(mode == 1):
        out[i] = "UN" + text[i][2:]
    for i in np.flatnonzero(mode == 2):
        out[i] = "UN/UNK/" + text[i][6:]
    return out


_TIME_TABLE = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)], dtype=object)


def times(minutes: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Minutes after midnight to ``HH:MM``; empty text where ``present`` is false."""
    minutes = np.clip(np.asarray(minutes, dtype=np.int64), 0, 24 * 60 - 1)
    return np.where(present, _TIME_TABLE[minutes], "").astype(object)


def _fixed_text(scaled: int, decimals: int) -> str:
    """``scaled`` / 10**``decimals`` written exactly with ``decimals`` decimals."""
    sign = "-" if scaled < 0 else ""
    whole, frac = divmod(abs(scaled), 10**decimals)
    return f"{sign}{whole}.{frac:0{decimals}d}" if decimals else f"{sign}{whole}"


def fixed(values: np.ndarray, decimals: int | np.ndarray) -> np.ndarray:
    """Numbers to text with a fixed number of decimals (``decimals`` scalar or per value).

    Values are rounded half to even on the scaled integer, then formatted once per
    distinct value (results repeat a lot, so this is fast and shares the strings).
    """
    values = np.asarray(values, dtype=float)
    dec = np.broadcast_to(np.asarray(decimals, dtype=np.int64), values.shape)
    out = np.empty(values.shape, dtype=object)
    for d in np.unique(dec).tolist():
        sel = dec == d
        scaled = np.round(values[sel] * 10.0**d).astype(np.int64)
        uniq, inv = np.unique(scaled, return_inverse=True)
        table = np.array([_fixed_text(int(u), d) for u in uniq.tolist()], dtype=object)
        out[sel] = table[inv.reshape(-1)]
    return out


def comma_decimal(text: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Replace the decimal point by a comma where ``mask`` is set (``4.5`` -> ``4,5``)."""
    out = np.asarray(text, dtype=object).copy()
    for i in np.flatnonzero(mask):
        out[i] = out[i].replace(".", ",")
    return out


def label_variants(labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Vary case and spacing of visit labels where ``mask`` is set (``screening``, ``Month 2 ``)."""
    out = np.asarray(labels, dtype=object).copy()
    idx = np.flatnonzero(mask)
    kinds = rng.integers(0, 4, size=idx.size)
    for i, k in zip(idx, kinds, strict=True):
        text = out[i]
        if k == 0:
            out[i] = text.lower()
        elif k == 1:
            out[i] = text + " "
        elif k == 2:
            out[i] = text.replace(" ", "  ", 1) if " " in text else text.upper()
        else:
            out[i] = " " + text.lower()
    return out
