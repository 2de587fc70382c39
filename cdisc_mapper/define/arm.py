"""Analysis Results Metadata (ARM 1.0 for Define-XML 2.1) from ``adam/reports.yaml``.

Each progression summary is one arm:ResultDisplay (its report file is the display's
document) and each of its results one arm:AnalysisResult: per parameter and analysis row,
the responders n/N, the percent improvement and the Wilcoxon signed-rank test of AVAL
against BASE with the Hodges-Lehmann estimate (:mod:`cdisc_mapper.adam.summary`). A result
names (ARM 1.0 section 3.2):

* its parameter (``ParameterOID``: the dataset's PARAMCD item);
* the records analysed: a def:WhereClauseDef of ``PARAMCD = code``, the population flag
  ``= 'Y'`` and the row's condition (when a where clause can say it; the documentation
  states the selection in words either way); a population flag the dataset lacks is
  taken from ADSL, with its own where clause;
* the analysis variables (AVAL, BASE, the improvement, responder and criterion flags);
* the documentation (the statistics in words, with the report's notes) and the
  programming statement: a Python snippet that recomputes the row from the XPT file.

What the spec says is the only source: nothing here knows the study.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdisc_mapper.adam.report.method import method_text
from cdisc_mapper.condition import describe as condition_text
from cdisc_mapper.condition import range_checks
from cdisc_mapper.define.model import (
    AnalysisDatasetRef,
    AnalysisResultDef,
    DefineModel,
    DocRef,
    Leaf,
    ResultDisplayDef,
    oid_part,
)
from cdisc_mapper.define.where import Check, where_clause
from cdisc_mapper.oids import item_group_oid, item_oid
from cdisc_mapper.spec.adam import ProgressionSummarySpec, ReportRow, ReportsSpec

#: Where a report is written, seen from the ADaM define.xml (OUT/adam -> OUT/reports).
REPORTS_HREF = "../reports"
CODE_CONTEXT = "Python 3 (pandas, NumPy, SciPy)"


def add_analysis_results(model: DefineModel, reports: ReportsSpec) -> None:
    """Add a ResultDisplay per progression summary of ``reports`` whose dataset the
    define.xml describes (its report is a def:leaf), with where clauses for the records
    each result analyses."""
    described = {ds.name for ds in model.datasets}
    for spec in reports.progression_summaries:
        if spec.dataset not in described:
            continue
        leaf = Leaf(
            id=f"LF.{oid_part(spec.name)}",
            href=f"{REPORTS_HREF}/{spec.name}.html",
            title=spec.title,
        )
        if leaf.id not in {lf.id for lf in model.leaves}:
            model.leaves.append(leaf)
        results = tuple(
            _result(model, spec, paramcd, number, row)
            for paramcd in spec.parameters
            for number, row in enumerate(spec.rows, start=1)
        ) + _clinical_result(model, spec)
        model.result_displays.append(
            ResultDisplayDef(
                oid=f"RD.{oid_part(spec.name)}",
                name=spec.title,
                description=_display_text(spec),
                results=results,
                document=DocRef(leaf.id),
            )
        )


def _display_text(spec: ProgressionSummarySpec) -> str:
    rows = "; ".join(row.label for row in spec.rows)
    return (
        f"One table per parameter ({', '.join(spec.parameters)}) of "
        f"{spec.dataset}, one row per analysis interval ({rows}): responders n/N, percent "
        f"improvement ({spec.improvement}), Wilcoxon signed-rank test of AVAL against BASE "
        "and the Hodges-Lehmann estimate of AVAL - BASE with its confidence interval. "
        + " ".join(spec.notes)
    ).strip()


def _result(
    model: DefineModel, spec: ProgressionSummarySpec, paramcd: str, number: int, row: ReportRow
) -> AnalysisResultDef:
    ds = spec.dataset
    datasets = [_analysis_dataset(model, spec, paramcd, row)]
    if not _has_item(model, ds, spec.population) and _has_item(model, "ADSL", spec.population):
        population = (spec.population, "EQ", ("Y",))
        datasets.append(
            AnalysisDatasetRef(item_group_oid("ADSL"), _where(model, "ADSL", [population]), ())
        )
    parameter = item_oid(ds, "PARAMCD")
    return AnalysisResultDef(
        oid=f"AR.{oid_part(spec.name)}.{oid_part(paramcd)}.{number}",
        description=f"{paramcd}, {row.label}: responders n/N, percent improvement and the "
        "Wilcoxon signed-rank test of AVAL against BASE",
        reason=spec.analysis_reason,
        purpose=spec.analysis_purpose,
        datasets=tuple(datasets),
        parameter_oid=parameter if parameter in model.items else None,
        documentation=_documentation(spec, paramcd, row),
        code=(CODE_CONTEXT, programming_code(spec, paramcd, row)),
    )


def _clinical_result(
    model: DefineModel, spec: ProgressionSummarySpec
) -> tuple[AnalysisResultDef, ...]:
    """The clinical change row (the report's last), when the define.xml describes its
    datasets: subjects of the population whose score changed by ``low`` to ``high``
    points from before to after the reference date."""
    cc = spec.clinical_change
    if cc is None or not all(_has_item(model, ds, "USUBJID") for ds in ("ADSL", cc.dataset)):
        return ()
    checks: list[Check] = [("PARAMCD", "EQ", (cc.paramcd,))]
    extra = range_checks(cc.where) if cc.where is not None else ()
    scores = _where(model, cc.dataset, checks + list(extra)) if extra is not None else None
    population = _where(model, "ADSL", [(spec.population, "EQ", ("Y",))])
    names = [(cc.dataset, "AVAL"), (cc.dataset, cc.date), ("ADSL", cc.reference)]
    oids = {ds: tuple(item_oid(ds, n) for d, n in names if d == ds and _has_item(model, d, n))
            for ds in (cc.dataset, "ADSL")}  # fmt: skip
    parameter = item_oid(cc.dataset, "PARAMCD")
    return (
        AnalysisResultDef(
            oid=f"AR.{oid_part(spec.name)}.{oid_part(cc.paramcd)}.CHANGE",
            description=f"{cc.label}: subjects whose {cc.paramcd} changed by {cc.low:g} to "
            f"{cc.high:g} points from before to after {cc.reference}",
            reason=spec.analysis_reason,
            purpose=spec.analysis_purpose,
            datasets=(
                AnalysisDatasetRef(item_group_oid(cc.dataset), scores, oids[cc.dataset]),
                AnalysisDatasetRef(item_group_oid("ADSL"), population, oids["ADSL"]),
            ),
            parameter_oid=parameter if parameter in model.items else None,
            documentation=_change_documentation(spec),
            code=(CODE_CONTEXT, change_code(spec)),
        ),
    )


def _change_documentation(spec: ProgressionSummarySpec) -> str:
    cc = spec.clinical_change
    assert cc is not None
    before = "on or before" if cc.before == "last_on_or_before" else "before"
    after = "first" if cc.after == "first_after" else "highest"
    where = f" where {condition_text(cc.where)}" if cc.where is not None else ""
    return (
        f"Subjects of ADSL with {spec.population} = 'Y' and {cc.reference} present; their "
        f"{cc.dataset} records with PARAMCD = '{cc.paramcd}'{where} and AVAL and {cc.date} "
        f"present. The score before is the last AVAL dated {before} {cc.reference}, the "
        f"score after the {after} AVAL dated after it; change = after - before; N = subjects "
        f"with both scores; counted: {cc.low:g} <= change <= {cc.high:g}."
    )


def change_code(spec: ProgressionSummarySpec) -> str:
    """A Python snippet that recounts the clinical change row from the XPT files."""
    cc = spec.clinical_change
    assert cc is not None
    checks = range_checks(cc.where) if cc.where is not None else ()
    tests = [f'(ds["PARAMCD"] == "{cc.paramcd}")']
    tests += [_pandas_test(v, c, vals) for v, c, vals in checks or ()]
    on = "<=" if cc.before == "last_on_or_before" else "<"
    pick = "first" if cc.after == "first_after" else "max"
    words = condition_text(cc.where) if cc.where is not None else ""
    lines = [
        "import pandas as pd",
        "",
        'adsl = pd.read_sas("adsl.xpt", format="xport", encoding="utf-8")',
        f'ds = pd.read_sas("{cc.dataset.lower()}.xpt", format="xport", encoding="utf-8")',
        *([] if checks is not None else [f"# keep only the records where {words}"]),
        f'subjects = adsl[adsl["{spec.population}"] == "Y"][["USUBJID", "{cc.reference}"]]',
        f'subjects = subjects.dropna(subset=["{cc.reference}"])',
        "scores = ds[" + " & ".join(tests) + "]",
        f'scores = scores.dropna(subset=["AVAL", "{cc.date}"])[["USUBJID", "{cc.date}", "AVAL"]]',
        'merged = scores.merge(subjects, on="USUBJID")',
        f'merged = merged.sort_values(["USUBJID", "{cc.date}"], kind="stable")',
        f'before = merged[merged["{cc.date}"] {on} merged["{cc.reference}"]]'
        '.groupby("USUBJID")["AVAL"].last()',
        f'after = merged[merged["{cc.date}"] > merged["{cc.reference}"]]'
        f'.groupby("USUBJID")["AVAL"].{pick}()',
        'both = pd.concat([before.rename("before"), after.rename("after")], axis=1).dropna()',
        'change = both["after"] - both["before"]',
        f"counted = int(change.between({cc.low:g}, {cc.high:g}).sum())",
        "n = len(change)",
    ]
    return "\n".join(lines)


def _has_item(model: DefineModel, dataset: str, name: str) -> bool:
    return item_oid(dataset, name) in model.items


def _where(model: DefineModel, dataset: str, checks: Sequence[Check]) -> str | None:
    """The OID of the where clause of ``checks`` (added to the model), None when one of
    its variables is not described."""
    clause = where_clause(dataset, checks)
    if any(check.item_oid not in model.items for check in clause.checks):
        return None
    return model.where_clauses.setdefault(clause.oid, clause).oid


def _analysis_dataset(
    model: DefineModel, spec: ProgressionSummarySpec, paramcd: str, row: ReportRow
) -> AnalysisDatasetRef:
    ds = spec.dataset
    checks: list[Check] = [("PARAMCD", "EQ", (paramcd,))]
    if _has_item(model, ds, spec.population):
        checks.append((spec.population, "EQ", ("Y",)))
    row_checks = range_checks(row.where)
    where = _where(model, ds, checks + list(row_checks)) if row_checks is not None else None
    names = ["AVAL", "BASE", spec.improvement, spec.responder_flag, *spec.extra_flags]
    if spec.reason_variable:
        names.append(spec.reason_variable)
    variables = tuple(item_oid(ds, n) for n in dict.fromkeys(names) if _has_item(model, ds, n))
    return AnalysisDatasetRef(item_group_oid(ds), where, variables)


def _documentation(spec: ProgressionSummarySpec, paramcd: str, row: ReportRow) -> str:
    w, h = spec.wilcoxon, spec.hodges_lehmann
    auto = "exact up to 50 pairs, else normal" if w.method == "auto" else w.method
    parts = [
        f"Records: {spec.dataset} with PARAMCD = '{paramcd}', {spec.population} = 'Y' and "
        f"{_grouped(row)}.",
        method_text(spec),
        f"Wilcoxon null distribution: {auto} (the normal approximation whenever a "
        "difference is zero or two tie in magnitude), continuity correction "
        f"{'on' if w.correction else 'off'}, zero differences: {w.zero_method}. "
        f"Hodges-Lehmann interval: {h.confidence:.0%}, {h.ci_method}.",
    ]
    return " ".join(parts)


def _grouped(row: ReportRow) -> str:
    """The row's condition in words, in parentheses when it is an ``any`` (so that it
    reads as one term after "and")."""
    words = condition_text(row.where)
    return f"({words})" if row.where.any is not None else words


def programming_code(spec: ProgressionSummarySpec, paramcd: str, row: ReportRow) -> str:
    """A Python snippet that recomputes the row's responders and Wilcoxon test from the
    dataset's XPT file (what the report does, written out)."""
    ds = spec.dataset
    selection = [f'(ds["PARAMCD"] == "{paramcd}")', f'(ds["{spec.population}"] == "Y")']
    checks = range_checks(row.where)
    selection += [_pandas_test(v, c, vals) for v, c, vals in checks or ()]
    w = spec.wilcoxon
    exact_test = "len(d) <= 50 and " if w.method == "auto" else ""
    exact = (
        "False"
        if w.method == "normal"
        else f"{exact_test}bool((np.abs(d) > 0).all()) and len(np.unique(np.abs(d))) == len(d)"
    )
    correction = "not exact" if w.correction else "False"
    words = _grouped(row)
    quantiles = f'[0.25, 0.5, 0.75], method="{spec.quantile_method}"'
    flag = spec.responder_flag
    lines = [
        "import numpy as np",
        "import pandas as pd",
        "from scipy import stats",
        "",
        f'ds = pd.read_sas("{ds.lower()}.xpt", format="xport", encoding="utf-8")',
        *([] if checks is not None else [f"# keep only the records where {words}"]),
        "rec = ds[" + " & ".join(selection) + "]",
        f'responders = int((rec["{flag}"] == "Y").sum())',
        f'evaluable = int(rec["{flag}"].isin(["Y", "N"]).sum())',
        f'improvement = rec["{spec.improvement}"].dropna()',
        "mean_improvement = improvement.mean()",
        f"q1, median, q3 = np.quantile(improvement, {quantiles})",
        'pairs = rec.dropna(subset=["AVAL", "BASE"])',
        'd = (pairs["AVAL"] - pairs["BASE"]).to_numpy(dtype="float64")',
        f"exact = {exact}",
        "test = stats.wilcoxon(",
        f'    d, zero_method="{w.zero_method}", correction={correction},',
        '    alternative="two-sided", method="exact" if exact else "asymptotic",',
        ")",
        "walsh = (d[:, None] + d[None, :])[np.triu_indices(len(d))] / 2",
        "hodges_lehmann = np.median(walsh)",
    ]
    return "\n".join(lines)


def _pandas_test(variable: str, comparator: str, values: Sequence[str]) -> str:
    """One RangeCheck as a pandas test (numbers compared as numbers)."""
    shown = [_literal(v) for v in values]
    column = f'ds["{variable}"]'
    ops = {"EQ": "==", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}
    if comparator in ops:
        return f"({column} {ops[comparator]} {shown[0]})"
    test = f"{column}.isin([{', '.join(shown)}])"
    return f"(~{test})" if comparator == "NOTIN" else f"({test})"


def _literal(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return f'"{value}"'
    return repr(int(number)) if number.is_integer() else repr(number)
