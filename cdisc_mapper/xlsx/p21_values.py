"""The cell values of a define-generator workbook made by another tool (see :mod:`.p21`):
Yes/No flags, whole numbers, Order, one of a column's choices, page lists and ranges, where
clause comparators and values, and a where clause written in a cell. Each reads one cell of
a :class:`~.p21_tables.Table` row and raises a :class:`SpecError` at that cell.
"""

from __future__ import annotations

import math
import re
from typing import Any

from cdisc_mapper.xlsx.p21_layout import COMPARATORS, INLINE_PART, SUPPORTED_COMPARATORS, norm
from cdisc_mapper.xlsx.p21_tables import Row, Table


def yes_no(table: Table, r: int, row: Row, key: str) -> bool | None:
    """A Yes/No (Y/N) cell; None when empty."""
    text = row.get(key)
    if text is None:
        return None
    flag = text.casefold()
    if flag in ("yes", "y"):
        return True
    if flag in ("no", "n"):
        return False
    raise table.error(f"give Yes or No, not {text!r}", r, key)


def number(table: Table, r: int, row: Row, key: str) -> int | None:
    """A whole number (Length, Significant Digits); None when empty."""
    text = row.get(key)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise table.error(f"give a whole number, not {text!r}", r, key) from None


def order(table: Table, r: int, row: Row) -> float:
    """The Order cell; rows without one come last."""
    text = row.get("order")
    if text is None:
        return math.inf
    try:
        return float(text)
    except ValueError:
        raise table.error(f"Order must be a number, not {text!r}", r, "order") from None


def choice(table: Table, r: int, row: Row, key: str, choices: dict[str, Any]) -> Any:
    """The value ``choices`` gives the cell (by its normalised text); None when empty."""
    text = row.get(key)
    if text is None:
        return None
    found = choices.get(norm(text))
    if found is None:
        shown = sorted({str(v[0] if isinstance(v, tuple) else v) for v in choices.values()})
        raise table.error(
            f"{table.headers[key]} {text!r} is not one of: " + ", ".join(shown), r, key
        )
    return found


def pages(table: Table, r: int, row: Row) -> str | None:
    """The Pages cell as page numbers separated by blanks (ranges ``12-14`` spelt out);
    None when empty."""
    text = row.get("pages")
    if text is None:
        return None
    out: list[str] = []
    for token in re.split(r"[\s,;]+", re.sub(r"\s*-\s*", "-", text)):
        if not token:
            continue
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", token)
        if m and int(m[1]) <= int(m[2]) <= int(m[1]) + 500:
            out.extend(str(p) for p in range(int(m[1]), int(m[2]) + 1))
        elif token.isdigit():
            out.append(token)
        else:
            raise table.error(
                f"page {token!r} is not a page number",
                r,
                "pages",
                hint="give page numbers separated by blanks or commas, ranges as 12-14",
            )
    return " ".join(out) or None


def comparator(table: Table, r: int, text: str) -> str:
    """A where clause's Comparator (EQ, NE, IN...), upper-cased."""
    found = text.strip().upper()
    if found not in COMPARATORS:
        raise table.error(
            f"comparator {text!r} is not one of: " + ", ".join(COMPARATORS), r, "comparator"
        )
    if found not in SUPPORTED_COMPARATORS:
        raise table.error(
            f"comparator {found} is not supported for value-level metadata yet",
            r,
            "comparator",
            hint="use " + ", ".join(SUPPORTED_COMPARATORS),
        )
    return found


def where_values(text: str, comparator: str) -> list[str]:
    """The check values of a condition: IN/NOTIN values comma-separated, quotes removed;
    ``''`` (or an empty cell) is the empty value, i.e. missing."""
    parts = text.split(",") if comparator in ("IN", "NOTIN") else [text]
    out = []
    for part in parts:
        value = part.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if value or len(parts) == 1:  # EQ '' (or a blank cell): the missing value
            out.append(value)
    return out or [text]


def inline_clause(text: str, dataset: str) -> list[dict[str, Any]] | None:
    """A where clause written in the cell (``VSTESTCD EQ TEMP AND VSPOS EQ SUPINE``)."""
    conditions = []
    for part in re.split(r"\s+AND\s+", text.strip()):
        m = INLINE_PART.match(part)
        if m is None:
            return None
        comparator = m[2].upper()
        values = m[3].strip()
        if comparator in ("IN", "NOTIN") and values.startswith("(") and values.endswith(")"):
            values = values[1:-1]
        conditions.append(
            {
                "dataset": dataset,
                "variable": m[1].upper(),
                "comparator": comparator,
                "values": where_values(values, comparator),
            }
        )
    return conditions
