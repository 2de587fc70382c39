"""The sentence stating a progression summary's source, population and methods: the
report's tables and page print it, and define.xml's Analysis Results Metadata cite it
(:mod:`cdisc_mapper.define.arm`), which therefore needs none of the report's statistics
or figures (scipy, matplotlib)."""

from __future__ import annotations

from cdisc_mapper.spec.adam import ProgressionSummarySpec


def method_text(spec: ProgressionSummarySpec) -> str:
    """The sentence stating the source, population and methods."""
    return (
        f"Source: {spec.dataset}, population {spec.population} = 'Y'. Responder: "
        f"{spec.responder_label}. Improvement: {spec.improvement} (median and quartiles: "
        f"numpy quantile method '{spec.quantile_method}'). Wilcoxon signed-rank test, "
        "two-sided, of AVAL (treatment rate) against BASE (run-in rate); statistic = the "
        "smaller signed-rank sum. Hodges-Lehmann estimate = median of the Walsh averages of "
        "AVAL - BASE; its interval from the Walsh averages' order statistics."
    )
