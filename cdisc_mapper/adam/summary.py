"""The progression summary: responders, mean improvement and a Wilcoxon signed-rank test
per parameter and treatment interval, from the progression dataset alone.

Shape of the published results (Petrou et al. 2021): for each interval, the patients whose
monthly progression rate improved by at least 25% over the run-in (n/N), the mean percent
improvement, and for the whole period a Wilcoxon signed-rank test of run-in versus
treatment slopes. What is counted (population flag, rows, responder flag, improvement
variable) is the spec's; nothing here knows the study.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cdisc_mapper.condition import evaluate
from cdisc_mapper.spec.adam import ProgressionSummarySpec
from cdisc_mapper.textops import format_number, neutralise_formula

COLUMNS = [
    "paramcd",
    "parameter",
    "period",
    "n_subjects",
    "responders",
    "evaluable",
    "responders_n_over_n",
    "responders_pct",
    "mean_improvement_pct",
    "median_improvement_pct",
    "mean_base",
    "mean_aval",
    "wilcoxon_n",
    "wilcoxon_statistic",
    "wilcoxon_p",
]


def _fmt(x: float, decimals: int) -> str:
    return "" if x is None or not np.isfinite(x) else format_number(float(x), decimals)


def _extra_column(flag: str) -> str:
    """CSV column of a further criterion flag, e.g. ``crit2fl_n_over_n``."""
    return f"{flag.lower()}_n_over_n"


def _fmt_p(p: float, decimals: int) -> str:
    """A p-value with ``decimals`` decimals, or ``<0.0001`` (etc.) below the last one."""
    if p is None or not np.isfinite(p):
        return ""
    floor = 10.0**-decimals
    return f"<{format_number(floor, decimals)}" if p < floor else format_number(p, decimals)


def wilcoxon_p(aval: np.ndarray, base: np.ndarray) -> tuple[int, float, float]:
    """Two-sided Wilcoxon signed-rank test of paired ``aval`` vs ``base`` (scipy defaults:
    zero differences dropped, exact distribution for small samples without ties). Returns
    (pairs, statistic, p); NaN when fewer than two non-zero differences."""
    ok = ~np.isnan(aval) & ~np.isnan(base)
    diff = aval[ok] - base[ok]
    n = int(ok.sum())
    if np.count_nonzero(diff) < 2:
        return n, float("nan"), float("nan")
    res = stats.wilcoxon(aval[ok], base[ok], alternative="two-sided")
    return n, float(res.statistic), float(res.pvalue)


def progression_summary(frame: pd.DataFrame, spec: ProgressionSummarySpec) -> pd.DataFrame:
    """The summary table (one row per parameter and analysis row), numbers as text with a
    fixed number of decimals (so reruns are byte-identical)."""
    pop = frame[frame[spec.population].astype(str).eq("Y")]
    rows = []
    d = spec.decimals
    for paramcd in spec.parameters:
        par = pop[pop["PARAMCD"].eq(paramcd)]
        label = par["PARAM"].iloc[0] if len(par) else paramcd
        for row in spec.rows:
            sub = par[evaluate(row.where, par).to_numpy()]
            flag = sub[spec.responder_flag].astype(str)
            evaluable = int(flag.isin(["Y", "N"]).sum())
            responders = int(flag.eq("Y").sum())
            imp = sub[spec.improvement].to_numpy(dtype="float64")
            imp = imp[~np.isnan(imp)]
            aval = sub["AVAL"].to_numpy(dtype="float64")
            base = sub["BASE"].to_numpy(dtype="float64")
            n_w, stat, p = wilcoxon_p(aval, base)
            both = ~np.isnan(aval) & ~np.isnan(base)
            rec = {
                "paramcd": paramcd,
                "parameter": label,
                "period": row.label,
                "n_subjects": str(sub["USUBJID"].nunique()),
                "responders": str(responders),
                "evaluable": str(evaluable),
                "responders_n_over_n": f"{responders}/{evaluable}",
                "responders_pct": _fmt(100.0 * responders / evaluable, d) if evaluable else "",
                "mean_improvement_pct": _fmt(imp.mean(), d) if len(imp) else "",
                "median_improvement_pct": _fmt(float(np.median(imp)), d) if len(imp) else "",
                "mean_base": _fmt(base[both].mean(), 3) if both.any() else "",
                "mean_aval": _fmt(aval[both].mean(), 3) if both.any() else "",
                "wilcoxon_n": str(n_w),
                "wilcoxon_statistic": _fmt(stat, 1),
                "wilcoxon_p": _fmt_p(p, spec.p_decimals),
            }
            for flag_var in spec.extra_flags:
                f = sub[flag_var].astype(str)
                rec[_extra_column(flag_var)] = (
                    f"{int(f.eq('Y').sum())}/{int(f.isin(['Y', 'N']).sum())}"
                )
            rows.append(rec)
    columns = COLUMNS + [_extra_column(f) for f in spec.extra_flags]
    return pd.DataFrame(rows, columns=columns)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def summary_files(spec: ProgressionSummarySpec) -> list[str]:
    """The names :func:`write_summary` writes: ``<name>.csv`` and ``<name>.md``."""
    return [f"{spec.name}.csv", f"{spec.name}.md"]


def write_summary(table: pd.DataFrame, spec: ProgressionSummarySpec, out_dir: Path) -> list[Path]:
    """Write ``<name>.csv`` and a readable ``<name>.md`` twin into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_name, md_name = summary_files(spec)
    csv_path = out_dir / csv_name
    table.map(neutralise_formula).to_csv(csv_path, index=False, lineterminator="\n")
    md_path = out_dir / md_name
    lines = [f"# {spec.title}", ""]
    lines.append(
        f"Source: {spec.dataset}, population {spec.population} = 'Y'. Responder: "
        f"{spec.responder_label}. Improvement: {spec.improvement}. Wilcoxon signed-rank test, "
        "two-sided, of AVAL (treatment rate) against BASE (run-in rate)."
    )
    lines.append("")
    for paramcd, part in table.groupby("paramcd", sort=False):
        lines.append(f"## {part['parameter'].iloc[0]} ({paramcd})")
        lines.append("")
        head = ["Period", "Responders n/N", "%", "Mean improvement %", "Median improvement %"]
        head += list(spec.extra_flags.values())
        head += ["Mean run-in rate", "Mean treatment rate", "Wilcoxon n", "p"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for _, r in part.iterrows():
            cells = [
                r["period"],
                r["responders_n_over_n"],
                r["responders_pct"],
                r["mean_improvement_pct"],
                r["median_improvement_pct"],
                *[r[_extra_column(f)] for f in spec.extra_flags],
                r["mean_base"],
                r["mean_aval"],
                r["wilcoxon_n"],
                r["wilcoxon_p"],
            ]
            lines.append("| " + " | ".join(_md_escape(str(c)) for c in cells) + " |")
        lines.append("")
    if spec.notes:
        lines.append("Notes:")
        lines.append("")
        lines += [f"- {n}" for n in spec.notes]
        lines.append("")
    md_path.write_text("\n".join(lines), encoding="utf-8")
    return [csv_path, md_path]
