"""The statistics of the progression summary, each with the method it used stated.

* :func:`wilcoxon_test`: the two-sided Wilcoxon signed-rank test of paired differences
  (scipy.stats.wilcoxon), the method (exact null distribution or normal approximation, with
  or without continuity correction) chosen by an explicit rule and returned as text.
* :func:`hodges_lehmann`: the Hodges-Lehmann estimate of the paired differences (the median
  of the Walsh averages) and its distribution-free confidence interval, from the order
  statistics of the Walsh averages at the exact critical value of the signed-rank statistic
  (Hollander, Wolfe and Chicken, Nonparametric Statistical Methods, 3rd ed., section 3.3),
  or at its normal approximation.
* :func:`quartiles`: median and quartiles with a named numpy quantile method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

WilcoxonMethod = Literal["auto", "exact", "normal"]
ZeroMethod = Literal["wilcox", "pratt", "zsplit"]
CiMethod = Literal["exact", "normal"]

EXACT_AUTO_MAX_N = 50  # `auto`: the exact distribution up to this many non-zero differences


@dataclass(frozen=True)
class WilcoxonResult:
    """A signed-rank test: pairs used, statistic (the smaller rank sum, scipy's), p, method."""

    n: int
    statistic: float
    p: float
    method: str


@dataclass(frozen=True)
class HodgesLehmann:
    """The Hodges-Lehmann estimate, its interval, the interval's exact coverage, method."""

    estimate: float
    lower: float
    upper: float
    coverage: float
    method: str


def paired_differences(aval: np.ndarray, base: np.ndarray) -> np.ndarray:
    """``aval - base`` over the pairs where both are present."""
    ok = ~np.isnan(aval) & ~np.isnan(base)
    return np.asarray(aval[ok] - base[ok], dtype="float64")


def _exact_possible(diff: np.ndarray) -> bool:
    """The exact null distribution holds: no zero differences and no tied magnitudes."""
    mags = np.abs(diff)
    return bool(np.all(mags > 0) and len(np.unique(mags)) == len(mags))


def wilcoxon_method(diff: np.ndarray, method: WilcoxonMethod) -> str:
    """The method used: ``exact`` or ``normal``. ``auto`` takes the exact distribution when
    there are at most 50 differences, none zero and none tied in magnitude; ``exact`` takes
    it whenever there are no zeros or ties; otherwise (and for ``normal``) the normal
    approximation."""
    if method == "normal" or not _exact_possible(diff):
        return "normal"
    if method == "auto" and len(diff) > EXACT_AUTO_MAX_N:
        return "normal"
    return "exact"


def wilcoxon_test(
    diff: np.ndarray,
    method: WilcoxonMethod = "auto",
    correction: bool = False,
    zero_method: ZeroMethod = "wilcox",
) -> WilcoxonResult:
    """Two-sided Wilcoxon signed-rank test of the paired differences ``diff`` (scipy's
    statistic: the smaller of the positive and negative rank sums). NaN statistic and p when
    fewer than two differences are non-zero."""
    n = len(diff)
    if np.count_nonzero(diff) < 2:
        return WilcoxonResult(n, math.nan, math.nan, "not computed (fewer than 2 non-zero pairs)")
    used = wilcoxon_method(diff, method)
    res = stats.wilcoxon(
        diff,
        zero_method=zero_method,
        correction=correction if used == "normal" else False,
        alternative="two-sided",
        method="exact" if used == "exact" else "asymptotic",
    )
    if used == "exact":
        text = "exact null distribution"
    else:
        cc = "with" if correction else "without"
        text = f"normal approximation {cc} continuity correction"
    text += f", zero differences: {zero_method}"
    return WilcoxonResult(n, float(res.statistic), float(res.pvalue), text)


def signed_rank_cdf(n: int) -> np.ndarray:
    """P(T+ <= t), t = 0..n(n+1)/2, of the signed-rank statistic of ``n`` untied non-zero
    differences under the null (each rank's sign a fair coin), by convolution."""
    dist = np.zeros(n * (n + 1) // 2 + 1)
    dist[0] = 1.0
    top = 0
    for k in range(1, n + 1):
        shifted = np.zeros_like(dist)
        shifted[k : top + k + 1] = dist[: top + 1]
        dist = 0.5 * (dist + shifted)
        top += k
    return np.cumsum(dist)


def walsh_averages(diff: np.ndarray, ordered: bool = True) -> np.ndarray:
    """The n(n+1)/2 Walsh averages (d_i + d_j) / 2, i <= j (sorted unless ``ordered`` is
    false), filled row by row (no index arrays: memory 8 bytes per average)."""
    n = len(diff)
    out = np.empty(n * (n + 1) // 2)
    at = 0
    for i in range(n):
        out[at : at + n - i] = (diff[i] + diff[i:]) / 2.0
        at += n - i
    return np.sort(out) if ordered else out


#: Above this many Walsh averages their order statistics are found without materialising
#: them (:func:`walsh_order_statistic`): 10,000 pairs make 50 million averages.
WALSH_IMPLICIT_ABOVE = 2_000_000

_SIGN_MASK = np.int64(0x7FFFFFFFFFFFFFFF)


def _ordered_key(value: float) -> int:
    """An integer whose order is the order of the float ``value`` (an involution on the
    bit pattern: negative floats' bits reversed)."""
    bits = np.array([value], dtype="float64").view(np.int64)[0]
    return int(bits ^ ((bits >> np.int64(63)) & _SIGN_MASK))


def _float_of_key(key: int) -> float:
    bits = np.array([key], dtype=np.int64)
    bits = bits ^ ((bits >> np.int64(63)) & _SIGN_MASK)
    return float(bits.view("float64")[0])


def _sums_at_most(x: np.ndarray, s: float) -> int:
    """How many pairs i <= j of the sorted ``x`` have x_i + x_j <= s, the sums rounded as
    floats are (the searchsorted boundary corrected to the float comparison)."""
    n = len(x)
    b = np.searchsorted(x, s - x, side="right")
    for _ in range(n + 1):  # a boundary moves by a few places at most
        up = (b < n) & (x + x[np.minimum(b, n - 1)] <= s)
        down = (b > 0) & (x + x[np.maximum(b - 1, 0)] > s)
        if not (up.any() or down.any()):
            break
        b = b + up - down
    return int(np.maximum(b - np.arange(n), 0).sum())


def walsh_order_statistic(diff: np.ndarray, rank: int) -> float:
    """The ``rank``-th smallest (0-based) Walsh average (d_i + d_j) / 2, i <= j, without
    materialising the n(n+1)/2 averages: the smallest float sum s with at least rank + 1
    pair sums <= s, found by bisection over the floats' order (64 steps of O(n log n)), is
    a pair sum itself; the average is s / 2 exactly as :func:`walsh_averages` computes it."""
    x = np.sort(np.asarray(diff, dtype="float64"))
    lo, hi = _ordered_key(float(x[0] + x[0])), _ordered_key(float(x[-1] + x[-1]))
    while lo < hi:
        mid = (lo + hi) // 2
        if _sums_at_most(x, _float_of_key(mid)) >= rank + 1:
            hi = mid
        else:
            lo = mid + 1
    return _float_of_key(lo) / 2.0


def _walsh_picks(diff: np.ndarray, picks: list[int]) -> dict[int, float]:
    """The Walsh averages of 0-based ranks ``picks``: by selection over all of them, or,
    above :data:`WALSH_IMPLICIT_ABOVE`, without materialising them."""
    n = len(diff)
    if n * (n + 1) // 2 > WALSH_IMPLICIT_ABOVE:
        return {r: walsh_order_statistic(diff, r) for r in picks}
    walsh = walsh_averages(diff, ordered=False)
    walsh.partition(picks)
    return {r: float(walsh[r]) for r in picks}


def _critical_exact(n: int, confidence: float) -> tuple[int, float]:
    """k = the largest t with P(T+ <= t) <= (1 - confidence) / 2 (-1 when none), and the
    interval's exact coverage 1 - 2 P(T+ <= k)."""
    cdf = signed_rank_cdf(n)
    below = np.flatnonzero(cdf <= (1.0 - confidence) / 2.0)
    if not len(below):
        return -1, math.nan
    k = int(below[-1])
    return k, float(1.0 - 2.0 * cdf[k])


def _critical_normal(n: int, confidence: float) -> tuple[int, float]:
    """k from the normal approximation of T+ (mean n(n+1)/4, variance n(n+1)(2n+1)/24):
    floor(mean - z sd - 1/2); the coverage is the nominal level."""
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    mean = n * (n + 1) / 4.0
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0)
    k = math.floor(mean - z * sd - 0.5)
    return (k, confidence) if k >= 0 else (-1, math.nan)


def hodges_lehmann(
    diff: np.ndarray,
    confidence: float = 0.95,
    ci_method: CiMethod = "exact",
    exact_max_n: int = 1000,
) -> HodgesLehmann:
    """The Hodges-Lehmann estimate (median of the Walsh averages of ``diff``, zeros
    included) with the interval [W(k+1), W(M-k)] of the sorted Walsh averages W(1..M),
    M = n(n+1)/2, k from the exact signed-rank null distribution (``exact``: coverage at
    least ``confidence``, the exact coverage returned; above ``exact_max_n`` pairs the
    normal approximation, as the method text says) or its normal approximation. Order
    statistics by selection (numpy partition), so large cohorts stay affordable."""
    n = len(diff)
    if n == 0:
        return HodgesLehmann(math.nan, math.nan, math.nan, math.nan, "not computed (no pairs)")
    pct = f"{100 * confidence:g}%"
    if ci_method == "exact" and n <= exact_max_n:
        k, coverage = _critical_exact(n, confidence)
        text = f"{pct} CI: exact, Walsh averages W(k+1), W(M-k), k from the signed-rank null"
    else:
        k, coverage = _critical_normal(n, confidence)
        text = f"{pct} CI: Walsh averages W(k+1), W(M-k), k by normal approximation"
    m = n * (n + 1) // 2
    picks = sorted({(m - 1) // 2, m // 2} | ({k, m - 1 - k} if k >= 0 else set()))
    walsh = _walsh_picks(diff, picks)
    estimate = float((walsh[(m - 1) // 2] + walsh[m // 2]) / 2.0)
    if k < 0:
        return HodgesLehmann(estimate, math.nan, math.nan, math.nan, text + " (too few pairs)")
    return HodgesLehmann(estimate, walsh[k], walsh[m - 1 - k], coverage, text)


def quartiles(values: np.ndarray, method: str = "linear") -> tuple[float, float, float]:
    """(Q1, median, Q3) of ``values`` with numpy's quantile ``method`` (NaN when empty)."""
    if not len(values):
        return math.nan, math.nan, math.nan
    q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75], method=method)  # type: ignore[call-overload]
    return float(q1), float(med), float(q3)
