"""Subject roles and visit schedules (days relative to informed consent = day 0).

``build_cohort`` decides, for every subject at once, the enrolment date, the number of
injections, the disposition (completed, withdrew, died, lost) and the special roles
that carry the required mess (out-of-window visit, unscheduled visit, waived
inclusion criterion); ``Cohort.visits`` holds one row per performed visit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .catalog import VISIT_KINDS, VISIT_LABELS
from .fmt import stream

# Injection-count mix of the published cohort: of 19 treated, 4 got 1, 3 got 2, 2 got 3
# and 10 got 4 injections (19 / 15 / 12 / 10 reaching injection 1 / 2 / 3 / 4).
INJECTION_MIX = np.array([4, 3, 2, 10], dtype=float) / 19.0
ENROL_DAYS = 1096  # 2016-01-01 .. 2018-12-31 for the default 20 subjects
MAX_ENROL_DAYS = 3653  # larger cohorts enrol over at most 10 years
NO_DAY = -1
FAR = 10**7  # "never" in day arithmetic


@dataclass(frozen=True)
class Cohort:
    """Subjects (one row each, index = subject position) and their performed visits."""

    subjects: pd.DataFrame
    visits: pd.DataFrame


def subject_ids(n: int) -> np.ndarray:
    """``PT_ID`` values: 3 digits, or as many as ``n`` needs."""
    width = max(3, len(str(n)))
    return np.array([str(i).zfill(width) for i in range(1, n + 1)], dtype=object)


def quota(n: int, rate: float, minimum: int = 0) -> int:
    """How many subjects of ``n`` get a role given at ``rate`` (at least ``minimum``)."""
    return max(minimum, round(n * rate))


def _pick(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct random candidates (fewer if there are not enough), sorted."""
    k = min(k, candidates.size)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, size=k, replace=False))


def _injection_counts(rng: np.random.Generator, n_treated: int) -> np.ndarray:
    """Counts 1..4 for the treated, in the published proportions (largest remainder)."""
    exact = INJECTION_MIX * n_treated
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n_treated - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.arange(1, 5), counts))


def _roles(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Disposition and special roles of every subject."""
    idx = np.arange(n)
    last = n - 1
    withdrawn = np.concatenate([_pick(rng, idx[:-1], quota(n, 0.05, 1) - 1), np.array([last])])
    pre = np.zeros(n, dtype=bool)
    pre[withdrawn] = True
    # the last subject leaves after Run-in Month 4, others after Month 2 or Month 4
    after_rm4 = rng.random(n) < 0.5
    after_rm4[last] = True

    treated = idx[~pre]
    n_inj = np.zeros(n, dtype=np.int64)
    n_inj[treated] = _injection_counts(rng, treated.size)

    status = np.full(n, "Completed", dtype=object)
    status[pre] = "Withdrew consent"
    few = treated[n_inj[treated] <= 2]
    n_death = quota(n, 0.05, 1 if treated.size else 0)
    dead = _pick(rng, few, n_death)
    if dead.size < n_death:
        rest = np.setdiff1d(treated, dead)
        dead = np.sort(np.concatenate([dead, _pick(rng, rest, n_death - dead.size)]))
    status[dead] = "Death"
    free = treated[status[treated] == "Completed"]
    lost = _pick(rng, free, quota(n, 0.01))
    status[lost] = "Lost to follow-up"
    free = np.setdiff1d(free, lost)
    late = _pick(rng, free, quota(n, 0.01))
    status[late] = "Withdrew consent"
    completed = treated[status[treated] == "Completed"]

    deviation = np.zeros(n, dtype=bool)
    deviation[_pick(rng, completed, quota(n, 0.03, 1))] = True
    oow = np.zeros(n, dtype=bool)
    oow[_pick(rng, completed[n_inj[completed] >= 2], quota(n, 0.05, 1))] = True
    unscheduled = np.zeros(n, dtype=np.int64)  # 0 none, 1 run-in, 2 after injection 1
    uns = _pick(rng, treated, quota(n, 0.10, 1))
    unscheduled[uns] = np.where(rng.random(uns.size) < 0.3, 1, 2)
    return pd.DataFrame(
        {
            "n_inj": n_inj,
            "status": status,
            "withdraw_rm4": pre & after_rm4,
            "withdraw_rm2": pre & ~after_rm4,
            "deviation": deviation,
            "oow": oow,
            "unscheduled": unscheduled,
        }
    )


def _schedule(rng: np.random.Generator, roles: pd.DataFrame) -> dict[str, np.ndarray]:
    """Planned day of every visit kind per subject (``NO_DAY`` when not performed)."""
    n = len(roles)
    n_inj = roles["n_inj"].to_numpy()
    status = roles["status"].to_numpy()
    day: dict[str, np.ndarray] = {k: np.full(n, NO_DAY, dtype=np.int64) for k in VISIT_KINDS}
    day["SCR"][:] = 0
    day["RM2"][:] = 61 + rng.integers(-7, 8, n)
    day["RM4"][:] = 122 + rng.integers(-7, 8, n)
    inj1 = 183 + rng.integers(-10, 15, n)
    gaps = rng.integers(88, 184, size=(n, 3))  # 3 to 6 months, uneven
    fu_off = 61 + rng.integers(-7, 8, size=(n, 4))
    oow = roles["oow"].to_numpy()
    fu_off[oow, 0] = 118 + rng.integers(0, 11, int(oow.sum()))  # Follow-up 1 at ~4 months
    gaps[:, 0] = np.where(
        oow, np.maximum(gaps[:, 0], fu_off[:, 0] + rng.integers(21, 41, n)), gaps[:, 0]
    )
    inj = np.cumsum(np.column_stack([inj1, gaps]), axis=1)
    treated = n_inj > 0
    day["BMA"] = np.where(treated, inj1 - 30 + rng.integers(-5, 6, n), NO_DAY)
    for k in range(4):
        has = n_inj > k
        day[f"INJ{k + 1}"] = np.where(has, inj[:, k], NO_DAY)
        day[f"FU{k + 1}"] = np.where(has, inj[:, k] + fu_off[:, k], NO_DAY)
    last = np.maximum(n_inj - 1, 0)
    last_inj = inj[np.arange(n), last]
    eos = last_inj + 91 + rng.integers(-7, 11, n)
    day["EOS"] = np.where(treated & (status == "Completed"), eos, NO_DAY)
    day["RM4"] = np.where(roles["withdraw_rm2"].to_numpy(), NO_DAY, day["RM4"])
    uns = roles["unscheduled"].to_numpy()
    day["UNS"] = np.select(
        [uns == 1, uns == 2],
        [day["RM2"] + rng.integers(15, 41, n), inj1 + rng.integers(10, 26, n)],
        NO_DAY,
    )
    # death a few days after the last follow-up, before the planned end of study
    last_fu = last_inj + fu_off[np.arange(n), last]
    death = np.where(status == "Death", last_fu + 5 + rng.integers(0, 15, n), NO_DAY)
    day["DEATH"] = death
    return day


def _visits(day: dict[str, np.ndarray]) -> pd.DataFrame:
    """Long table of performed visits, sorted by subject, day and protocol order."""
    frames = []
    for order, kind in enumerate(VISIT_KINDS):
        d = day[kind]
        subj = np.flatnonzero(d != NO_DAY)
        frames.append(pd.DataFrame({"subj": subj, "day": d[subj], "order": order, "kind": kind}))
    visits = pd.concat(frames, ignore_index=True)
    visits = visits.sort_values(["subj", "day", "order"], kind="stable", ignore_index=True)
    visits["label"] = visits["kind"].map(VISIT_LABELS).astype(object)
    cycle = {k: int(k[-1]) if k[:-1] in ("INJ", "FU") else 0 for k in VISIT_KINDS}
    visits["cycle"] = visits["kind"].map(cycle).astype(np.int64)
    visits["is_inj"] = (
        visits["kind"].map({k: k.startswith("INJ") for k in VISIT_KINDS}).astype(bool)
    )
    return visits


def build_cohort(seed: int, n: int) -> Cohort:
    """Draw roles, enrolment and the visit schedule of ``n`` subjects."""
    rng = stream(seed, "timeline")
    roles = _roles(rng, n)
    window = min(MAX_ENROL_DAYS, max(ENROL_DAYS, round(ENROL_DAYS * n / 20)))
    icf = np.sort(rng.integers(0, window, n))
    day = _schedule(rng, roles)
    visits = _visits(day)
    visits["abs_day"] = visits["day"] + icf[visits["subj"].to_numpy()]
    visits["clock"] = 8 * 60 + rng.integers(0, 270, len(visits))  # arrival, minutes
    last_rel = visits.groupby("subj")["day"].max().reindex(range(n)).to_numpy()
    subjects = roles.assign(
        pt_id=subject_ids(n),
        icf=icf,
        last_visit=icf + last_rel,
        death=np.where(day["DEATH"] != NO_DAY, icf + day["DEATH"], NO_DAY),
        **{
            f"inj{k}": np.where(day[f"INJ{k}"] != NO_DAY, icf + day[f"INJ{k}"], NO_DAY)
            for k in range(1, 5)
        },
    )
    subjects["bma"] = np.where(day["BMA"] != NO_DAY, icf + day["BMA"], NO_DAY)
    subjects["end"] = np.where(
        subjects["death"] != NO_DAY, subjects["death"], subjects["last_visit"]
    )
    return Cohort(subjects=subjects, visits=visits)
