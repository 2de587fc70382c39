"""Key columns factorized once per domain frame, their codes reused.

Several steps of a mapping run group or compare records by the same columns (USUBJID,
--TESTCD, --DTC): the row-local operations computed once per distinct combination of
their inputs (:func:`~cdisc_mapper.sdtm.engine.compute_distinct`) factorize them again
and again. :class:`ColumnCodes` factorizes each (frame, column) once and hands out the
same codes until the engine replaces that column (:meth:`ColumnCodes.forget`).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd


@dataclass(frozen=True)
class Codes:
    """A column's codes (``pd.factorize``: -1 for a missing value, else the position of
    the value among the distinct values in order of first appearance) and how many
    distinct values it has."""

    codes: npt.NDArray[np.intp]
    count: int


@dataclass(frozen=True)
class Rows:
    """The distinct combinations of some columns: each record's combination number
    (``inverse``) and the first record of each (``records``)."""

    inverse: npt.NDArray[np.intp]
    records: pd.DataFrame


RowsKey = tuple[int, tuple[str, ...], tuple[str, ...]]

ROWS_HELD = 1_000_000
"""The most records whose distinct combinations :meth:`ColumnCodes.distinct_rows` keeps
(the least recently used go first): 8 bytes a record."""


class ColumnCodes:
    """The codes of frames' columns, each factorized once.

    An entry holds its frame weakly and is used only for that very frame object and a
    column of the same length; the engine calls :meth:`forget` whenever it sets a column.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], tuple[weakref.ref[pd.DataFrame], Codes]] = {}
        self._rows: OrderedDict[RowsKey, tuple[weakref.ref[pd.DataFrame], Rows]] = OrderedDict()
        self._rows_held = 0

    def of(self, frame: pd.DataFrame, column: str) -> Codes:
        """The codes of ``frame[column]`` (as ``pd.factorize(frame[column])`` gives them)."""
        key = (id(frame), column)
        entry = self._entries.get(key)
        if entry is not None and entry[0]() is frame and len(entry[1].codes) == len(frame):
            return entry[1]
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        found = Codes(np.asarray(codes, dtype=np.intp), len(uniques))
        self._entries[key] = (weakref.ref(frame), found)
        return found

    def forget(self, frame: pd.DataFrame, column: str) -> None:
        """Drop the codes of ``frame[column]`` (its values were replaced), and the
        distinct records (:meth:`distinct_rows`) that hold it."""
        self._entries.pop((id(frame), column), None)
        for key in [k for k in self._rows if k[0] == id(frame) and column in k[2]]:
            self._drop_rows(key)

    def distinct_rows(
        self, frame: pd.DataFrame, inputs: list[str], columns: list[str]
    ) -> tuple[npt.NDArray[np.intp], pd.DataFrame]:
        """For each record of ``frame`` the number of its combination of ``inputs`` (as
        :meth:`combined` numbers them), and the first record of each combination (its
        ``columns``, numbered from 0): made once while none of ``columns`` is replaced
        (two operations reading the same columns, e.g. --DY and EPOCH of a --DTC, share
        them). The records are a shallow copy: an operation that changes them changes
        its own copy (pandas copies on write)."""
        key = (id(frame), tuple(inputs), tuple(columns))
        entry = self._rows.get(key)
        if entry is not None and entry[0]() is frame and len(entry[1].inverse) == len(frame):
            self._rows.move_to_end(key)
            return entry[1].inverse, entry[1].records.copy(deep=False)
        first, inverse = self.combined(frame, inputs)
        records = frame[columns].take(first).reset_index(drop=True)
        if entry is not None:
            self._drop_rows(key)
        self._rows[key] = (weakref.ref(frame), Rows(inverse, records))
        self._rows_held += len(inverse)
        while self._rows_held > ROWS_HELD and len(self._rows) > 1:
            self._drop_rows(next(iter(self._rows)))
        return inverse, records.copy(deep=False)

    def _drop_rows(self, key: RowsKey) -> None:
        _, rows = self._rows.pop(key)
        self._rows_held -= len(rows.inverse)

    def combined(
        self, frame: pd.DataFrame, columns: list[str]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """The distinct combinations of ``columns`` over the records of ``frame``: the
        position of each combination's first record (in order of first appearance), and
        for each record the number of its combination (an index into the first)."""
        n = len(frame)
        combo = np.zeros(n, dtype=np.int64)
        for column in columns:
            found = self.of(frame, column)
            combo = combo * (found.count + 1) + (found.codes + 1)
            if combo.max(initial=0) > 2**62 // max(n, 1):
                combo = pd.factorize(combo)[0].astype(np.int64)
        inverse = np.asarray(pd.factorize(combo)[0], dtype=np.intp)
        return first_positions(inverse), inverse


def first_positions(codes: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Where each code first occurs, for codes numbered in order of first appearance
    (as ``pd.factorize`` numbers them): a code is new where it exceeds every earlier one."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.intp)
    seen = np.maximum.accumulate(codes)
    new = np.empty(len(codes), dtype=bool)
    new[0] = True
    new[1:] = codes[1:] > seen[:-1]
    return np.flatnonzero(new).astype(np.intp)
