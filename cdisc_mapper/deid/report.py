"""The de-identification report: every change by dataset and variable, the files not
carried over, and the risk figures before and after (CSV and HTML). It names no
original value, so it may travel with the package."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from pathlib import Path

from cdisc_mapper.deid.risk import RiskFigures
from cdisc_mapper.deid.transform import Change
from cdisc_mapper.publish import atomic_file

CHANGE_FIELDS = ("dataset", "variable", "action", "cells_changed", "records_removed", "reason")
RISK_FIELDS = (
    "when", "dataset", "quasi_identifiers", "records", "classes", "k_anonymity",
    "unique_records", "unique_share",
)  # fmt: skip


def _write(path: Path, text: str) -> Path:
    with atomic_file(path) as handle:
        handle.write(text.encode("utf-8"))
    return path


def _risk_rows(risk: Sequence[tuple[str, RiskFigures]]) -> list[list[str]]:
    return [
        [
            when,
            r.dataset,
            " ".join(r.quasi_identifiers),
            str(r.records),
            str(r.classes),
            str(r.k_anonymity),
            str(r.unique_records),
            f"{r.unique_share:.4f}",
        ]
        for when, r in risk
    ]


def _change_rows(changes: Sequence[Change]) -> list[list[str]]:
    return [
        [c.dataset, c.variable, c.action, str(c.cells), str(c.records_removed), c.reason]
        for c in sorted(changes, key=lambda c: (c.dataset, c.variable, c.action))
    ]


def _csv(header: Sequence[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _table(header: Sequence[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n" for row in rows
    )
    return f"<table>\n<tr>{head}</tr>\n{body}</table>\n"


def write_report(
    folder: Path,
    changes: Sequence[Change],
    risk: Sequence[tuple[str, RiskFigures]],
    not_copied: Sequence[str],
) -> list[Path]:
    """``deidentification.csv`` (changes), ``deidentification_risk.csv`` and
    ``deidentification.html`` (both, and the files not carried over) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    change_rows, risk_rows = _change_rows(changes), _risk_rows(risk)
    skipped = "".join(f"<li>{html.escape(n)}</li>" for n in not_copied) or "<li>none</li>"
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        "<title>De-identification report</title></head><body>\n"
        "<h1>De-identification report</h1>\n<h2>Re-identification risk</h2>\n"
        + _table(RISK_FIELDS, risk_rows)
        + "<h2>Changes by dataset and variable</h2>\n"
        + _table(CHANGE_FIELDS, change_rows)
        + f"<h2>Files not carried over</h2>\n<ul>{skipped}</ul>\n</body></html>\n"
    )
    return [
        _write(folder / "deidentification.csv", _csv(CHANGE_FIELDS, change_rows)),
        _write(folder / "deidentification_risk.csv", _csv(RISK_FIELDS, risk_rows)),
        _write(folder / "deidentification.html", page),
    ]
