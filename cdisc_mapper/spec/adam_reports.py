"""Checks of a study's ADaM report specs (``<study>/adam/reports.yaml``).

:func:`check_reports` checks that every report names a dataset with a spec and variables
that dataset has, as a :class:`~cdisc_mapper.errors.SpecError` at the report's line;
:func:`report_sources` lists the other datasets a report reads.
"""

from __future__ import annotations

from cdisc_mapper.errors import SpecError
from cdisc_mapper.spec.adam import ProgressionSummarySpec
from cdisc_mapper.spec.adam_specs import AdamSpecs
from cdisc_mapper.spec.yamlio import SpecDocument


def check_reports(specs: AdamSpecs) -> None:
    """Every report names a dataset with a spec and variables that dataset has."""
    doc = specs.documents.get("reports")
    for i, rep in enumerate(specs.reports.progression_summaries):
        ds = specs.datasets.get(rep.dataset)
        if ds is None:
            raise SpecError(
                f"report {rep.name}: dataset {rep.dataset} has no spec",
                where=doc.where(("progression_summaries", i, "dataset")) if doc else None,
            )
        wanted = {rep.population, rep.responder_flag, rep.improvement, *rep.extra_flags}
        for row in rep.rows:
            wanted |= row.where.variables()
        if rep.figures is not None and rep.figures.markers is not None:
            wanted |= rep.figures.markers.variables() | {"APERSDT"}
        labels = [row.label for row in rep.rows]
        if rep.figures is not None and rep.figures.row not in labels:
            raise SpecError(
                f"report {rep.name}: figures: row {rep.figures.row!r} is not the label of a "
                f"row (rows: {', '.join(repr(x) for x in labels)})",
                where=doc.where(("progression_summaries", i, "figures", "row")) if doc else None,
            )
        needs = {rep.dataset: wanted} | report_sources(rep)
        for name, variables in needs.items():
            _check_report_variables(specs, doc, i, rep.name, name, variables)


def report_sources(rep: ProgressionSummarySpec) -> dict[str, set[str]]:
    """The other datasets a report reads and the variables it reads from each."""
    needs: dict[str, set[str]] = {}
    cc = rep.clinical_change
    if cc is not None:
        where = cc.where.variables() if cc.where is not None else set()
        needs.setdefault(cc.dataset, set()).update({"PARAMCD", "AVAL", cc.date} | where)
        needs.setdefault("ADSL", set()).update({rep.population, cc.reference})
    for traj in rep.figures.trajectories if rep.figures is not None else []:
        where = traj.where.variables() if traj.where is not None else set()
        needs.setdefault(traj.dataset, set()).update({"PARAMCD", "AVAL", "ADT"} | where)
        if traj.fit_where is not None:
            needs.setdefault(rep.dataset, set()).update(traj.fit_where.variables())
    return needs


def _check_report_variables(
    specs: AdamSpecs, doc: SpecDocument | None, i: int, report: str, name: str, wanted: set[str]
) -> None:
    ds = specs.datasets.get(name)
    if ds is None:
        raise SpecError(
            f"report {report}: dataset {name} has no spec",
            where=doc.where(("progression_summaries", i)) if doc else None,
        )
    for v in sorted(wanted):
        if v not in ds.variables:
            raise SpecError(
                f"report {report}: {name} has no variable {v}",
                where=doc.where(("progression_summaries", i)) if doc else None,
            )
