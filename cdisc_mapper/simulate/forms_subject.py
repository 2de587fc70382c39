"""Subject-level forms: enrollment, eligibility, ALS history, BMA, injections, end of study."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fmt, mess
from .catalog import CRITERIA, SITE_NO
from .progression import Course
from .timeline import NO_DAY, Cohort


def history_days(seed: int, cohort: Cohort, params: pd.DataFrame) -> pd.DataFrame:
    """Symptom onset, diagnosis and riluzole start (absolute days) consistent with the course.

    Disease duration at consent = baseline ALSFRS-R loss / pre-study slope.
    """
    rng = fmt.stream(seed, "history")
    n = len(params)
    icf = cohort.subjects["icf"].to_numpy()
    pre_slope = params["slope"].to_numpy() * rng.uniform(0.8, 1.2, n)
    months = np.clip(params["base_loss"].to_numpy() / pre_slope, 6, 72)
    onset = icf - np.round(months * fmt.DAYS_PER_MONTH).astype(np.int64)
    delay = np.round(months * rng.uniform(0.35, 0.7, n) * fmt.DAYS_PER_MONTH).astype(np.int64)
    diag = np.minimum(onset + delay, icf - 21)
    riluzole = np.minimum(diag + rng.integers(7, 61, n), icf - 7)
    return pd.DataFrame({"onset": onset, "diag": diag, "riluzole": riluzole})


def _screening_index(cohort: Cohort) -> np.ndarray:
    """Row of each subject's screening visit in ``cohort.visits`` (subject order)."""
    v = cohort.visits
    return np.flatnonzero((v["kind"] == "SCR").to_numpy())


def enrollment(seed: int, cohort: Cohort, course: Course) -> pd.DataFrame:
    """One row per subject: consent date, demographics, screening weight and height."""
    rng = fmt.stream(seed, "enrollment")
    s = cohort.subjects
    p = course.params
    n = len(s)
    icf = s["icf"].to_numpy()
    age_days = np.round((p["age"].to_numpy() + rng.uniform(0.02, 0.97, n)) * 365.2425)
    birth_mode = rng.choice(3, n, p=[0.85, 0.1, 0.05])
    for mode in (1, 2):
        birth_mode[mess.at_least(rng, birth_mode == mode, 1, where=birth_mode == 0)] = mode
    male = p["male"].to_numpy()
    gender = np.where(
        male,
        fmt.choose(rng, ("M", "Male"), n, p=[0.7, 0.3]),
        fmt.choose(rng, ("F", "female"), n, p=[0.7, 0.3]),
    )
    weight = course.weight[_screening_index(cohort)]
    return pd.DataFrame(
        {
            "SITE_NO": SITE_NO,
            "PT_ID": s["pt_id"].to_numpy(),
            "ICF_DATE": fmt.dates(icf),
            "BIRTH_DATE": fmt.partial_dates(icf - age_days.astype(np.int64), birth_mode),
            "AGE_YRS": p["age"].to_numpy().astype(np.int64).astype(str),
            "GENDER": gender,
            "RACE": fmt.choose(
                rng, ("White", "white", "Asian", "Other"), n, p=[0.8, 0.08, 0.04, 0.08]
            ),
            "ETHNIC": fmt.choose(
                rng, ("Not Hispanic or Latino", "not hispanic", "Unknown"), n, p=[0.75, 0.15, 0.1]
            ),
            "COUNTRY": "Israel",
            "WEIGHT_KG": mess.commas(rng, fmt.fixed(weight, 1), 0.1),
            "HEIGHT_CM": fmt.fixed(p["height"].to_numpy(), 0),
        },
        dtype=object,
    )


def eligibility(cohort: Cohort) -> pd.DataFrame:
    """Every criterion answered at screening; ``INCL02`` waived (``No``) for the deviation."""
    s = cohort.subjects
    n = len(s)
    k = len(CRITERIA)
    crit = np.array([c for c, _ in CRITERIA], dtype=object)
    is_incl = np.char.startswith(crit.astype(str), "INCL")
    met = np.tile(np.where(is_incl, "Yes", "No").astype(object), n)
    dev = np.repeat(s["deviation"].to_numpy(), k) & np.tile(crit == "INCL02", n)
    met[dev] = "No"
    return pd.DataFrame(
        {
            "PT_ID": np.repeat(s["pt_id"].to_numpy(), k),
            "VISIT_DATE": np.repeat(fmt.dates(s["icf"].to_numpy()), k),
            "CRIT_ID": np.tile(crit, n),
            "CRIT_MET": met,
        },
        dtype=object,
    )


def als_history(seed: int, cohort: Cohort, course: Course, hist: pd.DataFrame) -> pd.DataFrame:
    """Onset (often partial), diagnosis, site of onset, familial, El Escorial, riluzole."""
    rng = fmt.stream(seed, "als_history")
    p = course.params
    n = len(p)
    onset_mode = rng.choice(3, n, p=[0.35, 0.45, 0.2])
    for mode in (1, 2):
        onset_mode[mess.at_least(rng, onset_mode == mode, 1, where=onset_mode == 0)] = mode
    diag_mode = np.where(rng.random(n) < 0.2, 1, 0)
    bulbar = p["bulbar"].to_numpy()
    site = np.where(
        bulbar,
        fmt.choose(rng, ("Bulbar", "bulbar"), n, p=[0.8, 0.2]),
        fmt.choose(rng, ("Limb", "Spinal"), n, p=[0.7, 0.3]),
    )
    return pd.DataFrame(
        {
            "PT_ID": cohort.subjects["pt_id"].to_numpy(),
            "ONSET_DATE": fmt.partial_dates(hist["onset"].to_numpy(), onset_mode),
            "DIAG_DATE": fmt.partial_dates(hist["diag"].to_numpy(), diag_mode),
            "ONSET_SITE": site,
            "FAMILIAL": np.where(p["familial"].to_numpy(), "Familial", "Sporadic"),
            "EL_ESCORIAL": "Definite",
            "RILUZOLE": np.where(p["riluzole"].to_numpy(), "Yes", "No"),
        },
        dtype=object,
    )


def bma(seed: int, cohort: Cohort) -> pd.DataFrame:
    """One row per subject who had the bone marrow aspiration."""
    rng = fmt.stream(seed, "bma")
    v = cohort.visits
    vv = v[(v["kind"] == "BMA").to_numpy()]
    n = len(vv)
    return pd.DataFrame(
        {
            "PT_ID": cohort.subjects["pt_id"].to_numpy()[vv["subj"].to_numpy()],
            "BMA_DATE": fmt.dates(vv["abs_day"].to_numpy()),
            "BMA_TIME": fmt.times(vv["clock"].to_numpy() + 30, rng.random(n) < 0.7),
            "VOLUME_ML": fmt.choose(
                rng, ("150", "145", "155", "140", "160"), n, p=[0.7, 0.1, 0.1, 0.05, 0.05]
            ),
            "ANESTHESIA": "Light general",
            "SITE": "Posterior iliac crest",
        },
        dtype=object,
    )


def injections(seed: int, cohort: Cohort, course: Course) -> pd.DataFrame:
    """One row per injection: 1x10^6 MSC per kg of the visit's weight, 3 mL, L4-L5."""
    rng = fmt.stream(seed, "injections")
    v = cohort.visits
    is_inj = v["is_inj"].to_numpy()
    vv = v[is_inj]
    n = len(vv)
    weight = course.weight[is_inj]
    cells = np.round(weight * 10).astype(np.int64) * 100_000
    return pd.DataFrame(
        {
            "PT_ID": cohort.subjects["pt_id"].to_numpy()[vv["subj"].to_numpy()],
            "INJ_NO": vv["cycle"].astype(str).to_numpy(),
            "INJ_DATE": fmt.dates(vv["abs_day"].to_numpy()),
            "INJ_TIME": fmt.times(
                vv["clock"].to_numpy() + rng.integers(60, 150, n), rng.random(n) < 0.75
            ),
            "WEIGHT_KG": fmt.fixed(weight, 1),
            "DOSE_PER_KG": "1x10^6",
            "TOTAL_CELLS": cells.astype(str),
            "VOLUME_ML": "3",
            "LP_LEVEL": fmt.choose(rng, ("L4-L5", "L4-5"), n, p=[0.75, 0.25]),
            "CSF_REMOVED_ML": "3",
        },
        dtype=object,
    )


def end_of_study(seed: int, cohort: Cohort) -> pd.DataFrame:
    """Disposition: completed, withdrew consent, death (with date and cause), lost."""
    rng = fmt.stream(seed, "end_of_study")
    s = cohort.subjects
    n = len(s)
    status = s["status"].to_numpy().astype(object)
    death = s["death"].to_numpy()
    dead = death != NO_DAY
    n_inj = s["n_inj"].to_numpy()
    comment = np.full(n, "", dtype=object)
    done = status == "Completed"
    comment[done] = fmt.choose(rng, ("", "Completed per protocol"), int(done.sum()))
    pre = (status == "Withdrew consent") & (n_inj == 0)
    comment[pre] = "Withdrew consent before BMA"
    late = (status == "Withdrew consent") & (n_inj > 0)
    comment[late] = np.array(
        [f"Withdrew consent after injection {k}" for k in n_inj[late]], dtype=object
    )
    lost = status == "Lost to follow-up"
    comment[lost] = np.array([f"No contact after follow-up {k}" for k in n_inj[lost]], dtype=object)
    comment[dead] = fmt.choose(rng, ("Died at home", "Died in hospital"), int(dead.sum()))
    return pd.DataFrame(
        {
            "PT_ID": s["pt_id"].to_numpy(),
            "STATUS": status,
            "LAST_VISIT_DATE": fmt.dates(s["last_visit"].to_numpy()),
            "DEATH_DATE": np.where(dead, fmt.dates(np.where(dead, death, 0)), ""),
            "DEATH_CAUSE": np.where(dead, "Respiratory failure due to ALS progression", ""),
            "COMMENT": comment,
        },
        dtype=object,
    )
