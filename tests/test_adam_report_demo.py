"""The progression report of the 20-subject demo: every figure of the summary CSV
recomputed from ADPROG, ADQS and ADSL with plain numpy/scipy (own Walsh averages, own
signed-rank distribution), the HTML holding the figures and every row, reruns
byte-identical, and the report's spec checks."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import lxml.html
import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from scipy import stats

from cdisc_mapper.adam import load_adam_specs, run_adam
from cdisc_mapper.adam.report import figures as figures_module
from cdisc_mapper.condition import evaluate
from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam import ReportRow
from cdisc_mapper.spec.figures import FiguresSpec

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "mappings" / "als_msc"
TOL = 1e-9
SPEC = yaml.safe_load((STUDY / "adam" / "reports.yaml").read_text())["progression_summaries"][0]


@pytest.fixture(scope="module")
def run(demo_sdtm, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    result = run_adam(STUDY, demo_sdtm[0] / "sdtm", out)
    table = pd.read_csv(out / "reports" / f"{SPEC['name']}.csv", dtype=str, keep_default_na=False)
    return out, result, table


def num(text: str) -> float:
    return float(text) if text else math.nan


def same(got: str, want: float) -> bool:
    return (not got and not np.isfinite(want)) or abs(num(got) - want) <= TOL


def cdf_by_counting(n: int) -> list[float]:
    """P(T+ <= t): subsets of 1..n by their sum, counted with Python integers."""
    counts = [1] + [0] * (n * (n + 1) // 2)
    for k in range(1, n + 1):
        for t in range(len(counts) - 1, k - 1, -1):
            counts[t] += counts[t - k]
    out, acc = [], 0
    for c in counts:
        acc += c
        out.append(acc / 2**n)
    return out


def hl_by_hand(d: np.ndarray, level: float) -> tuple[float, float, float, float]:
    w = sorted((d[i] + d[j]) / 2 for i in range(len(d)) for j in range(i, len(d)))
    m = len(w)
    est = (w[(m - 1) // 2] + w[m // 2]) / 2
    cdf = cdf_by_counting(len(d))
    ks = [t for t, c in enumerate(cdf) if c <= (1 - level) / 2]
    if not ks:
        return est, math.nan, math.nan, math.nan
    k = ks[-1]
    return est, w[k], w[m - 1 - k], 1 - 2 * cdf[k]


def test_every_summary_figure_recomputed(run) -> None:
    _, result, table = run
    prog = result.datasets["ADPROG"].frame
    prog = prog[prog.EFFFL == "Y"]
    rows = {r["label"]: r["where"] for r in SPEC["rows"]}
    params = table[table.paramcd.isin(SPEC["parameters"])]
    assert len(params) == len(SPEC["parameters"]) * len(rows)
    for _, r in params.iterrows():
        par = prog[r.paramcd == prog.PARAMCD]
        sub = par[evaluate(ReportRow(label="x", where=rows[r.period]).where, par).to_numpy()]
        flag = sub.CRIT1FL
        n, big_n = int((flag == "Y").sum()), int(flag.isin(["Y", "N"]).sum())
        assert r.responders_n_over_n == f"{n}/{big_n}"
        assert same(r.responders_pct, 100 * n / big_n)
        imp = sub.PCTIMPR.dropna().to_numpy()
        assert same(r.mean_improvement_pct, imp.mean())
        assert same(r.mean_improvement_responders_pct, sub.PCTIMPR[flag == "Y"].dropna().mean())
        q1, med, q3 = np.percentile(imp, [25, 50, 75])
        assert same(r.q1_improvement_pct, q1) and same(r.median_improvement_pct, med)
        assert same(r.q3_improvement_pct, q3)
        pair = sub.dropna(subset=["AVAL", "BASE"])
        d = (pair.AVAL - pair.BASE).to_numpy()
        assert same(r.mean_base, pair.BASE.mean()) and same(r.mean_aval, pair.AVAL.mean())
        untied = len(np.unique(np.abs(d))) == len(d) and (d != 0).all() and len(d) <= 50
        test = stats.wilcoxon(d, method="exact" if untied else "asymptotic")
        assert r.wilcoxon_method.startswith("exact" if untied else "normal approximation")
        assert int(r.wilcoxon_n) == len(d)
        assert same(r.wilcoxon_statistic, test.statistic) and same(r.wilcoxon_p, test.pvalue)
        est, lo, hi, cov = hl_by_hand(d, 0.95)
        assert same(r.hl_estimate, est) and same(r.hl_lower, lo) and same(r.hl_upper, hi)
        assert same(r.hl_coverage, cov)
        for k in (2, 3, 4):
            f = sub[f"CRIT{k}FL"]
            assert r[f"crit{k}fl_n_over_n"] == f"{(f == 'Y').sum()}/{f.isin(['Y', 'N']).sum()}"


def test_clinical_change_recomputed(run) -> None:
    _, result, table = run
    cc = SPEC["clinical_change"]
    adsl = result.datasets["ADSL"].frame
    adqs = result.datasets["ADQS"].frame
    hits = evaluable = 0
    for _, s in adsl[(adsl.EFFFL == "Y") & adsl.TRTSDT.notna()].iterrows():
        tot = adqs[(adqs.USUBJID == s.USUBJID) & (cc["paramcd"] == adqs.PARAMCD)]
        tot = tot.dropna(subset=["ADT", "AVAL"]).sort_values("ADT", kind="stable")
        before = tot[tot.ADT <= s.TRTSDT]
        after = tot[tot.ADT > s.TRTSDT]
        if before.empty or after.empty:
            continue
        evaluable += 1
        change = after.AVAL.iloc[0] - before.AVAL.iloc[-1]
        hits += int(cc["low"] <= change <= cc["high"])
    row = table.iloc[-1]
    assert row.paramcd == cc["paramcd"] and row.parameter == cc["label"]
    assert row.responders_n_over_n == f"{hits}/{evaluable}"
    assert evaluable == 19  # the 19 treated subjects


def test_html_holds_the_figures_and_every_row(run) -> None:
    out, _, table = run
    page = (out / "reports" / f"{SPEC['name']}.html").read_text(encoding="utf-8")
    doc = lxml.html.fromstring(page)
    images = doc.findall(".//img")
    assert len(images) == len(SPEC["figures"]["trajectories"]) + 2
    assert all(img.get("src").startswith("data:image/png;base64,iVBOR") for img in images)
    assert not doc.xpath("//*[@src and not(starts-with(@src, 'data:'))]")  # self-contained
    tables = {
        t.xpath("preceding-sibling::h2[1]")[0].text_content(): [
            [td.text_content() for td in tr.findall("td")] for tr in t.iter("tr")
        ]
        for t in doc.iter("table")
    }
    for _, r in table.iterrows():
        cells = next(rows for head, rows in tables.items() if head.endswith(f"({r.paramcd})"))
        match = [c for c in cells if r.period in c and r.responders_n_over_n in c]
        assert match, r.period
        if r.mean_improvement_pct:
            assert f"{float(r.mean_improvement_pct):.1f}" in match[0]
    md = (out / "reports" / f"{SPEC['name']}.md").read_text(encoding="utf-8")
    assert all(f"| {r.period} |" in md for _, r in table.iterrows())


def test_reruns_are_byte_identical(run, demo_sdtm, tmp_path: Path) -> None:
    out, _, _ = run
    run_adam(STUDY, demo_sdtm[0] / "sdtm", tmp_path)
    for suffix in ("csv", "md", "html"):
        name = f"{SPEC['name']}.{suffix}"
        assert (tmp_path / "reports" / name).read_bytes() == (out / "reports" / name).read_bytes()


def test_figure_row_must_be_a_row(tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    path = study / "adam" / "reports.yaml"
    text = path.read_text(encoding="utf-8")
    row = SPEC["figures"]["row"]
    path.write_text(text.replace(f'row: "{row}"', 'row: "Nowhere"'), encoding="utf-8")
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "Nowhere" in t)
    with pytest.raises(SpecError, match=rf"reports.yaml:{line}: .*row 'Nowhere' is not"):
        load_adam_specs(study)


def test_report_sources_are_checked(tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    path = study / "adam" / "reports.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("reference: TRTSDT", "reference: NOSUCHDT"), encoding="utf-8")
    with pytest.raises(SpecError, match="ADSL has no variable NOSUCHDT"):
        load_adam_specs(study)


def test_the_figures_of_a_large_cohort_draw_one_artist_per_panel() -> None:
    """Above MANY subjects the paired plot and the waterfall draw their lines as one
    collection (thousands of separate bars and lines take minutes), still one per subject."""
    n = figures_module.MANY + 1
    rng = np.random.default_rng(3)
    pairs = pd.DataFrame(
        {
            "BASE": rng.normal(-1, 0.3, n),
            "AVAL": rng.normal(-0.5, 0.3, n),
            "CRIT1FL": np.where(rng.random(n) > 0.5, "Y", "N"),
        }
    )
    fig = Figure()
    ax = fig.subplots()
    figures_module._paired_lines(ax, pairs, "CRIT1FL")
    (lines,) = ax.collections[:1]
    assert len(lines.get_segments()) == n
    assert figures_module.png_bytes(fig).startswith(b"\x89PNG")


def test_the_trajectories_time_axis_says_the_specs_words(run) -> None:
    """The axis title comes from the spec (`origin_label`, `markers_label`), not the code;
    the dashed lines are the APERSDT of the records `markers` choose."""
    _, result, _ = run
    spec = load_adam_specs(STUDY).reports.progression_summaries[0]
    datasets = {n: d.frame for n, d in result.datasets.items()}
    traj = spec.figures.trajectories[0]
    fig = figures_module.trajectory_figure(datasets, spec, traj, 30.4375)
    assert fig.get_supxlabel() == "months from the first injection (dashed: injections)"
    other = spec.figures.model_copy(update={"markers_label": "doses", "origin_label": "dose 1"})
    assert other.time_axis_title() == "months from dose 1 (dashed: doses)"
    none = spec.figures.model_copy(update={"markers": None})
    assert none.time_axis_title() == "months from each subject's first value"


def test_marker_dates_are_the_apersdt_of_the_records_markers_choose() -> None:
    frame = pd.DataFrame(
        {
            "USUBJID": ["S1", "S1", "S1", "S1", "S2", "S3"],
            "APHASEN": [1, 2, 2, 2, 2, 1],
            "APERSDT": [10.0, 40.0, 100.0, 40.0, np.nan, 5.0],
        }
    )
    spec = FiguresSpec.model_validate({"row": "x", "markers": {"variable": "APHASEN", "equals": 2}})
    # S1: 40 twice (two records of one start) and 100; S2's record has no date; S3 none
    assert figures_module.marker_dates(frame, spec) == {"S1": [40.0, 100.0]}
    assert figures_module.marker_dates(frame, FiguresSpec(row="x")) == {}


def test_the_former_injections_key_is_a_located_error_naming_markers(tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(STUDY, study)
    path = study / "adam" / "reports.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      markers:\n", "      injections:\n"), encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.strip() == "figures:")
    with pytest.raises(
        SpecError,
        match=rf"reports.yaml:{line}: progression_summaries.0.figures: .*`injections` was "
        r"renamed: give `markers`",
    ):
        load_adam_specs(study)
