"""The rows around a flagged record, for the HTML report: a reviewer sees the record's key
variables and the flagged ones, beside the subject's records next to it, without opening
the dataset.

Bounded so the page stays small: the first :data:`GROUPS_SHOWN_PER_CHECK` groups of a
check, the first :data:`EXAMPLES_PER_GROUP` records of a group, :data:`NEIGHBOURS`
records of the same subject on each side, at most :data:`MAX_COLUMNS` variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from cdisc_mapper.validate.context import fmt_value
from cdisc_mapper.validate.model import FindingGroup, RowContext
from cdisc_mapper.validate.package import Dataset

GROUPS_SHOWN_PER_CHECK = 50
"""Groups listed per check in the HTML page (all are in the JSON, every record in the CSV)."""
EXAMPLES_PER_GROUP = 5
"""Records of a group listed, with their row context, in the HTML page."""
NEIGHBOURS = 2
"""Records of the same subject shown before and after a flagged record."""
MAX_COLUMNS = 10
"""Variables shown in a row context."""

_NAME = re.compile(r"\b[A-Z][A-Z0-9]{1,7}\b")
#: Key variables by suffix of the SDTM domain prefix (``AE`` + ``TERM``), in display order.
_SDTM_KEYS = ("TESTCD", "TEST", "TERM", "TRT", "DECOD", "CAT", "ORRES", "STRESC", "DTC", "STDTC")
_COMMON_KEYS = ("PARAMCD", "QNAM", "RDOMAIN", "IDVAR", "IDVARVAL", "VISITNUM", "VISIT", "AVISIT")
_ADAM_KEYS = ("AVAL", "AVALC", "ADT", "ASTDT")


def key_columns(ds: Dataset) -> list[str]:
    """The variables that identify a record of ``ds``: USUBJID, the sequence variable, the
    topic and timing variables present (``--TESTCD``, ``--TERM``, ``VISITNUM``, ``--DTC``,
    ``PARAMCD``, ``AVISIT``...)."""
    names = ["USUBJID", ds.seq_var or ""]
    names += list(_COMMON_KEYS)
    if ds.standard == "ADaM":
        names += list(_ADAM_KEYS)
    else:
        names += [ds.domain[:2] + suffix for suffix in _SDTM_KEYS]
    present = set(ds.columns)
    return list(dict.fromkeys(n for n in names if n and n in present))


def flagged_columns(ds: Dataset, group: FindingGroup) -> list[str]:
    """The variables a group names: its ``variable`` and the variables of ``ds`` its
    message mentions (``PCHG differs from (AVAL - BASE)``: PCHG, AVAL, BASE)."""
    present = set(ds.columns)
    words = _NAME.findall(group.first.variable) + _NAME.findall(group.first.message)
    return list(dict.fromkeys(w for w in words if w in present))


def row_contexts(
    datasets: dict[str, Dataset], groups: Iterable[FindingGroup]
) -> dict[tuple[str, int], RowContext]:
    """The row context of the records the HTML page lists (see the module docstring), by
    (dataset, record number)."""
    wanted: dict[str, dict[int, list[str]]] = {}
    shown: dict[str, int] = {}
    for group in groups:
        first = group.first
        ds = datasets.get(first.dataset)
        shown[first.check_id] = shown.get(first.check_id, 0) + 1
        if ds is None or shown[first.check_id] > GROUPS_SHOWN_PER_CHECK:
            continue
        flagged = flagged_columns(ds, group)
        for finding in group.findings[:EXAMPLES_PER_GROUP]:
            if finding.record is not None and 1 <= finding.record <= ds.n:
                cols = wanted.setdefault(ds.name, {}).setdefault(finding.record, [])
                cols.extend(c for c in flagged if c not in cols)
    contexts: dict[tuple[str, int], RowContext] = {}
    for name, records in wanted.items():
        contexts.update(_dataset_contexts(datasets[name], records))
    return contexts


def _dataset_contexts(
    ds: Dataset, records: dict[int, list[str]]
) -> dict[tuple[str, int], RowContext]:
    keys = key_columns(ds)
    columns = list(dict.fromkeys([*keys, *(c for cols in records.values() for c in cols)]))
    near = sorted(
        {
            i
            for r in records
            for i in range(max(r - 1 - NEIGHBOURS, 0), min(r - 1 + NEIGHBOURS, ds.n - 1) + 1)
        }
    )
    read = ds.rows(near, ["USUBJID", *columns])  # only these records of a large file
    position = {row: i for i, row in enumerate(near)}
    subjects = read["USUBJID"].to_numpy(dtype=object) if "USUBJID" in read.columns else None
    neighbours = {r: _neighbours(r - 1, ds.n, subjects, position) for r in records}
    values = {c: [fmt_value(v) for v in read[c].tolist()] for c in columns}
    out: dict[tuple[str, int], RowContext] = {}
    for record, flagged in records.items():
        shown_cols = list(dict.fromkeys([*flagged, *keys]))[:MAX_COLUMNS]
        ordered = [c for c in columns if c in shown_cols]
        out[(ds.name, record)] = RowContext(
            dataset=ds.name,
            record=record,
            columns=tuple(ordered),
            flagged=tuple(flagged),
            rows=tuple(
                (i + 1, tuple(values[c][position[i]] for c in ordered)) for i in neighbours[record]
            ),
        )
    return out


def _neighbours(
    row: int, n: int, subjects: np.ndarray | None, position: dict[int, int]
) -> list[int]:
    """``row`` and the rows of the same subject within :data:`NEIGHBOURS` of it
    (``subjects`` holds the subject of each row read, at ``position[row]``)."""
    lo, hi = max(row - NEIGHBOURS, 0), min(row + NEIGHBOURS, n - 1)
    if subjects is None:
        return [row]
    own = subjects[position[row]]
    return [i for i in range(lo, hi + 1) if subjects[position[i]] == own]
