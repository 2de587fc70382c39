"""Reading the SDTM step's ``reconciliation.csv`` (raw rows read/mapped/excluded).

The SDTM step writes its texts through :func:`cdisc_mapper.textops.neutralise_formula`
(a leading ``'`` keeps a spreadsheet from running them); they are read back as written
before it (:func:`cdisc_mapper.textops.restore_formula`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from cdisc_mapper.textops import restore_formula

RECONCILIATION_FILE = "reconciliation.csv"
COLUMNS = (
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
COUNT_COLUMNS = (
    "rows_read",
    "rows_mapped",
    "rows_excluded",
    "records_written",
    "empty_items_not_recorded",
)


def find_reconciliation(root: Path) -> Path | None:
    """``root/sdtm/reconciliation.csv`` or ``root/reconciliation.csv``, if present."""
    for candidate in (root / "sdtm" / RECONCILIATION_FILE, root / RECONCILIATION_FILE):
        if candidate.is_file():
            return candidate
    return None


def read_reconciliation(path: Path) -> tuple[list[dict[str, Any]], str | None]:
    """Rows (counts as ints) and a problem text (None when the file is well-formed).

    A malformed file does not stop validation: its problem is reported as RC0000.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            raw_rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], f"cannot read {path.name}: {exc}"
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], f"{path.name} lacks columns {', '.join(missing)}"
    rows: list[dict[str, Any]] = []
    for line, raw in enumerate(raw_rows, start=2):
        row: dict[str, Any] = {c: restore_formula((raw.get(c) or "").strip()) for c in COLUMNS}
        for col in COUNT_COLUMNS:
            text = row[col]
            try:
                row[col] = int(text) if text else 0
            except ValueError:
                return [], f"{path.name} line {line}: {col} {text!r} is not a whole number"
        row["line"] = line
        rows.append(row)
    return rows, None
