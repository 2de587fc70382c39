"""Disease course: ALSFRS-R items, FVC and body weight at every visit.

The latent ALSFRS-R loss (48 minus the total) grows piecewise linearly: the run-in
slope (0.5 to 1.5 points a month, varying by patient) until injection 1, then a slope
reduced by a per-period improvement ratio (most patients improve by more than 25 %,
some even gain points, as published). The integer loss at a visit is spread over the
12 items through a per-subject order of the 48 "points" that can be lost: points of
the onset region come first (bulbar items for bulbar onset), respiratory points last.
So items stay in 0..4, their sum equals the total, and they change monotonically with
the loss. FVC % predicted falls 1 to 3 points a month in the run-in and improves with
the same ratios; litres come from the ECSC reference equations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .fmt import DAYS_PER_MONTH, stream
from .timeline import FAR, NO_DAY, Cohort

# item -> region: 0 bulbar (Q1-Q3), 1 arms (Q4-Q6), 2 legs and trunk (Q7-Q9), 3 breathing
ITEM_REGION = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
RESPONDER_P = np.array([0.8, 0.9, 0.8, 0.75])  # published 15/19, 11/12, 8/10 improved > 25 %


@dataclass(frozen=True)
class Course:
    """Subject-level disease parameters and per-visit observations (aligned with visits)."""

    params: pd.DataFrame
    items: np.ndarray  # (visits, 12) int item scores, item 5 is Q5A or Q5B by ``peg``
    peg: np.ndarray  # (visits,) bool: gastrostomy in place, item 5 answered as 5b
    fvc_pct: np.ndarray  # (visits,) true FVC % predicted
    fvc_pred_l: np.ndarray  # (visits,) predicted FVC in litres
    weight: np.ndarray  # (visits,) body weight in kg, one decimal


def disease_params(seed: int, cohort: Cohort) -> tuple[pd.DataFrame, np.ndarray]:
    """Demographics and disease parameters of every subject, and its item-point ranks."""
    rng = stream(seed, "disease")
    s = cohort.subjects
    n = len(s)
    male = rng.random(n) < 0.6
    age = np.clip(np.round(rng.normal(52, 9, n)), 25, 65).astype(np.int64)
    height = np.where(male, rng.normal(176, 7, n), rng.normal(163, 6, n)).round()
    bmi = np.clip(rng.normal(25, 3.2, n), 18.5, 34)
    weight0 = bmi * (height / 100) ** 2
    bulbar = rng.random(n) < 0.25
    slope = np.clip(np.exp(rng.normal(np.log(0.9), 0.3, n)), 0.45, 1.6)
    base_loss = np.clip(rng.normal(11, 5, n), 2, 28)
    dead = (s["status"] == "Death").to_numpy()
    slope[dead] = rng.uniform(1.3, 1.6, int(dead.sum()))
    dev = s["deviation"].to_numpy()
    slope[dev] = rng.uniform(0.4, 0.6, int(dev.sum()))
    base_loss[dev] = rng.uniform(34.0, 34.8, int(dev.sum()))  # screening total 13-14
    responder = rng.random((n, 4)) < RESPONDER_P
    ratio = np.where(responder, rng.uniform(0.3, 1.5, (n, 4)), rng.uniform(-0.3, 0.2, (n, 4)))
    ratio[dead] = rng.uniform(-0.3, 0.2, (int(dead.sum()), 4))
    fvc0 = np.clip(rng.normal(86, 13, n), 50, 120)
    fvc0[dead] = rng.uniform(55, 68, int(dead.sum()))
    fvc0[dev] = rng.uniform(45, 60, int(dev.sum()))
    fvc_slope = np.clip(slope * rng.uniform(1.2, 2.0, n), 0.8, 3.2)
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
        }
    )
    for k in range(4):
        params[f"ratio{k + 1}"] = ratio[:, k]
        params[f"fvc_ratio{k + 1}"] = ratio[:, k] * rng.uniform(0.6, 1.0, n)
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
    loss = np.clip(np.round(loss + rng.normal(0, 0.45, nv)), 0, 48).astype(np.int64)
    screening_dev = (v["kind"].to_numpy() == "SCR") & s["deviation"].to_numpy()
    loss = np.where(screening_dev, np.maximum(loss, 34), loss)
    lost = (ranks[subj] < loss[:, None]).reshape(nv, 12, 4).sum(axis=2)
    items = 4 - lost
    peg_now = items[:, 2] <= p["peg_q3"].to_numpy()
    peg = pd.Series(peg_now).groupby(subj).cummax().to_numpy()

    fvc_ratios = p[[f"fvc_ratio{k}" for k in range(1, 5)]].to_numpy()
    fvc_pct = p["fvc0"].to_numpy() - _piecewise(t, inj, p["fvc_slope"].to_numpy(), fvc_ratios)
    fvc_pct = np.clip(fvc_pct + rng.normal(0, 2.0, nv), 12, 130)
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
