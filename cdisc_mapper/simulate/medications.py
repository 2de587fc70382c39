"""``medications.csv``: riluzole, symptomatic ALS drugs and paracetamol after lumbar punctures.

Riluzole users (ALS history ``RILUZOLE = Yes``) always have a Riluzole row, started
shortly after diagnosis and often recorded with an unknown day. Paracetamol rows follow
the post-LP headache and back pain adverse events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fmt, mess
from .catalog import MEDICATIONS
from .progression import Course
from .timeline import Cohort

SYMPTOMATIC = {
    "baclofen": 0.35,
    "omeprazole": 0.25,
    "amitriptyline": 0.15,
    "citalopram": 0.15,
    "lorazepam": 0.1,
}
PAIN_INDICATION = {
    "post_lp_headache": "Headache after LP",
    "headache": "headache",
    "back_pain": "back pain",
    "low_back_pain": "back pain",
}


def _rows(
    key: str, subj: np.ndarray, start: np.ndarray, stop: np.ndarray, event: np.ndarray | str = ""
) -> pd.DataFrame:
    """Medication rows (absolute days; ``stop`` -1 = ongoing; ``event`` = AE key)."""
    return pd.DataFrame({"subj": subj, "key": key, "start": start, "stop": stop, "event": event})


def medications(
    seed: int, cohort: Cohort, course: Course, hist: pd.DataFrame, events: pd.DataFrame
) -> pd.DataFrame:
    """Zero or more rows per subject, sorted by subject and start date."""
    rng = fmt.stream(seed, "medications")
    s = cohort.subjects
    n = len(s)
    onset = hist["onset"].to_numpy()
    end = s["end"].to_numpy()
    ril = np.flatnonzero(course.params["riluzole"].to_numpy())
    parts = [_rows("riluzole", ril, hist["riluzole"].to_numpy()[ril], np.full(ril.size, -1))]
    for key, p in SYMPTOMATIC.items():
        who = np.flatnonzero(rng.random(n) < p)
        start = onset[who] + np.floor(rng.random(who.size) * (end[who] - onset[who])).astype(
            np.int64
        )
        stop = start + rng.integers(30, 400, who.size)
        stopped = (rng.random(who.size) < 0.3) & (stop < end[who])
        parts.append(_rows(key, who, start, np.where(stopped, stop, -1)))
    pain = events[events["key"].isin(list(PAIN_INDICATION)).to_numpy()]
    pain = pain[rng.random(len(pain)) < 0.6]
    parts.append(
        _rows(
            "paracetamol",
            pain["subj"].to_numpy(),
            pain["start"].to_numpy(),
            pain["end"].to_numpy(),
            pain["key"].to_numpy(),
        )
    )
    meds = pd.concat(parts, ignore_index=True)
    meds = meds.sort_values(["subj", "start", "key"], kind="stable", ignore_index=True)
    m = len(meds)
    keys = meds["key"].to_numpy()
    icf = s["icf"].to_numpy()[meds["subj"].to_numpy()]
    before = meds["start"].to_numpy() < icf
    mode = np.where(before, rng.choice(3, m, p=[0.55, 0.35, 0.1]), 0)
    mode[mess.at_least(rng, mode == 1, 1, where=before) & (mode == 0)] = 1
    stop = meds["stop"].to_numpy()
    ongoing = stop < 0
    name = np.array([MEDICATIONS[k].name for k in keys], dtype=object)
    indication = np.empty(m, dtype=object)
    for key, med in MEDICATIONS.items():
        sel = keys == key
        indication[sel] = fmt.choose(rng, med.indications, int(sel.sum()))
    for event, text in PAIN_INDICATION.items():
        indication[meds["event"].to_numpy() == event] = text
    return pd.DataFrame(
        {
            "PT_ID": s["pt_id"].to_numpy()[meds["subj"].to_numpy()],
            "MED_NAME": name,
            "DOSE": np.array([MEDICATIONS[k].dose for k in keys], dtype=object),
            "DOSE_UNIT": "mg",
            "FREQUENCY": np.array([MEDICATIONS[k].frequency for k in keys], dtype=object),
            "ROUTE": fmt.choose(rng, ("Oral", "PO", "oral"), m, p=[0.6, 0.3, 0.1]),
            "START_DATE": fmt.partial_dates(meds["start"].to_numpy(), mode),
            "STOP_DATE": np.where(ongoing, "", fmt.dates(np.maximum(stop, 0))),
            "ONGOING": np.where(ongoing, "Yes", ""),
            "INDICATION": indication,
        },
        dtype=object,
    )
