"""The reports of ``adam/reports.yaml`` made by an executor's workers while this process
writes the datasets: each progression summary's table (with its CSV and Markdown files)
and each of its figures is a task of its own, reading back only the records it needs from
what the parts kept (:class:`~cdisc_mapper.adam.kept.Streamed`); this process then
assembles each page from its table and its figures, in order
(:func:`~cdisc_mapper.adam.report.html.write_page`). The files are those
:func:`~cdisc_mapper.adam.summary.write_summary` writes.

A trajectory figure draws the first subjects of the population (``max_subjects``, by
USUBJID), whose records are all in the leading parts (the parts are contiguous ranges of
the sorted USUBJIDs): it is drawn as soon as the parts done hold that many subjects of
the population (:class:`EarlyFigures`), while the other parts are derived, from their
records alone; the same figure, since it reads no other subject's records.

The tasks import :mod:`cdisc_mapper.adam.summary` and the figures (scipy, matplotlib)
when they run, in the workers: this process, which only assembles pages, never loads
them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdisc_mapper.adam.kept import Streamed, report_needs
from cdisc_mapper.adam.partition import worker_specs
from cdisc_mapper.adam.report.files import figure_count
from cdisc_mapper.adam.report.html import write_page
from cdisc_mapper.adam.report.rows import shown_subjects
from cdisc_mapper.adam.stream import PartDone, collect
from cdisc_mapper.spec.adam_loader import AdamSpecs

Needs = dict[str, set[str] | None]

log = logging.getLogger(__name__)


def _specs(study: AdamSpecs | Path) -> AdamSpecs:
    return study if isinstance(study, AdamSpecs) else worker_specs(study)


def _read(streamed: Streamed, needs: Needs) -> dict[str, pd.DataFrame]:
    return {n: streamed.records(n, codes) for n, codes in needs.items() if n in streamed.datasets}


def make_table(
    study: AdamSpecs | Path, streamed: Streamed, index: int, folder: Path
) -> tuple[pd.DataFrame, list[Path]]:
    """Progression summary ``index``'s table and its CSV and Markdown files (written into
    ``folder``), from the records it reads (here or in a worker: ``study`` then the study
    folder)."""
    from cdisc_mapper.adam.summary import progression_summary, write_tables  # noqa: PLC0415

    specs = _specs(study)
    rep = specs.reports.progression_summaries[index]
    frames = _read(streamed, report_needs(specs, [rep], trajectories=False))
    table = progression_summary(frames, rep)
    return table, write_tables(table, rep, folder)


def make_figure(
    study: AdamSpecs | Path, streamed: Streamed, index: int, k: int
) -> tuple[str, bytes]:
    """Figure ``k`` of progression summary ``index`` (caption, PNG), from the records it
    reads (here or in a worker)."""
    from cdisc_mapper.adam.report.figures import figure_needs, report_figure  # noqa: PLC0415

    specs = _specs(study)
    rep = specs.reports.progression_summaries[index]
    frames = _read(streamed, figure_needs(rep, k))
    return report_figure(frames, rep, specs.conventions.month_days, k)


@dataclass
class ReportTasks:
    """The reports' tasks handed to an executor: per summary, its table and its
    figures."""

    tables: list[Future[tuple[pd.DataFrame, list[Path]]]]
    figures: list[list[Future[tuple[str, bytes]]]]

    def finish(self, specs: AdamSpecs, folder: Path) -> tuple[dict[str, pd.DataFrame], list[Path]]:
        """Each summary's table and its files (CSV, Markdown, then the page assembled
        here), in the specs' order; a task's error is raised here."""
        reports: dict[str, pd.DataFrame] = {}
        written: list[Path] = []
        for rep, table, figures in zip(specs.reports.progression_summaries, self.tables,
                                       self.figures, strict=True):  # fmt: skip
            frame, files = table.result()
            drawn = [f.result() for f in figures]
            reports[rep.name] = frame
            written += [*files, write_page(frame, rep, drawn, folder)]
        return reports, written


Drawn = dict[tuple[int, int], Future[tuple[str, bytes]]]


class EarlyFigures:
    """Called with each part done (in part order) while the parts are derived by
    ``executor``: hands out the trajectory figures of a summary once the parts done hold
    the subjects they draw (see the module docstring)."""

    def __init__(
        self, executor: Executor, study_dir: Path, specs: AdamSpecs, missing_last: bool
    ) -> None:
        self.executor, self.study_dir, self.specs = executor, study_dir, specs
        self.missing_last = missing_last
        self.done: list[PartDone] = []
        self.drawn: Drawn = {}
        reps = enumerate(specs.reports.progression_summaries)
        self.waiting = [i for i, rep in reps if rep.figures and rep.figures.trajectories]

    def __call__(self, part: PartDone) -> None:
        self.done.append(part)
        if not self.waiting:
            return
        leading = collect(iter(self.done), self.missing_last)
        for i in list(self.waiting):
            rep = self.specs.reports.progression_summaries[i]
            assert rep.figures is not None
            most = rep.figures.max_subjects
            if len(shown_subjects(leading.records(rep.dataset, None), rep, most)) < most:
                continue
            self.waiting.remove(i)
            log.debug("%s: trajectories drawn from the first %d parts", rep.name, len(self.done))
            for k in range(len(rep.figures.trajectories)):
                future = self.executor.submit(make_figure, self.study_dir, leading, i, k)
                self.drawn[i, k] = future


def submit_reports(
    executor: Executor,
    study_dir: Path,
    specs: AdamSpecs,
    streamed: Streamed,
    folder: Path,
    drawn: Drawn | None = None,
) -> ReportTasks:
    """The tables' and figures' tasks of every summary, handed to ``executor`` (the
    figures first: they take longest), but for the figures ``drawn`` already."""
    reps = list(enumerate(specs.reports.progression_summaries))
    submit: Callable[..., Future[tuple[str, bytes]]] = executor.submit
    early = drawn or {}
    figures = [
        [
            early.get((i, k)) or submit(make_figure, study_dir, streamed, i, k)
            for k in range(figure_count(rep))
        ]
        for i, rep in reps
    ]
    tables = [executor.submit(make_table, study_dir, streamed, i, folder) for i, _ in reps]
    return ReportTasks(tables, figures)
