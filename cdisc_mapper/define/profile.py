"""What define.xml needs of a dataset's records, read in one streaming pass.

define.xml describes metadata: the data decide only distinct values (code list terms,
decodes, value-level items and their where clauses), lengths, data types, significant
digits and HasNoData. All of these are questions about *which* values or combinations of
values occur, never how often. So a dataset is reduced, chunk by chunk, to its
*representative records*: for every group of columns asked about together, the first
record of each distinct combination of their values. Every record kept is a real record
(kept in file order), so any question about the distinct values of a group of columns, or
of one column on the records where a condition on the others holds, has the same answer
on the profile as on the whole dataset, first-appearance order included.

The groups are every column alone, every coded column with its decode
(``xxTESTCD``/``xxTEST``, ``PARAMCD``/``PARAM``, ``AVISITN``/``AVISIT``) and the
``(condition columns, variable)`` groups of value-level metadata the describers declare;
:func:`uncovered` tells which value-level items a profile cannot answer, so that the
caller reads that dataset again with those groups. Record counts are not kept (only
whether there is a record): the workbook-driven describer (:mod:`.describe_metadata`),
whose warnings count records, reads whole frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_mapper.datasetjson import format_of, read_dataset
from cdisc_mapper.define.assemble import decode_partner
from cdisc_mapper.define.info import DatasetInfo
from cdisc_mapper.xpt import XptMetadata, read_xpt_chunks, read_xpt_names
from cdisc_mapper.xpt.distinct import distinct_records
from cdisc_mapper.xpt.fastread import LayoutError

CHUNK_ROWS = 50_000
"""Records read at a time: memory is bounded by this, not by the dataset."""

Group = frozenset[str]


@dataclass(frozen=True)
class DataProfile:
    """A dataset as define.xml sees it: its metadata, its representative records
    (``frame``) and the groups of columns they answer for."""

    path: Path
    meta: XptMetadata
    frame: pd.DataFrame
    rows: int
    groups: tuple[Group, ...]


def base_groups(columns: list[str]) -> list[Group]:
    """Every column alone and every coded column with its decode."""
    groups = [frozenset([c]) for c in columns]
    for column in columns:
        partner = decode_partner(column, pd.Index(columns))
        if partner is not None:
            groups.append(frozenset([column, partner]))
    return groups


def _groups(columns: list[str], joint: Iterable[Iterable[str]]) -> tuple[Group, ...]:
    present = set(columns)
    extra = [frozenset(g) & present for g in joint]
    out = dict.fromkeys([*base_groups(columns), *(g for g in extra if len(g) > 1)])
    return tuple(out)


def representatives(frame: pd.DataFrame, groups: Iterable[Group]) -> np.ndarray:
    """The records that are the first of a distinct combination of some group."""
    keep = np.zeros(len(frame), dtype=bool)
    for group in widest(groups):
        keep |= ~frame.duplicated(subset=sorted(group)).to_numpy()
    return keep


def widest(groups: Iterable[Group]) -> list[Group]:
    """``groups`` without those inside another: the first record of each value of a
    group is the first of its combination with the other columns of a wider group, so
    the wider group's records already hold them."""
    unique = list(dict.fromkeys(groups))
    return [g for g in unique if not any(g < other for other in unique)]


def _chunks(path: Path) -> tuple[XptMetadata, Iterator[pd.DataFrame]]:
    """The records in chunks, text as categoricals (duplicates are found on their codes)."""
    if format_of(path) == "xpt":
        return read_xpt_chunks(path, rows=CHUNK_ROWS, text="category")
    frame, meta = read_dataset(path, text="category")
    return meta, iter([frame])


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical text columns as :func:`cdisc_mapper.xpt.read_xpt` gives text (``str``)."""
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(object)
    return frame


Joint = Callable[[list[str]], Iterable[Iterable[str]]]
"""The groups of columns to keep together, given a dataset's columns."""


def profile_dataset(path: Path, joint: Joint | None = None) -> DataProfile:
    """Read ``path`` once, keeping its representative records for the base groups and
    the groups ``joint`` gives (columns a dataset lacks are left out). A plain XPORT v5
    file is profiled from its bytes (:func:`cdisc_mapper.xpt.distinct.distinct_records`),
    any other dataset file from its records read as frames."""
    path = Path(path)
    if format_of(path) == "xpt":
        try:
            columns = read_xpt_names(path)
            return profile_xpt(path, columns, joint(columns) if joint else ())
        except (LayoutError, ValueError, OSError):
            pass  # read as frames, which reads any XPORT file or says what is wrong
    return profile_frames(path, joint)


def profile_xpt(path: Path, columns: list[str], joint: Iterable[Iterable[str]]) -> DataProfile:
    """:func:`profile_dataset` of a plain XPORT v5 file whose variables are ``columns``,
    with the ``joint`` groups, from its bytes; raises what
    :func:`cdisc_mapper.xpt.distinct.distinct_records` raises (no reading as frames)."""
    groups = _groups(columns, joint)
    found = distinct_records(path, groups)
    return DataProfile(Path(path), found.meta, found.frame, found.rows, groups)


def profile_frames(path: Path, joint: Joint | None = None) -> DataProfile:
    """:func:`profile_dataset` from the records read as frames, chunk by chunk."""
    meta, chunks = _chunks(Path(path))
    columns = [v.name for v in meta.variables]
    groups = _groups(columns, joint(columns) if joint else ())
    parts: list[pd.DataFrame] = []
    kept_rows = rows = 0
    for chunk in chunks:
        rows += len(chunk)
        parts.append(_as_read(chunk[representatives(chunk, groups)].reset_index(drop=True)))
        if sum(map(len, parts)) >= 2 * max(kept_rows, CHUNK_ROWS):
            parts = [_merged(parts, groups)]
            kept_rows = len(parts[0])
    frame = _merged(parts, groups) if parts else pd.DataFrame(columns=columns)
    return DataProfile(Path(path), meta, frame, rows, groups)


def _merged(parts: list[pd.DataFrame], groups: Iterable[Group]) -> pd.DataFrame:
    """The representative records of ``parts`` (each the representatives of consecutive
    records, in file order) taken together. Parts are merged only once they hold as many
    records as those kept so far, so each record is compared a bounded number of times
    (not once per chunk) however many records are kept."""
    both = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return both[representatives(both, groups)].reset_index(drop=True)


def level_groups(info: DatasetInfo) -> list[Group]:
    """The groups the value-level items of a described dataset ask about: each item's
    where-clause columns with its variable."""
    return [
        frozenset([var, *(c for c, _, _ in level.where)])
        for var, vi in info.variables.items()
        for level in vi.value_levels
    ]


def uncovered(info: DatasetInfo, profile: DataProfile) -> list[Group]:
    """The value-level groups of ``info`` that no group of ``profile`` holds."""
    return [g for g in level_groups(info) if not any(g <= have for have in profile.groups)]
