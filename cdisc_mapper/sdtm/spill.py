"""The finished datasets of subject parts kept on disk until they are written, so a
partitioned run holds one part's records at a time, not the study's.

Each part's datasets arrive sorted by their keys (:func:`~cdisc_mapper.sdtm.finalize.finalize`)
and are pickled into a private working folder (pandas' pickle keeps every dtype, so the
records read back are the ones finalized; the folder is the run's own and is deleted at
its end). A dataset is written by reading its blocks back in key order:

* Where the keys are ``<constant keys...>, USUBJID, ...`` (every subject domain, SUPP--,
  SE and SV: SDTMIG 3.4 section 3.2.1.1 puts USUBJID first after STUDYID and, for
  SUPP--, RDOMAIN), a block's records are one range of subjects, ordered by
  ``(constant values, first USUBJID)``. Blocks whose ranges do not overlap follow one
  another unchanged; blocks whose ranges overlap (subjects whose identifiers sort
  differently in the raw data and in USUBJID) are read together and sorted by the keys,
  as the serial run sorts them, and their keys checked again.
* Any other dataset (keys without USUBJID, or a key before USUBJID that varies within a
  block) is read whole and sorted by its keys.

Either way the records come out in the order of the serial run's sort by the keys, which
are unique (checked), so the bytes are the serial run's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdisc_mapper.datasetjson.convert import number_data_type, number_values
from cdisc_mapper.sdtm.finalize import Dataset, check_unique_keys
from cdisc_mapper.xpt import XptVariable, char_lengths

SUBJECT_KEY = "USUBJID"

Order = tuple[str, ...]


class PartsDisagree(Exception):
    """Two parts finished a dataset with different variables (the serial run decides)."""


@dataclass(frozen=True)
class Block:
    """One part's records of a dataset, on disk."""

    path: Path
    rows: int
    first: Order | None
    """``(constant key values, first USUBJID)``; None when the block has no such order."""
    last: Order | None


@dataclass
class Spilled:
    """A dataset across the parts: its metadata, its blocks in part order and, per block,
    the longest values of its ``Char`` variables."""

    name: str
    label: str
    variables: list[Any]
    keys: list[str]
    template: pd.DataFrame
    """No records, the columns and dtypes of the finished dataset."""
    blocks: list[Block] = field(default_factory=list)
    lengths: list[dict[str, int]] = field(default_factory=list)
    distinct: dict[str, set[Any]] = field(default_factory=dict)
    """Per text variable, its distinct values in all blocks (kept when profiled)."""
    fractions: set[str] = field(default_factory=set)
    """The numeric variables with a value that is not a whole number (when profiled)."""

    @property
    def rows(self) -> int:
        return sum(b.rows for b in self.blocks)

    @property
    def xpt_variables(self) -> list[XptVariable]:
        return [XptVariable(v.name, v.label, v.type) for v in self.variables]

    def empty(self) -> Dataset:
        """The dataset's metadata with no records (its records are on disk)."""
        return Dataset(self.name, self.label, self.template, self.variables, self.keys)

    def profile(self, distinct: dict[str, set[Any]], fractions: set[str]) -> None:
        """Add a block's distinct text values and numeric variables with a fraction
        (:func:`frame_profile`)."""
        for name, values in distinct.items():
            self.distinct.setdefault(name, set()).update(values)
        self.fractions |= fractions

    def profile_frame(self) -> pd.DataFrame:
        """A few records with what the Dataset-JSON column metadata is made of (each text
        variable's distinct values, a fraction in each numeric variable that has one),
        padded with missing values: the metadata of all the records."""
        rows = max([1, *(len(values) for values in self.distinct.values())])
        out = {}
        for v in self.variables:
            if v.type == "Char":
                values = sorted(self.distinct.get(v.name, ()), key=str)
                out[v.name] = pd.Series(values + [""] * (rows - len(values)), dtype=object)
            else:
                numbers = np.full(rows, np.nan)
                numbers[0] = 0.5 if v.name in self.fractions else np.nan
                out[v.name] = pd.Series(numbers)
        return pd.DataFrame(out)


def _layout(ds: Dataset | Kept) -> list[tuple[str, str, str]]:
    return [(v.name, v.type, v.label) for v in ds.variables]


def frame_profile(
    frame: pd.DataFrame, variables: list[Any]
) -> tuple[dict[str, set[Any]], set[str]]:
    """Each text variable's distinct values in ``frame``, and the numeric variables with
    a value that is not a whole number."""
    distinct: dict[str, set[Any]] = {}
    fractions: set[str] = set()
    for v in variables:
        if v.type == "Char":
            distinct[v.name] = set(pd.unique(frame[v.name]))
        elif number_data_type(number_values(frame[v.name]), None)[0] != "integer":
            fractions.add(v.name)
    return distinct, fractions


def no_records(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s columns and their types with no records, holding none of its memory
    (an empty slice of Arrow text keeps the whole column's buffers alive)."""
    index = frame.index[:0].copy()
    return pd.DataFrame(
        {name: pd.Series([], dtype=frame[name].dtype, index=index) for name in frame.columns},
        index=index,
        columns=frame.columns,
    )


@dataclass
class Kept:
    """One part's records of a dataset written to disk (:func:`keep_dataset`): what the
    parent needs to write the dataset, without the records."""

    name: str
    label: str
    variables: list[Any]
    keys: list[str]
    template: pd.DataFrame
    block: Block | None
    lengths: dict[str, int]
    profile: tuple[dict[str, set[Any]], set[str]] | None = None


def keep_dataset(folder: Path, part: int, ds: Dataset, profiled: bool = False) -> Kept:
    """Write part ``part``'s records of ``ds`` (sorted by its keys) into ``folder`` (in
    the process that finished them: a worker's records never travel back)."""
    template = no_records(ds.frame)
    variables = [XptVariable(v.name, v.label, v.type) for v in ds.variables]
    kept = Kept(ds.name, ds.label, ds.variables, ds.keys, template, None, {})
    if not len(ds.frame):
        return kept
    path = Path(folder) / f"{ds.name}.{part:05d}.pkl"
    ds.frame.to_pickle(path)
    first, last = block_order(ds.frame, ds.keys)
    kept.block = Block(path, len(ds.frame), first, last)
    kept.lengths = char_lengths(ds.frame, variables)
    kept.profile = frame_profile(ds.frame, ds.variables) if profiled else None
    return kept


def block_order(frame: pd.DataFrame, keys: list[str]) -> tuple[Order | None, Order | None]:
    """The first and last ``(constant key values, USUBJID)`` of records sorted by
    ``keys``; ``(None, None)`` when the keys have no USUBJID, a key before it varies, or
    a value is not text."""
    if SUBJECT_KEY not in keys or not len(frame):
        return None, None
    prefix = keys[: keys.index(SUBJECT_KEY)]
    constants: list[str] = []
    for key in prefix:
        value = frame[key].iloc[0]
        if not isinstance(value, str) or not (frame[key] == value).all():
            return None, None
        constants.append(value)
    subjects = frame[SUBJECT_KEY]
    first, last = subjects.iloc[0], subjects.iloc[-1]
    if not isinstance(first, str) or not isinstance(last, str):
        return None, None
    return (*constants, first), (*constants, last)


def key_groups(blocks: list[Block]) -> list[list[Block]]:
    """The blocks in key order, as groups to read together: one group per block whose
    subjects follow the previous ones', overlapping blocks in one group (in part order),
    and every block in one group when any has no order."""
    full = [b for b in blocks if b.rows]
    if any(b.first is None or b.last is None for b in full):
        return [full] if full else []
    ordered = sorted(full, key=lambda b: b.first or ())
    groups: list[list[Block]] = []
    end: Order = ()
    for block in ordered:
        assert block.first is not None and block.last is not None
        if groups and block.first <= end:
            groups[-1].append(block)
            end = max(end, block.last)
        else:
            groups.append([block])
            end = block.last
    return [sorted(g, key=blocks.index) for g in groups]


class Spill:
    """The datasets of the parts, pickled into ``folder`` (a private working folder)."""

    def __init__(self, folder: Path, profiled: bool = False) -> None:
        self.folder = Path(folder)
        self.datasets: dict[str, Spilled] = {}
        self.profiled = profiled
        """Whether each dataset's Dataset-JSON profile is kept (:meth:`Spilled.profile`)."""

    def only(self, name: str) -> Spill:
        """This spill with dataset ``name`` only (what a process writing it needs)."""
        one = Spill(self.folder, self.profiled)
        one.datasets[name] = self.datasets[name]
        return one

    def __contains__(self, name: object) -> bool:
        return name in self.datasets

    def add(self, part: int, ds: Dataset) -> None:
        """Keep part ``part``'s records of ``ds`` (sorted by its keys).

        Raises:
            PartsDisagree: the part finished the dataset with other variables or keys.
        """
        self.register(part, keep_dataset(self.folder, part, ds, self.profiled))

    def register(self, part: int, kept: Kept) -> None:
        """Count part ``part``'s records of a dataset, kept on disk by :func:`keep_dataset`.

        Raises:
            PartsDisagree: the part finished the dataset with other variables or keys.
        """
        spilled = self.datasets.get(kept.name)
        if spilled is None:
            spilled = Spilled(kept.name, kept.label, kept.variables, kept.keys, kept.template)
            spilled.lengths.append(char_lengths(spilled.template, spilled.xpt_variables))
            self.datasets[kept.name] = spilled
        elif _layout(kept) != _layout(spilled.empty()) or kept.keys != spilled.keys:
            raise PartsDisagree(f"{kept.name}: part {part + 1} has other variables or keys")
        if kept.block is None:
            return
        spilled.blocks.append(kept.block)
        spilled.lengths.append(kept.lengths)
        if kept.profile is not None:
            spilled.profile(*kept.profile)

    def frames(self, name: str) -> Iterator[pd.DataFrame]:
        """The records of dataset ``name`` in key order, a group of blocks at a time.

        Raises:
            MappingError: records of overlapping parts share key values.
        """
        spilled = self.datasets[name]
        for group in key_groups(spilled.blocks):
            frames = [pd.read_pickle(b.path) for b in group]
            if len(frames) == 1:
                yield frames[0]
                continue
            merged = pd.concat(frames, ignore_index=True, sort=False)
            del frames
            merged = merged.sort_values(spilled.keys, kind="stable").reset_index(drop=True)
            check_unique_keys(Dataset(name, spilled.label, merged, spilled.variables, spilled.keys))
            yield merged

    def whole(self, name: str) -> Dataset:
        """Dataset ``name`` with all its records (for a dataset the run needs whole, DM)."""
        spilled = self.datasets[name]
        frames = [spilled.template, *self.frames(name)]
        frame = pd.concat(frames[1:], ignore_index=True) if len(frames) > 1 else frames[0]
        return Dataset(name, spilled.label, frame, spilled.variables, spilled.keys)
