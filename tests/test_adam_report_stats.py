"""The progression report's statistics and table (cdisc_mapper.adam.report.stats and
cdisc_mapper.adam.summary) on small hand-made inputs, every expected value computed here
by hand or by brute force (sign enumeration, explicit Walsh averages), not by the code
under test."""

from __future__ import annotations

import itertools
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cdisc_mapper.adam.report import stats as report_stats
from cdisc_mapper.adam.report.stats import (
    hodges_lehmann,
    quartiles,
    signed_rank_cdf,
    walsh_averages,
    walsh_order_statistic,
    wilcoxon_method,
    wilcoxon_test,
)
from cdisc_mapper.adam.summary import full_precision, progression_summary
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam import ProgressionSummarySpec
from cdisc_mapper.spec.base import validate_model
from cdisc_mapper.spec.yamlio import load_spec_yaml

TOL = 1e-9


def brute_cdf(n: int) -> np.ndarray:
    """P(T+ <= t) by enumerating the 2^n sign patterns of ranks 1..n."""
    sums = [
        sum(r for r, s in zip(range(1, n + 1), signs, strict=True) if s)
        for signs in itertools.product([0, 1], repeat=n)
    ]
    counts = np.bincount(sums, minlength=n * (n + 1) // 2 + 1)
    return np.cumsum(counts) / 2.0**n


def brute_hl(d: list[float], confidence: float) -> tuple[float, float, float, float]:
    """(estimate, lower, upper, coverage) from explicit Walsh averages and brute_cdf."""
    w = sorted((d[i] + d[j]) / 2 for i in range(len(d)) for j in range(i, len(d)))
    m = len(w)
    est = (w[(m - 1) // 2] + w[m // 2]) / 2
    cdf = brute_cdf(len(d))
    k = max(t for t in range(len(cdf)) if cdf[t] <= (1 - confidence) / 2)
    return est, w[k], w[m - 1 - k], 1 - 2 * cdf[k]


@pytest.mark.parametrize("n", [1, 2, 5, 8, 11])
def test_signed_rank_cdf_matches_enumeration(n: int) -> None:
    assert np.allclose(signed_rank_cdf(n), brute_cdf(n), atol=1e-15)


def test_walsh_averages_by_hand() -> None:
    # d = 1, 3, 8: (1+1)/2, (1+3)/2, (1+8)/2, (3+3)/2, (3+8)/2, (8+8)/2
    assert walsh_averages(np.array([1.0, 3.0, 8.0])).tolist() == [1, 2, 3, 4.5, 5.5, 8]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_hodges_lehmann_exact_ci_against_brute_force(seed: int, confidence: float) -> None:
    d = np.random.default_rng(seed).normal(0.5, 1.0, 10)
    got = hodges_lehmann(d, confidence, "exact")
    want = brute_hl(d.tolist(), confidence)
    assert (got.estimate, got.lower, got.upper, got.coverage) == pytest.approx(want, abs=TOL)
    assert "exact" in got.method


def test_hodges_lehmann_by_hand_n6() -> None:
    # n = 6: P(T+ <= 0) = 1/64 = 0.0156 <= 0.025, P(T+ <= 1) = 2/64 > 0.025 -> k = 0:
    # the 95% interval is [min, max] of the Walsh averages, coverage 1 - 2/64 = 0.96875
    d = np.array([-1.0, 2.0, 3.0, 5.0, 7.0, 10.0])
    hl = hodges_lehmann(d, 0.95, "exact")
    assert (hl.lower, hl.upper, hl.coverage) == (-1.0, 10.0, 0.96875)
    # 21 Walsh averages: the 11th in order is the median
    assert hl.estimate == sorted((a + b) / 2 for i, a in enumerate(d) for b in d[i:])[10]


def test_hodges_lehmann_too_few_pairs_for_an_interval() -> None:
    hl = hodges_lehmann(np.array([1.0, 2.0, 4.0]), 0.95, "exact")  # 2^-3 > 0.025
    # Walsh averages 1, 1.5, 2, 2.5, 3, 4: median (2 + 2.5) / 2
    assert hl.estimate == 2.25 and math.isnan(hl.lower) and math.isnan(hl.upper)
    assert "too few pairs" in hl.method


def test_hodges_lehmann_normal_ci() -> None:
    d = np.random.default_rng(7).normal(0, 1, 40)
    z = stats.norm.ppf(0.975)
    k = math.floor(40 * 41 / 4 - z * math.sqrt(40 * 41 * 81 / 24) - 0.5)
    w = sorted((d[i] + d[j]) / 2 for i in range(40) for j in range(i, 40))
    hl = hodges_lehmann(d, 0.95, "normal")
    assert (hl.lower, hl.upper) == pytest.approx((w[k], w[len(w) - 1 - k]), abs=TOL)


def test_wilcoxon_exact_p_by_hand() -> None:
    # ranks 1..5, negative rank 4: T- = 4, T+ = 11; P(T+ <= 4) = 7/32 (subsets of 1..5
    # with sum <= 4: {}, 1, 2, 3, 4, 12, 13) -> two-sided p = 14/32
    res = wilcoxon_test(np.array([1.0, 2.0, 3.0, -4.0, 5.0]), "auto")
    assert (res.n, res.statistic, res.p) == (5, 4.0, 14 / 32)
    assert res.method == "exact null distribution, zero differences: wilcox"


def test_wilcoxon_normal_with_correction_by_hand() -> None:
    d = np.array([1.0, 2.0, 3.0, -4.0, 5.0])
    # T+ = 11, mean 7.5, sd sqrt(5*6*11/24); corrected z = (11 - 7.5 - 0.5) / sd
    z = (11 - 7.5 - 0.5) / math.sqrt(5 * 6 * 11 / 24)
    res = wilcoxon_test(d, "normal", correction=True)
    assert res.p == pytest.approx(2 * stats.norm.sf(z), abs=TOL)
    assert res.method.startswith("normal approximation with continuity correction")


def test_wilcoxon_method_rule() -> None:
    untied = np.arange(1.0, 11.0)
    assert wilcoxon_method(untied, "auto") == "exact"
    assert wilcoxon_method(np.arange(1.0, 52.0), "auto") == "normal"  # 51 > 50
    assert wilcoxon_method(np.arange(1.0, 52.0), "exact") == "exact"
    assert wilcoxon_method(np.array([1.0, -1.0, 2.0]), "exact") == "normal"  # tie
    assert wilcoxon_method(np.array([0.0, 1.0, 2.0]), "exact") == "normal"  # zero
    assert wilcoxon_method(untied, "normal") == "normal"


def test_wilcoxon_too_few_pairs() -> None:
    res = wilcoxon_test(np.array([0.0, 1.0]))
    assert res.n == 2 and math.isnan(res.p) and "fewer than 2" in res.method


def test_quartiles_methods() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    assert quartiles(x) == (2.0, 3.0, 4.0)  # type 7: positions 1, 2, 3 of 0..4
    assert quartiles(np.array([1.0, 2.0, 3.0, 4.0]), "lower") == (1.0, 2.0, 3.0)


def test_full_precision() -> None:
    assert full_precision(0.1 + 0.2) == "0.30000000000000004"
    assert full_precision(19) == "19" and full_precision(float("nan")) == ""
    assert full_precision("=1+1") == "'=1+1"


# ------------------------------------------------------------------- the table itself
SPEC = {
    "name": "s",
    "title": "t",
    "dataset": "ADPROG",
    "population": "EFFFL",
    "parameters": ["P1"],
    "rows": [
        {"label": "period 2", "where": {"variable": "APERIOD", "equals": 2}},
    ],
    "responder_flag": "CRIT1FL",
    "responder_label": "r",
    "improvement": "PCTIMPR",
    "clinical_change": {
        "label": "clinical",
        "dataset": "ADQS",
        "paramcd": "TOT",
        "reference": "TRTSDT",
        "low": 1,
        "high": 4,
    },
}


def validate(data: dict, tmp: Path | None = None) -> ProgressionSummarySpec:
    """The spec through a YAML file, as the loader reads it (errors name the line)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reports.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        doc = load_spec_yaml(path)
        return validate_model(ProgressionSummarySpec, doc.data, doc)


def frames() -> dict[str, pd.DataFrame]:
    base = [-1.0, -2.0, -1.5, -0.5, -1.0, -3.0, -1.0]
    aval = [-0.2, -2.5, -0.1, 0.3, -0.4, -1.0, -0.9]
    imp = [100 * (a - b) / abs(b) for a, b in zip(aval, base, strict=True)]
    subj = [f"S{i}" for i in range(7)]
    prog = pd.DataFrame(
        {
            "USUBJID": [*subj, "S9"],
            "PARAMCD": ["P1"] * 8,
            "PARAM": ["Param 1"] * 8,
            "APERIOD": [2.0] * 8,
            "EFFFL": ["Y"] * 7 + ["N"],
            "AVAL": [*aval, 5.0],
            "BASE": [*base, -1.0],
            "PCTIMPR": [*imp, 600.0],
            "CRIT1FL": ["Y" if v >= 25 else "N" for v in imp] + ["Y"],
        }
    )
    adsl = pd.DataFrame(
        {"USUBJID": ["S0", "S1", "S2"], "EFFFL": ["Y", "Y", "N"], "TRTSDT": [100.0, 100.0, 100.0]}
    )
    adqs = pd.DataFrame(
        {
            # S0: last on/before 100 is 30 (day 100), first after is 33 -> +3 (counted)
            # S1: 40 (day 90), first after 45 (day 120) -> +5 (not counted)
            "USUBJID": ["S0", "S0", "S0", "S0", "S1", "S1", "S2", "S2"],
            "PARAMCD": ["TOT"] * 8,
            "ADT": [50.0, 100.0, 130.0, 160.0, 90.0, 120.0, 90.0, 120.0],
            "AVAL": [35.0, 30.0, 33.0, 20.0, 40.0, 45.0, 10.0, 12.0],
        }
    )
    return {"ADPROG": prog, "ADSL": adsl, "ADQS": adqs}


def test_table_recomputed_by_hand() -> None:
    spec = validate(SPEC)
    table = progression_summary(frames(), spec)
    r = table.iloc[0]
    base = np.array([-1.0, -2.0, -1.5, -0.5, -1.0, -3.0, -1.0])
    aval = np.array([-0.2, -2.5, -0.1, 0.3, -0.4, -1.0, -0.9])
    imp = 100 * (aval - base) / np.abs(base)  # 80, -25, 93.3, 160, 60, 66.7, 10
    resp = imp >= 25
    assert r["responders_n_over_n"] == f"{resp.sum()}/7" == "5/7"
    assert r["mean_improvement_pct"] == pytest.approx(imp.mean(), abs=TOL)
    assert r["mean_improvement_responders_pct"] == pytest.approx(imp[resp].mean(), abs=TOL)
    s = np.sort(imp)  # type 7 quartiles of 7 values: positions 1.5, 3, 4.5
    assert r["q1_improvement_pct"] == pytest.approx((s[1] + s[2]) / 2, abs=TOL)
    assert r["median_improvement_pct"] == pytest.approx(s[3], abs=TOL)
    assert r["q3_improvement_pct"] == pytest.approx((s[4] + s[5]) / 2, abs=TOL)
    est, lo, hi, cov = brute_hl((aval - base).tolist(), 0.95)
    assert (r["hl_estimate"], r["hl_lower"], r["hl_upper"], r["hl_coverage"]) == pytest.approx(
        (est, lo, hi, cov), abs=TOL
    )
    d = aval - base  # one negative (-0.5, rank 2 of |d| = .8 .5 1.4 .8 .6 2 .1) ... ties
    assert r["wilcoxon_n"] == 7
    assert "normal approximation" in r["wilcoxon_method"]  # |d| 0.8 tied: no exact
    assert r["wilcoxon_p"] == pytest.approx(stats.wilcoxon(d, method="asymptotic").pvalue, abs=TOL)
    clinical = table.iloc[1]
    assert clinical["responders_n_over_n"] == "1/2"  # S0 +3 counted, S1 +5 not, S2 not EFFFL


def test_clinical_change_rules() -> None:
    spec = validate(
        SPEC
        | {
            "clinical_change": SPEC["clinical_change"]
            | {  # type: ignore[operator]
                "before": "last_before",
                "after": "max_after",
                "low": 0,
                "high": 5,
            }
        },
    )
    # S0: last strictly before day 100 is 35 (day 50); highest after is 33 -> -2 (no)
    # S1: 40 -> 45: +5 (yes)
    assert progression_summary(frames(), spec).iloc[1]["responders_n_over_n"] == "1/2"


def test_spec_errors() -> None:
    bad = SPEC | {"clinical_change": SPEC["clinical_change"] | {"low": 5}}  # type: ignore[operator]
    with pytest.raises(SpecError, match=r"reports.yaml:\d+: .*low \(5\) is above high \(4\)"):
        validate(bad)
    with pytest.raises(SpecError, match="method"):
        validate(SPEC | {"wilcoxon": {"method": "magic"}})


def test_hodges_lehmann_large_cohort_falls_back_to_normal_above_exact_max_n() -> None:
    d = np.random.default_rng(3).normal(0, 1, 30)
    exact = hodges_lehmann(d, 0.95, "exact", exact_max_n=30)
    normal = hodges_lehmann(d, 0.95, "exact", exact_max_n=29)
    assert "exact" in exact.method and "normal approximation" in normal.method
    assert normal.lower == hodges_lehmann(d, 0.95, "normal").lower
    assert (
        exact.estimate
        == normal.estimate
        == pytest.approx(
            np.median([(d[i] + d[j]) / 2 for i in range(30) for j in range(i, 30)]), abs=TOL
        )
    )


def test_subjects_without_an_improvement_are_listed_apart_by_reason() -> None:
    data = frames()
    prog = data["ADPROG"]
    prog.loc[prog.USUBJID.isin(["S1", "S4"]), ["PCTIMPR", "CRIT1FL"]] = [np.nan, ""]
    prog["PCTIREAS"] = ""
    prog.loc[prog.USUBJID.eq("S1"), "PCTIREAS"] = "RUN-IN NOT A DECLINE"
    prog.loc[prog.USUBJID.eq("S4"), "PCTIREAS"] = "NO RATE"
    table = progression_summary(data, validate(SPEC | {"reason_variable": "PCTIREAS"}))
    r = table.iloc[0]
    assert r["not_evaluable"] == "NO RATE: 1 (S4); RUN-IN NOT A DECLINE: 1 (S1)"
    assert r["responders_n_over_n"].endswith("/5")  # out of N
    assert progression_summary(data, validate(SPEC)).iloc[0]["not_evaluable"] == ""


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.1, 2.5]),
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    ),
    st.data(),
)
def test_walsh_order_statistic_equals_the_sorted_averages(values, data) -> None:
    """The Walsh averages' order statistics found without materialising them (used for
    large cohorts) are exactly those of the sorted averages, ties and zeros included."""
    diff = np.array(values, dtype="float64")
    walsh = walsh_averages(diff)
    rank = data.draw(st.integers(min_value=0, max_value=len(walsh) - 1))
    assert walsh_order_statistic(diff, rank) == walsh[rank]


def test_hodges_lehmann_of_a_large_cohort_without_materialising(monkeypatch) -> None:
    rng = np.random.default_rng(7)
    diff = np.round(rng.normal(0.5, 1.0, size=400), 2)  # ties
    direct = hodges_lehmann(diff, ci_method="normal")
    monkeypatch.setattr(report_stats, "WALSH_IMPLICIT_ABOVE", 0)
    assert hodges_lehmann(diff, ci_method="normal") == direct
