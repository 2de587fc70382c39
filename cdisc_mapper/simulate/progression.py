"""Disease course: ALSFRS-R items, FVC and body weight at every visit.

The latent ALSFRS-R loss (48 minus the total) grows piecewise linearly: the run-in
slope (drawn per patient from a distribution matching published ALS cohorts, see
``RUNIN_SLOPE_MEAN``) until injection 1, then the run-in slope times ``1 - improvement``
in each interval after an injection, the improvement being the treatment effect, and a
responder regains a few points early after injection 1 (:class:`Effect`: a responder
share by injection count, a mean slope improvement per interval with between-subject
variation, the early gain; ``none`` gives a null cohort whose course never changes).
Measurement noise is added to every assessment.
The integer loss at a visit is spread over the 12 items through a per-subject order of
the 48 "points" that can be lost: points of the onset region come first (bulbar items
for bulbar onset), respiratory points last. So items stay in 0..4, their sum equals the
total, and they change monotonically with the loss. FVC % predicted falls about 2.5
points a month in the run-in (correlated with the ALSFRS-R slope) and improves with a
fraction of the same ratios; litres come from the ECSC reference equations. Every draw
comes from the seed's streams.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .fmt import DAYS_PER_MONTH, stream
from .timeline import FAR, NO_DAY, Cohort

# item -> region: 0 bulbar (Q1-Q3), 1 arms (Q4-Q6), 2 legs and trunk (Q7-Q9), 3 breathing
ITEM_REGION = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])

# Run-in (untreated) ALSFRS-R decline, points/month, drawn from a gamma distribution (every
# patient declines; some slowly, a few fast). Published cohorts: PRO-ACT (Atassi et al. 2014,
# Neurology 83:1719-1725, pooled trial placebo/natural-history data) and its trajectory
# analysis (Muscle Nerve 2018;57:937-945: mean observed slope -0.99 points/month in 3,367
# patients); population cohorts (van Eijk et al., PRECISION-ALS: mean 0.89 points/month, 95 %
# of patients between 0.04 and 1.96, i.e. an SD near 0.5); Kimura et al. 2006 (Neurology
# 66:265-267) report a pre-diagnosis decline (48 - ALSFRS-R) / months since onset of a
# similar size, strongly varying between patients. We use mean 0.95, SD 0.6.
RUNIN_SLOPE_MEAN = 0.95
RUNIN_SLOPE_SD = 0.6
# Measurement noise of the ALSFRS-R total, points (SD of the latent score before rounding):
# test-retest and inter-rater differences of the ALSFRS-R are typically 1-2 points
# (Cedarbaum et al. 1999, J Neurol Sci 169:13-21, the ALSFRS-R validation; Traynor et al.
# 2004, Neurology 63:1933-1935, on ALSFRS-R and FVC variability as trial endpoints).
ALSFRS_NOISE_SD = 1.2
# FVC % predicted: mean decline about 2.5 %pred/month (natural-history and trial cohorts
# report 2-3 %pred/month, e.g. Traynor et al. 2004 and the PRO-ACT FVC analyses), scaled
# by the subject's relative ALSFRS-R slope with log-normal spread; noise of the true
# (best-effort) value 2.5 %pred.
FVC_SLOPE_MEAN = 2.5
FVC_SLOPE_SPREAD = 0.35
FVC_NOISE_SD = 2.5


@dataclass(frozen=True)
class Effect:
    """Treatment effect on the ALSFRS-R course after the injections (all named parameters).

    Three mechanisms, each needed for a different published figure (see PAPER_EFFECT):

    - ``responders``: the share of subjects who respond at all, by the number of injections
      they receive (1, 2, 3, 4). Continuation is informative in an open-label trial: those
      who benefit go on receiving injections, those who do not stop (or die). A
      non-responder keeps the run-in slope throughout.
    - ``mean``, ``sd_subject``, ``sd_interval``: a responder's run-in slope is multiplied by
      ``1 - improvement`` in the interval after injection k (k = 1..4, to the next
      injection or the end), ``improvement`` = ``mean[k-1]`` + a subject effect (SD
      ``sd_subject``, shared by the subject's intervals) + an interval effect (SD
      ``sd_interval``). 0.25 means a 25 % slower decline, 1 a halt, above 1 a gain.
    - ``gain``, ``gain_months``: an early functional gain of a responder after injection 1,
      ``gain`` ALSFRS-R points reached exponentially with time constant ``gain_months``
      and then kept (a level shift, not a slope: it is not repeated by later injections).
      A bounded gain steepens a short interval's slope much more than a long period's, which
      is how the paper's first interval (mean improvement 107 %) can be far better than its
      injection 1 -> last injection period (47 %) for the same subjects.

    FVC improves by the slope fractions times ``fvc_scale`` (drawn per subject between the
    two bounds); the early gain is an ALSFRS-R (function) effect only.
    """

    name: str
    mean: tuple[float, float, float, float]
    sd_subject: float
    sd_interval: float
    responders: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    gain: float = 0.0
    gain_months: float = 1.0
    fvc_scale: tuple[float, float] = (0.6, 1.0)


# Calibrated with benchmarks/calibrate_effect.py (200 cohorts of 20; the paper's intervals and
# denominators) against Petrou et al. 2021 (Front Biosci 26:693-706): responders (>= 25 %
# improvement of the monthly rate vs run-in) 15/19 between injections 1 and 2 (mean
# improvement 107.1 %), 11/12 between 2 and 3, 8/10 between 3 and 4, 13/19 from injection 1
# to the last injection (mean improvement 47.4 %).
# - responders 0.05 / 0.05 / 0.95 / 0.95: the 7 of 19 subjects with 1 or 2 injections have the
#   same first interval and overall period, so the overall fraction can only fall below the
#   first interval's through the multi-injection subjects; 11/12 and 8/10 in the later
#   intervals need nearly all of them to respond, so the early stoppers carry the paper's
#   non-responders (measurement noise alone makes about a third of them look like responders).
# - mean 0.3 / 1.4 / 0.8 / 0.8: after injection 1 the early gain carries most of the benefit
#   (a small slope effect keeps the overall mean improvement low); the effect is largest after
#   injection 2 (11/12) and smaller after injection 3 (8/10), and after injection 4 (no
#   published period) it is kept at injection 3's.
# - sd_subject 0.2, sd_interval 0.15: the responders' spread; larger values lower 2->3.
# - gain 5 points reached with a 2-month time constant: the first interval's mean improvement
#   near 107 % while the overall stays lower (a level shift dilutes over the longer period).
#   The paper saw an early gain of +1 to +4 points after injection 1 in 7/19 (0.37; here
#   0.46 on average, 0.13 in null cohorts).
# Result over 200 cohorts: responders 0.733 / 0.919 / 0.792 / 0.745, mean improvement 92 %
# after injection 1 (median of the cohort means 108 %) and 63 % overall (82 %); null cohorts
# (``none``) reject at 5 % in 0.045. The least-squares slope of injection 1 -> last injection
# is close to a time-weighted mean of the interval slopes and less noisy, so the subjects with
# 3 or 4 injections respond overall at least as often as in each interval (here 0.96 overall,
# 0.94 / 0.92 / 0.79 per interval): no parameter set gives an overall fraction 10 points below
# the first interval's (15/19 vs 13/19) with the later intervals at 11/12 and 8/10, and the
# default splits that gap between the first interval and the overall period.
PAPER_EFFECT = Effect(
    name="paper",
    mean=(0.3, 1.4, 0.8, 0.8),
    sd_subject=0.2,
    sd_interval=0.15,
    responders=(0.05, 0.05, 0.95, 0.95),
    gain=5.0,
    gain_months=2.0,
)
NO_EFFECT = Effect(
    name="none", mean=(0.0, 0.0, 0.0, 0.0), sd_subject=0.0, sd_interval=0.0, responders=(0, 0, 0, 0)
)
EFFECTS: dict[str, Effect] = {e.name: e for e in (PAPER_EFFECT, NO_EFFECT)}


def effect_named(effect: str | Effect) -> Effect:
    """The :class:`Effect` for a preset name (``paper``, ``none``) or an Effect itself."""
    if isinstance(effect, Effect):
        return effect
    if effect not in EFFECTS:
        raise ValueError(f"unknown effect {effect!r}; choose one of {', '.join(EFFECTS)}")
    return EFFECTS[effect]


@dataclass(frozen=True)
class Course:
    """Subject-level disease parameters and per-visit observations (aligned with visits)."""

    params: pd.DataFrame
    items: np.ndarray  # (visits, 12) int item scores, item 5 is Q5A or Q5B by ``peg``
    peg: np.ndarray  # (visits,) bool: gastrostomy in place, item 5 answered as 5b
    fvc_pct: np.ndarray  # (visits,) true FVC % predicted
    fvc_pred_l: np.ndarray  # (visits,) predicted FVC in litres
    weight: np.ndarray  # (visits,) body weight in kg, one decimal


def runin_slopes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Untreated ALSFRS-R decline per subject (points/month, positive = loss)."""
    shape = (RUNIN_SLOPE_MEAN / RUNIN_SLOPE_SD) ** 2
    scale = RUNIN_SLOPE_SD**2 / RUNIN_SLOPE_MEAN
    return np.clip(rng.gamma(shape, scale, n), 0.05, 4.0)


def improvements(rng: np.random.Generator, n: int, effect: Effect) -> np.ndarray:
    """(n, 4) fractional slope improvement of a responder per interval after injection k."""
    subject = rng.normal(0.0, 1.0, (n, 1)) * effect.sd_subject
    interval = rng.normal(0.0, 1.0, (n, 4)) * effect.sd_interval
    return np.asarray(effect.mean)[None, :] + subject + interval


def responding(seed: int, n_inj: np.ndarray, effect: Effect) -> np.ndarray:
    """Whether each subject responds, drawn with the share of its injection count."""
    share = np.asarray(effect.responders)[np.clip(n_inj, 1, 4) - 1]
    return stream(seed, "response").random(n_inj.size) < share


def disease_params(
    seed: int, cohort: Cohort, effect: str | Effect = PAPER_EFFECT
) -> tuple[pd.DataFrame, np.ndarray]:
    """Demographics and disease parameters of every subject, and its item-point ranks."""
    effect = effect_named(effect)
    rng = stream(seed, "disease")
    s = cohort.subjects
    n = len(s)
    male = rng.random(n) < 0.6
    age = np.clip(np.round(rng.normal(52, 9, n)), 25, 65).astype(np.int64)
    height = np.where(male, rng.normal(176, 7, n), rng.normal(163, 6, n)).round()
    bmi = np.clip(rng.normal(25, 3.2, n), 18.5, 34)
    weight0 = bmi * (height / 100) ** 2
    bulbar = rng.random(n) < 0.25
    slope = runin_slopes(rng, n)
    base_loss = np.clip(rng.normal(11, 5, n), 2, 28)
    dead = (s["status"] == "Death").to_numpy()
    slope[dead] = rng.uniform(1.5, 2.5, int(dead.sum()))
    dev = s["deviation"].to_numpy()
    slope[dev] = rng.uniform(0.4, 0.6, int(dev.sum()))
    base_loss[dev] = rng.uniform(34.0, 34.8, int(dev.sum()))  # screening total 13-14
    ratio = improvements(rng, n, effect)
    # the subject who dies keeps progressing; non-responders keep the run-in slope
    responder = responding(seed, s["n_inj"].to_numpy(), effect) & ~dead
    ratio[~responder] = 0.0
    gain = np.where(responder, effect.gain, 0.0)
    fvc0 = np.clip(rng.normal(86, 13, n), 50, 120)
    fvc0[dead] = rng.uniform(55, 68, int(dead.sum()))
    fvc0[dev] = rng.uniform(45, 60, int(dev.sum()))
    spread = rng.normal(-(FVC_SLOPE_SPREAD**2) / 2, FVC_SLOPE_SPREAD, n)
    fvc_slope = np.clip(FVC_SLOPE_MEAN * slope / RUNIN_SLOPE_MEAN * np.exp(spread), 0.2, 9.0)
    params = pd.DataFrame(
        {
            "male": male,
            "age": age,
            "height": height,
            "weight0": weight0,
            "bulbar": bulbar,
            "arms_first": rng.random(n) < 0.55,
            "slope": slope,
            "base_loss": base_loss,
            "fvc0": fvc0,
            "fvc_slope": fvc_slope,
            "weight_slope": slope * rng.uniform(0.1, 0.35, n),
            "peg_q3": np.where(rng.random(n) < 0.85, 1, 2),
            "familial": rng.random(n) < 0.1,
            "riluzole": rng.random(n) < 0.8,
            "gain": gain,
            "gain_months": effect.gain_months,
        }
    )
    for k in range(4):
        params[f"ratio{k + 1}"] = ratio[:, k]
        params[f"fvc_ratio{k + 1}"] = ratio[:, k] * rng.uniform(*effect.fvc_scale, n)
    return params, _slot_ranks(rng, params)


def _slot_ranks(rng: np.random.Generator, params: pd.DataFrame) -> np.ndarray:
    """Per subject, the rank (0..47) at which each item point is lost."""
    n = len(params)
    bulbar = params["bulbar"].to_numpy()
    arms = params["arms_first"].to_numpy()
    region_delay = np.empty((n, 4))
    region_delay[:, 0] = np.where(bulbar, 0.0, rng.uniform(1.0, 2.2, n))
    region_delay[:, 1] = np.where(
        bulbar, rng.uniform(0.6, 1.4, n), np.where(arms, 0.0, rng.uniform(0.4, 1.2, n))
    )
    region_delay[:, 2] = np.where(
        bulbar, rng.uniform(0.8, 1.8, n), np.where(arms, rng.uniform(0.4, 1.2, n), 0.0)
    )
    region_delay[:, 3] = rng.uniform(1.6, 2.8, n)
    item_delay = region_delay[:, ITEM_REGION] + rng.uniform(0, 0.6, (n, 12))
    item_delay[:, 11] += 0.8  # ventilatory support comes last
    step = rng.uniform(0.5, 0.9, (n, 12))
    points = np.arange(4)
    keys = item_delay[:, :, None] + points[None, None, :] * step[:, :, None]
    keys = keys.reshape(n, 48)
    order = np.argsort(keys, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(48)[None, :].repeat(n, 0), axis=1)
    return ranks.astype(np.int8)


def _piecewise(
    t: np.ndarray, inj: np.ndarray, slope0: np.ndarray, ratios: np.ndarray
) -> np.ndarray:
    """Cumulative decline at ``t`` (months) with slope changes at the injections."""
    edges = np.column_stack([inj, np.full(t.size, FAR)])
    total = slope0 * np.minimum(t, edges[:, 0])
    for k in range(4):
        span = np.clip(np.minimum(t, edges[:, k + 1]) - edges[:, k], 0, None)
        total += slope0 * (1 - ratios[:, k]) * span
    return total


def early_gain(since: np.ndarray, gain: np.ndarray, months: np.ndarray) -> np.ndarray:
    """ALSFRS-R points regained ``since`` months after injection 1 (0 before it)."""
    return gain * (1 - np.exp(-np.clip(since, 0, None) / months))


def course(seed: int, cohort: Cohort, params: pd.DataFrame, ranks: np.ndarray) -> Course:
    """Observed ALSFRS-R items, FVC and weight at every visit of ``cohort``."""
    rng = stream(seed, "course")
    v = cohort.visits
    subj = v["subj"].to_numpy()
    nv = subj.size
    p = params.iloc[subj]
    t = v["day"].to_numpy() / DAYS_PER_MONTH
    s = cohort.subjects.iloc[subj]
    inj = (
        np.column_stack(
            [np.where(s[f"inj{k}"] != NO_DAY, s[f"inj{k}"] - s["icf"], FAR) for k in range(1, 5)]
        )
        / DAYS_PER_MONTH
    )
    inj = np.where(inj > FAR / 100, FAR, inj)
    ratios = p[[f"ratio{k}" for k in range(1, 5)]].to_numpy()
    loss = p["base_loss"].to_numpy() + _piecewise(t, inj, p["slope"].to_numpy(), ratios)
    loss -= early_gain(t - inj[:, 0], p["gain"].to_numpy(), p["gain_months"].to_numpy())
    loss = np.clip(np.round(loss + rng.normal(0, ALSFRS_NOISE_SD, nv)), 0, 48).astype(np.int64)
    screening_dev = (v["kind"].to_numpy() == "SCR") & s["deviation"].to_numpy()
    loss = np.where(screening_dev, np.maximum(loss, 34), loss)
    lost = (ranks[subj] < loss[:, None]).reshape(nv, 12, 4).sum(axis=2)
    items = 4 - lost
    peg_now = items[:, 2] <= p["peg_q3"].to_numpy()
    peg = pd.Series(peg_now).groupby(subj).cummax().to_numpy()

    fvc_ratios = p[[f"fvc_ratio{k}" for k in range(1, 5)]].to_numpy()
    fvc_pct = p["fvc0"].to_numpy() - _piecewise(t, inj, p["fvc_slope"].to_numpy(), fvc_ratios)
    fvc_pct = np.clip(fvc_pct + rng.normal(0, FVC_NOISE_SD, nv), 12, 130)
    age = p["age"].to_numpy() + t / 12
    h = p["height"].to_numpy() / 100
    pred = np.where(
        p["male"].to_numpy(), 5.76 * h - 0.026 * age - 4.34, 4.43 * h - 0.026 * age - 2.89
    )
    weight = p["weight0"].to_numpy() - p["weight_slope"].to_numpy() * t + rng.normal(0, 0.4, nv)
    return Course(
        params=params,
        items=items,
        peg=peg,
        fvc_pct=fvc_pct,
        fvc_pred_l=pred,
        weight=np.round(weight, 1),
    )
