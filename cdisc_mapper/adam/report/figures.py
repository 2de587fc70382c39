"""The figures of the progression report (matplotlib, Agg canvas, no pyplot state), as
PNG bytes that are identical from run to run (no software or date metadata):

* :func:`trajectory_figure`: per subject, the source values over time (months from the
  subject's first marker: the spec's ``markers``, e.g. the injections), the markers as
  dashed vertical lines and each period's fitted progression line (slope AVAL per month
  from ASTDT to AENDT, through the mean of the period's values: the least-squares line);
* :func:`paired_figure`: per parameter, each subject's run-in rate (BASE) joined to its
  treatment rate (AVAL) in the figure's row, responders in another colour;
* :func:`waterfall_figure`: per parameter, the subjects' percent improvement in
  decreasing order with the responder threshold as a line.
"""

from __future__ import annotations

import contextlib
import io
import math
import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from cdisc_mapper.adam.report.files import figure_count
from cdisc_mapper.adam.report.rows import (
    condition_columns,
    narrowed,
    row_columns,
    row_records,
    shown_subjects,
)
from cdisc_mapper.condition import evaluate
from cdisc_mapper.spec.adam import ProgressionSummarySpec
from cdisc_mapper.spec.figures import FiguresSpec, TrajectorySpec

RESPONDER = "#1b7837"
OTHER = "#b2182b"
#: Above this many subjects a panel draws its lines as one collection, without labels.
MANY = 500
COLUMNS = 5
DPI = 80


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG, without metadata that would change between runs.

    The layout engine (constrained layout) runs once, here, at the PNG's resolution; the
    figure is then saved without it. ``savefig`` would otherwise draw the whole figure
    once without rendering only to run the engine first: the same positions, so the same
    bytes, at about 15% less time."""
    FigureCanvasAgg(fig)
    engine = fig.get_layout_engine()
    if engine is not None:
        fig.set_dpi(DPI)
        with contextlib.suppress(ValueError):  # as Figure.draw: the layout is then left as is
            engine.execute(fig)
        fig.set_layout_engine("none")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _of_subjects(frame: pd.DataFrame, subjects: list[str]) -> pd.DataFrame:
    """The records of ``subjects`` (in their order), USUBJID as text."""
    ids = frame["USUBJID"].astype(str)
    keep = ids.isin(subjects).to_numpy()
    return frame[keep].assign(USUBJID=ids[keep])


def marker_dates(frame: pd.DataFrame, figures: FiguresSpec) -> dict[str, list[float]]:
    """Per subject, the start dates (APERSDT) of the records the spec's ``markers``
    choose."""
    if figures.markers is None:
        return {}
    marked = frame[evaluate(figures.markers, frame).to_numpy()].dropna(subset=["APERSDT"])
    return {
        str(s): sorted(set(g["APERSDT"].astype(float)))
        for s, g in marked.groupby("USUBJID", sort=True)
    }


def _fit_lines(
    values: pd.DataFrame, fits: pd.DataFrame, origin: float, month_days: float
) -> list[tuple[list[float], list[float]]]:
    """Each fitted record's line in months from ``origin``: through the mean (date, value)
    of its values dated ASTDT..AENDT, with slope AVAL per month."""
    lines = []
    dates = values["ADT"].to_numpy(dtype="float64")
    scores = values["AVAL"].to_numpy(dtype="float64")
    for start, end, slope in fits[["ASTDT", "AENDT", "AVAL"]].to_numpy(dtype="float64"):
        inside = (dates >= start) & (dates <= end)
        if not inside.any() or not np.isfinite(slope):
            continue
        xbar = (float(dates[inside].mean()) - origin) / month_days
        ybar = float(scores[inside].mean())
        xs = [(float(start) - origin) / month_days, (float(end) - origin) / month_days]
        lines.append((xs, [ybar + float(slope) * (x - xbar) for x in xs]))
    return lines


def _suptitle(fig: Figure, title: str) -> None:
    """The figure's title, wrapped to its width (a row label may be long)."""
    chars = max(40, int(fig.get_figwidth() * DPI / 8))  # about 8 pixels a character
    fig.suptitle(textwrap.fill(title, chars))


def _grid(n: int, title: str) -> tuple[Figure, list[Axes]]:
    rows = max(1, math.ceil(n / COLUMNS))
    fig = Figure(figsize=(COLUMNS * 2.6, rows * 2.1 + 0.6), layout="constrained")
    _suptitle(fig, title)
    axes = fig.subplots(rows, COLUMNS, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes


def trajectory_figure(
    datasets: Mapping[str, pd.DataFrame],
    spec: ProgressionSummarySpec,
    traj: TrajectorySpec,
    month_days: float,
) -> Figure:
    """Per-subject trajectories of one source parameter with the fitted lines."""
    assert spec.figures is not None
    prog = datasets[spec.dataset]
    read = ["USUBJID", "PARAMCD", "ADT", "AVAL"]
    source = narrowed(datasets[traj.dataset], read + condition_columns(traj.where))
    source = source[source["PARAMCD"].eq(traj.source_paramcd).to_numpy()]
    if traj.where is not None:
        source = source[evaluate(traj.where, source).to_numpy()]
    lines = ["USUBJID", "PARAMCD", "ASTDT", "AENDT", "AVAL"]
    fits = narrowed(prog, lines + condition_columns(traj.fit_where))
    fits = fits[fits["PARAMCD"].eq(traj.paramcd).to_numpy()]
    if traj.fit_where is not None:
        fits = fits[evaluate(traj.fit_where, fits).to_numpy()]
    fits = fits.dropna(subset=["AVAL", "ASTDT", "AENDT"])
    subjects = shown_subjects(narrowed(prog, ["USUBJID", spec.population]), spec,
                              spec.figures.max_subjects)  # fmt: skip
    marked = ["USUBJID"]
    if spec.figures.markers is not None:
        marked += ["APERSDT", *condition_columns(spec.figures.markers)]
    # only the subjects shown are looked at (the records of each in their order)
    source, fits, prog = (_of_subjects(f, subjects) for f in (source, fits, narrowed(prog, marked)))
    markers = marker_dates(prog, spec.figures)
    fig, axes = _grid(len(subjects), f"{traj.label}: per subject, fitted {traj.paramcd} lines")
    for ax, subj in zip(axes, subjects, strict=False):
        values = source[source["USUBJID"].eq(subj)].dropna(subset=["ADT", "AVAL"])
        values = values.sort_values("ADT", kind="stable")
        marks = markers.get(subj, [])
        origin = marks[0] if marks else (values["ADT"].min() if len(values) else 0.0)
        ax.plot((values["ADT"] - origin) / month_days, values["AVAL"], "o", ms=3, color="#444")
        for day in marks:
            ax.axvline((day - origin) / month_days, color="#2166ac", ls="--", lw=0.8)
        own = fits[fits["USUBJID"].eq(subj)]
        for xs, ys in _fit_lines(values, own, origin, month_days):
            ax.plot(xs, ys, "-", lw=1.4, color="#d6604d")
        ax.set_title(subj, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel(traj.label, fontsize=8)
    fig.supxlabel(spec.figures.time_axis_title(), fontsize=9)
    return fig


def _figure_rows(
    datasets: Mapping[str, pd.DataFrame], spec: ProgressionSummarySpec
) -> dict[str, pd.DataFrame]:
    """Per parameter, the population's records of the figures' row."""
    assert spec.figures is not None
    row = next(r for r in spec.rows if r.label == spec.figures.row)
    shown = ["USUBJID", "PARAMCD", "AVAL", "BASE", spec.responder_flag, spec.improvement]
    prog = narrowed(datasets[spec.dataset], shown + row_columns(spec))
    return {
        p: row_records(prog[prog["PARAMCD"].eq(p).to_numpy()], spec, row) for p in spec.parameters
    }


def paired_figure(datasets: Mapping[str, pd.DataFrame], spec: ProgressionSummarySpec) -> Figure:
    """Run-in rate (BASE) against treatment rate (AVAL) per subject, one panel per parameter."""
    assert spec.figures is not None
    parts = _figure_rows(datasets, spec)
    fig = Figure(figsize=(3.4 * len(parts), 4.0), layout="constrained")
    _suptitle(fig, f"Run-in versus treatment rate: {spec.figures.row}")
    axes = fig.subplots(1, len(parts), squeeze=False).ravel()
    for ax, (paramcd, sub) in zip(axes, parts.items(), strict=True):
        pairs = sub.dropna(subset=["AVAL", "BASE"]).sort_values("USUBJID", kind="stable")
        if len(pairs) > MANY:
            _paired_lines(ax, pairs, spec.responder_flag)
        for rec in pairs.itertuples(index=False) if len(pairs) <= MANY else ():
            good = str(getattr(rec, spec.responder_flag)) == "Y"
            ax.plot(
                [0, 1],
                [rec.BASE, rec.AVAL],
                "o-",
                ms=3,
                lw=0.9,
                color=RESPONDER if good else OTHER,
                alpha=0.8,
            )
        ax.set_xticks([0, 1], ["run-in", "treatment"])
        ax.set_xlim(-0.3, 1.3)
        ax.axhline(0, color="#999", lw=0.6)
        ax.set_title(paramcd, fontsize=9)
        ax.set_ylabel("rate per month", fontsize=8)
    fig.supxlabel(f"green: {spec.responder_flag} = 'Y'; red: not", fontsize=8)
    return fig


def _paired_lines(ax: Axes, pairs: pd.DataFrame, flag: str) -> None:
    """The paired plot of many subjects: the lines as one collection, the points as one
    scatter (matplotlib draws thousands of separate lines slowly)."""
    good = pairs[flag].astype(str).eq("Y").to_numpy()
    colors = np.where(good, RESPONDER, OTHER)
    base = pairs["BASE"].to_numpy(dtype="float64")
    aval = pairs["AVAL"].to_numpy(dtype="float64")
    segments = np.stack([np.column_stack([np.zeros_like(base), base]),
                         np.column_stack([np.ones_like(aval), aval])], axis=1)  # fmt: skip
    ax.add_collection(LineCollection(list(segments), colors=list(colors), lw=0.5, alpha=0.5))
    ax.scatter(np.r_[np.zeros_like(base), np.ones_like(aval)], np.r_[base, aval],
               s=2, c=np.r_[colors, colors])  # fmt: skip
    ax.autoscale_view()


def waterfall_figure(datasets: Mapping[str, pd.DataFrame], spec: ProgressionSummarySpec) -> Figure:
    """Percent improvement per subject, decreasing, with the threshold line; bars beyond
    the clip limit are cut and labelled with their value."""
    assert spec.figures is not None
    clip, threshold = spec.figures.clip, spec.figures.threshold
    parts = _figure_rows(datasets, spec)
    fig = Figure(figsize=(4.2 * len(parts), 4.0), layout="constrained")
    _suptitle(fig, f"Percent improvement of the rate vs run-in: {spec.figures.row}")
    axes = fig.subplots(1, len(parts), squeeze=False).ravel()
    for ax, (paramcd, records) in zip(axes, parts.items(), strict=True):
        order = records.dropna(subset=[spec.improvement]).sort_values(
            [spec.improvement, "USUBJID"], ascending=[False, True]
        )
        imp = order[spec.improvement].to_numpy(dtype="float64")
        good = order[spec.responder_flag].astype(str).eq("Y").to_numpy()
        xs = np.arange(len(imp))
        colors = np.where(good, RESPONDER, OTHER)
        if len(imp) > MANY:  # one line per subject (a single artist) instead of bars
            ax.vlines(xs, 0, np.clip(imp, -clip, clip), colors=colors, lw=0.5)
        else:
            ax.bar(xs, np.clip(imp, -clip, clip), color=colors)
        for x, v in zip(xs, imp, strict=True) if len(imp) <= MANY else ():
            if abs(v) > clip:
                ax.text(
                    x,
                    math.copysign(clip, v),
                    f"{v:.0f}",
                    fontsize=6,
                    ha="center",
                    va="bottom" if v > 0 else "top",
                    rotation=90,
                )
        ax.axhline(threshold, color="#2166ac", ls="--", lw=1.0)
        ax.axhline(0, color="#999", lw=0.6)
        ax.set_ylim(-clip * 1.15, clip * 1.15)
        ax.set_xticks([])
        ax.set_title(f"{paramcd} (dashed: {threshold:g}%)", fontsize=9)
        ax.set_ylabel(f"{spec.improvement} (%)", fontsize=8)
    return fig


def report_figures(
    datasets: Mapping[str, pd.DataFrame], spec: ProgressionSummarySpec, month_days: float
) -> list[tuple[str, bytes]]:
    """(caption, PNG) of every figure of the spec, in order: the trajectories, the paired
    plot, the waterfall."""
    return [report_figure(datasets, spec, month_days, k) for k in range(figure_count(spec))]


def figure_needs(spec: ProgressionSummarySpec, k: int) -> dict[str, set[str] | None]:
    """The records figure ``k`` reads, by dataset: the summarised dataset whole, and a
    trajectory's source parameter."""
    assert spec.figures is not None
    needs: dict[str, set[str] | None] = {spec.dataset: None}
    if k < len(spec.figures.trajectories):
        traj = spec.figures.trajectories[k]
        if traj.dataset != spec.dataset:
            needs[traj.dataset] = {traj.source_paramcd}
    return needs


def report_figure(
    datasets: Mapping[str, pd.DataFrame], spec: ProgressionSummarySpec, month_days: float, k: int
) -> tuple[str, bytes]:
    """(caption, PNG) of figure ``k`` of :func:`report_figures` (each drawn on its own,
    so that several can be drawn at once in different processes)."""
    assert spec.figures is not None
    trajectories = spec.figures.trajectories
    if k < len(trajectories):
        traj = trajectories[k]
        fig = trajectory_figure(datasets, spec, traj, month_days)
        caption = f"{traj.label} per subject with the fitted {traj.paramcd} lines"
    elif k == len(trajectories):
        fig, caption = paired_figure(datasets, spec), "Run-in versus treatment rate per subject"
    else:
        fig, caption = waterfall_figure(datasets, spec), "Waterfall of the percent improvement"
    return caption, png_bytes(fig)
