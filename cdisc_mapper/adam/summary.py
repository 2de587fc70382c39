"""The progression summary: per parameter and analysis row, responders n/N, the percent
improvement (mean, mean among responders, median and IQR), a Wilcoxon signed-rank test of
AVAL against BASE with its method, and the Hodges-Lehmann estimate of AVAL - BASE with its
confidence interval; optionally a count of subjects improving clinically by a number of
points after a reference date.

Shape of the published results (Petrou et al. 2021): for each interval, the patients whose
monthly progression rate improved by at least 25% over the run-in (n/N), the mean percent
improvement, and for the whole period a Wilcoxon signed-rank test of run-in versus
treatment slopes. What is counted (population flag, rows, responder flag, improvement
variable, methods) is the spec's; nothing here knows the study.

The table holds numbers at full precision: ``<name>.csv`` writes them so (shortest
round-trip text), ``<name>.md`` and ``<name>.html`` (:mod:`.report`) round them for reading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.adam.report.display import display_table
from cdisc_mapper.adam.report.figures import report_figures
from cdisc_mapper.adam.report.files import summary_files
from cdisc_mapper.adam.report.html import write_page
from cdisc_mapper.adam.report.method import method_text
from cdisc_mapper.adam.report.rows import condition_columns, narrowed, row_columns, row_records
from cdisc_mapper.adam.report.stats import (
    hodges_lehmann,
    paired_differences,
    quartiles,
    wilcoxon_test,
)
from cdisc_mapper.condition import evaluate
from cdisc_mapper.spec.adam import ClinicalChangeSpec, ProgressionSummarySpec
from cdisc_mapper.textops import neutralise_formula

COLUMNS = [
    "paramcd",
    "parameter",
    "period",
    "n_subjects",
    "responders",
    "evaluable",
    "responders_n_over_n",
    "responders_pct",
    "improvement_n",
    "mean_improvement_pct",
    "mean_improvement_responders_pct",
    "median_improvement_pct",
    "q1_improvement_pct",
    "q3_improvement_pct",
    "mean_base",
    "mean_aval",
    "wilcoxon_n",
    "wilcoxon_method",
    "wilcoxon_statistic",
    "wilcoxon_p",
    "hl_estimate",
    "hl_lower",
    "hl_upper",
    "hl_coverage",
    "hl_method",
    "not_evaluable",
]

NAN = math.nan


def extra_column(flag: str) -> str:
    """CSV column of a further criterion flag, e.g. ``crit2fl_n_over_n``."""
    return f"{flag.lower()}_n_over_n"


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else NAN


def _row_stats(sub: pd.DataFrame, spec: ProgressionSummarySpec) -> dict[str, object]:
    """The figures of one parameter and row of the summarised dataset."""
    flag = sub[spec.responder_flag].astype(str)
    evaluable = int(flag.isin(["Y", "N"]).sum())
    responders = int(flag.eq("Y").sum())
    imp_all = sub[spec.improvement].to_numpy(dtype="float64")
    present = ~np.isnan(imp_all)
    imp = imp_all[present]
    imp_resp = imp_all[present & flag.eq("Y").to_numpy()]
    q1, med, q3 = quartiles(imp, spec.quantile_method)
    aval = sub["AVAL"].to_numpy(dtype="float64")
    base = sub["BASE"].to_numpy(dtype="float64")
    both = ~np.isnan(aval) & ~np.isnan(base)
    diff = paired_differences(aval, base)
    w = spec.wilcoxon
    test = wilcoxon_test(diff, w.method, w.correction, w.zero_method)
    h = spec.hodges_lehmann
    hl = hodges_lehmann(diff, h.confidence, h.ci_method, h.exact_max_n)
    return {
        "n_subjects": int(sub["USUBJID"].nunique()),
        "responders": responders,
        "evaluable": evaluable,
        "responders_n_over_n": f"{responders}/{evaluable}",
        "responders_pct": 100.0 * responders / evaluable if evaluable else NAN,
        "improvement_n": len(imp),
        "mean_improvement_pct": _mean(imp),
        "mean_improvement_responders_pct": _mean(imp_resp),
        "median_improvement_pct": med,
        "q1_improvement_pct": q1,
        "q3_improvement_pct": q3,
        "mean_base": _mean(base[both]),
        "mean_aval": _mean(aval[both]),
        "wilcoxon_n": test.n,
        "wilcoxon_method": test.method,
        "wilcoxon_statistic": test.statistic,
        "wilcoxon_p": test.p,
        "hl_estimate": hl.estimate,
        "hl_lower": hl.lower,
        "hl_upper": hl.upper,
        "hl_coverage": hl.coverage,
        "hl_method": hl.method,
        "not_evaluable": _not_evaluable(sub, spec, ~present),
    }


def _not_evaluable(sub: pd.DataFrame, spec: ProgressionSummarySpec, missing: np.ndarray) -> str:
    """The subjects of a row without an improvement, by the reason ``reason_variable``
    gives (``REASON: n (USUBJID, ...)``, reasons in order), reported apart from N; ``""``
    without a reason variable or such subjects."""
    if spec.reason_variable is None:
        return ""
    part = sub.loc[missing, ["USUBJID", spec.reason_variable]]
    reasons = part[spec.reason_variable].fillna("").astype(str).str.strip()
    part = part[reasons.ne("")].assign(_R=reasons)
    return "; ".join(
        f"{reason}: {len(g)} ({', '.join(sorted(g['USUBJID'].astype(str)))})"
        for reason, g in sorted(part.groupby("_R"), key=lambda kv: str(kv[0]))
    )


def _flag_counts(sub: pd.DataFrame, spec: ProgressionSummarySpec) -> dict[str, str]:
    out = {}
    for flag_var in spec.extra_flags:
        f = sub[flag_var].astype(str)
        out[extra_column(flag_var)] = f"{int(f.eq('Y').sum())}/{int(f.isin(['Y', 'N']).sum())}"
    return out


def clinical_changes(
    datasets: Mapping[str, pd.DataFrame], population: str, cc: ClinicalChangeSpec
) -> pd.DataFrame:
    """Per subject of the population (ADSL flag) with a reference date: the score before
    and after it (the spec's rules) and the change; rows without both scores are dropped."""
    adsl = datasets["ADSL"]
    subjects = adsl[adsl[population].astype(str).eq("Y")][["USUBJID", cc.reference]]
    subjects = subjects.dropna(subset=[cc.reference])
    used = ["USUBJID", "PARAMCD", "AVAL", cc.date, *condition_columns(cc.where)]
    scores = narrowed(datasets[cc.dataset], used)
    scores = scores[scores["PARAMCD"].eq(cc.paramcd).to_numpy()]
    if cc.where is not None:
        scores = scores[evaluate(cc.where, scores).to_numpy()]
    scores = scores.dropna(subset=["AVAL", cc.date])[["USUBJID", cc.date, "AVAL"]]
    merged = scores.merge(subjects, on="USUBJID").sort_values(["USUBJID", cc.date], kind="stable")
    ref = merged[cc.reference]
    on_ref = merged[cc.date] <= ref if cc.before == "last_on_or_before" else merged[cc.date] < ref
    before = merged[on_ref].groupby("USUBJID")["AVAL"].last()
    later = merged[merged[cc.date] > ref].groupby("USUBJID")["AVAL"]
    after = later.first() if cc.after == "first_after" else later.max()
    out = pd.DataFrame({"before": before, "after": after}).dropna()
    out["change"] = out["after"] - out["before"]
    return out


def _clinical_row(datasets: Mapping[str, pd.DataFrame], spec: ProgressionSummarySpec) -> dict:
    cc = spec.clinical_change
    assert cc is not None
    changes = clinical_changes(datasets, spec.population, cc)
    hit = int(changes["change"].between(cc.low, cc.high).sum())
    n = len(changes)
    before = "on or before" if cc.before == "last_on_or_before" else "before"
    after = "first" if cc.after == "first_after" else "highest"
    return {
        "paramcd": cc.paramcd,
        "parameter": cc.label,
        "period": f"{cc.low:g} to {cc.high:g} points: change from the last {cc.paramcd} "
        f"{before} {cc.reference} to the {after} {cc.paramcd} after it",
        "n_subjects": n,
        "responders": hit,
        "evaluable": n,
        "responders_n_over_n": f"{hit}/{n}",
        "responders_pct": 100.0 * hit / n if n else NAN,
    }


def _summary_columns(spec: ProgressionSummarySpec) -> list[str]:
    """The columns of the summarised dataset the table reads."""
    reason = [spec.reason_variable] if spec.reason_variable else []
    return [
        *("USUBJID", "PARAMCD", "PARAM", "AVAL", "BASE", spec.responder_flag, spec.improvement),
        *spec.extra_flags,
        *reason,
        *row_columns(spec),
    ]


def progression_summary(
    datasets: Mapping[str, pd.DataFrame], spec: ProgressionSummarySpec
) -> pd.DataFrame:
    """The summary table: one row per parameter and analysis row (then the clinical change
    row, if any), numbers at full precision (NaN where not computable)."""
    frame = narrowed(datasets[spec.dataset], _summary_columns(spec))
    rows = []
    for paramcd in spec.parameters:
        par = frame[frame["PARAMCD"].eq(paramcd).to_numpy()]
        label = par["PARAM"].iloc[0] if len(par) else paramcd
        for row in spec.rows:
            sub = row_records(par, spec, row)
            rec = {"paramcd": paramcd, "parameter": label, "period": row.label}
            rows.append(rec | _row_stats(sub, spec) | _flag_counts(sub, spec))
    if spec.clinical_change is not None:
        rows.append(_clinical_row(datasets, spec))
    columns = COLUMNS + [extra_column(f) for f in spec.extra_flags]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def full_precision(value: object) -> str:
    """CSV text of a value: floats as their shortest round-trip text (``repr``), integral
    counts without ``.0``, missing as empty."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return neutralise_formula(str(value))


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(table: pd.DataFrame, spec: ProgressionSummarySpec) -> str:
    """The readable twin of the CSV (rounded)."""
    lines = [f"# {spec.title}", "", method_text(spec), ""]
    for heading, shown in display_table(table, spec):
        lines += [f"## {heading}", ""]
        lines.append("| " + " | ".join(_md_escape(str(c)) for c in shown.columns) + " |")
        lines.append("|" + "---|" * len(shown.columns))
        for values in shown.itertuples(index=False):
            lines.append("| " + " | ".join(_md_escape(str(c)) for c in values) + " |")
        lines.append("")
    if spec.notes:
        lines += ["Notes:", ""] + [f"- {n}" for n in spec.notes] + [""]
    return "\n".join(lines)


def write_summary(
    table: pd.DataFrame,
    spec: ProgressionSummarySpec,
    out_dir: Path,
    datasets: Mapping[str, pd.DataFrame],
    month_days: float,
) -> list[Path]:
    """Write ``<name>.csv`` (full precision), ``<name>.md`` and the self-contained
    ``<name>.html`` (tables and figures) into ``out_dir``."""
    written = write_tables(table, spec, out_dir)
    figures = report_figures(datasets, spec, month_days)
    return [*written, write_page(table, spec, figures, out_dir)]


def write_tables(table: pd.DataFrame, spec: ProgressionSummarySpec, out_dir: Path) -> list[Path]:
    """Write ``<name>.csv`` (full precision) and ``<name>.md`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_name, md_name, _ = summary_files(spec)
    csv_path = out_dir / csv_name
    table.map(full_precision).to_csv(csv_path, index=False, lineterminator="\n")
    md_path = out_dir / md_name
    md_path.write_text(markdown(table, spec), encoding="utf-8")
    return [csv_path, md_path]
