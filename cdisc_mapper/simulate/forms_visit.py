"""Visit-level forms: ``alsfrs.csv``, ``fvc.csv`` and ``vitals.csv``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fmt, mess
from .catalog import ALSFRS_ITEM_COLUMNS, ALSFRS_ITEMS, ASSESSORS
from .progression import Course
from .timeline import Cohort, quota

_DIGITS = np.array([str(i) for i in range(100)], dtype=object)
Q5 = ALSFRS_ITEMS.index("Q5_CUTTING")


def _ints(values: np.ndarray) -> np.ndarray:
    """Small non-negative integers to text."""
    return _DIGITS[np.asarray(values, dtype=np.int64)]


def alsfrs(seed: int, cohort: Cohort, course: Course) -> pd.DataFrame:
    """ALSFRS-R: one row per assessed visit (every visit but BMA), one duplicated entry."""
    rng = fmt.stream(seed, "alsfrs")
    v = cohort.visits
    keep = (v["kind"] != "BMA").to_numpy()
    vv = v[keep]
    items = course.items[keep]
    peg = course.peg[keep]
    n = len(vv)
    text = _ints(items).astype(object)
    missing_row = mess.draw(rng, n, 0.015)
    other_items = np.array([i for i in range(12) if i != Q5])
    missing_item = other_items[rng.integers(0, other_items.size, n)]
    text[np.flatnonzero(missing_row), missing_item[missing_row]] = ""
    total = np.where(missing_row, "", _ints(items.sum(axis=1)))
    cols: dict[str, np.ndarray] = {
        "PT_ID": cohort.subjects["pt_id"].to_numpy()[vv["subj"].to_numpy()],
        "VISIT": mess.visit_labels(rng, vv["label"].to_numpy()),
        "ASSESS_DATE": fmt.dates(vv["abs_day"].to_numpy()),
    }
    for j, name in enumerate(ALSFRS_ITEMS):
        if j == Q5:
            cols["Q5A_CUTTING"] = np.where(peg, "", text[:, j])
            cols["Q5B_CUTTING_GASTRO"] = np.where(peg, text[:, j], "")
        else:
            cols[name] = text[:, j]
    cols["TOTAL"] = total
    cols["ASSESSOR"] = fmt.choose(rng, ASSESSORS, n, p=[0.4, 0.3, 0.2, 0.1])
    frame = pd.DataFrame(cols, dtype=object)
    frame = frame[["PT_ID", "VISIT", "ASSESS_DATE", *ALSFRS_ITEM_COLUMNS, "TOTAL", "ASSESSOR"]]
    return mess.duplicate_rows(rng, frame, quota(len(cohort.subjects), 0.05, 1))


def fvc(seed: int, cohort: Cohort, course: Course) -> pd.DataFrame:
    """FVC: 2 or 3 efforts per assessed visit, litres and % predicted."""
    rng = fmt.stream(seed, "fvc")
    v = cohort.visits
    keep = (v["kind"] != "BMA").to_numpy()
    vv = v[keep]
    nv = len(vv)
    efforts = np.where(rng.random(nv) < 0.8, 3, 2)
    rows = np.repeat(np.arange(nv), efforts)
    starts = np.cumsum(efforts) - efforts
    effort_no = np.arange(rows.size) - starts[rows] + 1
    best = rng.integers(0, efforts)[rows] + 1
    factor = np.where(effort_no == best, 1.0, 1 - rng.uniform(0.01, 0.09, rows.size))
    pred = course.fvc_pred_l[keep][rows]
    litres = np.round(pred * course.fvc_pct[keep][rows] / 100 * factor, 2)
    pct = litres / pred * 100
    pct_decimals = np.where(rng.random(nv) < 0.6, 0, 1)[rows]
    labels = mess.visit_labels(rng, vv["label"].to_numpy())
    return pd.DataFrame(
        {
            "PT_ID": cohort.subjects["pt_id"].to_numpy()[vv["subj"].to_numpy()][rows],
            "VISIT": labels[rows],
            "TEST_DATE": fmt.dates(vv["abs_day"].to_numpy())[rows],
            "EFFORT": _ints(effort_no),
            "FVC_L": mess.commas(rng, fmt.fixed(litres, 2), 0.04),
            "FVC_PRED_PCT": fmt.fixed(pct, pct_decimals),
        },
        dtype=object,
        copy=False,  # fresh arrays: no need to copy them into one block
    )


TEMP_UNITS = ("C", "c", "Celsius", "°C", "F")
WEIGHT_UNITS = ("kg", "KG", "Kg", "lb")


def vitals(seed: int, cohort: Cohort, course: Course) -> pd.DataFrame:
    """Vital signs at every visit (BMA and injections included), one duplicated entry."""
    rng = fmt.stream(seed, "vitals")
    v = cohort.visits
    n = len(v)
    ns = len(cohort.subjects)
    subj = v["subj"].to_numpy()
    pulse = np.clip(rng.normal(76, 8, ns)[subj] + rng.normal(0, 6, n), 52, 115)
    sys_bp = np.clip(rng.normal(122, 11, ns)[subj] + rng.normal(0, 8, n), 92, 170)
    dia_bp = np.clip(rng.normal(77, 7, ns)[subj] + rng.normal(0, 5, n), 55, 100)
    dia_bp = np.minimum(dia_bp, sys_bp - 25)
    resp = np.clip(rng.normal(16, 1.5, ns)[subj] + rng.normal(0, 1.2, n), 11, 24)
    temp_c = np.clip(rng.normal(36.6, 0.2, n), 35.8, 37.6)
    temp_unit = mess.force_value(
        rng, fmt.choose(rng, TEMP_UNITS, n, p=[0.55, 0.08, 0.1, 0.2, 0.07]), "F"
    )
    is_f = temp_unit == "F"
    temp = fmt.fixed(np.where(is_f, temp_c * 9 / 5 + 32, temp_c), 1)
    weight_unit = mess.force_value(
        rng, fmt.choose(rng, WEIGHT_UNITS, n, p=[0.75, 0.08, 0.1, 0.07]), "lb"
    )
    is_lb = weight_unit == "lb"
    weight = fmt.fixed(np.where(is_lb, course.weight * 2.20462, course.weight), 1)
    frame = pd.DataFrame(
        {
            "PT_ID": cohort.subjects["pt_id"].to_numpy()[subj],
            "VISIT": mess.visit_labels(rng, v["label"].to_numpy()),
            "VS_DATE": fmt.dates(v["abs_day"].to_numpy()),
            "VS_TIME": fmt.times(v["clock"].to_numpy(), rng.random(n) < 0.6),
            "PULSE": fmt.fixed(pulse, 0),
            "SYS_BP": fmt.fixed(sys_bp, 0),
            "DIA_BP": fmt.fixed(dia_bp, 0),
            "RESP_RATE": fmt.fixed(resp, 0),
            "TEMP": temp,
            "TEMP_UNIT": temp_unit,
            "WEIGHT": weight,
            "WEIGHT_UNIT": weight_unit,
        },
        dtype=object,
        copy=False,  # fresh arrays: no need to copy them into one block
    )
    return mess.duplicate_rows(rng, frame, quota(ns, 0.05, 1))
