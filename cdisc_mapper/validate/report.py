"""Report writers: validation.json (sorted, deterministic), validation.csv,
validation.html (:mod:`.report_html`) and validation.xlsx (:mod:`.report_xlsx`, the
Pinnacle 21 layout).

Findings of one cause (:class:`~cdisc_mapper.validate.model.FindingGroup`: one check,
dataset, variable, value and message) are reported once with a count:

* validation.json lists the groups, each with ``count`` and every record it holds
  (``records``: record, usubjid, seq), so tools keep the full detail;
* validation.csv keeps one row per record (for filters and diffs), with the group's
  number in the JSON (``group``, 1-based) and its size (``count``);
* validation.html shows each group once with its first records and their rows;
* validation.xlsx has P21's Issue Summary (found per dataset and rule) and Details (one
  row per record).

Every report shows each check's reference (``reference``: the Pinnacle 21 / CDISC CORE
rule IDs it corresponds to). Severity totals and the exit code count records, as before.

Values come from the package, which may be hostile, so each report is safe to open in
the program people open it with:

* validation.csv is for spreadsheets: a text cell starting with ``=``, ``+``, ``-``,
  ``@``, tab or carriage return (a formula to Excel, e.g. ``=HYPERLINK(...)``) is written
  with a leading ``'`` (OWASP CSV-injection rule,
  :func:`cdisc_mapper.textops.neutralise_formula`; plain numbers such as ``-3`` are kept).
* validation.xlsx writes every text as a text cell, never a formula.
* validation.html escapes every text taken from the package or the checks (values,
  messages, dataset names, labels, file names), so no data value becomes markup.
* validation.json is data, not a spreadsheet: it keeps every value exactly as read.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from cdisc_mapper import __version__
from cdisc_mapper.publish import Target, owning, staged
from cdisc_mapper.textops import neutralise_formula
from cdisc_mapper.validate.model import CheckResult, FindingGroup, ValidationReport
from cdisc_mapper.validate.report_html import render_html
from cdisc_mapper.validate.report_xlsx import write_xlsx

JSON_FILE = "validation.json"
CSV_FILE = "validation.csv"
HTML_FILE = "validation.html"
XLSX_FILE = "validation.xlsx"
REPORT_FILES = (JSON_FILE, CSV_FILE, HTML_FILE, XLSX_FILE)
CSV_COLUMNS = (
    "check_id",
    "reference",
    "severity",
    "category",
    "group",
    "count",
    "dataset",
    "usubjid",
    "seq",
    "record",
    "variable",
    "value",
    "message",
)

__all__ = ["REPORT_FILES", "render_html", "report_dict", "write_reports"]


def _check_dict(result: CheckResult) -> dict[str, Any]:
    spec = result.spec
    return {
        "id": spec.id,
        "severity": spec.severity.label,
        "category": spec.category,
        "description": spec.description,
        "scope": spec.scope.describe(),
        "explanation": spec.explanation,
        "reference": spec.reference,
        "status": result.status,
        "findings": result.findings,
        "findings_by_dataset": dict(sorted(result.by_dataset.items())),
        "findings_not_listed": result.suppressed,
        "note": result.note,
    }


def _group_dict(group: FindingGroup, references: dict[str, str]) -> dict[str, Any]:
    data = group.as_dict()
    data["reference"] = references.get(group.first.check_id, "")
    return data


def report_dict(report: ValidationReport) -> dict[str, Any]:
    """The report as plain data (what validation.json holds): ``findings`` are the groups
    of findings of one cause (see the module docstring)."""
    references = {r.spec.id: r.spec.reference for r in report.checks}
    return {
        "tool": {"name": "cdisc-mapper validate", "version": __version__},
        "package": Path(report.package).name,
        "define": Path(report.define).name if report.define else None,
        "standards": dict(sorted(report.standards.items())),
        "summary": {
            **report.totals(),
            "datasets": len(report.datasets),
            "records": sum(d.records for d in report.datasets),
            "finding_groups": len(report.groups),
            "exit_code_fail_on_error": report.exit_code("error"),
            "exit_code_fail_on_warning": report.exit_code("warning"),
        },
        "datasets": [
            {
                "name": d.name,
                "file": d.file,
                "standard": d.standard,
                "domain": d.domain,
                "class": d.class_,
                "label": d.label,
                "records": d.records,
                "variables": d.variables,
                "metadata": d.metadata,
            }
            for d in report.datasets
        ],
        "checks": [_check_dict(r) for r in report.checks],
        "findings": [_group_dict(g, references) for g in report.groups],
        "reconciliation": report.reconciliation,
    }


def write_json(report: ValidationReport, path: Path) -> Path:
    """Write validation.json: keys sorted, findings in report order, UTF-8."""
    text = json.dumps(report_dict(report), indent=1, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def write_csv(report: ValidationReport, path: Path) -> Path:
    """Write validation.csv: one row per listed finding (record), in report order, with
    its group's number and size; formulas neutralised (see the module docstring)."""
    specs = {r.spec.id: r.spec for r in report.checks}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for number, group in enumerate(report.groups, start=1):
            spec = specs.get(group.first.check_id)
            for finding in group.findings:
                row = finding.as_dict()
                row["reference"] = spec.reference if spec else ""
                row["category"] = spec.category if spec else ""
                row["group"], row["count"] = number, group.count
                writer.writerow(
                    {k: "" if row[k] is None else neutralise_formula(row[k]) for k in CSV_COLUMNS}
                )
    return path


def write_html(report: ValidationReport, path: Path) -> Path:
    """Write validation.html."""
    path.write_text(render_html(report), encoding="utf-8")
    return path


def write_reports(report: ValidationReport, out_dir: Path) -> list[Path]:
    """Write validation.json, .csv, .html and .xlsx into ``out_dir``, the four at once
    when all are written (:mod:`cdisc_mapper.publish`; other files of ``out_dir`` are
    kept).

    Returns the four paths. ``out_dir`` is created when missing.

    Raises:
        SourceDateError: ``SOURCE_DATE_EPOCH`` is set but is not a time stamp (the
            workbook's date).
    """
    out_dir = Path(out_dir)
    with staged(Target(out_dir, owning(names=REPORT_FILES))) as (stage,):
        write_json(report, stage.path / JSON_FILE)
        write_csv(report, stage.path / CSV_FILE)
        write_html(report, stage.path / HTML_FILE)
        write_xlsx(report, stage.path / XLSX_FILE)
    return [out_dir / name for name in REPORT_FILES]
