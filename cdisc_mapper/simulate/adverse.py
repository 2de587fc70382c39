"""``adverse_events.csv``: post-LP/injection events, background ALS events, the fatal course.

Events are drawn per injection (post-LP headache, back pain, fever, nausea) and per
subject-month of follow-up (falls, infections, cramps ...). The subject who dies gets
a serious pneumonia followed by fatal respiratory failure. Verbatim terms come with
their MedDRA coding as the site's coders entered it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fmt, mess
from .catalog import AE_VERBATIM, MEDDRA
from .timeline import NO_DAY, Cohort

# key: (probability per injection, start offset range, duration range, REL_INJECTION
# choices, REL_LP choices)
INJECTION_EVENTS: dict[
    str, tuple[float, tuple[int, int], tuple[int, int], tuple[str, ...], tuple[str, ...]]
] = {
    "post_lp_headache": (0.22, (0, 3), (2, 11), ("Unlikely", "Possible"), ("Probable", "Definite")),
    "headache": (0.10, (0, 2), (1, 4), ("Possible", "Probable"), ("Possible", "Probable")),
    "back_pain": (0.15, (0, 3), (2, 15), ("Not related", "Unlikely"), ("Probable", "Definite")),
    "low_back_pain": (0.06, (0, 3), (3, 21), ("Not related", "Unlikely"), ("Possible", "Probable")),
    "fever": (0.12, (0, 2), (1, 4), ("Possible", "Probable"), ("Not related", "Unlikely")),
    "nausea": (0.06, (0, 2), (1, 3), ("Unlikely", "Possible"), ("Possible", "Probable")),
}
# key: (relative frequency, duration range)
BACKGROUND_EVENTS: dict[str, tuple[float, tuple[int, int]]] = {
    "fall": (0.3, (1, 8)),
    "constipation": (0.2, (3, 31)),
    "uti": (0.1, (5, 11)),
    "cold": (0.15, (4, 11)),
    "cramps": (0.15, (7, 61)),
    "insomnia": (0.1, (14, 91)),
}
BACKGROUND_RATE = 0.05  # events per subject-month
PAINFUL = ("post_lp_headache", "back_pain", "low_back_pain")


def _injection_events(rng: np.random.Generator, cohort: Cohort) -> pd.DataFrame:
    """Events following each lumbar puncture / injection, at per-injection rates."""
    v = cohort.visits
    inj = v[v["is_inj"].to_numpy()]
    subj = inj["subj"].to_numpy()
    day = inj["abs_day"].to_numpy()
    parts = []
    for key, (p, (o0, o1), (d0, d1), rel_inj, rel_lp) in INJECTION_EVENTS.items():
        hit = rng.random(subj.size) < p
        m = int(hit.sum())
        start = day[hit] + rng.integers(o0, o1, m)
        parts.append(
            pd.DataFrame(
                {
                    "subj": subj[hit],
                    "key": key,
                    "start": start,
                    "end": start + rng.integers(d0, d1, m),
                    "severity": fmt.choose(
                        rng,
                        ("Mild", "Moderate", "Severe"),
                        m,
                        p=[0.62, 0.32, 0.06] if key in PAINFUL else [0.75, 0.25, 0],
                    ),
                    "serious": "No",
                    "rel_inj": fmt.choose(rng, rel_inj, m),
                    "rel_lp": fmt.choose(rng, rel_lp, m),
                    "action": fmt.choose(rng, ("None", "Dose not changed"), m),
                    "background": False,
                    "fatal": False,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _background_events(rng: np.random.Generator, cohort: Cohort) -> pd.DataFrame:
    """Events unrelated to the treatment, Poisson over the months of follow-up."""
    s = cohort.subjects
    icf = s["icf"].to_numpy()
    end = s["end"].to_numpy()
    counts = rng.poisson(BACKGROUND_RATE * (end - icf) / fmt.DAYS_PER_MONTH)
    subj = np.repeat(np.arange(len(s)), counts)
    m = subj.size
    keys = np.array(list(BACKGROUND_EVENTS), dtype=object)
    freq = np.array([f for f, _ in BACKGROUND_EVENTS.values()])
    kind = rng.choice(keys.size, size=m, p=freq / freq.sum())
    span = np.maximum(end[subj] - icf[subj], 1)
    start = icf[subj] + 1 + np.floor(rng.random(m) * span).astype(np.int64)
    lo = np.array([d[0] for _, d in BACKGROUND_EVENTS.values()])[kind]
    hi = np.array([d[1] for _, d in BACKGROUND_EVENTS.values()])[kind]
    return pd.DataFrame(
        {
            "subj": subj,
            "key": keys[kind],
            "start": start,
            "end": start + lo + np.floor(rng.random(m) * (hi - lo)).astype(np.int64),
            "severity": fmt.choose(rng, ("Mild", "Moderate"), m, p=[0.75, 0.25]),
            "serious": "No",
            "rel_inj": fmt.choose(rng, ("Not related", "Unlikely"), m, p=[0.8, 0.2]),
            "rel_lp": fmt.choose(rng, ("Not related", "Unlikely"), m, p=[0.85, 0.15]),
            "action": fmt.choose(rng, ("None", "Not applicable"), m),
            "background": True,
            "fatal": False,
        }
    )


def _fatal_events(rng: np.random.Generator, cohort: Cohort) -> pd.DataFrame:
    """Serious pneumonia, then fatal respiratory failure, for each subject who dies."""
    s = cohort.subjects
    dead = np.flatnonzero(s["death"].to_numpy() != NO_DAY)
    death = s["death"].to_numpy()[dead]
    m = dead.size
    frame = pd.DataFrame(
        {
            "subj": np.concatenate([dead, dead]),
            "key": ["pneumonia"] * m + ["resp_failure"] * m,
            "start": np.concatenate([death - rng.integers(2, 6, m), death - rng.integers(0, 2, m)]),
            "end": np.concatenate([death, death]),
            "severity": "Severe",
            "serious": "Yes",
            "rel_inj": "Not related",
            "rel_lp": "Not related",
            "action": "Not applicable",
            "background": False,
        }
    )
    frame["fatal"] = frame["key"] == "resp_failure"
    return frame


def adverse_events(seed: int, cohort: Cohort) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the AE form and the underlying events (full days, for medications)."""
    rng = fmt.stream(seed, "adverse")
    events = pd.concat(
        [
            _injection_events(rng, cohort),
            _background_events(rng, cohort),
            _fatal_events(rng, cohort),
        ],
        ignore_index=True,
    )
    events = events.sort_values(["subj", "start", "key"], kind="stable", ignore_index=True)
    s = cohort.subjects
    subj = events["subj"].to_numpy()
    n = len(events)
    end_contact = s["end"].to_numpy()[subj]
    died = s["death"].to_numpy()[subj] != NO_DAY
    fatal = events["fatal"].to_numpy()
    keys = events["key"].to_numpy()
    # still going at the last contact (at death for the subject who died)
    open_end = ((events["end"].to_numpy() > end_contact) | (keys == "pneumonia")) & ~fatal
    start_mode = np.where(
        events["background"].to_numpy(),
        rng.choice(3, n, p=[0.82, 0.15, 0.03]),
        rng.choice(3, n, p=[0.97, 0.03, 0.0]),
    )
    start_mode = np.where(fatal, 0, start_mode)
    start_mode[mess.at_least(rng, start_mode == 1, 1, where=~fatal) & (start_mode == 0)] = 1
    end_mode = np.where(rng.random(n) < 0.08, 1, 0)
    end_mode[mess.at_least(rng, end_mode == 1, 1, where=~fatal & ~open_end)] = 1
    end_text = fmt.partial_dates(events["end"].to_numpy(), np.where(fatal, 0, end_mode))
    end_text[open_end] = ""
    draw = rng.random(n)
    recovered = np.where(
        (keys == "fall") & (draw < 0.15),
        "Recovered with sequelae",
        np.where(events["background"].to_numpy() & (draw > 0.97), "Unknown", "Recovered"),
    )
    outcome = np.where(
        open_end & ~died,
        fmt.choose(rng, ("Not recovered", "Recovering"), n),
        np.where(open_end, "Not recovered", recovered),
    )
    outcome = np.where(fatal, "Fatal", outcome)
    severity = events["severity"].to_numpy().astype(object)
    severity[(severity == "Mild") & (rng.random(n) < 0.15)] = "mild"
    coding = {
        level: {k: getattr(MEDDRA[k], level) for k in MEDDRA}
        for level in ("llt", "pt", "hlt", "hlgt", "soc")
    }
    verbatim = np.empty(n, dtype=object)
    for key, spellings in AE_VERBATIM.items():
        sel = keys == key
        verbatim[sel] = fmt.choose(rng, spellings, int(sel.sum()))
    cols: dict[str, np.ndarray] = {
        "PT_ID": s["pt_id"].to_numpy()[subj],
        "AE_NO": events.groupby("subj").cumcount().to_numpy() + 1,
        "AE_TERM": verbatim,
    }
    for level in ("llt", "pt", "hlt", "hlgt", "soc"):
        cols[f"{level.upper()}_NAME"] = np.array([coding[level][k][0] for k in keys], dtype=object)
        cols[f"{level.upper()}_CODE"] = np.array([coding[level][k][1] for k in keys], dtype=object)
    cols.update(
        {
            "START_DATE": fmt.partial_dates(events["start"].to_numpy(), start_mode),
            "END_DATE": end_text,
            "ONGOING": np.where(open_end & ~died, "Yes", ""),
            "SEVERITY": severity,
            "SERIOUS": events["serious"].to_numpy(),
            "REL_INJECTION": events["rel_inj"].to_numpy(),
            "REL_LP": events["rel_lp"].to_numpy(),
            "OUTCOME": outcome,
            "ACTION": events["action"].to_numpy(),
        }
    )
    # seriousness criteria, answered Yes/No on serious events only
    serious = events["serious"].to_numpy() == "Yes"

    def box(ticked: np.ndarray) -> np.ndarray:
        return np.where(serious, np.where(ticked, "Yes", "No"), "")

    none = np.zeros(n, dtype=bool)
    cols.update(
        {
            "SAE_DEATH": box(fatal),
            "SAE_LIFE": box(fatal),
            "SAE_HOSP": box(~fatal),
            "SAE_DISAB": box(none),
            "SAE_CONG": box(none),
            "SAE_MIE": box(none),
        }
    )
    form = pd.DataFrame(cols).astype(str).astype(object)
    return form, events
