"""validation.xlsx: the report in the layout of Pinnacle 21 Community's workbook, which
reviewers and sponsors exchange.

Four sheets, as P21's report has them:

* **Dataset Summary**: one row per dataset (P21: Dataset, Label, Class, Source, Records,
  Errors, Warnings, Notices); findings that belong to no dataset read (package level,
  define.xml datasets without a file, unreadable files) under their source name.
* **Issue Summary**: one row per source and rule with the number found (P21: Source,
  Pinnacle 21 ID, Message, Severity, Found; "Found" counts every record, also those
  beyond the per-dataset limit of the Details sheet).
* **Details**: one row per listed finding (P21: Source, Record, Count, Variables,
  Values, Pinnacle 21 ID, Message, Category, Severity), with USUBJID and --SEQ, and the
  finding's group (its number in validation.json and the group's size).
* **Rules**: every registered rule (P21: Pinnacle 21 ID, Publisher ID, Message,
  Description, Category, Severity) and whether it ran (status, reason when skipped).

Our rule IDs are ours: the column "Pinnacle 21 / CORE ID" gives the P21 and CDISC CORE
rules each corresponds to (the registry's ``reference``). Severities use P21's words:
error -> Error, warning -> Warning, info -> Notice. Texts are text cells, never formulas;
the file is byte-identical for the same report (:mod:`cdisc_mapper.workbook`), dated
``SOURCE_DATE_EPOCH`` when set (else the fixed workbook time).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from cdisc_mapper.epoch import source_date
from cdisc_mapper.validate.model import Severity, ValidationReport
from cdisc_mapper.workbook import FIXED_TIME, save_workbook, text_cell

DATASET_SUMMARY = "Dataset Summary"
ISSUE_SUMMARY = "Issue Summary"
DETAILS = "Details"
RULES = "Rules"
REFERENCE = "Pinnacle 21 / CORE ID"
SHEETS: dict[str, tuple[str, ...]] = {
    DATASET_SUMMARY: (
        "Dataset",
        "Label",
        "Class",
        "Standard",
        "Source",
        "Records",
        "Errors",
        "Warnings",
        "Notices",
    ),
    ISSUE_SUMMARY: ("Source", "Rule ID", REFERENCE, "Message", "Severity", "Found"),
    DETAILS: (
        "Source",
        "Record",
        "USUBJID",
        "Seq",
        "Variables",
        "Values",
        "Rule ID",
        REFERENCE,
        "Message",
        "Category",
        "Severity",
        "Group",
        "Count",
    ),
    RULES: (
        "Rule ID",
        REFERENCE,
        "Message",
        "Description",
        "Category",
        "Severity",
        "Scope",
        "Status",
        "Reason",
        "Found",
    ),
}
SEVERITY_WORDS = {Severity.ERROR: "Error", Severity.WARNING: "Warning", Severity.INFO: "Notice"}
PACKAGE_SOURCE = "package"
"""The source of findings about the package as a whole (no dataset)."""

_WIDE = {"Message": 70, "Description": 90, "Label": 40, "Values": 30, "Reason": 40}
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")

Row = tuple[Any, ...]


def _source(dataset: str) -> str:
    return dataset or PACKAGE_SOURCE


def dataset_rows(report: ValidationReport) -> list[Row]:
    """Dataset Summary: each dataset read, then each other source with findings."""
    counts: Counter[tuple[str, Severity]] = Counter()
    for result in report.checks:
        for dataset, n in result.by_dataset.items():
            counts[(_source(dataset), result.spec.severity)] += n

    def by_severity(name: str) -> Row:
        return tuple(counts[(name, s)] for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))

    rows: list[Row] = [
        (d.name, d.label, d.class_, d.standard, d.file, d.records, *by_severity(d.name))
        for d in report.datasets
    ]
    read = {d.name for d in report.datasets}
    others = sorted({name for name, _ in counts} - read)
    rows += [(name, "", "", "", "", None, *by_severity(name)) for name in others]
    return rows


def issue_rows(report: ValidationReport) -> list[Row]:
    """Issue Summary: one row per source and rule with findings, by source, then the
    worst severity first, then rule ID."""
    rows = [
        (
            _source(dataset),
            r.spec.id,
            r.spec.reference,
            r.spec.description,
            SEVERITY_WORDS[r.spec.severity],
            n,
        )
        for r in report.checks
        for dataset, n in r.by_dataset.items()
        if n
    ]
    order = {word: -int(sev) for sev, word in SEVERITY_WORDS.items()}
    rows.sort(key=lambda row: (row[0], order[row[4]], row[1]))
    return rows


def detail_rows(report: ValidationReport) -> list[Row]:
    """Details: one row per listed finding, in report order."""
    specs = {r.spec.id: r.spec for r in report.checks}
    rows: list[Row] = []
    for number, group in enumerate(report.groups, start=1):
        spec = specs.get(group.first.check_id)
        for finding in group.findings:
            d = finding.as_dict()
            rows.append(
                (
                    _source(finding.dataset),
                    d["record"],
                    d["usubjid"],
                    d["seq"],
                    d["variable"],
                    d["value"],
                    finding.check_id,
                    spec.reference if spec else "",
                    d["message"],
                    spec.category if spec else "",
                    SEVERITY_WORDS[finding.severity],
                    number,
                    group.count,
                )
            )
    return rows


def rule_rows(report: ValidationReport) -> list[Row]:
    """Rules: every check of the run, in ID order, with its status."""
    return [
        (
            r.spec.id,
            r.spec.reference,
            r.spec.description,
            r.spec.explanation,
            r.spec.category,
            SEVERITY_WORDS[r.spec.severity],
            r.spec.scope.describe(),
            r.status,
            r.note,
            r.findings,
        )
        for r in report.checks
    ]


def write_xlsx(report: ValidationReport, path: Path) -> Path:
    """Write validation.xlsx (see the module docstring).

    Raises:
        SourceDateError: ``SOURCE_DATE_EPOCH`` is set but is not a time stamp.
    """
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    wb.properties.creator = "cdisc_mapper"
    wb.properties.title = f"Validation report: {Path(report.package).name}"
    content = {
        DATASET_SUMMARY: dataset_rows(report),
        ISSUE_SUMMARY: issue_rows(report),
        DETAILS: detail_rows(report),
        RULES: rule_rows(report),
    }
    for name, header in SHEETS.items():
        ws = wb.create_sheet(name)
        for col, title in enumerate(header, start=1):
            cell = ws.cell(row=1, column=col, value=title)
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            ws.column_dimensions[get_column_letter(col)].width = _WIDE.get(title, 14)
        for r, row in enumerate(content[name], start=2):
            for col, value in enumerate(row, start=1):
                if value is not None and value != "":
                    text_cell(ws, r, col, value)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(len(content[name]), 1) + 1}"
    return save_workbook(wb, Path(path), source_date() or FIXED_TIME)
