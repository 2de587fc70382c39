"""Report writers: validation.json (sorted, deterministic), validation.csv, validation.html.

The HTML page is self-contained (inline CSS, no scripts or external links): summary,
datasets, findings grouped by check with counts and explanations, the reconciliation
table, and every check that ran.

Values come from the package, which may be hostile, so each report is safe to open in
the program people open it with:

* validation.csv is for spreadsheets: a text cell starting with ``=``, ``+``, ``-``,
  ``@``, tab or carriage return (a formula to Excel, e.g. ``=HYPERLINK(...)``) is written
  with a leading ``'`` (OWASP CSV-injection rule,
  :func:`cdisc_mapper.textops.neutralise_formula`; plain numbers such as ``-3`` are kept).
* validation.html escapes every text taken from the package or the checks (values,
  messages, dataset names, labels, file names), so no data value becomes markup.
* validation.json is data, not a spreadsheet: it keeps every value exactly as read.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

from cdisc_mapper import __version__
from cdisc_mapper.publish import Target, owning, staged
from cdisc_mapper.textops import neutralise_formula
from cdisc_mapper.validate.model import CheckResult, Finding, ValidationReport

JSON_FILE = "validation.json"
CSV_FILE = "validation.csv"
HTML_FILE = "validation.html"
REPORT_FILES = (JSON_FILE, CSV_FILE, HTML_FILE)
CSV_COLUMNS = (
    "check_id",
    "severity",
    "category",
    "dataset",
    "usubjid",
    "seq",
    "record",
    "variable",
    "value",
    "message",
)
HTML_ROWS_PER_CHECK = 50
"""Findings listed per check in the HTML page (all are in the JSON and CSV)."""


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
        "findings_not_listed": result.suppressed,
        "note": result.note,
    }


def report_dict(report: ValidationReport) -> dict[str, Any]:
    """The report as plain data (what validation.json holds)."""
    return {
        "tool": {"name": "cdisc-mapper validate", "version": __version__},
        "package": Path(report.package).name,
        "define": Path(report.define).name if report.define else None,
        "standards": dict(sorted(report.standards.items())),
        "summary": {
            **report.totals(),
            "datasets": len(report.datasets),
            "records": sum(d.records for d in report.datasets),
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
        "findings": [f.as_dict() for f in report.findings],
        "reconciliation": report.reconciliation,
    }


def write_json(report: ValidationReport, path: Path) -> Path:
    """Write validation.json: keys sorted, findings in report order, UTF-8."""
    text = json.dumps(report_dict(report), indent=1, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def write_csv(report: ValidationReport, path: Path) -> Path:
    """Write validation.csv: one row per listed finding, formulas neutralised (see the
    module docstring)."""
    categories = {r.spec.id: r.spec.category for r in report.checks}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for finding in report.findings:
            row = finding.as_dict()
            row["category"] = categories.get(finding.check_id, "")
            writer.writerow(
                {k: "" if row[k] is None else neutralise_formula(row[k]) for k in CSV_COLUMNS}
            )
    return path


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#222;
max-width:1400px}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
h3{margin:1.2em 0 .3em;font-size:1.1em}
table{border-collapse:collapse;margin:.4em 0;font-size:.88em}
th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right}
.error{color:#fff;background:#c0392b}.warning{color:#222;background:#f5c542}
.info{color:#fff;background:#2e86c1}.sev{padding:1px 6px;border-radius:3px;font-size:.85em}
.ok{color:#1e8449;font-weight:bold}.bad{color:#c0392b;font-weight:bold}
.expl{background:#f8f8f8;border-left:4px solid #bbb;padding:.4em .8em;margin:.3em 0;
font-size:.92em}.muted{color:#777}section.check{margin-bottom:1.4em}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _sev(label: str) -> str:
    return f'<span class="sev {label}">{label}</span>'


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _finding_rows(findings: list[Finding]) -> list[list[str]]:
    rows = []
    for f in findings:
        d = f.as_dict()
        rows.append(
            [
                _e(d["dataset"]),
                _e(d["usubjid"]),
                _e(d["seq"]),
                _e(d["record"]),
                _e(d["variable"]),
                _e(d["value"]),
                _e(d["message"]),
            ]
        )
    return rows


def render_html(report: ValidationReport) -> str:
    """The self-contained HTML page."""
    totals = report.totals()
    verdict = (
        '<span class="bad">fails</span>'
        if report.exit_code("error")
        else '<span class="ok">passes</span>'
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Validation report: {_e(Path(report.package).name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Validation report: {_e(Path(report.package).name)}</h1>",
        f'<p class="muted">cdisc-mapper {_e(__version__)}; standards: '
        + _e(", ".join(f"{k} {v}" for k, v in sorted(report.standards.items())))
        + (f"; define.xml: {_e(Path(report.define).name)}" if report.define else "; no define.xml")
        + "</p>",
        f"<p>The package {verdict} (exit code {report.exit_code('error')} with --fail-on "
        f"error, {report.exit_code('warning')} with --fail-on warning): "
        f"{_sev('error')} {totals['error']} &nbsp; {_sev('warning')} {totals['warning']} "
        f"&nbsp; {_sev('info')} {totals['info']}</p>",
    ]
    with_findings = [r for r in report.checks if r.findings]
    with_findings.sort(key=lambda r: (-r.spec.severity, r.spec.id))
    if with_findings:
        parts.append("<h2>Summary by check</h2>")
        parts.append(
            _table(
                ["check", "severity", "description", "findings"],
                [
                    [
                        f'<a href="#{_e(r.spec.id)}">{_e(r.spec.id)}</a>',
                        _sev(r.spec.severity.label),
                        _e(r.spec.description),
                        str(r.findings),
                    ]
                    for r in with_findings
                ],
                numeric={3},
            )
        )
    parts.append("<h2>Datasets</h2>")
    parts.append(
        _table(
            ["dataset", "file", "standard", "class", "label", "records", "variables", "metadata"],
            [
                [
                    _e(d.name),
                    _e(d.file),
                    _e(d.standard),
                    _e(d.class_),
                    _e(d.label),
                    str(d.records),
                    str(d.variables),
                    _e(d.metadata),
                ]
                for d in report.datasets
            ],
            numeric={5, 6},
        )
    )
    parts.append("<h2>Findings</h2>")
    if not with_findings:
        parts.append('<p class="ok">No findings.</p>')
    by_check: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_check.setdefault(f.check_id, []).append(f)
    for result in with_findings:
        spec = result.spec
        listed = by_check.get(spec.id, [])
        parts.append(f'<section class="check" id="{_e(spec.id)}">')
        parts.append(
            f"<h3>{_e(spec.id)} {_sev(spec.severity.label)} {_e(spec.description)} "
            f'<span class="muted">({result.findings} finding'
            f"{'' if result.findings == 1 else 's'}; {_e(spec.scope.describe())})</span></h3>"
        )
        if spec.explanation:
            reference = f" <i>{_e(spec.reference)}</i>" if spec.reference else ""
            parts.append(f'<div class="expl">{_e(spec.explanation)}{reference}</div>')
        shown = listed[:HTML_ROWS_PER_CHECK]
        parts.append(
            _table(
                ["dataset", "USUBJID", "SEQ", "record", "variable", "value", "message"],
                _finding_rows(shown),
                numeric={2, 3},
            )
        )
        hidden = result.findings - len(shown)
        if hidden > 0:
            parts.append(
                f'<p class="muted">{hidden} more not shown here (see validation.csv'
                + (
                    f"; {result.suppressed} beyond the per-dataset limit are only counted"
                    if result.suppressed
                    else ""
                )
                + ").</p>"
            )
        parts.append("</section>")
    parts.append("<h2>Reconciliation (raw rows to SDTM)</h2>")
    if report.reconciliation is None:
        parts.append('<p class="muted">No reconciliation.csv in the package.</p>')
    else:
        parts.append(
            _table(
                [
                    "domain",
                    "form",
                    "file",
                    "rows read",
                    "mapped",
                    "excluded",
                    "exclusion reasons",
                    "records written",
                    "empty items not recorded",
                ],
                [
                    [
                        _e(r["domain"]),
                        _e(r["form"]),
                        _e(r["file"]),
                        _e(r["rows_read"]),
                        _e(r["rows_mapped"]),
                        _e(r["rows_excluded"]),
                        _e(r["exclusion_reasons"]),
                        _e(r["records_written"]),
                        _e(r["empty_items_not_recorded"]),
                    ]
                    for r in report.reconciliation
                ],
                numeric={3, 4, 5, 7, 8},
            )
        )
    parts.append("<h2>Checks run</h2>")
    parts.append(
        _table(
            ["check", "severity", "category", "scope", "description", "status", "findings"],
            [
                [
                    _e(r.spec.id),
                    _sev(r.spec.severity.label),
                    _e(r.spec.category),
                    _e(r.spec.scope.describe()),
                    _e(r.spec.description),
                    _e(r.status + (f": {r.note}" if r.note else "")),
                    str(r.findings),
                ]
                for r in report.checks
            ],
            numeric={6},
        )
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html(report: ValidationReport, path: Path) -> Path:
    """Write validation.html."""
    path.write_text(render_html(report), encoding="utf-8")
    return path


def write_reports(report: ValidationReport, out_dir: Path) -> list[Path]:
    """Write validation.json, validation.csv and validation.html into ``out_dir``, the
    three at once when all are written (:mod:`cdisc_mapper.publish`; other files of
    ``out_dir`` are kept).

    Returns the three paths. ``out_dir`` is created when missing.
    """
    out_dir = Path(out_dir)
    with staged(Target(out_dir, owning(names=REPORT_FILES))) as (stage,):
        write_json(report, stage.path / JSON_FILE)
        write_csv(report, stage.path / CSV_FILE)
        write_html(report, stage.path / HTML_FILE)
    return [out_dir / name for name in REPORT_FILES]
