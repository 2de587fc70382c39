"""The files and figures a progression summary makes (no plotting or statistics library loaded, so a
process that publishes them does not load one)."""

from __future__ import annotations

from cdisc_mapper.spec.adam import ProgressionSummarySpec


def summary_files(spec: ProgressionSummarySpec) -> list[str]:
    """The names :func:`~cdisc_mapper.adam.summary.write_summary` writes: ``<name>.csv``,
    ``.md`` and ``.html``."""
    return [f"{spec.name}.csv", f"{spec.name}.md", f"{spec.name}.html"]


def figure_count(spec: ProgressionSummarySpec) -> int:
    """How many figures a summary draws: its trajectories, the paired plot, the
    waterfall (:func:`~cdisc_mapper.adam.report.figures.report_figures`)."""
    return 0 if spec.figures is None else len(spec.figures.trajectories) + 2
