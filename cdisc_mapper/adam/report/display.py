"""The summary table as people read it: one table per parameter (and one for the clinical
change count), numbers rounded to the spec's decimals, p-values below the last decimal as
``<0.0001``. The CSV keeps full precision; this is for the MD and HTML twins."""

from __future__ import annotations

import math

import pandas as pd

from cdisc_mapper.spec.adam import ProgressionSummarySpec
from cdisc_mapper.textops import format_number


def _num(x: object, decimals: int) -> str:
    if x is None or not isinstance(x, (int, float)) or not math.isfinite(x):
        return ""
    return format_number(float(x), decimals)


def fmt_p(p: object, decimals: int) -> str:
    """A p-value with ``decimals`` decimals, or ``<0.0001`` (etc.) below the last one."""
    if p is None or not isinstance(p, (int, float)) or not math.isfinite(p):
        return ""
    floor = 10.0**-decimals
    return f"<{format_number(floor, decimals)}" if p < floor else format_number(p, decimals)


def _median_iqr(r: pd.Series, d: int) -> str:
    med = _num(r["median_improvement_pct"], d)
    if not med:
        return ""
    return f"{med} ({_num(r['q1_improvement_pct'], d)} to {_num(r['q3_improvement_pct'], d)})"


def _hl(r: pd.Series, d: int) -> str:
    est = _num(r["hl_estimate"], d)
    if not est:
        return ""
    lo, hi = _num(r["hl_lower"], d), _num(r["hl_upper"], d)
    return f"{est} ({lo} to {hi})" if lo else est


def _parameter_table(part: pd.DataFrame, spec: ProgressionSummarySpec) -> pd.DataFrame:
    d, rd = spec.decimals, spec.decimals + 2
    conf = f"{100 * spec.hodges_lehmann.confidence:g}%"
    rows = []
    for _, r in part.iterrows():
        row = {
            "Period": r["period"],
            "Responders n/N": r["responders_n_over_n"],
            "%": _num(r["responders_pct"], d),
            "Mean improvement %": _num(r["mean_improvement_pct"], d),
            "Mean improvement among responders %": _num(r["mean_improvement_responders_pct"], d),
            "Median improvement % (IQR)": _median_iqr(r, d),
        }
        row |= {label: r[f"{flag.lower()}_n_over_n"] for flag, label in spec.extra_flags.items()}
        row |= {
            "Mean run-in rate": _num(r["mean_base"], rd),
            "Mean treatment rate": _num(r["mean_aval"], rd),
            f"Hodges-Lehmann AVAL - BASE ({conf} CI)": _hl(r, rd),
            "Wilcoxon n": str(r["wilcoxon_n"]),
            "Wilcoxon statistic": _num(r["wilcoxon_statistic"], 1),
            "p": fmt_p(r["wilcoxon_p"], spec.p_decimals),
            "Wilcoxon method": str(r["wilcoxon_method"]),
        }
        if spec.reason_variable is not None:
            row["Not evaluable, reported apart"] = str(r["not_evaluable"])
        rows.append(row)
    return pd.DataFrame(rows)


def display_table(
    table: pd.DataFrame, spec: ProgressionSummarySpec
) -> list[tuple[str, pd.DataFrame]]:
    """(heading, table of text) per parameter, then the clinical change count if any."""
    out = []
    params = table[table["paramcd"].isin(spec.parameters)]
    for paramcd, part in params.groupby("paramcd", sort=False):
        out.append((f"{part['parameter'].iloc[0]} ({paramcd})", _parameter_table(part, spec)))
    cc = spec.clinical_change
    if cc is not None:
        r = table.iloc[-1]
        shown = pd.DataFrame(
            [
                {
                    "Rule": r["period"],
                    "Subjects n/N": r["responders_n_over_n"],
                    "%": _num(r["responders_pct"], spec.decimals),
                }
            ]
        )
        out.append((f"{cc.label} ({cc.paramcd})", shown))
    return out
