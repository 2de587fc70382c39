"""validation.html: one self-contained page (inline CSS, no scripts or external links).

Summary, datasets, findings by check (each cause once, with its record count, its first
records and a link to each record's row context), the reconciliation table, the record
contexts, and every check that ran, with the Pinnacle 21 / CORE rule IDs it refers to.
Every text taken from the package or the checks is escaped.
"""

from __future__ import annotations

import html
from pathlib import Path

from cdisc_mapper import __version__
from cdisc_mapper.validate.model import CheckResult, FindingGroup, RowContext, ValidationReport
from cdisc_mapper.validate.rowcontext import EXAMPLES_PER_GROUP, GROUPS_SHOWN_PER_CHECK

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
tr.hit td{background:#fdecea}td.flag{font-weight:bold}section.row{margin-bottom:1em}
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


def _anchors(report: ValidationReport) -> dict[tuple[str, int], str]:
    """An HTML id per record context (``row-1``...), in (dataset, record) order."""
    return {key: f"row-{i}" for i, key in enumerate(sorted(report.contexts), start=1)}


def _examples(group: FindingGroup, anchors: dict[tuple[str, int], str]) -> str:
    """The group's first records: record number (a link to its row when embedded),
    USUBJID and --SEQ; and how many more there are."""
    items = []
    for finding in group.findings[:EXAMPLES_PER_GROUP]:
        if finding.record is None:
            continue
        d = finding.as_dict()
        text = f"record {d['record']}"
        anchor = anchors.get((finding.dataset, finding.record))
        if anchor:
            text = f'<a href="#{anchor}">{text}</a>'
        who = ", ".join(_e(v) for v in (d["usubjid"], d["seq"]) if v not in (None, ""))
        items.append(text + (f" ({who})" if who else ""))
    more = group.count - EXAMPLES_PER_GROUP
    if items and more > 0:
        items.append(f'<span class="muted">and {more} more</span>')
    return "<br>".join(items)


def _check_section(
    result: CheckResult, groups: list[FindingGroup], anchors: dict[tuple[str, int], str]
) -> list[str]:
    spec = result.spec
    parts = [
        f'<section class="check" id="{_e(spec.id)}">',
        f"<h3>{_e(spec.id)} {_sev(spec.severity.label)} {_e(spec.description)} "
        f'<span class="muted">({result.findings} finding'
        f"{'' if result.findings == 1 else 's'} in {len(groups)} group"
        f"{'' if len(groups) == 1 else 's'}; {_e(spec.scope.describe())})</span></h3>",
    ]
    reference = f"Reference: {_e(spec.reference)}" if spec.reference else ""
    if spec.explanation or reference:
        parts.append(
            f'<div class="expl">{_e(spec.explanation)}'
            + (f" <i>{reference}</i>" if reference else "")
            + "</div>"
        )
    shown = groups[:GROUPS_SHOWN_PER_CHECK]
    rows = [
        [
            _e(g.first.dataset),
            _e(g.first.variable),
            _e(g.first.value),
            _e(g.first.message),
            str(g.count),
            _examples(g, anchors),
        ]
        for g in shown
    ]
    parts.append(
        _table(["dataset", "variable", "value", "message", "records", "first records"], rows, {4})
    )
    notes = []
    if len(groups) > len(shown):
        notes.append(f"{len(groups) - len(shown)} more groups in validation.json and .csv")
    if result.suppressed:
        notes.append(f"{result.suppressed} beyond the per-dataset limit are only counted")
    if notes:
        parts.append(f'<p class="muted">{"; ".join(notes)}.</p>')
    parts.append("</section>")
    return parts


def _context_section(context: RowContext, anchor: str) -> str:
    flagged = set(context.flagged)
    head = "".join(
        f'<th class="flag">{_e(c)}</th>' if c in flagged else f"<th>{_e(c)}</th>"
        for c in ("record", *context.columns)
    )
    body = "".join(
        ('<tr class="hit">' if record == context.record else "<tr>")
        + f'<td class="n">{record}</td>'
        + "".join(
            f'<td class="flag">{_e(v)}</td>' if c in flagged else f"<td>{_e(v)}</td>"
            for c, v in zip(context.columns, values, strict=True)
        )
        + "</tr>"
        for record, values in context.rows
    )
    return (
        f'<section class="row" id="{anchor}"><strong>{_e(context.dataset)} record '
        f"{context.record}</strong>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>"
    )


def _header(report: ValidationReport) -> list[str]:
    totals = report.totals()
    verdict = (
        '<span class="bad">fails</span>'
        if report.exit_code("error")
        else '<span class="ok">passes</span>'
    )
    return [
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


def _summary(with_findings: list[CheckResult], groups: dict[str, list[FindingGroup]]) -> str:
    return _table(
        ["check", "reference", "severity", "description", "findings", "groups"],
        [
            [
                f'<a href="#{_e(r.spec.id)}">{_e(r.spec.id)}</a>',
                _e(r.spec.reference),
                _sev(r.spec.severity.label),
                _e(r.spec.description),
                str(r.findings),
                str(len(groups.get(r.spec.id, []))),
            ]
            for r in with_findings
        ],
        numeric={4, 5},
    )


def _datasets(report: ValidationReport) -> str:
    return _table(
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


def _reconciliation(report: ValidationReport) -> str:
    if report.reconciliation is None:
        return '<p class="muted">No reconciliation.csv in the package.</p>'
    columns = (
        "domain",
        "form",
        "file",
        "rows_read",
        "rows_mapped",
        "rows_excluded",
        "exclusion_reasons",
        "records_written",
        "empty_items_not_recorded",
    )
    return _table(
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
        [[_e(r[c]) for c in columns] for r in report.reconciliation],
        numeric={3, 4, 5, 7, 8},
    )


def _checks_run(report: ValidationReport) -> str:
    return _table(
        [
            "check",
            "reference",
            "severity",
            "category",
            "scope",
            "description",
            "status",
            "findings",
        ],
        [
            [
                _e(r.spec.id),
                _e(r.spec.reference),
                _sev(r.spec.severity.label),
                _e(r.spec.category),
                _e(r.spec.scope.describe()),
                _e(r.spec.description),
                _e(r.status + (f": {r.note}" if r.note else "")),
                str(r.findings),
            ]
            for r in report.checks
        ],
        numeric={7},
    )


def render_html(report: ValidationReport) -> str:
    """The self-contained HTML page."""
    parts = _header(report)
    with_findings = [r for r in report.checks if r.findings]
    with_findings.sort(key=lambda r: (-r.spec.severity, r.spec.id))
    groups: dict[str, list[FindingGroup]] = {}
    for group in report.groups:
        groups.setdefault(group.first.check_id, []).append(group)
    if with_findings:
        parts += ["<h2>Summary by check</h2>", _summary(with_findings, groups)]
    parts += ["<h2>Datasets</h2>", _datasets(report), "<h2>Findings</h2>"]
    if not with_findings:
        parts.append('<p class="ok">No findings.</p>')
    anchors = _anchors(report)
    for result in with_findings:
        parts += _check_section(result, groups.get(result.spec.id, []), anchors)
    parts += ["<h2>Reconciliation (raw rows to SDTM)</h2>", _reconciliation(report)]
    if anchors:
        parts.append("<h2>Records in context</h2>")
        parts.append(
            '<p class="muted">Each listed record (highlighted) with the records of the same '
            "subject next to it; flagged variables in bold.</p>"
        )
        parts += [_context_section(report.contexts[key], a) for key, a in anchors.items()]
    parts += ["<h2>Checks run</h2>", _checks_run(report), "</body></html>"]
    return "\n".join(parts) + "\n"
