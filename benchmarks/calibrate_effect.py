"""Calibration of the simulator's treatment effect against the published ALS-MSC results.

Usage::

    python benchmarks/calibrate_effect.py                 # 200 null + 200 default cohorts
    python benchmarks/calibrate_effect.py --cohorts 50 --pipeline 3

For every seed 1..N it simulates a 20-subject cohort with ``effect="none"`` and one with
the default effect (``"paper"``), computes the ALSFRS-R monthly slopes (least squares,
months = days / 30.4375, at least 2 assessments, both ends of a period included) and
reports:

- null cohorts: the fraction in which the overall Wilcoxon signed-rank test (treatment
  rate vs run-in rate, efficacy population = treated subjects with both rates) rejects at
  5 % (should be about 5 %);
- default cohorts: the mean responder fraction (>= 25 % improvement of the monthly rate vs
  run-in) per interval and overall, the mean and median % improvement, against the paper
  (Petrou et al. 2021: 15/19 between injections 1 and 2, mean improvement 107.1 %;
  11/12 between 2 and 3; 8/10 between 3 and 4; 13/19 over injection 1 to the last
  injection, mean improvement 47.4 %, Wilcoxon p = 0.0038), and the fraction improving
  clinically after the first injection (paper: 7/19 by +1 to +4 points; here the change
  from the injection 1 assessment to the next one).

The intervals are defined here as the paper does, whatever the ADaM specs of the branch
say: run-in = screening to injection 1; interval k -> k+1 = injection k to injection k+1
(for k = 1, a subject without a second injection contributes injection 1 to the end of
follow-up, which gives the paper's denominator 19); overall = injection 1 to the last
injection (injection 1 to the end of follow-up for a single-injection subject, again the
paper's 19). Intervals 2->3 and 3->4 are closed only (denominators 12 and 10).

The fast path takes the true ALSFRS-R totals of the simulator's visits (``course`` in
memory, no CSV). ``--pipeline K`` also runs the first K null and default cohorts through
simulate -> SDTM -> ADaM and recomputes the same figures from ADQS (ALSRTOT) and the
injection dates of SDTM EX, to show both paths agree (the pipeline's totals also carry the
export's missing items and duplicate entries).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdisc_mapper.simulate.fmt import DAYS_PER_MONTH  # noqa: E402
from cdisc_mapper.simulate.progression import course, disease_params  # noqa: E402
from cdisc_mapper.simulate.timeline import NO_DAY, build_cohort  # noqa: E402

STUDY = ROOT / "mappings" / "als_msc"
SUBJECTS = 20
INTERVALS = ("1->2", "2->3", "3->4", "overall")
PAPER = {"1->2": (15, 19), "2->3": (11, 12), "3->4": (8, 10), "overall": (13, 19)}
PAPER_MEAN = {"1->2": 107.1, "overall": 47.4}
RESPONDER = 25.0


@dataclass(frozen=True)
class Figures:
    """One cohort's results: per interval the % improvements; the overall Wilcoxon p."""

    improvement: dict[str, np.ndarray]
    wilcoxon_p: float
    clinical: float


def fast_data(seed: int, effect: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assessments (USUBJID, DAY, TOTAL) and injections (USUBJID, K, DAY) in memory."""
    cohort = build_cohort(seed, SUBJECTS)
    params, ranks = disease_params(seed, cohort, effect)
    state = course(seed, cohort, params, ranks)
    v = cohort.visits
    keep = ~v["kind"].isin(["BMA", "DEATH"]).to_numpy()
    subj = v["subj"].to_numpy()
    assess = pd.DataFrame(
        {
            "USUBJID": subj[keep],
            "DAY": v["abs_day"].to_numpy()[keep],
            "TOTAL": state.items.sum(axis=1)[keep].astype(float),
        }
    )
    s = cohort.subjects
    rows = [
        pd.DataFrame({"USUBJID": np.flatnonzero(s[f"inj{k}"] != NO_DAY), "K": k})
        for k in range(1, 5)
    ]
    inj = pd.concat(rows, ignore_index=True)
    inj["DAY"] = [s.at[i, f"inj{k}"] for i, k in zip(inj["USUBJID"], inj["K"], strict=True)]
    return assess, inj


def ls_slope(days: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope per month; NaN with fewer than 2 distinct days."""
    ok = ~np.isnan(values)
    t, y = days[ok] / DAYS_PER_MONTH, values[ok]
    if np.unique(t).size < 2:
        return float("nan")
    tc = t - t.mean()
    return float((tc * (y - y.mean())).sum() / (tc * tc).sum())


def subject_periods(inj: pd.Series, end: float) -> dict[str, tuple[float, float]]:
    """The paper's periods of one subject (day bounds, both included)."""
    days = inj.sort_index().to_numpy(dtype=float)
    last = days[-1] if days.size > 1 else end
    periods = {"runin": (-np.inf, days[0]), "overall": (days[0], last)}
    periods["1->2"] = (days[0], days[1] if days.size > 1 else end)
    for k, name in ((2, "2->3"), (3, "3->4")):
        if days.size > k:
            periods[name] = (days[k - 1], days[k])
    return periods


def figures(assess: pd.DataFrame, inj: pd.DataFrame) -> Figures:
    """Per-interval % improvements and the overall Wilcoxon p of one cohort."""
    out: dict[str, list[float]] = {name: [] for name in INTERVALS}
    pairs: list[tuple[float, float]] = []
    gains: list[bool] = []
    by_subject = dict(tuple(assess.groupby("USUBJID")))
    for subj, rows in inj.groupby("USUBJID"):
        a = by_subject[subj]
        day, total = a["DAY"].to_numpy(float), a["TOTAL"].to_numpy(float)
        periods = subject_periods(rows.set_index("K")["DAY"], day.max())
        rate = {
            name: ls_slope(day[(day >= lo) & (day <= hi)], total[(day >= lo) & (day <= hi)])
            for name, (lo, hi) in periods.items()
        }
        base = rate["runin"]
        gains.append(clinical_gain(day, total, periods["1->2"][0]))
        for name in INTERVALS:
            if name in rate and not np.isnan(rate[name]) and not np.isnan(base) and base != 0:
                out[name].append(100 * (rate[name] - base) / abs(base))
        if not (np.isnan(base) or np.isnan(rate["overall"])):
            pairs.append((rate["overall"], base))
    trt, run = np.array(pairs).T
    p = float(stats.wilcoxon(trt, run).pvalue) if np.any(trt != run) else 1.0
    return Figures({k: np.array(v) for k, v in out.items()}, p, float(np.mean(gains)))


def clinical_gain(day: np.ndarray, total: np.ndarray, inj1: float) -> bool:
    """Whether the first assessment after injection 1 is 1 to 4 points above its own."""
    at, after = total[day == inj1], total[day > inj1]
    if at.size == 0 or after.size == 0:
        return False
    change = after[np.argmin(day[day > inj1])] - at[0]
    return bool(1 <= change <= 4)


def pipeline_data(seed: int, effect: str, work: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assessments from ADQS (ALSRTOT) and injections from SDTM EX, via the full pipeline."""
    from cdisc_mapper.adam import run_adam
    from cdisc_mapper.sdtm.pipeline import run_sdtm
    from cdisc_mapper.simulate import simulate
    from cdisc_mapper.xpt.reader import read_xpt

    simulate(work / "raw", SUBJECTS, seed, effect=effect, force=True)
    run_sdtm(STUDY, work / "raw", work, lambda _: None)
    run_adam(STUDY, work / "sdtm", work, lambda _: None)
    adqs, _ = read_xpt(work / "adam" / "adqs.xpt")
    tot = adqs[adqs["PARAMCD"] == "ALSRTOT"]
    assess = pd.DataFrame(
        {"USUBJID": tot["USUBJID"], "DAY": tot["ADT"], "TOTAL": tot["AVAL"]}
    ).reset_index(drop=True)
    ex, _ = read_xpt(work / "sdtm" / "ex.xpt")
    ex = ex.sort_values(["USUBJID", "EXSTDTC"])
    day = (pd.to_datetime(ex["EXSTDTC"].str[:10]) - pd.Timestamp("1960-01-01")).dt.days
    inj = pd.DataFrame({"USUBJID": ex["USUBJID"], "DAY": day})
    inj["K"] = inj.groupby("USUBJID").cumcount() + 1
    return assess, inj


def summarise(label: str, runs: list[Figures]) -> None:
    """Print the null rejection rate and the responder fractions of ``runs``."""
    reject = np.mean([f.wilcoxon_p < 0.05 for f in runs])
    se = np.sqrt(reject * (1 - reject) / len(runs))
    print(f"\n{label}: {len(runs)} cohorts of {SUBJECTS}")
    print(f"  overall Wilcoxon signed-rank rejects at 5%: {reject:.3f} (SE {se:.3f})")
    clinical = np.mean([f.clinical for f in runs])
    print(f"  +1 to +4 points after injection 1 (mean fraction): {clinical:.3f} (paper 0.368)")
    print(
        "  interval  N(mean)  responders(mean)  paper  "
        " cohort mean %impr: mean, median (paper)   cohort median %impr: median"
    )
    for name in INTERVALS:
        sizes = [f.improvement[name].size for f in runs]
        frac = [np.mean(f.improvement[name] >= RESPONDER) for f in runs if sizes]
        means = [np.mean(f.improvement[name]) for f in runs if f.improvement[name].size]
        meds = [np.median(f.improvement[name]) for f in runs if f.improvement[name].size]
        r, n = PAPER[name]
        paper_mean = PAPER_MEAN.get(name)
        shown = f"{paper_mean:.1f}" if paper_mean is not None else "-"
        print(
            f"  {name:8s}  {np.mean(sizes):6.2f}  {np.nanmean(frac):.3f}"
            f"             {r / n:.3f}   {np.mean(means):8.1f}, {np.median(means):6.1f}"
            f" ({shown})             {np.median(meds):8.1f}"
        )


def main() -> None:
    """Run the cohorts and print the calibration report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=200, help="cohorts per effect")
    parser.add_argument("--pipeline", type=int, default=0, help="cohorts also run fully")
    args = parser.parse_args()
    seeds = range(1, args.cohorts + 1)
    for effect in ("none", "paper"):
        start = time.perf_counter()
        runs = [figures(*fast_data(seed, effect)) for seed in seeds]
        took = time.perf_counter() - start
        summarise(f"effect={effect} (fast path, {took:.1f} s)", runs)
    for effect in ("none", "paper"):
        if args.pipeline <= 0:
            continue
        start = time.perf_counter()
        runs = []
        with tempfile.TemporaryDirectory() as tmp:
            for seed in seeds[: args.pipeline]:
                runs.append(figures(*pipeline_data(seed, effect, Path(tmp))))
        took = time.perf_counter() - start
        summarise(f"effect={effect} (pipeline ADQS/EX, {took:.1f} s)", runs)


if __name__ == "__main__":
    main()
