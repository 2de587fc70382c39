"""``labs.csv``: a lab system's long export, one row per sample and test.

Samples are drawn at Screening, every Injection (before it), every Follow-up and End of
Study. Most go to the hospital lab (A); some to an external lab (B) that reports
haemoglobin in g/L, creatinine in mg/dL (umol/L / 88.42), enzymes in IU/L, CRP below
5 mg/L as ``<5``, and spells ``Haemoglobin``. Values are simulated in canonical units
(subject mean plus visit noise) and converted for lab B, ranges included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import fmt, mess
from .catalog import LAB_ORDER, LAB_TESTS
from .progression import Course
from .timeline import Cohort

LAB_KINDS = ("SCR", "EOS", "INJ1", "INJ2", "INJ3", "INJ4", "FU1", "FU2", "FU3", "FU4")
LAB_B_RATE = 0.15


def _canonical(
    rng: np.random.Generator,
    subj: np.ndarray,
    male: np.ndarray,
    months: np.ndarray,
    riluzole: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per-sample results in canonical units (subject level + within-subject noise)."""
    ns = male.size
    n = subj.size

    def lognorm(median: float, between: float, within: float) -> np.ndarray:
        """Log-normal values: subject effect (sd ``between``) plus sample noise."""
        return np.exp(np.log(median) + rng.normal(0, between, ns)[subj] + rng.normal(0, within, n))

    wbc = np.clip(lognorm(6.6, 0.2, 0.12), 3.0, 14.0)
    frac_l = np.clip(rng.normal(0.29, 0.06, ns)[subj] + rng.normal(0, 0.03, n), 0.12, 0.45)
    frac_m = np.clip(rng.normal(0.07, 0.015, ns)[subj] + rng.normal(0, 0.01, n), 0.03, 0.12)
    frac_e = np.clip(rng.normal(0.03, 0.012, ns)[subj] + rng.normal(0, 0.006, n), 0.003, 0.07)
    frac_b = np.clip(rng.normal(0.006, 0.002, n), 0.001, 0.015)
    hgb = np.where(male, 14.9, 13.3)[subj] + rng.normal(0, 0.8, ns)[subj] + rng.normal(0, 0.35, n)
    creat_mean = np.where(male, 72.0, 56.0) * np.exp(rng.normal(0, 0.15, ns))
    creat = creat_mean[subj] * np.exp(-0.008 * months + rng.normal(0, 0.06, n))
    alt_scale = np.where(riluzole, 1.25, 1.0)[subj]
    return {
        "WBC": wbc,
        "NEUT": wbc * (1 - frac_l - frac_m - frac_e - frac_b),
        "LYMPH": wbc * frac_l,
        "MONO": wbc * frac_m,
        "EOS": wbc * frac_e,
        "BASO": wbc * frac_b,
        "PLAT": np.clip(rng.normal(250, 50, ns)[subj] * np.exp(rng.normal(0, 0.08, n)), 120, 520),
        "HGB": hgb,
        "HCT": hgb * 2.95 + rng.normal(0, 0.8, n),
        "SODIUM": rng.normal(140, 1.5, ns)[subj] + rng.normal(0, 1.4, n),
        "K": np.clip(rng.normal(4.3, 0.25, ns)[subj] + rng.normal(0, 0.22, n), 3.2, 5.6),
        "CL": rng.normal(103, 1.8, ns)[subj] + rng.normal(0, 1.5, n),
        "CREAT": creat,
        "ALT": np.clip(lognorm(20, 0.35, 0.15) * alt_scale, 6, 120),
        "AST": np.clip(lognorm(21, 0.25, 0.12), 8, 90),
        "CRP": np.clip(lognorm(1.6, 0.7, 0.6), 0.2, 60),
    }


def labs(seed: int, cohort: Cohort, course: Course) -> pd.DataFrame:
    """Build the long lab export with units, ranges, ``<5``/``>1000``, commas and not-done rows."""
    rng = fmt.stream(seed, "labs")
    v = cohort.visits
    vv = v[v["kind"].isin(LAB_KINDS).to_numpy()]
    ns_total = len(cohort.subjects)
    n = len(vv)
    subj = vv["subj"].to_numpy()
    male = course.params["male"].to_numpy()
    values = _canonical(
        rng,
        subj,
        male,
        vv["day"].to_numpy() / fmt.DAYS_PER_MONTH,
        course.params["riluzole"].to_numpy(),
    )
    lab_b = rng.random(n) < LAB_B_RATE
    style = (rng.random(n) < 0.2).astype(np.int64)
    lost = mess.draw(rng, n, 0.005)
    haemolysed = mess.draw(rng, n, 0.02, where=~lost)
    high_plat = mess.draw(rng, n, 0.0, max(1, ns_total // 100), where=~lab_b & ~lost)
    low_crp = lab_b & (values["CRP"] < 5)
    low_crp = mess.at_least(rng, low_crp, 1, where=~lost & ~haemolysed & ~high_plat)
    lab_b |= low_crp
    values["CRP"] = np.where(low_crp, np.minimum(values["CRP"], 4.9), values["CRP"])

    n_tests = len(LAB_ORDER)
    shape = (n, n_tests)
    result = np.empty(shape, dtype=object)
    unit = np.empty(shape, dtype=object)
    ref_low = np.empty(shape, dtype=object)
    ref_high = np.empty(shape, dtype=object)
    test_name = np.empty(shape, dtype=object)
    sex_m = male[subj]
    b = lab_b
    for t, code in enumerate(LAB_ORDER):
        spec = LAB_TESTS[code]
        dec = np.where(b, spec.decimals_b, spec.decimals_a)
        factor = np.where(b, spec.factor_b, 1.0)
        result[:, t] = fmt.fixed(values[code] * factor, dec)
        unit[:, t] = np.where(b, spec.unit_b, np.array(spec.units_a, dtype=object)[style])
        ranges = [spec.ref_b_m, spec.ref_b_f, spec.ref_a_m]
        conds = [b & sex_m, b, sex_m]
        for out, end in ((ref_low, 0), (ref_high, 1)):
            limit = np.select(conds, [r[end] for r in ranges], spec.ref_a_f[end])
            out[:, t] = fmt.fixed(limit * factor, dec)
        test_name[:, t] = np.array([spec.name_a, spec.name_b], dtype=object)[b.astype(np.int8)]
    result[low_crp, LAB_ORDER.index("CRP")] = "<5"
    result[high_plat, LAB_ORDER.index("PLAT")] = ">1000"
    result = mess.commas(rng, result.ravel(), 0.02)
    sample = np.repeat(np.arange(n), n_tests)
    haemolysis_sensitive = np.tile(np.isin(np.array(LAB_ORDER), ["K", "AST"]), n)
    not_done = lost[sample] | (haemolysed[sample] & haemolysis_sensitive)
    result[not_done] = ""
    nd_code = np.where(lost[sample], 2, not_done.astype(np.int8))
    reason = np.array(["", "Sample haemolysed", "Sample lost"], dtype=object)[nd_code]
    labels = mess.visit_labels(rng, vv["label"].to_numpy())
    has_time = (rng.random(n) < 0.5) & ~lost
    clock = vv["clock"].to_numpy() + rng.integers(5, 35, n)
    return pd.DataFrame(
        {
            "PT_ID": cohort.subjects["pt_id"].to_numpy()[subj][sample],
            "VISIT": labels[sample],
            "SAMPLE_DATE": fmt.dates(vv["abs_day"].to_numpy())[sample],
            "SAMPLE_TIME": fmt.times(clock, has_time)[sample],
            "TEST": test_name.ravel(),
            "RESULT": result,
            "UNIT": unit.ravel(),
            "REF_LOW": ref_low.ravel(),
            "REF_HIGH": ref_high.ravel(),
            "NOT_DONE": np.array(["", "ND"], dtype=object)[not_done.astype(np.int8)],
            "ND_REASON": reason,
        },
        dtype=object,
        copy=False,  # fresh arrays: no need to copy them into one block
    )
