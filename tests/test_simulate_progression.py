"""Tests of the simulator's treatment-effect model (cdisc_mapper.simulate.progression)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cdisc_mapper.simulate.progression import (
    NO_EFFECT,
    PAPER_EFFECT,
    Effect,
    course,
    disease_params,
    early_gain,
    improvements,
    responding,
)
from cdisc_mapper.simulate.timeline import NO_DAY, build_cohort


def test_early_gain_rises_to_its_level_after_injection_one() -> None:
    since = np.array([-3.0, 0.0, 2.0, 4.0, 200.0])
    got = early_gain(since, np.full(5, 5.0), np.full(5, 2.0))
    # 5 * (1 - exp(-since / 2)), nothing before injection 1
    expected = [0.0, 0.0, 5 * (1 - math.exp(-1)), 5 * (1 - math.exp(-2)), 5.0]
    assert got == pytest.approx(expected, abs=1e-12)


def test_early_gain_zero_for_non_responders() -> None:
    assert early_gain(np.array([1.0, 6.0]), np.zeros(2), np.ones(2)).tolist() == [0.0, 0.0]


def test_responding_follows_the_share_of_the_injection_count() -> None:
    n_inj = np.array([0, 1, 2, 3, 4, 4])
    only_multi = Effect("t", (0, 0, 0, 0), 0, 0, responders=(0.0, 0.0, 1.0, 1.0))
    assert responding(1, n_inj, only_multi).tolist() == [False, False, False, True, True, True]
    assert not responding(1, n_inj, NO_EFFECT).any()


def test_default_responder_shares_in_a_large_cohort() -> None:
    n_inj = np.repeat([1, 2, 3, 4], 5000)
    got = responding(7, n_inj, PAPER_EFFECT)
    few, multi = got[n_inj <= 2].mean(), got[n_inj >= 3].mean()
    # shares 0.05 and 0.95; binomial SE with 10,000 draws is about 0.0022
    assert abs(few - 0.05) < 0.01 and abs(multi - 0.95) < 0.01


def test_improvements_mean_and_spread() -> None:
    effect = Effect("t", (0.3, 1.4, 0.8, 0.8), sd_subject=0.2, sd_interval=0.15)
    got = improvements(np.random.default_rng(5), 20000, effect)
    assert got.shape == (20000, 4)
    assert got.mean(axis=0) == pytest.approx([0.3, 1.4, 0.8, 0.8], abs=0.01)
    # per interval: sqrt(0.2^2 + 0.15^2) = 0.25; the subject part is shared (cov 0.04)
    assert got.std(axis=0) == pytest.approx([0.25] * 4, abs=0.01)
    assert np.cov(got[:, 0], got[:, 1])[0, 1] == pytest.approx(0.04, abs=0.005)


def test_null_effect_changes_nothing_after_injection() -> None:
    cohort = build_cohort(3, 200)
    params, _ = disease_params(3, cohort, "none")
    ratios = params[[f"ratio{k}" for k in range(1, 5)] + [f"fvc_ratio{k}" for k in range(1, 5)]]
    assert (ratios.to_numpy() == 0).all()
    assert (params["gain"] == 0).all()


def test_default_effect_responders_only_and_dead_subject_excluded() -> None:
    cohort = build_cohort(3, 400)
    params, _ = disease_params(3, cohort, "paper")
    subjects = cohort.subjects
    gain = params["gain"].to_numpy()
    assert set(np.unique(gain)) == {0.0, 5.0}
    dead = (subjects["status"] == "Death").to_numpy()
    assert (gain[dead] == 0).all() and (params.loc[dead, "ratio1"] == 0).all()
    # non-responders keep the run-in slope in every interval
    non = gain == 0
    assert (params.loc[non, [f"ratio{k}" for k in range(1, 5)]].to_numpy() == 0).all()
    multi = (subjects["n_inj"] >= 3).to_numpy()
    assert (gain[multi] > 0).mean() > 0.85 and (gain[~multi & ~dead] > 0).mean() < 0.15


def test_effect_does_not_move_other_subject_draws() -> None:
    cohort = build_cohort(4, 50)
    paper, ranks_p = disease_params(4, cohort, "paper")
    null, ranks_n = disease_params(4, cohort, "none")
    same = ["male", "age", "height", "weight0", "slope", "base_loss", "fvc0", "fvc_slope"]
    assert paper[same].equals(null[same])
    assert (paper[["familial", "riluzole"]] == null[["familial", "riluzole"]]).all().all()
    assert (ranks_p == ranks_n).all()


def test_course_early_gain_only_after_injection_one_and_only_alsfrs() -> None:
    cohort = build_cohort(5, 200)
    gain_only = Effect("g", (0, 0, 0, 0), 0, 0, responders=(1, 1, 1, 1), gain=4.0, gain_months=2.0)
    with_gain = course(5, cohort, *disease_params(5, cohort, gain_only))
    null = course(5, cohort, *disease_params(5, cohort, "none"))
    v = cohort.visits
    s = cohort.subjects.iloc[v["subj"].to_numpy()]
    since = (v["abs_day"].to_numpy() - s["inj1"].to_numpy()) / (365.25 / 12)
    treated = (s["inj1"] != NO_DAY).to_numpy() & (s["status"] != "Death").to_numpy()
    before = ~treated | (since <= 0)
    a, b = with_gain.items.sum(axis=1), null.items.sum(axis=1)
    assert (a[before] == b[before]).all()
    inside = treated & (since > 0) & (b > 0) & (a < 48)
    expected = 4.0 * (1 - np.exp(-since[inside] / 2.0))
    # the same noise draws: the totals differ by the gain, up to the rounding of each
    assert np.abs((a - b)[inside] - expected).max() <= 1.0
    assert (a - b)[inside].mean() == pytest.approx(expected.mean(), abs=0.15)
    assert (with_gain.fvc_pct == null.fvc_pct).all()  # a function gain, FVC untouched
